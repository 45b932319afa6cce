#include "sentry/confine.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <seccomp.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netlink.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "bulkhead/log.h"

static int empty_root(void)
{
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	if (mount("none", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=4k,mode=0500") < 0)
		return -errno;
	if (chdir("/tmp") < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		return -errno;
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return -errno;
	if (mount(NULL, "/", NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV |
		      MS_NOEXEC,
		  NULL) < 0)
		return -errno;
	return 0;
}

/* What the sentry needs after boot, and why:
 *  - I/O on fds it already holds: the gofer socket and donated file fds,
 *    host stdio, eventfds, memfds backing tmpfs files, the control socket;
 *  - ptrace, wait4, tgkill, kill, process_vm_*: the ptrace platform and
 *    usercopy;
 *  - memory and thread management for itself (glibc, pthreads). */
static const int allowed[] = {
    SCMP_SYS(read),
    SCMP_SYS(write),
    SCMP_SYS(readv),
    SCMP_SYS(writev),
    SCMP_SYS(pread64),
    SCMP_SYS(pwrite64),
    SCMP_SYS(preadv),
    SCMP_SYS(preadv2), /* host stdio with RWF_NOWAIT */
    SCMP_SYS(pwritev2),
    SCMP_SYS(pwritev),
    SCMP_SYS(lseek),
    SCMP_SYS(close),
    SCMP_SYS(close_range),
    SCMP_SYS(fstat),
    SCMP_SYS(newfstatat),
    SCMP_SYS(statx),
    SCMP_SYS(fcntl),
    SCMP_SYS(dup),
    SCMP_SYS(dup3),
    SCMP_SYS(ftruncate),
    SCMP_SYS(fallocate),
    SCMP_SYS(fsync),
    SCMP_SYS(fdatasync),
    SCMP_SYS(memfd_create),
    SCMP_SYS(eventfd2),
    SCMP_SYS(poll),
    SCMP_SYS(ppoll),
    SCMP_SYS(epoll_wait), /* the host-fd notifier (created at boot) */
    SCMP_SYS(epoll_pwait),
    SCMP_SYS(epoll_ctl),
    SCMP_SYS(timerfd_settime), /* the timer thread's (created at boot) */
    SCMP_SYS(sendmsg),
    SCMP_SYS(recvmsg),
    SCMP_SYS(sendto),
    SCMP_SYS(recvfrom),
    SCMP_SYS(accept4),
    SCMP_SYS(accept),
    SCMP_SYS(shutdown),
    SCMP_SYS(socketpair),
    SCMP_SYS(getsockopt),
    SCMP_SYS(setsockopt),
    SCMP_SYS(mmap),
    SCMP_SYS(munmap),
    SCMP_SYS(mprotect),
    SCMP_SYS(mremap),
    SCMP_SYS(madvise),
    SCMP_SYS(brk),
    SCMP_SYS(futex),
    SCMP_SYS(clone),
    SCMP_SYS(clone3),
    SCMP_SYS(set_robust_list),
    SCMP_SYS(rseq),
    SCMP_SYS(exit),
    SCMP_SYS(exit_group),
    SCMP_SYS(rt_sigaction),
    SCMP_SYS(rt_sigprocmask),
    SCMP_SYS(rt_sigreturn),
    SCMP_SYS(sigaltstack),
    SCMP_SYS(getpid),
    SCMP_SYS(gettid),
    SCMP_SYS(tgkill),
    SCMP_SYS(kill),
    SCMP_SYS(ptrace),
    SCMP_SYS(wait4),
    SCMP_SYS(waitid),
    SCMP_SYS(process_vm_readv),
    SCMP_SYS(process_vm_writev),
    SCMP_SYS(getrandom),
    SCMP_SYS(clock_gettime),
    SCMP_SYS(clock_nanosleep),
    SCMP_SYS(nanosleep),
    SCMP_SYS(gettimeofday),
    SCMP_SYS(sched_yield),
    SCMP_SYS(sched_getaffinity),
    SCMP_SYS(sysinfo),
    SCMP_SYS(getrusage),
    SCMP_SYS(prctl),
    SCMP_SYS(uname),
    SCMP_SYS(getuid),
    SCMP_SYS(geteuid),
    SCMP_SYS(getgid),
    SCMP_SYS(getegid),
    SCMP_SYS(restart_syscall),
    SCMP_SYS(pipe2),
    SCMP_SYS(prlimit64),
    SCMP_SYS(rt_sigtimedwait),
#ifdef BH_DEBUG
    /* The sanitizer runtime. */
    SCMP_SYS(readlink),
    SCMP_SYS(getppid),
    SCMP_SYS(sched_getparam),
    SCMP_SYS(getrlimit),
#endif
};

/* The guest's inet and netlink sockets (sentry/net/): host sockets in the
 * container's network namespace, which the sentry entered at boot.
 *  - socket: only AF_INET/AF_INET6 streams and datagrams (the inet family
 *    refuses raw ones before this; the filter makes sure) and AF_NETLINK
 *    NETLINK_ROUTE (its dumps answer the guest's netlink reads);
 *  - bind, connect, listen, getsockname, getpeername: on those sockets
 *    (accept4, send/recvmsg, {get,set}sockopt, shutdown are above);
 *  - ioctl: the read-only queries of sentry/net/inet/inet_ioctl.c (queue
 *    sizes, interface flags, addresses, names; no SIOCS*). */
static int net_seccomp_rules(scmp_filter_ctx ctx)
{
	const int fams[] = {AF_INET, AF_INET6};
	const int types[] = {SOCK_STREAM, SOCK_DGRAM};
	int r = 0;
	for (size_t f = 0; f < 2 && !r; f++)
		for (size_t k = 0; k < 2 && !r; k++)
			r = seccomp_rule_add(
			    ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
			    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)fams[f]),
			    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xf,
				    (scmp_datum_t)types[k]));
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 2,
				     SCMP_A0(SCMP_CMP_EQ, AF_NETLINK),
				     SCMP_A2(SCMP_CMP_EQ, NETLINK_ROUTE));
	const int calls[] = {SCMP_SYS(bind), SCMP_SYS(connect),
			     SCMP_SYS(listen), SCMP_SYS(getsockname),
			     SCMP_SYS(getpeername)};
	for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]) && !r; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, calls[i], 0);
	const unsigned long ioctls[] = {
	    SIOCINQ,	    SIOCOUTQ,	    SIOCOUTQNSD,    SIOCATMARK,
	    SIOCGSTAMP,	    SIOCGIFCONF,    SIOCGIFFLAGS,   SIOCGIFADDR,
	    SIOCGIFDSTADDR, SIOCGIFBRDADDR, SIOCGIFNETMASK, SIOCGIFMETRIC,
	    SIOCGIFMTU,	    SIOCGIFHWADDR,  SIOCGIFINDEX,   SIOCGIFNAME,
	    SIOCGIFTXQLEN,
	};
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]) && !r; i++)
		if (ioctls[i] != FIONREAD) /* already allowed */
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW,
					     SCMP_SYS(ioctl), 1,
					     SCMP_A1(SCMP_CMP_EQ, ioctls[i]));
	return r;
}

static int install_seccomp(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	int r = 0;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && !r; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* ioctl only for the terminal queries forwarded from guest stdio. */
	/* And PIDFD_GET_INFO (_IOWR(0xFF, 11, 64 bytes)): the host pid of
	 * a stub's clone (systrap). */
	const unsigned long ioctls[] = {TCGETS,	  TIOCGWINSZ, TIOCGPGRP,
					FIONREAD, FIONBIO,    0xc040ff0bUL};
	for (size_t i = 0; i < sizeof(ioctls) / sizeof(ioctls[0]) && !r; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
				     SCMP_A1(SCMP_CMP_EQ, ioctls[i]));
	/* libc probes files on its own (malloc reads the number of CPUs from
	 * /sys when a thread first allocates): there is nothing to open in
	 * the empty root, so opening fails cleanly instead of killing. */
	if (!r)
		r = net_seccomp_rules(ctx);
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
				     SCMP_SYS(openat), 0);
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES),
				     SCMP_SYS(open), 0);
	/* Every thread, including those started before (the notifier, the
	 * timer, the signal thread): without TSYNC a filter binds only the
	 * thread that loads it. */
	if (!r)
		r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (!r)
		r = seccomp_load(ctx);
	seccomp_release(ctx);
	return r;
}

int sentry_confine(void)
{
	int r = empty_root();
	if (r < 0) {
		bh_error("sentry: entering an empty root: %s", strerror(-r));
		return r;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	r = install_seccomp();
	if (r < 0)
		bh_error("sentry: seccomp: %s", strerror(-r));
	return r;
}
