#include "sentry/loader/elf.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

static bool add_overflows(uint64_t a, uint64_t b, uint64_t *sum)
{
	return __builtin_add_overflow(a, b, sum);
}

int elf_parse_ehdr(const void *buf, size_t len, uint64_t file_size,
		   struct elf_info *info)
{
	Elf64_Ehdr eh;

	if (len < sizeof(eh) || file_size < sizeof(eh))
		return -ENOEXEC;
	memcpy(&eh, buf, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB)
		return -ENOEXEC;
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN)
		return -ENOEXEC;
	if (eh.e_machine != EM_X86_64)
		return -ENOEXEC;
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    eh.e_phnum > ELF_MAX_PHNUM)
		return -ENOEXEC;
	uint64_t end;
	if (add_overflows(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr),
			  &end) ||
	    end > file_size)
		return -ENOEXEC;

	memset(info, 0, sizeof(*info));
	info->type = eh.e_type;
	info->entry = eh.e_entry;
	info->phoff = eh.e_phoff;
	info->phnum = eh.e_phnum;
	return 0;
}

static bool is_pow2(uint64_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

static int check_load(const Elf64_Phdr *p, uint64_t file_size,
		      uint64_t prev_end)
{
	uint64_t fend, vend;

	if (p->p_filesz > p->p_memsz)
		return -ENOEXEC;
	if (add_overflows(p->p_offset, p->p_filesz, &fend) || fend > file_size)
		return -ENOEXEC;
	if (add_overflows(p->p_vaddr, p->p_memsz, &vend) ||
	    vend > ELF_VADDR_LIMIT)
		return -ENOEXEC;
	if (p->p_align > 1 && !is_pow2(p->p_align))
		return -ENOEXEC;
	/* mmap needs file offset and address to agree within a page. */
	if ((p->p_vaddr - p->p_offset) % ELF_PAGE_SIZE != 0)
		return -ENOEXEC;
	/* The ELF spec sorts PT_LOADs by address; overlapping ones would
	 * silently replace each other's pages. */
	if (p->p_vaddr < prev_end)
		return -ENOEXEC;
	return 0;
}

int elf_parse_phdrs(struct elf_info *info, const void *ph, size_t len,
		    uint64_t file_size)
{
	size_t tbl = (size_t)info->phnum * sizeof(Elf64_Phdr);
	uint64_t prev_end = 0, lo = UINT64_MAX, hi = 0;
	int nload = 0, ninterp = 0;

	if (info->phnum == 0 || info->phnum > ELF_MAX_PHNUM || len < tbl)
		return -ENOEXEC;
	memcpy(info->phdrs, ph, tbl);
	info->max_align = ELF_PAGE_SIZE;

	for (int i = 0; i < info->phnum; i++) {
		const Elf64_Phdr *p = &info->phdrs[i];
		uint64_t end;

		switch (p->p_type) {
		case PT_LOAD: {
			int err = check_load(p, file_size, prev_end);
			if (err)
				return err;
			end = p->p_vaddr + p->p_memsz;
			prev_end = end;
			nload++;
			if (p->p_memsz == 0)
				break;
			if (p->p_vaddr < lo)
				lo = p->p_vaddr;
			if (end > hi)
				hi = end;
			if (p->p_align > info->max_align)
				info->max_align = p->p_align;
			break;
		}
		case PT_INTERP:
			if (++ninterp > 1)
				return -ENOEXEC;
			if (p->p_filesz < 2 || p->p_filesz > PATH_MAX)
				return -ENOEXEC;
			if (add_overflows(p->p_offset, p->p_filesz, &end) ||
			    end > file_size)
				return -ENOEXEC;
			info->has_interp = true;
			info->interp_off = p->p_offset;
			info->interp_len = p->p_filesz;
			break;
		case PT_GNU_STACK:
			info->has_gnu_stack = true;
			info->stack_flags = p->p_flags;
			break;
		case PT_PHDR:
			info->phdr_vaddr = p->p_vaddr;
			break;
		default:
			break;
		}
	}
	if (nload == 0 || lo == UINT64_MAX)
		return -ENOEXEC;

	info->min_vaddr = lo & ~(ELF_PAGE_SIZE - 1);
	info->max_vaddr = (hi + ELF_PAGE_SIZE - 1) & ~(ELF_PAGE_SIZE - 1);
	if (info->max_vaddr > ELF_VADDR_LIMIT)
		return -ENOEXEC;
	/* An entry outside the image can only crash the guest at once;
	 * refusing it early gives a clear ENOEXEC instead. */
	if (info->entry < lo || info->entry >= hi)
		return -ENOEXEC;

	if (info->phdr_vaddr == 0) {
		for (int i = 0; i < info->phnum; i++) {
			const Elf64_Phdr *p = &info->phdrs[i];
			if (p->p_type == PT_LOAD &&
			    p->p_offset <= info->phoff &&
			    info->phoff + tbl <= p->p_offset + p->p_filesz) {
				info->phdr_vaddr =
				    p->p_vaddr + (info->phoff - p->p_offset);
				break;
			}
		}
	}
	return 0;
}

int elf_parse_interp(struct elf_info *info, const void *buf, size_t len)
{
	const char *s = buf;

	if (!info->has_interp || len != info->interp_len || len < 2 ||
	    len > PATH_MAX)
		return -ENOEXEC;
	/* The path must end at its NUL and contain no other NUL, so that
	 * what is opened is exactly what the header says. */
	if (s[len - 1] != '\0' || strlen(s) != len - 1)
		return -ENOEXEC;
	memcpy(info->interp, s, len);
	return 0;
}

int elf_parse(const void *buf, size_t len, uint64_t file_size,
	      struct elf_info *info)
{
	const unsigned char *b = buf;
	int err;

	if (len > file_size)
		len = file_size;
	err = elf_parse_ehdr(buf, len, file_size, info);
	if (err)
		return err;
	size_t tbl = (size_t)info->phnum * sizeof(Elf64_Phdr);
	if (info->phoff > len || tbl > len - info->phoff)
		return -ENOEXEC;
	err = elf_parse_phdrs(info, b + info->phoff, tbl, file_size);
	if (err)
		return err;
	if (info->has_interp) {
		if (info->interp_off > len ||
		    info->interp_len > len - info->interp_off)
			return -ENOEXEC;
		err = elf_parse_interp(info, b + info->interp_off,
				       info->interp_len);
	}
	return err;
}

int elf_prot(uint32_t p_flags)
{
	int prot = 0;

	if (p_flags & PF_R)
		prot |= PROT_READ;
	if (p_flags & PF_W)
		prot |= PROT_WRITE;
	if (p_flags & PF_X)
		prot |= PROT_EXEC;
	return prot;
}
