/* The line discipline (Linux's drivers/tty/n_tty.c), with tty->lock held
 * throughout: input processing from the master's writes into the slave's
 * input queue (ISTRIP, IUCLC, IGNCR/ICRNL/INLCR, IXON, ISIG, canonical
 * editing with ERASE, WERASE, KILL, LNEXT, REPRINT, EOF and EOL), echoes
 * (ECHO, ECHOE, ECHOK, ECHOKE, ECHONL, ECHOCTL, ECHOPRT), output
 * processing (OPOST, ONLCR, OCRNL, ONOCR, ONLRET, OLCUC, XTABS) and the
 * reads of the slave (a line at a time, or raw). Room in the input queue
 * follows Linux: a canonical line may grow to 4095 bytes plus its
 * terminator (past that the last byte is overwritten, so a newline always
 * fits), raw input stops the master's writer when the queue is full. */
#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <termios.h>

#include "sentry/mm/uio.h"
#include "sentry/tty/tty.h"

#define IF(tty, f) ((tty)->termios.c_iflag & (f))
#define OF(tty, f) ((tty)->termios.c_oflag & (f))
#define LF(tty, f) ((tty)->termios.c_lflag & (f))
#define CC(tty, v) ((tty)->termios.c_cc[v])

void ldisc_init_termios(struct ktermios *t)
{
	/* Linux's tty_std_termios. */
	static const uint8_t cc[TTY_NCCS] = {
	    [VINTR] = 003,    [VQUIT] = 034,	[VERASE] = 0177, [VKILL] = 025,
	    [VEOF] = 004,     [VTIME] = 0,	[VMIN] = 1,	 [VSWTC] = 0,
	    [VSTART] = 021,   [VSTOP] = 023,	[VSUSP] = 032,	 [VEOL] = 0,
	    [VREPRINT] = 022, [VDISCARD] = 017, [VWERASE] = 027, [VLNEXT] = 026,
	    [VEOL2] = 0,
	};
	memset(t, 0, sizeof(*t));
	t->c_iflag = ICRNL | IXON;
	t->c_oflag = OPOST | ONLCR;
	t->c_cflag = B38400 | CS8 | CREAD | HUPCL;
	t->c_lflag =
	    ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN;
	memcpy(t->c_cc, cc, sizeof(cc));
	t->c_ispeed = t->c_ospeed = 38400;
}

/* ---- rings ---- */

size_t tty_ring_room(const struct tty_ring *r)
{
	return r->cap - r->len;
}

size_t tty_ring_put(struct tty_ring *r, const void *src, size_t n)
{
	if (n > r->cap - r->len)
		n = r->cap - r->len;
	size_t tail = (r->head + r->len) % r->cap;
	size_t first = r->cap - tail < n ? r->cap - tail : n;
	memcpy(r->buf + tail, src, first);
	memcpy(r->buf, (const uint8_t *)src + first, n - first);
	r->len += n;
	return n;
}

void tty_ring_clear(struct tty_ring *r)
{
	r->head = r->len = 0;
}

static void ring_putc(struct tty_ring *r, uint8_t c)
{
	if (r->len < r->cap) {
		r->buf[(r->head + r->len) % r->cap] = c;
		r->len++;
	}
}

static size_t ring_idx(const struct tty_ring *r, size_t i)
{
	return (r->head + i) % r->cap;
}

static void ring_drop(struct tty_ring *r, size_t n)
{
	r->head = (r->head + n) % r->cap;
	r->len -= n;
	if (!r->len)
		r->head = 0;
}

/* Copy the first n bytes (n <= len) into u, across the wrap. */
static ssize_t ring_copy_out(struct tty_ring *r, struct uio *u, size_t n)
{
	size_t first = r->cap - r->head < n ? r->cap - r->head : n;
	ssize_t c = uio_copy_out(u, r->buf + r->head, first);
	if (c < (ssize_t)first || first == n)
		return c;
	ssize_t d = uio_copy_out(u, r->buf, n - first);
	return d < 0 ? c : c + d;
}

/* ---- output processing ---- */

/* Linux's ctype: 0-31, 127 and 128-159 are control characters. */
static bool k_iscntrl(uint8_t c)
{
	return c < 32 || c == 127 || (c >= 128 && c < 160);
}

static bool is_continuation(struct tty *tty, uint8_t c)
{
	return IF(tty, IUTF8) && (c & 0xc0) == 0x80;
}

/* One byte through OPOST into r (Linux's do_output_char): the bytes put,
 * or -1 when r lacks the room for all of them (nothing put). */
static int output_char(struct tty *tty, struct tty_ring *r, uint8_t c)
{
	size_t room = tty_ring_room(r);
	if (!room)
		return -1;
	if (!OF(tty, OPOST)) {
		ring_putc(r, c);
		return 1;
	}
	switch (c) {
	case '\n':
		if (OF(tty, ONLRET))
			tty->column = 0;
		if (OF(tty, ONLCR)) {
			if (room < 2)
				return -1;
			tty->canon_column = tty->column = 0;
			tty_ring_put(r, "\r\n", 2);
			return 2;
		}
		tty->canon_column = tty->column;
		break;
	case '\r':
		if (OF(tty, ONOCR) && tty->column == 0)
			return 0;
		if (OF(tty, OCRNL)) {
			c = '\n';
			if (OF(tty, ONLRET))
				tty->canon_column = tty->column = 0;
			break;
		}
		tty->canon_column = tty->column = 0;
		break;
	case '\t': {
		unsigned spaces = 8 - (tty->column & 7);
		if ((tty->termios.c_oflag & TABDLY) == XTABS) {
			if (room < spaces)
				return -1;
			tty->column += spaces;
			tty_ring_put(r, "        ", spaces);
			return (int)spaces;
		}
		tty->column += spaces;
		break;
	}
	case '\b':
		if (tty->column > 0)
			tty->column--;
		break;
	default:
		if (!k_iscntrl(c)) {
			if (OF(tty, OLCUC))
				c = (uint8_t)toupper(c);
			if (!is_continuation(tty, c))
				tty->column++;
		}
		break;
	}
	ring_putc(r, c);
	return 1;
}

/* ---- echoes (into tty->echo, already processed) ---- */

static void echo_raw(struct tty *tty, uint8_t c)
{
	output_char(tty, &tty->echo, c); /* no room: the echo is lost */
}

static void echo_char(struct tty *tty, uint8_t c)
{
	if (LF(tty, ECHOCTL) && k_iscntrl(c) && c != '\t') {
		if (tty_ring_room(&tty->echo) >= 2) {
			ring_putc(&tty->echo, '^');
			ring_putc(&tty->echo, c ^ 0100);
			tty->column += 2;
		}
		return;
	}
	echo_raw(tty, c);
}

static void echo_bs(struct tty *tty)
{
	ring_putc(&tty->echo, '\b');
	if (tty->column > 0)
		tty->column--;
}

static void finish_erasing(struct tty *tty)
{
	if (tty->erasing) {
		echo_raw(tty, '/');
		tty->erasing = false;
	}
}

void ldisc_flush_echoes(struct tty *tty)
{
	if (tty->stopped || !tty->echo.len)
		return;
	size_t n = tty->echo.len, room = tty_ring_room(&tty->out);
	if (n > room)
		n = room;
	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		ring_putc(&tty->out, tty->echo.buf[ring_idx(&tty->echo, i)]);
	ring_drop(&tty->echo, n);
	TTY_WAKE_M(tty, POLLIN | POLLRDNORM);
}

/* ---- flow control ---- */

void ldisc_stop(struct tty *tty)
{
	if (tty->stopped)
		return;
	tty->stopped = true;
	if (tty->packet) {
		tty->pktstatus &= ~TIOCPKT_START;
		tty->pktstatus |= TIOCPKT_STOP;
		TTY_WAKE_M(tty, POLLIN | POLLPRI);
	}
}

void ldisc_start(struct tty *tty)
{
	if (!tty->stopped || tty->tco_stopped)
		return;
	tty->stopped = false;
	if (tty->packet) {
		tty->pktstatus &= ~TIOCPKT_STOP;
		tty->pktstatus |= TIOCPKT_START;
		TTY_WAKE_M(tty, POLLIN | POLLPRI);
	}
	ldisc_flush_echoes(tty);
	TTY_WAKE_S(tty, POLLOUT | POLLWRNORM);
}

/* ---- input ---- */

static uint8_t in_at(struct tty *tty, size_t i)
{
	return tty->in.buf[ring_idx(&tty->in, i)];
}

static void put_input(struct tty *tty, uint8_t c, uint8_t flags)
{
	if (tty->in.len >= tty->in.cap)
		return;
	size_t at = ring_idx(&tty->in, tty->in.len);
	tty->in.buf[at] = c;
	tty->in_flags[at] = flags;
	tty->in.len++;
}

void ldisc_flush_input(struct tty *tty)
{
	tty_ring_clear(&tty->in);
	tty->canon_len = 0;
	tty->lnext = tty->erasing = false;
	if (tty->packet) {
		tty->pktstatus |= TIOCPKT_FLUSHREAD;
		TTY_WAKE_M(tty, POLLIN | POLLPRI);
	}
	TTY_WAKE_M(tty, POLLOUT | POLLWRNORM);
}

void ldisc_flush_output(struct tty *tty)
{
	tty_ring_clear(&tty->out);
	tty_ring_clear(&tty->echo);
	if (tty->packet) {
		tty->pktstatus |= TIOCPKT_FLUSHWRITE;
		TTY_WAKE_M(tty, POLLIN | POLLPRI);
	}
	TTY_WAKE_S(tty, POLLOUT | POLLWRNORM);
}

/* May one more byte go into the input queue? (Linux's receive room: a
 * canonical line with nothing complete before it never blocks the
 * writer; its last byte is overwritten instead.) */
static bool input_room(struct tty *tty)
{
	long room = (long)TTY_INQ - 1 - (long)tty->in.len;
	if (room > 0)
		return true;
	if (!LF(tty, ICANON) || tty->canon_len != 0)
		return false;
	if (room < 0)
		tty->in.len--;
	return true;
}

/* Linux's eraser(): ERASE, WERASE and KILL on the current line. */
static void eraser(struct tty *tty, uint8_t c)
{
	enum { ERASE, WERASE, KILL } kind;
	size_t line = tty->canon_len; /* the line starts here in in */
	if (tty->in.len == line)
		return;
	if (c == CC(tty, VERASE))
		kind = ERASE;
	else if (c == CC(tty, VWERASE))
		kind = WERASE;
	else {
		if (!LF(tty, ECHO)) {
			tty->in.len = line;
			return;
		}
		if (!LF(tty, ECHOK) || !LF(tty, ECHOKE) || !LF(tty, ECHOE)) {
			tty->in.len = line;
			finish_erasing(tty);
			echo_char(tty, CC(tty, VKILL));
			if (LF(tty, ECHOK))
				echo_raw(tty, '\n');
			return;
		}
		kind = KILL;
	}
	int seen_alnums = 0;
	while (tty->in.len > line) {
		size_t head = tty->in.len;
		do {
			head--;
			c = in_at(tty, head);
		} while (is_continuation(tty, c) && head > line);
		if (is_continuation(tty, c))
			break;
		if (kind == WERASE) {
			if (isalnum(c) || c == '_')
				seen_alnums++;
			else if (seen_alnums)
				break;
		}
		size_t cnt = tty->in.len - head;
		tty->in.len = head;
		if (LF(tty, ECHO)) {
			if (LF(tty, ECHOPRT)) {
				if (!tty->erasing) {
					echo_raw(tty, '\\');
					tty->erasing = true;
				}
				echo_char(tty, c);
				while (--cnt > 0)
					echo_raw(tty, in_at(tty, ++head));
			} else if (kind == ERASE && !LF(tty, ECHOE)) {
				echo_char(tty, CC(tty, VERASE));
			} else if (c == '\t') {
				unsigned num = 0;
				bool after_tab = false;
				for (size_t i = tty->in.len; i > line;) {
					uint8_t p = in_at(tty, --i);
					if (p == '\t') {
						after_tab = true;
						break;
					} else if (k_iscntrl(p)) {
						if (LF(tty, ECHOCTL))
							num += 2;
					} else if (!is_continuation(tty, p)) {
						num++;
					}
				}
				if (!after_tab)
					num += tty->canon_column;
				for (unsigned bs = 8 - (num & 7); bs; bs--)
					echo_bs(tty);
			} else {
				if (k_iscntrl(c) && LF(tty, ECHOCTL)) {
					echo_raw(tty, '\b');
					echo_raw(tty, ' ');
					echo_raw(tty, '\b');
				}
				if (!k_iscntrl(c) || LF(tty, ECHOCTL)) {
					echo_raw(tty, '\b');
					echo_raw(tty, ' ');
					echo_raw(tty, '\b');
				}
			}
		}
		if (kind == ERASE)
			break;
	}
	if (tty->in.len == line && LF(tty, ECHO))
		finish_erasing(tty);
}

static void end_line(struct tty *tty, uint8_t c, uint8_t flags)
{
	put_input(tty, c, flags | TTY_F_EOL);
	tty->canon_len = tty->in.len;
}

static void receive_signal_char(struct tty *tty, int sig, uint8_t c)
{
	if (!LF(tty, NOFLSH)) {
		tty_ring_clear(&tty->echo);
		ldisc_flush_input(tty);
		if (tty->packet)
			tty->pktstatus |= TIOCPKT_FLUSHWRITE;
	}
	tty_signal_fg(tty, sig);
	if (IF(tty, IXON))
		ldisc_start(tty);
	if (LF(tty, ECHO))
		echo_char(tty, c);
}

/* An ordinary byte (Linux's n_tty_receive_char). */
static void receive_plain(struct tty *tty, uint8_t c)
{
	if (tty->stopped && !tty->tco_stopped && IF(tty, IXON) &&
	    IF(tty, IXANY))
		ldisc_start(tty);
	if (LF(tty, ECHO)) {
		finish_erasing(tty);
		if (tty->in.len == tty->canon_len)
			tty->canon_column = tty->column;
		echo_char(tty, c);
	}
	if (c == 0377 && IF(tty, PARMRK))
		put_input(tty, c, 0);
	put_input(tty, c, 0);
}

static void receive_char(struct tty *tty, uint8_t c)
{
	if (tty->lnext) {
		tty->lnext = false;
		if (IF(tty, ISTRIP))
			c &= 0x7f;
		if (IF(tty, IUCLC) && LF(tty, IEXTEN))
			c = (uint8_t)tolower(c);
		receive_plain(tty, c);
		return;
	}
	if (IF(tty, ISTRIP))
		c &= 0x7f;
	if (IF(tty, IUCLC) && LF(tty, IEXTEN))
		c = (uint8_t)tolower(c);
	/* NUL is never special (it is _POSIX_VDISABLE), so the compares
	 * below never match a disabled control character. */
	if (c == 0) {
		receive_plain(tty, c);
		return;
	}
	if (IF(tty, IXON)) {
		if (c == CC(tty, VSTART)) {
			ldisc_start(tty);
			return;
		}
		if (c == CC(tty, VSTOP)) {
			ldisc_stop(tty);
			return;
		}
	}
	if (LF(tty, ISIG)) {
		int sig = c == CC(tty, VINTR)	? SIGINT
			  : c == CC(tty, VQUIT) ? SIGQUIT
			  : c == CC(tty, VSUSP) ? SIGTSTP
						: 0;
		if (sig) {
			receive_signal_char(tty, sig, c);
			return;
		}
	}
	if (tty->stopped && !tty->tco_stopped && IF(tty, IXON) &&
	    IF(tty, IXANY))
		ldisc_start(tty);
	if (c == '\r') {
		if (IF(tty, IGNCR))
			return;
		if (IF(tty, ICRNL))
			c = '\n';
	} else if (c == '\n' && IF(tty, INLCR)) {
		c = '\r';
	}
	if (LF(tty, ICANON)) {
		if (c == CC(tty, VERASE) || c == CC(tty, VKILL) ||
		    (c == CC(tty, VWERASE) && LF(tty, IEXTEN))) {
			eraser(tty, c);
			return;
		}
		if (c == CC(tty, VLNEXT) && LF(tty, IEXTEN)) {
			tty->lnext = true;
			if (LF(tty, ECHO)) {
				finish_erasing(tty);
				if (LF(tty, ECHOCTL)) {
					echo_raw(tty, '^');
					echo_raw(tty, '\b');
				}
			}
			return;
		}
		if (c == CC(tty, VREPRINT) && LF(tty, ECHO) &&
		    LF(tty, IEXTEN)) {
			finish_erasing(tty);
			echo_char(tty, c);
			echo_raw(tty, '\n');
			for (size_t i = tty->canon_len; i < tty->in.len; i++)
				echo_char(tty, in_at(tty, i));
			return;
		}
		if (c == '\n') {
			if (LF(tty, ECHO) || LF(tty, ECHONL))
				echo_raw(tty, '\n');
			end_line(tty, c, 0);
			return;
		}
		if (c == CC(tty, VEOF)) {
			end_line(tty, 0, TTY_F_EOF);
			return;
		}
		if (c == CC(tty, VEOL) ||
		    (c == CC(tty, VEOL2) && LF(tty, IEXTEN))) {
			if (LF(tty, ECHO)) {
				if (tty->in.len == tty->canon_len)
					tty->canon_column = tty->column;
				echo_char(tty, c);
			}
			if (c == 0377 && IF(tty, PARMRK))
				put_input(tty, c, 0);
			end_line(tty, c, 0);
			return;
		}
	}
	if (LF(tty, ECHO)) {
		finish_erasing(tty);
		if (c == '\n') {
			echo_raw(tty, '\n');
		} else {
			if (tty->in.len == tty->canon_len)
				tty->canon_column = tty->column;
			echo_char(tty, c);
		}
	}
	if (c == 0377 && IF(tty, PARMRK))
		put_input(tty, c, 0);
	put_input(tty, c, 0);
}

void ldisc_receive(struct tty *tty)
{
	size_t took = 0;
	while (tty->pend.len && input_room(tty)) {
		uint8_t c = tty->pend.buf[tty->pend.head];
		ring_drop(&tty->pend, 1);
		took++;
		receive_char(tty, c);
	}
	ldisc_flush_echoes(tty);
	if (took) {
		TTY_WAKE_M(tty, POLLOUT | POLLWRNORM);
		if (ldisc_input_available(tty, false))
			TTY_WAKE_S(tty, POLLIN | POLLRDNORM);
	}
}

bool ldisc_input_available(struct tty *tty, bool poll)
{
	if (LF(tty, ICANON))
		return tty->canon_len > 0;
	size_t amt = 1;
	if (poll && !CC(tty, VTIME) && CC(tty, VMIN))
		amt = CC(tty, VMIN);
	return tty->in.len >= amt;
}

size_t ldisc_inq(struct tty *tty)
{
	if (!LF(tty, ICANON))
		return tty->in.len;
	size_t n = 0;
	for (size_t i = 0; i < tty->canon_len; i++)
		if (!(tty->in_flags[ring_idx(&tty->in, i)] & TTY_F_EOF))
			n++;
	return n;
}

ssize_t ldisc_read(struct tty *tty, struct uio *u, size_t n, bool *eof)
{
	*eof = false;
	if (!LF(tty, ICANON)) {
		if (n > tty->in.len)
			n = tty->in.len;
		ssize_t c = ring_copy_out(&tty->in, u, n);
		if (c > 0)
			ring_drop(&tty->in, (size_t)c);
		return c;
	}
	size_t i = 0;
	while (i < tty->canon_len &&
	       !(tty->in_flags[ring_idx(&tty->in, i)] & TTY_F_EOL))
		i++;
	if (i == tty->canon_len)
		return 0; /* cannot happen: canon_len ends at a line end */
	bool eofm = tty->in_flags[ring_idx(&tty->in, i)] & TTY_F_EOF;
	size_t data = eofm ? i : i + 1;
	if (n > data)
		n = data;
	ssize_t c = n ? ring_copy_out(&tty->in, u, n) : 0;
	if (c < 0)
		return c;
	/* The whole line went: its EOF marker goes with it. */
	size_t took = (size_t)c == data ? i + 1 : (size_t)c;
	ring_drop(&tty->in, took);
	tty->canon_len -= took;
	*eof = eofm && data == 0;
	return c;
}

ssize_t ldisc_write(struct tty *tty, struct uio *u)
{
	if (tty->stopped)
		return 0;
	ldisc_flush_echoes(tty);
	uint8_t buf[512];
	size_t done = 0;
	for (;;) {
		size_t room = tty_ring_room(&tty->out);
		/* A byte becomes at most 8 (a tab to spaces). */
		size_t k = OF(tty, OPOST) ? room / 8 : room;
		if (k > sizeof(buf))
			k = sizeof(buf);
		if (k > uio_resid(u))
			k = uio_resid(u);
		if (!k)
			break;
		ssize_t c = uio_copy_in(u, buf, k);
		if (c <= 0)
			return done ? (ssize_t)done : -EFAULT;
		for (ssize_t i = 0; i < c; i++)
			output_char(tty, &tty->out, buf[i]);
		done += (size_t)c;
		if ((size_t)c < k)
			break;
	}
	if (done)
		TTY_WAKE_M(tty, POLLIN | POLLRDNORM);
	return (ssize_t)done;
}

void ldisc_set_termios(struct tty *tty, const struct ktermios *old)
{
	if ((old->c_lflag ^ tty->termios.c_lflag) & ICANON) {
		for (size_t i = 0; i < tty->in.len; i++)
			tty->in_flags[ring_idx(&tty->in, i)] = 0;
		tty->canon_len = 0;
		if (LF(tty, ICANON) && tty->in.len) {
			/* What is there becomes one line, as on Linux. */
			size_t last = ring_idx(&tty->in, tty->in.len - 1);
			tty->in_flags[last] = TTY_F_EOL;
			tty->canon_len = tty->in.len;
		}
		tty->erasing = tty->lnext = false;
	}
	if (!IF(tty, IXON) && (old->c_iflag & IXON) && !tty->tco_stopped)
		ldisc_start(tty);
	if (tty->packet && ((old->c_iflag ^ tty->termios.c_iflag) & IXON)) {
		tty->pktstatus &= ~(TIOCPKT_NOSTOP | TIOCPKT_DOSTOP);
		tty->pktstatus |=
		    IF(tty, IXON) ? TIOCPKT_DOSTOP : TIOCPKT_NOSTOP;
		TTY_WAKE_M(tty, POLLIN | POLLPRI);
	}
	/* New VMIN/ICANON may make waiting readers ready. */
	TTY_WAKE_S(tty, POLLIN | POLLRDNORM);
}
