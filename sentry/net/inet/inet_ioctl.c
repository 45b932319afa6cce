/* The ioctls an inet guest may make: queue sizes of its own socket, and
 * read-only queries of the namespace's interfaces, answered by the host
 * socket (which lives in that namespace). The argument is copied in and out
 * here, bounded; the host sees only a kernel copy. Everything else,
 * interface changes (SIOCS*) included, is ENOTTY. */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "sentry/mm/usercopy.h"
#include "sentry/net/inet/inet.h"

/* SIOCGIFCONF's buffer: room for about 1,600 interfaces. */
#define IFCONF_MAX (64u << 10)

static long int_query(int fd, unsigned cmd, struct task *t, uint64_t arg)
{
	int v = 0;
	if (ioctl(fd, cmd, &v) < 0)
		return -errno;
	return copy_to_user(t, arg, &v, sizeof(v)) ? -EFAULT : 0;
}

static long ifreq_query(int fd, unsigned cmd, struct task *t, uint64_t arg)
{
	struct ifreq ifr;
	if (copy_from_user(t, &ifr, arg, sizeof(ifr)))
		return -EFAULT;
	ifr.ifr_name[IFNAMSIZ - 1] = '\0';
	if (ioctl(fd, cmd, &ifr) < 0)
		return -errno;
	return copy_to_user(t, arg, &ifr, sizeof(ifr)) ? -EFAULT : 0;
}

/* struct ifconf holds a guest pointer: the list goes through a bounded
 * sentry buffer. */
static long ifconf_query(int fd, struct task *t, uint64_t arg)
{
	struct ifconf ifc;
	if (copy_from_user(t, &ifc, arg, sizeof(ifc)))
		return -EFAULT;
	uint64_t ubuf = (uint64_t)(uintptr_t)ifc.ifc_buf;
	struct ifconf k = {.ifc_len = 0, .ifc_buf = NULL};
	char *buf = NULL;
	if (ubuf) {
		size_t n = ifc.ifc_len < 0 ? 0
			   : (size_t)ifc.ifc_len > IFCONF_MAX
			       ? IFCONF_MAX
			       : (size_t)ifc.ifc_len;
		buf = calloc(1, n ? n : 1);
		if (!buf)
			return -ENOMEM;
		k.ifc_len = (int)n;
		k.ifc_buf = buf;
	}
	long r = 0;
	if (ioctl(fd, SIOCGIFCONF, &k) < 0)
		r = -errno;
	if (!r && buf && k.ifc_len > 0 &&
	    copy_to_user(t, ubuf, buf, (size_t)k.ifc_len))
		r = -EFAULT;
	free(buf);
	if (r)
		return r;
	ifc.ifc_len = k.ifc_len;
	return copy_to_user(t, arg, &ifc.ifc_len, sizeof(ifc.ifc_len)) ? -EFAULT
								       : 0;
}

long inet_dev_ioctl(struct task *t, unsigned cmd, uint64_t arg)
{
	switch (cmd) {
	case SIOCGIFCONF:
	case SIOCGIFFLAGS:
	case SIOCGIFADDR:
	case SIOCGIFDSTADDR:
	case SIOCGIFBRDADDR:
	case SIOCGIFNETMASK:
	case SIOCGIFMETRIC:
	case SIOCGIFMTU:
	case SIOCGIFHWADDR:
	case SIOCGIFINDEX:
	case SIOCGIFNAME:
	case SIOCGIFTXQLEN:
		break;
	default:
		return -ENOTTY;
	}
	/* A socket of the container's netns (the sentry's own) to ask. */
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	long r = cmd == SIOCGIFCONF ? ifconf_query(fd, t, arg)
				    : ifreq_query(fd, cmd, t, arg);
	close(fd);
	return r;
}

long inet_ioctl(struct socket *s, struct task *t, unsigned cmd, uint64_t arg)
{
	int fd = ((struct inet_sock *)s->priv)->fd;
	switch (cmd) {
	/* The socket's own queues: readers sizing buffers, writers
	 * draining. */
	case SIOCINQ: /* FIONREAD */
	case SIOCOUTQ:
	case SIOCOUTQNSD:
	case SIOCATMARK: /* at the urgent mark */
		return int_query(fd, cmd, t, arg);
	case SIOCGSTAMP: { /* the last datagram's arrival time */
		struct timeval tv;
		if (ioctl(fd, SIOCGSTAMP, &tv) < 0)
			return -errno;
		return copy_to_user(t, arg, &tv, sizeof(tv)) ? -EFAULT : 0;
	}
	/* Interface queries (ifconfig, getifaddrs fallbacks, libraries
	 * finding their own address): read-only, the namespace's own. */
	case SIOCGIFCONF:
		return ifconf_query(fd, t, arg);
	case SIOCGIFFLAGS:
	case SIOCGIFADDR:
	case SIOCGIFDSTADDR:
	case SIOCGIFBRDADDR:
	case SIOCGIFNETMASK:
	case SIOCGIFMETRIC:
	case SIOCGIFMTU:
	case SIOCGIFHWADDR:
	case SIOCGIFINDEX:
	case SIOCGIFNAME:
	case SIOCGIFTXQLEN:
		return ifreq_query(fd, cmd, t, arg);
	}
	return -ENOTTY;
}
