/* Extended attributes. No filesystem of the sentry stores any yet, so the
 * calls answer as Linux does for a filesystem without xattr handlers:
 * getxattr/setxattr/removexattr -EOPNOTSUPP (== ENOTSUP), listxattr an
 * empty list. Arguments are still checked in Linux's order (the path, the
 * name, the flags, user.* on special files) so that programs see the same
 * errors. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/usercopy.h"
#include "sentry/syscalls/sys_file.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/fs.h"

#define XATTR_NAME_MAX_ 255
#define XATTR_SIZE_MAX_ 65536

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
 * directories carry them. */
static int xattr_check(struct inode *inode, const char *name, bool write)
{
	if (strncmp(name, "user.", 5) == 0 && !S_ISREG(inode->mode) &&
	    !S_ISDIR(inode->mode))
		return write ? -EPERM : -ENODATA;
	return -EOPNOTSUPP;
}

enum xop { XGET, XSET, XLIST, XREMOVE };

static long do_xattr(struct task *t, struct inode *inode, enum xop op,
		     uint64_t uname, uint64_t size, int flags)
{
	char name[XATTR_NAME_MAX_ + 1];
	int r;
	switch (op) {
	case XLIST:
		(void)size;
		return 0; /* no names */
	case XSET:
		r = xattr_name(t, uname, name);
		if (r)
			return r;
		if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
			return -EINVAL;
		if (size > XATTR_SIZE_MAX_)
			return -E2BIG;
		return xattr_check(inode, name, true);
	case XGET:
	case XREMOVE:
		r = xattr_name(t, uname, name);
		if (r)
			return r;
		return xattr_check(inode, name, op == XREMOVE);
	}
	return -EINVAL;
}

static long path_xattr(struct task *t, uint64_t upath, bool follow, enum xop op,
		       uint64_t uname, uint64_t size, int flags)
{
	struct path p;
	int r = xattr_path(t, upath, follow, &p);
	if (r)
		return r;
	long ret = do_xattr(t, p.dentry->inode, op, uname, size, flags);
	path_put(&p);
	return ret;
}

static long fd_xattr(struct task *t, int fd, enum xop op, uint64_t uname,
		     uint64_t size, int flags)
{
	struct file *f = fget(t, fd);
	if (!f)
		return -EBADF;
	long ret = (f->flags & O_PATH)
		       ? -EBADF
		       : do_xattr(t, f->inode, op, uname, size, flags);
	file_put(f);
	return ret;
}

static long sys_getxattr(struct task *t, const uint64_t a[6])
{
	return path_xattr(t, a[0], true, XGET, a[1], a[3], 0);
}
static long sys_lgetxattr(struct task *t, const uint64_t a[6])
{
	return path_xattr(t, a[0], false, XGET, a[1], a[3], 0);
}
static long sys_fgetxattr(struct task *t, const uint64_t a[6])
{
	return fd_xattr(t, (int)a[0], XGET, a[1], a[3], 0);
}
static long sys_setxattr(struct task *t, const uint64_t a[6])
{
	return path_xattr(t, a[0], true, XSET, a[1], a[3], (int)a[4]);
}
static long sys_lsetxattr(struct task *t, const uint64_t a[6])
{
	return path_xattr(t, a[0], false, XSET, a[1], a[3], (int)a[4]);
}
static long sys_fsetxattr(struct task *t, const uint64_t a[6])
{
	return fd_xattr(t, (int)a[0], XSET, a[1], a[3], (int)a[4]);
}
static long sys_listxattr(struct task *t, const uint64_t a[6])
{
	return path_xattr(t, a[0], true, XLIST, 0, a[2], 0);
}
static long sys_llistxattr(struct task *t, const uint64_t a[6])
{
	return path_xattr(t, a[0], false, XLIST, 0, a[2], 0);
}
static long sys_flistxattr(struct task *t, const uint64_t a[6])
{
	return fd_xattr(t, (int)a[0], XLIST, 0, a[2], 0);
}
static long sys_removexattr(struct task *t, const uint64_t a[6])
{
	return path_xattr(t, a[0], true, XREMOVE, a[1], 0, 0);
}
static long sys_lremovexattr(struct task *t, const uint64_t a[6])
{
	return path_xattr(t, a[0], false, XREMOVE, a[1], 0, 0);
}
static long sys_fremovexattr(struct task *t, const uint64_t a[6])
{
	return fd_xattr(t, (int)a[0], XREMOVE, a[1], 0, 0);
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
