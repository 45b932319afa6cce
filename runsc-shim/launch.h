/* Starting a sandbox: the gofer and the sentry, wired together with a
 * socketpair, the sentry given the config bytes, the control socket and a
 * ready pipe, and `create` waiting until the sentry says the guest is
 * loaded. */
#ifndef SHIM_LAUNCH_H
#define SHIM_LAUNCH_H

#include "bulkhead/config.h"
#include "runsc-shim/cli.h"

#include <stddef.h>
#include <sys/types.h>

/* How long create waits for the sentry's ready line. */
#define LAUNCH_READY_TIMEOUT_MS 60000

struct launch_result;
struct launch_spec {
	const struct cli_globals *g;
	const char *id;
	const char *bundle;    /* absolute */
	const char *rootfs;    /* absolute, an existing directory */
	const char *state_dir; /* control.sock goes here */
	const struct bh_config *cfg;
	const char *config_json; /* the exact bytes of config.json */
	size_t config_len;
	/* The sandbox cgroup's cgroup.procs files (runsc-shim/cgroup.h):
	 * both children join before they exec. */
	const int *cg_fds;
	int ncg_fds;
	/* Called once both processes exist, before the wait for the
	 * sentry's ready line: create records them there, so that a CLI
	 * killed during that wait leaves a sandbox delete can find. */
	void (*started)(void *arg, const struct launch_result *res);
	void *started_arg;
	/* The guest's terminal (process.terminal or run -t): the sentry's
	 * stdio is a host terminal, stdio_fd (a console socket's pty) or
	 * the caller's own (-1). */
	bool terminal;
	int stdio_fd;
};

struct launch_result {
	pid_t sentry_pid, gofer_pid;
	unsigned long long sentry_start, gofer_start;
};

/* Start both processes and wait for the sentry's ready line. On failure,
 * whatever was started has been killed and reaped, err holds one line, and
 * a negative errno is returned. */
int launch_sandbox(const struct launch_spec *ls, struct launch_result *res,
		   char *err, size_t errlen);
/* Kill and reap both processes (a create that fails after launch). */
void launch_abort(struct launch_result *res);
/* Resolve a bind mount source: absolute as is, else relative to bundle. */
int launch_mount_source(const char *bundle, const char *src, char **out);

#endif
