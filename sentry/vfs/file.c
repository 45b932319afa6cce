/* Open file descriptions: refcounting, the generic read/write entry points
 * and the vfs.h accessors used by mm/ and kernel/. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sentry/fs/epoll/epoll.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/uio.h"
#include "sentry/vfs/fs_struct.h"
#include "sentry/vfs/locks.h"

struct file *file_alloc(const struct path *p, struct inode *inode, int flags)
{
	struct file *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->refs = 1;
	f->flags = flags;
	kmutex_init(&f->pos_lock, "file_pos", LR_FPOS);
	kmutex_init(&f->ep_lock, "file_ep", LR_EPOLL_FILE);
	list_init(&f->ep_links);
	if (p) {
		f->path = *p;
		path_get(p);
	}
	f->inode = inode;
	inode_get(inode);
	int acc = flags & O_ACCMODE;
	if (acc == O_RDONLY || acc == O_RDWR)
		f->fmode |= FMODE_READ;
	if (acc == O_WRONLY || acc == O_RDWR)
		f->fmode |= FMODE_WRITE;
	if (flags & O_PATH)
		f->fmode = 0;
	else if (!S_ISFIFO(inode->mode) && !S_ISSOCK(inode->mode))
		f->fmode |= FMODE_LSEEK | FMODE_PREAD;
	if (!(flags & O_PATH) && (S_ISREG(inode->mode) || S_ISDIR(inode->mode)))
		f->fmode |= FMODE_ATOMIC_POS;
	return f;
}

void file_get(struct file *f)
{
	atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
}

void file_put(struct file *f)
{
	if (!f ||
	    atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) > 1)
		return;
	/* Under the lock: an epoll removing its item may still be on the
	 * way out of the list. */
	kmutex_lock(&f->ep_lock);
	bool watched = !list_empty(&f->ep_links);
	kmutex_unlock(&f->ep_lock);
	if (watched)
		epoll_release_file(f);
	locks_remove_file(f);
	if (f->fops && f->fops->release)
		f->fops->release(f);
	if (f->fmode & FMODE_WRITER)
		inode_put_write_access(f->inode);
	path_put(&f->path);
	inode_put(f->inode);
	kmutex_destroy(&f->pos_lock);
	kmutex_destroy(&f->ep_lock);
	free(f);
}

void file_pos_lock(struct file *f)
{
	if (f->fmode & FMODE_ATOMIC_POS)
		kmutex_lock(&f->pos_lock);
}

void file_pos_unlock(struct file *f)
{
	if (f->fmode & FMODE_ATOMIC_POS)
		kmutex_unlock(&f->pos_lock);
}

int64_t generic_llseek(struct file *f, int64_t off, int whence)
{
	int64_t base;
	switch (whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = (int64_t)f->pos;
		break;
	case SEEK_END:
		if (f->inode->iops && f->inode->iops->getattr)
			f->inode->iops->getattr(f->inode);
		base = (int64_t)inode_size(f->inode);
		break;
	case SEEK_DATA:
	case SEEK_HOLE:
		if (f->inode->iops && f->inode->iops->getattr)
			f->inode->iops->getattr(f->inode);
		uint64_t size = inode_size(f->inode);
		if (off < 0 || (uint64_t)off >= size)
			return -ENXIO;
		if (whence == SEEK_HOLE)
			off = (int64_t)size;
		f->pos = (uint64_t)off;
		return off;
	default:
		return -EINVAL;
	}
	int64_t npos;
	if (__builtin_add_overflow(base, off, &npos) || npos < 0)
		return -EINVAL;
	f->pos = (uint64_t)npos;
	return npos;
}

ssize_t vfs_read_pos(struct file *f, struct uio *u, uint64_t *pos)
{
	if (!(f->fmode & FMODE_READ))
		return -EBADF;
	if (S_ISDIR(f->inode->mode))
		return -EISDIR;
	if (!f->fops || !f->fops->read)
		return -EINVAL;
	if (*pos > (uint64_t)INT64_MAX)
		return -EINVAL;
	return f->fops->read(f, u, pos);
}

void file_set_flags(struct file *f, int mask, int val)
{
	int old = atomic_load(&f->flags);
	while (!atomic_compare_exchange_weak(&f->flags, &old,
					     (old & ~mask) | (val & mask)))
		;
}

ssize_t vfs_read(struct file *f, struct uio *u, uint64_t *pos)
{
	if (pos && !(f->fmode & FMODE_PREAD))
		return -ESPIPE;
	if (pos)
		return vfs_read_pos(f, u, pos);
	if (!(f->fmode & FMODE_READ))
		return -EBADF;
	if (S_ISDIR(f->inode->mode))
		return -EISDIR;
	if (!f->fops || !f->fops->read)
		return -EINVAL;
	file_pos_lock(f);
	ssize_t r = f->fops->read(f, u, &f->pos);
	file_pos_unlock(f);
	return r;
}

ssize_t vfs_write(struct file *f, struct uio *u, uint64_t *pos)
{
	if (!(f->fmode & FMODE_WRITE))
		return -EBADF;
	if (!f->fops || !f->fops->write)
		return -EINVAL;
	if (pos && !(f->fmode & FMODE_PREAD))
		return -ESPIPE;
	if (pos && *pos > (uint64_t)INT64_MAX)
		return -EINVAL;
	if (pos)
		return f->fops->write(f, u, pos);
	file_pos_lock(f);
	ssize_t r = f->fops->write(f, u, &f->pos);
	file_pos_unlock(f);
	return r;
}

ssize_t file_kread(struct file *f, void *buf, size_t n, uint64_t off)
{
	if (!f->fops || !f->fops->read || !(f->fmode & FMODE_READ))
		return -EBADF;
	if (S_ISDIR(f->inode->mode))
		return -EISDIR;
	size_t done = 0;
	while (done < n) {
		struct uio u;
		uio_init_kernel(&u, (char *)buf + done, n - done);
		u.t = current;
		uint64_t pos = off + done;
		ssize_t r = f->fops->read(f, &u, &pos);
		if (r < 0)
			return done ? (ssize_t)done : r;
		if (r == 0)
			break;
		done += (size_t)r;
	}
	return (ssize_t)done;
}

int file_host_fd(struct file *f)
{
	if (f->fops && f->fops->host_fd)
		return f->fops->host_fd(f);
	return -ENODEV;
}

int file_stat(struct file *f, struct stat *st)
{
	if (f->inode->iops && f->inode->iops->getattr) {
		int r = f->inode->iops->getattr(f->inode);
		if (r)
			return r;
	}
	inode_fill_stat(f->inode, st);
	return 0;
}

int file_path(struct file *f, char *buf, size_t cap)
{
	if (!f->path.dentry)
		return -ENOENT;
	struct fs_struct *fs = task_fs(current);
	if (!fs)
		return path_render(&f->path, NULL, buf, cap);
	struct path root;
	fs_get_root(fs, &root);
	int r = path_render(&f->path, &root, buf, cap);
	path_put(&root);
	return r;
}

int file_may_exec(struct task *t, struct file *f)
{
	if (!S_ISREG(f->inode->mode))
		return -EACCES;
	return inode_permission(t, f->inode, MAY_EXEC);
}

mode_t file_type(struct file *f)
{
	return f->inode->mode & S_IFMT;
}
