/* Time, identity of the machine, limits and the small per-thread knobs. */
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "sentry/kernel/futex.h"
#include "sentry/kernel/timer.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/usercopy.h"
#include "sentry/syscalls/syscalls.h"

#define BH_UNAME_RELEASE "6.1.0-bulkhead"
#define BH_UNAME_VERSION "#1 SMP Bulkhead"

static long sys_uname(struct task *t, const uint64_t a[6])
{
	(void)t;
	struct utsname u;
	memset(&u, 0, sizeof(u));
	strcpy(u.sysname, "Linux");
	snprintf(u.nodename, sizeof(u.nodename), "%s", kernel.hostname);
	strcpy(u.release, BH_UNAME_RELEASE);
	strcpy(u.version, BH_UNAME_VERSION);
	strcpy(u.machine, "x86_64");
	snprintf(u.domainname, sizeof(u.domainname), "%s",
		 kernel.domainname[0] ? kernel.domainname : "(none)");
	return copy_to_user(t, a[0], &u, sizeof(u));
}

static long set_name(struct task *t, char *dst, uint64_t src, uint64_t len)
{
	if (!cred_capable(&t->proc->cred, CAP_SYS_ADMIN))
		return -EPERM;
	if (len > 64)
		return -EINVAL;
	char buf[65];
	if (copy_from_user(t, buf, src, len) < 0)
		return -EFAULT;
	buf[len] = 0;
	memcpy(dst, buf, len + 1);
	return 0;
}

static long sys_sethostname(struct task *t, const uint64_t a[6])
{
	return set_name(t, kernel.hostname, a[0], a[1]);
}

static long sys_setdomainname(struct task *t, const uint64_t a[6])
{
	return set_name(t, kernel.domainname, a[0], a[1]);
}

static bool clock_valid(int id)
{
	switch (id) {
	case CLOCK_REALTIME:
	case CLOCK_MONOTONIC:
	case CLOCK_PROCESS_CPUTIME_ID:
	case CLOCK_THREAD_CPUTIME_ID:
	case CLOCK_MONOTONIC_RAW:
	case CLOCK_REALTIME_COARSE:
	case CLOCK_MONOTONIC_COARSE:
	case CLOCK_BOOTTIME:
		return true;
	default:
		return false;
	}
}

static long sys_clock_gettime(struct task *t, const uint64_t a[6])
{
	int id = (int)a[0];
	if (!clock_valid(id))
		return -EINVAL;
	struct timespec ts;
	if (id == CLOCK_PROCESS_CPUTIME_ID || id == CLOCK_THREAD_CPUTIME_ID) {
		/* The guest's CPU time is not separable from the stub's
		 * here; time since the process started is an upper bound. */
		uint64_t ns =
		    kernel_now_ns(CLOCK_MONOTONIC) - t->proc->start_ns;
		ts.tv_sec = (time_t)(ns / 1000000000ull);
		ts.tv_nsec = (long)(ns % 1000000000ull);
	} else {
		clock_gettime(id, &ts);
	}
	return copy_to_user(t, a[1], &ts, sizeof(ts));
}

static long sys_clock_getres(struct task *t, const uint64_t a[6])
{
	if (!clock_valid((int)a[0]))
		return -EINVAL;
	struct timespec ts = {0, 1};
	if (a[0] == CLOCK_REALTIME_COARSE || a[0] == CLOCK_MONOTONIC_COARSE)
		ts.tv_nsec = 4000000;
	return a[1] ? copy_to_user(t, a[1], &ts, sizeof(ts)) : 0;
}

static long sys_gettimeofday(struct task *t, const uint64_t a[6])
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
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
	time_t now = time(NULL);
	if (a[0] && copy_to_user(t, a[0], &now, sizeof(now)) < 0)
		return -EFAULT;
	return now;
}

static void ts_add(struct timespec *a, const struct timespec *b)
{
	a->tv_sec += b->tv_sec;
	a->tv_nsec += b->tv_nsec;
	if (a->tv_nsec >= 1000000000L) {
		a->tv_nsec -= 1000000000L;
		a->tv_sec++;
	}
}

/* Sleep until an absolute CLOCK_MONOTONIC deadline held in the task's
 * restart block, so that restart_syscall resumes the same sleep. */
static long sleep_until_deadline(struct task *t)
{
	struct timespec dl = {(time_t)t->restart_args[0],
			      (long)t->restart_args[1]};
	uint64_t rem_addr = t->restart_args[2];
	for (;;) {
		int r = task_sleep(t, task_wake_seq(t), &dl, SLEEP_INTR);
		if (r == -ETIMEDOUT)
			return 0;
		if (r == -EINTR) {
			if (rem_addr) {
				struct timespec now, rem;
				clock_gettime(CLOCK_MONOTONIC, &now);
				rem.tv_sec = dl.tv_sec - now.tv_sec;
				rem.tv_nsec = dl.tv_nsec - now.tv_nsec;
				if (rem.tv_nsec < 0) {
					rem.tv_nsec += 1000000000L;
					rem.tv_sec--;
				}
				if (rem.tv_sec < 0)
					rem.tv_sec = rem.tv_nsec = 0;
				if (copy_to_user(t, rem_addr, &rem,
						 sizeof(rem)) < 0)
					return -EFAULT;
			}
			t->restart_fn = sleep_until_deadline;
			return -ERESTART_RESTARTBLOCK;
		}
	}
}

static long do_nanosleep(struct task *t, int clock, int flags, uint64_t req,
			 uint64_t rem)
{
	struct timespec ts;
	if (copy_from_user(t, &ts, req, sizeof(ts)) < 0)
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
		return -EINVAL;
	struct timespec dl;
	clock_gettime(CLOCK_MONOTONIC, &dl);
	if (flags & TIMER_ABSTIME) {
		/* Convert the absolute time on clock to a monotonic one. */
		struct timespec now;
		clock_gettime(clock, &now);
		int64_t d = (ts.tv_sec - now.tv_sec) * 1000000000LL +
			    (ts.tv_nsec - now.tv_nsec);
		if (d <= 0)
			return 0;
		struct timespec rel = {d / 1000000000LL, d % 1000000000LL};
		ts_add(&dl, &rel);
		rem = 0; /* absolute sleeps do not report the remainder */
	} else {
		ts_add(&dl, &ts);
	}
	t->restart_args[0] = (uint64_t)dl.tv_sec;
	t->restart_args[1] = (uint64_t)dl.tv_nsec;
	t->restart_args[2] = rem;
	return sleep_until_deadline(t);
}

static long sys_nanosleep(struct task *t, const uint64_t a[6])
{
	return do_nanosleep(t, CLOCK_MONOTONIC, 0, a[0], a[1]);
}

static long sys_clock_nanosleep(struct task *t, const uint64_t a[6])
{
	int clock = (int)a[0];
	if (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC &&
	    clock != CLOCK_BOOTTIME)
		return clock_valid(clock) ? -ENOTSUP : -EINVAL;
	if (a[1] & ~(uint64_t)TIMER_ABSTIME)
		return -EINVAL;
	return do_nanosleep(t, clock, (int)a[1], a[2], a[3]);
}

static long sys_getrandom(struct task *t, const uint64_t a[6])
{
	if (a[2] & ~(uint64_t)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	size_t len = a[1] > (1u << 25) ? (1u << 25) : a[1];
	char buf[4096];
	size_t done = 0;
	while (done < len) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		ssize_t g = getrandom(buf, n, 0);
		if (g <= 0)
			break;
		ssize_t c =
		    copy_to_user_partial(t, a[0] + done, buf, (size_t)g);
		if (c < 0)
			return done ? (long)done : -EFAULT;
		done += (size_t)c;
		if ((size_t)c < (size_t)g)
			break;
	}
	return (long)done;
}

static long sys_sysinfo(struct task *t, const uint64_t a[6])
{
	struct sysinfo si;
	sysinfo(&si);
	si.uptime = (long)((kernel_now_ns(CLOCK_MONOTONIC) - kernel.boot_ns) /
			   1000000000ull);
	si.procs = (unsigned short)kernel.nprocs;
	return copy_to_user(t, a[0], &si, sizeof(si));
}

static long sys_prlimit64(struct task *t, const uint64_t a[6])
{
	int pid = (int)a[0];
	unsigned res = (unsigned)a[1];
	if (res >= RLIM_NLIMITS)
		return -EINVAL;
	struct process *p = pid ? kernel_find_process(pid) : t->proc;
	if (!p || p->state != PROC_ALIVE)
		return -ESRCH;
	struct rlimit old = p->rlimits[res];
	if (a[2]) {
		struct rlimit n;
		if (copy_from_user(t, &n, a[2], sizeof(n)) < 0)
			return -EFAULT;
		if (n.rlim_cur > n.rlim_max)
			return -EINVAL;
		if (n.rlim_max > old.rlim_max &&
		    !cred_capable(&t->proc->cred, CAP_SYS_RESOURCE))
			return -EPERM;
		if (res == RLIMIT_NOFILE && n.rlim_max > 1048576)
			return -EPERM; /* like nr_open */
		p->rlimits[res] = n;
	}
	if (a[3] && copy_to_user(t, a[3], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

static long sys_getrlimit(struct task *t, const uint64_t a[6])
{
	uint64_t b[6] = {0, a[0], 0, a[1], 0, 0};
	return sys_prlimit64(t, b);
}

static long sys_setrlimit(struct task *t, const uint64_t a[6])
{
	uint64_t b[6] = {0, a[0], a[1], 0, 0, 0};
	return sys_prlimit64(t, b);
}

static long sys_getrusage(struct task *t, const uint64_t a[6])
{
	int who = (int)a[0];
	if (who != RUSAGE_SELF && who != RUSAGE_CHILDREN &&
	    who != RUSAGE_THREAD)
		return -EINVAL;
	struct rusage ru;
	memset(&ru, 0, sizeof(ru));
	return copy_to_user(t, a[1], &ru, sizeof(ru));
}

static long sys_times(struct task *t, const uint64_t a[6])
{
	struct tms tm;
	memset(&tm, 0, sizeof(tm));
	if (a[0] && copy_to_user(t, a[0], &tm, sizeof(tm)) < 0)
		return -EFAULT;
	return (long)(kernel_now_ns(CLOCK_MONOTONIC) / 10000000ull);
}

static long sys_arch_prctl(struct task *t, const uint64_t a[6])
{
	switch ((int)a[0]) {
	case 0x1002: /* ARCH_SET_FS */
		if (a[1] >= 0x800000000000ULL)
			return -EPERM;
		t->regs.fs_base = a[1];
		return 0;
	case 0x1003: /* ARCH_GET_FS */
		return copy_to_user(t, a[1], &t->regs.fs_base, 8);
	case 0x1001: /* ARCH_SET_GS */
		if (a[1] >= 0x800000000000ULL)
			return -EPERM;
		t->regs.gs_base = a[1];
		return 0;
	case 0x1004: /* ARCH_GET_GS */
		return copy_to_user(t, a[1], &t->regs.gs_base, 8);
	default:
		return -EINVAL;
	}
}

static long sys_set_tid_address(struct task *t, const uint64_t a[6])
{
	t->clear_child_tid = a[0];
	return t->tid;
}

static long sys_set_robust_list(struct task *t, const uint64_t a[6])
{
	if (a[1] != 24)
		return -EINVAL;
	t->robust_list = a[0];
	t->robust_len = a[1];
	return 0;
}

static long sys_get_robust_list(struct task *t, const uint64_t a[6])
{
	struct task *o = a[0] ? kernel_find_task((int)a[0]) : t;
	if (!o)
		return -ESRCH;
	uint64_t len = 24;
	if (copy_to_user(t, a[1], &o->robust_list, 8) < 0 ||
	    copy_to_user(t, a[2], &len, 8) < 0)
		return -EFAULT;
	return 0;
}

static long sys_enosys(struct task *t, const uint64_t a[6])
{
	(void)t;
	(void)a;
	return -ENOSYS;
}

static long sys_sched_yield(struct task *t, const uint64_t a[6])
{
	(void)t;
	(void)a;
	kunlock();
	sched_yield();
	klock();
	return 0;
}

static long sys_sched_getaffinity(struct task *t, const uint64_t a[6])
{
	size_t len = a[1];
	if (len < 8 || (len & 7))
		return -EINVAL;
	cpu_set_t set;
	CPU_ZERO(&set);
	sched_getaffinity(0, sizeof(set), &set);
	size_t n = len < sizeof(set) ? len : sizeof(set);
	if (copy_to_user(t, a[2], &set, n) < 0)
		return -EFAULT;
	return (long)n;
}

static long sys_zero(struct task *t, const uint64_t a[6])
{
	(void)t;
	(void)a;
	return 0;
}

static long sys_getcpu(struct task *t, const uint64_t a[6])
{
	unsigned zero = 0;
	if (a[0] && copy_to_user(t, a[0], &zero, 4) < 0)
		return -EFAULT;
	if (a[1] && copy_to_user(t, a[1], &zero, 4) < 0)
		return -EFAULT;
	return 0;
}

static long sys_personality(struct task *t, const uint64_t a[6])
{
	(void)t;
	/* Only the default personality; a query returns it. */
	if ((uint32_t)a[0] == 0xffffffffu || a[0] == 0)
		return 0;
	return -EINVAL;
}

static long sys_prctl(struct task *t, const uint64_t a[6])
{
	switch ((int)a[0]) {
	case PR_SET_NAME: {
		char name[16];
		long n = strncpy_from_user(t, name, a[1], sizeof(name));
		if (n == -EFAULT)
			return -EFAULT;
		name[15] = 0;
		memcpy(t->proc->comm, name, sizeof(name));
		return 0;
	}
	case PR_GET_NAME:
		return copy_to_user(t, a[1], t->proc->comm, 16);
	case PR_SET_PDEATHSIG:
	case PR_SET_DUMPABLE:
	case PR_SET_NO_NEW_PRIVS:
	case PR_SET_CHILD_SUBREAPER:
		return 0;
	case PR_GET_DUMPABLE:
		return 1;
	case PR_GET_NO_NEW_PRIVS:
		return 0;
	case PR_CAPBSET_READ:
		if (a[1] > CAP_LAST_CAP)
			return -EINVAL;
		return (t->proc->cred.cap_bnd >> a[1]) & 1;
	case PR_CAPBSET_DROP:
		if (a[1] > CAP_LAST_CAP)
			return -EINVAL;
		if (!cred_capable(&t->proc->cred, CAP_SETPCAP))
			return -EPERM;
		t->proc->cred.cap_bnd &= ~(1ull << a[1]);
		return 0;
	default:
		return -EINVAL;
	}
}

static long sys_capget(struct task *t, const uint64_t a[6])
{
	struct __user_cap_header_struct h;
	if (copy_from_user(t, &h, a[0], sizeof(h)) < 0)
		return -EFAULT;
	if (h.version != _LINUX_CAPABILITY_VERSION_3 &&
	    h.version != _LINUX_CAPABILITY_VERSION_2) {
		h.version = _LINUX_CAPABILITY_VERSION_3;
		if (copy_to_user(t, a[0], &h, sizeof(h)) < 0)
			return -EFAULT;
		return a[1] ? -EINVAL : 0;
	}
	if (h.pid < 0)
		return -EINVAL;
	struct process *p = h.pid ? kernel_find_process(h.pid) : t->proc;
	if (!p)
		return -ESRCH;
	if (!a[1])
		return 0;
	const struct cred *c = &p->cred;
	struct __user_cap_data_struct d[2] = {
	    {(uint32_t)c->cap_eff, (uint32_t)c->cap_prm, (uint32_t)c->cap_inh},
	    {(uint32_t)(c->cap_eff >> 32), (uint32_t)(c->cap_prm >> 32),
	     (uint32_t)(c->cap_inh >> 32)}};
	return copy_to_user(t, a[1], d, sizeof(d));
}

/* capset: only the caller's own sets, never beyond what it holds (as
 * Linux's cap_capset without CAP_SETPCAP tricks). */
static long sys_capset(struct task *t, const uint64_t a[6])
{
	struct __user_cap_header_struct h;
	if (copy_from_user(t, &h, a[0], sizeof(h)) < 0)
		return -EFAULT;
	if (h.version != _LINUX_CAPABILITY_VERSION_3 &&
	    h.version != _LINUX_CAPABILITY_VERSION_2)
		return -EINVAL;
	if (h.pid != 0 && h.pid != t->proc->pid)
		return -EPERM;
	struct __user_cap_data_struct d[2];
	if (copy_from_user(t, d, a[1], sizeof(d)) < 0)
		return -EFAULT;
	uint64_t eff = d[0].effective | (uint64_t)d[1].effective << 32;
	uint64_t prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	uint64_t inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	struct cred *c = &t->proc->cred;
	if (prm & ~c->cap_prm)
		return -EPERM;
	if (eff & ~prm)
		return -EPERM;
	if (inh & ~(c->cap_inh | (c->cap_prm & c->cap_bnd)))
		return -EPERM;
	c->cap_eff = eff;
	c->cap_prm = prm;
	c->cap_inh = inh;
	return 0;
}

static uint64_t tv_ns(const struct timeval *tv)
{
	return (uint64_t)tv->tv_sec * 1000000000ull +
	       (uint64_t)tv->tv_usec * 1000ull;
}

static struct timeval ns_tv(uint64_t ns)
{
	struct timeval tv = {(time_t)(ns / 1000000000ull),
			     (suseconds_t)((ns % 1000000000ull) / 1000)};
	return tv;
}

static struct itimerval itimer_get(struct process *p)
{
	struct itimerval v;
	memset(&v, 0, sizeof(v));
	if (p->itimer_real_next) {
		uint64_t now = kernel_now_ns(CLOCK_MONOTONIC);
		uint64_t left = p->itimer_real_next > now
				    ? p->itimer_real_next - now
				    : 1000; /* due: report a tiny remainder */
		v.it_value = ns_tv(left);
		v.it_interval = ns_tv(p->itimer_real_interval);
	}
	return v;
}

static long sys_getitimer(struct task *t, const uint64_t a[6])
{
	int which = (int)a[0];
	if (which < ITIMER_REAL || which > ITIMER_PROF)
		return -EINVAL;
	struct itimerval v;
	memset(&v, 0, sizeof(v));
	if (which == ITIMER_REAL)
		v = itimer_get(t->proc);
	return copy_to_user(t, a[1], &v, sizeof(v));
}

static long sys_setitimer(struct task *t, const uint64_t a[6])
{
	int which = (int)a[0];
	if (which < ITIMER_REAL || which > ITIMER_PROF)
		return -EINVAL;
	/* CPU-time timers would need the stub's CPU accounting. */
	if (which != ITIMER_REAL)
		return -ENOSYS;
	struct itimerval n, old = itimer_get(t->proc);
	if (a[1]) {
		if (copy_from_user(t, &n, a[1], sizeof(n)) < 0)
			return -EFAULT;
		if (n.it_value.tv_sec < 0 || n.it_value.tv_usec < 0 ||
		    n.it_value.tv_usec >= 1000000 || n.it_interval.tv_sec < 0 ||
		    n.it_interval.tv_usec < 0 ||
		    n.it_interval.tv_usec >= 1000000)
			return -EINVAL;
		uint64_t v = tv_ns(&n.it_value);
		timer_set_real(t->proc,
			       v ? kernel_now_ns(CLOCK_MONOTONIC) + v : 0,
			       tv_ns(&n.it_interval));
	}
	if (a[2] && copy_to_user(t, a[2], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

static long sys_alarm(struct task *t, const uint64_t a[6])
{
	struct itimerval old = itimer_get(t->proc);
	unsigned secs = (unsigned)a[0];
	timer_set_real(t->proc,
		       secs ? kernel_now_ns(CLOCK_MONOTONIC) +
				  (uint64_t)secs * 1000000000ull
			    : 0,
		       0);
	long left = old.it_value.tv_sec;
	if (old.it_value.tv_usec >= 500000 ||
	    (left == 0 && old.it_value.tv_usec > 0))
		left++;
	return left;
}

static long sys_getpriority(struct task *t, const uint64_t a[6])
{
	(void)t;
	(void)a;
	return 20; /* nice 0, in the syscall's 40-nice encoding */
}

const struct syscall_def sys_misc_defs[] = {
    {__NR_uname, "uname", sys_uname, "p"},
    {__NR_sethostname, "sethostname", sys_sethostname, "bu"},
    {__NR_setdomainname, "setdomainname", sys_setdomainname, "bu"},
    {__NR_clock_gettime, "clock_gettime", sys_clock_gettime, "dp"},
    {__NR_clock_getres, "clock_getres", sys_clock_getres, "dp"},
    {__NR_gettimeofday, "gettimeofday", sys_gettimeofday, "pp"},
    {__NR_time, "time", sys_time, "p"},
    {__NR_nanosleep, "nanosleep", sys_nanosleep, "pp"},
    {__NR_clock_nanosleep, "clock_nanosleep", sys_clock_nanosleep, "dxpp"},
    {__NR_getrandom, "getrandom", sys_getrandom, "pux"},
    {__NR_sysinfo, "sysinfo", sys_sysinfo, "p"},
    {__NR_prlimit64, "prlimit64", sys_prlimit64, "ddpp"},
    {__NR_getrlimit, "getrlimit", sys_getrlimit, "dp"},
    {__NR_setrlimit, "setrlimit", sys_setrlimit, "dp"},
    {__NR_getrusage, "getrusage", sys_getrusage, "dp"},
    {__NR_times, "times", sys_times, "p"},
    {__NR_arch_prctl, "arch_prctl", sys_arch_prctl, "xx"},
    {__NR_set_tid_address, "set_tid_address", sys_set_tid_address, "p"},
    {__NR_set_robust_list, "set_robust_list", sys_set_robust_list, "pu"},
    {__NR_get_robust_list, "get_robust_list", sys_get_robust_list, "dpp"},
    {__NR_rseq, "rseq", sys_enosys, "pudx"},
    {__NR_futex, "futex", sys_futex, "pxupxx"},
    {__NR_sched_yield, "sched_yield", sys_sched_yield, ""},
    {__NR_sched_getaffinity, "sched_getaffinity", sys_sched_getaffinity, "dup"},
    {__NR_sched_setaffinity, "sched_setaffinity", sys_zero, "dup"},
    {__NR_getcpu, "getcpu", sys_getcpu, "ppp"},
    {__NR_personality, "personality", sys_personality, "x"},
    {__NR_prctl, "prctl", sys_prctl, "dxxxx"},
    {__NR_capget, "capget", sys_capget, "pp"},
    {__NR_capset, "capset", sys_capset, "pp"},
    {__NR_getpriority, "getpriority", sys_getpriority, "dd"},
    {__NR_getitimer, "getitimer", sys_getitimer, "dp"},
    {__NR_setitimer, "setitimer", sys_setitimer, "dpp"},
    {__NR_alarm, "alarm", sys_alarm, "u"},
    {__NR_setpriority, "setpriority", sys_zero, "ddd"},
    {__NR_membarrier, "membarrier", sys_enosys, "xx"},
    {-1, NULL, NULL, NULL},
};
