/* The stub: the only code of ours inside a guest address space. It has no
 * libc. The first part sits at fixed addresses (see STUB_* in platform.h):
 *   +0x00 stub_gate        "syscall; int3": the ptrace platform points a
 *                          stopped thread here to run one host syscall
 *   +0x10 stub_park        a spin loop where a cloned thread waits for its
 *                          new tracer
 *   +0x20 stub_sys_gate    "syscall; ret": the only syscall instruction the
 *                          systrap filter lets through
 *   +0x30 stub_restorer    rt_sigreturn, through the gate
 *   +0x40 stub_trap        int3: where an injected call through the
 *                          systrap gate returns to its tracer
 *   +0x50 stub_syscall6    C-callable raw syscall through the gate
 *   +0x80 stub_systrap_entry  where a new systrap thread starts, on its
 *                          slot's stack
 *   +0x120 stub_atomic_entry  an atomic op on a guest word, for ptrace
 *   _start                 stops itself until the sentry attaches. */
	.section .text.gate, "ax"
	.globl stub_gate
stub_gate:
	syscall
	int3

	.org 0x10
	.globl stub_park
stub_park:
	pause
	jmp stub_park

	.org 0x20
	.globl stub_sys_gate
stub_sys_gate:
	syscall
	ret

	.org 0x30
	.globl stub_restorer
stub_restorer:
	mov $15, %eax		/* rt_sigreturn */
	jmp stub_sys_gate

	.org 0x40
	.globl stub_trap
stub_trap:
	int3

	.org 0x50
	/* long stub_syscall6(long nr, long a0, ..., long a5) */
	.globl stub_syscall6
stub_syscall6:
	mov %rdi, %rax
	mov %rsi, %rdi
	mov %rdx, %rsi
	mov %rcx, %rdx
	mov %r8, %r10
	mov %r9, %r8
	mov 8(%rsp), %r9
	jmp stub_sys_gate

	.org 0x80
	.globl stub_systrap_entry
stub_systrap_entry:
	call stub_systrap_main
	int3

	/* A forked systrap stub starts here on its private scratch stack,
	 * with its slot number in rdi and the fds of its own shared region
	 * and fd channel in rsi and rdx (-1: both queued on the parent's
	 * channel): it swaps the parent's for its own, then moves to its
	 * slot's stack. */
	.org 0xa0
	.globl stub_systrap_fork_entry
stub_systrap_fork_entry:
	push %rdi
	mov %rsi, %rdi
	mov %rdx, %rsi
	call stub_systrap_remap
	pop %rdi
	inc %rdi
	shl $16, %rdi			/* (slot + 1) * SYSMSG_SLOT_SIZE */
	mov $0x7e0001000000, %rax	/* SYSMSG_BASE */
	add %rax, %rdi
	mov %rdi, %rsp
	jmp stub_systrap_entry

	/* A fork child made by the stub's own clone returns here through the
	 * gate's ret, on the scratch stack, its slot number and its region
	 * and channel fds above. */
	.org 0x100
	.globl stub_systrap_fork_entry2
stub_systrap_fork_entry2:
	mov (%rsp), %rdi
	mov 8(%rsp), %rsi
	mov 16(%rsp), %rdx
	jmp stub_systrap_fork_entry

	/* ptrace's way into stub_atomic32: called at a fixed address with
	 * the arguments in rdi, rsi, rdx, r10, stopping at the int3. */
	.org 0x120
	.globl stub_atomic_entry
stub_atomic_entry:
	call stub_atomic32
	int3

	/* long stub_atomic32(uint32_t *addr, int op, uint32_t arg, [r10]
	 * uint32_t cmp): an atomic read-modify-write of a guest word, op as
	 * FUTEX_OP_SET/ADD/OR/ANDN/XOR, or 5 (compare-and-exchange: the word
	 * becomes arg if it was cmp). Returns the word's previous value
	 * (zero-extended), -22 for a bad op, or -14 when the word faults (the
	 * systrap handler moves a fault in [stub_atomic_begin,
	 * stub_atomic_end) to stub_atomic_fixup; under ptrace the tracer
	 * sees the fault). stub_atomic32_c is the C-callable form (cmp in
	 * rcx). */
	.globl stub_atomic32, stub_atomic32_c, stub_atomic_begin
	.globl stub_atomic_end, stub_atomic_fixup
stub_atomic32_c:
	mov %rcx, %r10
stub_atomic32:
stub_atomic_begin:
	xor %eax, %eax
	xor %ecx, %ecx
	lock cmpxchg %ecx, (%rdi)	/* eax: the current value */
1:	mov %eax, %r8d			/* r8: the old value */
	cmp $5, %esi
	je 6f
	cmp $0, %esi
	jne 2f
	mov %edx, %ecx			/* SET */
	jmp 7f
2:	cmp $1, %esi
	jne 3f
	mov %eax, %ecx			/* ADD */
	add %edx, %ecx
	jmp 7f
3:	cmp $2, %esi
	jne 4f
	mov %eax, %ecx			/* OR */
	or %edx, %ecx
	jmp 7f
4:	cmp $3, %esi
	jne 5f
	mov %edx, %ecx			/* ANDN */
	not %ecx
	and %eax, %ecx
	jmp 7f
5:	cmp $4, %esi
	jne 9f
	mov %eax, %ecx			/* XOR */
	xor %edx, %ecx
	jmp 7f
6:	cmp %r10d, %eax			/* CMPXCHG */
	jne 8f
	mov %edx, %ecx
7:	lock cmpxchg %ecx, (%rdi)	/* eax still the old value? */
	jne 1b				/* no: eax is the new current one */
8:	mov %r8d, %eax
	ret
9:	mov $-22, %rax
	ret
stub_atomic_end:
stub_atomic_fixup:
	mov $-14, %rax
	ret

	/* long stub_pf_copy(void *dst, const void *src, size_t n): the bytes
	 * copied, n unless a page of src or dst faults (the handler moves a
	 * fault at stub_pf_fault to stub_pf_fixup while the slot's pf_active
	 * is set; rcx then holds what was left). */
	.globl stub_pf_copy, stub_pf_fault, stub_pf_fixup
stub_pf_copy:
	mov %rdx, %rcx
	mov %rdx, %rax
stub_pf_fault:
	rep movsb
	ret
stub_pf_fixup:
	sub %rcx, %rax
	ret

	/* void stub_enter_guest(void *frame): rt_sigreturn from a frame
	 * built on the slot's stack. */
	.globl stub_enter_guest
stub_enter_guest:
	lea 8(%rdi), %rsp	/* as if the handler's ret popped pretcode */
	jmp stub_restorer

	.text
	.globl _start
_start:
	mov $39, %eax		/* getpid */
	syscall
	mov %eax, %edi
	mov $19, %esi		/* SIGSTOP */
	mov $62, %eax		/* kill */
	syscall
	jmp _start

	.bss
	.globl stub_scratch
stub_scratch:
	.skip 0x10000

	.section .note.GNU-stack, "", @progbits
