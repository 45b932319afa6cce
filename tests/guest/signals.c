/* Signals: handlers and siginfo, masks and pending sets, EINTR versus
 * SA_RESTART, default actions, sigreturn restoring state, SIGSEGV with
 * si_addr, alarm, tgkill. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include "check.h"

static volatile sig_atomic_t got_sig, got_code, got_pid, got_count;
static volatile void *got_addr;
static sigjmp_buf jb;

static void on_info(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	got_pid = si->si_pid;
	got_count++;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_addr = si->si_addr;
	got_code = si->si_code;
	siglongjmp(jb, 1);
}

/* Clobbers as much caller-saved state as it can, so a sigreturn that
 * restored registers wrongly breaks the interrupted computation. */
static void on_clobber(int sig)
{
	volatile double x = sig;
	volatile long acc = 0;
	for (int i = 0; i < 100; i++) {
		acc += i * sig;
		x = x * 1.5 + acc;
	}
	got_count++;
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *), int flags)
{
	struct sigaction sa = {0};
	sa.sa_sigaction = fn;
	sa.sa_flags = SA_SIGINFO | flags;
	sigemptyset(&sa.sa_mask);
	SYS(sigaction(sig, &sa, NULL));
}

static void handlers(void)
{
	install(SIGUSR1, on_info, 0);
	got_sig = got_count = 0;
	SYS(kill(getpid(), SIGUSR1));
	CHECK_EQ(got_sig, SIGUSR1);
	CHECK_EQ(got_code, SI_USER);
	CHECK_EQ(got_pid, getpid());
	CHECK_EQ(got_count, 1);

	got_sig = 0;
	SYS(raise(SIGUSR1));
	CHECK_EQ(got_sig, SIGUSR1);
	CHECK_EQ(got_code, SI_TKILL);

	got_sig = 0;
	SYS(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR1));
	CHECK_EQ(got_sig, SIGUSR1);
	CHECK_EQ(got_code, SI_TKILL);

	/* sigqueue carries a value and SI_QUEUE. */
	got_sig = 0;
	union sigval v = {.sival_int = 42};
	SYS(sigqueue(getpid(), SIGUSR1, v));
	CHECK_EQ(got_sig, SIGUSR1);
	CHECK_EQ(got_code, SI_QUEUE);

	/* The old action is returned. */
	struct sigaction old;
	SYS(sigaction(SIGUSR1, NULL, &old));
	CHECK(old.sa_sigaction == on_info);
	CHECK(old.sa_flags & SA_SIGINFO);
	CHECK_ERR(sigaction(SIGKILL, &old, NULL), EINVAL);
	CHECK_ERR(sigaction(SIGSTOP, &old, NULL), EINVAL);
	CHECK_ERR(kill(getpid(), 99), EINVAL);
	SYS(kill(getpid(), 0));

	/* A signal from a child carries the child's pid. */
	got_sig = 0;
	pid_t parent = getpid();
	pid_t pid = SYS(fork());
	if (pid == 0)
		_exit(kill(parent, SIGUSR1) == 0 ? 0 : 1);
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	CHECK_EQ(child_status(st), 0);
	CHECK_EQ(got_sig, SIGUSR1);
	CHECK_EQ(got_pid, pid);
	CHECK_EQ(got_code, SI_USER);
	signal(SIGUSR1, SIG_DFL);
}

static void masks(void)
{
	install(SIGUSR2, on_info, 0);
	sigset_t set, old, pend;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	SYS(sigprocmask(SIG_BLOCK, &set, &old));
	CHECK(!sigismember(&old, SIGUSR2));
	got_count = 0;
	SYS(kill(getpid(), SIGUSR2));
	SYS(kill(getpid(), SIGUSR2)); /* standard signals do not queue */
	CHECK_EQ(got_count, 0);
	SYS(sigpending(&pend));
	CHECK(sigismember(&pend, SIGUSR2));
	CHECK(!sigismember(&pend, SIGUSR1));
	SYS(sigprocmask(SIG_SETMASK, &old, NULL));
	CHECK_EQ(got_count, 1);
	SYS(sigpending(&pend));
	CHECK(!sigismember(&pend, SIGUSR2));

	/* Real-time signals queue: each one is delivered. */
	install(SIGRTMIN, on_info, 0);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN);
	SYS(sigprocmask(SIG_BLOCK, &set, NULL));
	got_count = 0;
	for (int i = 0; i < 3; i++)
		SYS(kill(getpid(), SIGRTMIN));
	SYS(sigprocmask(SIG_UNBLOCK, &set, NULL));
	CHECK_EQ(got_count, 3);

	/* sigwaitinfo takes a blocked pending signal without a handler. */
	SYS(sigprocmask(SIG_BLOCK, &set, NULL));
	SYS(kill(getpid(), SIGRTMIN));
	siginfo_t si;
	CHECK_EQ(sigwaitinfo(&set, &si), SIGRTMIN);
	CHECK_EQ(si.si_pid, getpid());
	struct timespec zero = {0, 0};
	CHECK_ERR(sigtimedwait(&set, &si, &zero), EAGAIN);
	SYS(sigprocmask(SIG_UNBLOCK, &set, NULL));

	/* SIGKILL and SIGSTOP cannot be blocked. */
	sigfillset(&set);
	SYS(sigprocmask(SIG_SETMASK, &set, &old));
	SYS(sigprocmask(SIG_SETMASK, NULL, &set));
	CHECK(!sigismember(&set, SIGKILL));
	CHECK(!sigismember(&set, SIGSTOP));
	SYS(sigprocmask(SIG_SETMASK, &old, NULL));
	signal(SIGUSR2, SIG_DFL);
}

/* A child blocked in read() gets SIGUSR1: with SA_RESTART the read resumes
 * and returns the data written later; without it, EINTR. */
static int restart_child(int flags)
{
	int p[2];
	SYS(pipe(p));
	pid_t pid = SYS(fork());
	if (pid == 0) {
		install(SIGUSR1, on_info, flags);
		close(p[1]);
		char c;
		got_count = 0;
		ssize_t r = read(p[0], &c, 1);
		if (r == 1 && c == 'd' && got_count == 1)
			_exit(0);
		if (r < 0 && errno == EINTR && got_count == 1)
			_exit(4);
		_exit(5);
	}
	close(p[0]);
	/* Give the child time to block; SA_RESTART makes the result the
	 * same if it has not yet, except EINTR needs it to be blocked. */
	usleep(100000);
	SYS(kill(pid, SIGUSR1));
	usleep(50000);
	(void)!write(p[1], "d", 1);
	close(p[1]);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	return child_status(st);
}

static void defaults(void)
{
	CHECK_EQ(restart_child(SA_RESTART), 0);
	CHECK_EQ(restart_child(0), 4);

	/* A sleeping child killed by SIGTERM / SIGKILL. */
	static const int sigs[] = {SIGTERM, SIGKILL, SIGINT, SIGHUP};
	for (unsigned i = 0; i < 4; i++) {
		pid_t pid = SYS(fork());
		if (pid == 0) {
			for (;;)
				pause();
		}
		usleep(10000);
		SYS(kill(pid, sigs[i]));
		int st;
		CHECK_EQ(waitpid(pid, &st, 0), pid);
		CHECK(WIFSIGNALED(st));
		CHECK_EQ(WTERMSIG(st), sigs[i]);
	}

	/* SIGCHLD and SIGURG are ignored by default; SIG_IGN ignores
	 * SIGTERM. */
	pid_t pid = SYS(fork());
	if (pid == 0) {
		signal(SIGTERM, SIG_IGN);
		raise(SIGCHLD);
		raise(SIGURG);
		raise(SIGTERM);
		_exit(6);
	}
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 6);

	/* SIGSTOP / SIGCONT seen through WUNTRACED / WCONTINUED. */
	pid = SYS(fork());
	if (pid == 0) {
		for (;;)
			pause();
	}
	SYS(kill(pid, SIGSTOP));
	CHECK_EQ(waitpid(pid, &st, WUNTRACED), pid);
	CHECK(WIFSTOPPED(st));
	CHECK_EQ(WSTOPSIG(st), SIGSTOP);
	SYS(kill(pid, SIGCONT));
	CHECK_EQ(waitpid(pid, &st, WCONTINUED), pid);
	CHECK(WIFCONTINUED(st));
	SYS(kill(pid, SIGKILL));
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(WTERMSIG(st), SIGKILL);
}

static void sigreturn_state(void)
{
	/* Signals land in the middle of a computation; its result must be
	 * what it would be with no signals at all. */
	signal(SIGALRM, on_clobber);
	struct itimerval it = {{0, 1000}, {0, 1000}};
	got_count = 0;
	SYS(setitimer(ITIMER_REAL, &it, NULL));
	volatile double f = 1.0;
	unsigned long h = 5381;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long iters = 0;
	do {
		for (int i = 0; i < 10000; i++, iters++) {
			h = h * 33 + (unsigned long)iters;
			f = f * 1.0000001 + 1e-9;
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while (got_count < 5 && t1.tv_sec - t0.tv_sec < 5);
	struct itimerval off = {{0, 0}, {0, 0}};
	SYS(setitimer(ITIMER_REAL, &off, NULL));
	CHECK(got_count >= 5);
	unsigned long h2 = 5381;
	volatile double f2 = 1.0;
	for (long i = 0; i < iters; i++) {
		h2 = h2 * 33 + (unsigned long)i;
		f2 = f2 * 1.0000001 + 1e-9;
	}
	CHECK_EQ(h, h2);
	CHECK(f == f2);
	signal(SIGALRM, SIG_DFL);

	/* alarm reports the time left on the previous one; a one-shot real
	 * timer interrupts a sleep and reports the time remaining. */
	install(SIGALRM, on_info, 0);
	got_sig = 0;
	CHECK_EQ(alarm(5), 0);
	CHECK(alarm(0) >= 4);
	struct itimerval once = {{0, 0}, {0, 200000}};
	SYS(setitimer(ITIMER_REAL, &once, NULL));
	struct timespec ts = {3, 0};
	int r = nanosleep(&ts, &ts);
	CHECK_EQ(r, -1);
	CHECK_EQ(errno, EINTR);
	CHECK_EQ(got_sig, SIGALRM);
	CHECK_EQ(got_code, SI_KERNEL);
	CHECK(ts.tv_sec >= 1); /* the remaining time is reported */
	signal(SIGALRM, SIG_DFL);
}

static void segv(void)
{
	install(SIGSEGV, on_segv, SA_NODEFER);
	got_sig = 0;
	volatile int *bad = (int *)0x10;
	if (sigsetjmp(jb, 1) == 0) {
		*bad = 1;
		FAIL_AT("write to 0x10 did not fault");
	}
	CHECK_EQ(got_sig, SIGSEGV);
	CHECK(got_addr == (void *)0x10);
	CHECK_EQ(got_code, SEGV_MAPERR);

	/* Again: the handler is still installed and the mask restored. */
	got_sig = 0;
	if (sigsetjmp(jb, 1) == 0) {
		(void)*(volatile int *)0x20;
		FAIL_AT("read of 0x20 did not fault");
	}
	CHECK_EQ(got_sig, SIGSEGV);
	CHECK(got_addr == (void *)0x20);
	signal(SIGSEGV, SIG_DFL);

	/* Without a handler the process dies of SIGSEGV. */
	pid_t pid = SYS(fork());
	if (pid == 0) {
		*(volatile int *)0x30 = 1;
		_exit(0);
	}
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WTERMSIG(st), SIGSEGV);
}

int main(void)
{
	/* restart_child writes to a pipe whose reader may be gone. */
	signal(SIGPIPE, SIG_IGN);
	handlers();
	masks();
	defaults();
	sigreturn_state();
	segv();
	pass("signals");
	return 0;
}
