#include "sentry/kernel/posix_timers.h"

#include <errno.h>
#include <linux/capability.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "sentry/kernel/cputime.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/usercopy.h"
#include "sentry/syscalls/syscalls.h"

#define PTIMERS_MAX 32768 /* per process */

#ifndef SIGEV_THREAD_ID
#define SIGEV_THREAD_ID 4
#endif
#ifndef CLOCK_REALTIME_ALARM
#define CLOCK_REALTIME_ALARM 8
#define CLOCK_BOOTTIME_ALARM 9
#endif
#ifndef CLOCK_TAI
#define CLOCK_TAI 11
#endif

/* The kernel's CPU clock ids (posix-cpu-timers.h). */
#define CPUCLOCK_PID(c)	      ((pid_t) ~((c) >> 3))
#define CPUCLOCK_PERTHREAD(c) (((c)&4) != 0)
#define CPUCLOCK_WHICH(c)     ((c)&3)
#define CPUCLOCK_PROF	      0
#define CPUCLOCK_VIRT	      1
#define CPUCLOCK_SCHED	      2

/* struct sigevent as the kernel reads it. */
struct k_sigevent {
	uint64_t value;
	int32_t signo;
	int32_t notify;
	int32_t tid;
	int32_t pad[11];
};

struct ptimer {
	struct list_head node;	   /* in p->ptimers */
	struct list_head cpu_node; /* in p->cpu_timers while armed */
	struct process *p;
	int id;
	clockid_t clock;
	bool cpu;     /* on a CPU clock: the sampler drives it */
	bool deleted; /* a callback in flight must not fire it */
	int notify, signo, tid;
	uint64_t value; /* sigev_value */
	struct ktimer kt;
	/* Wall clocks: the next expiry, CLOCK_MONOTONIC ns (0: off); CPU
	 * clocks: the CPU time at which it expires. */
	uint64_t exp;
	uint64_t interval;
	int overrun, overrun_last;
	struct sigqueue *pending; /* its signal, queued and not delivered */
};

/* ---- clocks ---- */

static bool cpu_clock(clockid_t c)
{
	return c == CLOCK_PROCESS_CPUTIME_ID || c == CLOCK_THREAD_CPUTIME_ID ||
	       c < 0;
}

static bool wall_clock(clockid_t c)
{
	switch (c) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
	case CLOCK_REALTIME_ALARM:
	case CLOCK_BOOTTIME_ALARM:
	case CLOCK_TAI:
		return true;
	default:
		return false;
	}
}

/* Resolve a CPU clock to its process or thread (tasklist held). */
static int cpu_clock_target(struct task *t, clockid_t c, struct process **pp,
			    struct task **tp, int *which)
{
	*pp = NULL;
	*tp = NULL;
	if (c == CLOCK_PROCESS_CPUTIME_ID) {
		*pp = t->proc;
		*which = CPUCLOCK_SCHED;
		return 0;
	}
	if (c == CLOCK_THREAD_CPUTIME_ID) {
		*tp = t;
		*which = CPUCLOCK_SCHED;
		return 0;
	}
	*which = CPUCLOCK_WHICH(c);
	if (*which == 3)
		return -EINVAL;
	pid_t pid = CPUCLOCK_PID(c);
	if (CPUCLOCK_PERTHREAD(c)) {
		struct task *o = pid ? kernel_find_task(pid) : t;
		/* Only threads of the caller's own process, as Linux. */
		if (!o || o->proc != t->proc)
			return -EINVAL;
		*tp = o;
		return 0;
	}
	struct process *p = pid ? kernel_find_process(pid) : t->proc;
	if (!p)
		return -EINVAL;
	*pp = p;
	return 0;
}

static uint64_t pick(const struct cputimes *c, int which)
{
	return which == CPUCLOCK_VIRT ? c->utime : c->utime + c->stime;
}

int kclock_gettime(struct task *t, int clockid, uint64_t *ns)
{
	if (wall_clock(clockid)) {
		clockid_t host = clockid;
		if (host == CLOCK_REALTIME_ALARM)
			host = CLOCK_REALTIME;
		else if (host == CLOCK_BOOTTIME_ALARM)
			host = CLOCK_BOOTTIME;
		*ns = kernel_now_ns(host);
		return 0;
	}
	if (!cpu_clock(clockid))
		return -EINVAL;
	struct process *p;
	struct task *o;
	int which;
	tasklist_lock_take();
	int r = cpu_clock_target(t, clockid, &p, &o, &which);
	if (r == 0 && p) {
		struct cputimes c;
		cputime_process(p, &c);
		*ns = pick(&c, which);
	}
	/* Another thread's time is its last sample: reading its clock
	 * would be a round trip to its stub, and it may go any moment. */
	if (r == 0 && o && o != t)
		*ns = atomic_load(&o->cpu_sample);
	tasklist_unlock();
	if (r == 0 && o == t)
		*ns = cputime_thread(t);
	return r;
}

int kclock_getres(int clockid, uint64_t *ns)
{
	if (clockid == CLOCK_REALTIME_COARSE ||
	    clockid == CLOCK_MONOTONIC_COARSE) {
		*ns = 4000000;
		return 0;
	}
	if (wall_clock(clockid) || cpu_clock(clockid)) {
		*ns = 1;
		return 0;
	}
	return -EINVAL;
}

/* ---- firing ---- */

/* One expiry (tasklist held): queue the signal, or count an overrun
 * while the last one is still pending. */
static void ptimer_fire(struct ptimer *pt)
{
	struct process *p = pt->p;
	if (pt->deleted || p->state != PROC_ALIVE)
		return;
	if (pt->notify == SIGEV_NONE)
		return;
	if (pt->pending) {
		if (pt->overrun < INT_MAX)
			pt->overrun++;
		return;
	}
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = pt->signo;
	si.si_code = SI_TIMER;
	si.si_timerid = pt->id;
	si.si_value.sival_ptr = (void *)(uintptr_t)pt->value;
	struct task *target = NULL;
	if (pt->notify == (SIGEV_SIGNAL | SIGEV_THREAD_ID)) {
		target = kernel_find_task(pt->tid);
		if (target && target->proc != p)
			target = NULL;
	}
	pt->pending = signal_queue_timer_locked(p, target, pt->signo, &si, pt);
}

void posix_timers_delivered(struct sigqueue *q)
{
	struct ptimer *pt = q->timer;
	q->info.si_overrun = pt->overrun;
	pt->overrun_last = pt->overrun;
	pt->overrun = 0;
	pt->pending = NULL;
}

static void wall_fire(struct ktimer *kt)
{
	struct ptimer *pt = kt->priv;
	tasklist_lock_take();
	if (!pt->deleted && pt->exp) {
		ptimer_fire(pt);
		if (pt->interval) {
			uint64_t now = kernel_now_ns(CLOCK_MONOTONIC);
			uint64_t k =
			    now > pt->exp ? (now - pt->exp) / pt->interval : 0;
			/* Periods that passed unseen are overruns. */
			uint64_t ov = (uint64_t)pt->overrun + k;
			pt->overrun = ov > INT_MAX ? INT_MAX : (int)ov;
			pt->exp += (k + 1) * pt->interval;
			ktimer_arm(kt, pt->exp);
		} else {
			pt->exp = 0;
		}
	}
	tasklist_unlock();
}

uint64_t posix_timers_cpu_check(struct process *p, const struct cputimes *c)
{
	uint64_t wait = UINT64_MAX;
	struct list_head *pos, *n;
	list_for_each_safe(pos, n, &p->cpu_timers)
	{
		struct ptimer *pt = list_entry(pos, struct ptimer, cpu_node);
		int which = CPUCLOCK_SCHED;
		if (pt->clock < 0)
			which = CPUCLOCK_WHICH(pt->clock);
		/* A thread clock is counted by the process's when the
		 * process has one thread (exact), else by the thread's last
		 * sample. */
		bool thread = pt->clock == CLOCK_THREAD_CPUTIME_ID ||
			      (pt->clock < 0 && CPUCLOCK_PERTHREAD(pt->clock));
		uint64_t now = pick(c, which);
		if (thread && p->nthreads > 1) {
			struct task *o = kernel_find_task(pt->tid);
			now = o ? atomic_load(&o->cpu_sample) : now;
		}
		if (now >= pt->exp) {
			ptimer_fire(pt);
			if (pt->interval) {
				uint64_t k = (now - pt->exp) / pt->interval;
				uint64_t ov = (uint64_t)pt->overrun + k;
				pt->overrun = ov > INT_MAX ? INT_MAX : (int)ov;
				pt->exp += (k + 1) * pt->interval;
			} else {
				pt->exp = 0;
				list_del(&pt->cpu_node);
				list_init(&pt->cpu_node);
				continue;
			}
		}
		if (pt->exp - now < wait)
			wait = pt->exp - now;
	}
	return wait;
}

/* ---- the syscalls ---- */

long sys_timer_delete_id(struct task *t, const uint64_t a[6]);

static struct ptimer *ptimer_find(struct process *p, int id)
{
	struct list_head *pos;
	list_for_each(pos, &p->ptimers)
	{
		struct ptimer *pt = list_entry(pos, struct ptimer, node);
		if (pt->id == id)
			return pt;
	}
	return NULL;
}

static long sys_timer_create(struct task *t, const uint64_t a[6])
{
	clockid_t clock = (clockid_t)a[0];
	struct k_sigevent ev = {.notify = SIGEV_SIGNAL, .signo = SIGALRM};
	if (a[1] && copy_from_user(t, &ev, a[1], sizeof(ev)) < 0)
		return -EFAULT;
	if (!wall_clock(clock) && !cpu_clock(clock))
		return -EINVAL;
	if ((clock == CLOCK_REALTIME_ALARM || clock == CLOCK_BOOTTIME_ALARM) &&
	    !cred_capable(&t->cred, CAP_WAKE_ALARM))
		return -EPERM;
	if (clock == CLOCK_MONOTONIC_RAW || clock == CLOCK_REALTIME_COARSE ||
	    clock == CLOCK_MONOTONIC_COARSE)
		return -ENOTSUP;
	switch (ev.notify) {
	case SIGEV_NONE:
		break;
	case SIGEV_SIGNAL:
	case SIGEV_SIGNAL | SIGEV_THREAD_ID:
		if (ev.signo < 1 || ev.signo > BH_NSIG)
			return -EINVAL;
		break;
	default:
		/* SIGEV_THREAD is glibc's, built on SIGEV_THREAD_ID. */
		return -EINVAL;
	}
	if (!a[1])
		ev.value = 0; /* filled with the id below, as Linux does */
	struct ptimer *pt = calloc(1, sizeof(*pt));
	if (!pt)
		return -ENOMEM;
	pt->clock = clock;
	pt->cpu = cpu_clock(clock);
	pt->notify = ev.notify;
	pt->signo = ev.signo;
	pt->value = ev.value;
	pt->tid = ev.tid;
	list_init(&pt->cpu_node);
	ktimer_init(&pt->kt, wall_fire, pt);
	struct process *p = t->proc;
	tasklist_lock_take();
	if (pt->notify == (SIGEV_SIGNAL | SIGEV_THREAD_ID)) {
		struct task *o = kernel_find_task(ev.tid);
		if (!o || o->proc != p) {
			tasklist_unlock();
			free(pt);
			return -EINVAL;
		}
	}
	if (pt->cpu && clock < 0) {
		struct process *tp;
		struct task *tt;
		int which;
		if (cpu_clock_target(t, clock, &tp, &tt, &which) < 0 ||
		    (tp && tp != p)) {
			/* Only timers on the caller's own clocks. */
			tasklist_unlock();
			free(pt);
			return -EINVAL;
		}
		if (tt)
			pt->tid = tt->tid;
	} else if (clock == CLOCK_THREAD_CPUTIME_ID) {
		pt->tid = t->tid;
	}
	int n = 0;
	struct list_head *pos;
	list_for_each(pos, &p->ptimers) n++;
	if (n >= PTIMERS_MAX) {
		tasklist_unlock();
		free(pt);
		return -EAGAIN;
	}
	do {
		pt->id = p->next_timer_id;
		p->next_timer_id = (p->next_timer_id + 1) & INT_MAX;
	} while (ptimer_find(p, pt->id));
	if (!a[1])
		pt->value = (uint64_t)pt->id;
	pt->p = p;
	list_add_tail(&pt->node, &p->ptimers);
	int id = pt->id;
	tasklist_unlock();
	int32_t uid = id;
	if (copy_to_user(t, a[2], &uid, sizeof(uid)) < 0) {
		uint64_t b[6] = {(uint64_t)id};
		sys_timer_delete_id(t, b);
		return -EFAULT;
	}
	return 0;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

static struct timespec ns_ts(uint64_t ns)
{
	return (struct timespec){(time_t)(ns / 1000000000ull),
				 (long)(ns % 1000000000ull)};
}

static uint64_t cpu_now(struct ptimer *pt)
{
	struct cputimes c;
	cputime_process(pt->p, &c);
	int which = pt->clock < 0 ? CPUCLOCK_WHICH(pt->clock) : CPUCLOCK_SCHED;
	return pick(&c, which);
}

/* The current setting (tasklist held). */
static void ptimer_get(struct ptimer *pt, struct itimerspec *cur)
{
	memset(cur, 0, sizeof(*cur));
	cur->it_interval = ns_ts(pt->interval);
	if (!pt->exp)
		return;
	uint64_t now = pt->cpu ? cpu_now(pt) : kernel_now_ns(CLOCK_MONOTONIC);
	/* Due but not yet fired: a tiny remainder, never zero. */
	cur->it_value = ns_ts(pt->exp > now ? pt->exp - now : 1);
}

static long sys_timer_settime(struct task *t, const uint64_t a[6])
{
	int flags = (int)a[1];
	struct itimerspec nv, old;
	if (copy_from_user(t, &nv, a[2], sizeof(nv)) < 0)
		return -EFAULT;
	if (nv.it_value.tv_sec < 0 || nv.it_value.tv_nsec < 0 ||
	    nv.it_value.tv_nsec >= 1000000000L || nv.it_interval.tv_sec < 0 ||
	    nv.it_interval.tv_nsec < 0 || nv.it_interval.tv_nsec >= 1000000000L)
		return -EINVAL;
	struct process *p = t->proc;
	tasklist_lock_take();
	struct ptimer *pt = ptimer_find(p, (int)a[0]);
	if (!pt) {
		tasklist_unlock();
		return -EINVAL;
	}
	ptimer_get(pt, &old);
	uint64_t value = ts_ns(&nv.it_value);
	pt->interval = value ? ts_ns(&nv.it_interval) : 0;
	pt->overrun = 0;
	bool cpu_arm = false;
	if (!value) {
		pt->exp = 0;
		ktimer_cancel(&pt->kt);
		if (pt->cpu) {
			list_del(&pt->cpu_node);
			list_init(&pt->cpu_node);
		}
	} else if (pt->cpu) {
		uint64_t now = cpu_now(pt);
		pt->exp = (flags & TIMER_ABSTIME) ? value : now + value;
		if (!pt->exp)
			pt->exp = 1;
		if (list_empty(&pt->cpu_node))
			list_add_tail(&pt->cpu_node, &p->cpu_timers);
		cpu_arm = true;
	} else if ((flags & TIMER_ABSTIME) &&
		   (pt->clock == CLOCK_REALTIME ||
		    pt->clock == CLOCK_REALTIME_ALARM ||
		    pt->clock == CLOCK_TAI)) {
		uint64_t now_r = kernel_now_ns(CLOCK_REALTIME);
		uint64_t now_m = kernel_now_ns(CLOCK_MONOTONIC);
		pt->exp = value > now_r ? now_m + (value - now_r) : now_m;
		ktimer_arm_realtime(&pt->kt, value);
	} else {
		uint64_t now_m = kernel_now_ns(CLOCK_MONOTONIC);
		if (flags & TIMER_ABSTIME) {
			/* MONOTONIC and BOOTTIME: the same here (the host's
			 * suspend time is not the guest's concern). */
			uint64_t now_c = kernel_now_ns(
			    pt->clock == CLOCK_BOOTTIME_ALARM ? CLOCK_BOOTTIME
							      : pt->clock);
			pt->exp =
			    value > now_c ? now_m + (value - now_c) : now_m;
		} else {
			pt->exp = now_m + value;
		}
		ktimer_arm(&pt->kt, pt->exp);
	}
	tasklist_unlock();
	if (cpu_arm)
		cputime_update(p);
	if (a[3] && copy_to_user(t, a[3], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

static long sys_timer_gettime(struct task *t, const uint64_t a[6])
{
	struct itimerspec cur;
	tasklist_lock_take();
	struct ptimer *pt = ptimer_find(t->proc, (int)a[0]);
	if (pt)
		ptimer_get(pt, &cur);
	tasklist_unlock();
	if (!pt)
		return -EINVAL;
	return copy_to_user(t, a[1], &cur, sizeof(cur));
}

static long sys_timer_getoverrun(struct task *t, const uint64_t a[6])
{
	tasklist_lock_take();
	struct ptimer *pt = ptimer_find(t->proc, (int)a[0]);
	long r = pt ? pt->overrun_last : -EINVAL;
	tasklist_unlock();
	return r;
}

/* Unlink pt (tasklist held); the caller syncs and frees it after. */
static void ptimer_unlink(struct ptimer *pt)
{
	pt->deleted = true;
	list_del(&pt->node);
	if (!list_empty(&pt->cpu_node))
		list_del(&pt->cpu_node);
	if (pt->pending)
		pt->pending->timer = NULL;
	ktimer_cancel(&pt->kt);
}

long sys_timer_delete_id(struct task *t, const uint64_t a[6])
{
	tasklist_lock_take();
	struct ptimer *pt = ptimer_find(t->proc, (int)a[0]);
	if (pt)
		ptimer_unlink(pt);
	tasklist_unlock();
	if (!pt)
		return -EINVAL;
	ktimer_sync(&pt->kt);
	free(pt);
	return 0;
}

void posix_timers_exit(struct process *p)
{
	for (;;) {
		tasklist_lock_take();
		struct ptimer *pt =
		    list_empty(&p->ptimers)
			? NULL
			: list_entry(p->ptimers.next, struct ptimer, node);
		if (pt)
			ptimer_unlink(pt);
		tasklist_unlock();
		if (!pt)
			return;
		ktimer_sync(&pt->kt);
		free(pt);
	}
}

const struct syscall_def sys_timer_defs[] = {
    {__NR_timer_create, "timer_create", sys_timer_create, "dpp", NULL},
    {__NR_timer_settime, "timer_settime", sys_timer_settime, "dxpp", NULL},
    {__NR_timer_gettime, "timer_gettime", sys_timer_gettime, "dp", NULL},
    {__NR_timer_getoverrun, "timer_getoverrun", sys_timer_getoverrun, "d",
     NULL},
    {__NR_timer_delete, "timer_delete", sys_timer_delete_id, "d", NULL},
    {-1, NULL, NULL, NULL, NULL},
};
