/* Guest address-space operations: validate like Linux, change the stub's
 * real mappings with host syscalls run inside it, then update the VMA list.
 * Anything that could fail in the bookkeeping (allocation) is done before
 * the host call, so the list and the stub never disagree. */
#include "sentry/mm/mm.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/vma.h"
#include "sentry/platform/platform.h"
#include "sentry/vfs/fs.h"
#include "sentry/vfs/vfs.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MAP_SHARED_VALIDATE
#define MAP_SHARED_VALIDATE 0x03
#endif
#ifndef MAP_SYNC
#define MAP_SYNC 0x80000
#endif
#ifndef MAP_UNINITIALIZED
#define MAP_UNINITIALIZED 0x4000000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

#ifndef PROT_SEM
#define PROT_SEM 0x8
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE 101
#endif

#define MAP_TYPE_MASK 0x0f
#define MAP_HUGE_BITS (0x3fU << 26)
/* Flags that change nothing the guest can observe here, or that we
 * cannot honour (locking, growing stacks): accepted and dropped. */
#define MAP_IGNORED                                                            \
	(MAP_GROWSDOWN | MAP_DENYWRITE | MAP_EXECUTABLE | MAP_LOCKED |         \
	 MAP_POPULATE | MAP_NONBLOCK | MAP_STACK | MAP_UNINITIALIZED)
/* Flags passed through to the host mmap. */
#define MAP_PASSED (MAP_ANONYMOUS | MAP_NORESERVE | MAP_32BIT)
#define MAP_KNOWN                                                              \
	(MAP_TYPE_MASK | MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_PASSED |        \
	 MAP_IGNORED | MAP_HUGETLB | MAP_HUGE_BITS | MAP_SYNC)
#define PROT_KNOWN (PROT_READ | PROT_WRITE | PROT_EXEC | PROT_SEM)

static uint64_t page_up(uint64_t x)
{
	return (x + MM_PAGE - 1) & MM_PAGE_MASK;
}

static bool touches_stub(uint64_t s, uint64_t e)
{
	return s < STUB_END && e > STUB_BASE;
}

static long host(struct task *t, long nr, long a0, long a1, long a2, long a3,
		 long a4, long a5)
{
	return platform->syscall(t->pt, nr, a0, a1, a2, a3, a4, a5);
}

/* ---- lifetime ---- */

struct mm *mm_new(void)
{
	struct mm *mm = calloc(1, sizeof(*mm));
	if (!mm)
		return NULL;
	mm->refs = 1;
	kmutex_init(&mm->lock, "mm", LR_MM);
	mm->vmas = (struct rb_root)RB_ROOT_INIT;
	return mm;
}

struct mm *mm_dup(struct mm *old)
{
	struct mm *mm = mm_new();

	if (!mm)
		return NULL;
	*mm = *old;
	kmutex_init(&mm->lock, "mm", LR_MM);
	mm->vmas = (struct rb_root)RB_ROOT_INIT;
	mm->map_count = 0;
	mm->total_pages = 0;
	mm->refs = 1;
	mm->exe_file = NULL; /* taken below, once nothing can fail */
	for (struct vma *o = vma_first(old); o; o = vma_next(old, o)) {
		struct vma *v = vma_new();
		if (!v) {
			mm_put(mm);
			return NULL;
		}
		*v = *o;
		if (v->file)
			file_get(v->file);
		vma_insert(mm, v);
	}
	if (old->exe_file) {
		/* Cannot fail: the old mm's denial keeps writers out. */
		file_get(old->exe_file);
		(void)inode_deny_write_access(old->exe_file->inode);
		mm->exe_file = old->exe_file;
	}
	return mm;
}

void mm_get(struct mm *mm)
{
	atomic_fetch_add(&mm->refs, 1);
}

void mm_put(struct mm *mm)
{
	if (!mm || atomic_fetch_sub(&mm->refs, 1) > 1)
		return;
	vma_free_all(mm);
	mm_set_exe_file(mm, NULL);
	free(mm);
}

void mm_set_exe_file(struct mm *mm, struct file *f)
{
	if (mm->exe_file) {
		inode_allow_write_access(mm->exe_file->inode);
		file_put(mm->exe_file);
	}
	mm->exe_file = f;
}

/* ---- mapping ---- */

/* File modes vs. the requested mapping, as Linux's do_mmap. */
static int check_file_mode(struct file *f, int prot, int type, bool *no_write)
{
	*no_write = false;
	if (!(f->fmode & FMODE_READ))
		return -EACCES;
	if (type == MAP_SHARED) {
		if (!(f->fmode & FMODE_WRITE)) {
			if (prot & PROT_WRITE)
				return -EACCES;
			*no_write = true;
		} else if ((prot & PROT_WRITE) && (f->flags & O_APPEND)) {
			return -EACCES;
		}
	}
	return 0;
}

/* One mapping on its way: checked, made on the host, then recorded. */
struct map_req {
	uint64_t addr, len, off;
	int prot, type;
	bool fixed, noreplace, no_write;
	long hflags;
	struct file *file;
	const char *name;
	struct vma *v;
	struct vma_spares sp;
};

static void map_req_drop(struct map_req *q)
{
	vma_free(q->v);
	vma_spares_put(&q->sp);
	q->v = NULL;
}

/* Check a request and take what recording it will need; 0 or -errno. */
static long map_check(struct task *t, struct map_req *q, uint64_t addr,
		      uint64_t len, int prot, int flags, struct file *file,
		      uint64_t off, const char *name)
{
	struct mm *mm = t->proc->mm;
	long err;

	memset(q, 0, sizeof(*q));
	q->type = flags & MAP_TYPE_MASK;
	q->fixed = flags & MAP_FIXED;
	q->noreplace = !q->fixed && (flags & MAP_FIXED_NOREPLACE);
	len = page_up(len);
	if (len == 0 || len > GUEST_TASK_SIZE)
		return -ENOMEM;
	if (q->type == MAP_SHARED_VALIDATE)
		q->type = MAP_SHARED;
	if (q->fixed || q->noreplace) {
		if (addr & ~MM_PAGE_MASK)
			return -EINVAL;
		if (addr > GUEST_TASK_SIZE - len)
			return -ENOMEM;
		if (addr < GUEST_MMAP_MIN)
			return -EPERM;
		if (touches_stub(addr, addr + len))
			return -EINVAL;
		if (q->noreplace && vma_intersects(mm, addr, addr + len))
			return -EEXIST;
	} else {
		addr = page_up(addr);
		/* A hint the host must not honour is dropped, not refused. */
		if (addr < GUEST_MMAP_MIN || addr > GUEST_TASK_SIZE - len ||
		    touches_stub(addr, addr + len))
			addr = 0;
	}
	if (file) {
		err = check_file_mode(file, prot, q->type, &q->no_write);
		if (err)
			return err;
	}
	if (mm->map_count + 2 > MM_MAX_MAP_COUNT)
		return -ENOMEM;
	q->v = vma_new();
	if (!q->v || vma_spares_get(&q->sp) < 0) {
		map_req_drop(q);
		return -ENOMEM;
	}
	q->hflags = q->type | (flags & MAP_PASSED);
	if (q->fixed)
		q->hflags |= MAP_FIXED;
	else if (q->noreplace)
		q->hflags |= MAP_FIXED_NOREPLACE;
	q->hflags =
	    file ? q->hflags & ~MAP_ANONYMOUS : q->hflags | MAP_ANONYMOUS;
	q->addr = addr;
	q->len = len;
	q->off = file ? off : 0;
	q->prot = prot;
	q->file = file;
	q->name = name;
	return 0;
}

/* Make a checked request on the host: the address or -errno. */
static long map_host(struct task *t, const struct map_req *q)
{
	if (!q->file)
		return host(t, __NR_mmap, q->addr, q->len, q->prot, q->hflags,
			    -1, 0);
	int hfd = file_host_fd(q->file);
	if (hfd < 0)
		return hfd;
	if (platform->syscalls_fd) {
		const struct plat_call c = {__NR_mmap,
					    {(long)q->addr, (long)q->len,
					     q->prot, q->hflags, -1,
					     (long)q->off}};
		long r;
		int n = platform->syscalls_fd(t->pt, hfd, 4, 1, &c, &r);
		return n == 1 ? r : n < 0 ? n : r;
	}
	int sfd = platform->install_fd(t->pt, hfd);
	if (sfd < 0)
		return sfd;
	long r = host(t, __NR_mmap, q->addr, q->len, q->prot, q->hflags, sfd,
		      q->off);
	host(t, __NR_close, sfd, 0, 0, 0, 0, 0);
	return r;
}

/* Record what the host made of a request (r: its answer), or undo it. */
static long map_record(struct task *t, struct map_req *q, long r)
{
	struct mm *mm = t->proc->mm;
	uint64_t len = q->len;

	if (r < 0 && r > -4096) {
		map_req_drop(q);
		return r;
	}
	uint64_t got = (uint64_t)r;
	if ((got & ~MM_PAGE_MASK) || got < GUEST_MMAP_MIN ||
	    got > GUEST_TASK_SIZE - len || touches_stub(got, got + len) ||
	    ((q->fixed || q->noreplace) && got != q->addr)) {
		/* The host placed it where the guest may not have it. */
		if (!q->fixed)
			host(t, __NR_munmap, got, len, 0, 0, 0, 0);
		map_req_drop(q);
		return -ENOMEM;
	}

	/* MAP_FIXED replaced whatever was there; for host-placed mappings
	 * the host knows the range was free, so stale entries go too. */
	struct vma *v = q->v;
	vma_remove_range(mm, got, got + len, &q->sp);
	v->start = got;
	v->end = got + len;
	v->prot = q->prot;
	v->flags = q->type | (q->file ? 0 : MAP_ANONYMOUS);
	v->pgoff = q->off;
	v->shm_id = 0;
	if (q->type == MAP_SHARED && !q->file) {
		static _Atomic uint64_t next_shm_id;
		v->shm_id = atomic_fetch_add(&next_shm_id, 1) + 1;
	}
	v->no_write = q->no_write;
	if (q->file) {
		file_get(q->file);
		v->file = q->file;
	}
	if (q->name)
		snprintf(v->name, sizeof(v->name), "%s", q->name);
	vma_insert(mm, v);
	vma_merge_range(mm, got, got + len);
	vma_spares_put(&q->sp);
	q->v = NULL;
	return (long)got;
}

static long map_named_locked(struct task *t, uint64_t addr, uint64_t len,
			     int prot, int flags, struct file *file,
			     uint64_t off, const char *name)
{
	struct map_req q;
	long err = map_check(t, &q, addr, len, prot, flags, file, off, name);
	if (err)
		return err;
	return map_record(t, &q, map_host(t, &q));
}

static int map_file_many_locked(struct task *t, struct file *file, int n,
				const struct mm_file_map *maps)
{
	struct map_req q[MM_MAP_MANY_MAX];
	struct plat_call c[MM_MAP_MANY_MAX];
	long rets[MM_MAP_MANY_MAX];
	long err = 0;
	int i, done = 0;

	if (n <= 0 || n > MM_MAP_MANY_MAX)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		const struct mm_file_map *m = &maps[i];
		err = map_check(t, &q[i], m->addr, m->len, m->prot,
				m->flags | MAP_FIXED, file, m->off, NULL);
		if (err) {
			while (i-- > 0)
				map_req_drop(&q[i]);
			return (int)err;
		}
	}
	int hfd = file_host_fd(file);
	if (platform->syscalls_fd && hfd >= 0) {
		/* One round trip and one fd for every segment. */
		for (i = 0; i < n; i++)
			c[i] = (struct plat_call){
			    __NR_mmap,
			    {(long)q[i].addr, (long)q[i].len, q[i].prot,
			     q[i].hflags, -1, (long)q[i].off}};
		done = platform->syscalls_fd(t->pt, hfd, 4, n, c, rets);
		if (done < 0)
			err = done;
	}
	for (i = 0; i < n; i++) {
		long r;
		if (platform->syscalls_fd && hfd >= 0)
			r = i < done ? rets[i] : err ? err : -ECANCELED;
		else
			r = map_host(t, &q[i]);
		r = map_record(t, &q[i], r);
		if (r < 0 && !err)
			err = r;
	}
	return (int)err;
}

long mm_map_file(struct task *t, uint64_t addr, uint64_t len, int prot,
		 int flags, struct file *file, uint64_t off)
{
	return mm_map_named(t, addr, len, prot, flags, file, off, NULL);
}

long mm_mmap(struct task *t, uint64_t addr, uint64_t len, int prot, int flags,
	     int fd, uint64_t off)
{
	int type = flags & MAP_TYPE_MASK;
	struct file *f = NULL;
	long r;

	if (off & ~MM_PAGE_MASK)
		return -EINVAL;
	if (type != MAP_SHARED && type != MAP_PRIVATE &&
	    type != MAP_SHARED_VALIDATE)
		return -EINVAL;
	/* Only MAP_SHARED_VALIDATE refuses unknown flags; the others ignore
	 * them, as Linux does for old binaries. */
	if (type == MAP_SHARED_VALIDATE && (flags & ~MAP_KNOWN))
		return -EOPNOTSUPP;
	if (flags & MAP_SYNC) {
		if (type == MAP_SHARED_VALIDATE)
			return -EOPNOTSUPP; /* no DAX here */
		flags &= ~MAP_SYNC;
	}
	if (prot & ~PROT_KNOWN)
		return -EINVAL;
	if (len == 0)
		return -EINVAL;
	if (page_up(len) == 0 || page_up(len) > GUEST_TASK_SIZE)
		return -ENOMEM;
	if ((off + page_up(len)) < off)
		return -EOVERFLOW;
	if (flags & MAP_HUGETLB)
		return -ENOMEM; /* like a kernel with no huge pages reserved */
	flags &= MAP_TYPE_MASK | MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_PASSED;

	if (!(flags & MAP_ANONYMOUS)) {
		f = fd_get(t->files, fd);
		if (!f)
			return -EBADF;
	} else {
		off = 0;
	}
	r = mm_map_named(t, addr, len, prot, flags, f, off, NULL);
	if (f)
		file_put(f);
	return r;
}

/* Unmap the parts of [s, e) the guest has mapped, one host call per run
 * of adjacent VMAs: host mappings the sentry did not make are left
 * alone. */
static long unmap_range(struct task *t, uint64_t s, uint64_t e)
{
	struct mm *mm = t->proc->mm;
	struct vma_spares sp;
	struct vma *v;

	if (!vma_intersects(mm, s, e))
		return 0;
	if (vma_spares_get(&sp) < 0)
		return -ENOMEM;
	vma_isolate(mm, s, e, &sp);
	v = vma_find(mm, s);
	while (v && v->start < e) {
		uint64_t rs = v->start, re = v->end;
		struct vma *nx = vma_next(mm, v);
		while (nx && nx->start == re && nx->start < e) {
			re = nx->end;
			nx = vma_next(mm, nx);
		}
		long r = host(t, __NR_munmap, rs, re - rs, 0, 0, 0, 0);
		if (r < 0) {
			vma_spares_put(&sp);
			return r;
		}
		vma_remove_range(mm, rs, re, &sp);
		v = nx;
	}
	vma_spares_put(&sp);
	return 0;
}

static long munmap_locked(struct task *t, uint64_t addr, uint64_t len)
{
	if ((addr & ~MM_PAGE_MASK) || len == 0)
		return -EINVAL;
	len = page_up(len);
	if (len == 0 || len > GUEST_TASK_SIZE || addr > GUEST_TASK_SIZE - len)
		return -EINVAL;
	if (touches_stub(addr, addr + len))
		return -ENOMEM;
	return unmap_range(t, addr, addr + len);
}

static long mprotect_locked(struct task *t, uint64_t addr, uint64_t len,
			    int prot)
{
	struct mm *mm = t->proc->mm;
	struct vma_spares sp;
	struct vma *v;

	if (addr & ~MM_PAGE_MASK)
		return -EINVAL;
	if (prot & ~(PROT_KNOWN | PROT_GROWSDOWN | PROT_GROWSUP))
		return -EINVAL;
	if ((prot & PROT_GROWSDOWN) && (prot & PROT_GROWSUP))
		return -EINVAL;
	if (len == 0)
		return 0;
	len = page_up(len);
	if (len == 0 || len > GUEST_TASK_SIZE || addr > GUEST_TASK_SIZE - len)
		return -ENOMEM;
	uint64_t s = addr, e = addr + len;
	if (touches_stub(s, e))
		return -ENOMEM;
	if (prot & PROT_GROWSUP)
		return -EINVAL; /* x86 has no grows-up mappings */
	if (prot & PROT_GROWSDOWN) {
		/* Only the stack grows down: extend to its bottom (ld.so's
		 * _dl_make_stack_executable relies on this). */
		v = vma_find(mm, s);
		if (!v || v->start > s || strcmp(v->name, "[stack]") != 0)
			return -EINVAL;
		s = v->start;
		prot &= ~PROT_GROWSDOWN;
	}
	if (!vma_covers(mm, s, e))
		return -ENOMEM;
	for (v = vma_find(mm, s); v && v->start < e; v = vma_next(mm, v))
		if (v->no_write && (prot & PROT_WRITE))
			return -EACCES;
	if (mm->map_count + 2 > MM_MAX_MAP_COUNT)
		return -ENOMEM;
	if (vma_spares_get(&sp) < 0)
		return -ENOMEM;
	long r = host(t, __NR_mprotect, s, e - s, prot, 0, 0, 0);
	if (r < 0) {
		vma_spares_put(&sp);
		return r;
	}
	vma_isolate(mm, s, e, &sp);
	for (v = vma_find(mm, s); v && v->start < e; v = vma_next(mm, v))
		v->prot = prot;
	vma_merge_range(mm, s, e);
	vma_spares_put(&sp);
	return 0;
}

static long brk_locked(struct task *t, uint64_t newbrk)
{
	struct mm *mm = t->proc->mm;
	uint64_t old_end = page_up(mm->brk), new_end;

	if (newbrk < mm->brk_start || newbrk > GUEST_TASK_SIZE)
		return (long)mm->brk;
	new_end = page_up(newbrk);
	if (new_end == old_end) {
		mm->brk = newbrk;
		return (long)mm->brk;
	}
	if (new_end < old_end) {
		if (unmap_range(t, new_end, old_end) == 0)
			mm->brk = newbrk;
		return (long)mm->brk;
	}
	struct rlimit *rl = &t->proc->rlimits[RLIMIT_DATA];
	if (rl->rlim_cur != RLIM_INFINITY &&
	    new_end - page_up(mm->brk_start) > rl->rlim_cur)
		return (long)mm->brk;
	if (touches_stub(old_end, new_end) ||
	    vma_intersects(mm, old_end, new_end))
		return (long)mm->brk;
	long r = map_named_locked(
	    t, old_end, new_end - old_end, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, NULL, 0,
	    "[heap]");
	if (r >= 0)
		mm->brk = newbrk;
	return (long)mm->brk;
}

static long mremap_locked(struct task *t, uint64_t old, uint64_t oldlen,
			  uint64_t newlen, int flags, uint64_t newaddr)
{
	struct mm *mm = t->proc->mm;
	struct vma_spares sp;
	struct vma *v, *nv;

	if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP))
		return -EINVAL;
	if ((flags & MREMAP_FIXED) && !(flags & MREMAP_MAYMOVE))
		return -EINVAL;
	if ((flags & MREMAP_DONTUNMAP) &&
	    (!(flags & MREMAP_MAYMOVE) || oldlen != newlen))
		return -EINVAL;
	if (old & ~MM_PAGE_MASK)
		return -EINVAL;
	oldlen = page_up(oldlen);
	newlen = page_up(newlen);
	if (newlen == 0 || newlen > GUEST_TASK_SIZE || oldlen > GUEST_TASK_SIZE)
		return -EINVAL;
	if (old > GUEST_TASK_SIZE - oldlen || touches_stub(old, old + oldlen))
		return -EFAULT;
	if (flags & MREMAP_FIXED) {
		if (newaddr & ~MM_PAGE_MASK)
			return -EINVAL;
		if (newaddr > GUEST_TASK_SIZE - newlen ||
		    newaddr < GUEST_MMAP_MIN ||
		    touches_stub(newaddr, newaddr + newlen))
			return -EINVAL;
		if (newaddr < old + oldlen && old < newaddr + newlen)
			return -EINVAL;
	}
	/* The source must lie inside one VMA, as in Linux. */
	v = vma_find(mm, old);
	if (!v || v->start > old)
		return -EFAULT;
	if (oldlen == 0) {
		/* Duplicating a mapping works only for shared ones. */
		if (!(v->flags & MAP_SHARED) || !(flags & MREMAP_MAYMOVE))
			return -EINVAL;
	} else if (old + oldlen > v->end) {
		return -EFAULT;
	}
	if ((flags & MREMAP_DONTUNMAP) && (v->flags & MAP_SHARED))
		return -EINVAL;
	if (mm->map_count + 3 > MM_MAX_MAP_COUNT)
		return -ENOMEM;
	nv = vma_new();
	if (!nv)
		return -ENOMEM;
	if (vma_spares_get(&sp) < 0) {
		vma_free(nv);
		return -ENOMEM;
	}
	long r = host(t, __NR_mremap, old, oldlen, newlen, flags, newaddr, 0);
	uint64_t got = (uint64_t)r;
	if (r < 0 && r > -4096)
		goto out;
	if (touches_stub(got, got + newlen) || got > GUEST_TASK_SIZE - newlen) {
		/* Cannot happen with a sane host; the guest keeps its data
		 * but the mapping is no longer tracked where it landed. */
		r = -ENOMEM;
		goto out;
	}
	/* Describe the new range from the source VMA before the source's
	 * bookkeeping changes. */
	*nv = *v;
	nv->pgoff = v->file || v->shm_id ? v->pgoff + (old - v->start) : 0;
	if (nv->file)
		file_get(nv->file);
	nv->start = got;
	nv->end = got + newlen;
	if (got == old) {
		/* In place: grown or shrunk at the end. */
		uint64_t span = newlen > oldlen ? newlen : oldlen;
		vma_remove_range(mm, old, old + span, &sp);
	} else {
		if (!(flags & MREMAP_DONTUNMAP) && oldlen)
			vma_remove_range(mm, old, old + oldlen, &sp);
		vma_remove_range(mm, got, got + newlen, &sp);
	}
	vma_insert(mm, nv);
	nv = NULL;
	vma_merge_range(mm, got, got + newlen);
out:
	vma_free(nv);
	vma_spares_put(&sp);
	return r;
}

static long madvise_locked(struct task *t, uint64_t addr, uint64_t len,
			   int advice)
{
	struct mm *mm = t->proc->mm;
	bool forward = false;

	if (addr & ~MM_PAGE_MASK)
		return -EINVAL;
	switch (advice) {
	case MADV_DONTNEED:
	case MADV_FREE:
	case MADV_REMOVE:
	case MADV_WIPEONFORK:
	case MADV_KEEPONFORK:
		forward = true;
		break;
	case MADV_NORMAL:
	case MADV_RANDOM:
	case MADV_SEQUENTIAL:
	case MADV_WILLNEED:
	case MADV_DONTFORK:
	case MADV_DOFORK:
	case MADV_MERGEABLE:
	case MADV_UNMERGEABLE:
	case MADV_HUGEPAGE:
	case MADV_NOHUGEPAGE:
	case MADV_DONTDUMP:
	case MADV_DODUMP:
	case 20: /* MADV_COLD */
	case 21: /* MADV_PAGEOUT */
	case 22: /* MADV_POPULATE_READ */
	case 23: /* MADV_POPULATE_WRITE */
		break;
	case MADV_HWPOISON:
	case MADV_SOFT_OFFLINE:
		return -EPERM;
	default:
		return -EINVAL;
	}
	uint64_t end = page_up(addr + len);
	if (end < addr || end > GUEST_TASK_SIZE)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (touches_stub(addr, end))
		return -ENOMEM;
	/* Apply to the mapped parts, then report a hole like Linux. */
	for (struct vma *v = vma_find(mm, addr); v && v->start < end;
	     v = vma_next(mm, v)) {
		if (!forward)
			continue;
		uint64_t s = v->start > addr ? v->start : addr;
		uint64_t e = v->end < end ? v->end : end;
		if (advice == MADV_WIPEONFORK && !(v->flags & MAP_ANONYMOUS))
			return -EINVAL;
		long r = host(t, __NR_madvise, s, e - s, advice, 0, 0, 0);
		if (r < 0)
			return r;
	}
	return vma_covers(mm, addr, end) ? 0 : -ENOMEM;
}

static long msync_locked(struct task *t, uint64_t addr, uint64_t len, int flags)
{
	struct mm *mm = t->proc->mm;

	if (addr & ~MM_PAGE_MASK)
		return -EINVAL;
	if (flags & ~(MS_ASYNC | MS_INVALIDATE | MS_SYNC))
		return -EINVAL;
	if ((flags & MS_ASYNC) && (flags & MS_SYNC))
		return -EINVAL;
	uint64_t end = page_up(addr + len);
	if (end < addr || end > GUEST_TASK_SIZE)
		return -ENOMEM;
	if (len == 0)
		return 0;
	if (touches_stub(addr, end))
		return -ENOMEM;
	for (struct vma *v = vma_find(mm, addr); v && v->start < end;
	     v = vma_next(mm, v)) {
		if (!v->file || !(v->flags & MAP_SHARED))
			continue;
		uint64_t s = v->start > addr ? v->start : addr;
		uint64_t e = v->end < end ? v->end : end;
		long r = host(t, __NR_msync, s, e - s, flags, 0, 0, 0);
		if (r < 0)
			return r;
	}
	return vma_covers(mm, addr, end) ? 0 : -ENOMEM;
}

static void unmap_all_locked(struct task *t)
{
	struct mm *mm = t->proc->mm;

	/* Below the stub the host keeps nothing of its own (the stub is
	 * linked at STUB_BASE; its stack and vDSO are at the top), so one
	 * call clears all of it; each call is a round trip to the stub.
	 * Above the stub only the guest's own mappings go: the host stack
	 * there holds the stub's /proc cmdline. */
	host(t, __NR_munmap, GUEST_MMAP_MIN, STUB_BASE - GUEST_MMAP_MIN, 0, 0,
	     0, 0);
	for (struct vma *v = vma_find(mm, STUB_BASE); v; v = vma_next(mm, v))
		host(t, __NR_munmap, v->start, v->end - v->start, 0, 0, 0, 0);
	vma_free_all(mm);
	mm->brk_start = mm->brk = mm->start_stack = 0;
	mm->arg_start = mm->arg_end = mm->env_start = mm->env_end = 0;
	mm->auxv_len = 0;
}

size_t mm_render_maps(struct mm *mm, uint64_t *from, char *buf, size_t cap)
{
	size_t len = 0;
	char path[4096];

	if (cap == 0)
		return 0;
	buf[0] = '\0';
	for (struct vma *v = vma_find(mm, *from); v; v = vma_next(mm, v)) {
		unsigned maj = 0, min = 0;
		unsigned long ino = 0;
		const char *name = v->name;
		if (v->file) {
			struct stat st;
			if (file_stat(v->file, &st) == 0) {
				maj = major(st.st_dev);
				min = minor(st.st_dev);
				ino = st.st_ino;
			}
			if (file_path(v->file, path, sizeof(path)) > 0)
				name = path;
		}
		char line[4096 + 128];
		int k = snprintf(line, sizeof(line),
				 "%08lx-%08lx %c%c%c%c %08lx %02x:%02x %lu ",
				 (unsigned long)v->start, (unsigned long)v->end,
				 (v->prot & PROT_READ) ? 'r' : '-',
				 (v->prot & PROT_WRITE) ? 'w' : '-',
				 (v->prot & PROT_EXEC) ? 'x' : '-',
				 (v->flags & MAP_SHARED) ? 's' : 'p',
				 (unsigned long)v->pgoff, maj, min, ino);
		if (name[0]) {
			/* Linux pads the name to column 73. */
			while (k < 73 && (size_t)k < sizeof(line) - 1)
				line[k++] = ' ';
			k += snprintf(line + k, sizeof(line) - k, "%s", name);
		}
		if ((size_t)k >= sizeof(line) - 1)
			k = sizeof(line) - 2;
		line[k++] = '\n';
		if (len + k >= cap)
			break; /* whole lines only */
		memcpy(buf + len, line, k);
		len += k;
		buf[len] = '\0';
		*from = v->end;
	}
	return len;
}

/* ---- the locked entry points: each change of an address space holds its
 * lock across the stub's host calls that make it (lockorder.h: a sleep
 * lock), so the VMAs and the host's mappings never disagree. ---- */

long mm_map_named(struct task *t, uint64_t addr, uint64_t len, int prot,
		  int flags, struct file *file, uint64_t off, const char *name)
{
	struct mm *mm = t->proc->mm;
	mm_lock(mm);
	long r = map_named_locked(t, addr, len, prot, flags, file, off, name);
	mm_unlock(mm);
	return r;
}

int mm_map_file_many(struct task *t, struct file *file, int n,
		     const struct mm_file_map *maps)
{
	struct mm *mm = t->proc->mm;
	mm_lock(mm);
	int r = map_file_many_locked(t, file, n, maps);
	mm_unlock(mm);
	return r;
}

long mm_munmap(struct task *t, uint64_t addr, uint64_t len)
{
	struct mm *mm = t->proc->mm;
	mm_lock(mm);
	long r = munmap_locked(t, addr, len);
	mm_unlock(mm);
	return r;
}

long mm_mprotect(struct task *t, uint64_t addr, uint64_t len, int prot)
{
	struct mm *mm = t->proc->mm;
	mm_lock(mm);
	long r = mprotect_locked(t, addr, len, prot);
	mm_unlock(mm);
	return r;
}

long mm_brk(struct task *t, uint64_t newbrk)
{
	struct mm *mm = t->proc->mm;
	mm_lock(mm);
	long r = brk_locked(t, newbrk);
	mm_unlock(mm);
	return r;
}

long mm_mremap(struct task *t, uint64_t old, uint64_t oldlen, uint64_t newlen,
	       int flags, uint64_t newaddr)
{
	struct mm *mm = t->proc->mm;
	mm_lock(mm);
	long r = mremap_locked(t, old, oldlen, newlen, flags, newaddr);
	mm_unlock(mm);
	return r;
}

long mm_madvise(struct task *t, uint64_t addr, uint64_t len, int advice)
{
	struct mm *mm = t->proc->mm;
	mm_lock(mm);
	long r = madvise_locked(t, addr, len, advice);
	mm_unlock(mm);
	return r;
}

long mm_msync(struct task *t, uint64_t addr, uint64_t len, int flags)
{
	struct mm *mm = t->proc->mm;
	mm_lock(mm);
	long r = msync_locked(t, addr, len, flags);
	mm_unlock(mm);
	return r;
}

void mm_unmap_all(struct task *t)
{
	struct mm *mm = t->proc->mm;
	mm_lock(mm);
	unmap_all_locked(t);
	mm_unlock(mm);
}

bool mm_intersects(struct mm *mm, uint64_t s, uint64_t e)
{
	mm_lock(mm);
	bool r = vma_intersects(mm, s, e);
	mm_unlock(mm);
	return r;
}

bool mm_covers(struct mm *mm, uint64_t s, uint64_t e)
{
	mm_lock(mm);
	bool r = vma_covers(mm, s, e);
	mm_unlock(mm);
	return r;
}
