/* AF_UNIX data: every send copies the guest's bytes into a message of
 * sentry memory (no lock held), charges it to the sender's send buffer and
 * appends it to the receiver's queue; a receive copies out of the head
 * message under the receiver's iolock and only then takes what it read off
 * the queue, so a fault part-way loses nothing. Stream messages are read
 * across their boundaries, datagrams and seqpacket records whole. The
 * sentry's memory per socket is bounded: a sender waits while its send
 * buffer is in use (Linux's sock_alloc_send_pskb), and a datagram receiver
 * takes at most UNIX_DGRAM_QLEN + 1 messages from senders it is not
 * connected to. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/uio.h"
#include "sentry/net/unix/unix.h"

#ifndef POLLRDHUP
#define POLLRDHUP 0x2000
#endif

#define STREAM_CHUNK_MAX 65536

static struct unix_skb *skb_alloc(struct unix_sock *sender, size_t len)
{
	struct unix_skb *skb = malloc(sizeof(*skb) + len);
	if (!skb)
		return NULL;
	memset(skb, 0, sizeof(*skb));
	list_init(&skb->node);
	skb->len = len;
	skb->truesize = len + UNIX_SKB_OVERHEAD;
	unix_sock_get(sender);
	skb->sender = sender;
	atomic_fetch_add(&sender->wmem, skb->truesize);
	return skb;
}

void unix_skb_free(struct unix_skb *skb)
{
	unix_scm_destroy(&skb->scm, true);
	unix_addr_put(skb->from);
	struct unix_sock *s = skb->sender;
	atomic_fetch_sub(&s->wmem, skb->truesize);
	waitq_wake(&s->wq, POLLOUT | POLLWRNORM | POLLWRBAND);
	unix_sock_put(s);
	free(skb);
}

/* A message that never reached a queue: its files are not in flight. */
static void skb_free_unsent(struct unix_skb *skb, bool inflight)
{
	unix_scm_destroy(&skb->scm, inflight);
	skb->scm.nfp = 0;
	unix_skb_free(skb);
}

void unix_rq_splice(struct unix_sock *u, struct list_head *out)
{
	while (!list_empty(&u->rq)) {
		struct list_head *n = u->rq.next;
		list_del(n);
		list_add_tail(n, out);
	}
	u->rq_len = 0;
	u->rq_bytes = 0;
}

/* Freeing a message can free sockets (its files' last references), whose
 * queues are freed in turn: this thread's outermost call frees them all,
 * one after another, so a long chain of sockets in flight costs no stack. */
static __thread struct list_head *free_defer;

void unix_skb_list_free(struct list_head *l)
{
	if (free_defer) {
		while (!list_empty(l)) {
			struct list_head *n = l->next;
			list_del(n);
			list_add_tail(n, free_defer);
		}
		return;
	}
	struct list_head mine;
	list_init(&mine);
	while (!list_empty(l)) {
		struct list_head *n = l->next;
		list_del(n);
		list_add_tail(n, &mine);
	}
	free_defer = &mine;
	while (!list_empty(&mine)) {
		struct unix_skb *skb =
		    list_entry(mine.next, struct unix_skb, node);
		list_del(&skb->node);
		unix_skb_free(skb);
	}
	free_defer = NULL;
}

static int sleep_err(int r)
{
	if (r == -EINTR)
		return -ERESTARTSYS;
	if (r == -ETIMEDOUT)
		return -EAGAIN;
	return 0;
}

/* Wait until u's send buffer has room (Linux: in use below sndbuf). */
static int wait_sndbuf(struct unix_sock *u, struct task *t, bool nonblock,
		       bool timed, const struct timespec *deadline)
{
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLOUT | POLLERR | POLLHUP);
	int r = 0;
	for (;;) {
		/* Register before looking: no wake-up is lost between. */
		uint32_t seq = task_wake_seq(t);
		if (!we.q)
			waitq_add(&u->wq, &we);
		kmutex_lock(&u->lock);
		int shut = u->shutdown & UNIX_SEND_SHUTDOWN;
		int err = u->err;
		kmutex_unlock(&u->lock);
		if (shut) {
			r = -EPIPE;
			break;
		}
		if (err && u->type != SOCK_DGRAM) {
			r = -err;
			break;
		}
		if (atomic_load(&u->wmem) < (size_t)atomic_load(&u->sndbuf))
			break;
		if (nonblock) {
			r = -EAGAIN;
			break;
		}
		r = sleep_err(
		    task_sleep(t, seq, timed ? deadline : NULL, SLEEP_INTR));
		if (r)
			break;
	}
	waitq_remove(&we);
	return r;
}

static void enqueue_locked(struct unix_sock *o, struct unix_skb *skb)
{
	list_add_tail(&skb->node, &o->rq);
	o->rq_len++;
	o->rq_bytes += skb->len - skb->off;
}

static ssize_t stream_send(struct unix_sock *u, struct task *t, struct uio *uio,
			   struct sock_msg *m, struct unix_scm *scm)
{
	kmutex_lock(&u->lock);
	bool connected = u->state == US_CONNECTED;
	struct unix_sock *peer = connected ? u->peer : NULL;
	if (peer)
		unix_sock_get(peer);
	int shut = u->shutdown & UNIX_SEND_SHUTDOWN;
	kmutex_unlock(&u->lock);
	ssize_t r = 0;
	if (m->addrlen)
		r = connected ? -EISCONN : -EOPNOTSUPP;
	else if (!peer)
		r = -ENOTCONN;
	else if (shut)
		r = -EPIPE;
	if (r) {
		unix_sock_put(peer);
		unix_scm_destroy(scm, false);
		return r;
	}
	struct timespec deadline;
	bool timed = sock_deadline(atomic_load(&u->sock->sndtimeo), &deadline);
	size_t total = uio_resid(uio), sent = 0;
	bool first = true;
	/* As Linux, a zero-length write sends nothing, files neither. */
	while (sent < total) {
		r = wait_sndbuf(u, t, m->nonblock, timed, &deadline);
		if (r)
			break;
		size_t size = total - sent;
		size_t lim = (size_t)atomic_load(&u->sndbuf) / 2 - 64;
		if (size > lim)
			size = lim;
		if (size > STREAM_CHUNK_MAX)
			size = STREAM_CHUNK_MAX;
		struct unix_skb *skb = skb_alloc(u, size);
		if (!skb) {
			r = -ENOMEM;
			break;
		}
		ssize_t c = size ? uio_copy_in(uio, skb->data, size) : 0;
		if (c <= 0 && size) {
			skb_free_unsent(skb, false);
			r = -EFAULT;
			break;
		}
		skb->len = (size_t)c;
		if (first) {
			skb->scm = *scm;
			scm->fps = NULL;
			scm->nfp = 0;
			unix_scm_inflight(&skb->scm);
		} else {
			skb->scm.has_cred = scm->has_cred;
			skb->scm.cred = scm->cred;
		}
		if (u->addr) {
			skb->from = u->addr;
			unix_addr_get(skb->from);
		}
		kmutex_lock(&peer->lock);
		if (peer->dead || (peer->shutdown & UNIX_RCV_SHUTDOWN)) {
			kmutex_unlock(&peer->lock);
			skb_free_unsent(skb, first);
			r = -EPIPE;
			break;
		}
		enqueue_locked(peer, skb);
		kmutex_unlock(&peer->lock);
		waitq_wake(&peer->wq, POLLIN | POLLRDNORM);
		first = false;
		sent += (size_t)c;
		if ((size_t)c < size)
			break; /* the guest's buffer faulted */
	}
	unix_scm_destroy(scm, false);
	unix_sock_put(peer);
	if (sent)
		return (ssize_t)sent;
	return r;
}

/* The connected peer died: forget it (Linux: ECONNREFUSED once, then the
 * socket is unconnected). */
static void dgram_disconnect(struct unix_sock *u, struct unix_sock *other)
{
	kmutex_lock(&u->lock);
	bool was = u->peer == other;
	if (was) {
		u->peer = NULL;
		u->state = US_UNCONNECTED;
		unix_peer_wake_disconnect(u);
	}
	kmutex_unlock(&u->lock);
	if (was)
		unix_sock_put(other);
}

static ssize_t dgram_send(struct unix_sock *u, struct task *t, struct uio *uio,
			  struct sock_msg *m, struct unix_scm *scm)
{
	struct unix_sock *other = NULL;
	ssize_t r = 0;
	bool by_name = m->addrlen != 0 && u->type == SOCK_DGRAM;
	m->epipe_nosignal = true; /* Linux's unix_dgram_sendmsg sends none */
	if (u->type == SOCK_SEQPACKET) {
		kmutex_lock(&u->lock);
		if (u->state != US_CONNECTED)
			r = -ENOTCONN;
		kmutex_unlock(&u->lock);
		if (r)
			goto out;
	}
	union unix_name sun;
	socklen_t sl = 0;
	if (by_name) {
		bool autob;
		r = unix_addr_parse((struct sockaddr *)&m->addr, m->addrlen,
				    &sun, &sl, &autob);
		if (!r && autob)
			r = -EINVAL;
		if (r)
			goto out;
	}
	if (atomic_load(&u->passcred) && (r = unix_autobind(u)) != 0)
		goto out;
	size_t len = uio_resid(uio);
	if (len > (size_t)atomic_load(&u->sndbuf) - 32) {
		r = -EMSGSIZE;
		goto out;
	}
	if (by_name) {
		r = unix_find(t, &sun, sl, u->type, &other);
		if (r)
			goto out;
	} else {
		kmutex_lock(&u->lock);
		other = u->peer;
		if (other)
			unix_sock_get(other);
		kmutex_unlock(&u->lock);
		if (!other) {
			r = -ENOTCONN;
			goto out;
		}
	}
	struct timespec deadline;
	bool timed = sock_deadline(atomic_load(&u->sock->sndtimeo), &deadline);
	r = wait_sndbuf(u, t, m->nonblock, timed, &deadline);
	if (r)
		goto out;
	struct unix_skb *skb = skb_alloc(u, len);
	if (!skb) {
		r = -ENOMEM;
		goto out;
	}
	if (len && uio_copy_in(uio, skb->data, len) != (ssize_t)len) {
		skb_free_unsent(skb, false);
		r = -EFAULT;
		goto out;
	}
	skb->scm = *scm;
	scm->fps = NULL;
	scm->nfp = 0;
	unix_scm_inflight(&skb->scm);
	kmutex_lock(&u->lock);
	if (u->addr) {
		skb->from = u->addr;
		unix_addr_get(skb->from);
	}
	kmutex_unlock(&u->lock);
	struct wait_entry we;
	wait_entry_init_task(&we, t, 0);
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		if (!we.q && !m->nonblock)
			waitq_add(&other->peer_wait, &we);
		kmutex_lock(&other->lock);
		if (other->dead) {
			kmutex_unlock(&other->lock);
			if (!by_name)
				dgram_disconnect(u, other);
			r = -ECONNREFUSED;
			break;
		}
		if (other->peer && other->peer != u) {
			kmutex_unlock(&other->lock);
			r = -EPERM;
			break;
		}
		if (other->shutdown & UNIX_RCV_SHUTDOWN) {
			kmutex_unlock(&other->lock);
			r = -EPIPE;
			break;
		}
		if (other != u && other->peer != u &&
		    other->rq_len > UNIX_DGRAM_QLEN) {
			kmutex_unlock(&other->lock);
			if (m->nonblock) {
				r = -EAGAIN;
				break;
			}
			r = sleep_err(task_sleep(
			    t, seq, timed ? &deadline : NULL, SLEEP_INTR));
			if (r)
				break;
			continue;
		}
		enqueue_locked(other, skb);
		kmutex_unlock(&other->lock);
		waitq_wake(&other->wq, POLLIN | POLLRDNORM);
		skb = NULL;
		r = (ssize_t)len;
		break;
	}
	waitq_remove(&we);
	if (skb)
		skb_free_unsent(skb, true);
out:
	unix_scm_destroy(scm, false);
	unix_sock_put(other);
	return r;
}

ssize_t unix_sendmsg(struct socket *s, struct task *t, struct uio *uio,
		     struct sock_msg *m)
{
	struct unix_sock *u = unix_sk(s);
	if (m->flags & MSG_OOB)
		return -EOPNOTSUPP;
	struct unix_scm scm = {0};
	int r = unix_scm_parse(t, u, m, &scm);
	if (r)
		return r;
	if (u->type == SOCK_STREAM)
		return stream_send(u, t, uio, m, &scm);
	return dgram_send(u, t, uio, m, &scm);
}

/* Wait for a message on u's queue: 0 with the lock held and a message
 * there, 1 at end of file (lock not held), or -errno. Called with u's
 * iolock held; it lets go of it while asleep, as Linux does. */
static int wait_rq(struct unix_sock *u, struct task *t, bool nonblock,
		   bool timed, const struct timespec *deadline,
		   struct wait_entry *we)
{
	for (;;) {
		/* Register before looking: no wake-up is lost between. */
		uint32_t seq = task_wake_seq(t);
		if (!we->q && !nonblock)
			waitq_add(&u->wq, we);
		kmutex_lock(&u->lock);
		if (!list_empty(&u->rq))
			return 0;
		int err = u->err;
		if (err) {
			u->err = 0;
			kmutex_unlock(&u->lock);
			return -err;
		}
		bool eof = u->shutdown & UNIX_RCV_SHUTDOWN;
		bool notconn =
		    u->type == SOCK_SEQPACKET && u->state != US_CONNECTED;
		kmutex_unlock(&u->lock);
		/* Datagrams: a non-blocking receive is EAGAIN before it
		 * looks at shutdown (Linux's __skb_recv_datagram). */
		if (nonblock && u->type != SOCK_STREAM)
			return -EAGAIN;
		if (eof)
			return 1;
		if (notconn)
			return -ENOTCONN;
		if (nonblock)
			return -EAGAIN;
		kmutex_unlock(&u->iolock);
		int r = sleep_err(
		    task_sleep(t, seq, timed ? deadline : NULL, SLEEP_INTR));
		kmutex_lock(&u->iolock);
		if (r)
			return r;
	}
}

static void set_from(struct sock_msg *m, struct unix_skb *skb)
{
	if (skb->from) {
		memcpy(&m->addr, &skb->from->name, skb->from->len);
		m->addrlen = skb->from->len;
	}
}

static bool cred_eq(const struct unix_scm *a, const struct unix_scm *b)
{
	return a->has_cred == b->has_cred &&
	       (!a->has_cred ||
		(a->cred.pid == b->cred.pid && a->cred.uid == b->cred.uid &&
		 a->cred.gid == b->cred.gid));
}

static ssize_t stream_recv(struct unix_sock *u, struct task *t, struct uio *uio,
			   struct sock_msg *m)
{
	kmutex_lock(&u->lock);
	bool ok = u->state == US_CONNECTED;
	kmutex_unlock(&u->lock);
	if (!ok)
		return -EINVAL;
	struct timespec deadline;
	bool timed = sock_deadline(atomic_load(&u->sock->rcvtimeo), &deadline);
	bool peek = m->flags & MSG_PEEK;
	size_t want = uio_resid(uio);
	size_t target = (m->flags & MSG_WAITALL) ? want : 1;
	size_t copied = 0;
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLIN | POLLRDHUP | POLLHUP | POLLERR);
	ssize_t r = 0;
	if (want == 0)
		return 0;
	bool passcred = atomic_load(&u->passcred);
	bool scm_done = false;
	struct unix_scm first_cred = {0};
	bool have_cred = false;
	kmutex_lock(&u->iolock);
	struct unix_skb *skb = NULL;
	size_t skip = 0; /* peek: bytes of skb already looked at */
	while (copied < want) {
		if (!skb) {
			/* Take what is there; wait only below the target. */
			kmutex_lock(&u->lock);
			bool more = !list_empty(&u->rq);
			kmutex_unlock(&u->lock);
			if (!more && copied >= target)
				break;
			int w =
			    wait_rq(u, t, m->nonblock, timed, &deadline, &we);
			if (w == 1)
				break;
			if (w < 0) {
				if (!copied)
					r = w;
				break;
			}
			skb = list_entry(u->rq.next, struct unix_skb, node);
			skip = 0;
			/* Peeking goes on after what was peeked. */
			kmutex_unlock(&u->lock);
		}
		if (passcred) {
			if (have_cred && !cred_eq(&first_cred, &skb->scm))
				break;
			if (!have_cred) {
				first_cred.has_cred = skb->scm.has_cred;
				first_cred.cred = skb->scm.cred;
				have_cred = true;
			}
		}
		if (!copied)
			set_from(m, skb);
		size_t avail = skb->len - skb->off - skip;
		size_t n = want - copied < avail ? want - copied : avail;
		ssize_t c =
		    n ? uio_copy_out(uio, skb->data + skb->off + skip, n) : 0;
		if (c < 0 || (n && c == 0)) {
			if (!copied)
				r = -EFAULT;
			break;
		}
		copied += (size_t)c;
		bool has_fds = skb->scm.nfp > 0;
		/* The first message's credentials; files end the read (as
		 * Linux, so one read takes at most one message's files). */
		if (has_fds || (passcred && !scm_done))
			unix_scm_recv(t, u, &skb->scm, m, peek, !scm_done);
		scm_done = true;
		struct unix_skb *next = NULL;
		if (peek) {
			skip += (size_t)c;
			kmutex_lock(&u->lock);
			if (skb->node.next != &u->rq)
				next = list_entry(skb->node.next,
						  struct unix_skb, node);
			kmutex_unlock(&u->lock);
			if ((size_t)c < n || has_fds)
				break;
			if (skip < skb->len - skb->off)
				break; /* the uio is full */
			skb = next;
			skip = 0;
			if (!skb)
				break;
			continue;
		}
		kmutex_lock(&u->lock);
		skb->off += (size_t)c;
		u->rq_bytes -= (size_t)c;
		bool done = skb->off == skb->len;
		if (done) {
			list_del(&skb->node);
			u->rq_len--;
		}
		kmutex_unlock(&u->lock);
		if (done) {
			unix_skb_free(skb);
			skb = NULL;
		}
		if ((size_t)c < n || has_fds)
			break;
	}
	kmutex_unlock(&u->iolock);
	waitq_remove(&we);
	if (copied)
		return (ssize_t)copied;
	return r;
}

static ssize_t dgram_recv(struct unix_sock *u, struct task *t, struct uio *uio,
			  struct sock_msg *m)
{
	if (u->type == SOCK_SEQPACKET) {
		kmutex_lock(&u->lock);
		bool ok = u->state == US_CONNECTED;
		kmutex_unlock(&u->lock);
		if (!ok)
			return -ENOTCONN;
	}
	struct timespec deadline;
	bool timed = sock_deadline(atomic_load(&u->sock->rcvtimeo), &deadline);
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLIN | POLLRDHUP | POLLHUP | POLLERR);
	bool peek = m->flags & MSG_PEEK;
	kmutex_lock(&u->iolock);
	int w = wait_rq(u, t, m->nonblock, timed, &deadline, &we);
	waitq_remove(&we);
	if (w) {
		kmutex_unlock(&u->iolock);
		return w == 1 ? 0 : w;
	}
	struct unix_skb *skb = list_entry(u->rq.next, struct unix_skb, node);
	kmutex_unlock(&u->lock);
	size_t want = uio_resid(uio);
	size_t n = skb->len < want ? skb->len : want;
	ssize_t c = n ? uio_copy_out(uio, skb->data, n) : 0;
	if (c < (ssize_t)n) {
		kmutex_unlock(&u->iolock);
		return -EFAULT;
	}
	if (skb->len > want)
		m->out_flags |= MSG_TRUNC;
	set_from(m, skb);
	unix_scm_recv(t, u, &skb->scm, m, peek, true);
	size_t len = skb->len;
	if (!peek) {
		kmutex_lock(&u->lock);
		list_del(&skb->node);
		u->rq_len--;
		u->rq_bytes -= skb->len;
		kmutex_unlock(&u->lock);
		waitq_wake(&u->peer_wait, POLLOUT | POLLWRNORM);
	}
	kmutex_unlock(&u->iolock);
	if (!peek)
		unix_skb_free(skb);
	return (m->flags & MSG_TRUNC) ? (ssize_t)len : c;
}

ssize_t unix_recvmsg(struct socket *s, struct task *t, struct uio *uio,
		     struct sock_msg *m)
{
	struct unix_sock *u = unix_sk(s);
	if (m->flags & MSG_OOB)
		return -EOPNOTSUPP;
	if (u->type == SOCK_STREAM)
		return stream_recv(u, t, uio, m);
	return dgram_recv(u, t, uio, m);
}
