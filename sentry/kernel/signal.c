/* Guest signals: queueing, default actions and handler frames, laid out as
 * Linux lays out an x86-64 rt_sigframe so that libc's restorers and any
 * program that reads its ucontext work unchanged. */
#include "sentry/kernel/signal.h"

#include <errno.h>
#include <poll.h>
#include <limits.h>
#include <linux/capability.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "bulkhead/log.h"
#include "sentry/kernel/pid.h"
#include "sentry/kernel/posix_timers.h"
#include "sentry/mm/usercopy.h"

#define SIG_KERNEL_ONLY (sigbit(SIGKILL) | sigbit(SIGSTOP))

/* The kernel's struct sigcontext (x86-64), 256 bytes. */
struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved1[8];
};

struct k_stack {
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t pad;
	uint64_t ss_size;
};

struct k_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	struct k_stack uc_stack;
	struct k_sigcontext uc_mcontext;
	uint64_t uc_sigmask;
};

struct rt_sigframe {
	uint64_t pretcode;
	struct k_ucontext uc;
	siginfo_t info;
};

_Static_assert(sizeof(struct k_sigcontext) == 256, "sigcontext layout");
_Static_assert(offsetof(struct rt_sigframe, info) == 8 + 304, "frame layout");

enum sig_default { SD_TERM, SD_CORE, SD_IGN, SD_STOP, SD_CONT };

static enum sig_default sig_default_action(int sig)
{
	switch (sig) {
	case SIGCHLD:
	case SIGURG:
	case SIGWINCH:
		return SD_IGN;
	case SIGSTOP:
	case SIGTSTP:
	case SIGTTIN:
	case SIGTTOU:
		return SD_STOP;
	case SIGCONT:
		return SD_CONT;
	case SIGQUIT:
	case SIGILL:
	case SIGTRAP:
	case SIGABRT:
	case SIGBUS:
	case SIGFPE:
	case SIGSEGV:
	case SIGXCPU:
	case SIGXFSZ:
	case SIGSYS:
		return SD_CORE;
	default:
		return SD_TERM;
	}
}

static bool sig_ignored(struct process *p, int sig)
{
	uint64_t h = p->sigactions[sig - 1].handler;
	if (h == (uint64_t)(uintptr_t)SIG_IGN)
		return true;
	return h == (uint64_t)(uintptr_t)SIG_DFL &&
	       (sig_default_action(sig) == SD_IGN ||
		sig_default_action(sig) == SD_CONT);
}

bool task_signal_pending(struct task *t)
{
	ksigset_t pend = t->pending.set | t->proc->shared_pending.set;
	return (pend & ~t->blocked) != 0;
}

#define SIGQUEUE_MAX 1024 /* queued siginfos per pending set */

static void queue_signal(struct sigpending *sp, int sig, const siginfo_t *info)
{
	/* Standard signals do not queue; real-time ones do (bounded). */
	if (sig < SIGRTMIN && (sp->set & sigbit(sig)))
		return;
	if (sp->nqueued < SIGQUEUE_MAX) {
		struct sigqueue *q = calloc(1, sizeof(*q));
		if (q) {
			if (info) {
				q->info = *info;
			} else {
				q->info.si_signo = sig;
				q->info.si_code = SI_KERNEL;
			}
			list_add_tail(&q->node, &sp->queue);
			sp->nqueued++;
		}
	}
	sp->set |= sigbit(sig);
}

struct sigqueue *signal_queue_timer_locked(struct process *p, struct task *t,
					   int sig, const siginfo_t *info,
					   struct ptimer *timer)
{
	if (sig < 1 || sig > BH_NSIG || p->state != PROC_ALIVE)
		return NULL;
	if (sig_ignored(p, sig) && !((t ? t->blocked : 0) & sigbit(sig)))
		return NULL;
	struct sigpending *sp = t ? &t->pending : &p->shared_pending;
	if (sp->nqueued >= SIGQUEUE_MAX)
		return NULL;
	struct sigqueue *q = calloc(1, sizeof(*q));
	if (!q)
		return NULL;
	q->info = *info;
	q->timer = timer;
	list_add_tail(&q->node, &sp->queue);
	sp->nqueued++;
	sp->set |= sigbit(sig);
	waitq_wake(&p->sigwait->wq, POLLIN);
	if (t) {
		if (!(t->blocked & sigbit(sig)))
			task_kick(t);
	} else {
		signal_wake_target(p, sig);
	}
	return q;
}

bool signal_dequeue(struct sigpending *sp, int sig, siginfo_t *info)
{
	struct list_head *pos;
	bool found = false, more = false;
	list_for_each(pos, &sp->queue)
	{
		struct sigqueue *q = list_entry(pos, struct sigqueue, node);
		if (q->info.si_signo != sig)
			continue;
		if (found) {
			more = true;
			break;
		}
		*info = q->info;
		found = true;
	}
	if (found) {
		list_for_each(pos, &sp->queue)
		{
			struct sigqueue *q =
			    list_entry(pos, struct sigqueue, node);
			if (q->info.si_signo == sig) {
				if (q->timer) {
					posix_timers_delivered(q);
					*info = q->info;
				}
				list_del(&q->node);
				sp->nqueued--;
				free(q);
				break;
			}
		}
	} else {
		memset(info, 0, sizeof(*info));
		info->si_signo = sig;
		info->si_code = SI_KERNEL;
	}
	if (!more)
		sp->set &= ~sigbit(sig);
	return true;
}

static void kill_process_now(struct process *p, int sig)
{
	if (p->group_exiting)
		return;
	p->group_exiting = true;
	p->exit_status = sig; /* WIFSIGNALED with WTERMSIG == sig */
	p->stopped = false;
	waitq_wake_all(&p->stop_wait);
	signal_kick_all(p);
}

void signal_kick_all(struct process *p)
{
	struct list_head *pos;
	list_for_each(pos, &p->threads)
	{
		task_kick(list_entry(pos, struct task, thread_node));
	}
}

/* Tell p's parent that p stopped or continued (SIGCHLD, unless the
 * parent asked for SA_NOCLDSTOP) and wake its waiters. */
static void notify_parent_jobctl(struct process *p, int code, int sig)
{
	struct process *pp = p->parent;
	if (!pp)
		return;
	waitq_wake_all(&pp->child_wait);
	if (pp->sigactions[SIGCHLD - 1].flags & SA_NOCLDSTOP)
		return;
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGCHLD;
	si.si_code = code;
	si.si_pid = p->pid;
	si.si_uid = process_uid(p);
	si.si_status = sig;
	signal_send_process_locked(pp, SIGCHLD, &si);
}

/* The thread that takes a process-directed signal: the first that does
 * not block it (NULL: all do; it waits in the shared set). */
static struct task *pick_target(struct process *p, int sig)
{
	struct list_head *pos;
	list_for_each(pos, &p->threads)
	{
		struct task *t = list_entry(pos, struct task, thread_node);
		if (!(t->blocked & sigbit(sig)))
			return t;
	}
	return NULL;
}

/* The sandbox's init is a PID-namespace init: signals whose action is
 * the default never reach it, except SIGKILL and SIGSTOP sent from outside
 * the sandbox (the control socket: no sender) or by the kernel itself (a
 * positive si_code), as Linux's SIGNAL_UNKILLABLE. So a child's kill(1,
 * SIGKILL), a stray SIGPIPE exit signal or SIGTERM without a handler
 * leaves init alone, and `docker stop` falls back to SIGKILL. tasklist
 * held. */
static bool init_protected(struct process *p, struct task *t, int sig,
			   const siginfo_t *info)
{
	if (p != kernel.init || p->init_killable ||
	    p->sigactions[sig - 1].handler != (uint64_t)(uintptr_t)SIG_DFL)
		return false;
	/* As Linux's sig_ignored: a blocked signal is never ignored (the
	 * handler may change before it is unblocked, and signalfd or
	 * sigwaitinfo may take it); delivery drops it then if still due. */
	if (sig != SIGKILL && sig != SIGSTOP &&
	    (t ? (t->blocked & sigbit(sig)) != 0 : pick_target(p, sig) == NULL))
		return false;
	bool force = !info || info->si_code > 0 ||
		     (info->si_code == SI_USER && info->si_pid == 0);
	return !(force && (sig == SIGKILL || sig == SIGSTOP));
}

int signal_send_task(struct task *t, int sig, const siginfo_t *info)
{
	tasklist_lock_take();
	int r = signal_send_task_locked(t, sig, info);
	tasklist_unlock();
	return r;
}

int signal_send_task_locked(struct task *t, int sig, const siginfo_t *info)
{
	if (sig < 1 || sig > BH_NSIG)
		return -EINVAL;
	struct process *p = t->proc;
	if (p->state != PROC_ALIVE || t->state != TASK_RUNNING)
		return 0;
	if (init_protected(p, t, sig, info))
		return 0;
	if (sig == SIGKILL) {
		kill_process_now(p, SIGKILL);
		return 0;
	}
	if (sig_ignored(p, sig) && !(t->blocked & sigbit(sig)))
		return 0;
	queue_signal(&t->pending, sig, info);
	waitq_wake(&p->sigwait->wq, POLLIN);
	if (!(t->blocked & sigbit(sig)))
		task_kick(t);
	return 0;
}

int signal_send_process(struct process *p, int sig, const siginfo_t *info)
{
	tasklist_lock_take();
	int r = signal_send_process_locked(p, sig, info);
	tasklist_unlock();
	return r;
}

int signal_send_process_locked(struct process *p, int sig,
			       const siginfo_t *info)
{
	if (sig < 1 || sig > BH_NSIG)
		return -EINVAL;
	if (p->state != PROC_ALIVE)
		return 0;
	if (init_protected(p, NULL, sig, info))
		return 0;
	if (sig == SIGKILL) {
		kill_process_now(p, SIGKILL);
		return 0;
	}
	if (sig == SIGCONT) {
		/* SIGCONT resumes a stopped process whatever its handler, and
		 * discards pending stop signals (as Linux's prepare_signal). */
		ksigset_t stops = sigbit(SIGSTOP) | sigbit(SIGTSTP) |
				  sigbit(SIGTTIN) | sigbit(SIGTTOU);
		p->shared_pending.set &= ~stops;
		struct list_head *tp;
		list_for_each(tp, &p->threads)
		{
			list_entry(tp, struct task, thread_node)->pending.set &=
			    ~stops;
		}
		if (p->stopped) {
			p->stopped = false;
			p->stop_report = false;
			p->cont_report = true;
			waitq_wake_all(&p->stop_wait);
			notify_parent_jobctl(p, CLD_CONTINUED, SIGCONT);
		}
	} else if (sig_default_action(sig) == SD_STOP) {
		p->shared_pending.set &= ~sigbit(SIGCONT);
	}
	struct task *target = pick_target(p, sig);
	if (sig_ignored(p, sig) && target)
		return 0;
	queue_signal(&p->shared_pending, sig, info);
	waitq_wake(&p->sigwait->wq, POLLIN);
	if (target)
		task_kick(target);
	return 0;
}

void signal_wake_target(struct process *p, int sig)
{
	struct task *target = pick_target(p, sig);
	if (target)
		task_kick(target);
}

static void fill_user_info(siginfo_t *si, struct task *sender, int sig,
			   int code)
{
	memset(si, 0, sizeof(*si));
	si->si_signo = sig;
	si->si_code = code;
	si->si_pid = sender ? sender->proc->pid : 0;
	si->si_uid = sender ? sender->cred.uid : 0;
}

static bool may_signal(struct task *sender, struct process *p)
{
	if (!sender)
		return true;
	const struct cred *c = &sender->cred;
	const struct cred *tc = process_cred(p);
	if (!tc)
		return true; /* a zombie: signalling it does nothing */
	return cred_capable(c, CAP_KILL) || c->euid == tc->uid ||
	       c->euid == tc->suid || c->uid == tc->uid || c->uid == tc->suid;
}

int signal_kill(struct task *sender, int pid, int sig)
{
	tasklist_lock_take();
	int r = signal_kill_locked(sender, pid, sig);
	tasklist_unlock();
	return r;
}

int signal_kill_locked(struct task *sender, int pid, int sig)
{
	if (sig < 0 || sig > BH_NSIG)
		return -EINVAL;
	/* -INT_MIN does not exist (and its negation below would be UB): no
	 * such process group, as Linux answers. */
	if (pid == INT_MIN)
		return -ESRCH;
	siginfo_t si;
	fill_user_info(&si, sender, sig, SI_USER);
	if (pid > 0) {
		struct process *p = kernel_find_process(pid);
		if (!p || p->state != PROC_ALIVE) {
			/* A zombie still exists for kill(pid, 0). */
			return p && p->state == PROC_ZOMBIE ? 0 : -ESRCH;
		}
		if (!may_signal(sender, p))
			return -EPERM;
		return sig ? signal_send_process_locked(p, sig, &si) : 0;
	}
	int pgid = pid == 0 ? (sender ? sender->proc->pgid : 1) : -pid;
	bool found = false, sent = false;
	struct list_head *pos, *head;
	if (pid == -1)
		head = &kernel.processes;
	else if (!(head = pid_pgrp(pgid)))
		return -ESRCH;
	list_for_each(pos, head)
	{
		struct process *p =
		    pid == -1 ? list_entry(pos, struct process, all_node)
			      : list_entry(pos, struct process, pgrp_node);
		/* Everyone but init and the sender, for -1. */
		if (pid == -1 && (p->pid == 1 || (sender && p == sender->proc)))
			continue;
		if (p->state == PROC_DEAD)
			continue;
		found = true;
		if (!may_signal(sender, p))
			continue;
		sent = true;
		/* A zombie member is found, and a signal to it is a no-op. */
		if (sig && p->state == PROC_ALIVE)
			signal_send_process_locked(p, sig, &si);
	}
	if (!found)
		return -ESRCH;
	return sent ? 0 : -EPERM;
}

void signal_force(struct task *t, int sig, const siginfo_t *info)
{
	tasklist_lock_take();
	struct ksigaction *sa = &t->proc->sigactions[sig - 1];
	if ((t->blocked & sigbit(sig)) ||
	    sa->handler == (uint64_t)(uintptr_t)SIG_IGN) {
		/* A fault that cannot be handled kills, as on Linux. */
		sa->handler = (uint64_t)(uintptr_t)SIG_DFL;
		t->blocked &= ~sigbit(sig);
	}
	if (sa->handler == (uint64_t)(uintptr_t)SIG_DFL)
		t->proc->init_killable = true; /* no-op but for init */
	queue_signal(&t->pending, sig, info);
	atomic_store(&t->work, true);
	tasklist_unlock();
}

/* Take the next deliverable signal: synchronous faults first (they are
 * thread-directed), then lowest number, as Linux does. tasklist held. */
static int next_signal(struct task *t, siginfo_t *info)
{
	ksigset_t mine = t->pending.set & ~t->blocked;
	ksigset_t shared = t->proc->shared_pending.set & ~t->blocked;
	if (!mine && !shared)
		return 0;
	struct sigpending *sp = mine ? &t->pending : &t->proc->shared_pending;
	ksigset_t set = mine ? mine : shared;
	int sig = __builtin_ctzll(set) + 1;
	signal_dequeue(sp, sig, info);
	return sig;
}

static void restart_syscall_after(struct task *t, bool has_handler,
				  uint64_t sa_flags)
{
	if (!t->in_syscall)
		return;
	long ret = (long)t->regs.rax;
	switch (-ret) {
	case ERESTARTNOHAND:
	case ERESTART_RESTARTBLOCK:
		if (has_handler) {
			t->regs.rax = (uint64_t)-EINTR;
			break;
		}
		if (-ret == ERESTART_RESTARTBLOCK) {
			t->regs.rax = __NR_restart_syscall;
			t->regs.rip -= 2;
			break;
		}
		/* fallthrough */
	case ERESTARTNOINTR:
		t->regs.rax = t->regs.orig_rax;
		t->regs.rip -= 2;
		break;
	case ERESTARTSYS:
		if (has_handler && !(sa_flags & SA_RESTART)) {
			t->regs.rax = (uint64_t)-EINTR;
			break;
		}
		t->regs.rax = t->regs.orig_rax;
		t->regs.rip -= 2;
		break;
	default:
		break;
	}
	t->in_syscall = false;
}

void signal_restart_done(struct task *t)
{
	if (t->in_syscall) {
		long ret = (long)t->regs.rax;
		if (ret <= -ERESTARTSYS && ret >= -ERESTART_RESTARTBLOCK)
			restart_syscall_after(t, false, 0);
	}
	if (t->has_saved_mask) {
		/* The mask a ppoll/pselect/sigsuspend set is put back. */
		tasklist_lock_take();
		t->blocked = t->saved_mask;
		t->has_saved_mask = false;
		task_recalc_work(t);
		tasklist_unlock();
	}
}

/* The frame for a handler, written with no lock held. */
static int setup_frame(struct task *t, int sig, const siginfo_t *info,
		       const struct ksigaction *sa, ksigset_t oldmask)
{
	uint64_t sp = t->regs.rsp;
	bool on_alt = t->altstack_size && sp >= t->altstack_sp &&
		      sp < t->altstack_sp + t->altstack_size;
	if ((sa->flags & SA_ONSTACK) && t->altstack_size && !on_alt)
		sp = t->altstack_sp + t->altstack_size;
	else
		sp -= 128; /* the red zone */

	/* The FPU state as Linux saves it: the whole XSAVE area, its size in
	 * sw_reserved (FP_XSTATE_MAGIC1) and FP_XSTATE_MAGIC2 right after it,
	 * so that code which reads or edits it (debuggers, JITs, libunwind)
	 * finds what it expects, and sigreturn restores all of it. */
	plat_fpregs fp; /* 4 KiB: sentry threads have 1 MiB stacks */
	memset(fp.b, 0, sizeof(fp.b));
	if (platform->get_fpregs(t->pt, &fp) < 0)
		return -EFAULT;
	const uint32_t xsize = plat_fp.size;
	const bool xstate = xsize > PLAT_FP_HDR;
	memset(fp.b + PLAT_FP_SW, 0, PLAT_FP_HDR - PLAT_FP_SW);
	if (xstate) {
		const uint32_t sw[4] = {PLAT_FP_MAGIC1, xsize + 4,
					(uint32_t)plat_fp.features,
					(uint32_t)(plat_fp.features >> 32)};
		memcpy(fp.b + PLAT_FP_SW, sw, sizeof(sw));
		memcpy(fp.b + PLAT_FP_SW + 16, &xsize, 4);
		/* Linux sets x87 and SSE as in use in every frame, so that
		 * a handler editing only the legacy area is heard. */
		uint64_t bv;
		memcpy(&bv, fp.b + PLAT_FP_HDR, 8);
		bv = (bv & plat_fp.features) | 3;
		memcpy(fp.b + PLAT_FP_HDR, &bv, 8);
		const uint32_t magic2 = PLAT_FP_MAGIC2;
		memcpy(fp.b + xsize, &magic2, 4);
	}
	sp -= xstate ? xsize + 4 : xsize;
	sp &= ~63UL;
	uint64_t fp_addr = sp;
	sp -= sizeof(struct rt_sigframe);
	sp = (sp & ~15UL) - 8;

	struct rt_sigframe f;
	memset(&f, 0, sizeof(f));
	f.pretcode = sa->restorer;
	/* UC_FP_XSTATE, UC_SIGCONTEXT_SS, UC_STRICT_RESTORE_SS, as Linux. */
	f.uc.uc_flags = (xstate ? 1 : 0) | 2 | 4;
	f.uc.uc_stack.ss_sp = t->altstack_sp;
	f.uc.uc_stack.ss_size = t->altstack_size;
	f.uc.uc_stack.ss_flags =
	    !t->altstack_size ? SS_DISABLE : (on_alt ? SS_ONSTACK : 0);
	struct k_sigcontext *sc = &f.uc.uc_mcontext;
	const plat_regs *r = &t->regs;
	sc->r8 = r->r8, sc->r9 = r->r9, sc->r10 = r->r10, sc->r11 = r->r11;
	sc->r12 = r->r12, sc->r13 = r->r13, sc->r14 = r->r14, sc->r15 = r->r15;
	sc->rdi = r->rdi, sc->rsi = r->rsi, sc->rbp = r->rbp, sc->rbx = r->rbx;
	sc->rdx = r->rdx, sc->rax = r->rax, sc->rcx = r->rcx, sc->rsp = r->rsp;
	sc->rip = r->rip, sc->eflags = r->eflags;
	sc->cs = 0x33, sc->ss = 0x2b;
	sc->oldmask = oldmask;
	sc->fpstate = fp_addr;
	if (info->si_signo == SIGSEGV || info->si_signo == SIGBUS)
		sc->cr2 = (uint64_t)(uintptr_t)info->si_addr;
	f.uc.uc_sigmask = oldmask;
	f.info = *info;
	f.info.si_signo = sig;

	if (copy_to_user(t, fp_addr, fp.b, xstate ? xsize + 4 : xsize) < 0 ||
	    copy_to_user(t, sp, &f, sizeof(f)) < 0)
		return -EFAULT;

	t->regs.rdi = (uint64_t)sig;
	t->regs.rsi = sp + offsetof(struct rt_sigframe, info);
	t->regs.rdx = sp + offsetof(struct rt_sigframe, uc);
	t->regs.rax = 0;
	t->regs.rsp = sp;
	t->regs.rip = sa->handler;
	t->regs.eflags &= ~(0x100UL | 0x400UL); /* TF, DF */
	t->regs.cs = 0x33;
	t->regs.ss = 0x2b;
	/* Handlers start with a clean FPU, as on Linux. */
	plat_fp_default(&fp);
	platform->set_fpregs(t->pt, &fp);
	return 0;
}

/* The process is stopped (a stop signal's default action, taken by this
 * thread or another): sleep until SIGCONT or SIGKILL. Pending signals do
 * not end a stop: only SIGCONT and SIGKILL clear p->stopped, so the sleep
 * is killable, not interruptible. (Orphaned process groups are not
 * special-cased.) tasklist held; dropped while asleep. */
static void stop_wait(struct task *t)
{
	struct process *p = t->proc;
	struct wait_entry we;
	wait_entry_init_task(&we, t, 0);
	waitq_add(&p->stop_wait, &we);
	while (p->stopped && !p->group_exiting) {
		uint32_t seq = task_wake_seq(t);
		tasklist_unlock();
		task_sleep(t, seq, NULL, SLEEP_KILLABLE);
		tasklist_lock_take();
	}
	waitq_remove(&we);
}

static void do_stop(struct task *t, int sig)
{
	struct process *p = t->proc;
	if (!p->stopped) {
		p->stopped = true;
		p->stop_sig = sig;
		p->stop_report = true;
		p->cont_report = false;
		notify_parent_jobctl(p, CLD_STOPPED, sig);
		/* Every thread stops: each finds p->stopped on its way back
		 * to the guest. */
		signal_kick_all(p);
	}
	stop_wait(t);
}

void signal_deliver(struct task *t)
{
	struct process *p = t->proc;
	tasklist_lock_take();
	for (;;) {
		/* Cleared first: anything that arrives from here on sets it
		 * again, and is seen by this loop or the next return. */
		atomic_store(&t->work, false);
		if (task_should_stop(t)) {
			int st = p->exit_status;
			tasklist_unlock();
			if (p->group_exiting)
				process_exit_group(t, st);
			task_exit(t, st);
		}
		if (p->stopped) {
			stop_wait(t);
			continue;
		}
		siginfo_t info;
		int sig = next_signal(t, &info);
		if (!sig) {
			restart_syscall_after(t, false, 0);
			if (t->has_saved_mask) {
				t->blocked = t->saved_mask;
				t->has_saved_mask = false;
			}
			task_recalc_work(t);
			tasklist_unlock();
			return;
		}
		struct ksigaction *sa = &p->sigactions[sig - 1];
		if (sa->handler == (uint64_t)(uintptr_t)SIG_IGN)
			continue;
		if (sa->handler == (uint64_t)(uintptr_t)SIG_DFL) {
			/* Queued before init's handler went back to the
			 * default: dropped now, as Linux's get_signal. */
			if (p == kernel.init && !p->init_killable &&
			    sig != SIGKILL && sig != SIGSTOP)
				continue;
			switch (sig_default_action(sig)) {
			case SD_IGN:
			case SD_CONT:
				continue;
			case SD_STOP:
				do_stop(t, sig);
				continue;
			case SD_CORE:
				/* No core files: the sandbox has nowhere to
				 * write them; WCOREDUMP stays clear. */
			case SD_TERM:
				tasklist_unlock();
				process_exit_group(t, sig);
			}
		}
		struct ksigaction act = *sa;
		restart_syscall_after(t, true, act.flags);
		ksigset_t oldmask =
		    t->has_saved_mask ? t->saved_mask : t->blocked;
		t->has_saved_mask = false;
		ksigset_t block = act.mask;
		if (!(act.flags & SA_NODEFER))
			block |= sigbit(sig);
		t->blocked = (oldmask | block) & ~SIG_KERNEL_ONLY;
		if (act.flags & SA_RESETHAND) {
			sa->handler = (uint64_t)(uintptr_t)SIG_DFL;
			sa->flags &= ~(uint64_t)SA_SIGINFO;
		}
		tasklist_unlock();
		/* Like Linux: a frame that cannot be written kills with
		 * SIGSEGV. */
		if (setup_frame(t, sig, &info, &act, oldmask) < 0)
			process_exit_group(t, SIGSEGV);
		tasklist_lock_take();
	}
}

/* The FPU state of a sigreturn frame, checked as Linux checks it: the
 * whole XSAVE area when sw_reserved describes one that fits ours and
 * FP_XSTATE_MAGIC2 follows it, else only the legacy area (the extended
 * state then starts from its init state); none at all: the init state.
 * Guest memory, read once and sanitized: it can only make the guest's own
 * registers what it asks. */
static int signal_restore_fp(struct task *t, uint64_t addr)
{
	plat_fpregs fp;
	memset(fp.b, 0, sizeof(fp.b));
	if (!addr) {
		plat_fp_default(&fp);
		return platform->set_fpregs(t->pt, &fp);
	}
	if (copy_from_user(t, fp.b, addr, PLAT_FP_HDR) < 0)
		return -EFAULT;
	uint32_t sw[5];
	memcpy(sw, fp.b + PLAT_FP_SW, sizeof(sw));
	uint64_t features = sw[2] | (uint64_t)sw[3] << 32;
	const uint32_t size = sw[4];
	uint64_t bv = 3; /* legacy only: x87 and SSE from it */
	if (plat_fp.size > PLAT_FP_HDR && sw[0] == PLAT_FP_MAGIC1 &&
	    size >= PLAT_FP_HDR + PLAT_FP_HDR_SIZE && size <= plat_fp.size &&
	    size <= sw[1]) {
		uint32_t magic2;
		if (copy_from_user(t, &magic2, addr + size, 4) < 0)
			return -EFAULT;
		if (magic2 == PLAT_FP_MAGIC2) {
			if (copy_from_user(t, fp.b + PLAT_FP_HDR,
					   addr + PLAT_FP_HDR,
					   size - PLAT_FP_HDR) < 0)
				return -EFAULT;
			/* Components it does not name start from init. */
			memcpy(&bv, fp.b + PLAT_FP_HDR, 8);
			bv &= features;
		}
	}
	if (bv == 3)
		memset(fp.b + PLAT_FP_HDR, 0, plat_fp.size - PLAT_FP_HDR);
	if (plat_fp.size > PLAT_FP_HDR)
		memcpy(fp.b + PLAT_FP_HDR, &bv, 8);
	plat_fp_sanitize(&fp);
	return platform->set_fpregs(t->pt, &fp);
}

long signal_sigreturn(struct task *t)
{
	uint64_t frame = t->regs.rsp - 8;
	struct rt_sigframe f;
	if (copy_from_user(t, &f, frame, sizeof(f)) < 0)
		process_exit_group(t, SIGSEGV);
	const struct k_sigcontext *sc = &f.uc.uc_mcontext;
	plat_regs *r = &t->regs;
	r->r8 = sc->r8, r->r9 = sc->r9, r->r10 = sc->r10, r->r11 = sc->r11;
	r->r12 = sc->r12, r->r13 = sc->r13, r->r14 = sc->r14, r->r15 = sc->r15;
	r->rdi = sc->rdi, r->rsi = sc->rsi, r->rbp = sc->rbp, r->rbx = sc->rbx;
	r->rdx = sc->rdx, r->rax = sc->rax, r->rcx = sc->rcx, r->rsp = sc->rsp;
	r->rip = sc->rip;
	/* Only the flags user code may change (Linux's FIX_EFLAGS). */
	const uint64_t fix = 0x40000 | 0x800 | 0x400 | 0x100 | 0x80 | 0x40 |
			     0x10 | 0x4 | 0x1 | 0x10000;
	r->eflags = (r->eflags & ~fix) | (sc->eflags & fix);
	r->cs = 0x33;
	r->ss = 0x2b;
	if (signal_restore_fp(t, sc->fpstate) < 0)
		process_exit_group(t, SIGSEGV);
	tasklist_lock_take();
	t->blocked = f.uc.uc_sigmask & ~SIG_KERNEL_ONLY;
	task_recalc_work(t);
	tasklist_unlock();
	/* The restored rax is the interrupted code's, not a result. */
	t->in_syscall = false;
	return (long)r->rax;
}
