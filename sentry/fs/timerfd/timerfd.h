/* timerfd (Linux fs/timerfd.c): a timer whose expirations are read as a
 * count, on a kernel timer (kernel/timer.h). CLOCK_REALTIME timers follow
 * the wall clock; with TFD_TIMER_CANCEL_ON_SET a change of the wall clock
 * makes the next read fail with ECANCELED. */
#ifndef BULKHEAD_TIMERFD_H
#define BULKHEAD_TIMERFD_H

#include <stdbool.h>
#include <time.h>

struct file;
struct task;

/* clockid and flags already checked by the caller, except the alarm
 * clocks' capability. */
int timerfd_create_file(struct task *t, int clockid, int flags,
			struct file **out);
bool file_is_timerfd(struct file *f);
int timerfd_settime_file(struct file *f, int flags, const struct itimerspec *nv,
			 struct itimerspec *old);
void timerfd_gettime_file(struct file *f, struct itimerspec *cur);

#endif
