/* poll, ppoll, select, pselect6, and epoll_wait and its variants (the
 * waiting itself is in fs/epoll). One loop (do_poll) scans the files, and
 * if none is ready sleeps on every wait queue they registered (and on one
 * host fd) until a change, the deadline or a signal. Files stay referenced
 * while the task sleeps on their queues. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>

#include <sys/syscall.h>

#include "sentry/fs/epoll/epoll.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/usercopy.h"
#include "sentry/syscalls/sys_file.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/fdtable.h"

#define DEFAULT_POLLMASK (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

static void ts_add_ns(struct timespec *ts, int64_t ns)
{
	int64_t total = (int64_t)ts->tv_nsec + ns % 1000000000ll;
	ts->tv_sec += ns / 1000000000ll + total / 1000000000ll;
	ts->tv_nsec = total % 1000000000ll;
	if (ts->tv_nsec < 0) {
		ts->tv_nsec += 1000000000ll;
		ts->tv_sec--;
	}
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static struct timespec mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

/* One poll call's registrations: an entry per wait queue of every polled
 * file, each waking the polling task. Entries come in chunks so that a poll
 * of many fds allocates a few times, not once per queue. */
#define POLL_CHUNK 32
struct poll_entry {
	struct wait_entry we;
};
struct poll_chunk {
	struct poll_chunk *next;
	int n;
	struct poll_entry e[POLL_CHUNK];
};
struct poll_wqueues {
	struct poll_table pt; /* first: container_of from the file's call */
	struct task *t;
	struct poll_chunk *chunks;
	int error;
};

static bool poll_wake_fn(struct wait_entry *e, uint32_t events, int depth)
{
	(void)events, (void)depth;
	task_wake(((struct poll_wqueues *)e->priv)->t);
	return true;
}

static void poll_qproc(struct poll_table *pt, struct waitq *q)
{
	struct poll_wqueues *pw = (struct poll_wqueues *)pt;
	struct poll_chunk *c = pw->chunks;
	if (!c || c->n == POLL_CHUNK) {
		c = malloc(sizeof(*c));
		if (!c) {
			pw->error = -ENOMEM;
			return;
		}
		c->n = 0;
		c->next = pw->chunks;
		pw->chunks = c;
	}
	struct poll_entry *pe = &c->e[c->n++];
	wait_entry_init_task(&pe->we, pw->t, pt->key | POLLERR | POLLHUP);
	pe->we.fn = poll_wake_fn;
	pe->we.priv = pw;
	waitq_add(q, &pe->we);
}

static void poll_freewait(struct poll_wqueues *pw)
{
	while (pw->chunks) {
		struct poll_chunk *c = pw->chunks;
		for (int i = 0; i < c->n; i++)
			waitq_remove(&c->e[i].we);
		pw->chunks = c->next;
		free(c);
	}
}

/* deadline NULL: forever; a deadline in the past: just scan once. Returns
 * the number of ready entries or -ERESTARTNOHAND. The first scan registers
 * on every file's queues; the later ones only look. */
static long do_poll(struct task *t, struct pollfd *pfd, size_t n,
		    const struct timespec *deadline)
{
	struct file **files = calloc(n ? n : 1, sizeof(*files));
	if (!files)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (pfd[i].fd >= 0)
			files[i] = fget(t, pfd[i].fd);
	struct poll_wqueues pw = {.pt.qproc = poll_qproc, .t = t};
	if (deadline) {
		struct timespec now = mono_now();
		if (!ts_before(&now, deadline))
			pw.pt.qproc = NULL; /* no wait: nothing to register */
	}
	long ret;
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		long count = 0;
		for (size_t i = 0; i < n; i++) {
			pfd[i].revents = 0;
			if (pfd[i].fd < 0)
				continue;
			struct file *f = files[i];
			if (!f) {
				pfd[i].revents = POLLNVAL;
				count++;
				continue;
			}
			uint32_t want =
			    (uint16_t)pfd[i].events | POLLERR | POLLHUP;
			pw.pt.key = want;
			uint32_t m = f->fops && f->fops->poll
					 ? f->fops->poll(f, &pw.pt)
					 : DEFAULT_POLLMASK;
			pfd[i].revents = (short)(m & want);
			if (pfd[i].revents) {
				count++;
				/* Ready: no need to register the rest. */
				pw.pt.qproc = NULL;
			}
		}
		pw.pt.qproc = NULL;
		if (count) {
			ret = count;
			break;
		}
		if (pw.error) {
			ret = pw.error;
			break;
		}
		struct timespec now = mono_now();
		if (deadline && !ts_before(&now, deadline)) {
			ret = 0;
			break;
		}
		int r = task_sleep(t, seq, deadline, SLEEP_INTR);
		if (r == -EINTR) {
			ret = -ERESTARTNOHAND;
			break;
		}
	}
	poll_freewait(&pw);
	for (size_t i = 0; i < n; i++)
		if (files[i])
			file_put(files[i]);
	free(files);
	return ret;
}

static long poll_common(struct task *t, uint64_t ufds, uint64_t nfds,
			const struct timespec *deadline)
{
	if (nfds > fd_limit())
		return -EINVAL;
	struct pollfd *pfd = NULL;
	if (nfds) {
		pfd = malloc(nfds * sizeof(*pfd));
		if (!pfd)
			return -ENOMEM;
		if (copy_from_user(t, pfd, ufds, nfds * sizeof(*pfd))) {
			free(pfd);
			return -EFAULT;
		}
	}
	long r = do_poll(t, pfd, nfds, deadline);
	if (r >= 0 && nfds) {
		/* Only revents changes; copy back the whole array. */
		if (copy_to_user(t, ufds, pfd, nfds * sizeof(*pfd)))
			r = -EFAULT;
	}
	free(pfd);
	return r;
}

long sys_poll(struct task *t, const uint64_t a[6])
{
	int ms = (int)a[2];
	struct timespec dl, *deadline = NULL;
	if (ms >= 0) {
		dl = mono_now();
		ts_add_ns(&dl, (int64_t)ms * 1000000ll);
		deadline = &dl;
	}
	long r = poll_common(t, a[0], a[1], deadline);
	return r == -ERESTARTNOHAND ? -EINTR : r;
}

/* Install a temporary signal mask for ppoll/pselect6; the signal layer
 * restores t->saved_mask after delivering the interrupting signal. */
static int set_tmp_mask(struct task *t, uint64_t umask, uint64_t size)
{
	if (!umask)
		return 0;
	if (size != sizeof(ksigset_t))
		return -EINVAL;
	ksigset_t m;
	if (copy_from_user(t, &m, umask, sizeof(m)))
		return -EFAULT;
	/* Under tasklist, with the work flag recomputed: a signal already
	 * pending that the new mask unblocks must interrupt the wait and be
	 * delivered on the way out. */
	tasklist_lock_take();
	t->saved_mask = t->blocked;
	t->has_saved_mask = true;
	t->blocked = m & ~(sigbit(SIGKILL) | sigbit(SIGSTOP));
	task_recalc_work(t);
	tasklist_unlock();
	return 0;
}

static void end_tmp_mask(struct task *t, uint64_t umask, long r)
{
	if (umask && r != -ERESTARTNOHAND && t->has_saved_mask) {
		tasklist_lock_take();
		t->blocked = t->saved_mask;
		t->has_saved_mask = false;
		task_recalc_work(t);
		tasklist_unlock();
	}
}

static int get_timeout(struct task *t, uint64_t uts, struct timespec *dl)
{
	struct timespec ts;
	if (copy_from_user(t, &ts, uts, sizeof(ts)))
		return -EFAULT;
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000l)
		return -EINVAL;
	*dl = mono_now();
	if (ts.tv_sec > 100000000l)
		ts.tv_sec = 100000000l; /* ~3 years: no overflow */
	dl->tv_sec += ts.tv_sec;
	ts_add_ns(dl, ts.tv_nsec);
	return 0;
}

/* Write the time left back (ppoll, pselect6, select do). */
static void put_remaining(struct task *t, uint64_t uts,
			  const struct timespec *dl, bool timeval)
{
	struct timespec now = mono_now(), left = {0, 0};
	if (ts_before(&now, dl)) {
		left.tv_sec = dl->tv_sec - now.tv_sec;
		left.tv_nsec = dl->tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_nsec += 1000000000l;
			left.tv_sec--;
		}
	}
	if (timeval) {
		struct timeval tv = {left.tv_sec, left.tv_nsec / 1000};
		copy_to_user(t, uts, &tv, sizeof(tv));
	} else {
		copy_to_user(t, uts, &left, sizeof(left));
	}
}

long sys_ppoll(struct task *t, const uint64_t a[6])
{
	struct timespec dl, *deadline = NULL;
	if (a[2]) {
		int r = get_timeout(t, a[2], &dl);
		if (r)
			return r;
		deadline = &dl;
	}
	int r = set_tmp_mask(t, a[3], a[4]);
	if (r)
		return r;
	long ret = poll_common(t, a[0], a[1], deadline);
	end_tmp_mask(t, a[3], ret);
	if (deadline && ret != -EFAULT)
		put_remaining(t, a[2], deadline, false);
	return ret;
}

static long do_select(struct task *t, int nfds, uint64_t ur, uint64_t uw,
		      uint64_t ue, const struct timespec *deadline)
{
	if (nfds < 0)
		return -EINVAL;
	if ((unsigned long)nfds > fd_limit())
		nfds = (int)fd_limit();
	size_t bytes = ((size_t)nfds + 63) / 64 * 8;
	uint64_t *sets[3] = {0};
	uint64_t uset[3] = {ur, uw, ue};
	long ret = 0;
	struct pollfd *pfd = NULL;
	for (int k = 0; k < 3; k++) {
		sets[k] = calloc(1, bytes ? bytes : 8);
		if (!sets[k]) {
			ret = -ENOMEM;
			goto out;
		}
		if (uset[k] && bytes &&
		    copy_from_user(t, sets[k], uset[k], bytes)) {
			ret = -EFAULT;
			goto out;
		}
	}
	size_t n = 0;
	pfd = malloc(((size_t)nfds ? (size_t)nfds : 1) * sizeof(*pfd));
	if (!pfd) {
		ret = -ENOMEM;
		goto out;
	}
	for (int fd = 0; fd < nfds; fd++) {
		short ev = 0;
		uint64_t bit = 1ull << (fd % 64);
		if (sets[0][fd / 64] & bit)
			ev |= POLLIN | POLLRDNORM | POLLHUP | POLLERR;
		if (sets[1][fd / 64] & bit)
			ev |= POLLOUT | POLLWRNORM | POLLERR;
		if (sets[2][fd / 64] & bit)
			ev |= POLLPRI;
		if (ev)
			pfd[n++] = (struct pollfd){.fd = fd, .events = ev};
	}
	ret = do_poll(t, pfd, n, deadline);
	if (ret < 0)
		goto out;
	for (size_t i = 0; i < n; i++)
		if (pfd[i].revents & POLLNVAL) {
			ret = -EBADF;
			goto out;
		}
	memset(sets[0], 0, bytes);
	memset(sets[1], 0, bytes);
	memset(sets[2], 0, bytes);
	ret = 0;
	for (size_t i = 0; i < n; i++) {
		int fd = pfd[i].fd;
		uint64_t bit = 1ull << (fd % 64);
		short rv = pfd[i].revents, ev = pfd[i].events;
		if ((ev & POLLIN) &&
		    (rv & (POLLIN | POLLRDNORM | POLLHUP | POLLERR))) {
			sets[0][fd / 64] |= bit;
			ret++;
		}
		if ((ev & POLLOUT) && (rv & (POLLOUT | POLLWRNORM | POLLERR))) {
			sets[1][fd / 64] |= bit;
			ret++;
		}
		if ((ev & POLLPRI) && (rv & POLLPRI)) {
			sets[2][fd / 64] |= bit;
			ret++;
		}
	}
	for (int k = 0; k < 3; k++)
		if (uset[k] && bytes &&
		    copy_to_user(t, uset[k], sets[k], bytes)) {
			ret = -EFAULT;
			goto out;
		}
out:
	for (int k = 0; k < 3; k++)
		free(sets[k]);
	free(pfd);
	return ret;
}

long sys_select(struct task *t, const uint64_t a[6])
{
	struct timespec dl, *deadline = NULL;
	if (a[4]) {
		struct timeval tv;
		if (copy_from_user(t, &tv, a[4], sizeof(tv)))
			return -EFAULT;
		if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
			return -EINVAL;
		if (tv.tv_sec > 100000000l)
			tv.tv_sec = 100000000l;
		dl = mono_now();
		dl.tv_sec += tv.tv_sec;
		ts_add_ns(&dl, tv.tv_usec * 1000ll);
		deadline = &dl;
	}
	long r = do_select(t, (int)a[0], a[1], a[2], a[3], deadline);
	if (deadline && r != -EFAULT)
		put_remaining(t, a[4], deadline, true);
	return r;
}

long sys_pselect6(struct task *t, const uint64_t a[6])
{
	struct timespec dl, *deadline = NULL;
	if (a[4]) {
		int r = get_timeout(t, a[4], &dl);
		if (r)
			return r;
		deadline = &dl;
	}
	/* The sixth argument points at {const sigset_t *ss; size_t len}. */
	uint64_t sig[2] = {0, 0};
	if (a[5] && copy_from_user(t, sig, a[5], sizeof(sig)))
		return -EFAULT;
	int r = set_tmp_mask(t, sig[0], sig[1]);
	if (r)
		return r;
	long ret = do_select(t, (int)a[0], a[1], a[2], a[3], deadline);
	end_tmp_mask(t, sig[0], ret);
	if (deadline && ret != -EFAULT)
		put_remaining(t, a[4], deadline, false);
	return ret;
}

/* ---- epoll_wait, epoll_pwait, epoll_pwait2 ---- */

/* Linux's order: maxevents, then the fd, then its kind. Never restarted
 * after a signal handler (signal(7)): -EINTR. */
static long do_epoll_wait(struct task *t, int epfd, uint64_t uevents,
			  int maxevents, const struct timespec *deadline)
{
	if (maxevents <= 0 || maxevents > EP_MAX_EVENTS)
		return -EINVAL;
	if (!user_range_ok(uevents,
			   (uint64_t)maxevents * sizeof(struct epoll_event)))
		return -EFAULT;
	struct file *f = fget(t, epfd);
	if (!f)
		return -EBADF;
	long r = -EINVAL;
	if (file_is_epoll(f))
		r = epoll_wait_file(t, f, uevents, maxevents, deadline);
	file_put(f);
	return r;
}

static long epoll_wait_ms(struct task *t, const uint64_t a[6], uint64_t umask,
			  uint64_t masksz)
{
	int ms = (int)a[3];
	struct timespec dl, *deadline = NULL;
	if (ms >= 0) {
		dl = mono_now();
		ts_add_ns(&dl, (int64_t)ms * 1000000ll);
		deadline = &dl;
	}
	int r = set_tmp_mask(t, umask, masksz);
	if (r)
		return r;
	long ret = do_epoll_wait(t, (int)a[0], a[1], (int)a[2], deadline);
	/* Interrupted: the mask stays until the signal is delivered. */
	end_tmp_mask(t, umask, ret == -EINTR ? -ERESTARTNOHAND : ret);
	return ret;
}

static long sys_epoll_wait(struct task *t, const uint64_t a[6])
{
	return epoll_wait_ms(t, a, 0, 0);
}

static long sys_epoll_pwait(struct task *t, const uint64_t a[6])
{
	return epoll_wait_ms(t, a, a[4], a[5]);
}

static long sys_epoll_pwait2(struct task *t, const uint64_t a[6])
{
	struct timespec dl, *deadline = NULL;
	if (a[3]) {
		int r = get_timeout(t, a[3], &dl);
		if (r)
			return r;
		deadline = &dl;
	}
	int r = set_tmp_mask(t, a[4], a[5]);
	if (r)
		return r;
	long ret = do_epoll_wait(t, (int)a[0], a[1], (int)a[2], deadline);
	end_tmp_mask(t, a[4], ret == -EINTR ? -ERESTARTNOHAND : ret);
	return ret;
}

const struct syscall_def sys_epoll_wait_defs[] = {
    {__NR_epoll_wait, "epoll_wait", sys_epoll_wait, "fpdd", NULL},
    {__NR_epoll_pwait, "epoll_pwait", sys_epoll_pwait, "fpddpu", NULL},
    {__NR_epoll_pwait2, "epoll_pwait2", sys_epoll_pwait2, "fpdppu", NULL},
    {-1, NULL, NULL, NULL, NULL},
};
