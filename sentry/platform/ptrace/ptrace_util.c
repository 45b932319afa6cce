#include "sentry/platform/ptrace/ptrace_util.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "sentry/stub/stub.h"

static const long ptu_opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL |
			     PTRACE_O_TRACECLONE | PTRACE_O_TRACEFORK |
			     PTRACE_O_TRACEVFORK;

static int ptu_wait(pid_t tid, int *status)
{
	for (;;) {
		pid_t r = waitpid(tid, status, __WALL);
		if (r == tid)
			break;
		if (r < 0 && errno != EINTR)
			return -errno;
	}
	if (WIFEXITED(*status) || WIFSIGNALED(*status))
		return -ESRCH;
	return 0;
}

int ptu_getregs(pid_t tid, plat_regs *regs)
{
	return ptrace(PTRACE_GETREGS, tid, 0, regs) < 0 ? -errno : 0;
}

int ptu_setregs(pid_t tid, plat_regs *regs)
{
	regs->orig_rax = (unsigned long)-1;
	return ptrace(PTRACE_SETREGS, tid, 0, regs) < 0 ? -errno : 0;
}

int ptu_detach(pid_t tid)
{
	return ptrace(PTRACE_DETACH, tid, 0, 0) < 0 ? -errno : 0;
}

static int ptu_seize(pid_t tid)
{
	if (ptrace(PTRACE_SEIZE, tid, 0, ptu_opts) < 0)
		return -errno;
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0) < 0)
		return -errno;
	return 0;
}

int ptu_attach(pid_t tid)
{
	int r = ptu_seize(tid);
	if (r < 0)
		return r;
	int status;
	return ptu_wait(tid, &status);
}

/* A fresh stub loops on kill(getpid(), SIGSTOP). Wait for one of those
 * SIGSTOPs to arrive as a signal-delivery stop inside the stub: resuming
 * from there with no signal swallows it, so none is left pending to stop
 * the whole stub once the tracer lets go. */
int ptu_attach_in_stub(pid_t tid)
{
	int r = ptu_seize(tid);
	if (r < 0)
		return r;
	for (int tries = 0; tries < 10000; tries++) {
		int status;
		r = ptu_wait(tid, &status);
		if (r < 0)
			return r;
		plat_regs regs;
		r = ptu_getregs(tid, &regs);
		if (r < 0)
			return r;
		bool in_stub = regs.rip >= STUB_BASE && regs.rip < STUB_END;
		if (in_stub && (status >> 16) == 0 &&
		    WSTOPSIG(status) == SIGSTOP) {
			/* An earlier SIGSTOP may have completed a group stop:
			 * that state outlives tracing and would stop the stub
			 * again at detach. SIGCONT clears it when sent; the
			 * SIGCONT itself is swallowed at the next resume. */
			kill(tid, SIGCONT);
			return 0;
		}
		if (ptrace(PTRACE_CONT, tid, 0, 0) < 0)
			return -errno;
	}
	return -EIO;
}

int ptu_wait_new_child(pid_t child)
{
	int status;
	return ptu_wait(child, &status);
}

long ptu_call(pid_t tid, uint64_t gate, uint64_t sp, uint64_t trap_rip, long nr,
	      const long a[6], pid_t *child, bool *intr)
{
	plat_regs regs;
	int r = ptu_getregs(tid, &regs);
	if (r < 0)
		return r;
	regs.rip = gate;
	if (sp)
		regs.rsp = sp;
	regs.rax = (unsigned long)nr;
	regs.rdi = (unsigned long)a[0];
	regs.rsi = (unsigned long)a[1];
	regs.rdx = (unsigned long)a[2];
	regs.r10 = (unsigned long)a[3];
	regs.r8 = (unsigned long)a[4];
	regs.r9 = (unsigned long)a[5];
	r = ptu_setregs(tid, &regs);
	if (r < 0)
		return r;
	for (;;) {
		if (ptrace(PTRACE_CONT, tid, 0, 0) < 0)
			return -errno;
		int status;
		r = ptu_wait(tid, &status);
		if (r < 0)
			return r;
		int event = status >> 16;
		if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_CLONE ||
		    event == PTRACE_EVENT_VFORK) {
			unsigned long msg = 0;
			ptrace(PTRACE_GETEVENTMSG, tid, 0, &msg);
			if (child)
				*child = (pid_t)msg;
			continue;
		}
		if (event != 0)
			continue; /* PTRACE_EVENT_STOP: group stop, interrupt */
		if (WSTOPSIG(status) == SIGTRAP) {
			r = ptu_getregs(tid, &regs);
			if (r < 0)
				return r;
			if (regs.rip == trap_rip)
				return (long)regs.rax;
			return -EFAULT; /* not our int3: nothing sane to do */
		}
		/* A fault of what we made it run (an atomic op on a guest
		 * word the guest unmapped): it is never delivered. */
		if (WSTOPSIG(status) == SIGSEGV || WSTOPSIG(status) == SIGBUS)
			return -EFAULT;
		/* Another host signal (the sentry's kick) while the task is in
		 * the sentry anyway: swallowed; the caller may remember it. */
		if (intr)
			*intr = true;
	}
}

long ptu_sys_gate_call(pid_t tid, pid_t pid, long nr, long a0, long a1, long a2,
		       long a3, long a4, long a5, pid_t *child)
{
	/* "syscall; ret" returns through a stack whose top holds the
	 * address of an int3, in the stub's scratch page. */
	const uint64_t sp = STUB_SCRATCH + STUB_SCRATCH_SIZE - 64;
	uint64_t ret_addr = STUB_TRAP;
	struct iovec l = {&ret_addr, sizeof(ret_addr)},
		     rm = {(void *)sp, sizeof(ret_addr)};
	if (process_vm_writev(pid, &l, 1, &rm, 1, 0) != sizeof(ret_addr))
		return -EFAULT;
	const long a[6] = {a0, a1, a2, a3, a4, a5};
	return ptu_call(tid, STUB_SYS_GATE, sp, STUB_TRAP + 1, nr, a, child,
			NULL);
}
