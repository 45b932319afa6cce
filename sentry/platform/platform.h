/* The one interface between the guest kernel and the mechanism that runs
 * guest code. Nothing above sentry/platform/ knows which mechanism is in use,
 * and nothing outside it calls ptrace().
 *
 * A "plat_thread" is one guest thread: a host thread of a stub process. It is
 * owned by exactly one sentry thread at a time (the one that serves it); every
 * call taking a plat_thread must come from its owner, except
 * plat_thread_interrupt() which any thread may call.
 */
#ifndef BULKHEAD_PLATFORM_H
#define BULKHEAD_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/user.h>

struct plat_thread;

/* Guest register state: the x86-64 user_regs_struct, including fs_base. */
typedef struct user_regs_struct plat_regs;

/* Guest FPU state: an XSAVE image in the standard (non-compacted) format,
 * laid out as a signal frame's fpstate is: the legacy FXSAVE area (512
 * bytes; its sw_reserved part, bytes 464-511, is no state), the XSAVE
 * header at 512, each extended component at its cpuid(0xd) offset. Its
 * first plat_fp.size bytes are the state. */
#define PLAT_FP_MAX 4096
typedef struct {
	uint8_t b[PLAT_FP_MAX];
} __attribute__((aligned(64))) plat_fpregs;

/* The host's FPU state for a process, as the kernel puts it in signal
 * frames (probed once, from one): size is the XSAVE area's (xstate_size),
 * or 512 when frames carry only the legacy area (no XSAVE, or an area
 * larger than PLAT_FP_MAX); features the XSAVE features (xfeatures) it
 * holds; mxcsr_mask the MXCSR bits the CPU has. Set by platform_select(). */
struct plat_fp_info {
	uint32_t size;
	uint32_t mxcsr_mask;
	uint64_t features;
};
extern struct plat_fp_info plat_fp;

/* Offsets in a plat_fpregs image. */
#define PLAT_FP_FCW	   0
#define PLAT_FP_MXCSR	   24
#define PLAT_FP_MXCSR_MASK 28
#define PLAT_FP_XMM	   160
#define PLAT_FP_SW	   464 /* sw_reserved: struct _fpx_sw_bytes */
#define PLAT_FP_HDR	   512 /* XSAVE header: xstate_bv, xcomp_bv, 48 zero */
#define PLAT_FP_HDR_SIZE   64
#define PLAT_FP_MAGIC1	   0x46505853U
#define PLAT_FP_MAGIC2	   0x46505845U

/* The state a new program and a signal handler start with: FNINIT's x87,
 * MXCSR 0x1f80, every register zero, every extended component init. */
void plat_fp_default(plat_fpregs *fp);
/* Make a guest-supplied image loadable as it stands: MXCSR without bits
 * the CPU lacks, an XSAVE header naming only the host's features, in the
 * standard format, with its reserved bytes zero (XRSTOR faults
 * otherwise). */
void plat_fp_sanitize(plat_fpregs *fp);

enum plat_event_kind {
	PLAT_EV_SYSCALL = 1, /* regs.orig_rax = nr, args in rdi.. */
	PLAT_EV_FAULT,	     /* synchronous fault: si has signo/code/addr */
	PLAT_EV_INTERRUPT, /* plat_thread_interrupt() or a stray host signal */
	PLAT_EV_EXITED,	   /* the host thread is gone (killed from outside) */
};

struct plat_event {
	enum plat_event_kind kind;
	siginfo_t si; /* PLAT_EV_FAULT */
};

/* A host syscall for plat_ops.syscalls_fd. */
struct plat_call {
	long nr;
	long a[6];
};

struct plat_ops {
	const char *name;
	/* Serve each new thread from a new sentry thread instead of an idle
	 * one (ptrace: the scheduler puts a new tracer next to its tracee;
	 * a reused one stays where it was, and every stop then wakes an idle
	 * CPU, ~16 us here). */
	bool fresh_threads;
	/* Once per sandbox, at boot while host paths are still visible: makes
	 * the namespaces and the stub master. stub_memfd holds the stub ELF. */
	int (*init)(int stub_memfd);
	/* A fresh, empty address space (a new stub process) with one thread,
	 * not yet owned: hand it to plat_thread_adopt() on the sentry thread
	 * that will serve it. */
	int (*spawn)(struct plat_thread **out);
	/* Become the owner of a thread made by spawn() or clone(). */
	int (*adopt)(struct plat_thread *pt);
	/* Run the guest with *regs until the next event; *regs is updated. */
	int (*run)(struct plat_thread *pt, plat_regs *regs,
		   struct plat_event *ev);
	/* Run one host syscall inside the stub (its address space, its fd
	 * table). Returns the result (>= 0) or a negative errno. */
	long (*syscall)(struct plat_thread *pt, long nr, long a0, long a1,
			long a2, long a3, long a4, long a5);
	/* fork (flags 0: a copy-on-write copy of the address space in a new
	 * stub process), vfork (CLONE_VM: a new stub process sharing the
	 * memory) or a new thread of the same stub (CLONE_THREAD). The child
	 * is stopped and not yet owned. */
	int (*clone)(struct plat_thread *pt, unsigned long flags,
		     struct plat_thread **child);
	/* The thread's FPU state, plat_fp.size bytes of it (the rest of *fp
	 * is left zero); set_fpregs takes a sanitized image. */
	int (*get_fpregs)(struct plat_thread *pt, plat_fpregs *fp);
	int (*set_fpregs)(struct plat_thread *pt, const plat_fpregs *fp);
	/* Make run() return PLAT_EV_INTERRUPT soon; safe from any thread. */
	void (*interrupt)(struct plat_thread *pt);
	/* Kill the host thread (and, for the last one, its stub process), wait
	 * for it and free pt. Called by the owner. */
	void (*release)(struct plat_thread *pt);
	/* Host pid of the stub process, for process_vm_readv/writev. */
	pid_t (*host_pid)(struct plat_thread *pt);
	/* Give the stub process a copy of host fd `fd`; returns the fd number
	 * in the stub's table (for a following mmap), or a negative errno. */
	int (*install_fd)(struct plat_thread *pt, int fd);
	/* Optional: n host syscalls in one go, each given a copy of host fd
	 * `fd` as argument fd_arg (closed in the stub after): the mmaps of
	 * a file's segments. Stops at the first that fails; returns how many
	 * ran (rets[i] holds each result) or a negative errno. NULL:
	 * install_fd, syscall and close, one by one. */
	int (*syscalls_fd)(struct plat_thread *pt, int fd, int fd_arg, int n,
			   const struct plat_call *calls, long *rets);
	/* Optional: argument prefetch. set_prefetch gives, per syscall
	 * number, the in-arguments to read at the trap (sysmsg.h's
	 * encoding); prefetched copies [src, src+n) into dst from what was
	 * read at this syscall's trap (0), or says it has not (-ENOENT);
	 * prefetch_drop forgets it, once the syscall wrote guest memory. */
	void (*set_prefetch)(const uint8_t *table, size_t n);
	int (*prefetched)(struct plat_thread *pt, void *dst, uint64_t src,
			  size_t n);
	void (*prefetch_drop)(struct plat_thread *pt);
	/* Optional: copy guest memory through the stub, for ranges that
	 * mm/usercopy checked against the guest's mappings. NULL: usercopy
	 * uses process_vm_readv/writev. */
	int (*copy_in)(struct plat_thread *pt, void *dst, uint64_t src,
		       size_t n);
	int (*copy_out)(struct plat_thread *pt, uint64_t dst, const void *src,
			size_t n);
	/* An atomic read-modify-write of the 32-bit word at addr, run in the
	 * guest's address space (mm/usercopy.h's UA_* ops). *old gets the
	 * previous value; -EFAULT if the word cannot be reached. */
	int (*atomic32)(struct plat_thread *pt, uint64_t addr, int op,
			uint32_t arg, uint32_t cmp, uint32_t *old);
	/* The thread's own CPU time (user + system), read inside its stub
	 * thread: ns, or a negative errno. */
	int (*thread_cputime)(struct plat_thread *pt, uint64_t *ns);
};

extern const struct plat_ops *platform;
extern const struct plat_ops plat_ptrace_ops;
extern const struct plat_ops plat_systrap_ops;

/* Select by name ("ptrace", "systrap"); -EINVAL if unknown or unavailable. */
int platform_select(const char *name);

/* The stub's fixed layout (linked by sentry/stub/stub.ld). The guest may not
 * map, unmap or protect anything in [STUB_BASE, STUB_END). */
#define STUB_BASE		 0x7e0000000000UL
#define STUB_GATE		 STUB_BASE /* "syscall; int3" used to inject syscalls */
#define STUB_SCRATCH		 (STUB_BASE + 0x10000UL) /* RW scratch for syscall args */
#define STUB_SCRATCH_SIZE	 0x10000UL
#define STUB_SYS_GATE		 (STUB_BASE + 0x20UL) /* "syscall; ret" (systrap) */
#define STUB_RESTORER		 (STUB_BASE + 0x30UL)
#define STUB_TRAP		 (STUB_BASE + 0x40UL)
#define STUB_SYSTRAP_ENTRY	 (STUB_BASE + 0x80UL)
#define STUB_SYSTRAP_FORK_ENTRY	 (STUB_BASE + 0xa0UL)
#define STUB_SYSTRAP_FORK_ENTRY2 (STUB_BASE + 0x100UL)
/* "call stub_atomic32; int3": an atomic op on a guest word, for ptrace
 * (rdi address, rsi op, rdx arg, r10 cmp; rax the old value or -EFAULT). */
#define STUB_ATOMIC_ENTRY (STUB_BASE + 0x120UL)
/* The end of the stub's reserved range, which holds systrap's shared
 * pages too: SYSMSG_BASE + SYSMSG_REGION_SIZE (sysmsg.h; systrap.c checks). */
#define STUB_END (STUB_BASE + 0x11000000UL)

#endif
