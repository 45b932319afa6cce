#include "sentry/kernel/futex.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdbool.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/usercopy.h"

struct futex_waiter {
	struct list_head node;
	const void *mm;
	uint64_t uaddr;
	uint32_t bitset;
	bool woken;
	struct task *t;
};

static struct list_head futex_waiters = LIST_HEAD_INIT(futex_waiters);

int futex_wake(struct task *t, uint64_t uaddr, int n, uint32_t bitset)
{
	int woken = 0;
	struct list_head *pos;
	list_for_each(pos, &futex_waiters)
	{
		if (woken >= n)
			break;
		struct futex_waiter *w =
		    list_entry(pos, struct futex_waiter, node);
		if (w->mm == t->proc->mm && w->uaddr == uaddr && !w->woken &&
		    (w->bitset & bitset)) {
			w->woken = true;
			task_wake(w->t);
			woken++;
		}
	}
	return woken;
}

int futex_wait(struct task *t, uint64_t uaddr, uint32_t val,
	       const struct timespec *deadline, uint32_t bitset)
{
	if (uaddr & 3)
		return -EINVAL;
	uint32_t cur;
	if (copy_from_user(t, &cur, uaddr, sizeof(cur)) < 0)
		return -EFAULT;
	if (cur != val)
		return -EAGAIN;
	struct futex_waiter w = {
	    .mm = t->proc->mm, .uaddr = uaddr, .bitset = bitset, .t = t};
	list_add_tail(&w.node, &futex_waiters);
	int r = 0;
	while (!w.woken) {
		r = task_sleep(t, task_wake_seq(t), deadline, SLEEP_INTR);
		if (w.woken) {
			r = 0;
			break;
		}
		if (r == -EINTR) {
			r = -ERESTARTSYS;
			break;
		}
		if (r == -ETIMEDOUT)
			break;
	}
	list_del(&w.node);
	return r;
}

long sys_futex(struct task *t, const uint64_t a[6])
{
	uint64_t uaddr = a[0];
	int op = (int)a[1];
	int cmd = op & FUTEX_CMD_MASK;
	uint32_t val = (uint32_t)a[2];
	struct timespec ts, *deadline = NULL;
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET: {
		uint32_t bitset =
		    cmd == FUTEX_WAIT ? FUTEX_BITSET_ALL : (uint32_t)a[5];
		if (!bitset)
			return -EINVAL;
		if (a[3]) {
			struct timespec tv;
			if (copy_from_user(t, &tv, a[3], sizeof(tv)) < 0)
				return -EFAULT;
			if (tv.tv_sec < 0 || tv.tv_nsec < 0 ||
			    tv.tv_nsec >= 1000000000L)
				return -EINVAL;
			if (cmd == FUTEX_WAIT) {
				/* Relative timeout. */
				clock_gettime(CLOCK_MONOTONIC, &ts);
				ts.tv_sec += tv.tv_sec;
				ts.tv_nsec += tv.tv_nsec;
				if (ts.tv_nsec >= 1000000000L) {
					ts.tv_nsec -= 1000000000L;
					ts.tv_sec++;
				}
			} else if (op & FUTEX_CLOCK_REALTIME) {
				struct timespec rt, mono;
				clock_gettime(CLOCK_REALTIME, &rt);
				clock_gettime(CLOCK_MONOTONIC, &mono);
				int64_t d =
				    (tv.tv_sec - rt.tv_sec) * 1000000000LL +
				    (tv.tv_nsec - rt.tv_nsec);
				int64_t m = mono.tv_sec * 1000000000LL +
					    mono.tv_nsec + (d > 0 ? d : 0);
				ts.tv_sec = m / 1000000000LL;
				ts.tv_nsec = m % 1000000000LL;
			} else {
				ts = tv;
			}
			deadline = &ts;
		}
		return futex_wait(t, uaddr, val, deadline, bitset);
	}
	case FUTEX_WAKE:
		return futex_wake(t, uaddr, (int)val > 0 ? (int)val : 0,
				  FUTEX_BITSET_ALL);
	case FUTEX_WAKE_BITSET:
		if (!(uint32_t)a[5])
			return -EINVAL;
		return futex_wake(t, uaddr, (int)val > 0 ? (int)val : 0,
				  (uint32_t)a[5]);
	case FUTEX_REQUEUE:
	case FUTEX_CMP_REQUEUE: {
		if (cmd == FUTEX_CMP_REQUEUE) {
			uint32_t cur;
			if (copy_from_user(t, &cur, uaddr, 4) < 0)
				return -EFAULT;
			if (cur != (uint32_t)a[5])
				return -EAGAIN;
		}
		/* Wake val, and move up to a[3] waiters to uaddr2. */
		int woken = futex_wake(t, uaddr, (int)val, FUTEX_BITSET_ALL);
		int moved = 0, limit = (int)a[3];
		struct list_head *pos;
		list_for_each(pos, &futex_waiters)
		{
			struct futex_waiter *w =
			    list_entry(pos, struct futex_waiter, node);
			if (moved >= limit)
				break;
			if (w->mm == t->proc->mm && w->uaddr == uaddr &&
			    !w->woken) {
				w->uaddr = a[4];
				moved++;
			}
		}
		return woken + (cmd == FUTEX_CMP_REQUEUE ? moved : 0);
	}
	default:
		return -ENOSYS;
	}
}
