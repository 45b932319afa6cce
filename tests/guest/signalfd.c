/* signalfd: the siginfo read for kill, sigqueue, tgkill and a child's exit,
 * reading as consuming, several signals per read, queued real-time signals,
 * mask updates, the errors, poll and epoll readiness, blocking reads woken
 * from another thread, SIGKILL/SIGSTOP silently dropped from the mask, a
 * forked child reading only its own signals and thread-directed signals
 * readable only by their thread. Blocking reads run in helper threads joined
 * with a deadline, so a lost wakeup fails a check instead of hanging. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include "check.h"

#define SZ sizeof(struct signalfd_siginfo)

static void step(const char *what)
{
	printf("-- %s\n", what);
	fflush(stdout);
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static int tgkill_(pid_t tgid, pid_t tid, int sig)
{
	return (int)syscall(SYS_tgkill, tgid, tid, sig);
}

static void *join_within(pthread_t t, long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	void *ret;
	int r = pthread_timedjoin_np(t, &ret, &ts);
	if (r)
		FAIL_AT("pthread_timedjoin_np: %s", strerror(r));
	return ret;
}

static sigset_t set_of(int a, int b)
{
	sigset_t s;
	sigemptyset(&s);
	if (a)
		sigaddset(&s, a);
	if (b)
		sigaddset(&s, b);
	return s;
}

static int pending(int sig)
{
	sigset_t s;
	sigpending(&s);
	return sigismember(&s, sig);
}

static short revents(int fd, int ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
	if (poll(&p, 1, ms) < 0)
		return -1;
	return p.revents;
}

/* A read in a helper thread, joined within 5 s. */
struct rd {
	int fd;
	void *buf;
	size_t n;
	long delay_us; /* before sending, for the sender variant */
	ssize_t r;
	int err;
	pid_t tid;
};

static void *reader(void *arg)
{
	struct rd *r = arg;
	r->tid = gettid_();
	r->r = read(r->fd, r->buf, r->n);
	r->err = errno;
	return NULL;
}

static ssize_t bounded_read(int fd, void *buf, size_t n)
{
	struct rd r = {.fd = fd, .buf = buf, .n = n};
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, reader, &r), 0);
	join_within(t, 5000);
	errno = r.err;
	return r.r;
}

/* --- what a read returns ------------------------------------------------- */
static void siginfo(void)
{
	sigset_t m = set_of(SIGUSR1, 0);
	int fd = SYS(signalfd(-1, &m, SFD_NONBLOCK));
	struct signalfd_siginfo si;

	CHECK_ERR(read(fd, &si, SZ), EAGAIN);

	/* kill: SI_USER, with the sender's pid and uid. */
	SYS(kill(getpid(), SIGUSR1));
	CHECK(pending(SIGUSR1));
	memset(&si, 0x55, sizeof(si));
	CHECK_EQ(read(fd, &si, SZ), SZ);
	CHECK_EQ(si.ssi_signo, SIGUSR1);
	CHECK_EQ(si.ssi_code, SI_USER);
	CHECK_EQ(si.ssi_pid, getpid());
	CHECK_EQ(si.ssi_uid, getuid());
	CHECK_EQ(si.ssi_errno, 0);
	/* Reading consumed it: no longer pending, nothing more to read. */
	CHECK(!pending(SIGUSR1));
	CHECK_ERR(read(fd, &si, SZ), EAGAIN);

	/* sigqueue: SI_QUEUE and the value, as int and as pointer. */
	union sigval v = {.sival_ptr = (void *)0x1234567890abcdefULL};
	SYS(sigqueue(getpid(), SIGUSR1, v));
	CHECK_EQ(read(fd, &si, SZ), SZ);
	CHECK_EQ(si.ssi_signo, SIGUSR1);
	CHECK_EQ(si.ssi_code, SI_QUEUE);
	CHECK_EQ(si.ssi_pid, getpid());
	CHECK_EQ(si.ssi_uid, getuid());
	CHECK_EQ(si.ssi_ptr, 0x1234567890abcdefULL);
	CHECK_EQ((uint32_t)si.ssi_int, 0x90abcdefU);
	v.sival_ptr = NULL;
	v.sival_int = -42;
	SYS(sigqueue(getpid(), SIGUSR1, v));
	CHECK_EQ(read(fd, &si, SZ), SZ);
	CHECK_EQ(si.ssi_code, SI_QUEUE);
	CHECK_EQ(si.ssi_int, -42);

	/* tgkill (and raise, which is tgkill): SI_TKILL. */
	SYS(tgkill_(getpid(), gettid_(), SIGUSR1));
	CHECK_EQ(read(fd, &si, SZ), SZ);
	CHECK_EQ(si.ssi_signo, SIGUSR1);
	CHECK_EQ(si.ssi_code, SI_TKILL);
	CHECK_EQ(si.ssi_pid, getpid());
	CHECK_EQ(si.ssi_uid, getuid());
	SYS(raise(SIGUSR1));
	CHECK_EQ(read(fd, &si, SZ), SZ);
	CHECK_EQ(si.ssi_code, SI_TKILL);

	/* From another process: the sender's pid. */
	pid_t pid = SYS(fork());
	if (pid == 0)
		_exit(kill(getppid(), SIGUSR1) == 0 ? 0 : 2);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	CHECK_EQ(read(fd, &si, SZ), SZ);
	CHECK_EQ(si.ssi_signo, SIGUSR1);
	CHECK_EQ(si.ssi_code, SI_USER);
	CHECK_EQ(si.ssi_pid, pid);

	/* Buffers: less than one siginfo is EINVAL (and consumes nothing);
	 * more than one but less than two reads one. */
	SYS(kill(getpid(), SIGUSR1));
	char small[SZ - 1];
	CHECK_ERR(read(fd, small, sizeof(small)), EINVAL);
	CHECK_ERR(read(fd, small, 0), EINVAL);
	CHECK(pending(SIGUSR1));
	char big[SZ * 2 - 1];
	CHECK_EQ(read(fd, big, sizeof(big)), SZ);
	CHECK(!pending(SIGUSR1));
	/* A bad buffer is EFAULT. */
	SYS(kill(getpid(), SIGUSR1));
	CHECK_ERR(read(fd, (void *)-4096L, SZ), EFAULT);
	/* (Whether the signal survives depends on where the copy fails:
	 * Linux keeps it for a kernel address, rejected up front, and loses
	 * it for an unmapped user page, dequeued first. Not checked.) */
	errno = 0;
	(void)read(fd, &si, SZ);

	/* A standard signal does not queue: two kills, one read. */
	SYS(kill(getpid(), SIGUSR1));
	SYS(kill(getpid(), SIGUSR1));
	CHECK_EQ(read(fd, &si, SZ), SZ);
	CHECK_ERR(read(fd, &si, SZ), EAGAIN);
	SYS(close(fd));
}

static void multi(void)
{
	sigset_t m = set_of(SIGUSR1, SIGUSR2);
	sigaddset(&m, SIGRTMIN);
	int fd = SYS(signalfd(-1, &m, SFD_NONBLOCK));
	struct signalfd_siginfo si[4];

	/* Two pending standard signals in one read, lowest number first. */
	SYS(kill(getpid(), SIGUSR2));
	SYS(kill(getpid(), SIGUSR1));
	CHECK_EQ(read(fd, si, sizeof(si)), 2 * SZ);
	CHECK_EQ(si[0].ssi_signo, SIGUSR1);
	CHECK_EQ(si[1].ssi_signo, SIGUSR2);
	CHECK_ERR(read(fd, si, sizeof(si)), EAGAIN);

	/* Real-time signals queue, in order, with their values. */
	for (int i = 1; i <= 3; i++)
		SYS(sigqueue(getpid(), SIGRTMIN,
			     (union sigval){.sival_int = i}));
	for (int i = 1; i <= 3; i++) {
		CHECK_EQ(read(fd, si, SZ), SZ);
		CHECK_EQ(si[0].ssi_signo, SIGRTMIN);
		CHECK_EQ(si[0].ssi_code, SI_QUEUE);
		CHECK_EQ(si[0].ssi_int, i);
	}
	CHECK_ERR(read(fd, si, SZ), EAGAIN);
	/* ...and several of them come out of one read. */
	for (int i = 1; i <= 3; i++)
		SYS(sigqueue(getpid(), SIGRTMIN,
			     (union sigval){.sival_int = 10 + i}));
	SYS(kill(getpid(), SIGUSR1));
	CHECK_EQ(read(fd, si, sizeof(si)), 4 * SZ);
	CHECK_EQ(si[0].ssi_signo, SIGUSR1);
	for (int i = 1; i <= 3; i++) {
		CHECK_EQ(si[i].ssi_signo, SIGRTMIN);
		CHECK_EQ(si[i].ssi_int, 10 + i);
	}
	/* A blocking read returns what is there without waiting to fill
	 * the buffer. */
	SYS(sigqueue(getpid(), SIGRTMIN, (union sigval){.sival_int = 99}));
	int bfd = SYS(signalfd(-1, &m, 0));
	CHECK_EQ(bounded_read(bfd, si, sizeof(si)), SZ);
	CHECK_EQ(si[0].ssi_int, 99);
	SYS(close(bfd));
	SYS(close(fd));
}

/* --- masks --------------------------------------------------------------- */
static volatile sig_atomic_t handled;
static void on_sig(int s)
{
	(void)s;
	handled++;
}

static void masks(void)
{
	sigset_t m = set_of(SIGUSR1, 0);
	int fd = SYS(signalfd(-1, &m, SFD_NONBLOCK));
	struct signalfd_siginfo si;

	/* A new mask on the same fd: same fd back; flags are not applied
	 * to an existing fd. */
	SYS(kill(getpid(), SIGUSR1));
	m = set_of(SIGUSR2, 0);
	CHECK_EQ(signalfd(fd, &m, 0), fd);
	CHECK_EQ(fcntl(fd, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	CHECK_EQ(revents(fd, 0), 0);
	CHECK_ERR(read(fd, &si, SZ), EAGAIN);
	CHECK(pending(SIGUSR1));
	SYS(kill(getpid(), SIGUSR2));
	CHECK_EQ(revents(fd, 0), POLLIN);
	CHECK_EQ(read(fd, &si, SZ), SZ);
	CHECK_EQ(si.ssi_signo, SIGUSR2);
	m = set_of(SIGUSR1, SIGUSR2);
	CHECK_EQ(signalfd(fd, &m, SFD_CLOEXEC), fd);
	CHECK_EQ(fcntl(fd, F_GETFD), 0);
	CHECK_EQ(read(fd, &si, SZ), SZ);
	CHECK_EQ(si.ssi_signo, SIGUSR1);
	CHECK(!pending(SIGUSR1));

	/* The fd's mask does not block anything: an unblocked signal with
	 * a handler goes to the handler, not to the fd. */
	struct sigaction sa = {.sa_handler = on_sig}, old;
	SYS(sigaction(SIGUSR2, &sa, &old));
	sigset_t u2 = set_of(SIGUSR2, 0);
	SYS(sigprocmask(SIG_UNBLOCK, &u2, NULL));
	handled = 0;
	SYS(kill(getpid(), SIGUSR2));
	CHECK_EQ(handled, 1);
	CHECK_ERR(read(fd, &si, SZ), EAGAIN);
	SYS(sigprocmask(SIG_BLOCK, &u2, NULL));
	/* Blocked, it is read from the fd and the handler never runs. */
	SYS(kill(getpid(), SIGUSR2));
	CHECK_EQ(read(fd, &si, SZ), SZ);
	CHECK_EQ(si.ssi_signo, SIGUSR2);
	SYS(sigprocmask(SIG_UNBLOCK, &u2, NULL));
	CHECK_EQ(handled, 1);
	SYS(sigprocmask(SIG_BLOCK, &u2, NULL));
	SYS(sigaction(SIGUSR2, &old, NULL));

	/* SIGKILL and SIGSTOP are silently dropped from the mask. */
	m = set_of(SIGKILL, SIGSTOP);
	sigaddset(&m, SIGUSR1);
	int k = SYS(signalfd(-1, &m, SFD_NONBLOCK));
	char path[64], line[128];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", k);
	FILE *f = fopen(path, "r");
	CHECK(f != NULL);
	int found = 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "sigmask:", 8) == 0) {
			/* Bit n-1 for signal n: only SIGUSR1 (10). */
			CHECK_STR(line, "sigmask:\t0000000000000200\n");
			found = 1;
		}
	fclose(f);
	CHECK(found);
	SYS(kill(getpid(), SIGUSR1));
	CHECK_EQ(read(k, &si, SZ), SZ);
	CHECK_EQ(si.ssi_signo, SIGUSR1);
	SYS(close(k));
	/* An empty mask is allowed and never ready. */
	sigemptyset(&m);
	k = SYS(signalfd(-1, &m, SFD_NONBLOCK));
	SYS(kill(getpid(), SIGUSR1));
	CHECK_EQ(revents(k, 0), 0);
	CHECK_ERR(read(k, &si, SZ), EAGAIN);
	CHECK_EQ(read(fd, &si, SZ), SZ);
	SYS(close(k));

	/* A child's exit, as SIGCHLD (blocked, so it is queued even though
	 * its default action is to ignore it). */
	sigset_t c = set_of(SIGCHLD, 0);
	SYS(sigprocmask(SIG_BLOCK, &c, NULL));
	int cfd = SYS(signalfd(-1, &c, SFD_NONBLOCK));
	pid_t pid = SYS(fork());
	if (pid == 0)
		_exit(7);
	CHECK_EQ(revents(cfd, 5000), POLLIN);
	CHECK_EQ(read(cfd, &si, SZ), SZ);
	CHECK_EQ(si.ssi_signo, SIGCHLD);
	CHECK_EQ(si.ssi_code, CLD_EXITED);
	CHECK_EQ(si.ssi_pid, pid);
	CHECK_EQ(si.ssi_uid, getuid());
	CHECK_EQ(si.ssi_status, 7);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 7);
	SYS(close(cfd));
	SYS(sigprocmask(SIG_UNBLOCK, &c, NULL));
	SYS(close(fd));
}

static void errors(void)
{
	sigset_t m = set_of(SIGUSR1, 0);
	int p[2];
	SYS(pipe(p));
	CHECK_ERR(signalfd(p[0], &m, 0), EINVAL);
	CHECK_ERR(signalfd(999, &m, 0), EBADF);
	CHECK_ERR(signalfd(-2, &m, 0), EBADF);
	CHECK_ERR(signalfd(-1, &m, 1), EINVAL);
	CHECK_ERR(signalfd(-1, &m, O_APPEND), EINVAL);
	CHECK_ERR(syscall(SYS_signalfd4, -1, NULL, 8, 0), EFAULT);
	/* The mask size must be exactly the kernel's (8 bytes). */
	CHECK_ERR(syscall(SYS_signalfd4, -1, &m, 4, 0), EINVAL);
	CHECK_ERR(syscall(SYS_signalfd4, -1, &m, 16, 0), EINVAL);
	int fd = SYS(syscall(SYS_signalfd4, -1, &m, 8, SFD_CLOEXEC));
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK), O_RDWR);
	/* Flags are checked even when updating. */
	CHECK_ERR(signalfd(fd, &m, 1), EINVAL);
	/* Not writable; lseek is a no-op; the fd is an anon inode. */
	struct signalfd_siginfo si = {0};
	CHECK_ERR(write(fd, &si, SZ), EINVAL);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	char path[64], link[64] = {0};
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	CHECK(readlink(path, link, sizeof(link) - 1) > 0);
	CHECK_STR(link, "anon_inode:[signalfd]");
	SYS(close(fd));
#ifdef SYS_signalfd
	fd = SYS(syscall(SYS_signalfd, -1, &m, 8));
	CHECK_EQ(fcntl(fd, F_GETFD), 0);
	SYS(close(fd));
#endif
	SYS(close(p[0]));
	SYS(close(p[1]));
}

/* --- readiness and wakeups from other threads ---------------------------- */
struct sender {
	long delay_us;
	pid_t tid; /* 0: kill the process */
	int sig;
};

static void *send_later(void *arg)
{
	struct sender *s = arg;
	usleep(s->delay_us);
	if (s->tid)
		return (void *)(long)tgkill_(getpid(), s->tid, s->sig);
	return (void *)(long)kill(getpid(), s->sig);
}

static void readiness(void)
{
	sigset_t m = set_of(SIGUSR1, 0);
	int fd = SYS(signalfd(-1, &m, SFD_NONBLOCK));
	struct signalfd_siginfo si;

	/* poll, woken when another thread signals the process. */
	CHECK_EQ(revents(fd, 0), 0);
	struct sender s = {.delay_us = 50000, .sig = SIGUSR1};
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, send_later, &s), 0);
	CHECK_EQ(revents(fd, 5000), POLLIN);
	CHECK(join_within(t, 5000) == NULL);
	CHECK_EQ(revents(fd, 0), POLLIN);
	CHECK_EQ(read(fd, &si, SZ), SZ);
	CHECK_EQ(si.ssi_code, SI_USER);
	CHECK_EQ(revents(fd, 0), 0);

	/* epoll, the same. */
	int ep = SYS(epoll_create1(0));
	struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 5}, out[2];
	SYS(epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev));
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
	CHECK_EQ(pthread_create(&t, NULL, send_later, &s), 0);
	CHECK_EQ(epoll_wait(ep, out, 2, 5000), 1);
	CHECK_EQ(out[0].events, EPOLLIN);
	CHECK_EQ(out[0].data.u64, 5);
	CHECK(join_within(t, 5000) == NULL);
	CHECK_EQ(read(fd, &si, SZ), SZ);
	CHECK_EQ(epoll_wait(ep, out, 2, 0), 0);
	SYS(close(ep));

	/* A blocking read woken by a signal another thread sends. */
	int bfd = SYS(signalfd(-1, &m, 0));
	struct rd r = {.fd = bfd, .buf = &si, .n = SZ};
	CHECK_EQ(pthread_create(&t, NULL, reader, &r), 0);
	usleep(50000);
	SYS(kill(getpid(), SIGUSR1));
	join_within(t, 5000);
	CHECK_EQ(r.r, SZ);
	CHECK_EQ(si.ssi_signo, SIGUSR1);
	CHECK_EQ(si.ssi_pid, getpid());
	SYS(close(bfd));
	SYS(close(fd));
}

/* --- signals for one thread ---------------------------------------------- */
static atomic_int b_tid, b_go;
static int b_fd;
static struct signalfd_siginfo b_si;

static void *thread_b(void *arg)
{
	(void)arg;
	atomic_store(&b_tid, gettid_());
	while (!atomic_load(&b_go))
		usleep(1000);
	return (void *)read(b_fd, &b_si, SZ);
}

static void threads(void)
{
	sigset_t m = set_of(SIGUSR1, 0);
	int fd = SYS(signalfd(-1, &m, SFD_NONBLOCK));
	struct signalfd_siginfo si;

	/* To the reading thread: readable. */
	SYS(tgkill_(getpid(), gettid_(), SIGUSR1));
	CHECK_EQ(revents(fd, 0), POLLIN);
	CHECK_EQ(read(fd, &si, SZ), SZ);
	CHECK_EQ(si.ssi_code, SI_TKILL);

	/* To another thread: not readable (nor ready) here, readable
	 * there. */
	b_fd = fd;
	atomic_store(&b_tid, 0);
	atomic_store(&b_go, 0);
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, thread_b, NULL), 0);
	for (int i = 0; i < 5000 && !atomic_load(&b_tid); i++)
		usleep(1000);
	CHECK(atomic_load(&b_tid) != 0);
	SYS(tgkill_(getpid(), atomic_load(&b_tid), SIGUSR1));
	CHECK_EQ(revents(fd, 0), 0);
	CHECK_ERR(read(fd, &si, SZ), EAGAIN);
	CHECK(!pending(SIGUSR1));
	atomic_store(&b_go, 1);
	CHECK(join_within(t, 5000) == (void *)SZ);
	CHECK_EQ(b_si.ssi_signo, SIGUSR1);
	CHECK_EQ(b_si.ssi_code, SI_TKILL);
	CHECK_EQ(b_si.ssi_pid, getpid());

	/* A process-directed signal is readable from any thread. */
	atomic_store(&b_go, 0);
	atomic_store(&b_tid, 0);
	SYS(kill(getpid(), SIGUSR1));
	CHECK_EQ(pthread_create(&t, NULL, thread_b, NULL), 0);
	atomic_store(&b_go, 1);
	CHECK(join_within(t, 5000) == (void *)SZ);
	CHECK_EQ(b_si.ssi_code, SI_USER);
	CHECK_ERR(read(fd, &si, SZ), EAGAIN);

	/* A blocked reader thread woken by a tgkill aimed at it. */
	int bfd = SYS(signalfd(-1, &m, 0));
	struct rd r = {.fd = bfd, .buf = &si, .n = SZ};
	CHECK_EQ(pthread_create(&t, NULL, reader, &r), 0);
	for (int i = 0; i < 5000 && !__atomic_load_n(&r.tid, __ATOMIC_SEQ_CST);
	     i++)
		usleep(1000);
	usleep(20000);
	SYS(tgkill_(getpid(), __atomic_load_n(&r.tid, __ATOMIC_SEQ_CST),
		    SIGUSR1));
	join_within(t, 5000);
	CHECK_EQ(r.r, SZ);
	CHECK_EQ(si.ssi_code, SI_TKILL);
	SYS(close(bfd));
	SYS(close(fd));
}

/* --- fork ---------------------------------------------------------------- */
static void forked(void)
{
	sigset_t m = set_of(SIGUSR1, SIGUSR2);
	int fd = SYS(signalfd(-1, &m, SFD_NONBLOCK));
	struct signalfd_siginfo si;

	/* The parent's pending signal is not the child's: the child reads
	 * only what is sent to it. */
	SYS(kill(getpid(), SIGUSR1));
	pid_t parent = getpid();
	pid_t pid = SYS(fork());
	if (pid == 0) {
		if (read(fd, &si, SZ) != -1 || errno != EAGAIN)
			_exit(2);
		if (kill(getpid(), SIGUSR2))
			_exit(3);
		if (read(fd, &si, SZ) != SZ)
			_exit(4);
		if (si.ssi_signo != SIGUSR2 || (pid_t)si.ssi_pid != getpid())
			_exit(5);
		if (read(fd, &si, SZ) != -1 || errno != EAGAIN)
			_exit(6);
		/* One for the parent, which it must not see here. */
		if (kill(parent, SIGUSR2))
			_exit(7);
		if (read(fd, &si, SZ) != -1 || errno != EAGAIN)
			_exit(8);
		_exit(0);
	}
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	struct signalfd_siginfo two[2];
	CHECK_EQ(read(fd, two, sizeof(two)), 2 * SZ);
	CHECK_EQ(two[0].ssi_signo, SIGUSR1);
	CHECK_EQ(two[0].ssi_pid, getpid());
	CHECK_EQ(two[1].ssi_signo, SIGUSR2);
	CHECK_EQ(two[1].ssi_pid, pid);
	CHECK_ERR(read(fd, &si, SZ), EAGAIN);
	SYS(close(fd));
}

int main(void)
{
	/* Everything this test reads through a signalfd stays blocked in
	 * every thread: the mask is set before any thread starts. */
	sigset_t all = set_of(SIGUSR1, SIGUSR2);
	sigaddset(&all, SIGRTMIN);
	SYS(sigprocmask(SIG_BLOCK, &all, NULL));
	step("siginfo");
	siginfo();
	step("multi");
	multi();
	step("masks");
	masks();
	step("errors");
	errors();
	step("readiness");
	readiness();
	step("threads");
	threads();
	step("fork");
	forked();
	pass("signalfd");
	return 0;
}
