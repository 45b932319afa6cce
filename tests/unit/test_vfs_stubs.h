/* Stand-ins for the kernel, mm and usercopy symbols the VFS uses, so the
 * VFS unit tests run without a platform. Guest addresses are host pointers
 * here (0 and small values fault). Include in exactly one file per test
 * binary: these definitions take the place of the libsentry.a members that
 * would otherwise be linked. */
#ifndef BH_TEST_VFS_STUBS_H
#define BH_TEST_VFS_STUBS_H

#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "sentry/kernel/cputime.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/process.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/usercopy.h"

#include "bulkhead/log.h"
#include "sentry/syscalls/syscalls.h"

#define U(x)		      ((uint64_t)(uintptr_t)(x))
#define SC0(t, n)	      vfs_test_call(t, n, 0, 0, 0, 0, 0, 0)
#define SC1(t, n, a)	      vfs_test_call(t, n, U(a), 0, 0, 0, 0, 0)
#define SC2(t, n, a, b)	      vfs_test_call(t, n, U(a), U(b), 0, 0, 0, 0)
#define SC3(t, n, a, b, c)    vfs_test_call(t, n, U(a), U(b), U(c), 0, 0, 0)
#define SC4(t, n, a, b, c, d) vfs_test_call(t, n, U(a), U(b), U(c), U(d), 0, 0)
#define SC5(t, n, a, b, c, d, e)                                               \
	vfs_test_call(t, n, U(a), U(b), U(c), U(d), U(e), 0)

struct kernel kernel = {.processes = LIST_HEAD_INIT(kernel.processes)};
struct kmutex tasklist_lock = KMUTEX_INITIALIZER("tasklist", LR_TASKLIST);
__thread struct task *current;
int stub_last_signal;
int stub_blocks;

static bool bad(uint64_t a)
{
	return a < 4096;
}

int copy_from_user(struct task *t, void *dst, uint64_t src, size_t n)
{
	(void)t;
	if (n && bad(src))
		return -EFAULT;
	memcpy(dst, (void *)(uintptr_t)src, n);
	return 0;
}

int copy_to_user(struct task *t, uint64_t dst, const void *src, size_t n)
{
	(void)t;
	if (n && bad(dst))
		return -EFAULT;
	memcpy((void *)(uintptr_t)dst, src, n);
	return 0;
}

ssize_t copy_to_user_partial(struct task *t, uint64_t dst, const void *src,
			     size_t n)
{
	return copy_to_user(t, dst, src, n) ? -EFAULT : (ssize_t)n;
}

ssize_t copy_from_user_partial(struct task *t, void *dst, uint64_t src,
			       size_t n)
{
	return copy_from_user(t, dst, src, n) ? -EFAULT : (ssize_t)n;
}

long strncpy_from_user(struct task *t, char *dst, uint64_t src, size_t cap)
{
	(void)t;
	if (bad(src))
		return -EFAULT;
	size_t n = strnlen((const char *)(uintptr_t)src, cap);
	if (n >= cap)
		return -ENAMETOOLONG;
	memcpy(dst, (const char *)(uintptr_t)src, n + 1);
	return (long)n;
}

long copy_path_from_user(struct task *t, char *dst, uint64_t src)
{
	long n = strncpy_from_user(t, dst, src, 4096);
	if (n == 0)
		return -ENOENT;
	return n;
}

/* No stub to read into: callers copy through the sentry. */
ssize_t copy_to_user_from_fd(struct task *t, uint64_t dst, int hostfd, size_t n,
			     uint64_t off)
{
	(void)t, (void)dst, (void)hostfd, (void)n, (void)off;
	return -EOPNOTSUPP;
}

/* The tests run no signals: nothing to recompute. */
void task_recalc_work(struct task *t)
{
	(void)t;
}

void task_wake(struct task *t)
{
	atomic_fetch_add(&t->wake_seq, 1);
}

int task_sleep(struct task *t, uint32_t seq, const struct timespec *deadline,
	       enum sleep_kind kind)
{
	(void)t, (void)seq, (void)kind;
	stub_blocks++;
	/* Single-threaded tests: nothing can wake us. A deadline just
	 * passes; otherwise behave as if a signal arrived. */
	if (deadline) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		while (now.tv_sec < deadline->tv_sec ||
		       (now.tv_sec == deadline->tv_sec &&
			now.tv_nsec < deadline->tv_nsec))
			clock_gettime(CLOCK_MONOTONIC, &now);
		return -ETIMEDOUT;
	}
	return -EINTR;
}

int signal_send_task(struct task *t, int sig, const siginfo_t *info)
{
	(void)t, (void)info;
	stub_last_signal = sig;
	return 0;
}

struct process *kernel_find_process(int pid)
{
	struct list_head *pos;
	list_for_each(pos, &kernel.processes)
	{
		struct process *p = list_entry(pos, struct process, all_node);
		if (p->pid == pid && p->state != PROC_DEAD)
			return p;
	}
	return NULL;
}

struct task *kernel_find_task(int tid)
{
	(void)tid;
	return NULL;
}

uint64_t kernel_now_ns(int clockid)
{
	struct timespec ts;
	clock_gettime(clockid, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

size_t mm_render_maps(struct mm *mm, uint64_t *from, char *buf, size_t cap)
{
	(void)mm;
	const char *s = "00400000-00401000 r-xp 00000000 00:00 0 /bin/x\n";
	if (*from >= 0x401000)
		return 0;
	size_t n = strlen(s) < cap ? strlen(s) : cap;
	memcpy(buf, s, n);
	*from = 0x401000;
	return n;
}

void mm_get(struct mm *mm)
{
	(void)mm;
}

void mm_put(struct mm *mm)
{
	(void)mm;
}

ssize_t copy_from_process(struct process *p, struct mm *mm, void *dst,
			  uint64_t src, size_t n)
{
	(void)p, (void)mm, (void)dst, (void)src, (void)n;
	return -ESRCH;
}

int pid_last(void)
{
	return 1;
}

void cputime_process(struct process *p, struct cputimes *out)
{
	(void)p;
	out->utime = out->stime = 0;
}

int cputime_thread_self(struct task *t, uint64_t *ns)
{
	(void)t;
	*ns = 0;
	return 0;
}

void process_get(struct process *p)
{
	atomic_fetch_add(&p->refs, 1);
}

void process_put(struct process *p)
{
	atomic_fetch_sub(&p->refs, 1); /* the fixture's process is static */
}

const struct cred *process_cred(struct process *p)
{
	if (list_empty(&p->threads))
		return NULL;
	return &list_entry(p->threads.next, struct task, thread_node)->cred;
}

void bh_log(enum bh_log_level lvl, const char *fmt, ...)
{
	(void)lvl, (void)fmt;
}

long vfs_test_call(struct task *t, const char *name, uint64_t a0, uint64_t a1,
		   uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	for (const struct syscall_def *d = sys_file_defs; d->nr >= 0; d++) {
		if (strcmp(d->name, name) == 0) {
			uint64_t a[6] = {a0, a1, a2, a3, a4, a5};
			return d->fn(t, a);
		}
	}
	return -ENOSYS;
}

#endif
