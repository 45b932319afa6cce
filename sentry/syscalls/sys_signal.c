/* Signal syscalls. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/usercopy.h"
#include "sentry/syscalls/syscalls.h"

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif

#define UNBLOCKABLE (sigbit(SIGKILL) | sigbit(SIGSTOP))

/* The kernel's struct sigaction for rt_sigaction on x86-64. */
struct k_sigaction_user {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

static long sys_rt_sigaction(struct task *t, const uint64_t a[6])
{
	int sig = (int)a[0];
	if (a[3] != sizeof(ksigset_t))
		return -EINVAL;
	if (sig < 1 || sig > BH_NSIG)
		return -EINVAL;
	struct k_sigaction_user n;
	if (a[1]) {
		if (sig == SIGKILL || sig == SIGSTOP)
			return -EINVAL;
		if (copy_from_user(t, &n, a[1], sizeof(n)) < 0)
			return -EFAULT;
	}
	tasklist_lock_take();
	struct ksigaction *cur = &t->proc->sigactions[sig - 1];
	struct k_sigaction_user old = {cur->handler, cur->flags, cur->restorer,
				       cur->mask};
	if (a[1]) {
		cur->handler = n.handler;
		cur->flags = n.flags;
		cur->restorer = n.restorer;
		cur->mask = n.mask & ~UNBLOCKABLE;
		/* Setting SIG_IGN discards pending instances (POSIX). */
		if (n.handler == (uint64_t)(uintptr_t)SIG_IGN) {
			t->proc->shared_pending.set &= ~sigbit(sig);
			struct list_head *pos;
			list_for_each(pos, &t->proc->threads)
			{
				struct task *o =
				    list_entry(pos, struct task, thread_node);
				o->pending.set &= ~sigbit(sig);
			}
		}
	}
	tasklist_unlock();
	if (a[2] && copy_to_user(t, a[2], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

static long sys_rt_sigprocmask(struct task *t, const uint64_t a[6])
{
	int how = (int)a[0];
	if (a[3] != sizeof(ksigset_t))
		return -EINVAL;
	ksigset_t old = t->blocked;
	if (a[1]) {
		ksigset_t set;
		if (copy_from_user(t, &set, a[1], sizeof(set)) < 0)
			return -EFAULT;
		ksigset_t nb;
		switch (how) {
		case SIG_BLOCK:
			nb = old | set;
			break;
		case SIG_UNBLOCK:
			nb = old & ~set;
			break;
		case SIG_SETMASK:
			nb = set;
			break;
		default:
			return -EINVAL;
		}
		tasklist_lock_take();
		t->blocked = nb & ~UNBLOCKABLE;
		/* Signals it no longer blocks are its to take now. */
		task_recalc_work(t);
		tasklist_unlock();
	}
	if (a[2] && copy_to_user(t, a[2], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

static long sys_rt_sigreturn(struct task *t, const uint64_t a[6])
{
	(void)a;
	return signal_sigreturn(t);
}

static long sys_rt_sigpending(struct task *t, const uint64_t a[6])
{
	if (a[1] > sizeof(ksigset_t))
		return -EINVAL;
	tasklist_lock_take();
	ksigset_t set =
	    (t->pending.set | t->proc->shared_pending.set) & t->blocked;
	tasklist_unlock();
	if (copy_to_user(t, a[0], &set, a[1]) < 0)
		return -EFAULT;
	return 0;
}

static long sys_rt_sigsuspend(struct task *t, const uint64_t a[6])
{
	if (a[1] != sizeof(ksigset_t))
		return -EINVAL;
	ksigset_t set;
	if (copy_from_user(t, &set, a[0], sizeof(set)) < 0)
		return -EFAULT;
	tasklist_lock_take();
	t->saved_mask = t->blocked;
	t->has_saved_mask = true;
	t->blocked = set & ~UNBLOCKABLE;
	task_recalc_work(t);
	tasklist_unlock();
	while (task_sleep(t, task_wake_seq(t), NULL, SLEEP_INTR) != -EINTR)
		;
	return -ERESTARTNOHAND;
}

static long sys_pause(struct task *t, const uint64_t a[6])
{
	(void)a;
	while (task_sleep(t, task_wake_seq(t), NULL, SLEEP_INTR) != -EINTR)
		;
	return -ERESTARTNOHAND;
}

static long sys_rt_sigtimedwait(struct task *t, const uint64_t a[6])
{
	if (a[3] != sizeof(ksigset_t))
		return -EINVAL;
	ksigset_t set;
	if (copy_from_user(t, &set, a[0], sizeof(set)) < 0)
		return -EFAULT;
	set &= ~UNBLOCKABLE;
	struct timespec deadline, *dl = NULL;
	if (a[2]) {
		struct timespec ts;
		if (copy_from_user(t, &ts, a[2], sizeof(ts)) < 0)
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 ||
		    ts.tv_nsec >= 1000000000L)
			return -EINVAL;
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += ts.tv_sec;
		deadline.tv_nsec += ts.tv_nsec;
		if (deadline.tv_nsec >= 1000000000L) {
			deadline.tv_nsec -= 1000000000L;
			deadline.tv_sec++;
		}
		dl = &deadline;
	}
	/* Wait with the awaited signals unblocked, then take one of them
	 * directly instead of delivering it. */
	ksigset_t saved = t->blocked;
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		tasklist_lock_take();
		ksigset_t pend =
		    (t->pending.set | t->proc->shared_pending.set) & set;
		if (pend) {
			int sig = __builtin_ctzll(pend) + 1;
			struct sigpending *sp = (t->pending.set & sigbit(sig))
						    ? &t->pending
						    : &t->proc->shared_pending;
			siginfo_t si;
			signal_dequeue(sp, sig, &si);
			t->blocked = saved;
			task_recalc_work(t);
			tasklist_unlock();
			if (a[1] && copy_to_user(t, a[1], &si, sizeof(si)) < 0)
				return -EFAULT;
			return sig;
		}
		t->blocked = saved & ~set;
		tasklist_unlock();
		int r = task_sleep(t, seq, dl, SLEEP_INTR);
		tasklist_lock_take();
		t->blocked = saved;
		pend = (t->pending.set | t->proc->shared_pending.set) & set;
		task_recalc_work(t);
		tasklist_unlock();
		if (pend)
			continue;
		if (r == -ETIMEDOUT)
			return -EAGAIN;
		if (r == -EINTR)
			return -EINTR;
	}
}

static long sys_sigaltstack(struct task *t, const uint64_t a[6])
{
	struct k_stack_user {
		uint64_t ss_sp;
		int32_t ss_flags;
		int32_t pad;
		uint64_t ss_size;
	} old = {t->altstack_sp, 0, 0, t->altstack_size};
	bool on = t->altstack_size && t->regs.rsp >= t->altstack_sp &&
		  t->regs.rsp < t->altstack_sp + t->altstack_size;
	old.ss_flags = !t->altstack_size ? SS_DISABLE : (on ? SS_ONSTACK : 0);
	if (a[0]) {
		struct k_stack_user n;
		if (copy_from_user(t, &n, a[0], sizeof(n)) < 0)
			return -EFAULT;
		if (on)
			return -EPERM;
		if ((uint32_t)n.ss_flags &
		    ~(uint32_t)(SS_DISABLE | SS_AUTODISARM))
			return -EINVAL;
		if (n.ss_flags & SS_DISABLE) {
			t->altstack_sp = t->altstack_size = 0;
		} else {
			if (n.ss_size < (uint64_t)MINSIGSTKSZ)
				return -ENOMEM;
			t->altstack_sp = n.ss_sp;
			t->altstack_size = n.ss_size;
		}
	}
	if (a[1] && copy_to_user(t, a[1], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

static long sys_kill(struct task *t, const uint64_t a[6])
{
	return signal_kill(t, (int)a[0], (int)a[1]);
}

static long do_tkill(struct task *t, int tgid, int tid, int sig)
{
	if (tid <= 0 || sig < 0 || sig > BH_NSIG)
		return -EINVAL;
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = SI_TKILL;
	si.si_pid = t->proc->pid;
	si.si_uid = t->cred.uid;
	tasklist_lock_take();
	struct task *target = kernel_find_task(tid);
	long r = 0;
	if (!target || (tgid > 0 && target->proc->pid != tgid))
		r = -ESRCH;
	else if (sig)
		r = signal_send_task_locked(target, sig, &si);
	tasklist_unlock();
	return r;
}

static long sys_tgkill(struct task *t, const uint64_t a[6])
{
	if ((int)a[0] <= 0)
		return -EINVAL;
	return do_tkill(t, (int)a[0], (int)a[1], (int)a[2]);
}

static long sys_tkill(struct task *t, const uint64_t a[6])
{
	return do_tkill(t, -1, (int)a[0], (int)a[1]);
}

static long sys_rt_sigqueueinfo(struct task *t, const uint64_t a[6])
{
	siginfo_t si;
	if (copy_from_user(t, &si, a[2], sizeof(si)) < 0)
		return -EFAULT;
	/* A process may not forge kernel-generated codes for another. */
	if ((si.si_code >= 0 || si.si_code == SI_TKILL) &&
	    (int)a[0] != t->proc->pid)
		return -EPERM;
	si.si_signo = (int)a[1];
	tasklist_lock_take();
	struct process *p = kernel_find_process((int)a[0]);
	long r = p ? signal_send_process_locked(p, (int)a[1], &si) : -ESRCH;
	tasklist_unlock();
	return r;
}

static long sys_restart_syscall(struct task *t, const uint64_t a[6])
{
	(void)a;
	if (!t->restart_fn)
		return -EINTR;
	long (*fn)(struct task *) = t->restart_fn;
	t->restart_fn = NULL;
	return fn(t);
}

const struct syscall_def sys_signal_defs[] = {
    {__NR_rt_sigaction, "rt_sigaction", sys_rt_sigaction, "Sppu", NULL},
    {__NR_rt_sigprocmask, "rt_sigprocmask", sys_rt_sigprocmask, "dppu", NULL},
    {__NR_rt_sigreturn, "rt_sigreturn", sys_rt_sigreturn, "", NULL},
    {__NR_rt_sigpending, "rt_sigpending", sys_rt_sigpending, "pu", NULL},
    {__NR_rt_sigsuspend, "rt_sigsuspend", sys_rt_sigsuspend, "pu", NULL},
    {__NR_rt_sigtimedwait, "rt_sigtimedwait", sys_rt_sigtimedwait, "pppu",
     NULL},
    {__NR_rt_sigqueueinfo, "rt_sigqueueinfo", sys_rt_sigqueueinfo, "dSp", NULL},
    {__NR_sigaltstack, "sigaltstack", sys_sigaltstack, "pp", NULL},
    {__NR_pause, "pause", sys_pause, "", NULL},
    {__NR_kill, "kill", sys_kill, "dS", NULL},
    {__NR_tgkill, "tgkill", sys_tgkill, "ddS", NULL},
    {__NR_tkill, "tkill", sys_tkill, "dS", NULL},
    {__NR_restart_syscall, "restart_syscall", sys_restart_syscall, "", NULL},
    {-1, NULL, NULL, NULL, NULL},
};
