/* stat, access, readlink, statfs and attribute changes (chmod, chown,
 * truncate, utimes, umask). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#include "sentry/kernel/task.h"
#include "sentry/vfs/fs_struct.h"
#include "sentry/mm/usercopy.h"
#include "sentry/syscalls/sys_file.h"
#include "sentry/vfs/fs_struct.h"

/* Resolve (dirfd, upath) with AT_* flags into p. */
static int at_lookup(struct task *t, int dirfd, uint64_t upath, int flags,
		     unsigned extra, struct path *p)
{
	char path[VFS_PATH_MAX];
	int r = get_path(t, upath, path, flags & AT_EMPTY_PATH);
	if (r)
		return r;
	unsigned lf = extra;
	if (!(flags & AT_SYMLINK_NOFOLLOW))
		lf |= LOOKUP_FOLLOW;
	if (flags & AT_EMPTY_PATH)
		lf |= LOOKUP_EMPTY;
	return vfs_lookup(t, dirfd, path, lf, p);
}

static int path_stat(struct path *p, struct stat *st)
{
	struct inode *inode = p->dentry->inode;
	if (inode->iops && inode->iops->getattr) {
		int r = inode->iops->getattr(inode);
		if (r)
			return r;
	}
	inode_fill_stat(inode, st);
	return 0;
}

static long do_fstatat(struct task *t, int dirfd, uint64_t upath, uint64_t ubuf,
		       int flags)
{
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT))
		return -EINVAL;
	struct path p;
	int r = at_lookup(t, dirfd, upath, flags, 0, &p);
	if (r)
		return r;
	struct stat st;
	r = path_stat(&p, &st);
	path_put(&p);
	if (r)
		return r;
	return copy_to_user(t, ubuf, &st, sizeof(st));
}

long sys_stat(struct task *t, const uint64_t a[6])
{
	return do_fstatat(t, AT_FDCWD, a[0], a[1], 0);
}

long sys_lstat(struct task *t, const uint64_t a[6])
{
	return do_fstatat(t, AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW);
}

long sys_newfstatat(struct task *t, const uint64_t a[6])
{
	return do_fstatat(t, (int)a[0], a[1], a[2], (int)a[3]);
}

long sys_fstat(struct task *t, const uint64_t a[6])
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	struct stat st;
	int r = file_stat(f, &st);
	file_put(f);
	if (r)
		return r;
	return copy_to_user(t, a[1], &st, sizeof(st));
}

long sys_statx(struct task *t, const uint64_t a[6])
{
	int flags = (int)a[2];
	unsigned mask = (unsigned)a[3];
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH | AT_NO_AUTOMOUNT |
		      AT_STATX_SYNC_TYPE))
		return -EINVAL;
	if ((flags & AT_STATX_SYNC_TYPE) == AT_STATX_SYNC_TYPE)
		return -EINVAL;
	if (mask & STATX__RESERVED)
		return -EINVAL;
	struct path p;
	int r = at_lookup(t, (int)a[0], a[1],
			  flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH), 0, &p);
	if (r)
		return r;
	struct stat st;
	r = path_stat(&p, &st);
	bool mnt_root = p.mnt && p.dentry == p.mnt->root;
	path_put(&p);
	if (r)
		return r;
	struct statx sx;
	memset(&sx, 0, sizeof(sx));
	sx.stx_mask = STATX_BASIC_STATS;
	sx.stx_blksize = (uint32_t)st.st_blksize;
	sx.stx_nlink = (uint32_t)st.st_nlink;
	sx.stx_uid = st.st_uid;
	sx.stx_gid = st.st_gid;
	sx.stx_mode = (uint16_t)st.st_mode;
	sx.stx_ino = st.st_ino;
	sx.stx_size = (uint64_t)st.st_size;
	sx.stx_blocks = (uint64_t)st.st_blocks;
	sx.stx_atime = (struct statx_timestamp){
	    st.st_atim.tv_sec, (uint32_t)st.st_atim.tv_nsec, 0};
	sx.stx_mtime = (struct statx_timestamp){
	    st.st_mtim.tv_sec, (uint32_t)st.st_mtim.tv_nsec, 0};
	sx.stx_ctime = (struct statx_timestamp){
	    st.st_ctim.tv_sec, (uint32_t)st.st_ctim.tv_nsec, 0};
	sx.stx_rdev_major = major(st.st_rdev);
	sx.stx_rdev_minor = minor(st.st_rdev);
	sx.stx_dev_major = major(st.st_dev);
	sx.stx_dev_minor = minor(st.st_dev);
	sx.stx_attributes_mask = STATX_ATTR_MOUNT_ROOT;
	if (mnt_root)
		sx.stx_attributes |= STATX_ATTR_MOUNT_ROOT;
	return copy_to_user(t, a[4], &sx, sizeof(sx));
}

static long do_faccessat(struct task *t, int dirfd, uint64_t upath, int mode,
			 int flags)
{
	if (mode & ~(R_OK | W_OK | X_OK))
		return -EINVAL;
	if (flags & ~(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct path p;
	int r = at_lookup(t, dirfd, upath, flags, 0, &p);
	if (r)
		return r;
	struct inode *inode = p.dentry->inode;
	int mask = 0;
	if (mode & R_OK)
		mask |= MAY_READ;
	if (mode & W_OK)
		mask |= MAY_WRITE;
	if (mode & X_OK)
		mask |= MAY_EXEC;
	if ((mode & W_OK) && (S_ISREG(inode->mode) || S_ISDIR(inode->mode) ||
			      S_ISLNK(inode->mode)))
		r = mnt_want_write(&p);
	/* access(2) checks with the real ids, faccessat with AT_EACCESS
	 * with the effective ones: swap them into fs ids for the check. */
	if (!r && mask) {
		struct cred c = t->cred;
		if (!(flags & AT_EACCESS)) {
			c.fsuid = c.uid;
			c.fsgid = c.gid;
		}
		r = inode_permission_cred(&c, inode, mask);
	}
	path_put(&p);
	return r;
}

long sys_access(struct task *t, const uint64_t a[6])
{
	return do_faccessat(t, AT_FDCWD, a[0], (int)a[1], 0);
}

long sys_faccessat(struct task *t, const uint64_t a[6])
{
	return do_faccessat(t, (int)a[0], a[1], (int)a[2], 0);
}

long sys_faccessat2(struct task *t, const uint64_t a[6])
{
	return do_faccessat(t, (int)a[0], a[1], (int)a[2], (int)a[3]);
}

static long do_readlinkat(struct task *t, int dirfd, uint64_t upath,
			  uint64_t ubuf, int64_t size, int flags)
{
	struct path p;
	int r = at_lookup(t, dirfd, upath, AT_SYMLINK_NOFOLLOW | flags, 0, &p);
	if (r)
		return r;
	if (size <= 0) {
		path_put(&p);
		return -EINVAL;
	}
	struct inode *inode = p.dentry->inode;
	char *buf = NULL;
	long n = -EINVAL;
	if (S_ISLNK(inode->mode) && inode->iops && inode->iops->readlink) {
		buf = malloc(VFS_PATH_MAX + 1);
		n = buf ? inode->iops->readlink(inode, buf, VFS_PATH_MAX + 1)
			: -ENOMEM;
	}
	path_put(&p);
	if (n >= 0) {
		if (n > size)
			n = size;
		if (copy_to_user(t, ubuf, buf, (size_t)n))
			n = -EFAULT;
	}
	free(buf);
	return n;
}

long sys_readlink(struct task *t, const uint64_t a[6])
{
	return do_readlinkat(t, AT_FDCWD, a[0], a[1], (int64_t)(int)a[2], 0);
}

long sys_readlinkat(struct task *t, const uint64_t a[6])
{
	return do_readlinkat(t, (int)a[0], a[1], a[2], (int64_t)(int)a[3],
			     AT_EMPTY_PATH);
}

static long do_statfs(struct task *t, const struct path *p, uint64_t ubuf)
{
	struct statfs st;
	struct super_block *sb = p->dentry->inode->sb;
	memset(&st, 0, sizeof(st));
	int r = 0;
	if (sb && sb->ops && sb->ops->statfs) {
		r = sb->ops->statfs(sb, &st);
	} else {
		st.f_type = 0x01021994; /* TMPFS_MAGIC: pseudo filesystems */
		st.f_bsize = 4096;
		st.f_namelen = VFS_NAME_MAX;
	}
	if (r)
		return r;
	st.f_frsize = st.f_frsize ? st.f_frsize : st.f_bsize;
	st.f_flags = ST_NOSUID | ST_NODEV;
	if (p->mnt && p->mnt->readonly)
		st.f_flags |= ST_RDONLY;
	st.f_fsid.__val[0] = (int)(sb ? sb->dev : 0);
	return copy_to_user(t, ubuf, &st, sizeof(st));
}

long sys_statfs(struct task *t, const uint64_t a[6])
{
	struct path p;
	int r = at_lookup(t, AT_FDCWD, a[0], 0, 0, &p);
	if (r)
		return r;
	long ret = do_statfs(t, &p, a[1]);
	path_put(&p);
	return ret;
}

long sys_fstatfs(struct task *t, const uint64_t a[6])
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = f->path.dentry ? do_statfs(t, &f->path, a[1]) : -EBADF;
	file_put(f);
	return r;
}

/* ---- attribute changes ---- */

static long path_chmod(struct task *t, const struct path *p, mode_t mode)
{
	struct inode *inode = p->dentry->inode;
	int r = mnt_want_write(p);
	if (r && !S_ISCHR(inode->mode) && !S_ISFIFO(inode->mode))
		return r;
	if (!inode_owner_or_root(t, inode))
		return -EPERM;
	mode &= 07777;
	if (task_fsuid(t) != 0 && !cred_in_group(t, inode->gid))
		mode &= ~S_ISGID;
	struct iattr ia = {.valid = ATTR_MODE, .mode = mode};
	return inode_setattr(inode, &ia);
}

long sys_chmod(struct task *t, const uint64_t a[6])
{
	struct path p;
	int r = at_lookup(t, AT_FDCWD, a[0], 0, 0, &p);
	if (r)
		return r;
	long ret = path_chmod(t, &p, (mode_t)a[1]);
	path_put(&p);
	return ret;
}

long sys_fchmodat(struct task *t, const uint64_t a[6])
{
	struct path p;
	int r = at_lookup(t, (int)a[0], a[1], 0, 0, &p);
	if (r)
		return r;
	long ret = path_chmod(t, &p, (mode_t)a[2]);
	path_put(&p);
	return ret;
}

long sys_fchmod(struct task *t, const uint64_t a[6])
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	long r =
	    f->path.dentry ? path_chmod(t, &f->path, (mode_t)a[1]) : -EBADF;
	file_put(f);
	return r;
}

static long path_chown(struct task *t, const struct path *p, uint32_t uid,
		       uint32_t gid)
{
	struct inode *inode = p->dentry->inode;
	int r = mnt_want_write(p);
	if (r)
		return r;
	bool root = task_fsuid(t) == 0;
	struct iattr ia = {0};
	if (uid != (uint32_t)-1) {
		if (!root && (uid != inode->uid || task_fsuid(t) != uid))
			return -EPERM;
		ia.valid |= ATTR_UID;
		ia.uid = uid;
	}
	if (gid != (uint32_t)-1) {
		if (!root && (task_fsuid(t) != inode->uid ||
			      (gid != inode->gid && !cred_in_group(t, gid))))
			return -EPERM;
		ia.valid |= ATTR_GID;
		ia.gid = gid;
	}
	if (!ia.valid)
		return 0;
	if (!S_ISDIR(inode->mode) && (inode->mode & (S_ISUID | S_ISGID))) {
		/* Like Linux: a chown drops set-id bits (setgid only when it
		 * means "set group id", i.e. with group exec). */
		mode_t m = inode->mode & 07777 & ~S_ISUID;
		if (m & S_IXGRP)
			m &= ~S_ISGID;
		ia.valid |= ATTR_MODE;
		ia.mode = m;
	}
	return inode_setattr(inode, &ia);
}

static long do_fchownat(struct task *t, int dirfd, uint64_t upath, uint32_t uid,
			uint32_t gid, int flags)
{
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	struct path p;
	int r = at_lookup(t, dirfd, upath, flags, 0, &p);
	if (r)
		return r;
	long ret = path_chown(t, &p, uid, gid);
	path_put(&p);
	return ret;
}

long sys_chown(struct task *t, const uint64_t a[6])
{
	return do_fchownat(t, AT_FDCWD, a[0], (uint32_t)a[1], (uint32_t)a[2],
			   0);
}

long sys_lchown(struct task *t, const uint64_t a[6])
{
	return do_fchownat(t, AT_FDCWD, a[0], (uint32_t)a[1], (uint32_t)a[2],
			   AT_SYMLINK_NOFOLLOW);
}

long sys_fchownat(struct task *t, const uint64_t a[6])
{
	return do_fchownat(t, (int)a[0], a[1], (uint32_t)a[2], (uint32_t)a[3],
			   (int)a[4]);
}

long sys_fchown(struct task *t, const uint64_t a[6])
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = f->path.dentry
		     ? path_chown(t, &f->path, (uint32_t)a[1], (uint32_t)a[2])
		     : -EBADF;
	file_put(f);
	return r;
}

static long do_truncate(struct inode *inode, int64_t len)
{
	if (len < 0)
		return -EINVAL;
	struct iattr ia = {.valid = ATTR_SIZE, .size = (uint64_t)len};
	return inode_setattr(inode, &ia);
}

long sys_truncate(struct task *t, const uint64_t a[6])
{
	struct path p;
	int r = at_lookup(t, AT_FDCWD, a[0], 0, 0, &p);
	if (r)
		return r;
	struct inode *inode = p.dentry->inode;
	long ret;
	if (S_ISDIR(inode->mode))
		ret = -EISDIR;
	else if (!S_ISREG(inode->mode))
		ret = -EINVAL;
	else if ((ret = mnt_want_write(&p)) == 0 &&
		 (ret = inode_permission(t, inode, MAY_WRITE)) == 0 &&
		 (ret = inode_get_write_access(inode)) == 0) {
		ret = do_truncate(inode, (int64_t)a[1]);
		inode_put_write_access(inode);
	}
	path_put(&p);
	return ret;
}

long sys_ftruncate(struct task *t, const uint64_t a[6])
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	long r;
	if (!(f->fmode & FMODE_WRITE) || !S_ISREG(f->inode->mode))
		r = -EINVAL;
	else if ((int64_t)a[1] < 0)
		r = -EINVAL;
	else
		r = do_truncate(f->inode, (int64_t)a[1]);
	file_put(f);
	return r;
}

/* times: NULL means "now" for both; otherwise UTIME_NOW / UTIME_OMIT. */
static long path_utimens(struct task *t, const struct path *p,
			 const struct timespec *times)
{
	struct inode *inode = p->dentry->inode;
	int r = mnt_want_write(p);
	if (r)
		return r;
	struct timespec now = vfs_now();
	struct iattr ia = {
	    .valid = ATTR_ATIME | ATTR_MTIME, .atime = now, .mtime = now};
	bool explicit = false;
	if (times) {
		for (int i = 0; i < 2; i++) {
			long ns = times[i].tv_nsec;
			if (ns == UTIME_OMIT) {
				ia.valid &= ~(i ? ATTR_MTIME : ATTR_ATIME);
				continue;
			}
			if (ns == UTIME_NOW)
				continue;
			if (ns < 0 || ns > 999999999)
				return -EINVAL;
			explicit = true;
			if (i)
				ia.mtime = times[i];
			else
				ia.atime = times[i];
		}
		if (!ia.valid)
			return 0;
	}
	if (!inode_owner_or_root(t, inode)) {
		if (explicit)
			return -EPERM;
		r = inode_permission(t, inode, MAY_WRITE);
		if (r)
			return r;
	}
	return inode_setattr(inode, &ia);
}

long sys_utimensat(struct task *t, const uint64_t a[6])
{
	int dirfd = (int)a[0], flags = (int)a[3];
	struct timespec ts[2], *times = NULL;
	if (flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	if (a[2]) {
		if (copy_from_user(t, ts, a[2], sizeof(ts)))
			return -EFAULT;
		times = ts;
	}
	struct path p;
	int r;
	if (!a[1]) {
		/* futimens: the path argument NULL means dirfd itself. */
		if (dirfd == AT_FDCWD)
			return -EFAULT;
		r = vfs_dirfd_path(t, dirfd, &p);
	} else {
		r = at_lookup(t, dirfd, a[1], flags, 0, &p);
	}
	if (r)
		return r;
	long ret = path_utimens(t, &p, times);
	path_put(&p);
	return ret;
}

static long do_futimesat(struct task *t, int dirfd, uint64_t upath,
			 uint64_t utv)
{
	struct timespec ts[2], *times = NULL;
	if (utv) {
		struct timeval tv[2];
		if (copy_from_user(t, tv, utv, sizeof(tv)))
			return -EFAULT;
		for (int i = 0; i < 2; i++) {
			if (tv[i].tv_usec < 0 || tv[i].tv_usec >= 1000000)
				return -EINVAL;
			ts[i].tv_sec = tv[i].tv_sec;
			ts[i].tv_nsec = tv[i].tv_usec * 1000;
		}
		times = ts;
	}
	struct path p;
	int r = at_lookup(t, dirfd, upath, 0, 0, &p);
	if (r)
		return r;
	long ret = path_utimens(t, &p, times);
	path_put(&p);
	return ret;
}

long sys_utimes(struct task *t, const uint64_t a[6])
{
	return do_futimesat(t, AT_FDCWD, a[0], a[1]);
}

long sys_futimesat(struct task *t, const uint64_t a[6])
{
	return do_futimesat(t, (int)a[0], a[1], a[2]);
}

long sys_utime(struct task *t, const uint64_t a[6])
{
	struct timespec ts[2], *times = NULL;
	if (a[1]) {
		struct utimbuf ub;
		if (copy_from_user(t, &ub, a[1], sizeof(ub)))
			return -EFAULT;
		ts[0] = (struct timespec){ub.actime, 0};
		ts[1] = (struct timespec){ub.modtime, 0};
		times = ts;
	}
	struct path p;
	int r = at_lookup(t, AT_FDCWD, a[0], 0, 0, &p);
	if (r)
		return r;
	long ret = path_utimens(t, &p, times);
	path_put(&p);
	return ret;
}

long sys_umask(struct task *t, const uint64_t a[6])
{
	struct fs_struct *fs = task_fs(t);
	return atomic_exchange(&fs->umask, (mode_t)a[0] & 0777);
}
