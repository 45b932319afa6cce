#include "sentry/kernel/cputime.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "sentry/kernel/posix_timers.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"

/* The kernel's encoding of a process's CPU clock (posix-cpu-timers). */
#define CPUCLOCK_PROF 0
#define CPUCLOCK_VIRT 1
#define MAKE_PROCESS_CPUCLOCK(pid, clock)                                      \
	((clockid_t)((~(unsigned)(pid) << 3) | (unsigned)(clock)))

#define CPU_CHECK_MIN_NS 1000000ull /* the sampler's finest step: 1 ms */

static int host_ncpu(void)
{
	static int n;
	if (!n) {
		cpu_set_t set;
		n = sched_getaffinity(0, sizeof(set), &set) == 0
			? CPU_COUNT(&set)
			: 1;
		if (n < 1)
			n = 1;
	}
	return n;
}

static uint64_t ts_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

/* A host thread of p's stub process (tasklist held), or 0. */
static pid_t process_host_pid(struct process *p)
{
	struct list_head *pos;
	list_for_each(pos, &p->threads)
	{
		struct task *t = list_entry(pos, struct task, thread_node);
		if (t->pt)
			return platform->host_pid(t->pt);
	}
	return 0;
}

void cputime_process(struct process *p, struct cputimes *out)
{
	if (p->have_final) {
		*out = p->final_times;
		return;
	}
	memset(out, 0, sizeof(*out));
	pid_t hp = process_host_pid(p);
	struct timespec prof, virt;
	if (hp <= 0 ||
	    clock_gettime(MAKE_PROCESS_CPUCLOCK(hp, CPUCLOCK_PROF), &prof) ||
	    clock_gettime(MAKE_PROCESS_CPUCLOCK(hp, CPUCLOCK_VIRT), &virt))
		return;
	out->utime = ts_ns(&virt);
	uint64_t total = ts_ns(&prof);
	out->stime = total > out->utime ? total - out->utime : 0;
}

void cputime_final(struct process *p)
{
	struct cputimes c;
	cputime_process(p, &c);
	p->final_times = c;
	p->have_final = true;
}

int cputime_thread_self(struct task *t, uint64_t *ns)
{
	if (!platform->thread_cputime || !t->pt)
		return -ENOSYS;
	int r = platform->thread_cputime(t->pt, ns);
	if (r == 0)
		atomic_store(&t->cpu_sample, *ns);
	return r;
}

uint64_t cputime_thread(struct task *t)
{
	uint64_t ns;
	if (t == current && cputime_thread_self(t, &ns) == 0)
		return ns;
	return atomic_load(&t->cpu_sample);
}

/* One CPU interval timer: fire when the clock passed its expiry; returns
 * the CPU ns until the next one (UINT64_MAX: none). */
static uint64_t itv_check(struct process *p, uint64_t now, uint64_t *exp,
			  uint64_t iv, int sig)
{
	if (!*exp)
		return UINT64_MAX;
	if (now >= *exp) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		si.si_signo = sig;
		si.si_code = SI_KERNEL;
		signal_send_process_locked(p, sig, &si);
		*exp = iv ? *exp + ((now - *exp) / iv + 1) * iv : 0;
		if (!*exp)
			return UINT64_MAX;
	}
	return *exp - now;
}

static uint64_t rlimit_check(struct process *p, uint64_t prof)
{
	rlim_t soft = process_rlimit(p, RLIMIT_CPU);
	rlim_t hard =
	    __atomic_load_n(&p->rlimits[RLIMIT_CPU].rlim_max, __ATOMIC_RELAXED);
	uint64_t wait = UINT64_MAX;
	if (hard != RLIM_INFINITY) {
		uint64_t hard_ns = (uint64_t)hard * 1000000000ull;
		if (prof >= hard_ns) {
			signal_send_process_locked(p, SIGKILL, NULL);
			return UINT64_MAX;
		}
		wait = hard_ns - prof;
	}
	if (soft == RLIM_INFINITY)
		return wait;
	uint64_t at = (uint64_t)soft * 1000000000ull;
	if (p->rlim_cpu_next > at)
		at = p->rlim_cpu_next;
	if (prof >= at) {
		/* SIGXCPU, then again each second until the hard limit. */
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		si.si_signo = SIGXCPU;
		si.si_code = SI_KERNEL;
		signal_send_process_locked(p, SIGXCPU, &si);
		p->rlim_cpu_next = prof + 1000000000ull;
		at = p->rlim_cpu_next;
	}
	return at - prof < wait ? at - prof : wait;
}

/* The sampler: fire what is due, then sleep until the earliest CPU time
 * at which something else could be due (CPU time runs at most as fast as
 * the host's CPUs together). */
static void cpu_check(struct ktimer *kt)
{
	struct process *p = kt->priv;
	tasklist_lock_take();
	if (p->state != PROC_ALIVE || p->group_exiting) {
		tasklist_unlock();
		return;
	}
	struct cputimes c;
	cputime_process(p, &c);
	uint64_t prof = c.utime + c.stime;
	uint64_t wait =
	    itv_check(p, c.utime, &p->itv_virt_exp, p->itv_virt_iv, SIGVTALRM);
	uint64_t w =
	    itv_check(p, prof, &p->itv_prof_exp, p->itv_prof_iv, SIGPROF);
	if (w < wait)
		wait = w;
	w = rlimit_check(p, prof);
	if (w < wait)
		wait = w;
	w = posix_timers_cpu_check(p, &c);
	if (w < wait)
		wait = w;
	if (wait != UINT64_MAX) {
		uint64_t step = wait / (uint64_t)host_ncpu();
		if (step < CPU_CHECK_MIN_NS)
			step = CPU_CHECK_MIN_NS;
		ktimer_arm(kt, kernel_now_ns(CLOCK_MONOTONIC) + step);
	}
	tasklist_unlock();
}

void cputime_init(struct process *p)
{
	ktimer_init(&p->cpu_timer, cpu_check, p);
}

void cputime_update(struct process *p)
{
	tasklist_lock_take();
	if (p->state == PROC_ALIVE)
		ktimer_arm(&p->cpu_timer, kernel_now_ns(CLOCK_MONOTONIC));
	tasklist_unlock();
}

void cputime_exit(struct process *p)
{
	tasklist_lock_take();
	p->itv_virt_exp = p->itv_prof_exp = 0;
	tasklist_unlock();
	ktimer_cancel(&p->cpu_timer);
	ktimer_sync(&p->cpu_timer);
	posix_timers_exit(p);
}

void cputime_itimer_get(struct process *p, int which, uint64_t *value,
			uint64_t *interval)
{
	tasklist_lock_take();
	struct cputimes c;
	cputime_process(p, &c);
	uint64_t now = which == ITIMER_VIRTUAL ? c.utime : c.utime + c.stime;
	uint64_t exp =
	    which == ITIMER_VIRTUAL ? p->itv_virt_exp : p->itv_prof_exp;
	*interval = which == ITIMER_VIRTUAL ? p->itv_virt_iv : p->itv_prof_iv;
	/* Due but not yet fired: a tiny remainder, never zero. */
	*value = !exp ? 0 : exp > now ? exp - now : 1000;
	tasklist_unlock();
}

int cputime_itimer_set(struct process *p, int which, uint64_t value,
		       uint64_t interval)
{
	tasklist_lock_take();
	struct cputimes c;
	cputime_process(p, &c);
	uint64_t now = which == ITIMER_VIRTUAL ? c.utime : c.utime + c.stime;
	uint64_t exp = value ? now + value : 0;
	if (which == ITIMER_VIRTUAL) {
		p->itv_virt_exp = exp;
		p->itv_virt_iv = interval;
	} else {
		p->itv_prof_exp = exp;
		p->itv_prof_iv = interval;
	}
	tasklist_unlock();
	if (exp)
		cputime_update(p);
	return 0;
}
