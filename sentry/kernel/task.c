/* Guest threads: each is served by one sentry thread running task_main(),
 * which alternates between running the guest (kernel_lock dropped) and
 * serving what stopped it (lock held). */
#include "sentry/kernel/task.h"

#include <errno.h>
#include <poll.h>
#include <linux/futex.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bulkhead/log.h"
#include "sentry/kernel/pid.h"
#include "sentry/kernel/signal.h"
#include "sentry/syscalls/strace.h"
#include "sentry/mm/usercopy.h"
#include "sentry/syscalls/syscalls.h"

__thread struct task *current;
/* task_exit() leaves the task by jumping back to task_run()
 * instead of pthread_exit(): that would unwind with libgcc_s, which glibc
 * dlopen()s on first use, long after the sentry gave up opening files. */
static __thread jmp_buf task_exit_jmp;

void task_wake(struct task *t)
{
	atomic_fetch_add_explicit(&t->wake_seq, 1, memory_order_release);
	if (atomic_load_explicit(&t->sleeping, memory_order_acquire))
		syscall(SYS_futex, &t->wake_seq, FUTEX_WAKE_PRIVATE, 1, NULL,
			NULL, 0);
}

void task_kick(struct task *t)
{
	/* seq_cst: pairs with task_run's store of in_guest then load of
	 * work, so that either it sees the work or we see it in the guest. */
	atomic_store_explicit(&t->work, true, memory_order_seq_cst);
	task_wake(t);
	if (atomic_load(&t->in_guest) && t->pt)
		platform->interrupt(t->pt);
}

bool task_should_stop(struct task *t)
{
	struct process *p = t->proc;
	return p->group_exiting || (p->exec_task && p->exec_task != t) ||
	       t->state != TASK_RUNNING;
}

void task_recalc_work(struct task *t)
{
	struct process *p = t->proc;
	bool w = task_signal_pending(t) || task_should_stop(t) || p->stopped;
	if (w)
		atomic_store_explicit(&t->work, true, memory_order_release);
}

/* Why a sleep ends early. A thread waiting in execve for its siblings to
 * die, and a killable sleep, end only for the death of the process: the
 * siblings cannot die while it returns at once to a caller that loops. */
static bool task_interrupted(struct task *t, enum sleep_kind kind)
{
	struct process *p = t->proc;
	tasklist_lock_take();
	bool r;
	if (p->exec_task == t || kind == SLEEP_KILLABLE)
		r = p->group_exiting || t->state != TASK_RUNNING;
	else
		r = task_signal_pending(t) || task_should_stop(t);
	tasklist_unlock();
	return r;
}

static bool ts_passed(const struct timespec *dl)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > dl->tv_sec ||
	       (now.tv_sec == dl->tv_sec && now.tv_nsec >= dl->tv_nsec);
}

int task_sleep(struct task *t, uint32_t seq, const struct timespec *deadline,
	       enum sleep_kind kind)
{
	if (task_interrupted(t, kind))
		return -EINTR;
	if (deadline && ts_passed(deadline))
		return -ETIMEDOUT;
	lock_assert_none("task_sleep");
	atomic_store_explicit(&t->sleeping, true, memory_order_seq_cst);
	/* An absolute CLOCK_MONOTONIC timeout: FUTEX_WAIT_BITSET. */
	while (atomic_load_explicit(&t->wake_seq, memory_order_acquire) ==
	       seq) {
		long r =
		    syscall(SYS_futex, &t->wake_seq, FUTEX_WAIT_BITSET_PRIVATE,
			    seq, deadline, NULL, FUTEX_BITSET_MATCH_ANY);
		if (r < 0 && errno == ETIMEDOUT)
			break;
	}
	atomic_store_explicit(&t->sleeping, false, memory_order_relaxed);
	if (task_interrupted(t, kind))
		return -EINTR;
	if (deadline && ts_passed(deadline))
		return -ETIMEDOUT;
	return 0;
}

static void task_handle_syscall(struct task *t)
{
	long nr = (long)t->regs.orig_rax;
	uint64_t a[6] = {t->regs.rdi, t->regs.rsi, t->regs.rdx,
			 t->regs.r10, t->regs.r8,  t->regs.r9};
	atomic_fetch_add_explicit(&t->syscalls, 1, memory_order_relaxed);
	long ret = syscall_dispatch(t, nr, a);
	if (kernel.strace)
		strace_log(t, nr, a, ret);
	t->regs.rax = (unsigned long)ret;
	t->in_syscall = true;
}

void task_leave(void)
{
	longjmp(task_exit_jmp, 1);
}

/* Serve t until it exits (task_leave() jumps back here). */
static void task_run(struct task *t)
{
	if (setjmp(task_exit_jmp))
		return;
	current = t;
	int r = platform->adopt(t->pt);
	if (r < 0) {
		bh_error("task %d: cannot attach to its stub: %s", t->tid,
			 strerror(-r));
		process_exit_group(t, SIGKILL);
	}
	if (t->set_child_tid) {
		int32_t tid = t->tid;
		copy_to_user(t, t->set_child_tid, &tid, sizeof(tid));
		t->set_child_tid = 0;
	}
	if (t->start_hook)
		t->start_hook(t);
	for (;;) {
		/* Nothing to do (the common case) costs one load. */
		if (atomic_load_explicit(&t->work, memory_order_acquire))
			signal_deliver(t);
		else
			signal_restart_done(t);
		t->in_syscall = false;
		atomic_store(&t->in_guest, true);
		/* A kick that came before in_guest was set is in t->work. */
		if (atomic_load_explicit(&t->work, memory_order_seq_cst)) {
			atomic_store(&t->in_guest, false);
			continue;
		}
		struct plat_event ev;
		platform->run(t->pt, &t->regs, &ev);
		atomic_store(&t->in_guest, false);
		switch (ev.kind) {
		case PLAT_EV_SYSCALL:
			task_handle_syscall(t);
			break;
		case PLAT_EV_FAULT:
			signal_force(t, ev.si.si_signo, &ev.si);
			break;
		case PLAT_EV_INTERRUPT:
			break;
		case PLAT_EV_EXITED:
			/* The stub was killed from outside the sentry. */
			bh_warn("task %d (pid %d): its stub is gone", t->tid,
				t->proc->pid);
			process_exit_group(t, SIGKILL);
		}
	}
}

/* Sentry threads whose task exited wait here for the next one: a fork
 * then costs a futex wake instead of pthread_create (~15 us here, on the
 * forking thread's critical path). */
#define TASK_POOL_MAX 8
struct task_worker {
	struct task_worker *next;
	struct task *t;
	_Atomic uint32_t go;
};
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct task_worker *pool_idle;
static int pool_nidle;

static void *task_main(void *arg)
{
	struct task_worker w = {0};
	struct task *t = arg;
	for (;;) {
		task_run(t);
		current = NULL;
		atomic_store(&w.go, 0);
		pthread_mutex_lock(&pool_lock);
		if (pool_nidle >= TASK_POOL_MAX || platform->fresh_threads) {
			pthread_mutex_unlock(&pool_lock);
			return NULL;
		}
		w.next = pool_idle;
		pool_idle = &w;
		pool_nidle++;
		pthread_mutex_unlock(&pool_lock);
		while (!atomic_load(&w.go))
			syscall(SYS_futex, &w.go, FUTEX_WAIT_PRIVATE, 0, NULL,
				NULL, 0);
		t = w.t;
	}
}

int task_start(struct task *t)
{
	pthread_mutex_lock(&pool_lock);
	struct task_worker *w = pool_idle;
	if (w) {
		pool_idle = w->next;
		pool_nidle--;
	}
	pthread_mutex_unlock(&pool_lock);
	if (w) {
		w->t = t;
		atomic_store(&w->go, 1);
		syscall(SYS_futex, &w->go, FUTEX_WAKE_PRIVATE, 1, NULL, NULL,
			0);
		return 0;
	}
	pthread_t th;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* Syscall handlers keep path and I/O buffers on the stack. */
	pthread_attr_setstacksize(&attr, 1 << 20);
	int r = pthread_create(&th, &attr, task_main, t);
	pthread_attr_destroy(&attr);
	return -r;
}

struct task *task_alloc(struct process *p, int tid)
{
	struct task *t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	pid_attach_task(t, tid);
	t->proc = p;
	t->state = TASK_RUNNING;
	list_init(&t->pending.queue);
	list_add_tail(&t->thread_node, &p->threads);
	p->nthreads++;
	kernel.ntasks++;
	process_get(p);
	return t;
}

void task_free(struct task *t)
{
	pid_detach_task(t);
	struct list_head *pos, *n;
	list_for_each_safe(pos, n, &t->pending.queue)
	{
		list_del(pos);
		free(list_entry(pos, struct sigqueue, node));
	}
	free(t);
}
