/* The syscall table: number -> handler, name and argument shapes. The same
 * table drives dispatch and --strace, and its shapes tell the systrap stub
 * which in-arguments (strings, buffers) to read at the trap, so that the
 * sentry gets them without a round trip (syscall_prefetch_table).
 *
 * Each area file (sys_file.c, sys_mm.c, ...) exports a table of
 * struct syscall_def terminated by {.nr = -1}; syscall_init() merges them. */
#ifndef BULKHEAD_SYSCALLS_H
#define BULKHEAD_SYSCALLS_H

#include <stddef.h>
#include <stdint.h>

struct task;

typedef long (*syscall_fn)(struct task *t, const uint64_t a[6]);

/* Argument shapes, one char per argument, for --strace:
 *   d int (signed)      u unsigned      x hex      p pointer
 *   s path/string (in)  f fd            o open flags
 *   b buffer of length given by the next argument (in, e.g. write)
 *   B buffer written by the call, length = result (e.g. read)
 *   S signal number     - unused
 *
 * prefetch: the in-arguments the systrap stub copies into the message at
 * the trap, so the handler reads them without a round trip: up to two
 * "<index><kind>" pairs, kind 's' (a NUL-terminated string) or 'b' (a
 * buffer whose length is the next argument), e.g. "0s" for open's path or
 * "1b" for write's data. NULL: none. It is a column of its own, not read
 * off the strace shapes, since what a handler copies in is a fact about
 * the handler; tests/unit/test_syscall_table.c checks every row against
 * its shapes.
 */
struct syscall_def {
	int nr;
	const char *name;
	syscall_fn fn;
	const char *args;
	const char *prefetch;
};

#define SYSCALL_MAX 512

extern const struct syscall_def sys_file_defs[];    /* vfs: files, dirs */
extern const struct syscall_def sys_mm_defs[];	    /* mm */
extern const struct syscall_def sys_exec_defs[];    /* execve */
extern const struct syscall_def sys_process_defs[]; /* fork, wait, exit, ids */
extern const struct syscall_def sys_signal_defs[];  /* signals */
extern const struct syscall_def sys_misc_defs[];    /* uname, limits, ... */
extern const struct syscall_def sys_time_defs[];    /* clocks, sleeps */
extern const struct syscall_def sys_timer_defs[];   /* POSIX timers */
extern const struct syscall_def sys_event_defs[];   /* epoll, eventfd... */
extern const struct syscall_def sys_epoll_wait_defs[]; /* in sys_poll.c */
extern const struct syscall_def sys_socket_defs[];     /* sockets */
extern const struct syscall_def sys_ipc_defs[];        /* System V IPC */
extern const struct syscall_def sys_xattr_defs[];      /* xattrs */

void syscall_init(void);
/* Run syscall nr for t (no lock held); returns the result or -errno
 * (may be a restart code). Unknown numbers: -ENOSYS, logged once. */
long syscall_dispatch(struct task *t, long nr, const uint64_t a[6]);
const struct syscall_def *syscall_lookup(long nr);
/* Per syscall number, its prefetch column as sysmsg.h's nibbles:
 * (index + 1), | 8 for a buffer whose length is the next argument. */
void syscall_prefetch_table(uint8_t *table, size_t n);
/* 0 if def's prefetch column is well formed and agrees with its shapes,
 * else -EINVAL (what the table test checks for every row). */
int syscall_def_check(const struct syscall_def *def);

#endif
