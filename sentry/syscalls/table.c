/* The syscall table, merged at boot from each area's definitions. */
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <string.h>

#include "bulkhead/log.h"
#include "sentry/kernel/task.h"

static struct syscall_def table[SYSCALL_MAX];
static atomic_bool warned[SYSCALL_MAX];

static void merge(const struct syscall_def *defs)
{
	for (; defs->nr >= 0; defs++) {
		if (defs->nr >= SYSCALL_MAX)
			continue;
		if (table[defs->nr].fn)
			bh_warn("syscall %s defined twice", defs->name);
		if (syscall_def_check(defs))
			bh_warn("syscall %s: bad table row", defs->name);
		table[defs->nr] = *defs;
	}
}

void syscall_init(void)
{
	merge(sys_file_defs);
	merge(sys_mm_defs);
	merge(sys_exec_defs);
	merge(sys_process_defs);
	merge(sys_signal_defs);
	merge(sys_misc_defs);
	merge(sys_time_defs);
	merge(sys_timer_defs);
	merge(sys_event_defs);
	merge(sys_epoll_wait_defs);
	merge(sys_socket_defs);
	merge(sys_ipc_defs);
	merge(sys_xattr_defs);
}

const struct syscall_def *syscall_lookup(long nr)
{
	if (nr < 0 || nr >= SYSCALL_MAX || !table[nr].fn)
		return NULL;
	return &table[nr];
}

int syscall_def_check(const struct syscall_def *d)
{
	if (!d->name || !d->fn || !d->args || strlen(d->args) > 6)
		return -EINVAL;
	if (!d->prefetch)
		return 0;
	size_t n = strlen(d->prefetch);
	if (n == 0 || n > 4 || n % 2)
		return -EINVAL;
	int last = -1;
	for (size_t k = 0; k < n; k += 2) {
		int i = d->prefetch[k] - '0';
		char c = d->prefetch[k + 1];
		if (i <= last || i >= (int)strlen(d->args))
			return -EINVAL;
		/* The shape must say the argument is read in as that. */
		if ((c != 's' && c != 'b') || d->args[i] != c)
			return -EINVAL;
		if (c == 'b' && i == 5)
			return -EINVAL; /* its length would be a seventh arg */
		last = i;
	}
	return 0;
}

void syscall_prefetch_table(uint8_t *out, size_t n)
{
	for (size_t nr = 0; nr < n; nr++) {
		out[nr] = 0;
		const struct syscall_def *d =
		    nr < SYSCALL_MAX && table[nr].fn ? &table[nr] : NULL;
		if (!d || !d->prefetch || syscall_def_check(d))
			continue;
		for (size_t k = 0, got = 0; d->prefetch[k] && got < 2;
		     k += 2, got++) {
			int i = d->prefetch[k] - '0';
			uint8_t e =
			    (uint8_t)((i + 1) |
				      (d->prefetch[k + 1] == 'b' ? 8 : 0));
			out[nr] |= (uint8_t)(e << (4 * got));
		}
	}
}

long syscall_dispatch(struct task *t, long nr, const uint64_t a[6])
{
	const struct syscall_def *d = syscall_lookup(nr);
	if (!d) {
		if (nr >= 0 && nr < SYSCALL_MAX &&
		    !atomic_exchange(&warned[nr], true))
			bh_warn("unsupported syscall %ld (pid %d): ENOSYS", nr,
				t->proc->pid);
		return -ENOSYS;
	}
	return d->fn(t, a);
}
