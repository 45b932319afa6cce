#include "gofer/childidx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "gofer/node.h"

#define CHILD_BUCKETS_MIN 1024u

int gofer_child_index_init(struct gofer_child_index *x)
{
	memset(x, 0, sizeof(*x));
	x->nbuckets = CHILD_BUCKETS_MIN;
	x->buckets = calloc(x->nbuckets, sizeof(*x->buckets));
	if (!x->buckets)
		return -ENOMEM;
	/* Without entropy the table still works, only predictably. */
	if (getrandom(&x->seed, sizeof(x->seed), GRND_NONBLOCK) !=
	    sizeof(x->seed))
		x->seed = (uint64_t)(uintptr_t)x ^ 0x6a09e667f3bcc908ull;
	return 0;
}

void gofer_child_index_destroy(struct gofer_child_index *x)
{
	free(x->buckets);
	x->buckets = NULL;
	x->nbuckets = x->count = 0;
}

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h;
}

static uint64_t key_hash(uint64_t seed, const struct gofer_node *dir,
			 const char *name)
{
	uint64_t h = mix64(seed ^ dir->dev);
	h = mix64(h ^ dir->ino);
	h = mix64(h ^ dir->export);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return mix64(h);
}

static bool key_is(const struct gofer_node *n, uint64_t h,
		   const struct gofer_node *dir, const char *name)
{
	const struct gofer_node *p = n->parent;
	return n->chash == h && p && n->export == dir->export &&
	       p->export == dir->export && p->dev == dir->dev &&
	       p->ino == dir->ino && strcmp(n->name, name) == 0;
}

static void chain_push(struct gofer_node **head, struct gofer_node *n)
{
	n->cnext = *head;
	if (*head)
		(*head)->cpprev = &n->cnext;
	n->cpprev = head;
	*head = n;
}

/* Doubles the table; on failure the old one stays. */
static void grow(struct gofer_child_index *x)
{
	size_t nb = x->nbuckets * 2;
	struct gofer_node **b = calloc(nb, sizeof(*b));
	if (!b)
		return;
	for (size_t i = 0; i < x->nbuckets; i++) {
		struct gofer_node *n = x->buckets[i];
		while (n) {
			struct gofer_node *next = n->cnext;
			chain_push(&b[n->chash & (nb - 1)], n);
			n = next;
		}
	}
	free(x->buckets);
	x->buckets = b;
	x->nbuckets = nb;
}

void gofer_child_index_add(struct gofer_child_index *x, struct gofer_node *n)
{
	if (x->count >= x->nbuckets)
		grow(x);
	n->chash = key_hash(x->seed, n->parent, n->name);
	chain_push(&x->buckets[n->chash & (x->nbuckets - 1)], n);
	x->count++;
}

void gofer_child_index_del(struct gofer_child_index *x, struct gofer_node *n)
{
	if (!n->cpprev)
		return;
	*n->cpprev = n->cnext;
	if (n->cnext)
		n->cnext->cpprev = n->cpprev;
	n->cnext = NULL;
	n->cpprev = NULL;
	x->count--;
}

static struct gofer_node *scan(struct gofer_node *n, uint64_t h,
			       const struct gofer_node *dir, const char *name)
{
	while (n && !key_is(n, h, dir, name))
		n = n->cnext;
	return n;
}

struct gofer_node *gofer_child_index_first(const struct gofer_child_index *x,
					   const struct gofer_node *dir,
					   const char *name)
{
	uint64_t h = key_hash(x->seed, dir, name);
	return scan(x->buckets[h & (x->nbuckets - 1)], h, dir, name);
}

struct gofer_node *gofer_child_index_next(const struct gofer_node *prev,
					  const struct gofer_node *dir,
					  const char *name)
{
	return scan(prev->cnext, prev->chash, dir, name);
}
