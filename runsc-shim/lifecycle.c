#include "runsc-shim/lifecycle.h"

#include "bulkhead/config.h"
#include "bulkhead/log.h"
#include "runsc-shim/cgroup.h"
#include "runsc-shim/console.h"
#include "runsc-shim/control.h"
#include "runsc-shim/fsutil.h"
#include "runsc-shim/id.h"
#include "runsc-shim/launch.h"
#include "runsc-shim/proc.h"
#include "runsc-shim/signame.h"
#include "runsc-shim/state.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* How long delete waits for a killed sandbox to be gone. */
#define KILL_WAIT_MS 5000

struct create_opts {
	const char *bundle;
	const char *pid_file;
	const char *console_socket;
	bool detach;
	bool keep;
	bool run; /* run, not create */
	bool tty; /* run -t: a terminal whatever process.terminal says */
	/* Out: the caller's terminal, made raw for a foreground run; put
	 * back by the caller. */
	bool restore_tty;
	struct termios saved_tty;
	bool terminal; /* out: the container has a terminal */
};

/* Exactly one positional argument, a valid container id. */
static int one_id(const struct cli_globals *g, const char *cmd, int argc,
		  char **argv, int first, const char **id)
{
	if (first >= argc)
		return cli_fail(g, "%s: missing container id", cmd);
	if (argc - first > 1)
		return cli_fail(g, "%s: unexpected argument \"%.64s\"", cmd,
				argv[first + 1]);
	if (id_validate(argv[first]) < 0)
		return cli_fail(g,
				"invalid container id \"%.64s\": use up to %d "
				"of [A-Za-z0-9_+,-.], not \".\" or \"..\"",
				argv[first], ID_MAX_LEN);
	*id = argv[first];
	return 0;
}

static int open_existing(const struct cli_globals *g, const char *id,
			 bool partial, struct state *st)
{
	int rc = state_open(g->root, id, partial, st);
	if (rc == -ENOENT)
		cli_fail(g, "container \"%s\" does not exist", id);
	else if (rc < 0)
		cli_fail(g, "container \"%s\": cannot read state: %s", id,
			 strerror(-rc));
	if (rc < 0)
		state_close(st);
	return rc;
}

static char *now_rfc3339(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char *s;
	if (asprintf(&s, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ",
		     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		     tm.tm_min, tm.tm_sec, ts.tv_nsec) < 0)
		return NULL;
	return s;
}

static int write_pid_file(const char *path, pid_t pid)
{
	char buf[16];
	int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
	return fsutil_write_atomic(path, buf, (size_t)n, 0644);
}

static json_t *annotations_json(const struct bh_config *cfg)
{
	if (!cfg->nannotations)
		return NULL;
	json_t *o = json_object();
	for (size_t i = 0; o && i < cfg->nannotations; i++)
		json_object_set_new(o, cfg->annotations[2 * i],
				    json_string(cfg->annotations[2 * i + 1]));
	return o;
}

/* Checks that need only the bundle, before anything is created. */
static int check_bundle(const struct cli_globals *g, const char *bundle,
			const struct bh_config *cfg, char **rootfs)
{
	int n = cfg->root_path[0] == '/'
		    ? asprintf(rootfs, "%s", cfg->root_path)
		    : asprintf(rootfs, "%s/%s", bundle, cfg->root_path);
	if (n < 0) {
		*rootfs = NULL;
		return cli_fail(g, "out of memory");
	}
	struct stat sb;
	if (stat(*rootfs, &sb) < 0)
		return cli_fail(g, "rootfs %s: %s", *rootfs, strerror(errno));
	if (!S_ISDIR(sb.st_mode))
		return cli_fail(g, "rootfs %s is not a directory", *rootfs);
	struct stat hostroot;
	if (stat("/", &hostroot) == 0 && hostroot.st_dev == sb.st_dev &&
	    hostroot.st_ino == sb.st_ino)
		return cli_fail(g,
				"rootfs %s is the host's root directory: "
				"not supported (give the container a root "
				"of its own)",
				*rootfs);
	for (size_t i = 0; i < cfg->nmounts; i++) {
		const struct bh_mount *m = &cfg->mounts[i];
		if (m->type != BH_MOUNT_BIND)
			continue;
		char *src;
		if (launch_mount_source(bundle, m->source, &src) < 0)
			return cli_fail(g, "mount source %.200s is too long",
					m->source);
		int rc = stat(src, &sb) < 0 ? -errno : 0;
		if (rc < 0)
			cli_fail(g, "mount source %s (for %s): %s", src,
				 m->destination, strerror(-rc));
		free(src);
		if (rc < 0)
			return 1;
	}
	return 0;
}

/* The termination signals that must not interrupt create half-way. */
static void termination_signals(sigset_t *s)
{
	sigemptyset(s);
	sigaddset(s, SIGINT);
	sigaddset(s, SIGTERM);
	sigaddset(s, SIGHUP);
	sigaddset(s, SIGQUIT);
}

/* launch_spec.started: the sandbox's processes, recorded as "creating"
 * (an OCI status) while the sentry boots. A failed save only loses that
 * record; create goes on and saves again. */
static void record_creating(void *arg, const struct launch_result *lr)
{
	struct state *st = arg;
	st->pid = lr->sentry_pid;
	st->pid_start = lr->sentry_start;
	st->gofer_pid = lr->gofer_pid;
	st->gofer_start = lr->gofer_start;
	strcpy(st->status, "creating");
	(void)state_save(st);
}

/* create: on success the container is recorded as "created" and *out holds
 * what was launched; on failure nothing of it is left. */
static int do_create(struct cli_globals *g, const char *id,
		     struct create_opts *o, struct launch_result *out)
{
	int status = 1;
	char err[1024];
	char *bundle = NULL, *json = NULL, *rootfs = NULL;
	size_t len;
	struct bh_config cfg = {0};
	struct state st = {.lock_fd = -1};
	struct launch_result lr = {0};

	int console_fd = -1;
	int rc = fsutil_abspath(o->bundle ? o->bundle : ".", &bundle);
	if (rc < 0) {
		cli_fail(g, "bundle: %s", strerror(-rc));
		goto out;
	}
	struct stat sb;
	if (stat(bundle, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		cli_fail(g, "bundle %s is not a directory", bundle);
		goto out;
	}
	if ((rc = bh_config_read(bundle, &json, &len, err, sizeof(err))) < 0 ||
	    (rc = bh_config_parse(json, len, &cfg, err, sizeof(err))) < 0) {
		cli_fail(g, "%s", err);
		goto out;
	}
	if (check_bundle(g, bundle, &cfg, &rootfs))
		goto out;
	bool terminal = cfg.terminal || o->tty;
	o->terminal = terminal;
	if (o->console_socket && !terminal) {
		cli_fail(g, "--console-socket needs process.terminal true in "
			    "config.json");
		goto out;
	}
	if (terminal && !o->console_socket &&
	    (!o->run || o->detach || !isatty(STDIN_FILENO) ||
	     !isatty(STDOUT_FILENO))) {
		cli_fail(g, "process.terminal is true: give --console-socket, "
			    "or run in the foreground from a terminal");
		goto out;
	}

	rc = state_create(g->root, id, &st);
	if (rc == -EEXIST) {
		cli_fail(g, "container \"%s\" already exists", id);
		goto out_noclean;
	}
	if (rc < 0) {
		cli_fail(g, "cannot create state directory under %s: %s",
			 g->root, strerror(-rc));
		goto out_noclean;
	}

	/* The cgroup, before any process of the sandbox exists, recorded in
	 * the state dir so that every delete path removes it. */
	struct cgroup cg;
	rc = cgroup_open("", &cfg.res, id, &cg, err, sizeof(err));
	if (rc == 0)
		rc = cgroup_create(&cg, &cfg.res, err, sizeof(err));
	if (rc == 0) {
		char rec[PATH_MAX];
		snprintf(rec, sizeof(rec), "%s/%s", st.dir, STATE_CGROUPS_FILE);
		if ((rc = cgroup_record(&cg, rec)) < 0)
			snprintf(err, sizeof(err), "cannot write %.512s: %s",
				 rec, strerror(-rc));
	}
	if (rc < 0 && bh_resources_any(&cfg.res)) {
		cli_fail(g, "%s", err);
		cgroup_close(&cg);
		goto out_destroy;
	}
	if (rc < 0) {
		/* Nothing to limit: run without one (as runc does where it
		 * may not make cgroups), and say so. */
		bh_warn("container %s: no cgroup of its own: %s", id, err);
		cgroup_close(&cg);
		cg.nhier = 0;
	}

	struct launch_spec ls = {
	    .g = g,
	    .id = id,
	    .bundle = bundle,
	    .rootfs = rootfs,
	    .state_dir = st.dir,
	    .cfg = &cfg,
	    .config_json = json,
	    .config_len = len,
	    .cg_fds = cg.procs_fd,
	    .ncg_fds = cg.nhier,
	    .terminal = terminal,
	    .stdio_fd = -1,
	    .started = record_creating,
	    .started_arg = &st,
	};
	st.bundle = strdup(bundle);
	st.rootfs = strdup(rootfs);
	st.created = now_rfc3339();
	st.platform = strdup(g->platform);
	st.annotations = annotations_json(&cfg);
	if (!st.bundle || !st.rootfs || !st.created || !st.platform) {
		cli_fail(g, "out of memory");
		cgroup_close(&cg);
		goto out_destroy;
	}
	if (terminal && o->console_socket) {
		if ((rc = console_socket_pty(o->console_socket, &console_fd,
					     err, sizeof(err))) < 0) {
			cli_fail(g, "%s", err);
			cgroup_close(&cg);
			goto out_destroy;
		}
		ls.stdio_fd = console_fd;
	} else if (terminal) {
		/* The caller's terminal, raw: the sentry's pty edits. */
		if ((rc = console_make_raw(STDIN_FILENO, &o->saved_tty)) < 0) {
			cli_fail(g, "terminal: %s", strerror(-rc));
			cgroup_close(&cg);
			goto out_destroy;
		}
		o->restore_tty = true;
	}
	rc = launch_sandbox(&ls, &lr, err, sizeof(err));
	cgroup_close(&cg);
	if (console_fd >= 0)
		close(console_fd); /* the sentry's now */
	if (rc < 0) {
		cli_fail(g, "%s", err);
		goto out_destroy;
	}
	st.pid = lr.sentry_pid;
	st.pid_start = lr.sentry_start;
	st.gofer_pid = lr.gofer_pid;
	st.gofer_start = lr.gofer_start;
	strcpy(st.status, "created");
	if ((rc = state_save(&st)) < 0) {
		cli_fail(g, "cannot write state: %s", strerror(-rc));
		goto out_kill;
	}
	if (o->pid_file && (rc = write_pid_file(o->pid_file, st.pid)) < 0) {
		cli_fail(g, "pid file %s: %s", o->pid_file, strerror(-rc));
		goto out_kill;
	}
	bh_info("container %s created: sentry pid %d, gofer pid %d", id,
		(int)st.pid, (int)st.gofer_pid);
	*out = lr;
	status = 0;
	goto out_noclean;

out_kill:
	launch_abort(&lr);
out_destroy:
	state_destroy(&st);
out_noclean:
	state_close(&st);
out:
	if (status && o->restore_tty) {
		console_restore(STDIN_FILENO, &o->saved_tty);
		o->restore_tty = false;
	}
	bh_config_free(&cfg);
	free(bundle);
	free(json);
	free(rootfs);
	return status;
}

static int parse_create_opts(struct cli_globals *g, const char *cmd, int argc,
			     char **argv, bool is_run, struct create_opts *o)
{
	static const struct option opts[] = {
	    {"bundle", required_argument, NULL, 'b'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"console-socket", required_argument, NULL, 'c'},
	    {"no-pivot", no_argument, NULL, 'N'},
	    {"no-new-keyring", no_argument, NULL, 'K'},
	    {"preserve-fds", required_argument, NULL, 'F'},
	    {"detach", no_argument, NULL, 'd'},
	    {"keep", no_argument, NULL, 'k'},
	    {"tty", no_argument, NULL, 't'},
	    {0, 0, 0, 0},
	};
	memset(o, 0, sizeof(*o));
	optind = 0;
	opterr = 0;
	int c;
	o->run = is_run;
	while ((c = getopt_long(argc, argv, is_run ? ":b:dt" : ":b:", opts,
				NULL)) != -1) {
		switch (c) {
		case 'b':
			o->bundle = optarg;
			break;
		case 'p':
			o->pid_file = optarg;
			break;
		case 'c':
			o->console_socket = optarg;
			break;
		case 'N':
		case 'K':
			break;
		case 'F':
			if (strcmp(optarg, "0"))
				return cli_fail(g,
						"%s: --preserve-fds is not "
						"supported",
						cmd);
			break;
		case 'd':
		case 'k':
		case 't':
			if (!is_run)
				return cli_bad_flag(g, cmd, '?', argv);
			if (c == 'd')
				o->detach = true;
			else if (c == 'k')
				o->keep = true;
			else
				o->tty = true;
			break;
		default:
			return cli_bad_flag(g, cmd, c, argv);
		}
	}
	return 0;
}

int cmd_create(struct cli_globals *g, int argc, char **argv)
{
	struct create_opts o;
	const char *id;
	if (parse_create_opts(g, "create", argc, argv, false, &o) ||
	    one_id(g, "create", argc, argv, optind, &id))
		return 1;
	sigset_t term, old;
	termination_signals(&term);
	sigprocmask(SIG_BLOCK, &term, &old);
	struct launch_result lr;
	int status = do_create(g, id, &o, &lr);
	sigset_t pending;
	sigpending(&pending);
	bool interrupted = false;
	for (int s = 1; s < 32; s++)
		if (sigismember(&term, s) && sigismember(&pending, s))
			interrupted = true;
	if (status == 0 && interrupted) {
		/* The caller gave up on us: leave nothing behind. */
		struct state st;
		if (state_open(g->root, id, true, &st) == 0) {
			launch_abort(&lr);
			state_destroy(&st);
		}
		state_close(&st);
		status = cli_fail(g, "create interrupted by a signal");
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}

static int do_start(struct cli_globals *g, const char *id)
{
	struct state st;
	if (open_existing(g, id, false, &st) < 0)
		return 1;
	int status = 1;
	const char *s = state_status(&st);
	if (!strcmp(s, "stopped")) {
		cli_fail(g, "cannot start a container that has stopped");
		goto out;
	}
	if (!strcmp(s, "running")) {
		cli_fail(g, "cannot start an already running container");
		goto out;
	}
	if (!strcmp(s, "creating")) {
		cli_fail(g, "container \"%s\" is still being created", id);
		goto out;
	}
	char err[1024];
	json_t *req = json_pack("{s:s}", "cmd", "start");
	int rc =
	    req ? ctl_request(st.dir, req, NULL, err, sizeof(err)) : -ENOMEM;
	json_decref(req);
	if (rc < 0) {
		cli_fail(g, "start %s: %s", id,
			 rc == -ENOMEM ? "out of memory" : err);
		goto out;
	}
	strcpy(st.status, "running");
	if ((rc = state_save(&st)) < 0) {
		cli_fail(g, "cannot write state: %s", strerror(-rc));
		goto out;
	}
	status = 0;
out:
	state_close(&st);
	return status;
}

int cmd_start(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	optind = 0;
	opterr = 0;
	if (getopt_long(argc, argv, ":", opts, NULL) != -1)
		return cli_bad_flag(g, "start", '?', argv);
	const char *id;
	if (one_id(g, "start", argc, argv, optind, &id))
		return 1;
	return do_start(g, id);
}

static int send_kill(struct cli_globals *g, struct state *st, int sig, bool all)
{
	if (sig == SIGKILL) {
		/* The sentry's death takes the whole sandbox with it, and it
		 * needs no working control socket. Returns once it is dead,
		 * so that a delete right after finds it stopped (as runc's
		 * init, which the host kernel kills at once). */
		int rc = proc_kill_wait(st->pid, st->pid_start, KILL_WAIT_MS);
		if (rc < 0)
			return cli_fail(g, "kill %s: %s", st->id,
					rc == -ETIMEDOUT
					    ? "the sandbox did not die"
					    : strerror(-rc));
		return 0;
	}
	char err[1024];
	json_t *req = json_pack("{s:s, s:i, s:b}", "cmd", "kill", "signal", sig,
				"all", all);
	int rc =
	    req ? ctl_request(st->dir, req, NULL, err, sizeof(err)) : -ENOMEM;
	json_decref(req);
	if (rc < 0)
		return cli_fail(g, "kill %s: %s", st->id,
				rc == -ENOMEM ? "out of memory" : err);
	return 0;
}

int cmd_kill(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {0, 0, 0, 0},
	};
	bool all = false;
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":a", opts, NULL)) != -1) {
		if (c != 'a')
			return cli_bad_flag(g, "kill", c, argv);
		all = true;
	}
	if (optind >= argc)
		return cli_fail(g, "kill: missing container id");
	int sig = SIGTERM;
	if (argc - optind > 2)
		return cli_fail(g, "kill: unexpected argument \"%.64s\"",
				argv[optind + 2]);
	if (argc - optind == 2 && (sig = signame_parse(argv[optind + 1])) < 0)
		return cli_fail(g, "kill: invalid signal \"%.64s\"",
				argv[optind + 1]);
	const char *id;
	if (one_id(g, "kill", optind + 1, argv, optind, &id))
		return 1;
	struct state st;
	if (open_existing(g, id, false, &st) < 0)
		return 1;
	int status;
	if (!strcmp(state_status(&st), "stopped"))
		status = cli_fail(g, "container \"%s\" is not running", id);
	else
		status = send_kill(g, &st, sig, all);
	state_close(&st);
	return status;
}

/* Kill what is left of the sandbox and remove its state. */
static int destroy_container(struct cli_globals *g, struct state *st)
{
	int rc = 0;
	if (st->pid > 0)
		rc = proc_kill_wait(st->pid, st->pid_start, KILL_WAIT_MS);
	if (rc == 0 && st->gofer_pid > 0)
		rc = proc_kill_wait(st->gofer_pid, st->gofer_start,
				    KILL_WAIT_MS);
	if (rc < 0)
		return cli_fail(g,
				"container \"%s\": the sandbox did not die: "
				"%s",
				st->id, strerror(-rc));
	if ((rc = state_destroy(st)) < 0)
		return cli_fail(g, "container \"%s\": removing %s: %s", st->id,
				st->dir, strerror(-rc));
	return 0;
}

/* A state dir whose state.json cannot be trusted: nothing in it may be
 * signalled, but --force must still be able to clean it up. */
static int force_remove_unreadable(struct cli_globals *g, const char *id,
				   int why)
{
	struct state st;
	int rc = state_open(g->root, id, true, &st);
	if (st.dir && st.lock_fd >= 0) {
		bh_warn("container %s: state unreadable (%s); removing it "
			"without killing anything",
			id, strerror(-why));
		rc = state_destroy(&st);
	}
	state_close(&st);
	if (rc < 0)
		return cli_fail(g, "container \"%s\": removing state: %s", id,
				strerror(-rc));
	return 0;
}

int cmd_delete(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {0, 0, 0, 0},
	};
	bool force = false;
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":f", opts, NULL)) != -1) {
		if (c != 'f')
			return cli_bad_flag(g, "delete", c, argv);
		force = true;
	}
	const char *id;
	if (one_id(g, "delete", argc, argv, optind, &id))
		return 1;
	struct state st;
	int rc = state_open(g->root, id, true, &st);
	if (rc < 0) {
		state_close(&st);
		/* Like runc: --force makes a missing container a success, so
		 * that cleanup paths can call it blindly. */
		if (rc == -ENOENT && force)
			return 0;
		if (rc == -ENOENT)
			return cli_fail(g, "container \"%s\" does not exist",
					id);
		if (force)
			return force_remove_unreadable(g, id, rc);
		return cli_fail(g, "container \"%s\": cannot read state: %s",
				id, strerror(-rc));
	}
	int status;
	/* A created container is deleted without --force, as runc does. */
	if (!force && !strcmp(state_status(&st), "running"))
		status = cli_fail(g,
				  "cannot delete container \"%s\" that is not "
				  "stopped: running (use --force)",
				  id);
	else
		status = destroy_container(g, &st);
	state_close(&st);
	return status;
}

static const int forwarded_signals[] = {SIGINT,	 SIGTERM, SIGHUP,  SIGQUIT,
					SIGUSR1, SIGUSR2, SIGWINCH};

static void forward_signal(struct cli_globals *g, const char *id, int sig)
{
	struct state st;
	if (state_open(g->root, id, false, &st) == 0 &&
	    strcmp(state_status(&st), "stopped")) {
		char err[1024];
		json_t *req = json_pack("{s:s, s:i, s:b}", "cmd", "kill",
					"signal", sig, "all", 0);
		if (req && ctl_request(st.dir, req, NULL, err, sizeof(err)) < 0)
			bh_debug("forwarding signal %d: %s", sig, err);
		json_decref(req);
	}
	state_close(&st);
}

/* The foreground part of run: forward signals until the sentry exits, and
 * return its exit status the way a shell would. */
static int wait_sentry(struct cli_globals *g, const char *id,
		       const struct launch_result *lr, const sigset_t *set)
{
	for (;;) {
		int ws;
		pid_t r = waitpid(lr->sentry_pid, &ws, WNOHANG);
		if (r == lr->sentry_pid) {
			if (WIFEXITED(ws))
				return WEXITSTATUS(ws);
			if (WIFSIGNALED(ws))
				return 128 + WTERMSIG(ws);
			continue;
		}
		if (r < 0 && errno != EINTR)
			return cli_fail(g, "waiting for the sentry: %s",
					strerror(errno));
		/* Reap an exited gofer now; delete copes with it gone. */
		waitpid(lr->gofer_pid, NULL, WNOHANG);
		siginfo_t si;
		int sig = sigwaitinfo(set, &si);
		if (sig < 0 || sig == SIGCHLD)
			continue;
		forward_signal(g, id, sig);
	}
}

int cmd_run(struct cli_globals *g, int argc, char **argv)
{
	struct create_opts o;
	const char *id;
	if (parse_create_opts(g, "run", argc, argv, true, &o) ||
	    one_id(g, "run", argc, argv, optind, &id))
		return 1;
	/* Blocked from before create, so that a signal at any moment is
	 * either forwarded or acted on, never lost or fatal half-way. */
	sigset_t set, old;
	sigemptyset(&set);
	for (size_t i = 0;
	     i < sizeof(forwarded_signals) / sizeof(forwarded_signals[0]); i++)
		sigaddset(&set, forwarded_signals[i]);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);

	struct launch_result lr;
	int status = do_create(g, id, &o, &lr);
	if (status)
		goto out;
	if ((status = do_start(g, id))) {
		struct state st;
		if (state_open(g->root, id, true, &st) == 0)
			destroy_container(g, &st);
		state_close(&st);
		goto out;
	}
	if (o.detach)
		goto out;
	if (o.terminal) {
		/* Window changes reach the sentry from its terminal (it is
		 * in the foreground group) or through its console pty. */
		sigdelset(&set, SIGWINCH);
	}
	status = wait_sentry(g, id, &lr, &set);
	if (!o.keep) {
		struct state st;
		if (state_open(g->root, id, true, &st) == 0)
			destroy_container(g, &st);
		state_close(&st);
	}
out:
	if (o.restore_tty)
		console_restore(STDIN_FILENO, &o.saved_tty);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return status;
}
