/* AF_UNIX sockets: stream, datagram and seqpacket data, names (abstract,
 * autobind, paths on tmpfs and on the rootfs), connect/listen/accept and
 * the backlog, shutdown and its poll bits, EPIPE/SIGPIPE, the MSG_* flags,
 * options and ioctls. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include "check.h"

#ifndef SIOCOUTQ
#define SIOCOUTQ TIOCOUTQ
#endif
#ifndef SO_PEERSEC
#define SO_PEERSEC 31
#endif

static socklen_t abstract_addr(struct sockaddr_un *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	size_t n = strlen(name);
	memcpy(a->sun_path + 1, name, n);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}

static socklen_t path_addr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	strcpy(a->sun_path, path);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
			   strlen(path) + 1);
}

/* A unique abstract name per run, so that runs do not collide natively. */
static const char *uniq(const char *base)
{
	static char buf[8][64];
	static int k;
	char *b = buf[k++ % 8];
	snprintf(b, 64, "bh-%s-%d", base, (int)getpid());
	return b;
}

static short poll1(int fd, short ev, int ms)
{
	struct pollfd p = {.fd = fd, .events = ev};
	int r = poll(&p, 1, ms);
	return r > 0 ? p.revents : 0;
}

static void stream_pair(void)
{
	int sv[2];
	char buf[64];
	SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_EQ(write(sv[0], "hello", 5), 5);
	CHECK_EQ(write(sv[0], "world", 5), 5);
	/* Byte semantics: both writes in one read. */
	CHECK_EQ(read(sv[1], buf, sizeof(buf)), 10);
	CHECK(memcmp(buf, "helloworld", 10) == 0);
	CHECK_EQ(send(sv[1], "abc", 3, 0), 3);
	CHECK_EQ(recv(sv[0], buf, 2, 0), 2);
	CHECK_EQ(recv(sv[0], buf + 2, 10, 0), 1);
	CHECK(memcmp(buf, "abc", 3) == 0);
	/* Nothing there: MSG_DONTWAIT gives EAGAIN. */
	CHECK_ERR(recv(sv[0], buf, 1, MSG_DONTWAIT), EAGAIN);
	/* MSG_PEEK leaves the data; peeking crosses writes. */
	CHECK_EQ(write(sv[0], "12", 2), 2);
	CHECK_EQ(write(sv[0], "34", 2), 2);
	CHECK_EQ(recv(sv[1], buf, 4, MSG_PEEK), 4);
	CHECK(memcmp(buf, "1234", 4) == 0);
	CHECK_EQ(recv(sv[1], buf, 3, 0), 3);
	CHECK(memcmp(buf, "123", 3) == 0);
	int n = -1;
	SYS(ioctl(sv[1], FIONREAD, &n));
	CHECK_EQ(n, 1);
	SYS(ioctl(sv[0], SIOCOUTQ, &n));
	CHECK(n > 0);
	CHECK_EQ(recv(sv[1], buf, 3, 0), 1);
	SYS(ioctl(sv[1], FIONREAD, &n));
	CHECK_EQ(n, 0);
	SYS(ioctl(sv[0], SIOCOUTQ, &n));
	CHECK_EQ(n, 0);
	/* Options. */
	int v = -1;
	socklen_t l = sizeof(v);
	SYS(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &l));
	CHECK_EQ(v, SOCK_STREAM);
	l = sizeof(v);
	SYS(getsockopt(sv[0], SOL_SOCKET, SO_ERROR, &v, &l));
	CHECK_EQ(v, 0);
	l = sizeof(v);
	SYS(getsockopt(sv[0], SOL_SOCKET, SO_ACCEPTCONN, &v, &l));
	CHECK_EQ(v, 0);
	struct ucred uc;
	l = sizeof(uc);
	SYS(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &l));
	CHECK_EQ(l, sizeof(uc));
	CHECK_EQ(uc.pid, getpid());
	CHECK_EQ(uc.uid, geteuid());
	CHECK_EQ(uc.gid, getegid());
	char sec[256];
	l = sizeof(sec);
	CHECK_ERR(getsockopt(sv[0], SOL_SOCKET, SO_PEERSEC, sec, &l),
		  ENOPROTOOPT);
	v = 1;
	SYS(setsockopt(sv[0], SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)));
	/* Unnamed sockets: only the family, length 2. */
	struct sockaddr_un a;
	l = sizeof(a);
	SYS(getsockname(sv[0], (struct sockaddr *)&a, &l));
	CHECK_EQ(l, sizeof(sa_family_t));
	CHECK_EQ(a.sun_family, AF_UNIX);
	l = sizeof(a);
	SYS(getpeername(sv[0], (struct sockaddr *)&a, &l));
	CHECK_EQ(l, sizeof(sa_family_t));
	SYS(close(sv[0]));
	SYS(close(sv[1]));
}

static void shutdown_bits(void)
{
	int sv[2];
	char buf[8];
	SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	CHECK_EQ(poll1(sv[0], POLLIN | POLLOUT | POLLRDHUP, 0), POLLOUT);
	SYS(shutdown(sv[0], SHUT_WR));
	/* The peer sees EOF and POLLRDHUP, still writable. */
	CHECK_EQ(poll1(sv[1], POLLIN | POLLOUT | POLLRDHUP, 0),
		 POLLIN | POLLOUT | POLLRDHUP);
	CHECK_EQ(read(sv[1], buf, sizeof(buf)), 0);
	CHECK_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	/* The other way still works. */
	CHECK_EQ(write(sv[1], "y", 1), 1);
	CHECK_EQ(read(sv[0], buf, 1), 1);
	SYS(shutdown(sv[1], SHUT_WR));
	/* Both directions shut: POLLHUP on both. */
	CHECK(poll1(sv[0], POLLIN, 0) & POLLHUP);
	CHECK(poll1(sv[1], POLLIN, 0) & POLLHUP);
	SYS(close(sv[0]));
	SYS(close(sv[1]));

	/* SHUT_RD: reads see EOF at once. */
	SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	SYS(shutdown(sv[0], SHUT_RD));
	CHECK_EQ(read(sv[0], buf, 1), 0);
	CHECK(poll1(sv[0], POLLIN | POLLRDHUP, 0) & POLLRDHUP);
	CHECK_ERR(send(sv[1], "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK_ERR(shutdown(sv[0], 7), EINVAL);
	SYS(close(sv[0]));
	SYS(close(sv[1]));

	/* The peer closed: POLLHUP, EOF. */
	SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	SYS(close(sv[1]));
	CHECK_EQ(poll1(sv[0], POLLIN | POLLRDHUP, 0),
		 POLLIN | POLLRDHUP | POLLHUP);
	CHECK_EQ(read(sv[0], buf, 1), 0);
	SYS(close(sv[0]));
}

static volatile sig_atomic_t sigpipes;
static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static void epipe(void)
{
	struct sigaction sa = {.sa_handler = on_sigpipe};
	SYS(sigaction(SIGPIPE, &sa, NULL));
	int sv[2];
	SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	SYS(close(sv[1]));
	CHECK_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK_EQ(sigpipes, 0);
	CHECK_ERR(write(sv[0], "x", 1), EPIPE);
	CHECK_EQ(sigpipes, 1);
	CHECK_ERR(send(sv[0], "x", 1, 0), EPIPE);
	CHECK_EQ(sigpipes, 2);
	SYS(close(sv[0]));
	/* Datagram and seqpacket sockets: EPIPE, but no SIGPIPE. */
	SYS(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	SYS(close(sv[1]));
	CHECK_ERR(send(sv[0], "x", 1, 0), EPIPE);
	CHECK_ERR(write(sv[0], "x", 1), EPIPE);
	SYS(close(sv[0]));
	SYS(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	SYS(shutdown(sv[1], SHUT_RD));
	CHECK_ERR(send(sv[0], "x", 1, 0), EPIPE);
	SYS(shutdown(sv[0], SHUT_WR));
	CHECK_ERR(send(sv[0], "x", 1, 0), EPIPE);
	/* Not passed on to a datagram peer. */
	char b;
	CHECK_ERR(recv(sv[1], &b, 1, MSG_DONTWAIT), EAGAIN);
	CHECK_EQ(sigpipes, 2);
	SYS(close(sv[0]));
	SYS(close(sv[1]));
	/* A listener shut for reading refuses connections. */
	int l = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	struct sockaddr_un a;
	socklen_t al = abstract_addr(&a, uniq("shl"));
	SYS(bind(l, (struct sockaddr *)&a, al));
	SYS(listen(l, 1));
	SYS(shutdown(l, SHUT_RD));
	int c = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, al), ECONNREFUSED);
	SYS(close(c));
	SYS(close(l));
	signal(SIGPIPE, SIG_DFL);
}

static void dgram(void)
{
	int a = SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	int b = SYS(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
	CHECK_EQ(fcntl(b, F_GETFD), FD_CLOEXEC);
	struct sockaddr_un aa, ba, from;
	socklen_t al = abstract_addr(&aa, uniq("dga"));
	socklen_t bl = abstract_addr(&ba, uniq("dgb"));
	SYS(bind(a, (struct sockaddr *)&aa, al));
	SYS(bind(b, (struct sockaddr *)&ba, bl));
	CHECK_ERR(bind(a, (struct sockaddr *)&ba, bl), EINVAL);
	int c = SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_ERR(bind(c, (struct sockaddr *)&ba, bl), EADDRINUSE);
	/* Not connected: no default destination. */
	CHECK_ERR(send(a, "x", 1, 0), ENOTCONN);
	CHECK_EQ(sendto(a, "one", 3, 0, (struct sockaddr *)&ba, bl), 3);
	CHECK_EQ(sendto(a, "second", 6, 0, (struct sockaddr *)&ba, bl), 6);
	char buf[64];
	socklen_t fl = sizeof(from);
	/* Record boundaries; the source's name. */
	CHECK_EQ(
	    recvfrom(b, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 3);
	CHECK_EQ(fl, al);
	CHECK(memcmp(&from, &aa, al) == 0);
	/* MSG_PEEK, then MSG_TRUNC: the real length, the flag. */
	CHECK_EQ(recv(b, buf, 2, MSG_PEEK), 2);
	struct iovec iov = {buf, 2};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	CHECK_EQ(recvmsg(b, &mh, 0), 2);
	CHECK(mh.msg_flags & MSG_TRUNC);
	CHECK(memcmp(buf, "se", 2) == 0);
	CHECK_ERR(recv(b, buf, 1, MSG_DONTWAIT), EAGAIN);
	CHECK_EQ(sendto(a, "0123456789", 10, 0, (struct sockaddr *)&ba, bl),
		 10);
	CHECK_EQ(recv(b, buf, 4, MSG_TRUNC), 10);
	/* Unnamed sender: no source address. */
	CHECK_EQ(sendto(c, "z", 1, 0, (struct sockaddr *)&ba, bl), 1);
	fl = sizeof(from);
	CHECK_EQ(
	    recvfrom(b, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 1);
	CHECK_EQ(fl, 0);
	/* connect sets the default peer; a socket connected elsewhere
	 * refuses others. */
	SYS(connect(a, (struct sockaddr *)&ba, bl));
	CHECK_EQ(send(a, "dflt", 4, 0), 4);
	CHECK_EQ(recv(b, buf, sizeof(buf), 0), 4);
	SYS(connect(b, (struct sockaddr *)&aa, al));
	CHECK_ERR(sendto(c, "z", 1, 0, (struct sockaddr *)&ba, bl), EPERM);
	struct sockaddr_un pa;
	socklen_t pl = sizeof(pa);
	SYS(getpeername(a, (struct sockaddr *)&pa, &pl));
	CHECK_EQ(pl, bl);
	CHECK(memcmp(&pa, &ba, bl) == 0);
	/* Too big for the send buffer. */
	int sb = 0;
	socklen_t sl = sizeof(sb);
	SYS(getsockopt(a, SOL_SOCKET, SO_SNDBUF, &sb, &sl));
	char *big = calloc(1, (size_t)sb + 1);
	CHECK_ERR(send(a, big, (size_t)sb + 1, 0), EMSGSIZE);
	free(big);
	/* The peer went: ECONNREFUSED, then unconnected. */
	SYS(close(b));
	CHECK_ERR(send(a, "x", 1, 0), ECONNREFUSED);
	CHECK_ERR(send(a, "x", 1, 0), ENOTCONN);
	CHECK_ERR(sendto(c, "z", 1, 0, (struct sockaddr *)&ba, bl),
		  ECONNREFUSED);
	/* The name is free again. */
	b = SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	SYS(bind(b, (struct sockaddr *)&ba, bl));
	SYS(close(a));
	SYS(close(b));
	SYS(close(c));

	/* A full receiver queue: a non-blocking sender gets EAGAIN and is
	 * not writable until the receiver reads. */
	a = SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	b = SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	bl = abstract_addr(&ba, uniq("dgq"));
	SYS(bind(b, (struct sockaddr *)&ba, bl));
	SYS(connect(a, (struct sockaddr *)&ba, bl));
	int sent = 0;
	while (send(a, "q", 1, MSG_DONTWAIT) == 1 && sent < 100000)
		sent++;
	CHECK_EQ(errno, EAGAIN);
	CHECK(sent > 0 && sent < 100000);
	CHECK_EQ(poll1(a, POLLOUT, 0), 0);
	CHECK_EQ(recv(b, buf, 1, 0), 1);
	CHECK(poll1(a, POLLOUT, 1000) & POLLOUT);
	SYS(close(a));
	SYS(close(b));
}

static void seqpacket(void)
{
	int sv[2];
	char buf[64];
	SYS(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv));
	CHECK_EQ(write(sv[0], "abc", 3), 3);
	CHECK_EQ(write(sv[0], "defgh", 5), 5);
	CHECK_EQ(read(sv[1], buf, sizeof(buf)), 3);
	struct iovec iov = {buf, 2};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	CHECK_EQ(recvmsg(sv[1], &mh, 0), 2);
	CHECK(mh.msg_flags & MSG_TRUNC);
	CHECK(memcmp(buf, "de", 2) == 0);
	CHECK_ERR(recv(sv[1], buf, 1, MSG_DONTWAIT), EAGAIN);
	SYS(close(sv[0]));
	CHECK(poll1(sv[1], POLLIN, 0) & POLLHUP);
	CHECK_EQ(read(sv[1], buf, sizeof(buf)), 0);
	SYS(close(sv[1]));

	/* Listen/accept: records keep their boundaries. */
	int l = SYS(socket(AF_UNIX, SOCK_SEQPACKET, 0));
	struct sockaddr_un a;
	socklen_t al = abstract_addr(&a, uniq("seq"));
	SYS(bind(l, (struct sockaddr *)&a, al));
	SYS(listen(l, 5));
	int c = SYS(socket(AF_UNIX, SOCK_SEQPACKET, 0));
	CHECK_ERR(recv(c, buf, 1, 0), ENOTCONN);
	SYS(connect(c, (struct sockaddr *)&a, al));
	int s = SYS(accept(l, NULL, NULL));
	CHECK_EQ(send(c, "rec1", 4, 0), 4);
	CHECK_EQ(send(c, "rec22", 5, 0), 5);
	CHECK_EQ(recv(s, buf, sizeof(buf), 0), 4);
	CHECK_EQ(recv(s, buf, sizeof(buf), 0), 5);
	/* A stream client cannot reach a seqpacket listener. */
	int w = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(connect(w, (struct sockaddr *)&a, al), ECONNREFUSED);
	SYS(close(w));
	SYS(close(c));
	SYS(close(s));
	SYS(close(l));
}

static void listen_accept(void)
{
	int l = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	struct sockaddr_un a, got;
	socklen_t al = abstract_addr(&a, uniq("lst"));
	/* An unbound socket does not listen. */
	CHECK_ERR(listen(l, 5), EINVAL);
	SYS(bind(l, (struct sockaddr *)&a, al));
	SYS(listen(l, 5));
	int v = 0;
	socklen_t vl = sizeof(v);
	SYS(getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl));
	CHECK_EQ(v, 1);
	SYS(fcntl(l, F_SETFL, O_NONBLOCK));
	CHECK_ERR(accept(l, NULL, NULL), EAGAIN);
	SYS(fcntl(l, F_SETFL, 0));
	CHECK(!(poll1(l, POLLIN, 0) & POLLIN));
	int c = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	SYS(connect(c, (struct sockaddr *)&a, al));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, al), EISCONN);
	CHECK(poll1(l, POLLIN, 0) & POLLIN);
	/* Data sent before the accept waits for it. */
	CHECK_EQ(write(c, "early", 5), 5);
	socklen_t gl = sizeof(got);
	int s = SYS(accept4(l, (struct sockaddr *)&got, &gl,
			    SOCK_CLOEXEC | SOCK_NONBLOCK));
	CHECK_EQ(gl, sizeof(sa_family_t)); /* the client is unnamed */
	CHECK_EQ(fcntl(s, F_GETFD), FD_CLOEXEC);
	CHECK(fcntl(s, F_GETFL) & O_NONBLOCK);
	char buf[16];
	CHECK_EQ(read(s, buf, sizeof(buf)), 5);
	CHECK(memcmp(buf, "early", 5) == 0);
	/* Names: the accepted socket has the listener's; the client sees
	 * the listener's as its peer. */
	gl = sizeof(got);
	SYS(getsockname(s, (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, al);
	CHECK(memcmp(&got, &a, al) == 0);
	gl = sizeof(got);
	SYS(getpeername(c, (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, al);
	CHECK(memcmp(&got, &a, al) == 0);
	/* Truncated name: the full length is reported. */
	gl = 4;
	SYS(getpeername(c, (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, al);
	struct ucred uc;
	socklen_t ul = sizeof(uc);
	SYS(getsockopt(c, SOL_SOCKET, SO_PEERCRED, &uc, &ul));
	CHECK_EQ(uc.pid, getpid());
	SYS(close(c));
	SYS(close(s));

	/* SO_PEERCRED from another process: its pid. */
	pid_t pid = SYS(fork());
	if (pid == 0) {
		int c2 = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(c2, (struct sockaddr *)&a, al))
			_exit(2);
		struct ucred pc;
		socklen_t pcl = sizeof(pc);
		if (getsockopt(c2, SOL_SOCKET, SO_PEERCRED, &pc, &pcl) ||
		    pc.pid != getppid())
			_exit(3);
		char b;
		if (read(c2, &b, 1) != 1)
			_exit(4);
		_exit(0);
	}
	s = SYS(accept(l, NULL, NULL));
	ul = sizeof(uc);
	SYS(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &uc, &ul));
	CHECK_EQ(uc.pid, pid);
	CHECK_EQ(write(s, "k", 1), 1);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	SYS(close(s));

	/* Closing the listener refuses connections; pending ones see the
	 * end. */
	c = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	SYS(connect(c, (struct sockaddr *)&a, al));
	SYS(close(l));
	CHECK_ERR(read(c, buf, 1), ECONNRESET);
	CHECK_EQ(read(c, buf, 1), 0);
	SYS(close(c));
	c = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, al), ECONNREFUSED);
	/* Stream recv on an unconnected socket. */
	CHECK_ERR(recv(c, buf, 1, 0), EINVAL);
	CHECK_ERR(send(c, "x", 1, MSG_NOSIGNAL), ENOTCONN);
	SYS(close(c));
}

/* As Linux: backlog n takes n + 1 pending connections; then a
 * non-blocking connect gets EAGAIN and a blocking one waits (its
 * SO_SNDTIMEO, then EAGAIN) until an accept makes room. */
static void backlog(void)
{
	int l = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	struct sockaddr_un a;
	socklen_t al = abstract_addr(&a, uniq("bkl"));
	SYS(bind(l, (struct sockaddr *)&a, al));
	SYS(listen(l, 1));
	int cs[8], n = 0;
	for (; n < 8; n++) {
		cs[n] = SYS(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
		if (connect(cs[n], (struct sockaddr *)&a, al) < 0)
			break;
	}
	CHECK_EQ(n, 2);
	CHECK_EQ(errno, EAGAIN);
	SYS(close(cs[n]));
	int b = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	struct timeval tv = {0, 100000};
	SYS(setsockopt(b, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)));
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_ERR(connect(b, (struct sockaddr *)&a, al), EAGAIN);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 +
		  (t1.tv_nsec - t0.tv_nsec) / 1000000;
	CHECK(ms >= 90);
	/* A blocked connect finishes when an accept makes room. */
	pid_t pid = SYS(fork());
	if (pid == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);
		_exit(connect(c, (struct sockaddr *)&a, al) == 0 ? 0 : 1);
	}
	usleep(100000);
	int s = SYS(accept(l, NULL, NULL));
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	SYS(close(s));
	for (int i = 0; i < n; i++)
		SYS(close(cs[i]));
	SYS(close(b));
	SYS(close(l));
	/* listen(0) takes one. */
	l = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	al = abstract_addr(&a, uniq("bk0"));
	SYS(bind(l, (struct sockaddr *)&a, al));
	SYS(listen(l, 0));
	int c1 = SYS(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
	int c2 = SYS(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0));
	SYS(connect(c1, (struct sockaddr *)&a, al));
	CHECK_ERR(connect(c2, (struct sockaddr *)&a, al), EAGAIN);
	SYS(close(c1));
	SYS(close(c2));
	SYS(close(l));
}

static void autobind(void)
{
	int s = SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	SYS(bind(s, (struct sockaddr *)&a, sizeof(sa_family_t)));
	socklen_t l = sizeof(a);
	SYS(getsockname(s, (struct sockaddr *)&a, &l));
	/* "\0" and five hex digits. */
	CHECK_EQ(l, offsetof(struct sockaddr_un, sun_path) + 6);
	CHECK_EQ(a.sun_path[0], 0);
	for (int i = 1; i <= 5; i++)
		CHECK(strchr("0123456789abcdef", a.sun_path[i]) &&
		      a.sun_path[i]);
	/* Reachable by that name. */
	int c = SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_EQ(sendto(c, "a", 1, 0, (struct sockaddr *)&a, l), 1);
	char b;
	CHECK_EQ(recv(s, &b, 1, 0), 1);
	/* Bound already: EINVAL. */
	struct sockaddr_un x;
	socklen_t xl = abstract_addr(&x, uniq("ab2"));
	CHECK_ERR(bind(s, (struct sockaddr *)&x, xl), EINVAL);
	/* Bad addresses. */
	x.sun_family = AF_INET;
	CHECK_ERR(bind(c, (struct sockaddr *)&x, xl), EINVAL);
	x.sun_family = AF_UNIX;
	CHECK_ERR(bind(c, (struct sockaddr *)&x, sizeof(x) + 1), EINVAL);
	CHECK_ERR(connect(c, (struct sockaddr *)&x, sizeof(sa_family_t)),
		  EINVAL);
	/* SO_PASSCRED autobinds a sender. */
	int d = SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	int one = 1;
	SYS(setsockopt(d, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)));
	CHECK_EQ(sendto(d, "p", 1, 0, (struct sockaddr *)&a, l), 1);
	struct sockaddr_un dn;
	socklen_t dl = sizeof(dn);
	SYS(getsockname(d, (struct sockaddr *)&dn, &dl));
	CHECK_EQ(dl, offsetof(struct sockaddr_un, sun_path) + 6);
	SYS(close(s));
	SYS(close(c));
	SYS(close(d));
}

/* Path names on a directory: bind makes a socket inode, connect finds it
 * (with permission checks), unlink removes the name. */
static void path_names(const char *dir)
{
	char path[108];
	snprintf(path, sizeof(path), "%s/bh-unix-%d", dir, (int)getpid());
	unlink(path);
	struct sockaddr_un a, got;
	socklen_t al = path_addr(&a, path);
	int l = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	SYS(bind(l, (struct sockaddr *)&a, al));
	struct stat st;
	SYS(lstat(path, &st));
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0777 & ~umask(022));
	umask(022);
	socklen_t gl = sizeof(got);
	SYS(getsockname(l, (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, al);
	CHECK_STR(got.sun_path, path);
	/* The name is taken, by a socket or by anything else. */
	int x = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(bind(x, (struct sockaddr *)&a, al), EADDRINUSE);
	/* Not listening yet. */
	CHECK_ERR(connect(x, (struct sockaddr *)&a, al), ECONNREFUSED);
	SYS(close(x));
	SYS(listen(l, 4));
	int c = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	SYS(connect(c, (struct sockaddr *)&a, al));
	int s = SYS(accept(l, NULL, NULL));
	CHECK_EQ(write(c, "via path", 8), 8);
	char buf[16];
	CHECK_EQ(read(s, buf, sizeof(buf)), 8);
	gl = sizeof(got);
	SYS(getpeername(c, (struct sockaddr *)&got, &gl));
	CHECK_EQ(gl, al);
	CHECK_STR(got.sun_path, path);
	SYS(close(s));
	SYS(close(c));
	/* A socket node is not opened. */
	CHECK_ERR(open(path, O_RDWR), ENXIO);
	/* A relative name works from the directory. */
	char cwd[256];
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	SYS(chdir(dir));
	struct sockaddr_un r;
	char rel[64];
	snprintf(rel, sizeof(rel), "bh-unix-%d", (int)getpid());
	socklen_t rl = path_addr(&r, rel);
	c = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	SYS(connect(c, (struct sockaddr *)&r, rl));
	SYS(close(c));
	SYS(chdir(cwd));
	/* Write permission on the node is needed to connect. */
	if (geteuid() != 0) {
		SYS(chmod(path, 0555));
		c = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
		CHECK_ERR(connect(c, (struct sockaddr *)&a, al), EACCES);
		SYS(close(c));
		SYS(chmod(path, 0755));
	}
	/* unlink: the name is gone; the socket lives on. */
	SYS(unlink(path));
	c = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, al), ENOENT);
	SYS(close(c));
	/* A regular file by that name: EADDRINUSE to bind, ECONNREFUSED
	 * to connect. */
	int f = SYS(open(path, O_CREAT | O_WRONLY, 0666));
	SYS(close(f));
	x = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(bind(x, (struct sockaddr *)&a, al), EADDRINUSE);
	CHECK_ERR(connect(x, (struct sockaddr *)&a, al), ECONNREFUSED);
	SYS(unlink(path));
	/* Closed listener: its node stays, and refuses. */
	SYS(bind(x, (struct sockaddr *)&a, al));
	SYS(listen(x, 1));
	SYS(close(x));
	c = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(connect(c, (struct sockaddr *)&a, al), ECONNREFUSED);
	SYS(close(c));
	SYS(unlink(path));
	/* A missing directory. */
	char bad[128];
	snprintf(bad, sizeof(bad), "%s/no-such-dir/s", dir);
	socklen_t bdl = path_addr(&r, bad);
	c = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	CHECK_ERR(bind(c, (struct sockaddr *)&r, bdl), ENOENT);
	CHECK_ERR(connect(c, (struct sockaddr *)&r, bdl), ENOENT);
	SYS(close(c));
	/* Datagrams by path. */
	int d = SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	SYS(bind(d, (struct sockaddr *)&a, al));
	int e = SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	CHECK_EQ(sendto(e, "pd", 2, 0, (struct sockaddr *)&a, al), 2);
	CHECK_EQ(recv(d, buf, sizeof(buf), 0), 2);
	SYS(close(d));
	SYS(close(e));
	SYS(unlink(path));
	SYS(close(l));
}

/* MSG_WAITALL waits for the whole length across writes. */
static void *slow_writer(void *arg)
{
	int fd = *(int *)arg;
	for (int i = 0; i < 4; i++) {
		usleep(20000);
		if (write(fd, "ab", 2) != 2)
			return (void *)1;
	}
	return NULL;
}

static void waitall_and_timeouts(void)
{
	int sv[2];
	SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pthread_t th;
	CHECK_EQ(pthread_create(&th, NULL, slow_writer, &sv[0]), 0);
	char buf[16];
	CHECK_EQ(recv(sv[1], buf, 8, MSG_WAITALL), 8);
	CHECK(memcmp(buf, "abababab", 8) == 0);
	void *ret;
	CHECK_EQ(pthread_join(th, &ret), 0);
	CHECK(ret == NULL);
	/* SO_RCVTIMEO: EAGAIN after the time. */
	struct timeval tv = {0, 50000};
	SYS(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	CHECK_ERR(recv(sv[1], buf, 1, 0), EAGAIN);
	/* A signal interrupts a blocking read (no SA_RESTART). */
	tv.tv_usec = 0;
	SYS(setsockopt(sv[1], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)));
	struct sigaction sa = {.sa_handler = on_sigpipe};
	SYS(sigaction(SIGALRM, &sa, NULL));
	struct itimerval it = {{0, 0}, {0, 50000}};
	SYS(setitimer(ITIMER_REAL, &it, NULL));
	CHECK_ERR(recv(sv[1], buf, 1, 0), EINTR);
	signal(SIGALRM, SIG_DFL);
	/* A blocked reader is woken by a write from another thread. */
	CHECK_EQ(pthread_create(&th, NULL, slow_writer, &sv[0]), 0);
	CHECK_EQ(recv(sv[1], buf, 2, 0), 2);
	CHECK_EQ(pthread_join(th, &ret), 0);
	SYS(close(sv[0]));
	SYS(close(sv[1]));
}

/* SO_SNDBUF is a real limit: a non-blocking writer gets EAGAIN after
 * about that much. */
static void sndbuf(void)
{
	int sv[2];
	SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	int v = 16384;
	SYS(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)));
	socklen_t l = sizeof(v);
	SYS(getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, &l));
	CHECK_EQ(v, 32768); /* doubled, as Linux */
	SYS(fcntl(sv[0], F_SETFL, O_NONBLOCK));
	char chunk[1000];
	memset(chunk, 'x', sizeof(chunk));
	long total = 0;
	ssize_t r;
	while ((r = write(sv[0], chunk, sizeof(chunk))) > 0)
		total += r;
	CHECK_EQ(errno, EAGAIN);
	CHECK(total >= 32768 / 8 && total <= 32768 * 2);
	CHECK_EQ(poll1(sv[0], POLLOUT, 0), 0);
	/* Reading makes room. */
	char *sink = malloc((size_t)total);
	CHECK_EQ(read_full(sv[1], sink, (size_t)total), total);
	free(sink);
	CHECK(poll1(sv[0], POLLOUT, 1000) & POLLOUT);
	CHECK_EQ(write(sv[0], chunk, sizeof(chunk)), 1000);
	SYS(close(sv[0]));
	SYS(close(sv[1]));

	/* A blocking writer of more than the buffer finishes as the reader
	 * reads: 4 MiB through a stream. */
	SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid_t pid = SYS(fork());
	const size_t big = 4u << 20;
	if (pid == 0) {
		char *p = malloc(big);
		for (size_t i = 0; i < big; i++)
			p[i] = (char)(i * 7);
		_exit(write_full(sv[0], p, big) == (ssize_t)big ? 0 : 1);
	}
	char *p = malloc(big);
	CHECK_EQ(read_full(sv[1], p, big), big);
	size_t bad = 0;
	for (size_t i = 0; i < big; i++)
		bad += p[i] != (char)(i * 7);
	CHECK_EQ(bad, 0);
	free(p);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	SYS(close(sv[0]));
	SYS(close(sv[1]));
}

static void epoll_ready(void)
{
	int ep = SYS(epoll_create1(0));
	int l = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	struct sockaddr_un a;
	socklen_t al = abstract_addr(&a, uniq("epl"));
	SYS(bind(l, (struct sockaddr *)&a, al));
	SYS(listen(l, 8));
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = l};
	SYS(epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev));
	struct epoll_event out[4];
	CHECK_EQ(epoll_wait(ep, out, 4, 0), 0);
	int c = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	SYS(connect(c, (struct sockaddr *)&a, al));
	CHECK_EQ(epoll_wait(ep, out, 4, 1000), 1);
	CHECK_EQ(out[0].data.fd, l);
	int s = SYS(accept(l, NULL, NULL));
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
	ev.data.fd = s;
	SYS(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	CHECK_EQ(epoll_wait(ep, out, 4, 0), 0);
	/* A write from another process wakes a waiter. */
	pid_t pid = SYS(fork());
	if (pid == 0) {
		usleep(50000);
		_exit(write(c, "e", 1) == 1 ? 0 : 1);
	}
	CHECK_EQ(epoll_wait(ep, out, 4, 5000), 1);
	CHECK_EQ(out[0].data.fd, s);
	CHECK(out[0].events & EPOLLIN);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	SYS(close(c));
	CHECK_EQ(epoll_wait(ep, out, 4, 1000), 1);
	CHECK(out[0].events & EPOLLRDHUP);
	CHECK(out[0].events & EPOLLHUP);
	SYS(close(s));
	SYS(close(l));
	SYS(close(ep));
}

/* /proc/net/unix lists our sockets: a listener with its name. */
static void proc_net_unix(void)
{
	int l = SYS(socket(AF_UNIX, SOCK_STREAM, 0));
	struct sockaddr_un a;
	const char *name = uniq("proc");
	socklen_t al = abstract_addr(&a, name);
	SYS(bind(l, (struct sockaddr *)&a, al));
	SYS(listen(l, 1));
	FILE *f = fopen("/proc/net/unix", "r");
	CHECK(f != NULL);
	char line[512], want[80];
	snprintf(want, sizeof(want), "@%s", name);
	CHECK(fgets(line, sizeof(line), f) != NULL);
	CHECK(strncmp(line,
		      "Num       RefCount Protocol Flags    Type St Inode Path",
		      50) == 0);
	int found = 0;
	while (fgets(line, sizeof(line), f)) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		size_t n = strlen(line), w = strlen(want);
		if (n < w || strcmp(line + n - w, want) != 0)
			continue;
		unsigned refs, proto, flags, type, st;
		unsigned long ino;
		char num[32];
		CHECK_EQ(sscanf(line, "%31s %x %x %x %x %x %lu", num, &refs,
				&proto, &flags, &type, &st, &ino),
			 7);
		CHECK_EQ(flags, 0x10000); /* __SO_ACCEPTCON */
		CHECK_EQ(type, SOCK_STREAM);
		CHECK_EQ(st, 1); /* SS_UNCONNECTED */
		struct stat sb;
		SYS(fstat(l, &sb));
		CHECK_EQ(ino, sb.st_ino);
		found++;
	}
	fclose(f);
	CHECK_EQ(found, 1);
	SYS(close(l));
}

int main(void)
{
	umask(022);
	stream_pair();
	shutdown_bits();
	epipe();
	dgram();
	seqpacket();
	listen_accept();
	backlog();
	autobind();
	path_names("/tmp");
	path_names("/var/tmp");
	waitall_and_timeouts();
	sndbuf();
	epoll_ready();
	proc_net_unix();
	pass("unix");
	return 0;
}
