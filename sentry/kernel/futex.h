/* Emulated futexes. A guest futex word lives in guest memory; waiters
 * sleep in the sentry, in hashed buckets keyed as Linux keys them: a
 * private futex by (address space, address), a shared one by the memory
 * object and offset (a file's device and inode, or a shared anonymous
 * object's id), so that a wake from any process that maps the page reaches
 * the waiter. A waiter queues itself before it reads the word, so a wake
 * that follows a change of the word it missed always finds it. Atomic
 * changes of guest words (FUTEX_WAKE_OP, PI futexes, robust lists) run in
 * the guest's own address space through the platform. */
#ifndef BULKHEAD_FUTEX_H
#define BULKHEAD_FUTEX_H

#include <stdint.h>
#include <time.h>

#define FUTEX_BITSET_ALL 0xffffffffu

struct task;

/* Wake up to n waiters on t's private-or-shared futex at uaddr (the key is
 * found as for a non-private futex); how many were woken. */
int futex_wake_addr(struct task *t, uint64_t uaddr, int n);
/* At thread exit: the robust list (owner died, wake a waiter). */
void futex_exit_robust(struct task *t);
long sys_futex(struct task *t, const uint64_t a[6]);
long sys_futex_waitv(struct task *t, const uint64_t a[6]);

#endif
