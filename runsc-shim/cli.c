#include "runsc-shim/cli.h"

#include "bulkhead/log.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>

int cli_fail(const struct cli_globals *g, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bh_log_sanitize(msg); /* one line, whatever an argument held */
	fprintf(stderr, "bulkhead: %s\n", msg);
	/* With no --log the log goes to stderr (under --debug): do not say it
	 * twice. */
	if (g && g->log_fd >= 0)
		bh_error("%s", msg);
	return 1;
}

int cli_bad_flag(const struct cli_globals *g, const char *cmd, int c,
		 char *const argv[])
{
	const char *what = c == ':' ? "needs a value" : "is not known";
	const char *arg = optind > 0 ? argv[optind - 1] : NULL;
	/* For an unknown short flag in a cluster (-xq), argv[optind-1] is the
	 * cluster: name the letter instead. */
	if (optopt > 0 && optopt < 128 &&
	    (!arg || arg[0] != '-' || arg[1] != '-'))
		return cli_fail(g, "%s: flag -%c %s", cmd, optopt, what);
	return cli_fail(g, "%s: flag %.64s %s", cmd, arg ? arg : "?", what);
}
