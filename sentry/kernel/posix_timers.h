/* POSIX per-process timers (timer_create and friends): on the wall clocks
 * a kernel timer each, on CPU clocks the process's CPU sampler. Expiry
 * queues one signal (or a SIGEV_THREAD_ID one to a thread); while it is
 * still pending, further expiries count as overruns, as on Linux. */
#ifndef BULKHEAD_POSIX_TIMERS_H
#define BULKHEAD_POSIX_TIMERS_H

#include <stdint.h>

struct process;
struct cputimes;
struct sigqueue;

/* From the CPU sampler (tasklist held): fire what is due; the CPU ns until
 * the next one could be (UINT64_MAX: none). */
uint64_t posix_timers_cpu_check(struct process *p, const struct cputimes *c);
/* Delete every timer of an exiting process (no lock held). */
void posix_timers_exit(struct process *p);
/* A timer's signal is being delivered (tasklist held): fill si_overrun. */
void posix_timers_delivered(struct sigqueue *q);

/* Clocks (clock_gettime's, and those from clock_getcpuclockid). Returns
 * 0 and the time, or -EINVAL. */
struct task;
int kclock_gettime(struct task *t, int clockid, uint64_t *ns);
int kclock_getres(int clockid, uint64_t *ns);

#endif
