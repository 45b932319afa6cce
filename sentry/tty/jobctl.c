/* Controlling terminals and job control, as Linux's tty_jobctrl.c: every
 * field here is under tasklist_lock, taken with no tty lock needed (a
 * tty's lock ranks below it and may be held by the caller). */
#include "sentry/tty/jobctl.h"

#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>

#include "sentry/kernel/pid.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/usercopy.h"
#include "sentry/tty/tty.h"
#include "sentry/vfs/fs.h"

static bool is_leader(const struct process *p)
{
	return p->sid == p->pid;
}

static void set_pgrp_locked(struct tty *tty, int pgrp)
{
	if (tty->pgrp)
		pid_unpin(tty->pgrp);
	tty->pgrp = pgrp;
	if (pgrp)
		pid_pin(pgrp);
}

static void set_session_locked(struct tty *tty, int sid)
{
	if (tty->session)
		pid_unpin(tty->session);
	tty->session = sid;
	if (sid)
		pid_pin(sid);
}

/* Every member of session sid loses its controlling terminal. */
static void session_clear_tty_locked(int sid)
{
	struct list_head *h = pid_session(sid), *pos;
	if (!h)
		return;
	list_for_each(pos, h)
	{
		list_entry(pos, struct process, session_node)->ctty = NULL;
	}
}

/* Linux's kill_pgrp(pgrp, sig, 1): from the kernel. */
static void kill_pgrp_locked(int pgid, int sig)
{
	struct list_head *h = pid_pgrp(pgid), *pos;
	if (!h)
		return;
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = SI_KERNEL;
	list_for_each(pos, h)
	{
		struct process *p = list_entry(pos, struct process, pgrp_node);
		if (p->state == PROC_ALIVE)
			signal_send_process_locked(p, sig, &si);
	}
}

static void kill_proc_locked(struct process *p, int sig)
{
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	si.si_signo = sig;
	si.si_code = SI_KERNEL;
	if (p->state == PROC_ALIVE)
		signal_send_process_locked(p, sig, &si);
}

/* Linux's will_become_orphaned_pgrp(pgrp, ignore): no member but ignore
 * has a parent in another group of the same session. */
static bool pgrp_orphaned_locked(int pgid, const struct process *ignore)
{
	struct list_head *h = pid_pgrp(pgid), *pos;
	if (!h)
		return true;
	list_for_each(pos, h)
	{
		struct process *p = list_entry(pos, struct process, pgrp_node);
		if (p == ignore || p->state != PROC_ALIVE || !p->parent)
			continue;
		if (p->parent->pgid != pgid && p->parent->sid == p->sid)
			return false;
	}
	return true;
}

static bool pgrp_has_stopped_locked(int pgid)
{
	struct list_head *h = pid_pgrp(pgid), *pos;
	if (!h)
		return false;
	list_for_each(pos, h)
	{
		struct process *p = list_entry(pos, struct process, pgrp_node);
		if (p->state == PROC_ALIVE && p->stopped)
			return true;
	}
	return false;
}

/* Linux's kill_orphaned_pgrp: a group whose link to its session went
 * with parent (or with ignore's exit) and that has stopped members would
 * stay stopped with nobody to continue it: SIGHUP and SIGCONT to it. */
static void kill_orphaned_locked(struct process *p, struct process *parent,
				 const struct process *ignore)
{
	if (!parent || parent->pgid == p->pgid || parent->sid != p->sid)
		return;
	if (pgrp_orphaned_locked(p->pgid, ignore) &&
	    pgrp_has_stopped_locked(p->pgid)) {
		kill_pgrp_locked(p->pgid, SIGHUP);
		kill_pgrp_locked(p->pgid, SIGCONT);
	}
}

void tty_exit_orphans_locked(struct process *p)
{
	kill_orphaned_locked(p, p->parent, p);
}

void tty_reparent_orphans_locked(struct process *child, struct process *old)
{
	kill_orphaned_locked(child, old, NULL);
}

void tty_signal_fg(struct tty *tty, int sig)
{
	tasklist_lock_take();
	if (tty->pgrp)
		kill_pgrp_locked(tty->pgrp, sig);
	tasklist_unlock();
}

int tty_check_change(struct task *t, struct tty *tty, int sig)
{
	struct process *p = t->proc;
	int r = 0;
	tasklist_lock_take();
	if (p->ctty == tty && tty->pgrp && p->pgid != tty->pgrp) {
		uint64_t h = p->sigactions[sig - 1].handler;
		if ((t->blocked & sigbit(sig)) ||
		    h == (uint64_t)(uintptr_t)SIG_IGN) {
			if (sig == SIGTTIN)
				r = -EIO;
		} else if (pgrp_orphaned_locked(p->pgid, NULL)) {
			r = -EIO;
		} else {
			kill_pgrp_locked(p->pgid, sig);
			r = -ERESTARTSYS;
		}
	}
	tasklist_unlock();
	return r;
}

/* Linux's __proc_set_tty for p. */
static void proc_set_tty_locked(struct process *p, struct tty *tty)
{
	set_session_locked(tty, p->sid);
	set_pgrp_locked(tty, p->pgid);
	p->ctty = tty;
}

void tty_open_set_ctty(struct task *t, struct tty *tty, struct file *f)
{
	struct process *p = t->proc;
	tasklist_lock_take();
	if (is_leader(p) && !p->ctty && !tty->session &&
	    !atomic_load(&tty->hungup) && (f->fmode & FMODE_READ))
		proc_set_tty_locked(p, tty);
	tasklist_unlock();
}

struct tty *tty_get_ctty(struct task *t)
{
	tasklist_lock_take();
	struct tty *tty = t->proc->ctty;
	if (tty)
		tty_get(tty);
	tasklist_unlock();
	return tty;
}

static long tiocsctty(struct file *f, struct task *t, struct tty *tty,
		      uint64_t arg)
{
	struct process *p = t->proc;
	bool admin = cred_capable(&t->cred, CAP_SYS_ADMIN);
	long r = 0;
	tasklist_lock_take();
	if (is_leader(p) && tty->session == p->sid)
		goto out;
	if (!is_leader(p) || p->ctty) {
		r = -EPERM;
		goto out;
	}
	if (tty->session) {
		/* Another session's terminal: only stolen by root, asked. */
		if (arg != 1 || !admin) {
			r = -EPERM;
			goto out;
		}
		session_clear_tty_locked(tty->session);
	}
	if (!(f->fmode & FMODE_READ) && !admin) {
		r = -EPERM;
		goto out;
	}
	proc_set_tty_locked(p, tty);
out:
	tasklist_unlock();
	return r;
}

/* Linux's disassociate_ctty(on_exit) for leader p, whose terminal is
 * tty. */
static void disassociate_locked(struct process *p, struct tty *tty,
				bool on_exit)
{
	if (tty->pgrp) {
		kill_pgrp_locked(tty->pgrp, SIGHUP);
		if (!on_exit)
			kill_pgrp_locked(tty->pgrp, SIGCONT);
	}
	set_session_locked(tty, 0);
	set_pgrp_locked(tty, 0);
	session_clear_tty_locked(p->sid);
}

static long tiocnotty(struct task *t, struct tty *tty)
{
	struct process *p = t->proc;
	long r = 0;
	tasklist_lock_take();
	if (p->ctty != tty)
		r = -ENOTTY;
	else if (is_leader(p))
		disassociate_locked(p, tty, false);
	p->ctty = r ? p->ctty : NULL;
	tasklist_unlock();
	return r;
}

static long tiocspgrp(struct task *t, struct tty *tty, uint64_t arg)
{
	int r = tty_check_change(t, tty, SIGTTOU);
	if (r == -EIO)
		return -ENOTTY;
	if (r)
		return r;
	int nr;
	if (copy_from_user(t, &nr, arg, sizeof(nr)) < 0)
		return -EFAULT;
	if (nr < 0)
		return -EINVAL;
	struct process *p = t->proc;
	tasklist_lock_take();
	if (p->ctty != tty || tty->session != p->sid) {
		r = -ENOTTY;
	} else if (!pid_lookup(nr)) {
		r = -ESRCH;
	} else {
		/* Linux's session_of_pgrp: a group member's, else the
		 * process's with that pid. */
		struct list_head *g = pid_pgrp(nr);
		struct process *q =
		    g ? list_entry(g->next, struct process, pgrp_node)
		      : pid_process(nr);
		if (!q || q->sid != p->sid)
			r = -EPERM;
		else
			set_pgrp_locked(tty, nr);
	}
	tasklist_unlock();
	return r;
}

long tty_jobctl_ioctl(struct file *f, struct task *t, struct tty *tty,
		      bool master, unsigned cmd, uint64_t arg)
{
	struct process *p = t->proc;
	int v = 0;
	long r = 0;
	switch (cmd) {
	case TIOCSCTTY:
		return tiocsctty(f, t, tty, arg);
	case TIOCNOTTY:
		if (master)
			return -ENOTTY; /* a master is nobody's terminal */
		return tiocnotty(t, tty);
	case TIOCSPGRP:
		return tiocspgrp(t, tty, arg);
	case TIOCGPGRP:
	case TIOCGSID:
		tasklist_lock_take();
		if (!master && p->ctty != tty)
			r = -ENOTTY;
		else if (cmd == TIOCGPGRP)
			v = tty->pgrp;
		else if (!tty->session)
			r = -ENOTTY;
		else
			v = tty->session;
		tasklist_unlock();
		if (r)
			return r;
		return copy_to_user(t, arg, &v, sizeof(v));
	}
	return -ENOTTY;
}

void tty_hangup(struct tty *tty)
{
	tasklist_lock_take();
	/* Linux's tty_signal_session_leader(tty, 0). */
	if (tty->session) {
		struct process *leader = pid_process(tty->session);
		if (leader && leader->sid == tty->session) {
			kill_proc_locked(leader, SIGHUP);
			kill_proc_locked(leader, SIGCONT);
		}
		session_clear_tty_locked(tty->session);
	}
	/* Nobody outside the session can have it; make sure of it. */
	struct list_head *pos;
	list_for_each(pos, &kernel.processes)
	{
		struct process *q = list_entry(pos, struct process, all_node);
		if (q->ctty == tty)
			q->ctty = NULL;
	}
	set_session_locked(tty, 0);
	set_pgrp_locked(tty, 0);
	tasklist_unlock();
}

void tty_exit_locked(struct process *p)
{
	struct tty *tty = p->ctty;
	if (tty && is_leader(p))
		disassociate_locked(p, tty, true);
	p->ctty = NULL;
}

void tty_setsid_locked(struct process *p)
{
	p->ctty = NULL;
}
