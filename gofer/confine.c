#include "gofer/confine.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bulkhead/log.h"

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

int gofer_confine_fds(const int *keep, unsigned nkeep)
{
	int sorted[nkeep + 1];
	unsigned n = 0;
	for (unsigned i = 0; i < nkeep; i++)
		if (keep[i] >= 0)
			sorted[n++] = keep[i];
	qsort(sorted, n, sizeof(int), cmp_int);

	/* 0-2 become /dev/null rather than holes, so that no later fd takes
	 * a number some library might write to. */
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return -errno;
	for (int fd = 0; fd < 3; fd++) {
		if (bsearch(&fd, sorted, n, sizeof(int), cmp_int))
			continue;
		if (dup2(null, fd) < 0) {
			int r = -errno;
			close(null);
			return r;
		}
	}
	close(null);

	unsigned lo = 3;
	for (unsigned i = 0; i <= n; i++) {
		unsigned hi = i < n ? (unsigned)sorted[i] : ~0u;
		if (hi < lo) /* fds 0-2 or duplicates */
			continue;
		if (hi > lo && close_range(lo, hi - 1, 0) < 0)
			return -errno;
		lo = hi + 1;
		if (i == n)
			break;
	}
	return 0;
}

static int confine_root(const char *root, int root_fd)
{
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	/* Nothing done here may propagate back to the host. */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	/* pivot_root needs a mount point; a recursive self-bind makes one
	 * without touching anything inside the rootfs. */
	if (mount(root, root, NULL, MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	if (chdir(root) < 0)
		return -errno;
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return -errno;
	if (umount2(".", MNT_DETACH) < 0)
		return -errno;
	if (chdir("/") < 0)
		return -errno;
	struct stat a, b;
	if (stat("/", &a) < 0 || fstat(root_fd, &b) < 0)
		return -errno;
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return -ESTALE;
	return 0;
}

/* Serving files as their owners needs to bypass permission checks and set
 * owners, nothing more: CHOWN (owners of new files, setattr), DAC_OVERRIDE
 * (read/write/search regardless of mode), FOWNER (chmod, utimes, O_NOATIME
 * on files the gofer does not own), FSETID (keep set-id bits on chmod and
 * writes). Not DAC_READ_SEARCH: DAC_OVERRIDE covers directory reads, and it
 * is the capability behind open_by_handle_at escapes. Not MKNOD: there is
 * no MKNOD op, the sentry emulates device and fifo nodes. */
static const cap_value_t keep_caps[] = {CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER,
					CAP_FSETID};

int gofer_confine_caps(void)
{
	cap_t cur = cap_get_proc();
	cap_t want = cap_init();
	int r = 0;
	if (!cur || !want) {
		r = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < sizeof(keep_caps) / sizeof(keep_caps[0]);
	     i++) {
		cap_flag_value_t v = CAP_CLEAR;
		cap_get_flag(cur, keep_caps[i], CAP_PERMITTED, &v);
		if (v != CAP_SET)
			continue;
		cap_set_flag(want, CAP_PERMITTED, 1, &keep_caps[i], CAP_SET);
		cap_set_flag(want, CAP_EFFECTIVE, 1, &keep_caps[i], CAP_SET);
	}
	/* The bounding set first, while CAP_SETPCAP is still held. */
	for (int c = 0; c <= cap_max_bits() - 1; c++) {
		bool kept = false;
		for (unsigned i = 0;
		     i < sizeof(keep_caps) / sizeof(keep_caps[0]); i++)
			kept |= keep_caps[i] == c;
		if (!kept && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 &&
		    errno != EINVAL && errno != EPERM) {
			r = -errno;
			goto out;
		}
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (cap_set_proc(want) < 0)
		r = -errno;
out:
	if (cur)
		cap_free(cur);
	if (want)
		cap_free(want);
	return r;
}

#ifndef __NR_fchmodat2
#define __NR_fchmodat2 452
#endif

/* Exactly what the serve loop (and libc under it) calls. */
static const char *const allowed[] = {
    "recvmsg",
    "sendmsg",
    "close",
    "openat",
    "openat2",
    "newfstatat",
    "fstat",
    "statx",
    "fstatfs",
    "lseek",
    "getdents64",
    "mkdirat",
    "mknodat", /* FIFOs and socket nodes only: gofer_op_mknod checks, and
		* no CAP_MKNOD is kept for anything else */
    "symlinkat",
    "linkat",
    "unlinkat",
    "renameat",
    "renameat2",
    "readlinkat",
    "ftruncate",
    "fchmod",
    "fchmodat",
    "fchown",
    "fchownat",
    "utimensat",
    "fcntl",
    "write",
    "exit",
    "exit_group",
    "brk",
    "mmap",
    "munmap",
    "mremap",
    "madvise",
    "rt_sigreturn",
    "rt_sigprocmask",
    "clock_gettime",
    "gettimeofday",
    "getpid",
    "gettid",
    "tgkill",
    "futex",
    "getrandom",
    "restart_syscall",
#ifdef BH_DEBUG
    /* ASan/UBSan runtime. */
    "sigaltstack",
    "sched_yield",
    "readlink",
    "prlimit64",
    "getrlimit",
    "rt_sigaction",
    "pread64",
    "read",
    "open",
#endif
};

int gofer_confine_seccomp(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	int r = 0;
	for (unsigned i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);
		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r < 0)
			goto out;
	}
	/* Too new for some libseccomp versions to know by name. */
	r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, __NR_fchmodat2, 0);
	if (r < 0)
		goto out;
	r = seccomp_load(ctx);
out:
	seccomp_release(ctx);
	return r;
}

int gofer_confine(const char *root, int root_fd, const int *keep,
		  unsigned nkeep)
{
	int r = gofer_confine_fds(keep, nkeep);
	if (r) {
		bh_error("gofer: closing fds: %s", strerror(-r));
		return r;
	}
	r = confine_root(root, root_fd);
	if (r) {
		bh_error("gofer: pivot into %s: %s", root, strerror(-r));
		return r;
	}
	r = gofer_confine_caps();
	if (r) {
		bh_error("gofer: dropping capabilities: %s", strerror(-r));
		return r;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
		r = -errno;
		bh_error("gofer: prctl: %s", strerror(-r));
		return r;
	}
	r = gofer_confine_seccomp();
	if (r)
		bh_error("gofer: seccomp: %s", strerror(-r));
	return r;
}
