/* Sessions, controlling terminals and job control on terminals (Linux's
 * drivers/tty/tty_jobctrl.c). A process's controlling terminal
 * (struct process.ctty) and a terminal's session and foreground process
 * group are under tasklist_lock. A process has a controlling terminal
 * only while it is in the session that terminal controls, so clearing a
 * session's links (exit of its leader, TIOCNOTTY, hangup) leaves no
 * pointer to a terminal behind: the links hold no reference. */
#ifndef BULKHEAD_TTY_JOBCTL_H
#define BULKHEAD_TTY_JOBCTL_H

#include <stdbool.h>
#include <stdint.h>

struct file;
struct process;
struct task;
struct tty;

/* Linux's __tty_check_change: a member of a background group of tty's
 * session gets sig (SIGTTIN for reads, SIGTTOU for writes with TOSTOP
 * and termios changes) and -ERESTARTSYS, or -EIO when its group is
 * orphaned or (for SIGTTIN) it ignores or blocks sig; 0 otherwise. */
int tty_check_change(struct task *t, struct tty *tty, int sig);
/* An open without O_NOCTTY by a session leader with no terminal, of a
 * terminal with no session, makes it the controlling one. */
void tty_open_set_ctty(struct task *t, struct tty *tty, struct file *f);
/* TIOCSCTTY, TIOCNOTTY, TIOCGPGRP, TIOCSPGRP, TIOCGSID; -ENOTTY for any
 * other command. */
long tty_jobctl_ioctl(struct file *f, struct task *t, struct tty *tty,
		      bool master, unsigned cmd, uint64_t arg);
/* The master went: the slave's session leader gets SIGHUP and SIGCONT,
 * and nobody keeps tty as controlling terminal. Takes tasklist. */
void tty_hangup(struct tty *tty);
/* t's controlling terminal with a reference, or NULL (/dev/tty). */
struct tty *tty_get_ctty(struct task *t);

/* ---- from the process code, tasklist held ---- */
/* p's last thread is gone: a session leader's terminal is released
 * (SIGHUP to its foreground group), as Linux's disassociate_ctty(1). */
void tty_exit_locked(struct process *p);
/* p exits, its children already moved to their new parent: p's group,
 * or a child's group whose link to the session was p, that has stopped
 * members and no other link gets SIGHUP and SIGCONT (Linux's
 * kill_orphaned_pgrp). */
void tty_exit_orphans_locked(struct process *p);
void tty_reparent_orphans_locked(struct process *child, struct process *old);
/* setsid: p leaves its terminal behind. */
void tty_setsid_locked(struct process *p);

#endif
