/* Host file-system helpers of the gofer: component lookup that cannot
 * leave its directory, reopening a node for I/O, attribute conversion. */
#ifndef GOFER_FSUTIL_H
#define GOFER_FSUTIL_H

#include <stdint.h>
#include <sys/stat.h>

#include "bulkhead/gofer_proto.h"
#include "gofer/export.h"
#include "gofer/node.h"

/* Opens the single component name (already gp_name_valid) under dirfd,
 * never following a symlink or leaving dirfd: openat2 with RESOLVE_BENEATH
 * | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS, openat with O_NOFOLLOW
 * where openat2 is missing. O_CLOEXEC|O_NOFOLLOW are added. Returns an fd
 * or a negative errno. */
int gofer_fs_openat(int dirfd, const char *name, int flags, unsigned mode);

/* Opens node for I/O with flags (O_ACCMODE and status flags only; no
 * O_CREAT/O_TRUNC). Regular files are reopened from the parent by name and
 * must still be the node's inode (-ESTALE otherwise); an export's single-
 * file root comes from the fds opened before confinement; directories are
 * opened read-only. Other types: -EPERM (symlinks -ELOOP). Node fds come
 * from t's LRU (nodefd.h); the returned fd is the caller's. */
int gofer_fs_reopen(struct gofer_node_table *t,
		    const struct gofer_export *exports, struct gofer_node *n,
		    int flags);

void gofer_fs_attr(const struct stat *st, struct gp_attr *a);

#endif
