/* NETLINK_ROUTE over a host netlink socket in the container's namespace:
 * read requests forwarded once checked, replies relayed, changes answered
 * here with EPERM. */
#include "sentry/net/netlink/netlink.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "sentry/kernel/lock.h"
#include "sentry/kernel/notifier.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/uio.h"
#include "sentry/vfs/fs.h"

#define NL_CHUNK    (64u << 10) /* one datagram, either way */
#define NL_PENDING  32		/* local replies not yet read */
#define NL_HOST_CTL 256

/* A reply made here: an NLMSG_ERROR carrying the request's header (as
 * Linux with NETLINK_CAP_ACK). */
struct nl_reply {
	struct nlmsghdr h;
	struct nlmsgerr e;
};

struct nl_sock {
	int fd; /* the host socket, O_NONBLOCK, owned */
	struct host_watch watch;
	/* A leaf (LR_LEAF): nothing is taken under it, and no host call is
	 * made with it held. */
	struct kmutex lock;
	/* Under lock: local replies, oldest at head. */
	struct nl_reply pending[NL_PENDING];
	int head, count;
};

static const struct proto_ops nl_ops;

static struct nl_sock *nsk(struct socket *s)
{
	return s->priv;
}

static int nl_create(struct socket *s, struct task *t, int type, int protocol)
{
	(void)t;
	if (type != SOCK_RAW && type != SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;
	if (protocol != NETLINK_ROUTE)
		return -EPROTONOSUPPORT;
	struct nl_sock *ns = calloc(1, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	lock_might_block("netlink socket");
	ns->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
			NETLINK_ROUTE);
	if (ns->fd < 0) {
		int e = -errno;
		free(ns);
		return e;
	}
	host_watch_init(&ns->watch, ns->fd);
	kmutex_init(&ns->lock, "netlink", LR_LEAF);
	s->ops = &nl_ops;
	s->priv = ns;
	return 0;
}

const struct net_family netlink_family = {
    .family = AF_NETLINK, .name = "netlink", .create = nl_create};

static int nl_bind(struct socket *s, struct task *t,
		   const struct sockaddr *addr, socklen_t len)
{
	(void)t;
	if (len < sizeof(struct sockaddr_nl))
		return -EINVAL;
	struct sockaddr_nl a;
	memcpy(&a, addr, sizeof(a));
	if (a.nl_family != AF_NETLINK)
		return -EINVAL;
	/* Groups: NETLINK_ROUTE lets anyone listen to its notifications
	 * (link, address and route changes of this namespace). */
	return bind(nsk(s)->fd, (struct sockaddr *)&a, sizeof(a)) < 0 ? -errno
								      : 0;
}

/* Only the kernel is an allowed peer: unicast to another port or to a
 * group needs CAP_NET_ADMIN in Linux, which the guest never really has. */
static int nl_dest_check(const struct sockaddr *addr, socklen_t len)
{
	if (len < sizeof(struct sockaddr_nl))
		return -EINVAL;
	struct sockaddr_nl a;
	memcpy(&a, addr, sizeof(a));
	if (a.nl_family != AF_NETLINK)
		return -EINVAL;
	return a.nl_pid || a.nl_groups ? -EPERM : 0;
}

static int nl_connect(struct socket *s, struct task *t,
		      const struct sockaddr *addr, socklen_t len, int fflags)
{
	(void)t, (void)fflags;
	if (len >= sizeof(sa_family_t) && addr->sa_family == AF_UNSPEC)
		return 0;
	int r = nl_dest_check(addr, len);
	if (r)
		return r;
	struct sockaddr_nl a = {.nl_family = AF_NETLINK};
	return connect(nsk(s)->fd, (struct sockaddr *)&a, sizeof(a)) < 0
		   ? -errno
		   : 0;
}

static int nl_getname(struct socket *s, struct sockaddr_storage *addr,
		      socklen_t *len, bool peer)
{
	*len = sizeof(*addr);
	int fd = nsk(s)->fd;
	int r = peer ? getpeername(fd, (struct sockaddr *)addr, len)
		     : getsockname(fd, (struct sockaddr *)addr, len);
	return r < 0 ? -errno : 0;
}

/* The host socket's port id, which the guest's requests and our replies
 * carry (autobinding it as a first send would). */
static uint32_t nl_portid(struct nl_sock *ns)
{
	struct sockaddr_nl a;
	socklen_t l = sizeof(a);
	if (getsockname(ns->fd, (struct sockaddr *)&a, &l) == 0 && a.nl_pid)
		return a.nl_pid;
	struct sockaddr_nl any = {.nl_family = AF_NETLINK};
	if (bind(ns->fd, (struct sockaddr *)&any, sizeof(any)) == 0) {
		l = sizeof(a);
		if (getsockname(ns->fd, (struct sockaddr *)&a, &l) == 0)
			return a.nl_pid;
	}
	return 0;
}

static void nl_queue_error(struct nl_sock *ns, const struct nlmsghdr *req,
			   int err)
{
	struct nl_reply rep = {
	    .h = {.nlmsg_len = sizeof(rep),
		  .nlmsg_type = NLMSG_ERROR,
		  .nlmsg_flags = NLM_F_CAPPED,
		  .nlmsg_seq = req->nlmsg_seq,
		  .nlmsg_pid = nl_portid(ns)},
	    .e = {.error = err, .msg = *req},
	};
	rep.e.msg.nlmsg_len = sizeof(*req);
	kmutex_lock(&ns->lock);
	if (ns->count < NL_PENDING) {
		ns->pending[(ns->head + ns->count) % NL_PENDING] = rep;
		ns->count++;
	}
	/* Full: dropped, as an overrun socket drops (the guest is not
	 * reading its replies). */
	kmutex_unlock(&ns->lock);
	waitq_wake(&ns->watch.wq, POLLIN | POLLRDNORM);
}

/* What becomes of one request: forwarded (a read of the namespace's
 * state, or a netlink control message), or refused with this errno. */
static int nl_classify(uint16_t type)
{
	if (type < NLMSG_MIN_TYPE)
		return 0; /* NOOP, DONE...: the host ignores them too */
	if (type > RTM_MAX)
		return -EOPNOTSUPP;
	if (type < RTM_BASE)
		return -EOPNOTSUPP;
	/* RTM_GETNSID maps host pids and fds to namespace ids: not the
	 * guest's business. */
	if (type == RTM_GETNSID)
		return -EPERM;
	/* RTM_NEW* = 0, DEL* = 1, GET* = 2, SET* = 3 (mod 4): every GET is
	 * unprivileged in Linux, everything else needs CAP_NET_ADMIN. */
	return ((type - RTM_BASE) & 3) == 2 ? 0 : -EPERM;
}

/* Attributes that would point a read at another network namespace
 * (RTM_GETLINK/GETADDR's target netnsid, a netns by pid or fd): the host
 * would honour them with the sentry's real capabilities. */
static bool nl_names_other_netns(const uint8_t *msg, uint32_t len)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)msg;
	size_t fixed;
	if (h->nlmsg_type == RTM_GETLINK)
		fixed = sizeof(struct ifinfomsg);
	else if (h->nlmsg_type == RTM_GETADDR)
		fixed = sizeof(struct ifaddrmsg);
	else
		return false;
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(fixed);
	while (off + sizeof(struct rtattr) <= len) {
		struct rtattr a;
		memcpy(&a, msg + off, sizeof(a));
		if (a.rta_len < sizeof(a) || a.rta_len > len - off)
			break;
		uint16_t t = a.rta_type & NLA_TYPE_MASK;
		if (h->nlmsg_type == RTM_GETLINK
			? (t == IFLA_TARGET_NETNSID || t == IFLA_NET_NS_PID ||
			   t == IFLA_NET_NS_FD)
			: t == IFA_TARGET_NETNSID)
			return true;
		off += RTA_ALIGN(a.rta_len);
	}
	return false;
}

static ssize_t nl_sendmsg(struct socket *s, struct task *t, struct uio *u,
			  struct sock_msg *m)
{
	(void)t;
	struct nl_sock *ns = nsk(s);
	if (m->addrlen) {
		int r = nl_dest_check((struct sockaddr *)&m->addr, m->addrlen);
		if (r)
			return r;
	}
	size_t len = uio_resid(u);
	if (len > NL_CHUNK)
		return -EMSGSIZE;
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf)
		return -ENOBUFS;
	ssize_t c = len ? uio_copy_in(u, buf, len) : 0;
	if (c < 0 || (size_t)c < len) {
		free(buf);
		return -EFAULT;
	}
	/* As netlink_rcv_skb: messages one after another, the walk ending
	 * at the first malformed header. */
	size_t off = 0;
	ssize_t r = (ssize_t)len;
	while (off + NLMSG_HDRLEN <= len) {
		struct nlmsghdr h;
		memcpy(&h, buf + off, sizeof(h));
		if (h.nlmsg_len < NLMSG_HDRLEN || h.nlmsg_len > len - off)
			break;
		int verdict = nl_classify(h.nlmsg_type);
		if (!verdict && nl_names_other_netns(buf + off, h.nlmsg_len))
			verdict = -EPERM;
		if (verdict) {
			nl_queue_error(ns, &h, verdict);
		} else if (h.nlmsg_flags & NLM_F_REQUEST) {
			struct sockaddr_nl k = {.nl_family = AF_NETLINK};
			if (sendto(ns->fd, buf + off, h.nlmsg_len, MSG_DONTWAIT,
				   (struct sockaddr *)&k, sizeof(k)) < 0) {
				r = -errno;
				break;
			}
		}
		size_t step = NLMSG_ALIGN(h.nlmsg_len);
		if (step > len - off)
			break;
		off += step;
	}
	free(buf);
	return r;
}

static bool nl_pending(struct nl_sock *ns)
{
	kmutex_lock(&ns->lock);
	bool any = ns->count > 0;
	kmutex_unlock(&ns->lock);
	return any;
}

/* A local reply to the guest, if there is one. */
static ssize_t nl_recv_local(struct nl_sock *ns, struct uio *u,
			     struct sock_msg *m)
{
	struct nl_reply rep;
	kmutex_lock(&ns->lock);
	if (!ns->count) {
		kmutex_unlock(&ns->lock);
		return -EAGAIN;
	}
	rep = ns->pending[ns->head];
	if (!(m->flags & MSG_PEEK)) {
		ns->head = (ns->head + 1) % NL_PENDING;
		ns->count--;
	}
	kmutex_unlock(&ns->lock);
	size_t n = uio_resid(u) < sizeof(rep) ? uio_resid(u) : sizeof(rep);
	ssize_t c = n ? uio_copy_out(u, &rep, n) : 0;
	if (c < 0)
		return c;
	struct sockaddr_nl k = {.nl_family = AF_NETLINK};
	memcpy(&m->addr, &k, sizeof(k));
	m->addrlen = sizeof(k);
	if (n < sizeof(rep))
		m->out_flags |= MSG_TRUNC;
	return (m->flags & MSG_TRUNC) ? (ssize_t)sizeof(rep) : c;
}

static int nl_wait(struct nl_sock *ns, struct task *t,
		   const struct timespec *deadline)
{
	int r = host_watch_arm(&ns->watch);
	if (r < 0)
		return r == -EPERM ? 0 : r;
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLIN | POLLRDNORM | POLLHUP | POLLERR);
	waitq_add(&ns->watch.wq, &we);
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		struct pollfd p = {.fd = ns->fd, .events = POLLIN};
		if (nl_pending(ns) || poll(&p, 1, 0) != 0) {
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

static ssize_t nl_recvmsg(struct socket *s, struct task *t, struct uio *u,
			  struct sock_msg *m)
{
	struct nl_sock *ns = nsk(s);
	int64_t timeo = atomic_load(&s->rcvtimeo);
	struct timespec dl;
	bool timed = sock_deadline(timeo, &dl);
	size_t cap = uio_resid(u) < NL_CHUNK ? uio_resid(u) : NL_CHUNK;
	uint8_t *buf = malloc(cap ? cap : 1);
	uint8_t ctl[NL_HOST_CTL];
	if (!buf)
		return -ENOMEM;
	ssize_t r;
	for (;;) {
		r = nl_recv_local(ns, u, m);
		if (r != -EAGAIN)
			break;
		struct iovec v = {buf, cap};
		struct sockaddr_nl from;
		struct msghdr h = {.msg_name = &from,
				   .msg_namelen = sizeof(from),
				   .msg_iov = &v,
				   .msg_iovlen = 1,
				   .msg_control = m->controllen ? ctl : NULL,
				   .msg_controllen =
				       m->controllen ? sizeof(ctl) : 0};
		r = recvmsg(ns->fd, &h,
			    (m->flags & (MSG_PEEK | MSG_TRUNC)) | MSG_DONTWAIT);
		if (r >= 0) {
			size_t take = (size_t)r < cap ? (size_t)r : cap;
			ssize_t c = take ? uio_copy_out(u, buf, take) : 0;
			if (c < 0) {
				r = c;
				break;
			}
			if (h.msg_namelen >= sizeof(from)) {
				memcpy(&m->addr, &from, sizeof(from));
				m->addrlen = sizeof(from);
			}
			m->out_flags = h.msg_flags & (MSG_TRUNC | MSG_CTRUNC);
			for (struct cmsghdr *cm =
				 h.msg_controllen ? CMSG_FIRSTHDR(&h) : NULL;
			     cm; cm = CMSG_NXTHDR(&h, cm)) {
				/* The multicast group a message came to. */
				if (cm->cmsg_level == SOL_NETLINK &&
				    cm->cmsg_type == NETLINK_PKTINFO &&
				    cm->cmsg_len >= CMSG_LEN(0))
					sock_put_cmsg(
					    m, SOL_NETLINK, NETLINK_PKTINFO,
					    CMSG_DATA(cm),
					    cm->cmsg_len - CMSG_LEN(0));
			}
			break;
		}
		r = -errno;
		if (r != -EAGAIN || m->nonblock)
			break;
		r = nl_wait(ns, t, timed ? &dl : NULL);
		if (r) {
			r = r == -ETIMEDOUT ? -EAGAIN
			    : r == -EINTR   ? (timeo ? -EINTR : -ERESTARTSYS)
					    : r;
			break;
		}
	}
	free(buf);
	return r;
}

/* The options netlink clients (iproute2, glibc, busybox) set: buffer
 * sizes and the protocol's own flags, each about this socket only.
 * NETLINK_LISTEN_ALL_NSID (other namespaces' events) is not among them. */
static bool nl_opt_ok(int level, int name)
{
	if (level == SOL_SOCKET)
		return name == SO_RCVBUF || name == SO_SNDBUF;
	if (level == SOL_NETLINK)
		return name == NETLINK_ADD_MEMBERSHIP ||
		       name == NETLINK_DROP_MEMBERSHIP ||
		       name == NETLINK_PKTINFO ||
		       name == NETLINK_BROADCAST_ERROR ||
		       name == NETLINK_NO_ENOBUFS || name == NETLINK_CAP_ACK ||
		       name == NETLINK_EXT_ACK ||
		       name == NETLINK_GET_STRICT_CHK;
	return false;
}

static int nl_setsockopt(struct socket *s, struct task *t, int level, int name,
			 const void *val, socklen_t len)
{
	(void)t;
	if (level == SOL_NETLINK && name == NETLINK_LISTEN_ALL_NSID)
		return -EPERM;
	if (!nl_opt_ok(level, name))
		return -ENOPROTOOPT;
	if (len < sizeof(int))
		return -EINVAL;
	return setsockopt(nsk(s)->fd, level, name, val, sizeof(int)) < 0
		   ? -errno
		   : 0;
}

static int nl_getsockopt(struct socket *s, struct task *t, int level, int name,
			 void *val, socklen_t *len)
{
	(void)t;
	if (!nl_opt_ok(level, name) &&
	    !(level == SOL_SOCKET && name == SO_ERROR))
		return -ENOPROTOOPT;
	return getsockopt(nsk(s)->fd, level, name, val, len) < 0 ? -errno : 0;
}

static uint32_t nl_poll(struct socket *s, struct poll_table *pt)
{
	struct nl_sock *ns = nsk(s);
	if (pt && pt->qproc && host_watch_arm(&ns->watch) == 0)
		poll_wait(pt, &ns->watch.wq);
	struct pollfd p = {
	    .fd = ns->fd, .events = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM};
	if (poll(&p, 1, 0) < 0)
		return POLLERR;
	uint32_t ev = (uint16_t)p.revents;
	if (nl_pending(ns))
		ev |= POLLIN | POLLRDNORM;
	return ev;
}

static void nl_release(struct socket *s)
{
	struct nl_sock *ns = nsk(s);
	if (!ns)
		return;
	host_watch_disarm(&ns->watch);
	close(ns->fd);
	kmutex_destroy(&ns->lock);
	free(ns);
	s->priv = NULL;
}

static int nl_shutdown(struct socket *s, int how)
{
	return shutdown(nsk(s)->fd, how) < 0 ? -errno : 0;
}

static const struct proto_ops nl_ops = {
    .bind = nl_bind,
    .connect = nl_connect,
    .getname = nl_getname,
    .sendmsg = nl_sendmsg,
    .recvmsg = nl_recvmsg,
    .shutdown = nl_shutdown,
    .setsockopt = nl_setsockopt,
    .getsockopt = nl_getsockopt,
    .poll = nl_poll,
    .release = nl_release,
};
