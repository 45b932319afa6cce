/* Kernel timers: a min-heap of deadlines served by one sentry thread, which
 * sleeps on a host timerfd armed for the earliest one and runs each expired
 * timer's callback with no lock held. Interval timers, POSIX timers,
 * timerfds and CPU-time sampling are built on these; nothing walks every
 * process on a tick.
 *
 * Deadlines are CLOCK_MONOTONIC ns. A timer armed on CLOCK_REALTIME at an
 * absolute time follows the host's wall clock: when it is set, the thread
 * (told by a TFD_TIMER_CANCEL_ON_SET host timerfd) moves such timers and
 * runs the clock-set hooks (timerfd's TFD_TIMER_CANCEL_ON_SET). */
#ifndef BULKHEAD_TIMER_H
#define BULKHEAD_TIMER_H

#include <stdbool.h>
#include <stdint.h>

#include "bulkhead/heap.h"
#include "bulkhead/list.h"

struct ktimer;
/* Runs on the timer thread with no lock held, once per expiry; it may
 * re-arm its timer. */
typedef void (*ktimer_fn)(struct ktimer *kt);

struct ktimer {
	struct heap_node hn; /* key: CLOCK_MONOTONIC ns; under the timer lock */
	ktimer_fn fn;
	void *priv;
	bool running;	     /* fn in progress */
	bool realtime;	     /* armed at an absolute CLOCK_REALTIME time */
	uint64_t real_ns;    /* that time */
	struct list_head rt; /* in the realtime list while realtime */
};

int timer_init(void);
void ktimer_init(struct ktimer *kt, ktimer_fn fn, void *priv);
/* Arm (or re-arm) at an absolute CLOCK_MONOTONIC time. */
void ktimer_arm(struct ktimer *kt, uint64_t mono_ns);
/* Arm at an absolute CLOCK_REALTIME time, following clock changes. */
void ktimer_arm_realtime(struct ktimer *kt, uint64_t real_ns);
/* Disarm; true if it was armed. A callback already running goes on. */
bool ktimer_cancel(struct ktimer *kt);
/* Wait until no callback of kt runs (before freeing it). No spin lock
 * may be held; never from kt's own callback. */
void ktimer_sync(struct ktimer *kt);
/* The armed deadline (CLOCK_MONOTONIC ns), or 0 if not armed. */
uint64_t ktimer_expiry(struct ktimer *kt);

/* Called on the timer thread, no lock held, when the host's wall clock was
 * set (a discontinuous change). */
struct clockset_hook {
	struct list_head node;
	void (*fn)(struct clockset_hook *h);
};
void timer_clockset_register(struct clockset_hook *h);
void timer_clockset_unregister(struct clockset_hook *h);

#endif
