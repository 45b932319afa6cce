/* Process lifecycle: fork, exit statuses, wait variants, pids, process
 * groups, orphan reparenting. */
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "check.h"

static void exit_codes(void)
{
	static const int codes[] = {0, 1, 2, 7, 42, 127, 128, 200, 255};
	for (unsigned i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		pid_t pid = SYS(fork());
		if (pid == 0)
			_exit(codes[i]);
		int st;
		CHECK_EQ(waitpid(pid, &st, 0), pid);
		CHECK(WIFEXITED(st));
		CHECK(!WIFSIGNALED(st));
		CHECK_EQ(WEXITSTATUS(st), codes[i]);
	}
	/* Only the low 8 bits of the exit code survive. */
	pid_t pid = SYS(fork());
	if (pid == 0)
		_exit(256 + 3);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 3);
	/* exit_group via the raw syscall. */
	pid = SYS(fork());
	if (pid == 0)
		syscall(SYS_exit_group, 9);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 9);
}

static void signaled(void)
{
	static const int sigs[] = {SIGKILL, SIGTERM, SIGABRT, SIGUSR1};
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		pid_t pid = SYS(fork());
		if (pid == 0) {
			signal(sigs[i], SIG_DFL);
			kill(getpid(), sigs[i]);
			_exit(0);
		}
		int st;
		CHECK_EQ(waitpid(pid, &st, 0), pid);
		CHECK(WIFSIGNALED(st));
		CHECK(!WIFEXITED(st));
		CHECK_EQ(WTERMSIG(st), sigs[i]);
	}
}

static void pids(void)
{
	pid_t me = getpid();
	CHECK(me > 0);
	CHECK_EQ(syscall(SYS_getpid), me);
	CHECK_EQ(syscall(SYS_gettid), me);
	if (getenv("BH_EXPECT_PID1") &&
	    strcmp(getenv("BH_EXPECT_PID1"), "1") == 0) {
		CHECK_EQ(me, 1);
		CHECK_EQ(getppid(), 0);
	}
	int p[2];
	SYS(pipe(p));
	pid_t kids[4];
	for (int i = 0; i < 4; i++) {
		kids[i] = SYS(fork());
		if (kids[i] == 0) {
			/* Report our view of our pid and parent to the parent.
			 */
			pid_t v[2] = {getpid(), getppid()};
			_exit(write(p[1], v, sizeof(v)) == sizeof(v) ? 0 : 2);
		}
	}
	close(p[1]);
	for (int i = 0; i < 4; i++) {
		pid_t v[2];
		CHECK_EQ(read_full(p[0], v, sizeof(v)), sizeof(v));
		CHECK_EQ(v[1], me);
		int found = 0;
		for (int j = 0; j < 4; j++)
			found += v[0] == kids[j];
		CHECK_EQ(found, 1);
	}
	for (int i = 0; i < 4; i++) {
		CHECK(kids[i] != me);
		for (int j = 0; j < i; j++)
			CHECK(kids[i] != kids[j]);
		int st;
		CHECK_EQ(waitpid(kids[i], &st, 0), kids[i]);
		CHECK_EQ(child_status(st), 0);
	}
	close(p[0]);
}

static void waits(void)
{
	int st;
	CHECK_ERR(waitpid(-1, &st, WNOHANG), ECHILD);
	CHECK_ERR(wait(&st), ECHILD);

	int p[2];
	SYS(pipe(p));
	pid_t pid = SYS(fork());
	if (pid == 0) {
		char c;
		close(p[1]);
		_exit(read(p[0], &c, 1) == 0 ? 5 : 6);
	}
	close(p[0]);
	/* Still running: WNOHANG returns 0. */
	CHECK_EQ(waitpid(pid, &st, WNOHANG), 0);
	CHECK_EQ(waitpid(-1, &st, WNOHANG), 0);
	close(p[1]);
	struct rusage ru;
	CHECK_EQ(wait4(pid, &st, 0, &ru), pid);
	CHECK_EQ(child_status(st), 5);
	CHECK_ERR(waitpid(pid, &st, 0), ECHILD);
	/* waitpid on a pid that is not our child. */
	CHECK_ERR(waitpid(getpid(), &st, 0), ECHILD);

	/* waitid with WEXITED fills siginfo. */
	pid = SYS(fork());
	if (pid == 0)
		_exit(33);
	siginfo_t si = {0};
	SYS(waitid(P_PID, pid, &si, WEXITED));
	CHECK_EQ(si.si_pid, pid);
	CHECK_EQ(si.si_signo, SIGCHLD);
	CHECK_EQ(si.si_code, CLD_EXITED);
	CHECK_EQ(si.si_status, 33);

	/* WNOWAIT leaves the zombie to be reaped again. */
	pid = SYS(fork());
	if (pid == 0)
		_exit(4);
	SYS(waitid(P_PID, pid, &si, WEXITED | WNOWAIT));
	CHECK_EQ(si.si_status, 4);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 4);
}

static void vforks(void)
{
	/* vfork shares memory until _exit: the child's store is visible. */
	static volatile int shared;
	shared = 0;
	pid_t pid = vfork();
	if (pid == 0) {
		shared = 77;
		_exit(12);
	}
	CHECK(pid > 0);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 12);
	CHECK_EQ(shared, 77);

	/* fork does not: the child's store stays in its copy. */
	shared = 1;
	pid = SYS(fork());
	if (pid == 0) {
		shared = 2;
		_exit(shared == 2 ? 0 : 1);
	}
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	CHECK_EQ(shared, 1);
}

static void pgroups(void)
{
	pid_t me = getpid();
	pid_t pgid = SYS(getpgid(0));
	CHECK_EQ(getpgrp(), pgid);
	/* 0 is right when our session leader lives outside our PID
	 * namespace (CI runners do this); the setsid child below checks
	 * the positive case. */
	CHECK(getsid(0) >= 0);

	int p[2];
	SYS(pipe(p));
	pid_t pid = SYS(fork());
	if (pid == 0) {
		char c;
		close(p[1]);
		(void)!read(p[0], &c, 1);
		_exit(getpgrp() == getpid() ? 0 : 2);
	}
	close(p[0]);
	CHECK_EQ(getpgid(pid), pgid);
	SYS(setpgid(pid, pid));
	CHECK_EQ(getpgid(pid), pid);
	/* Both ends of the race set it, as shells do. */
	SYS(setpgid(pid, pid));
	CHECK_ERR(setpgid(pid, 999999), EPERM);
	CHECK_ERR(getpgid(999999), ESRCH);
	/* Signalling the group reaches the child. */
	SYS(kill(-pid, 0));
	close(p[1]);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	CHECK_ERR(kill(-pid, 0), ESRCH);

	/* setsid in a child makes a new session and group led by it. */
	pid = SYS(fork());
	if (pid == 0)
		_exit(setsid() == getpid() && getsid(0) == getpid() &&
			      getpgrp() == getpid()
			  ? 0
			  : 2);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	CHECK_EQ(getpgid(0), pgid);
	CHECK_EQ(getpid(), me);
}

/* A grandchild whose parent exits is reparented to init (or a subreaper)
 * and is reaped there: its getppid() changes away from the dead parent. */
static void orphans(void)
{
	int p[2], ready[2];
	SYS(pipe(p));
	SYS(pipe(ready));
	pid_t mid = SYS(fork());
	if (mid == 0) {
		char c;
		pid_t gc = fork();
		if (gc < 0)
			_exit(2);
		if (gc == 0) {
			pid_t parent = getppid();
			if (write(ready[1], "r", 1) != 1)
				_exit(2);
			/* Wait until the middle process is gone. */
			for (int i = 0; i < 2000 && getppid() == parent; i++)
				usleep(1000);
			pid_t v[2] = {parent, getppid()};
			_exit(write(p[1], v, sizeof(v)) == sizeof(v) ? 0 : 2);
		}
		/* Exit only once the grandchild has seen us as its parent. */
		_exit(read(ready[0], &c, 1) == 1 ? 0 : 2);
	}
	close(p[1]);
	close(ready[0]);
	close(ready[1]);
	int st;
	CHECK_EQ(waitpid(mid, &st, 0), mid);
	CHECK_EQ(child_status(st), 0);
	pid_t v[2];
	CHECK_EQ(read_full(p[0], v, sizeof(v)), sizeof(v));
	CHECK_EQ(v[0], mid);
	CHECK(v[1] != mid);
	close(p[0]);
	/* When we are init, the orphan is ours to reap. */
	if (getpid() == 1) {
		pid_t r;
		do
			r = waitpid(-1, &st, 0);
		while (r > 0);
		CHECK_EQ(errno, ECHILD);
	}
}

/* The SIGCHLD of the child being waited for does not make the wait fail
 * with EINTR, even with a handler without SA_RESTART: Linux looks at
 * signals only when a scan of the children found nothing. */
static void chld_noop(int s)
{
	(void)s;
}

static void wait_vs_sigchld(void)
{
	struct sigaction sa = {.sa_handler = chld_noop}, old;
	sigemptyset(&sa.sa_mask);
	SYS(sigaction(SIGCHLD, &sa, &old));
	for (int i = 0; i < 50; i++) {
		pid_t p = SYS(fork());
		if (p == 0)
			_exit(i & 0x7f);
		int st;
		pid_t w = SYS(waitpid(p, &st, 0));
		CHECK_EQ(w, p);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == (i & 0x7f));
	}
	SYS(sigaction(SIGCHLD, &old, NULL));
}

int main(void)
{
	exit_codes();
	signaled();
	pids();
	waits();
	vforks();
	pgroups();
	orphans();
	wait_vs_sigchld();
	pass("process");
	return 0;
}
