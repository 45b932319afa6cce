/* System V IPC syscalls: argument checks, then the bodies in sentry/ipc/
 * (which copy guest memory themselves, never under their locks). */
#include <errno.h>
#include <sys/syscall.h>

#include "sentry/ipc/ipc.h"
#include "sentry/ipc/msg.h"
#include "sentry/ipc/sem.h"
#include "sentry/mm/usercopy.h"

#include <time.h>
#include "sentry/syscalls/syscalls.h"

static long sys_msgget(struct task *t, const uint64_t a[6])
{
	return msg_get(t, (key_t)a[0], (int)a[1]);
}

static long sys_msgsnd(struct task *t, const uint64_t a[6])
{
	return msg_snd(t, (int)a[0], a[1], (size_t)a[2], (int)a[3]);
}

static long sys_msgrcv(struct task *t, const uint64_t a[6])
{
	return msg_rcv(t, (int)a[0], a[1], (size_t)a[2], (long)a[3], (int)a[4]);
}

static long sys_msgctl(struct task *t, const uint64_t a[6])
{
	return msg_ctl(t, (int)a[0], (int)a[1], a[2]);
}

static long sys_semget(struct task *t, const uint64_t a[6])
{
	return sem_get(t, (key_t)a[0], (int)a[1], (int)a[2]);
}

static long sys_semop(struct task *t, const uint64_t a[6])
{
	return sem_op(t, (int)a[0], a[1], (size_t)a[2], NULL);
}

static long sys_semtimedop(struct task *t, const uint64_t a[6])
{
	if (!a[3])
		return sem_op(t, (int)a[0], a[1], (size_t)a[2], NULL);
	struct timespec ts;
	if (copy_from_user(t, &ts, a[3], sizeof(ts)))
		return -EFAULT;
	return sem_op(t, (int)a[0], a[1], (size_t)a[2], &ts);
}

static long sys_semctl(struct task *t, const uint64_t a[6])
{
	return sem_ctl(t, (int)a[0], (int)a[1], (int)a[2], a[3]);
}

#define D(n, fn, args) {__NR_##n, #n, fn, args, NULL}
/* clang-format off */
const struct syscall_def sys_ipc_defs[] = {
    D(msgget, sys_msgget, "xx"),
    D(msgsnd, sys_msgsnd, "dpux"),
    D(msgrcv, sys_msgrcv, "dpudx"),
    D(msgctl, sys_msgctl, "ddp"),
    D(semget, sys_semget, "xdx"),
    D(semop, sys_semop, "dpu"),
    D(semtimedop, sys_semtimedop, "dpup"),
    D(semctl, sys_semctl, "dddx"),
    {-1, NULL, NULL, NULL, NULL},
};
/* clang-format on */
