/* Clocks, sleeps, interval timers and CPU-time accounting as the guest
 * reads them: clock_gettime and friends, nanosleep/clock_nanosleep,
 * getitimer/setitimer/alarm, times and getrusage. The clocks themselves
 * are in posix_timers.c (kclock_*), CPU time in cputime.c. */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>

#include "sentry/kernel/cputime.h"
#include "sentry/kernel/itimer.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/posix_timers.h"
#include "sentry/kernel/process.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/usercopy.h"
#include "sentry/syscalls/syscalls.h"

#define NSEC	1000000000ull
#define USER_HZ 100

static struct timespec ns_ts(uint64_t ns)
{
	return (struct timespec){(time_t)(ns / NSEC), (long)(ns % NSEC)};
}

static struct timeval ns_tv(uint64_t ns)
{
	return (struct timeval){(time_t)(ns / NSEC),
				(suseconds_t)(ns % NSEC / 1000)};
}

static uint64_t ticks(uint64_t ns)
{
	return ns / (NSEC / USER_HZ);
}

static bool ts_valid(const struct timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < (long)NSEC;
}

/* A timespec's ns, saturating far in the future (a sleep of 2^63 ns is
 * still 292 years). */
static uint64_t ts_ns(const struct timespec *ts)
{
	if ((uint64_t)ts->tv_sec >= INT64_MAX / NSEC)
		return INT64_MAX;
	return (uint64_t)ts->tv_sec * NSEC + (uint64_t)ts->tv_nsec;
}

static long sys_clock_gettime(struct task *t, const uint64_t a[6])
{
	uint64_t ns;
	int r = kclock_gettime(t, (int)a[0], &ns);
	if (r)
		return r;
	struct timespec ts = ns_ts(ns);
	return copy_to_user(t, a[1], &ts, sizeof(ts));
}

static long sys_clock_getres(struct task *t, const uint64_t a[6])
{
	uint64_t ns;
	int r = kclock_getres((int)a[0], &ns);
	if (r)
		return r;
	/* A CPU clock of a process or thread that does not exist is
	 * invalid here too. */
	if ((int)a[0] < 0 && (r = kclock_gettime(t, (int)a[0], &ns)) != 0)
		return r;
	struct timespec ts = ns_ts(ns);
	return a[1] ? copy_to_user(t, a[1], &ts, sizeof(ts)) : 0;
}

static long sys_gettimeofday(struct task *t, const uint64_t a[6])
{
	struct timeval tv = ns_tv(kernel_now_ns(CLOCK_REALTIME));
	if (a[0] && copy_to_user(t, a[0], &tv, sizeof(tv)) < 0)
		return -EFAULT;
	if (a[1]) {
		struct timezone tz = {0, 0};
		if (copy_to_user(t, a[1], &tz, sizeof(tz)) < 0)
			return -EFAULT;
	}
	return 0;
}

static long sys_time(struct task *t, const uint64_t a[6])
{
	time_t now = (time_t)(kernel_now_ns(CLOCK_REALTIME) / NSEC);
	if (a[0] && copy_to_user(t, a[0], &now, sizeof(now)) < 0)
		return -EFAULT;
	return now;
}

/* ---- sleeps ---- */

/* A clock a thread may sleep on: the wall clocks by a monotonic
 * deadline, a process's CPU clock by polling it. */
enum sleep_clock { SC_WALL, SC_CPU, SC_NONE };

static enum sleep_clock sleep_clock_of(clockid_t c)
{
	switch (c) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_BOOTTIME:
	case CLOCK_TAI:
		return SC_WALL;
	case CLOCK_PROCESS_CPUTIME_ID:
		return SC_CPU;
	default:
		/* A process CPU clock from clock_getcpuclockid (a thread's
		 * cannot be slept on: Linux says EINVAL). */
		if (c < 0 && !(c & 4) && (c & 3) != 3)
			return SC_CPU;
		return SC_NONE;
	}
}

/* The longest single wait while polling a CPU clock: its time can run
 * ahead of the wall clock by up to the number of host CPUs, never more. */
#define CPU_POLL_MAX_NS (100ull * 1000000)

/* The sleep itself, resumable by restart_syscall: restart_args hold the
 * clock, the absolute expiry on it, the guest's remainder pointer (0 for
 * an absolute sleep) and the caller's flags. */
static long sleep_resume(struct task *t)
{
	clockid_t clock = (clockid_t)t->restart_args[0];
	uint64_t expiry = t->restart_args[1];
	uint64_t rem_addr = t->restart_args[2];
	enum sleep_clock kind = sleep_clock_of(clock);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 1)
		ncpu = 1;
	for (;;) {
		uint64_t now;
		int r = kclock_gettime(t, clock, &now);
		if (r)
			return r; /* a CPU clock whose process went away */
		if (now >= expiry)
			return 0;
		/* Each pass re-reads the clock, so a step of the wall clock
		 * or CPU time spent elsewhere moves the expiry as Linux's
		 * hrtimers do. */
		uint64_t wait = expiry - now;
		if (kind == SC_CPU) {
			wait /= (uint64_t)ncpu;
			if (wait > CPU_POLL_MAX_NS)
				wait = CPU_POLL_MAX_NS;
			if (wait < 1000000)
				wait = 1000000;
		} else if (clock == CLOCK_REALTIME || clock == CLOCK_TAI) {
			/* The wall clock may be set meanwhile: look again at
			 * least once a second. */
			if (wait > NSEC)
				wait = NSEC;
		}
		uint64_t mono = kernel_now_ns(CLOCK_MONOTONIC);
		uint64_t dl_ns =
		    mono + wait < mono ? UINT64_MAX / 2 : mono + wait;
		struct timespec dl = ns_ts(dl_ns);
		r = task_sleep(t, task_wake_seq(t), &dl, SLEEP_INTR);
		if (r != -EINTR)
			continue;
		if (rem_addr) {
			uint64_t left = 0;
			if (kclock_gettime(t, clock, &now) == 0 && now < expiry)
				left = expiry - now;
			struct timespec rem = ns_ts(left);
			if (copy_to_user(t, rem_addr, &rem, sizeof(rem)) < 0)
				return -EFAULT;
		}
		t->restart_fn = sleep_resume;
		return -ERESTART_RESTARTBLOCK;
	}
}

static long do_nanosleep(struct task *t, clockid_t clock, int flags,
			 uint64_t req, uint64_t rem)
{
	struct timespec ts;
	if (copy_from_user(t, &ts, req, sizeof(ts)) < 0)
		return -EFAULT;
	if (!ts_valid(&ts))
		return -EINVAL;
	uint64_t now;
	int r = kclock_gettime(t, clock, &now);
	if (r)
		return r;
	uint64_t expiry;
	if (flags & TIMER_ABSTIME) {
		expiry = ts_ns(&ts);
		rem = 0; /* absolute sleeps do not report the remainder */
	} else {
		uint64_t d = ts_ns(&ts);
		expiry = now + d < now ? UINT64_MAX : now + d;
	}
	t->restart_args[0] = (uint64_t)(int64_t)clock;
	t->restart_args[1] = expiry;
	t->restart_args[2] = rem;
	t->restart_args[3] = (uint64_t)flags;
	return sleep_resume(t);
}

static long sys_nanosleep(struct task *t, const uint64_t a[6])
{
	return do_nanosleep(t, CLOCK_MONOTONIC, 0, a[0], a[1]);
}

static long sys_clock_nanosleep(struct task *t, const uint64_t a[6])
{
	clockid_t clock = (clockid_t)a[0];
	if (a[1] & ~(uint64_t)TIMER_ABSTIME)
		return -EINVAL;
	switch (sleep_clock_of(clock)) {
	case SC_NONE: {
		uint64_t ns;
		/* Known clocks that cannot sleep (the raw, coarse and alarm
		 * ones) as Linux; unknown ones and thread CPU clocks are
		 * invalid. */
		if (clock >= 0 && kclock_getres(clock, &ns) == 0)
			return -EOPNOTSUPP;
		return -EINVAL;
	}
	case SC_CPU:
	case SC_WALL:
		break;
	}
	return do_nanosleep(t, clock, (int)a[1], a[2], a[3]);
}

/* ---- interval timers ---- */

static bool tv_valid(const struct timeval *tv)
{
	return tv->tv_sec >= 0 && tv->tv_usec >= 0 && tv->tv_usec < 1000000;
}

static long sys_getitimer(struct task *t, const uint64_t a[6])
{
	struct itimerval v;
	int r = itimer_get(t->proc, (int)a[0], &v);
	if (r)
		return r;
	return copy_to_user(t, a[1], &v, sizeof(v));
}

static long sys_setitimer(struct task *t, const uint64_t a[6])
{
	int which = (int)a[0];
	if (which < ITIMER_REAL || which > ITIMER_PROF)
		return -EINVAL;
	/* A NULL new value disarms, as Linux still allows. */
	struct itimerval n, old;
	memset(&n, 0, sizeof(n));
	if (a[1]) {
		if (copy_from_user(t, &n, a[1], sizeof(n)) < 0)
			return -EFAULT;
		if (!tv_valid(&n.it_value) || !tv_valid(&n.it_interval))
			return -EINVAL;
	}
	int r = itimer_set(t->proc, which, &n, &old);
	if (r)
		return r;
	if (a[2] && copy_to_user(t, a[2], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

static long sys_alarm(struct task *t, const uint64_t a[6])
{
	unsigned secs = (unsigned)a[0];
	if (secs > INT_MAX)
		secs = INT_MAX; /* as Linux: a timeval cannot hold more */
	struct itimerval n = {{0, 0}, {(time_t)secs, 0}}, old;
	int r = itimer_set(t->proc, ITIMER_REAL, &n, &old);
	if (r)
		return r;
	long left = old.it_value.tv_sec;
	/* Round to the nearest second, and never report 0 for a timer
	 * that is still pending. */
	if (old.it_value.tv_usec >= 500000 ||
	    (left == 0 && old.it_value.tv_usec > 0))
		left++;
	return left;
}

/* ---- accounting ---- */

static void self_times(struct task *t, struct cputimes *self,
		       struct cputimes *children)
{
	tasklist_lock_take();
	cputime_process(t->proc, self);
	children->utime = t->proc->cutime_ns;
	children->stime = t->proc->cstime_ns;
	tasklist_unlock();
}

static long sys_times(struct task *t, const uint64_t a[6])
{
	struct cputimes self, ch;
	self_times(t, &self, &ch);
	struct tms tm = {
	    .tms_utime = (clock_t)ticks(self.utime),
	    .tms_stime = (clock_t)ticks(self.stime),
	    .tms_cutime = (clock_t)ticks(ch.utime),
	    .tms_cstime = (clock_t)ticks(ch.stime),
	};
	if (a[0] && copy_to_user(t, a[0], &tm, sizeof(tm)) < 0)
		return -EFAULT;
	/* Clock ticks since boot, the guest's boot. */
	return (long)ticks(kernel_now_ns(CLOCK_MONOTONIC) - kernel.boot_ns);
}

static long sys_getrusage(struct task *t, const uint64_t a[6])
{
	int who = (int)a[0];
	struct cputimes self, ch, use;
	switch (who) {
	case RUSAGE_SELF:
	case RUSAGE_CHILDREN:
		self_times(t, &self, &ch);
		use = who == RUSAGE_SELF ? self : ch;
		break;
	case RUSAGE_THREAD:
		/* The stub thread's clock does not split user from system
		 * time: all of it is reported as user time. */
		use.utime = cputime_thread(t);
		use.stime = 0;
		break;
	default:
		return -EINVAL;
	}
	/* Memory and I/O counters are the stub's, which the sentry cannot
	 * see apart from the host's; they stay zero. */
	struct rusage ru;
	memset(&ru, 0, sizeof(ru));
	ru.ru_utime = ns_tv(use.utime);
	ru.ru_stime = ns_tv(use.stime);
	return copy_to_user(t, a[1], &ru, sizeof(ru));
}

const struct syscall_def sys_time_defs[] = {
    {__NR_clock_gettime, "clock_gettime", sys_clock_gettime, "dp", NULL},
    {__NR_clock_getres, "clock_getres", sys_clock_getres, "dp", NULL},
    {__NR_gettimeofday, "gettimeofday", sys_gettimeofday, "pp", NULL},
    {__NR_time, "time", sys_time, "p", NULL},
    {__NR_nanosleep, "nanosleep", sys_nanosleep, "pp", NULL},
    {__NR_clock_nanosleep, "clock_nanosleep", sys_clock_nanosleep, "dxpp",
     NULL},
    {__NR_getitimer, "getitimer", sys_getitimer, "dp", NULL},
    {__NR_setitimer, "setitimer", sys_setitimer, "dpp", NULL},
    {__NR_alarm, "alarm", sys_alarm, "u", NULL},
    {__NR_times, "times", sys_times, "p", NULL},
    {__NR_getrusage, "getrusage", sys_getrusage, "dp", NULL},
    {-1, NULL, NULL, NULL, NULL},
};
