/* The syscall table, merged at boot from each area's definitions. */
#include "sentry/syscalls/syscalls.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>

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
}

const struct syscall_def *syscall_lookup(long nr)
{
	if (nr < 0 || nr >= SYSCALL_MAX || !table[nr].fn)
		return NULL;
	return &table[nr];
}

void syscall_prefetch_table(uint8_t *out, size_t n)
{
	for (size_t nr = 0; nr < n; nr++) {
		out[nr] = 0;
		const struct syscall_def *d =
		    nr < SYSCALL_MAX && table[nr].fn ? &table[nr] : NULL;
		int got = 0;
		for (int i = 0; d && d->args && d->args[i] && i < 6 && got < 2;
		     i++) {
			char c = d->args[i];
			if (c != 's' && (c != 'b' || i == 5))
				continue;
			uint8_t e = (uint8_t)((i + 1) | (c == 'b' ? 8 : 0));
			out[nr] |= (uint8_t)(e << (4 * got++));
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
