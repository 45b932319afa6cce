/* The red-black tree: random insert/erase against a sorted-array model with
 * a full invariant check after every batch, duplicates, sequential keys,
 * iteration both ways and erasing while iterating. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bulkhead/rbtree.h"

struct item {
	struct rb_node rb;
	uint32_t key;
	uint32_t seq; /* insertion order, to check where equal keys go */
	bool in;
};

#define KEYSPACE 8192u

static struct item pool[KEYSPACE];
static uint32_t ref[KEYSPACE]; /* the model: keys in the tree, sorted */
static size_t nref;

/* splitmix64: a fixed seed so that a failure can be replayed. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t key_of(const struct rb_node *n)
{
	return rb_entry(n, struct item, rb)->key;
}

/* Equal keys go right, so they come out in insertion order. */
static void tree_insert(struct rb_root *root, struct item *it)
{
	struct rb_node **link = &root->node, *parent = NULL;

	while (*link) {
		parent = *link;
		if (it->key < key_of(parent))
			link = &parent->left;
		else
			link = &parent->right;
	}
	rb_link_node(&it->rb, parent, link);
	rb_insert_color(&it->rb, root);
}

static struct item *tree_find(const struct rb_root *root, uint32_t key)
{
	struct rb_node *n = root->node;

	while (n) {
		uint32_t k = key_of(n);
		if (key < k)
			n = n->left;
		else if (key > k)
			n = n->right;
		else
			return rb_entry(n, struct item, rb);
	}
	return NULL;
}

static bool node_red(const struct rb_node *n)
{
	return n && (n->parent_color & 1) == RB_RED;
}

/* Checks the subtree at n (keys within [lo, hi], parent pointer, no red-red)
 * and returns its black height; counts its nodes into *count. */
static int check_sub(const struct rb_node *n, const struct rb_node *parent,
		     uint32_t lo, uint32_t hi, size_t *count, int *depth_max,
		     int depth)
{
	if (!n) {
		if (depth > *depth_max)
			*depth_max = depth;
		return 1;
	}
	(*count)++;
	assert_ptr_equal(rb_parent(n), parent);
	uint32_t k = key_of(n);
	assert_true(k >= lo && k <= hi);
	if (node_red(n)) {
		assert_false(node_red(n->left));
		assert_false(node_red(n->right));
	}
	int bl = check_sub(n->left, n, lo, k, count, depth_max, depth + 1);
	int br = check_sub(n->right, n, k, hi, count, depth_max, depth + 1);
	assert_int_equal(bl, br);
	return bl + !node_red(n);
}

static void check_tree(const struct rb_root *root, size_t expect)
{
	size_t count = 0;
	int depth_max = 0;

	assert_int_equal(rb_empty(root), expect == 0);
	if (root->node) {
		assert_null(rb_parent(root->node));
		assert_false(node_red(root->node));
	}
	check_sub(root->node, NULL, 0, UINT32_MAX, &count, &depth_max, 0);
	assert_int_equal(count, expect);
	/* The height bound that the invariants imply: 2 log2(n + 1). */
	int lg = 0;
	while ((1ull << lg) < count + 1)
		lg++;
	assert_true(depth_max <= 2 * lg);
}

/* In-order walk both ways against the model. */
static void check_order(const struct rb_root *root)
{
	size_t i = 0;

	for (struct rb_node *n = rb_first(root); n; n = rb_next(n)) {
		assert_true(i < nref);
		assert_int_equal(key_of(n), ref[i]);
		i++;
	}
	assert_int_equal(i, nref);
	for (struct rb_node *n = rb_last(root); n; n = rb_prev(n)) {
		assert_true(i > 0);
		i--;
		assert_int_equal(key_of(n), ref[i]);
	}
	assert_int_equal(i, 0);
}

static size_t ref_lower_bound(uint32_t key)
{
	size_t lo = 0, hi = nref;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ref[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void ref_insert(uint32_t key)
{
	size_t i = ref_lower_bound(key);
	memmove(&ref[i + 1], &ref[i], (nref - i) * sizeof(ref[0]));
	ref[i] = key;
	nref++;
}

static void ref_erase(uint32_t key)
{
	size_t i = ref_lower_bound(key);
	assert_true(i < nref && ref[i] == key);
	memmove(&ref[i], &ref[i + 1], (nref - i - 1) * sizeof(ref[0]));
	nref--;
}

static void reset_pool(void)
{
	for (uint32_t k = 0; k < KEYSPACE; k++) {
		pool[k].key = k;
		pool[k].in = false;
	}
	nref = 0;
}

/* 100k operations. The insert share starts high and ends low, so the tree
 * grows to about 70% of the key space and drains to about 30%. */
static void test_random_vs_model(void **state)
{
	(void)state;
	struct rb_root root = RB_ROOT_INIT;
	const unsigned ops = 100000, batch = 1000;

	rng_state = 1;
	reset_pool();
	for (unsigned op = 0; op < ops; op++) {
		unsigned pct = op < 40000 ? 70 : op < 70000 ? 50 : 30;
		bool want_insert = rnd() % 100 < pct;
		struct item *it = &pool[rnd() % KEYSPACE];

		if (want_insert && !it->in) {
			tree_insert(&root, it);
			it->in = true;
			ref_insert(it->key);
		} else if (!want_insert && it->in) {
			rb_erase(&it->rb, &root);
			it->in = false;
			ref_erase(it->key);
		} else {
			struct item *f = tree_find(&root, it->key);
			assert_ptr_equal(f, it->in ? it : NULL);
		}
		if ((op + 1) % batch == 0) {
			check_tree(&root, nref);
			check_order(&root);
		}
	}
	/* Drain in random order. */
	while (nref) {
		struct item *it = &pool[ref[rnd() % nref]];
		rb_erase(&it->rb, &root);
		it->in = false;
		ref_erase(it->key);
		if (nref % 257 == 0)
			check_tree(&root, nref);
	}
	check_tree(&root, 0);
	assert_null(rb_first(&root));
	assert_null(rb_last(&root));
}

/* Sorted input is the classic worst case for an unbalanced tree. */
static void test_sequential(void **state)
{
	(void)state;
	struct rb_root root = RB_ROOT_INIT;

	reset_pool();
	for (uint32_t k = 0; k < KEYSPACE; k++) {
		tree_insert(&root, &pool[k]);
		ref_insert(k);
	}
	check_tree(&root, KEYSPACE);
	check_order(&root);
	/* Erase from the front: always the leftmost node. */
	for (uint32_t k = 0; k < KEYSPACE / 2; k++) {
		assert_ptr_equal(rb_first(&root), &pool[k].rb);
		rb_erase(&pool[k].rb, &root);
		ref_erase(k);
	}
	check_tree(&root, nref);
	check_order(&root);
	/* And from the back. */
	for (uint32_t k = KEYSPACE; k-- > KEYSPACE / 2;) {
		assert_ptr_equal(rb_last(&root), &pool[k].rb);
		rb_erase(&pool[k].rb, &root);
		ref_erase(k);
	}
	check_tree(&root, 0);

	reset_pool();
	for (uint32_t k = KEYSPACE; k-- > 0;) {
		tree_insert(&root, &pool[k]);
		ref_insert(k);
	}
	check_tree(&root, KEYSPACE);
	check_order(&root);
}

/* Equal keys: the tree keeps them; the descent above puts each after the
 * ones already there, and rebalancing must not reorder them. */
static void test_duplicates(void **state)
{
	(void)state;
	struct rb_root root = RB_ROOT_INIT;
	static struct item dup[3000];

	rng_state = 7;
	for (uint32_t i = 0; i < 3000; i++) {
		dup[i].key = (uint32_t)(rnd() % 10);
		dup[i].seq = i;
		tree_insert(&root, &dup[i]);
	}
	check_tree(&root, 3000);
	const struct item *prev = NULL;
	size_t n = 0;
	for (struct rb_node *p = rb_first(&root); p; p = rb_next(p), n++) {
		const struct item *it = rb_entry(p, struct item, rb);
		if (prev) {
			assert_true(
			    prev->key < it->key ||
			    (prev->key == it->key && prev->seq < it->seq));
		}
		prev = it;
	}
	assert_int_equal(n, 3000);
	for (uint32_t i = 0; i < 3000; i += 2)
		rb_erase(&dup[i].rb, &root);
	check_tree(&root, 1500);
	prev = NULL;
	for (struct rb_node *p = rb_first(&root); p; p = rb_next(p)) {
		const struct item *it = rb_entry(p, struct item, rb);
		assert_true(it->seq % 2 == 1);
		if (prev) {
			assert_true(
			    prev->key < it->key ||
			    (prev->key == it->key && prev->seq < it->seq));
		}
		prev = it;
	}
}

/* The caller's pattern for erasing during a walk: fetch the neighbour before
 * erasing the current node. */
static void test_erase_while_iterating(void **state)
{
	(void)state;
	struct rb_root root = RB_ROOT_INIT;

	rng_state = 3;
	reset_pool();
	/* Insert in a shuffled order so the shape is not a sequential one. */
	static uint32_t order[KEYSPACE];
	for (uint32_t k = 0; k < KEYSPACE; k++)
		order[k] = k;
	for (uint32_t k = KEYSPACE - 1; k > 0; k--) {
		uint32_t j = (uint32_t)(rnd() % (k + 1));
		uint32_t t = order[k];
		order[k] = order[j];
		order[j] = t;
	}
	for (uint32_t k = 0; k < KEYSPACE; k++) {
		tree_insert(&root, &pool[order[k]]);
		pool[order[k]].in = true;
		ref_insert(order[k]);
	}

	for (struct rb_node *n = rb_first(&root), *next; n; n = next) {
		next = rb_next(n);
		uint32_t k = key_of(n);
		if (k % 3 == 0) {
			rb_erase(n, &root);
			pool[k].in = false;
			ref_erase(k);
		}
	}
	check_tree(&root, nref);
	check_order(&root);
	assert_int_equal(nref, KEYSPACE - (KEYSPACE + 2) / 3);

	/* Backwards, erasing everything. */
	size_t seen = 0;
	for (struct rb_node *n = rb_last(&root), *prev; n; n = prev) {
		prev = rb_prev(n);
		assert_int_equal(key_of(n), ref[nref - 1]);
		rb_erase(n, &root);
		nref--;
		seen++;
		if (seen % 500 == 0)
			check_tree(&root, nref);
	}
	check_tree(&root, 0);
}

static void test_small(void **state)
{
	(void)state;
	struct rb_root root = RB_ROOT_INIT;
	struct item a = {.key = 1}, b = {.key = 2}, c = {.key = 3};

	assert_true(rb_empty(&root));
	assert_null(rb_first(&root));
	assert_null(rb_last(&root));

	tree_insert(&root, &b);
	assert_false(rb_empty(&root));
	assert_ptr_equal(rb_first(&root), &b.rb);
	assert_ptr_equal(rb_last(&root), &b.rb);
	assert_null(rb_next(&b.rb));
	assert_null(rb_prev(&b.rb));

	tree_insert(&root, &c);
	tree_insert(&root, &a);
	assert_ptr_equal(rb_first(&root), &a.rb);
	assert_ptr_equal(rb_next(&a.rb), &b.rb);
	assert_ptr_equal(rb_next(&b.rb), &c.rb);
	assert_null(rb_next(&c.rb));
	assert_ptr_equal(rb_prev(&c.rb), &b.rb);
	assert_ptr_equal(rb_prev(&b.rb), &a.rb);
	assert_null(rb_prev(&a.rb));

	/* Erase the root (two children), then the rest. */
	rb_erase(root.node, &root);
	assert_ptr_equal(rb_first(&root), &a.rb);
	assert_ptr_equal(rb_next(&a.rb), &c.rb);
	rb_erase(&a.rb, &root);
	rb_erase(&c.rb, &root);
	assert_true(rb_empty(&root));

	/* A node can be reused after erase. */
	tree_insert(&root, &a);
	assert_ptr_equal(rb_first(&root), &a.rb);
	rb_erase(&a.rb, &root);
	assert_true(rb_empty(&root));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_small),
	    cmocka_unit_test(test_random_vs_model),
	    cmocka_unit_test(test_sequential),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_erase_while_iterating),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
