/* poll, select and epoll over 1 to 1,024 pipes with a late writer: the
 * wait sleeps until the one pipe written last becomes readable, and
 * reports exactly it. Also: an fd closed while another thread is blocked
 * reading it (the read goes on: it holds the file), and an epoll
 * registration dropped with the file's last close. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <time.h>

#include "check.h"

#define NMAX 1024

static int rd[NMAX], wr[NMAX];

struct late {
	int fd;
	int delay_ms;
};

static void *late_writer(void *arg)
{
	struct late *l = arg;
	usleep((useconds_t)l->delay_ms * 1000);
	if (write(l->fd, "x", 1) != 1)
		_exit(3);
	return NULL;
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void drain(int fd)
{
	char c;
	CHECK_EQ(read(fd, &c, 1), 1);
}

static void with_poll(int n)
{
	struct pollfd *p = calloc((size_t)n, sizeof(*p));
	CHECK(p != NULL);
	for (int i = 0; i < n; i++)
		p[i] = (struct pollfd){.fd = rd[i], .events = POLLIN};
	CHECK_EQ(poll(p, (nfds_t)n, 0), 0);
	struct late l = {wr[n - 1], 20};
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, late_writer, &l), 0);
	long t0 = now_ms();
	CHECK_EQ(poll(p, (nfds_t)n, 30000), 1);
	CHECK(now_ms() - t0 >= 15);
	for (int i = 0; i < n - 1; i++)
		CHECK_EQ(p[i].revents, 0);
	CHECK_EQ(p[n - 1].revents, POLLIN);
	pthread_join(th, NULL);
	drain(rd[n - 1]);
	free(p);
}

static void with_select(int n)
{
	int maxfd = 0;
	for (int i = 0; i < n; i++)
		if (rd[i] > maxfd)
			maxfd = rd[i];
	if (maxfd >= FD_SETSIZE)
		return; /* select's fd_set stops at 1,024 */
	fd_set set;
	struct late l = {wr[n - 1], 20};
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, late_writer, &l), 0);
	FD_ZERO(&set);
	for (int i = 0; i < n; i++)
		FD_SET(rd[i], &set);
	struct timeval tv = {30, 0};
	CHECK_EQ(select(maxfd + 1, &set, NULL, NULL, &tv), 1);
	for (int i = 0; i < n; i++)
		CHECK_EQ(!!FD_ISSET(rd[i], &set), i == n - 1);
	pthread_join(th, NULL);
	drain(rd[n - 1]);
}

static void with_epoll(int n)
{
	int ep = SYS(epoll_create1(EPOLL_CLOEXEC));
	for (int i = 0; i < n; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = i};
		SYS(epoll_ctl(ep, EPOLL_CTL_ADD, rd[i], &ev));
	}
	struct epoll_event out[8];
	CHECK_EQ(epoll_wait(ep, out, 8, 0), 0);
	struct late l = {wr[n - 1], 20};
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, late_writer, &l), 0);
	CHECK_EQ(epoll_wait(ep, out, 8, 30000), 1);
	CHECK_EQ(out[0].data.u32, n - 1);
	CHECK_EQ(out[0].events, EPOLLIN);
	pthread_join(th, NULL);
	drain(rd[n - 1]);
	CHECK_EQ(epoll_wait(ep, out, 8, 0), 0);
	close(ep);
}

struct blocked {
	int fd;
	long got;
	char c;
};

static void *blocked_reader(void *arg)
{
	struct blocked *b = arg;
	b->got = read(b->fd, &b->c, 1);
	return NULL;
}

/* Linux: close() does not interrupt a read in progress on the same file;
 * the read holds its own reference and returns the data written later. */
static void close_while_blocked(void)
{
	int p[2];
	SYS(pipe(p));
	struct blocked b = {.fd = p[0], .got = -2};
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, blocked_reader, &b), 0);
	usleep(50000);
	SYS(close(p[0]));
	CHECK_EQ(write(p[1], "z", 1), 1);
	pthread_join(th, NULL);
	CHECK_EQ(b.got, 1);
	CHECK_EQ(b.c, 'z');
	/* The read end is gone now: the writer sees EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	CHECK_ERR(write(p[1], "z", 1), EPIPE);
	close(p[1]);
}

/* The registration lives as long as the file: a dup keeps it, the last
 * close removes it (a later pipe on the same fd number is not watched). */
static void epoll_close_registered(void)
{
	int ep = SYS(epoll_create1(0));
	int p[2];
	SYS(pipe(p));
	struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7}, out[2];
	SYS(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
	int d = SYS(dup(p[0]));
	SYS(close(p[0]));
	CHECK_EQ(write(p[1], "a", 1), 1);
	CHECK_EQ(epoll_wait(ep, out, 2, 1000), 1);
	CHECK_EQ(out[0].data.u32, 7);
	/* The key was (file, old fd): the old number is gone from the table,
	 * so EPOLL_CTL_DEL through it fails. */
	CHECK_ERR(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), EBADF);
	SYS(close(d));
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
	int q[2];
	SYS(pipe(q));
	CHECK_EQ(write(q[1], "b", 1), 1);
	CHECK_EQ(epoll_wait(ep, out, 2, 50), 0);
	close(q[0]);
	close(q[1]);
	close(p[1]);
	close(ep);
}

int main(void)
{
	struct rlimit rl;
	SYS(getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_cur < 2 * NMAX + 64 && rl.rlim_max >= 2 * NMAX + 64) {
		rl.rlim_cur = 2 * NMAX + 64;
		SYS(setrlimit(RLIMIT_NOFILE, &rl));
	}
	int nmax = NMAX;
	if (rl.rlim_cur < 2 * NMAX + 64)
		nmax = (int)(rl.rlim_cur - 64) / 2;
	for (int i = 0; i < nmax; i++) {
		int p[2];
		SYS(pipe2(p, O_CLOEXEC));
		rd[i] = p[0];
		wr[i] = p[1];
	}
	const int sizes[] = {1, 2, 5, 64, 65, 200, 1024};
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		int n = sizes[k] < nmax ? sizes[k] : nmax;
		with_poll(n);
		with_select(n);
		with_epoll(n);
	}
	close_while_blocked();
	epoll_close_registered();
	printf("pollmany: %d checks (up to %d pipes)\n", checks, nmax);
	return 0;
}
