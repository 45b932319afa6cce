/* Guest tasks (threads). One sentry thread serves one task. Locking: see
 * each field; "owner" means only the task's own sentry thread touches it,
 * "tasklist" is tasklist_lock (kernel.h). */
#ifndef BULKHEAD_TASK_H
#define BULKHEAD_TASK_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>

#include "bulkhead/list.h"
#include "sentry/kernel/cred.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/process.h"
#include "sentry/kernel/waitq.h"
#include "sentry/platform/platform.h"

enum task_state {
	TASK_RUNNING, /* in the guest or in a syscall */
	TASK_EXITING, /* leaving; its sentry thread is winding down */
	TASK_DEAD,
};

struct task {
	int tid; /* virtual; changes at exec (de_thread), under tasklist */
	struct process *proc;	      /* immutable */
	struct list_head thread_node; /* in proc->threads; tasklist */
	/* Owner; cleared under tasklist before it is released, so that a
	 * kicker under tasklist never touches a released one. */
	struct plat_thread *pt;
	plat_regs regs;	       /* owner: guest registers while served */
	enum task_state state; /* tasklist */
	/* Per thread, as on Linux (glibc's setuid() calls it in every
	 * thread). Written by the owner under tasklist; read by the owner
	 * freely and by others under tasklist. */
	struct cred cred;
	/* The fd table and root/cwd/umask, per thread as on Linux (shared by
	 * CLONE_FILES, CLONE_FS). Changed only by the owner, under tasklist;
	 * read by the owner freely, by others under tasklist with a
	 * reference taken. */
	struct fdtable *files;
	struct fs_struct *fs;

	/* Written by the owner under tasklist; read by the owner freely and
	 * by others under tasklist. */
	ksigset_t blocked;
	ksigset_t saved_mask; /* owner: sigsuspend/ppoll/pselect */
	bool has_saved_mask;
	struct sigpending pending;	     /* tasklist: thread-directed */
	uint64_t altstack_sp, altstack_size; /* owner */
	int altstack_flags;

	/* task_sleep() waits for this to move; task_wake() moves it. */
	_Atomic uint32_t wake_seq;
	/* Set (under tasklist) when the task may have something to do before
	 * it returns to the guest: a signal it does not block, a stop, an
	 * exit or exec request. Checked without a lock on every return;
	 * cleared by the task under tasklist once it found nothing left. */
	_Atomic bool work;
	_Atomic bool in_guest; /* running guest code: kick with interrupt */
	_Atomic bool sleeping; /* in task_sleep (for /proc: state S) */

	uint64_t clear_child_tid; /* owner */
	uint64_t set_child_tid;	  /* CLONE_CHILD_SETTID, done at first run */
	uint64_t robust_list, robust_len; /* owner; atomics for readers */
	/* restart_syscall(2) state for ERESTART_RESTARTBLOCK (nanosleep). */
	long (*restart_fn)(struct task *t);
	uint64_t restart_args[4];
	_Atomic uint64_t syscalls; /* count, for stats */
	/* The thread's CPU time when it last read it (cputime.c); atomic. */
	_Atomic uint64_t cpu_sample;
	bool in_syscall; /* owner: regs.rax holds a syscall result */
	/* Runs once on the task's own sentry thread after it attached to its
	 * stub, before the guest runs (boot uses it to exec init). */
	void (*start_hook)(struct task *t);
};

/* The guest's view of the current thread: set for each sentry thread. */
extern __thread struct task *current;

/* The wait sequence, read before checking a wait's condition. */
static inline uint32_t task_wake_seq(struct task *t)
{
	return atomic_load_explicit(&t->wake_seq, memory_order_acquire);
}
/* Move t's sequence and wake it if it sleeps. Safe from any thread and
 * from wait-queue callbacks. */
void task_wake(struct task *t);

enum sleep_kind {
	SLEEP_INTR,	/* a signal or a stop request ends the sleep */
	SLEEP_KILLABLE, /* only the death of the process ends it */
};
/* Sleep until t's wait sequence moves past seq, the absolute
 * CLOCK_MONOTONIC deadline passes (NULL: none), or (see kind) a signal or
 * fatal event is pending. Holds no lock while asleep. Returns 0 (woken:
 * re-check the condition), -EINTR or -ETIMEDOUT. */
int task_sleep(struct task *t, uint32_t seq, const struct timespec *deadline,
	       enum sleep_kind kind);

/* Give t work (see struct task.work) and wake it if it is sleeping, or
 * interrupt it if it runs guest code, so that it notices a new signal or
 * exit request. tasklist held. */
void task_kick(struct task *t);
/* Recompute t's work flag after its blocked mask changed (tasklist). */
void task_recalc_work(struct task *t);
/* Does t have to stop running the guest (exit, another thread's exec)?
 * tasklist held. */
bool task_should_stop(struct task *t);

/* Leave the calling sentry thread (end of task_exit). */
__attribute__((noreturn)) void task_leave(void);
/* Serve task t (its pt not yet adopted) on a sentry thread: an idle one
 * from the pool, or a new one. */
int task_start(struct task *t);
/* A new task of process p (linked into p->threads), or NULL. */
struct task *task_alloc(struct process *p, int tid);
void task_free(struct task *t);

/* clone(2)/fork(2)/vfork(2) body; returns the child's pid or -errno. */
long kernel_clone(struct task *t, uint64_t flags, uint64_t stack, uint64_t ptid,
		  uint64_t ctid, uint64_t tls);
/* execve's point of no return: kill the other threads of the process. */
int task_exec_begin(struct task *t);
/* After a successful exec: wake a vfork parent. */
void task_exec_done(struct task *t);

/* Exit paths. Never return. */
__attribute__((noreturn)) void task_exit(struct task *t, int status);
__attribute__((noreturn)) void process_exit_group(struct task *t, int status);

/* Has t a deliverable (pending and not blocked) signal? */
bool task_signal_pending(struct task *t);

#endif
