/* The indexed min-heap: random operations against a model with the heap
 * property and every idx checked, heap sort, removal of arbitrary nodes and
 * re-keying both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "bulkhead/heap.h"

static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#define NPOOL 1024u

struct timer {
	struct heap_node hn;
	unsigned id;
};

static struct timer pool[NPOOL];

static void reset_pool(void)
{
	for (unsigned i = 0; i < NPOOL; i++) {
		heap_node_init(&pool[i].hn, 0);
		pool[i].id = i;
	}
}

/* Keys from a small range give many ties; now and then an extreme. */
static uint64_t rnd_key(void)
{
	switch (rnd() % 16) {
	case 0:
		return 0;
	case 1:
		return UINT64_MAX;
	case 2:
		return rnd();
	default:
		return rnd() % 1000;
	}
}

/* The heap property, every idx, and agreement with the pool about who is
 * in. */
static void check_heap(const struct heap *h, size_t expect)
{
	assert_int_equal(h->n, expect);
	assert_true(h->n <= h->cap);
	for (size_t i = 0; i < h->n; i++) {
		assert_int_equal(h->v[i]->idx, i);
		if (i > 0)
			assert_true(h->v[(i - 1) / 2]->key <= h->v[i]->key);
	}
	size_t in = 0;
	for (unsigned i = 0; i < NPOOL; i++) {
		const struct heap_node *x = &pool[i].hn;
		if (heap_contains(x)) {
			assert_true(x->idx < h->n);
			assert_ptr_equal(h->v[x->idx], x);
			in++;
		}
	}
	assert_int_equal(in, expect);
}

/* The model's minimum key, by a scan of the pool. */
static bool model_min(uint64_t *key)
{
	bool any = false;

	for (unsigned i = 0; i < NPOOL; i++) {
		const struct heap_node *x = &pool[i].hn;
		if (heap_contains(x) && (!any || x->key < *key)) {
			*key = x->key;
			any = true;
		}
	}
	return any;
}

static void test_random_vs_model(void **state)
{
	(void)state;
	struct heap h;
	size_t count = 0;

	rng_state = 21;
	reset_pool();
	heap_init(&h);
	for (unsigned op = 0; op < 100000; op++) {
		struct timer *t = &pool[rnd() % NPOOL];
		struct heap_node *x = &t->hn;
		unsigned r = (unsigned)(rnd() % 100);
		/* Insert, remove, update and pop shares: the first half fills
		 * the heap to about half the pool, the second lets it settle
		 * at about a third. */
		unsigned ins_pct = op < 50000 ? 45 : 30;
		unsigned rem_pct = 15;
		unsigned upd_pct = op < 50000 ? 25 : 40;

		if (r < ins_pct) {
			if (!heap_contains(x)) {
				x->key = rnd_key();
				assert_int_equal(heap_insert(&h, x), 0);
				count++;
			}
		} else if (r < ins_pct + rem_pct) {
			if (heap_contains(x)) {
				heap_remove(&h, x);
				assert_false(heap_contains(x));
				count--;
			}
		} else if (r < ins_pct + rem_pct + upd_pct) {
			if (heap_contains(x))
				heap_update(&h, x, rnd_key());
		} else {
			uint64_t k;
			bool any = model_min(&k);
			struct heap_node *m = heap_pop(&h);
			if (any) {
				assert_non_null(m);
				assert_int_equal(m->key, k);
				assert_false(heap_contains(m));
				count--;
			} else {
				assert_null(m);
			}
		}
		uint64_t k;
		if (model_min(&k))
			assert_int_equal(heap_min(&h)->key, k);
		else
			assert_null(heap_min(&h));
		if (op % 1000 == 0)
			check_heap(&h, count);
		if (op == 49999)
			assert_true(count > NPOOL / 3);
	}
	check_heap(&h, count);
	assert_true(count > NPOOL / 5 && count < NPOOL / 2);
	heap_destroy(&h);
	for (unsigned i = 0; i < NPOOL; i++)
		assert_false(heap_contains(&pool[i].hn));
}

/* Popping everything gives the keys in order, each node once. */
static void test_heap_sort(void **state)
{
	(void)state;
	struct heap h;
	static bool popped[NPOOL];

	rng_state = 22;
	reset_pool();
	heap_init(&h);
	for (unsigned i = 0; i < NPOOL; i++) {
		pool[i].hn.key = rnd_key();
		assert_int_equal(heap_insert(&h, &pool[i].hn), 0);
	}
	check_heap(&h, NPOOL);
	uint64_t last = 0;
	for (unsigned i = 0; i < NPOOL; i++) {
		struct heap_node *x = heap_pop(&h);
		assert_non_null(x);
		assert_true(x->key >= last);
		last = x->key;
		struct timer *t = heap_entry(x, struct timer, hn);
		assert_false(popped[t->id]);
		popped[t->id] = true;
	}
	assert_null(heap_pop(&h));
	assert_null(heap_min(&h));
	heap_destroy(&h);
}

static void test_update(void **state)
{
	(void)state;
	struct heap h;

	reset_pool();
	heap_init(&h);
	for (unsigned i = 0; i < 100; i++) {
		pool[i].hn.key = 1000 + 10 * i;
		assert_int_equal(heap_insert(&h, &pool[i].hn), 0);
	}
	assert_ptr_equal(heap_min(&h), &pool[0].hn);
	/* The largest becomes the smallest. */
	heap_update(&h, &pool[99].hn, 5);
	assert_ptr_equal(heap_min(&h), &pool[99].hn);
	check_heap(&h, 100);
	/* The smallest becomes the largest: the next one surfaces. */
	heap_update(&h, &pool[99].hn, 1u << 30);
	assert_ptr_equal(heap_min(&h), &pool[0].hn);
	heap_update(&h, &pool[0].hn, 1u << 31);
	assert_ptr_equal(heap_min(&h), &pool[1].hn);
	check_heap(&h, 100);
	/* No change, and a small move within the middle. */
	heap_update(&h, &pool[50].hn, pool[50].hn.key);
	heap_update(&h, &pool[50].hn, pool[50].hn.key - 15);
	heap_update(&h, &pool[60].hn, pool[60].hn.key + 15);
	check_heap(&h, 100);
	uint64_t last = 0;
	for (struct heap_node *x; (x = heap_pop(&h));) {
		assert_true(x->key >= last);
		last = x->key;
	}
	assert_int_equal(last, 1u << 31);
	heap_destroy(&h);
}

/* Removing from every kind of slot: the root, the last slot, the middle. */
static void test_remove_arbitrary(void **state)
{
	(void)state;
	struct heap h;
	size_t count = NPOOL;

	rng_state = 23;
	reset_pool();
	heap_init(&h);
	for (unsigned i = 0; i < NPOOL; i++) {
		pool[i].hn.key = rnd() % 5000;
		assert_int_equal(heap_insert(&h, &pool[i].hn), 0);
	}
	while (count) {
		size_t slot;
		switch (count % 3) {
		case 0:
			slot = 0;
			break;
		case 1:
			slot = h.n - 1;
			break;
		default:
			slot = rnd() % h.n;
			break;
		}
		struct heap_node *x = h.v[slot];
		heap_remove(&h, x);
		assert_false(heap_contains(x));
		count--;
		if (count % 64 == 0)
			check_heap(&h, count);
	}
	check_heap(&h, 0);
	/* Nodes go back in after removal. */
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(heap_insert(&h, &pool[i].hn), 0);
	check_heap(&h, 10);
	heap_destroy(&h);
	assert_int_equal(h.n, 0);
	assert_null(h.v);
	for (unsigned i = 0; i < 10; i++)
		assert_false(heap_contains(&pool[i].hn));
}

static void test_empty(void **state)
{
	(void)state;
	struct heap h;
	struct heap_node a;

	heap_init(&h);
	assert_null(heap_min(&h));
	assert_null(heap_pop(&h));
	heap_node_init(&a, 7);
	assert_false(heap_contains(&a));
	assert_int_equal(heap_insert(&h, &a), 0);
	assert_true(heap_contains(&a));
	assert_ptr_equal(heap_min(&h), &a);
	heap_update(&h, &a, 3);
	assert_int_equal(a.key, 3);
	assert_ptr_equal(heap_pop(&h), &a);
	assert_false(heap_contains(&a));
	assert_null(heap_pop(&h));
	heap_destroy(&h);
	heap_destroy(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_random_vs_model),
	    cmocka_unit_test(test_heap_sort),
	    cmocka_unit_test(test_update),
	    cmocka_unit_test(test_remove_arbitrary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
