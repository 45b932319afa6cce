/* timerfd: clocks and flags accepted by timerfd_create, relative and
 * absolute one-shot and interval timers, the expiration count read as a u64,
 * timerfd_gettime, disarming, the read errors, blocking reads, poll and epoll
 * readiness, TFD_TIMER_CANCEL_ON_SET acceptance and timespec validation.
 * Expiry is checked against the timer's own clock (never before the target,
 * within a generous bound after it), so a loaded machine cannot fail it.
 * The alarm clocks are left out: they need CAP_WAKE_ALARM, which the host's
 * root has and the container does not. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include "check.h"

#define MS 1000000LL

static void step(const char *what)
{
	printf("-- %s\n", what);
	fflush(stdout);
}

static long long now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct timespec ts_of(long long ns)
{
	return (struct timespec){ns / 1000000000LL, ns % 1000000000LL};
}

static long long ns_of(struct timespec ts)
{
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
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

/* Arms fd: value and interval in ns. */
static int arm(int fd, int flags, long long value, long long interval)
{
	struct itimerspec it = {ts_of(interval), ts_of(value)};
	return timerfd_settime(fd, flags, &it, NULL);
}

/* The expiration count, or 0 with errno set. */
static uint64_t ticks(int fd)
{
	uint64_t n;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

/* Waits up to ms for fd to become readable; returns poll's revents. */
static short wait_readable(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
	if (poll(&p, 1, ms) < 0)
		return -1;
	return p.revents;
}

/* --- creation ------------------------------------------------------------ */
static void create(void)
{
	static const clockid_t good[] = {CLOCK_MONOTONIC, CLOCK_REALTIME,
					 CLOCK_BOOTTIME};
	for (unsigned i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		int t = SYS(timerfd_create(good[i], 0));
		struct itimerspec it;
		memset(&it, 0x55, sizeof(it));
		SYS(timerfd_gettime(t, &it));
		CHECK_EQ(ns_of(it.it_value), 0);
		CHECK_EQ(ns_of(it.it_interval), 0);
		SYS(close(t));
	}
	/* CPU-time, raw, coarse and TAI clocks are refused, as is nonsense. */
	static const clockid_t bad[] = {CLOCK_PROCESS_CPUTIME_ID,
					CLOCK_THREAD_CPUTIME_ID,
					CLOCK_MONOTONIC_RAW,
					CLOCK_REALTIME_COARSE,
					CLOCK_MONOTONIC_COARSE,
					CLOCK_TAI,
					12,
					100,
					-1,
					-6};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_ERR(timerfd_create(bad[i], 0), EINVAL);

	/* Flags: TFD_CLOEXEC and TFD_NONBLOCK only. */
	int t = SYS(timerfd_create(CLOCK_MONOTONIC, 0));
	CHECK_EQ(fcntl(t, F_GETFD), 0);
	CHECK_EQ(fcntl(t, F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDWR);
	SYS(close(t));
	t = SYS(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
	CHECK_EQ(fcntl(t, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(t, F_GETFL) & (O_ACCMODE | O_NONBLOCK),
		 O_RDWR | O_NONBLOCK);
	SYS(close(t));
	CHECK_ERR(timerfd_create(CLOCK_MONOTONIC, 1), EINVAL);
	CHECK_ERR(timerfd_create(CLOCK_MONOTONIC, TFD_TIMER_ABSTIME), EINVAL);
	CHECK_ERR(timerfd_create(CLOCK_MONOTONIC, O_APPEND), EINVAL);
	CHECK_ERR(timerfd_create(CLOCK_MONOTONIC, -1), EINVAL);

	/* An anonymous inode; lseek succeeds as a no-op; write is EINVAL. */
	t = SYS(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
	char path[64], link[64] = {0};
	snprintf(path, sizeof(path), "/proc/self/fd/%d", t);
	CHECK(readlink(path, link, sizeof(link) - 1) > 0);
	CHECK_STR(link, "anon_inode:[timerfd]");
	struct stat st;
	SYS(fstat(t, &st));
	CHECK_EQ(st.st_mode, 0600);
	CHECK_EQ(lseek(t, 0, SEEK_SET), 0);
	CHECK_EQ(lseek(t, 5, SEEK_CUR), 0);
	uint64_t v = 1;
	CHECK_ERR(write(t, &v, sizeof(v)), EINVAL);
	SYS(close(t));
}

/* --- settime / gettime errors -------------------------------------------- */
static void errors(void)
{
	int t = SYS(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
	int r = SYS(timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK));
	struct itimerspec it = {{0, 0}, {100, 0}}, old;

	/* Unknown settime flags. */
	CHECK_ERR(timerfd_settime(t, 4, &it, NULL), EINVAL);
	CHECK_ERR(timerfd_settime(t, -1, &it, NULL), EINVAL);
	CHECK_ERR(timerfd_settime(t, TFD_NONBLOCK, &it, NULL), EINVAL);
	/* TFD_TIMER_CANCEL_ON_SET only does something for an absolute
	 * CLOCK_REALTIME timer, but Linux accepts it (and ignores it) on
	 * any clock and without TFD_TIMER_ABSTIME too. */
	SYS(timerfd_settime(r, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &it,
			    NULL));
	SYS(timerfd_settime(r, TFD_TIMER_CANCEL_ON_SET, &it, NULL));
	SYS(timerfd_settime(t, TFD_TIMER_CANCEL_ON_SET, &it, NULL));
	SYS(timerfd_settime(t, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &it,
			    NULL));
	/* Nothing was due (or it was absolute 100 s of uptime, long past):
	 * disarm and drain so the checks below start clean. */
	SYS(arm(t, 0, 0, 0));
	SYS(arm(r, 0, 0, 0));

	/* Invalid timespecs, in the value or the interval, even when the
	 * value is zero (disarming). */
	static const struct itimerspec bad[] = {
	    {{0, 0}, {0, 1000000000}}, {{0, 0}, {-1, 0}}, {{0, 0}, {0, -1}},
	    {{0, 1000000000}, {1, 0}}, {{-1, 0}, {1, 0}}, {{0, -1}, {1, 0}},
	    {{0, 1000000000}, {0, 0}},
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_ERR(timerfd_settime(t, 0, &bad[i], NULL), EINVAL);
		CHECK_ERR(timerfd_settime(t, TFD_TIMER_ABSTIME, &bad[i], NULL),
			  EINVAL);
	}
	/* A failed settime left the timer disarmed. */
	SYS(timerfd_gettime(t, &old));
	CHECK_EQ(ns_of(old.it_value), 0);

	/* Bad pointers and descriptors. */
	CHECK_ERR(timerfd_settime(t, 0, NULL, NULL), EFAULT);
	CHECK_ERR(timerfd_settime(t, 0, &it, (void *)-4096L), EFAULT);
	CHECK_ERR(timerfd_gettime(t, NULL), EFAULT);
	CHECK_ERR(timerfd_settime(999, 0, &it, NULL), EBADF);
	CHECK_ERR(timerfd_gettime(999, &old), EBADF);
	int p[2];
	SYS(pipe(p));
	CHECK_ERR(timerfd_settime(p[0], 0, &it, NULL), EINVAL);
	CHECK_ERR(timerfd_gettime(p[0], &old), EINVAL);
	SYS(close(p[0]));
	SYS(close(p[1]));

	/* Reads: 8 bytes at least; unexpired nonblocking is EAGAIN. */
	uint64_t v[2];
	CHECK_ERR(read(t, v, 8), EAGAIN);
	CHECK_ERR(read(t, v, 7), EINVAL);
	CHECK_ERR(read(t, v, 0), EINVAL);
	SYS(arm(t, 0, 100LL * 1000 * MS, 0));
	CHECK_ERR(read(t, v, 8), EAGAIN);
	/* (Armed: the remaining time is just under the 100 s asked for.) */
	SYS(timerfd_gettime(t, &old));
	CHECK(ns_of(old.it_value) > 90LL * 1000 * MS);
	CHECK(ns_of(old.it_value) <= 100LL * 1000 * MS);
	CHECK_EQ(ns_of(old.it_interval), 0);
	CHECK_ERR(read(t, v, 4), EINVAL);
	SYS(close(t));
	SYS(close(r));
}

/* --- one-shot and interval timers ---------------------------------------- */
static void oneshot(void)
{
	static const clockid_t clocks[] = {CLOCK_MONOTONIC, CLOCK_REALTIME,
					   CLOCK_BOOTTIME};
	for (unsigned i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		clockid_t c = clocks[i];
		int t = SYS(timerfd_create(c, TFD_NONBLOCK));

		/* Relative: not before 50 ms of the timer's clock. */
		long long t0 = now_ns(c);
		SYS(arm(t, 0, 50 * MS, 0));
		struct itimerspec it;
		SYS(timerfd_gettime(t, &it));
		CHECK(ns_of(it.it_value) >= 0);
		CHECK(ns_of(it.it_value) <= 50 * MS);
		CHECK_EQ(ns_of(it.it_interval), 0);
		CHECK_EQ(wait_readable(t, 5000), POLLIN);
		CHECK(now_ns(c) - t0 >= 50 * MS);
		CHECK(now_ns(c) - t0 < 5000 * MS);
		CHECK_EQ(ticks(t), 1);
		/* Read resets the count; a one-shot timer is then
		 * disarmed. */
		CHECK_ERR(read(t, &it, 8), EAGAIN);
		SYS(timerfd_gettime(t, &it));
		CHECK_EQ(ns_of(it.it_value), 0);
		CHECK_EQ(ns_of(it.it_interval), 0);

		/* Absolute: fires once the clock reaches the target. */
		long long target = now_ns(c) + 50 * MS;
		SYS(arm(t, TFD_TIMER_ABSTIME, target, 0));
		SYS(timerfd_gettime(t, &it));
		/* gettime is always relative, even for absolute timers. */
		CHECK(ns_of(it.it_value) >= 0);
		CHECK(ns_of(it.it_value) <= 50 * MS);
		CHECK_EQ(wait_readable(t, 5000), POLLIN);
		CHECK(now_ns(c) >= target);
		CHECK_EQ(ticks(t), 1);

		/* An absolute time in the past fires at once. */
		SYS(arm(t, TFD_TIMER_ABSTIME, 1, 0));
		CHECK_EQ(wait_readable(t, 5000), POLLIN);
		CHECK_EQ(ticks(t), 1);
		SYS(close(t));
	}
}

static void interval(void)
{
	int t = SYS(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
	struct itimerspec it, old;

	/* 10 ms period: after at least 100 ms there were at least 10
	 * expirations, and no more than time allows. */
	long long t0 = now_ns(CLOCK_MONOTONIC);
	SYS(arm(t, 0, 10 * MS, 10 * MS));
	usleep(100000);
	uint64_t n = ticks(t);
	long long dt = now_ns(CLOCK_MONOTONIC) - t0;
	CHECK(n >= 10);
	CHECK((long long)n <= dt / (10 * MS));
	SYS(timerfd_gettime(t, &it));
	CHECK(ns_of(it.it_value) >= 0);
	CHECK(ns_of(it.it_value) <= 10 * MS);
	CHECK_EQ(ns_of(it.it_interval), 10 * MS);
	/* It keeps firing. */
	CHECK_EQ(wait_readable(t, 5000), POLLIN);
	CHECK(ticks(t) >= 1);

	/* settime returns the old setting and disarming with a zero value
	 * clears the pending count. */
	usleep(30000);
	struct itimerspec zero = {{0, 0}, {0, 0}};
	SYS(timerfd_settime(t, 0, &zero, &old));
	CHECK(ns_of(old.it_value) >= 0);
	CHECK(ns_of(old.it_value) <= 10 * MS);
	CHECK_EQ(ns_of(old.it_interval), 10 * MS);
	CHECK_ERR(read(t, &n, 8), EAGAIN);
	CHECK_EQ(wait_readable(t, 30), 0);
	SYS(timerfd_gettime(t, &it));
	CHECK_EQ(ns_of(it.it_value), 0);
	CHECK_EQ(ns_of(it.it_interval), 0);
	/* A zero value disarms even with a non-zero interval, which
	 * gettime still reports as set. */
	SYS(arm(t, 0, 0, 10 * MS));
	SYS(timerfd_gettime(t, &it));
	CHECK_EQ(ns_of(it.it_value), 0);
	CHECK_EQ(ns_of(it.it_interval), 10 * MS);
	CHECK_EQ(wait_readable(t, 50), 0);

	/* An expired, unread one-shot is also cleared by re-arming. */
	SYS(arm(t, 0, 1, 0));
	CHECK_EQ(wait_readable(t, 5000), POLLIN);
	SYS(timerfd_settime(t, 0, &zero, &old));
	CHECK_EQ(ns_of(old.it_value), 0);
	CHECK_ERR(read(t, &n, 8), EAGAIN);

	/* Settime returns the remaining time of an armed one-shot. */
	SYS(arm(t, 0, 10000 * MS, 0));
	SYS(timerfd_settime(t, 0, &zero, &old));
	CHECK(ns_of(old.it_value) > 5000 * MS);
	CHECK(ns_of(old.it_value) <= 10000 * MS);
	CHECK_EQ(ns_of(old.it_interval), 0);

	/* Absolute start 10 s in the past with a 1 s period: the overruns
	 * are counted, one per period elapsed since the start. */
	long long now = now_ns(CLOCK_MONOTONIC);
	SYS(arm(t, TFD_TIMER_ABSTIME, now - 10000 * MS, 1000 * MS));
	n = ticks(t);
	dt = now_ns(CLOCK_MONOTONIC) - now;
	CHECK(n >= 11);
	CHECK((long long)n <= 11 + dt / (1000 * MS));
	SYS(timerfd_gettime(t, &it));
	CHECK(ns_of(it.it_value) >= 0);
	CHECK(ns_of(it.it_value) <= 1000 * MS);
	CHECK_EQ(ns_of(it.it_interval), 1000 * MS);
	SYS(close(t));
}

/* --- blocking read ------------------------------------------------------- */
struct blk {
	int fd;
	long long t0, t1;
	uint64_t n;
};

static void *blocking_read(void *arg)
{
	struct blk *b = arg;
	b->n = ticks(b->fd);
	b->t1 = now_ns(CLOCK_MONOTONIC);
	return NULL;
}

static void blocking(void)
{
	/* Run in a thread joined with a deadline. */
	struct blk b = {.fd = SYS(timerfd_create(CLOCK_MONOTONIC, 0))};
	b.t0 = now_ns(CLOCK_MONOTONIC);
	SYS(arm(b.fd, 0, 50 * MS, 0));
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, blocking_read, &b), 0);
	join_within(th, 10000);
	CHECK_EQ(b.n, 1);
	CHECK(b.t1 - b.t0 >= 50 * MS);
	CHECK(b.t1 - b.t0 < 5000 * MS);

	/* A realtime absolute timer, read by the main thread. */
	int r = SYS(timerfd_create(CLOCK_REALTIME, 0));
	long long target = now_ns(CLOCK_REALTIME) + 50 * MS;
	SYS(arm(r, TFD_TIMER_ABSTIME, target, 0));
	CHECK_EQ(wait_readable(r, 5000), POLLIN);
	CHECK_EQ(ticks(r), 1);
	CHECK(now_ns(CLOCK_REALTIME) >= target);

	/* Across fork: the child reads the shared timer's expiration. */
	SYS(arm(b.fd, 0, 30 * MS, 0));
	pid_t pid = SYS(fork());
	if (pid == 0) {
		struct pollfd p = {.fd = b.fd, .events = POLLIN};
		if (poll(&p, 1, 5000) != 1)
			_exit(2);
		_exit(ticks(b.fd) == 1 ? 0 : 3);
	}
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	/* The child consumed it. */
	SYS(fcntl(b.fd, F_SETFL, O_NONBLOCK));
	uint64_t n;
	CHECK_ERR(read(b.fd, &n, 8), EAGAIN);
	SYS(close(r));
	SYS(close(b.fd));
}

/* --- poll and epoll ------------------------------------------------------ */
static void readiness(void)
{
	int t = SYS(timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK));
	/* Never writable; readable only once expired. */
	CHECK_EQ(wait_readable(t, 0), 0);
	SYS(arm(t, 0, 10000 * MS, 0));
	CHECK_EQ(wait_readable(t, 0), 0);
	SYS(arm(t, 0, 20 * MS, 0));
	CHECK_EQ(wait_readable(t, 5000), POLLIN);
	CHECK_EQ(wait_readable(t, 0), POLLIN);
	CHECK_EQ(ticks(t), 1);
	CHECK_EQ(wait_readable(t, 0), 0);

	int ep = SYS(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = 77},
			   out[2];
	SYS(epoll_ctl(ep, EPOLL_CTL_ADD, t, &ev));
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
	long long t0 = now_ns(CLOCK_MONOTONIC);
	SYS(arm(t, 0, 50 * MS, 0));
	CHECK_EQ(epoll_wait(ep, out, 2, 5000), 1);
	CHECK(now_ns(CLOCK_MONOTONIC) - t0 >= 50 * MS);
	CHECK_EQ(out[0].events, EPOLLIN);
	CHECK_EQ(out[0].data.u64, 77);
	/* Level-triggered: still there until read. */
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
	CHECK_EQ(ticks(t), 1);
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);

	/* Edge-triggered with an interval: the first expiry is an edge, but
	 * the periods after it, until a read, are not (Linux counts them
	 * lazily, when read() forwards the timer); after the read the next
	 * expiry is an edge again. */
	ev.events = EPOLLIN | EPOLLET;
	SYS(epoll_ctl(ep, EPOLL_CTL_MOD, t, &ev));
	SYS(arm(t, 0, 10 * MS, 10 * MS));
	CHECK_EQ(epoll_wait(ep, out, 2, 5000), 1);
	CHECK_EQ(epoll_wait(ep, out, 2, 50), 0);
	/* 10 ms to the first expiry, then 50 ms more at least. */
	CHECK(ticks(t) >= 5);
	CHECK_EQ(epoll_wait(ep, out, 2, 5000), 1);
	CHECK(ticks(t) >= 1);
	SYS(arm(t, 0, 0, 0));
	SYS(close(ep));
	SYS(close(t));
}

/* --- fdinfo -------------------------------------------------------------- */
static void fdinfo(void)
{
	int t = SYS(timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK));
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", t);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	int found = 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "clockid:", 8) == 0) {
			CHECK_STR(line, "clockid: 7\n");
			found = 1;
		}
	fclose(f);
	CHECK(found);
	SYS(close(t));
}

int main(void)
{
	step("create");
	create();
	step("errors");
	errors();
	step("oneshot");
	oneshot();
	step("interval");
	interval();
	step("blocking");
	blocking();
	step("readiness");
	readiness();
	step("fdinfo");
	fdinfo();
	pass("timerfd");
	return 0;
}
