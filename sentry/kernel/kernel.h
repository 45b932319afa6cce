/* The guest kernel's global state.
 *
 * Concurrency model: one sentry thread per guest thread, and no big lock:
 * state is split by subsystem (the lock order, and which lock guards what,
 * is in lockorder.h). tasklist_lock guards the process tree, pids, process
 * groups and sessions, signals, job control and the task and process
 * states; it is a spin lock in lockorder.h's sense, never held across a
 * host round trip. A handler that must wait sleeps in task_sleep() with no
 * lock held.
 */
#ifndef BULKHEAD_KERNEL_H
#define BULKHEAD_KERNEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bulkhead/config.h"
#include "bulkhead/list.h"
#include "sentry/kernel/lock.h"

/* Linux's internal restart codes: never seen by the guest. */
#define ERESTARTSYS	      512
#define ERESTARTNOINTR	      513
#define ERESTARTNOHAND	      514
#define ERESTART_RESTARTBLOCK 516

struct process;
struct task;

struct kernel {
	struct bh_config *cfg; /* immutable after boot */
	bool strace;	       /* immutable after boot */
	/* Under uts_lock (uts.c): */
	char hostname[65];
	char domainname[65];
	/* Under tasklist_lock: */
	struct list_head processes; /* every live or zombie process */
	struct process *init;	    /* pid 1 */
	int nprocs;		    /* live processes, bounded by NPROC_MAX */
	/* Live tasks (threads), bounded by the config's pids limit as the
	 * pids controller bounds a cgroup's. */
	int ntasks;
	int64_t pids_limit; /* immutable after boot; <= 0: none */
	uint64_t boot_ns; /* CLOCK_MONOTONIC at boot; immutable after */
};

extern struct kernel kernel;
extern struct kmutex tasklist_lock;
extern struct kmutex uts_lock;

static inline void tasklist_lock_take(void)
{
	kmutex_lock(&tasklist_lock);
}
static inline void tasklist_unlock(void)
{
	kmutex_unlock(&tasklist_lock);
}

/* Lookup by virtual pid (tasklist held): the process whose pid (tgid) is
 * pid, or NULL. */
struct process *kernel_find_process(int pid);
/* The task with virtual tid (tasklist held), or NULL. */
struct task *kernel_find_task(int tid);

uint64_t kernel_now_ns(int clockid); /* host clock, in ns */

#endif
