/* AF_UNIX at scale: 1,000 concurrent stream connections on one listener
 * (connected from another process, served through epoll), and many
 * datagram senders to one receiver. */
#include <fcntl.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "check.h"

#define NCONN 1000

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	size_t n = strlen(name);
	memcpy(a->sun_path + 1, name, n);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static void raise_nofile(void)
{
	struct rlimit rl;
	SYS(getrlimit(RLIMIT_NOFILE, &rl));
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < 2 * NCONN + 64)
		FAIL_AT("RLIMIT_NOFILE hard limit %lu too small",
			(unsigned long)rl.rlim_max);
	rl.rlim_cur = 2 * NCONN + 64;
	SYS(setrlimit(RLIMIT_NOFILE, &rl));
}

/* The child connects NCONN clients, then on each sends its index and
 * waits for it back, doubled. */
static int client(const struct sockaddr_un *a, socklen_t al)
{
	static int fds[NCONN];
	for (int i = 0; i < NCONN; i++) {
		fds[i] = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fds[i] < 0)
			return 2;
		if (connect(fds[i], (const struct sockaddr *)a, al))
			return 3;
	}
	for (int i = 0; i < NCONN; i++)
		if (write(fds[i], &i, sizeof(i)) != sizeof(i))
			return 4;
	for (int i = 0; i < NCONN; i++) {
		int v;
		if (read_full(fds[i], &v, sizeof(v)) != sizeof(v) || v != 2 * i)
			return 5;
		close(fds[i]);
	}
	return 0;
}

static void many_streams(void)
{
	int l = SYS(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
	struct sockaddr_un a;
	char name[64];
	snprintf(name, sizeof(name), "bh-many-%d", (int)getpid());
	socklen_t al = abstract_addr(&a, name);
	SYS(bind(l, (struct sockaddr *)&a, al));
	SYS(listen(l, 128));
	int ep = SYS(epoll_create1(EPOLL_CLOEXEC));
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
	SYS(epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev));
	pid_t pid = SYS(fork());
	if (pid == 0)
		_exit(client(&a, al));
	int accepted = 0, served = 0, closed = 0;
	struct epoll_event out[64];
	while (closed < NCONN) {
		int n = epoll_wait(ep, out, 64, 20000);
		if (n <= 0)
			FAIL_AT("epoll_wait = %d (accepted %d served %d closed "
				"%d)",
				n, accepted, served, closed);
		for (int i = 0; i < n; i++) {
			int fd = out[i].data.fd;
			if (fd == l) {
				int s;
				while ((s = accept4(l, NULL, NULL,
						    SOCK_NONBLOCK)) >= 0) {
					accepted++;
					struct epoll_event e = {
					    .events = EPOLLIN | EPOLLRDHUP,
					    .data.fd = s};
					SYS(epoll_ctl(ep, EPOLL_CTL_ADD, s,
						      &e));
				}
				CHECK_EQ(errno, EAGAIN);
				continue;
			}
			int v;
			ssize_t r = read(fd, &v, sizeof(v));
			if (r == sizeof(v)) {
				v *= 2;
				CHECK_EQ(write(fd, &v, sizeof(v)), sizeof(v));
				served++;
			} else if (r == 0) {
				SYS(close(fd));
				closed++;
			} else {
				CHECK(r < 0 && errno == EAGAIN);
			}
		}
	}
	CHECK_EQ(accepted, NCONN);
	CHECK_EQ(served, NCONN);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	SYS(close(ep));
	SYS(close(l));
}

/* Eight processes send 200 datagrams each to one receiver, which counts
 * them all: senders block while its queue is full. */
static void many_dgrams(void)
{
	int r = SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	struct sockaddr_un a;
	char name[64];
	snprintf(name, sizeof(name), "bh-dg-%d", (int)getpid());
	socklen_t al = abstract_addr(&a, name);
	SYS(bind(r, (struct sockaddr *)&a, al));
	enum { NS = 8, PER = 200 };
	pid_t pids[NS];
	for (int k = 0; k < NS; k++) {
		pids[k] = SYS(fork());
		if (pids[k] == 0) {
			int s = socket(AF_UNIX, SOCK_DGRAM, 0);
			for (int i = 0; i < PER; i++) {
				int msg[2] = {k, i};
				if (sendto(s, msg, sizeof(msg), 0,
					   (struct sockaddr *)&a,
					   al) != sizeof(msg))
					_exit(2);
			}
			_exit(0);
		}
	}
	int next[NS] = {0};
	for (int n = 0; n < NS * PER; n++) {
		int msg[2];
		CHECK_EQ(recv(r, msg, sizeof(msg), 0), sizeof(msg));
		CHECK(msg[0] >= 0 && msg[0] < NS);
		/* In order per sender. */
		CHECK_EQ(msg[1], next[msg[0]]);
		next[msg[0]]++;
	}
	for (int k = 0; k < NS; k++) {
		int st;
		CHECK_EQ(waitpid(pids[k], &st, 0), pids[k]);
		CHECK_EQ(child_status(st), 0);
	}
	SYS(close(r));
}

int main(void)
{
	raise_nofile();
	many_streams();
	many_dgrams();
	pass("unix_many");
	return 0;
}
