/* epoll instances. See epoll.h for the locks and their order.
 *
 * Readiness: each item has a wait entry on every queue its file's poll op
 * names; a wake-up there runs ep_poll_callback, which puts the item on the
 * ready list and wakes the instance's waiters. epoll_wait scans only the
 * ready list, re-polling each item there (a wake-up says something changed,
 * the file's poll says what is true now): level-triggered items that are
 * still ready go back to the tail, so a caller taking a few events at a
 * time gets every ready fd in turn.
 *
 * While a scan has moved items off the ready list (they keep their ready
 * flag), a wake-up of one of them sets its rewake flag instead, and the scan
 * puts it back rather than forget it: a wake-up that races with the scan is
 * never lost (Linux's ovflist). */
#include "sentry/fs/epoll/epoll.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bulkhead/htable.h"
#include "bulkhead/list.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/waitq.h"
#include "sentry/mm/usercopy.h"
#include "sentry/vfs/fs.h"

#define EP_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
#define EPOLLEXCLUSIVE_OK_BITS                                                 \
	(EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | EPOLLWAKEUP | EPOLLET |    \
	 EPOLLEXCLUSIVE)
/* Queues one file's poll may name (a pipe end names one, a file open for
 * both directions two). */
#define EPI_MAX_QUEUES 4
/* Events gathered per scan; a call returns at most this many. */
#define EP_BATCH 1024

struct eventpoll {
	_Atomic int refs; /* its file + epoll_release_file's passing uses */
	struct kmutex mtx;
	struct kmutex lock;
	struct waitq wq;	  /* epoll_wait callers, exclusive */
	struct waitq poll_wq;	  /* poll/select/epoll of this instance */
	struct htable items;	  /* mtx: struct epitem by (file, fd) */
	struct list_head all;	  /* mtx: every item, in insertion order */
	int nitems;		  /* mtx */
	struct list_head rdllist; /* lock: struct epitem.rdllink */
	/* Its own file (not a reference); NULL once that is released,
	 * under ep_nest_lock. */
	struct file *file;
	/* Loop check memos, under ep_nest_lock. */
	uint64_t down_gen, up_gen;
	int down_depth, up_depth;
};

struct epitem {
	struct hnode hn;	  /* ep->items, mtx */
	struct list_head all;	  /* ep->all, mtx */
	struct list_head rdllink; /* ep->rdllist or a scan's list */
	bool ready;		  /* ep->lock: on rdllist or in a scan */
	bool rewake;		  /* ep->lock: woken during a scan */
	struct list_head fllink;  /* file->ep_links, under file->ep_lock */
	struct file *file;	  /* immutable; no reference */
	int fd;			  /* immutable */
	struct eventpoll *ep;	  /* immutable */
	/* Requested events; written under mtx, read by callbacks. */
	_Atomic uint32_t events;
	uint64_t data; /* mtx */
	int nwq;       /* entries registered (mtx) */
	int wq_err;
	struct wait_entry wq[EPI_MAX_QUEUES];
};

/* Serialises every change to the graph of epolls watching epolls, so that
 * the loop check sees it stand still (Linux's epnested_mutex). */
static struct kmutex ep_nest_lock =
    KMUTEX_INITIALIZER("epoll_nest", LR_EPOLL_NEST);
static uint64_t ep_gen; /* ep_nest_lock */

static const struct file_ops epoll_fops;

bool file_is_epoll(struct file *f)
{
	return f && f->fops == &epoll_fops;
}

static void ep_get(struct eventpoll *ep)
{
	atomic_fetch_add(&ep->refs, 1);
}

static void ep_put(struct eventpoll *ep)
{
	if (atomic_fetch_sub(&ep->refs, 1) != 1)
		return;
	htable_destroy(&ep->items);
	kmutex_destroy(&ep->mtx);
	kmutex_destroy(&ep->lock);
	free(ep);
}

static uint64_t item_hash(struct file *f, int fd)
{
	return hash_u64((uint64_t)(uintptr_t)f ^
			((uint64_t)(unsigned)fd << 48));
}

static struct epitem *ep_find(struct eventpoll *ep, struct file *f, int fd)
{
	uint64_t h = item_hash(f, fd);
	for (struct hnode *n = htable_first(&ep->items, h); n;
	     n = htable_next(&ep->items, n)) {
		struct epitem *epi = htable_entry(n, struct epitem, hn);
		if (epi->file == f && epi->fd == fd)
			return epi;
	}
	return NULL;
}

/* ---- wake-ups ---- */

static bool ep_poll_callback(struct wait_entry *e, uint32_t events, int depth)
{
	struct epitem *epi = e->priv;
	struct eventpoll *ep = epi->ep;
	uint32_t want =
	    atomic_load_explicit(&epi->events, memory_order_acquire);
	/* Disarmed by EPOLLONESHOT until the next EPOLL_CTL_MOD. */
	if (!(want & ~EP_PRIVATE_BITS))
		return false;
	if (events && !(events & want))
		return false;
	kmutex_lock_nested(&ep->lock, depth);
	if (!epi->ready) {
		list_add_tail(&epi->rdllink, &ep->rdllist);
		epi->ready = true;
	} else {
		epi->rewake = true;
	}
	kmutex_unlock(&ep->lock);
	waitq_wake_nested(&ep->wq, POLLIN, depth + 1);
	waitq_wake_nested(&ep->poll_wq, POLLIN, depth + 1);
	return true;
}

struct ep_pqueue {
	struct poll_table pt; /* first: the file's poll gets &pt */
	struct epitem *epi;
};

static void ep_ptable_queue_proc(struct poll_table *pt, struct waitq *q)
{
	struct epitem *epi = ((struct ep_pqueue *)pt)->epi;
	if (epi->nwq == EPI_MAX_QUEUES) {
		epi->wq_err = -ENOMEM;
		return;
	}
	struct wait_entry *e = &epi->wq[epi->nwq++];
	list_init(&e->node);
	e->q = NULL;
	e->fn = ep_poll_callback;
	e->mask = 0; /* the callback filters on the item's events */
	e->exclusive = atomic_load(&epi->events) & EPOLLEXCLUSIVE;
	e->priv = epi;
	waitq_add(q, e);
}

/* ---- readiness ---- */

static uint32_t ep_poll_nested(struct eventpoll *ep, struct poll_table *pt,
			       int depth);

/* What epi's file reports now, of what epi asks for. pt registers the
 * item's entries (at insertion) or is NULL. */
static uint32_t ep_item_poll(struct epitem *epi, struct poll_table *pt,
			     int depth)
{
	struct file *f = epi->file;
	uint32_t want = atomic_load(&epi->events);
	struct poll_table none = {.qproc = NULL, .key = want};
	if (!pt)
		pt = &none;
	pt->key = want;
	uint32_t m;
	if (file_is_epoll(f))
		m = ep_poll_nested(f->priv, pt, depth + 1);
	else
		m = f->fops->poll(f, pt);
	return m & want;
}

/* Take the ready list for a scan (mtx held). */
static void ep_start_scan(struct eventpoll *ep, struct list_head *tx, int depth)
{
	list_init(tx);
	kmutex_lock_nested(&ep->lock, depth);
	while (!list_empty(&ep->rdllist)) {
		struct epitem *epi =
		    list_entry(ep->rdllist.next, struct epitem, rdllink);
		list_del(&epi->rdllink);
		list_add_tail(&epi->rdllink, tx);
		epi->rewake = false;
	}
	kmutex_unlock(&ep->lock);
}

/* epi (off every list) is not ready any more, unless it was woken since
 * the scan took it. */
static void ep_drop(struct eventpoll *ep, struct epitem *epi, int depth)
{
	kmutex_lock_nested(&ep->lock, depth);
	if (epi->rewake) {
		epi->rewake = false;
		list_add_tail(&epi->rdllink, &ep->rdllist);
	} else {
		epi->ready = false;
	}
	kmutex_unlock(&ep->lock);
}

/* Put what the scan did not look at back at the head, in order; wake
 * another waiter if anything is ready (as Linux's ep_done_scan). */
static void ep_done_scan(struct eventpoll *ep, struct list_head *tx, int depth)
{
	kmutex_lock_nested(&ep->lock, depth);
	while (!list_empty(tx)) {
		struct epitem *epi =
		    list_entry(tx->prev, struct epitem, rdllink);
		list_del(&epi->rdllink);
		list_add(&epi->rdllink, &ep->rdllist);
	}
	bool more = !list_empty(&ep->rdllist);
	kmutex_unlock(&ep->lock);
	if (more)
		waitq_wake_nested(&ep->wq, POLLIN, depth);
}

/* The poll op of an epoll file, at nesting depth: readable when some
 * ready item is really ready. */
static uint32_t ep_poll_nested(struct eventpoll *ep, struct poll_table *pt,
			       int depth)
{
	poll_wait(pt, &ep->poll_wq);
	if (depth > EP_MAX_NESTS)
		return 0;
	kmutex_lock_nested(&ep->mtx, depth);
	struct list_head tx;
	ep_start_scan(ep, &tx, depth);
	uint32_t res = 0;
	while (!list_empty(&tx)) {
		struct epitem *epi =
		    list_entry(tx.next, struct epitem, rdllink);
		if (ep_item_poll(epi, NULL, depth)) {
			res = POLLIN | POLLRDNORM;
			break;
		}
		list_del(&epi->rdllink);
		ep_drop(ep, epi, depth);
	}
	ep_done_scan(ep, &tx, depth);
	kmutex_unlock(&ep->mtx);
	return res;
}

static uint32_t epoll_poll(struct file *f, struct poll_table *pt)
{
	return ep_poll_nested(f->priv, pt, 0);
}

/* Gather up to max ready events into kev, moving each item on as its
 * mode says. */
static int ep_send_events(struct eventpoll *ep, struct epoll_event *kev,
			  int max)
{
	kmutex_lock(&ep->mtx);
	struct list_head tx;
	ep_start_scan(ep, &tx, 0);
	int n = 0;
	while (!list_empty(&tx) && n < max) {
		struct epitem *epi =
		    list_entry(tx.next, struct epitem, rdllink);
		list_del(&epi->rdllink);
		uint32_t revents = ep_item_poll(epi, NULL, 0);
		if (!revents) {
			ep_drop(ep, epi, 0);
			continue;
		}
		kev[n].events = revents;
		kev[n].data.u64 = epi->data;
		n++;
		uint32_t ev = atomic_load(&epi->events);
		if (ev & EPOLLONESHOT) {
			atomic_store(&epi->events, ev & EP_PRIVATE_BITS);
			ep_drop(ep, epi, 0);
		} else if (!(ev & EPOLLET)) {
			/* Level-triggered: still ready, behind the others. */
			kmutex_lock(&ep->lock);
			epi->rewake = false;
			list_add_tail(&epi->rdllink, &ep->rdllist);
			kmutex_unlock(&ep->lock);
		} else {
			ep_drop(ep, epi, 0);
		}
	}
	ep_done_scan(ep, &tx, 0);
	kmutex_unlock(&ep->mtx);
	return n;
}

/* ---- items ---- */

/* mtx held. */
static void ep_remove(struct eventpoll *ep, struct epitem *epi)
{
	for (int i = 0; i < epi->nwq; i++)
		waitq_remove(&epi->wq[i]);
	/* No callback can run now; the file's list is the last thing that
	 * points here (epoll_release_file may be waiting for it). */
	kmutex_lock(&epi->file->ep_lock);
	list_del(&epi->fllink);
	kmutex_unlock(&epi->file->ep_lock);
	htable_remove(&ep->items, &epi->hn);
	list_del(&epi->all);
	ep->nitems--;
	kmutex_lock(&ep->lock);
	if (epi->ready)
		list_del(&epi->rdllink);
	kmutex_unlock(&ep->lock);
	free(epi);
}

static void ep_wake_ready(struct eventpoll *ep, struct epitem *epi)
{
	kmutex_lock(&ep->lock);
	bool added = !epi->ready;
	if (added) {
		list_add_tail(&epi->rdllink, &ep->rdllist);
		epi->ready = true;
	}
	kmutex_unlock(&ep->lock);
	if (added) {
		waitq_wake(&ep->wq, POLLIN);
		waitq_wake(&ep->poll_wq, POLLIN);
	}
}

/* mtx held. */
static int ep_insert(struct eventpoll *ep, struct file *tf, int fd,
		     const struct epoll_event *ev)
{
	if (ep->nitems >= EP_MAX_ITEMS)
		return -ENOSPC;
	struct epitem *epi = calloc(1, sizeof(*epi));
	if (!epi)
		return -ENOMEM;
	epi->file = tf;
	epi->fd = fd;
	epi->ep = ep;
	epi->data = ev->data.u64;
	atomic_init(&epi->events, ev->events);
	list_init(&epi->rdllink);
	struct ep_pqueue pq = {.pt = {.qproc = ep_ptable_queue_proc},
			       .epi = epi};
	uint32_t revents = ep_item_poll(epi, &pq.pt, 0);
	if (epi->wq_err) {
		int err = epi->wq_err;
		for (int i = 0; i < epi->nwq; i++)
			waitq_remove(&epi->wq[i]);
		free(epi);
		return err;
	}
	kmutex_lock(&tf->ep_lock);
	list_add_tail(&epi->fllink, &tf->ep_links);
	kmutex_unlock(&tf->ep_lock);
	htable_insert(&ep->items, &epi->hn, item_hash(tf, fd));
	list_add_tail(&epi->all, &ep->all);
	ep->nitems++;
	if (revents)
		ep_wake_ready(ep, epi);
	return 0;
}

/* mtx held. */
static int ep_modify(struct eventpoll *ep, struct epitem *epi,
		     const struct epoll_event *ev)
{
	atomic_store_explicit(&epi->events, ev->events, memory_order_release);
	epi->data = ev->data.u64;
	if (ep_item_poll(epi, NULL, 0))
		ep_wake_ready(ep, epi);
	return 0;
}

/* ---- the loop check (ep_nest_lock held) ---- */

/* The longest chain of epolls below ep (0: it watches none), or
 * EP_MAX_NESTS + 1 if it is too long or reaches target. */
static int ep_depth_down(struct eventpoll *ep, struct eventpoll *target,
			 int depth)
{
	if (ep->down_gen == ep_gen)
		return ep->down_depth;
	int result = 0;
	kmutex_lock_nested(&ep->mtx, depth);
	struct list_head *pos;
	list_for_each(pos, &ep->all)
	{
		struct epitem *epi = list_entry(pos, struct epitem, all);
		if (!file_is_epoll(epi->file))
			continue;
		struct eventpoll *sub = epi->file->priv;
		int d;
		if (sub == target || depth >= EP_MAX_NESTS)
			d = EP_MAX_NESTS + 1;
		else
			d = ep_depth_down(sub, target, depth + 1) + 1;
		if (d > result)
			result = d;
		if (result > EP_MAX_NESTS)
			break;
	}
	kmutex_unlock(&ep->mtx);
	ep->down_gen = ep_gen;
	ep->down_depth = result;
	return result;
}

/* The longest chain of epolls above ep (0: none watches it). Items may
 * go meanwhile (removal does not take ep_nest_lock), so the watchers are
 * collected with references before the walk goes up. */
static int ep_depth_up(struct eventpoll *ep, int level)
{
	if (ep->up_gen == ep_gen)
		return ep->up_depth;
	int result = 0;
	if (level > EP_MAX_NESTS)
		return EP_MAX_NESTS + 1;
	struct file *f = ep->file;
	if (!f)
		return 0; /* being released */
	struct eventpoll **up = NULL;
	int n = 0, cap = 0;
	kmutex_lock(&f->ep_lock);
	struct list_head *pos;
	list_for_each(pos, &f->ep_links)
	{
		struct epitem *epi = list_entry(pos, struct epitem, fllink);
		if (n == cap) {
			int ncap = cap ? 2 * cap : 8;
			struct eventpoll **nu = realloc(up, ncap * sizeof(*up));
			if (!nu) {
				/* Cannot look: assume the worst. */
				result = EP_MAX_NESTS + 1;
				break;
			}
			up = nu;
			cap = ncap;
		}
		ep_get(epi->ep);
		up[n++] = epi->ep;
	}
	kmutex_unlock(&f->ep_lock);
	for (int i = 0; i < n; i++) {
		int d = ep_depth_up(up[i], level + 1) + 1;
		if (d > result)
			result = d;
		ep_put(up[i]);
	}
	free(up);
	ep->up_gen = ep_gen;
	ep->up_depth = result;
	return result;
}

static int ep_loop_check(struct eventpoll *ep, struct eventpoll *to)
{
	ep_gen++;
	int down = ep_depth_down(to, ep, 0);
	if (down > EP_MAX_NESTS)
		return -ELOOP;
	int up = ep_depth_up(ep, 0);
	return down + 1 + up > EP_MAX_NESTS ? -ELOOP : 0;
}

/* ---- the file ---- */

int epoll_ctl_file(struct file *epf, int op, struct file *tf, int fd,
		   const struct epoll_event *uev)
{
	if (!tf->fops || !tf->fops->poll)
		return -EPERM;
	if (epf == tf || !file_is_epoll(epf))
		return -EINVAL;
	struct epoll_event ev = {0};
	bool has_event = op == EPOLL_CTL_ADD || op == EPOLL_CTL_MOD;
	if (has_event) {
		ev = *uev;
		/* EPOLLWAKEUP needs CAP_BLOCK_SUSPEND; without, Linux
		 * drops it silently. There is no suspend to block here. */
		ev.events &= ~EPOLLWAKEUP;
		if (ev.events & EPOLLEXCLUSIVE) {
			if (op == EPOLL_CTL_MOD)
				return -EINVAL;
			if (file_is_epoll(tf) ||
			    (ev.events & ~EPOLLEXCLUSIVE_OK_BITS))
				return -EINVAL;
		}
	} else if (op != EPOLL_CTL_DEL) {
		return -EINVAL;
	}
	struct eventpoll *ep = epf->priv;
	bool nest = op == EPOLL_CTL_ADD && file_is_epoll(tf);
	if (nest) {
		kmutex_lock(&ep_nest_lock);
		int r = ep_loop_check(ep, tf->priv);
		if (r) {
			kmutex_unlock(&ep_nest_lock);
			return r;
		}
	}
	kmutex_lock(&ep->mtx);
	struct epitem *epi = ep_find(ep, tf, fd);
	int r;
	switch (op) {
	case EPOLL_CTL_ADD:
		ev.events |= EPOLLERR | EPOLLHUP;
		r = epi ? -EEXIST : ep_insert(ep, tf, fd, &ev);
		break;
	case EPOLL_CTL_DEL:
		r = -ENOENT;
		if (epi) {
			ep_remove(ep, epi);
			r = 0;
		}
		break;
	default: /* MOD */
		r = -ENOENT;
		if (epi) {
			r = -EINVAL;
			if (!(atomic_load(&epi->events) & EPOLLEXCLUSIVE)) {
				ev.events |= EPOLLERR | EPOLLHUP;
				r = ep_modify(ep, epi, &ev);
			}
		}
		break;
	}
	kmutex_unlock(&ep->mtx);
	if (nest)
		kmutex_unlock(&ep_nest_lock);
	return r;
}

static struct timespec mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

static bool deadline_passed(const struct timespec *dl)
{
	if (!dl)
		return false;
	struct timespec now = mono_now();
	return now.tv_sec > dl->tv_sec ||
	       (now.tv_sec == dl->tv_sec && now.tv_nsec >= dl->tv_nsec);
}

long epoll_wait_file(struct task *t, struct file *epf, uint64_t uevents,
		     int maxevents, const struct timespec *deadline)
{
	struct eventpoll *ep = epf->priv;
	int batch = maxevents < EP_BATCH ? maxevents : EP_BATCH;
	struct epoll_event *kev = malloc((size_t)batch * sizeof(*kev));
	if (!kev)
		return -ENOMEM;
	struct wait_entry we;
	wait_entry_init_task(&we, t, 0);
	we.exclusive = true;
	long ret;
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		int n = ep_send_events(ep, kev, batch);
		if (n > 0) {
			ret = copy_to_user(t, uevents, kev,
					   (size_t)n * sizeof(*kev))
				  ? -EFAULT
				  : n;
			break;
		}
		if (deadline_passed(deadline)) {
			ret = 0;
			break;
		}
		if (!we.q) {
			/* Registered: look once more before sleeping. */
			waitq_add(&ep->wq, &we);
			continue;
		}
		int r = task_sleep(t, seq, deadline, SLEEP_INTR);
		if (r == -EINTR) {
			ret = -EINTR;
			break;
		}
	}
	waitq_remove(&we);
	free(kev);
	return ret;
}

void epoll_release_file(struct file *f)
{
	for (;;) {
		kmutex_lock(&f->ep_lock);
		if (list_empty(&f->ep_links)) {
			kmutex_unlock(&f->ep_lock);
			return;
		}
		struct epitem *first =
		    list_entry(f->ep_links.next, struct epitem, fllink);
		struct eventpoll *ep = first->ep;
		ep_get(ep);
		kmutex_unlock(&f->ep_lock);
		/* Every item of ep on f, under ep's mtx (only holders of it
		 * remove items, so what is found stays until removed). */
		kmutex_lock(&ep->mtx);
		for (;;) {
			struct epitem *epi = NULL;
			kmutex_lock(&f->ep_lock);
			struct list_head *pos;
			list_for_each(pos, &f->ep_links)
			{
				struct epitem *e =
				    list_entry(pos, struct epitem, fllink);
				if (e->ep == ep) {
					epi = e;
					break;
				}
			}
			kmutex_unlock(&f->ep_lock);
			if (!epi)
				break;
			ep_remove(ep, epi);
		}
		kmutex_unlock(&ep->mtx);
		ep_put(ep);
	}
}

static void epoll_release(struct file *f)
{
	struct eventpoll *ep = f->priv;
	kmutex_lock(&ep_nest_lock);
	ep->file = NULL;
	kmutex_unlock(&ep_nest_lock);
	kmutex_lock(&ep->mtx);
	while (!list_empty(&ep->all))
		ep_remove(ep, list_entry(ep->all.next, struct epitem, all));
	kmutex_unlock(&ep->mtx);
	ep_put(ep);
}

static const struct file_ops epoll_fops = {
    .poll = epoll_poll,
    .llseek = noop_llseek,
    .release = epoll_release,
};

int epoll_create_file(struct file **out)
{
	struct eventpoll *ep = calloc(1, sizeof(*ep));
	if (!ep)
		return -ENOMEM;
	int r = htable_init(&ep->items, 4);
	if (r) {
		free(ep);
		return r;
	}
	atomic_init(&ep->refs, 1);
	kmutex_init(&ep->mtx, "epoll_mtx", LR_EPOLL_MTX);
	kmutex_init(&ep->lock, "epoll_ready", LR_EPOLL_READY);
	waitq_init(&ep->wq);
	waitq_init(&ep->poll_wq);
	list_init(&ep->all);
	list_init(&ep->rdllist);
	r = anon_file_new("[eventpoll]", &epoll_fops, ep, O_RDWR, out);
	if (r) {
		ep_put(ep);
		return r;
	}
	ep->file = *out;
	return 0;
}
