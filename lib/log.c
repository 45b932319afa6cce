#include "bulkhead/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "bulkhead";
static int log_fd = -1;
static bool log_json;
static bool log_debug;

void bh_log_sanitize(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
}

void bh_log_init(const char *prog, int fd, bool json, bool debug)
{
	log_prog = prog;
	log_fd = fd;
	log_json = json;
	log_debug = debug;
}

int bh_log_fd(void)
{
	return log_fd;
}

bool bh_log_debug_enabled(void)
{
	return log_debug;
}

static const char *const level_names[] = {"debug", "info", "warning", "error"};

/* JSON string escaping of the message; control characters become \uXXXX. */
static size_t json_escape(char *out, size_t cap, const char *in)
{
	size_t o = 0;
	for (; *in && o + 7 < cap; in++) {
		unsigned char c = (unsigned char)*in;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return o;
}

void bh_log(enum bh_log_level lvl, const char *fmt, ...)
{
	if (log_fd < 0 || (lvl == BH_LOG_DEBUG && !log_debug))
		return;
	int saved = errno;
	char msg[2048], line[4608];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bh_log_sanitize(msg);

	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	char when[64];
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000);
	int n;
	if (log_json) {
		char esc[4096];
		json_escape(esc, sizeof(esc), msg);
		n = snprintf(
		    line, sizeof(line),
		    "{\"level\":\"%s\",\"msg\":\"%s\",\"time\":\"%s\"}\n",
		    level_names[lvl], esc, when);
	} else {
		n = snprintf(line, sizeof(line), "%s %s[%d] %s: %s\n", when,
			     log_prog, (int)getpid(), level_names[lvl], msg);
	}
	if (n > (int)sizeof(line))
		n = sizeof(line);
	/* One write per record so concurrent writers do not interleave. */
	ssize_t w = write(log_fd, line, (size_t)n);
	(void)w;
	errno = saved;
}
