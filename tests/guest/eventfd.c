/* eventfd: the counter (sum on write, reset on read), EFD_SEMAPHORE,
 * EFD_NONBLOCK and the overflow limit 0xfffffffffffffffe, the size and value
 * errors, blocking reads and writes woken from another thread, poll and
 * epoll readiness, lseek, /proc/self/fd and fdinfo, flags and sharing across
 * fork. Blocking calls run in helper threads joined with a deadline, so a
 * lost wakeup fails a check instead of hanging the run. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include "check.h"

#define MAXCOUNT 0xfffffffffffffffeULL

static void step(const char *what)
{
	printf("-- %s\n", what);
	fflush(stdout);
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

static ssize_t put(int fd, uint64_t v)
{
	return write(fd, &v, sizeof(v));
}

/* Reads the counter; returns the value or (uint64_t)-1 on error. */
static uint64_t get(int fd)
{
	uint64_t v;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		return (uint64_t)-1;
	return v;
}

static short revents(int fd, short events)
{
	struct pollfd p = {.fd = fd, .events = events};
	if (poll(&p, 1, 0) < 0)
		return -1;
	return p.revents;
}

/* --- creation and flags -------------------------------------------------- */
static void flags(void)
{
	int e = SYS(eventfd(0, 0));
	CHECK_EQ(fcntl(e, F_GETFD), 0);
	CHECK_EQ(fcntl(e, F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDWR);
	SYS(close(e));
	e = SYS(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
	CHECK_EQ(fcntl(e, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(e, F_GETFL) & (O_ACCMODE | O_NONBLOCK),
		 O_RDWR | O_NONBLOCK);
	SYS(close(e));
	/* EFD_* are the O_* values; anything else is EINVAL. */
	CHECK_EQ(EFD_CLOEXEC, O_CLOEXEC);
	CHECK_EQ(EFD_NONBLOCK, O_NONBLOCK);
	CHECK_ERR(eventfd(0, 1 << 4), EINVAL);
	CHECK_ERR(eventfd(0, O_APPEND), EINVAL);
	CHECK_ERR(eventfd(0, ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE)),
		  EINVAL);
	CHECK_ERR(syscall(SYS_eventfd2, 0, 0x80000000u), EINVAL);
#ifdef SYS_eventfd
	/* The flagless eventfd(2) syscall. */
	e = SYS(syscall(SYS_eventfd, 3));
	CHECK_EQ(fcntl(e, F_GETFD), 0);
	CHECK_EQ(get(e), 3);
	SYS(close(e));
#endif

	/* An anonymous inode: "anon_inode:[eventfd]", mode 0600 without a
	 * file type; lseek is a no-op that succeeds at offset 0. */
	e = SYS(eventfd(5, 0));
	char path[64], link[64] = {0};
	snprintf(path, sizeof(path), "/proc/self/fd/%d", e);
	CHECK(readlink(path, link, sizeof(link) - 1) > 0);
	CHECK_STR(link, "anon_inode:[eventfd]");
	struct stat st;
	SYS(fstat(e, &st));
	CHECK_EQ(st.st_mode, 0600);
	CHECK_EQ(lseek(e, 0, SEEK_SET), 0);
	CHECK_EQ(lseek(e, 10, SEEK_CUR), 0);
	CHECK_EQ(lseek(e, 0, SEEK_END), 0);
	CHECK_EQ(get(e), 5);
	SYS(close(e));
}

/* --- the counter --------------------------------------------------------- */
static void counter(void)
{
	int e = SYS(eventfd(0, EFD_NONBLOCK));
	uint64_t v;
	CHECK_ERR(read(e, &v, 8), EAGAIN);
	CHECK_EQ(put(e, 5), 8);
	CHECK_EQ(put(e, 3), 8);
	CHECK_EQ(get(e), 8);
	CHECK_ERR(read(e, &v, 8), EAGAIN);
	/* Writing 0 is allowed and changes nothing. */
	CHECK_EQ(put(e, 0), 8);
	CHECK_ERR(read(e, &v, 8), EAGAIN);

	/* Sizes: a read needs at least 8 bytes (more is fine, only 8 are
	 * used); a write must be exactly 8 bytes on Linux 6.x (the man page
	 * only says "less than 8 is EINVAL", but a 16-byte write is EINVAL
	 * too). */
	CHECK_EQ(put(e, 1), 8);
	CHECK_ERR(read(e, &v, 7), EINVAL);
	CHECK_ERR(read(e, &v, 0), EINVAL);
	uint64_t big[2] = {0, 0x1111};
	CHECK_EQ(read(e, big, sizeof(big)), 8);
	CHECK_EQ(big[0], 1);
	CHECK_EQ(big[1], 0x1111);
	CHECK_ERR(write(e, &v, 7), EINVAL);
	CHECK_ERR(write(e, &v, 0), EINVAL);
	uint64_t two[2] = {7, 9};
	CHECK_ERR(write(e, two, 9), EINVAL);
	CHECK_ERR(write(e, two, sizeof(two)), EINVAL);
	CHECK_ERR(read(e, &v, 8), EAGAIN);
	CHECK_EQ(write(e, two, 8), 8);
	CHECK_EQ(get(e), 7);
	/* A bad buffer is EFAULT; a failed read keeps the count. */
	CHECK_EQ(put(e, 4), 8);
	CHECK_ERR(read(e, (void *)-4096L, 8), EFAULT);
	CHECK_ERR(write(e, (void *)-4096L, 8), EFAULT);
	CHECK_EQ(get(e), 4);

	/* The largest value is 0xfffffffffffffffe; all ones is EINVAL. */
	CHECK_ERR(put(e, 0xffffffffffffffffULL), EINVAL);
	CHECK_EQ(put(e, MAXCOUNT), 8);
	CHECK_ERR(put(e, 1), EAGAIN);
	CHECK_ERR(put(e, MAXCOUNT), EAGAIN);
	CHECK_EQ(put(e, 0), 8);
	CHECK_ERR(put(e, 0xffffffffffffffffULL), EINVAL);
	CHECK_EQ(get(e), MAXCOUNT);
	CHECK_EQ(put(e, MAXCOUNT - 10), 8);
	CHECK_EQ(put(e, 10), 8);
	CHECK_ERR(put(e, 1), EAGAIN);
	CHECK_EQ(get(e), MAXCOUNT);
	SYS(close(e));

	/* The initial value is an unsigned int. */
	e = SYS(eventfd(0xffffffffu, EFD_NONBLOCK));
	CHECK_EQ(get(e), 0xffffffffULL);
	SYS(close(e));
}

static void semaphore(void)
{
	int e = SYS(eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK));
	uint64_t v;
	for (int i = 0; i < 3; i++)
		CHECK_EQ(get(e), 1);
	CHECK_ERR(read(e, &v, 8), EAGAIN);
	CHECK_EQ(put(e, 2), 8);
	CHECK_EQ(get(e), 1);
	CHECK_EQ(revents(e, POLLIN), POLLIN);
	CHECK_EQ(get(e), 1);
	CHECK_EQ(revents(e, POLLIN), 0);
	CHECK_ERR(read(e, &v, 8), EAGAIN);
	/* The same limits as a plain counter. */
	CHECK_EQ(put(e, MAXCOUNT), 8);
	CHECK_ERR(put(e, 1), EAGAIN);
	CHECK_ERR(read(e, &v, 4), EINVAL);
	CHECK_EQ(get(e), 1);
	CHECK_EQ(put(e, 1), 8);
	SYS(close(e));
}

/* --- blocking ------------------------------------------------------------ */
static int tfd;
static atomic_int returned;

static void *blocking_read(void *arg)
{
	(void)arg;
	uint64_t v = get(tfd);
	atomic_store(&returned, 1);
	return (void *)(uintptr_t)v;
}

static void *blocking_write(void *arg)
{
	uint64_t v = (uintptr_t)arg;
	ssize_t r = put(tfd, v);
	atomic_store(&returned, 1);
	return (void *)r;
}

static void *late_put(void *arg)
{
	usleep(50000);
	return (void *)put(tfd, (uintptr_t)arg);
}

static void blocking(void)
{
	/* A read blocked at zero is woken by another thread's write. */
	tfd = SYS(eventfd(0, 0));
	atomic_store(&returned, 0);
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, blocking_read, NULL), 0);
	usleep(50000);
	CHECK_EQ(atomic_load(&returned), 0);
	CHECK_EQ(put(tfd, 42), 8);
	CHECK(join_within(t, 5000) == (void *)42);
	/* And the other way round: the main thread blocks in read. */
	CHECK_EQ(pthread_create(&t, NULL, late_put, (void *)7), 0);
	CHECK_EQ(get(tfd), 7);
	CHECK(join_within(t, 5000) == (void *)8);

	/* A write that would overflow blocks until a read makes room. */
	CHECK_EQ(put(tfd, MAXCOUNT - 1), 8);
	atomic_store(&returned, 0);
	CHECK_EQ(pthread_create(&t, NULL, blocking_write, (void *)5), 0);
	usleep(50000);
	CHECK_EQ(atomic_load(&returned), 0);
	CHECK_EQ(get(tfd), MAXCOUNT - 1);
	CHECK(join_within(t, 5000) == (void *)8);
	CHECK_EQ(get(tfd), 5);
	SYS(close(tfd));

	/* A semaphore read blocks at zero too, and each write of n lets n
	 * reads through. */
	tfd = SYS(eventfd(0, EFD_SEMAPHORE));
	CHECK_EQ(pthread_create(&t, NULL, late_put, (void *)2), 0);
	CHECK_EQ(get(tfd), 1);
	CHECK_EQ(get(tfd), 1);
	CHECK(join_within(t, 5000) == (void *)8);
	SYS(close(tfd));

	/* Across fork: the counter is shared; the child's write wakes the
	 * parent's read. */
	tfd = SYS(eventfd(0, 0));
	pid_t pid = SYS(fork());
	if (pid == 0) {
		usleep(30000);
		_exit(put(tfd, 99) == 8 ? 0 : 2);
	}
	CHECK_EQ(get(tfd), 99);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	SYS(close(tfd));
}

/* --- poll and epoll ------------------------------------------------------ */
static void readiness(void)
{
	int e = SYS(eventfd(0, EFD_NONBLOCK));
	/* POLLIN while the count is non-zero; POLLOUT while a write of 1
	 * would not block, i.e. below 0xfffffffffffffffe. */
	CHECK_EQ(revents(e, POLLIN | POLLOUT), POLLOUT);
	CHECK_EQ(put(e, 1), 8);
	CHECK_EQ(revents(e, POLLIN | POLLOUT), POLLIN | POLLOUT);
	CHECK_EQ(revents(e, POLLIN), POLLIN);
	CHECK_EQ(put(e, MAXCOUNT - 2), 8);
	CHECK_EQ(revents(e, POLLIN | POLLOUT), POLLIN | POLLOUT);
	CHECK_EQ(put(e, 1), 8);
	CHECK_EQ(revents(e, POLLIN | POLLOUT), POLLIN);
	CHECK_EQ(revents(e, POLLOUT), 0);
	CHECK_EQ(get(e), MAXCOUNT);
	CHECK_EQ(revents(e, POLLIN | POLLOUT), POLLOUT);

	/* A blocked poll is woken by another thread's write. */
	tfd = e;
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, late_put, (void *)1), 0);
	struct pollfd p = {.fd = e, .events = POLLIN};
	CHECK_EQ(poll(&p, 1, 10000), 1);
	CHECK_EQ(p.revents, POLLIN);
	CHECK(join_within(t, 5000) == (void *)8);
	CHECK_EQ(get(e), 1);

	/* epoll, level- and edge-triggered. */
	int ep = SYS(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 1}, out[2];
	SYS(epoll_ctl(ep, EPOLL_CTL_ADD, e, &ev));
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
	CHECK_EQ(put(e, 2), 8);
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
	CHECK_EQ(out[0].events, EPOLLIN);
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
	CHECK_EQ(get(e), 2);
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
	ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
	SYS(epoll_ctl(ep, EPOLL_CTL_MOD, e, &ev));
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
	CHECK_EQ(out[0].events, EPOLLOUT);
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
	/* Every write is a new edge, even when the count was non-zero. */
	CHECK_EQ(put(e, 1), 8);
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
	CHECK_EQ(out[0].events, EPOLLIN | EPOLLOUT);
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
	CHECK_EQ(put(e, 1), 8);
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
	CHECK_EQ(out[0].events, EPOLLIN | EPOLLOUT);
	/* A read is an edge for writers. */
	CHECK_EQ(get(e), 2);
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 1);
	CHECK_EQ(out[0].events, EPOLLOUT);
	/* A blocked epoll_wait is woken by a write. */
	ev.events = EPOLLIN;
	SYS(epoll_ctl(ep, EPOLL_CTL_MOD, e, &ev));
	CHECK_EQ(pthread_create(&t, NULL, late_put, (void *)3), 0);
	CHECK_EQ(epoll_wait(ep, out, 2, 10000), 1);
	CHECK_EQ(out[0].events, EPOLLIN);
	CHECK(join_within(t, 5000) == (void *)8);
	SYS(close(ep));
	SYS(close(e));
}

/* --- /proc/self/fdinfo --------------------------------------------------- */
/* The line of fdinfo starting with key, or "" if there is none. */
static const char *fdinfo_line(int fd, const char *key)
{
	static char line[256];
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	FILE *f = fopen(path, "r");
	line[0] = 0;
	if (!f)
		return line;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0) {
			fclose(f);
			return line;
		}
	fclose(f);
	line[0] = 0;
	return line;
}

static void fdinfo(void)
{
	int e = SYS(eventfd(0, EFD_NONBLOCK));
	/* "eventfd-count: %16llx": hex, right-aligned in 16 columns. */
	char want[64];
	CHECK_STR(fdinfo_line(e, "eventfd-count:"),
		  "eventfd-count:                0\n");
	CHECK_EQ(put(e, 0x1234abcd), 8);
	CHECK_STR(fdinfo_line(e, "eventfd-count:"),
		  "eventfd-count:         1234abcd\n");
	CHECK_EQ(put(e, MAXCOUNT - 0x1234abcd), 8);
	snprintf(want, sizeof(want), "eventfd-count: %16llx\n", MAXCOUNT);
	CHECK_STR(fdinfo_line(e, "eventfd-count:"), want);
	CHECK_EQ(get(e), MAXCOUNT);
	CHECK_STR(fdinfo_line(e, "eventfd-count:"),
		  "eventfd-count:                0\n");
	/* The generic lines: position 0 and the open flags in octal. */
	CHECK_STR(fdinfo_line(e, "pos:"), "pos:\t0\n");
	snprintf(want, sizeof(want), "flags:\t0%o\n", O_RDWR | O_NONBLOCK);
	CHECK_STR(fdinfo_line(e, "flags:"), want);
	SYS(close(e));
}

int main(void)
{
	step("flags");
	flags();
	step("counter");
	counter();
	step("semaphore");
	semaphore();
	step("blocking");
	blocking();
	step("readiness");
	readiness();
	step("fdinfo");
	fdinfo();
	pass("eventfd");
	return 0;
}
