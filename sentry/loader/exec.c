/* execve: #! scripts and ELF (static, PIE, PT_INTERP), the initial stack.
 * Everything that can fail for a reason the guest should see (open,
 * permission, format, sizes, allocation) happens before task_exec_begin();
 * after it the old image is gone and a failure kills the process. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "bulkhead/log.h"
#include "sentry/loader/exec.h"
#include "sentry/kernel/task.h"
#include "sentry/loader/elf.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/usercopy.h"
#include "sentry/mm/vma.h"
#include "sentry/platform/platform.h"
#include "sentry/vfs/fs.h"
#include "sentry/vfs/vfs.h"

#define EXEC_MAX_STRLEN	      (32 * MM_PAGE) /* MAX_ARG_STRLEN */
#define EXEC_SCRIPT_BUF	      256	     /* BINPRM_BUF_SIZE */
#define EXEC_MAX_SCRIPT_DEPTH 4
#define EXEC_DYN_BASE	      0x555555554000UL /* ELF_ET_DYN_BASE, for PIEs */
#define EXEC_RND_PAGES	      (1UL << 20)      /* randomisation range, pages */
#define EXEC_NAUXV	      20

/* One ELF file, validated and ready to map. */
struct exec_elf {
	struct file *f;
	uint64_t size;
	struct elf_info info;
	uint64_t bias; /* set while mapping */
};

struct exec_args {
	char **v; /* may point to caller strings or to owned[] */
	size_t n, cap;
	char *owned[3 * (EXEC_MAX_SCRIPT_DEPTH + 1)];
	int nowned;
};

static uint64_t page_up(uint64_t x)
{
	return (x + MM_PAGE - 1) & MM_PAGE_MASK;
}

static uint64_t rnd_u64(void)
{
	uint64_t r = 0;
	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		r = 0;
	return r;
}

static void args_free(struct exec_args *a)
{
	free(a->v);
	for (int i = 0; i < a->nowned; i++)
		free(a->owned[i]);
	memset(a, 0, sizeof(*a));
}

static int args_push(struct exec_args *a, char *s)
{
	if (a->n + 1 >= a->cap) {
		size_t nc = a->cap ? a->cap * 2 : 16;
		char **nv = realloc(a->v, nc * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		a->v = nv;
		a->cap = nc;
	}
	a->v[a->n++] = s;
	a->v[a->n] = NULL;
	return 0;
}

static char *args_own(struct exec_args *a, const char *s)
{
	if (a->nowned >= (int)(sizeof(a->owned) / sizeof(a->owned[0])))
		return NULL;
	char *d = strdup(s);
	if (d)
		a->owned[a->nowned++] = d;
	return d;
}

/* Bytes the strings and their pointers will take on the new stack. */
static int vec_size(char *const *v, size_t *count, size_t *bytes)
{
	*count = 0;
	for (; v && v[*count]; (*count)++) {
		size_t l = strnlen(v[*count], EXEC_MAX_STRLEN);
		if (l >= EXEC_MAX_STRLEN)
			return -E2BIG;
		*bytes += l + 1 + sizeof(uint64_t);
		if (*bytes > EXEC_ARG_MAX)
			return -E2BIG;
	}
	return 0;
}

/* ---- #! ---- */

static bool spacetab(char c)
{
	return c == ' ' || c == '\t';
}

static bool terminator(char c)
{
	return c == ' ' || c == '\t' || c == '\0';
}

/* Parse "#!interp [arg]" as Linux's binfmt_script does. buf holds the
 * first bytes of the file, NUL-padded to EXEC_SCRIPT_BUF. */
static int script_parse(char *buf, char **interp, char **arg)
{
	char *end = buf + EXEC_SCRIPT_BUF - 1, *p, *name, *sep;

	*end = '\0';
	char *nl = memchr(buf, '\n', EXEC_SCRIPT_BUF - 1);
	if (nl) {
		end = nl;
	} else {
		/* No newline in the buffer: accept it only if the name is
		 * complete, so a truncated path never runs. */
		for (p = buf + 2; p < end && spacetab(*p); p++)
			;
		if (p >= end)
			return -ENOEXEC;
		while (p < end && !terminator(*p))
			p++;
		if (p >= end)
			return -ENOEXEC;
	}
	while (end > buf + 2 && spacetab(end[-1]))
		end--;
	for (name = buf + 2; name < end && spacetab(*name); name++)
		;
	if (name >= end || *name == '\0')
		return -ENOEXEC;
	for (sep = name; sep < end && !terminator(*sep); sep++)
		;
	*arg = NULL;
	if (sep < end && *sep != '\0') {
		char *a = sep;
		while (a < end && spacetab(*a))
			a++;
		if (a < end)
			*arg = a;
	}
	*end = '\0';
	*sep = '\0';
	*interp = name;
	return 0;
}

/* ---- ELF ---- */

/* Read and check an ELF file's headers (and PT_INTERP path) through f. */
static int elf_load_headers(struct exec_elf *e, const void *first, size_t n)
{
	struct stat st;
	int err = file_stat(e->f, &st);
	if (err)
		return err;
	e->size = st.st_size;
	err = elf_parse_ehdr(first, n, e->size, &e->info);
	if (err)
		return err;
	size_t tbl = (size_t)e->info.phnum * sizeof(Elf64_Phdr);
	void *ph = malloc(tbl);
	if (!ph)
		return -ENOMEM;
	ssize_t r = file_kread(e->f, ph, tbl, e->info.phoff);
	if (r >= 0 && (size_t)r != tbl)
		r = -ENOEXEC;
	if (r >= 0)
		err = elf_parse_phdrs(&e->info, ph, tbl, e->size);
	else
		err = (int)r;
	free(ph);
	if (err || !e->info.has_interp)
		return err;
	char *ib = malloc(e->info.interp_len);
	if (!ib)
		return -ENOMEM;
	r = file_kread(e->f, ib, e->info.interp_len, e->info.interp_off);
	if (r >= 0 && (uint64_t)r != e->info.interp_len)
		r = -ENOEXEC;
	err = r < 0 ? (int)r : elf_parse_interp(&e->info, ib, r);
	free(ib);
	return err;
}

/* An ET_EXEC must fit where the guest may map. */
static int elf_check_fixed(const struct elf_info *in)
{
	if (in->type != ET_EXEC)
		return 0;
	if (in->min_vaddr < GUEST_MMAP_MIN)
		return -EPERM;
	if (in->min_vaddr < STUB_END && in->max_vaddr > STUB_BASE)
		return -EINVAL;
	return 0;
}

/* Copy a segment's file bytes into anonymous memory, for files with no
 * host fd to map (tmpfs, overlay copies). */
static int elf_copy_in(struct task *t, struct file *f, uint64_t addr,
		       uint64_t off, uint64_t len)
{
	char *buf = malloc(64 * 1024);
	int err = 0;

	if (!buf)
		return -ENOMEM;
	while (len > 0 && !err) {
		size_t c = len < 64 * 1024 ? len : 64 * 1024;
		ssize_t r = file_kread(f, buf, c, off);
		if (r <= 0) {
			err = r < 0 ? (int)r : -EIO;
			break;
		}
		err = copy_to_user(t, addr, buf, r);
		addr += r;
		off += r;
		len -= r;
	}
	free(buf);
	return err;
}

/* The file part of a segment: where, and with what protection (writable
 * when the bss starts inside its last page, which is cleared below). */
static void elf_file_part(const struct exec_elf *e, const Elf64_Phdr *p,
			  struct mm_file_map *m)
{
	uint64_t vaddr = p->p_vaddr + e->bias;
	uint64_t start = vaddr & MM_PAGE_MASK;
	uint64_t fend = vaddr + p->p_filesz;
	m->addr = start;
	m->len = page_up(fend) - start;
	m->off = p->p_offset - (vaddr - start);
	m->prot = elf_prot(p->p_flags);
	if (p->p_memsz > p->p_filesz && (fend & ~MM_PAGE_MASK))
		m->prot |= PROT_WRITE;
	m->flags = MAP_PRIVATE | MAP_FIXED;
}

/* Map one segment; file_mapped: its file part is already in place. */
static int elf_map_segment(struct task *t, struct exec_elf *e,
			   const Elf64_Phdr *p, bool mappable, bool file_mapped)
{
	uint64_t vaddr = p->p_vaddr + e->bias;
	uint64_t start = vaddr & MM_PAGE_MASK;
	uint64_t fend = vaddr + p->p_filesz, mend = vaddr + p->p_memsz;
	uint64_t anon = start;
	int prot = elf_prot(p->p_flags);
	long r;

	if (p->p_filesz > 0) {
		struct mm_file_map fm;
		elf_file_part(e, p, &fm);
		uint64_t flen = fm.len;
		bool zero = p->p_memsz > p->p_filesz && (fend & ~MM_PAGE_MASK);
		int mprot = fm.prot;
		if (mappable) {
			r = file_mapped ? 0
					: mm_map_file(t, start, flen, mprot,
						      fm.flags, e->f, fm.off);
		} else {
			mprot = PROT_READ | PROT_WRITE;
			r = mm_map_file(t, start, flen, mprot,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
					NULL, 0);
			if (r >= 0)
				r = elf_copy_in(t, e->f, start, fm.off,
						fend - start);
		}
		if (r < 0)
			return (int)r;
		/* The rest of the last file page is bss, not file bytes. */
		if (zero && mappable) {
			r = clear_user(t, fend, page_up(fend) - fend);
			if (r < 0)
				return (int)r;
		}
		if (mprot != prot) {
			r = mm_mprotect(t, start, flen, prot);
			if (r < 0)
				return (int)r;
		}
		anon = page_up(fend);
	} else if (mm_intersects(t->proc->mm, start, start + MM_PAGE)) {
		/* A bss-only segment sharing its first page with the previous
		 * segment: keep that page, zero our part of it. */
		anon = page_up(vaddr);
		if (anon > vaddr)
			clear_user(t, vaddr, anon - vaddr);
	}
	if (page_up(mend) > anon) {
		r = mm_map_file(t, anon, page_up(mend) - anon, prot,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, NULL,
				0);
		if (r < 0)
			return (int)r;
	}
	return 0;
}

/* Map every PT_LOAD; sets e->bias. hint: where an ET_DYN should go. */
static int elf_map(struct task *t, struct exec_elf *e, uint64_t hint)
{
	struct elf_info *in = &e->info;
	bool mappable = file_host_fd(e->f) >= 0;
	int err;

	e->bias = 0;
	if (in->type == ET_DYN) {
		/* Reserve the whole span where the host has room, aligned
		 * as the segments ask, then place the segments inside. */
		uint64_t align = in->max_align;
		if (align > (1UL << 30))
			align = 1UL << 30;
		uint64_t span = in->max_vaddr - in->min_vaddr;
		uint64_t total = span + align - MM_PAGE;
		long r = mm_map_file(t, hint, total, PROT_NONE,
				     MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0);
		if (r < 0)
			return (int)r;
		uint64_t base = ((uint64_t)r + align - 1) & ~(align - 1);
		if (base > (uint64_t)r)
			mm_munmap(t, r, base - r);
		if ((uint64_t)r + total > base + span)
			mm_munmap(t, base + span, r + total - (base + span));
		e->bias = base - in->min_vaddr;
	}
	/* The file parts of all segments in one go when no two segments
	 * share a page (else the order of the maps matters, as in Linux:
	 * each segment's file part, then its bss). */
	struct mm_file_map maps[MM_MAP_MANY_MAX];
	int n = 0;
	bool batch = mappable;
	uint64_t prev_end = 0;
	for (int i = 0; i < in->phnum && batch; i++) {
		const Elf64_Phdr *p = &in->phdrs[i];
		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		uint64_t vaddr = p->p_vaddr + e->bias;
		if ((vaddr & MM_PAGE_MASK) < prev_end) {
			batch = false;
			break;
		}
		prev_end = page_up(vaddr + p->p_memsz);
		if (p->p_filesz == 0)
			continue;
		if (n == MM_MAP_MANY_MAX) {
			batch = false;
			break;
		}
		elf_file_part(e, p, &maps[n++]);
	}
	if (batch && n > 0) {
		err = mm_map_file_many(t, e->f, n, maps);
		if (err)
			return err;
	}
	for (int i = 0; i < in->phnum; i++) {
		const Elf64_Phdr *p = &in->phdrs[i];
		if (p->p_type != PT_LOAD || p->p_memsz == 0)
			continue;
		err = elf_map_segment(t, e, p, mappable, batch);
		if (err)
			return err;
	}
	return 0;
}

static uint64_t elf_phdr_addr(const struct exec_elf *e)
{
	const struct elf_info *in = &e->info;
	if (in->phdr_vaddr)
		return in->phdr_vaddr + e->bias;
	for (int i = 0; i < in->phnum; i++)
		if (in->phdrs[i].p_type == PT_LOAD)
			return in->phdrs[i].p_vaddr - in->phdrs[i].p_offset +
			       in->phoff + e->bias;
	return 0;
}

/* ---- the initial stack ---- */

/* The stack image is laid out before the point of no return, relative to
 * the stack top, so the only thing left afterwards is to fix up the
 * pointers and copy it in with one write. */
struct exec_stack {
	char *buf;
	size_t size; /* bytes from sp to top */
	size_t argc, envc;
	size_t str_off;	 /* distance from top to argv[0]'s string */
	size_t env_off;	 /* ... to envp[0]'s string */
	size_t fn_off;	 /* ... to the execfn string */
	size_t plat_off; /* ... to "x86_64" */
	size_t rand_off; /* ... to the 16 random bytes */
};

static int stack_prepare(struct exec_stack *s, char *const *argv, size_t argc,
			 char *const *envp, size_t envc, const char *execfn)
{
	size_t strs = 0, fnlen = strlen(execfn) + 1;

	for (size_t i = 0; i < argc; i++)
		strs += strlen(argv[i]) + 1;
	size_t argstrs = strs;
	for (size_t i = 0; i < envc; i++)
		strs += strlen(envp[i]) + 1;
	s->argc = argc;
	s->envc = envc;
	s->fn_off = 8 + fnlen;
	s->str_off = s->fn_off + strs;
	s->env_off = s->str_off - argstrs;
	s->plat_off = s->str_off + sizeof("x86_64");
	s->rand_off = s->plat_off + 16;
	size_t p = (s->rand_off + 15) & ~15UL;
	size_t items = 1 + argc + 1 + envc + 1 + 2 * EXEC_NAUXV;
	s->size = (p + items * 8 + 15) & ~15UL;
	if (s->size > GUEST_STACK_SIZE / 2)
		return -E2BIG;
	s->buf = calloc(1, s->size);
	if (!s->buf)
		return -ENOMEM;

	char *at = s->buf + s->size - s->str_off;
	for (size_t i = 0; i < argc; i++) {
		size_t l = strlen(argv[i]) + 1;
		memcpy(at, argv[i], l);
		at += l;
	}
	for (size_t i = 0; i < envc; i++) {
		size_t l = strlen(envp[i]) + 1;
		memcpy(at, envp[i], l);
		at += l;
	}
	memcpy(s->buf + s->size - s->fn_off, execfn, fnlen);
	memcpy(s->buf + s->size - s->plat_off, "x86_64", sizeof("x86_64"));
	if (getrandom(s->buf + s->size - s->rand_off, 16, 0) != 16)
		return -EIO;
	return 0;
}

static void put64(struct exec_stack *s, size_t *idx, uint64_t v)
{
	memcpy(s->buf + *idx, &v, 8);
	*idx += 8;
}

/* Fill in argc, the pointer arrays and the auxv for a stack ending at
 * top; returns sp. */
static uint64_t stack_finish(struct exec_stack *s, uint64_t top,
			     const uint64_t *auxv, struct mm *mm)
{
	uint64_t sp = top - s->size;
	size_t idx = 0;
	uint64_t a = top - s->str_off;

	put64(s, &idx, s->argc);
	mm->arg_start = a;
	for (size_t i = 0; i < s->argc; i++) {
		put64(s, &idx, a);
		a += strlen(s->buf + (a - sp)) + 1;
	}
	mm->arg_end = a;
	put64(s, &idx, 0);
	mm->env_start = a;
	for (size_t i = 0; i < s->envc; i++) {
		put64(s, &idx, a);
		a += strlen(s->buf + (a - sp)) + 1;
	}
	mm->env_end = a;
	put64(s, &idx, 0);
	for (int i = 0; i < 2 * EXEC_NAUXV; i++)
		put64(s, &idx, auxv[i]);
	return sp;
}

/* ---- execve ---- */

static void exec_reset_signals(struct task *t)
{
	struct process *p = t->proc;
	tasklist_lock_take();
	for (int i = 0; i < BH_NSIG; i++) {
		struct ksigaction *ka = &p->sigactions[i];
		if (ka->handler != (uint64_t)(uintptr_t)SIG_IGN)
			ka->handler = (uint64_t)(uintptr_t)SIG_DFL;
		ka->flags = 0;
		ka->restorer = 0;
		ka->mask = 0;
	}
	t->altstack_sp = 0;
	t->altstack_size = 0;
	t->altstack_flags = SS_DISABLE;
	t->restart_fn = NULL;
	t->clear_child_tid = 0;
	t->robust_list = 0;
	t->robust_len = 0;
	tasklist_unlock();
}

static void exec_set_identity(struct task *t, const char *execfn,
			      struct file *exe, const char *cmd, size_t cmdlen)
{
	struct process *p = t->proc;
	/* Worked out first: the path walks the dentry tree, whose lock
	 * ranks below tasklist's. */
	char *path = malloc(sizeof(p->exe_path));
	char *c = malloc(cmdlen ? cmdlen : 1);
	if (!path || file_path(exe, path, sizeof(p->exe_path)) < 0) {
		free(path);
		path = strndup(execfn, sizeof(p->exe_path) - 1);
	}
	const char *base = strrchr(execfn, '/');
	base = base ? base + 1 : execfn;
	if (*base == '\0' && path) {
		const char *b2 = strrchr(path, '/');
		base = b2 ? b2 + 1 : path;
	}
	if (c)
		memcpy(c, cmd, cmdlen);
	tasklist_lock_take();
	/* comm is TASK_COMM_LEN (16) with the NUL: cut at 15 bytes. */
	size_t bl = strnlen(base, sizeof(p->comm) - 1);
	memcpy(p->comm, base, bl);
	p->comm[bl] = '\0';
	if (path)
		snprintf(p->exe_path, sizeof(p->exe_path), "%s", path);
	char *oldcmd = NULL;
	if (c) {
		oldcmd = p->cmdline;
		p->cmdline = c;
		p->cmdline_len = cmdlen;
	}
	tasklist_unlock();
	free(oldcmd);
	free(path);
}

/* After the point of no return: build the new image. */
static int exec_build(struct task *t, struct exec_elf *main_elf,
		      struct exec_elf *interp, struct exec_stack *st)
{
	struct mm *mm = t->proc->mm;
	struct cred *cr = &t->cred;
	uint64_t hint = 0;
	int err;

	mm_unmap_all(t);
	if (main_elf->info.type == ET_DYN)
		hint = EXEC_DYN_BASE + (rnd_u64() % EXEC_RND_PAGES) * MM_PAGE;
	err = elf_map(t, main_elf, hint);
	if (err)
		return err;
	if (interp) {
		err = elf_map(t, interp, 0);
		if (err)
			return err;
	}
	mm_lock(mm);
	mm->brk_start = mm->brk = main_elf->info.max_vaddr + main_elf->bias;
	mm_unlock(mm);

	/* Below the stub, with a random gap, like a randomised stack top. */
	uint64_t shint = STUB_BASE - GUEST_STACK_SIZE -
			 (rnd_u64() % (EXEC_RND_PAGES / 4)) * MM_PAGE;
	long sb =
	    mm_map_named(t, shint, GUEST_STACK_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, NULL, 0, "[stack]");
	if (sb < 0)
		return (int)sb;
	uint64_t top = (uint64_t)sb + GUEST_STACK_SIZE;

	uint64_t entry = main_elf->info.entry + main_elf->bias;
	uint64_t at_base = 0, start = entry;
	if (interp) {
		at_base = interp->bias + interp->info.min_vaddr;
		start = interp->info.entry + interp->bias;
	}
	unsigned long minsig = getauxval(AT_MINSIGSTKSZ);
	uint64_t auxv[2 * EXEC_NAUXV] = {
	    AT_PHDR,	    elf_phdr_addr(main_elf),
	    AT_PHENT,	    sizeof(Elf64_Phdr),
	    AT_PHNUM,	    main_elf->info.phnum,
	    AT_PAGESZ,	    MM_PAGE,
	    AT_BASE,	    at_base,
	    AT_FLAGS,	    0,
	    AT_ENTRY,	    entry,
	    AT_UID,	    cr->uid,
	    AT_EUID,	    cr->euid,
	    AT_GID,	    cr->gid,
	    AT_EGID,	    cr->egid,
	    AT_SECURE,	    0,
	    AT_RANDOM,	    top - st->rand_off,
	    AT_HWCAP,	    getauxval(AT_HWCAP),
	    AT_HWCAP2,	    getauxval(AT_HWCAP2),
	    AT_CLKTCK,	    100,
	    AT_PLATFORM,    top - st->plat_off,
	    AT_EXECFN,	    top - st->fn_off,
	    AT_MINSIGSTKSZ, minsig ? minsig : 2048,
	    AT_NULL,	    0,
	};
	mm_lock(mm);
	uint64_t sp = stack_finish(st, top, auxv, mm);
	mm->start_stack = sp;
	memcpy(mm->auxv, auxv, sizeof(auxv));
	mm->auxv_len = 2 * EXEC_NAUXV;
	mm_unlock(mm);
	err = copy_to_user(t, sp, st->buf, st->size);
	if (err)
		return err;

	plat_fpregs fp;	      /* 4 KiB: sentry threads have 1 MiB stacks */
	plat_fp_default(&fp); /* FNINIT, all SSE exceptions masked */
	err = platform->set_fpregs(t->pt, &fp);
	if (err)
		return err;

	memset(&t->regs, 0, sizeof(t->regs));
	t->regs.rip = start;
	t->regs.rsp = sp;
	t->regs.cs = 0x33;
	t->regs.ss = 0x2b;
	t->regs.eflags = 0x202;
	t->regs.fs_base = 0;
	return 0;
}

static int exec_open(struct task *t, int dirfd, const char *path, int flags,
		     struct file **f)
{
	if ((flags & AT_EMPTY_PATH) && path[0] == '\0') {
		*f = fd_get(t->files, dirfd);
		return *f ? 0 : -EBADF;
	}
	int oflags = O_RDONLY | O_CLOEXEC;
	if (flags & AT_SYMLINK_NOFOLLOW)
		oflags |= O_NOFOLLOW;
	return vfs_open(t, dirfd, path, oflags, 0, f);
}

int kernel_execveat(struct task *t, int dirfd, const char *path,
		    char *const argv[], char *const envp[], int flags)
{
	struct exec_args args = {0};
	struct exec_elf *elf = NULL, *interp = NULL;
	struct exec_stack st = {0};
	struct file *f = NULL;
	char execfn[PATH_MAX + 32];
	char *buf = NULL, *cur;
	size_t argc, envc, bytes = 0;
	int err, depth = 0;
	bool denied = false; /* elf->f's write access, until the mm has it */

	if (path[0] == '/' || dirfd == AT_FDCWD)
		snprintf(execfn, sizeof(execfn), "%s", path);
	else if (path[0] == '\0')
		snprintf(execfn, sizeof(execfn), "/dev/fd/%d", dirfd);
	else
		snprintf(execfn, sizeof(execfn), "/dev/fd/%d/%s", dirfd, path);

	err = vec_size(argv, &argc, &bytes);
	if (!err)
		err = vec_size(envp, &envc, &bytes);
	if (err)
		return err;
	for (size_t i = 0; i < argc && !err; i++)
		err = args_push(&args, argv[i]);
	/* Linux gives a program run with an empty argv one "" argument. */
	if (!err && argc == 0)
		err = args_push(&args, "");
	buf = malloc(MM_PAGE);
	elf = calloc(1, sizeof(*elf));
	if (!err && (!buf || !elf))
		err = -ENOMEM;
	if (err)
		goto out;

	err = exec_open(t, dirfd, path, flags, &f);
	cur = execfn;
	for (;;) {
		if (err)
			goto out;
		err = file_may_exec(t, f);
		if (err)
			goto out;
		ssize_t n = file_kread(f, buf, MM_PAGE, 0);
		if (n < 0) {
			err = (int)n;
			goto out;
		}
		if (n < 2 || buf[0] != '#' || buf[1] != '!') {
			/* As Linux's do_open_execat: a file open for writing
			 * is not run, and is not written while it runs. */
			err = inode_deny_write_access(f->inode);
			if (err)
				goto out;
			denied = true;
			elf->f = f;
			f = NULL;
			err = elf_load_headers(elf, buf, n);
			break;
		}
		if (++depth > EXEC_MAX_SCRIPT_DEPTH) {
			err = -ELOOP;
			goto out;
		}
		char line[EXEC_SCRIPT_BUF], *iname, *iarg;
		memset(line, 0, sizeof(line));
		memcpy(line, buf, n < EXEC_SCRIPT_BUF ? n : EXEC_SCRIPT_BUF);
		err = script_parse(line, &iname, &iarg);
		if (err)
			goto out;
		/* argv becomes [interp, (arg), script path, argv[1..]]. */
		struct exec_args na = {0};
		memcpy(na.owned, args.owned, sizeof(args.owned));
		na.nowned = args.nowned;
		char *si = args_own(&na, iname);
		char *sa = iarg ? args_own(&na, iarg) : NULL;
		char *sp = args_own(&na, cur);
		err = (!si || (iarg && !sa) || !sp) ? -ENOMEM : 0;
		if (!err)
			err = args_push(&na, si);
		if (!err && sa)
			err = args_push(&na, sa);
		if (!err)
			err = args_push(&na, sp);
		for (size_t i = 1; i < args.n && !err; i++)
			err = args_push(&na, args.v[i]);
		free(args.v);
		args = na;
		if (err)
			goto out;
		bytes = 0;
		err = vec_size(args.v, &argc, &bytes);
		if (!err)
			err = vec_size(envp, &envc, &bytes);
		if (err)
			goto out;
		file_put(f);
		f = NULL;
		cur = si;
		err = vfs_open(t, AT_FDCWD, si, O_RDONLY | O_CLOEXEC, 0, &f);
	}
	if (err)
		goto out;
	err = elf_check_fixed(&elf->info);
	if (err)
		goto out;

	if (elf->info.has_interp) {
		interp = calloc(1, sizeof(*interp));
		if (!interp) {
			err = -ENOMEM;
			goto out;
		}
		err = vfs_open(t, AT_FDCWD, elf->info.interp,
			       O_RDONLY | O_CLOEXEC, 0, &interp->f);
		if (err)
			goto out;
		err = file_may_exec(t, interp->f);
		if (err)
			goto out;
		ssize_t n = file_kread(interp->f, buf, MM_PAGE, 0);
		if (n < 0) {
			err = (int)n;
			goto out;
		}
		err = elf_load_headers(interp, buf, n);
		if (err == -ENOEXEC)
			err = -ELIBBAD;
		if (!err)
			err = elf_check_fixed(&interp->info);
		if (err)
			goto out;
	}
	err = stack_prepare(&st, args.v, args.n, envp, envc, execfn);
	if (err)
		goto out;

	/* The point of no return. */
	err = task_exec_begin(t);
	if (err)
		goto out;
	exec_reset_signals(t);
	/* The other threads are gone; a table still shared is another
	 * process's (CLONE_FILES), and exec must not close its fds. */
	err = fdtable_unshare(t);
	if (err) {
		err = -EXEC_FATAL;
		goto out;
	}
	fdtable_close_on_exec(t->files);
	err = exec_build(t, elf, interp, &st);
	if (err) {
		bh_warn("execve %s: failed after the point of no return: %s",
			execfn, strerror(-err));
		err = -EXEC_FATAL;
		goto out;
	}
	/* The argv strings are contiguous: that is /proc/pid/cmdline. */
	exec_set_identity(t, execfn, elf->f, st.buf + st.size - st.str_off,
			  st.str_off - st.env_off);
	mm_set_exe_file(t->proc->mm, elf->f);
	elf->f = NULL;
	denied = false;
	task_exec_done(t);
out:
	if (denied)
		inode_allow_write_access(elf->f->inode);
	if (f)
		file_put(f);
	if (elf && elf->f)
		file_put(elf->f);
	if (interp && interp->f)
		file_put(interp->f);
	free(elf);
	free(interp);
	free(buf);
	free(st.buf);
	args_free(&args);
	return err;
}

int kernel_execve(struct task *t, const char *path, char *const argv[],
		  char *const envp[])
{
	return kernel_execveat(t, AT_FDCWD, path, argv, envp, 0);
}
