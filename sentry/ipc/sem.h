/* System V semaphore sets: the bodies of semget, semop/semtimedop and
 * semctl, and the SEM_UNDO adjustments applied when a process exits. */
#ifndef BULKHEAD_IPC_SEM_H
#define BULKHEAD_IPC_SEM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct task;
struct process;
struct timespec;

/* Linux's defaults (kernel.sem), but for the total, which the sentry
 * holds: SEM_MNS semaphores in all sets together. */
#define SEM_MSL 32000
#define SEM_OPM 500
#define SEM_MNI 32000
#define SEM_VMX 32767
#define SEM_MNS (1 << 20)

void sem_init(void);
long sem_get(struct task *t, key_t key, int nsems, int flg);
/* timeout: a relative time (semtimedop), or NULL. */
long sem_op(struct task *t, int id, uint64_t usops, size_t nsops,
	    const struct timespec *timeout);
long sem_ctl(struct task *t, int id, int semnum, int cmd, uint64_t arg);
/* The process's SEM_UNDO adjustments, applied as it exits. */
void sem_exit(struct process *p);

#endif
