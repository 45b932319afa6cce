/* Allocation failure in the hash table, the heap and the id map: each
 * reports -ENOMEM or carries on at its old size, and stays correct.
 *
 * To make malloc fail on demand without touching the build, this file
 * compiles its own copy of those modules' sources with malloc, calloc and
 * realloc redirected to the counters below. Its definitions of the
 * modules' functions are the ones the test binary links (the archive
 * members are only pulled in for symbols still undefined), so every call
 * here goes through the redirected copy. */
#include <endian.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* -1: allocations succeed. n >= 0: n more succeed, then all fail. */
static long nomem_after = -1;
static unsigned long nomem_refused;

static bool nomem_now(void)
{
	if (nomem_after < 0)
		return false;
	if (nomem_after > 0) {
		nomem_after--;
		return false;
	}
	nomem_refused++;
	return true;
}

static void *t_malloc(size_t n)
{
	return nomem_now() ? NULL : malloc(n);
}

static void *t_calloc(size_t n, size_t sz)
{
	return nomem_now() ? NULL : calloc(n, sz);
}

static void *t_realloc(void *p, size_t n)
{
	return nomem_now() ? NULL : realloc(p, n);
}

#define malloc(n)     t_malloc(n)
#define calloc(n, sz) t_calloc(n, sz)
#define realloc(p, n) t_realloc(p, n)
#include "lib/heap.c"
#include "lib/htable.c"
#include "lib/idmap.c"
#undef malloc
#undef calloc
#undef realloc

static void test_htable_nomem(void **state)
{
	(void)state;
	struct htable t;
	static struct hnode nodes[2000];
	const uint64_t n = 2000;

	nomem_after = 0;
	assert_int_equal(htable_init(&t, 2), -ENOMEM);
	nomem_after = -1;
	assert_int_equal(htable_init(&t, 2), 0);

	/* No growth: 2000 nodes in 4 buckets, all still found and walked. */
	nomem_after = 0;
	nomem_refused = 0;
	for (uint64_t i = 0; i < n; i++)
		htable_insert(&t, &nodes[i], hash_u64(i));
	assert_true(nomem_refused > 0);
	assert_int_equal(t.nbuckets, 4);
	assert_int_equal(t.count, n);
	for (uint64_t i = 0; i < n; i++)
		assert_ptr_equal(htable_first(&t, hash_u64(i)), &nodes[i]);
	struct htable_iter it;
	uint64_t walked = 0;
	for (struct hnode *p = htable_iter_first(&t, &it); p;
	     p = htable_iter_next(&t, &it))
		walked++;
	assert_int_equal(walked, n);

	/* Once memory is back, each insert doubles once until the load is
	 * within bounds again. */
	nomem_after = -1;
	htable_remove(&t, &nodes[0]);
	htable_insert(&t, &nodes[0], hash_u64(0));
	assert_int_equal(t.nbuckets, 8);
	for (int i = 0; i < 20; i++) {
		htable_remove(&t, &nodes[0]);
		htable_insert(&t, &nodes[0], hash_u64(0));
	}
	assert_int_equal(t.nbuckets, 1024);
	assert_true(t.count <= 2 * t.nbuckets);

	/* No shrink: everything out, the table keeps its size. */
	nomem_after = 0;
	for (uint64_t i = 0; i < n; i++) {
		if (i % 2)
			assert_ptr_equal(htable_first(&t, hash_u64(i)),
					 &nodes[i]);
		htable_remove(&t, &nodes[i]);
	}
	assert_int_equal(t.nbuckets, 1024);
	assert_int_equal(t.count, 0);
	assert_null(htable_iter_first(&t, &it));

	/* And back to the minimum on the next remove that can allocate. */
	nomem_after = -1;
	htable_insert(&t, &nodes[0], hash_u64(0));
	htable_remove(&t, &nodes[0]);
	assert_int_equal(t.nbuckets, 4);
	htable_destroy(&t);
}

static void test_heap_nomem(void **state)
{
	(void)state;
	struct heap h;
	static struct heap_node x[17];

	for (int i = 0; i < 17; i++)
		heap_node_init(&x[i], (uint64_t)(100 - i));
	heap_init(&h);
	nomem_after = 0;
	assert_int_equal(heap_insert(&h, &x[0]), -ENOMEM);
	assert_false(heap_contains(&x[0]));
	assert_null(heap_min(&h));

	/* The first array holds 16; the 17th insert needs to grow it. */
	nomem_after = 1;
	for (int i = 0; i < 16; i++)
		assert_int_equal(heap_insert(&h, &x[i]), 0);
	assert_int_equal(heap_insert(&h, &x[16]), -ENOMEM);
	assert_false(heap_contains(&x[16]));
	assert_int_equal(h.n, 16);
	for (size_t i = 0; i < h.n; i++) {
		assert_int_equal(h.v[i]->idx, i);
		if (i > 0)
			assert_true(h.v[(i - 1) / 2]->key <= h.v[i]->key);
	}
	assert_ptr_equal(heap_min(&h), &x[15]);

	nomem_after = -1;
	assert_int_equal(heap_insert(&h, &x[16]), 0);
	uint64_t last = 0;
	for (int i = 0; i < 17; i++) {
		struct heap_node *p = heap_pop(&h);
		assert_non_null(p);
		assert_true(p->key >= last);
		last = p->key;
	}
	heap_destroy(&h);
}

static void test_idmap_nomem(void **state)
{
	(void)state;
	struct idmap m, c;

	idmap_init(&m);
	/* Fails on the first array, then on the second (the first has
	 * grown by then); neither leaves the map changed. */
	for (long ok = 0; ok < 2; ok++) {
		nomem_after = ok;
		assert_int_equal(idmap_alloc(&m, 0, 100), -ENOMEM);
		assert_int_equal(idmap_size(&m), 0);
		assert_false(idmap_test(&m, 0));
		assert_int_equal(idmap_next_set(&m, 0), -1);
	}
	nomem_after = -1;
	for (int i = 0; i < 200; i++)
		assert_int_equal(idmap_alloc(&m, 0, 1000), i);
	assert_int_equal(idmap_size(&m), IDMAP_MIN_BITS);

	/* Growing past the first size, both failure points again: the ids
	 * already there stay, and the new words come out clear. */
	for (long ok = 0; ok < 2; ok++) {
		nomem_after = ok;
		assert_int_equal(idmap_set(&m, 300), -ENOMEM);
		assert_int_equal(idmap_alloc(&m, 256, 1000), -ENOMEM);
		assert_int_equal(idmap_size(&m), IDMAP_MIN_BITS);
	}
	nomem_after = -1;
	assert_int_equal(idmap_set(&m, 300), 0);
	assert_int_equal(idmap_size(&m), 2 * IDMAP_MIN_BITS);
	assert_int_equal(idmap_next_set(&m, 200), 300);
	assert_int_equal(idmap_alloc(&m, 0, 1000), 200);
	assert_int_equal(idmap_alloc(&m, 256, 1000), 256);
	/* Inside the current size, nothing to allocate, nothing to fail. */
	nomem_after = 0;
	assert_int_equal(idmap_alloc(&m, 0, 1000), 201);

	/* A failed copy leaves the destination as it was. */
	idmap_init(&c);
	nomem_after = -1;
	assert_int_equal(idmap_set(&c, 7), 0);
	for (long ok = 0; ok < 2; ok++) {
		nomem_after = ok;
		assert_int_equal(idmap_copy(&c, &m), -ENOMEM);
		assert_int_equal(idmap_size(&c), IDMAP_MIN_BITS);
		assert_int_equal(idmap_next_set(&c, 0), 7);
		assert_int_equal(idmap_next_set(&c, 8), -1);
	}
	nomem_after = -1;
	assert_int_equal(idmap_copy(&c, &m), 0);
	for (unsigned id = 0; id < 600; id++)
		assert_int_equal(idmap_test(&c, id), idmap_test(&m, id));
	idmap_destroy(&c);
	idmap_destroy(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_htable_nomem),
	    cmocka_unit_test(test_heap_nomem),
	    cmocka_unit_test(test_idmap_nomem),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
