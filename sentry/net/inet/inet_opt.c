/* The socket options an inet guest may set or read on its host socket, and
 * the control messages it may send or receive. Everything here is plain
 * data (no pointer, no fd), scoped to the one socket or to the container's
 * own namespace; anything not listed is ENOPROTOOPT, as for an option the
 * kernel does not have. Options that would use the sentry's real
 * capabilities on the guest's behalf are EPERM, as for a guest without
 * them. */
#include <errno.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <string.h>
#include <sys/socket.h>

#include "sentry/kernel/cred.h"
#include "sentry/kernel/task.h"
#include "sentry/net/inet/inet.h"

#ifndef SO_TIMESTAMP_NEW
#define SO_TIMESTAMP_NEW   63
#define SO_TIMESTAMPNS_NEW 64
#endif
#ifndef SO_BINDTOIFINDEX
#define SO_BINDTOIFINDEX 62
#endif
#ifndef SO_INCOMING_CPU
#define SO_INCOMING_CPU 49
#endif
#ifndef TCP_FASTOPEN_CONNECT
#define TCP_FASTOPEN_CONNECT 30
#endif
#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

enum { O_GET = 1, O_SET = 2, O_BOTH = 3 };

struct optdef {
	int level, name;
	unsigned short min, max; /* set: bytes required, bytes passed */
	unsigned char how;	 /* O_GET / O_SET */
};

#define I  sizeof(int)
#define IC 1 /* IP-level ints that Linux also takes as one byte */

static const struct optdef opts[] = {
    /* SOL_SOCKET: the socket's own behaviour and buffers. */
    {SOL_SOCKET, SO_REUSEADDR, I, I, O_BOTH}, /* servers restarting */
    {SOL_SOCKET, SO_REUSEPORT, I, I, O_BOTH}, /* load-spread listeners */
    {SOL_SOCKET, SO_KEEPALIVE, I, I, O_BOTH}, /* dead-peer detection */
    {SOL_SOCKET, SO_LINGER, sizeof(struct linger), sizeof(struct linger),
     O_BOTH}, /* close's flush policy */
    /* Buffer sizes: the host clamps them to the namespace's
     * net.core.{r,w}mem_max (the FORCE forms are EPERM below). */
    {SOL_SOCKET, SO_RCVBUF, I, I, O_BOTH},
    {SOL_SOCKET, SO_SNDBUF, I, I, O_BOTH},
    {SOL_SOCKET, SO_ERROR, 0, 0, O_GET},      /* non-blocking connect */
    {SOL_SOCKET, SO_BROADCAST, I, I, O_BOTH}, /* UDP to a broadcast addr */
    {SOL_SOCKET, SO_RCVLOWAT, I, I, O_BOTH},  /* readiness threshold */
    {SOL_SOCKET, SO_SNDLOWAT, I, I, O_BOTH},  /* (set: host's ENOPROTOOPT) */
    {SOL_SOCKET, SO_OOBINLINE, I, I, O_BOTH}, /* urgent data in band */
    {SOL_SOCKET, SO_ACCEPTCONN, 0, 0, O_GET}, /* is it listening */
    {SOL_SOCKET, SO_DONTROUTE, I, I, O_BOTH}, /* on-link only */
    {SOL_SOCKET, SO_NO_CHECK, I, I, O_BOTH},  /* UDP checksum off */
    {SOL_SOCKET, SO_PRIORITY, I, I, O_BOTH},  /* 0-6 only: see below */
    /* Receive timestamps, relayed as SCM_TIMESTAMP{,NS} messages. */
    {SOL_SOCKET, SO_TIMESTAMP_OLD, I, I, O_BOTH},
    {SOL_SOCKET, SO_TIMESTAMPNS_OLD, I, I, O_BOTH},
    {SOL_SOCKET, SO_TIMESTAMP_NEW, I, I, O_BOTH},
    {SOL_SOCKET, SO_TIMESTAMPNS_NEW, I, I, O_BOTH},
    {SOL_SOCKET, SO_INCOMING_CPU, I, I, O_GET}, /* a hint, read-only */
    {SOL_SOCKET, SO_PEEK_OFF, I, I, O_BOTH},	/* MSG_PEEK offset */

    /* IPPROTO_TCP: the connection's own tuning. */
    {IPPROTO_TCP, TCP_NODELAY, I, I, O_BOTH},	   /* Nagle off */
    {IPPROTO_TCP, TCP_MAXSEG, I, I, O_BOTH},	   /* MSS clamp */
    {IPPROTO_TCP, TCP_CORK, I, I, O_BOTH},	   /* batch partial frames */
    {IPPROTO_TCP, TCP_KEEPIDLE, I, I, O_BOTH},	   /* keepalive timing */
    {IPPROTO_TCP, TCP_KEEPINTVL, I, I, O_BOTH},	   /* ... */
    {IPPROTO_TCP, TCP_KEEPCNT, I, I, O_BOTH},	   /* ... */
    {IPPROTO_TCP, TCP_SYNCNT, I, I, O_BOTH},	   /* connect retries */
    {IPPROTO_TCP, TCP_LINGER2, I, I, O_BOTH},	   /* FIN_WAIT2 time */
    {IPPROTO_TCP, TCP_DEFER_ACCEPT, I, I, O_BOTH}, /* accept on data */
    {IPPROTO_TCP, TCP_WINDOW_CLAMP, I, I, O_BOTH}, /* receive window */
    {IPPROTO_TCP, TCP_INFO, 0, 0, O_GET},	   /* stats (ss, curl) */
    {IPPROTO_TCP, TCP_QUICKACK, I, I, O_BOTH},	   /* delayed ACKs off */
    /* The algorithm's name only: setting one may make the host load a
     * module with the sentry's real capabilities. */
    {IPPROTO_TCP, TCP_CONGESTION, 0, 0, O_GET},
    {IPPROTO_TCP, TCP_USER_TIMEOUT, I, I, O_BOTH},     /* unacked data limit */
    {IPPROTO_TCP, TCP_FASTOPEN, I, I, O_BOTH},	       /* TFO server queue */
    {IPPROTO_TCP, TCP_FASTOPEN_CONNECT, I, I, O_BOTH}, /* TFO client */
    {IPPROTO_TCP, TCP_NOTSENT_LOWAT, I, I, O_BOTH},    /* write readiness */

    /* IPPROTO_UDP. */
    {IPPROTO_UDP, UDP_CORK, I, I, O_BOTH}, /* build one datagram */

    /* IPPROTO_IP: this socket's IPv4 header fields and ancillary data. */
    {IPPROTO_IP, IP_TOS, IC, I, O_BOTH},	  /* DSCP */
    {IPPROTO_IP, IP_TTL, IC, I, O_BOTH},	  /* hop limit */
    {IPPROTO_IP, IP_RECVERR, IC, I, O_BOTH},	  /* ICMP errors queued */
    {IPPROTO_IP, IP_PKTINFO, IC, I, O_BOTH},	  /* IP_PKTINFO cmsgs */
    {IPPROTO_IP, IP_RECVTOS, IC, I, O_BOTH},	  /* IP_TOS cmsgs */
    {IPPROTO_IP, IP_RECVTTL, IC, I, O_BOTH},	  /* IP_TTL cmsgs */
    {IPPROTO_IP, IP_MTU_DISCOVER, IC, I, O_BOTH}, /* PMTU policy */
    {IPPROTO_IP, IP_MTU, 0, 0, O_GET},		  /* path MTU */
    {IPPROTO_IP, IP_FREEBIND, IC, I, O_BOTH},	  /* bind before the addr */
    {IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, IC, I, O_BOTH}, /* late port */
    /* Multicast, within the namespace's interfaces: an in_addr,
     * ip_mreq or ip_mreqn. */
    {IPPROTO_IP, IP_MULTICAST_IF, sizeof(struct in_addr),
     sizeof(struct ip_mreqn), O_BOTH},
    {IPPROTO_IP, IP_MULTICAST_TTL, IC, I, O_BOTH},
    {IPPROTO_IP, IP_MULTICAST_LOOP, IC, I, O_BOTH},
    {IPPROTO_IP, IP_ADD_MEMBERSHIP, sizeof(struct ip_mreq),
     sizeof(struct ip_mreqn), O_SET},
    {IPPROTO_IP, IP_DROP_MEMBERSHIP, sizeof(struct ip_mreq),
     sizeof(struct ip_mreqn), O_SET},

    /* IPPROTO_IPV6: the same for IPv6 (IPV6_ADDRFORM, which would turn
     * the host socket into an AF_INET one behind our back, is not). */
    {IPPROTO_IPV6, IPV6_V6ONLY, I, I, O_BOTH}, /* dual-stack or not */
    {IPPROTO_IPV6, IPV6_RECVPKTINFO, I, I, O_BOTH},
    {IPPROTO_IPV6, IPV6_PKTINFO, sizeof(struct in6_pktinfo),
     sizeof(struct in6_pktinfo), O_BOTH}, /* sticky source */
    {IPPROTO_IPV6, IPV6_UNICAST_HOPS, I, I, O_BOTH},
    {IPPROTO_IPV6, IPV6_MULTICAST_IF, I, I, O_BOTH},
    {IPPROTO_IPV6, IPV6_MULTICAST_HOPS, I, I, O_BOTH},
    {IPPROTO_IPV6, IPV6_MULTICAST_LOOP, I, I, O_BOTH},
    {IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, sizeof(struct ipv6_mreq),
     sizeof(struct ipv6_mreq), O_SET},
    {IPPROTO_IPV6, IPV6_DROP_MEMBERSHIP, sizeof(struct ipv6_mreq),
     sizeof(struct ipv6_mreq), O_SET},
    {IPPROTO_IPV6, IPV6_TCLASS, I, I, O_BOTH},
    {IPPROTO_IPV6, IPV6_RECVTCLASS, I, I, O_BOTH},
    {IPPROTO_IPV6, IPV6_RECVHOPLIMIT, I, I, O_BOTH},
    {IPPROTO_IPV6, IPV6_RECVERR, I, I, O_BOTH},
    {IPPROTO_IPV6, IPV6_MTU_DISCOVER, I, I, O_BOTH},
    {IPPROTO_IPV6, IPV6_MTU, 0, 0, O_GET},
};

static const struct optdef *opt_find(int level, int name)
{
	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (opts[i].level == level && opts[i].name == name)
			return &opts[i];
	return NULL;
}

/* Refused outright: each would act with the sentry's real privileges
 * (CAP_NET_ADMIN, CAP_NET_RAW) or reach outside the socket. */
static bool opt_privileged(int level, int name)
{
	if (level == SOL_SOCKET)
		return name == SO_BINDTODEVICE || name == SO_BINDTOIFINDEX ||
		       name == SO_MARK || name == SO_RCVBUFFORCE ||
		       name == SO_SNDBUFFORCE;
	if (level == IPPROTO_IP)
		return name == IP_TRANSPARENT;
	if (level == IPPROTO_IPV6)
		return name == IPV6_TRANSPARENT;
	return false;
}

int inet_setsockopt(struct socket *s, struct task *t, int level, int name,
		    const void *val, socklen_t len)
{
	if (opt_privileged(level, name))
		return -EPERM;
	const struct optdef *o = opt_find(level, name);
	if (!o || !(o->how & O_SET))
		return -ENOPROTOOPT;
	if (len < o->min)
		return -EINVAL;
	if (level == SOL_SOCKET && name == SO_PRIORITY) {
		int v;
		memcpy(&v, val, sizeof(v));
		if ((v < 0 || v > 6) && !cred_capable(&t->cred, CAP_NET_ADMIN))
			return -EPERM;
	}
	socklen_t n = len > o->max ? o->max : len;
	return setsockopt(((struct inet_sock *)s->priv)->fd, level, name, val,
			  n) < 0
		   ? -errno
		   : 0;
}

int inet_getsockopt(struct socket *s, struct task *t, int level, int name,
		    void *val, socklen_t *len)
{
	(void)t;
	if (level == SOL_SOCKET && name == SO_BINDTODEVICE) {
		*len = 0; /* never bound to a device */
		return 0;
	}
	const struct optdef *o = opt_find(level, name);
	if (!o || !(o->how & O_GET))
		return -ENOPROTOOPT;
	/* The host writes at most *len bytes (at most SOCK_OPTVAL_MAX, the
	 * caller's buffer) and says how many. */
	return getsockopt(((struct inet_sock *)s->priv)->fd, level, name, val,
			  len) < 0
		   ? -errno
		   : 0;
}

int inet_cmsg_send_ok(const struct socket *s, int level, int type)
{
	switch (level) {
	case SOL_SOCKET:
		/* SCM_RIGHTS and SCM_CREDENTIALS belong to AF_UNIX: ignored,
		 * as Linux ignores them here; the rest (SO_MARK, SCM_TXTIME,
		 * timestamping requests) are not passed on. */
		return type == SCM_RIGHTS || type == SCM_CREDENTIALS ? 0
								     : -EINVAL;
	case IPPROTO_IP:
		/* The source address or interface, the TOS and TTL of this
		 * datagram. */
		return type == IP_PKTINFO || type == IP_TOS || type == IP_TTL
			   ? 1
			   : -EINVAL;
	case IPPROTO_IPV6:
		if (s->family != AF_INET6)
			return 0;
		return type == IPV6_PKTINFO || type == IPV6_HOPLIMIT ||
			       type == IPV6_TCLASS
			   ? 1
			   : -EINVAL;
	}
	return 0; /* other levels: ignored, as Linux ignores them */
}

int inet_cmsg_recv_ok(const struct socket *s, int level, int type)
{
	(void)s;
	switch (level) {
	case SOL_SOCKET:
		return type == SO_TIMESTAMP_OLD || type == SO_TIMESTAMPNS_OLD ||
		       type == SO_TIMESTAMP_NEW || type == SO_TIMESTAMPNS_NEW;
	case IPPROTO_IP:
		return type == IP_PKTINFO || type == IP_TOS || type == IP_TTL ||
		       type == IP_RECVERR;
	case IPPROTO_IPV6:
		return type == IPV6_PKTINFO || type == IPV6_HOPLIMIT ||
		       type == IPV6_TCLASS || type == IPV6_RECVERR;
	}
	return 0;
}
