/* Terminals (Linux's drivers/tty): one struct tty is a pseudo-terminal
 * pair, the only kind of terminal the sentry has. Its line discipline
 * (ldisc.c, Linux's n_tty) sits between the two ends: what the master
 * writes is input for the slave's reader (edited, echoed, turned into
 * signals), what the slave writes is output for the master's reader
 * (processed as the termios says). The termios, the window size and the
 * job-control state are the slave's, also reached through the master, as
 * on Linux.
 *
 * Locking: tty->lock, a sleep lock (LR_TTY), guards the queues, the termios
 * and the flags below, and is held across the copy to or from the guest
 * (as a pipe's mutex), never while a task sleeps. The job-control fields
 * (session, pgrp) and every process's link to its controlling terminal are
 * under tasklist_lock, so that exit, setsid and signal delivery never need
 * the tty's lock. */
#ifndef BULKHEAD_TTY_H
#define BULKHEAD_TTY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/types.h>

#include "sentry/kernel/lock.h"
#include "sentry/kernel/waitq.h"

struct file;
struct inode;
struct mount;
struct task;
struct process;
struct uio;

/* Bounded queues (sizes as Linux's where a program can see them). */
#define TTY_INQ	  4096	/* the slave's input, N_TTY_BUF_SIZE */
#define TTY_PENDQ 8192	/* master writes not yet taken by the ldisc */
#define TTY_OUTQ  16384 /* slave output the master has not read */
#define TTY_ECHOQ 4096	/* echoes waiting for room or a stopped tty */

#define TTY_NCCS 19
/* The kernel's struct termios2 (struct termios is its first 36 bytes). */
struct ktermios {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[TTY_NCCS];
	uint32_t c_ispeed, c_ospeed;
};
#define KTERMIOS_SIZE  36
#define KTERMIOS2_SIZE 44

struct tty_ring {
	uint8_t *buf;
	size_t cap, head, len;
};

struct tty {
	_Atomic int refs; /* master file, slave files, devpts entry, users */
	int index;	  /* immutable: /dev/pts/<index> */
	struct kmutex lock;
	/* Readers, writers and pollers of each end; woken with the POLL*
	 * bits that changed. Immutable. */
	struct waitq slave_wq, master_wq;

	/* ---- lock ---- */
	struct ktermios termios;
	struct winsize ws;
	struct tty_ring in;   /* edited input, for the slave's reads */
	uint8_t *in_flags;    /* per byte of in: TTY_F_* */
	size_t canon_len;     /* bytes of in that are complete lines */
	struct tty_ring pend; /* raw master writes for the ldisc */
	struct tty_ring out;  /* processed slave output, for the master */
	struct tty_ring echo; /* processed echoes, for out */
	unsigned column, canon_column;
	bool lnext, erasing;
	bool stopped, tco_stopped; /* slave output stopped: ^S, TCOOFF */
	bool master_stopped;	   /* master output stopped: TCOOFF on it */
	bool packet;		   /* TIOCPKT on the master */
	uint8_t pktstatus;
	bool locked;	     /* TIOCSPTLCK: the slave cannot be opened */
	int slave_opens;     /* open slave files */
	bool other_closed;   /* every slave file closed (after one opened) */
	_Atomic bool hungup; /* the master is gone: the slave is dead */
	/* Wake-ups owed to each end's queue, done by tty_unlock() once the
	 * readiness below is published. */
	uint32_t wake_s, wake_m;
	/* Each end's poll mask, published under lock and read without it:
	 * poll runs under epoll's spin locks, below this sleep lock. */
	_Atomic uint32_t slave_mask, master_mask;

	/* ---- tasklist ---- */
	int session; /* the session it controls, 0: none */
	int pgrp;    /* its foreground process group, 0: none */

	/* ---- devpts, immutable ---- */
	void *devpts;		   /* the instance it lives in */
	struct inode *slave_inode; /* /dev/pts/<index> (a reference) */
	struct mount *mnt;	   /* that instance's mount, for TIOCGPTPEER */
};

#define TTY_F_EOL 1 /* a line ends at this byte */
#define TTY_F_EOF 2 /* the byte is the EOF marker: not read */

/* A new pair with one reference, the slave locked, default termios. */
int tty_alloc(int index, struct tty **out);
void tty_get(struct tty *tty);
/* The last reference frees it; no lock may be held (it puts an inode). */
void tty_put(struct tty *tty);

/* Open ops: f->fops and f->priv (a reference) for an end of tty. The
 * slave open refuses a locked or hung-up pair (-EIO) and, when may_ctty
 * and without O_NOCTTY, may make it the caller's controlling terminal. */
int tty_master_open(struct tty *tty, struct file *f);
int tty_slave_open(struct tty *tty, struct file *f, bool may_ctty);
/* Is f an end of a tty? (isatty for the sentry: console code) */
bool file_is_tty(struct file *f);

void tty_lock(struct tty *tty);
/* Publish the poll masks, unlock, then do the wake-ups owed. */
void tty_unlock(struct tty *tty);
#define TTY_WAKE_S(tty, ev) ((tty)->wake_s |= (ev))
#define TTY_WAKE_M(tty, ev) ((tty)->wake_m |= (ev))

/* ---- ldisc.c, all with tty->lock held ---- */
void ldisc_init_termios(struct ktermios *t);
/* Take what the ldisc can from pend into in (echoes, signals). */
void ldisc_receive(struct tty *tty);
/* Move echoes to out as far as room and flow control allow. */
void ldisc_flush_echoes(struct tty *tty);
/* Is there something for a slave read (poll: VMIN counts in raw mode)? */
bool ldisc_input_available(struct tty *tty, bool poll);
/* Copy the next line (canonical) or up to n raw bytes into u; returns
 * the bytes copied or -EFAULT; *eof set when an EOF marker was taken. */
ssize_t ldisc_read(struct tty *tty, struct uio *u, size_t n, bool *eof);
/* Bytes of u the slave can write into out now, processed (OPOST);
 * returns bytes consumed from u, 0 when there is no room, or -EFAULT. */
ssize_t ldisc_write(struct tty *tty, struct uio *u);
/* The termios changed from old (ICANON switches, IXON off). */
void ldisc_set_termios(struct tty *tty, const struct ktermios *old);
/* FIONREAD on the slave: canonical mode counts complete lines. */
size_t ldisc_inq(struct tty *tty);
void ldisc_flush_input(struct tty *tty);
void ldisc_flush_output(struct tty *tty);
void ldisc_stop(struct tty *tty);
void ldisc_start(struct tty *tty);
/* Ring helpers. */
size_t tty_ring_room(const struct tty_ring *r);
size_t tty_ring_put(struct tty_ring *r, const void *src, size_t n);
void tty_ring_clear(struct tty_ring *r);

/* A new window size; SIGWINCH to the foreground group if it changed. */
void tty_set_winsize(struct tty *tty, const struct winsize *ws);

/* Send sig to tty's foreground group (ISIG, SIGWINCH); takes tasklist. */
void tty_signal_fg(struct tty *tty, int sig);

#endif
