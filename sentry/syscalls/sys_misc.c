/* Identity of the machine, limits and the small per-thread knobs. */
#include <errno.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "sentry/kernel/cputime.h"
#include "sentry/kernel/futex.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/usercopy.h"
#include "sentry/syscalls/syscalls.h"

#define BH_UNAME_RELEASE "6.1.0-bulkhead"
#define BH_UNAME_VERSION "#1 SMP Bulkhead"

static long sys_uname(struct task *t, const uint64_t a[6])
{
	(void)t;
	struct utsname u;
	memset(&u, 0, sizeof(u));
	strcpy(u.sysname, "Linux");
	kmutex_lock(&uts_lock);
	snprintf(u.nodename, sizeof(u.nodename), "%s", kernel.hostname);
	strcpy(u.release, BH_UNAME_RELEASE);
	strcpy(u.version, BH_UNAME_VERSION);
	strcpy(u.machine, "x86_64");
	snprintf(u.domainname, sizeof(u.domainname), "%s",
		 kernel.domainname[0] ? kernel.domainname : "(none)");
	kmutex_unlock(&uts_lock);
	return copy_to_user(t, a[0], &u, sizeof(u));
}

static long set_name(struct task *t, char *dst, uint64_t src, uint64_t len)
{
	if (!cred_capable(&t->cred, CAP_SYS_ADMIN))
		return -EPERM;
	if (len > 64)
		return -EINVAL;
	char buf[65];
	if (copy_from_user(t, buf, src, len) < 0)
		return -EFAULT;
	buf[len] = 0;
	kmutex_lock(&uts_lock);
	memcpy(dst, buf, len + 1);
	kmutex_unlock(&uts_lock);
	return 0;
}

static long sys_sethostname(struct task *t, const uint64_t a[6])
{
	return set_name(t, kernel.hostname, a[0], a[1]);
}

static long sys_setdomainname(struct task *t, const uint64_t a[6])
{
	return set_name(t, kernel.domainname, a[0], a[1]);
}

static long sys_getrandom(struct task *t, const uint64_t a[6])
{
	if (a[2] & ~(uint64_t)(GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE))
		return -EINVAL;
	size_t len = a[1] > (1u << 25) ? (1u << 25) : a[1];
	char buf[4096];
	size_t done = 0;
	while (done < len) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);
		ssize_t g = getrandom(buf, n, 0);
		if (g <= 0)
			break;
		ssize_t c =
		    copy_to_user_partial(t, a[0] + done, buf, (size_t)g);
		if (c < 0)
			return done ? (long)done : -EFAULT;
		done += (size_t)c;
		if ((size_t)c < (size_t)g)
			break;
	}
	return (long)done;
}

static long sys_sysinfo(struct task *t, const uint64_t a[6])
{
	struct sysinfo si;
	sysinfo(&si);
	si.uptime = (long)((kernel_now_ns(CLOCK_MONOTONIC) - kernel.boot_ns) /
			   1000000000ull);
	tasklist_lock_take();
	si.procs = (unsigned short)kernel.nprocs;
	tasklist_unlock();
	return copy_to_user(t, a[0], &si, sizeof(si));
}

static long sys_prlimit64(struct task *t, const uint64_t a[6])
{
	int pid = (int)a[0];
	unsigned res = (unsigned)a[1];
	if (res >= RLIM_NLIMITS)
		return -EINVAL;
	struct rlimit n;
	if (a[2]) {
		if (copy_from_user(t, &n, a[2], sizeof(n)) < 0)
			return -EFAULT;
		if (n.rlim_cur > n.rlim_max)
			return -EINVAL;
		if (res == RLIMIT_NOFILE && n.rlim_max > 1048576)
			return -EPERM; /* like nr_open */
	}
	tasklist_lock_take();
	struct process *p = pid ? kernel_find_process(pid) : t->proc;
	if (!p || p->state != PROC_ALIVE) {
		tasklist_unlock();
		return -ESRCH;
	}
	struct rlimit old = p->rlimits[res];
	if (a[2]) {
		if (n.rlim_max > old.rlim_max &&
		    !cred_capable(&t->cred, CAP_SYS_RESOURCE)) {
			tasklist_unlock();
			return -EPERM;
		}
		/* Atomic stores: the process reads its limits unlocked. */
		__atomic_store_n(&p->rlimits[res].rlim_cur, n.rlim_cur,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&p->rlimits[res].rlim_max, n.rlim_max,
				 __ATOMIC_RELAXED);
		if (res == RLIMIT_CPU)
			process_get(p);
	}
	tasklist_unlock();
	if (a[2] && res == RLIMIT_CPU) {
		cputime_update(p);
		process_put(p);
	}
	if (a[3] && copy_to_user(t, a[3], &old, sizeof(old)) < 0)
		return -EFAULT;
	return 0;
}

static long sys_getrlimit(struct task *t, const uint64_t a[6])
{
	uint64_t b[6] = {0, a[0], 0, a[1], 0, 0};
	return sys_prlimit64(t, b);
}

static long sys_setrlimit(struct task *t, const uint64_t a[6])
{
	uint64_t b[6] = {0, a[0], a[1], 0, 0, 0};
	return sys_prlimit64(t, b);
}

static long sys_arch_prctl(struct task *t, const uint64_t a[6])
{
	switch ((int)a[0]) {
	case 0x1002: /* ARCH_SET_FS */
		if (a[1] >= 0x800000000000ULL)
			return -EPERM;
		t->regs.fs_base = a[1];
		return 0;
	case 0x1003: /* ARCH_GET_FS */
		return copy_to_user(t, a[1], &t->regs.fs_base, 8);
	case 0x1001: /* ARCH_SET_GS */
		if (a[1] >= 0x800000000000ULL)
			return -EPERM;
		t->regs.gs_base = a[1];
		return 0;
	case 0x1004: /* ARCH_GET_GS */
		return copy_to_user(t, a[1], &t->regs.gs_base, 8);
	default:
		return -EINVAL;
	}
}

static long sys_set_tid_address(struct task *t, const uint64_t a[6])
{
	t->clear_child_tid = a[0];
	return t->tid;
}

static long sys_set_robust_list(struct task *t, const uint64_t a[6])
{
	if (a[1] != 24)
		return -EINVAL;
	__atomic_store_n(&t->robust_list, a[0], __ATOMIC_RELAXED);
	t->robust_len = a[1];
	return 0;
}

static long sys_get_robust_list(struct task *t, const uint64_t a[6])
{
	tasklist_lock_take();
	struct task *o = a[0] ? kernel_find_task((int)a[0]) : t;
	uint64_t head =
	    o ? __atomic_load_n(&o->robust_list, __ATOMIC_RELAXED) : 0;
	tasklist_unlock();
	if (!o)
		return -ESRCH;
	uint64_t len = 24;
	if (copy_to_user(t, a[1], &head, 8) < 0 ||
	    copy_to_user(t, a[2], &len, 8) < 0)
		return -EFAULT;
	return 0;
}

static long sys_enosys(struct task *t, const uint64_t a[6])
{
	(void)t;
	(void)a;
	return -ENOSYS;
}

static long sys_sched_yield(struct task *t, const uint64_t a[6])
{
	(void)t;
	(void)a;
	sched_yield();
	return 0;
}

static long sys_sched_getaffinity(struct task *t, const uint64_t a[6])
{
	size_t len = a[1];
	if (len < 8 || (len & 7))
		return -EINVAL;
	cpu_set_t set;
	CPU_ZERO(&set);
	sched_getaffinity(0, sizeof(set), &set);
	size_t n = len < sizeof(set) ? len : sizeof(set);
	if (copy_to_user(t, a[2], &set, n) < 0)
		return -EFAULT;
	return (long)n;
}

static long sys_zero(struct task *t, const uint64_t a[6])
{
	(void)t;
	(void)a;
	return 0;
}

static long sys_getcpu(struct task *t, const uint64_t a[6])
{
	unsigned zero = 0;
	if (a[0] && copy_to_user(t, a[0], &zero, 4) < 0)
		return -EFAULT;
	if (a[1] && copy_to_user(t, a[1], &zero, 4) < 0)
		return -EFAULT;
	return 0;
}

static long sys_personality(struct task *t, const uint64_t a[6])
{
	(void)t;
	/* Only the default personality; a query returns it. */
	if ((uint32_t)a[0] == 0xffffffffu || a[0] == 0)
		return 0;
	return -EINVAL;
}

static long sys_prctl(struct task *t, const uint64_t a[6])
{
	switch ((int)a[0]) {
	case PR_SET_NAME: {
		char name[16];
		long n = strncpy_from_user(t, name, a[1], sizeof(name));
		if (n == -EFAULT)
			return -EFAULT;
		name[15] = 0;
		tasklist_lock_take();
		memcpy(t->proc->comm, name, sizeof(name));
		tasklist_unlock();
		return 0;
	}
	case PR_GET_NAME: {
		char name[16];
		tasklist_lock_take();
		memcpy(name, t->proc->comm, sizeof(name));
		tasklist_unlock();
		return copy_to_user(t, a[1], name, 16);
	}
	case PR_SET_PDEATHSIG:
	case PR_SET_DUMPABLE:
	case PR_SET_NO_NEW_PRIVS:
	case PR_SET_CHILD_SUBREAPER:
		return 0;
	case PR_GET_DUMPABLE:
		return 1;
	case PR_GET_NO_NEW_PRIVS:
		return 0;
	case PR_CAPBSET_READ:
		if (a[1] > CAP_LAST_CAP)
			return -EINVAL;
		return (t->cred.cap_bnd >> a[1]) & 1;
	case PR_CAPBSET_DROP:
		if (a[1] > CAP_LAST_CAP)
			return -EINVAL;
		if (!cred_capable(&t->cred, CAP_SETPCAP))
			return -EPERM;
		tasklist_lock_take();
		t->cred.cap_bnd &= ~(1ull << a[1]);
		tasklist_unlock();
		return 0;
	default:
		return -EINVAL;
	}
}

static long sys_capget(struct task *t, const uint64_t a[6])
{
	struct __user_cap_header_struct h;
	if (copy_from_user(t, &h, a[0], sizeof(h)) < 0)
		return -EFAULT;
	if (h.version != _LINUX_CAPABILITY_VERSION_3 &&
	    h.version != _LINUX_CAPABILITY_VERSION_2) {
		h.version = _LINUX_CAPABILITY_VERSION_3;
		if (copy_to_user(t, a[0], &h, sizeof(h)) < 0)
			return -EFAULT;
		return a[1] ? -EINVAL : 0;
	}
	if (h.pid < 0)
		return -EINVAL;
	/* A thread's own sets (capget names a thread by its tid). */
	struct cred c;
	tasklist_lock_take();
	struct task *o = h.pid ? kernel_find_task(h.pid) : t;
	if (o)
		c = o->cred;
	tasklist_unlock();
	if (!o)
		return -ESRCH;
	if (!a[1])
		return 0;
	struct __user_cap_data_struct d[2] = {
	    {(uint32_t)c.cap_eff, (uint32_t)c.cap_prm, (uint32_t)c.cap_inh},
	    {(uint32_t)(c.cap_eff >> 32), (uint32_t)(c.cap_prm >> 32),
	     (uint32_t)(c.cap_inh >> 32)}};
	return copy_to_user(t, a[1], d, sizeof(d));
}

/* capset: only the caller's own sets, never beyond what it holds (as
 * Linux's cap_capset without CAP_SETPCAP tricks). */
static long sys_capset(struct task *t, const uint64_t a[6])
{
	struct __user_cap_header_struct h;
	if (copy_from_user(t, &h, a[0], sizeof(h)) < 0)
		return -EFAULT;
	if (h.version != _LINUX_CAPABILITY_VERSION_3 &&
	    h.version != _LINUX_CAPABILITY_VERSION_2)
		return -EINVAL;
	if (h.pid != 0 && h.pid != t->tid)
		return -EPERM;
	struct __user_cap_data_struct d[2];
	if (copy_from_user(t, d, a[1], sizeof(d)) < 0)
		return -EFAULT;
	uint64_t eff = d[0].effective | (uint64_t)d[1].effective << 32;
	uint64_t prm = d[0].permitted | (uint64_t)d[1].permitted << 32;
	uint64_t inh = d[0].inheritable | (uint64_t)d[1].inheritable << 32;
	struct cred *c = &t->cred;
	if (prm & ~c->cap_prm)
		return -EPERM;
	if (eff & ~prm)
		return -EPERM;
	if (inh & ~(c->cap_inh | (c->cap_prm & c->cap_bnd)))
		return -EPERM;
	tasklist_lock_take();
	c->cap_eff = eff;
	c->cap_prm = prm;
	c->cap_inh = inh;
	tasklist_unlock();
	return 0;
}

static long sys_getpriority(struct task *t, const uint64_t a[6])
{
	(void)t;
	(void)a;
	return 20; /* nice 0, in the syscall's 40-nice encoding */
}

const struct syscall_def sys_misc_defs[] = {
    {__NR_uname, "uname", sys_uname, "p", NULL},
    {__NR_sethostname, "sethostname", sys_sethostname, "bu", "0b"},
    {__NR_setdomainname, "setdomainname", sys_setdomainname, "bu", "0b"},
    {__NR_getrandom, "getrandom", sys_getrandom, "pux", NULL},
    {__NR_sysinfo, "sysinfo", sys_sysinfo, "p", NULL},
    {__NR_prlimit64, "prlimit64", sys_prlimit64, "ddpp", NULL},
    {__NR_getrlimit, "getrlimit", sys_getrlimit, "dp", NULL},
    {__NR_setrlimit, "setrlimit", sys_setrlimit, "dp", NULL},
    {__NR_arch_prctl, "arch_prctl", sys_arch_prctl, "xx", NULL},
    {__NR_set_tid_address, "set_tid_address", sys_set_tid_address, "p", NULL},
    {__NR_set_robust_list, "set_robust_list", sys_set_robust_list, "pu", NULL},
    {__NR_get_robust_list, "get_robust_list", sys_get_robust_list, "dpp", NULL},
    {__NR_rseq, "rseq", sys_enosys, "pudx", NULL},
    {__NR_futex, "futex", sys_futex, "pxupxx", NULL},
    {__NR_futex_waitv, "futex_waitv", sys_futex_waitv, "pudpd", NULL},
    {__NR_sched_yield, "sched_yield", sys_sched_yield, "", NULL},
    {__NR_sched_getaffinity, "sched_getaffinity", sys_sched_getaffinity, "dup",
     NULL},
    {__NR_sched_setaffinity, "sched_setaffinity", sys_zero, "dup", NULL},
    {__NR_getcpu, "getcpu", sys_getcpu, "ppp", NULL},
    {__NR_personality, "personality", sys_personality, "x", NULL},
    {__NR_prctl, "prctl", sys_prctl, "dxxxx", NULL},
    {__NR_capget, "capget", sys_capget, "pp", NULL},
    {__NR_capset, "capset", sys_capset, "pp", NULL},
    {__NR_getpriority, "getpriority", sys_getpriority, "dd", NULL},
    {__NR_setpriority, "setpriority", sys_zero, "ddd", NULL},
    {__NR_membarrier, "membarrier", sys_enosys, "xx", NULL},
    {-1, NULL, NULL, NULL, NULL},
};
