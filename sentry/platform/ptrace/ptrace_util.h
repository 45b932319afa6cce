/* ptrace steps shared by the platforms: the systrap platform uses ptrace
 * only to set up a fresh stub and to clone one (where the host pid of the
 * child is needed), never on the syscall path. All take host tids/pids as
 * the sentry sees them, and the caller is (or becomes) the tracer. */
#ifndef BULKHEAD_PTRACE_UTIL_H
#define BULKHEAD_PTRACE_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "sentry/platform/platform.h"

/* Attach and wait until tid is stopped with rip inside the stub. */
int ptu_attach_in_stub(pid_t tid);
/* Attach and wait for any stop (a stub thread busy in its own code). */
int ptu_attach(pid_t tid);
int ptu_getregs(pid_t tid, plat_regs *regs);
int ptu_setregs(pid_t tid, plat_regs *regs);
int ptu_detach(pid_t tid);
/* Run one host syscall in the stopped tid: point it at gate (with rsp =
 * sp unless 0) and continue until the int3 that leaves rip at trap_rip.
 * Clone events store the child's host tid in *child; other signals are
 * swallowed and noted in *intr. Returns the syscall's result. */
long ptu_call(pid_t tid, uint64_t gate, uint64_t sp, uint64_t trap_rip, long nr,
	      const long a[6], pid_t *child, bool *intr);
/* Run one host syscall in the stopped tid through the systrap gate
 * ("syscall; ret" returning to an int3): pid is its process (for the
 * scratch stack). *child gets the host tid of a clone's child. */
long ptu_sys_gate_call(pid_t tid, pid_t pid, long nr, long a0, long a1, long a2,
		       long a3, long a4, long a5, pid_t *child);
/* Wait for the first stop of a child attached by a clone event. */
int ptu_wait_new_child(pid_t child);

#endif
