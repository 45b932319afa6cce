/* The id bitmap: 100,000 ids in a row in well under a second, lowest-free
 * semantics against a model, the min/limit edges, next_set walks, copies,
 * and the summary bitmap checked against the words after each step. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "bulkhead/idmap.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The summary bit of every word says whether that word is all ones, and
 * the size is 0 or a power of two of at least IDMAP_MIN_BITS. */
static void check_full(const struct idmap *m)
{
	size_t nw = m->nbits / 64;

	assert_true(m->nbits == 0 || (m->nbits >= IDMAP_MIN_BITS &&
				      (m->nbits & (m->nbits - 1)) == 0));
	for (size_t w = 0; w < nw; w++) {
		bool f = m->full[w / 64] >> (w % 64) & 1;
		assert_int_equal(f, m->bits[w] == ~0ull);
	}
	for (size_t w = nw; w % 64; w++)
		assert_false(m->full[w / 64] >> (w % 64) & 1);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_sequential_fast(void **state)
{
	(void)state;
	struct idmap m;
	const int n = 100000;

	idmap_init(&m);
	assert_int_equal(idmap_size(&m), 0);
	double t0 = now();
	for (int i = 0; i < n; i++)
		assert_int_equal(idmap_alloc(&m, 0, 1u << 20), i);
	double dt = now() - t0;
	assert_true(dt < 1.0);
	assert_int_equal(idmap_size(&m), 131072);
	check_full(&m);
	int count = 0;
	for (int id = idmap_next_set(&m, 0); id >= 0;
	     id = idmap_next_set(&m, (unsigned)id + 1)) {
		assert_int_equal(id, count);
		count++;
	}
	assert_int_equal(count, n);
	/* A hole low down is found again, past all the full words. */
	idmap_clear(&m, 7);
	idmap_clear(&m, 99998);
	assert_int_equal(idmap_alloc(&m, 0, 1u << 20), 7);
	assert_int_equal(idmap_alloc(&m, 0, 1u << 20), 99998);
	assert_int_equal(idmap_alloc(&m, 0, 1u << 20), n);
	idmap_destroy(&m);
	assert_int_equal(idmap_size(&m), 0);
}

#define MODEL_IDS 3000u

/* Random allocs (random min, random limit), clears and sets against a
 * plain bool array. */
static void test_lowest_free_model(void **state)
{
	(void)state;
	struct idmap m;
	static bool used[MODEL_IDS + 64];
	size_t nused = 0;

	rng_state = 31;
	idmap_init(&m);
	for (unsigned op = 0; op < 40000; op++) {
		unsigned r = (unsigned)(rnd() % 100);
		/* Keep the map about three quarters full so that full
		 * words, partial words and holes all occur. */
		bool fill = nused < MODEL_IDS * 3 / 4;
		if (r < (fill ? 70u : 40u)) {
			unsigned min =
			    r % 4 ? 0 : (unsigned)(rnd() % MODEL_IDS);
			unsigned limit =
			    r % 5 ? MODEL_IDS : (unsigned)(rnd() % MODEL_IDS);
			unsigned want = min;
			while (want < limit && used[want])
				want++;
			int got = idmap_alloc(&m, min, limit);
			if (want >= limit) {
				assert_int_equal(got, -EMFILE);
			} else {
				assert_int_equal(got, want);
				used[want] = true;
				nused++;
			}
		} else if (r < 95) {
			unsigned id = (unsigned)(rnd() % MODEL_IDS);
			idmap_clear(&m, id);
			nused -= used[id];
			used[id] = false;
		} else {
			unsigned id = (unsigned)(rnd() % MODEL_IDS);
			assert_int_equal(idmap_set(&m, id), 0);
			nused += !used[id];
			used[id] = true;
		}
		if (op % 500 == 0) {
			check_full(&m);
			for (unsigned id = 0; id < MODEL_IDS + 64; id++)
				assert_int_equal(idmap_test(&m, id), used[id]);
		}
	}
	check_full(&m);
	/* After the random clears, allocation fills the holes in order. */
	unsigned holes = 0;
	for (unsigned id = 0; id < MODEL_IDS; id++) {
		if (!used[id]) {
			assert_int_equal(idmap_alloc(&m, 0, MODEL_IDS), id);
			holes++;
		}
	}
	assert_true(holes > 100);
	assert_int_equal(idmap_alloc(&m, 0, MODEL_IDS), -EMFILE);
	assert_int_equal(idmap_alloc(&m, 0, MODEL_IDS + 1), MODEL_IDS);
	check_full(&m);
	idmap_destroy(&m);
}

static void test_min_limit_edges(void **state)
{
	(void)state;
	struct idmap m;

	idmap_init(&m);
	assert_int_equal(idmap_alloc(&m, 0, 0), -EMFILE);
	assert_int_equal(idmap_alloc(&m, 5, 5), -EMFILE);
	assert_int_equal(idmap_alloc(&m, 6, 5), -EMFILE);
	assert_int_equal(idmap_size(&m), 0);

	/* A limit that is not a multiple of 64. */
	for (int i = 0; i < 70; i++)
		assert_int_equal(idmap_alloc(&m, 0, 70), i);
	assert_int_equal(idmap_alloc(&m, 0, 70), -EMFILE);
	assert_int_equal(idmap_alloc(&m, 69, 70), -EMFILE);
	assert_int_equal(idmap_alloc(&m, 0, 71), 70);
	idmap_clear(&m, 65);
	assert_int_equal(idmap_alloc(&m, 66, 71), -EMFILE);
	assert_int_equal(idmap_alloc(&m, 65, 66), 65);
	idmap_clear(&m, 3);
	assert_int_equal(idmap_alloc(&m, 4, 1000), 71);
	assert_int_equal(idmap_alloc(&m, 3, 4), 3);
	check_full(&m);

	/* min inside a full word, and on a word boundary. */
	assert_int_equal(idmap_alloc(&m, 10, 1000), 72);
	assert_int_equal(idmap_alloc(&m, 64, 1000), 73);
	assert_int_equal(idmap_alloc(&m, 128, 1000), 128);
	assert_int_equal(idmap_alloc(&m, 128, 1000), 129);

	/* Everything below nbits set, and limit == nbits: no growth. */
	for (unsigned id = 0; id < IDMAP_MIN_BITS; id++)
		assert_int_equal(idmap_set(&m, id), 0);
	check_full(&m);
	assert_int_equal(idmap_size(&m), IDMAP_MIN_BITS);
	assert_int_equal(idmap_alloc(&m, 0, IDMAP_MIN_BITS), -EMFILE);
	assert_int_equal(idmap_size(&m), IDMAP_MIN_BITS);
	/* One more and it grows. */
	assert_int_equal(idmap_alloc(&m, 0, IDMAP_MIN_BITS + 1),
			 IDMAP_MIN_BITS);
	assert_int_equal(idmap_size(&m), 2 * IDMAP_MIN_BITS);
	idmap_destroy(&m);

	/* min past the end of the map: the map grows to hold it. */
	idmap_init(&m);
	assert_int_equal(idmap_alloc(&m, 10000, 20000), 10000);
	assert_int_equal(idmap_size(&m), 16384);
	assert_int_equal(idmap_alloc(&m, 10000, 20000), 10001);
	assert_int_equal(idmap_alloc(&m, 0, 20000), 0);
	assert_int_equal(idmap_alloc(&m, 16383, 20000), 16383);
	assert_int_equal(idmap_alloc(&m, 16383, 20000), 16384);
	assert_int_equal(idmap_size(&m), 32768);
	/* A huge limit is clamped, not an error. */
	assert_int_equal(idmap_alloc(&m, 1, UINT32_MAX), 1);
	check_full(&m);
	idmap_destroy(&m);
}

static void test_set_clear_test(void **state)
{
	(void)state;
	struct idmap m;

	idmap_init(&m);
	assert_false(idmap_test(&m, 0));
	assert_false(idmap_test(&m, UINT32_MAX));
	idmap_clear(&m, 12345); /* past the end: nothing to do */
	assert_int_equal(idmap_size(&m), 0);
	assert_int_equal(idmap_set(&m, 3), 0);
	assert_int_equal(idmap_size(&m), IDMAP_MIN_BITS);
	assert_true(idmap_test(&m, 3));
	assert_false(idmap_test(&m, 2));
	assert_int_equal(idmap_set(&m, 3), 0);
	assert_true(idmap_test(&m, 3));
	assert_int_equal(idmap_set(&m, 5000), 0);
	assert_int_equal(idmap_size(&m), 8192);
	assert_true(idmap_test(&m, 5000));
	assert_true(idmap_test(&m, 3));
	assert_false(idmap_test(&m, 4999));
	idmap_clear(&m, 3);
	assert_false(idmap_test(&m, 3));
	assert_int_equal(idmap_set(&m, IDMAP_MAX_BITS), -EINVAL);
	assert_int_equal(idmap_set(&m, UINT32_MAX), -EINVAL);
	assert_int_equal(idmap_size(&m), 8192);

	/* Filling a word sets its summary bit; clearing one bit of it
	 * drops the bit and the freed id is the next one handed out. */
	for (unsigned id = 128; id < 192; id++)
		assert_int_equal(idmap_set(&m, id), 0);
	assert_true(m.full[0] >> 2 & 1);
	check_full(&m);
	idmap_clear(&m, 150);
	assert_false(m.full[0] >> 2 & 1);
	assert_int_equal(idmap_alloc(&m, 128, 8192), 150);
	assert_true(m.full[0] >> 2 & 1);
	check_full(&m);
	idmap_destroy(&m);
}

static void test_next_set(void **state)
{
	(void)state;
	struct idmap m;
	static const unsigned ids[] = {0,   1,	  63,	64,   65,
				       127, 1000, 4095, 4096, 8191};

	idmap_init(&m);
	assert_int_equal(idmap_next_set(&m, 0), -1);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		assert_int_equal(idmap_set(&m, ids[i]), 0);
	assert_int_equal(idmap_size(&m), 8192);
	size_t i = 0;
	for (int id = idmap_next_set(&m, 0); id >= 0;
	     id = idmap_next_set(&m, (unsigned)id + 1)) {
		assert_true(i < sizeof(ids) / sizeof(ids[0]));
		assert_int_equal(id, ids[i]);
		i++;
	}
	assert_int_equal(i, sizeof(ids) / sizeof(ids[0]));
	/* From every position, the answer is the next listed id. */
	for (unsigned from = 0, j = 0; from < 8192 + 70; from++) {
		while (j < sizeof(ids) / sizeof(ids[0]) && ids[j] < from)
			j++;
		int want = j < sizeof(ids) / sizeof(ids[0]) ? (int)ids[j] : -1;
		assert_int_equal(idmap_next_set(&m, from), want);
	}
	assert_int_equal(idmap_next_set(&m, UINT32_MAX), -1);
	idmap_clear(&m, 8191);
	assert_int_equal(idmap_next_set(&m, 4097), -1);
	idmap_destroy(&m);
}

static void test_copy(void **state)
{
	(void)state;
	struct idmap a, b;

	rng_state = 32;
	idmap_init(&a);
	idmap_init(&b);
	/* An empty source gives an empty copy. */
	assert_int_equal(idmap_copy(&b, &a), 0);
	assert_int_equal(idmap_size(&b), 0);

	for (int i = 0; i < 3000; i++)
		assert_int_equal(idmap_set(&a, (unsigned)(rnd() % 5000)), 0);
	for (int i = 0; i < 500; i++)
		assert_true(idmap_alloc(&a, 0, 10000) >= 0);
	/* Over a non-empty destination: its old contents go. */
	assert_int_equal(idmap_set(&b, 9000), 0);
	assert_int_equal(idmap_copy(&b, &a), 0);
	assert_int_equal(idmap_size(&b), idmap_size(&a));
	for (unsigned id = 0; id < idmap_size(&a) + 64; id++)
		assert_int_equal(idmap_test(&b, id), idmap_test(&a, id));
	check_full(&b);
	assert_false(idmap_test(&b, 9000));

	/* The two evolve independently, and alike while they are alike. */
	for (int i = 0; i < 100; i++)
		assert_int_equal(idmap_alloc(&a, 0, 10000),
				 idmap_alloc(&b, 0, 10000));
	int x = idmap_alloc(&a, 0, 10000);
	assert_true(x >= 0);
	assert_false(idmap_test(&b, (unsigned)x));
	idmap_clear(&b, 0);
	assert_true(idmap_test(&a, 0));
	assert_false(idmap_test(&b, 0));
	/* Copying a map onto itself is a no-op. */
	assert_int_equal(idmap_copy(&a, &a), 0);
	idmap_destroy(&a);
	idmap_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sequential_fast),
	    cmocka_unit_test(test_lowest_free_model),
	    cmocka_unit_test(test_min_limit_edges),
	    cmocka_unit_test(test_set_clear_test),
	    cmocka_unit_test(test_next_set),
	    cmocka_unit_test(test_copy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
