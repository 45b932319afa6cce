/* Advisory file locks between processes: flock, POSIX record locks
 * (F_SETLK/F_SETLKW/F_GETLK with ranges, split and merge, release on any
 * close, EDEADLK) and OFD locks, on a tmpfs (/tmp) and on the rootfs
 * (/var/tmp). A waiter must sleep exactly until the holder lets go: each
 * check that something blocks waits a while to see nothing happen. */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/file.h>
#include <sys/time.h>
#include <sys/wait.h>
#include "check.h"

#define QUIET_MS 300 /* how long a blocked waiter must stay blocked */

static char path[PATH_MAX];

static int lk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type,
			   .l_whence = SEEK_SET,
			   .l_start = start,
			   .l_len = len};
	return fcntl(fd, cmd, &fl);
}

static struct flock getlk(int fd, int cmd, short type, off_t start, off_t len)
{
	struct flock fl = {.l_type = type,
			   .l_whence = SEEK_SET,
			   .l_start = start,
			   .l_len = len};
	SYS(fcntl(fd, cmd, &fl));
	return fl;
}

static void wait_ok(pid_t pid)
{
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
}

/* Nothing arrives on rfd for QUIET_MS. */
static bool quiet(int rfd)
{
	struct pollfd p = {.fd = rfd, .events = POLLIN};
	return poll(&p, 1, QUIET_MS) == 0;
}

static void say(int wfd, char c)
{
	CHECK_EQ(write(wfd, &c, 1), 1);
}

static char hear(int rfd)
{
	char c = 0;
	CHECK_EQ(read(rfd, &c, 1), 1);
	return c;
}

static int open_rw(void)
{
	return (int)SYS(open(path, O_RDWR));
}

/* ---- flock ---- */
static void test_flock(void)
{
	int fd = open_rw();
	SYS(flock(fd, LOCK_EX));
	SYS(flock(fd, LOCK_EX)); /* again: a no-op */
	CHECK_ERR(flock(fd, 0), EINVAL);
	CHECK_ERR(flock(fd, LOCK_SH | LOCK_EX), EINVAL);
	int up[2];
	SYS(pipe(up));
	pid_t c = SYS(fork());
	if (c == 0) {
		/* The inherited fd is the same open file: its lock. */
		SYS(flock(fd, LOCK_EX | LOCK_NB));
		int fd2 = open_rw();
		CHECK_ERR(flock(fd2, LOCK_EX | LOCK_NB), EWOULDBLOCK);
		CHECK_ERR(flock(fd2, LOCK_SH | LOCK_NB), EWOULDBLOCK);
		/* flock and record locks are independent. */
		SYS(lk(fd2, F_SETLK, F_WRLCK, 0, 0));
		SYS(lk(fd2, F_SETLK, F_UNLCK, 0, 0));
		say(up[1], 'r');
		SYS(flock(fd2, LOCK_SH)); /* blocks until LOCK_UN */
		say(up[1], 'g');
		_exit(0);
	}
	CHECK_EQ(hear(up[0]), 'r');
	CHECK(quiet(up[0]));
	SYS(flock(fd, LOCK_UN));
	CHECK_EQ(hear(up[0]), 'g');
	wait_ok(c);
	/* The child's lock went with its last fd (its exit). */
	SYS(flock(fd, LOCK_EX | LOCK_NB));
	/* Shared locks share; a second open file's LOCK_SH waits for EX. */
	SYS(flock(fd, LOCK_SH));
	int fd2 = open_rw();
	SYS(flock(fd2, LOCK_SH | LOCK_NB));
	CHECK_ERR(flock(fd2, LOCK_EX | LOCK_NB), EWOULDBLOCK);
	/* Closing fd releases its lock; fd2 can then convert. */
	SYS(close(fd));
	SYS(flock(fd2, LOCK_EX | LOCK_NB));
	SYS(close(fd2));
	SYS(close(up[0]));
	SYS(close(up[1]));
}

/* ---- POSIX record locks ---- */
static void test_posix(void)
{
	int fd = open_rw();
	int up[2], down[2];
	SYS(pipe(up));
	SYS(pipe(down));
	SYS(lk(fd, F_SETLK, F_WRLCK, 0, 100));
	/* /proc/locks lists it. */
	char want[64], line[256];
	snprintf(want, sizeof(want), "POSIX  ADVISORY  WRITE %d ", getpid());
	FILE *pl = fopen("/proc/locks", "r");
	CHECK(pl != NULL);
	bool listed = false;
	while (fgets(line, sizeof(line), pl))
		if (strstr(line, want) && strstr(line, " 0 99\n"))
			listed = true;
	fclose(pl);
	CHECK(listed);
	/* Own locks never conflict with ourselves. */
	struct flock fl = getlk(fd, F_GETLK, F_WRLCK, 0, 100);
	CHECK_EQ(fl.l_type, F_UNLCK);
	pid_t me = getpid();
	pid_t c = SYS(fork());
	if (c == 0) {
		int cfd = open_rw();
		/* POSIX locks are not inherited. */
		fl = getlk(cfd, F_GETLK, F_RDLCK, 10, 1);
		CHECK_EQ(fl.l_type, F_WRLCK);
		CHECK_EQ(fl.l_pid, me);
		CHECK_EQ(fl.l_start, 0);
		CHECK_EQ(fl.l_len, 100);
		CHECK_EQ(fl.l_whence, SEEK_SET);
		CHECK_ERR(lk(cfd, F_SETLK, F_RDLCK, 99, 5), EAGAIN);
		SYS(lk(cfd, F_SETLK, F_WRLCK, 100, 10)); /* beyond: fine */
		fl = getlk(cfd, F_GETLK, F_WRLCK, 100, 0);
		CHECK_EQ(fl.l_type, F_UNLCK);
		say(up[1], 'r');
		SYS(lk(cfd, F_SETLKW, F_WRLCK, 50, 10)); /* waits */
		say(up[1], 'g');
		CHECK_EQ(hear(down[0]), 'q');
		/* The parent's remaining pieces: [0,40) and [70,100). */
		fl = getlk(cfd, F_GETLK, F_WRLCK, 0, 0);
		CHECK_EQ(fl.l_start, 0);
		CHECK_EQ(fl.l_len, 40);
		fl = getlk(cfd, F_GETLK, F_WRLCK, 60, 0);
		CHECK_EQ(fl.l_start, 70);
		CHECK_EQ(fl.l_len, 30);
		fl = getlk(cfd, F_GETLK, F_WRLCK, 40, 10);
		CHECK_EQ(fl.l_type, F_UNLCK);
		/* Merged read locks [200,210)+[210,220), the negative length
		 * one [295,300) and the one to EOF from 400. */
		fl = getlk(cfd, F_GETLK, F_WRLCK, 150, 100);
		CHECK_EQ(fl.l_type, F_RDLCK);
		CHECK_EQ(fl.l_start, 200);
		CHECK_EQ(fl.l_len, 20);
		fl = getlk(cfd, F_GETLK, F_RDLCK, 150, 100);
		CHECK_EQ(fl.l_type, F_UNLCK);
		fl = getlk(cfd, F_GETLK, F_WRLCK, 290, 20);
		CHECK_EQ(fl.l_start, 295);
		CHECK_EQ(fl.l_len, 5);
		fl = getlk(cfd, F_GETLK, F_WRLCK, 1000000, 1);
		CHECK_EQ(fl.l_start, 400);
		CHECK_EQ(fl.l_len, 0);
		say(up[1], 'd');
		/* Released when the parent closes another fd of the file. */
		CHECK_EQ(hear(down[0]), 'c');
		fl = getlk(cfd, F_GETLK, F_WRLCK, 0, 0);
		CHECK_EQ(fl.l_type, F_UNLCK); /* ours, [50,60), is no conflict */
		_exit(0);
	}
	CHECK_EQ(hear(up[0]), 'r');
	CHECK(quiet(up[0]));
	/* Unlock the middle: split in two, the waiter gets [50,60). */
	SYS(lk(fd, F_SETLK, F_UNLCK, 40, 30));
	CHECK_EQ(hear(up[0]), 'g');
	SYS(lk(fd, F_SETLK, F_RDLCK, 200, 10));
	SYS(lk(fd, F_SETLK, F_RDLCK, 210, 10));
	SYS(lk(fd, F_SETLK, F_RDLCK, 300, -5));
	SYS(lk(fd, F_SETLK, F_RDLCK, 400, 0));
	say(down[1], 'q');
	CHECK_EQ(hear(up[0]), 'd');
	int other = open_rw();
	SYS(close(other)); /* drops every lock of ours on the file */
	/* The child, holding [50,60), is what F_GETLK sees now. */
	fl = getlk(fd, F_GETLK, F_RDLCK, 0, 0);
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_pid, c);
	CHECK_EQ(fl.l_start, 50);
	CHECK_EQ(fl.l_len, 10);
	say(down[1], 'c');
	wait_ok(c);
	/* ... and the child's locks went at its exit. */
	fl = getlk(fd, F_GETLK, F_WRLCK, 0, 0);
	CHECK_EQ(fl.l_type, F_UNLCK);

	/* Modes and arguments. */
	int ro = (int)SYS(open(path, O_RDONLY));
	CHECK_ERR(lk(ro, F_SETLK, F_WRLCK, 0, 1), EBADF);
	SYS(lk(ro, F_SETLK, F_RDLCK, 0, 1));
	CHECK_ERR(lk(ro, F_SETLK, 42, 0, 1), EINVAL);
	CHECK_ERR(lk(ro, F_SETLK, F_RDLCK, 5, -10), EINVAL);
	struct flock bad = {.l_type = F_RDLCK, .l_whence = 7};
	CHECK_ERR(fcntl(ro, F_SETLK, &bad), EINVAL);
	CHECK_ERR(fcntl(ro, F_GETLK, (void *)8), EFAULT);
	SYS(close(ro));
	SYS(close(fd));
	SYS(close(up[0]));
	SYS(close(up[1]));
	SYS(close(down[0]));
	SYS(close(down[1]));
}

/* Two processes each hold a byte and want the other's: the one that
 * closes the cycle gets EDEADLK, the other its lock once that one gives
 * up. Which one closes it is up to the scheduler. */
static void deadlock_side(int mine, int theirs, int ready_w, int go_r,
			  int res_w)
{
	int fd = open_rw();
	SYS(lk(fd, F_SETLK, F_WRLCK, mine, 1));
	say(ready_w, 'r');
	hear(go_r);
	int r = lk(fd, F_SETLKW, F_WRLCK, theirs, 1);
	say(res_w, r == 0 ? 'g' : errno == EDEADLK ? 'D' : 'x');
	_exit(0); /* releases both */
}

static void test_deadlock(void)
{
	int ready[2], go[2], res[2];
	SYS(pipe(ready));
	SYS(pipe(go));
	SYS(pipe(res));
	pid_t a = SYS(fork());
	if (a == 0)
		deadlock_side(0, 1, ready[1], go[0], res[1]);
	pid_t b = SYS(fork());
	if (b == 0)
		deadlock_side(1, 0, ready[1], go[0], res[1]);
	hear(ready[0]);
	hear(ready[0]);
	say(go[1], 'g');
	say(go[1], 'g');
	char r1 = hear(res[0]), r2 = hear(res[0]);
	CHECK_EQ(r1, 'D');
	CHECK_EQ(r2, 'g');
	wait_ok(a);
	wait_ok(b);
	SYS(close(ready[0]));
	SYS(close(ready[1]));
	SYS(close(go[0]));
	SYS(close(go[1]));
	SYS(close(res[0]));
	SYS(close(res[1]));
}

static volatile sig_atomic_t ticks;

static void on_alarm(int sig)
{
	(void)sig;
	ticks++;
}

/* A blocked F_SETLKW or flock ends with EINTR on a signal whose handler
 * has no SA_RESTART. */
static void test_eintr(void)
{
	int up[2], down[2];
	SYS(pipe(up));
	SYS(pipe(down));
	pid_t c = SYS(fork());
	if (c == 0) {
		int fd = open_rw();
		SYS(lk(fd, F_SETLK, F_WRLCK, 0, 0));
		SYS(flock(fd, LOCK_EX));
		say(up[1], 'h');
		hear(down[0]);
		usleep(400000);
		_exit(0);
	}
	CHECK_EQ(hear(up[0]), 'h');
	struct sigaction sa = {.sa_handler = on_alarm};
	SYS(sigaction(SIGALRM, &sa, NULL));
	int fd = open_rw();
	/* A tick every 100 ms: one that fires before a call blocks (a
	 * loaded machine) is followed by another while it does. */
	struct itimerval it = {.it_value = {.tv_usec = 100000},
			       .it_interval = {.tv_usec = 100000}};
	SYS(setitimer(ITIMER_REAL, &it, NULL));
	CHECK_ERR(lk(fd, F_SETLKW, F_RDLCK, 5, 1), EINTR);
	CHECK_ERR(flock(fd, LOCK_SH), EINTR);
	CHECK_ERR(lk(fd, F_OFD_SETLKW, F_RDLCK, 5, 1), EINTR);
	/* With SA_RESTART the wait goes on across the ticks (Linux's
	 * -ERESTARTSYS) until the holder exits. */
	sa.sa_flags = SA_RESTART;
	SYS(sigaction(SIGALRM, &sa, NULL));
	ticks = 0;
	say(down[1], 'x');
	SYS(lk(fd, F_SETLKW, F_RDLCK, 5, 1));
	CHECK(ticks > 0);
	struct itimerval off = {0};
	SYS(setitimer(ITIMER_REAL, &off, NULL));
	wait_ok(c);
	/* Nothing of the interrupted waits remains. */
	SYS(lk(fd, F_SETLK, F_WRLCK, 0, 0));
	SYS(flock(fd, LOCK_EX | LOCK_NB));
	signal(SIGALRM, SIG_DFL);
	SYS(close(fd));
	SYS(close(up[0]));
	SYS(close(up[1]));
	SYS(close(down[0]));
	SYS(close(down[1]));
}

/* ---- OFD locks ---- */
static void test_ofd(void)
{
	int fd1 = open_rw(), fd2 = open_rw(), fd3 = open_rw();
	SYS(lk(fd1, F_OFD_SETLK, F_WRLCK, 0, 10));
	/* Another open file of the same process conflicts. */
	CHECK_ERR(lk(fd2, F_OFD_SETLK, F_RDLCK, 5, 1), EAGAIN);
	struct flock fl = getlk(fd2, F_OFD_GETLK, F_RDLCK, 0, 0);
	CHECK_EQ(fl.l_type, F_WRLCK);
	CHECK_EQ(fl.l_pid, -1);
	CHECK_EQ(fl.l_len, 10);
	/* So does a POSIX lock of the same process. */
	CHECK_ERR(lk(fd3, F_SETLK, F_RDLCK, 5, 1), EAGAIN);
	struct flock p = {.l_type = F_RDLCK, .l_pid = 1};
	CHECK_ERR(fcntl(fd2, F_OFD_SETLK, &p), EINVAL);
	CHECK_ERR(fcntl(fd2, F_OFD_GETLK, &p), EINVAL);
	/* Closing another fd does not drop an OFD lock. */
	SYS(close(fd3));
	CHECK_ERR(lk(fd2, F_OFD_SETLK, F_RDLCK, 5, 1), EAGAIN);
	/* A dup shares it; the lock goes with the last fd. */
	int dup1 = (int)SYS(dup(fd1));
	SYS(close(fd1));
	CHECK_ERR(lk(fd2, F_OFD_SETLK, F_RDLCK, 5, 1), EAGAIN);
	int up[2];
	SYS(pipe(up));
	pid_t c = SYS(fork());
	if (c == 0) {
		SYS(close(dup1));
		say(up[1], 'r');
		SYS(lk(fd2, F_OFD_SETLKW, F_WRLCK, 0, 1));
		say(up[1], 'g');
		_exit(0);
	}
	CHECK_EQ(hear(up[0]), 'r');
	CHECK(quiet(up[0]));
	SYS(close(dup1)); /* the child's copy is closed: the last one */
	CHECK_EQ(hear(up[0]), 'g');
	wait_ok(c);
	SYS(close(fd2));
	SYS(close(up[0]));
	SYS(close(up[1]));
}

static void test_dir(const char *base)
{
	snprintf(path, sizeof(path), "%s/bhtest-locks-%d", base, getpid());
	int fd = (int)SYS(open(path, O_RDWR | O_CREAT | O_TRUNC, 0644));
	CHECK_EQ(write(fd, "0123456789", 10), 10);
	SYS(close(fd));
	test_flock();
	test_posix();
	test_deadlock();
	test_eintr();
	test_ofd();
	SYS(unlink(path));
}

int main(void)
{
	test_dir("/tmp");
	test_dir("/var/tmp");
	pass("locks");
	return 0;
}
