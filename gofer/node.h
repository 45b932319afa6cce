/* The gofer's node table: 64-bit ids (never reused in a session) mapped to
 * host O_PATH fds. A node also remembers its parent node and its name in
 * that parent, because an O_PATH fd cannot be reopened for I/O without
 * /proc: the file is reopened by name from the parent and checked to still
 * be the same inode. A closed node stays allocated (but unreachable by id)
 * while children still name it as their parent. */
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
	int fd;	   /* O_PATH|O_NOFOLLOW */
	int dirfd; /* directories: cached O_RDONLY fd for GETDENTS, or -1 */
	uint32_t export;
	uint32_t type; /* S_IFMT bits */
	uint64_t dev, ino;
	bool is_root; /* an export's root: no parent by design */
	bool live;    /* reachable by id */
	unsigned refs;
	struct gofer_node *parent; /* NULL: export root, or unlinked */
	char *name;		   /* name in parent, NULL when no parent */
	struct gofer_node *hnext;  /* id hash chain */
	/* Child index chain (childidx.h), while the node has a parent. */
	struct gofer_node *cnext, **cpprev;
	uint64_t chash;
	struct gofer_node *tmp; /* scratch chain for batch updates */
	int tmp_action;
	struct list_head all;
};

struct gofer_node_table {
	struct gofer_node **buckets;
	size_t nbuckets; /* power of two */
	uint64_t next_id;
	size_t count, max;
	struct list_head all;
	struct gofer_child_index children;
};

int gofer_node_table_init(struct gofer_node_table *t, size_t max);
void gofer_node_table_destroy(struct gofer_node_table *t);

/* The live node with this id, or NULL. */
struct gofer_node *gofer_node_get(struct gofer_node_table *t, uint64_t id);

/* Adds a node for fd (ownership passes to the table, also on failure),
 * whose attributes are st. parent/name may be NULL for an export root.
 * Returns 0 or -ENFILE / -ENOMEM. */
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
