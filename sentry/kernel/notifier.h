/* The host-fd notifier: one sentry thread waits (epoll, edge-triggered) on
 * every host fd a guest file is backed by (the guest's stdio now; host
 * sockets later) and wakes the file's wait queue when the fd's readiness
 * changes, so that a guest waiting on such a file sleeps like any other
 * waiter, on its wait queue, and never in a host poll of its own. */
#ifndef BULKHEAD_NOTIFIER_H
#define BULKHEAD_NOTIFIER_H

#include <stdbool.h>

#include "sentry/kernel/waitq.h"

struct host_watch {
	struct waitq wq; /* woken with the host fd's new events */
	int fd;
	int slot;	  /* in the notifier's table; -1: not watched */
	bool unwatchable; /* the host cannot poll fd (a regular file) */
};

/* At boot, before confinement. */
int notifier_init(void);
void host_watch_init(struct host_watch *w, int fd);
/* Start watching (idempotent). -EPERM: the host cannot poll this fd;
 * readiness then never changes and waiters must not sleep on it. */
int host_watch_arm(struct host_watch *w);
/* Stop watching; after it returns the notifier never touches w again. */
void host_watch_disarm(struct host_watch *w);

#endif
