/* The hash table and SipHash-2-4. See include/bulkhead/htable.h for the
 * ordering rule the resize and the iterator rely on. */
#include "bulkhead/htable.h"

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* Odd, so multiplying by it is a bijection on 64-bit values: equal mixes mean
 * equal hashes. Multiplying carries low bits upwards, so the top bits that
 * pick a bucket depend on the whole hash, even when a caller passes a weak
 * one such as a plain inode number. */
#define HT_MIX 0x9e3779b97f4a7c15ull

static inline uint64_t ht_mix(uint64_t hash)
{
	return hash * HT_MIX;
}

static inline unsigned ht_shift(const struct htable *t)
{
	return (unsigned)__builtin_ctzll(t->nbuckets);
}

/* The top shift bits of the mix: monotonic in the mix, which is what keeps
 * the walk order the same at every size. */
static inline size_t ht_bucket(uint64_t mix, unsigned shift)
{
	return shift ? (size_t)(mix >> (64 - shift)) : 0;
}

int htable_init(struct htable *t, unsigned min_shift)
{
	if (min_shift > HTABLE_MAX_SHIFT)
		return -EINVAL;
	size_t nb = (size_t)1 << min_shift;
	t->buckets = calloc(nb, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	t->nbuckets = nb;
	t->count = 0;
	t->min_shift = min_shift;
	return 0;
}

void htable_destroy(struct htable *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->nbuckets = 0;
	t->count = 0;
}

/* Moves every node to a new array of 1 << shift buckets. The old buckets are
 * walked in order, so nodes arrive in increasing mix order and the nodes of
 * one new bucket arrive in one run: appending each run keeps every new chain
 * sorted with a single tail pointer. On allocation failure the table is left
 * as it was. */
static bool ht_resize(struct htable *t, unsigned shift)
{
	size_t nb = (size_t)1 << shift;
	struct hnode **nbk = calloc(nb, sizeof(*nbk));

	if (!nbk)
		return false;
	struct hnode **tail = NULL;
	size_t cur = SIZE_MAX;
	for (size_t b = 0; b < t->nbuckets; b++) {
		struct hnode *n = t->buckets[b];
		while (n) {
			struct hnode *next = n->next;
			size_t i = ht_bucket(ht_mix(n->hash), shift);
			if (i != cur) {
				cur = i;
				tail = &nbk[i];
			}
			n->next = NULL;
			*tail = n;
			tail = &n->next;
			n = next;
		}
	}
	free(t->buckets);
	t->buckets = nbk;
	t->nbuckets = nb;
	return true;
}

void htable_insert(struct htable *t, struct hnode *n, uint64_t hash)
{
	uint64_t m = ht_mix(hash);
	struct hnode **pp = &t->buckets[ht_bucket(m, ht_shift(t))];

	/* After every node with a mix <= m: equal hashes stay in insertion
	 * order and stay adjacent. */
	while (*pp && ht_mix((*pp)->hash) <= m)
		pp = &(*pp)->next;
	n->hash = hash;
	n->next = *pp;
	*pp = n;
	t->count++;
	/* A failed doubling only costs speed; the next insert tries again.
	 * The shift cap keeps 1 << shift and 2 * nbuckets from overflowing. */
	if (t->count > 2 * t->nbuckets && ht_shift(t) < 8 * sizeof(size_t) - 4)
		ht_resize(t, ht_shift(t) + 1);
}

void htable_remove(struct htable *t, struct hnode *n)
{
	struct hnode **pp =
	    &t->buckets[ht_bucket(ht_mix(n->hash), ht_shift(t))];

	while (*pp != n) {
		/* n is not in t: a caller bug that would otherwise corrupt
		 * memory later, far from here. */
		if (!*pp)
			abort();
		pp = &(*pp)->next;
	}
	*pp = n->next;
	n->next = NULL;
	t->count--;
	/* Fewer than one node per 8 buckets. Usually that is one halving;
	 * a small table can drop several steps at once (8 * 0 < 4), which
	 * integer division (0 < 4 / 8) would never allow. Failure to
	 * allocate just keeps the larger table. */
	unsigned shift = ht_shift(t);
	while (shift > t->min_shift && 8 * t->count < (size_t)1 << shift)
		shift--;
	if (shift != ht_shift(t))
		ht_resize(t, shift);
}

struct hnode *htable_first(const struct htable *t, uint64_t hash)
{
	uint64_t m = ht_mix(hash);
	struct hnode *n = t->buckets[ht_bucket(m, ht_shift(t))];

	while (n && ht_mix(n->hash) < m)
		n = n->next;
	return n && n->hash == hash ? n : NULL;
}

struct hnode *htable_next(const struct htable *t, const struct hnode *n)
{
	(void)t;
	return n->next && n->next->hash == n->hash ? n->next : NULL;
}

/* The node after n in walk order. */
static struct hnode *ht_after(const struct htable *t, const struct hnode *n)
{
	if (n->next)
		return n->next;
	for (size_t b = ht_bucket(ht_mix(n->hash), ht_shift(t)) + 1;
	     b < t->nbuckets; b++) {
		if (t->buckets[b])
			return t->buckets[b];
	}
	return NULL;
}

struct hnode *htable_iter_first(const struct htable *t, struct htable_iter *it)
{
	struct hnode *n = NULL;

	for (size_t b = 0; b < t->nbuckets && !n; b++)
		n = t->buckets[b];
	it->next = n ? ht_after(t, n) : NULL;
	return n;
}

struct hnode *htable_iter_next(const struct htable *t, struct htable_iter *it)
{
	struct hnode *n = it->next;

	if (n)
		it->next = ht_after(t, n);
	return n;
}

/* SipHash-2-4, from Aumasson and Bernstein, "SipHash: a fast short-input
 * PRF" (2012): four 64-bit words of state initialised from the key, two
 * rounds per 8-byte message word, four rounds of finalisation.
 *
 * The key is the one piece of global mutable state here. The built-in one
 * is the 16 bytes "bulkhead default", read as two little-endian words; the
 * sentry replaces it with a random one at start-up, before any table is
 * filled and before there is a second thread. */
static uint64_t sip_k0 = 0x646165686b6c7562ull; /* "bulkhead" */
static uint64_t sip_k1 = 0x746c756166656420ull; /* " default" */

struct sip {
	uint64_t v0, v1, v2, v3;
};

static inline uint64_t rotl64(uint64_t x, unsigned b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void sip_round(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = rotl64(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = rotl64(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = rotl64(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = rotl64(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = rotl64(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = rotl64(s->v2, 32);
}

static inline void sip_init(struct sip *s)
{
	/* The paper's constants: "somepseudorandomlygeneratedbytes". */
	s->v0 = sip_k0 ^ 0x736f6d6570736575ull;
	s->v1 = sip_k1 ^ 0x646f72616e646f6dull;
	s->v2 = sip_k0 ^ 0x6c7967656e657261ull;
	s->v3 = sip_k1 ^ 0x7465646279746573ull;
}

static inline void sip_word(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

static inline uint64_t sip_final(struct sip *s)
{
	s->v2 ^= 0xff;
	sip_round(s);
	sip_round(s);
	sip_round(s);
	sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof(v));
	return le64toh(v);
}

uint64_t hash_bytes(const void *p, size_t n)
{
	const uint8_t *b = p;
	struct sip s;
	size_t i = 0;

	sip_init(&s);
	for (; i + 8 <= n; i += 8)
		sip_word(&s, load_le64(b + i));
	/* The last word: the 0-7 leftover bytes, and the length mod 256 in
	 * the top byte. */
	uint64_t last = (uint64_t)(n & 0xff) << 56;
	for (unsigned j = 0; i + j < n; j++)
		last |= (uint64_t)b[i + j] << (8 * j);
	sip_word(&s, last);
	return sip_final(&s);
}

uint64_t hash_u64(uint64_t v)
{
	struct sip s;

	sip_init(&s);
	sip_word(&s, v);
	sip_word(&s, (uint64_t)8 << 56);
	return sip_final(&s);
}

void hash_set_key(const uint8_t key[16])
{
	sip_k0 = load_le64(key);
	sip_k1 = load_le64(key + 8);
}
