/* signalfds. The mask is an atomic; the signals themselves are the
 * process's, under tasklist_lock. A reader or poller waits on its own
 * process's sigwait queue, which every queued signal wakes; the file keeps
 * a reference to each such queue it registered on (struct sfd_queue) so
 * that no entry outlives the queue it sits on. */
#include "sentry/fs/signalfd/signalfd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/uio.h"
#include "sentry/vfs/fs.h"

struct sfd_queue {
	struct sfd_queue *next;
	struct sigwait_head *h; /* a reference */
};

struct signalfd_ctx {
	_Atomic uint64_t mask;
	struct kmutex lock;	  /* queues */
	struct sfd_queue *queues; /* the sigwait queues used, with refs */
};

static const struct file_ops signalfd_fops;

bool file_is_signalfd(struct file *f)
{
	return f && f->fops == &signalfd_fops;
}

#define SFD_UNBLOCKABLE (sigbit(SIGKILL) | sigbit(SIGSTOP))

void signalfd_set_mask(struct file *f, uint64_t mask)
{
	struct signalfd_ctx *ctx = f->priv;
	atomic_store(&ctx->mask, mask & ~SFD_UNBLOCKABLE);
	/* Readers asleep may now have something to take. */
	struct task *t = current;
	if (t)
		waitq_wake(&t->proc->sigwait->wq, POLLIN);
}

/* The sigwait queue of t's process, kept referenced by the file. */
static struct waitq *sfd_queue_of(struct signalfd_ctx *ctx, struct task *t)
{
	struct sigwait_head *h = t->proc->sigwait;
	kmutex_lock(&ctx->lock);
	struct sfd_queue *q;
	for (q = ctx->queues; q; q = q->next)
		if (q->h == h)
			break;
	if (!q && (q = malloc(sizeof(*q)))) {
		sigwait_get(h);
		q->h = h;
		q->next = ctx->queues;
		ctx->queues = q;
	}
	kmutex_unlock(&ctx->lock);
	return q ? &h->wq : NULL;
}

static ksigset_t sfd_pending(struct task *t, ksigset_t mask)
{
	return (t->pending.set | t->proc->shared_pending.set) & mask;
}

/* Take one pending signal in mask, the thread's first (Linux's
 * dequeue_signal order). tasklist held. */
static int sfd_dequeue(struct task *t, ksigset_t mask, siginfo_t *si)
{
	ksigset_t own = t->pending.set & mask;
	ksigset_t shared = t->proc->shared_pending.set & mask;
	struct sigpending *sp;
	int sig;
	if (own) {
		sig = __builtin_ctzll(own) + 1;
		sp = &t->pending;
	} else if (shared) {
		sig = __builtin_ctzll(shared) + 1;
		sp = &t->proc->shared_pending;
	} else {
		return 0;
	}
	signal_dequeue(sp, sig, si);
	task_recalc_work(t);
	return sig;
}

/* Linux's signalfd_copyinfo: the fields the siginfo's layout has. */
static void sfd_convert(const siginfo_t *si, struct signalfd_siginfo *o)
{
	memset(o, 0, sizeof(*o));
	o->ssi_signo = (uint32_t)si->si_signo;
	o->ssi_errno = si->si_errno;
	o->ssi_code = si->si_code;
	int sig = si->si_signo, code = si->si_code;
	if (code == SI_USER || code == SI_KERNEL) {
		o->ssi_pid = (uint32_t)si->si_pid;
		o->ssi_uid = si->si_uid;
	} else if (code > 0) {
		switch (sig) {
		case SIGCHLD:
			o->ssi_pid = (uint32_t)si->si_pid;
			o->ssi_uid = si->si_uid;
			o->ssi_status = si->si_status;
			o->ssi_utime = (uint64_t)si->si_utime;
			o->ssi_stime = (uint64_t)si->si_stime;
			break;
		case SIGSEGV:
		case SIGBUS:
		case SIGILL:
		case SIGFPE:
		case SIGTRAP:
			o->ssi_addr = (uint64_t)(uintptr_t)si->si_addr;
			break;
		case SIGPOLL:
			o->ssi_band = (uint32_t)si->si_band;
			o->ssi_fd = si->si_fd;
			break;
		default:
			o->ssi_pid = (uint32_t)si->si_pid;
			o->ssi_uid = si->si_uid;
			o->ssi_int = si->si_value.sival_int;
			o->ssi_ptr =
			    (uint64_t)(uintptr_t)si->si_value.sival_ptr;
		}
	} else if (code == SI_TIMER) {
		o->ssi_tid = (uint32_t)si->si_timerid;
		o->ssi_overrun = (uint32_t)si->si_overrun;
		o->ssi_int = si->si_value.sival_int;
		o->ssi_ptr = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
	} else if (code == SI_SIGIO) {
		o->ssi_band = (uint32_t)si->si_band;
		o->ssi_fd = si->si_fd;
	} else {
		o->ssi_pid = (uint32_t)si->si_pid;
		o->ssi_uid = si->si_uid;
		o->ssi_int = si->si_value.sival_int;
		o->ssi_ptr = (uint64_t)(uintptr_t)si->si_value.sival_ptr;
	}
}

static ssize_t signalfd_read(struct file *f, struct uio *u, uint64_t *pos)
{
	(void)pos;
	struct signalfd_ctx *ctx = f->priv;
	struct task *t = u->t;
	size_t count = uio_resid(u) / sizeof(struct signalfd_siginfo);
	if (!count)
		return -EINVAL;
	struct waitq *q = sfd_queue_of(ctx, t);
	if (!q)
		return -ENOMEM;
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLIN);
	ssize_t done = 0;
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		siginfo_t si;
		tasklist_lock_take();
		int sig = sfd_dequeue(t, atomic_load(&ctx->mask), &si);
		tasklist_unlock();
		if (sig) {
			struct signalfd_siginfo o;
			sfd_convert(&si, &o);
			if (uio_copy_out(u, &o, sizeof(o)) != sizeof(o)) {
				/* Linux loses it too: it was dequeued. */
				if (!done)
					done = -EFAULT;
				break;
			}
			done += (ssize_t)sizeof(o);
			if (--count == 0)
				break;
			continue; /* the rest only if already pending */
		}
		if (done)
			break;
		if ((f->flags & O_NONBLOCK) || (u->flags & UIO_NOWAIT)) {
			done = -EAGAIN;
			break;
		}
		if (!we.q) {
			waitq_add(q, &we);
			continue;
		}
		if (task_sleep(t, seq, NULL, SLEEP_INTR) == -EINTR) {
			done = -ERESTARTSYS;
			break;
		}
	}
	waitq_remove(&we);
	return done;
}

static uint32_t signalfd_poll(struct file *f, struct poll_table *pt)
{
	struct signalfd_ctx *ctx = f->priv;
	struct task *t = current;
	if (pt && pt->qproc) {
		struct waitq *q = sfd_queue_of(ctx, t);
		if (q)
			poll_wait(pt, q);
	}
	tasklist_lock_take();
	ksigset_t p = sfd_pending(t, atomic_load(&ctx->mask));
	tasklist_unlock();
	return p ? POLLIN | POLLRDNORM : 0;
}

static int signalfd_show_fdinfo(struct file *f, char *buf, size_t cap)
{
	struct signalfd_ctx *ctx = f->priv;
	return snprintf(buf, cap, "sigmask:\t%016llx\n",
			(unsigned long long)atomic_load(&ctx->mask));
}

static void signalfd_release(struct file *f)
{
	struct signalfd_ctx *ctx = f->priv;
	while (ctx->queues) {
		struct sfd_queue *q = ctx->queues;
		ctx->queues = q->next;
		sigwait_put(q->h);
		free(q);
	}
	kmutex_destroy(&ctx->lock);
	free(ctx);
}

static const struct file_ops signalfd_fops = {
    .read = signalfd_read,
    .poll = signalfd_poll,
    .llseek = noop_llseek,
    .show_fdinfo = signalfd_show_fdinfo,
    .release = signalfd_release,
};

int signalfd_create_file(uint64_t mask, int flags, struct file **out)
{
	struct signalfd_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	atomic_init(&ctx->mask, mask & ~SFD_UNBLOCKABLE);
	kmutex_init(&ctx->lock, "signalfd", LR_LEAF);
	int r = anon_file_new("[signalfd]", &signalfd_fops, ctx,
			      O_RDWR | (flags & O_NONBLOCK), out);
	if (r) {
		kmutex_destroy(&ctx->lock);
		free(ctx);
	}
	return r;
}
