/* Pseudo-terminal pairs (Linux's drivers/tty/pty.c and tty_io.c): the two
 * ends' file ops, their blocking reads and writes on the ends' wait
 * queues, the termios and window-size ioctls and the master-only ones
 * (TIOCGPTN, TIOCSPTLCK, TIOCGPTPEER, TIOCPKT, TIOCSIG). Job control and
 * controlling terminals are in jobctl.c, the line discipline in ldisc.c,
 * the /dev/pts nodes in sentry/fs/devpts/. */
#include "sentry/tty/tty.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>

#include "sentry/fs/devpts/devpts.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/uio.h"
#include "sentry/mm/usercopy.h"
#include "sentry/tty/jobctl.h"
#include "sentry/vfs/fs.h"

/* The termios2 ioctls, by number: glibc's headers name them with a
 * struct termios2 that <termios.h> cannot be included beside. */
#define BH_TCGETS2  0x802c542aU
#define BH_TCSETS2  0x402c542bU
#define BH_TCSETSW2 0x402c542cU
#define BH_TCSETSF2 0x402c542dU
#ifndef TIOCGPTPEER
#define TIOCGPTPEER 0x5441U
#endif

static const struct file_ops master_fops, slave_fops;

int tty_alloc(int index, struct tty **out)
{
	struct tty *tty = calloc(1, sizeof(*tty));
	if (!tty)
		return -ENOMEM;
	tty->in.buf = malloc(TTY_INQ);
	tty->in_flags = calloc(1, TTY_INQ);
	tty->pend.buf = malloc(TTY_PENDQ);
	tty->out.buf = malloc(TTY_OUTQ);
	tty->echo.buf = malloc(TTY_ECHOQ);
	if (!tty->in.buf || !tty->in_flags || !tty->pend.buf || !tty->out.buf ||
	    !tty->echo.buf) {
		free(tty->in.buf);
		free(tty->in_flags);
		free(tty->pend.buf);
		free(tty->out.buf);
		free(tty->echo.buf);
		free(tty);
		return -ENOMEM;
	}
	tty->in.cap = TTY_INQ;
	tty->pend.cap = TTY_PENDQ;
	tty->out.cap = TTY_OUTQ;
	tty->echo.cap = TTY_ECHOQ;
	atomic_init(&tty->refs, 1);
	tty->index = index;
	kmutex_init(&tty->lock, "tty", LR_TTY);
	waitq_init(&tty->slave_wq);
	waitq_init(&tty->master_wq);
	ldisc_init_termios(&tty->termios);
	tty->locked = true; /* until unlockpt(), as Linux's ptmx_open */
	atomic_init(&tty->master_mask, POLLOUT | POLLWRNORM);
	atomic_init(&tty->slave_mask, POLLOUT | POLLWRNORM);
	*out = tty;
	return 0;
}

void tty_get(struct tty *tty)
{
	atomic_fetch_add(&tty->refs, 1);
}

void tty_put(struct tty *tty)
{
	if (!tty || atomic_fetch_sub(&tty->refs, 1) > 1)
		return;
	if (tty->devpts)
		devpts_index_release(tty->devpts, tty->index);
	inode_put(tty->slave_inode);
	kmutex_destroy(&tty->lock);
	free(tty->in.buf);
	free(tty->in_flags);
	free(tty->pend.buf);
	free(tty->out.buf);
	free(tty->echo.buf);
	free(tty);
}

void tty_lock(struct tty *tty)
{
	kmutex_lock(&tty->lock);
}

static bool slave_can_write(struct tty *tty)
{
	size_t need = (tty->termios.c_oflag & OPOST) ? 8 : 1;
	return !tty->stopped && tty_ring_room(&tty->out) >= need;
}

void tty_unlock(struct tty *tty)
{
	uint32_t s = 0, m = 0;
	if (atomic_load(&tty->hungup)) {
		s = POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDNORM |
		    POLLWRNORM;
	} else {
		if (ldisc_input_available(tty, true))
			s |= POLLIN | POLLRDNORM;
		if (slave_can_write(tty))
			s |= POLLOUT | POLLWRNORM;
	}
	bool pkt = tty->packet && tty->pktstatus;
	if (tty->out.len || pkt)
		m |= POLLIN | POLLRDNORM;
	if (pkt)
		m |= POLLPRI;
	if (tty->other_closed)
		m |= POLLHUP;
	if (tty_ring_room(&tty->pend) && !tty->master_stopped)
		m |= POLLOUT | POLLWRNORM;
	atomic_store(&tty->slave_mask, s);
	atomic_store(&tty->master_mask, m);
	uint32_t ws = tty->wake_s, wm = tty->wake_m;
	tty->wake_s = tty->wake_m = 0;
	kmutex_unlock(&tty->lock);
	if (ws)
		waitq_wake(&tty->slave_wq, ws);
	if (wm)
		waitq_wake(&tty->master_wq, wm);
}

/* The master is also read and written by the console bridge, with no
 * task and never blocking (UIO_NOWAIT). */
static uint32_t wake_seq(struct task *t)
{
	return t ? task_wake_seq(t) : 0;
}

static bool nonblock(struct file *f, struct uio *u)
{
	return (f->flags & O_NONBLOCK) || (u->flags & UIO_NOWAIT);
}

static void deadline_in(struct timespec *d, unsigned deci)
{
	clock_gettime(CLOCK_MONOTONIC, d);
	uint64_t ns = (uint64_t)deci * 100000000ull + (uint64_t)d->tv_nsec;
	d->tv_sec += (time_t)(ns / 1000000000ull);
	d->tv_nsec = (long)(ns % 1000000000ull);
}

/* ---- the slave ---- */

static ssize_t slave_read(struct file *f, struct uio *u, uint64_t *pos)
{
	(void)pos;
	struct tty *tty = f->priv;
	struct task *t = u->t;
	if (atomic_load(&tty->hungup))
		return 0;
	int r = tty_check_change(t, tty, SIGTTIN);
	if (r)
		return r;
	if (uio_resid(u) == 0)
		return 0;
	tty_lock(tty);
	bool canon = tty->termios.c_lflag & ICANON;
	unsigned vmin = tty->termios.c_cc[VMIN];
	unsigned vtime = tty->termios.c_cc[VTIME];
	tty_unlock(tty);
	/* Linux's n_tty_read: minimum bytes, the inter-byte time once
	 * something came (VMIN and VTIME), or an overall timeout (VTIME
	 * alone; none at all reads what is there). */
	size_t minimum = 0;
	unsigned inter = 0;
	bool have_deadline = false, no_wait = false;
	struct timespec deadline;
	if (!canon) {
		if (vmin) {
			minimum = vmin;
			inter = vtime;
		} else {
			minimum = 1;
			if (vtime) {
				deadline_in(&deadline, vtime);
				have_deadline = true;
			} else {
				no_wait = true;
			}
		}
	}
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLIN | POLLHUP);
	size_t done = 0;
	ssize_t ret = 0;
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		tty_lock(tty);
		if (atomic_load(&tty->hungup)) {
			tty_unlock(tty);
			ret = -EIO;
			break;
		}
		if (ldisc_input_available(tty, false)) {
			bool eof;
			ssize_t c = ldisc_read(tty, u, uio_resid(u), &eof);
			if (c > 0)
				ldisc_receive(tty); /* room for more input */
			tty_unlock(tty);
			if (c < 0) {
				ret = c;
				break;
			}
			done += (size_t)c;
			if (canon || done >= minimum || !uio_resid(u))
				break;
			if (inter) {
				deadline_in(&deadline, inter);
				have_deadline = true;
			}
			continue;
		}
		tty_unlock(tty);
		if (no_wait)
			break;
		if (nonblock(f, u)) {
			ret = -EAGAIN;
			break;
		}
		if (!we.q) {
			waitq_add(&tty->slave_wq, &we);
			continue;
		}
		int s = task_sleep(t, seq, have_deadline ? &deadline : NULL,
				   SLEEP_INTR);
		if (s == -EINTR) {
			ret = -ERESTARTSYS;
			break;
		}
		if (s == -ETIMEDOUT)
			break;
	}
	waitq_remove(&we);
	return done ? (ssize_t)done : ret;
}

static ssize_t slave_write(struct file *f, struct uio *u, uint64_t *pos)
{
	(void)pos;
	struct tty *tty = f->priv;
	struct task *t = u->t;
	if (atomic_load(&tty->hungup))
		return -EIO;
	tty_lock(tty);
	bool tostop = tty->termios.c_lflag & TOSTOP;
	tty_unlock(tty);
	if (tostop) {
		int r = tty_check_change(t, tty, SIGTTOU);
		if (r)
			return r;
	}
	if (uio_resid(u) == 0)
		return 0;
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLOUT | POLLHUP);
	size_t done = 0;
	ssize_t ret = 0;
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		tty_lock(tty);
		if (atomic_load(&tty->hungup)) {
			tty_unlock(tty);
			ret = -EIO;
			break;
		}
		ssize_t c = ldisc_write(tty, u);
		tty_unlock(tty);
		if (c < 0) {
			ret = c;
			break;
		}
		done += (size_t)c;
		if (!uio_resid(u))
			break;
		if (c > 0)
			continue;
		if (nonblock(f, u)) {
			ret = -EAGAIN;
			break;
		}
		if (!we.q) {
			waitq_add(&tty->slave_wq, &we);
			continue;
		}
		if (task_sleep(t, seq, NULL, SLEEP_INTR) == -EINTR) {
			ret = -ERESTARTSYS;
			break;
		}
	}
	waitq_remove(&we);
	return done ? (ssize_t)done : ret;
}

static uint32_t slave_poll(struct file *f, struct poll_table *pt)
{
	struct tty *tty = f->priv;
	poll_wait(pt, &tty->slave_wq);
	return atomic_load(&tty->slave_mask);
}

static void slave_release(struct file *f)
{
	struct tty *tty = f->priv;
	tty_lock(tty);
	if (--tty->slave_opens == 0) {
		tty->other_closed = true;
		TTY_WAKE_M(tty, POLLHUP | POLLIN | POLLOUT);
	}
	tty_unlock(tty);
	tty_put(tty);
}

/* ---- the master ---- */

static ssize_t master_read(struct file *f, struct uio *u, uint64_t *pos)
{
	(void)pos;
	struct tty *tty = f->priv;
	struct task *t = u->t;
	if (uio_resid(u) == 0)
		return 0;
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLIN | POLLHUP);
	ssize_t ret;
	for (;;) {
		uint32_t seq = wake_seq(t);
		tty_lock(tty);
		if (tty->packet && tty->pktstatus) {
			uint8_t st = tty->pktstatus;
			ret = uio_copy_out(u, &st, 1);
			if (ret == 1)
				tty->pktstatus = 0;
			tty_unlock(tty);
			break;
		}
		if (tty->out.len) {
			ssize_t head = 0;
			if (tty->packet) {
				uint8_t z = TIOCPKT_DATA;
				head = uio_copy_out(u, &z, 1);
				if (head < 1) {
					tty_unlock(tty);
					ret = -EFAULT;
					break;
				}
			}
			size_t n = tty->out.len;
			if (n > uio_resid(u))
				n = uio_resid(u);
			size_t first = tty->out.cap - tty->out.head;
			if (first > n)
				first = n;
			ssize_t c =
			    n ? uio_copy_out(u, tty->out.buf + tty->out.head,
					     first)
			      : 0;
			if (c == (ssize_t)first && n > first) {
				ssize_t d =
				    uio_copy_out(u, tty->out.buf, n - first);
				if (d > 0)
					c += d;
			}
			if (c > 0) {
				tty->out.head =
				    (tty->out.head + (size_t)c) % tty->out.cap;
				tty->out.len -= (size_t)c;
				if (!tty->out.len)
					tty->out.head = 0;
				ldisc_flush_echoes(tty);
				TTY_WAKE_S(tty, POLLOUT | POLLWRNORM);
			}
			tty_unlock(tty);
			if (c < 0 && !head)
				ret = c;
			else
				ret = head + (c > 0 ? c : 0);
			break;
		}
		bool closed = tty->other_closed;
		tty_unlock(tty);
		if (closed) {
			ret = -EIO;
			break;
		}
		if (nonblock(f, u)) {
			ret = -EAGAIN;
			break;
		}
		if (!we.q) {
			waitq_add(&tty->master_wq, &we);
			continue;
		}
		if (task_sleep(t, seq, NULL, SLEEP_INTR) == -EINTR) {
			ret = -ERESTARTSYS;
			break;
		}
	}
	waitq_remove(&we);
	return ret;
}

static ssize_t master_write(struct file *f, struct uio *u, uint64_t *pos)
{
	(void)pos;
	struct tty *tty = f->priv;
	struct task *t = u->t;
	if (uio_resid(u) == 0)
		return 0;
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLOUT);
	size_t done = 0;
	ssize_t ret = 0;
	uint8_t buf[512];
	for (;;) {
		uint32_t seq = wake_seq(t);
		tty_lock(tty);
		size_t room =
		    tty->master_stopped ? 0 : tty_ring_room(&tty->pend);
		ssize_t c = 0;
		while (room && uio_resid(u)) {
			size_t k = room < sizeof(buf) ? room : sizeof(buf);
			if (k > uio_resid(u))
				k = uio_resid(u);
			ssize_t g = uio_copy_in(u, buf, k);
			if (g <= 0) {
				if (!c)
					c = -EFAULT;
				break;
			}
			tty_ring_put(&tty->pend, buf, (size_t)g);
			c += g;
			room -= (size_t)g;
			if ((size_t)g < k)
				break;
		}
		if (c > 0)
			ldisc_receive(tty);
		tty_unlock(tty);
		if (c < 0) {
			ret = c;
			break;
		}
		done += (size_t)c;
		if (!uio_resid(u))
			break;
		if (c > 0)
			continue;
		if (nonblock(f, u)) {
			ret = -EAGAIN;
			break;
		}
		if (!we.q) {
			waitq_add(&tty->master_wq, &we);
			continue;
		}
		if (task_sleep(t, seq, NULL, SLEEP_INTR) == -EINTR) {
			ret = -ERESTARTSYS;
			break;
		}
	}
	waitq_remove(&we);
	return done ? (ssize_t)done : ret;
}

static uint32_t master_poll(struct file *f, struct poll_table *pt)
{
	struct tty *tty = f->priv;
	poll_wait(pt, &tty->master_wq);
	return atomic_load(&tty->master_mask);
}

static void master_release(struct file *f)
{
	struct tty *tty = f->priv;
	/* Linux's pty_close of the master: /dev/pts/N goes, the slave is
	 * hung up, and its session told. */
	devpts_pty_kill(tty);
	tty_lock(tty);
	atomic_store(&tty->hungup, true);
	tty_ring_clear(&tty->pend);
	ldisc_flush_input(tty);
	TTY_WAKE_S(tty, POLLIN | POLLOUT | POLLERR | POLLHUP);
	tty_unlock(tty);
	tty_hangup(tty);
	tty_put(tty);
}

/* ---- ioctls ---- */

static int get_termios(struct task *t, struct tty *tty, uint64_t arg,
		       size_t size)
{
	tty_lock(tty);
	struct ktermios k = tty->termios;
	tty_unlock(tty);
	return copy_to_user(t, arg, &k, size);
}

enum { SET_NOW, SET_WAIT, SET_FLUSH };

static int set_termios(struct task *t, struct tty *tty, uint64_t arg,
		       size_t size, int how)
{
	int r = tty_check_change(t, tty, SIGTTOU);
	if (r)
		return r;
	struct ktermios k;
	tty_lock(tty);
	k = tty->termios; /* TCSETS keeps the speeds */
	tty_unlock(tty);
	if (copy_from_user(t, &k, arg, size) < 0)
		return -EFAULT;
	tty_lock(tty);
	if (how == SET_FLUSH) {
		tty_ring_clear(&tty->pend);
		ldisc_flush_input(tty);
	}
	struct ktermios old = tty->termios;
	tty->termios = k;
	ldisc_set_termios(tty, &old);
	ldisc_receive(tty);
	tty_unlock(tty);
	return 0;
}

/* TCFLSH from end master or slave: each end's input is what it reads. */
static int do_flush(struct task *t, struct tty *tty, bool master, int how)
{
	if (!master) {
		int r = tty_check_change(t, tty, SIGTTOU);
		if (r)
			return r;
	}
	if (how != TCIFLUSH && how != TCOFLUSH && how != TCIOFLUSH)
		return -EINVAL;
	bool in = how != TCOFLUSH, out = how != TCIFLUSH;
	if (master) {
		bool tmp = in;
		in = out;
		out = tmp;
	}
	tty_lock(tty);
	if (in) {
		tty_ring_clear(&tty->pend);
		ldisc_flush_input(tty);
	}
	if (out)
		ldisc_flush_output(tty);
	tty_unlock(tty);
	return 0;
}

static int do_xonc(struct task *t, struct tty *tty, bool master, int how)
{
	if (!master) {
		int r = tty_check_change(t, tty, SIGTTOU);
		if (r)
			return r;
	}
	tty_lock(tty);
	int r = 0;
	switch (how) {
	case TCOOFF:
		if (master) {
			tty->master_stopped = true;
		} else if (!tty->tco_stopped) {
			ldisc_stop(tty);
			tty->tco_stopped = true;
		}
		break;
	case TCOON:
		if (master) {
			tty->master_stopped = false;
			TTY_WAKE_M(tty, POLLOUT | POLLWRNORM);
		} else if (tty->tco_stopped) {
			tty->tco_stopped = false;
			ldisc_start(tty);
		}
		break;
	case TCIOFF:
	case TCION: {
		/* Send STOP or START to the other end, as a byte. */
		uint8_t c = tty->termios.c_cc[how == TCIOFF ? VSTOP : VSTART];
		if (c != _POSIX_VDISABLE) {
			if (master) {
				tty_ring_put(&tty->pend, &c, 1);
				ldisc_receive(tty);
			} else {
				tty_ring_put(&tty->out, &c, 1);
				TTY_WAKE_M(tty, POLLIN | POLLRDNORM);
			}
		}
		break;
	}
	default:
		r = -EINVAL;
	}
	tty_unlock(tty);
	return r;
}

void tty_set_winsize(struct tty *tty, const struct winsize *ws)
{
	tty_lock(tty);
	bool changed = memcmp(ws, &tty->ws, sizeof(*ws)) != 0;
	tty->ws = *ws;
	tty_unlock(tty);
	if (changed)
		tty_signal_fg(tty, SIGWINCH);
}

static int set_winsize(struct task *t, struct tty *tty, uint64_t arg)
{
	struct winsize ws;
	if (copy_from_user(t, &ws, arg, sizeof(ws)) < 0)
		return -EFAULT;
	tty_set_winsize(tty, &ws);
	return 0;
}

static int put_int(struct task *t, uint64_t arg, int v)
{
	return copy_to_user(t, arg, &v, sizeof(v));
}

static int get_int(struct task *t, uint64_t arg, int *v)
{
	return copy_from_user(t, v, arg, sizeof(*v)) < 0 ? -EFAULT : 0;
}

/* TIOCGPTPEER: open the slave of this master (through its devpts). */
static long open_peer(struct task *t, struct tty *tty, int flags)
{
	if (flags & ~(O_ACCMODE | O_NOCTTY | O_NONBLOCK | O_CLOEXEC))
		return -EINVAL;
	struct file *f;
	int r = devpts_open_slave(t, tty, flags & ~O_CLOEXEC, &f);
	if (r)
		return r;
	r = fd_alloc(t->files, 0, f, flags & O_CLOEXEC);
	file_put(f);
	return r;
}

static long tty_ioctl_common(struct file *f, struct task *t, unsigned cmd,
			     uint64_t arg, bool master)
{
	struct tty *tty = f->priv;
	int v, r;
	switch (cmd) {
	case TCGETS:
		return get_termios(t, tty, arg, KTERMIOS_SIZE);
	case BH_TCGETS2:
		return get_termios(t, tty, arg, KTERMIOS2_SIZE);
	case TCSETS:
	case TCSETSW:
	case TCSETSF:
		return set_termios(t, tty, arg, KTERMIOS_SIZE,
				   cmd == TCSETS    ? SET_NOW
				   : cmd == TCSETSW ? SET_WAIT
						    : SET_FLUSH);
	case BH_TCSETS2:
	case BH_TCSETSW2:
	case BH_TCSETSF2:
		return set_termios(t, tty, arg, KTERMIOS2_SIZE,
				   cmd == BH_TCSETS2	? SET_NOW
				   : cmd == BH_TCSETSW2 ? SET_WAIT
							: SET_FLUSH);
	case TCFLSH:
		return do_flush(t, tty, master, (int)arg);
	case TCXONC:
		return do_xonc(t, tty, master, (int)arg);
	case TCSBRK:
	case TCSBRKP:
	case TIOCSBRK:
	case TIOCCBRK:
		return 0; /* nothing to drain, no line to break */
	case TIOCGWINSZ: {
		tty_lock(tty);
		struct winsize ws = tty->ws;
		tty_unlock(tty);
		return copy_to_user(t, arg, &ws, sizeof(ws));
	}
	case TIOCSWINSZ:
		return set_winsize(t, tty, arg);
	case FIONREAD: {
		tty_lock(tty);
		size_t n = master ? tty->out.len : ldisc_inq(tty);
		tty_unlock(tty);
		return put_int(t, arg, (int)n);
	}
	case TIOCOUTQ:
		return put_int(t, arg,
			       0); /* as Linux's ptys: no driver queue */
	case TIOCGETD:
		return put_int(t, arg, 0); /* N_TTY */
	case TIOCSETD:
		if ((r = get_int(t, arg, &v)))
			return r;
		return v == 0 ? 0 : -EINVAL;
	}
	if (master) {
		switch (cmd) {
		case TIOCGPTN:
			return put_int(t, arg, tty->index);
		case TIOCSPTLCK:
			if ((r = get_int(t, arg, &v)))
				return r;
			tty_lock(tty);
			tty->locked = v != 0;
			tty_unlock(tty);
			return 0;
		case TIOCGPTLCK:
			tty_lock(tty);
			v = tty->locked;
			tty_unlock(tty);
			return put_int(t, arg, v);
		case TIOCPKT:
			if ((r = get_int(t, arg, &v)))
				return r;
			tty_lock(tty);
			if (v) {
				if (!tty->packet)
					tty->pktstatus = 0;
				tty->packet = true;
			} else {
				tty->packet = false;
			}
			tty_unlock(tty);
			return 0;
		case TIOCGPKT:
			tty_lock(tty);
			v = tty->packet;
			tty_unlock(tty);
			return put_int(t, arg, v);
		case TIOCSIG:
			v = (int)arg;
			if (v != SIGINT && v != SIGQUIT && v != SIGTSTP)
				return -EINVAL;
			tty_signal_fg(tty, v);
			return 0;
		case TIOCGPTPEER:
			return open_peer(t, tty, (int)arg);
		}
	}
	return tty_jobctl_ioctl(f, t, tty, master, cmd, arg);
}

static long slave_ioctl(struct file *f, struct task *t, unsigned cmd,
			uint64_t arg)
{
	struct tty *tty = f->priv;
	/* A hung-up terminal answers nothing (Linux's hung_up_tty_ioctl). */
	if (atomic_load(&tty->hungup))
		return cmd == TIOCSPGRP ? -ENOTTY : -EIO;
	return tty_ioctl_common(f, t, cmd, arg, false);
}

static long master_ioctl(struct file *f, struct task *t, unsigned cmd,
			 uint64_t arg)
{
	return tty_ioctl_common(f, t, cmd, arg, true);
}

static int tty_show_fdinfo(struct file *f, char *buf, size_t cap)
{
	struct tty *tty = f->priv;
	if (f->fops == &master_fops)
		return snprintf(buf, cap, "tty-index:\t%d\n", tty->index);
	return 0;
}

static const struct file_ops master_fops = {
    .read = master_read,
    .write = master_write,
    .poll = master_poll,
    .ioctl = master_ioctl,
    .llseek = noop_llseek,
    .show_fdinfo = tty_show_fdinfo,
    .release = master_release,
};

static const struct file_ops slave_fops = {
    .read = slave_read,
    .write = slave_write,
    .poll = slave_poll,
    .ioctl = slave_ioctl,
    .llseek = noop_llseek,
    .release = slave_release,
};

bool file_is_tty(struct file *f)
{
	return f->fops == &master_fops || f->fops == &slave_fops;
}

/* Terminals are not seekable (nonseekable_open). */
static void tty_file_setup(struct file *f, const struct file_ops *fops,
			   struct tty *tty)
{
	f->fops = fops;
	f->priv = tty;
	f->fmode &= ~(FMODE_LSEEK | FMODE_PREAD);
}

int tty_master_open(struct tty *tty, struct file *f)
{
	tty_file_setup(f, &master_fops, tty);
	return 0;
}

int tty_slave_open(struct tty *tty, struct file *f, bool may_ctty)
{
	tty_lock(tty);
	if (atomic_load(&tty->hungup) || tty->locked) {
		tty_unlock(tty);
		return -EIO;
	}
	tty->slave_opens++;
	tty->other_closed = false;
	tty_unlock(tty);
	tty_get(tty);
	tty_file_setup(f, &slave_fops, tty);
	if (may_ctty && !(f->flags & O_NOCTTY))
		tty_open_set_ctty(current, tty, f);
	return 0;
}
