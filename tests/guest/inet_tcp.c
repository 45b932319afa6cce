/* TCP over loopback: an echo between two processes, addresses, options,
 * non-blocking and blocking connect to a closed port, EPIPE/SIGPIPE,
 * SO_RCVTIMEO, MSG_PEEK/WAITALL, shutdown, and refused raw and packet
 * sockets. Ports are always the kernel's choice (bind to port 0), since
 * other programs may share the host's loopback when this runs natively. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <linux/capability.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"

static struct sockaddr_in loopback(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons(port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	return a;
}

/* A listening socket on 127.0.0.1 and its port. */
static int listener(uint16_t *port)
{
	int s = SYS(socket(AF_INET, SOCK_STREAM, 0));
	int one = 1;
	SYS(setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)));
	struct sockaddr_in a = loopback(0);
	SYS(bind(s, (struct sockaddr *)&a, sizeof(a)));
	SYS(listen(s, 16));
	socklen_t l = sizeof(a);
	SYS(getsockname(s, (struct sockaddr *)&a, &l));
	CHECK_EQ(l, sizeof(a));
	CHECK_EQ(a.sin_family, AF_INET);
	CHECK(a.sin_port != 0);
	*port = ntohs(a.sin_port);
	return s;
}

static int connect_to(uint16_t port)
{
	int c = SYS(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
	struct sockaddr_in a = loopback(port);
	SYS(connect(c, (struct sockaddr *)&a, sizeof(a)));
	return c;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#define ECHO_BYTES (1 << 20)

/* A child echoes everything back until EOF; the parent sends 1 MiB from a
 * second thread of control (a forked writer) and checks every byte. */
static void test_echo(void)
{
	uint16_t port;
	int l = listener(&port);
	pid_t srv = SYS(fork());
	if (srv == 0) {
		int a = accept4(l, NULL, NULL, SOCK_CLOEXEC);
		if (a < 0)
			_exit(2);
		char buf[8192];
		for (;;) {
			ssize_t n = read(a, buf, sizeof(buf));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				_exit(n == 0 ? 0 : 3);
			if (write_full(a, buf, n) != n)
				_exit(4);
		}
	}
	close(l);
	int c = connect_to(port);
	struct sockaddr_in peer;
	socklen_t pl = sizeof(peer);
	SYS(getpeername(c, (struct sockaddr *)&peer, &pl));
	CHECK_EQ(ntohs(peer.sin_port), port);
	CHECK_EQ(peer.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	int one = 1, v = 0;
	socklen_t vl = sizeof(v);
	SYS(setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)));
	SYS(getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &v, &vl));
	CHECK(v != 0);
	vl = sizeof(v);
	SYS(getsockopt(c, SOL_SOCKET, SO_TYPE, &v, &vl));
	CHECK_EQ(v, SOCK_STREAM);
	vl = sizeof(v);
	SYS(getsockopt(c, SOL_SOCKET, SO_PROTOCOL, &v, &vl));
	CHECK_EQ(v, IPPROTO_TCP);
	pid_t wr = SYS(fork());
	if (wr == 0) {
		static unsigned char out[ECHO_BYTES];
		for (size_t i = 0; i < sizeof(out); i++)
			out[i] = (unsigned char)(i * 7 + (i >> 11));
		if (write_full(c, out, sizeof(out)) != sizeof(out))
			_exit(2);
		shutdown(c, SHUT_WR);
		_exit(0);
	}
	static unsigned char in[ECHO_BYTES];
	CHECK_EQ(read_full(c, in, sizeof(in)), sizeof(in));
	for (size_t i = 0; i < sizeof(in); i++)
		if (in[i] != (unsigned char)(i * 7 + (i >> 11)))
			FAIL_AT("byte %zu: %u", i, in[i]);
	char x;
	CHECK_EQ(read(c, &x, 1), 0); /* the server closed after our FIN */
	int st;
	SYS(waitpid(wr, &st, 0));
	CHECK_EQ(child_status(st), 0);
	SYS(waitpid(srv, &st, 0));
	CHECK_EQ(child_status(st), 0);
	close(c);
}

/* recv flags and queue ioctls on one connected pair. */
static void test_flags(void)
{
	uint16_t port;
	int l = listener(&port);
	int c = connect_to(port);
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	int a = SYS(accept4(l, (struct sockaddr *)&from, &fl, SOCK_NONBLOCK));
	CHECK_EQ(fl, sizeof(from));
	CHECK_EQ(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	CHECK(fcntl(a, F_GETFL) & O_NONBLOCK);
	char buf[16];
	CHECK_ERR(recv(a, buf, sizeof(buf), 0), EAGAIN);
	CHECK_ERR(recv(c, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	SYS(send(c, "hello world", 11, 0));
	struct pollfd p = {.fd = a, .events = POLLIN};
	CHECK_EQ(poll(&p, 1, 10000), 1);
	CHECK(p.revents & POLLIN);
	int n = 0;
	/* Everything may not have arrived at once over loopback, but 11
	 * bytes sent in one call do. */
	SYS(ioctl(a, FIONREAD, &n));
	CHECK_EQ(n, 11);
	CHECK_EQ(recv(a, buf, 5, MSG_PEEK), 5);
	CHECK(!memcmp(buf, "hello", 5));
	CHECK_EQ(recv(a, buf, 6, 0), 6);
	CHECK(!memcmp(buf, "hello ", 6));
	CHECK_EQ(recv(a, NULL, 2, MSG_TRUNC), 2); /* discards "wo" */
	CHECK_EQ(recv(a, buf, sizeof(buf), 0), 3);
	CHECK(!memcmp(buf, "rld", 3));
	/* MSG_WAITALL on a blocking socket waits for the whole buffer. */
	pid_t w = SYS(fork());
	if (w == 0) {
		for (int i = 0; i < 4; i++) {
			usleep(20000);
			if (send(c, "abcd", 4, 0) != 4)
				_exit(2);
		}
		_exit(0);
	}
	int fla = fcntl(a, F_GETFL);
	SYS(fcntl(a, F_SETFL, fla & ~O_NONBLOCK));
	CHECK_EQ(recv(a, buf, 16, MSG_WAITALL), 16);
	CHECK(!memcmp(buf, "abcdabcdabcdabcd", 16));
	int st;
	SYS(waitpid(w, &st, 0));
	CHECK_EQ(child_status(st), 0);
	SYS(ioctl(c, SIOCOUTQ, &n));
	CHECK(n >= 0);
	/* shutdown(SHUT_WR) is EOF for the peer; it can still send. */
	SYS(shutdown(c, SHUT_WR));
	CHECK_EQ(recv(a, buf, sizeof(buf), 0), 0);
	SYS(send(a, "back", 4, 0));
	CHECK_EQ(recv(c, buf, 4, MSG_WAITALL), 4);
	CHECK_ERR(shutdown(c, 7), EINVAL);
	/* Options outside the allowlist and refused ones. */
	int v = 1;
	CHECK_ERR(setsockopt(c, IPPROTO_TCP, 12345, &v, sizeof(v)),
		  ENOPROTOOPT);
	socklen_t vl = sizeof(v);
	SYS(getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl));
	CHECK_EQ(v, 1);
	struct tcp_info ti;
	vl = sizeof(ti);
	SYS(getsockopt(a, IPPROTO_TCP, TCP_INFO, &ti, &vl));
	CHECK(vl > 0);
	CHECK_EQ(ti.tcpi_state, 8 /* TCP_CLOSE_WAIT */);
	close(a);
	close(c);
	close(l);
}

static void test_closed_port(void)
{
	/* A port nobody listens on: bound, then closed. */
	uint16_t port;
	int l = listener(&port);
	close(l);
	int c = SYS(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0));
	struct sockaddr_in a = loopback(port);
	int r = connect(c, (struct sockaddr *)&a, sizeof(a));
	if (r < 0 && errno == EINPROGRESS) {
		struct pollfd p = {.fd = c, .events = POLLOUT};
		CHECK_EQ(poll(&p, 1, 10000), 1);
		CHECK(p.revents & (POLLOUT | POLLERR | POLLHUP));
		int e = 0;
		socklen_t el = sizeof(e);
		SYS(getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el));
		CHECK_EQ(e, ECONNREFUSED);
		el = sizeof(e);
		SYS(getsockopt(c, SOL_SOCKET, SO_ERROR, &e, &el));
		CHECK_EQ(e, 0); /* read once, then cleared */
	} else {
		CHECK_ERR(r, ECONNREFUSED);
	}
	close(c);
	c = SYS(socket(AF_INET, SOCK_STREAM, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, sizeof(a)), ECONNREFUSED);
	/* Bad addresses. */
	CHECK_ERR(connect(c, (struct sockaddr *)&a, 3), EINVAL);
	struct sockaddr_in bad = a;
	bad.sin_family = AF_UNIX;
	CHECK_ERR(bind(c, (struct sockaddr *)&bad, sizeof(bad)), EAFNOSUPPORT);
	close(c);
}

static volatile sig_atomic_t got_pipe;
static void on_pipe(int sig)
{
	(void)sig;
	got_pipe++;
}

static void test_epipe(void)
{
	uint16_t port;
	int l = listener(&port);
	int c = connect_to(port);
	int a = SYS(accept(l, NULL, NULL));
	close(a);
	struct sigaction sa = {.sa_handler = on_pipe};
	SYS(sigaction(SIGPIPE, &sa, NULL));
	/* The first send may go out before the RST comes back; the peer's
	 * reset then makes a later one fail. */
	int r = 0, e = 0;
	for (int i = 0; i < 100; i++) {
		r = send(c, "x", 1, MSG_NOSIGNAL);
		if (r < 0) {
			e = errno;
			break;
		}
		usleep(10000);
	}
	CHECK_EQ(r, -1);
	CHECK(e == EPIPE || e == ECONNRESET);
	CHECK_EQ(got_pipe, 0);
	/* Now the connection is dead: EPIPE each time, and SIGPIPE
	 * without MSG_NOSIGNAL. */
	CHECK_ERR(send(c, "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK_EQ(got_pipe, 0);
	CHECK_ERR(write(c, "x", 1), EPIPE);
	CHECK_EQ(got_pipe, 1);
	CHECK_ERR(send(c, "x", 1, 0), EPIPE);
	CHECK_EQ(got_pipe, 2);
	signal(SIGPIPE, SIG_DFL);
	close(c);
	close(l);
}

static void test_rcvtimeo(void)
{
	uint16_t port;
	int l = listener(&port);
	int c = connect_to(port);
	int a = SYS(accept(l, NULL, NULL));
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	SYS(setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	struct timeval got;
	socklen_t gl = sizeof(got);
	SYS(getsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &got, &gl));
	CHECK_EQ(got.tv_usec, 200000);
	char buf[4];
	double t0 = now_ms();
	CHECK_ERR(recv(c, buf, sizeof(buf), 0), EAGAIN);
	double dt = now_ms() - t0;
	CHECK(dt >= 190);
	CHECK(dt < 5000);
	/* The accept of a listener with SO_RCVTIMEO times out the same way. */
	SYS(setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	CHECK_ERR(accept(l, NULL, NULL), EAGAIN);
	/* Data that arrives during the wait ends it. */
	pid_t w = SYS(fork());
	if (w == 0) {
		usleep(50000);
		_exit(send(a, "ok", 2, 0) == 2 ? 0 : 2);
	}
	tv.tv_sec = 10;
	SYS(setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	CHECK_EQ(recv(c, buf, sizeof(buf), 0), 2);
	int st;
	SYS(waitpid(w, &st, 0));
	CHECK_EQ(child_status(st), 0);
	close(a);
	close(c);
	close(l);
}

/* A blocking recv interrupted by a signal with a handler: EINTR when the
 * handler is not SA_RESTART. */
static void on_alarm(int sig)
{
	(void)sig;
}

static void test_eintr(void)
{
	uint16_t port;
	int l = listener(&port);
	int c = connect_to(port);
	struct sigaction sa = {.sa_handler = on_alarm};
	SYS(sigaction(SIGALRM, &sa, NULL));
	struct itimerval it = {.it_value = {.tv_usec = 100000}};
	SYS(setitimer(ITIMER_REAL, &it, NULL));
	char b;
	CHECK_ERR(recv(c, &b, 1, 0), EINTR);
	signal(SIGALRM, SIG_DFL);
	close(c);
	close(l);
}

/* Raw and packet sockets need CAP_NET_RAW: natively the runner is root,
 * so a child drops it first; in Bulkhead they are refused even with it. */
static void test_refused_kinds(void)
{
	pid_t p = SYS(fork());
	if (p) {
		int st;
		SYS(waitpid(p, &st, 0));
		CHECK_EQ(child_status(st), 0);
		return;
	}
	struct __user_cap_header_struct h = {.version =
						 _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	SYS(syscall(SYS_capget, &h, d));
	d[CAP_NET_RAW / 32].effective &= ~(1u << (CAP_NET_RAW % 32));
	SYS(syscall(SYS_capset, &h, d));
	CHECK_ERR(socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM);
	CHECK_ERR(socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6), EPERM);
	CHECK_ERR(socket(AF_PACKET, SOCK_RAW, htons(0x0003)), EPERM);
	CHECK_ERR(socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT);
	CHECK_ERR(socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP), EPROTONOSUPPORT);
	_exit(0);
}

int main(void)
{
	test_echo();
	test_flags();
	test_closed_port();
	test_epipe();
	test_rcvtimeo();
	test_eintr();
	test_refused_kinds();
	pass("inet_tcp");
	return 0;
}
