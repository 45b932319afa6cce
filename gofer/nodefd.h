/* The host fds that nodes hold form a bounded LRU of their own, sized by
 * the table's fd_cap (fdbudget.h) and independent of how many node ids the
 * sentry holds. An evicted node keeps its parent and name; when its fd is
 * needed again it is reopened from the parent (the parent first if it was
 * evicted too, and so on up to an open ancestor or the export root, whose
 * fd is never evicted), one validated component at a time with
 * gofer_fs_openat (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS), and must still be
 * the same inode (dev, ino, type). A name that vanished or now holds
 * another inode gives -ESTALE.
 *
 * Fds handed out during a request stay open until the next request begins:
 * an op may hold several (RENAME's two directories) while opening more, and
 * none of them may be closed, and its number reused, under it. */
#ifndef GOFER_NODEFD_H
#define GOFER_NODEFD_H

#include <stdbool.h>

#include "gofer/node.h"

/* Starts a request: fds handed out by the previous one become evictable. */
void gofer_node_begin_request(struct gofer_node_table *t);

/* n's O_PATH fd, reopened if it was evicted. Returns the fd or a negative
 * errno: -ESTALE (unlinked, replaced, moved away behind our back, or an
 * ancestor was), -EMFILE if nothing could be evicted to make room. */
int gofer_node_fd(struct gofer_node_table *t, struct gofer_node *n);

/* Directory n's O_RDONLY fd for GETDENTS, cached in the LRU with n. */
int gofer_node_dirfd(struct gofer_node_table *t, struct gofer_node *n);

/* gofer_fs_openat, but EMFILE/ENFILE evict fds from the LRU and retry. Use
 * it (or gofer_node_shed) for every fd the gofer creates. */
int gofer_node_openat(struct gofer_node_table *t, int dirfd, const char *name,
		      int flags, unsigned mode);

/* err is what a call that creates an fd returned. If it is -EMFILE or
 * -ENFILE, evicts unpinned fds (on EMFILE also lowering fd_cap, which proved
 * too big) and returns true: try again. False once nothing can be evicted
 * or after a few tries counted in *tries (start at 0). */
bool gofer_node_shed(struct gofer_node_table *t, int err, unsigned *tries);

/* For node.c. n's fds or parent changed: re-file it in the LRU (pinned
 * for this request if pin), then evict down to fd_cap. */
void gofer_node_fd_update(struct gofer_node_table *t, struct gofer_node *n,
			  bool pin);
/* Closes n's own fds and takes it off the LRU (the node is going away). */
void gofer_node_fd_release(struct gofer_node_table *t, struct gofer_node *n);

#endif
