/* File I/O syscalls and fd management, plus the table of every VFS syscall
 * (sys_file_defs). Guest memory is handed to the file ops as a uio. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/close_range.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "sentry/fs/pipe/pipe.h"
#include "sentry/fs/tmpfs/tmpfs.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/uio.h"
#include "sentry/mm/usercopy.h"
#include "sentry/syscalls/sys_file.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs_struct.h"
#include "sentry/vfs/locks.h"

struct file *fget(struct task *t, int fd)
{
	return fd_get(t->files, fd);
}

int get_path(struct task *t, uint64_t uaddr, char *buf, bool allow_empty)
{
	if (!allow_empty) {
		long r = copy_path_from_user(t, buf, uaddr);
		return r < 0 ? (int)r : 0;
	}
	long r = strncpy_from_user(t, buf, uaddr, VFS_PATH_MAX);
	return r < 0 ? (int)r : 0;
}

long install_file(struct task *t, struct file *f, bool cloexec)
{
	long fd = fd_alloc(t->files, 0, f, cloexec);
	file_put(f);
	return fd;
}

/* ---- read/write ---- */

/* Linux's order: a file not open for the direction, then the range. */
static ssize_t do_read(struct task *t, struct file *f, uint64_t ubuf,
		       size_t count, uint64_t *pos, unsigned flags)
{
	if (!(f->fmode & FMODE_READ))
		return -EBADF;
	if (!user_range_ok(ubuf, count))
		return -EFAULT;
	struct uio u;
	uio_init_user1(&u, t, ubuf, count);
	u.flags = flags;
	return vfs_read(f, &u, pos);
}

static ssize_t do_write(struct task *t, struct file *f, uint64_t ubuf,
			size_t count, uint64_t *pos, unsigned flags)
{
	if (!(f->fmode & FMODE_WRITE))
		return -EBADF;
	if (!user_range_ok(ubuf, count))
		return -EFAULT;
	struct uio u;
	uio_init_user1(&u, t, ubuf, count);
	u.flags = flags;
	return vfs_write(f, &u, pos);
}

static long sys_read(struct task *t, const uint64_t a[6])
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = do_read(t, f, a[1], a[2], NULL, 0);
	file_put(f);
	return r;
}

static long sys_write(struct task *t, const uint64_t a[6])
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = do_write(t, f, a[1], a[2], NULL, 0);
	file_put(f);
	return r;
}

static long sys_pread64(struct task *t, const uint64_t a[6])
{
	if ((int64_t)a[3] < 0)
		return -EINVAL;
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	uint64_t pos = a[3];
	long r = do_read(t, f, a[1], a[2], &pos, 0);
	file_put(f);
	return r;
}

static long sys_pwrite64(struct task *t, const uint64_t a[6])
{
	if ((int64_t)a[3] < 0)
		return -EINVAL;
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	uint64_t pos = a[3];
	long r = do_write(t, f, a[1], a[2], &pos, 0);
	file_put(f);
	return r;
}

/* Copy in a guest iovec array and check it as Linux's import_iovec does:
 * too many is EINVAL, then any negative length EINVAL, then any range
 * outside the user half EFAULT, all before any I/O. *out is fast (a
 * caller's array of UIO_FASTIOV) or malloc'd. */
long import_iovec(struct task *t, uint64_t uiov, uint64_t cnt,
		  struct iovec *fast, struct iovec **out)
{
	if (cnt > IOV_MAX)
		return -EINVAL;
	struct iovec *iov = fast;
	if (cnt > UIO_FASTIOV) {
		iov = malloc(cnt * sizeof(*iov));
		if (!iov)
			return -ENOMEM;
	}
	*out = iov;
	if (cnt && copy_from_user(t, iov, uiov, cnt * sizeof(*iov)))
		return -EFAULT;
	for (uint64_t i = 0; i < cnt; i++)
		if ((ssize_t)iov[i].iov_len < 0)
			return -EINVAL;
	for (uint64_t i = 0; i < cnt; i++)
		if (!user_range_ok((uint64_t)(uintptr_t)iov[i].iov_base,
				   iov[i].iov_len))
			return -EFAULT;
	return 0;
}

/* readv/writev family; pos NULL: the file offset. One call of the file's
 * op for the whole vector, so a pipe holding one byte answers a readv of
 * {1, 10} with 1 and a fault in a later iovec ends with what came before. */
static long do_rw_vec(struct task *t, int fd, uint64_t uiov, uint64_t cnt,
		      uint64_t *pos, bool write, unsigned flags)
{
	struct file *f = fget(t, fd);
	if (!f)
		return -EBADF;
	struct iovec fast[UIO_FASTIOV], *iov = fast;
	long ret;
	if (!(f->fmode & (write ? FMODE_WRITE : FMODE_READ))) {
		ret = -EBADF;
		goto out;
	}
	ret = import_iovec(t, uiov, cnt, fast, &iov);
	if (ret)
		goto out;
	struct uio u;
	uio_init_user(&u, t, iov, (int)cnt);
	u.flags = flags;
	ret = write ? vfs_write(f, &u, pos) : vfs_read(f, &u, pos);
out:
	if (iov != fast)
		free(iov);
	file_put(f);
	return ret;
}

static long sys_readv(struct task *t, const uint64_t a[6])
{
	return do_rw_vec(t, (int)a[0], a[1], a[2], NULL, false, 0);
}

static long sys_writev(struct task *t, const uint64_t a[6])
{
	return do_rw_vec(t, (int)a[0], a[1], a[2], NULL, true, 0);
}

static long sys_preadv(struct task *t, const uint64_t a[6])
{
	uint64_t pos = a[3];
	if ((int64_t)pos < 0)
		return -EINVAL;
	return do_rw_vec(t, (int)a[0], a[1], a[2], &pos, false, 0);
}

static long sys_pwritev(struct task *t, const uint64_t a[6])
{
	uint64_t pos = a[3];
	if ((int64_t)pos < 0)
		return -EINVAL;
	return do_rw_vec(t, (int)a[0], a[1], a[2], &pos, true, 0);
}

#ifndef RWF_NOWAIT
#define RWF_NOWAIT 0x00000008
#endif

static long rw_vec2(struct task *t, const uint64_t a[6], bool write)
{
	/* HIPRI is a polling hint; the others change what the call does.
	 * Unknown bits are refused, as Linux does. */
	uint64_t rwf = a[5];
	if (rwf & ~(uint64_t)(RWF_HIPRI | RWF_DSYNC | RWF_SYNC | RWF_NOWAIT |
			      RWF_APPEND))
		return -EOPNOTSUPP;
	unsigned flags = 0;
	if (rwf & RWF_NOWAIT)
		flags |= UIO_NOWAIT;
	if (write && (rwf & RWF_APPEND))
		flags |= UIO_APPEND;
	if (write && (rwf & (RWF_DSYNC | RWF_SYNC)))
		flags |= UIO_DSYNC;
	/* Offset -1: the file offset (and, for RWF_APPEND, the end). */
	if ((int64_t)a[3] == -1)
		return do_rw_vec(t, (int)a[0], a[1], a[2], NULL, write, flags);
	uint64_t pos = a[3];
	if ((int64_t)pos < 0)
		return -EINVAL;
	return do_rw_vec(t, (int)a[0], a[1], a[2], &pos, write, flags);
}

static long sys_preadv2(struct task *t, const uint64_t a[6])
{
	return rw_vec2(t, a, false);
}

static long sys_pwritev2(struct task *t, const uint64_t a[6])
{
	return rw_vec2(t, a, true);
}

/* ---- open/close ---- */

static long do_openat(struct task *t, int dirfd, uint64_t upath, int flags,
		      mode_t mode)
{
	/* Linux's order: an O_PATH open drops every other flag first (so
	 * all bits set is O_PATH|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC), flags
	 * are judged, and only then is the path copied in. */
	if (flags & O_PATH)
		flags &= O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	if ((flags & __O_TMPFILE) == __O_TMPFILE)
		return -EOPNOTSUPP;
	if ((flags & O_CREAT) && (flags & O_DIRECTORY))
		return -EINVAL;
	char path[VFS_PATH_MAX];
	int r = get_path(t, upath, path, false);
	if (r)
		return r;
	struct file *f;
	r = vfs_open(t, dirfd, path, flags, mode, &f);
	if (r)
		return r;
	f->flags = (f->flags & ~O_CLOEXEC) | O_LARGEFILE;
	return install_file(t, f, flags & O_CLOEXEC);
}

static long sys_open(struct task *t, const uint64_t a[6])
{
	return do_openat(t, AT_FDCWD, a[0], (int)a[1], (mode_t)a[2]);
}

static long sys_openat(struct task *t, const uint64_t a[6])
{
	return do_openat(t, (int)a[0], a[1], (int)a[2], (mode_t)a[3]);
}

static long sys_creat(struct task *t, const uint64_t a[6])
{
	return do_openat(t, AT_FDCWD, a[0], O_CREAT | O_WRONLY | O_TRUNC,
			 (mode_t)a[1]);
}

static long sys_close(struct task *t, const uint64_t a[6])
{
	return fd_close(t->files, (int)a[0]);
}

static long sys_close_range(struct task *t, const uint64_t a[6])
{
	unsigned lo = (unsigned)a[0], hi = (unsigned)a[1];
	unsigned flags = (unsigned)a[2];
	if (flags & ~(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC))
		return -EINVAL;
	if (lo > hi)
		return -EINVAL;
	if (flags & CLOSE_RANGE_UNSHARE) {
		/* A shared table (clone CLONE_FILES) becomes this thread's
		 * own copy first. */
		int r = fdtable_unshare(t);
		if (r)
			return r;
	}
	fd_close_range(t->files, lo, hi, flags & CLOSE_RANGE_CLOEXEC);
	return 0;
}

static long sys_lseek(struct task *t, const uint64_t a[6])
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	long r;
	if (!(f->fmode & FMODE_LSEEK) || !f->fops || !f->fops->llseek)
		r = -ESPIPE;
	else if ((int)a[2] < SEEK_SET || (int)a[2] > SEEK_HOLE)
		r = -EINVAL;
	else {
		file_pos_lock(f);
		r = f->fops->llseek(f, (int64_t)a[1], (int)a[2]);
		file_pos_unlock(f);
	}
	file_put(f);
	return r;
}

/* ---- dup/fcntl/ioctl ---- */

static long sys_dup(struct task *t, const uint64_t a[6])
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	return install_file(t, f, false);
}

static long do_dup3(struct task *t, int oldfd, int newfd, int flags)
{
	struct file *f = fget(t, oldfd);
	if (!f)
		return -EBADF;
	long r = fd_install_at(t->files, newfd, f, flags & O_CLOEXEC);
	file_put(f);
	return r;
}

static long sys_dup2(struct task *t, const uint64_t a[6])
{
	int oldfd = (int)a[0], newfd = (int)a[1];
	if (oldfd == newfd) {
		struct file *f = fget(t, oldfd);
		if (!f)
			return -EBADF;
		file_put(f);
		return newfd;
	}
	return do_dup3(t, oldfd, newfd, 0);
}

static long sys_dup3(struct task *t, const uint64_t a[6])
{
	int flags = (int)a[2];
	if (flags & ~O_CLOEXEC)
		return -EINVAL;
	if ((int)a[0] == (int)a[1])
		return -EINVAL;
	return do_dup3(t, (int)a[0], (int)a[1], flags);
}

static long fcntl_lock(struct task *t, struct file *f, int cmd, uint64_t arg)
{
	struct flock fl;
	if (copy_from_user(t, &fl, arg, sizeof(fl)))
		return -EFAULT;
	if (cmd == F_GETLK || cmd == F_OFD_GETLK) {
		int r = fcntl_getlk(t, f, cmd, &fl);
		return r ? r : copy_to_user(t, arg, &fl, sizeof(fl));
	}
	return fcntl_setlk(t, f, cmd, &fl);
}

static long sys_fcntl(struct task *t, const uint64_t a[6])
{
	int fd = (int)a[0], cmd = (int)a[1];
	uint64_t arg = a[2];
	struct fdtable *fdt = t->files;
	struct file *f = fget(t, fd);
	if (!f)
		return -EBADF;
	long r;
	const int setfl_mask =
	    O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME;
	switch (cmd) {
	case F_DUPFD:
	case F_DUPFD_CLOEXEC:
		if ((int)arg < 0 || (unsigned long)(int)arg >= fd_limit())
			r = -EINVAL;
		else
			r = fd_alloc(fdt, (int)arg, f, cmd == F_DUPFD_CLOEXEC);
		break;
	case F_GETFD:
		r = fd_get_cloexec(fdt, fd);
		if (r > 0)
			r = FD_CLOEXEC;
		break;
	case F_SETFD:
		r = fd_set_cloexec(fdt, fd, arg & FD_CLOEXEC);
		break;
	case F_GETFL:
		r = f->flags;
		break;
	case F_SETFL:
		file_set_flags(f, setfl_mask, (int)arg);
		r = 0;
		break;
	case F_GETLK:
	case F_SETLK:
	case F_SETLKW:
	case F_OFD_GETLK:
	case F_OFD_SETLK:
	case F_OFD_SETLKW:
		r = fcntl_lock(t, f, cmd, arg);
		break;
	case F_GETPIPE_SZ:
		r = pipe_get_size(f);
		break;
	case F_SETPIPE_SZ:
		r = pipe_set_size(f, arg);
		break;
	case F_GETOWN:
	case F_SETOWN:
	case F_GETSIG:
	case F_SETSIG:
		r = 0;
		break;
	case F_GET_SEALS:
	case F_ADD_SEALS:
	default:
		r = -EINVAL;
	}
	file_put(f);
	return r;
}

static long sys_ioctl(struct task *t, const uint64_t a[6])
{
	int fd = (int)a[0];
	unsigned cmd = (unsigned)a[1];
	struct file *f = fget(t, fd);
	if (!f)
		return -EBADF;
	long r;
	int v;
	switch (cmd) {
	case FIOCLEX:
	case FIONCLEX:
		r = fd_set_cloexec(t->files, fd, cmd == FIOCLEX);
		break;
	case FIONBIO:
		r = copy_from_user(t, &v, a[2], sizeof(v));
		if (!r) {
			file_set_flags(f, O_NONBLOCK, v ? O_NONBLOCK : 0);
		}
		break;
	case FIOASYNC:
		r = copy_from_user(t, &v, a[2], sizeof(v));
		break;
	default:
		if (cmd == FIONREAD && S_ISREG(f->inode->mode)) {
			file_pos_lock(f);
			uint64_t pos = f->pos;
			file_pos_unlock(f);
			uint64_t size = inode_size(f->inode);
			uint64_t left = size > pos ? size - pos : 0;
			v = left > INT_MAX ? INT_MAX : (int)left;
			r = copy_to_user(t, a[2], &v, sizeof(v));
		} else if (f->fops && f->fops->ioctl) {
			r = f->fops->ioctl(f, t, cmd, a[2]);
		} else {
			r = -ENOTTY;
		}
	}
	file_put(f);
	return r;
}

/* ---- sync and hints ---- */

static long sys_fsync(struct task *t, const uint64_t a[6])
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = 0;
	if (f->fops && f->fops->fsync)
		r = f->fops->fsync(f);
	else if (!S_ISREG(f->inode->mode) && !S_ISDIR(f->inode->mode))
		r = -EINVAL;
	file_put(f);
	return r;
}

static long sys_sync(struct task *t, const uint64_t a[6])
{
	(void)t, (void)a;
	return 0;
}

static long sys_syncfs(struct task *t, const uint64_t a[6])
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	file_put(f);
	return 0;
}

static long sys_flock(struct task *t, const uint64_t a[6])
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = flock_file(t, f, (int)a[1]);
	file_put(f);
	return r;
}

static long sys_fadvise64(struct task *t, const uint64_t a[6])
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = 0;
	if (S_ISFIFO(f->inode->mode))
		r = -ESPIPE;
	else if ((int)a[3] < 0 || (int)a[3] > 5 || (int64_t)a[2] < 0)
		r = -EINVAL;
	file_put(f);
	return r;
}

static long sys_fallocate(struct task *t, const uint64_t a[6])
{
	int mode = (int)a[1];
	int64_t off = (int64_t)a[2], len = (int64_t)a[3];
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = 0;
	uint64_t end;
	if (off < 0 || len <= 0)
		r = -EINVAL;
	else if (!(f->fmode & FMODE_WRITE))
		r = -EBADF;
	else if (S_ISDIR(f->inode->mode))
		r = -EISDIR;
	else if (S_ISFIFO(f->inode->mode))
		r = -ESPIPE;
	else if (!S_ISREG(f->inode->mode))
		r = -ENODEV;
	else if (mode & ~FALLOC_FL_KEEP_SIZE)
		r = -EOPNOTSUPP;
	else if (__builtin_add_overflow((uint64_t)off, (uint64_t)len, &end) ||
		 end > INT64_MAX)
		r = -EFBIG;
	else if (!(mode & FALLOC_FL_KEEP_SIZE) && end > f->inode->size) {
		r = mnt_want_write(&f->path);
		if (!r) {
			struct iattr ia = {.valid = ATTR_SIZE, .size = end};
			r = inode_setattr(f->inode, &ia);
		}
	}
	file_put(f);
	return r;
}

/* sendfile: a read into a sentry buffer and a write from it. */
#define SENDFILE_CHUNK (64u << 10)
static long sys_sendfile(struct task *t, const uint64_t a[6])
{
	struct file *out = fget(t, (int)a[0]);
	struct file *in = fget(t, (int)a[1]);
	long ret = 0;
	uint64_t off = 0, *pos = NULL;
	size_t count = a[3] > MAX_RW_COUNT ? MAX_RW_COUNT : a[3];
	char *buf = NULL;
	if (!out || !in) {
		ret = -EBADF;
		goto out;
	}
	if (!(in->fmode & FMODE_READ) || !(out->fmode & FMODE_WRITE)) {
		ret = -EBADF;
		goto out;
	}
	if (out->flags & O_APPEND) {
		ret = -EINVAL;
		goto out;
	}
	if (a[2]) {
		if (copy_from_user(t, &off, a[2], sizeof(off))) {
			ret = -EFAULT;
			goto out;
		}
		if ((int64_t)off < 0) {
			ret = -EINVAL;
			goto out;
		}
		pos = &off;
	}
	/* Without an offset, in's own position is read once and written
	 * back at the end, as Linux's sendfile does (it does not hold the
	 * position lock across the copy either). */
	bool own_pos = !pos && (in->fmode & FMODE_LSEEK);
	if (own_pos) {
		file_pos_lock(in);
		off = in->pos;
		file_pos_unlock(in);
	}
	buf = malloc(SENDFILE_CHUNK);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	size_t done = 0;
	while (done < count) {
		size_t n = count - done < SENDFILE_CHUNK ? count - done
							 : SENDFILE_CHUNK;
		uint64_t before = off;
		struct uio u;
		uio_init_kernel(&u, buf, n);
		u.t = t;
		ssize_t r = pos || own_pos ? vfs_read_pos(in, &u, &off)
					   : vfs_read(in, &u, NULL);
		if (r <= 0) {
			if (r < 0 && !done)
				ret = r;
			break;
		}
		uio_init_kernel(&u, buf, (size_t)r);
		u.t = t;
		ssize_t w = vfs_write(out, &u, NULL);
		if (w < 0) {
			if (!done)
				ret = w;
			w = 0;
		}
		if (w < r && (pos || own_pos))
			off = before + (uint64_t)w;
		done += (size_t)w;
		if (w < r || (size_t)r < n)
			break;
	}
	if (done)
		ret = (long)done;
	if (own_pos) {
		file_pos_lock(in);
		in->pos = off;
		file_pos_unlock(in);
	}
	if (pos && copy_to_user(t, a[2], &off, sizeof(off)))
		ret = -EFAULT;
out:
	free(buf);
	if (out)
		file_put(out);
	if (in)
		file_put(in);
	return ret;
}

static long sys_copy_file_range(struct task *t, const uint64_t a[6])
{
	(void)t, (void)a;
	return -ENOSYS; /* callers fall back to read/write */
}

/* memfd_create: an unlinked tmpfs file, so mmap works through its memfd. */
static long sys_memfd_create(struct task *t, const uint64_t a[6])
{
	static struct super_block *sb;
	static struct dentry *root;
	char name[256];
	unsigned flags = (unsigned)a[1];
	if (flags & ~(MFD_CLOEXEC | MFD_ALLOW_SEALING))
		return -EINVAL;
	long n = strncpy_from_user(t, name, a[0], 250);
	if (n == -ENAMETOOLONG)
		return -EINVAL;
	if (n < 0)
		return n;
	if (!sb) {
		int r = tmpfs_new(0, 01777, 0, 0, &sb, &root);
		if (r)
			return r;
	}
	struct inode *dir = root->inode, *inode;
	char tmp[32];
	static unsigned long seq;
	snprintf(tmp, sizeof(tmp), "%lu", seq++);
	int r = dir->iops->create(dir, tmp, 0777, task_fsuid(t), task_fsgid(t),
				  O_RDWR, &inode);
	if (r)
		return r;
	dir->iops->unlink(dir, tmp, inode);
	char pname[300];
	snprintf(pname, sizeof(pname), "/memfd:%s (deleted)", name);
	struct path p;
	r = anon_path(inode, pname, &p);
	if (r) {
		inode_put(inode);
		return r;
	}
	struct file *f = file_alloc(&p, inode, O_RDWR | O_LARGEFILE);
	path_put(&p);
	if (f && inode->iops->open(inode, f)) {
		file_put(f);
		f = NULL;
	}
	inode_put(inode);
	if (!f)
		return -ENOMEM;
	return install_file(t, f, flags & MFD_CLOEXEC);
}

#define D(n, fn, args)                                                         \
	{                                                                      \
		SYS_##n, #n, fn, args, NULL                                    \
	}
/* With a prefetch column (syscalls.h). */
#define DP(n, fn, args, pf)                                                    \
	{                                                                      \
		SYS_##n, #n, fn, args, pf                                      \
	}
const struct syscall_def sys_file_defs[] = {
    D(read, sys_read, "fBu"),
    DP(write, sys_write, "fbu", "1b"),
    D(readv, sys_readv, "fpd"),
    D(writev, sys_writev, "fpd"),
    D(pread64, sys_pread64, "fBud"),
    DP(pwrite64, sys_pwrite64, "fbud", "1b"),
    D(preadv, sys_preadv, "fpdd"),
    D(pwritev, sys_pwritev, "fpdd"),
    D(preadv2, sys_preadv2, "fpdd-x"),
    D(pwritev2, sys_pwritev2, "fpdd-x"),
    DP(open, sys_open, "sox", "0s"),
    DP(openat, sys_openat, "fsox", "1s"),
    DP(creat, sys_creat, "sx", "0s"),
    D(close, sys_close, "f"),
    D(close_range, sys_close_range, "uux"),
    D(lseek, sys_lseek, "fdd"),
    D(dup, sys_dup, "f"),
    D(dup2, sys_dup2, "ff"),
    D(dup3, sys_dup3, "ffo"),
    D(fcntl, sys_fcntl, "fdx"),
    D(ioctl, sys_ioctl, "fxx"),
    D(fsync, sys_fsync, "f"),
    D(fdatasync, sys_fsync, "f"),
    D(sync, sys_sync, ""),
    D(syncfs, sys_syncfs, "f"),
    D(flock, sys_flock, "fd"),
    D(fadvise64, sys_fadvise64, "fddd"),
    D(fallocate, sys_fallocate, "fxdd"),
    D(sendfile, sys_sendfile, "ffpu"),
    D(copy_file_range, sys_copy_file_range, "fpfpux"),
    DP(memfd_create, sys_memfd_create, "sx", "0s"),
    DP(stat, sys_stat, "sp", "0s"),
    DP(lstat, sys_lstat, "sp", "0s"),
    D(fstat, sys_fstat, "fp"),
    DP(newfstatat, sys_newfstatat, "fspx", "1s"),
    DP(statx, sys_statx, "fsxxp", "1s"),
    DP(access, sys_access, "sx", "0s"),
    DP(faccessat, sys_faccessat, "fsx", "1s"),
    DP(faccessat2, sys_faccessat2, "fsxx", "1s"),
    DP(readlink, sys_readlink, "sBu", "0s"),
    DP(readlinkat, sys_readlinkat, "fsBu", "1s"),
    DP(statfs, sys_statfs, "sp", "0s"),
    D(fstatfs, sys_fstatfs, "fp"),
    DP(chmod, sys_chmod, "sx", "0s"),
    D(fchmod, sys_fchmod, "fx"),
    DP(fchmodat, sys_fchmodat, "fsx", "1s"),
    DP(chown, sys_chown, "sdd", "0s"),
    D(fchown, sys_fchown, "fdd"),
    DP(lchown, sys_lchown, "sdd", "0s"),
    DP(fchownat, sys_fchownat, "fsddx", "1s"),
    DP(truncate, sys_truncate, "sd", "0s"),
    D(ftruncate, sys_ftruncate, "fd"),
    DP(utimensat, sys_utimensat, "fspx", "1s"),
    DP(utimes, sys_utimes, "sp", "0s"),
    DP(futimesat, sys_futimesat, "fsp", "1s"),
    DP(utime, sys_utime, "sp", "0s"),
    D(umask, sys_umask, "x"),
    D(getdents64, sys_getdents64, "fpu"),
    D(getdents, sys_getdents, "fpu"),
    D(getcwd, sys_getcwd, "pu"),
    DP(chdir, sys_chdir, "s", "0s"),
    D(fchdir, sys_fchdir, "f"),
    DP(mkdir, sys_mkdir, "sx", "0s"),
    DP(mkdirat, sys_mkdirat, "fsx", "1s"),
    DP(rmdir, sys_rmdir, "s", "0s"),
    DP(unlink, sys_unlink, "s", "0s"),
    DP(unlinkat, sys_unlinkat, "fsx", "1s"),
    DP(rename, sys_rename, "ss", "0s1s"),
    DP(renameat, sys_renameat, "fsfs", "1s3s"),
    DP(renameat2, sys_renameat2, "fsfsx", "1s3s"),
    DP(link, sys_link, "ss", "0s1s"),
    DP(linkat, sys_linkat, "fsfsx", "1s3s"),
    DP(symlink, sys_symlink, "ss", "0s1s"),
    DP(symlinkat, sys_symlinkat, "sfs", "0s2s"),
    DP(mknod, sys_mknod, "sxx", "0s"),
    DP(mknodat, sys_mknodat, "fsxx", "1s"),
    D(pipe, sys_pipe, "p"),
    D(pipe2, sys_pipe2, "po"),
    D(poll, sys_poll, "pud"),
    D(ppoll, sys_ppoll, "pupp"),
    D(select, sys_select, "dpppp"),
    D(pselect6, sys_pselect6, "dppppp"),
    {.nr = -1},
};
