/* Processes: creation (clone/fork/vfork), exec's de_thread, exit, reaping.
 * The process tree and the task lists are under tasklist_lock; everything
 * that makes a host round trip (the platform's clone and release, the mm's
 * copy, the puts of files and address spaces) happens outside it. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "bulkhead/log.h"
#include "sentry/ipc/sem.h"
#include "sentry/kernel/exit_notify.h"
#include "sentry/kernel/futex.h"
#include "sentry/kernel/itimer.h"
#include "sentry/kernel/pid.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/usercopy.h"
#include "sentry/tty/jobctl.h"
#include "sentry/vfs/locks.h"
#include "sentry/vfs/vfs.h"

#define NPROC_MAX 4096 /* processes per sandbox */

/* Reference counting: one reference for being in the process tree (from
 * process_alloc until reaped) and one per task (task_alloc/task_exit). */
struct process *process_alloc(int pid)
{
	if (kernel.nprocs >= NPROC_MAX)
		return NULL;
	struct process *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->sigwait = calloc(1, sizeof(*p->sigwait));
	if (!p->sigwait) {
		free(p);
		return NULL;
	}
	atomic_init(&p->sigwait->refs, 1);
	waitq_init(&p->sigwait->wq);
	p->pid = pid;
	p->refs = 1;
	list_init(&p->children);
	list_init(&p->sibling);
	list_init(&p->pgrp_node);
	list_init(&p->session_node);
	list_init(&p->threads);
	list_init(&p->shared_pending.queue);
	waitq_init(&p->child_wait);
	waitq_init(&p->vfork_wait);
	waitq_init(&p->stop_wait);
	itimer_init(p);
	cputime_init(p);
	list_init(&p->cpu_timers);
	list_init(&p->ptimers);
	list_init(&p->flocks);
	p->exit_signal = SIGCHLD;
	p->start_ns = kernel_now_ns(CLOCK_MONOTONIC);
	list_add_tail(&p->all_node, &kernel.processes);
	pid_attach_process(p);
	kernel.nprocs++;
	return p;
}

void process_get(struct process *p)
{
	atomic_fetch_add(&p->refs, 1);
}

/* The last reference: p is out of every list (reaped, or a clone that
 * failed) and its timers were stopped at exit. */
void process_put(struct process *p)
{
	if (atomic_fetch_sub(&p->refs, 1) > 1)
		return;
	struct list_head *pos, *n;
	list_for_each_safe(pos, n, &p->shared_pending.queue)
	{
		list_del(pos);
		free(list_entry(pos, struct sigqueue, node));
	}
	free(p->cmdline);
	sigwait_put(p->sigwait);
	free(p);
}

void sigwait_get(struct sigwait_head *h)
{
	atomic_fetch_add(&h->refs, 1);
}

void sigwait_put(struct sigwait_head *h)
{
	if (h && atomic_fetch_sub(&h->refs, 1) == 1)
		free(h);
}

const struct cred *process_cred(struct process *p)
{
	struct task *leader = NULL;
	struct list_head *pos;
	list_for_each(pos, &p->threads)
	{
		struct task *t = list_entry(pos, struct task, thread_node);
		if (t->tid == p->pid)
			return &t->cred;
		if (!leader)
			leader = t;
	}
	return leader ? &leader->cred : NULL;
}

uint32_t process_uid(struct process *p)
{
	const struct cred *c = process_cred(p);
	return c ? c->uid : p->exit_uid;
}

/* tasklist held. */
void process_reap(struct process *p)
{
	p->state = PROC_DEAD;
	list_del(&p->sibling);
	list_init(&p->sibling);
	list_del(&p->all_node);
	list_init(&p->all_node);
	p->parent = NULL;
	pid_leave_groups(p);
	pid_detach_process(p);
	process_put(p);
}

/* Resources a clone made before it could link the child. */
struct clone_res {
	struct plat_thread *pt;
	struct mm *mm;
	struct fdtable *files;
	struct fs_struct *fs;
	int pid;
};

static void clone_res_drop(struct clone_res *cr)
{
	if (cr->pt)
		platform->release(cr->pt);
	if (cr->files)
		fdtable_put(cr->files);
	if (cr->fs)
		fs_put(cr->fs);
	if (cr->mm)
		mm_put(cr->mm);
	if (cr->pid > 0) {
		tasklist_lock_take();
		pid_unreserve(cr->pid);
		tasklist_unlock();
	}
}

/* A child that was linked but could not start: take it out again.
 * tasklist held; returns with it dropped. */
static void clone_unlink(struct task *c, bool thread, struct clone_res *cr)
{
	struct process *p = c->proc;
	list_del(&c->thread_node);
	p->nthreads--;
	kernel.ntasks--;
	pid_detach_task(c);
	cr->files = c->files;
	cr->fs = c->fs;
	c->files = NULL;
	c->fs = NULL;
	if (!thread) {
		cr->mm = p->mm;
		p->mm = NULL;
		kernel.nprocs--;
		process_reap(p); /* the tree's reference */
	}
	tasklist_unlock();
	cr->pid = 0;
	cr->pt = c->pt;
	c->pt = NULL;
	task_free(c);
	process_put(p); /* the task's reference */
	clone_res_drop(cr);
}

long kernel_clone(struct task *t, uint64_t flags, uint64_t stack, uint64_t ptid,
		  uint64_t ctid, uint64_t tls)
{
	struct process *parent = t->proc;
	const uint64_t supported =
	    CSIGNAL | CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
	    CLONE_PARENT | CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS |
	    CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID |
	    CLONE_VFORK | CLONE_DETACHED | CLONE_IO;
	if (flags & ~supported)
		return -EINVAL; /* namespaces, ptrace, pidfd: not ours to give
				 */
	if ((flags & CLONE_THREAD) && !(flags & CLONE_SIGHAND))
		return -EINVAL;
	if ((flags & CLONE_SIGHAND) && !(flags & CLONE_VM))
		return -EINVAL;
	if ((flags & CSIGNAL) > BH_NSIG)
		return -EINVAL;
	/* As Linux: init has no parent in the sandbox to give a child. */
	if ((flags & CLONE_PARENT) && parent == kernel.init)
		return -EINVAL;
	bool thread = flags & CLONE_THREAD;
	/* CLONE_VM without CLONE_THREAD (vfork, posix_spawn): the child runs
	 * in another stub process that shares the memory; task_exec_begin()
	 * moves it to a fresh stub, so its exec never tears down the
	 * parent's address space. */
	bool share_vm = (flags & CLONE_VM) && !thread;
	struct clone_res cr = {0};

	tasklist_lock_take();
	/* linux.resources.pids, exactly, on guest tasks (the host's pids.max
	 * has room for the sandbox's own threads besides): EAGAIN, as the
	 * pids controller answers fork and clone. */
	if (kernel.pids_limit > 0 && kernel.ntasks >= kernel.pids_limit)
		cr.pid = -EAGAIN;
	else
		cr.pid = pid_alloc();
	tasklist_unlock();
	if (cr.pid < 0)
		return cr.pid;
	unsigned long pflags = thread ? CLONE_THREAD : share_vm ? CLONE_VM : 0;
	int r;
	if (!thread && !share_vm) {
		/* The host copies the memory at its clone: no sibling may
		 * change the mappings between that and our copy of them. */
		mm_lock(parent->mm);
		r = platform->clone(t->pt, pflags, &cr.pt);
		if (r == 0 && !(cr.mm = mm_dup(parent->mm)))
			r = -ENOMEM;
		mm_unlock(parent->mm);
	} else {
		r = platform->clone(t->pt, pflags, &cr.pt);
	}
	if (r == 0 && share_vm) {
		cr.mm = parent->mm;
		mm_get(cr.mm);
	}
	if (r == 0) {
		if (flags & CLONE_FILES) {
			cr.files = t->files;
			fdtable_get(cr.files);
		} else if (!(cr.files = fdtable_dup(t->files))) {
			r = -ENOMEM;
		}
	}
	if (r == 0) {
		if (flags & CLONE_FS) {
			cr.fs = t->fs;
			fs_get(cr.fs);
		} else if (!(cr.fs = fs_dup(t->fs))) {
			r = -ENOMEM;
		}
	}
	if (r < 0) {
		clone_res_drop(&cr);
		return r == -ENOMEM ? -ENOMEM : -EAGAIN;
	}

	tasklist_lock_take();
	/* Like Linux's copy_process: a parent being killed makes no child;
	 * the syscall restarts, and the return to the guest ends the task. */
	if (parent->group_exiting || task_should_stop(t)) {
		tasklist_unlock();
		clone_res_drop(&cr);
		return -ERESTARTNOINTR;
	}
	struct process *p;
	struct task *c;
	if (thread) {
		p = parent;
		c = task_alloc(p, cr.pid);
		if (!c) {
			tasklist_unlock();
			clone_res_drop(&cr);
			return -ENOMEM;
		}
	} else {
		p = process_alloc(cr.pid);
		if (!p) {
			tasklist_unlock();
			clone_res_drop(&cr);
			return -EAGAIN;
		}
		struct process *pp = (flags & CLONE_PARENT) && parent->parent
					 ? parent->parent
					 : parent;
		p->parent = pp;
		list_add_tail(&p->sibling, &pp->children);
		pid_set_pgid(p, parent->pgid);
		pid_set_sid(p, parent->sid);
		p->ctty = parent->ctty;
		for (int i = 0; i < RLIM_NLIMITS; i++)
			p->rlimits[i] = parent->rlimits[i];
		memcpy(p->sigactions, parent->sigactions,
		       sizeof(p->sigactions));
		memcpy(p->comm, parent->comm, sizeof(p->comm));
		memcpy(p->exe_path, parent->exe_path, sizeof(p->exe_path));
		if (parent->cmdline) {
			p->cmdline = malloc(parent->cmdline_len);
			if (p->cmdline) {
				memcpy(p->cmdline, parent->cmdline,
				       parent->cmdline_len);
				p->cmdline_len = parent->cmdline_len;
			}
		}
		/* CLONE_PARENT: a sibling of the caller, announced to the
		 * parent as the caller would be, whatever the flags ask (as
		 * Linux: no way to send an arbitrary signal to init). */
		p->exit_signal = (flags & CLONE_PARENT)
				     ? parent->exit_signal
				     : (int)(flags & CSIGNAL);
		p->mm = cr.mm;
		cr.mm = NULL;
		c = task_alloc(p, cr.pid);
		if (!c) {
			cr.mm = p->mm;
			p->mm = NULL;
			kernel.nprocs--;
			pid_unreserve(cr.pid);
			cr.pid = 0;
			process_reap(p);
			tasklist_unlock();
			clone_res_drop(&cr);
			return -ENOMEM;
		}
	}
	c->cred = t->cred;
	c->blocked = t->blocked;
	c->files = cr.files;
	c->fs = cr.fs;
	cr.files = NULL;
	cr.fs = NULL;
	int pid = cr.pid;
	tasklist_unlock();
	cr.pid = 0;

	c->pt = cr.pt;
	cr.pt = NULL;
	c->regs = t->regs;
	c->regs.rax = 0;
	if (stack)
		c->regs.rsp = stack;
	if (flags & CLONE_SETTLS)
		c->regs.fs_base = tls;
	c->altstack_sp = t->altstack_sp;
	c->altstack_size = t->altstack_size;
	c->altstack_flags = t->altstack_flags;
	if (flags & CLONE_CHILD_CLEARTID)
		c->clear_child_tid = ctid;
	int32_t v = pid;
	if (flags & CLONE_PARENT_SETTID)
		copy_to_user(t, ptid, &v, sizeof(v));
	/* Written by the child itself once it runs (Linux's schedule_tail):
	 * its address space is not reachable before its thread adopted it. */
	if (flags & CLONE_CHILD_SETTID)
		c->set_child_tid = ctid;
	if (!thread)
		process_get(p); /* for the vfork wait below */

	r = task_start(c);
	if (r < 0) {
		bh_error("clone: cannot start a sentry thread: %s",
			 strerror(-r));
		tasklist_lock_take();
		clone_unlink(c, thread, &cr);
		if (!thread)
			process_put(p);
		return -EAGAIN;
	}
	if ((flags & CLONE_VFORK) && !thread) {
		/* Like Linux, a vfork parent is killable but otherwise waits;
		 * its signals are handled after the child let go. */
		struct wait_entry we;
		wait_entry_init_task(&we, t, 0);
		waitq_add(&p->vfork_wait, &we);
		for (;;) {
			uint32_t seq = task_wake_seq(t);
			tasklist_lock_take();
			bool done = p->vfork_done;
			tasklist_unlock();
			if (done ||
			    task_sleep(t, seq, NULL, SLEEP_KILLABLE) == -EINTR)
				break;
		}
		waitq_remove(&we);
	}
	if (!thread)
		process_put(p);
	return pid;
}

void task_exec_done(struct task *t)
{
	struct process *p = t->proc;
	tasklist_lock_take();
	if (!p->vfork_done) {
		p->vfork_done = true;
		waitq_wake_all(&p->vfork_wait);
	}
	tasklist_unlock();
}

/* An exec'ing process that shares its memory with another (a vfork child)
 * moves to a fresh stub process with an empty address space. */
static int exec_new_address_space(struct task *t)
{
	struct plat_thread *npt;
	int r = platform->spawn(&npt);
	if (r < 0)
		return r;
	r = platform->adopt(npt);
	if (r < 0) {
		platform->release(npt);
		return r;
	}
	struct mm *mm = mm_new();
	if (!mm) {
		platform->release(npt);
		return -ENOMEM;
	}
	struct plat_thread *old = t->pt;
	tasklist_lock_take();
	t->pt = npt;
	struct mm *omm = t->proc->mm;
	t->proc->mm = mm;
	tasklist_unlock();
	platform->release(old);
	mm_put(omm);
	return 0;
}

int task_exec_begin(struct task *t)
{
	struct process *p = t->proc;
	if (atomic_load(&p->mm->refs) > 1) {
		int r = exec_new_address_space(t);
		if (r < 0)
			return r;
	}
	tasklist_lock_take();
	if (p->nthreads == 1) {
		tasklist_unlock();
		return 0;
	}
	/* Like de_thread(): every other thread dies, then exec goes on. A
	 * second thread exec'ing at the same time loses, as in Linux. */
	if (p->exec_task || p->group_exiting) {
		tasklist_unlock();
		return -EINTR;
	}
	p->exec_task = t;
	struct list_head *pos;
	list_for_each(pos, &p->threads)
	{
		struct task *o = list_entry(pos, struct task, thread_node);
		if (o != t)
			task_kick(o);
	}
	struct wait_entry we;
	wait_entry_init_task(&we, t, 0);
	waitq_add(&p->child_wait, &we);
	while (p->nthreads > 1 && !p->group_exiting &&
	       t->state == TASK_RUNNING) {
		uint32_t seq = task_wake_seq(t);
		tasklist_unlock();
		task_sleep(t, seq, NULL, SLEEP_KILLABLE);
		tasklist_lock_take();
	}
	waitq_remove(&we);
	p->exec_task = NULL;
	if (p->nthreads > 1) {
		tasklist_unlock();
		return -EINTR; /* killed meanwhile: the group is going */
	}
	/* The survivor takes over the leader's id: after exec, tid == pid. */
	if (t->tid != p->pid) {
		pid_detach_task(t);
		pid_attach_task(t, p->pid);
	}
	tasklist_unlock();
	return 0;
}

/* Every other process of the sandbox, when init dies (a pid namespace's
 * init takes its namespace with it). tasklist held. */
static void kill_all_but(struct process *self)
{
	struct list_head *pos;
	list_for_each(pos, &kernel.processes)
	{
		struct process *p = list_entry(pos, struct process, all_node);
		if (p != self && p->state == PROC_ALIVE)
			signal_send_process_locked(p, SIGKILL, NULL);
	}
}

static void reparent_children(struct process *p)
{
	struct process *reaper = kernel.init;
	struct list_head *pos, *n;
	list_for_each_safe(pos, n, &p->children)
	{
		struct process *c = list_entry(pos, struct process, sibling);
		list_del(&c->sibling);
		if (!reaper || reaper == p || reaper->state != PROC_ALIVE) {
			/* Nobody will wait: reaped as soon as it is a zombie.
			 */
			c->parent = NULL;
			list_init(&c->sibling);
			if (c->state == PROC_ZOMBIE)
				process_reap(c);
			continue;
		}
		c->parent = reaper;
		/* As Linux's reparent_leader: the reaper hears SIGCHLD, not
		 * the exit signal the old parent chose. */
		c->exit_signal = SIGCHLD;
		list_add_tail(&c->sibling, &reaper->children);
		tty_reparent_orphans_locked(c, p);
		if (c->state == PROC_ZOMBIE) {
			waitq_wake_all(&reaper->child_wait);
			signal_send_process_locked(reaper, SIGCHLD, NULL);
		}
	}
}

/* The last thread of p has gone and its resources are put: p becomes a
 * zombie for its parent. tasklist held. */
static void process_exit_notify(struct process *p)
{
	tty_exit_locked(p);
	p->vfork_done = true;
	waitq_wake_all(&p->vfork_wait);
	if (p == kernel.init)
		kill_all_but(p);
	reparent_children(p);
	tty_exit_orphans_locked(p);
	kernel.nprocs--;
	p->state = PROC_ZOMBIE;

	struct process *pp = p->parent;
	if (!pp) {
		if (p == kernel.init)
			exit_notify_init(p->exit_status);
		process_reap(p);
		return;
	}
	bool autoreap = false;
	if (p->exit_signal == SIGCHLD) {
		struct ksigaction *sa = &pp->sigactions[SIGCHLD - 1];
		autoreap = sa->handler == (uint64_t)(uintptr_t)SIG_IGN ||
			   (sa->flags & SA_NOCLDWAIT);
	}
	if (p->exit_signal > 0) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		si.si_signo = p->exit_signal;
		si.si_pid = p->pid;
		si.si_uid = p->exit_uid;
		if (WIFSIGNALED(p->exit_status)) {
			si.si_code =
			    WCOREDUMP(p->exit_status) ? CLD_DUMPED : CLD_KILLED;
			si.si_status = WTERMSIG(p->exit_status);
		} else {
			si.si_code = CLD_EXITED;
			si.si_status = WEXITSTATUS(p->exit_status);
		}
		signal_send_process_locked(pp, p->exit_signal, &si);
	}
	waitq_wake_all(&pp->child_wait);
	if (autoreap)
		process_reap(p);
}

void task_exit(struct task *t, int status)
{
	struct process *p = t->proc;
	tasklist_lock_take();
	t->state = TASK_EXITING;
	if (!p->group_exiting && p->nthreads == 1)
		p->exit_status = status;
	bool others = p->nthreads > 1;
	tasklist_unlock();
	futex_exit_robust(t);
	if (t->clear_child_tid && others) {
		int32_t zero = 0;
		if (copy_to_user(t, t->clear_child_tid, &zero, 4) == 0)
			futex_wake_addr(t, t->clear_child_tid, 1);
	}
	tasklist_lock_take();
	struct plat_thread *pt = t->pt;
	t->pt = NULL;
	tasklist_unlock();
	/* The host thread may block briefly while it dies. */
	if (pt)
		platform->release(pt);

	tasklist_lock_take();
	struct fdtable *files = t->files;
	struct fs_struct *fs = t->fs;
	t->files = NULL;
	t->fs = NULL;
	tasklist_unlock();
	/* Closing the last reference to a file may be a round trip (a
	 * gofer close, a socket's shutdown): no lock held. */
	if (files)
		fdtable_put(files);
	if (fs)
		fs_put(fs);

	tasklist_lock_take();
	list_del(&t->thread_node);
	p->nthreads--;
	kernel.ntasks--;
	t->state = TASK_DEAD;
	bool last = p->nthreads == 0;
	if (last)
		p->exit_uid = t->cred.uid;
	task_free(t); /* its tid goes back to the table */
	if (!last) {
		waitq_wake_all(&p->child_wait); /* exec waiting for threads */
		tasklist_unlock();
	} else {
		struct mm *mm = p->mm;
		p->mm = NULL;
		tasklist_unlock();
		itimer_exit(p);
		sem_exit(p); /* its SEM_UNDO adjustments, as Linux's exit_sem */
		locks_exit_process(p);
		if (mm)
			mm_put(mm);
		tasklist_lock_take();
		process_exit_notify(p);
		tasklist_unlock();
	}
	process_put(p);
	current = NULL;
	task_leave();
}

void process_exit_group(struct task *t, int status)
{
	struct process *p = t->proc;
	tasklist_lock_take();
	if (!p->group_exiting) {
		p->group_exiting = true;
		p->exit_status = status;
		struct list_head *pos;
		list_for_each(pos, &p->threads)
		{
			struct task *o =
			    list_entry(pos, struct task, thread_node);
			if (o != t)
				task_kick(o);
		}
	}
	int st = p->exit_status;
	tasklist_unlock();
	task_exit(t, st);
}
