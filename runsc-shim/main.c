/* bulkhead: the OCI runtime CLI. Parses the global flags (runc's, plus
 * runsc's --platform/--strace), sets up logging, and dispatches to the
 * command. */
#include "bulkhead/log.h"
#include "runsc-shim/cli.h"
#include "runsc-shim/fsutil.h"
#include "runsc-shim/info.h"
#include "runsc-shim/lifecycle.h"
#include "runsc-shim/query.h"
#include "runsc-shim/spec.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
	const char *name;
	int (*fn)(struct cli_globals *g, int argc, char **argv);
} commands[] = {
    {"create", cmd_create},	{"start", cmd_start},	  {"run", cmd_run},
    {"kill", cmd_kill},		{"delete", cmd_delete},	  {"state", cmd_state},
    {"list", cmd_list},		{"ps", cmd_ps},		  {"spec", cmd_spec},
    {"features", cmd_features}, {"version", cmd_version},
};

/* runc commands that clients call and that Bulkhead does not have yet: one
 * clear line (which podman and containerd show) rather than "unknown". */
static const char *const unsupported[] = {
    "exec", "pause", "resume", "events", "update", "checkpoint", "restore",
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: bulkhead [global flags] COMMAND [flags] [ID]\n"
		"\n"
		"commands: create, start, run, state, kill, delete, list, ps,\n"
		"          spec, features, version\n"
		"\n"
		"global flags:\n"
		"  --root DIR              state directory (default %s)\n"
		"  --log FILE              log file\n"
		"  --log-format text|json  log format (default text)\n"
		"  --debug                 debug logging\n"
		"  --platform ptrace|systrap  how guest syscalls are "
		"intercepted\n"
		"  --strace                log every guest syscall\n"
		"  --network sandbox|none|host  the config's netns (or a "
		"fresh one), a fresh one, the host's\n"
		"  --version, --help\n",
		CLI_DEFAULT_ROOT);
}

/* Guest stdio is fds 0-2 of the sentry, which inherits ours: a closed one
 * would be reused by the first file we open and leak into the guest. */
static void ensure_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", O_RDWR);
			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
}

enum {
	OPT_ROOT = 256,
	OPT_LOG,
	OPT_LOG_FORMAT,
	OPT_DEBUG,
	OPT_PLATFORM,
	OPT_STRACE,
	OPT_NETWORK,
	OPT_SYSTEMD_CGROUP,
	OPT_ROOTLESS,
	OPT_VERSION,
	OPT_HELP,
};

static int parse_globals(struct cli_globals *g, int argc, char **argv,
			 const char **root)
{
	static const struct option opts[] = {
	    {"root", required_argument, NULL, OPT_ROOT},
	    {"log", required_argument, NULL, OPT_LOG},
	    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
	    {"debug", no_argument, NULL, OPT_DEBUG},
	    {"platform", required_argument, NULL, OPT_PLATFORM},
	    {"strace", no_argument, NULL, OPT_STRACE},
	    {"network", required_argument, NULL, OPT_NETWORK},
	    {"systemd-cgroup", no_argument, NULL, OPT_SYSTEMD_CGROUP},
	    {"rootless", required_argument, NULL, OPT_ROOTLESS},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {"help", no_argument, NULL, OPT_HELP},
	    {0, 0, 0, 0},
	};
	opterr = 0;
	optind = 0;
	int c;
	/* "+": stop at the command name; its flags are its own. */
	while ((c = getopt_long(argc, argv, "+:vh", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ROOT:
			if (!optarg[0])
				return cli_fail(NULL, "--root must not be "
						      "empty");
			*root = optarg;
			break;
		case OPT_LOG:
			g->log_path = optarg;
			break;
		case OPT_LOG_FORMAT:
			if (!strcmp(optarg, "json"))
				g->log_json = true;
			else if (!strcmp(optarg, "text"))
				g->log_json = false;
			else
				return cli_fail(
				    NULL,
				    "invalid --log-format \"%.32s\": "
				    "use text or json",
				    optarg);
			break;
		case OPT_DEBUG:
			g->debug = true;
			break;
		case OPT_PLATFORM:
			if (strcmp(optarg, "ptrace") &&
			    strcmp(optarg, "systrap"))
				return cli_fail(NULL,
						"invalid --platform \"%.32s\": "
						"use ptrace or systrap",
						optarg);
			g->platform = optarg;
			break;
		case OPT_STRACE:
			g->strace = true;
			break;
		case OPT_NETWORK:
			if (strcmp(optarg, "sandbox") &&
			    strcmp(optarg, "none") && strcmp(optarg, "host"))
				return cli_fail(NULL,
						"invalid --network \"%.32s\": "
						"use sandbox, none or host",
						optarg);
			g->network = optarg;
			break;
		case OPT_SYSTEMD_CGROUP:
		case OPT_ROOTLESS:
			/* runc's; callers pass them blindly. */
			break;
		case 'v':
		case OPT_VERSION:
			exit(cmd_version(g, 0, NULL));
		case 'h':
		case OPT_HELP:
			usage(stdout);
			exit(0);
		default:
			return cli_bad_flag(NULL, "global", c, argv);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	ensure_std_fds();
	struct cli_globals g = {
	    .log_fd = -1, .platform = "systrap", .network = "sandbox"};
	const char *root = CLI_DEFAULT_ROOT;
	if (parse_globals(&g, argc, argv, &root))
		return 1;
	int cmd_at = optind;

	if (g.log_path) {
		g.log_fd =
		    open(g.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
			 0644);
		if (g.log_fd < 0)
			return cli_fail(NULL, "--log %s: %s", g.log_path,
					strerror(errno));
		bh_log_init("bulkhead", g.log_fd, g.log_json, g.debug);
	} else if (g.debug) {
		bh_log_init("bulkhead", 2, false, true);
	}
	int rc = fsutil_abspath(root, &g.root);
	if (rc < 0)
		return cli_fail(&g, "--root %s: %s", root, strerror(-rc));

	int status;
	if (cmd_at >= argc) {
		status = cli_fail(&g, "missing command (see bulkhead --help)");
		goto out;
	}
	const char *name = argv[cmd_at];
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(name, commands[i].name)) {
			bh_debug("command %s", name);
			status =
			    commands[i].fn(&g, argc - cmd_at, argv + cmd_at);
			goto out;
		}
	}
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]);
	     i++) {
		if (!strcmp(name, unsupported[i])) {
			status = cli_fail(&g, "%s is not supported yet", name);
			goto out;
		}
	}
	status = cli_fail(&g, "unknown command \"%.64s\"", name);
out:
	free(g.root);
	return status;
}
