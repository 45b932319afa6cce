/* AF_UNIX: the family, its sockets' lifetimes and the connection ops
 * (Linux's net/unix/af_unix.c). Data moves in unix_io.c, names live in
 * unix_addr.c, control messages and the collector in unix_scm.c. */
#include "sentry/net/unix/unix.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#include "bulkhead/log.h"
#include "sentry/fs/proc/procfs.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/usercopy.h"
#include "sentry/net/socket.h"
#include "sentry/net/unix/af_unix.h"

#ifndef SIOCINQ
#define SIOCINQ FIONREAD
#endif
#ifndef SIOCOUTQ
#define SIOCOUTQ TIOCOUTQ
#endif
#ifndef SO_PEERSEC
#define SO_PEERSEC 31
#endif
#ifndef POLLRDHUP
#define POLLRDHUP 0x2000
#endif

static const struct proto_ops unix_seqpacket_ops;

void unix_sock_get(struct unix_sock *u)
{
	atomic_fetch_add(&u->refs, 1);
}

void unix_sock_put(struct unix_sock *u)
{
	if (!u || atomic_fetch_sub(&u->refs, 1) != 1)
		return;
	/* Nothing else can see it: its queue was purged at release. */
	unix_gc_unregister(u);
	unix_addr_put(u->addr);
	kmutex_destroy(&u->lock);
	kmutex_destroy(&u->iolock);
	free(u);
}

/* A datagram writer waits on its peer's peer_wait; this entry, on the
 * peer's queue, passes the wake-up on to the writer's pollers. */
static bool peer_wake_fn(struct wait_entry *e, uint32_t events, int depth)
{
	(void)events;
	struct unix_sock *u = e->priv;
	waitq_wake_nested(&u->wq, POLLOUT | POLLWRNORM | POLLWRBAND, depth + 1);
	return false;
}

int unix_sock_new(int type, struct unix_sock **out)
{
	struct unix_sock *u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	atomic_init(&u->refs, 1);
	kmutex_init(&u->lock, "unix_sock", LR_UNIX);
	kmutex_init(&u->iolock, "unix_io", LR_UNIX_IO);
	u->type = type;
	u->state = US_UNCONNECTED;
	list_init(&u->rq);
	list_init(&u->pending);
	list_init(&u->embryo_node);
	list_init(&u->gc_node);
	list_init(&u->name_node);
	atomic_init(&u->sndbuf, UNIX_BUF_DEFAULT);
	atomic_init(&u->rcvbuf, UNIX_BUF_DEFAULT);
	waitq_init(&u->wq);
	waitq_init(&u->peer_wait);
	memset(&u->peer_wake, 0, sizeof(u->peer_wake));
	u->peer_wake.fn = peer_wake_fn;
	u->peer_wake.priv = u;
	list_init(&u->peer_wake.node);
	unix_gc_register(u);
	*out = u;
	return 0;
}

struct unix_cred unix_cred_of(struct task *t)
{
	struct unix_cred c = {
	    .pid = t->proc->pid, .uid = t->cred.euid, .gid = t->cred.egid};
	return c;
}

bool unix_writable(struct unix_sock *u)
{
	return (atomic_load(&u->wmem) << 2) <= (size_t)atomic_load(&u->sndbuf);
}

void unix_peer_wake_disconnect(struct unix_sock *u)
{
	if (u->peer_wake_on) {
		waitq_remove(&u->peer_wake);
		u->peer_wake_on = NULL;
	}
}

static int sock_type_ok(int type)
{
	return type == SOCK_STREAM || type == SOCK_DGRAM ||
	       type == SOCK_SEQPACKET;
}

static const struct proto_ops *ops_for(int type)
{
	if (type == SOCK_STREAM)
		return &unix_stream_ops;
	if (type == SOCK_SEQPACKET)
		return &unix_seqpacket_ops;
	return &unix_dgram_ops;
}

static int unix_create(struct socket *s, struct task *t, int type, int protocol)
{
	(void)t;
	if (protocol && protocol != PF_UNIX)
		return -EPROTONOSUPPORT;
	if (type == SOCK_RAW)
		type = SOCK_DGRAM; /* as Linux */
	if (!sock_type_ok(type))
		return -ESOCKTNOSUPPORT;
	struct unix_sock *u;
	int r = unix_sock_new(type, &u);
	if (r)
		return r;
	s->type = type;
	s->ops = ops_for(type);
	s->priv = u;
	kmutex_lock(&unix_gc_lock);
	u->sock = s;
	kmutex_unlock(&unix_gc_lock);
	return 0;
}

/* Connect a and b (fresh, no file yet) both ways. */
static int unix_socketpair(struct socket *a, struct socket *b, struct task *t)
{
	struct unix_sock *ua = unix_sk(a), *ub = unix_sk(b);
	struct unix_cred c = unix_cred_of(t);
	unix_sock_get(ub);
	unix_sock_get(ua);
	ua->peer = ub;
	ub->peer = ua;
	ua->peercred = ub->peercred = c;
	ua->has_peercred = ub->has_peercred = true;
	ua->state = ub->state = US_CONNECTED;
	return 0;
}

/* Sleep until woken, the deadline, or a signal: 0, -EAGAIN, -ERESTARTSYS. */
static int wait_on(struct task *t, uint32_t seq, bool timed,
		   const struct timespec *deadline)
{
	int r = task_sleep(t, seq, timed ? deadline : NULL, SLEEP_INTR);
	if (r == -EINTR)
		return -ERESTARTSYS;
	if (r == -ETIMEDOUT)
		return -EAGAIN;
	return 0;
}

static int unix_listen(struct socket *s, struct task *t, int backlog)
{
	struct unix_sock *u = unix_sk(s);
	if (u->type == SOCK_DGRAM)
		return -EOPNOTSUPP;
	kmutex_lock(&u->lock);
	int r = 0;
	if (!u->addr)
		r = -EINVAL; /* as Linux: only a bound socket listens */
	else if (u->state != US_UNCONNECTED && u->state != US_LISTEN)
		r = -EINVAL;
	if (!r) {
		bool grow = backlog > u->backlog;
		u->backlog = backlog;
		u->state = US_LISTEN;
		/* As Linux: the listener's credentials are the ones its
		 * connectors see. */
		u->peercred = unix_cred_of(t);
		u->has_peercred = true;
		kmutex_unlock(&u->lock);
		if (grow)
			waitq_wake_all(&u->peer_wait);
		return 0;
	}
	kmutex_unlock(&u->lock);
	return r;
}

/* Is the listener's queue of embryos full (Linux's unix_recvq_full)? */
static bool backlog_full(struct unix_sock *l)
{
	return l->npending > l->backlog;
}

static int stream_connect(struct unix_sock *u, struct task *t,
			  const struct sockaddr *addr, socklen_t len,
			  int fflags)
{
	union unix_name sun;
	socklen_t sl;
	bool autob;
	int r = unix_addr_parse(addr, len, &sun, &sl, &autob);
	if (r)
		return r;
	if (autob)
		return -EINVAL;
	kmutex_lock(&u->lock);
	if (u->state == US_CONNECTED)
		r = -EISCONN;
	else if (u->state == US_LISTEN)
		r = -EINVAL;
	kmutex_unlock(&u->lock);
	if (r)
		return r;
	if (atomic_load(&u->passcred) && (r = unix_autobind(u)) != 0)
		return r;
	struct unix_sock *other;
	r = unix_find(t, &sun, sl, u->type, &other);
	if (r)
		return r;
	struct unix_sock *nu;
	r = unix_sock_new(u->type, &nu);
	if (r) {
		unix_sock_put(other);
		return r;
	}
	nu->state = US_CONNECTED;
	nu->peercred = unix_cred_of(t);
	nu->has_peercred = true;
	struct timespec deadline;
	bool timed = sock_deadline(atomic_load(&u->sock->sndtimeo), &deadline);
	struct wait_entry we;
	wait_entry_init_task(&we, t, 0);
	for (;;) {
		/* Register before looking: no wake-up is lost between. */
		uint32_t seq = task_wake_seq(t);
		if (!we.q)
			waitq_add(&other->peer_wait, &we);
		kmutex_lock(&other->lock);
		if (other->dead || other->state != US_LISTEN ||
		    (other->shutdown & UNIX_RCV_SHUTDOWN)) {
			r = -ECONNREFUSED;
		} else if (backlog_full(other)) {
			r = -EAGAIN;
		} else {
			r = 0;
		}
		struct unix_cred lc = other->peercred;
		kmutex_unlock(&other->lock);
		if (r == -EAGAIN) {
			if (fflags & O_NONBLOCK)
				break;
			r = wait_on(t, seq, timed, &deadline);
			if (r)
				break;
			continue;
		}
		if (r)
			break;
		/* Connect our side first, so that what we send before the
		 * accept waits in the embryo's queue. */
		kmutex_lock(&u->lock);
		if (u->state != US_UNCONNECTED) {
			r = u->state == US_CONNECTED ? -EISCONN : -EINVAL;
			kmutex_unlock(&u->lock);
			break;
		}
		unix_sock_get(nu);
		u->peer = nu;
		u->state = US_CONNECTED;
		u->peercred = lc;
		u->has_peercred = true;
		kmutex_unlock(&u->lock);
		unix_sock_get(u);
		nu->peer = u; /* not yet visible to anyone */
		kmutex_lock(&other->lock);
		bool ok = !other->dead && other->state == US_LISTEN &&
			  !backlog_full(other);
		if (ok) {
			if (other->addr)
				unix_addr_get(other->addr);
			nu->addr = other->addr;
			unix_sock_get(nu);
			list_add_tail(&nu->embryo_node, &other->pending);
			other->npending++;
		}
		kmutex_unlock(&other->lock);
		if (ok) {
			waitq_wake(&other->wq, POLLIN | POLLRDNORM);
			r = 0;
			break;
		}
		/* The listener went or filled up meanwhile: undo, retry. */
		kmutex_lock(&u->lock);
		u->peer = NULL;
		u->state = US_UNCONNECTED;
		u->has_peercred = false;
		kmutex_unlock(&u->lock);
		nu->peer = NULL;
		unix_sock_put(u);
		unix_sock_put(nu);
	}
	waitq_remove(&we);
	/* The embryo's creation reference: the listener's list holds it
	 * now, or it is freed (never a file, never queued). */
	if (r) {
		kmutex_lock(&nu->lock);
		nu->dead = true;
		kmutex_unlock(&nu->lock);
		unix_gc_unregister(nu);
	}
	unix_sock_put(nu);
	unix_sock_put(other);
	return r;
}

static int dgram_connect(struct unix_sock *u, struct task *t,
			 const struct sockaddr *addr, socklen_t len)
{
	if (len >= sizeof(sa_family_t) && addr->sa_family == AF_UNSPEC) {
		/* Disconnect. */
		kmutex_lock(&u->lock);
		struct unix_sock *old = u->peer;
		u->peer = NULL;
		u->state = US_UNCONNECTED;
		unix_peer_wake_disconnect(u);
		kmutex_unlock(&u->lock);
		unix_sock_put(old);
		return 0;
	}
	union unix_name sun;
	socklen_t sl;
	bool autob;
	int r = unix_addr_parse(addr, len, &sun, &sl, &autob);
	if (r)
		return r;
	if (autob)
		return -EINVAL;
	if (atomic_load(&u->passcred) && (r = unix_autobind(u)) != 0)
		return r;
	struct unix_sock *other;
	r = unix_find(t, &sun, sl, u->type, &other);
	if (r)
		return r;
	kmutex_lock(&other->lock);
	/* unix_may_send: a socket connected elsewhere takes nothing. */
	if (other->dead)
		r = -ECONNREFUSED;
	else if (other->peer && other->peer != u)
		r = -EPERM;
	kmutex_unlock(&other->lock);
	if (r) {
		unix_sock_put(other);
		return r;
	}
	kmutex_lock(&u->lock);
	struct unix_sock *old = u->peer;
	unix_peer_wake_disconnect(u);
	u->peer = other;
	u->state = US_CONNECTED;
	kmutex_unlock(&u->lock);
	unix_sock_put(old);
	return 0;
}

static int unix_connect(struct socket *s, struct task *t,
			const struct sockaddr *addr, socklen_t len, int fflags)
{
	struct unix_sock *u = unix_sk(s);
	if (u->type == SOCK_DGRAM)
		return dgram_connect(u, t, addr, len);
	return stream_connect(u, t, addr, len, fflags);
}

static void unix_release_sock(struct unix_sock *u, bool embryo);

static int unix_accept(struct socket *s, struct task *t, bool nonblock,
		       struct socket **out)
{
	struct unix_sock *u = unix_sk(s);
	if (u->type == SOCK_DGRAM)
		return -EOPNOTSUPP;
	struct timespec deadline;
	bool timed = sock_deadline(atomic_load(&s->rcvtimeo), &deadline);
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLIN | POLLERR | POLLHUP);
	struct unix_sock *nu = NULL;
	int r;
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		if (!we.q)
			waitq_add(&u->wq, &we);
		kmutex_lock(&u->lock);
		if (u->state != US_LISTEN) {
			kmutex_unlock(&u->lock);
			r = -EINVAL;
			break;
		}
		if (!list_empty(&u->pending)) {
			nu = list_entry(u->pending.next, struct unix_sock,
					embryo_node);
			list_del(&nu->embryo_node);
			u->npending--;
			kmutex_unlock(&u->lock);
			r = 0;
			break;
		}
		kmutex_unlock(&u->lock);
		if (nonblock) {
			r = -EAGAIN;
			break;
		}
		r = wait_on(t, seq, timed, &deadline);
		if (r)
			break;
	}
	waitq_remove(&we);
	if (r)
		return r;
	waitq_wake_all(&u->peer_wait); /* room in the backlog */
	struct socket *ns = calloc(1, sizeof(*ns));
	if (!ns) {
		unix_release_sock(nu, true); /* the connection is dropped */
		return -ENOMEM;
	}
	ns->family = AF_UNIX;
	ns->type = u->type;
	ns->protocol = s->protocol;
	ns->ops = s->ops;
	ns->priv = nu; /* the pending list's reference */
	kmutex_lock(&unix_gc_lock);
	nu->sock = ns;
	kmutex_unlock(&unix_gc_lock);
	*out = ns;
	return 0;
}

static int unix_getname(struct socket *s, struct sockaddr_storage *ss,
			socklen_t *len, bool peer)
{
	struct unix_sock *u = unix_sk(s);
	struct unix_addr *a = NULL;
	kmutex_lock(&u->lock);
	if (peer) {
		if (!u->peer || u->state != US_CONNECTED) {
			kmutex_unlock(&u->lock);
			return -ENOTCONN;
		}
		a = __atomic_load_n(&u->peer->addr, __ATOMIC_ACQUIRE);
	} else {
		a = u->addr;
	}
	if (a)
		unix_addr_get(a);
	kmutex_unlock(&u->lock);
	memset(ss, 0, sizeof(*ss));
	if (!a) {
		ss->ss_family = AF_UNIX;
		*len = sizeof(sa_family_t);
		return 0;
	}
	memcpy(ss, &a->name, a->len);
	*len = a->len;
	unix_addr_put(a);
	return 0;
}

static int unix_shutdown(struct socket *s, int how)
{
	struct unix_sock *u = unix_sk(s);
	int mode = (how + 1) & UNIX_SHUTDOWN_MASK; /* SHUT_RD 0 -> RCV 1 */
	kmutex_lock(&u->lock);
	u->shutdown |= mode; /* as Linux, in any state */
	struct unix_sock *peer = u->peer;
	if (peer)
		unix_sock_get(peer);
	kmutex_unlock(&u->lock);
	waitq_wake_all(&u->wq);
	waitq_wake_all(&u->peer_wait);
	if (peer && u->type != SOCK_DGRAM) {
		int pm = 0;
		if (mode & UNIX_RCV_SHUTDOWN)
			pm |= UNIX_SEND_SHUTDOWN;
		if (mode & UNIX_SEND_SHUTDOWN)
			pm |= UNIX_RCV_SHUTDOWN;
		kmutex_lock(&peer->lock);
		peer->shutdown |= pm;
		kmutex_unlock(&peer->lock);
		waitq_wake_all(&peer->wq);
	}
	unix_sock_put(peer);
	return 0;
}

static bool dgram_peer_full(struct unix_sock *u, struct unix_sock *o)
{
	kmutex_lock(&o->lock);
	bool full = !o->dead && o->peer != u && o->rq_len > UNIX_DGRAM_QLEN;
	kmutex_unlock(&o->lock);
	return full;
}

static uint32_t unix_poll(struct socket *s, struct poll_table *pt)
{
	struct unix_sock *u = unix_sk(s);
	poll_wait(pt, &u->wq);
	uint32_t m = 0;
	kmutex_lock(&u->lock);
	if (u->err)
		m |= POLLERR;
	if (u->shutdown == UNIX_SHUTDOWN_MASK)
		m |= POLLHUP;
	if (u->shutdown & UNIX_RCV_SHUTDOWN)
		m |= POLLRDHUP | POLLIN | POLLRDNORM;
	if (!list_empty(&u->rq) || !list_empty(&u->pending))
		m |= POLLIN | POLLRDNORM;
	bool writable = u->state != US_LISTEN && unix_writable(u);
	if (u->type == SOCK_STREAM) {
		if (u->state == US_UNCONNECTED)
			m |= POLLHUP;
	} else if (u->type == SOCK_SEQPACKET) {
		if (u->state == US_UNCONNECTED)
			m |= POLLHUP;
	}
	struct unix_sock *o = NULL;
	if (u->type == SOCK_DGRAM && writable && u->peer) {
		o = u->peer;
		unix_sock_get(o);
	}
	kmutex_unlock(&u->lock);
	/* A datagram writer whose peer's queue is full is not writable: it
	 * is woken when the peer reads (peer_wake). Never two socket locks
	 * at once here: two sockets may poll each other. */
	if (o && dgram_peer_full(u, o)) {
		kmutex_lock(&u->lock);
		if (u->peer == o && u->peer_wake_on != o) {
			unix_peer_wake_disconnect(u);
			waitq_add(&o->peer_wait, &u->peer_wake);
			u->peer_wake_on = o;
		}
		kmutex_unlock(&u->lock);
		if (dgram_peer_full(u, o))
			writable = false;
	}
	unix_sock_put(o);
	if (writable)
		m |= POLLOUT | POLLWRNORM | POLLWRBAND;
	return m;
}

static int put_int(void *val, socklen_t *len, int v)
{
	if (*len > sizeof(int))
		*len = sizeof(int);
	memcpy(val, &v, *len);
	return 0;
}

/* Generic options we only remember (SO_REUSEADDR and the like): Linux
 * accepts them on any socket. */
static bool remembered(int name)
{
	return name == SO_REUSEADDR || name == SO_KEEPALIVE ||
	       name == SO_BROADCAST || name == SO_DONTROUTE ||
	       name == SO_OOBINLINE || name == SO_PRIORITY ||
	       name == SO_PASSSEC || name == SO_REUSEPORT ||
	       name == SO_RCVLOWAT;
}

static int unix_setsockopt(struct socket *s, struct task *t, int level,
			   int name, const void *val, socklen_t len)
{
	(void)t;
	struct unix_sock *u = unix_sk(s);
	if (level != SOL_SOCKET)
		return -EOPNOTSUPP;
	if (name == SO_LINGER)
		return len < sizeof(struct linger) ? -EINVAL : 0;
	if (len < sizeof(int))
		return -EINVAL;
	int v;
	memcpy(&v, val, sizeof(v));
	switch (name) {
	case SO_PASSCRED:
		atomic_store(&u->passcred, v != 0);
		return 0;
	case SO_SNDBUF: {
		/* As Linux: capped at wmem_max, doubled for overhead. */
		unsigned uv = (unsigned)v > UNIX_BUF_MAX ? UNIX_BUF_MAX : v;
		int b = (int)uv * 2;
		if (b < UNIX_SNDBUF_MIN)
			b = UNIX_SNDBUF_MIN;
		atomic_store(&u->sndbuf, b);
		waitq_wake(&u->wq, POLLOUT | POLLWRNORM);
		return 0;
	}
	case SO_RCVBUF: {
		unsigned uv = (unsigned)v > UNIX_BUF_MAX ? UNIX_BUF_MAX : v;
		int b = (int)uv * 2;
		if (b < UNIX_RCVBUF_MIN)
			b = UNIX_RCVBUF_MIN;
		atomic_store(&u->rcvbuf, b);
		return 0;
	}
	default:
		if (remembered(name))
			return 0;
		return -ENOPROTOOPT;
	}
}

static int unix_getsockopt(struct socket *s, struct task *t, int level,
			   int name, void *val, socklen_t *len)
{
	(void)t;
	struct unix_sock *u = unix_sk(s);
	if (level != SOL_SOCKET)
		return -EOPNOTSUPP;
	switch (name) {
	case SO_ERROR: {
		kmutex_lock(&u->lock);
		int e = u->err;
		u->err = 0;
		kmutex_unlock(&u->lock);
		return put_int(val, len, e);
	}
	case SO_PASSCRED:
		return put_int(val, len, atomic_load(&u->passcred));
	case SO_SNDBUF:
		return put_int(val, len, atomic_load(&u->sndbuf));
	case SO_RCVBUF:
		return put_int(val, len, atomic_load(&u->rcvbuf));
	case SO_ACCEPTCONN: {
		kmutex_lock(&u->lock);
		int v = u->state == US_LISTEN;
		kmutex_unlock(&u->lock);
		return put_int(val, len, v);
	}
	case SO_PEERCRED: {
		struct ucred uc = {
		    .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1};
		kmutex_lock(&u->lock);
		if (u->has_peercred) {
			uc.pid = u->peercred.pid;
			uc.uid = u->peercred.uid;
			uc.gid = u->peercred.gid;
		}
		kmutex_unlock(&u->lock);
		if (*len > sizeof(uc))
			*len = sizeof(uc);
		memcpy(val, &uc, *len);
		return 0;
	}
	case SO_PEERSEC:
		return -ENOPROTOOPT;
	case SO_LINGER: {
		struct linger l = {0, 0};
		if (*len > sizeof(l))
			*len = sizeof(l);
		memcpy(val, &l, *len);
		return 0;
	}
	case SO_RCVLOWAT:
		return put_int(val, len, 1);
	default:
		if (remembered(name))
			return put_int(val, len, 0);
		return -ENOPROTOOPT;
	}
}

static long unix_ioctl(struct socket *s, struct task *t, unsigned cmd,
		       uint64_t arg)
{
	struct unix_sock *u = unix_sk(s);
	int n = 0;
	switch (cmd) {
	case SIOCINQ: {
		kmutex_lock(&u->lock);
		if (u->state == US_LISTEN) {
			kmutex_unlock(&u->lock);
			return -EINVAL;
		}
		if (u->type == SOCK_DGRAM) {
			if (!list_empty(&u->rq))
				n = (int)list_entry(u->rq.next, struct unix_skb,
						    node)
					->len;
		} else {
			n = (int)u->rq_bytes;
		}
		kmutex_unlock(&u->lock);
		break;
	}
	case SIOCOUTQ:
		n = (int)atomic_load(&u->wmem);
		break;
	default:
		return -ENOTTY;
	}
	return copy_to_user(t, arg, &n, sizeof(n));
}

/* Tear down u (a released socket or an unaccepted embryo). Frees the
 * messages it held, which may release more sockets: the frees are
 * iterative (unix_skb_list_free), never a deep recursion. */
static void unix_release_sock(struct unix_sock *u, bool embryo)
{
	struct list_head skbs, embryos;
	list_init(&skbs);
	list_init(&embryos);
	kmutex_lock(&u->lock);
	u->dead = true;
	struct unix_sock *peer = u->peer;
	u->peer = NULL;
	bool had_data =
	    embryo || !list_empty(&u->rq) || !list_empty(&u->pending);
	unix_rq_splice(u, &skbs);
	while (!list_empty(&u->pending)) {
		struct list_head *n = u->pending.next;
		list_del(n);
		list_add_tail(n, &embryos);
	}
	u->npending = 0;
	unix_peer_wake_disconnect(u);
	u->shutdown = UNIX_SHUTDOWN_MASK;
	kmutex_unlock(&u->lock);
	waitq_wake_all(&u->wq);
	waitq_wake_all(&u->peer_wait);
	if (peer) {
		if (u->type != SOCK_DGRAM) {
			kmutex_lock(&peer->lock);
			peer->shutdown = UNIX_SHUTDOWN_MASK;
			if (had_data)
				peer->err = ECONNRESET;
			kmutex_unlock(&peer->lock);
			waitq_wake_all(&peer->wq);
		} else {
			/* A datagram writer blocked on us: let it see. */
			waitq_wake_all(&peer->peer_wait);
		}
		unix_sock_put(peer);
	}
	unix_unbind(u);
	unix_gc_unregister(u);
	unix_skb_list_free(&skbs);
	while (!list_empty(&embryos)) {
		struct unix_sock *e =
		    list_entry(embryos.next, struct unix_sock, embryo_node);
		list_del(&e->embryo_node);
		unix_release_sock(e, true);
	}
	unix_sock_put(u);
}

static void unix_release(struct socket *s)
{
	struct unix_sock *u = unix_sk(s);
	if (!u)
		return;
	kmutex_lock(&unix_gc_lock);
	u->sock = NULL;
	kmutex_unlock(&unix_gc_lock);
	s->priv = NULL;
	unix_release_sock(u, false);
	unix_gc_on_release();
}

static int unix_fdinfo(struct socket *s, char *buf, size_t cap)
{
	struct unix_sock *u = unix_sk(s);
	static const char *const st[] = {"unconnected", "listening",
					 "connected"};
	kmutex_lock(&u->lock);
	int n = snprintf(buf, cap, "unix_state:\t%s\n", st[u->state]);
	kmutex_unlock(&u->lock);
	return n;
}

const struct proto_ops unix_stream_ops = {
    .bind = unix_bind,
    .connect = unix_connect,
    .listen = unix_listen,
    .accept = unix_accept,
    .getname = unix_getname,
    .sendmsg = unix_sendmsg,
    .recvmsg = unix_recvmsg,
    .shutdown = unix_shutdown,
    .setsockopt = unix_setsockopt,
    .getsockopt = unix_getsockopt,
    .poll = unix_poll,
    .ioctl = unix_ioctl,
    .show_fdinfo = unix_fdinfo,
    .release = unix_release,
};

static const struct proto_ops unix_seqpacket_ops = {
    .bind = unix_bind,
    .connect = unix_connect,
    .listen = unix_listen,
    .accept = unix_accept,
    .getname = unix_getname,
    .sendmsg = unix_sendmsg,
    .recvmsg = unix_recvmsg,
    .shutdown = unix_shutdown,
    .setsockopt = unix_setsockopt,
    .getsockopt = unix_getsockopt,
    .poll = unix_poll,
    .ioctl = unix_ioctl,
    .show_fdinfo = unix_fdinfo,
    .release = unix_release,
};

const struct proto_ops unix_dgram_ops = {
    .bind = unix_bind,
    .connect = unix_connect,
    .listen = unix_listen,
    .accept = unix_accept,
    .getname = unix_getname,
    .sendmsg = unix_sendmsg,
    .recvmsg = unix_recvmsg,
    .shutdown = unix_shutdown,
    .setsockopt = unix_setsockopt,
    .getsockopt = unix_getsockopt,
    .poll = unix_poll,
    .ioctl = unix_ioctl,
    .show_fdinfo = unix_fdinfo,
    .release = unix_release,
};

struct unix_sock *unix_sock_of_file(struct file *f)
{
	struct socket *s = sock_from_file(f);
	return s && s->family == AF_UNIX ? unix_sk(s) : NULL;
}

static void unix_init(void)
{
	int r = proc_net_register("unix", unix_proc_net_unix);
	if (r)
		bh_warn("net: /proc/net/unix: %s", strerror(-r));
}

const struct net_family unix_family = {
    .family = AF_UNIX,
    .name = "unix",
    .create = unix_create,
    .socketpair = unix_socketpair,
    .init = unix_init,
};
