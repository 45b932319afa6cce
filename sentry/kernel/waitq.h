/* Wait queues with callback entries (Linux's wait_queue_entry, gVisor's
 * waiter.Entry). Anything that waits registers an entry on the queues of
 * what it waits for: a sleeping task (its entry wakes it), a poll() call (one
 * entry per queue of every fd it polls), an epoll item (its entry marks the
 * item ready and wakes the epoll's own queue). A waker calls waitq_wake()
 * with the events that happened; each entry whose mask matches runs its
 * callback. A task may be on any number of queues at once.
 *
 * The no-lost-wakeup rule: read task_wake_seq(), register, check the
 * condition, then task_sleep() with the sequence read first. A wake-up
 * between the check and the sleep moves the sequence, so the sleep returns
 * at once. */
#ifndef BULKHEAD_WAITQ_H
#define BULKHEAD_WAITQ_H

#include <stdbool.h>
#include <stdint.h>

#include "bulkhead/list.h"
#include "sentry/kernel/lock.h"

struct waitq;
struct wait_entry;
struct task;

/* Runs on the waker's thread with the queue's lock held (at nesting depth
 * depth): it must not sleep, make a host round trip or take a lock ranked
 * at or below LR_WAITQ + 2 * depth; it may wake another queue at depth + 1.
 * events: what happened (POLL* bits). Returns true if it took the wake-up
 * (counts against an exclusive wake). */
typedef bool (*wait_fn)(struct wait_entry *e, uint32_t events, int depth);

struct wait_entry {
	struct list_head node; /* in q->entries, under q->lock */
	struct waitq *q;       /* the queue it is on, or NULL */
	wait_fn fn;
	uint32_t mask;	/* events it cares about; 0: every wake-up */
	bool exclusive; /* EPOLLEXCLUSIVE: one of these per wake-up */
	void *priv;
};

struct waitq {
	struct kmutex lock;
	struct list_head entries; /* non-exclusive first, then exclusive */
};

void waitq_init(struct waitq *q);
/* Add e (not on any queue) to q. */
void waitq_add(struct waitq *q, struct wait_entry *e);
/* Take e off its queue; a no-op if it is on none. */
void waitq_remove(struct wait_entry *e);
/* Run the callback of every matching entry (and of one exclusive one). */
void waitq_wake(struct waitq *q, uint32_t events);
void waitq_wake_nested(struct waitq *q, uint32_t events, int depth);
/* Every entry, whatever its mask (state changes such as exit or stop). */
static inline void waitq_wake_all(struct waitq *q)
{
	waitq_wake(q, 0);
}
/* Is anything registered? (a hint: racy by nature) */
bool waitq_active(struct waitq *q);

/* An entry that wakes task t. */
void wait_entry_init_task(struct wait_entry *e, struct task *t, uint32_t mask);

#endif
