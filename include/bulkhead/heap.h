/* An indexed binary min-heap.
 *
 * What it is for: the sentry's timers (the earliest deadline first) and
 * anything else that needs the smallest key now and then, plus removal or
 * re-keying of an arbitrary element (a timer cancelled or re-armed). The
 * node lives in the caller's struct; the heap stores pointers to nodes in an
 * array and keeps each node's position in idx, so removal and re-keying
 * need no search.
 *
 * Complexity: heap_min and heap_contains are O(1); heap_insert, heap_pop,
 * heap_remove and heap_update are O(log n) (heap_insert amortised, as the
 * array doubles when full). Nodes with equal keys come out in any order.
 *
 * A node must be initialised (heap_node_init, or idx = HEAP_NONE) before its
 * first heap_insert or heap_contains. No locking: the caller serialises
 * access to a heap.
 */
#ifndef BULKHEAD_HEAP_H
#define BULKHEAD_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulkhead/list.h"

#define HEAP_NONE SIZE_MAX

struct heap_node {
	uint64_t key;
	size_t idx; /* maintained by the heap; HEAP_NONE when not in a heap */
};

struct heap {
	struct heap_node **v;
	size_t n, cap;
};

#define heap_entry(ptr, type, member) container_of(ptr, type, member)

static inline void heap_node_init(struct heap_node *x, uint64_t key)
{
	x->key = key;
	x->idx = HEAP_NONE;
}

static inline bool heap_contains(const struct heap_node *x)
{
	return x->idx != HEAP_NONE;
}

void heap_init(struct heap *h);
/* Frees the array; nodes still in the heap are marked not in one. */
void heap_destroy(struct heap *h);

/* x must not be in a heap; its key is x->key. 0 or -ENOMEM (x is then not
 * in the heap). */
int heap_insert(struct heap *h, struct heap_node *x);
/* x must be in h. */
void heap_remove(struct heap *h, struct heap_node *x);
/* Changes the key of x, which must be in h. */
void heap_update(struct heap *h, struct heap_node *x, uint64_t key);
/* The node with the smallest key, or NULL if h is empty. */
struct heap_node *heap_min(const struct heap *h);
/* Removes and returns the node with the smallest key, or NULL. */
struct heap_node *heap_pop(struct heap *h);

#endif
