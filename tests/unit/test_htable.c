/* The hash table and the keyed hash: 200k nodes against a model, equal
 * hashes, the exact grow/shrink points, walks that remove and insert,
 * SipHash-2-4 test vectors and a look at the spread of the hash. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bulkhead/htable.h"

/* SipHash-2-4 with the key 00 01 .. 0f of the messages 00 01 .. (n-1), for n
 * = 0..63. Entry 15 is the worked example in appendix A of the SipHash
 * paper; the table was produced with OpenSSL 3.0's SIPHASH MAC (`openssl
 * mac -macopt hexkey:000102...0f -macopt size:8 SIPHASH`), an independent
 * implementation, its 8 output bytes read as a little-endian word. */
static const uint64_t sip_vectors[64] = {
    0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull,
    0x85676696d7fb7e2dull, 0xcf2794e0277187b7ull, 0x18765564cd99a68dull,
    0xcbc9466e58fee3ceull, 0xab0200f58b01d137ull, 0x93f5f5799a932462ull,
    0x9e0082df0ba9e4b0ull, 0x7a5dbbc594ddb9f3ull, 0xf4b32f46226bada7ull,
    0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull, 0xf723ca908e7af2eeull,
    0xa129ca6149be45e5ull, 0x3f2acc7f57c29bdbull, 0x699ae9f52cbe4794ull,
    0x4bc1b3f0968dd39cull, 0xbb6dc91da77961bdull, 0xbed65cf21aa2ee98ull,
    0xd0f2cbb02e3b67c7ull, 0x93536795e3a33e88ull, 0xa80c038ccd5ccec8ull,
    0xb8ad50c6f649af94ull, 0xbce192de8a85b8eaull, 0x17d835b85bbb15f3ull,
    0x2f2e6163076bcfadull, 0xde4daaaca71dc9a5ull, 0xa6a2506687956571ull,
    0xad87a3535c49ef28ull, 0x32d892fad841c342ull, 0x7127512f72f27cceull,
    0xa7f32346f95978e3ull, 0x12e0b01abb051238ull, 0x15e034d40fa197aeull,
    0x314dffbe0815a3b4ull, 0x027990f029623981ull, 0xcadcd4e59ef40c4dull,
    0x9abfd8766a33735cull, 0x0e3ea96b5304a7d0ull, 0xad0c42d6fc585992ull,
    0x187306c89bc215a9ull, 0xd4a60abcf3792b95ull, 0xf935451de4f21df2ull,
    0xa9538f0419755787ull, 0xdb9acddff56ca510ull, 0xd06c98cd5c0975ebull,
    0xe612a3cb9ecba951ull, 0xc766e62cfcadaf96ull, 0xee64435a9752fe72ull,
    0xa192d576b245165aull, 0x0a8787bf8ecb74b2ull, 0x81b3e73d20b49b6full,
    0x7fa8220ba3b2eceaull, 0x245731c13ca42499ull, 0xb78dbfaf3a8d83bdull,
    0xea1ad565322a1a0bull, 0x60e61c23a3795013ull, 0x6606d7e446282b93ull,
    0x6ca4ecb15c5f91e1ull, 0x9f626da15c9625f3ull, 0xe51b38608ef25f57ull,
    0x958a324ceb064572ull,
};

static const uint8_t default_key[16] = "bulkhead default";

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

struct item {
	struct hnode h;
	uint32_t key;
	uint32_t seq;
	bool in;
	unsigned seen;
};

#define NITEMS 200000u

static struct item items[NITEMS];

static struct item *item_of(struct hnode *n)
{
	return htable_entry(n, struct item, h);
}

static struct item *find(const struct htable *t, uint32_t key)
{
	uint64_t h = hash_u64(key);

	for (struct hnode *n = htable_first(t, h); n; n = htable_next(t, n)) {
		assert_int_equal(n->hash, h);
		if (item_of(n)->key == key)
			return item_of(n);
	}
	return NULL;
}

/* The shape invariants that hold after every operation, given that no
 * allocation failed: a power-of-two size within the load bounds, and every
 * node reachable both by a walk and by a lookup of its own hash. */
static void check_table(const struct htable *t, size_t expect)
{
	assert_int_equal(t->count, expect);
	assert_true(t->nbuckets >= (size_t)1 << t->min_shift);
	assert_int_equal(t->nbuckets & (t->nbuckets - 1), 0);
	assert_true(t->count <= 2 * t->nbuckets);
	assert_true(t->nbuckets == (size_t)1 << t->min_shift ||
		    8 * t->count >= t->nbuckets);
	size_t chained = 0;
	for (size_t b = 0; b < t->nbuckets; b++) {
		for (struct hnode *n = t->buckets[b]; n; n = n->next)
			chained++;
	}
	assert_int_equal(chained, expect);
	struct htable_iter it;
	size_t walked = 0;
	for (struct hnode *n = htable_iter_first(t, &it); n;
	     n = htable_iter_next(t, &it)) {
		bool found = false;
		for (struct hnode *m = htable_first(t, n->hash); m;
		     m = htable_next(t, m))
			found |= m == n;
		assert_true(found);
		walked++;
	}
	assert_int_equal(walked, expect);
}

static void reset_items(void)
{
	for (uint32_t i = 0; i < NITEMS; i++) {
		items[i].key = i;
		items[i].in = false;
		items[i].seen = 0;
	}
}

static void shuffle(uint32_t *v, size_t n)
{
	for (size_t i = n - 1; i > 0; i--) {
		size_t j = rnd() % (i + 1);
		uint32_t x = v[i];
		v[i] = v[j];
		v[j] = x;
	}
}

static void test_random_vs_model(void **state)
{
	(void)state;
	struct htable t;
	static uint32_t order[NITEMS];
	size_t count = 0;

	rng_state = 11;
	reset_items();
	assert_int_equal(htable_init(&t, 4), 0);
	for (uint32_t i = 0; i < NITEMS; i++)
		order[i] = i;
	shuffle(order, NITEMS);

	/* All of them in, a lookup of a random key now and then. */
	for (uint32_t i = 0; i < NITEMS; i++) {
		struct item *it = &items[order[i]];
		htable_insert(&t, &it->h, hash_u64(it->key));
		it->in = true;
		count++;
		if (i % 16 == 0) {
			uint32_t k = (uint32_t)(rnd() % NITEMS);
			assert_ptr_equal(find(&t, k),
					 items[k].in ? &items[k] : NULL);
		}
	}
	check_table(&t, count);
	for (uint32_t k = 0; k < NITEMS; k++)
		assert_ptr_equal(find(&t, k), &items[k]);

	/* Mixed: remove-heavy, then insert-heavy. */
	for (unsigned op = 0; op < NITEMS; op++) {
		unsigned pct_insert = op < NITEMS / 2 ? 20 : 80;
		bool ins = rnd() % 100 < pct_insert;
		struct item *it = &items[rnd() % NITEMS];
		if (ins && !it->in) {
			htable_insert(&t, &it->h, hash_u64(it->key));
			it->in = true;
			count++;
		} else if (!ins && it->in) {
			htable_remove(&t, &it->h);
			it->in = false;
			count--;
		} else {
			assert_ptr_equal(find(&t, it->key), it->in ? it : NULL);
		}
		if (op % 50000 == 0)
			check_table(&t, count);
	}
	check_table(&t, count);
	for (uint32_t k = 0; k < NITEMS; k++)
		assert_ptr_equal(find(&t, k), items[k].in ? &items[k] : NULL);

	/* Everything out: back to the minimum size. */
	for (uint32_t i = 0; i < NITEMS; i++) {
		struct item *it = &items[order[i]];
		if (it->in) {
			htable_remove(&t, &it->h);
			it->in = false;
			count--;
		}
	}
	check_table(&t, 0);
	assert_int_equal(t.nbuckets, 16);
	htable_destroy(&t);
	assert_null(t.buckets);
}

/* Many nodes with one hash, mixed with others: htable_first/next yields
 * exactly them, in insertion order, across resizes. */
static void test_equal_hashes(void **state)
{
	(void)state;
	struct htable t;
	const uint64_t h = 0x1234;
	const unsigned n = 3000;

	reset_items();
	assert_int_equal(htable_init(&t, 2), 0);
	for (unsigned i = 0; i < n; i++) {
		items[i].seq = i;
		htable_insert(&t, &items[i].h, i % 3 == 0 ? h : h + i);
	}
	assert_true(t.nbuckets > 4);
	unsigned expect = 0;
	for (struct hnode *p = htable_first(&t, h); p; p = htable_next(&t, p)) {
		assert_int_equal(item_of(p)->seq, expect);
		expect += 3;
	}
	assert_int_equal(expect, n);
	/* The others each once. */
	for (unsigned i = 1; i < n; i++) {
		if (i % 3 == 0)
			continue;
		struct hnode *p = htable_first(&t, h + i);
		assert_ptr_equal(p, &items[i].h);
		assert_null(htable_next(&t, p));
	}
	assert_null(htable_first(&t, h + n));

	/* Remove every other one of the equal ones, and all the rest, so the
	 * table shrinks while they stay in. */
	for (unsigned i = 0; i < n; i++) {
		if (i % 3 != 0 || i % 2 == 0)
			htable_remove(&t, &items[i].h);
	}
	check_table(&t, n / 6);
	expect = 3;
	for (struct hnode *p = htable_first(&t, h); p; p = htable_next(&t, p)) {
		assert_int_equal(item_of(p)->seq, expect);
		expect += 6;
	}
	assert_int_equal(expect, n + 3);
	htable_destroy(&t);
}

/* The table doubles on the insert that makes count > 2 * nbuckets and halves
 * on the remove that makes 8 * count < nbuckets, never below the minimum. */
static void test_grow_shrink(void **state)
{
	(void)state;
	struct htable t;
	size_t nb = 8;
	const uint32_t n = 20000;

	reset_items();
	assert_int_equal(htable_init(&t, 3), 0);
	assert_int_equal(t.nbuckets, 8);
	assert_int_equal(t.count, 0);
	for (uint32_t i = 0; i < n; i++) {
		htable_insert(&t, &items[i].h, hash_u64(i));
		if (t.count > 2 * nb)
			nb *= 2;
		assert_int_equal(t.nbuckets, nb);
	}
	assert_int_equal(nb, 16384);
	for (uint32_t i = 0; i < n; i++) {
		htable_remove(&t, &items[i].h);
		while (8 * t.count < nb && nb > 8)
			nb /= 2;
		assert_int_equal(t.nbuckets, nb);
		if (i % 1000 == 0) {
			for (uint32_t j = i + 1; j < n; j += 97)
				assert_ptr_equal(find(&t, j), &items[j]);
			assert_null(find(&t, i));
		}
	}
	assert_int_equal(t.nbuckets, 8);
	htable_destroy(&t);

	/* One bucket is a valid minimum. */
	assert_int_equal(htable_init(&t, 0), 0);
	assert_int_equal(t.nbuckets, 1);
	for (uint32_t i = 0; i < 100; i++)
		htable_insert(&t, &items[i].h, hash_u64(i));
	check_table(&t, 100);
	for (uint32_t i = 0; i < 100; i++)
		htable_remove(&t, &items[i].h);
	check_table(&t, 0);
	assert_int_equal(t.nbuckets, 1);
	htable_destroy(&t);

	assert_int_equal(htable_init(&t, HTABLE_MAX_SHIFT + 1), -EINVAL);
}

/* Removing the current node during a walk, with the table shrinking under
 * the walk; and inserting during a walk, with it growing. Every node that
 * was there throughout is seen exactly once. */
static void test_iter_modify(void **state)
{
	(void)state;
	struct htable t;
	struct htable_iter it;
	const uint32_t n = 20000;

	reset_items();
	assert_int_equal(htable_init(&t, 3), 0);
	for (uint32_t i = 0; i < n; i++)
		htable_insert(&t, &items[i].h, hash_u64(i));

	/* The walk order before any change, to check it is kept. */
	uint32_t seq = 0;
	for (struct hnode *p = htable_iter_first(&t, &it); p;
	     p = htable_iter_next(&t, &it))
		item_of(p)->seq = seq++;
	assert_int_equal(seq, n);

	/* Remove the odd keys while walking. */
	size_t before = t.nbuckets;
	for (struct hnode *p = htable_iter_first(&t, &it); p;
	     p = htable_iter_next(&t, &it)) {
		struct item *x = item_of(p);
		x->seen++;
		if (x->key % 2)
			htable_remove(&t, p);
	}
	for (uint32_t i = 0; i < n; i++) {
		assert_int_equal(items[i].seen, 1);
		items[i].seen = 0;
	}
	check_table(&t, n / 2);

	/* The survivors come out in the same relative order. */
	int64_t last = -1;
	for (struct hnode *p = htable_iter_first(&t, &it); p;
	     p = htable_iter_next(&t, &it)) {
		assert_true((int64_t)item_of(p)->seq > last);
		last = item_of(p)->seq;
	}

	/* Insert the odd keys again while walking: the table grows. */
	uint32_t next_odd = 1;
	for (struct hnode *p = htable_iter_first(&t, &it); p;
	     p = htable_iter_next(&t, &it)) {
		item_of(p)->seen++;
		for (int k = 0; k < 2 && next_odd < n; k++, next_odd += 2) {
			htable_insert(&t, &items[next_odd].h,
				      hash_u64(next_odd));
		}
	}
	assert_int_equal(next_odd, n + 1);
	for (uint32_t i = 0; i < n; i++) {
		if (i % 2 == 0)
			assert_int_equal(items[i].seen, 1);
		else
			assert_true(items[i].seen <= 1);
		items[i].seen = 0;
	}
	check_table(&t, n);

	/* Remove everything while walking: it shrinks to the minimum. */
	for (struct hnode *p = htable_iter_first(&t, &it); p;
	     p = htable_iter_next(&t, &it)) {
		item_of(p)->seen++;
		htable_remove(&t, p);
	}
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(items[i].seen, 1);
	check_table(&t, 0);
	assert_true(before > t.nbuckets);
	assert_int_equal(t.nbuckets, 8);
	assert_null(htable_iter_first(&t, &it));
	assert_null(htable_iter_next(&t, &it));
	htable_destroy(&t);
}

static void test_siphash_vectors(void **state)
{
	(void)state;
	uint8_t key[16], msg[64];

	for (unsigned i = 0; i < 16; i++)
		key[i] = (uint8_t)i;
	for (unsigned i = 0; i < 64; i++)
		msg[i] = (uint8_t)i;
	hash_set_key(key);
	assert_int_equal(hash_bytes(msg, 15), 0xa129ca6149be45e5ull);
	for (unsigned n = 0; n < 64; n++)
		assert_int_equal(hash_bytes(msg, n), sip_vectors[n]);
	/* Unaligned input gives the same answer. */
	static uint8_t shifted[65];
	memcpy(shifted + 1, msg, 64);
	for (unsigned n = 0; n < 64; n++)
		assert_int_equal(hash_bytes(shifted + 1, n), sip_vectors[n]);
	hash_set_key(default_key);
}

/* hash_u64 is hash_bytes of the little-endian bytes, under any key; the
 * built-in key is the documented one; a different key changes the hash. */
static void test_hash_keys(void **state)
{
	(void)state;
	static const uint8_t other[16] = {1, 2,	 3,  4,	 5,  6,	 7,  8,
					  9, 10, 11, 12, 13, 14, 15, 16};
	const char *name = "passwd";
	uint64_t h_default = hash_bytes(name, strlen(name));
	uint64_t u_default = hash_u64(42);

	hash_set_key(default_key);
	assert_int_equal(hash_bytes(name, strlen(name)), h_default);
	assert_int_equal(hash_u64(42), u_default);

	rng_state = 5;
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < 1000; i++) {
			uint64_t v = i < 10 ? (uint64_t)i : rnd();
			uint8_t le[8];
			for (int j = 0; j < 8; j++)
				le[j] = (uint8_t)(v >> (8 * j));
			assert_int_equal(hash_u64(v), hash_bytes(le, 8));
		}
		hash_set_key(other);
	}
	assert_int_not_equal(hash_bytes(name, strlen(name)), h_default);
	assert_int_not_equal(hash_u64(42), u_default);
	hash_set_key(default_key);
	assert_int_equal(hash_bytes(name, strlen(name)), h_default);
}

/* Not a statistical test suite, just a check that nothing is grossly wrong:
 * similar names spread evenly over buckets, and one flipped input bit flips
 * about half of the output bits. */
static void test_distribution(void **state)
{
	(void)state;
	enum { NAMES = 100000, BUCKETS = 1024 };
	static unsigned low[BUCKETS], high[BUCKETS];
	char name[32];

	for (unsigned i = 0; i < NAMES; i++) {
		int len = snprintf(name, sizeof(name), "file%u.txt", i);
		uint64_t h = hash_bytes(name, (size_t)len);
		low[h % BUCKETS]++;
		high[h >> 54]++;
	}
	/* Chi-square with 1023 degrees of freedom: mean 1023, standard
	 * deviation about 45. */
	double e = (double)NAMES / BUCKETS, chi_low = 0, chi_high = 0;
	for (unsigned b = 0; b < BUCKETS; b++) {
		chi_low += (low[b] - e) * (low[b] - e) / e;
		chi_high += (high[b] - e) * (high[b] - e) / e;
	}
	assert_true(chi_low > 750 && chi_low < 1300);
	assert_true(chi_high > 750 && chi_high < 1300);

	/* Avalanche, over 2000 random 16-byte inputs and each of their 128
	 * bits: the mean flip count should be very near 32. */
	uint64_t flips = 0, trials = 0;
	rng_state = 9;
	for (int i = 0; i < 2000; i++) {
		uint64_t in[2] = {rnd(), rnd()};
		uint64_t h0 = hash_bytes(in, sizeof(in));
		for (int bit = 0; bit < 128; bit++) {
			in[bit / 64] ^= 1ull << (bit % 64);
			flips += (uint64_t)__builtin_popcountll(
			    h0 ^ hash_bytes(in, sizeof(in)));
			in[bit / 64] ^= 1ull << (bit % 64);
			trials++;
		}
	}
	double mean = (double)flips / (double)trials;
	assert_true(mean > 31.8 && mean < 32.2);

	/* Sequential integers through the table: no long chains. */
	struct htable t;
	assert_int_equal(htable_init(&t, 4), 0);
	for (uint32_t i = 0; i < NITEMS / 2; i++)
		htable_insert(&t, &items[i].h, hash_u64(i));
	size_t longest = 0;
	for (size_t b = 0; b < t.nbuckets; b++) {
		size_t len = 0;
		for (struct hnode *n = t.buckets[b]; n; n = n->next)
			len++;
		if (len > longest)
			longest = len;
	}
	assert_true(longest < 16);
	htable_destroy(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_siphash_vectors),
	    cmocka_unit_test(test_hash_keys),
	    cmocka_unit_test(test_random_vs_model),
	    cmocka_unit_test(test_equal_hashes),
	    cmocka_unit_test(test_grow_shrink),
	    cmocka_unit_test(test_iter_modify),
	    cmocka_unit_test(test_distribution),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
