/* The gofer protocol codec: round trips, truncation, oversized strings,
 * bad headers and name validation. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bulkhead/gofer_proto.h"

static uint8_t buf[GP_MSG_MAX];

/* A WALK request with two names; returns its length. */
static size_t make_walk(void)
{
	struct gp_buf b;
	gp_buf_init(&b, buf, sizeof(buf));
	gp_begin(&b, GP_WALK, 77, 0);
	struct gp_walk_req q = {.node = 42, .nnames = 2};
	gp_put(&b, &q, sizeof(q));
	gp_put_str(&b, "usr", 3);
	gp_put_str(&b, "bin", 3);
	long n = gp_finish(&b);
	assert_true(n > 0);
	return (size_t)n;
}

static void test_round_trip(void **state)
{
	(void)state;
	size_t n = make_walk();
	assert_int_equal(n, sizeof(struct gp_hdr) + sizeof(struct gp_walk_req) +
				2 * (2 + 3));
	struct gp_buf d;
	struct gp_hdr h;
	gp_buf_view(&d, buf, n);
	assert_int_equal(gp_get_hdr(&d, &h), 0);
	assert_int_equal(h.len, n);
	assert_int_equal(h.op, GP_WALK);
	assert_int_equal(h.tag, 77);
	assert_int_equal(h.err, 0);
	struct gp_walk_req q;
	char a[GP_NAME_MAX + 1], b2[GP_NAME_MAX + 1];
	gp_get(&d, &q, sizeof(q));
	gp_get_str(&d, a, sizeof(a), GP_NAME_MAX);
	gp_get_str(&d, b2, sizeof(b2), GP_NAME_MAX);
	assert_int_equal(d.err, 0);
	assert_int_equal(d.off, d.len);
	assert_int_equal(q.node, 42);
	assert_int_equal(q.nnames, 2);
	assert_string_equal(a, "usr");
	assert_string_equal(b2, "bin");
}

static void test_error_response(void **state)
{
	(void)state;
	struct gp_buf b;
	gp_buf_init(&b, buf, sizeof(buf));
	gp_begin(&b, GP_STAT, 5, -ENOENT);
	long n = gp_finish(&b);
	assert_int_equal(n, sizeof(struct gp_hdr));
	struct gp_buf d;
	struct gp_hdr h;
	gp_buf_view(&d, buf, (size_t)n);
	assert_int_equal(gp_get_hdr(&d, &h), 0);
	assert_int_equal(h.err, -ENOENT);
}

/* Every prefix of a valid message fails the header's length check. */
static void test_truncated(void **state)
{
	(void)state;
	size_t n = make_walk();
	for (size_t l = 0; l < n; l++) {
		struct gp_buf d;
		struct gp_hdr h;
		gp_buf_view(&d, buf, l);
		assert_int_equal(gp_get_hdr(&d, &h), -EPROTO);
	}
	/* A header that claims the short length: the body runs out. */
	for (size_t l = sizeof(struct gp_hdr); l < n; l++) {
		uint8_t copy[256];
		memcpy(copy, buf, l);
		uint32_t len = (uint32_t)l;
		memcpy(copy, &len, sizeof(len));
		struct gp_buf d;
		struct gp_hdr h;
		gp_buf_view(&d, copy, l);
		assert_int_equal(gp_get_hdr(&d, &h), 0);
		struct gp_walk_req q;
		char a[GP_NAME_MAX + 1], b2[GP_NAME_MAX + 1];
		gp_get(&d, &q, sizeof(q));
		gp_get_str(&d, a, sizeof(a), GP_NAME_MAX);
		gp_get_str(&d, b2, sizeof(b2), GP_NAME_MAX);
		assert_int_equal(d.err, -EPROTO);
	}
}

static void test_short_get_zero_fills(void **state)
{
	(void)state;
	uint8_t in[4] = {1, 2, 3, 4};
	struct gp_buf d;
	gp_buf_view(&d, in, sizeof(in));
	uint64_t v = 0xdeadbeef;
	gp_get(&d, &v, sizeof(v));
	assert_int_equal(d.err, -EPROTO);
	assert_int_equal(v, 0);
	/* Sticky: later reads fail too even if they would fit. */
	uint8_t c = 9;
	gp_get(&d, &c, 1);
	assert_int_equal(c, 0);
}

static void test_bad_header(void **state)
{
	(void)state;
	struct gp_hdr h = {.len = sizeof(h), .op = 0, .tag = 1};
	struct gp_buf d;
	struct gp_hdr out;
	gp_buf_view(&d, &h, sizeof(h));
	assert_int_equal(gp_get_hdr(&d, &out), -EPROTO);
	h.op = GP_OP_MAX;
	gp_buf_view(&d, &h, sizeof(h));
	assert_int_equal(gp_get_hdr(&d, &out), -EPROTO);
	h.op = 0xffff;
	gp_buf_view(&d, &h, sizeof(h));
	assert_int_equal(gp_get_hdr(&d, &out), -EPROTO);
	h.op = GP_STAT;
	h.len = sizeof(h) + 1; /* claims more than was received */
	gp_buf_view(&d, &h, sizeof(h));
	assert_int_equal(gp_get_hdr(&d, &out), -EPROTO);
	h.len = sizeof(h) - 1;
	gp_buf_view(&d, &h, sizeof(h));
	assert_int_equal(gp_get_hdr(&d, &out), -EPROTO);
	h.len = sizeof(h);
	gp_buf_view(&d, &h, sizeof(h));
	assert_int_equal(gp_get_hdr(&d, &out), 0);
	assert_int_equal(out.op, GP_STAT);
}

static void test_oversized_strings(void **state)
{
	(void)state;
	static char big[GP_PATH_MAX + 2];
	memset(big, 'x', sizeof(big));
	struct gp_buf b;
	gp_buf_init(&b, buf, sizeof(buf));
	gp_begin(&b, GP_SYMLINK, 1, 0);
	gp_put_str(&b, big, GP_PATH_MAX + 1);
	assert_int_equal(gp_finish(&b), -EMSGSIZE);

	/* A 256-byte name decodes as a path but not as a name. */
	gp_begin(&b, GP_WALK, 1, 0);
	gp_put_str(&b, big, GP_NAME_MAX + 1);
	long n = gp_finish(&b);
	assert_true(n > 0);
	struct gp_buf d;
	struct gp_hdr h;
	char name[GP_NAME_MAX + 1], path[GP_PATH_MAX + 1];
	gp_buf_view(&d, buf, (size_t)n);
	assert_int_equal(gp_get_hdr(&d, &h), 0);
	gp_get_str(&d, name, sizeof(name), GP_NAME_MAX);
	assert_int_equal(d.err, -ENAMETOOLONG);
	assert_string_equal(name, "");
	gp_buf_view(&d, buf, (size_t)n);
	assert_int_equal(gp_get_hdr(&d, &h), 0);
	gp_get_str(&d, path, sizeof(path), GP_PATH_MAX);
	assert_int_equal(d.err, 0);
	assert_int_equal(strlen(path), GP_NAME_MAX + 1);
	/* Output buffer smaller than maxlen also refuses. */
	gp_buf_view(&d, buf, (size_t)n);
	assert_int_equal(gp_get_hdr(&d, &h), 0);
	gp_get_str(&d, name, 8, GP_PATH_MAX);
	assert_int_equal(d.err, -ENAMETOOLONG);

	/* A length field past the end of the message. */
	uint8_t raw[sizeof(struct gp_hdr) + 4];
	struct gp_hdr rh = {.len = sizeof(raw), .op = GP_WALK};
	memcpy(raw, &rh, sizeof(rh));
	uint16_t l = 500;
	memcpy(raw + sizeof(rh), &l, 2);
	raw[sizeof(rh) + 2] = 'a';
	raw[sizeof(rh) + 3] = 'b';
	gp_buf_view(&d, raw, sizeof(raw));
	assert_int_equal(gp_get_hdr(&d, &h), 0);
	gp_get_str(&d, name, sizeof(name), GP_NAME_MAX);
	assert_int_equal(d.err, -EPROTO);
}

static void test_embedded_nul(void **state)
{
	(void)state;
	struct gp_buf b;
	gp_buf_init(&b, buf, sizeof(buf));
	gp_begin(&b, GP_WALK, 1, 0);
	gp_put_str(&b, "a\0/..", 5);
	long n = gp_finish(&b);
	assert_true(n > 0);
	struct gp_buf d;
	struct gp_hdr h;
	char name[GP_NAME_MAX + 1];
	gp_buf_view(&d, buf, (size_t)n);
	assert_int_equal(gp_get_hdr(&d, &h), 0);
	gp_get_str(&d, name, sizeof(name), GP_NAME_MAX);
	assert_int_equal(d.err, -EPROTO);
}

static void test_encoder_overflow(void **state)
{
	(void)state;
	uint8_t small[sizeof(struct gp_hdr) + 4];
	struct gp_buf b;
	gp_buf_init(&b, small, sizeof(small));
	gp_begin(&b, GP_STAT, 1, 0);
	uint64_t v = 1;
	gp_put(&b, &v, sizeof(v));
	assert_int_equal(b.err, -EMSGSIZE);
	assert_int_equal(b.len, sizeof(struct gp_hdr));
	gp_put(&b, &v, 1); /* sticky even though 1 byte fits */
	assert_int_equal(b.len, sizeof(struct gp_hdr));
	assert_int_equal(gp_finish(&b), -EMSGSIZE);
	gp_buf_init(&b, small, 4);
	gp_begin(&b, GP_STAT, 1, 0);
	assert_int_equal(gp_finish(&b), -EMSGSIZE);
}

static void test_names(void **state)
{
	(void)state;
	char n255[GP_NAME_MAX + 1], n256[GP_NAME_MAX + 2];
	memset(n255, 'a', GP_NAME_MAX);
	n255[GP_NAME_MAX] = '\0';
	memset(n256, 'a', GP_NAME_MAX + 1);
	n256[GP_NAME_MAX + 1] = '\0';
	assert_true(gp_name_valid("a"));
	assert_true(gp_name_valid("..."));
	assert_true(gp_name_valid(".hidden"));
	assert_true(gp_name_valid("a..b"));
	assert_true(gp_name_valid(n255));
	assert_false(gp_name_valid(""));
	assert_false(gp_name_valid("."));
	assert_false(gp_name_valid(".."));
	assert_false(gp_name_valid("/"));
	assert_false(gp_name_valid("a/b"));
	assert_false(gp_name_valid("../etc"));
	assert_false(gp_name_valid("/etc"));
	assert_false(gp_name_valid(n256));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_error_response),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_short_get_zero_fills),
	    cmocka_unit_test(test_bad_header),
	    cmocka_unit_test(test_oversized_strings),
	    cmocka_unit_test(test_embedded_nul),
	    cmocka_unit_test(test_encoder_overflow),
	    cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
