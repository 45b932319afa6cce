#include "sentry/kernel/itimer.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "sentry/kernel/cputime.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"

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

static void real_fire(struct ktimer *kt)
{
	struct process *p = kt->priv;
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGALRM;
	si.si_code = SI_KERNEL; /* as Linux sends an itimer's SIGALRM */
	tasklist_lock_take();
	if (p->state == PROC_ALIVE)
		signal_send_process_locked(p, SIGALRM, &si);
	uint64_t next = 0;
	if (p->itimer_real_interval && p->itimer_real_next) {
		/* Missed periods are skipped, as hrtimer_forward does. */
		uint64_t iv = p->itimer_real_interval;
		uint64_t now = kernel_now_ns(CLOCK_MONOTONIC);
		uint64_t late =
		    now > p->itimer_real_next ? now - p->itimer_real_next : 0;
		next = p->itimer_real_next + (late / iv + 1) * iv;
	}
	p->itimer_real_next = next;
	/* Re-armed under tasklist, as setitimer arms it: a concurrent
	 * setitimer's value is never overwritten by this old one. */
	if (next)
		ktimer_arm(kt, next);
	tasklist_unlock();
}

void itimer_init(struct process *p)
{
	ktimer_init(&p->itimer_real, real_fire, p);
}

void itimer_exit(struct process *p)
{
	tasklist_lock_take();
	p->itimer_real_interval = 0;
	p->itimer_real_next = 0;
	tasklist_unlock();
	ktimer_cancel(&p->itimer_real);
	ktimer_sync(&p->itimer_real);
	cputime_exit(p);
}

int itimer_get(struct process *p, int which, struct itimerval *out)
{
	memset(out, 0, sizeof(*out));
	if (which == ITIMER_VIRTUAL || which == ITIMER_PROF) {
		uint64_t value, interval;
		cputime_itimer_get(p, which, &value, &interval);
		out->it_value = ns_tv(value);
		out->it_interval = ns_tv(interval);
		return 0;
	}
	if (which != ITIMER_REAL)
		return -EINVAL;
	tasklist_lock_take();
	uint64_t next = p->itimer_real_next, iv = p->itimer_real_interval;
	tasklist_unlock();
	if (next) {
		uint64_t now = kernel_now_ns(CLOCK_MONOTONIC);
		/* Due but not yet fired: a tiny remainder, never zero. */
		out->it_value = ns_tv(next > now ? next - now : 1000);
		out->it_interval = ns_tv(iv);
	}
	return 0;
}

int itimer_set(struct process *p, int which, const struct itimerval *nv,
	       struct itimerval *old)
{
	int r = itimer_get(p, which, old);
	if (r)
		return r;
	uint64_t value = tv_ns(&nv->it_value);
	uint64_t interval = tv_ns(&nv->it_interval);
	if (which != ITIMER_REAL)
		return cputime_itimer_set(p, which, value, interval);
	uint64_t next = value ? kernel_now_ns(CLOCK_MONOTONIC) + value : 0;
	tasklist_lock_take();
	p->itimer_real_next = next;
	p->itimer_real_interval = interval;
	if (next)
		ktimer_arm(&p->itimer_real, next);
	else
		ktimer_cancel(&p->itimer_real);
	tasklist_unlock();
	return 0;
}
