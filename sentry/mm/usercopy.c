/* Guest memory through process_vm_readv/writev on the stub process. The
 * remote side is split at page boundaries so that a copy that hits an
 * unmapped or protected page stops exactly there: the kernel reports a
 * partial count per iovec element, and page-sized elements make that count
 * page-accurate, which copy_*_partial and the string readers rely on. */
#include "sentry/mm/usercopy.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "sentry/kernel/kernel.h"
#include "sentry/kernel/lock.h"
#include "sentry/kernel/process.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/vma.h"
#include "sentry/platform/platform.h"

#define UC_PAGE	       4096UL
#define UC_IOV_BATCH   256	      /* pages per host call: 1 MiB */
#define MAX_ARG_STRLEN (32 * UC_PAGE) /* Linux's per-string limit */

/* Is [addr, addr+n) a range the guest may name? The stub's own pages are
 * excluded: the sentry never reads or writes them on the guest's behalf. */
static bool uc_range_ok(uint64_t addr, size_t n)
{
	uint64_t end;

	if (__builtin_add_overflow(addr, (uint64_t)n, &end))
		return false;
	if (end > GUEST_TASK_SIZE)
		return false;
	if (addr < STUB_END && end > STUB_BASE)
		return false;
	return true;
}

/* Does [addr, addr+n) lie in mappings the sentry made, all with prot?
 * Then the stub may reach it itself: a copy through its shared page, the
 * in-arguments it read at the trap, a host read into it. A fault there
 * anyway (a file page past its end, memory the guest unmapped behind the
 * sentry's back) only makes the stub's copy come back short; the slow path
 * then finds the exact end. */
static bool uc_mapped(struct task *t, uint64_t addr, size_t n, int prot)
{
	struct mm *mm = t->proc ? t->proc->mm : NULL;
	if (!mm)
		return false;
	uint64_t end = addr + n;
	bool ok = false;
	mm_lock(mm);
	for (struct vma *v = vma_find(mm, addr); v && addr < end;
	     v = vma_next(mm, v)) {
		if (v->start > addr || !(v->prot & prot))
			break;
		addr = v->end;
	}
	ok = addr >= end;
	mm_unlock(mm);
	return ok;
}

/* The largest copy made through the stub's shared page. */
#define UC_FAST_MAX (16UL << 10)

/* process_vm_* on host process pid, page by page (see the top). */
static size_t uc_vm_xfer(pid_t pid, uint64_t addr, void *local, size_t n,
			 bool write)
{
	struct iovec riov[UC_IOV_BATCH];
	size_t done = 0;
	while (done < n) {
		size_t chunk = 0;
		int cnt = 0;
		while (cnt < UC_IOV_BATCH && done + chunk < n) {
			uint64_t a = addr + done + chunk;
			size_t room = UC_PAGE - (a & (UC_PAGE - 1));
			if (room > n - done - chunk)
				room = n - done - chunk;
			riov[cnt].iov_base = (void *)(uintptr_t)a;
			riov[cnt].iov_len = room;
			cnt++;
			chunk += room;
		}
		struct iovec liov = {(char *)local + done, chunk};
		ssize_t r;
		do {
			r = write
				? process_vm_writev(pid, &liov, 1, riov, cnt, 0)
				: process_vm_readv(pid, &liov, 1, riov, cnt, 0);
		} while (r < 0 && errno == EINTR);
		if (r <= 0)
			break;
		done += (size_t)r;
		if ((size_t)r < chunk)
			break;
	}
	return done;
}

/* Move up to n bytes; returns how many were moved before the first fault
 * (0 if the first page faults). write selects the direction. */
static size_t uc_xfer(struct task *t, uint64_t addr, void *local, size_t n,
		      bool write)
{
	lock_might_block("guest memory access");
	/* Another task's memory: only process_vm_*, never its stub's
	 * shared page, which its own sentry thread owns. (/proc goes through
	 * copy_from_process, which holds no task pointer.) */
	bool own = t == current;
	if (!t->pt)
		return 0;
	pid_t pid = platform->host_pid(t->pt);
	/* In-arguments the stub read at the trap (by the shapes of the
	 * syscall table): no round trip. Any write makes them stale. */
	if (own && write && platform->prefetch_drop)
		platform->prefetch_drop(t->pt);
	if (own && !write && platform->prefetched && n <= UC_PAGE &&
	    uc_mapped(t, addr, n, PROT_READ) &&
	    platform->prefetched(t->pt, local, addr, n) == 0)
		return n;
	if (own && platform->copy_in && n <= UC_FAST_MAX &&
	    uc_mapped(t, addr, n, write ? PROT_WRITE : PROT_READ)) {
		int r = write ? platform->copy_out(t->pt, addr, local, n)
			      : platform->copy_in(t->pt, local, addr, n);
		if (r == 0)
			return n;
	}

	return uc_vm_xfer(pid, addr, local, n, write);
}

int copy_from_user(struct task *t, void *dst, uint64_t src, size_t n)
{
	if (n == 0)
		return 0;
	if (!uc_range_ok(src, n))
		return -EFAULT;
	return uc_xfer(t, src, dst, n, false) == n ? 0 : -EFAULT;
}

int copy_to_user(struct task *t, uint64_t dst, const void *src, size_t n)
{
	if (n == 0)
		return 0;
	if (!uc_range_ok(dst, n))
		return -EFAULT;
	return uc_xfer(t, dst, (void *)src, n, true) == n ? 0 : -EFAULT;
}

int user_atomic32(struct task *t, uint64_t addr, int op, uint32_t arg,
		  uint32_t cmp, uint32_t *old)
{
	if ((addr & 3) || !uc_range_ok(addr, 4) || t != current || !t->pt)
		return -EFAULT;
	if (!platform->atomic32)
		return -ENOSYS;
	lock_might_block("guest atomic");
	return platform->atomic32(t->pt, addr, op, arg, cmp, old);
}

ssize_t copy_to_user_from_fd(struct task *t, uint64_t dst, int hostfd, size_t n,
			     uint64_t off)
{
	if (t != current)
		return -EOPNOTSUPP;
	if (!platform->syscalls_fd || n == 0 || !uc_range_ok(dst, n) ||
	    !uc_mapped(t, dst, n, PROT_WRITE) || off > (uint64_t)INT64_MAX)
		return -EOPNOTSUPP;
	if (platform->prefetch_drop)
		platform->prefetch_drop(t->pt);
	const struct plat_call c = {__NR_pread64,
				    {-1, (long)dst, (long)n, (long)off, 0, 0}};
	long r;
	int k = platform->syscalls_fd(t->pt, hostfd, 0, 1, &c, &r);
	if (k != 1)
		return k < 0 ? k : -EIO;
	return r;
}

/* For partial copies only the part below the first bad address counts. */
static size_t uc_clamp(uint64_t addr, size_t n)
{
	if (addr >= GUEST_TASK_SIZE)
		return 0;
	if (n > GUEST_TASK_SIZE - addr)
		n = GUEST_TASK_SIZE - addr;
	if (addr < STUB_BASE && addr + n > STUB_BASE)
		n = STUB_BASE - addr;
	else if (addr >= STUB_BASE && addr < STUB_END)
		return 0;
	return n;
}

ssize_t copy_to_user_partial(struct task *t, uint64_t dst, const void *src,
			     size_t n)
{
	if (n == 0)
		return 0;
	size_t m = uc_clamp(dst, n);
	size_t done = m ? uc_xfer(t, dst, (void *)src, m, true) : 0;
	return done ? (ssize_t)done : -EFAULT;
}

ssize_t copy_from_user_partial(struct task *t, void *dst, uint64_t src,
			       size_t n)
{
	if (n == 0)
		return 0;
	size_t m = uc_clamp(src, n);
	size_t done = m ? uc_xfer(t, src, dst, m, false) : 0;
	return done ? (ssize_t)done : -EFAULT;
}

long strncpy_from_user(struct task *t, char *dst, uint64_t src, size_t cap)
{
	size_t done = 0;

	if (cap == 0)
		return -ENAMETOOLONG;
	/* One page at a time: a string may end right before an unmapped
	 * page, and reading past its NUL must not turn into a fault. */
	while (done < cap) {
		uint64_t a = src + done;
		size_t chunk = UC_PAGE - (a & (UC_PAGE - 1));
		if (chunk > cap - done)
			chunk = cap - done;
		if (!uc_range_ok(a, chunk))
			return -EFAULT;
		if (uc_xfer(t, a, dst + done, chunk, false) != chunk)
			return -EFAULT;
		char *nul = memchr(dst + done, '\0', chunk);
		if (nul)
			return nul - dst;
		done += chunk;
	}
	dst[cap - 1] = '\0';
	return -ENAMETOOLONG;
}

long copy_path_from_user(struct task *t, char *dst, uint64_t src)
{
	long n = strncpy_from_user(t, dst, src, PATH_MAX);
	if (n == 0)
		return -ENOENT;
	return n;
}

int clear_user(struct task *t, uint64_t dst, size_t n)
{
	static const char zeros[UC_PAGE];

	if (n == 0)
		return 0;
	if (!uc_range_ok(dst, n))
		return -EFAULT;
	size_t done = 0;
	while (done < n) {
		/* Page-sized pieces from one zero page, so the local buffer
		 * never has to be as large as the range. */
		uint64_t a = dst + done;
		size_t chunk = UC_PAGE - (a & (UC_PAGE - 1));
		if (chunk > n - done)
			chunk = n - done;
		if (uc_xfer(t, a, (void *)zeros, chunk, true) != chunk)
			return -EFAULT;
		done += chunk;
	}
	return 0;
}

/* exec's argv and envp: a vector of pointers and strings that almost
 * always share a few stack pages. Reading whole pages once, through a
 * small cache, costs a handful of round trips to the stub instead of two
 * per string. */
struct uc_pages {
	uint64_t page[2]; /* page addresses held, or 1 when empty */
	size_t valid[2];  /* readable bytes from the start of each */
	int next;	  /* which entry to replace */
	char buf[2][UC_PAGE];
};

/* The readable part of the page holding addr: a pointer into the cache
 * and its length from addr (0: not readable). */
static size_t uc_page_get(struct task *t, struct uc_pages *c, uint64_t addr,
			  const char **p)
{
	uint64_t pg = addr & ~(UC_PAGE - 1);
	size_t off = addr - pg;
	int i = c->page[0] == pg ? 0 : c->page[1] == pg ? 1 : -1;
	if (i < 0) {
		if (!uc_range_ok(pg, UC_PAGE))
			return 0;
		i = c->next;
		c->next ^= 1;
		c->page[i] = pg;
		c->valid[i] = uc_xfer(t, pg, c->buf[i], UC_PAGE, false);
	}
	if (off >= c->valid[i])
		return 0;
	*p = c->buf[i] + off;
	return c->valid[i] - off;
}

/* Append the string at src to *b (growing it), without its bound: the
 * caller checks the totals. Returns its length or a negative errno. */
static long uc_string_cached(struct task *t, struct uc_pages *c, uint64_t src,
			     char **b, size_t *used, size_t *cap)
{
	size_t len = 0;
	for (;;) {
		const char *p;
		size_t n = uc_page_get(t, c, src + len, &p);
		if (n == 0)
			return -EFAULT;
		const char *nul = memchr(p, '\0', n);
		size_t take = nul ? (size_t)(nul - p) + 1 : n;
		if (len + take > MAX_ARG_STRLEN)
			return -E2BIG;
		if (*used + len + take > *cap) {
			size_t nc = *cap ? *cap * 2 : 4096;
			while (nc < *used + len + take)
				nc *= 2;
			char *nb = realloc(*b, nc);
			if (!nb)
				return -ENOMEM;
			*b = nb;
			*cap = nc;
		}
		memcpy(*b + *used + len, p, take);
		len += take;
		if (nul)
			return (long)len - 1;
	}
}

long copy_strings_from_user(struct task *t, uint64_t uvec, size_t max_count,
			    size_t max_total, char ***vec, char **blob)
{
	size_t count = 0, used = 0, bcap = 0, ocap = 0;
	size_t *offs = NULL;
	char *b = NULL;
	long err = 0;
	struct uc_pages *c = malloc(sizeof(*c));

	*vec = NULL;
	*blob = NULL;
	if (!c)
		return -ENOMEM;
	c->page[0] = c->page[1] = 1;
	c->next = 0;
	/* A NULL vector is an empty one, as in Linux. */
	for (; uvec != 0; count++) {
		uint64_t p, at;
		const char *q;
		if (count >= max_count) {
			err = -E2BIG;
			goto out;
		}
		if (__builtin_add_overflow(uvec, count * 8, &at)) {
			err = -EFAULT;
			goto out;
		}
		/* A pointer may straddle two pages. */
		size_t n = uc_page_get(t, c, at, &q);
		if (n >= 8) {
			memcpy(&p, q, 8);
		} else if (n == 0 || copy_from_user(t, &p, at, 8) < 0) {
			err = -EFAULT;
			goto out;
		}
		if (p == 0)
			break;
		if (count >= ocap) {
			size_t nc = ocap ? ocap * 2 : 32;
			size_t *no = realloc(offs, nc * sizeof(*offs));
			if (!no) {
				err = -ENOMEM;
				goto out;
			}
			offs = no;
			ocap = nc;
		}
		long len = uc_string_cached(t, c, p, &b, &used, &bcap);
		if (len < 0) {
			err = len;
			goto out;
		}
		/* Each entry also costs a pointer on the new stack. */
		if (used + (count + 1) * 8 + (size_t)len + 1 > max_total) {
			err = -E2BIG;
			goto out;
		}
		offs[count] = used;
		used += len + 1;
	}
	char **v = calloc(count + 1, sizeof(*v));
	if (!v || (!b && !(b = malloc(1)))) {
		free(v);
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < count; i++)
		v[i] = b + offs[i];
	*vec = v;
	*blob = b;
	b = NULL;
out:
	free(c);
	free(offs);
	free(b);
	return err ? err : (long)count;
}

ssize_t copy_from_process(struct process *p, struct mm *mm, void *dst,
			  uint64_t src, size_t n)
{
	if (n == 0)
		return 0;
	if (!uc_range_ok(src, n))
		return -EFAULT;
	pid_t pid = 0;
	tasklist_lock_take();
	struct list_head *pos;
	if (p->mm == mm)
		list_for_each(pos, &p->threads)
		{
			struct task *t =
			    list_entry(pos, struct task, thread_node);
			if (t->pt) {
				pid = platform->host_pid(t->pt);
				break;
			}
		}
	tasklist_unlock();
	if (pid <= 0)
		return -ESRCH;
	lock_might_block("another process's memory");
	size_t got = uc_vm_xfer(pid, src, dst, n, false);
	return got ? (ssize_t)got : -EFAULT;
}
