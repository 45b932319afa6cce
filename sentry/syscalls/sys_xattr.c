/* Extended attributes: the filesystem's xattr ops (tmpfs keeps user.*),
 * and for one without them what Linux answers for a filesystem without
 * xattr handlers: getxattr/setxattr/removexattr -EOPNOTSUPP (== ENOTSUP),
 * listxattr an empty list. Arguments are checked in Linux's order (path,
 * name, flags, size, value, read-only mount, user.* only on regular files
 * and directories, permission) so that programs see the same errors. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/usercopy.h"
#include "sentry/syscalls/sys_file.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/fs.h"
#include "sentry/vfs/xattr.h"

/* The inode of a path argument (follow: not the l* variant), with a
 * reference in *p. */
static int xattr_path(struct task *t, uint64_t upath, bool follow,
		      struct path *p)
{
	char path[VFS_PATH_MAX];
	long n = copy_path_from_user(t, path, upath);
	if (n < 0)
		return (int)n;
	return vfs_lookup(t, AT_FDCWD, path, follow ? LOOKUP_FOLLOW : 0, p);
}

static int xattr_name(struct task *t, uint64_t uname, char *name)
{
	long n = strncpy_from_user(t, name, uname, XATTR_NAME_MAX_ + 1);
	if (n == -ENAMETOOLONG || n == 0)
		return -ERANGE;
	return n < 0 ? (int)n : 0;
}

/* Linux's xattr_permission for user.*: only regular files and
 * directories carry them, and the file's own permission decides. */
static int xattr_perm(struct task *t, struct inode *inode, const char *name,
		      bool write)
{
	if (strncmp(name, "user.", 5) != 0)
		return 0;
	if (!S_ISREG(inode->mode) && !S_ISDIR(inode->mode))
		return write ? -EPERM : -ENODATA;
	return inode_permission(t, inode, write ? MAY_WRITE : MAY_READ);
}

enum xop { XGET, XSET, XLIST, XREMOVE };

static long xattr_get_op(struct task *t, struct inode *inode, uint64_t uname,
			 uint64_t uval, uint64_t size)
{
	char name[XATTR_NAME_MAX_ + 1];
	int r = xattr_name(t, uname, name);
	if (!r)
		r = xattr_perm(t, inode, name, false);
	if (r)
		return r;
	if (!inode->iops || !inode->iops->getxattr)
		return -EOPNOTSUPP;
	if (size > XATTR_SIZE_MAX_)
		size = XATTR_SIZE_MAX_;
	char *buf = size ? malloc(size) : NULL;
	if (size && !buf)
		return -ENOMEM;
	ssize_t n = inode->iops->getxattr(inode, name, buf, size);
	if (n > 0 && size && copy_to_user(t, uval, buf, (size_t)n))
		n = -EFAULT;
	free(buf);
	return n;
}

static long xattr_set_op(struct task *t, const struct path *p,
			 struct inode *inode, uint64_t uname, uint64_t uval,
			 uint64_t size, int flags, bool remove)
{
	char name[XATTR_NAME_MAX_ + 1];
	int r = xattr_name(t, uname, name);
	if (r)
		return r;
	char *buf = NULL;
	if (!remove) {
		if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
			return -EINVAL;
		if (size > XATTR_SIZE_MAX_)
			return -E2BIG;
		buf = size ? malloc(size) : NULL;
		if (size && !buf)
			return -ENOMEM;
		if (size && copy_from_user(t, buf, uval, size)) {
			free(buf);
			return -EFAULT;
		}
	}
	r = mnt_want_write(p);
	if (!r)
		r = xattr_perm(t, inode, name, true);
	if (!r && remove)
		r = inode->iops && inode->iops->removexattr
			? inode->iops->removexattr(inode, name)
			: -EOPNOTSUPP;
	else if (!r)
		r = inode->iops && inode->iops->setxattr
			? inode->iops->setxattr(inode, name, buf, size, flags)
			: -EOPNOTSUPP;
	free(buf);
	return r;
}

static long xattr_list_op(struct task *t, struct inode *inode, uint64_t ubuf,
			  uint64_t size)
{
	if (!inode->iops || !inode->iops->listxattr)
		return 0; /* no names */
	if (size > XATTR_LIST_MAX_)
		size = XATTR_LIST_MAX_;
	char *buf = size ? malloc(size) : NULL;
	if (size && !buf)
		return -ENOMEM;
	ssize_t n = inode->iops->listxattr(inode, buf, size);
	if (n > 0 && size && copy_to_user(t, ubuf, buf, (size_t)n))
		n = -EFAULT;
	free(buf);
	return n;
}

static long do_xattr(struct task *t, const struct path *p, struct inode *inode,
		     enum xop op, uint64_t uname, uint64_t uval, uint64_t size,
		     int flags)
{
	switch (op) {
	case XGET:
		return xattr_get_op(t, inode, uname, uval, size);
	case XSET:
		return xattr_set_op(t, p, inode, uname, uval, size, flags,
				    false);
	case XREMOVE:
		return xattr_set_op(t, p, inode, uname, 0, 0, 0, true);
	case XLIST:
		return xattr_list_op(t, inode, uval, size);
	}
	return -EINVAL;
}

static long path_xattr(struct task *t, uint64_t upath, bool follow, enum xop op,
		       uint64_t uname, uint64_t uval, uint64_t size, int flags)
{
	struct path p;
	int r = xattr_path(t, upath, follow, &p);
	if (r)
		return r;
	long ret =
	    do_xattr(t, &p, p.dentry->inode, op, uname, uval, size, flags);
	path_put(&p);
	return ret;
}

static long fd_xattr(struct task *t, int fd, enum xop op, uint64_t uname,
		     uint64_t uval, uint64_t size, int flags)
{
	struct file *f = fget(t, fd);
	if (!f)
		return -EBADF;
	long ret = (f->flags & O_PATH) ? -EBADF
				       : do_xattr(t, &f->path, f->inode, op,
						  uname, uval, size, flags);
	file_put(f);
	return ret;
}

static long sys_getxattr(struct task *t, const uint64_t a[6])
{
	return path_xattr(t, a[0], true, XGET, a[1], a[2], a[3], 0);
}
static long sys_lgetxattr(struct task *t, const uint64_t a[6])
{
	return path_xattr(t, a[0], false, XGET, a[1], a[2], a[3], 0);
}
static long sys_fgetxattr(struct task *t, const uint64_t a[6])
{
	return fd_xattr(t, (int)a[0], XGET, a[1], a[2], a[3], 0);
}
static long sys_setxattr(struct task *t, const uint64_t a[6])
{
	return path_xattr(t, a[0], true, XSET, a[1], a[2], a[3], (int)a[4]);
}
static long sys_lsetxattr(struct task *t, const uint64_t a[6])
{
	return path_xattr(t, a[0], false, XSET, a[1], a[2], a[3], (int)a[4]);
}
static long sys_fsetxattr(struct task *t, const uint64_t a[6])
{
	return fd_xattr(t, (int)a[0], XSET, a[1], a[2], a[3], (int)a[4]);
}
static long sys_listxattr(struct task *t, const uint64_t a[6])
{
	return path_xattr(t, a[0], true, XLIST, 0, a[1], a[2], 0);
}
static long sys_llistxattr(struct task *t, const uint64_t a[6])
{
	return path_xattr(t, a[0], false, XLIST, 0, a[1], a[2], 0);
}
static long sys_flistxattr(struct task *t, const uint64_t a[6])
{
	return fd_xattr(t, (int)a[0], XLIST, 0, a[1], a[2], 0);
}
static long sys_removexattr(struct task *t, const uint64_t a[6])
{
	return path_xattr(t, a[0], true, XREMOVE, a[1], 0, 0, 0);
}
static long sys_lremovexattr(struct task *t, const uint64_t a[6])
{
	return path_xattr(t, a[0], false, XREMOVE, a[1], 0, 0, 0);
}
static long sys_fremovexattr(struct task *t, const uint64_t a[6])
{
	return fd_xattr(t, (int)a[0], XREMOVE, a[1], 0, 0, 0);
}
#define DP(n, fn, args, pf)                                                    \
	{                                                                      \
		SYS_##n, #n, fn, args, pf                                      \
	}
const struct syscall_def sys_xattr_defs[] = {
    DP(getxattr, sys_getxattr, "sspx", "0s1s"),
    DP(lgetxattr, sys_lgetxattr, "sspx", "0s1s"),
    DP(fgetxattr, sys_fgetxattr, "fspx", "1s"),
    DP(setxattr, sys_setxattr, "sspxx", "0s1s"),
    DP(lsetxattr, sys_lsetxattr, "sspxx", "0s1s"),
    DP(fsetxattr, sys_fsetxattr, "fspxx", "1s"),
    DP(listxattr, sys_listxattr, "spx", "0s"),
    DP(llistxattr, sys_llistxattr, "spx", "0s"),
    DP(flistxattr, sys_flistxattr, "fpx", NULL),
    DP(removexattr, sys_removexattr, "ss", "0s1s"),
    DP(lremovexattr, sys_lremovexattr, "ss", "0s1s"),
    DP(fremovexattr, sys_fremovexattr, "fs", "1s"),
    {.nr = -1},
};
