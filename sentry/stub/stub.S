/* The stub: the only code of ours inside a guest address space. It has no
 * libc and no state. On the ptrace platform it is a parking place:
 *   stub_gate   "syscall; int3" — the sentry points a stopped guest thread
 *               here to run one host syscall inside the stub (mmap, clone…)
 *               and gets control back at the int3;
 *   stub_park   a spin loop where a freshly cloned thread waits for its new
 *               tracer (no syscall: the seccomp filter allows none here);
 *   _start      stops itself until the sentry attaches.
 * Addresses are fixed by stub.ld and mirrored in platform.h (STUB_*). */
	.section .text.gate, "ax"
	.globl stub_gate
stub_gate:
	syscall
	int3
	.balign 16
	.globl stub_park
stub_park:
	pause
	jmp stub_park

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
