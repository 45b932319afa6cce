/* Processes: creation (clone/fork/vfork), exit, reaping. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "bulkhead/log.h"
#include "sentry/kernel/exit_notify.h"
#include "sentry/kernel/futex.h"
#include "sentry/kernel/pid.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/usercopy.h"
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
	list_del(&p->all_node);
	free(p->cmdline);
	free(p);
}

void process_reap(struct process *p)
{
	p->state = PROC_DEAD;
	list_del(&p->sibling);
	p->parent = NULL;
	pid_leave_groups(p);
	pid_detach_process(p);
	process_put(p);
}

static void clone_failed_cleanup(struct process *p)
{
	if (p->files)
		fdtable_put(p->files);
	if (p->fs)
		fs_put(p->fs);
	if (p->mm)
		mm_put(p->mm);
	kernel.nprocs--;
	p->state = PROC_DEAD;
	pid_leave_groups(p);
	pid_detach_process(p);
	process_put(p);
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
	bool thread = flags & CLONE_THREAD;

	int pid = pid_alloc();
	if (pid < 0)
		return pid;
	struct plat_thread *cpt;
	/* CLONE_VM without CLONE_THREAD (vfork, posix_spawn): the child runs
	 * in another stub process that shares the memory; task_exec_begin()
	 * moves it to a fresh stub, so its exec never tears down the
	 * parent's address space. */
	bool share_vm = (flags & CLONE_VM) && !thread;
	int r = platform->clone(
	    t->pt, thread ? CLONE_THREAD : (share_vm ? CLONE_VM : 0), &cpt);
	if (r < 0) {
		pid_unreserve(pid);
		return r == -ENOMEM ? -ENOMEM : -EAGAIN;
	}

	struct process *p;
	struct task *c;
	if (thread) {
		p = parent;
		c = task_alloc(p, pid);
		if (!c) {
			platform->release(cpt);
			pid_unreserve(pid);
			return -ENOMEM;
		}
	} else {
		p = process_alloc(pid);
		if (!p) {
			platform->release(cpt);
			pid_unreserve(pid);
			return -EAGAIN;
		}
		struct process *pp = (flags & CLONE_PARENT) && parent->parent
					 ? parent->parent
					 : parent;
		p->parent = pp;
		list_add_tail(&p->sibling, &pp->children);
		pid_set_pgid(p, parent->pgid);
		pid_set_sid(p, parent->sid);
		p->cred = parent->cred;
		memcpy(p->rlimits, parent->rlimits, sizeof(p->rlimits));
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
		p->exit_signal = (int)(flags & CSIGNAL);
		if (share_vm) {
			p->mm = parent->mm;
			mm_get(p->mm);
		} else {
			p->mm = mm_dup(parent->mm);
		}
		if (flags & CLONE_FILES) {
			p->files = parent->files;
			fdtable_get(p->files);
		} else {
			p->files = fdtable_dup(parent->files);
		}
		p->fs = (flags & CLONE_FS) ? parent->fs : fs_dup(parent->fs);
		if (flags & CLONE_FS)
			fs_get(p->fs);
		c = p->mm && p->files && p->fs ? task_alloc(p, pid) : NULL;
		if (!c) {
			platform->release(cpt);
			list_del(&p->sibling);
			clone_failed_cleanup(p);
			return -ENOMEM;
		}
	}
	c->pt = cpt;
	c->regs = t->regs;
	c->regs.rax = 0;
	if (stack)
		c->regs.rsp = stack;
	if (flags & CLONE_SETTLS)
		c->regs.fs_base = tls;
	c->blocked = t->blocked;
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

	r = task_start(c);
	if (r < 0) {
		/* Unwind as an immediate exit of the child. */
		platform->release(c->pt);
		c->pt = NULL;
		bh_error("clone: cannot start a sentry thread: %s",
			 strerror(-r));
		list_del(&c->thread_node);
		p->nthreads--;
		task_free(c);
		process_put(p); /* the task's reference */
		if (!thread) {
			list_del(&p->sibling);
			clone_failed_cleanup(p);
		}
		return -EAGAIN;
	}
	if ((flags & CLONE_VFORK) && !thread) {
		/* Like Linux, a vfork parent is killable but otherwise waits;
		 * its signals are handled after the child let go. */
		process_get(p);
		struct wait_entry we;
		wait_entry_init_task(&we, t, 0);
		waitq_add(&p->vfork_wait, &we);
		while (!p->vfork_done) {
			uint32_t seq = task_wake_seq(t);
			if (p->vfork_done)
				break;
			if (task_sleep(t, seq, NULL, SLEEP_KILLABLE) == -EINTR)
				break;
		}
		waitq_remove(&we);
		process_put(p);
	}
	return pid;
}

void task_exec_done(struct task *t)
{
	struct process *p = t->proc;
	if (!p->vfork_done) {
		p->vfork_done = true;
		waitq_wake_all(&p->vfork_wait);
	}
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
	t->pt = npt;
	platform->release(old);
	mm_put(t->proc->mm);
	t->proc->mm = mm;
	return 0;
}

int task_exec_begin(struct task *t)
{
	struct process *p = t->proc;
	if (p->mm->refs > 1) {
		int r = exec_new_address_space(t);
		if (r < 0)
			return r;
	}
	if (p->nthreads == 1)
		return 0;
	/* Like de_thread(): every other thread dies, then exec goes on. A
	 * second thread exec'ing at the same time loses, as in Linux. */
	if (p->exec_task || p->group_exiting)
		return -EINTR;
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
		if (p->nthreads <= 1)
			break;
		task_sleep(t, seq, NULL, SLEEP_KILLABLE);
	}
	waitq_remove(&we);
	p->exec_task = NULL;
	if (p->nthreads > 1)
		return -EINTR; /* killed meanwhile: the group is going */
	/* The survivor takes over the leader's id: after exec, tid == pid. */
	if (t->tid != p->pid) {
		pid_detach_task(t);
		pid_attach_task(t, p->pid);
	}
	return 0;
}

/* Every other process of the sandbox, when init dies (a pid namespace's
 * init takes its namespace with it). */
static void kill_all_but(struct process *self)
{
	struct list_head *pos;
	list_for_each(pos, &kernel.processes)
	{
		struct process *p = list_entry(pos, struct process, all_node);
		if (p != self && p->state == PROC_ALIVE)
			signal_send_process(p, SIGKILL, NULL);
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
		list_add_tail(&c->sibling, &reaper->children);
		if (c->state == PROC_ZOMBIE) {
			waitq_wake_all(&reaper->child_wait);
			signal_send_process(reaper, SIGCHLD, NULL);
		}
	}
}

/* The last thread of p has gone: p becomes a zombie for its parent. */
static void process_exit_notify(struct process *p)
{
	if (p->files) {
		fdtable_put(p->files);
		p->files = NULL;
	}
	if (p->fs) {
		fs_put(p->fs);
		p->fs = NULL;
	}
	if (p->mm) {
		mm_put(p->mm);
		p->mm = NULL;
	}
	p->vfork_done = true;
	waitq_wake_all(&p->vfork_wait);
	if (p == kernel.init)
		kill_all_but(p);
	reparent_children(p);
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
		si.si_uid = p->cred.uid;
		if (WIFSIGNALED(p->exit_status)) {
			si.si_code =
			    WCOREDUMP(p->exit_status) ? CLD_DUMPED : CLD_KILLED;
			si.si_status = WTERMSIG(p->exit_status);
		} else {
			si.si_code = CLD_EXITED;
			si.si_status = WEXITSTATUS(p->exit_status);
		}
		signal_send_process(pp, p->exit_signal, &si);
	}
	waitq_wake_all(&pp->child_wait);
	if (autoreap)
		process_reap(p);
}

void task_exit(struct task *t, int status)
{
	struct process *p = t->proc;
	t->state = TASK_EXITING;
	if (!p->group_exiting && p->nthreads == 1)
		p->exit_status = status;
	if (t->clear_child_tid && p->nthreads > 1) {
		int32_t zero = 0;
		if (copy_to_user(t, t->clear_child_tid, &zero, 4) == 0)
			futex_wake(t, t->clear_child_tid, 1, FUTEX_BITSET_ALL);
	}
	if (t->pt) {
		/* The host thread may block briefly while it dies. */
		struct plat_thread *pt = t->pt;
		t->pt = NULL;
		kunlock();
		platform->release(pt);
		klock();
	}
	list_del(&t->thread_node);
	p->nthreads--;
	t->state = TASK_DEAD;
	if (p->nthreads == 0)
		process_exit_notify(p);
	else
		waitq_wake_all(&p->child_wait); /* exec waiting for threads */
	process_put(p);
	current = NULL;
	task_free(t);
	kunlock();
	task_leave();
}

void process_exit_group(struct task *t, int status)
{
	struct process *p = t->proc;
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
	task_exit(t, p->exit_status);
}
