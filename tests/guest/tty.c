/* Pseudo-terminals: devpts nodes, termios (canonical editing, echo, raw
 * mode with VMIN/VTIME, input and output processing, flow control),
 * poll on both ends, sessions and controlling terminals, job control
 * (ISIG, SIGWINCH, SIGTTIN, SIGTTOU) and hangup when the master closes. */
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "check.h"

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static short revents(int fd, short ev)
{
	struct pollfd p = {fd, ev, 0};
	int r = poll(&p, 1, 0);
	return r < 0 ? -1 : p.revents;
}

/* Everything the master can read within ms (the echo of a write). */
static ssize_t drain(int m, char *buf, size_t cap, int ms)
{
	size_t got = 0;
	for (;;) {
		struct pollfd p = {m, POLLIN, 0};
		if (poll(&p, 1, ms) <= 0 || !(p.revents & POLLIN))
			break;
		ssize_t r = read(m, buf + got, cap - 1 - got);
		if (r <= 0)
			break;
		got += (size_t)r;
		ms = 50; /* the rest follows at once */
	}
	buf[got] = 0;
	return (ssize_t)got;
}

static void set_echo(int s, bool on)
{
	struct termios t;
	SYS(tcgetattr(s, &t));
	if (on)
		t.c_lflag |= ECHO;
	else
		t.c_lflag &= ~ECHO;
	SYS(tcsetattr(s, TCSANOW, &t));
}

static void test_nodes(void)
{
	int m, s;
	char name[64];
	SYS(openpty(&m, &s, name, NULL, NULL));
	CHECK(isatty(m) && isatty(s));
	unsigned n;
	SYS(ioctl(m, TIOCGPTN, &n));
	char want[64];
	snprintf(want, sizeof(want), "/dev/pts/%u", n);
	CHECK_STR(name, want);
	CHECK_STR(ttyname(s), want);
	char link[64], lbuf[128];
	snprintf(link, sizeof(link), "/proc/self/fd/%d", s);
	ssize_t l = SYS(readlink(link, lbuf, sizeof(lbuf) - 1));
	lbuf[l] = 0;
	CHECK_STR(lbuf, want);
	struct stat st, st2;
	SYS(stat(want, &st));
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(major(st.st_rdev), 136);
	CHECK_EQ(minor(st.st_rdev), n);
	SYS(fstat(s, &st2));
	CHECK_EQ(st2.st_ino, st.st_ino);
	CHECK_EQ(st2.st_rdev, st.st_rdev);
	SYS(stat("/dev/ptmx", &st));
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(major(st.st_rdev), 5);
	CHECK_EQ(minor(st.st_rdev), 2);
	/* The node is listed, and only ttys answer tty ioctls. */
	DIR *d = opendir("/dev/pts");
	CHECK(d != NULL);
	bool seen = false, seen_ptmx = false;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, want + 9))
			seen = true;
		if (!strcmp(e->d_name, "ptmx"))
			seen_ptmx = true;
	}
	closedir(d);
	CHECK(seen && seen_ptmx);
	CHECK_ERR(ioctl(s, TIOCGPTN, &n), ENOTTY);
	CHECK_ERR(lseek(s, 0, SEEK_SET), ESPIPE);
	/* TIOCGPTPEER opens the same slave. */
	int p = SYS(ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY));
	CHECK_STR(ttyname(p), want);
	close(p);
	close(s);
	close(m);
	/* The node goes with the master. */
	CHECK_ERR(stat(want, &st), ENOENT);

	/* A new master's slave is locked until unlockpt. */
	m = SYS(posix_openpt(O_RDWR | O_NOCTTY));
	SYS(grantpt(m));
	char *pn = ptsname(m);
	CHECK(pn != NULL);
	CHECK_ERR(open(pn, O_RDWR | O_NOCTTY), EIO);
	SYS(unlockpt(m));
	s = SYS(open(pn, O_RDWR | O_NOCTTY));
	close(s);
	close(m);
	pass("tty nodes");
}

static void test_canonical(void)
{
	int m, s;
	char buf[256];
	SYS(openpty(&m, &s, NULL, NULL, NULL));
	/* A line, its echo with ONLCR. */
	SYS(write(m, "hello\n", 6));
	CHECK_EQ(read(s, buf, sizeof(buf)), 6);
	CHECK(!memcmp(buf, "hello\n", 6));
	drain(m, buf, sizeof(buf), 1000);
	CHECK_STR(buf, "hello\r\n");
	/* ICRNL; ERASE (DEL) with ECHOE. */
	SYS(write(m, "abx\177c\r", 6));
	CHECK_EQ(read(s, buf, sizeof(buf)), 4);
	CHECK(!memcmp(buf, "abc\n", 4));
	drain(m, buf, sizeof(buf), 1000);
	CHECK_STR(buf, "abx\b \bc\r\n");
	/* KILL (^U) with ECHOKE, WERASE (^W). */
	SYS(write(m, "junk\025ok\n", 8));
	CHECK_EQ(read(s, buf, sizeof(buf)), 3);
	CHECK(!memcmp(buf, "ok\n", 3));
	drain(m, buf, sizeof(buf), 1000);
	CHECK_STR(buf, "junk\b \b\b \b\b \b\b \bok\r\n");
	SYS(write(m, "one two\027three\n", 14));
	CHECK_EQ(read(s, buf, sizeof(buf)), 10);
	CHECK(!memcmp(buf, "one three\n", 10));
	drain(m, buf, sizeof(buf), 1000);
	/* ECHOCTL shows control characters as ^X. */
	SYS(write(m, "\001\n", 2));
	CHECK_EQ(read(s, buf, sizeof(buf)), 2);
	CHECK_EQ(buf[0], 1);
	drain(m, buf, sizeof(buf), 1000);
	CHECK_STR(buf, "^A\r\n");
	/* EOF pushes a partial line, and alone reads as end of file. */
	SYS(write(m, "abc\004", 4));
	CHECK_EQ(read(s, buf, sizeof(buf)), 3);
	SYS(write(m, "\004", 1));
	CHECK_EQ(read(s, buf, sizeof(buf)), 0);
	drain(m, buf, sizeof(buf), 1000);
	CHECK_STR(buf, "abc");
	/* A short read leaves the rest of the line. */
	SYS(write(m, "wxyz\n", 5));
	CHECK_EQ(read(s, buf, 2), 2);
	CHECK_EQ(read(s, buf, sizeof(buf)), 3);
	CHECK(!memcmp(buf, "yz\n", 3));
	drain(m, buf, sizeof(buf), 1000);
	/* An unfinished line is not readable; FIONREAD counts lines. */
	set_echo(s, false);
	SYS(write(m, "part", 4));
	int n;
	usleep(20000);
	CHECK_EQ(revents(s, POLLIN) & POLLIN, 0);
	SYS(ioctl(s, FIONREAD, &n));
	CHECK_EQ(n, 0);
	SYS(write(m, "\n", 1));
	struct pollfd pf = {s, POLLIN, 0};
	CHECK_EQ(poll(&pf, 1, 5000), 1);
	SYS(ioctl(s, FIONREAD, &n));
	CHECK_EQ(n, 5);
	CHECK_EQ(read(s, buf, sizeof(buf)), 5);
	/* A line is at most 4096 bytes with its newline: the writer is
	 * never blocked, the excess overwrites the last byte. */
	char big[5000];
	memset(big, 'a', sizeof(big));
	CHECK_EQ(write(m, big, sizeof(big)), (ssize_t)sizeof(big));
	SYS(write(m, "\n", 1));
	char rb[6000];
	CHECK_EQ(read(s, rb, sizeof(rb)), 4096);
	CHECK_EQ(rb[4095], '\n');
	CHECK_EQ(rb[4094], 'a');
	/* ONLCR and friends on output. */
	SYS(write(s, "a\nb", 3));
	drain(m, buf, sizeof(buf), 1000);
	CHECK_STR(buf, "a\r\nb");
	struct termios t;
	SYS(tcgetattr(s, &t));
	t.c_oflag &= ~OPOST;
	SYS(tcsetattr(s, TCSANOW, &t));
	SYS(write(s, "a\nb", 3));
	drain(m, buf, sizeof(buf), 1000);
	CHECK_STR(buf, "a\nb");
	close(s);
	close(m);
	pass("tty canonical");
}

static void test_raw(void)
{
	int m, s;
	char buf[256];
	SYS(openpty(&m, &s, NULL, NULL, NULL));
	struct termios t;
	SYS(tcgetattr(s, &t));
	cfmakeraw(&t);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	SYS(tcsetattr(s, TCSANOW, &t));
	SYS(write(m, "x\ry\177", 4));
	CHECK_EQ(read_full(s, buf, 4), 4);
	CHECK(!memcmp(buf, "x\ry\177", 4));
	/* No echo, no output processing. */
	CHECK_EQ(revents(m, POLLIN) & POLLIN, 0);
	SYS(write(s, "\n", 1));
	CHECK_EQ(read(m, buf, sizeof(buf)), 1);
	CHECK_EQ(buf[0], '\n');

	/* VMIN=0 VTIME=0: what is there, at once. */
	t.c_cc[VMIN] = 0;
	SYS(tcsetattr(s, TCSANOW, &t));
	CHECK_EQ(read(s, buf, sizeof(buf)), 0);
	/* VMIN=0 VTIME=2: up to 0.2 s for a first byte. */
	t.c_cc[VTIME] = 2;
	SYS(tcsetattr(s, TCSANOW, &t));
	int64_t t0 = now_ms();
	CHECK_EQ(read(s, buf, sizeof(buf)), 0);
	int64_t dt = now_ms() - t0;
	CHECK(dt >= 150 && dt < 5000);
	SYS(write(m, "q", 1));
	t0 = now_ms();
	CHECK_EQ(read(s, buf, sizeof(buf)), 1);
	CHECK(now_ms() - t0 < 1000);
	/* VMIN=3 VTIME=0: waits for three bytes, however they come. */
	t.c_cc[VMIN] = 3;
	t.c_cc[VTIME] = 0;
	SYS(tcsetattr(s, TCSANOW, &t));
	pid_t c = SYS(fork());
	if (c == 0) {
		usleep(100000);
		write(m, "a", 1);
		usleep(100000);
		write(m, "bc", 2);
		_exit(0);
	}
	t0 = now_ms();
	CHECK_EQ(read(s, buf, sizeof(buf)), 3);
	CHECK(now_ms() - t0 >= 150);
	CHECK(!memcmp(buf, "abc", 3));
	int st;
	SYS(waitpid(c, &st, 0));
	/* VMIN=5 VTIME=1: the inter-byte timer ends a short read. */
	t.c_cc[VMIN] = 5;
	t.c_cc[VTIME] = 1;
	SYS(tcsetattr(s, TCSANOW, &t));
	SYS(write(m, "de", 2));
	t0 = now_ms();
	CHECK_EQ(read(s, buf, sizeof(buf)), 2);
	dt = now_ms() - t0;
	CHECK(dt >= 50 && dt < 5000);
	/* poll in raw mode counts VMIN. */
	SYS(write(m, "fg", 2));
	usleep(20000);
	t.c_cc[VTIME] = 0;
	SYS(tcsetattr(s, TCSANOW, &t));
	CHECK_EQ(revents(s, POLLIN) & POLLIN, 0);
	SYS(write(m, "hij", 3));
	struct pollfd pf = {s, POLLIN, 0};
	CHECK_EQ(poll(&pf, 1, 5000), 1);
	int n;
	SYS(ioctl(s, FIONREAD, &n));
	CHECK_EQ(n, 5);
	/* TCFLSH throws away what is queued. */
	SYS(tcflush(s, TCIFLUSH));
	SYS(ioctl(s, FIONREAD, &n));
	CHECK_EQ(n, 0);
	/* The master's writer stops when the slave's input is full. */
	SYS(fcntl(m, F_SETFL, O_NONBLOCK));
	char z[1024] = {0};
	long total = 0;
	ssize_t r;
	while ((r = write(m, z, sizeof(z))) > 0)
		total += r;
	CHECK_EQ(errno, EAGAIN);
	CHECK(total >= 4096 && total <= 1 << 20);
	SYS(tcflush(s, TCIFLUSH));
	CHECK(revents(m, POLLOUT) & POLLOUT);
	SYS(fcntl(s, F_SETFL, O_NONBLOCK));
	total = 0;
	while ((r = write(s, z, sizeof(z))) > 0)
		total += r;
	CHECK_EQ(errno, EAGAIN);
	CHECK(total >= 4096 && total <= 1 << 20);
	SYS(tcflush(m, TCIFLUSH));
	CHECK(revents(s, POLLOUT) & POLLOUT);
	close(s);
	close(m);
	pass("tty raw");
}

static void test_flow_and_close(void)
{
	int m, s;
	char buf[256];
	SYS(openpty(&m, &s, NULL, NULL, NULL));
	/* IXON: ^S stops the slave's output, ^Q restarts it. */
	set_echo(s, false);
	SYS(fcntl(s, F_SETFL, O_NONBLOCK));
	SYS(write(m, "\023", 1));
	usleep(20000);
	CHECK_ERR(write(s, "x", 1), EAGAIN);
	SYS(write(m, "\021", 1));
	usleep(20000);
	CHECK_EQ(write(s, "y", 1), 1);
	CHECK_EQ(read(m, buf, sizeof(buf)), 1);
	CHECK_EQ(buf[0], 'y');
	/* poll on both ends. */
	CHECK(revents(m, POLLOUT) & POLLOUT);
	CHECK(revents(s, POLLOUT) & POLLOUT);
	CHECK_EQ(revents(m, POLLIN) & POLLIN, 0);
	SYS(write(s, "z", 1));
	CHECK(revents(m, POLLIN) & POLLIN);
	/* The slave closed: the master reads what is left, then EIO, and
	 * polls HUP. */
	close(s);
	CHECK(revents(m, POLLIN) & POLLHUP);
	CHECK_EQ(read(m, buf, sizeof(buf)), 1);
	CHECK_ERR(read(m, buf, sizeof(buf)), EIO);
	close(m);

	/* The master closed: the slave is hung up. */
	SYS(openpty(&m, &s, NULL, NULL, NULL));
	close(m);
	short ev = revents(s, POLLIN | POLLOUT);
	CHECK(ev & POLLHUP);
	CHECK_EQ(read(s, buf, sizeof(buf)), 0);
	CHECK_ERR(write(s, "a", 1), EIO);
	struct termios t;
	CHECK_ERR(tcgetattr(s, &t), EIO);
	close(s);
	pass("tty flow and close");
}

static void test_packet_epoll(void)
{
	int m, s;
	unsigned char buf[64];
	SYS(openpty(&m, &s, NULL, NULL, NULL));
	set_echo(s, false);
	/* TCGETS2 is TCGETS plus the speeds. */
	unsigned char t1[36], t2[44];
	SYS(ioctl(s, TCGETS, t1));
	SYS(ioctl(s, 0x802c542a /* TCGETS2 */, t2));
	CHECK(!memcmp(t1, t2, 36));
	unsigned ospeed;
	memcpy(&ospeed, t2 + 40, 4);
	CHECK_EQ(ospeed, 38400);
	/* epoll on both ends. */
	int ep = SYS(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = m};
	SYS(epoll_ctl(ep, EPOLL_CTL_ADD, m, &ev));
	ev.data.fd = s;
	SYS(epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev));
	struct epoll_event got[2];
	CHECK_EQ(epoll_wait(ep, got, 2, 0), 0);
	SYS(write(s, "x", 1));
	CHECK_EQ(epoll_wait(ep, got, 2, 5000), 1);
	CHECK_EQ(got[0].data.fd, m);
	CHECK_EQ(read(m, buf, sizeof(buf)), 1);
	SYS(write(m, "y\n", 2));
	CHECK_EQ(epoll_wait(ep, got, 2, 5000), 1);
	CHECK_EQ(got[0].data.fd, s);
	CHECK_EQ(read(s, buf, sizeof(buf)), 2);
	close(ep);
	/* Packet mode: data behind a 0 byte, flushes and flow control as
	 * status bytes with POLLPRI. */
	int one = 1;
	SYS(ioctl(m, TIOCPKT, &one));
	SYS(write(s, "x", 1));
	CHECK_EQ(read(m, buf, sizeof(buf)), 2);
	CHECK_EQ(buf[0], TIOCPKT_DATA);
	CHECK_EQ(buf[1], 'x');
	SYS(tcflush(s, TCIFLUSH));
	CHECK(revents(m, POLLPRI) & POLLPRI);
	CHECK_EQ(read(m, buf, sizeof(buf)), 1);
	CHECK_EQ(buf[0], TIOCPKT_FLUSHREAD);
	SYS(tcflush(s, TCOFLUSH));
	CHECK_EQ(read(m, buf, sizeof(buf)), 1);
	CHECK_EQ(buf[0], TIOCPKT_FLUSHWRITE);
	struct termios t;
	SYS(tcgetattr(s, &t));
	t.c_iflag &= ~IXON;
	SYS(tcsetattr(s, TCSANOW, &t));
	CHECK_EQ(read(m, buf, sizeof(buf)), 1);
	CHECK_EQ(buf[0], TIOCPKT_NOSTOP);
	close(s);
	close(m);
	pass("tty packet mode and epoll");
}

static volatile sig_atomic_t got_sig[NSIG];
static void on_sig(int sig)
{
	got_sig[sig]++;
}

static void handle(int sig)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sig;
	SYS(sigaction(sig, &sa, NULL));
}

static void wait_byte(int fd)
{
	char c;
	CHECK_EQ(read_full(fd, &c, 1), 1);
}

/* Runs fn in a child that is the leader of a new session whose
 * controlling terminal is the slave of a fresh pair; the parent keeps
 * the master and runs parent(m, pid, sync) with a pipe the child writes
 * a byte to when it is ready. Returns the child's status. */
static int in_session(void (*child)(int s, int sync),
		      void (*parent)(int m, pid_t pid, int sync))
{
	int m, s;
	char name[64];
	SYS(openpty(&m, &s, name, NULL, NULL));
	close(s);
	int sp[2];
	SYS(pipe(sp));
	pid_t pid = SYS(fork());
	if (pid == 0) {
		alarm(60);
		close(m);
		close(sp[0]);
		CHECK_EQ(setsid(), getpid());
		CHECK_ERR(open("/dev/tty", O_RDWR), ENXIO);
		/* Opened without O_NOCTTY by a leader: the controlling tty. */
		int fd = SYS(open(name, O_RDWR));
		child(fd, sp[1]);
		_exit(0);
	}
	close(sp[1]);
	parent(m, pid, sp[0]);
	int st;
	SYS(waitpid(pid, &st, 0));
	close(sp[0]);
	close(m);
	return st;
}

static void ctty_child(int s, int sync)
{
	pid_t sid;
	SYS(ioctl(s, TIOCGSID, &sid));
	CHECK_EQ(sid, getpid());
	CHECK_EQ(tcgetpgrp(s), getpid());
	CHECK_EQ(tcgetsid(s), getpid());
	int t = SYS(open("/dev/tty", O_RDWR));
	CHECK(isatty(t));
	struct stat st;
	SYS(fstat(t, &st));
	CHECK_EQ(major(st.st_rdev), 5);
	CHECK_EQ(minor(st.st_rdev), 0);
	SYS(write(t, "T", 1));
	close(t);
	SYS(write(sync, "r", 1));
	/* TIOCSCTTY again is a no-op for the leader; a child may not. */
	SYS(ioctl(s, TIOCSCTTY, 0));
	pid_t c = SYS(fork());
	if (c == 0) {
		CHECK_ERR(ioctl(s, TIOCSCTTY, 0), EPERM);
		/* It shares the terminal: a group of its own can be put in
		 * the foreground. */
		SYS(setpgid(0, 0));
		_exit(0);
	}
	int cst;
	SYS(waitpid(c, &cst, 0));
	CHECK_EQ(child_status(cst), 0);
	/* TIOCSPGRP: only a group of this session. */
	CHECK_ERR(tcsetpgrp(s, 0x7fffffff), ESRCH);
	CHECK_ERR(tcsetpgrp(s, getppid()), EPERM);
	SYS(tcsetpgrp(s, getpid()));
	/* TIOCNOTTY by the leader: the session loses its terminal (and its
	 * foreground group, the leader's own, gets SIGHUP). */
	signal(SIGHUP, SIG_IGN);
	SYS(ioctl(s, TIOCNOTTY));
	CHECK_ERR(ioctl(s, TIOCGSID, &sid), ENOTTY);
	CHECK_ERR(open("/dev/tty", O_RDWR), ENXIO);
	/* TIOCSCTTY takes it back; O_NOCTTY opens never do. */
	SYS(ioctl(s, TIOCSCTTY, 0));
	CHECK_EQ(tcgetsid(s), getpid());
}

static void ctty_parent(int m, pid_t pid, int sync)
{
	char buf[16];
	wait_byte(sync);
	CHECK_EQ(read(m, buf, 1), 1);
	CHECK_EQ(buf[0], 'T');
	(void)pid;
}

static void test_ctty(void)
{
	CHECK_EQ(child_status(in_session(ctty_child, ctty_parent)), 0);
	/* Without setsid a process (not a leader) gets no terminal. */
	int m, s;
	char name[64];
	SYS(openpty(&m, &s, name, NULL, NULL));
	pid_t c = SYS(fork());
	if (c == 0) {
		if (getpid() != getsid(0)) {
			int fd = SYS(open(name, O_RDWR));
			CHECK_ERR(tcgetpgrp(fd), ENOTTY);
			CHECK_ERR(ioctl(fd, TIOCSCTTY, 0), EPERM);
		}
		_exit(0);
	}
	int st;
	SYS(waitpid(c, &st, 0));
	CHECK_EQ(child_status(st), 0);
	/* From the master, TIOCGPGRP answers without being a ctty. */
	pid_t pg = -1;
	SYS(ioctl(m, TIOCGPGRP, &pg));
	CHECK_EQ(pg, 0);
	close(s);
	close(m);
	pass("tty ctty");
}

static void isig_child(int s, int sync)
{
	handle(SIGINT);
	handle(SIGQUIT);
	handle(SIGWINCH);
	SYS(write(sync, "r", 1));
	char buf[16];
	/* A handler without SA_RESTART: the read ends with EINTR. */
	CHECK_ERR(read(s, buf, sizeof(buf)), EINTR);
	CHECK_EQ(got_sig[SIGINT], 1);
	SYS(write(sync, "r", 1));
	while (!got_sig[SIGQUIT])
		usleep(1000);
	SYS(write(sync, "r", 1));
	while (!got_sig[SIGWINCH])
		usleep(1000);
	struct winsize ws;
	SYS(ioctl(s, TIOCGWINSZ, &ws));
	CHECK_EQ(ws.ws_row, 33);
	CHECK_EQ(ws.ws_col, 101);
	/* The same size again sends nothing. */
	got_sig[SIGWINCH] = 0;
	SYS(ioctl(s, TIOCSWINSZ, &ws));
	usleep(50000);
	CHECK_EQ(got_sig[SIGWINCH], 0);
}

static void isig_parent(int m, pid_t pid, int sync)
{
	(void)pid;
	char buf[64];
	wait_byte(sync);
	usleep(50000);
	/* Typed ahead, then ^C: the pending line is flushed, ^C echoed. */
	SYS(write(m, "lost", 4));
	drain(m, buf, sizeof(buf), 1000);
	CHECK_STR(buf, "lost");
	SYS(write(m, "\003", 1));
	wait_byte(sync);
	drain(m, buf, sizeof(buf), 1000);
	CHECK_STR(buf, "^C");
	SYS(write(m, "\034", 1));
	wait_byte(sync);
	struct winsize ws = {.ws_row = 33, .ws_col = 101};
	SYS(ioctl(m, TIOCSWINSZ, &ws));
}

static void test_isig(void)
{
	CHECK_EQ(child_status(in_session(isig_child, isig_parent)), 0);
	pass("tty isig and winch");
}

static void jobs_child(int s, int sync)
{
	(void)sync;
	int p[2];
	SYS(pipe(p));
	pid_t c = SYS(fork());
	if (c == 0) {
		close(p[0]);
		SYS(setpgid(0, 0));
		SYS(write(p[1], "r", 1));
		char buf[16];
		/* The background group reads: stopped by SIGTTIN, then with
		 * the terminal handed over the read succeeds. */
		ssize_t r = read(s, buf, sizeof(buf));
		CHECK_EQ(r, 3);
		/* In the foreground now: it may hand the terminal back. */
		SYS(tcsetpgrp(s, getppid()));
		_exit(0);
	}
	close(p[1]);
	wait_byte(p[0]);
	int st;
	SYS(waitpid(c, &st, WUNTRACED));
	CHECK(WIFSTOPPED(st));
	CHECK_EQ(WSTOPSIG(st), SIGTTIN);
	SYS(tcsetpgrp(s, c));
	SYS(write(sync, "r", 1)); /* the parent types a line */
	SYS(kill(c, SIGCONT));
	SYS(waitpid(c, &st, 0));
	CHECK_EQ(child_status(st), 0);
	CHECK_EQ(tcgetpgrp(s), getpid());

	/* SIGTTIN ignored in the background: EIO. */
	c = SYS(fork());
	if (c == 0) {
		SYS(setpgid(0, 0));
		signal(SIGTTIN, SIG_IGN);
		char buf[4];
		CHECK_ERR(read(s, buf, sizeof(buf)), EIO);
		_exit(0);
	}
	SYS(waitpid(c, &st, 0));
	CHECK_EQ(child_status(st), 0);

	/* TOSTOP: a background write stops with SIGTTOU. */
	struct termios t;
	SYS(tcgetattr(s, &t));
	t.c_lflag |= TOSTOP;
	SYS(tcsetattr(s, TCSANOW, &t));
	c = SYS(fork());
	if (c == 0) {
		SYS(setpgid(0, 0));
		SYS(write(s, "w", 1));
		_exit(0);
	}
	SYS(waitpid(c, &st, WUNTRACED));
	CHECK(WIFSTOPPED(st));
	CHECK_EQ(WSTOPSIG(st), SIGTTOU);
	SYS(kill(c, SIGKILL));
	SYS(waitpid(c, &st, 0));
	t.c_lflag &= ~TOSTOP;
	SYS(tcsetattr(s, TCSANOW, &t));

	/* A stopped group orphaned by an exit gets SIGHUP and SIGCONT, and
	 * its reads of the terminal fail with EIO instead of stopping. */
	int op[2];
	SYS(pipe(op));
	c = SYS(fork());
	if (c == 0) {
		SYS(setpgid(0, 0));
		pid_t g = SYS(fork());
		if (g == 0) {
			handle(SIGHUP);
			raise(SIGSTOP);
			while (!got_sig[SIGHUP])
				usleep(1000);
			char buf[4];
			errno = 0;
			ssize_t r = read(s, buf, sizeof(buf));
			char res = r < 0 && errno == EIO ? 'e' : '?';
			SYS(write(op[1], &res, 1));
			_exit(0);
		}
		int gst;
		SYS(waitpid(g, &gst, WUNTRACED));
		CHECK(WIFSTOPPED(gst));
		_exit(0);
	}
	close(op[1]);
	SYS(waitpid(c, &st, 0));
	CHECK_EQ(child_status(st), 0);
	struct pollfd pf = {op[0], POLLIN, 0};
	CHECK_EQ(poll(&pf, 1, 20000), 1);
	char res = 0;
	CHECK_EQ(read(op[0], &res, 1), 1);
	CHECK_EQ(res, 'e');
	close(op[0]);
	SYS(write(sync, "d", 1));
}

static void jobs_parent(int m, pid_t pid, int sync)
{
	(void)pid;
	wait_byte(sync);
	SYS(write(m, "go\n", 3));
	wait_byte(sync);
}

static void test_jobs(void)
{
	CHECK_EQ(child_status(in_session(jobs_child, jobs_parent)), 0);
	pass("tty job control");
}

static void hup_child(int s, int sync)
{
	handle(SIGHUP);
	handle(SIGCONT);
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	SYS(write(sync, "r", 1));
	while (!got_sig[SIGHUP])
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	while (!got_sig[SIGCONT])
		usleep(1000);
	char buf[8];
	CHECK_EQ(read(s, buf, sizeof(buf)), 0);
	CHECK_ERR(write(s, "x", 1), EIO);
	/* No controlling terminal any more. */
	CHECK_ERR(open("/dev/tty", O_RDWR), ENXIO);
}

static void test_hangup(void)
{
	int m, s;
	char name[64];
	SYS(openpty(&m, &s, name, NULL, NULL));
	close(s);
	int sp[2];
	SYS(pipe(sp));
	pid_t pid = SYS(fork());
	if (pid == 0) {
		alarm(60);
		close(m);
		close(sp[0]);
		SYS(setsid());
		int fd = SYS(open(name, O_RDWR));
		hup_child(fd, sp[1]);
		_exit(0);
	}
	close(sp[1]);
	wait_byte(sp[0]);
	close(m); /* the hangup */
	int st;
	SYS(waitpid(pid, &st, 0));
	CHECK_EQ(child_status(st), 0);
	close(sp[0]);
	pass("tty hangup");
}

int main(void)
{
	alarm(120);
	test_nodes();
	test_canonical();
	test_raw();
	test_flow_and_close();
	test_packet_epoll();
	test_ctty();
	test_isig();
	test_jobs();
	test_hangup();
	return 0;
}
