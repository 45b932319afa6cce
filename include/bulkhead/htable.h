/* An intrusive chained hash table, and the keyed hash to feed it.
 *
 * What it is for: lookups by name or number inside the sentry (dentry
 * children by name, inodes by number, ...) where the keys come from the
 * guest. The table stores only a 64-bit hash per node; the caller computes
 * it, walks the nodes with that hash (htable_first/htable_next) and compares
 * its real keys. Hash keys the guest controls with hash_bytes or hash_u64:
 * they are keyed (SipHash-2-4), so once the sentry has set a secret key with
 * hash_set_key a guest cannot pick names that all land in one bucket.
 *
 * The table resizes itself: it doubles when it holds more than 2 nodes per
 * bucket and halves when it holds fewer than 1 per 8 buckets, never below
 * 1 << min_shift buckets. Insert never fails: if doubling cannot allocate,
 * the table keeps its size and only gets slower.
 *
 * Each chain is kept sorted by a fixed mix of the hash, and a bucket is the
 * top bits of that mix, so the order of a full walk does not depend on the
 * number of buckets. That is what lets an iterator survive a resize, and it
 * keeps the nodes with one hash next to each other, so htable_next is O(1).
 *
 * Complexity: insert, remove and lookup are O(1) expected (plus the O(n)
 * rehash on a resize, amortised O(1)); a full walk is O(n + buckets).
 *
 * No locking: the caller serialises access to a table. The hash key is
 * global: set it once at start-up, before any table is filled (tables built
 * with one key are not rehashed when it changes).
 */
#ifndef BULKHEAD_HTABLE_H
#define BULKHEAD_HTABLE_H

#include <stddef.h>
#include <stdint.h>

#include "bulkhead/list.h"

struct hnode {
	struct hnode *next;
	uint64_t hash;
};

struct htable {
	struct hnode **buckets;
	size_t nbuckets;
	size_t count;
	unsigned min_shift;
};

/* Largest min_shift htable_init accepts. */
#define HTABLE_MAX_SHIFT 32u

#define htable_entry(ptr, type, member) container_of(ptr, type, member)

/* 1 << min_shift buckets to start with and at least ever after. 0, -ENOMEM,
 * or -EINVAL if min_shift > HTABLE_MAX_SHIFT. */
int htable_init(struct htable *t, unsigned min_shift);
/* Frees the bucket array only; the nodes belong to the caller. */
void htable_destroy(struct htable *t);

/* n must not be in a table. Nodes with equal hashes are all kept, the newest
 * after the others. */
void htable_insert(struct htable *t, struct hnode *n, uint64_t hash);
/* n must be in t. */
void htable_remove(struct htable *t, struct hnode *n);

/* The first node whose hash equals hash, or NULL. */
struct hnode *htable_first(const struct htable *t, uint64_t hash);
/* The next node after n (which is in t) with n's hash, or NULL. */
struct hnode *htable_next(const struct htable *t, const struct hnode *n);

/* A walk over every node:
 *
 *	struct htable_iter it;
 *	for (struct hnode *n = htable_iter_first(t, &it); n;
 *	     n = htable_iter_next(t, &it))
 *
 * The iterator holds the node after the one it returned, so the caller may
 * remove the node it was just given (even if that shrinks the table) and may
 * insert (a node inserted during the walk may or may not be seen). Removing
 * any other node during the walk is not allowed. */
struct htable_iter {
	struct hnode *next;
};

struct hnode *htable_iter_first(const struct htable *t, struct htable_iter *it);
struct hnode *htable_iter_next(const struct htable *t, struct htable_iter *it);

/* SipHash-2-4 of p[0..n) under the current key. */
uint64_t hash_bytes(const void *p, size_t n);
/* The same as hash_bytes of v's 8 bytes in little-endian order. */
uint64_t hash_u64(uint64_t v);
/* Sets the 128-bit key of both (global state; see above). Until it is
 * called, a fixed built-in key is used. */
void hash_set_key(const uint8_t key[16]);

#endif
