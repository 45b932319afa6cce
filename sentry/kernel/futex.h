/* Emulated futexes. A guest futex word lives in guest memory; waiters sleep
 * in the sentry, keyed by (address space, address). kernel_lock makes the
 * value check and the enqueue atomic against FUTEX_WAKE. */
#ifndef BULKHEAD_FUTEX_H
#define BULKHEAD_FUTEX_H

#include <stdint.h>
#include <time.h>

#define FUTEX_BITSET_ALL 0xffffffffu

struct task;

/* Wake up to n waiters on uaddr; returns how many were woken. */
int futex_wake(struct task *t, uint64_t uaddr, int n, uint32_t bitset);
/* Sleep while *uaddr == val; deadline is absolute CLOCK_MONOTONIC or NULL.
 * 0 when woken, -EAGAIN, -ETIMEDOUT, -ERESTARTSYS, -EFAULT. */
int futex_wait(struct task *t, uint64_t uaddr, uint32_t val,
	       const struct timespec *deadline, uint32_t bitset);
long sys_futex(struct task *t, const uint64_t a[6]);

#endif
