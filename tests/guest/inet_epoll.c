/* A C epoll echo server (edge-triggered, non-blocking accept) in one
 * process and 1,000 loopback TCP clients open at once in another: every
 * client sends a message, every echo comes back whole. Prints
 * "phase NAME MS" lines; inside Bulkhead the runner passes the native
 * times and each phase has a generous budget relative to them. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"

#define NCLIENTS 1000

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static double native_ms(const char *phase)
{
	const char *s = getenv("BH_NATIVE_TIMES");
	size_t n = strlen(phase);
	while (s && *s) {
		if (!strncmp(s, phase, n) && s[n] == '=')
			return atof(s + n + 1);
		s = strchr(s, ',');
		if (s)
			s++;
	}
	return -1;
}

static void phase_done(const char *phase, double t0)
{
	double ms = now_ms() - t0;
	printf("phase %s %.0f\n", phase, ms);
	fflush(stdout);
	double nat = native_ms(phase);
	/* Generous: a loaded 2-CPU machine, ptrace, ASan. */
	double budget = nat >= 0 ? nat * 200 + 60000 : 300000;
	if (ms > budget)
		FAIL_AT("phase %s took %.0f ms, budget %.0f ms (native %.0f)",
			phase, ms, budget, nat);
}

static void raise_nofile(void)
{
	struct rlimit r;
	SYS(getrlimit(RLIMIT_NOFILE, &r));
	if (r.rlim_cur < NCLIENTS + 64) {
		r.rlim_cur =
		    r.rlim_max < NCLIENTS + 64 ? r.rlim_max : NCLIENTS + 64;
		SYS(setrlimit(RLIMIT_NOFILE, &r));
	}
}

/* Echo whatever arrives on every connection until each has closed. */
static int serve(int l)
{
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return 2;
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
	if (epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev) < 0)
		return 3;
	int accepted = 0, closed = 0;
	while (closed < NCLIENTS) {
		struct epoll_event evs[64];
		int n = epoll_wait(ep, evs, 64, 60000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 4;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			if (fd == l) {
				for (;;) {
					int c = accept4(l, NULL, NULL,
							SOCK_NONBLOCK);
					if (c < 0)
						break;
					accepted++;
					struct epoll_event ce = {
					    .events =
						EPOLLIN | EPOLLET | EPOLLRDHUP,
					    .data.fd = c};
					if (epoll_ctl(ep, EPOLL_CTL_ADD, c,
						      &ce) < 0)
						return 5;
				}
				continue;
			}
			char buf[512];
			for (;;) {
				ssize_t r = read(fd, buf, sizeof(buf));
				if (r > 0) {
					if (write_full(fd, buf, r) != r)
						return 6;
					continue;
				}
				if (r == 0) {
					close(fd);
					closed++;
				} else if (errno != EAGAIN) {
					return 7;
				}
				break;
			}
		}
	}
	return accepted == NCLIENTS ? 0 : 8;
}

int main(void)
{
	raise_nofile();
	int l = SYS(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	SYS(bind(l, (struct sockaddr *)&a, sizeof(a)));
	SYS(listen(l, NCLIENTS));
	socklen_t al = sizeof(a);
	SYS(getsockname(l, (struct sockaddr *)&a, &al));
	pid_t srv = SYS(fork());
	if (srv == 0)
		_exit(serve(l));
	close(l);

	static int fds[NCLIENTS];
	double t0 = now_ms();
	for (int i = 0; i < NCLIENTS; i++) {
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0)
			FAIL_AT("socket %d: %s", i, strerror(errno));
		if (connect(fds[i], (struct sockaddr *)&a, sizeof(a)) < 0)
			FAIL_AT("connect %d: %s", i, strerror(errno));
	}
	phase_done("connect", t0);
	t0 = now_ms();
	for (int i = 0; i < NCLIENTS; i++) {
		char msg[32];
		int n = snprintf(msg, sizeof(msg), "client %d", i);
		CHECK_EQ(write_full(fds[i], msg, n), n);
	}
	for (int i = 0; i < NCLIENTS; i++) {
		char msg[32], got[32];
		int n = snprintf(msg, sizeof(msg), "client %d", i);
		if (read_full(fds[i], got, n) != n || memcmp(got, msg, n))
			FAIL_AT("echo %d wrong", i);
	}
	phase_done("echo", t0);
	t0 = now_ms();
	for (int i = 0; i < NCLIENTS; i++)
		close(fds[i]);
	int st;
	SYS(waitpid(srv, &st, 0));
	CHECK_EQ(child_status(st), 0);
	phase_done("close", t0);
	pass("inet_epoll");
	return 0;
}
