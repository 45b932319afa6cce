/* An intrusive red-black tree.
 *
 * What it is for: ordered sets inside the sentry (VMAs by address, timers by
 * deadline, anything that needs "first at or after X" or ordered iteration)
 * without an allocation per element: the node lives inside the caller's
 * struct and rb_entry() gets back to it.
 *
 * The tree does not know the key. The caller walks down from root->node
 * comparing its own keys, links the new node at the NULL child it reached
 * with rb_link_node() and then calls rb_insert_color() to rebalance. Lookup
 * is the same descent without the link. Equal keys are allowed; where they
 * go is the caller's choice in the descent.
 *
 * Complexity: rb_insert_color, rb_erase, rb_first and rb_last are O(log n);
 * rb_next and rb_prev are O(log n) worst case and amortised O(1) over a full
 * walk. A node costs three words; the colour lives in the low bit of the
 * parent pointer (nodes are pointer aligned, so that bit is always free).
 *
 * No locking: the caller serialises access to a tree.
 */
#ifndef BULKHEAD_RBTREE_H
#define BULKHEAD_RBTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulkhead/list.h"

struct rb_node {
	uintptr_t parent_color;
	struct rb_node *left, *right;
};

struct rb_root {
	struct rb_node *node;
};

#define RB_ROOT_INIT                                                           \
	{                                                                      \
		NULL                                                           \
	}

/* The colour bit: a freshly linked node is red (0), so rb_link_node only has
 * to store the parent pointer. */
#define RB_RED	 0u
#define RB_BLACK 1u

#define rb_entry(ptr, type, member) container_of(ptr, type, member)

static inline struct rb_node *rb_parent(const struct rb_node *n)
{
	return (struct rb_node *)(n->parent_color & ~(uintptr_t)1);
}

static inline bool rb_empty(const struct rb_root *r)
{
	return r->node == NULL;
}

/* Attach n, as a red leaf, at *link, which is parent->left, parent->right
 * or &root->node (parent NULL). The tree is unbalanced until
 * rb_insert_color(n, root). */
static inline void rb_link_node(struct rb_node *n, struct rb_node *parent,
				struct rb_node **link)
{
	n->parent_color = (uintptr_t)parent | RB_RED;
	n->left = n->right = NULL;
	*link = n;
}

void rb_insert_color(struct rb_node *n, struct rb_root *root);
/* n must be in root. Its fields are left stale; relink before reuse. */
void rb_erase(struct rb_node *n, struct rb_root *root);

struct rb_node *rb_first(const struct rb_root *r);
struct rb_node *rb_last(const struct rb_root *r);
struct rb_node *rb_next(const struct rb_node *n);
struct rb_node *rb_prev(const struct rb_node *n);

#endif
