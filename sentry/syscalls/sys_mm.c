/* Memory syscalls: thin wrappers over sentry/mm, which validates. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/usercopy.h"
#include "sentry/mm/vma.h"
#include "sentry/syscalls/syscalls.h"

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 0x01
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

static long sys_mmap(struct task *t, const uint64_t a[6])
{
	return mm_mmap(t, a[0], a[1], (int)a[2], (int)a[3], (int)a[4], a[5]);
}

static long sys_munmap(struct task *t, const uint64_t a[6])
{
	return mm_munmap(t, a[0], a[1]);
}

static long sys_mprotect(struct task *t, const uint64_t a[6])
{
	return mm_mprotect(t, a[0], a[1], (int)a[2]);
}

static long sys_brk(struct task *t, const uint64_t a[6])
{
	return mm_brk(t, a[0]);
}

static long sys_mremap(struct task *t, const uint64_t a[6])
{
	return mm_mremap(t, a[0], a[1], a[2], (int)a[3], a[4]);
}

static long sys_madvise(struct task *t, const uint64_t a[6])
{
	return mm_madvise(t, a[0], a[1], (int)a[2]);
}

static long sys_msync(struct task *t, const uint64_t a[6])
{
	return mm_msync(t, a[0], a[1], (int)a[2]);
}

/* Residency is the host's business and not the guest's to learn: every
 * mapped page is reported resident. The checks are Linux's, in its order. */
static long sys_mincore(struct task *t, const uint64_t a[6])
{
	uint64_t start = a[0], len = a[1], uvec = a[2];
	if (start & 4095)
		return -EINVAL;
	if (len > GUEST_TASK_SIZE || start > GUEST_TASK_SIZE - len)
		return -ENOMEM;
	uint64_t pages = (len + 4095) / 4096;
	if (pages > GUEST_TASK_SIZE || uvec > GUEST_TASK_SIZE - pages)
		return -EFAULT;
	if (!pages)
		return 0;
	if (!mm_covers(t->proc->mm, start, start + pages * 4096))
		return -ENOMEM;
	unsigned char ones[4096];
	memset(ones, 1, sizeof(ones));
	for (uint64_t done = 0; done < pages;) {
		uint64_t n =
		    pages - done < sizeof(ones) ? pages - done : sizeof(ones);
		if (copy_to_user(t, uvec + done, ones, n))
			return -EFAULT;
		done += n;
	}
	return 0;
}

/* Locking is a residency hint the sandbox does not honour: the stub has no
 * CAP_IPC_LOCK and the guest cannot observe the difference. */
static long sys_mlock(struct task *t, const uint64_t a[6])
{
	(void)t;
	(void)a;
	return 0;
}

static long sys_mlock2(struct task *t, const uint64_t a[6])
{
	(void)t;
	return (a[2] & ~(uint64_t)MLOCK_ONFAULT) ? -EINVAL : 0;
}

static long sys_mlockall(struct task *t, const uint64_t a[6])
{
	(void)t;
	uint64_t f = a[0];
	if (!f || (f & ~(uint64_t)(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)) ||
	    f == MCL_ONFAULT)
		return -EINVAL;
	return 0;
}

const struct syscall_def sys_mm_defs[] = {
    {__NR_mmap, "mmap", sys_mmap, "puxxfx", NULL},
    {__NR_munmap, "munmap", sys_munmap, "pu", NULL},
    {__NR_mprotect, "mprotect", sys_mprotect, "pux", NULL},
    {__NR_brk, "brk", sys_brk, "p", NULL},
    {__NR_mremap, "mremap", sys_mremap, "puuxp", NULL},
    {__NR_madvise, "madvise", sys_madvise, "pud", NULL},
    {__NR_msync, "msync", sys_msync, "pux", NULL},
    {__NR_mincore, "mincore", sys_mincore, "pup", NULL},
    {__NR_mlock, "mlock", sys_mlock, "pu", NULL},
    {__NR_munlock, "munlock", sys_mlock, "pu", NULL},
    {__NR_mlock2, "mlock2", sys_mlock2, "pux", NULL},
    {__NR_mlockall, "mlockall", sys_mlockall, "x", NULL},
    {__NR_munlockall, "munlockall", sys_mlock, "", NULL},
    {.nr = -1},
};
