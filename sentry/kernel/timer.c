#include "sentry/kernel/timer.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"

static pthread_cond_t timer_cond;

void timer_set_real(struct process *p, uint64_t next_ns, uint64_t interval_ns)
{
	p->itimer_real_next = next_ns;
	p->itimer_real_interval = interval_ns;
	pthread_cond_signal(&timer_cond);
}

static void *timer_main(void *arg)
{
	(void)arg;
	klock();
	for (;;) {
		uint64_t now = kernel_now_ns(CLOCK_MONOTONIC);
		uint64_t next = 0;
		struct list_head *pos;
		list_for_each(pos, &kernel.processes)
		{
			struct process *p =
			    list_entry(pos, struct process, all_node);
			if (p->state != PROC_ALIVE || !p->itimer_real_next)
				continue;
			if (p->itimer_real_next <= now) {
				siginfo_t si;
				memset(&si, 0, sizeof(si));
				si.si_signo = SIGALRM;
				si.si_code = SI_KERNEL; /* as Linux sends itimer
							   SIGALRM */
				signal_send_process(p, SIGALRM, &si);
				if (p->itimer_real_interval) {
					uint64_t iv = p->itimer_real_interval;
					uint64_t late =
					    now - p->itimer_real_next;
					p->itimer_real_next +=
					    (late / iv + 1) * iv;
				} else {
					p->itimer_real_next = 0;
					continue;
				}
			}
			if (!next || p->itimer_real_next < next)
				next = p->itimer_real_next;
		}
		if (!next) {
			pthread_cond_wait(&timer_cond, &kernel_lock);
		} else {
			struct timespec ts = {(time_t)(next / 1000000000ull),
					      (long)(next % 1000000000ull)};
			pthread_cond_timedwait(&timer_cond, &kernel_lock, &ts);
		}
	}
	return NULL;
}

int timer_init(void)
{
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&timer_cond, &ca);
	pthread_condattr_destroy(&ca);
	pthread_t th;
	int r = pthread_create(&th, NULL, timer_main, NULL);
	if (r)
		return -r;
	pthread_detach(th);
	return 0;
}
