/* NETLINK_ROUTE: address, link and route dumps show lo and 127.0.0.1,
 * getifaddrs() agrees, a change is refused with EPERM for a caller without
 * CAP_NET_ADMIN, and an unknown netlink protocol is EPROTONOSUPPORT. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/capability.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "check.h"

static int nl_open(void)
{
	int s = SYS(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
	struct sockaddr_nl a = {.nl_family = AF_NETLINK};
	SYS(bind(s, (struct sockaddr *)&a, sizeof(a)));
	socklen_t l = sizeof(a);
	SYS(getsockname(s, (struct sockaddr *)&a, &l));
	CHECK_EQ(a.nl_family, AF_NETLINK);
	CHECK(a.nl_pid != 0);
	return s;
}

static void nl_send(int s, uint16_t type, uint16_t flags, void *body,
		    size_t blen, uint32_t seq)
{
	char buf[256];
	struct nlmsghdr *h = (struct nlmsghdr *)buf;
	memset(buf, 0, sizeof(buf));
	h->nlmsg_len = NLMSG_LENGTH(blen);
	h->nlmsg_type = type;
	h->nlmsg_flags = NLM_F_REQUEST | flags;
	h->nlmsg_seq = seq;
	memcpy(NLMSG_DATA(h), body, blen);
	struct sockaddr_nl k = {.nl_family = AF_NETLINK};
	CHECK_EQ(
	    sendto(s, buf, h->nlmsg_len, 0, (struct sockaddr *)&k, sizeof(k)),
	    h->nlmsg_len);
}

typedef void (*nl_cb)(struct nlmsghdr *h, void *arg);

/* Read replies to seq until NLMSG_DONE or an NLMSG_ERROR; returns the
 * error (0 for DONE) and the number of messages seen. */
static int nl_read(int s, uint32_t seq, nl_cb cb, void *arg, int *count)
{
	static char buf[65536];
	*count = 0;
	for (;;) {
		/* Size it first, as iproute2 does. */
		int n = recv(s, buf, 0, MSG_PEEK | MSG_TRUNC);
		CHECK(n > 0);
		CHECK(n <= (int)sizeof(buf));
		struct sockaddr_nl from;
		struct iovec iov = {buf, sizeof(buf)};
		struct msghdr m = {.msg_name = &from,
				   .msg_namelen = sizeof(from),
				   .msg_iov = &iov,
				   .msg_iovlen = 1};
		int got = recvmsg(s, &m, 0);
		CHECK_EQ(got, n);
		CHECK_EQ(m.msg_namelen, sizeof(from));
		CHECK_EQ(from.nl_pid, 0); /* from the kernel */
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf;
		     NLMSG_OK(h, (unsigned)got); h = NLMSG_NEXT(h, got)) {
			CHECK_EQ(h->nlmsg_seq, seq);
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);
				return e->error;
			}
			(*count)++;
			cb(h, arg);
		}
	}
}

static void on_addr(struct nlmsghdr *h, void *arg)
{
	int *found = arg;
	CHECK_EQ(h->nlmsg_type, RTM_NEWADDR);
	struct ifaddrmsg *ifa = NLMSG_DATA(h);
	int len = IFA_PAYLOAD(h);
	for (struct rtattr *a = IFA_RTA(ifa); RTA_OK(a, len);
	     a = RTA_NEXT(a, len)) {
		if (a->rta_type != IFA_LOCAL && a->rta_type != IFA_ADDRESS)
			continue;
		struct in_addr in;
		memcpy(&in, RTA_DATA(a), sizeof(in));
		if (ifa->ifa_family == AF_INET &&
		    in.s_addr == htonl(INADDR_LOOPBACK) &&
		    ifa->ifa_index == if_nametoindex("lo") &&
		    ifa->ifa_prefixlen == 8) {
			*found = 1;
		}
	}
}

static void on_link(struct nlmsghdr *h, void *arg)
{
	int *found = arg;
	CHECK_EQ(h->nlmsg_type, RTM_NEWLINK);
	struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = IFLA_PAYLOAD(h);
	for (struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len);
	     a = RTA_NEXT(a, len))
		if (a->rta_type == IFLA_IFNAME && !strcmp(RTA_DATA(a), "lo")) {
			CHECK(ifi->ifi_flags & IFF_LOOPBACK);
			CHECK(ifi->ifi_flags & IFF_UP);
			*found = 1;
		}
}

static void on_route(struct nlmsghdr *h, void *arg)
{
	int *n = arg;
	CHECK_EQ(h->nlmsg_type, RTM_NEWROUTE);
	(*n)++;
}

static void test_dumps(void)
{
	int s = nl_open();
	struct ifaddrmsg ifa = {.ifa_family = AF_INET};
	nl_send(s, RTM_GETADDR, NLM_F_DUMP, &ifa, sizeof(ifa), 1);
	int found = 0, count;
	CHECK_EQ(nl_read(s, 1, on_addr, &found, &count), 0);
	CHECK(count >= 1);
	CHECK_EQ(found, 1);
	struct ifinfomsg ifi = {.ifi_family = AF_UNSPEC};
	nl_send(s, RTM_GETLINK, NLM_F_DUMP, &ifi, sizeof(ifi), 2);
	found = 0;
	CHECK_EQ(nl_read(s, 2, on_link, &found, &count), 0);
	CHECK_EQ(found, 1);
	struct rtmsg rt = {.rtm_family = AF_INET};
	nl_send(s, RTM_GETROUTE, NLM_F_DUMP, &rt, sizeof(rt), 3);
	int routes = 0;
	CHECK_EQ(nl_read(s, 3, on_route, &routes, &count), 0);
	CHECK(routes >= 1); /* at least lo's local routes */
	close(s);
}

static void test_getifaddrs(void)
{
	struct ifaddrs *ifs;
	SYS(getifaddrs(&ifs));
	int found = 0;
	for (struct ifaddrs *i = ifs; i; i = i->ifa_next)
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    !strcmp(i->ifa_name, "lo") &&
		    ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr ==
			htonl(INADDR_LOOPBACK))
			found++;
	CHECK_EQ(found, 1);
	freeifaddrs(ifs);
}

/* Natively the runner is root: the child gives up CAP_NET_ADMIN before it
 * opens its socket (the kernel checks the opener's and the sender's). */
static void test_refused(void)
{
	pid_t p = SYS(fork());
	if (p) {
		int st;
		SYS(waitpid(p, &st, 0));
		CHECK_EQ(child_status(st), 0);
		return;
	}
	struct __user_cap_header_struct hd = {.version =
						  _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct d[2];
	SYS(syscall(SYS_capget, &hd, d));
	d[CAP_NET_ADMIN / 32].effective &= ~(1u << (CAP_NET_ADMIN % 32));
	SYS(syscall(SYS_capset, &hd, d));
	int s = nl_open();
	struct {
		struct ifaddrmsg ifa;
		struct rtattr rta;
		struct in_addr addr;
	} req = {
	    .ifa = {.ifa_family = AF_INET,
		    .ifa_prefixlen = 32,
		    .ifa_index = if_nametoindex("lo")},
	    .rta = {.rta_len = RTA_LENGTH(4), .rta_type = IFA_LOCAL},
	    .addr = {htonl(0x7f000063)},
	};
	nl_send(s, RTM_NEWADDR, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, &req,
		sizeof(req), 9);
	int count;
	CHECK_EQ(nl_read(s, 9, on_route, NULL, &count), -EPERM);
	CHECK_EQ(count, 0);
	/* A protocol that does not exist. */
	CHECK_ERR(socket(AF_NETLINK, SOCK_RAW, 31), EPROTONOSUPPORT);
	close(s);
	_exit(0);
}

int main(void)
{
	test_dumps();
	test_getifaddrs();
	test_refused();
	pass("netlink");
	return 0;
}
