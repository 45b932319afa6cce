#include "sentry/kernel/kernel.h"

#include <errno.h>
#include <time.h>

#include "sentry/kernel/pid.h"
#include "sentry/kernel/task.h"

struct kernel kernel = {
    .processes = LIST_HEAD_INIT(kernel.processes),
};
struct kmutex tasklist_lock = KMUTEX_INITIALIZER("tasklist", LR_TASKLIST);
struct kmutex uts_lock = KMUTEX_INITIALIZER("uts", LR_LEAF);

struct process *kernel_find_process(int pid)
{
	return pid_process(pid);
}

struct task *kernel_find_task(int tid)
{
	return pid_task(tid);
}

uint64_t kernel_now_ns(int clockid)
{
	struct timespec ts;
	clock_gettime(clockid, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
