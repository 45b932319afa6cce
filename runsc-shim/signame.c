#include "runsc-shim/signame.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	int sig;
} signames[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},	      {"QUIT", SIGQUIT},
    {"ILL", SIGILL},   {"TRAP", SIGTRAP},     {"ABRT", SIGABRT},
    {"IOT", SIGIOT},   {"BUS", SIGBUS},	      {"FPE", SIGFPE},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},
    {"USR2", SIGUSR2}, {"PIPE", SIGPIPE},     {"ALRM", SIGALRM},
    {"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD},
    {"CONT", SIGCONT}, {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},
    {"TTIN", SIGTTIN}, {"TTOU", SIGTTOU},     {"URG", SIGURG},
    {"XCPU", SIGXCPU}, {"XFSZ", SIGXFSZ},     {"VTALRM", SIGVTALRM},
    {"PROF", SIGPROF}, {"WINCH", SIGWINCH},   {"IO", SIGIO},
    {"POLL", SIGPOLL}, {"PWR", SIGPWR},	      {"SYS", SIGSYS},
};

int signame_parse(const char *s)
{
	if (!s || !*s)
		return -EINVAL;
	if (*s >= '0' && *s <= '9') {
		char *end;
		errno = 0;
		long v = strtol(s, &end, 10);
		if (errno || *end || v < 1 || v > 64)
			return -EINVAL;
		return (int)v;
	}
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (size_t i = 0; i < sizeof(signames) / sizeof(signames[0]); i++)
		if (!strcasecmp(s, signames[i].name))
			return signames[i].sig;
	/* RTMIN+N / RTMAX-N, as kill(1) spells them. */
	if (!strncasecmp(s, "RTMIN", 5) || !strncasecmp(s, "RTMAX", 5)) {
		int base = !strncasecmp(s, "RTMIN", 5) ? SIGRTMIN : SIGRTMAX;
		const char *r = s + 5;
		if (!*r)
			return base;
		char *end;
		errno = 0;
		long off = strtol(r, &end, 10);
		if (errno || *end || (*r != '+' && *r != '-'))
			return -EINVAL;
		long v = base + off;
		if (v < SIGRTMIN || v > SIGRTMAX)
			return -EINVAL;
		return (int)v;
	}
	return -EINVAL;
}
