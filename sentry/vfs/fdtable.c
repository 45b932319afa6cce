/* Per-task fd tables (shared by CLONE_FILES). The lowest free fd
 * comes from a bitmap with a full-word summary (lib/idmap), so opening the
 * 20,000th fd costs what opening the first does. Files are put after the
 * table's lock is dropped: a release may wake others or make a round trip. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bulkhead/idmap.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/lock.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs.h"
#include "sentry/vfs/locks.h"

struct fdtable {
	_Atomic int refs;
	struct kmutex lock;
	/* Under lock: */
	struct idmap open;    /* fds in use */
	struct idmap cloexec; /* their close-on-exec flags */
	struct file **files;
	unsigned cap; /* entries of files */
};

unsigned long fd_limit(void)
{
	struct task *t = current;
	unsigned long lim = FD_MAX_DEFAULT;
	if (t && t->proc) {
		rlim_t cur = process_rlimit(t->proc, RLIMIT_NOFILE);
		lim = cur == RLIM_INFINITY ? FD_NR_OPEN : (unsigned long)cur;
	}
	return lim > FD_NR_OPEN ? FD_NR_OPEN : lim;
}

struct fdtable *fdtable_new(void)
{
	struct fdtable *fdt = calloc(1, sizeof(*fdt));
	if (!fdt)
		return NULL;
	fdt->refs = 1;
	kmutex_init(&fdt->lock, "fdtable", LR_FDTABLE);
	idmap_init(&fdt->open);
	idmap_init(&fdt->cloexec);
	return fdt;
}

static int fdtable_grow(struct fdtable *fdt, unsigned fd)
{
	if (fd < fdt->cap)
		return 0;
	unsigned cap = fdt->cap ? fdt->cap : 64;
	while (cap <= fd)
		cap *= 2;
	struct file **nf = realloc(fdt->files, cap * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	memset(nf + fdt->cap, 0, (cap - fdt->cap) * sizeof(*nf));
	fdt->files = nf;
	fdt->cap = cap;
	return 0;
}

static void fdtable_free(struct fdtable *fdt)
{
	idmap_destroy(&fdt->open);
	idmap_destroy(&fdt->cloexec);
	kmutex_destroy(&fdt->lock);
	free(fdt->files);
	free(fdt);
}

struct fdtable *fdtable_dup(struct fdtable *old)
{
	struct fdtable *fdt = fdtable_new();
	if (!fdt)
		return NULL;
	kmutex_lock(&old->lock);
	int r = fdtable_grow(fdt, old->cap ? old->cap - 1 : 0);
	if (!r)
		r = idmap_copy(&fdt->open, &old->open);
	if (!r)
		r = idmap_copy(&fdt->cloexec, &old->cloexec);
	if (r) {
		kmutex_unlock(&old->lock);
		fdtable_free(fdt);
		return NULL;
	}
	for (int fd = idmap_next_set(&old->open, 0); fd >= 0;
	     fd = idmap_next_set(&old->open, (unsigned)fd + 1)) {
		fdt->files[fd] = old->files[fd];
		file_get(fdt->files[fd]);
	}
	kmutex_unlock(&old->lock);
	return fdt;
}

void fdtable_get(struct fdtable *fdt)
{
	atomic_fetch_add(&fdt->refs, 1);
}

int fdtable_unshare(struct task *t)
{
	struct fdtable *old = t->files;
	if (!old || atomic_load(&old->refs) == 1)
		return 0;
	struct fdtable *copy = fdtable_dup(old);
	if (!copy)
		return -ENOMEM;
	/* Others (/proc) read the pointer under tasklist. */
	tasklist_lock_take();
	t->files = copy;
	tasklist_unlock();
	fdtable_put(old);
	return 0;
}

/* An fd of f is closed by a task of owner: that process's POSIX locks on
 * the inode go whichever fd of it set them (Linux's filp_close). NULL: the
 * closer is not the table's user (the last put of a table may come from a
 * /proc reader); the owner's exit drops its locks then. */
static void filp_close(struct file *f, struct process *owner)
{
	if (owner &&
	    atomic_load_explicit(&f->inode->flctx, memory_order_relaxed))
		locks_remove_posix(f, owner);
	file_put(f);
}

static struct process *closer(void)
{
	return current ? current->proc : NULL;
}

/* Take up to n files of fds in [lo, hi] out of the table (those with
 * close-on-exec only, when cloexec_only); returns how many, in out. */
#define CLOSE_BATCH 64
static int take_range(struct fdtable *fdt, unsigned lo, unsigned hi,
		      bool cloexec_only, struct file **out)
{
	int n = 0;
	for (int fd = idmap_next_set(&fdt->open, lo);
	     fd >= 0 && (unsigned)fd <= hi && n < CLOSE_BATCH;
	     fd = idmap_next_set(&fdt->open, (unsigned)fd + 1)) {
		if (cloexec_only && !idmap_test(&fdt->cloexec, (unsigned)fd))
			continue;
		out[n++] = fdt->files[fd];
		fdt->files[fd] = NULL;
		idmap_clear(&fdt->open, (unsigned)fd);
		idmap_clear(&fdt->cloexec, (unsigned)fd);
	}
	return n;
}

static void close_range_of(struct fdtable *fdt, unsigned lo, unsigned hi,
			   bool cloexec_only, struct process *owner)
{
	struct file *batch[CLOSE_BATCH];
	for (;;) {
		kmutex_lock(&fdt->lock);
		int n = take_range(fdt, lo, hi, cloexec_only, batch);
		kmutex_unlock(&fdt->lock);
		for (int i = 0; i < n; i++)
			filp_close(batch[i], owner);
		if (n < CLOSE_BATCH)
			return;
	}
}

void fdtable_put(struct fdtable *fdt)
{
	if (!fdt || atomic_fetch_sub(&fdt->refs, 1) > 1)
		return;
	close_range_of(fdt, 0, ~0u, false, NULL);
	fdtable_free(fdt);
}

void fdtable_close_on_exec(struct fdtable *fdt)
{
	close_range_of(fdt, 0, ~0u, true, closer());
}

int fd_install_at(struct fdtable *fdt, int fd, struct file *f, bool cloexec)
{
	if (fd < 0 || (unsigned long)fd >= fd_limit())
		return -EBADF;
	kmutex_lock(&fdt->lock);
	int r = fdtable_grow(fdt, (unsigned)fd);
	if (!r)
		r = idmap_set(&fdt->open, (unsigned)fd);
	if (!r && cloexec)
		r = idmap_set(&fdt->cloexec, (unsigned)fd);
	if (r) {
		kmutex_unlock(&fdt->lock);
		return r;
	}
	if (!cloexec)
		idmap_clear(&fdt->cloexec, (unsigned)fd);
	struct file *old = fdt->files[fd];
	file_get(f);
	fdt->files[fd] = f;
	kmutex_unlock(&fdt->lock);
	/* Closing last: the release may sleep or wake others. */
	if (old)
		filp_close(old, closer());
	return fd;
}

int fd_alloc(struct fdtable *fdt, int minfd, struct file *f, bool cloexec)
{
	unsigned long lim = fd_limit();
	if (minfd < 0)
		return -EINVAL;
	if ((unsigned long)minfd >= lim)
		return -EMFILE;
	kmutex_lock(&fdt->lock);
	int fd = idmap_alloc(&fdt->open, (unsigned)minfd, (unsigned)lim);
	if (fd < 0) {
		kmutex_unlock(&fdt->lock);
		return fd;
	}
	int r = fdtable_grow(fdt, (unsigned)fd);
	if (!r && cloexec)
		r = idmap_set(&fdt->cloexec, (unsigned)fd);
	if (r) {
		idmap_clear(&fdt->open, (unsigned)fd);
		kmutex_unlock(&fdt->lock);
		return r;
	}
	if (!cloexec)
		idmap_clear(&fdt->cloexec, (unsigned)fd);
	file_get(f);
	fdt->files[fd] = f;
	kmutex_unlock(&fdt->lock);
	return fd;
}

struct file *fd_get(struct fdtable *fdt, int fd)
{
	if (!fdt || fd < 0)
		return NULL;
	kmutex_lock(&fdt->lock);
	struct file *f = (unsigned)fd < fdt->cap ? fdt->files[fd] : NULL;
	if (f)
		file_get(f);
	kmutex_unlock(&fdt->lock);
	return f;
}

int fd_close(struct fdtable *fdt, int fd)
{
	if (!fdt || fd < 0)
		return -EBADF;
	kmutex_lock(&fdt->lock);
	struct file *f = (unsigned)fd < fdt->cap ? fdt->files[fd] : NULL;
	if (f) {
		fdt->files[fd] = NULL;
		idmap_clear(&fdt->open, (unsigned)fd);
		idmap_clear(&fdt->cloexec, (unsigned)fd);
	}
	kmutex_unlock(&fdt->lock);
	if (!f)
		return -EBADF;
	filp_close(f, closer());
	return 0;
}

int fd_get_cloexec(struct fdtable *fdt, int fd)
{
	kmutex_lock(&fdt->lock);
	int r = fd >= 0 && (unsigned)fd < fdt->cap && fdt->files[fd]
		    ? idmap_test(&fdt->cloexec, (unsigned)fd)
		    : -EBADF;
	kmutex_unlock(&fdt->lock);
	return r;
}

int fd_set_cloexec(struct fdtable *fdt, int fd, bool on)
{
	kmutex_lock(&fdt->lock);
	int r = -EBADF;
	if (fd >= 0 && (unsigned)fd < fdt->cap && fdt->files[fd]) {
		r = 0;
		if (on)
			r = idmap_set(&fdt->cloexec, (unsigned)fd);
		else
			idmap_clear(&fdt->cloexec, (unsigned)fd);
	}
	kmutex_unlock(&fdt->lock);
	return r;
}

int fdtable_next(struct fdtable *fdt, int from)
{
	kmutex_lock(&fdt->lock);
	int fd = idmap_next_set(&fdt->open, from < 0 ? 0 : (unsigned)from);
	kmutex_unlock(&fdt->lock);
	return fd;
}

int fdtable_count(struct fdtable *fdt, int *highest)
{
	int n = 0, last = -1;
	kmutex_lock(&fdt->lock);
	for (int fd = idmap_next_set(&fdt->open, 0); fd >= 0;
	     fd = idmap_next_set(&fdt->open, (unsigned)fd + 1)) {
		n++;
		last = fd;
	}
	kmutex_unlock(&fdt->lock);
	if (highest)
		*highest = last;
	return n;
}

void fd_close_range(struct fdtable *fdt, unsigned lo, unsigned hi,
		    bool cloexec_only)
{
	if (!cloexec_only) {
		close_range_of(fdt, lo, hi, false, closer());
		return;
	}
	kmutex_lock(&fdt->lock);
	for (int fd = idmap_next_set(&fdt->open, lo);
	     fd >= 0 && (unsigned)fd <= hi;
	     fd = idmap_next_set(&fdt->open, (unsigned)fd + 1))
		if (idmap_set(&fdt->cloexec, (unsigned)fd) < 0)
			break;
	kmutex_unlock(&fdt->lock);
}
