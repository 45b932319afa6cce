/* The gofer's node table: 64-bit ids (never reused in a session) mapped to
 * host O_PATH fds. A node also remembers its parent node and its name in
 * that parent, because an O_PATH fd cannot be reopened for I/O without
 * /proc: the file is reopened by name from the parent and checked to still
 * be the same inode. The same parent and name let a node whose fd the LRU
 * evicted (nodefd.h) get it back. A closed node stays allocated (but
 * unreachable by id) while children still name it as their parent. */
#ifndef GOFER_NODE_H
#define GOFER_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "bulkhead/list.h"
#include "gofer/childidx.h"

#define GOFER_NODE_MAX (1u << 20)

struct gofer_node {
	uint64_t id;
	/* O_PATH|O_NOFOLLOW, or -1 while evicted: get it with gofer_node_fd(),
	 * which reopens it (only a node made in this request is sure to have
	 * it). An export root borrows the export's fd, never evicted. */
	int fd;
	int dirfd; /* directories: cached O_RDONLY fd for GETDENTS, or -1 */
	uint32_t export;
	uint32_t type; /* S_IFMT bits */
	uint64_t dev, ino;
	bool is_root; /* an export's root: no parent by design */
	bool live;    /* reachable by id */
	bool held;    /* its fd is in use by a reopen below it: keep it */
	uint8_t nfds; /* fds of its own counted in the LRU (fd, dirfd) */
	bool orphan;  /* counted in lru_orphan */
	unsigned refs;
	uint64_t pin_gen;	 /* request that last used its fds (nodefd.c) */
	uint64_t visit;		 /* reopen's cycle check */
	struct gofer_node *down; /* reopen: next node toward the target */
	struct gofer_node *parent; /* NULL: export root, or unlinked */
	char *name;		   /* name in parent, NULL when no parent */
	struct gofer_node *hnext;  /* id hash chain */
	/* Child index chain (childidx.h), while the node has a parent. */
	struct gofer_node *cnext, **cpprev;
	uint64_t chash;
	struct gofer_node *tmp; /* scratch chain for batch updates */
	int tmp_action;
	struct list_head all;
	struct list_head lru; /* while nfds > 0: in the table's lru lists */
};

struct gofer_node_table {
	struct gofer_node **buckets;
	size_t nbuckets; /* power of two */
	uint64_t next_id;
	size_t count, max;
	struct list_head all;
	struct gofer_child_index children;
	/* Nodes holding fds, most recently used first. Nodes that cannot be
	 * reopened (no parent, not a root: unlinked) have their own list:
	 * their fd is all that still reaches the inode, so they are evicted
	 * after the others, but only while they hold at most an eighth of
	 * fd_cap, or they would crowd out the live tree. */
	struct list_head lru, lru_orphan;
	size_t nfds, orphan_fds, fd_cap;
	uint64_t gen, visit_gen;
};

/* max nodes; at most fd_cap fds kept open by them (fdbudget.h). */
int gofer_node_table_init(struct gofer_node_table *t, size_t max,
			  size_t fd_cap);
void gofer_node_table_destroy(struct gofer_node_table *t);

/* The live node with this id, or NULL. */
struct gofer_node *gofer_node_get(struct gofer_node_table *t, uint64_t id);

/* Adds a node for fd (ownership passes to the table, also on failure),
 * whose attributes are st. parent/name may be NULL for an export root,
 * whose fd is the export's: borrowed, never closed here. The new node's fd
 * stays open for the rest of the request (nodefd.h). Returns 0 or -ENFILE
 * / -ENOMEM. */
int gofer_node_new(struct gofer_node_table *t, int fd, uint32_t export,
		   const struct stat *st, struct gofer_node *parent,
		   const char *name, bool is_root, struct gofer_node **out);

/* Makes the id unreachable; frees the node once no child refers to it. */
void gofer_node_close(struct gofer_node_table *t, struct gofer_node *n);

/* dir/name (an inode matching st) was removed: nodes that named it lose
 * their parent, so reopening them fails with -ESTALE. Both this and
 * gofer_node_renamed look the names up in the child index: O(1) expected
 * in the number of nodes. */
void gofer_node_unlinked(struct gofer_node_table *t, struct gofer_node *dir,
			 const char *name, const struct stat *st);

/* olddir/oldname (matching oldst) was renamed to newdir/newname, replacing
 * the inode newst (NULL if none); with exchange the two swapped places. */
void gofer_node_renamed(struct gofer_node_table *t, struct gofer_node *olddir,
			const char *oldname, const struct stat *oldst,
			struct gofer_node *newdir, const char *newname,
			const struct stat *newst, bool exchange);

#endif
