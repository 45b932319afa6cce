/* Per-process fd tables (shared by CLONE_FILES threads). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/kernel/task.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs.h"

struct fdtable {
	int refs;
	int cap;
	struct file **files;
	bool *cloexec;
};

unsigned long fd_limit(void)
{
	struct task *t = current;
	unsigned long lim = FD_MAX_DEFAULT;
	if (t && t->proc) {
		rlim_t cur = t->proc->rlimits[RLIMIT_NOFILE].rlim_cur;
		lim = cur == RLIM_INFINITY ? FD_NR_OPEN : (unsigned long)cur;
	}
	return lim > FD_NR_OPEN ? FD_NR_OPEN : lim;
}

struct fdtable *fdtable_new(void)
{
	struct fdtable *fdt = calloc(1, sizeof(*fdt));
	if (fdt)
		fdt->refs = 1;
	return fdt;
}

static int fdtable_grow(struct fdtable *fdt, int need)
{
	if (need < fdt->cap)
		return 0;
	int cap = fdt->cap ? fdt->cap : 64;
	while (cap <= need)
		cap *= 2;
	struct file **nf = realloc(fdt->files, cap * sizeof(*nf));
	if (!nf)
		return -ENOMEM;
	fdt->files = nf;
	bool *nc = realloc(fdt->cloexec, cap * sizeof(*nc));
	if (!nc)
		return -ENOMEM;
	fdt->cloexec = nc;
	memset(nf + fdt->cap, 0, (cap - fdt->cap) * sizeof(*nf));
	memset(nc + fdt->cap, 0, (cap - fdt->cap) * sizeof(*nc));
	fdt->cap = cap;
	return 0;
}

struct fdtable *fdtable_dup(struct fdtable *old)
{
	struct fdtable *fdt = fdtable_new();
	if (!fdt)
		return NULL;
	if (old->cap && fdtable_grow(fdt, old->cap - 1)) {
		fdtable_put(fdt);
		return NULL;
	}
	for (int i = 0; i < old->cap; i++) {
		if (old->files[i]) {
			fdt->files[i] = old->files[i];
			file_get(fdt->files[i]);
			fdt->cloexec[i] = old->cloexec[i];
		}
	}
	return fdt;
}

void fdtable_get(struct fdtable *fdt)
{
	fdt->refs++;
}

void fdtable_put(struct fdtable *fdt)
{
	if (!fdt || --fdt->refs > 0)
		return;
	for (int i = 0; i < fdt->cap; i++)
		if (fdt->files[i])
			file_put(fdt->files[i]);
	free(fdt->files);
	free(fdt->cloexec);
	free(fdt);
}

void fdtable_close_on_exec(struct fdtable *fdt)
{
	for (int i = 0; i < fdt->cap; i++) {
		if (fdt->files[i] && fdt->cloexec[i]) {
			struct file *f = fdt->files[i];
			fdt->files[i] = NULL;
			fdt->cloexec[i] = false;
			file_put(f);
		}
	}
}

int fd_install_at(struct fdtable *fdt, int fd, struct file *f, bool cloexec)
{
	if (fd < 0 || (unsigned long)fd >= fd_limit())
		return -EBADF;
	int r = fdtable_grow(fdt, fd);
	if (r)
		return r;
	struct file *old = fdt->files[fd];
	file_get(f);
	fdt->files[fd] = f;
	fdt->cloexec[fd] = cloexec;
	/* Closing last: the release may sleep or wake others. */
	if (old)
		file_put(old);
	return fd;
}

int fd_alloc(struct fdtable *fdt, int minfd, struct file *f, bool cloexec)
{
	unsigned long lim = fd_limit();
	if (minfd < 0)
		return -EINVAL;
	if ((unsigned long)minfd >= lim)
		return -EMFILE;
	int fd = minfd;
	while (fd < fdt->cap && fdt->files[fd])
		fd++;
	if ((unsigned long)fd >= lim)
		return -EMFILE;
	int r = fdtable_grow(fdt, fd);
	if (r)
		return r;
	file_get(f);
	fdt->files[fd] = f;
	fdt->cloexec[fd] = cloexec;
	return fd;
}

struct file *fd_get(struct fdtable *fdt, int fd)
{
	if (!fdt || fd < 0 || fd >= fdt->cap || !fdt->files[fd])
		return NULL;
	file_get(fdt->files[fd]);
	return fdt->files[fd];
}

int fd_close(struct fdtable *fdt, int fd)
{
	if (!fdt || fd < 0 || fd >= fdt->cap || !fdt->files[fd])
		return -EBADF;
	struct file *f = fdt->files[fd];
	fdt->files[fd] = NULL;
	fdt->cloexec[fd] = false;
	file_put(f);
	return 0;
}

int fd_get_cloexec(struct fdtable *fdt, int fd)
{
	if (fd < 0 || fd >= fdt->cap || !fdt->files[fd])
		return -EBADF;
	return fdt->cloexec[fd];
}

int fd_set_cloexec(struct fdtable *fdt, int fd, bool on)
{
	if (fd < 0 || fd >= fdt->cap || !fdt->files[fd])
		return -EBADF;
	fdt->cloexec[fd] = on;
	return 0;
}

int fdtable_next(struct fdtable *fdt, int from)
{
	for (int i = from < 0 ? 0 : from; i < fdt->cap; i++)
		if (fdt->files[i])
			return i;
	return -1;
}

void fd_close_range(struct fdtable *fdt, unsigned lo, unsigned hi,
		    bool cloexec_only)
{
	for (unsigned i = lo; i <= hi && i < (unsigned)fdt->cap; i++) {
		if (!fdt->files[i])
			continue;
		if (cloexec_only) {
			fdt->cloexec[i] = true;
		} else {
			struct file *f = fdt->files[i];
			fdt->files[i] = NULL;
			fdt->cloexec[i] = false;
			file_put(f);
		}
	}
}
