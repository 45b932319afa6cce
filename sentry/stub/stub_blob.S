/* The stub ELF, embedded so the sentry can exec it from a memfd without
 * naming any host path. */
	.section .rodata
	.balign 16
	.globl stub_elf_start
stub_elf_start:
	.incbin STUB_ELF
	.globl stub_elf_end
stub_elf_end:
	.section .note.GNU-stack, "", @progbits
