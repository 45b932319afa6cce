/* Process syscalls: clone/fork/vfork, exit, wait, ids, sessions. */
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/capability.h>

#include "sentry/kernel/cputime.h"
#include "sentry/kernel/pid.h"
#include "sentry/kernel/signal.h"
#include "sentry/tty/jobctl.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/usercopy.h"
#include "sentry/syscalls/syscalls.h"

static long sys_clone(struct task *t, const uint64_t a[6])
{
	/* x86-64 order: flags, stack, parent_tid, child_tid, tls. */
	return kernel_clone(t, a[0], a[1], a[2], a[3], a[4]);
}

static long sys_fork(struct task *t, const uint64_t a[6])
{
	(void)a;
	return kernel_clone(t, SIGCHLD, 0, 0, 0, 0);
}

static long sys_vfork(struct task *t, const uint64_t a[6])
{
	(void)a;
	return kernel_clone(t, CLONE_VM | CLONE_VFORK | SIGCHLD, 0, 0, 0, 0);
}

static long sys_exit(struct task *t, const uint64_t a[6])
{
	task_exit(t, ((int)a[0] & 0xff) << 8);
}

static long sys_exit_group(struct task *t, const uint64_t a[6])
{
	process_exit_group(t, ((int)a[0] & 0xff) << 8);
}

/* Does child c match wait4's pid argument for parent p? */
static bool wait_match(struct process *p, struct process *c, int pid)
{
	if (pid > 0)
		return c->pid == pid;
	if (pid == -1)
		return true;
	if (pid == 0)
		return c->pgid == p->pgid;
	return c->pgid == -pid;
}

struct wait_result {
	int pid;
	int status;
	int code; /* CLD_* */
	int uid;
	struct cputimes times; /* a reaped child's, with its children's */
};

/* One pass over the children; returns 1 with a result, 0 if some match is
 * still running, -ECHILD if none matches. */
static int wait_scan(struct task *t, int pid, int options, bool reap,
		     struct wait_result *res)
{
	struct process *p = t->proc;
	bool any = false;
	struct list_head *pos;
	/* Threads of one process share their children. */
	list_for_each(pos, &p->children)
	{
		struct process *c = list_entry(pos, struct process, sibling);
		if (!wait_match(p, c, pid))
			continue;
		any = true;
		if (c->state == PROC_ALIVE && (options & WUNTRACED) &&
		    c->stopped && c->stop_report) {
			res->pid = c->pid;
			res->status = (c->stop_sig << 8) | 0x7f;
			res->code = CLD_STOPPED;
			res->uid = (int)process_uid(c);
			if (reap)
				c->stop_report = false;
			return 1;
		}
		if (c->state == PROC_ALIVE && (options & WCONTINUED) &&
		    c->cont_report) {
			res->pid = c->pid;
			res->status = 0xffff;
			res->code = CLD_CONTINUED;
			res->uid = (int)process_uid(c);
			if (reap)
				c->cont_report = false;
			return 1;
		}
		if (c->state != PROC_ZOMBIE || !(options & WEXITED))
			continue;
		res->pid = c->pid;
		res->status = c->exit_status;
		res->uid = (int)process_uid(c);
		res->code =
		    WIFSIGNALED(c->exit_status) ? CLD_KILLED : CLD_EXITED;
		struct cputimes ct;
		cputime_process(c, &ct);
		res->times.utime = ct.utime + c->cutime_ns;
		res->times.stime = ct.stime + c->cstime_ns;
		if (reap) {
			/* A reaped child's time counts for RUSAGE_CHILDREN. */
			p->cutime_ns += res->times.utime;
			p->cstime_ns += res->times.stime;
			process_reap(c);
		}
		return 1;
	}
	return any ? 0 : -ECHILD;
}

static long do_wait(struct task *t, int pid, int options, bool reap,
		    struct wait_result *res)
{
	struct wait_entry we;
	wait_entry_init_task(&we, t, 0);
	long r;
	bool interrupted = false;
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		tasklist_lock_take();
		r = wait_scan(t, pid, options, reap, res);
		tasklist_unlock();
		if (r != 0 || (options & WNOHANG))
			break;
		/* As Linux's do_wait: a signal ends the wait only when a scan
		 * after it found nothing, so the SIGCHLD of the very child
		 * being waited for does not turn its wait into EINTR. */
		if (interrupted) {
			r = -ERESTARTSYS;
			break;
		}
		if (!we.q)
			waitq_add(&t->proc->child_wait, &we);
		if (task_sleep(t, seq, NULL, SLEEP_INTR) == -EINTR)
			interrupted = true;
	}
	waitq_remove(&we);
	return r;
}

static long sys_wait4(struct task *t, const uint64_t a[6])
{
	int pid = (int)a[0];
	int options = (int)a[2];
	if (options & ~(WNOHANG | WUNTRACED | WCONTINUED | __WALL | __WCLONE |
			__WNOTHREAD))
		return -EINVAL;
	if (pid == INT32_MIN)
		return -ESRCH;
	struct wait_result res;
	long r = do_wait(t, pid, options | WEXITED, true, &res);
	if (r <= 0)
		return r;
	if (a[1] && copy_to_user(t, a[1], &res.status, sizeof(int)) < 0)
		return -EFAULT;
	if (a[3]) {
		struct rusage ru;
		memset(&ru, 0, sizeof(ru));
		if (res.code == CLD_EXITED || res.code == CLD_KILLED) {
			ru.ru_utime.tv_sec =
			    (time_t)(res.times.utime / 1000000000);
			ru.ru_utime.tv_usec =
			    (suseconds_t)(res.times.utime % 1000000000 / 1000);
			ru.ru_stime.tv_sec =
			    (time_t)(res.times.stime / 1000000000);
			ru.ru_stime.tv_usec =
			    (suseconds_t)(res.times.stime % 1000000000 / 1000);
		}
		if (copy_to_user(t, a[3], &ru, sizeof(ru)) < 0)
			return -EFAULT;
	}
	return res.pid;
}

static long sys_waitid(struct task *t, const uint64_t a[6])
{
	int which = (int)a[0];
	int id = (int)a[1];
	int options = (int)a[3];
	int pid;
	if (options & ~(WNOHANG | WEXITED | WSTOPPED | WCONTINUED | WNOWAIT |
			__WALL | __WCLONE | __WNOTHREAD))
		return -EINVAL;
	if (!(options & (WEXITED | WSTOPPED | WCONTINUED)))
		return -EINVAL;
	switch (which) {
	case P_ALL:
		pid = -1;
		break;
	case P_PID:
		if (id <= 0)
			return -EINVAL;
		pid = id;
		break;
	case P_PGID:
		if (id < 0)
			return -EINVAL;
		pid = id ? -id : 0;
		break;
	default:
		return -EINVAL;
	}
	struct wait_result res;
	/* waitid spells WUNTRACED as WSTOPPED (the same bit). */
	long r = do_wait(t, pid, options, !(options & WNOWAIT), &res);
	if (r < 0)
		return r;
	if (a[2]) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		if (r > 0) {
			si.si_signo = SIGCHLD;
			si.si_code = res.code;
			si.si_pid = res.pid;
			si.si_uid = (uid_t)res.uid;
			if (res.code == CLD_STOPPED)
				si.si_status = WSTOPSIG(res.status);
			else if (res.code == CLD_CONTINUED)
				si.si_status = SIGCONT;
			else
				si.si_status = WIFSIGNALED(res.status)
						   ? WTERMSIG(res.status)
						   : WEXITSTATUS(res.status);
		}
		if (copy_to_user(t, a[2], &si, sizeof(si)) < 0)
			return -EFAULT;
	}
	return 0;
}

static long sys_getpid(struct task *t, const uint64_t a[6])
{
	(void)a;
	return t->proc->pid;
}

static long sys_gettid(struct task *t, const uint64_t a[6])
{
	(void)a;
	return t->tid;
}

static long sys_getppid(struct task *t, const uint64_t a[6])
{
	(void)a;
	tasklist_lock_take();
	int ppid = t->proc->parent ? t->proc->parent->pid : 0;
	tasklist_unlock();
	return ppid;
}

static long sys_getuid(struct task *t, const uint64_t a[6])
{
	(void)a;
	return t->cred.uid;
}
static long sys_geteuid(struct task *t, const uint64_t a[6])
{
	(void)a;
	return t->cred.euid;
}
static long sys_getgid(struct task *t, const uint64_t a[6])
{
	(void)a;
	return t->cred.gid;
}
static long sys_getegid(struct task *t, const uint64_t a[6])
{
	(void)a;
	return t->cred.egid;
}

static long put_ids(struct task *t, const uint64_t a[6], uint32_t r, uint32_t e,
		    uint32_t s)
{
	if (copy_to_user(t, a[0], &r, 4) < 0 ||
	    copy_to_user(t, a[1], &e, 4) < 0 ||
	    copy_to_user(t, a[2], &s, 4) < 0)
		return -EFAULT;
	return 0;
}

static long sys_getresuid(struct task *t, const uint64_t a[6])
{
	const struct cred *c = &t->cred;
	return put_ids(t, a, c->uid, c->euid, c->suid);
}

static long sys_getresgid(struct task *t, const uint64_t a[6])
{
	const struct cred *c = &t->cred;
	return put_ids(t, a, c->gid, c->egid, c->sgid);
}

/* setres[ug]id with Linux's rules: an unprivileged process may only set
 * each id to one of its current real, effective or saved ids. -1 keeps. */
/* Linux's capability rules when uids change (cap_emulate_setxuid). */
static void fixup_caps(struct cred *c, uint32_t old_r, uint32_t old_e,
		       uint32_t old_s)
{
	if ((old_r == 0 || old_e == 0 || old_s == 0) &&
	    (c->uid != 0 && c->euid != 0 && c->suid != 0)) {
		c->cap_prm = 0;
		c->cap_eff = 0;
	}
	if (old_e == 0 && c->euid != 0)
		c->cap_eff = 0;
	if (old_e != 0 && c->euid == 0)
		c->cap_eff = c->cap_prm;
}

/* Credentials change on a copy, committed under tasklist (others read a
 * task's credentials under it). */
static void commit_cred(struct task *t, const struct cred *c)
{
	tasklist_lock_take();
	t->cred = *c;
	tasklist_unlock();
}

static long set_res(struct task *t, struct cred *c, uint32_t *r, uint32_t *e,
		    uint32_t *s, uint32_t *fs, uint32_t nr, uint32_t ne,
		    uint32_t ns)
{
	bool is_uid = r == &c->uid;
	bool priv = cred_capable(c, is_uid ? CAP_SETUID : CAP_SETGID);
	uint32_t old_r = c->uid, old_e = c->euid, old_s = c->suid;
	uint32_t ids[3] = {nr, ne, ns};
	for (int i = 0; i < 3; i++) {
		if (ids[i] == (uint32_t)-1)
			continue;
		if (!priv && ids[i] != *r && ids[i] != *e && ids[i] != *s)
			return -EPERM;
	}
	if (nr != (uint32_t)-1)
		*r = nr;
	if (ne != (uint32_t)-1)
		*e = ne;
	if (ns != (uint32_t)-1)
		*s = ns;
	*fs = *e;
	if (is_uid)
		fixup_caps(c, old_r, old_e, old_s);
	commit_cred(t, c);
	return 0;
}

static long sys_setresuid(struct task *t, const uint64_t a[6])
{
	struct cred cc = t->cred, *c = &cc;
	return set_res(t, c, &c->uid, &c->euid, &c->suid, &c->fsuid,
		       (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2]);
}

static long sys_setresgid(struct task *t, const uint64_t a[6])
{
	struct cred cc = t->cred, *c = &cc;
	return set_res(t, c, &c->gid, &c->egid, &c->sgid, &c->fsgid,
		       (uint32_t)a[0], (uint32_t)a[1], (uint32_t)a[2]);
}

static long sys_setuid(struct task *t, const uint64_t a[6])
{
	struct cred cc = t->cred, *c = &cc;
	uint32_t id = (uint32_t)a[0];
	if (id == (uint32_t)-1)
		return -EINVAL;
	if (cred_capable(c, CAP_SETUID))
		return set_res(t, c, &c->uid, &c->euid, &c->suid, &c->fsuid, id,
			       id, id);
	return set_res(t, c, &c->uid, &c->euid, &c->suid, &c->fsuid,
		       (uint32_t)-1, id, (uint32_t)-1);
}

static long sys_setgid(struct task *t, const uint64_t a[6])
{
	struct cred cc = t->cred, *c = &cc;
	uint32_t id = (uint32_t)a[0];
	if (id == (uint32_t)-1)
		return -EINVAL;
	if (cred_capable(c, CAP_SETGID))
		return set_res(t, c, &c->gid, &c->egid, &c->sgid, &c->fsgid, id,
			       id, id);
	return set_res(t, c, &c->gid, &c->egid, &c->sgid, &c->fsgid,
		       (uint32_t)-1, id, (uint32_t)-1);
}

static long sys_setreuid(struct task *t, const uint64_t a[6])
{
	struct cred cc = t->cred, *c = &cc;
	return set_res(t, c, &c->uid, &c->euid, &c->suid, &c->fsuid,
		       (uint32_t)a[0], (uint32_t)a[1], (uint32_t)-1);
}

static long sys_setregid(struct task *t, const uint64_t a[6])
{
	struct cred cc = t->cred, *c = &cc;
	return set_res(t, c, &c->gid, &c->egid, &c->sgid, &c->fsgid,
		       (uint32_t)a[0], (uint32_t)a[1], (uint32_t)-1);
}

static long sys_setfsuid(struct task *t, const uint64_t a[6])
{
	struct cred c = t->cred;
	long old = c.fsuid;
	uint32_t id = (uint32_t)a[0];
	if (c.euid == 0 || id == c.uid || id == c.euid || id == c.suid) {
		c.fsuid = id;
		commit_cred(t, &c);
	}
	return old;
}

static long sys_setfsgid(struct task *t, const uint64_t a[6])
{
	struct cred c = t->cred;
	long old = c.fsgid;
	uint32_t id = (uint32_t)a[0];
	if (c.euid == 0 || id == c.gid || id == c.egid || id == c.sgid) {
		c.fsgid = id;
		commit_cred(t, &c);
	}
	return old;
}

static long sys_getgroups(struct task *t, const uint64_t a[6])
{
	const struct cred *c = &t->cred;
	int size = (int)a[0];
	if (size < 0)
		return -EINVAL;
	if (size == 0)
		return c->ngroups;
	if ((uint32_t)size < c->ngroups)
		return -EINVAL;
	if (copy_to_user(t, a[1], c->groups, c->ngroups * 4) < 0)
		return -EFAULT;
	return c->ngroups;
}

static long sys_setgroups(struct task *t, const uint64_t a[6])
{
	struct cred c = t->cred;
	int size = (int)a[0];
	if (!cred_capable(&c, CAP_SETGID))
		return -EPERM;
	if (size < 0 || size > CRED_NGROUPS_MAX)
		return -EINVAL;
	uint32_t g[CRED_NGROUPS_MAX];
	if (size && copy_from_user(t, g, a[1], (size_t)size * 4) < 0)
		return -EFAULT;
	memcpy(c.groups, g, (size_t)size * 4);
	c.ngroups = (uint32_t)size;
	commit_cred(t, &c);
	return 0;
}

static long setpgid_locked(struct task *t, int pid, int pgid)
{
	struct process *p = kernel_find_process(pid);
	if (!p || p->state != PROC_ALIVE)
		return -ESRCH;
	if (p != t->proc && p->parent != t->proc)
		return -ESRCH;
	if (p->sid == p->pid)
		return -EPERM; /* a session leader */
	if (p->sid != t->proc->sid)
		return -EPERM;
	if (pgid != p->pid) {
		/* The group must exist in the same session. */
		struct list_head *g = pid_pgrp(pgid);
		if (!g || list_entry(g->next, struct process, pgrp_node)->sid !=
			      t->proc->sid)
			return -EPERM;
	}
	if (p->pgid != pgid)
		pid_set_pgid(p, pgid);
	return 0;
}

static long sys_setpgid(struct task *t, const uint64_t a[6])
{
	int pid = (int)a[0], pgid = (int)a[1];
	/* Linux fills in 0s before it judges: setpgid(-1, 0) asks for the
	 * group -1, which is EINVAL, not a search for process -1. */
	if (!pid)
		pid = t->proc->pid;
	if (!pgid)
		pgid = pid;
	if (pgid < 0)
		return -EINVAL;
	tasklist_lock_take();
	long r = setpgid_locked(t, pid, pgid);
	tasklist_unlock();
	return r;
}

static long get_group(struct task *t, int pid, bool session)
{
	tasklist_lock_take();
	struct process *p = pid ? kernel_find_process(pid) : t->proc;
	long r = !p ? -ESRCH : session ? p->sid : p->pgid;
	tasklist_unlock();
	return r;
}

static long sys_getpgid(struct task *t, const uint64_t a[6])
{
	return get_group(t, (int)a[0], false);
}

static long sys_getpgrp(struct task *t, const uint64_t a[6])
{
	(void)a;
	return get_group(t, 0, false);
}

static long sys_getsid(struct task *t, const uint64_t a[6])
{
	return get_group(t, (int)a[0], true);
}

static long sys_setsid(struct task *t, const uint64_t a[6])
{
	(void)a;
	struct process *p = t->proc;
	tasklist_lock_take();
	/* Fails when a process group has this pid (the caller leads one),
	 * as on Linux. */
	long r = -EPERM;
	if (!pid_pgrp(p->pid)) {
		pid_set_sid(p, p->pid);
		pid_set_pgid(p, p->pid);
		tty_setsid_locked(p);
		r = p->sid;
	}
	tasklist_unlock();
	return r;
}

static long sys_clone3(struct task *t, const uint64_t a[6])
{
	(void)t;
	(void)a;
	/* libc falls back to clone(2). */
	return -ENOSYS;
}

const struct syscall_def sys_process_defs[] = {
    {__NR_clone, "clone", sys_clone, "xxppx", NULL},
    {__NR_clone3, "clone3", sys_clone3, "pu", NULL},
    {__NR_fork, "fork", sys_fork, "", NULL},
    {__NR_vfork, "vfork", sys_vfork, "", NULL},
    {__NR_exit, "exit", sys_exit, "d", NULL},
    {__NR_exit_group, "exit_group", sys_exit_group, "d", NULL},
    {__NR_wait4, "wait4", sys_wait4, "dpxp", NULL},
    {__NR_waitid, "waitid", sys_waitid, "ddpxp", NULL},
    {__NR_getpid, "getpid", sys_getpid, "", NULL},
    {__NR_gettid, "gettid", sys_gettid, "", NULL},
    {__NR_getppid, "getppid", sys_getppid, "", NULL},
    {__NR_getuid, "getuid", sys_getuid, "", NULL},
    {__NR_geteuid, "geteuid", sys_geteuid, "", NULL},
    {__NR_getgid, "getgid", sys_getgid, "", NULL},
    {__NR_getegid, "getegid", sys_getegid, "", NULL},
    {__NR_getresuid, "getresuid", sys_getresuid, "ppp", NULL},
    {__NR_getresgid, "getresgid", sys_getresgid, "ppp", NULL},
    {__NR_setresuid, "setresuid", sys_setresuid, "ddd", NULL},
    {__NR_setresgid, "setresgid", sys_setresgid, "ddd", NULL},
    {__NR_setuid, "setuid", sys_setuid, "d", NULL},
    {__NR_setgid, "setgid", sys_setgid, "d", NULL},
    {__NR_setreuid, "setreuid", sys_setreuid, "dd", NULL},
    {__NR_setregid, "setregid", sys_setregid, "dd", NULL},
    {__NR_setfsuid, "setfsuid", sys_setfsuid, "d", NULL},
    {__NR_setfsgid, "setfsgid", sys_setfsgid, "d", NULL},
    {__NR_getgroups, "getgroups", sys_getgroups, "dp", NULL},
    {__NR_setgroups, "setgroups", sys_setgroups, "dp", NULL},
    {__NR_setpgid, "setpgid", sys_setpgid, "dd", NULL},
    {__NR_getpgid, "getpgid", sys_getpgid, "d", NULL},
    {__NR_getpgrp, "getpgrp", sys_getpgrp, "", NULL},
    {__NR_getsid, "getsid", sys_getsid, "d", NULL},
    {__NR_setsid, "setsid", sys_setsid, "", NULL},
    {-1, NULL, NULL, NULL, NULL},
};
