/* The guest kernel's global state and its one big lock.
 *
 * Concurrency model: one sentry thread per guest thread. Syscall handlers run
 * with kernel_lock held; a handler that must wait sleeps in task_block(),
 * which drops the lock. This keeps every guest-kernel structure simple (no
 * per-object locks) at the price of serialising handlers, which is cheap
 * next to the cost of trapping a syscall. Host I/O that can block (host
 * stdio, donated file fds) is done with the lock dropped (see task_block's
 * hostfd argument) or is short (regular file I/O).
 */
#ifndef BULKHEAD_KERNEL_H
#define BULKHEAD_KERNEL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bulkhead/config.h"
#include "bulkhead/list.h"

/* Linux's internal restart codes: never seen by the guest. */
#define ERESTARTSYS	      512
#define ERESTARTNOINTR	      513
#define ERESTARTNOHAND	      514
#define ERESTART_RESTARTBLOCK 516

struct process;
struct task;

struct kernel {
	struct bh_config *cfg;
	char hostname[65];
	char domainname[65];
	bool strace;
	struct list_head processes; /* every live or zombie process */
	struct process *init;	    /* pid 1 */
	uint64_t boot_ns;	    /* CLOCK_MONOTONIC at boot, for uptime */
	int nprocs; /* live processes, bounded by RLIMIT_NPROC-ish cap */
};

extern struct kernel kernel;
extern pthread_mutex_t kernel_lock;

static inline void klock(void)
{
	pthread_mutex_lock(&kernel_lock);
}
static inline void kunlock(void)
{
	pthread_mutex_unlock(&kernel_lock);
}

/* Lookup by virtual pid: the process whose pid (tgid) is pid, or NULL. */
struct process *kernel_find_process(int pid);
/* The task with virtual tid, or NULL. */
struct task *kernel_find_task(int tid);

uint64_t kernel_now_ns(int clockid); /* host clock, in ns */

#endif
