/* epoll (Linux fs/eventpoll.c): an epoll instance watches (file, fd)
 * pairs through wait entries on the files' own wait queues, so readiness
 * arrives as callbacks and epoll_wait costs O(ready), not O(watched).
 *
 * Locks, in order (sentry/kernel/lockorder.h):
 *   eventpoll.mtx (LR_EPOLL_MTX + nesting depth) - the item table, items'
 *	events/data and the loop check; held while items are polled.
 *   file.ep_lock (LR_EPOLL_FILE) - the items watching one file.
 *   the watched files' wait queues (LR_WAITQ + 2 * depth) - an item's
 *	callback runs under one.
 *   eventpoll.lock (LR_EPOLL_READY + 2 * depth) - the ready list and
 *	each item's place on it.
 * Items hold no reference to the file they watch: the file's last
 * reference removes them (epoll_release_file), as on Linux, so an fd
 * closed while a dup lives on stays registered. */
#ifndef BULKHEAD_EPOLL_H
#define BULKHEAD_EPOLL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct file;
struct task;
struct timespec;

/* Nesting: an epoll may watch an epoll down to this many levels below
 * the outermost one (Linux's EP_MAX_NESTS). */
#define EP_MAX_NESTS 4
/* Items in one instance (bounded: the guest must not grow the sentry
 * without limit; Linux bounds them by max_user_watches). */
#define EP_MAX_ITEMS (1 << 20)
/* Events returned by one epoll_wait (Linux: INT_MAX / sizeof(event)). */
#define EP_MAX_EVENTS (INT32_MAX / (int)sizeof(struct epoll_event))

/* epoll_create1: a new instance as an open file (flags: O_CLOEXEC is the
 * caller's, only the file is made here). */
int epoll_create_file(struct file **out);
bool file_is_epoll(struct file *f);
/* epoll_ctl(op) on ep for (tf, fd); ev is NULL for EPOLL_CTL_DEL. */
int epoll_ctl_file(struct file *ep, int op, struct file *tf, int fd,
		   const struct epoll_event *ev);
/* Wait for events (deadline: absolute CLOCK_MONOTONIC, NULL: forever, in
 * the past: do not wait) and copy up to maxevents of them to the guest at
 * uevents. Returns how many, 0 at the deadline, -EINTR (never restarted,
 * as on Linux) or -EFAULT. */
long epoll_wait_file(struct task *t, struct file *ep, uint64_t uevents,
		     int maxevents, const struct timespec *deadline);
/* The last reference to f is going: drop every item watching it. */
void epoll_release_file(struct file *f);

#endif
