/* Interval timers (setitimer, alarm): ITIMER_REAL on a kernel timer per
 * process; the CPU-time ones (ITIMER_VIRTUAL, ITIMER_PROF) sampled by
 * cputime.c. */
#ifndef BULKHEAD_ITIMER_H
#define BULKHEAD_ITIMER_H

#include <stdint.h>
#include <sys/time.h>

struct process;

void itimer_init(struct process *p);
/* The process is exiting: stop its timers and wait for a callback in
 * flight. No lock held. */
void itimer_exit(struct process *p);
/* getitimer/setitimer bodies; which is ITIMER_*. */
int itimer_get(struct process *p, int which, struct itimerval *out);
int itimer_set(struct process *p, int which, const struct itimerval *nv,
	       struct itimerval *old);

#endif
