/* The heap lives in an array: the children of slot i are 2i + 1 and 2i + 2,
 * and every node's key is >= its parent's. Every move of a node goes through
 * heap_place so that idx never goes stale. */
#include "bulkhead/heap.h"

#include <errno.h>
#include <stdlib.h>

#define HEAP_MIN_CAP 16

void heap_init(struct heap *h)
{
	h->v = NULL;
	h->n = h->cap = 0;
}

void heap_destroy(struct heap *h)
{
	for (size_t i = 0; i < h->n; i++)
		h->v[i]->idx = HEAP_NONE;
	free(h->v);
	heap_init(h);
}

static inline void heap_place(struct heap *h, struct heap_node *x, size_t i)
{
	h->v[i] = x;
	x->idx = i;
}

/* Moves x, which belongs at slot i or above, up past larger parents. The
 * hole is carried up and x written once, rather than swapping at each
 * level. */
static void sift_up(struct heap *h, struct heap_node *x, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (h->v[p]->key <= x->key)
			break;
		heap_place(h, h->v[p], i);
		i = p;
	}
	heap_place(h, x, i);
}

/* Moves x, which belongs at slot i or below, down past smaller children. */
static void sift_down(struct heap *h, struct heap_node *x, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1]->key < h->v[c]->key)
			c++;
		if (x->key <= h->v[c]->key)
			break;
		heap_place(h, h->v[c], i);
		i = c;
	}
	heap_place(h, x, i);
}

/* x sits at slot i with a key that may now be wrong either way. */
static void heap_fix(struct heap *h, struct heap_node *x, size_t i)
{
	if (i > 0 && x->key < h->v[(i - 1) / 2]->key)
		sift_up(h, x, i);
	else
		sift_down(h, x, i);
}

int heap_insert(struct heap *h, struct heap_node *x)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : HEAP_MIN_CAP;
		if (cap > SIZE_MAX / 2 / sizeof(*h->v))
			return -ENOMEM;
		struct heap_node **v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		h->v = v;
		h->cap = cap;
	}
	h->n++;
	sift_up(h, x, h->n - 1);
	return 0;
}

void heap_remove(struct heap *h, struct heap_node *x)
{
	size_t i = x->idx;
	struct heap_node *last = h->v[--h->n];

	x->idx = HEAP_NONE;
	/* The last node fills the hole; it may belong above or below it. */
	if (last != x)
		heap_fix(h, last, i);
}

void heap_update(struct heap *h, struct heap_node *x, uint64_t key)
{
	x->key = key;
	heap_fix(h, x, x->idx);
}

struct heap_node *heap_min(const struct heap *h)
{
	return h->n ? h->v[0] : NULL;
}

struct heap_node *heap_pop(struct heap *h)
{
	struct heap_node *x = heap_min(h);

	if (x)
		heap_remove(h, x);
	return x;
}
