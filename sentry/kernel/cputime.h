/* CPU time of the guest, from the host. A process's time is its stub
 * process's CPU clock, which the sentry reads directly (clock_gettime on a
 * pid clock id: user time alone or user + system); a thread's own time is
 * read inside its stub thread by the platform. They feed times(2),
 * getrusage(2), /proc/<pid>/stat, the CPU-time clocks, RLIMIT_CPU and the
 * CPU interval timers, which one sampling timer per process checks at the
 * earliest moment any of them could expire. */
#ifndef BULKHEAD_CPUTIME_H
#define BULKHEAD_CPUTIME_H

#include <stdbool.h>
#include <stdint.h>

struct process;
struct task;

struct cputimes {
	uint64_t utime, stime; /* ns */
};

void cputime_init(struct process *p);
/* p's CPU time so far (its final time once it is a zombie). tasklist. */
void cputime_process(struct process *p, struct cputimes *out);
/* The calling thread's own CPU time (user + system), ns. */
int cputime_thread_self(struct task *t, uint64_t *ns);
/* t's CPU time as last sampled (exact for the calling thread). */
uint64_t cputime_thread(struct task *t);
/* The last thread is about to go: keep the final times. tasklist held. */
void cputime_final(struct process *p);
/* The process is exiting: stop its sampler (no lock held). */
void cputime_exit(struct process *p);
/* Re-evaluate p's CPU limits and timers (after setrlimit or a change of a
 * CPU timer). No lock held. */
void cputime_update(struct process *p);
void cputime_itimer_get(struct process *p, int which, uint64_t *value,
			uint64_t *interval);
int cputime_itimer_set(struct process *p, int which, uint64_t value,
		       uint64_t interval);

#endif
