/* UDP over loopback: datagram boundaries, MSG_TRUNC and MSG_PEEK, source
 * addresses, IP_PKTINFO and SO_TIMESTAMP control messages, connected UDP
 * and its undoing (AF_UNSPEC), and non-blocking receives. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "check.h"

static int udp_bound(struct sockaddr_in *a)
{
	int s = SYS(socket(AF_INET, SOCK_DGRAM, 0));
	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	SYS(bind(s, (struct sockaddr *)a, sizeof(*a)));
	socklen_t l = sizeof(*a);
	SYS(getsockname(s, (struct sockaddr *)a, &l));
	return s;
}

/* ICMP echo sockets exist exactly when the namespace's
 * net.ipv4.ping_group_range holds our group; then an echo of 127.0.0.1
 * comes back. */
static void test_ping(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "r");
	CHECK(f != NULL);
	unsigned long lo = 1, hi = 0;
	CHECK_EQ(fscanf(f, "%lu %lu", &lo, &hi), 2);
	fclose(f);
	unsigned long g = getegid();
	int p = socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
	if (g < lo || g > hi) {
		CHECK_EQ(p, -1);
		CHECK_EQ(errno, EACCES);
		return;
	}
	CHECK(p >= 0);
	struct sockaddr_in dst = {.sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	unsigned char echo[16] = {8 /* ICMP_ECHO */, 0};
	memcpy(echo + 8, "bhping!!", 8);
	CHECK_EQ(sendto(p, echo, sizeof(echo), 0, (struct sockaddr *)&dst,
			sizeof(dst)),
		 sizeof(echo));
	struct pollfd pf = {.fd = p, .events = POLLIN};
	CHECK_EQ(poll(&pf, 1, 10000), 1);
	unsigned char reply[64];
	CHECK_EQ(recv(p, reply, sizeof(reply), 0), sizeof(echo));
	CHECK_EQ(reply[0], 0 /* ICMP_ECHOREPLY */);
	CHECK(!memcmp(reply + 8, "bhping!!", 8));
	close(p);
}

int main(void)
{
	struct sockaddr_in ra, sa;
	int r = udp_bound(&ra);
	int s = udp_bound(&sa);
	int v = 0;
	socklen_t vl = sizeof(v);
	SYS(getsockopt(r, SOL_SOCKET, SO_PROTOCOL, &v, &vl));
	CHECK_EQ(v, IPPROTO_UDP);
	char big[100];
	for (int i = 0; i < 100; i++)
		big[i] = (char)i;
	CHECK_EQ(
	    sendto(s, big, sizeof(big), 0, (struct sockaddr *)&ra, sizeof(ra)),
	    100);
	CHECK_EQ(sendto(s, "two", 3, 0, (struct sockaddr *)&ra, sizeof(ra)), 3);
	struct pollfd p = {.fd = r, .events = POLLIN};
	CHECK_EQ(poll(&p, 1, 10000), 1);
	int n = 0;
	SYS(ioctl(r, FIONREAD, &n));
	CHECK_EQ(n, 100); /* the first datagram's size */
	/* PEEK leaves it; TRUNC reports its real length. */
	char buf[16];
	CHECK_EQ(recv(r, buf, 10, MSG_PEEK | MSG_TRUNC), 100);
	CHECK(!memcmp(buf, big, 10));
	/* recvmsg without MSG_TRUNC: 10 bytes copied, msg_flags MSG_TRUNC,
	 * the rest of the datagram gone. */
	struct sockaddr_in from;
	struct iovec iov = {buf, 10};
	struct msghdr m = {.msg_name = &from,
			   .msg_namelen = sizeof(from),
			   .msg_iov = &iov,
			   .msg_iovlen = 1};
	CHECK_EQ(recvmsg(r, &m, 0), 10);
	CHECK(m.msg_flags & MSG_TRUNC);
	CHECK_EQ(m.msg_namelen, sizeof(from));
	CHECK_EQ(from.sin_port, sa.sin_port);
	CHECK_EQ(from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	CHECK(!memcmp(buf, big, 10));
	/* The next datagram is whole. */
	socklen_t fl = sizeof(from);
	CHECK_EQ(
	    recvfrom(r, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl), 3);
	CHECK(!memcmp(buf, "two", 3));
	CHECK_ERR(recv(r, buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	/* A zero-length datagram is one. */
	CHECK_EQ(sendto(s, "", 0, 0, (struct sockaddr *)&ra, sizeof(ra)), 0);
	CHECK_EQ(poll(&p, 1, 10000), 1);
	CHECK_EQ(recv(r, buf, sizeof(buf), 0), 0);

	/* Control messages: the destination address and a timestamp. */
	int one = 1;
	SYS(setsockopt(r, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)));
	SYS(setsockopt(r, SOL_SOCKET, SO_TIMESTAMP, &one, sizeof(one)));
	struct timeval before;
	gettimeofday(&before, NULL);
	CHECK_EQ(sendto(s, "cm", 2, 0, (struct sockaddr *)&ra, sizeof(ra)), 2);
	CHECK_EQ(poll(&p, 1, 10000), 1);
	union {
		char b[256];
		struct cmsghdr align;
	} ctl;
	iov.iov_len = sizeof(buf);
	m = (struct msghdr){.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.b,
			    .msg_controllen = sizeof(ctl.b)};
	CHECK_EQ(recvmsg(r, &m, 0), 2);
	CHECK_EQ(m.msg_flags & MSG_CTRUNC, 0);
	int seen_pi = 0, seen_ts = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			CHECK_EQ(pi.ipi_addr.s_addr, htonl(INADDR_LOOPBACK));
			CHECK(pi.ipi_ifindex > 0);
			seen_pi++;
		} else if (c->cmsg_level == SOL_SOCKET &&
			   c->cmsg_type == SCM_TIMESTAMP) {
			struct timeval tv;
			memcpy(&tv, CMSG_DATA(c), sizeof(tv));
			CHECK(tv.tv_sec >= before.tv_sec - 1);
			CHECK(tv.tv_sec <= before.tv_sec + 60);
			seen_ts++;
		}
	}
	CHECK_EQ(seen_pi, 1);
	CHECK_EQ(seen_ts, 1);
	/* Too small a control buffer: MSG_CTRUNC. */
	CHECK_EQ(sendto(s, "cm", 2, 0, (struct sockaddr *)&ra, sizeof(ra)), 2);
	CHECK_EQ(poll(&p, 1, 10000), 1);
	m.msg_control = ctl.b;
	m.msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo)) - 4;
	CHECK_EQ(recvmsg(r, &m, 0), 2);
	CHECK(m.msg_flags & MSG_CTRUNC);
	/* Sending with IP_PKTINFO (the source address) is allowed; a
	 * control message meaning nothing on UDP is EINVAL. */
	struct in_pktinfo spi = {.ipi_spec_dst.s_addr = htonl(INADDR_LOOPBACK)};
	struct cmsghdr *c = (struct cmsghdr *)ctl.b;
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(spi));
	memcpy(CMSG_DATA(c), &spi, sizeof(spi));
	iov = (struct iovec){"pk", 2};
	m = (struct msghdr){.msg_name = &ra,
			    .msg_namelen = sizeof(ra),
			    .msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.b,
			    .msg_controllen = CMSG_SPACE(sizeof(spi))};
	CHECK_EQ(sendmsg(s, &m, 0), 2);
	CHECK_EQ(poll(&p, 1, 10000), 1);
	CHECK_EQ(recv(r, buf, sizeof(buf), 0), 2);
	/* SCM_RIGHTS means nothing here and is ignored; an unknown IP-level
	 * message is EINVAL. */
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	int fd0 = 0;
	memcpy(CMSG_DATA(c), &fd0, sizeof(fd0));
	m.msg_controllen = CMSG_SPACE(sizeof(int));
	CHECK_EQ(sendmsg(s, &m, 0), 2);
	CHECK_EQ(poll(&p, 1, 10000), 1);
	CHECK_EQ(recv(r, buf, sizeof(buf), 0), 2);
	c->cmsg_level = IPPROTO_IP;
	c->cmsg_type = 9999;
	CHECK_ERR(sendmsg(s, &m, 0), EINVAL);

	/* Connected UDP: send without an address, then undo it. */
	SYS(connect(s, (struct sockaddr *)&ra, sizeof(ra)));
	CHECK_EQ(send(s, "c", 1, 0), 1);
	CHECK_EQ(poll(&p, 1, 10000), 1);
	CHECK_EQ(recv(r, buf, sizeof(buf), 0), 1);
	struct sockaddr_in pa;
	socklen_t pl = sizeof(pa);
	SYS(getpeername(s, (struct sockaddr *)&pa, &pl));
	CHECK_EQ(pa.sin_port, ra.sin_port);
	struct sockaddr un = {.sa_family = AF_UNSPEC};
	SYS(connect(s, &un, sizeof(un)));
	pl = sizeof(pa);
	CHECK_ERR(getpeername(s, (struct sockaddr *)&pa, &pl), ENOTCONN);
	CHECK_ERR(send(s, "c", 1, 0), EDESTADDRREQ);
	/* A datagram larger than UDP allows. */
	static char huge[70000];
	CHECK_ERR(sendto(s, huge, sizeof(huge), 0, (struct sockaddr *)&ra,
			 sizeof(ra)),
		  EMSGSIZE);
	/* A blocking receive woken by a datagram from another process. */
	pid_t w = SYS(fork());
	if (w == 0) {
		usleep(50000);
		_exit(sendto(s, "late", 4, 0, (struct sockaddr *)&ra,
			     sizeof(ra)) == 4
			  ? 0
			  : 2);
	}
	CHECK_EQ(recv(r, buf, sizeof(buf), 0), 4);
	int st;
	SYS(waitpid(w, &st, 0));
	CHECK_EQ(child_status(st), 0);
	close(r);
	close(s);
	test_ping();
	pass("inet_udp");
	return 0;
}
