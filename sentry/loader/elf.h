/* ELF64 x86-64 header parsing for the loader. Pure functions over buffers:
 * no I/O, no guest state, so they can be unit-tested on their own and fed
 * hostile files without risk. Every check returns -ENOEXEC, as Linux does
 * for a file that is not a loadable ELF executable. */
#ifndef BULKHEAD_ELF_H
#define BULKHEAD_ELF_H

#include <elf.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Linux bounds the program header table at 64 KiB; real programs have a
 * dozen entries, so a small cap keeps struct elf_info on the stack cheap. */
#define ELF_MAX_PHNUM 128
#define ELF_PAGE_SIZE 4096UL
/* Highest address a segment may reach (mirrors GUEST_TASK_SIZE). */
#define ELF_VADDR_LIMIT 0x7ffffffff000UL

struct elf_info {
	uint16_t type; /* ET_EXEC or ET_DYN */
	uint64_t entry;
	uint64_t phoff;
	uint16_t phnum;
	Elf64_Phdr phdrs[ELF_MAX_PHNUM];
	/* Span of the PT_LOAD segments: lowest p_vaddr (page aligned down)
	 * and highest p_vaddr + p_memsz (page aligned up). */
	uint64_t min_vaddr, max_vaddr;
	uint64_t max_align; /* largest PT_LOAD p_align (>= page size) */
	/* Unbiased address of the program headers in memory, 0 if no
	 * PT_LOAD covers them (then AT_PHDR cannot be given). */
	uint64_t phdr_vaddr;
	bool has_interp;
	uint64_t interp_off, interp_len; /* PT_INTERP p_offset/p_filesz */
	char interp[PATH_MAX];		 /* filled by elf_parse_interp */
	bool has_gnu_stack;
	uint32_t stack_flags; /* PT_GNU_STACK p_flags (PF_X...) */
};

/* Check the ELF header in buf (len bytes, the start of a file of
 * file_size bytes) and fill type/entry/phoff/phnum. */
int elf_parse_ehdr(const void *buf, size_t len, uint64_t file_size,
		   struct elf_info *info);
/* Check the program header table (ph: info->phnum entries, len bytes, read
 * from info->phoff) and fill the rest but interp[]. */
int elf_parse_phdrs(struct elf_info *info, const void *ph, size_t len,
		    uint64_t file_size);
/* Check the PT_INTERP contents (buf: interp_len bytes read from
 * interp_off) and copy the path into info->interp. */
int elf_parse_interp(struct elf_info *info, const void *buf, size_t len);
/* All three from one buffer holding the file's first len bytes; -ENOEXEC
 * if a part lies beyond len (the loader reads it separately then). */
int elf_parse(const void *buf, size_t len, uint64_t file_size,
	      struct elf_info *info);

/* PF_* of a segment as PROT_* bits. */
int elf_prot(uint32_t p_flags);

#endif
