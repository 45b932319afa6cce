/* What every command of the bulkhead CLI shares: the global flags and the
 * one way to report a failure (one line on stderr, and the log). */
#ifndef SHIM_CLI_H
#define SHIM_CLI_H

#include <stdbool.h>

#define CLI_DEFAULT_ROOT "/run/bulkhead"

struct cli_globals {
	char *root;	      /* absolute state root */
	const char *log_path; /* --log, may be NULL */
	bool log_json;	      /* --log-format json */
	bool debug;
	const char *platform; /* passed to the sentry */
	bool strace;
	/* --network: "sandbox" (the config's netns, or a fresh one with only
	 * lo), "none" (a fresh one whatever the config says), "host". */
	const char *network;
	int log_fd; /* open --log file, -1 when none */
};

/* Prints "bulkhead: <msg>" on stderr and logs it as an error when --log is
 * set. Returns 1, the exit status of a failed command. */
int cli_fail(const struct cli_globals *g, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Reports what getopt_long (with a ':'-prefixed optstring) returned c ('?'
 * unknown flag, ':' missing value) for, naming the flag. */
int cli_bad_flag(const struct cli_globals *g, const char *cmd, int c,
		 char *const argv[]);

#endif
