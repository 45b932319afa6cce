/* Entering the container's network namespace at boot. */
#include "sentry/net/netns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static enum netns_mode mode;
/* Written at boot only. */
static int files[NETNS_NFILES] = {[0 ... NETNS_NFILES - 1] = -1};

static const char *const paths[NETNS_NFILES] = {
    [NETNS_DEV] = "/proc/thread-self/net/dev",
    [NETNS_TCP] = "/proc/thread-self/net/tcp",
    [NETNS_TCP6] = "/proc/thread-self/net/tcp6",
    [NETNS_UDP] = "/proc/thread-self/net/udp",
    [NETNS_UDP6] = "/proc/thread-self/net/udp6",
    [NETNS_ROUTE] = "/proc/thread-self/net/route",
    [NETNS_IF_INET6] = "/proc/thread-self/net/if_inet6",
    [NETNS_SNMP] = "/proc/thread-self/net/snmp",
    [NETNS_PORT_RANGE] = "/proc/sys/net/ipv4/ip_local_port_range",
    [NETNS_SOMAXCONN] = "/proc/sys/net/core/somaxconn",
    [NETNS_PING_GROUP] = "/proc/sys/net/ipv4/ping_group_range",
};

int netns_parse_mode(const char *s, enum netns_mode *out)
{
	if (!s || !strcmp(s, "sandbox"))
		*out = NETNS_SANDBOX;
	else if (!strcmp(s, "none"))
		*out = NETNS_NONE;
	else if (!strcmp(s, "host"))
		*out = NETNS_HOST;
	else
		return -EINVAL;
	return 0;
}

/* A fresh namespace's lo is down; runc brings it up too. The kernel gives
 * it 127.0.0.1/8 and ::1 when it goes up. */
static int lo_up(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -errno;
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	int r = 0;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		r = -errno;
	if (!r && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			r = -errno;
	}
	close(s);
	return r;
}

int netns_setup(enum netns_mode m, int nsfd, char *err, size_t errlen)
{
	mode = m;
	if (m == NETNS_HOST) {
		if (nsfd >= 0)
			close(nsfd);
	} else if (m == NETNS_SANDBOX && nsfd >= 0) {
		int r = setns(nsfd, CLONE_NEWNET);
		int e = errno;
		close(nsfd);
		if (r < 0) {
			snprintf(err, errlen,
				 "joining the network namespace: %s",
				 strerror(e));
			return -e;
		}
	} else {
		if (nsfd >= 0)
			close(nsfd);
		if (unshare(CLONE_NEWNET) < 0) {
			int e = errno;
			snprintf(err, errlen,
				 "creating a network namespace: %s",
				 strerror(e));
			return -e;
		}
		int r = lo_up();
		if (r < 0) {
			snprintf(err, errlen, "bringing lo up: %s",
				 strerror(-r));
			return r;
		}
	}
	for (int i = 0; i < NETNS_NFILES; i++)
		files[i] = open(paths[i], O_RDONLY | O_CLOEXEC);
	return 0;
}

enum netns_mode netns_mode(void)
{
	return mode;
}

bool netns_has(enum netns_file which)
{
	return (unsigned)which < NETNS_NFILES && files[which] >= 0;
}

ssize_t netns_read(enum netns_file which, char *buf, size_t cap)
{
	if ((unsigned)which >= NETNS_NFILES || files[which] < 0)
		return -ENOENT;
	size_t off = 0;
	while (off < cap) {
		ssize_t n =
		    pread(files[which], buf + off, cap - off, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return off ? (ssize_t)off : -errno;
		if (n == 0)
			break;
		off += (size_t)n;
	}
	return (ssize_t)off;
}
