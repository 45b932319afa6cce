/* The event files' syscalls: epoll_create/epoll_ctl (epoll_wait is with
 * poll, in sys_poll.c), eventfd, timerfd, signalfd. Argument checks follow
 * Linux's order, so that a call wrong in two ways fails as it does there. */
#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>

#include "sentry/fs/epoll/epoll.h"
#include "sentry/fs/eventfd/eventfd.h"
#include "sentry/fs/signalfd/signalfd.h"
#include "sentry/fs/timerfd/timerfd.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/usercopy.h"
#include "sentry/syscalls/sys_file.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/fs.h"

static long do_epoll_create(struct task *t, int flags)
{
	if (flags & ~EPOLL_CLOEXEC)
		return -EINVAL;
	struct file *f;
	int r = epoll_create_file(&f);
	if (r)
		return r;
	return install_file(t, f, flags & EPOLL_CLOEXEC);
}

static long sys_epoll_create(struct task *t, const uint64_t a[6])
{
	if ((int)a[0] <= 0)
		return -EINVAL;
	return do_epoll_create(t, 0);
}

static long sys_epoll_create1(struct task *t, const uint64_t a[6])
{
	return do_epoll_create(t, (int)a[0]);
}

static long sys_epoll_ctl(struct task *t, const uint64_t a[6])
{
	int epfd = (int)a[0], op = (int)a[1], fd = (int)a[2];
	struct epoll_event ev;
	bool has_event = op != EPOLL_CTL_DEL;
	if (has_event && copy_from_user(t, &ev, a[3], sizeof(ev)))
		return -EFAULT;
	struct file *ef = fget(t, epfd);
	if (!ef)
		return -EBADF;
	struct file *tf = fget(t, fd);
	long r = -EBADF;
	if (tf) {
		r = epoll_ctl_file(ef, op, tf, fd, has_event ? &ev : NULL);
		file_put(tf);
	}
	file_put(ef);
	return r;
}

static long sys_eventfd2(struct task *t, const uint64_t a[6])
{
	int flags = (int)a[1];
	if (flags & ~(EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE))
		return -EINVAL;
	struct file *f;
	int r = eventfd_create_file((unsigned)a[0], flags, &f);
	if (r)
		return r;
	return install_file(t, f, flags & EFD_CLOEXEC);
}

static long sys_eventfd(struct task *t, const uint64_t a[6])
{
	uint64_t b[6] = {a[0], 0};
	return sys_eventfd2(t, b);
}

static bool timerfd_clock_ok(int clockid)
{
	return clockid == CLOCK_REALTIME || clockid == CLOCK_MONOTONIC ||
	       clockid == CLOCK_BOOTTIME || clockid == CLOCK_REALTIME_ALARM ||
	       clockid == CLOCK_BOOTTIME_ALARM;
}

static long sys_timerfd_create(struct task *t, const uint64_t a[6])
{
	int clockid = (int)a[0], flags = (int)a[1];
	if ((flags & ~(TFD_CLOEXEC | TFD_NONBLOCK)) ||
	    !timerfd_clock_ok(clockid))
		return -EINVAL;
	struct file *f;
	int r = timerfd_create_file(t, clockid, flags, &f);
	if (r)
		return r;
	return install_file(t, f, flags & TFD_CLOEXEC);
}

static bool ts_valid(const struct timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000l;
}

static long sys_timerfd_settime(struct task *t, const uint64_t a[6])
{
	int flags = (int)a[1];
	struct itimerspec nv, old;
	if (copy_from_user(t, &nv, a[2], sizeof(nv)))
		return -EFAULT;
	if ((flags & ~(TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET)) ||
	    !ts_valid(&nv.it_value) || !ts_valid(&nv.it_interval))
		return -EINVAL;
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = -EINVAL;
	if (file_is_timerfd(f))
		r = timerfd_settime_file(f, flags, &nv, a[3] ? &old : NULL);
	file_put(f);
	if (!r && a[3] && copy_to_user(t, a[3], &old, sizeof(old)))
		r = -EFAULT;
	return r;
}

static long sys_timerfd_gettime(struct task *t, const uint64_t a[6])
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	struct itimerspec cur;
	long r = -EINVAL;
	if (file_is_timerfd(f)) {
		timerfd_gettime_file(f, &cur);
		r = copy_to_user(t, a[1], &cur, sizeof(cur)) ? -EFAULT : 0;
	}
	file_put(f);
	return r;
}

static long sys_signalfd4(struct task *t, const uint64_t a[6])
{
	int ufd = (int)a[0], flags = (int)a[3];
	if (flags & ~(SFD_CLOEXEC | SFD_NONBLOCK))
		return -EINVAL;
	if (a[2] != sizeof(uint64_t))
		return -EINVAL;
	uint64_t mask;
	if (copy_from_user(t, &mask, a[1], sizeof(mask)))
		return -EFAULT;
	if (ufd == -1) {
		struct file *f;
		int r = signalfd_create_file(mask, flags, &f);
		if (r)
			return r;
		return install_file(t, f, flags & SFD_CLOEXEC);
	}
	struct file *f = fget(t, ufd);
	if (!f)
		return -EBADF;
	long r = -EINVAL;
	if (file_is_signalfd(f)) {
		signalfd_set_mask(f, mask);
		r = ufd;
	}
	file_put(f);
	return r;
}

static long sys_signalfd(struct task *t, const uint64_t a[6])
{
	uint64_t b[6] = {a[0], a[1], a[2], 0};
	return sys_signalfd4(t, b);
}

const struct syscall_def sys_event_defs[] = {
    {__NR_epoll_create, "epoll_create", sys_epoll_create, "d", NULL},
    {__NR_epoll_create1, "epoll_create1", sys_epoll_create1, "x", NULL},
    {__NR_epoll_ctl, "epoll_ctl", sys_epoll_ctl, "fdfp", NULL},
    {__NR_eventfd, "eventfd", sys_eventfd, "u", NULL},
    {__NR_eventfd2, "eventfd2", sys_eventfd2, "ux", NULL},
    {__NR_timerfd_create, "timerfd_create", sys_timerfd_create, "dx", NULL},
    {__NR_timerfd_settime, "timerfd_settime", sys_timerfd_settime, "fxpp",
     NULL},
    {__NR_timerfd_gettime, "timerfd_gettime", sys_timerfd_gettime, "fp", NULL},
    {__NR_signalfd, "signalfd", sys_signalfd, "fpu", NULL},
    {__NR_signalfd4, "signalfd4", sys_signalfd4, "fpux", NULL},
    {-1, NULL, NULL, NULL, NULL},
};
