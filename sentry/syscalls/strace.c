#include "sentry/syscalls/strace.h"

#include <stdio.h>
#include <string.h>

#include "bulkhead/log.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/usercopy.h"
#include "sentry/syscalls/syscalls.h"

#define ARG_MAX_SHOWN 64

static int fmt_string(struct task *t, char *out, size_t cap, uint64_t addr,
		      size_t n)
{
	char buf[ARG_MAX_SHOWN + 1];
	if (n > ARG_MAX_SHOWN)
		n = ARG_MAX_SHOWN;
	ssize_t got = copy_from_user_partial(t, buf, addr, n);
	if (got < 0)
		return snprintf(out, cap, "0x%lx", (unsigned long)addr);
	size_t o = 0;
	o += (size_t)snprintf(out + o, cap - o, "\"");
	for (ssize_t i = 0; i < got && o + 5 < cap; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == 0)
			break;
		if (c == '\n')
			o += (size_t)snprintf(out + o, cap - o, "\\n");
		else if (c < 32 || c > 126 || c == '"' || c == '\\')
			o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	o += (size_t)snprintf(out + o, cap - o, "\"");
	return (int)o;
}

void strace_log(struct task *t, long nr, const uint64_t a[6], long ret)
{
	const struct syscall_def *d = syscall_lookup(nr);
	char line[1024];
	size_t o = 0;
	if (d)
		o += (size_t)snprintf(line + o, sizeof(line) - o, "%s(",
				      d->name);
	else
		o += (size_t)snprintf(line + o, sizeof(line) - o,
				      "syscall_%ld(", nr);
	const char *shape = d && d->args ? d->args : "xxxxxx";
	for (int i = 0; shape[i] && i < 6 && o < sizeof(line) - 128; i++) {
		if (i)
			o += (size_t)snprintf(line + o, sizeof(line) - o, ", ");
		char *p = line + o;
		size_t cap = sizeof(line) - o;
		switch (shape[i]) {
		case 'd':
		case 'f':
		case 'S':
			o += (size_t)snprintf(p, cap, "%d", (int)a[i]);
			break;
		case 'u':
			o += (size_t)snprintf(p, cap, "%lu",
					      (unsigned long)a[i]);
			break;
		case 's':
			o += (size_t)fmt_string(t, p, cap, a[i], ARG_MAX_SHOWN);
			break;
		case 'b':
			o += (size_t)fmt_string(t, p, cap, a[i],
						i < 5 ? a[i + 1] : 0);
			break;
		case 'B':
			if (ret > 0)
				o += (size_t)fmt_string(t, p, cap, a[i],
							(size_t)ret);
			else
				o += (size_t)snprintf(p, cap, "0x%lx",
						      (unsigned long)a[i]);
			break;
		case 'o':
			o += (size_t)snprintf(p, cap, "0%o", (unsigned)a[i]);
			break;
		case '-':
			o += (size_t)snprintf(p, cap, "_");
			break;
		default:
			o += (size_t)snprintf(p, cap, "0x%lx",
					      (unsigned long)a[i]);
		}
	}
	if (ret < 0 && ret > -4096)
		snprintf(line + o, sizeof(line) - o, ") = -1 %s (%ld)",
			 strerrorname_np((int)-ret) ? strerrorname_np((int)-ret)
						    : "E?",
			 ret);
	else
		snprintf(line + o, sizeof(line) - o, ") = %ld (0x%lx)", ret,
			 (unsigned long)ret);
	bh_log(BH_LOG_INFO, "strace: [%d:%d] %s", t->proc->pid, t->tid, line);
}
