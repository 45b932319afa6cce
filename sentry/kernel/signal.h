/* Guest signals: sending, queueing, delivery onto the guest stack. */
#ifndef BULKHEAD_SIGNAL_H
#define BULKHEAD_SIGNAL_H

#include <signal.h>

#include "sentry/kernel/task.h"

static inline ksigset_t sigbit(int sig)
{
	return 1ULL << (sig - 1);
}

/* Send sig to a whole process (kill) or to one task (tgkill); info may be
 * NULL (SI_KERNEL). kernel_lock held. 0 or negative errno. */
int signal_send_process(struct process *p, int sig, const siginfo_t *info);
int signal_send_task(struct task *t, int sig, const siginfo_t *info);
/* kill(2) semantics for pid > 0, 0, -1, < -1, from sender (may be NULL for
 * the runtime itself, e.g. `bulkhead kill`). */
int signal_kill(struct task *sender, int pid, int sig);

/* Before returning to the guest: handle pending signals (default actions,
 * handler frames). May not return (the task dies). *ret is the syscall
 * result being returned (restart codes are resolved here). */
void signal_deliver(struct task *t);
/* A synchronous fault (SIGSEGV…) for t: delivered even if blocked or
 * ignored, as Linux's force_sig_info does. */
void signal_force(struct task *t, int sig, const siginfo_t *info);
/* The rt_sigreturn syscall body. */
long signal_sigreturn(struct task *t);

#endif
