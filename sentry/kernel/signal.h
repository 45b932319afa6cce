/* Guest signals: sending, queueing, delivery onto the guest stack. State
 * (pending sets, dispositions, blocked masks) is under tasklist_lock. */
#ifndef BULKHEAD_SIGNAL_H
#define BULKHEAD_SIGNAL_H

#include <signal.h>

#include "sentry/kernel/task.h"

static inline ksigset_t sigbit(int sig)
{
	return 1ULL << (sig - 1);
}

/* Send sig to a whole process (kill) or to one task (tgkill); info may be
 * NULL (SI_KERNEL). 0 or negative errno. The _locked forms expect
 * tasklist_lock held; the others take it. */
int signal_send_process(struct process *p, int sig, const siginfo_t *info);
int signal_send_task(struct task *t, int sig, const siginfo_t *info);
int signal_send_process_locked(struct process *p, int sig,
			       const siginfo_t *info);
int signal_send_task_locked(struct task *t, int sig, const siginfo_t *info);
/* kill(2) semantics for pid > 0, 0, -1, < -1, from sender (may be NULL for
 * the runtime itself, e.g. `bulkhead kill`). */
int signal_kill(struct task *sender, int pid, int sig);
int signal_kill_locked(struct task *sender, int pid, int sig);
/* Queue a POSIX timer's signal for p (or its thread t): the queue entry,
 * or NULL if the signal was not queued. tasklist held. */
struct ptimer;
struct sigqueue *signal_queue_timer_locked(struct process *p, struct task *t,
					   int sig, const siginfo_t *info,
					   struct ptimer *timer);
/* A process-directed sig was queued: kick a thread that takes it. */
void signal_wake_target(struct process *p, int sig);
/* Kick every thread of p (tasklist held). */
void signal_kick_all(struct process *p);
/* Take one instance of sig off sp into info (tasklist held). */
bool signal_dequeue(struct sigpending *sp, int sig, siginfo_t *info);

/* Before returning to the guest, when t has work: handle pending signals
 * (default actions, handler frames) and stops. May not return (the task
 * dies). Takes tasklist itself. */
void signal_deliver(struct task *t);
/* Before returning to the guest with no work: resolve a restart code left
 * in the result and put back a temporary signal mask. */
void signal_restart_done(struct task *t);
/* A synchronous fault (SIGSEGV…) for t: delivered even if blocked or
 * ignored, as Linux's force_sig_info does. */
void signal_force(struct task *t, int sig, const siginfo_t *info);
/* The rt_sigreturn syscall body. */
long signal_sigreturn(struct task *t);

#endif
