/* Interval timers (setitimer/alarm ITIMER_REAL): one sentry thread sleeps
 * until the earliest deadline of any process and sends SIGALRM. */
#ifndef BULKHEAD_TIMER_H
#define BULKHEAD_TIMER_H

#include <stdint.h>

struct process;

int timer_init(void);
/* Arm (next != 0) or disarm p's ITIMER_REAL; kernel_lock held. */
void timer_set_real(struct process *p, uint64_t next_ns, uint64_t interval_ns);

#endif
