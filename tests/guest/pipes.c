/* Pipes between processes: data, EOF, EPIPE/SIGPIPE, nonblocking, large
 * transfers and a three-process pipeline. */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include "check.h"

static void wait_ok(pid_t pid)
{
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
}

static void basic(void)
{
	int p[2];
	char buf[64];
	SYS(pipe2(p, O_CLOEXEC));
	CHECK_EQ(fcntl(p[0], F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(p[0], F_GETFL) & O_ACCMODE, O_RDONLY);
	CHECK_EQ(fcntl(p[1], F_GETFL) & O_ACCMODE, O_WRONLY);
	CHECK_EQ(write(p[1], "abc", 3), 3);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 3);
	CHECK(memcmp(buf, "abc", 3) == 0);
	CHECK_ERR(write(p[0], "x", 1), EBADF);
	CHECK_ERR(read(p[1], buf, 1), EBADF);
	CHECK_ERR(lseek(p[0], 0, SEEK_SET), ESPIPE);
	SYS(close(p[1]));
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 0);
	SYS(close(p[0]));
}

/* Child writes, parent reads until EOF: EOF only comes once every write end
 * (including the parent's own copy) is closed. */
static void child_writer(void)
{
	int p[2];
	char buf[64];
	SYS(pipe(p));
	pid_t pid = SYS(fork());
	if (pid == 0) {
		close(p[0]);
		for (int i = 0; i < 10; i++)
			if (write(p[1], "0123456789", 10) != 10)
				_exit(2);
		_exit(0);
	}
	SYS(close(p[1]));
	size_t total = 0;
	ssize_t r;
	while ((r = read(p[0], buf, sizeof(buf))) > 0)
		total += r;
	CHECK_EQ(r, 0);
	CHECK_EQ(total, 100);
	wait_ok(pid);
	SYS(close(p[0]));

	/* Parent writes, child reads and reports via exit status. */
	SYS(pipe(p));
	pid = SYS(fork());
	if (pid == 0) {
		close(p[1]);
		size_t n = read_full(p[0], buf, sizeof(buf));
		_exit(n == 5 && memcmp(buf, "hello", 5) == 0 ? 0 : 3);
	}
	SYS(close(p[0]));
	CHECK_EQ(write(p[1], "hello", 5), 5);
	SYS(close(p[1]));
	wait_ok(pid);
}

static void epipe(void)
{
	int p[2];
	SYS(pipe(p));
	SYS(close(p[0]));
	struct sigaction sa = {.sa_handler = SIG_IGN}, old;
	SYS(sigaction(SIGPIPE, &sa, &old));
	CHECK_ERR(write(p[1], "x", 1), EPIPE);
	SYS(sigaction(SIGPIPE, &old, NULL));

	/* With the default action, the writer dies of SIGPIPE. */
	pid_t pid = SYS(fork());
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		(void)!write(p[1], "x", 1);
		_exit(0);
	}
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WTERMSIG(st), SIGPIPE);
	SYS(close(p[1]));
}

static void nonblock(void)
{
	int p[2];
	char buf[4096];
	SYS(pipe2(p, O_NONBLOCK));
	CHECK(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	CHECK_ERR(read(p[0], buf, 1), EAGAIN);
	/* Fill the pipe: writes stop with EAGAIN at its capacity. */
	size_t total = 0;
	memset(buf, 'z', sizeof(buf));
	for (;;) {
		ssize_t r = write(p[1], buf, sizeof(buf));
		if (r < 0) {
			CHECK_EQ(errno, EAGAIN);
			break;
		}
		total += r;
		CHECK(total <= 16 << 20);
	}
	int cap = SYS(fcntl(p[1], F_GETPIPE_SZ));
	CHECK_EQ(total, cap);
	CHECK(total >= 4096);
	size_t drained = 0;
	ssize_t r;
	while ((r = read(p[0], buf, sizeof(buf))) > 0)
		drained += r;
	CHECK_EQ(drained, total);
	CHECK_ERR(read(p[0], buf, 1), EAGAIN);
	/* Clearing O_NONBLOCK with F_SETFL takes effect. */
	SYS(fcntl(p[0], F_SETFL, 0));
	CHECK_EQ(fcntl(p[0], F_GETFL) & O_NONBLOCK, 0);
	SYS(close(p[0]));
	SYS(close(p[1]));
}

/* 1 MiB with a position-dependent pattern, so a lost or reordered chunk
 * shows up. */
static void large(void)
{
	enum { SIZE = 1 << 20 };
	int p[2];
	SYS(pipe(p));
	pid_t pid = SYS(fork());
	if (pid == 0) {
		close(p[0]);
		static unsigned char out[SIZE];
		for (int i = 0; i < SIZE; i++)
			out[i] = (unsigned char)(i * 7 + (i >> 12));
		_exit(write_full(p[1], out, SIZE) == SIZE ? 0 : 2);
	}
	SYS(close(p[1]));
	static unsigned char in[SIZE + 1];
	CHECK_EQ(read_full(p[0], in, SIZE + 1), SIZE);
	int bad = -1;
	for (int i = 0; i < SIZE && bad < 0; i++)
		if (in[i] != (unsigned char)(i * 7 + (i >> 12)))
			bad = i;
	CHECK_EQ(bad, -1);
	SYS(close(p[0]));
	wait_ok(pid);
}

/* gen | upcase | count, with each stage a separate process wired by dup2,
 * the way a shell builds a pipeline. */
static void pipeline(void)
{
	int a[2], b[2], c[2];
	SYS(pipe(a));
	SYS(pipe(b));
	SYS(pipe(c));
	pid_t p1 = SYS(fork());
	if (p1 == 0) {
		dup2(a[1], 1);
		close(a[0]), close(a[1]), close(b[0]), close(b[1]);
		close(c[0]), close(c[1]);
		for (int i = 0; i < 1000; i++)
			if (write(1, "abcdefghij", 10) != 10)
				_exit(2);
		_exit(0);
	}
	pid_t p2 = SYS(fork());
	if (p2 == 0) {
		dup2(a[0], 0);
		dup2(b[1], 1);
		close(a[0]), close(a[1]), close(b[0]), close(b[1]);
		close(c[0]), close(c[1]);
		char buf[333];
		ssize_t r;
		while ((r = read(0, buf, sizeof(buf))) > 0) {
			for (ssize_t i = 0; i < r; i++)
				buf[i] -= 'a' - 'A';
			if (write_full(1, buf, r) != r)
				_exit(2);
		}
		_exit(r == 0 ? 0 : 3);
	}
	pid_t p3 = SYS(fork());
	if (p3 == 0) {
		dup2(b[0], 0);
		dup2(c[1], 1);
		close(a[0]), close(a[1]), close(b[0]), close(b[1]);
		close(c[0]), close(c[1]);
		char buf[1000];
		ssize_t r;
		long n = 0, upper = 0;
		while ((r = read(0, buf, sizeof(buf))) > 0) {
			n += r;
			for (ssize_t i = 0; i < r; i++)
				upper += buf[i] >= 'A' && buf[i] <= 'J';
		}
		char out[64];
		int len = snprintf(out, sizeof(out), "%ld %ld", n, upper);
		_exit(write(1, out, len) == len ? 0 : 2);
	}
	close(a[0]), close(a[1]), close(b[0]), close(b[1]);
	SYS(close(c[1]));
	char res[64] = {0};
	CHECK(read_full(c[0], res, sizeof(res) - 1) > 0);
	CHECK_STR(res, "10000 10000");
	SYS(close(c[0]));
	wait_ok(p1);
	wait_ok(p2);
	wait_ok(p3);
}

int main(void)
{
	basic();
	child_writer();
	epipe();
	nonblock();
	large();
	pipeline();
	pass("pipes");
	return 0;
}
