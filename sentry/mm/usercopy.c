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
#include <sys/uio.h>

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

/* The platform may copy through the stub (a memcpy inside the guest's own
 * address space) when the whole range lies in anonymous mappings the sentry
 * made with the needed protection: there no access can fault (a file page
 * past EOF would raise SIGBUS in the stub instead of EFAULT). A guest that
 * changed its mappings behind the sentry's back only faults itself. */
#define UC_FAST_MAX (16UL << 10)

static bool uc_fast_ok(struct task *t, uint64_t addr, size_t n, bool write)
{
	if (!platform->copy_in || n > UC_FAST_MAX || !t->proc || !t->proc->mm)
		return false;
	uint64_t end = addr + n;
	int need = write ? PROT_WRITE : PROT_READ;
	for (struct vma *v = vma_find(t->proc->mm, addr); v && addr < end;
	     v = vma_next(t->proc->mm, v)) {
		if (v->start > addr || v->file || !(v->prot & need))
			return false;
		addr = v->end;
	}
	return addr >= end;
}

/* Move up to n bytes; returns how many were moved before the first fault
 * (0 if the first page faults). write selects the direction. */
static size_t uc_xfer(struct task *t, uint64_t addr, void *local, size_t n,
		      bool write)
{
	struct iovec riov[UC_IOV_BATCH];
	pid_t pid = platform->host_pid(t->pt);
	size_t done = 0;

	if (uc_fast_ok(t, addr, n, write)) {
		int r = write ? platform->copy_out(t->pt, addr, local, n)
			      : platform->copy_in(t->pt, local, addr, n);
		if (r == 0)
			return n;
	}

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

long copy_strings_from_user(struct task *t, uint64_t uvec, size_t max_count,
			    size_t max_total, char ***vec, char **blob)
{
	size_t count = 0, used = 0, bcap = 0, ocap = 0;
	size_t *offs = NULL;
	char *b = NULL, *tmp = NULL;
	long err = 0;

	*vec = NULL;
	*blob = NULL;
	tmp = malloc(MAX_ARG_STRLEN);
	if (!tmp)
		return -ENOMEM;
	/* A NULL vector is an empty one, as in Linux. */
	for (; uvec != 0; count++) {
		uint64_t p;
		if (count >= max_count) {
			err = -E2BIG;
			goto out;
		}
		if (copy_from_user(t, &p, uvec + count * 8, 8) < 0) {
			err = -EFAULT;
			goto out;
		}
		if (p == 0)
			break;
		long len = strncpy_from_user(t, tmp, p, MAX_ARG_STRLEN);
		if (len == -ENAMETOOLONG)
			err = -E2BIG;
		else if (len < 0)
			err = len;
		if (err)
			goto out;
		/* Each entry also costs a pointer on the new stack. */
		if (used + (count + 1) * 8 + (size_t)len + 1 > max_total) {
			err = -E2BIG;
			goto out;
		}
		if (used + len + 1 > bcap) {
			size_t nc = bcap ? bcap * 2 : 4096;
			while (nc < used + len + 1)
				nc *= 2;
			char *nb = realloc(b, nc);
			if (!nb) {
				err = -ENOMEM;
				goto out;
			}
			b = nb;
			bcap = nc;
		}
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
		memcpy(b + used, tmp, len + 1);
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
	free(tmp);
	free(offs);
	free(b);
	return err ? err : (long)count;
}
