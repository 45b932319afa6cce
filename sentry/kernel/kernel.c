#include "sentry/kernel/kernel.h"

#include <errno.h>
#include <time.h>

#include "sentry/kernel/task.h"

struct kernel kernel = {
    .processes = LIST_HEAD_INIT(kernel.processes),
};
pthread_mutex_t kernel_lock = PTHREAD_MUTEX_INITIALIZER;

static bool pid_in_use(int pid)
{
	return kernel_find_process(pid) || kernel_find_task(pid);
}

int kernel_alloc_pid(void)
{
	for (int i = 0; i < PID_MAX; i++) {
		int pid = kernel.last_pid + 1;
		if (pid >= PID_MAX)
			pid = 2; /* like Linux, skip the low pids on wrap */
		kernel.last_pid = pid;
		if (!pid_in_use(pid))
			return pid;
	}
	return -EAGAIN;
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
	struct list_head *pos, *tp;
	list_for_each(pos, &kernel.processes)
	{
		struct process *p = list_entry(pos, struct process, all_node);
		list_for_each(tp, &p->threads)
		{
			struct task *t =
			    list_entry(tp, struct task, thread_node);
			if (t->tid == tid)
				return t;
		}
	}
	return NULL;
}

uint64_t kernel_now_ns(int clockid)
{
	struct timespec ts;
	clock_gettime(clockid, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
