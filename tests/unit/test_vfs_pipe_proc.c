/* Pipes (buffer logic, nonblocking, EPIPE/SIGPIPE, poll masks) and /proc
 * rendering, through the syscall handlers. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cmocka.h>

#include "sentry/fs/pipe/pipe.h"
#include "tests/unit/test_vfs_fixture.h"

#define T (&fx_task)

static int setup(void **state)
{
	(void)state;
	static bool booted;
	if (!booted)
		fx_boot();
	booted = true;
	return 0;
}

static void test_pipe_basic(void **state)
{
	(void)state;
	int p[2];
	char buf[64];
	assert_int_equal(SC2(T, "pipe2", p, O_CLOEXEC), 0);
	assert_int_equal(SC2(T, "fcntl", p[0], F_GETFD), FD_CLOEXEC);
	assert_int_equal(SC2(T, "fcntl", p[0], F_GETFL) & O_ACCMODE, O_RDONLY);
	assert_int_equal(SC2(T, "fcntl", p[1], F_GETFL) & O_ACCMODE, O_WRONLY);
	assert_int_equal(SC3(T, "write", p[1], "abc", 3), 3);
	int n = 0;
	assert_int_equal(SC3(T, "ioctl", p[0], FIONREAD, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(SC3(T, "read", p[0], buf, sizeof(buf)), 3);
	assert_int_equal(SC3(T, "write", p[0], "x", 1), -EBADF);
	assert_int_equal(SC3(T, "read", p[1], buf, 1), -EBADF);
	assert_int_equal(SC3(T, "lseek", p[0], 0, SEEK_SET), -ESPIPE);
	assert_int_equal(SC4(T, "pread64", p[0], buf, 1, 0), -ESPIPE);
	/* Empty, blocking, writer open: sleeps (the stub says a signal
	 * came): restart code. */
	stub_blocks = 0;
	assert_int_equal(SC3(T, "read", p[0], buf, 1), -ERESTARTSYS);
	assert_int_equal(stub_blocks, 1);
	assert_int_equal(SC1(T, "close", p[1]), 0);
	assert_int_equal(SC3(T, "read", p[0], buf, sizeof(buf)), 0);
	SC1(T, "close", p[0]);
	assert_int_equal(SC2(T, "pipe2", p, O_DIRECT << 4), -EINVAL);
	assert_int_equal(SC1(T, "pipe", 0), -EFAULT);
}

static void test_pipe_nonblock_capacity(void **state)
{
	(void)state;
	int p[2];
	static char buf[4096];
	assert_int_equal(SC2(T, "pipe2", p, O_NONBLOCK), 0);
	assert_int_equal(SC3(T, "read", p[0], buf, 1), -EAGAIN);
	long total = 0, r;
	memset(buf, 'z', sizeof(buf));
	while ((r = SC3(T, "write", p[1], buf, sizeof(buf))) > 0)
		total += r;
	assert_int_equal(r, -EAGAIN);
	assert_int_equal(total, SC2(T, "fcntl", p[1], F_GETPIPE_SZ));
	assert_int_equal(total, PIPE_DEF_SIZE);
	/* Ring wrap-around keeps byte order. */
	assert_int_equal(SC3(T, "read", p[0], buf, 100), 100);
	char pat[200];
	for (int i = 0; i < 200; i++)
		pat[i] = (char)i;
	assert_int_equal(SC3(T, "write", p[1], pat, 100), 100);
	long drained = 0;
	char last[100];
	while ((r = SC3(T, "read", p[0], buf, sizeof(buf))) > 0) {
		drained += r;
		if (r >= 100)
			memcpy(last, buf + r - 100, 100);
	}
	assert_int_equal(drained, total);
	assert_memory_equal(last, pat, 100);
	/* A big write with a small space left writes what fits. */
	assert_int_equal(SC3(T, "write", p[1], buf, 10), 10);
	assert_int_equal(SC3(T, "fcntl", p[0], F_SETFL, 0), 0);
	assert_int_equal(SC2(T, "fcntl", p[0], F_GETFL) & O_NONBLOCK, 0);
	assert_int_equal(SC3(T, "fcntl", p[1], F_SETPIPE_SZ, 5000), 8192);
	SC1(T, "close", p[0]);
	SC1(T, "close", p[1]);
}

static void test_pipe_epipe_poll(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(SC1(T, "pipe", p), 0);
	struct pollfd fds[2] = {{.fd = p[0], .events = POLLIN},
				{.fd = p[1], .events = POLLOUT}};
	assert_int_equal(SC3(T, "poll", fds, 2, 0), 1);
	assert_int_equal(fds[0].revents, 0);
	assert_int_equal(fds[1].revents, POLLOUT);
	assert_int_equal(SC3(T, "write", p[1], "x", 1), 1);
	assert_int_equal(SC3(T, "poll", fds, 1, 0), 1);
	assert_int_equal(fds[0].revents, POLLIN);
	/* A timeout with nothing ready returns 0. */
	char c;
	SC3(T, "read", p[0], &c, 1);
	assert_int_equal(SC3(T, "poll", fds, 1, 20), 0);
	/* select sees the same. */
	fd_set r, w;
	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_SET(p[0], &r);
	FD_SET(p[1], &w);
	struct timeval tv = {0, 0};
	assert_int_equal(SC5(T, "select", p[1] + 1, &r, &w, 0, &tv), 1);
	assert_false(FD_ISSET(p[0], &r));
	assert_true(FD_ISSET(p[1], &w));
	SC1(T, "close", p[1]);
	assert_int_equal(SC3(T, "poll", fds, 1, 1000), 1);
	assert_true(fds[0].revents & POLLHUP);
	SC1(T, "close", p[0]);
	assert_int_equal(SC1(T, "pipe", p), 0);
	SC1(T, "close", p[0]);
	struct pollfd wp = {.fd = p[1], .events = POLLOUT};
	assert_int_equal(SC3(T, "poll", &wp, 1, 0), 1);
	assert_true(wp.revents & POLLERR);
	stub_last_signal = 0;
	assert_int_equal(SC3(T, "write", p[1], "x", 1), -EPIPE);
	assert_int_equal(stub_last_signal, SIGPIPE);
	SC1(T, "close", p[1]);
	struct pollfd bad = {.fd = p[1], .events = POLLIN};
	assert_int_equal(SC3(T, "poll", &bad, 1, 0), 1);
	assert_int_equal(bad.revents, POLLNVAL);
	struct pollfd neg = {.fd = -1, .events = POLLIN};
	assert_int_equal(SC3(T, "poll", &neg, 1, 0), 0);
	FD_ZERO(&r);
	FD_SET(p[1], &r);
	assert_int_equal(SC5(T, "select", p[1] + 1, &r, 0, 0, &tv), -EBADF);
}

static long slurp(const char *path, char *buf, size_t cap)
{
	long fd = SC3(T, "open", path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	long n = SC3(T, "read", fd, buf, cap - 1);
	SC1(T, "close", fd);
	if (n >= 0)
		buf[n] = 0;
	return n;
}

static void test_proc(void **state)
{
	(void)state;
	char buf[4096];
	assert_true(slurp("/proc/self/status", buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "Name:\tinit\n"));
	assert_non_null(strstr(buf, "Pid:\t1\n"));
	assert_non_null(strstr(buf, "PPid:\t0\n"));
	assert_non_null(strstr(buf, "Uid:\t0\t0\t0\t0\n"));
	assert_non_null(strstr(buf, "SigBlk:\t0000000000000000\n"));
	assert_non_null(strstr(buf, "Threads:\t1\n"));
	assert_true(slurp("/proc/1/stat", buf, sizeof(buf)) > 0);
	assert_memory_equal(buf, "1 (init) R 0 1 1 ", 17);
	assert_true(slurp("/proc/self/comm", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "init\n");
	assert_true(slurp("/proc/mounts", buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, " /proc proc rw"));
	assert_non_null(strstr(buf, " /ro tmpfs ro"));
	assert_true(slurp("/proc/sys/kernel/ostype", buf, sizeof(buf)) > 0);
	assert_string_equal(buf, "Linux\n");
	assert_true(slurp("/proc/self/maps", buf, sizeof(buf)) > 0);
	assert_int_equal(slurp("/proc/2/status", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(SC3(T, "open", "/proc/self/status", O_WRONLY, 0),
			 -EACCES);
	char link[64] = {0};
	assert_int_equal(SC3(T, "readlink", "/proc/self", link, sizeof(link)),
			 1);
	assert_string_equal(link, "1");
	/* fd/ lists open fds; the links name the files. */
	long fd = SC3(T, "open", "/dev/null", O_RDONLY, 0);
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%ld", fd);
	memset(link, 0, sizeof(link));
	assert_int_equal(SC3(T, "readlink", p, link, sizeof(link)), 9);
	assert_string_equal(link, "/dev/null");
	int pp[2];
	SC1(T, "pipe", pp);
	snprintf(p, sizeof(p), "/proc/self/fd/%d", pp[0]);
	memset(link, 0, sizeof(link));
	assert_true(SC3(T, "readlink", p, link, sizeof(link)) > 0);
	assert_memory_equal(link, "pipe:[", 6);
	/* Reopening a pipe through /proc works (another writer). */
	snprintf(p, sizeof(p), "/proc/self/fd/%d", pp[1]);
	long w2 = SC3(T, "open", p, O_WRONLY, 0);
	assert_true(w2 >= 0);
	assert_int_equal(SC3(T, "write", w2, "q", 1), 1);
	SC1(T, "close", w2);
	SC1(T, "close", pp[0]);
	SC1(T, "close", pp[1]);
	long dfd = SC3(T, "open", "/proc/self/fd", O_RDONLY | O_DIRECTORY, 0);
	assert_true(dfd >= 0);
	assert_true(SC3(T, "getdents64", dfd, buf, sizeof(buf)) > 0);
	SC1(T, "close", dfd);
	SC1(T, "close", fd);
	/* A stale fd link is revalidated away. */
	snprintf(p, sizeof(p), "/proc/self/fd/%ld", fd);
	struct stat st;
	assert_int_equal(SC2(T, "lstat", p, &st), -ENOENT);
	/* cwd magic link. */
	SC1(T, "chdir", "/mnt");
	memset(link, 0, sizeof(link));
	assert_int_equal(SC3(T, "readlink", "/proc/self/cwd", link, 64), 4);
	assert_string_equal(link, "/mnt");
	SC1(T, "chdir", "/");
	assert_int_equal(SC2(T, "mkdir", "/proc/x", 0755), -EPERM);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_pipe_basic, setup),
	    cmocka_unit_test_setup(test_pipe_nonblock_capacity, setup),
	    cmocka_unit_test_setup(test_pipe_epipe_poll, setup),
	    cmocka_unit_test_setup(test_proc, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
