/* Guest tasks (threads) and processes (thread groups). */
#ifndef BULKHEAD_TASK_H
#define BULKHEAD_TASK_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <time.h>

#include "bulkhead/list.h"
#include "sentry/kernel/kernel.h"
#include "sentry/platform/platform.h"

#define BH_NSIG 64	    /* signals 1..64 */
typedef uint64_t ksigset_t; /* bit (sig-1) */

struct mm;
struct fdtable;
struct fs_struct;

/* A wait queue: tasks sleeping in task_block() on it. Protected by
 * kernel_lock. */
struct waitq {
	struct list_head waiters;
};
void waitq_init(struct waitq *q);
/* Wake every task waiting on q (they re-check their condition). */
void waitq_wake_all(struct waitq *q);

struct ksigaction {
	uint64_t handler; /* guest address, or SIG_DFL (0) / SIG_IGN (1) */
	uint64_t flags;	  /* SA_* */
	uint64_t restorer;
	ksigset_t mask;
};

struct sigqueue {
	struct list_head node;
	siginfo_t info;
};

struct sigpending {
	ksigset_t set;
	struct list_head queue; /* struct sigqueue, in arrival order */
};

struct cred {
	uint32_t uid, euid, suid, fsuid;
	uint32_t gid, egid, sgid, fsgid;
	uint32_t ngroups;
	uint32_t groups[32];
	uint64_t cap_eff, cap_prm, cap_inh, cap_bnd; /* bit n: capability n */
};

static inline bool cred_capable(const struct cred *c, int cap)
{
	return c->cap_eff & (1ull << cap);
}

enum task_state {
	TASK_RUNNING, /* in the guest or in a syscall */
	TASK_EXITING, /* leaving; its sentry thread is winding down */
	TASK_DEAD,
};

struct task {
	int tid; /* virtual */
	struct process *proc;
	struct list_head thread_node; /* in proc->threads */
	struct plat_thread *pt;
	plat_regs regs; /* guest registers while the sentry serves it */
	enum task_state state;

	ksigset_t blocked;
	ksigset_t saved_mask; /* sigsuspend/ppoll/pselect: restore after */
	bool has_saved_mask;
	struct sigpending pending; /* thread-directed */
	uint64_t altstack_sp, altstack_size;
	int altstack_flags;

	int wake_efd;	  /* eventfd the task sleeps on (task_block) */
	bool in_guest;	  /* running guest code: wake with plat interrupt */
	bool interrupted; /* task_interrupt() called since last check */

	uint64_t clear_child_tid;
	uint64_t set_child_tid; /* CLONE_CHILD_SETTID, done at first run */
	uint64_t robust_list, robust_len;
	/* restart_syscall(2) state for ERESTART_RESTARTBLOCK (nanosleep). */
	long (*restart_fn)(struct task *t);
	uint64_t restart_args[4];
	uint64_t syscalls; /* count, for stats */
	bool in_syscall;   /* regs.rax holds a syscall result (restarts) */
	/* Runs once on the task's own sentry thread after it attached to its
	 * stub, before the guest runs (boot uses it to exec init). */
	void (*start_hook)(struct task *t);
};

enum process_state {
	PROC_ALIVE,
	PROC_ZOMBIE, /* exited, waiting for its parent's wait4 */
	PROC_DEAD,   /* reaped */
};

struct process {
	int pid; /* == tid of the leader */
	int pgid, sid;
	struct process *parent;
	struct list_head children; /* struct process.sibling */
	struct list_head sibling;
	struct list_head all_node; /* in kernel.processes */
	struct list_head threads;  /* struct task.thread_node */
	int nthreads;
	int refs; /* struct process lifetime: threads + parent link + users */

	struct mm *mm;
	struct fdtable *files;
	struct fs_struct *fs;
	struct ksigaction sigactions[BH_NSIG];
	struct sigpending shared_pending;
	struct cred cred;
	struct rlimit rlimits[RLIM_NLIMITS];

	enum process_state state;
	bool group_exiting;
	/* The thread in execve that waits for its siblings to die (Linux's
	 * de_thread): every other thread stops, this one sleeps through
	 * signals. Not group_exiting, so a SIGKILL or exit_group meanwhile
	 * still ends the whole group. */
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
	/* ITIMER_REAL: absolute CLOCK_MONOTONIC ns of the next SIGALRM (0:
	 * disarmed) and the reload interval. Served by kernel/timer.c. */
	uint64_t itimer_real_next, itimer_real_interval;
	uint64_t start_ns; /* for /proc/<pid>/stat */
	uint64_t utime_ns, stime_ns;
	char comm[16];
	/* argv/envp of the last exec, kept for /proc/pid/cmdline|environ */
	char *cmdline; /* NUL-separated */
	size_t cmdline_len;
	char exe_path[4096]; /* path of the last exec'd file */
};

/* The guest's view of the current thread: set for each sentry thread. */
extern __thread struct task *current;

/* Block the calling task (== current, kernel_lock held) until one of the
 * queues is woken, hostfd (>= 0) is ready for events, the absolute
 * CLOCK_MONOTONIC deadline passes (NULL: none), or a signal is pending.
 * Returns 0 (woken: re-check your condition), -EINTR (signal pending),
 * -ETIMEDOUT. The lock is dropped while sleeping. */
int task_block(struct task *t, struct waitq **qs, int nq, int hostfd,
	       short events, const struct timespec *deadline);

/* Wake t if it is sleeping in task_block, or interrupt it if it runs guest
 * code, so that it notices a new signal or exit request. */
void task_kick(struct task *t);

/* Leave the calling sentry thread (end of task_exit). */
__attribute__((noreturn)) void task_leave(void);
/* Serve task t (its pt not yet adopted) on a sentry thread: an idle one
 * from the pool, or a new one. */
int task_start(struct task *t);
/* A new task of process p (linked into p->threads), or NULL. */
struct task *task_alloc(struct process *p, int tid);
void task_free(struct task *t);

/* A new process with one reference, linked into kernel.processes, with no
 * task yet; pid allocated. NULL on -EAGAIN/-ENOMEM. */
struct process *process_alloc(int pid);
/* clone(2)/fork(2)/vfork(2) body; returns the child's pid or -errno. */
long kernel_clone(struct task *t, uint64_t flags, uint64_t stack, uint64_t ptid,
		  uint64_t ctid, uint64_t tls);
/* execve's point of no return: kill the other threads of the process. */
int task_exec_begin(struct task *t);
/* After a successful exec: wake a vfork parent. */
void task_exec_done(struct task *t);
/* Release a reaped zombie. */
void process_reap(struct process *p);

/* Exit paths (kernel_lock held). Never return. */
__attribute__((noreturn)) void task_exit(struct task *t, int status);
__attribute__((noreturn)) void process_exit_group(struct task *t, int status);

void process_get(struct process *p);
void process_put(struct process *p);

/* Has t a deliverable (pending and not blocked) signal? */
bool task_signal_pending(struct task *t);

#endif
