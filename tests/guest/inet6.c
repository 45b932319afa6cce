/* IPv6 loopback: TCP and UDP over ::1, v4-mapped addresses on a dual-stack
 * socket, IPV6_V6ONLY. Skips cleanly when the namespace has no ::1 (IPv6
 * disabled). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "check.h"

int main(void)
{
	int l = socket(AF_INET6, SOCK_STREAM, 0);
	if (l < 0 && errno == EAFNOSUPPORT) {
		printf("no IPv6 here: skipped\n");
		pass("inet6");
		return 0;
	}
	CHECK(l >= 0);
	struct sockaddr_in6 a = {.sin6_family = AF_INET6,
				 .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 &&
	    errno == EADDRNOTAVAIL) {
		printf("no ::1 here: skipped\n");
		pass("inet6");
		return 0;
	}
	socklen_t al = sizeof(a);
	SYS(getsockname(l, (struct sockaddr *)&a, &al));
	CHECK_EQ(al, sizeof(a));
	CHECK_EQ(a.sin6_family, AF_INET6);
	CHECK(IN6_IS_ADDR_LOOPBACK(&a.sin6_addr));
	SYS(listen(l, 4));
	int c = SYS(socket(AF_INET6, SOCK_STREAM, 0));
	SYS(connect(c, (struct sockaddr *)&a, sizeof(a)));
	struct sockaddr_in6 peer;
	socklen_t pl = sizeof(peer);
	int s = SYS(accept(l, (struct sockaddr *)&peer, &pl));
	CHECK_EQ(pl, sizeof(peer));
	CHECK(IN6_IS_ADDR_LOOPBACK(&peer.sin6_addr));
	CHECK_EQ(write(c, "six", 3), 3);
	char buf[8];
	CHECK_EQ(read(s, buf, sizeof(buf)), 3);
	CHECK(!memcmp(buf, "six", 3));
	close(s);
	close(c);
	close(l);
	/* An IPv4 address on an AF_INET6 socket is the wrong family. */
	c = SYS(socket(AF_INET6, SOCK_STREAM, 0));
	struct sockaddr_in v4 = {.sin_family = AF_INET};
	CHECK_ERR(bind(c, (struct sockaddr *)&v4, sizeof(v4)), EINVAL);
	close(c);

	/* Dual stack: a wildcard v6 listener takes a v4 client, which shows
	 * as ::ffff:127.0.0.1; with IPV6_V6ONLY the v4 client is refused. */
	l = SYS(socket(AF_INET6, SOCK_STREAM, 0));
	int off = 0, v = -1;
	SYS(setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)));
	socklen_t vl = sizeof(v);
	SYS(getsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &v, &vl));
	CHECK_EQ(v, 0);
	struct sockaddr_in6 any = {.sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_ANY_INIT};
	SYS(bind(l, (struct sockaddr *)&any, sizeof(any)));
	SYS(listen(l, 4));
	al = sizeof(any);
	SYS(getsockname(l, (struct sockaddr *)&any, &al));
	c = SYS(socket(AF_INET, SOCK_STREAM, 0));
	v4.sin_port = any.sin6_port;
	v4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	SYS(connect(c, (struct sockaddr *)&v4, sizeof(v4)));
	pl = sizeof(peer);
	s = SYS(accept(l, (struct sockaddr *)&peer, &pl));
	CHECK(IN6_IS_ADDR_V4MAPPED(&peer.sin6_addr));
	CHECK_EQ(peer.sin6_addr.s6_addr[15], 1);
	close(s);
	close(c);
	close(l);

	/* UDP over ::1. */
	int u1 = SYS(socket(AF_INET6, SOCK_DGRAM, 0));
	int u2 = SYS(socket(AF_INET6, SOCK_DGRAM, 0));
	struct sockaddr_in6 ua = {.sin6_family = AF_INET6,
				  .sin6_addr = IN6ADDR_LOOPBACK_INIT};
	SYS(bind(u1, (struct sockaddr *)&ua, sizeof(ua)));
	al = sizeof(ua);
	SYS(getsockname(u1, (struct sockaddr *)&ua, &al));
	int one = 1;
	SYS(setsockopt(u1, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof(one)));
	CHECK_EQ(sendto(u2, "udp6", 4, 0, (struct sockaddr *)&ua, sizeof(ua)),
		 4);
	union {
		char b[128];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = {buf, sizeof(buf)};
	struct sockaddr_in6 from;
	struct msghdr m = {.msg_name = &from,
			   .msg_namelen = sizeof(from),
			   .msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = ctl.b,
			   .msg_controllen = sizeof(ctl.b)};
	CHECK_EQ(recvmsg(u1, &m, 0), 4);
	CHECK_EQ(m.msg_namelen, sizeof(from));
	CHECK(IN6_IS_ADDR_LOOPBACK(&from.sin6_addr));
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	CHECK(cm != NULL);
	CHECK_EQ(cm->cmsg_level, IPPROTO_IPV6);
	CHECK_EQ(cm->cmsg_type, IPV6_PKTINFO);
	struct in6_pktinfo pi;
	memcpy(&pi, CMSG_DATA(cm), sizeof(pi));
	CHECK(IN6_IS_ADDR_LOOPBACK(&pi.ipi6_addr));
	close(u1);
	close(u2);
	pass("inet6");
	return 0;
}
