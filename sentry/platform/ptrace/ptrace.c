/* The ptrace platform: each guest thread is a host thread of a stub process,
 * traced by the sentry thread that serves it. PTRACE_SYSEMU stops the guest
 * at every syscall without running it; the sentry then emulates it. Host
 * syscalls the sentry needs inside the stub (mmap, clone, recvmsg…) are run
 * by pointing the stopped thread at the stub's "syscall; int3" gate.
 *
 * Guest syscalls never reach the host kernel here: under SYSEMU the kernel
 * skips the syscall before seccomp would even see it. The stub's own seccomp
 * filter therefore only has to allow what the gate runs, from the gate. */
#include <elf.h>
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bulkhead/log.h"
#include "sentry/kernel/lock.h"
#include "sentry/platform/platform.h"
#include "sentry/platform/ptrace/ptrace_util.h"
#include "sentry/platform/stubmaster.h"
#include "sentry/stub/stub.h"

#define INTR_SIGNAL SIGUSR2 /* host signal that kicks a running guest */

/* Guards ptrace_stub.nthreads: release runs without the kernel lock. */
static pthread_mutex_t stub_lock = PTHREAD_MUTEX_INITIALIZER;

struct ptrace_stub {
	pid_t pid;
	int nthreads;
	struct stub_chan *chan; /* its fd channel (stubmaster.h) */
};

struct plat_thread {
	pid_t tid;
	struct ptrace_stub *stub;
	bool needs_filter; /* fresh from spawn: install the stub filter */
	bool exited;
	atomic_bool pending_intr; /* an interrupt was swallowed meanwhile */
};

static int pt_init(int stub_memfd)
{
	return stubmaster_init(stub_memfd);
}

static int pt_wait(struct plat_thread *pt, int *status)
{
	for (;;) {
		pid_t r = waitpid(pt->tid, status, __WALL);
		if (r == pt->tid)
			break;
		if (r < 0 && errno != EINTR) {
			pt->exited = true;
			return -errno;
		}
	}
	if (WIFEXITED(*status) || WIFSIGNALED(*status)) {
		pt->exited = true;
		return -ESRCH;
	}
	return 0;
}

static int pt_spawn(struct plat_thread **out)
{
	struct plat_thread *pt = calloc(1, sizeof(*pt));
	struct ptrace_stub *st = calloc(1, sizeof(*st));
	struct stub_chan *ch = stub_chan_new();
	pid_t pid = pt && st && ch ? stubmaster_spawn(ch) : -ENOMEM;
	if (pid < 0) {
		free(pt);
		free(st);
		stub_chan_put(ch);
		return pid;
	}
	st->chan = ch;
	st->pid = pid;
	st->nthreads = 1;
	pt->tid = pid;
	pt->stub = st;
	pt->needs_filter = true;
	*out = pt;
	return 0;
}

static long pt_inject(struct plat_thread *pt, long nr, long a0, long a1,
		      long a2, long a3, long a4, long a5, pid_t *child);
static int pt_getregs(struct plat_thread *pt, plat_regs *regs);

/* The stub's seccomp filter: only the gate may make syscalls, and only
 * those the sentry injects. Everything else kills the stub process. */
static int pt_install_filter(struct plat_thread *pt)
{
	/* clock_gettime: a thread's own CPU time, read for the sentry. */
	static const int allowed[] = {
	    __NR_mmap,	__NR_mprotect, __NR_munmap,	__NR_mremap,
	    __NR_msync, __NR_madvise,  __NR_clone,	__NR_recvmsg,
	    __NR_close, __NR_exit,     __NR_exit_group, __NR_clock_gettime,
	};
	enum {
		N = sizeof(allowed) / sizeof(allowed[0]),
		KILL = 7 + N,
		ALLOW = 8 + N,
		TOTAL = 9 + N
	};
	const uint32_t ip_lo = (uint32_t)STUB_GATE_RET;
	const uint32_t ip_hi = (uint32_t)(STUB_GATE_RET >> 32);
	struct sock_filter prog[TOTAL];
	int i = 0;
#define LD(off)                                                                \
	prog[i] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, off), \
	i++
#define JEQ(k, t, f)                                                           \
	prog[i] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, k,   \
					       (uint8_t)(t), (uint8_t)(f)),    \
	i++
	LD(offsetof(struct seccomp_data, arch));
	JEQ(AUDIT_ARCH_X86_64, 0, KILL - i - 1);
	LD(offsetof(struct seccomp_data, instruction_pointer));
	JEQ(ip_lo, 0, KILL - i - 1);
	LD(offsetof(struct seccomp_data, instruction_pointer) + 4);
	JEQ(ip_hi, 0, KILL - i - 1);
	LD(offsetof(struct seccomp_data, nr));
	for (int k = 0; k < N; k++)
		JEQ((uint32_t)allowed[k], ALLOW - i - 1, 0);
	prog[i++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						 SECCOMP_RET_KILL_PROCESS);
	prog[i++] =
	    (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
#undef LD
#undef JEQ
	struct sock_fprog fprog = {.len = TOTAL,
				   .filter = (void *)(STUB_SCRATCH + 64)};
	struct iovec local[2] = {{&fprog, sizeof(fprog)}, {prog, sizeof(prog)}};
	struct iovec remote[2] = {{(void *)STUB_SCRATCH, sizeof(fprog)},
				  {(void *)(STUB_SCRATCH + 64), sizeof(prog)}};
	ssize_t n = process_vm_writev(pt->tid, local, 2, remote, 2, 0);
	if (n != (ssize_t)(sizeof(fprog) + sizeof(prog)))
		return -EFAULT;
	long r = pt_inject(pt, __NR_seccomp, SECCOMP_SET_MODE_FILTER, 0,
			   (long)STUB_SCRATCH, 0, 0, 0, NULL);
	return r < 0 ? (int)r : 0;
}

/* Wait for the first stop after attaching. Any kind of stop will do: the
 * sentry sets every register before the thread runs again. */
static int pt_adopt(struct plat_thread *pt)
{
	int r = pt->needs_filter ? ptu_attach_in_stub(pt->tid)
				 : ptu_attach(pt->tid);
	if (r < 0)
		return r;
	if (pt->needs_filter) {
		r = pt_install_filter(pt);
		if (r < 0) {
			bh_error("ptrace: installing the stub filter: %s",
				 strerror(-r));
			return r;
		}
		pt->needs_filter = false;
	}
	return 0;
}

static int pt_getregs(struct plat_thread *pt, plat_regs *regs)
{
	return ptu_getregs(pt->tid, regs);
}

/* orig_rax = -1 (ptu_setregs): the host kernel must not apply its own
 * syscall restart logic to what is, for it, no syscall at all. */
static int pt_setregs(struct plat_thread *pt, plat_regs *regs)
{
	return ptu_setregs(pt->tid, regs);
}

/* Run one host syscall at the gate ("syscall; int3"). */
static long pt_inject(struct plat_thread *pt, long nr, long a0, long a1,
		      long a2, long a3, long a4, long a5, pid_t *child)
{
	lock_might_block("a stub syscall");
	if (pt->exited)
		return -ESRCH;
	const long a[6] = {a0, a1, a2, a3, a4, a5};
	bool intr = false;
	long r =
	    ptu_call(pt->tid, STUB_GATE, 0, STUB_GATE + 3, nr, a, child, &intr);
	if (intr)
		atomic_store(&pt->pending_intr, true);
	if (r == -ESRCH)
		pt->exited = true;
	return r;
}

static long pt_syscall(struct plat_thread *pt, long nr, long a0, long a1,
		       long a2, long a3, long a4, long a5)
{
	return pt_inject(pt, nr, a0, a1, a2, a3, a4, a5, NULL);
}

static bool is_fault_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE ||
	       sig == SIGILL || sig == SIGTRAP;
}

static int pt_run(struct plat_thread *pt, plat_regs *regs,
		  struct plat_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (atomic_exchange(&pt->pending_intr, false)) {
		ev->kind = PLAT_EV_INTERRUPT;
		return 0;
	}
	if (pt->exited) {
		ev->kind = PLAT_EV_EXITED;
		return 0;
	}
	int r = pt_setregs(pt, regs);
	if (r < 0)
		goto gone;
	for (;;) {
		if (ptrace(PTRACE_SYSEMU, pt->tid, 0, 0) < 0) {
			r = -errno;
			goto gone;
		}
		int status;
		r = pt_wait(pt, &status);
		if (r < 0)
			goto gone;
		int event = status >> 16;
		int sig = WSTOPSIG(status);
		if (pt_getregs(pt, regs) < 0)
			goto gone;
		if (sig == (SIGTRAP | 0x80)) {
			ev->kind = PLAT_EV_SYSCALL;
			return 0;
		}
		if (event != 0) {
			ev->kind = PLAT_EV_INTERRUPT;
			return 0;
		}
		if (is_fault_signal(sig)) {
			siginfo_t si;
			if (ptrace(PTRACE_GETSIGINFO, pt->tid, 0, &si) == 0 &&
			    si.si_code > 0) {
				ev->kind = PLAT_EV_FAULT;
				ev->si = si;
				return 0;
			}
		}
		atomic_store(&pt->pending_intr, false);
		ev->kind = PLAT_EV_INTERRUPT;
		return 0;
	}
gone:
	(void)r;
	pt->exited = true;
	ev->kind = PLAT_EV_EXITED;
	return 0;
}

static int pt_clone(struct plat_thread *pt, unsigned long flags,
		    struct plat_thread **out)
{
	bool thread = flags & CLONE_THREAD;
	/* CLONE_VM alone: a new stub process sharing this one's memory
	 * (vfork); it gets its own stub at exec. */
	unsigned long hflags =
	    thread ? (CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_FILES |
		      CLONE_FS | CLONE_SYSVSEM)
		   : (CLONE_PARENT | SIGCHLD | (flags & CLONE_VM));
	struct plat_thread *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	pid_t child = 0;
	long r = pt_inject(pt, __NR_clone, (long)hflags, 0, 0, 0, 0, 0, &child);
	if (r < 0 || child <= 0) {
		free(c);
		return r < 0 ? (int)r : -EAGAIN;
	}
	c->tid = child;
	/* The child was attached to us automatically and starts stopped. Park
	 * it (no syscall, no trap) and let go: its own sentry thread attaches
	 * next, since a tracer is one host thread. */
	int status;
	int w;
	do {
		w = waitpid(child, &status, __WALL);
	} while (w < 0 && errno == EINTR);
	plat_regs regs;
	if (w != child || !WIFSTOPPED(status) || pt_getregs(c, &regs) < 0) {
		kill(child, SIGKILL);
		free(c);
		return -EAGAIN;
	}
	if (thread) {
		c->stub = pt->stub;
		pthread_mutex_lock(&stub_lock);
		pt->stub->nthreads++;
		pthread_mutex_unlock(&stub_lock);
	} else {
		c->stub = calloc(1, sizeof(*c->stub));
		if (!c->stub) {
			kill(child, SIGKILL);
			free(c);
			return -ENOMEM;
		}
		c->stub->pid = child;
		c->stub->nthreads = 1;
		/* Children share their parent's fd channel: under ptrace no
		 * guest syscall ever runs on the host (SYSEMU skips them all),
		 * so only the sentry receives on it, under the kernel lock.
		 * (systrap, where the guest can reach its gate, gives every
		 * process its own.) */
		c->stub->chan = pt->stub->chan;
		stub_chan_get(c->stub->chan);
	}
	regs.rip = STUB_PARK;
	pt_setregs(c, &regs);
	if (ptrace(PTRACE_DETACH, child, 0, 0) < 0) {
		kill(child, SIGKILL);
		if (!thread) {
			stub_chan_put(c->stub->chan);
			free(c->stub);
		} else {
			pthread_mutex_lock(&stub_lock);
			pt->stub->nthreads--;
			pthread_mutex_unlock(&stub_lock);
		}
		free(c);
		return -EAGAIN;
	}
	*out = c;
	return 0;
}

/* The size of NT_X86_XSTATE (the kernel takes it whole or not at all),
 * learnt from the first read; 0: only the legacy area, through
 * GETFPREGS (no XSAVE in frames, or a regset larger than a plat_fpregs). */
#define XSTATE_UNKNOWN UINT32_MAX
static _Atomic uint32_t xstate_len = XSTATE_UNKNOWN;

static uint32_t xstate_regset_len(pid_t tid)
{
	uint32_t len = atomic_load(&xstate_len);
	if (len != XSTATE_UNKNOWN)
		return len;
	uint8_t probe[4 * PLAT_FP_MAX] __attribute__((aligned(64)));
	struct iovec iov = {probe, sizeof(probe)};
	len = 0;
	if (plat_fp.size > PLAT_FP_HDR &&
	    ptrace(PTRACE_GETREGSET, tid, NT_X86_XSTATE, &iov) == 0 &&
	    iov.iov_len >= plat_fp.size && iov.iov_len <= PLAT_FP_MAX)
		len = (uint32_t)iov.iov_len;
	atomic_store(&xstate_len, len);
	return len;
}

static int pt_get_fpregs(struct plat_thread *pt, plat_fpregs *fp)
{
	uint32_t len = xstate_regset_len(pt->tid);
	if (len) {
		struct iovec iov = {fp->b, len};
		return ptrace(PTRACE_GETREGSET, pt->tid, NT_X86_XSTATE, &iov) <
			       0
			   ? -errno
			   : 0;
	}
	struct user_fpregs_struct u;
	if (ptrace(PTRACE_GETFPREGS, pt->tid, 0, &u) < 0)
		return -errno;
	memcpy(fp->b, &u, sizeof(u));
	if (plat_fp.size > PLAT_FP_HDR) {
		/* x87 and SSE only; the rest reads as its init state. */
		memset(fp->b + PLAT_FP_HDR, 0, plat_fp.size - PLAT_FP_HDR);
		const uint64_t bv = 3;
		memcpy(fp->b + PLAT_FP_HDR, &bv, 8);
	}
	return 0;
}

static int pt_set_fpregs(struct plat_thread *pt, const plat_fpregs *fp)
{
	uint32_t len = xstate_regset_len(pt->tid);
	if (len) {
		/* The kernel only reads it. */
		struct iovec iov = {(void *)fp->b, len};
		return ptrace(PTRACE_SETREGSET, pt->tid, NT_X86_XSTATE, &iov) <
			       0
			   ? -errno
			   : 0;
	}
	struct user_fpregs_struct u;
	memcpy(&u, fp->b, sizeof(u));
	return ptrace(PTRACE_SETFPREGS, pt->tid, 0, &u) < 0 ? -errno : 0;
}

static void pt_interrupt(struct plat_thread *pt)
{
	atomic_store(&pt->pending_intr, true);
	syscall(SYS_tgkill, pt->stub->pid, pt->tid, INTR_SIGNAL);
}

static void pt_release(struct plat_thread *pt)
{
	struct ptrace_stub *st = pt->stub;
	pthread_mutex_lock(&stub_lock);
	bool last = st->nthreads <= 1;
	pthread_mutex_unlock(&stub_lock);
	if (!pt->exited) {
		if (last) {
			kill(st->pid, SIGKILL);
			int status;
			while (!pt->exited && pt_wait(pt, &status) == 0)
				if (WIFSTOPPED(status))
					ptrace(PTRACE_CONT, pt->tid, 0, 0);
		} else {
			/* One thread of several: point it at exit(2) in the
			 * gate and let go. A leader's exit is not reported
			 * while other threads live, and a tracer that ends
			 * with a tracee attached kills the whole group. */
			plat_regs regs;
			if (pt_getregs(pt, &regs) == 0) {
				regs.rip = STUB_GATE;
				regs.rax = __NR_exit;
				regs.rdi = 0;
				pt_setregs(pt, &regs);
			}
			ptrace(PTRACE_DETACH, pt->tid, 0, 0);
		}
	}
	pthread_mutex_lock(&stub_lock);
	bool free_stub = --st->nthreads <= 0;
	pthread_mutex_unlock(&stub_lock);
	if (free_stub) {
		stub_chan_put(st->chan);
		free(st);
	}
	free(pt);
}

/* The thread's own tid: it is alive while served, the leader may not be. */
static pid_t pt_host_pid(struct plat_thread *pt)
{
	return pt->tid;
}

/* Receive one fd from the sentry's socket into the stub's fd table, with a
 * recvmsg run at the gate on a msghdr built in the stub's scratch page. */
static int pt_install_fd(struct plat_thread *pt, int fd)
{
	struct stub_fd_msg s;
	const uint64_t base = STUB_SCRATCH;
	stub_fd_msg_init(&s, base, -1);
	struct iovec l = {&s, sizeof(s)}, rm = {(void *)base, sizeof(s)};
	if (process_vm_writev(pt->tid, &l, 1, &rm, 1, 0) != (ssize_t)sizeof(s))
		return -EFAULT;
	/* The channel is shared with forked processes: one exchange at a
	 * time. */
	struct stub_chan *ch = pt->stub->chan;
	kmutex_lock(&ch->lock);
	int r = stubmaster_send_fd(ch, fd);
	if (r < 0) {
		kmutex_unlock(&ch->lock);
		return r;
	}
	long n = pt_inject(pt, __NR_recvmsg, STUB_FD_SOCK, (long)base,
			   MSG_CMSG_CLOEXEC | MSG_DONTWAIT, 0, 0, 0, NULL);
	if (n != 1)
		stubmaster_flush_fd(ch);
	kmutex_unlock(&ch->lock);
	if (n != 1)
		return n < 0 ? (int)n : -EIO;
	if (process_vm_readv(pt->tid, &l, 1, &rm, 1, 0) != (ssize_t)sizeof(s))
		return -EFAULT;
	return stub_fd_msg_fd(&s);
}

static int pt_atomic32(struct plat_thread *pt, uint64_t addr, int op,
		       uint32_t arg, uint32_t cmp, uint32_t *old)
{
	lock_might_block("a stub atomic");
	if (pt->exited)
		return -ESRCH;
	/* The routine's call needs a stack: the scratch page's top. */
	const long a[6] = {(long)addr, op, arg, cmp, 0, 0};
	bool intr = false;
	long r = ptu_call(pt->tid, STUB_ATOMIC_ENTRY,
			  STUB_SCRATCH + STUB_SCRATCH_SIZE - 128,
			  STUB_ATOMIC_ENTRY + 6, 0, a, NULL, &intr);
	if (intr)
		atomic_store(&pt->pending_intr, true);
	if (r == -ESRCH)
		pt->exited = true;
	if (r < 0)
		return r == -22 ? -EINVAL : -EFAULT;
	*old = (uint32_t)r;
	return 0;
}

static int pt_thread_cputime(struct plat_thread *pt, uint64_t *ns)
{
	long r = pt_inject(pt, __NR_clock_gettime, CLOCK_THREAD_CPUTIME_ID,
			   (long)STUB_SCRATCH, 0, 0, 0, 0, NULL);
	if (r < 0)
		return (int)r;
	struct timespec ts;
	struct iovec l = {&ts, sizeof(ts)},
		     rm = {(void *)STUB_SCRATCH, sizeof(ts)};
	if (process_vm_readv(pt->tid, &l, 1, &rm, 1, 0) != sizeof(ts))
		return -EFAULT;
	*ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return 0;
}

const struct plat_ops plat_ptrace_ops = {
    .name = "ptrace",
    .fresh_threads = true,
    .init = pt_init,
    .spawn = pt_spawn,
    .adopt = pt_adopt,
    .run = pt_run,
    .syscall = pt_syscall,
    .clone = pt_clone,
    .get_fpregs = pt_get_fpregs,
    .set_fpregs = pt_set_fpregs,
    .interrupt = pt_interrupt,
    .release = pt_release,
    .host_pid = pt_host_pid,
    .install_fd = pt_install_fd,
    .atomic32 = pt_atomic32,
    .thread_cputime = pt_thread_cputime,
};
