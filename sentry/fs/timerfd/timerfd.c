/* timerfds. State is under ctx->lock (LR_TIMERFD: below the timer heap's
 * lock, which arming takes under it). The expiry callback runs on the timer
 * thread and may race with a settime that already cancelled it: it re-reads
 * the state under the lock and does nothing for an expiry that is not due,
 * so a stale callback never counts a tick. */
#include "sentry/fs/timerfd/timerfd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/timerfd.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/timer.h"
#include "sentry/kernel/waitq.h"
#include "sentry/mm/uio.h"
#include "sentry/vfs/fs.h"

#define NSEC 1000000000ull

struct timerfd_ctx {
	struct kmutex lock;
	int clockid; /* immutable */
	struct ktimer kt;
	bool armed;	       /* lock: an expiry is due at exp */
	bool realtime;	       /* lock: exp is CLOCK_REALTIME ns (else mono) */
	uint64_t exp;	       /* lock */
	uint64_t interval;     /* lock: ns, 0: one shot */
	uint64_t ticks;	       /* lock: expirations not yet read */
	bool expired;	       /* lock: periodic, fired, not yet forwarded */
	int settime_flags;     /* lock: for fdinfo */
	bool cancel_on_set;    /* lock */
	_Atomic bool canceled; /* the wall clock was set since */
	bool hooked;	       /* lock: hook registered */
	struct clockset_hook hook;
	struct waitq wq;
};

static const struct file_ops timerfd_fops;

bool file_is_timerfd(struct file *f)
{
	return f && f->fops == &timerfd_fops;
}

static bool clock_is_real(int clockid)
{
	return clockid == CLOCK_REALTIME || clockid == CLOCK_REALTIME_ALARM;
}

static bool clock_is_boot(int clockid)
{
	return clockid == CLOCK_BOOTTIME || clockid == CLOCK_BOOTTIME_ALARM;
}

/* Now on the base exp is kept in. */
static uint64_t base_now(bool realtime)
{
	return kernel_now_ns(realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC);
}

/* lock held. */
static void tfd_arm(struct timerfd_ctx *ctx)
{
	if (ctx->realtime)
		ktimer_arm_realtime(&ctx->kt, ctx->exp);
	else
		ktimer_arm(&ctx->kt, ctx->exp);
}

static void tfd_fire(struct ktimer *kt)
{
	struct timerfd_ctx *ctx = kt->priv;
	kmutex_lock(&ctx->lock);
	if (!ctx->armed) {
		kmutex_unlock(&ctx->lock);
		return;
	}
	uint64_t now = base_now(ctx->realtime);
	if (now < ctx->exp) {
		/* Early for the current setting (re-armed meanwhile, or the
		 * wall clock went back): wait for the real expiry. */
		tfd_arm(ctx);
		kmutex_unlock(&ctx->lock);
		return;
	}
	/* One expiry. A periodic timer stops here until read or gettime
	 * forwards it (Linux counts the periods since lazily), so the periods
	 * after an unread expiry are no new edge for EPOLLET. */
	ctx->ticks++;
	if (ctx->interval)
		ctx->expired = true;
	else
		ctx->armed = false;
	kmutex_unlock(&ctx->lock);
	waitq_wake(&ctx->wq, POLLIN | POLLRDNORM);
}

static void tfd_clock_was_set(struct clockset_hook *h)
{
	struct timerfd_ctx *ctx = container_of(h, struct timerfd_ctx, hook);
	atomic_store(&ctx->canceled, true);
	waitq_wake(&ctx->wq, POLLIN | POLLRDNORM);
}

/* A periodic timer that fired: count the whole periods since and arm the
 * next one (lock held). */
static void tfd_forward(struct timerfd_ctx *ctx)
{
	if (!ctx->expired)
		return;
	ctx->expired = false;
	uint64_t now = base_now(ctx->realtime);
	uint64_t n = now > ctx->exp ? (now - ctx->exp) / ctx->interval : 0;
	ctx->ticks += n;
	ctx->exp += (n + 1) * ctx->interval;
	tfd_arm(ctx);
}

static ssize_t timerfd_read(struct file *f, struct uio *u, uint64_t *pos)
{
	(void)pos;
	struct timerfd_ctx *ctx = f->priv;
	struct task *t = u->t;
	if (uio_resid(u) < sizeof(uint64_t))
		return -EINVAL;
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLIN);
	uint64_t val = 0;
	ssize_t ret = 0;
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		kmutex_lock(&ctx->lock);
		if (ctx->cancel_on_set &&
		    atomic_exchange(&ctx->canceled, false)) {
			ctx->ticks = 0;
			kmutex_unlock(&ctx->lock);
			ret = -ECANCELED;
			break;
		}
		if (ctx->ticks) {
			tfd_forward(ctx);
			val = ctx->ticks;
			ctx->ticks = 0;
			kmutex_unlock(&ctx->lock);
			break;
		}
		kmutex_unlock(&ctx->lock);
		if ((f->flags & O_NONBLOCK) || (u->flags & UIO_NOWAIT)) {
			ret = -EAGAIN;
			break;
		}
		if (!we.q) {
			waitq_add(&ctx->wq, &we);
			continue;
		}
		if (task_sleep(t, seq, NULL, SLEEP_INTR) == -EINTR) {
			ret = -ERESTARTSYS;
			break;
		}
	}
	waitq_remove(&we);
	if (ret)
		return ret;
	return uio_copy_out(u, &val, sizeof(val)) == sizeof(val)
		   ? (ssize_t)sizeof(val)
		   : -EFAULT;
}

static uint32_t timerfd_poll(struct file *f, struct poll_table *pt)
{
	struct timerfd_ctx *ctx = f->priv;
	poll_wait(pt, &ctx->wq);
	kmutex_lock(&ctx->lock);
	bool ready =
	    ctx->ticks || (ctx->cancel_on_set && atomic_load(&ctx->canceled));
	kmutex_unlock(&ctx->lock);
	return ready ? POLLIN | POLLRDNORM : 0;
}

static struct timespec ns_ts(uint64_t ns)
{
	return (struct timespec){(time_t)(ns / NSEC), (long)(ns % NSEC)};
}

/* lock held. */
static void tfd_get_locked(struct timerfd_ctx *ctx, struct itimerspec *cur)
{
	cur->it_interval = ns_ts(ctx->interval);
	uint64_t left = 0;
	tfd_forward(ctx);
	if (ctx->armed) {
		uint64_t now = base_now(ctx->realtime);
		left = ctx->exp > now ? ctx->exp - now : 0;
	}
	cur->it_value = ns_ts(left);
}

void timerfd_gettime_file(struct file *f, struct itimerspec *cur)
{
	struct timerfd_ctx *ctx = f->priv;
	kmutex_lock(&ctx->lock);
	tfd_get_locked(ctx, cur);
	kmutex_unlock(&ctx->lock);
}

static uint64_t ts_ns(const struct timespec *ts)
{
	/* Validated: 0 <= tv_nsec < 1e9, tv_sec >= 0. Far times saturate. */
	if ((uint64_t)ts->tv_sec >= UINT64_MAX / NSEC - 1)
		return UINT64_MAX / 2;
	return (uint64_t)ts->tv_sec * NSEC + (uint64_t)ts->tv_nsec;
}

int timerfd_settime_file(struct file *f, int flags, const struct itimerspec *nv,
			 struct itimerspec *old)
{
	struct timerfd_ctx *ctx = f->priv;
	bool due = false;
	kmutex_lock(&ctx->lock);
	if (old)
		tfd_get_locked(ctx, old);
	ktimer_cancel(&ctx->kt);
	ctx->armed = false;
	ctx->expired = false;
	ctx->ticks = 0;
	atomic_store(&ctx->canceled, false);
	ctx->settime_flags = flags;
	bool want_hook = clock_is_real(ctx->clockid) &&
			 (flags & TFD_TIMER_ABSTIME) &&
			 (flags & TFD_TIMER_CANCEL_ON_SET);
	if (want_hook && !ctx->hooked)
		timer_clockset_register(&ctx->hook);
	else if (!want_hook && ctx->hooked)
		timer_clockset_unregister(&ctx->hook);
	ctx->hooked = want_hook;
	ctx->cancel_on_set = want_hook;
	ctx->interval = ts_ns(&nv->it_interval);
	uint64_t v = ts_ns(&nv->it_value);
	if (v) {
		bool abs = flags & TFD_TIMER_ABSTIME;
		ctx->realtime = clock_is_real(ctx->clockid);
		uint64_t now = base_now(ctx->realtime);
		if (!abs) {
			ctx->exp = now + v;
		} else if (clock_is_boot(ctx->clockid)) {
			/* Boot time runs ahead of monotonic by the time
			 * suspended: convert at arming. */
			uint64_t boot = kernel_now_ns(CLOCK_BOOTTIME);
			uint64_t off = boot > now ? boot - now : 0;
			ctx->exp = v > off ? v - off : 0;
		} else {
			ctx->exp = v;
		}
		ctx->armed = true;
		if (ctx->exp <= base_now(ctx->realtime)) {
			/* Already due: it expires now, as Linux's hrtimer
			 * fires at once, so a read right after sees it. */
			ctx->ticks = 1;
			if (ctx->interval)
				ctx->expired = true;
			else
				ctx->armed = false;
			due = true;
		} else {
			tfd_arm(ctx);
		}
	}
	kmutex_unlock(&ctx->lock);
	if (due)
		waitq_wake(&ctx->wq, POLLIN | POLLRDNORM);
	return 0;
}

static int timerfd_show_fdinfo(struct file *f, char *buf, size_t cap)
{
	struct timerfd_ctx *ctx = f->priv;
	struct itimerspec cur;
	kmutex_lock(&ctx->lock);
	tfd_get_locked(ctx, &cur);
	uint64_t ticks = ctx->ticks;
	int fl = ctx->settime_flags;
	kmutex_unlock(&ctx->lock);
	return snprintf(buf, cap,
			"clockid: %d\nticks: %llu\nsettime flags: 0%o\n"
			"it_value: (%llu, %llu)\nit_interval: (%llu, %llu)\n",
			ctx->clockid, (unsigned long long)ticks, (unsigned)fl,
			(unsigned long long)cur.it_value.tv_sec,
			(unsigned long long)cur.it_value.tv_nsec,
			(unsigned long long)cur.it_interval.tv_sec,
			(unsigned long long)cur.it_interval.tv_nsec);
}

static void timerfd_release(struct file *f)
{
	struct timerfd_ctx *ctx = f->priv;
	kmutex_lock(&ctx->lock);
	ctx->armed = false;
	ktimer_cancel(&ctx->kt);
	bool hooked = ctx->hooked;
	ctx->hooked = false;
	kmutex_unlock(&ctx->lock);
	if (hooked)
		timer_clockset_unregister(&ctx->hook);
	ktimer_sync(&ctx->kt);
	kmutex_destroy(&ctx->lock);
	free(ctx);
}

static const struct file_ops timerfd_fops = {
    .read = timerfd_read,
    .poll = timerfd_poll,
    .llseek = noop_llseek,
    .show_fdinfo = timerfd_show_fdinfo,
    .release = timerfd_release,
};

int timerfd_create_file(struct task *t, int clockid, int flags,
			struct file **out)
{
	if ((clockid == CLOCK_REALTIME_ALARM ||
	     clockid == CLOCK_BOOTTIME_ALARM) &&
	    !cred_capable(&t->cred, 35 /* CAP_WAKE_ALARM */))
		return -EPERM;
	struct timerfd_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	kmutex_init(&ctx->lock, "timerfd", LR_TIMERFD);
	ctx->clockid = clockid;
	ktimer_init(&ctx->kt, tfd_fire, ctx);
	ctx->hook.fn = tfd_clock_was_set;
	waitq_init(&ctx->wq);
	int r = anon_file_new("[timerfd]", &timerfd_fops, ctx,
			      O_RDWR | (flags & O_NONBLOCK), out);
	if (r) {
		kmutex_destroy(&ctx->lock);
		free(ctx);
	}
	return r;
}
