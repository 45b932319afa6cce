/* The syscall table: every row well formed, and its prefetch column (what
 * the systrap stub copies in at the trap) agreeing with the argument
 * shapes and reaching the stub's table exactly. */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sentry/platform/systrap/sysmsg.h"
#include "sentry/syscalls/syscalls.h"

static int setup(void **state)
{
	(void)state;
	syscall_init();
	return 0;
}

static void test_every_row(void **state)
{
	(void)state;
	int rows = 0, with_pf = 0;
	for (long nr = 0; nr < SYSCALL_MAX; nr++) {
		const struct syscall_def *d = syscall_lookup(nr);
		if (!d)
			continue;
		rows++;
		assert_int_equal(d->nr, nr);
		if (syscall_def_check(d) != 0)
			fail_msg("row %s (%ld) is malformed", d->name, nr);
		/* A string argument is always read whole by its handler:
		 * each row with one decides explicitly. */
		if (strchr(d->args, 's') && !d->prefetch)
			fail_msg("row %s has a string argument and no "
				 "prefetch column",
				 d->name);
		if (d->prefetch)
			with_pf++;
	}
	/* The table is the ~200 syscalls of the sentry, not a few. */
	assert_true(rows > 150);
	assert_true(with_pf > 30);
}

static void test_stub_table_matches(void **state)
{
	(void)state;
	uint8_t pf[SYSMSG_PF_NR];
	syscall_prefetch_table(pf, SYSMSG_PF_NR);
	for (long nr = 0; nr < SYSMSG_PF_NR; nr++) {
		const struct syscall_def *d = syscall_lookup(nr);
		char back[8] = {0};
		for (int k = 0; k < 2; k++) {
			uint8_t e = (uint8_t)(pf[nr] >> (4 * k)) & 0xf;
			if (!e)
				break;
			back[2 * k] = (char)('0' + (e & 7) - 1);
			back[2 * k + 1] = (e & 8) ? 'b' : 's';
		}
		const char *want = d && d->prefetch ? d->prefetch : "";
		if (strcmp(back, want) != 0)
			fail_msg(
			    "%s (%ld): stub table says \"%s\", column \"%s\"",
			    d ? d->name : "?", nr, back, want);
	}
	/* open's path and write's buffer, the two every program uses. */
	assert_string_equal(syscall_lookup(2)->prefetch, "0s");
	assert_string_equal(syscall_lookup(1)->prefetch, "1b");
}

static long dummy(struct task *t, const uint64_t a[6])
{
	(void)t, (void)a;
	return 0;
}

static void test_bad_rows_refused(void **state)
{
	(void)state;
	struct syscall_def d = {0, "x", dummy, "sbu", "0s1b"};
	assert_int_equal(syscall_def_check(&d), 0);
	const char *bad[] = {"0b",   /* shape is 's' */
			     "2s",   /* shape is 'u' */
			     "1b0s", /* not in order */
			     "7s",   /* no such argument */
			     "0",    /* half a pair */
			     "0s1b2s", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		d.prefetch = bad[i];
		if (syscall_def_check(&d) != -EINVAL)
			fail_msg("prefetch \"%s\" accepted", bad[i]);
	}
	struct syscall_def e = {0, "y", dummy, "uuuuub", "5b"};
	assert_int_equal(syscall_def_check(&e), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_row),
	    cmocka_unit_test(test_stub_table_matches),
	    cmocka_unit_test(test_bad_rows_refused),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
