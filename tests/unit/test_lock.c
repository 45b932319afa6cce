/* The lock-order checker (sentry/kernel/lock.c): locks taken in rank order
 * pass; out of order, twice, across a host round trip or while sleeping
 * they abort, naming the locks. Each violation runs in a forked child so
 * its abort can be observed. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sentry/kernel/lock.h"

static struct kmutex outer = KMUTEX_INITIALIZER("outer", LR_MM);
static struct kmutex inner = KMUTEX_INITIALIZER("inner", LR_TASKLIST);
static struct kmutex leaf = KMUTEX_INITIALIZER("leaf", LR_LEAF);
static struct kmutex wq1 = KMUTEX_INITIALIZER("waitq1", LR_WAITQ);
static struct kmutex wq2 = KMUTEX_INITIALIZER("waitq2", LR_WAITQ);
static struct kmutex ready = KMUTEX_INITIALIZER("ready", LR_EPOLL_READY);

/* Runs fn in a child with checking on and its report in a pipe; returns
 * the child's wait status and the report in buf. */
static int run_child(void (*fn)(void), char *buf, size_t cap)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		lock_check_enabled = true;
		lock_check_set_fd(p[1]);
		/* No core file for the expected aborts. */
		signal(SIGABRT, SIG_DFL);
		fn();
		_exit(0);
	}
	close(p[1]);
	size_t n = 0;
	ssize_t r;
	while (n + 1 < cap && (r = read(p[0], buf + n, cap - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
	close(p[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void in_order(void)
{
	kmutex_lock(&outer);
	kmutex_lock(&inner);
	kmutex_lock(&leaf);
	kmutex_unlock(&leaf);
	kmutex_unlock(&inner);
	kmutex_unlock(&outer);
	/* Nested queues at increasing depth, with the epoll ready lock
	 * between them, as an epoll wake-up takes them. */
	kmutex_lock_nested(&wq1, 0);
	kmutex_lock_nested(&ready, 0);
	kmutex_lock_nested(&wq2, 1);
	kmutex_unlock(&wq2);
	kmutex_unlock(&ready);
	kmutex_unlock(&wq1);
	/* A sleep lock may be held across a round trip. */
	kmutex_lock(&outer);
	lock_might_block("a stub command");
	kmutex_unlock(&outer);
	lock_assert_none("sleeping");
}

static void reversed(void)
{
	kmutex_lock(&inner);
	kmutex_lock(&outer);
}

static void twice(void)
{
	kmutex_lock(&leaf);
	kmutex_lock(&leaf);
}

static void same_depth(void)
{
	kmutex_lock_nested(&wq1, 0);
	kmutex_lock_nested(&wq2, 0);
}

static void spin_across_round_trip(void)
{
	kmutex_lock(&inner);
	lock_might_block("a gofer RPC");
}

static void sleep_with_lock(void)
{
	kmutex_lock(&outer);
	lock_assert_none("task_sleep");
}

static void unlock_not_held(void)
{
	kmutex_unlock(&leaf);
}

static void test_in_order_passes(void **state)
{
	(void)state;
	char buf[512];
	int st = run_child(in_order, buf, sizeof(buf));
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	assert_string_equal(buf, "");
}

static void expect_abort(void (*fn)(void), const char *a, const char *b)
{
	char buf[512];
	int st = run_child(fn, buf, sizeof(buf));
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
	assert_non_null(strstr(buf, "lock order"));
	assert_non_null(strstr(buf, a));
	if (b)
		assert_non_null(strstr(buf, b));
}

static void test_reversed_aborts(void **state)
{
	(void)state;
	expect_abort(reversed, "outer", "inner");
}

static void test_twice_aborts(void **state)
{
	(void)state;
	expect_abort(twice, "leaf", "twice");
}

static void test_same_depth_aborts(void **state)
{
	(void)state;
	expect_abort(same_depth, "waitq2", "waitq1");
}

static void test_round_trip_under_spin_aborts(void **state)
{
	(void)state;
	expect_abort(spin_across_round_trip, "gofer RPC", "inner");
}

static void test_sleep_with_lock_aborts(void **state)
{
	(void)state;
	expect_abort(sleep_with_lock, "task_sleep", "outer");
}

static void test_unlock_not_held_aborts(void **state)
{
	(void)state;
	expect_abort(unlock_not_held, "leaf", "not held");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_in_order_passes),
	    cmocka_unit_test(test_reversed_aborts),
	    cmocka_unit_test(test_twice_aborts),
	    cmocka_unit_test(test_same_depth_aborts),
	    cmocka_unit_test(test_round_trip_under_spin_aborts),
	    cmocka_unit_test(test_sleep_with_lock_aborts),
	    cmocka_unit_test(test_unlock_not_held_aborts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
