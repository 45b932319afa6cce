/* AF_INET / AF_INET6 over host sockets in the container's network
 * namespace: creation, addresses, connect/accept and data. */
#include "sentry/net/inet/inet.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sentry/kernel/cred.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/uio.h"
#include "sentry/net/netns.h"
#include "sentry/vfs/fs.h"

/* One host call moves at most this much through the sentry's buffer; a
 * datagram (at most 65,535 bytes) always fits in one. */
#define INET_CHUNK (64u << 10)
/* Room for the control messages the host gives with one receive. */
#define INET_HOST_CTL 2048

static const struct proto_ops inet_ops;

static struct inet_sock *isk(struct socket *s)
{
	return s->priv;
}

static int inet_sock_new(struct socket *s, int hostfd)
{
	struct inet_sock *is = calloc(1, sizeof(*is));
	if (!is)
		return -ENOMEM;
	is->fd = hostfd;
	host_watch_init(&is->watch, hostfd);
	s->ops = &inet_ops;
	s->priv = is;
	return 0;
}

/* ICMP echo sockets, as Linux's ping_init_sock: only for a group in the
 * namespace's net.ipv4.ping_group_range (the host checks the sentry's
 * group; this checks the guest's). */
static bool ping_allowed(struct task *t)
{
	char buf[64];
	ssize_t n = netns_read(NETNS_PING_GROUP, buf, sizeof(buf) - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	unsigned long lo, hi;
	if (sscanf(buf, "%lu %lu", &lo, &hi) != 2)
		return false;
	const struct cred *c = &t->cred;
	if (c->egid >= lo && c->egid <= hi)
		return true;
	for (uint32_t i = 0; i < c->ngroups && i < CRED_NGROUPS_MAX; i++)
		if (c->groups[i] >= lo && c->groups[i] <= hi)
			return true;
	return false;
}

static int inet_create_common(struct socket *s, struct task *t, int family,
			      int type, int protocol)
{
	switch (type) {
	case SOCK_STREAM:
		if (protocol != 0 && protocol != IPPROTO_TCP)
			return -EPROTONOSUPPORT;
		s->protocol = IPPROTO_TCP;
		break;
	case SOCK_DGRAM:
		if (protocol == 0 || protocol == IPPROTO_UDP) {
			s->protocol = IPPROTO_UDP;
		} else if ((family == AF_INET && protocol == IPPROTO_ICMP) ||
			   (family == AF_INET6 && protocol == IPPROTO_ICMPV6)) {
			if (!ping_allowed(t))
				return -EACCES;
		} else {
			return -EPROTONOSUPPORT;
		}
		break;
	case SOCK_RAW:
		/* Even for a guest root: its CAP_NET_RAW is virtual. */
		return -EPERM;
	default:
		return -ESOCKTNOSUPPORT;
	}
	lock_might_block("inet socket");
	int fd =
	    socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, s->protocol);
	if (fd < 0)
		return -errno;
	int r = inet_sock_new(s, fd);
	if (r)
		close(fd);
	return r;
}

static int inet_create(struct socket *s, struct task *t, int type, int protocol)
{
	return inet_create_common(s, t, AF_INET, type, protocol);
}

static int inet6_create(struct socket *s, struct task *t, int type,
			int protocol)
{
	return inet_create_common(s, t, AF_INET6, type, protocol);
}

static int packet_create(struct socket *s, struct task *t, int type,
			 int protocol)
{
	(void)s, (void)t, (void)type, (void)protocol;
	return -EPERM;
}

const struct net_family inet_family = {
    .family = AF_INET, .name = "inet", .create = inet_create};
const struct net_family inet6_family = {
    .family = AF_INET6, .name = "inet6", .create = inet6_create};
/* Packet sockets see every frame of an interface: refused as Linux refuses
 * them without CAP_NET_RAW. */
const struct net_family packet_family = {
    .family = AF_PACKET, .name = "packet", .create = packet_create};

/* -EINTR for a wait with a timeout, else a restart (Linux's
 * sock_intr_errno). */
static int intr_err(int64_t timeo)
{
	return timeo ? -EINTR : -ERESTARTSYS;
}

/* Sleep until the host socket polls ready for ev (or an error or hangup),
 * the deadline passes (-ETIMEDOUT), or a signal comes (-EINTR). */
static int inet_wait(struct inet_sock *is, struct task *t, short ev,
		     const struct timespec *deadline)
{
	int r = host_watch_arm(&is->watch);
	if (r < 0)
		return r == -EPERM ? 0 : r;
	struct wait_entry we;
	wait_entry_init_task(&we, t, (uint32_t)ev | POLLHUP | POLLERR);
	waitq_add(&is->watch.wq, &we);
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		struct pollfd p = {.fd = is->fd, .events = ev};
		if (poll(&p, 1, 0) != 0) {
			r = 0;
			break;
		}
		r = task_sleep(t, seq, deadline, SLEEP_INTR);
		if (r)
			break;
	}
	waitq_remove(&we);
	return r;
}

/* The address of a bind, connect or sendto, checked as Linux checks it
 * (length first, then family) before the host sees it; *hostlen is what to
 * pass. The contents are plain data in a kernel copy. */
static int inet_addr_check(struct socket *s, struct task *t,
			   const struct sockaddr *a, socklen_t len,
			   bool is_bind, socklen_t *hostlen)
{
	socklen_t min = s->family == AF_INET ? sizeof(struct sockaddr_in)
					     : 24 /* SIN6_LEN_RFC2133 */;
	if (len < sizeof(sa_family_t))
		return -EINVAL;
	int fam = a->sa_family;
	if (fam != AF_INET && fam != AF_INET6 && fam != AF_UNSPEC)
		return len < min ? -EINVAL : -EAFNOSUPPORT;
	*hostlen = len > sizeof(struct sockaddr_in6)
		       ? (socklen_t)sizeof(struct sockaddr_in6)
		       : len;
	if (is_bind && fam == s->family && len >= min) {
		/* Low ports need the guest's CAP_NET_BIND_SERVICE, not the
		 * sentry's (the namespace's default
		 * ip_unprivileged_port_start, 1024). */
		uint16_t port =
		    ntohs(((const struct sockaddr_in *)a)->sin_port);
		if (port && port < 1024 &&
		    !cred_capable(&t->cred, CAP_NET_BIND_SERVICE))
			return -EACCES;
	}
	return 0;
}

static int inet_bind(struct socket *s, struct task *t,
		     const struct sockaddr *addr, socklen_t len)
{
	socklen_t hl;
	int r = inet_addr_check(s, t, addr, len, true, &hl);
	if (r)
		return r;
	return bind(isk(s)->fd, addr, hl) < 0 ? -errno : 0;
}

/* A blocking connect waits for the handshake on the notifier, bounded by
 * SO_SNDTIMEO (then EINPROGRESS, as Linux). Its outcome comes from calling
 * the host's connect again, which also leaves the host socket in the state
 * a blocking connect would have (unconnected after a failure, so that a
 * later connect is judged afresh, not as one in progress). */
static int inet_connect(struct socket *s, struct task *t,
			const struct sockaddr *addr, socklen_t len, int fflags)
{
	struct inet_sock *is = isk(s);
	socklen_t hl;
	int r = inet_addr_check(s, t, addr, len, false, &hl);
	if (r)
		return r;
	if (connect(is->fd, addr, hl) == 0)
		return 0;
	r = -errno;
	if ((r != -EINPROGRESS && r != -EALREADY) || (fflags & O_NONBLOCK) ||
	    s->type != SOCK_STREAM)
		return r;
	int64_t timeo = atomic_load(&s->sndtimeo);
	struct timespec dl;
	bool timed = sock_deadline(timeo, &dl);
	for (;;) {
		r = inet_wait(is, t, POLLOUT, timed ? &dl : NULL);
		if (r == -ETIMEDOUT)
			return -EINPROGRESS;
		if (r == -EINTR)
			return intr_err(timeo);
		if (r)
			return r;
		if (connect(is->fd, addr, hl) == 0)
			return 0;
		r = -errno;
		if (r != -EALREADY && r != -EINPROGRESS)
			return r;
	}
}

static int inet_listen(struct socket *s, struct task *t, int backlog)
{
	(void)t;
	return listen(isk(s)->fd, backlog) < 0 ? -errno : 0;
}

static int inet_accept(struct socket *s, struct task *t, bool nonblock,
		       struct socket **out)
{
	struct inet_sock *is = isk(s);
	int64_t timeo = atomic_load(&s->rcvtimeo);
	struct timespec dl;
	bool timed = sock_deadline(timeo, &dl);
	int fd;
	for (;;) {
		fd = accept4(is->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0)
			break;
		int e = -errno;
		if (e != -EAGAIN || nonblock)
			return e;
		e = inet_wait(is, t, POLLIN, timed ? &dl : NULL);
		if (e == -ETIMEDOUT)
			return -EAGAIN;
		if (e == -EINTR)
			return intr_err(timeo);
		if (e)
			return e;
	}
	struct socket *ns = calloc(1, sizeof(*ns));
	if (!ns) {
		close(fd);
		return -ENOMEM;
	}
	ns->family = s->family;
	ns->type = s->type;
	ns->protocol = s->protocol;
	int r = inet_sock_new(ns, fd);
	if (r) {
		close(fd);
		free(ns);
		return r;
	}
	*out = ns;
	return 0;
}

static int inet_getname(struct socket *s, struct sockaddr_storage *addr,
			socklen_t *len, bool peer)
{
	*len = sizeof(*addr);
	int r = peer ? getpeername(isk(s)->fd, (struct sockaddr *)addr, len)
		     : getsockname(isk(s)->fd, (struct sockaddr *)addr, len);
	return r < 0 ? -errno : 0;
}

/* The guest's control messages for a send, filtered into out (the host's
 * copy): each header checked to lie inside the buffer (Linux's CMSG_OK),
 * the allowed ones kept. Returns the bytes kept or -EINVAL. */
static ssize_t inet_cmsg_filter(struct socket *s, const struct sock_msg *m,
				void *out)
{
	size_t off = 0, kept = 0;
	const uint8_t *base = m->control;
	while (off + sizeof(struct cmsghdr) <= m->controllen) {
		struct cmsghdr h;
		memcpy(&h, base + off, sizeof(h));
		if (h.cmsg_len < sizeof(struct cmsghdr) ||
		    h.cmsg_len > m->controllen - off)
			return -EINVAL;
		int ok = inet_cmsg_send_ok(s, h.cmsg_level, h.cmsg_type);
		if (ok < 0)
			return ok;
		if (ok) {
			memcpy((uint8_t *)out + kept, base + off, h.cmsg_len);
			kept += CMSG_ALIGN(h.cmsg_len);
		}
		off += CMSG_ALIGN(h.cmsg_len);
	}
	return (ssize_t)kept;
}

#define SEND_FLAGS                                                             \
	(MSG_OOB | MSG_DONTROUTE | MSG_EOR | MSG_MORE | MSG_CONFIRM |          \
	 MSG_FASTOPEN)

static ssize_t inet_sendmsg(struct socket *s, struct task *t, struct uio *u,
			    struct sock_msg *m)
{
	struct inet_sock *is = isk(s);
	socklen_t alen = 0;
	if (m->addrlen) {
		int r = inet_addr_check(s, t, (struct sockaddr *)&m->addr,
					m->addrlen, false, &alen);
		if (r)
			return r;
	}
	bool dgram = s->type != SOCK_STREAM;
	size_t resid = uio_resid(u);
	if (dgram && resid > INET_CHUNK)
		return -EMSGSIZE;
	size_t cap = resid < INET_CHUNK ? resid : INET_CHUNK;
	void *ctl = NULL;
	ssize_t ctllen = 0;
	if (m->controllen) {
		/* The last kept message's padding may run past the guest's
		 * length: room for it, zeroed. */
		ctl = calloc(1, m->controllen + CMSG_ALIGN(1));
		if (!ctl)
			return -ENOBUFS;
		ctllen = inet_cmsg_filter(s, m, ctl);
		if (ctllen < 0) {
			free(ctl);
			return ctllen;
		}
	}
	uint8_t *buf = malloc(cap ? cap : 1);
	if (!buf) {
		free(ctl);
		return -ENOMEM;
	}
	int hflags = (m->flags & SEND_FLAGS) | MSG_DONTWAIT | MSG_NOSIGNAL;
	int64_t timeo = atomic_load(&s->sndtimeo);
	struct timespec dl;
	bool timed = sock_deadline(timeo, &dl);
	size_t done = 0;
	ssize_t err = 0;
	bool first = true;
	while (first || uio_resid(u) > 0) {
		ssize_t c = 0;
		if (uio_resid(u)) {
			c = uio_copy_in(u, buf, dgram ? resid : cap);
			if (c < 0 || (dgram && (size_t)c < resid)) {
				/* A datagram goes whole or not at all. */
				err = c < 0 ? c : -EFAULT;
				break;
			}
		}
		size_t off = 0;
		do {
			struct iovec v = {buf + off, (size_t)c - off};
			struct msghdr h = {
			    .msg_name = alen ? &m->addr : NULL,
			    .msg_namelen = alen,
			    .msg_iov = &v,
			    .msg_iovlen = 1,
			    .msg_control = first && ctllen ? ctl : NULL,
			    .msg_controllen = first ? (size_t)ctllen : 0,
			};
			ssize_t r = sendmsg(is->fd, &h, hflags);
			if (r >= 0) {
				off += (size_t)r;
				done += (size_t)r;
				first = false;
				continue;
			}
			r = -errno;
			if (r != -EAGAIN || m->nonblock) {
				err = r;
				goto out;
			}
			r = inet_wait(is, t, POLLOUT, timed ? &dl : NULL);
			if (r) {
				err = r == -ETIMEDOUT ? -EAGAIN
				      : r == -EINTR   ? intr_err(timeo)
						      : r;
				goto out;
			}
		} while (off < (size_t)c);
		first = false;
		if (dgram || (size_t)c < cap)
			break;
	}
out:
	free(buf);
	free(ctl);
	return done ? (ssize_t)done : err;
}

/* The host's control messages, translated into the guest's buffer: only
 * those inet_cmsg_recv_ok names, each copied as plain data (their layouts
 * are the guest's too: both are x86-64 Linux). */
static void inet_cmsg_relay(struct socket *s, struct sock_msg *m,
			    struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_len < CMSG_LEN(0))
			break;
		if (!inet_cmsg_recv_ok(s, c->cmsg_level, c->cmsg_type))
			continue;
		sock_put_cmsg(m, c->cmsg_level, c->cmsg_type, CMSG_DATA(c),
			      c->cmsg_len - CMSG_LEN(0));
	}
}

#define RECV_FLAGS (MSG_PEEK | MSG_TRUNC | MSG_OOB | MSG_ERRQUEUE)

static ssize_t inet_recvmsg(struct socket *s, struct task *t, struct uio *u,
			    struct sock_msg *m)
{
	struct inet_sock *is = isk(s);
	bool stream = s->type == SOCK_STREAM;
	int hflags = (m->flags & RECV_FLAGS) | MSG_DONTWAIT;
	/* MSG_TRUNC on a stream discards the bytes: nothing to copy. */
	bool discard = stream && (m->flags & MSG_TRUNC);
	bool waitall = stream && (m->flags & MSG_WAITALL) &&
		       !(m->flags & MSG_PEEK) && !m->nonblock;
	size_t cap = uio_resid(u) < INET_CHUNK ? uio_resid(u) : INET_CHUNK;
	uint8_t *buf = malloc(cap ? cap : 1);
	if (!buf)
		return -ENOMEM;
	uint8_t *ctl = NULL;
	if (m->controllen) {
		ctl = calloc(1, INET_HOST_CTL);
		if (!ctl) {
			free(buf);
			return -ENOMEM;
		}
	}
	int64_t timeo = atomic_load(&s->rcvtimeo);
	struct timespec dl;
	bool timed = sock_deadline(timeo, &dl);
	size_t done = 0;
	ssize_t err = 0;
	for (;;) {
		size_t n = uio_resid(u) < cap ? uio_resid(u) : cap;
		struct iovec v = {buf, n};
		struct sockaddr_storage from;
		struct msghdr h = {
		    .msg_name = &from,
		    .msg_namelen = sizeof(from),
		    .msg_iov = &v,
		    .msg_iovlen = 1,
		    .msg_control = done ? NULL : ctl,
		    .msg_controllen = done || !ctl ? 0 : INET_HOST_CTL,
		};
		ssize_t r = recvmsg(is->fd, &h, hflags);
		if (r >= 0) {
			if (!done) {
				if (h.msg_namelen &&
				    h.msg_namelen <= sizeof(m->addr)) {
					memcpy(&m->addr, &from, h.msg_namelen);
					m->addrlen = h.msg_namelen;
				}
				m->out_flags =
				    h.msg_flags &
				    (MSG_TRUNC | MSG_CTRUNC | MSG_EOR |
				     MSG_OOB | MSG_ERRQUEUE);
				if (ctl)
					inet_cmsg_relay(s, m, &h);
			}
			if (discard) {
				done += (size_t)r;
			} else {
				size_t take = (size_t)r < n ? (size_t)r : n;
				ssize_t c =
				    take ? uio_copy_out(u, buf, take) : 0;
				if (c < 0) {
					err = c;
					break;
				}
				/* A datagram's length may exceed what was
				 * copied (MSG_TRUNC asked for it). */
				done += stream ? (size_t)c : (size_t)r;
			}
			if (!waitall || r == 0 || uio_resid(u) == 0 || discard)
				break;
			continue;
		}
		r = -errno;
		if (r != -EAGAIN || m->nonblock) {
			err = r;
			break;
		}
		if (done && !waitall)
			break;
		r = inet_wait(is, t, (m->flags & MSG_OOB) ? POLLPRI : POLLIN,
			      timed ? &dl : NULL);
		if (r) {
			err = r == -ETIMEDOUT ? -EAGAIN
			      : r == -EINTR   ? intr_err(timeo)
					      : r;
			break;
		}
	}
	free(buf);
	free(ctl);
	return done ? (ssize_t)done : err;
}

static int inet_shutdown(struct socket *s, int how)
{
	return shutdown(isk(s)->fd, how) < 0 ? -errno : 0;
}

static uint32_t inet_poll(struct socket *s, struct poll_table *pt)
{
	struct inet_sock *is = isk(s);
	/* Register first: a change after the check then still wakes. */
	if (pt && pt->qproc && host_watch_arm(&is->watch) == 0)
		poll_wait(pt, &is->watch.wq);
	struct pollfd p = {.fd = is->fd,
			   .events = POLLIN | POLLOUT | POLLPRI | POLLRDHUP |
				     POLLRDNORM | POLLWRNORM | POLLRDBAND |
				     POLLWRBAND};
	if (poll(&p, 1, 0) < 0)
		return POLLERR;
	return (uint16_t)p.revents;
}

static void inet_release(struct socket *s)
{
	struct inet_sock *is = isk(s);
	if (!is)
		return;
	host_watch_disarm(&is->watch);
	close(is->fd);
	free(is);
	s->priv = NULL;
}

static const struct proto_ops inet_ops = {
    .bind = inet_bind,
    .connect = inet_connect,
    .listen = inet_listen,
    .accept = inet_accept,
    .getname = inet_getname,
    .sendmsg = inet_sendmsg,
    .recvmsg = inet_recvmsg,
    .shutdown = inet_shutdown,
    .setsockopt = inet_setsockopt,
    .getsockopt = inet_getsockopt,
    .poll = inet_poll,
    .ioctl = inet_ioctl,
    .release = inet_release,
};
