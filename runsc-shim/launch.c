#include "runsc-shim/launch.h"

#include "bulkhead/log.h"
#include "runsc-shim/cgroup.h"
#include "runsc-shim/proc.h"
#include "runsc-shim/state.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* A growable argv of malloc'd strings. */
struct argv_buf {
	char **v;
	size_t n, cap;
	bool oom;
};

static void argv_add(struct argv_buf *a, const char *s)
{
	if (a->oom)
		return;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 32;
		char **nv = realloc(a->v, cap * sizeof(char *));
		if (!nv) {
			a->oom = true;
			return;
		}
		a->v = nv;
		a->cap = cap;
	}
	if (!(a->v[a->n] = strdup(s))) {
		a->oom = true;
		return;
	}
	a->n++;
	a->v[a->n] = NULL;
}

static void argv_add_fd(struct argv_buf *a, const char *flag, int fd)
{
	char num[16];
	snprintf(num, sizeof(num), "%d", fd);
	argv_add(a, flag);
	argv_add(a, num);
}

static void argv_free(struct argv_buf *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
	memset(a, 0, sizeof(*a));
}

/* The helper binaries live next to the bulkhead binary, so that an installed
 * runtime never picks up another version from PATH. */
static int helper_path(const char *name, char *out, size_t len, char *err,
		       size_t errlen)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n < 0) {
		int e = errno;
		snprintf(err, errlen, "readlink /proc/self/exe: %s",
			 strerror(e));
		return -e;
	}
	exe[n] = '\0';
	if ((size_t)snprintf(out, len, "%s/%s", dirname(exe), name) >= len) {
		snprintf(err, errlen, "path of %s is too long", name);
		return -ENAMETOOLONG;
	}
	if (access(out, X_OK) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot run %s: %s", out, strerror(e));
		return -e;
	}
	return 0;
}

int launch_mount_source(const char *bundle, const char *src, char **out)
{
	int n = src[0] == '/' ? asprintf(out, "%s", src)
			      : asprintf(out, "%s/%s", bundle, src);
	if (n < 0)
		return -ENOMEM;
	if ((size_t)n >= PATH_MAX) {
		free(*out);
		return -ENAMETOOLONG;
	}
	return 0;
}

static int keep_fd(int fd)
{
	return fcntl(fd, F_SETFD, 0);
}

/* fs.nr_open, read before the forks: every process of a sandbox shares
 * its sentry's fd table (a host fd per open guest file, per stub), so the
 * sentry gets the most the host allows, as runsc raises its own; the
 * sentry cannot raise its hard limit itself once it dropped privileges. */
static rlim_t host_nr_open(void)
{
	rlim_t n = 0;
	FILE *f = fopen("/proc/sys/fs/nr_open", "re");
	if (f) {
		unsigned long v;
		if (fscanf(f, "%lu", &v) == 1)
			n = v;
		fclose(f);
	}
	return n;
}

/* The child side of fork: only async-signal-safe calls until execve. */
static void exec_child(const struct launch_spec *ls, const char *path,
		       char *const argv[], const int *keep, size_t nkeep,
		       bool is_gofer, rlim_t nofile, int stdio_fd)
{
	/* Into the sandbox's cgroup first: everything it forks (the
	 * sentry's stubs) is born there. */
	if (cgroup_join_self(ls->cg_fds, ls->ncg_fds) < 0)
		_exit(126);
	if (nofile) {
		struct rlimit rl = {nofile, nofile};
		(void)setrlimit(RLIMIT_NOFILE,
				&rl); /* unprivileged: keep ours */
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (stdio_fd >= 0)
		for (int fd = 0; fd < 3; fd++)
			if (dup2(stdio_fd, fd) < 0)
				_exit(127);
	for (size_t i = 0; i < nkeep; i++)
		if (keep[i] >= 0 && keep_fd(keep[i]) < 0)
			_exit(127);
	if (is_gofer) {
		/* The gofer shares the caller's process group, so a ^C at the
		 * terminal reaches it too; only the sentry decides what the
		 * sandbox does with that. The gofer exits when the sentry
		 * closes its socket. Ignored dispositions survive execve. */
		signal(SIGINT, SIG_IGN);
		signal(SIGQUIT, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		signal(SIGTSTP, SIG_IGN);
		/* The guest's stdin/stdout are not the gofer's to touch. */
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
			if (null > 2)
				close(null);
		}
	}
	execve(path, argv, environ);
	_exit(127);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The sentry's one line on the ready pipe. 0 for "ok". */
static int wait_ready(int fd, char *err, size_t errlen)
{
	char line[4096];
	size_t len = 0;
	long long deadline = now_ms() + LAUNCH_READY_TIMEOUT_MS;
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0) {
			snprintf(err, errlen,
				 "the sentry did not finish creating the "
				 "container within %d s",
				 LAUNCH_READY_TIMEOUT_MS / 1000);
			return -ETIMEDOUT;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int pr = poll(&p, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			int e = errno;
			snprintf(err, errlen, "poll: %s", strerror(e));
			return -e;
		}
		if (pr == 0)
			continue;
		ssize_t n = read(fd, line + len, sizeof(line) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "sentry exited during create");
			return -ECHILD;
		}
		len += (size_t)n;
		line[len] = '\0';
		char *nl = strchr(line, '\n');
		if (!nl && len < sizeof(line) - 1)
			continue;
		if (nl)
			*nl = '\0';
		if (!strcmp(line, "ok"))
			return 0;
		const char *msg = line;
		if (!strncmp(msg, "error: ", 7))
			msg += 7;
		else if (!strncmp(msg, "error:", 6))
			msg += 6;
		/* The message goes on one line of our own stderr: keep it
		 * printable. */
		char clean[1024];
		size_t o = 0;
		for (; *msg && o + 1 < sizeof(clean); msg++)
			clean[o++] = (*msg < 0x20 || *msg == 0x7f) ? '?' : *msg;
		clean[o] = '\0';
		snprintf(err, errlen, "%s", o ? clean : "sentry failed");
		return -EIO;
	}
}

static int make_control_socket(const char *dir, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir,
			     STATE_CONTROL) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen,
			 "control socket path %s/%s is longer than %zu bytes; "
			 "use a shorter --root or id",
			 dir, STATE_CONTROL, sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "socket: %s", strerror(e));
		return -e;
	}
	unlink(sa.sun_path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 16) < 0) {
		int e = errno;
		close(fd);
		snprintf(err, errlen, "control socket %s: %s", sa.sun_path,
			 strerror(e));
		return -e;
	}
	return fd;
}

static int make_config_fd(const char *json, size_t len, char *err,
			  size_t errlen)
{
	/* A seekable memfd lets the sentry read it from offset 0 whatever the
	 * shared file offset says. */
	int fd = memfd_create("config.json", MFD_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "memfd_create: %s", strerror(e));
		return -e;
	}
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, json + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			snprintf(err, errlen, "memfd write: %s", strerror(e));
			return -e;
		}
		off += (size_t)n;
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

void launch_abort(struct launch_result *res)
{
	if (res->sentry_pid > 0) {
		kill(res->sentry_pid, SIGKILL);
		waitpid(res->sentry_pid, NULL, 0);
		res->sentry_pid = 0;
	}
	if (res->gofer_pid > 0) {
		kill(res->gofer_pid, SIGKILL);
		waitpid(res->gofer_pid, NULL, 0);
		res->gofer_pid = 0;
	}
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int log_fd_for_children(const struct cli_globals *g)
{
	if (g->log_fd >= 0)
		return g->log_fd;
	/* --debug without --log: the CLI logs to stderr, and so do they. */
	return g->debug ? 2 : -1;
}

static int build_gofer_argv(const struct launch_spec *ls, const char *path,
			    int sock, int logfd, struct argv_buf *a, char *err,
			    size_t errlen)
{
	argv_add(a, path);
	argv_add_fd(a, "--sock", sock);
	argv_add(a, "--root");
	argv_add(a, ls->rootfs);
	if (ls->cfg->root_readonly)
		argv_add(a, "--root-ro");
	for (size_t i = 0; i < ls->cfg->nmounts; i++) {
		const struct bh_mount *m = &ls->cfg->mounts[i];
		if (m->type != BH_MOUNT_BIND)
			continue;
		char *src, *arg;
		int rc = launch_mount_source(ls->bundle, m->source, &src);
		if (rc < 0) {
			snprintf(err, errlen, "mount source %.200s: %s",
				 m->source, strerror(-rc));
			return rc;
		}
		if (asprintf(&arg, "%s:%s", src, m->readonly ? "ro" : "rw") <
		    0) {
			free(src);
			return -ENOMEM;
		}
		free(src);
		argv_add(a, "--mount");
		argv_add(a, arg);
		free(arg);
	}
	if (logfd >= 0)
		argv_add_fd(a, "--log-fd", logfd);
	if (ls->g->log_json)
		argv_add(a, "--log-format"), argv_add(a, "json");
	if (ls->g->debug)
		argv_add(a, "--debug");
	if (a->oom) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

/* The network namespace the sentry opens the guest's host sockets in
 * (DESIGN decision 7). sandbox: the one config.json names by path, opened
 * here (the sentry opens no host path) and handed over as an fd; with no
 * path, or in none mode, the sentry makes a fresh one with only lo up. host:
 * the sentry stays in ours, with one warning line. Returns the fd to pass
 * (-1: none) or -errno. */
static int open_netns(const struct launch_spec *ls, char *err, size_t errlen)
{
	const char *mode = ls->g->network ? ls->g->network : "sandbox";
	if (!strcmp(mode, "host")) {
		fprintf(stderr,
			"bulkhead: warning: --network=host: the "
			"container uses the host's network namespace\n");
		bh_warn("--network=host: the container uses the host's network "
			"namespace");
		return -1;
	}
	if (strcmp(mode, "sandbox") || !ls->cfg->netns_path)
		return -1;
	int fd = open(ls->cfg->netns_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "network namespace %.200s: %s",
			 ls->cfg->netns_path, strerror(e));
		return -e;
	}
	/* NS_GET_NSTYPE: only a network namespace may be joined as one. */
	int type = ioctl(fd, _IO(0xb7, 0x3));
	if (type != CLONE_NEWNET) {
		close(fd);
		snprintf(err, errlen,
			 "network namespace %.200s is not a network namespace",
			 ls->cfg->netns_path);
		return -EINVAL;
	}
	return fd;
}

static int build_sentry_argv(const struct launch_spec *ls, const char *path,
			     const int fds[5], int logfd, struct argv_buf *a,
			     char *err, size_t errlen)
{
	argv_add(a, path);
	argv_add(a, "--id");
	argv_add(a, ls->id);
	argv_add(a, "--bundle");
	argv_add(a, ls->bundle);
	argv_add_fd(a, "--config-fd", fds[0]);
	argv_add_fd(a, "--gofer-fd", fds[1]);
	argv_add_fd(a, "--control-fd", fds[2]);
	argv_add_fd(a, "--ready-fd", fds[3]);
	if (logfd >= 0)
		argv_add_fd(a, "--log-fd", logfd);
	if (ls->g->log_json)
		argv_add(a, "--log-format"), argv_add(a, "json");
	argv_add(a, "--platform");
	argv_add(a, ls->g->platform ? ls->g->platform : "systrap");
	argv_add(a, "--network");
	argv_add(a, ls->g->network ? ls->g->network : "sandbox");
	if (fds[4] >= 0)
		argv_add_fd(a, "--netns-fd", fds[4]);
	if (ls->g->strace)
		argv_add(a, "--strace");
	if (ls->terminal)
		argv_add(a, "--terminal");
	if (ls->g->debug)
		argv_add(a, "--debug");
	if (a->oom) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}

int launch_sandbox(const struct launch_spec *ls, struct launch_result *res,
		   char *err, size_t errlen)
{
	memset(res, 0, sizeof(*res));
	char gofer_path[PATH_MAX], sentry_path[PATH_MAX];
	int rc;
	if ((rc = helper_path("bulkhead-gofer", gofer_path, sizeof(gofer_path),
			      err, errlen)) < 0 ||
	    (rc = helper_path("bulkhead-sentry", sentry_path,
			      sizeof(sentry_path), err, errlen)) < 0)
		return rc;

	int sp[2] = {-1, -1}, ready[2] = {-1, -1}, ctl = -1, cfgfd = -1;
	int nsfd = -1;
	struct argv_buf ga = {0}, sa = {0};
	int logfd = log_fd_for_children(ls->g);

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		rc = -errno;
		snprintf(err, errlen, "socketpair: %s", strerror(-rc));
		goto out;
	}
	if ((rc = build_gofer_argv(ls, gofer_path, sp[0], logfd, &ga, err,
				   errlen)) < 0)
		goto out;
	if ((rc = ctl = make_control_socket(ls->state_dir, err, errlen)) < 0)
		goto out;
	if ((rc = cfgfd = make_config_fd(ls->config_json, ls->config_len, err,
					 errlen)) < 0)
		goto out;
	if (pipe2(ready, O_CLOEXEC) < 0) {
		rc = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(-rc));
		goto out;
	}
	if ((rc = nsfd = open_netns(ls, err, errlen)) < -1)
		goto out;
	rc = 0;
	int sfds[5] = {cfgfd, sp[1], ctl, ready[1], nsfd};
	if ((rc = build_sentry_argv(ls, sentry_path, sfds, logfd, &sa, err,
				    errlen)) < 0)
		goto out;

	bh_debug("starting gofer: %s", gofer_path);
	int gkeep[] = {sp[0], logfd};
	const rlim_t nofile = host_nr_open();
	pid_t g = fork();
	if (g < 0) {
		rc = -errno;
		snprintf(err, errlen, "fork: %s", strerror(-rc));
		goto out;
	}
	if (g == 0)
		exec_child(ls, gofer_path, ga.v, gkeep, 2, true, nofile, -1);
	res->gofer_pid = g;
	proc_start_time(g, &res->gofer_start, NULL);
	close_fd(&sp[0]);

	bh_debug("starting sentry: %s", sentry_path);
	int skeep[] = {cfgfd, sp[1], ctl, ready[1], logfd, nsfd};
	pid_t s = fork();
	if (s < 0) {
		rc = -errno;
		snprintf(err, errlen, "fork: %s", strerror(-rc));
		goto out;
	}
	if (s == 0)
		exec_child(ls, sentry_path, sa.v, skeep, 6, false, nofile,
			   ls->stdio_fd);
	res->sentry_pid = s;
	proc_start_time(s, &res->sentry_start, NULL);
	if (ls->started)
		ls->started(ls->started_arg, res);
	/* Only the sentry may hold these now: the ready pipe must reach EOF
	 * when the sentry dies. */
	close_fd(&sp[1]);
	close_fd(&ready[1]);
	close_fd(&ctl);
	close_fd(&cfgfd);
	close_fd(&nsfd);

	rc = wait_ready(ready[0], err, errlen);
out:
	close_fd(&sp[0]);
	close_fd(&sp[1]);
	close_fd(&ready[0]);
	close_fd(&ready[1]);
	close_fd(&ctl);
	close_fd(&cfgfd);
	close_fd(&nsfd);
	argv_free(&ga);
	argv_free(&sa);
	if (rc < 0)
		launch_abort(res);
	return rc < 0 ? rc : 0;
}
