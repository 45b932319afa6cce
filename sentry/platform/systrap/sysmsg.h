/* The systrap platform's shared pages ("sysmsg"), one slot per guest
 * thread, in a memfd region that the sentry and the thread's stub process
 * both map (the stub at SYSMSG_BASE). Included by the freestanding stub.
 *
 * A slot is SYSMSG_SLOT_SIZE bytes, aligned to its size, so stub code finds
 * its own slot from its stack pointer: the slot's upper half is the stack
 * its signal handlers run on (sigaltstack). Everything in a slot can be
 * written by the guest at any time: the sentry copies what it reads once and
 * treats it as a request from that thread, never as a fact.
 *
 * The region is sized for SYSMSG_SLOTS_MAX threads and mapped whole, once,
 * on both sides, but it costs only what is touched: the memfd is sparse
 * (memfd_create is VM_NORESERVE: no commit charge), so a slot's pages exist
 * from the first time its thread uses them, about four per thread (its
 * header, the data pages a syscall used, its FPU image, the top of its
 * handler stack: 16 KiB measured). An idle single-threaded process holds
 * 16 KiB of it; 256 MiB is address space only. */
#ifndef BULKHEAD_SYSMSG_H
#define BULKHEAD_SYSMSG_H

#include <stdint.h>

#define SYSMSG_BASE	 0x7e0001000000UL
#define SYSMSG_SLOT_SIZE 0x10000UL
/* Guest threads per address space: Linux bounds them only by memory and
 * threads-max, so this is sized for thread pools of thousands (Java, Go,
 * Node). Beyond it clone fails with EAGAIN, as Linux's does when it runs
 * out of a resource. STUB_END (platform.h) covers the region. */
#define SYSMSG_SLOTS_MAX   4096
#define SYSMSG_REGION_SIZE (SYSMSG_SLOTS_MAX * SYSMSG_SLOT_SIZE)
#define SYSMSG_DATA_OFF	   0x1000UL /* copy buffer, and the filter at boot */
#define SYSMSG_DATA_SIZE   0x6000UL
/* The thread's FPU state as the sentry last read or set it: an XSAVE
 * image as in a signal frame (platform.h's plat_fpregs), fp_size bytes. */
#define SYSMSG_XSTATE_OFF  0x7000UL
#define SYSMSG_XSTATE_SIZE 0x1000UL
#define SYSMSG_STACK_OFF   0x8000UL /* handler stack: [0x8000, 0x10000) */

/* state: who owns the slot now. Events go stub -> sentry, commands
 * sentry -> stub; the futex word is `state`. */
enum sysmsg_state {
	SM_IDLE = 0,
	SM_EV_READY = 1,    /* a new stub thread waits for its first command */
	SM_EV_SYSCALL = 2,  /* the guest trapped a syscall; regs hold it */
	SM_EV_FAULT = 3,    /* a synchronous fault: signo/code/addr */
	SM_EV_INTR = 4,	    /* interrupted by the sentry (or another signal) */
	SM_EV_DONE = 5,	    /* a command finished; ret holds its result */
	SM_CMD_RESUME = 16, /* load regs and return to the guest */
	SM_CMD_HOSTCALL = 17, /* run syscall nr(args) from the stub's gate */
	SM_CMD_COPYIN = 18,   /* copy guest [addr, addr+len) into data */
	SM_CMD_COPYOUT = 19,  /* copy data into guest [addr, addr+len) */
	SM_CMD_HOSTCALLS_FD = 20, /* copy_len sysmsg_calls in data, each with
				   * the fd queued on the fd socket as
				   * a[fd_arg]; stop at the first error */
	SM_CMD_CLONE = 21,	  /* clone(args[0] | CLONE_PIDFD, args[1]), then
				   * send the pidfd on the fd socket; args[2]:
				   * a fork, whose region fd is queued */
	SM_CMD_ATOMIC = 22,	  /* stub_atomic32(args[0..3]) */
	SM_CMD_GETFP = 23, /* the trap frame's FPU state into the image at
			    * SYSMSG_XSTATE_OFF (unless fp_dirty: the image
			    * is newer); ret: fp_size */
};

/* Register order: struct user_regs_struct. */
enum {
	SM_R15,
	SM_R14,
	SM_R13,
	SM_R12,
	SM_RBP,
	SM_RBX,
	SM_R11,
	SM_R10,
	SM_R9,
	SM_R8,
	SM_RAX,
	SM_RCX,
	SM_RDX,
	SM_RSI,
	SM_RDI,
	SM_ORIG_RAX,
	SM_RIP,
	SM_CS,
	SM_EFLAGS,
	SM_RSP,
	SM_SS,
	SM_FS_BASE,
	SM_GS_BASE,
	SM_DS,
	SM_ES,
	SM_FS,
	SM_GS,
	SM_NREGS
};

/* In-arguments the stub reads at the trap, so that the sentry needs no
 * round trip for them: per syscall number, two nibbles (first argument in
 * the low one), each 0 or (argument index + 1) | SYSMSG_PF_BUF. A buffer's
 * length is the next argument; a string is read to the end of its page,
 * as mm/usercopy reads strings. Built from the syscall table's argument
 * shapes (the ones --strace prints). Argument i lands at data + i *
 * SYSMSG_PF_MAX. */
#define SYSMSG_PF_NR  512
#define SYSMSG_PF_MAX 4096
#define SYSMSG_PF_BUF 8
struct sysmsg_pf {
	uint64_t addr, len;
};

/* Entry i (0 or 1) of descriptor d, for the syscall arguments a: the guest
 * range to read at the trap. The stub reads by it; the sentry, with its own
 * copy of the registers, checks what the stub says it read. */
static inline int sysmsg_pf_range(uint8_t d, int i, const uint64_t a[6],
				  uint64_t *addr, uint64_t *len)
{
	int e = (d >> (4 * i)) & 0xf;
	int k = (e & 7) - 1;
	if (k < 0 || k > 5 || ((e & SYSMSG_PF_BUF) && k > 4))
		return 0;
	*addr = a[k];
	*len = (e & SYSMSG_PF_BUF)
		   ? a[k + 1]
		   : SYSMSG_PF_MAX - (*addr & (SYSMSG_PF_MAX - 1));
	return *addr != 0 && *len != 0 && *len <= SYSMSG_PF_MAX;
}

/* The CPU the calling thread runs on (Linux keeps it in TSC_AUX). */
static inline uint32_t sysmsg_cpu(void)
{
	uint32_t a, d, c;
	__asm__ volatile("rdtscp" : "=a"(a), "=d"(d), "=c"(c));
	return c & 0xfff;
}

/* Contention backoff for the spin part of a wait, one per side: the
 * sentry's is global, a stub's is its process's (in slot 0). A waiter
 * that was off its CPU for longer than its whole spin budget while it
 * spun (preempted, or a sched_yield that ran another task's time slice),
 * with the peer's answer not there or posted long before (post_tsc), is
 * on a CPU that other work wants: a CPU-bound neighbour, an overloaded
 * machine. Spinning there costs a time slice (milliseconds) per wait,
 * because a spinner is not asleep and the peer's answer does not wake
 * it; a sleeper's futex wake preempts the other work at once. So then
 * waits sleep at once, as on a single CPU, for a window of 0.2 ms that
 * doubles each time it happens again, up to 128 ms; a clean spin clears
 * it. Measured on 2 vCPUs kept busy by two CPU hogs (manythreads, threads
 * on systrap): 42-51 s and 17-19 s spinning as before, 14 s and 6-7 s with
 * this, 2.5-4 s and 2-2.5 s never spinning (which makes an idle getpid
 * 64 us instead of 2.3). A 1 ms first window gave 6-8 s and 2-3 s loaded
 * but cost more idle (manythreads 0.65 -> 1.1-1.3 s, against 0.85-1 s).
 * Relaxed atomics: a heuristic, and the stub's is guest-writable (that
 * only slows the guest down). */
struct sysmsg_backoff {
	uint64_t until;	 /* TSC: no spinning before this */
	uint64_t window; /* TSC ticks of the last window, 0: none */
};

static inline int sysmsg_may_spin(struct sysmsg_backoff *b, uint64_t now)
{
	return (int64_t)(now - __atomic_load_n(&b->until, __ATOMIC_RELAXED)) >=
	       0;
}

/* budget: the spin budget in TSC ticks. */
static inline void sysmsg_contended(struct sysmsg_backoff *b, uint64_t now,
				    uint64_t budget)
{
	uint64_t w = __atomic_load_n(&b->window, __ATOMIC_RELAXED);
	uint64_t lo = budget * 6, hi = budget * 3700; /* ~0.2, ~128 ms */
	w = w < lo ? lo : w * 2 > hi ? hi : w * 2;
	__atomic_store_n(&b->window, w, __ATOMIC_RELAXED);
	__atomic_store_n(&b->until, now + w, __ATOMIC_RELAXED);
}

static inline void sysmsg_uncontended(struct sysmsg_backoff *b)
{
	if (__atomic_load_n(&b->window, __ATOMIC_RELAXED))
		__atomic_store_n(&b->window, 0, __ATOMIC_RELAXED);
}

/* Whether a waiter back on its CPU at now, after last looking at prev,
 * was held off by other work: see struct sysmsg_backoff. */
static inline int sysmsg_held_off(uint64_t prev, uint64_t now, uint64_t budget,
				  int answered, uint64_t posted)
{
	return now - prev > budget &&
	       (!answered || (int64_t)(now - posted) > (int64_t)budget);
}

/* One entry of SM_CMD_HOSTCALLS_FD. */
struct sysmsg_call {
	uint64_t nr, a[6];
	int64_t ret;
};
#define SYSMSG_CALLS_MAX 16

#define SM_INIT_FULL 1u /* first thread of a fresh stub: handlers, filter */

struct sysmsg {
	uint32_t state;		  /* enum sysmsg_state; the futex word */
	uint32_t sentry_sleeping; /* the sentry sleeps on state: wake it */
	uint32_t stub_sleeping;	  /* the stub sleeps on state: wake it */
	uint32_t fp_dirty;	  /* sentry changed the FPU image: load it */
	uint32_t init_flags;	  /* SM_INIT_* for the thread's start */
	uint32_t filter_len;	  /* BPF instructions in data, at boot */
	uint64_t spin_iters;	  /* stub's spin budget before sleeping */
	uint64_t post_tsc;	  /* TSC of the last post (either side) */
	uint64_t regs[SM_NREGS];
	uint32_t fp_size;     /* bytes of the FPU image that are state */
	uint64_t fp_features; /* XSAVE features in it (the kernel's) */
	int32_t signo, code;  /* SM_EV_FAULT */
	uint64_t fault_addr;
	uint64_t nr, args[6]; /* SM_CMD_HOSTCALL */
	uint32_t fd_arg, pad; /* SM_CMD_HOSTCALLS_FD */
	int64_t ret;	      /* SM_EV_DONE */
	uint64_t copy_addr, copy_len;
	uint64_t cur_fs_base; /* what the stub last loaded into fs */
	/* 1 while the stub thread lives: the kernel clears it and wakes its
	 * futex when the thread exits (set_tid_address), so the slot is
	 * reused only once nobody runs on it. */
	uint32_t alive;
	int32_t pidfd_out;   /* clone's CLONE_PIDFD result, in the stub */
	uint32_t sentry_cpu; /* where each side last waited (rdtscp): a */
	uint32_t stub_cpu;   /* peer on this CPU cannot answer a spin */
	uint32_t pf_valid;   /* bit i: pf[i] was read at this trap */
	uint32_t
	    pf_active; /* the stub is reading one: a fault is not the guest's */
	uint32_t in_handler; /* the stub is serving: a fault now ends it */
	/* A fault while serving ends the stub: its signal and where, for
	 * the sentry's log only (the guest can write these too). */
	uint32_t died_sig;
	uint64_t died_rip, died_addr;
	/* Slot 0's: the stub process's spin backoff (all its threads). */
	struct sysmsg_backoff stub_backoff;
	struct sysmsg_pf pf[2];
	uint8_t pf_table[SYSMSG_PF_NR];
};

#endif
