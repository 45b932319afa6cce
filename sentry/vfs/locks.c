/* Advisory file locks: flock, POSIX record locks and OFD record locks
 * (Linux fs/locks.c). See locks.h for the model and the lock. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/fs.h"
#include "sentry/vfs/locks.h"

#define OFFSET_MAX INT64_MAX

enum flk_kind {
	FLK_FLOCK, /* owner: the struct file */
	FLK_POSIX, /* owner: the struct process */
	FLK_OFD,   /* owner: the struct file */
};

/* One granted lock; all fields under flk_lock. */
struct flk {
	struct list_head node;	/* in ctx->locks */
	struct list_head pnode; /* FLK_POSIX: in the owner's p->flocks */
	struct flctx *ctx;
	enum flk_kind kind;
	short type;	    /* F_RDLCK, F_WRLCK */
	int64_t start, end; /* inclusive; end OFFSET_MAX: to EOF and on */
	void *owner;
	int pid;     /* the owner's pid (FLK_POSIX), for F_GETLK */
	uint64_t id; /* for /proc/locks */
};

/* An inode's locks (inode->flctx), made at its first lock and freed with
 * the inode. */
struct flctx {
	struct list_head locks; /* struct flk.node; flk_lock */
	struct list_head all;	/* in flctx_all; flk_lock */
	unsigned n;		/* locks in the list; flk_lock */
	struct waitq wq;	/* waiters for any change */
	struct inode *inode;	/* back pointer, no reference */
};

/* A task sleeping for a POSIX lock: what it waits for, for the deadlock
 * check. Under flk_lock. */
struct flk_waiter {
	struct list_head node; /* in flk_waiters */
	struct process *who;
	struct process *blocker;
};

static struct kmutex flk_lock = KMUTEX_INITIALIZER("file_locks", LR_FILELOCK);
static struct list_head flk_waiters = LIST_HEAD_INIT(flk_waiters);
static struct list_head flctx_all = LIST_HEAD_INIT(flctx_all);
static unsigned flk_total;   /* flk_lock */
static uint64_t flk_next_id; /* flk_lock */

#define MAX_DEADLK_ITERATIONS 10 /* as Linux */

static struct flctx *ctx_get(struct inode *inode, bool create)
{
	struct flctx *c =
	    atomic_load_explicit(&inode->flctx, memory_order_acquire);
	if (c || !create)
		return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	list_init(&c->locks);
	waitq_init(&c->wq);
	c->inode = inode;
	struct flctx *expect = NULL;
	if (!atomic_compare_exchange_strong(&inode->flctx, &expect, c)) {
		free(c);
		return expect;
	}
	kmutex_lock(&flk_lock);
	list_add_tail(&c->all, &flctx_all);
	kmutex_unlock(&flk_lock);
	return c;
}

static bool is_record(const struct flk *l)
{
	return l->kind != FLK_FLOCK;
}

static bool same_owner(const struct flk *a, const struct flk *b)
{
	if (a->owner != b->owner)
		return false;
	/* A file and a process never share an address, but be exact. */
	return is_record(a) == is_record(b) &&
	       (a->kind == FLK_POSIX) == (b->kind == FLK_POSIX);
}

static bool overlap(const struct flk *a, const struct flk *b)
{
	return a->start <= b->end && b->start <= a->end;
}

/* Would req be refused because of l? */
static bool conflicts(const struct flk *req, const struct flk *l)
{
	if (is_record(req) != is_record(l) || same_owner(req, l))
		return false;
	if (req->type != F_WRLCK && l->type != F_WRLCK)
		return false;
	return !is_record(req) || overlap(req, l);
}

static struct flk *find_conflict(struct flctx *c, const struct flk *req)
{
	struct list_head *pos;
	list_for_each(pos, &c->locks)
	{
		struct flk *l = list_entry(pos, struct flk, node);
		if (conflicts(req, l))
			return l;
	}
	return NULL;
}

static void flk_unlink(struct flk *l)
{
	list_del(&l->node);
	if (l->kind == FLK_POSIX)
		list_del(&l->pnode);
	l->ctx->n--;
	flk_total--;
}

static void flk_link(struct flctx *c, struct flk *l)
{
	l->ctx = c;
	l->id = ++flk_next_id;
	/* By start, so that F_GETLK reports the lowest conflicting range
	 * (Linux keeps each owner's locks in this order). */
	struct list_head *pos;
	list_for_each(pos, &c->locks)
	{
		if (list_entry(pos, struct flk, node)->start > l->start)
			break;
	}
	list_add_tail(&l->node, pos);
	if (l->kind == FLK_POSIX)
		list_add_tail(&l->pnode, &((struct process *)l->owner)->flocks);
	c->n++;
	flk_total++;
}

static bool room_for(struct flctx *c, unsigned more)
{
	return c->n + more <= FLK_MAX_INODE &&
	       flk_total + more <= FLK_MAX_TOTAL;
}

/* Is req's owner, by following who waits for whom, waiting for itself?
 * (POSIX locks only, as Linux's posix_locks_deadlock.) */
static bool posix_deadlock(struct process *me, struct process *blocker)
{
	for (int i = 0; i < MAX_DEADLK_ITERATIONS && blocker; i++) {
		if (blocker == me)
			return true;
		struct process *next = NULL;
		struct list_head *pos;
		list_for_each(pos, &flk_waiters)
		{
			struct flk_waiter *w =
			    list_entry(pos, struct flk_waiter, node);
			if (w->who == blocker) {
				next = w->blocker;
				break;
			}
		}
		blocker = next;
	}
	return false;
}

/* Apply a record lock (or unlock) of req's owner, merging and splitting
 * its own locks as Linux's posix_lock_inode. spare: up to two unused
 * entries the caller allocated (taken as used, set to NULL). Returns 0 or
 * -ENOLCK; *changed when other waiters may now proceed. */
static int record_apply(struct flctx *c, const struct flk *req,
			struct flk **spare, bool *changed)
{
	int64_t ns = req->start, ne = req->end;
	/* Count what the change needs first: it must not half happen. */
	unsigned need = req->type != F_UNLCK ? 1 : 0;
	struct list_head *pos, *nxt;
	list_for_each(pos, &c->locks)
	{
		struct flk *l = list_entry(pos, struct flk, node);
		if (!same_owner(req, l))
			continue;
		if (l->type != req->type && l->start < req->start &&
		    l->end > req->end)
			need++; /* split in two */
		if (l->type == req->type && l->start <= req->start &&
		    l->end >= req->end)
			return 0; /* already covered */
	}
	if (need && !room_for(c, need))
		return -ENOLCK;
	list_for_each_safe(pos, nxt, &c->locks)
	{
		struct flk *l = list_entry(pos, struct flk, node);
		if (!same_owner(req, l))
			continue;
		if (req->type != F_UNLCK && l->type == req->type) {
			/* Same type, overlapping or adjacent: merge. */
			if (l->end < ns - 1 || l->start - 1 > ne)
				continue;
			if (l->start < ns)
				ns = l->start;
			if (l->end > ne)
				ne = l->end;
			flk_unlink(l);
			free(l);
			continue;
		}
		if (!overlap(l, req))
			continue;
		*changed = true;
		if (l->start < req->start && l->end > req->end) {
			struct flk *tail = spare[0] ? spare[0] : spare[1];
			if (tail == spare[0])
				spare[0] = NULL;
			else
				spare[1] = NULL;
			*tail = *l;
			tail->start = req->end + 1;
			l->end = req->start - 1;
			flk_link(c, tail);
		} else if (l->start < req->start) {
			l->end = req->start - 1;
		} else if (l->end > req->end) {
			l->start = req->end + 1;
		} else {
			flk_unlink(l);
			free(l);
		}
	}
	if (req->type != F_UNLCK) {
		struct flk *n = spare[0] ? spare[0] : spare[1];
		if (n == spare[0])
			spare[0] = NULL;
		else
			spare[1] = NULL;
		*n = *req;
		n->start = ns;
		n->end = ne;
		flk_link(c, n);
		/* A downgrade (write to read) lets readers in. */
		*changed = true;
	}
	return 0;
}

/* The range of fl, relative to f (Linux's flock_to_posix_lock). */
static int flock_range(struct file *f, const struct flock *fl, int64_t *start,
		       int64_t *end)
{
	int64_t base;
	switch (fl->l_whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		file_pos_lock(f);
		base = (int64_t)f->pos;
		file_pos_unlock(f);
		break;
	case SEEK_END:
		if (f->inode->iops && f->inode->iops->getattr)
			f->inode->iops->getattr(f->inode);
		base = (int64_t)inode_size(f->inode);
		break;
	default:
		return -EINVAL;
	}
	int64_t s;
	if (__builtin_add_overflow(base, (int64_t)fl->l_start, &s))
		return -EOVERFLOW;
	if (s < 0)
		return -EINVAL;
	int64_t len = fl->l_len, e;
	if (len > 0) {
		if (len - 1 > OFFSET_MAX - s)
			return -EOVERFLOW;
		e = s + len - 1;
	} else if (len < 0) {
		if (s + len < 0)
			return -EINVAL;
		e = s - 1;
		s += len;
	} else {
		e = OFFSET_MAX;
	}
	*start = s;
	*end = e;
	return 0;
}

static int make_request(struct task *t, struct file *f, int cmd,
			const struct flock *fl, struct flk *req)
{
	if (fl->l_type != F_RDLCK && fl->l_type != F_WRLCK &&
	    fl->l_type != F_UNLCK)
		return -EINVAL;
	bool ofd =
	    cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
	if (ofd && fl->l_pid != 0)
		return -EINVAL;
	int r = flock_range(f, fl, &req->start, &req->end);
	if (r)
		return r;
	req->type = fl->l_type;
	req->kind = ofd ? FLK_OFD : FLK_POSIX;
	req->owner = ofd ? (void *)f : (void *)t->proc;
	req->pid = ofd ? -1 : t->proc->pid;
	return 0;
}

int fcntl_getlk(struct task *t, struct file *f, int cmd, struct flock *fl)
{
	struct flk req = {0};
	int r = make_request(t, f, cmd, fl, &req);
	if (r)
		return r;
	if (req.type == F_UNLCK)
		return -EINVAL;
	struct flctx *c = ctx_get(f->inode, false);
	if (!c) {
		fl->l_type = F_UNLCK;
		return 0;
	}
	kmutex_lock(&flk_lock);
	struct flk *l = find_conflict(c, &req);
	if (!l) {
		fl->l_type = F_UNLCK;
	} else {
		fl->l_type = l->type;
		fl->l_whence = SEEK_SET;
		fl->l_start = l->start;
		fl->l_len = l->end == OFFSET_MAX ? 0 : l->end - l->start + 1;
		fl->l_pid = l->kind == FLK_POSIX ? l->pid : -1;
	}
	kmutex_unlock(&flk_lock);
	return 0;
}

int fcntl_setlk(struct task *t, struct file *f, int cmd, const struct flock *fl)
{
	struct flk req = {0};
	int r = make_request(t, f, cmd, fl, &req);
	if (r)
		return r;
	if (req.type == F_RDLCK && !(f->fmode & FMODE_READ))
		return -EBADF;
	if (req.type == F_WRLCK && !(f->fmode & FMODE_WRITE))
		return -EBADF;
	bool wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW;
	struct flctx *c = ctx_get(f->inode, req.type != F_UNLCK);
	if (!c)
		return req.type == F_UNLCK ? 0 : -ENOMEM;
	struct flk *spare[2] = {malloc(sizeof(struct flk)),
				malloc(sizeof(struct flk))};
	if (!spare[0] || !spare[1]) {
		free(spare[0]);
		free(spare[1]);
		return -ENOMEM;
	}
	struct wait_entry we;
	wait_entry_init_task(&we, t, 0);
	struct flk_waiter w = {.who = t->proc};
	bool waiting = false;
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		kmutex_lock(&flk_lock);
		struct flk *l =
		    req.type == F_UNLCK ? NULL : find_conflict(c, &req);
		if (!l) {
			bool changed = false;
			r = record_apply(c, &req, spare, &changed);
			if (waiting)
				list_del(&w.node);
			waiting = false;
			kmutex_unlock(&flk_lock);
			if (changed)
				waitq_wake_all(&c->wq);
			break;
		}
		if (!wait) {
			kmutex_unlock(&flk_lock);
			r = -EAGAIN;
			break;
		}
		if (req.kind == FLK_POSIX) {
			struct process *b =
			    l->kind == FLK_POSIX ? l->owner : NULL;
			if (posix_deadlock(t->proc, b)) {
				if (waiting)
					list_del(&w.node);
				waiting = false;
				kmutex_unlock(&flk_lock);
				r = -EDEADLK;
				break;
			}
			w.blocker = b;
			if (!waiting)
				list_add_tail(&w.node, &flk_waiters);
			waiting = true;
		}
		if (!we.q)
			waitq_add(&c->wq, &we);
		kmutex_unlock(&flk_lock);
		if (task_sleep(t, seq, NULL, SLEEP_INTR) == -EINTR) {
			r = -ERESTARTSYS;
			break;
		}
	}
	if (waiting) {
		kmutex_lock(&flk_lock);
		list_del(&w.node);
		kmutex_unlock(&flk_lock);
	}
	waitq_remove(&we);
	free(spare[0]);
	free(spare[1]);
	return r;
}

/* Drop every lock of c that match(l, arg) accepts; wakes the waiters. */
static void remove_matching(struct flctx *c,
			    bool (*match)(const struct flk *, const void *),
			    const void *arg)
{
	bool any = false;
	kmutex_lock(&flk_lock);
	struct list_head *pos, *nxt;
	list_for_each_safe(pos, nxt, &c->locks)
	{
		struct flk *l = list_entry(pos, struct flk, node);
		if (!match(l, arg))
			continue;
		flk_unlink(l);
		free(l);
		any = true;
	}
	kmutex_unlock(&flk_lock);
	if (any)
		waitq_wake_all(&c->wq);
}

static bool match_posix(const struct flk *l, const void *p)
{
	return l->kind == FLK_POSIX && l->owner == p;
}

static bool match_file(const struct flk *l, const void *f)
{
	return l->kind != FLK_POSIX && l->owner == f;
}

void locks_remove_posix(struct file *f, struct process *p)
{
	struct flctx *c = ctx_get(f->inode, false);
	if (c && p)
		remove_matching(c, match_posix, p);
}

void locks_remove_file(struct file *f)
{
	struct flctx *c = ctx_get(f->inode, false);
	if (c)
		remove_matching(c, match_file, f);
}

void locks_exit_process(struct process *p)
{
	/* Wake each inode's waiters once the locks are gone: collect the
	 * contexts first (they live as long as their inode, and an inode
	 * with a lock of p has its flctx until the locks go, which is
	 * here). */
	for (;;) {
		kmutex_lock(&flk_lock);
		if (list_empty(&p->flocks)) {
			kmutex_unlock(&flk_lock);
			return;
		}
		struct flk *l = list_entry(p->flocks.next, struct flk, pnode);
		struct flctx *c = l->ctx;
		struct list_head *pos, *nxt;
		list_for_each_safe(pos, nxt, &c->locks)
		{
			struct flk *o = list_entry(pos, struct flk, node);
			if (match_posix(o, p)) {
				flk_unlink(o);
				free(o);
			}
		}
		/* The waitq wake runs under flk_lock here: c may go with its
		 * inode once the lock is released (its last fd may be in
		 * another process, closing now). */
		waitq_wake_all(&c->wq);
		kmutex_unlock(&flk_lock);
	}
}

void locks_evict_inode(struct inode *inode)
{
	struct flctx *c = ctx_get(inode, false);
	if (!c)
		return;
	kmutex_lock(&flk_lock);
	struct list_head *pos, *nxt;
	list_for_each_safe(pos, nxt, &c->locks)
	{
		struct flk *l = list_entry(pos, struct flk, node);
		flk_unlink(l);
		free(l);
	}
	list_del(&c->all);
	kmutex_unlock(&flk_lock);
	inode->flctx = NULL;
	free(c);
}

static bool match_flock(const struct flk *l, const void *f)
{
	return l->kind == FLK_FLOCK && l->owner == f;
}

int flock_file(struct task *t, struct file *f, int op)
{
	bool nb = op & LOCK_NB;
	op &= ~LOCK_NB;
	if (op != LOCK_SH && op != LOCK_EX && op != LOCK_UN)
		return -EINVAL;
	if (f->flags & O_PATH)
		return -EBADF; /* O_PATH */
	struct flctx *c = ctx_get(f->inode, op != LOCK_UN);
	if (!c)
		return op == LOCK_UN ? 0 : -ENOMEM;
	struct flk req = {
	    .kind = FLK_FLOCK,
	    .type = op == LOCK_EX ? F_WRLCK : F_RDLCK,
	    .owner = f,
	    .pid = t->proc->pid,
	    .start = 0,
	    .end = OFFSET_MAX,
	};
	/* As Linux's flock_lock_inode: the same lock again is a no-op;
	 * otherwise the old one goes first (waking its waiters), then the
	 * new one is tried: a conversion is not atomic. */
	kmutex_lock(&flk_lock);
	struct flk *old = NULL;
	struct list_head *pos;
	list_for_each(pos, &c->locks)
	{
		struct flk *l = list_entry(pos, struct flk, node);
		if (match_flock(l, f)) {
			old = l;
			break;
		}
	}
	if (old && op != LOCK_UN && old->type == req.type) {
		kmutex_unlock(&flk_lock);
		return 0;
	}
	if (old) {
		flk_unlink(old);
		free(old);
	}
	kmutex_unlock(&flk_lock);
	if (old)
		waitq_wake_all(&c->wq);
	if (op == LOCK_UN)
		return 0;
	struct flk *n = malloc(sizeof(*n));
	if (!n)
		return -ENOMEM;
	struct wait_entry we;
	wait_entry_init_task(&we, t, 0);
	int r;
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		kmutex_lock(&flk_lock);
		if (!find_conflict(c, &req)) {
			if (!room_for(c, 1)) {
				r = -ENOLCK;
			} else {
				*n = req;
				flk_link(c, n);
				n = NULL;
				r = 0;
			}
			kmutex_unlock(&flk_lock);
			break;
		}
		if (nb) {
			kmutex_unlock(&flk_lock);
			r = -EWOULDBLOCK;
			break;
		}
		if (!we.q)
			waitq_add(&c->wq, &we);
		kmutex_unlock(&flk_lock);
		if (task_sleep(t, seq, NULL, SLEEP_INTR) == -EINTR) {
			r = -ERESTARTSYS;
			break;
		}
	}
	waitq_remove(&we);
	free(n);
	return r;
}

size_t locks_show(char *buf, size_t cap)
{
	size_t len = 0;
	int nr = 0;
	kmutex_lock(&flk_lock);
	struct list_head *cp, *lp;
	list_for_each(cp, &flctx_all)
	{
		struct flctx *c = list_entry(cp, struct flctx, all);
		list_for_each(lp, &c->locks)
		{
			struct flk *l = list_entry(lp, struct flk, node);
			const char *kind = l->kind == FLK_FLOCK ? "FLOCK"
					   : l->kind == FLK_OFD ? "OFDLCK"
								: "POSIX";
			const char *type =
			    l->type == F_WRLCK ? "WRITE" : "READ";
			char end[24];
			if (l->end == OFFSET_MAX)
				snprintf(end, sizeof(end), "EOF");
			else
				snprintf(end, sizeof(end), "%lld",
					 (long long)l->end);
			int n = snprintf(
			    len < cap ? buf + len : NULL,
			    len < cap ? cap - len : 0,
			    "%d: %s  ADVISORY  %s %d %02x:%02x:%llu %lld %s\n",
			    ++nr, kind, type, l->pid,
			    (unsigned)((c->inode->sb->dev >> 8) & 0xfff),
			    (unsigned)(c->inode->sb->dev & 0xff),
			    (unsigned long long)c->inode->ino,
			    (long long)l->start, end);
			if (n > 0)
				len += (size_t)n;
		}
	}
	kmutex_unlock(&flk_lock);
	return len;
}
