/* Processes (thread groups): the process tree, pids, signal dispositions,
 * job control, exit and reaping. Locking: see each field; "tasklist" is
 * tasklist_lock (kernel.h), "own" means only the process's own threads
 * touch it, without a lock. */
#ifndef BULKHEAD_PROCESS_H
#define BULKHEAD_PROCESS_H

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

#include "bulkhead/list.h"
#include "sentry/kernel/cputime.h"
#include "sentry/kernel/cred.h"
#include "sentry/kernel/timer.h"
#include "sentry/kernel/waitq.h"

#define BH_NSIG 64	    /* signals 1..64 */
typedef uint64_t ksigset_t; /* bit (sig-1) */

struct mm;
struct tty;
struct fdtable;
struct fs_struct;
struct task;

struct ksigaction {
	uint64_t handler; /* guest address, or SIG_DFL (0) / SIG_IGN (1) */
	uint64_t flags;	  /* SA_* */
	uint64_t restorer;
	ksigset_t mask;
};

struct ptimer;
struct sigqueue {
	struct list_head node;
	siginfo_t info;
	/* The POSIX timer that queued it: its overrun count is read at
	 * delivery. Cleared if the timer is deleted first. */
	struct ptimer *timer;
};

/* The queue signalfd readers and pollers wait on for a signal to arrive
 * (Linux's sighand->signalfd_wqh). Refcounted apart from the process: a
 * signalfd that registered entries on it keeps it until the file goes, so
 * an epoll of another process never holds an entry on freed memory. */
struct sigwait_head {
	_Atomic int refs;
	struct waitq wq;
};
void sigwait_get(struct sigwait_head *h);
void sigwait_put(struct sigwait_head *h);

struct sigpending {
	ksigset_t set;
	struct list_head queue; /* struct sigqueue, in arrival order */
	int nqueued;		/* entries in queue (bounded) */
};

enum process_state {
	PROC_ALIVE,
	PROC_ZOMBIE, /* exited, waiting for its parent's wait4 */
	PROC_DEAD,   /* reaped */
};

struct process {
	int pid; /* == tid of the leader; immutable */
	int pgid, sid;
	/* The controlling terminal (tasklist; sentry/tty/jobctl.h): set only
	 * while p is in the session it controls; holds no reference. */
	struct tty *ctty;
	struct process *parent;
	struct list_head children; /* struct process.sibling */
	struct list_head sibling;
	struct list_head all_node;     /* in kernel.processes */
	struct list_head pgrp_node;    /* in its kpid(pgid)'s pgrp list */
	struct list_head session_node; /* in its kpid(sid)'s session list */
	struct list_head threads;      /* struct task.thread_node */
	int nthreads;
	_Atomic int refs; /* lifetime: threads + tree link + users */

	/* Changes only at exec and exit, by the process's own threads
	 * under tasklist; others read it under tasklist and take a
	 * reference. (The fd table and fs_struct are the task's.) */
	struct mm *mm;
	struct ksigaction sigactions[BH_NSIG];
	struct sigpending shared_pending;
	/* Woken (tasklist held) whenever a signal is queued for the process
	 * or one of its threads; immutable pointer, one reference. */
	struct sigwait_head *sigwait;
	/* Written under tasklist with atomic stores, read with
	 * process_rlimit() without it. */
	struct rlimit rlimits[RLIM_NLIMITS];

	enum process_state state;
	bool group_exiting;
	/* tasklist: a fault it could not handle made the sandbox's init
	 * mortal (Linux clears SIGNAL_UNKILLABLE in force_sig_info). */
	bool init_killable;
	/* The thread in execve that waits for its siblings to die (Linux's
	 * de_thread): every other thread stops. Not group_exiting, so a
	 * SIGKILL or exit_group meanwhile still ends the whole group. */
	struct task *exec_task;
	int exit_status;	 /* wait status (as from wait4) once exiting */
	int exit_signal;	 /* sent to parent on exit, usually SIGCHLD */
	struct waitq child_wait; /* wait4 waiters: a child changed state */
	struct waitq vfork_wait; /* vfork parent waits for exec/exit */
	bool vfork_done;
	/* Job control: stopped by a stop signal until SIGCONT. The two
	 * report flags are consumed by the parent's wait (WUNTRACED,
	 * WCONTINUED). */
	bool stopped;
	int stop_sig;
	bool stop_report, cont_report;
	struct waitq stop_wait;
	/* ITIMER_REAL (itimer.c): the timer, and under tasklist its next
	 * expiry (CLOCK_MONOTONIC ns, 0: disarmed) and reload interval. */
	struct ktimer itimer_real;
	uint64_t itimer_real_next, itimer_real_interval;
	/* CPU-time accounting (cputime.c), under tasklist: the final times
	 * once the last thread went, the CPU interval timers as absolute
	 * process CPU times (0: off), the next RLIMIT_CPU check, and the
	 * sampling timer that checks them. */
	struct cputimes final_times;
	bool have_final;
	uint64_t itv_virt_exp, itv_virt_iv, itv_prof_exp, itv_prof_iv;
	uint64_t rlim_cpu_next; /* CPU ns at which to send SIGXCPU next */
	struct ktimer cpu_timer;
	struct list_head cpu_timers; /* POSIX timers on CPU clocks */
	struct list_head ptimers;    /* every POSIX timer (posix_timers.c) */
	/* The POSIX record locks it holds (vfs/locks.c), under its lock. */
	struct list_head flocks;
	int next_timer_id;
	uint64_t start_ns; /* for /proc/<pid>/stat; immutable */
	uint32_t exit_uid; /* a zombie's uid, for its parent's siginfo */
	/* Reaped children's CPU time (tasklist), for RUSAGE_CHILDREN. */
	uint64_t cutime_ns, cstime_ns;
	char comm[16]; /* tasklist (and cmdline, exe_path) */
	/* argv/envp of the last exec, kept for /proc/pid/cmdline|environ */
	char *cmdline; /* NUL-separated */
	size_t cmdline_len;
	char exe_path[4096]; /* path of the last exec'd file */
};

static inline rlim_t process_rlimit(const struct process *p, int res)
{
	return __atomic_load_n(&p->rlimits[res].rlim_cur, __ATOMIC_RELAXED);
}

/* The credentials that speak for p to others (its leader's, or another
 * thread's once the leader is gone), or NULL for a zombie. tasklist. */
const struct cred *process_cred(struct process *p);
/* p's uid as others see it (kill permission, siginfo), tasklist held. */
uint32_t process_uid(struct process *p);

/* A new process with one reference, linked into kernel.processes, with no
 * task yet (tasklist held). NULL on -EAGAIN/-ENOMEM. */
struct process *process_alloc(int pid);
void process_get(struct process *p);
void process_put(struct process *p);
/* Release a reaped zombie. */
void process_reap(struct process *p);

#endif
