/* execve: static and dynamic ELF, #! scripts, argv/envp, failures, fd and
 * signal-disposition inheritance. The test re-execs itself with "--child"
 * to act as the program being started, and expects its sibling builds at
 * ../static/exitcode and ../dynamic/exitcode (the layout of both the build
 * tree and the sandbox's /tests). */
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "check.h"

extern char **environ;

static int child_main(int argc, char **argv)
{
	const char *mode = argv[2];
	if (strcmp(mode, "echo") == 0) {
		/* argv and one env var, newline-separated, to stdout. */
		for (int i = 3; i < argc; i++)
			printf("%s\n", argv[i]);
		const char *e = getenv("BH_EXEC_VAR");
		printf("env=%s\n", e ? e : "(unset)");
		int n = 0;
		for (char **ep = environ; *ep; ep++)
			n++;
		printf("envc=%d\n", n);
		return 0;
	}
	if (strcmp(mode, "fds") == 0) {
		/* fd 5 was inherited; fd 6 had O_CLOEXEC; fd 7 FD_CLOEXEC. */
		char c;
		if (fcntl(5, F_GETFD) != 0)
			return 10;
		if (fcntl(6, F_GETFD) != -1 || errno != EBADF)
			return 11;
		if (fcntl(7, F_GETFD) != -1 || errno != EBADF)
			return 12;
		if (read(5, &c, 1) != 1 || c != 'q')
			return 13;
		return 0;
	}
	if (strcmp(mode, "sig") == 0) {
		/* Handlers reset to default; ignored stays ignored; the mask
		 * is kept. */
		struct sigaction sa;
		sigaction(SIGUSR1, NULL, &sa);
		if (sa.sa_handler != SIG_DFL)
			return 20;
		sigaction(SIGUSR2, NULL, &sa);
		if (sa.sa_handler != SIG_IGN)
			return 21;
		sigset_t m;
		sigprocmask(SIG_BLOCK, NULL, &m);
		if (!sigismember(&m, SIGTERM) || sigismember(&m, SIGUSR1))
			return 22;
		return 0;
	}
	if (strcmp(mode, "sleep") == 0) {
		/* Say it runs, then wait to be killed. */
		if (write(1, "r", 1) != 1)
			return 30;
		for (;;)
			pause();
	}
	return 99;
}

/* Runs path with argv/envp in a child; returns its status, stdout in out. */
static int run(const char *path, char *const *av, char *const *envp, char *out,
	       size_t outsz)
{
	int p[2];
	SYS(pipe(p));
	pid_t pid = SYS(fork());
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execve(path, av, envp);
		_exit(100 + errno);
	}
	close(p[1]);
	memset(out, 0, outsz);
	ssize_t n = read_full(p[0], out, outsz - 1);
	CHECK(n >= 0);
	close(p[0]);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	return child_status(st);
}

static void sigusr1_handler(int sig)
{
	(void)sig;
}

/* ETXTBSY: a running program's file cannot be opened for writing or
 * truncated, and a file open for writing cannot be run; both end when
 * the other side lets go. path: a copy of a program we may write. */
static void text_busy(const char *self, const char *path)
{
	CHECK_ERR(open(self, O_WRONLY), ETXTBSY);
	CHECK_ERR(open("/proc/self/exe", O_RDWR), ETXTBSY);
	CHECK_ERR(truncate(self, 0), ETXTBSY);
	int in = SYS(open(self, O_RDONLY));
	int out = SYS(open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755));
	char buf[65536];
	ssize_t n;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		CHECK_EQ(write(out, buf, (size_t)n), n);
	SYS(close(in));
	char *av[] = {"exec", "--child", "echo", "copy", NULL};
	char *ev[] = {NULL};
	CHECK_ERR(execve(path, av, ev), ETXTBSY);
	SYS(close(out));
	/* Running, the copy cannot be written; once it exits it can. */
	int pfd[2];
	SYS(pipe(pfd));
	pid_t p = SYS(fork());
	if (p == 0) {
		close(pfd[0]);
		dup2(pfd[1], 1);
		char *sl[] = {"exec", "--child", "sleep", NULL};
		execve(path, sl, ev);
		_exit(127);
	}
	close(pfd[1]);
	char c;
	CHECK_EQ(read(pfd[0], &c, 1), 1); /* it runs */
	CHECK_ERR(open(path, O_WRONLY), ETXTBSY);
	SYS(kill(p, SIGKILL));
	int st;
	SYS(waitpid(p, &st, 0));
	close(pfd[0]);
	SYS(close(SYS(open(path, O_WRONLY))));
	SYS(unlink(path));
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--child") == 0)
		return child_main(argc, argv);

	char self[PATH_MAX], dir[PATH_MAX], path[PATH_MAX + 32], out[4096];
	ssize_t n = SYS(readlink("/proc/self/exe", self, sizeof(self) - 1));
	self[n] = 0;
	snprintf(dir, sizeof(dir), "%s", self);
	char *d = dirname(dir);

	/* argv and envp arrive intact, including empty and spaced strings. */
	char *av[] = {"exec", "--child",   "echo",	"one",
		      "",     "two words", "tab\there", NULL};
	char *ev[] = {"BH_EXEC_VAR=v a l", "X=1", NULL};
	CHECK_EQ(run(self, av, ev, out, sizeof(out)), 0);
	CHECK_STR(out, "one\n\ntwo words\ntab\there\nenv=v a l\nenvc=2\n");
	char *ev0[] = {NULL};
	CHECK_EQ(run(self, av, ev0, out, sizeof(out)), 0);
	CHECK_STR(out, "one\n\ntwo words\ntab\there\nenv=(unset)\nenvc=0\n");

	/* The other linkage of a separate program, and both exit codes. */
	static const char *const kinds[] = {"static", "dynamic"};
	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "%s/../%s/exitcode", d, kinds[k]);
		if (access(path, X_OK) != 0)
			FAIL_AT("%s missing: run from the build tree or the "
				"test bundle",
				path);
		char *a1[] = {"exitcode", "0", NULL};
		char *a2[] = {"exitcode", "77", NULL};
		CHECK_EQ(run(path, a1, environ, out, sizeof(out)), 0);
		CHECK_EQ(run(path, a2, environ, out, sizeof(out)), 77);
	}

	/* A #! script, run by the rootfs's /bin/sh with the script's path
	 * and arguments. */
	char dtmpl[] = "/tmp/bhtest-exec-XXXXXX";
	CHECK(mkdtemp(dtmpl) != NULL);
	char script[64];
	snprintf(script, sizeof(script), "%s/s.sh", dtmpl);
	int fd = SYS(open(script, O_CREAT | O_WRONLY | O_TRUNC, 0755));
	const char *body =
	    "#!/bin/sh\necho \"$0|$1|$2|$BH_EXEC_VAR\"\nexit 3\n";
	CHECK_EQ(write(fd, body, strlen(body)), strlen(body));
	SYS(close(fd));
	char *sa[] = {"s.sh", "a", "b c", NULL};
	CHECK_EQ(run(script, sa, ev, out, sizeof(out)), 3);
	char want[256];
	snprintf(want, sizeof(want), "%s|a|b c|v a l\n", script);
	CHECK_STR(out, want);

	/* Failures: missing file, no x bit, a directory, not an executable
	 * format, a path through a file. The caller survives them. */
	char *none[] = {"x", NULL};
	CHECK_ERR(execve("/nonexistent/prog", none, environ), ENOENT);
	char noexec[64];
	snprintf(noexec, sizeof(noexec), "%s/noexec", dtmpl);
	fd = SYS(open(noexec, O_CREAT | O_WRONLY, 0644));
	CHECK_EQ(write(fd, body, strlen(body)), strlen(body));
	SYS(close(fd));
	CHECK_ERR(execve(noexec, none, environ), EACCES);
	CHECK_ERR(execve(dtmpl, none, environ), EACCES);
	char garbage[64];
	snprintf(garbage, sizeof(garbage), "%s/garbage", dtmpl);
	fd = SYS(open(garbage, O_CREAT | O_WRONLY, 0755));
	CHECK_EQ(write(fd, "\x01\x02\x03\x04garbage-not-elf\n", 20), 20);
	SYS(close(fd));
	CHECK_ERR(execve(garbage, none, environ), ENOEXEC);
	snprintf(path, sizeof(path), "%s/x", script);
	CHECK_ERR(execve(path, none, environ), ENOTDIR);
	/* The same failure seen from a forked child. */
	CHECK_EQ(run(noexec, none, environ, out, sizeof(out)), 100 + EACCES);

	/* fd inheritance: plain fds survive exec, close-on-exec ones do
	 * not. */
	int p[2];
	SYS(pipe(p));
	CHECK_EQ(write(p[1], "q", 1), 1);
	pid_t pid = SYS(fork());
	if (pid == 0) {
		dup2(p[0], 5);
		int c = open("/dev/null", O_RDONLY | O_CLOEXEC);
		dup3(c, 6, O_CLOEXEC);
		dup2(c, 7);
		fcntl(7, F_SETFD, FD_CLOEXEC);
		char *fa[] = {"exec", "--child", "fds", NULL};
		execve(self, fa, environ);
		_exit(100 + errno);
	}
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	close(p[0]);
	close(p[1]);

	/* Signal dispositions and mask across exec. */
	pid = SYS(fork());
	if (pid == 0) {
		signal(SIGUSR1, sigusr1_handler);
		signal(SIGUSR2, SIG_IGN);
		sigset_t m;
		sigemptyset(&m);
		sigaddset(&m, SIGTERM);
		sigprocmask(SIG_SETMASK, &m, NULL);
		char *fa[] = {"exec", "--child", "sig", NULL};
		execve(self, fa, environ);
		_exit(100 + errno);
	}
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);

	SYS(unlink(script));
	SYS(unlink(noexec));
	SYS(unlink(garbage));
	SYS(rmdir(dtmpl));
	snprintf(path, sizeof(path), "/tmp/exec-txtbsy-%d", (int)getpid());
	text_busy(self, path);
	pass("exec");
	return 0;
}
