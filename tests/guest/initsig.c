/* A PID-namespace init cannot be killed from inside its namespace: signals
 * whose action is the default never reach it (SIGKILL and SIGSTOP
 * included), whoever in the namespace sends them; an orphan reparented to
 * it announces its death with SIGCHLD whatever exit signal it had; a
 * CLONE_PARENT child keeps its creator's exit signal; init itself may not
 * use CLONE_PARENT. In Bulkhead the test is the container's init; natively
 * it makes a PID namespace (root only) and runs the checks in its init. */
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "check.h"

static volatile sig_atomic_t got_pipe, got_chld;
static void on_sig(int s)
{
	if (s == SIGPIPE)
		got_pipe = 1;
	else
		got_chld = 1;
}

/* A child of init that runs fn and exits 0 if it returns. */
static void in_child(void (*fn)(void))
{
	pid_t p = SYS(fork());
	if (p == 0) {
		fn();
		_exit(0);
	}
	int st;
	SYS(waitpid(p, &st, 0));
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void send_kill(void)
{
	CHECK_EQ(kill(1, SIGKILL), 0); /* "sent": and dropped */
}
static void send_segv(void)
{
	CHECK_EQ(syscall(SYS_tgkill, 1, 1, SIGSEGV), 0);
}
static void send_term(void)
{
	CHECK_EQ(kill(1, SIGTERM), 0);
}
static void send_stop(void)
{
	CHECK_EQ(kill(1, SIGSTOP), 0);
}

/* A grandchild made with CLONE_PARENT | SIGPIPE is init's child, and
 * announces its exit with the creator's exit signal (SIGCHLD). */
static void clone_parent_pipe(void)
{
	pid_t p = (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGPIPE, 0, 0, 0, 0);
	CHECK(p >= 0);
	if (p == 0)
		_exit(7);
}

/* An orphan whose exit signal is SIGPIPE, reparented to init when its
 * parent exits first: init hears SIGCHLD. */
static void orphan_pipe(void)
{
	pid_t p = (pid_t)syscall(SYS_clone, SIGPIPE, 0, 0, 0, 0);
	CHECK(p >= 0);
	if (p == 0) {
		while (getppid() != 1)
			usleep(1000);
		_exit(9);
	}
}

static void checks_as_init(void)
{
	CHECK_EQ(getpid(), 1);
	struct sigaction sa = {.sa_handler = on_sig, .sa_flags = SA_RESTART};
	sigemptyset(&sa.sa_mask);
	/* SIGPIPE caught: if it came as an exit signal we would see it. */
	SYS(sigaction(SIGPIPE, &sa, NULL));
	SYS(sigaction(SIGCHLD, &sa, NULL));

	in_child(send_kill);
	in_child(send_segv);
	in_child(send_term);
	in_child(send_stop);
	usleep(100 * 1000);
	CHECK(1); /* still here: none of them took */
	/* Not stopped either: a child can still be made and reaped. */
	in_child(send_term);

	got_pipe = got_chld = 0;
	in_child(clone_parent_pipe);
	int st;
	pid_t w = SYS(waitpid(-1, &st, __WALL));
	CHECK(w > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 7);
	CHECK(!got_pipe);

	got_pipe = got_chld = 0;
	in_child(orphan_pipe);
	w = SYS(waitpid(-1, &st, __WALL));
	CHECK(w > 0 && WIFEXITED(st) && WEXITSTATUS(st) == 9);
	CHECK(!got_pipe);
	CHECK(got_chld);

	/* init has nobody to give a child to. */
	CHECK_ERR(syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0),
		  EINVAL);

	/* Its own default-action signal does not take either. */
	signal(SIGTERM, SIG_DFL);
	CHECK_EQ(kill(1, SIGTERM), 0);
	CHECK_EQ(raise(SIGUSR1), 0);
	usleep(10 * 1000);
	CHECK(1);
}

int main(void)
{
	if (getpid() == 1) {
		checks_as_init();
		printf("initsig: %d checks ok\n", checks);
		return 0;
	}
	if (unshare(CLONE_NEWPID) < 0) {
		printf("initsig: skip: not an init and no PID namespace (%s)\n",
		       strerror(errno));
		return 0;
	}
	pid_t p = SYS(fork());
	if (p == 0) {
		checks_as_init();
		printf("initsig: %d checks ok\n", checks);
		fflush(stdout);
		_exit(0);
	}
	int st;
	SYS(waitpid(p, &st, 0));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr,
			"FAIL initsig: the namespace's init: status %#x\n", st);
		return 1;
	}
	return 0;
}
