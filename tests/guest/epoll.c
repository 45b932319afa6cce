/* epoll: creation flags, epoll_ctl's errors (EEXIST, ENOENT, EBADF, EPERM,
 * EINVAL, ELOOP), level- and edge-triggered readiness, EPOLLONESHOT, hangup
 * and error on pipes, epoll_data round trips, timeouts, wakeups from another
 * thread, signal masks of epoll_pwait and epoll_pwait2, registrations that
 * die with the last reference to their file, round-robin fairness over 1000
 * ready fds, nested epoll instances, EPOLLEXCLUSIVE, poll() on an epoll fd
 * and an instance shared with a forked child. Every blocking wait is bounded,
 * so a lost wakeup fails a check instead of hanging the run. */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include "check.h"

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

static void step(const char *what)
{
	printf("-- %s\n", what);
	fflush(stdout);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void *join_within(pthread_t t, long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	void *ret;
	int r = pthread_timedjoin_np(t, &ret, &ts);
	if (r)
		FAIL_AT("pthread_timedjoin_np: %s", strerror(r));
	return ret;
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = {.events = events, .data.u64 = data};
	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void drain(int fd)
{
	char buf[256];
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	fcntl(fd, F_SETFL, fl);
}

/* --- creation ------------------------------------------------------------ */
static void create(void)
{
	CHECK_ERR(epoll_create(0), EINVAL);
	CHECK_ERR(epoll_create(-1), EINVAL);
	int e = SYS(epoll_create(1));
	CHECK_EQ(fcntl(e, F_GETFD), 0);
	SYS(close(e));
	e = SYS(epoll_create(100000));
	SYS(close(e));

	e = SYS(epoll_create1(0));
	CHECK_EQ(fcntl(e, F_GETFD), 0);
	SYS(close(e));
	e = SYS(epoll_create1(EPOLL_CLOEXEC));
	CHECK_EQ(fcntl(e, F_GETFD), FD_CLOEXEC);
	SYS(close(e));
	CHECK_ERR(epoll_create1(1), EINVAL);
	CHECK_ERR(epoll_create1(O_NONBLOCK), EINVAL);
	CHECK_ERR(epoll_create1(EPOLL_CLOEXEC | 1), EINVAL);

	/* An epoll fd is not readable or writable; lseek is a no-op that
	 * succeeds (noop_llseek) and reports offset 0. */
	e = SYS(epoll_create1(0));
	char c;
	CHECK_EQ(lseek(e, 0, SEEK_SET), 0);
	CHECK_EQ(lseek(e, 100, SEEK_SET), 0);
	char path[64], link[64] = {0};
	snprintf(path, sizeof(path), "/proc/self/fd/%d", e);
	CHECK(readlink(path, link, sizeof(link) - 1) > 0);
	CHECK_STR(link, "anon_inode:[eventpoll]");
	CHECK_ERR(read(e, &c, 1), EINVAL);
	CHECK_ERR(write(e, "x", 1), EINVAL);
	SYS(close(e));
}

/* --- epoll_ctl errors ---------------------------------------------------- */
static void ctl_errors(void)
{
	int e = SYS(epoll_create1(0));
	int p[2];
	SYS(pipe(p));
	struct epoll_event ev = {.events = EPOLLIN};

	SYS(add(e, p[0], EPOLLIN, 1));
	CHECK_ERR(add(e, p[0], EPOLLIN, 1), EEXIST);
	CHECK_ERR(mod(e, p[1], EPOLLOUT, 2), ENOENT);
	CHECK_ERR(epoll_ctl(e, EPOLL_CTL_DEL, p[1], NULL), ENOENT);
	SYS(mod(e, p[0], EPOLLIN | EPOLLOUT, 3));
	SYS(epoll_ctl(e, EPOLL_CTL_DEL, p[0], NULL));
	CHECK_ERR(epoll_ctl(e, EPOLL_CTL_DEL, p[0], NULL), ENOENT);
	CHECK_ERR(mod(e, p[0], EPOLLIN, 1), ENOENT);
	/* DEL ignores its event argument, even a NULL one (since 2.6.9). */
	SYS(add(e, p[0], EPOLLIN, 1));
	SYS(epoll_ctl(e, EPOLL_CTL_DEL, p[0], &ev));

	/* Bad descriptors, either one. */
	CHECK_ERR(add(e, 999, EPOLLIN, 0), EBADF);
	CHECK_ERR(add(e, -1, EPOLLIN, 0), EBADF);
	CHECK_ERR(add(999, p[0], EPOLLIN, 0), EBADF);
	CHECK_ERR(add(-1, p[0], EPOLLIN, 0), EBADF);

	/* Not an epoll fd, the epoll fd itself, an unknown op. */
	CHECK_ERR(add(p[1], p[0], EPOLLIN, 0), EINVAL);
	CHECK_ERR(add(e, e, EPOLLIN, 0), EINVAL);
	CHECK_ERR(epoll_ctl(e, 42, p[0], &ev), EINVAL);
	CHECK_ERR(epoll_ctl(e, 0, p[0], &ev), EINVAL);

	/* ADD and MOD read the event; a bad pointer is EFAULT. */
	CHECK_ERR(epoll_ctl(e, EPOLL_CTL_ADD, p[0], NULL), EFAULT);
	CHECK_ERR(epoll_ctl(e, EPOLL_CTL_ADD, p[0], (void *)-4096L), EFAULT);

	/* A regular file (and a directory) does not support poll: EPERM. */
	mkdir("/tmp", 01777);
	char path[64];
	snprintf(path, sizeof(path), "/tmp/epoll-reg-%d", getpid());
	int f = SYS(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	SYS(unlink(path));
	CHECK_ERR(add(e, f, EPOLLIN, 0), EPERM);
	SYS(close(f));
	int d = SYS(open("/", O_RDONLY | O_DIRECTORY));
	CHECK_ERR(add(e, d, EPOLLIN, 0), EPERM);
	SYS(close(d));
	/* So does a plain /proc file. */
	int pf = open("/proc/self/status", O_RDONLY);
	if (pf >= 0) {
		CHECK_ERR(add(e, pf, EPOLLIN, 0), EPERM);
		SYS(close(pf));
	}
	/* poll() on the same kinds of file is always ready instead. */
	f = SYS(open("/", O_RDONLY | O_DIRECTORY));
	struct pollfd pfd = {.fd = f, .events = POLLIN | POLLOUT};
	CHECK_EQ(poll(&pfd, 1, 0), 1);
	CHECK_EQ(pfd.revents, POLLIN | POLLOUT);
	SYS(close(f));

	/* The epoll fd with nothing registered: nothing ready. */
	struct epoll_event out[4];
	CHECK_EQ(epoll_wait(e, out, 4, 0), 0);
	/* maxevents must be positive and the buffer writable. */
	CHECK_ERR(epoll_wait(e, out, 0, 0), EINVAL);
	/* (Through a volatile, so the compiler does not object.) */
	volatile int neg = -1, huge = INT_MAX;
	CHECK_ERR(epoll_wait(e, out, neg, 0), EINVAL);
	CHECK_ERR(epoll_wait(e, out, huge, 0), EINVAL);
	CHECK_ERR(epoll_wait(e, (void *)-4096L, 1, 0), EFAULT);
	/* epoll_wait on something that is not an epoll fd. */
	CHECK_ERR(epoll_wait(p[0], out, 4, 0), EINVAL);
	CHECK_ERR(epoll_wait(999, out, 4, 0), EBADF);

	SYS(close(p[0]));
	SYS(close(p[1]));
	SYS(close(e));
}

/* --- cycles and nesting depth -------------------------------------------- */
static void loops(void)
{
	int a = SYS(epoll_create1(0));
	int b = SYS(epoll_create1(0));
	SYS(add(b, a, EPOLLIN, 0));
	CHECK_ERR(add(a, b, EPOLLIN, 0), ELOOP);
	/* A longer cycle through a third instance. */
	int c = SYS(epoll_create1(0));
	SYS(add(c, b, EPOLLIN, 0));
	CHECK_ERR(add(a, c, EPOLLIN, 0), ELOOP);
	SYS(close(a));
	SYS(close(b));
	SYS(close(c));

	/* A chain e[0] <- e[1] <- ... where e[i+1] watches e[i]. Linux allows
	 * EPOLL_MAX_NESTS (4) levels of epoll watching epoll: e[4] may watch
	 * e[3], but the link that would make e[5] watch e[4] is refused with
	 * ELOOP (ep_loop_check), whether added at the top or the bottom. */
	int e[7];
	for (int i = 0; i < 7; i++)
		e[i] = SYS(epoll_create1(0));
	for (int i = 0; i < 4; i++)
		SYS(add(e[i + 1], e[i], EPOLLIN, i));
	CHECK_ERR(add(e[5], e[4], EPOLLIN, 4), ELOOP);
	/* Adding below the bottom of a full chain is refused too. */
	int p[2];
	SYS(pipe(p));
	SYS(add(e[0], p[0], EPOLLIN, 0));
	CHECK_ERR(add(e[0], e[6], EPOLLIN, 0), ELOOP);
	/* Readiness still propagates through the four levels that exist. */
	CHECK_EQ(write(p[1], "x", 1), 1);
	struct epoll_event out;
	CHECK_EQ(epoll_wait(e[4], &out, 1, 1000), 1);
	CHECK_EQ(out.events, EPOLLIN);
	CHECK_EQ(out.data.u64, 3);
	for (int i = 0; i < 7; i++)
		SYS(close(e[i]));
	SYS(close(p[0]));
	SYS(close(p[1]));
}

/* --- level and edge triggering ------------------------------------------- */
static void triggering(void)
{
	int e = SYS(epoll_create1(0));
	int p[2];
	struct epoll_event out[4];
	SYS(pipe(p));

	/* Level-triggered: reported for as long as data is there. */
	SYS(add(e, p[0], EPOLLIN, 7));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 0);
	CHECK_EQ(write(p[1], "ab", 2), 2);
	for (int i = 0; i < 3; i++) {
		CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
		CHECK_EQ(out[0].events, EPOLLIN);
		CHECK_EQ(out[0].data.u64, 7);
	}
	drain(p[0]);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 0);

	/* Edge-triggered: one report per arrival of new data, even though
	 * the first byte is still unread. */
	SYS(mod(e, p[0], EPOLLIN | EPOLLET, 8));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 0);
	CHECK_EQ(write(p[1], "a", 1), 1);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].events, EPOLLIN);
	CHECK_EQ(out[0].data.u64, 8);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 0);
	CHECK_EQ(epoll_wait(e, out, 4, 20), 0);
	CHECK_EQ(write(p[1], "b", 1), 1);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].data.u64, 8);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 0);
	/* Reading some of the data is not an edge. */
	char c;
	CHECK_EQ(read(p[0], &c, 1), 1);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 0);
	/* MOD re-evaluates readiness: the remaining byte is reported again. */
	SYS(mod(e, p[0], EPOLLIN | EPOLLET, 9));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].data.u64, 9);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 0);
	drain(p[0]);

	/* Edge-triggered write end: writable once, not again until a read
	 * frees space. */
	SYS(add(e, p[1], EPOLLOUT | EPOLLET, 10));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].events, EPOLLOUT);
	CHECK_EQ(out[0].data.u64, 10);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 0);
	SYS(epoll_ctl(e, EPOLL_CTL_DEL, p[1], NULL));

	/* Oneshot: one report, then disabled until MOD re-arms it. The
	 * registration stays (ADD is EEXIST, DEL works). */
	SYS(mod(e, p[0], EPOLLIN | EPOLLONESHOT, 11));
	CHECK_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].events, EPOLLIN);
	CHECK_EQ(out[0].data.u64, 11);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 0);
	CHECK_EQ(write(p[1], "y", 1), 1);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 0);
	CHECK_ERR(add(e, p[0], EPOLLIN, 0), EEXIST);
	SYS(mod(e, p[0], EPOLLIN | EPOLLONESHOT, 12));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].data.u64, 12);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 0);
	SYS(epoll_ctl(e, EPOLL_CTL_DEL, p[0], NULL));
	drain(p[0]);

	/* Events asked for are the only ones reported: a read end that is
	 * registered only for EPOLLOUT never shows EPOLLIN. */
	SYS(add(e, p[0], EPOLLOUT, 13));
	CHECK_EQ(write(p[1], "z", 1), 1);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 0);
	/* An empty mask registers the fd with nothing wanted. */
	SYS(mod(e, p[0], 0, 14));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 0);
	SYS(mod(e, p[0], EPOLLIN, 15));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].data.u64, 15);

	SYS(close(p[0]));
	SYS(close(p[1]));
	SYS(close(e));
}

/* --- hangup and error ---------------------------------------------------- */
static void hangup(void)
{
	int e = SYS(epoll_create1(0));
	int p[2];
	struct epoll_event out[4];
	SYS(pipe(p));

	/* Writer closed: EPOLLHUP on the read end, always reported even if
	 * not asked for. A pipe never reports EPOLLRDHUP (that is for
	 * sockets), even when asked for it. */
	SYS(add(e, p[0], EPOLLIN | EPOLLRDHUP, 1));
	CHECK_EQ(write(p[1], "x", 1), 1);
	SYS(close(p[1]));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].events, EPOLLIN | EPOLLHUP);
	char c;
	CHECK_EQ(read(p[0], &c, 1), 1);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].events, EPOLLHUP);
	SYS(mod(e, p[0], 0, 2));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].events, EPOLLHUP);
	CHECK_EQ(out[0].data.u64, 2);
	SYS(close(p[0]));

	/* Reader closed: EPOLLERR on the write end, with EPOLLOUT when asked
	 * for; EPOLLERR is reported even with an empty mask. */
	SYS(pipe(p));
	SYS(add(e, p[1], EPOLLOUT, 3));
	SYS(close(p[0]));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].events, EPOLLOUT | EPOLLERR);
	SYS(mod(e, p[1], 0, 4));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].events, EPOLLERR);
	CHECK_EQ(out[0].data.u64, 4);
	SYS(close(p[1]));

	/* A blocked wait is woken by the hangup. */
	SYS(pipe(p));
	SYS(add(e, p[0], EPOLLIN, 5));
	pid_t pid = SYS(fork());
	if (pid == 0) {
		usleep(30000);
		_exit(0);
	}
	SYS(close(p[1]));
	/* The child holds the other copy of the write end until it exits. */
	int n = epoll_wait(e, out, 4, 5000);
	CHECK_EQ(n, 1);
	CHECK_EQ(out[0].events, EPOLLHUP);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	SYS(close(p[0]));
	SYS(close(e));
}

/* --- epoll_data ---------------------------------------------------------- */
static void data(void)
{
	int e = SYS(epoll_create1(0));
	int p[2], q[2];
	struct epoll_event out[4];
	SYS(pipe(p));
	SYS(pipe(q));
	const uint64_t a = 0xdeadbeefcafebabeULL, b = 0xffffffffffffffffULL;
	SYS(add(e, p[1], EPOLLOUT, a));
	SYS(add(e, q[1], EPOLLOUT, b));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 2);
	int sa = 0, sb = 0;
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(out[i].events, EPOLLOUT);
		sa += out[i].data.u64 == a;
		sb += out[i].data.u64 == b;
	}
	CHECK_EQ(sa, 1);
	CHECK_EQ(sb, 1);
	/* The pointer member reads back the same bits. */
	static int marker;
	struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = &marker};
	SYS(epoll_ctl(e, EPOLL_CTL_MOD, p[1], &ev));
	SYS(epoll_ctl(e, EPOLL_CTL_DEL, q[1], NULL));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK(out[0].data.ptr == &marker);
	/* maxevents 1 of 2 ready: only one entry is written. */
	SYS(add(e, q[1], EPOLLOUT, b));
	memset(out, 0x5a, sizeof(out));
	CHECK_EQ(epoll_wait(e, out, 1, 0), 1);
	CHECK_EQ(out[1].events, 0x5a5a5a5a);
	SYS(close(p[0]));
	SYS(close(p[1]));
	SYS(close(q[0]));
	SYS(close(q[1]));
	SYS(close(e));
}

/* --- timeouts and wakeups ------------------------------------------------ */
static int wake_fd;

static void *late_writer(void *arg)
{
	(void)arg;
	usleep(50000);
	return (void *)(long)write(wake_fd, "w", 1);
}

static void timeouts(void)
{
	int e = SYS(epoll_create1(0));
	int p[2];
	struct epoll_event out[4];
	SYS(pipe(p));
	SYS(add(e, p[0], EPOLLIN, 1));

	long t0 = now_ms();
	CHECK_EQ(epoll_wait(e, out, 4, 0), 0);
	CHECK(now_ms() - t0 < 1000);

	t0 = now_ms();
	CHECK_EQ(epoll_wait(e, out, 4, 50), 0);
	long dt = now_ms() - t0;
	CHECK(dt >= 49);
	CHECK(dt < 5000);

	/* A thread's write wakes a wait that is already blocked. */
	wake_fd = p[1];
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, late_writer, NULL), 0);
	t0 = now_ms();
	CHECK_EQ(epoll_wait(e, out, 4, 10000), 1);
	CHECK(now_ms() - t0 < 9000);
	CHECK_EQ(out[0].events, EPOLLIN);
	CHECK_EQ(out[0].data.u64, 1);
	CHECK(join_within(t, 5000) == (void *)1L);
	drain(p[0]);

	/* The same with an infinite timeout (-1, or any negative value). */
	CHECK_EQ(pthread_create(&t, NULL, late_writer, NULL), 0);
	CHECK_EQ(epoll_wait(e, out, 4, -1), 1);
	CHECK(join_within(t, 5000) == (void *)1L);
	drain(p[0]);
	CHECK_EQ(pthread_create(&t, NULL, late_writer, NULL), 0);
	CHECK_EQ(epoll_wait(e, out, 4, -7), 1);
	CHECK(join_within(t, 5000) == (void *)1L);
	drain(p[0]);

	/* epoll_pwait2: a timespec timeout; NULL waits forever; a bad
	 * timespec is EINVAL. */
	struct timespec ts = {0, 50 * 1000000L};
	errno = 0;
	long r = syscall(SYS_epoll_pwait2, e, out, 4, &ts, NULL, 8);
	/* Only an old host kernel may lack it; the sandbox must have it. */
	if (r < 0 && errno == ENOSYS && getenv("BH_EXPECT_PID1"))
		FAIL_AT("epoll_pwait2 is ENOSYS in the sandbox");
	if (r < 0 && errno == ENOSYS) {
		printf("note: epoll_pwait2 is ENOSYS here, not checked\n");
	} else {
		CHECK_EQ(r, 0);
		t0 = now_ms();
		CHECK_EQ(syscall(SYS_epoll_pwait2, e, out, 4, &ts, NULL, 8), 0);
		dt = now_ms() - t0;
		CHECK(dt >= 49);
		CHECK(dt < 5000);
		struct timespec zero = {0, 0};
		t0 = now_ms();
		CHECK_EQ(syscall(SYS_epoll_pwait2, e, out, 4, &zero, NULL, 8),
			 0);
		CHECK(now_ms() - t0 < 1000);
		struct timespec bad = {0, 1000000000L};
		CHECK_ERR(syscall(SYS_epoll_pwait2, e, out, 4, &bad, NULL, 8),
			  EINVAL);
		bad = (struct timespec){-1, 0};
		CHECK_ERR(syscall(SYS_epoll_pwait2, e, out, 4, &bad, NULL, 8),
			  EINVAL);
		bad = (struct timespec){0, -1};
		CHECK_ERR(syscall(SYS_epoll_pwait2, e, out, 4, &bad, NULL, 8),
			  EINVAL);
		CHECK_ERR(syscall(SYS_epoll_pwait2, e, out, 0, &zero, NULL, 8),
			  EINVAL);
		CHECK_ERR(syscall(SYS_epoll_pwait2, e, out, 4, (void *)-4096L,
				  NULL, 8),
			  EFAULT);
		CHECK_EQ(pthread_create(&t, NULL, late_writer, NULL), 0);
		CHECK_EQ(syscall(SYS_epoll_pwait2, e, out, 4, NULL, NULL, 8),
			 1);
		CHECK_EQ(out[0].data.u64, 1);
		CHECK(join_within(t, 5000) == (void *)1L);
		drain(p[0]);
	}
	SYS(close(p[0]));
	SYS(close(p[1]));
	SYS(close(e));
}

/* --- signals ------------------------------------------------------------- */
static volatile sig_atomic_t usr1_hits, usr2_hits;
static void on_usr1(int s)
{
	(void)s;
	usr1_hits++;
}
static void on_usr2(int s)
{
	(void)s;
	usr2_hits++;
}

static atomic_int waiting_done;
static pid_t main_tid;

/* Sends SIGUSR1 to the main thread every 20 ms until it is told to stop, so
 * at least one lands while the main thread is blocked in epoll_wait. */
static void *pester(void *arg)
{
	(void)arg;
	while (!atomic_load(&waiting_done)) {
		syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
		usleep(20000);
	}
	return NULL;
}

static void signals(void)
{
	int e = SYS(epoll_create1(0));
	int p[2];
	struct epoll_event out[4];
	SYS(pipe(p));
	SYS(add(e, p[0], EPOLLIN, 1));

	struct sigaction sa = {.sa_handler = on_usr1}, old1, old2;
	SYS(sigaction(SIGUSR1, &sa, &old1));
	sa.sa_handler = on_usr2;
	SYS(sigaction(SIGUSR2, &sa, &old2));
	sigset_t both, orig, none;
	sigemptyset(&both);
	sigaddset(&both, SIGUSR1);
	sigaddset(&both, SIGUSR2);
	sigemptyset(&none);
	SYS(sigprocmask(SIG_BLOCK, &both, &orig));

	/* A signal the wait's mask blocks stays pending and does not
	 * interrupt: the wait times out, and the handler runs only once the
	 * thread unblocks it. */
	usr1_hits = 0;
	SYS(raise(SIGUSR1));
	sigset_t mask1;
	sigemptyset(&mask1);
	sigaddset(&mask1, SIGUSR1);
	long t0 = now_ms();
	CHECK_EQ(epoll_pwait(e, out, 4, 50, &mask1), 0);
	CHECK(now_ms() - t0 >= 49);
	CHECK_EQ(usr1_hits, 0);
	/* The pending signal is still there after the wait. */
	sigset_t pend;
	SYS(sigpending(&pend));
	CHECK(sigismember(&pend, SIGUSR1));

	/* A pending signal the wait's mask unblocks interrupts at once, with
	 * the handler run; the thread's own mask is restored afterwards (so
	 * SIGUSR1 is still blocked and pending). */
	usr2_hits = 0;
	SYS(raise(SIGUSR2));
	t0 = now_ms();
	CHECK_ERR(epoll_pwait(e, out, 4, 5000, &mask1), EINTR);
	CHECK(now_ms() - t0 < 4000);
	CHECK_EQ(usr2_hits, 1);
	CHECK_EQ(usr1_hits, 0);
	sigset_t cur;
	SYS(sigprocmask(SIG_BLOCK, NULL, &cur));
	CHECK(sigismember(&cur, SIGUSR1));
	CHECK(sigismember(&cur, SIGUSR2));
	/* Events are checked first: a ready fd is returned even with a
	 * signal pending that the mask unblocks, and the signal stays
	 * pending (the old mask is back before it could be delivered). */
	CHECK_EQ(write(p[1], "x", 1), 1);
	SYS(raise(SIGUSR2));
	CHECK_EQ(epoll_pwait(e, out, 4, 0, &mask1), 1);
	CHECK_EQ(usr2_hits, 1);
	SYS(sigpending(&pend));
	CHECK(sigismember(&pend, SIGUSR2));
	drain(p[0]);
	/* A zero timeout never waits, so it never sees the signal: 0. */
	CHECK_EQ(epoll_pwait(e, out, 4, 0, &mask1), 0);
	CHECK_EQ(usr2_hits, 1);
	CHECK_ERR(epoll_pwait(e, out, 4, 5000, &mask1), EINTR);
	CHECK_EQ(usr2_hits, 2);

	/* epoll_pwait2 takes the same mask. */
	struct timespec ts = {5, 0};
	SYS(raise(SIGUSR2));
	errno = 0;
	long r = syscall(SYS_epoll_pwait2, e, out, 4, &ts, &mask1, 8);
	if (r < 0 && errno == ENOSYS && getenv("BH_EXPECT_PID1"))
		FAIL_AT("epoll_pwait2 is ENOSYS in the sandbox");
	if (!(r < 0 && errno == ENOSYS)) {
		CHECK_EQ(r, -1);
		CHECK_EQ(errno, EINTR);
		CHECK_EQ(usr2_hits, 3);
		struct timespec z = {0, 0};
		CHECK_EQ(syscall(SYS_epoll_pwait2, e, out, 4, &z, &mask1, 8),
			 0);
	}
	/* A bad sigsetsize is EINVAL. */
	CHECK_ERR(syscall(SYS_epoll_pwait, e, out, 4, 0, &mask1, 4), EINVAL);

	/* Unblocking delivers the SIGUSR1 held all along, exactly once. */
	SYS(sigprocmask(SIG_SETMASK, &orig, NULL));
	CHECK_EQ(usr1_hits, 1);

	/* epoll_wait is never restarted, even after an SA_RESTART handler:
	 * a signal arriving mid-wait gives EINTR. */
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	SYS(sigaction(SIGUSR1, &sa, NULL));
	main_tid = gettid_();
	atomic_store(&waiting_done, 0);
	usr1_hits = 0;
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, pester, NULL), 0);
	t0 = now_ms();
	int n = epoll_wait(e, out, 4, 10000);
	int err = errno;
	atomic_store(&waiting_done, 1);
	join_within(t, 5000);
	CHECK_EQ(n, -1);
	CHECK_EQ(err, EINTR);
	CHECK(now_ms() - t0 < 9000);
	CHECK(usr1_hits >= 1);
	/* Likewise epoll_pwait with an empty mask. */
	atomic_store(&waiting_done, 0);
	CHECK_EQ(pthread_create(&t, NULL, pester, NULL), 0);
	n = epoll_pwait(e, out, 4, 10000, &none);
	err = errno;
	atomic_store(&waiting_done, 1);
	join_within(t, 5000);
	CHECK_EQ(n, -1);
	CHECK_EQ(err, EINTR);

	SYS(sigaction(SIGUSR1, &old1, NULL));
	SYS(sigaction(SIGUSR2, &old2, NULL));
	SYS(close(p[0]));
	SYS(close(p[1]));
	SYS(close(e));
}

/* --- registrations and the life of the file ------------------------------ */
static void lifetime(void)
{
	int e = SYS(epoll_create1(0));
	int p[2];
	struct epoll_event out[4];
	SYS(pipe(p));
	SYS(add(e, p[0], EPOLLIN, 100));

	/* A dup keeps the file alive: the registration (made through the
	 * original fd number) still reports, with its own data. */
	int d = SYS(dup(p[0]));
	SYS(close(p[0]));
	CHECK_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].data.u64, 100);
	/* The registration is keyed by (file, fd number): the dup's number
	 * is not registered, and ADD through it makes a second one. */
	CHECK_ERR(epoll_ctl(e, EPOLL_CTL_DEL, d, NULL), ENOENT);
	SYS(add(e, d, EPOLLIN, 200));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 2);
	CHECK_EQ(out[0].data.u64 + out[1].data.u64, 300);
	SYS(epoll_ctl(e, EPOLL_CTL_DEL, d, NULL));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].data.u64, 100);

	/* Closing the last reference removes the registration. */
	SYS(close(d));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 0);
	/* A new file that gets the same fd number is not registered. */
	int q[2];
	SYS(pipe(q));
	CHECK_EQ(q[0], p[0]);
	CHECK_ERR(epoll_ctl(e, EPOLL_CTL_DEL, q[0], NULL), ENOENT);
	SYS(add(e, q[0], EPOLLIN, 300));
	CHECK_EQ(write(q[1], "y", 1), 1);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].data.u64, 300);

	/* Closing the epoll fd while the watched fds live on is fine, and
	 * the watched fds can join a new instance. */
	SYS(close(e));
	e = SYS(epoll_create1(0));
	SYS(add(e, q[0], EPOLLIN, 301));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].data.u64, 301);
	/* One file in two instances: both report it. */
	int e2 = SYS(epoll_create1(0));
	SYS(add(e2, q[0], EPOLLIN, 302));
	CHECK_EQ(epoll_wait(e2, out, 4, 0), 1);
	CHECK_EQ(out[0].data.u64, 302);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);

	SYS(close(e2));
	SYS(close(p[1]));
	SYS(close(q[0]));
	SYS(close(q[1]));
	SYS(close(e));
}

/* --- 1000 ready fds, 10 at a time ---------------------------------------- */
#define NFAIR 1000
static void fairness(void)
{
	/* Each pipe keeps only its read end, holding one byte, with the
	 * write end closed: ready for good (EPOLLIN|EPOLLHUP), and 1000 fds
	 * fit under an RLIMIT_NOFILE of 1024. */
	struct rlimit rl;
	SYS(getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		SYS(setrlimit(RLIMIT_NOFILE, &rl));
	}
	int e = SYS(epoll_create1(0));
	static int fds[NFAIR];
	static unsigned char seen[NFAIR];
	for (int i = 0; i < NFAIR; i++) {
		int p[2];
		SYS(pipe(p));
		CHECK_EQ(write(p[1], "x", 1), 1);
		SYS(close(p[1]));
		fds[i] = p[0];
		SYS(add(e, p[0], EPOLLIN, i));
	}
	struct epoll_event out[10];
	memset(seen, 0, sizeof(seen));
	for (int call = 0; call < NFAIR / 10; call++) {
		CHECK_EQ(epoll_wait(e, out, 10, 0), 10);
		for (int k = 0; k < 10; k++) {
			uint64_t i = out[k].data.u64;
			CHECK(i < NFAIR);
			CHECK_EQ(out[k].events, EPOLLIN | EPOLLHUP);
			/* Round robin: nobody twice before everyone once. */
			if (seen[i])
				FAIL_AT("fd #%d reported twice in call %d",
					(int)i, call);
			seen[i] = 1;
		}
	}
	for (int i = 0; i < NFAIR; i++)
		CHECK_EQ(seen[i], 1);
	/* maxevents larger than the ready set returns all of them. */
	static struct epoll_event big[NFAIR + 10];
	CHECK_EQ(epoll_wait(e, big, NFAIR + 10, 0), NFAIR);
	/* Closing them drops the registrations. */
	for (int i = 0; i < NFAIR; i++)
		SYS(close(fds[i]));
	CHECK_EQ(epoll_wait(e, out, 10, 0), 0);
	SYS(close(e));
}

/* --- epoll watching epoll ------------------------------------------------ */
static void nested(void)
{
	int inner = SYS(epoll_create1(0));
	int outer = SYS(epoll_create1(0));
	int p[2];
	struct epoll_event out[4];
	SYS(pipe(p));
	SYS(add(inner, p[0], EPOLLIN, 1));
	SYS(add(outer, inner, EPOLLIN, 2));
	CHECK_EQ(epoll_wait(outer, out, 4, 0), 0);
	CHECK_EQ(write(p[1], "x", 1), 1);
	/* The inner instance has something ready: the outer reports it as
	 * readable, and only EPOLLIN (an epoll fd is never writable). */
	CHECK_EQ(epoll_wait(outer, out, 4, 0), 1);
	CHECK_EQ(out[0].events, EPOLLIN);
	CHECK_EQ(out[0].data.u64, 2);
	/* Waiting on the outer does not consume the inner's event. */
	CHECK_EQ(epoll_wait(inner, out, 4, 0), 1);
	CHECK_EQ(out[0].data.u64, 1);
	drain(p[0]);
	CHECK_EQ(epoll_wait(outer, out, 4, 0), 0);

	/* An epoll fd asked for EPOLLOUT only is never ready. */
	SYS(mod(outer, inner, EPOLLOUT, 3));
	CHECK_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(epoll_wait(outer, out, 4, 0), 0);
	drain(p[0]);
	SYS(mod(outer, inner, EPOLLIN, 4));

	/* A blocked wait on the outer is woken by a write to the pipe the
	 * inner watches. */
	wake_fd = p[1];
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, late_writer, NULL), 0);
	CHECK_EQ(epoll_wait(outer, out, 4, 10000), 1);
	CHECK_EQ(out[0].data.u64, 4);
	CHECK(join_within(t, 5000) == (void *)1L);
	drain(p[0]);

	/* Edge-triggered outer: one report per new event inside. */
	SYS(mod(outer, inner, EPOLLIN | EPOLLET, 5));
	CHECK_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(epoll_wait(outer, out, 4, 0), 1);
	CHECK_EQ(out[0].data.u64, 5);
	CHECK_EQ(epoll_wait(outer, out, 4, 0), 0);
	drain(p[0]);

	SYS(close(p[0]));
	SYS(close(p[1]));
	SYS(close(outer));
	SYS(close(inner));
}

/* --- EPOLLEXCLUSIVE ------------------------------------------------------ */
static void exclusive(void)
{
	int e = SYS(epoll_create1(0));
	int p[2], q[2];
	struct epoll_event out[4];
	SYS(pipe(p));
	SYS(pipe(q));
	SYS(add(e, p[0], EPOLLIN | EPOLLEXCLUSIVE, 1));
	CHECK_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].events, EPOLLIN);
	CHECK_EQ(out[0].data.u64, 1);
	/* MOD of an exclusive registration is refused... */
	CHECK_ERR(mod(e, p[0], EPOLLIN, 2), EINVAL);
	CHECK_ERR(mod(e, p[0], EPOLLIN | EPOLLEXCLUSIVE, 2), EINVAL);
	/* ...and so is MOD that asks for EPOLLEXCLUSIVE. */
	SYS(add(e, q[0], EPOLLIN, 3));
	CHECK_ERR(mod(e, q[0], EPOLLIN | EPOLLEXCLUSIVE, 3), EINVAL);
	/* Not with EPOLLONESHOT, and not on an epoll fd. */
	SYS(epoll_ctl(e, EPOLL_CTL_DEL, q[0], NULL));
	CHECK_ERR(add(e, q[0], EPOLLIN | EPOLLEXCLUSIVE | EPOLLONESHOT, 3),
		  EINVAL);
	int inner = SYS(epoll_create1(0));
	CHECK_ERR(add(e, inner, EPOLLIN | EPOLLEXCLUSIVE, 4), EINVAL);
	/* DEL of an exclusive registration works. */
	SYS(epoll_ctl(e, EPOLL_CTL_DEL, p[0], NULL));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 0);
	SYS(close(inner));
	SYS(close(p[0]));
	SYS(close(p[1]));
	SYS(close(q[0]));
	SYS(close(q[1]));
	SYS(close(e));
}

/* --- poll() and fork ----------------------------------------------------- */
static void poll_and_fork(void)
{
	int e = SYS(epoll_create1(0));
	int p[2];
	struct epoll_event out[4];
	SYS(pipe(p));
	SYS(add(e, p[0], EPOLLIN, 1));

	struct pollfd pfd = {.fd = e, .events = POLLIN | POLLOUT};
	CHECK_EQ(poll(&pfd, 1, 0), 0);
	CHECK_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(poll(&pfd, 1, 0), 1);
	CHECK_EQ(pfd.revents, POLLIN);
	drain(p[0]);
	CHECK_EQ(poll(&pfd, 1, 0), 0);

	/* The child shares the instance: its ADD and MOD are seen by the
	 * parent's waits, and it sees the parent's registrations. */
	int q[2], sync[2];
	SYS(pipe(q));
	SYS(pipe(sync));
	pid_t pid = SYS(fork());
	if (pid == 0) {
		if (add(e, q[0], EPOLLIN, 0x1234) != 0)
			_exit(2);
		if (write(p[1], "c", 1) != 1)
			_exit(3);
		struct epoll_event ev;
		if (epoll_wait(e, &ev, 1, 0) != 1 || ev.data.u64 != 1)
			_exit(4);
		if (mod(e, p[0], EPOLLIN, 0x5678) != 0)
			_exit(5);
		_exit(0);
	}
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	CHECK_EQ(write(q[1], "p", 1), 1);
	CHECK_EQ(epoll_wait(e, out, 4, 0), 2);
	CHECK_EQ(out[0].data.u64 + out[1].data.u64, 0x1234 + 0x5678);
	/* The child's registration outlives the child: it is keyed by the
	 * file and the parent's copy of the fd keeps the file alive. */
	SYS(epoll_ctl(e, EPOLL_CTL_DEL, q[0], NULL));
	CHECK_EQ(epoll_wait(e, out, 4, 0), 1);
	CHECK_EQ(out[0].data.u64, 0x5678);
	drain(p[0]);

	/* A child blocked in epoll_wait on the shared instance is woken by
	 * the parent's write. */
	pid = SYS(fork());
	if (pid == 0) {
		struct epoll_event ev;
		if (write(sync[1], "r", 1) != 1)
			_exit(2);
		int n = epoll_wait(e, &ev, 1, 10000);
		_exit(n == 1 && ev.data.u64 == 0x5678 ? 0 : 3);
	}
	char c;
	CHECK_EQ(read(sync[0], &c, 1), 1);
	usleep(20000);
	CHECK_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);

	SYS(close(sync[0]));
	SYS(close(sync[1]));
	SYS(close(q[0]));
	SYS(close(q[1]));
	SYS(close(p[0]));
	SYS(close(p[1]));
	SYS(close(e));
}

int main(void)
{
	step("create");
	create();
	step("ctl errors");
	ctl_errors();
	step("loops");
	loops();
	step("triggering");
	triggering();
	step("hangup");
	hangup();
	step("data");
	data();
	step("timeouts");
	timeouts();
	step("signals");
	signals();
	step("lifetime");
	lifetime();
	step("fairness");
	fairness();
	step("nested");
	nested();
	step("exclusive");
	exclusive();
	step("poll and fork");
	poll_and_fork();
	pass("epoll");
	return 0;
}
