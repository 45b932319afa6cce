/* The nodes that name an entry dir/name, found without scanning the node
 * table: a hash table keyed by the directory's export and inode (dev, ino)
 * and the name. Keyed by the directory's inode, not its node, because the
 * sentry may hold several nodes for one directory (every WALK makes a new
 * id) and an UNLINK through one of them must also reach the children walked
 * through the others. Private to the gofer; chains are intrusive in struct
 * gofer_node (cnext, cpprev, chash). */
#ifndef GOFER_CHILDIDX_H
#define GOFER_CHILDIDX_H

#include <stddef.h>
#include <stdint.h>

struct gofer_node;

struct gofer_child_index {
	struct gofer_node **buckets;
	size_t nbuckets; /* power of two */
	size_t count;
	uint64_t seed; /* names come from the sentry: keep chains unguessable */
};

int gofer_child_index_init(struct gofer_child_index *x);
void gofer_child_index_destroy(struct gofer_child_index *x);

/* Adds n, which must have a parent and a name; grows the table when it is
 * full (if that allocation fails, chains just get longer). */
void gofer_child_index_add(struct gofer_child_index *x, struct gofer_node *n);
/* Removes n if it is indexed. */
void gofer_child_index_del(struct gofer_child_index *x, struct gofer_node *n);

/* The first indexed node that may be dir/name (same export, parent of the
 * same inode as dir, same name), or NULL; gofer_child_index_next gives the
 * following ones. Both check the key, so every node returned is one. */
struct gofer_node *gofer_child_index_first(const struct gofer_child_index *x,
					   const struct gofer_node *dir,
					   const char *name);
struct gofer_node *gofer_child_index_next(const struct gofer_node *prev,
					  const struct gofer_node *dir,
					  const char *name);

#endif
