/* Directory syscalls: getdents, cwd, and the namespace changes (mkdir,
 * rmdir, unlink, rename, link, symlink, mknod), which keep the dentry cache
 * in step with the filesystem after each successful operation. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/kernel/task.h"
#include "sentry/mm/usercopy.h"
#include "sentry/syscalls/sys_file.h"
#include "sentry/vfs/fs_struct.h"

/* ---- getdents ---- */

struct getdents_ctx {
	struct dir_ctx ctx;
	char *buf;
	size_t cap, len;
	bool old; /* struct linux_dirent (getdents) */
};

static int getdents_actor(struct dir_ctx *ctx, const char *name, size_t len,
			  uint64_t off, uint64_t ino, unsigned char type)
{
	struct getdents_ctx *g = (struct getdents_ctx *)ctx;
	size_t reclen;
	if (g->old)
		reclen = (2 * sizeof(unsigned long) + 2 + len + 2 + 7) & ~7ul;
	else
		reclen = (8 + 8 + 2 + 1 + len + 1 + 7) & ~7ul;
	if (g->len + reclen > g->cap)
		return 1;
	char *p = g->buf + g->len;
	memset(p, 0, reclen);
	unsigned short rl = (unsigned short)reclen;
	if (g->old) {
		unsigned long ul = (unsigned long)ino, uo = (unsigned long)off;
		memcpy(p, &ul, sizeof(ul));
		memcpy(p + 8, &uo, sizeof(uo));
		memcpy(p + 16, &rl, 2);
		memcpy(p + 18, name, len);
		p[reclen - 1] = (char)type;
	} else {
		int64_t so = (int64_t)off;
		memcpy(p, &ino, 8);
		memcpy(p + 8, &so, 8);
		memcpy(p + 16, &rl, 2);
		p[18] = (char)type;
		memcpy(p + 19, name, len);
	}
	g->len += reclen;
	return 0;
}

static long do_getdents(struct task *t, int fd, uint64_t udirp, uint64_t count,
			bool old)
{
	struct file *f = fget(t, fd);
	if (!f)
		return -EBADF;
	long r;
	if (!S_ISDIR(f->inode->mode) || !(f->fmode & FMODE_READ)) {
		r = S_ISDIR(f->inode->mode) ? -EBADF : -ENOTDIR;
		goto out;
	}
	size_t cap = count > (256u << 10) ? (256u << 10) : (size_t)count;
	struct getdents_ctx g = {
	    .ctx.actor = getdents_actor, .cap = cap, .old = old};
	g.buf = malloc(cap ? cap : 1);
	if (!g.buf) {
		r = -ENOMEM;
		goto out;
	}
	file_pos_lock(f);
	uint64_t start = f->pos;
	r = vfs_iterate_dir(f, &g.ctx);
	if (r == 0 && g.len == 0 && g.ctx.full)
		r = -EINVAL; /* the next entry does not fit in count */
	if (r == 0 && g.len) {
		if (copy_to_user(t, udirp, g.buf, g.len)) {
			f->pos = start;
			r = -EFAULT;
		} else {
			r = (long)g.len;
		}
	}
	file_pos_unlock(f);
	free(g.buf);
out:
	file_put(f);
	return r;
}

long sys_getdents64(struct task *t, const uint64_t a[6])
{
	return do_getdents(t, (int)a[0], a[1], (unsigned)a[2], false);
}

long sys_getdents(struct task *t, const uint64_t a[6])
{
	return do_getdents(t, (int)a[0], a[1], (unsigned)a[2], true);
}

/* ---- cwd ---- */

long sys_getcwd(struct task *t, const uint64_t a[6])
{
	struct fs_struct *fs = task_fs(t);
	struct path cwd, root;
	fs_get_cwd(fs, &cwd);
	fs_get_root(fs, &root);
	char *buf = dentry_deleted(cwd.dentry) ? NULL : malloc(VFS_PATH_MAX);
	int n = buf ? path_render(&cwd, &root, buf, VFS_PATH_MAX) : 0;
	bool gone = dentry_deleted(cwd.dentry);
	path_put(&cwd);
	path_put(&root);
	if (gone) {
		free(buf);
		return -ENOENT;
	}
	if (!buf)
		return -ENOMEM;
	long r = n;
	if (n >= 0) {
		if ((uint64_t)n + 1 > a[1])
			r = -ERANGE;
		else if (copy_to_user(t, a[0], buf, (size_t)n + 1))
			r = -EFAULT;
		else
			r = n + 1;
	}
	free(buf);
	return r;
}

static long set_cwd(struct task *t, const struct path *p)
{
	if (!S_ISDIR(p->dentry->inode->mode))
		return -ENOTDIR;
	int r = inode_permission(t, p->dentry->inode, MAY_EXEC);
	if (r)
		return r;
	fs_set_cwd(task_fs(t), p);
	return 0;
}

long sys_chdir(struct task *t, const uint64_t a[6])
{
	char path[VFS_PATH_MAX];
	int r = get_path(t, a[0], path, false);
	if (r)
		return r;
	struct path p;
	r = vfs_lookup(t, AT_FDCWD, path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p);
	if (r)
		return r;
	long ret = set_cwd(t, &p);
	path_put(&p);
	return ret;
}

long sys_fchdir(struct task *t, const uint64_t a[6])
{
	struct file *f = fget(t, (int)a[0]);
	if (!f)
		return -EBADF;
	long r = f->path.dentry ? set_cwd(t, &f->path) : -ENOTDIR;
	file_put(f);
	return r;
}

/* ---- namespace changes ---- */

struct parent {
	struct path dir;
	char name[VFS_NAME_MAX + 1];
	enum last_kind kind;
	bool trailing;
};

static int get_parent(struct task *t, int dirfd, uint64_t upath,
		      struct parent *pp)
{
	char path[VFS_PATH_MAX];
	int r = get_path(t, upath, path, false);
	if (r)
		return r;
	return vfs_lookup_parent(t, dirfd, path, &pp->dir, pp->name, &pp->kind,
				 &pp->trailing);
}

/* Look up the existing child without crossing a mount on it: returns
 * -EBUSY for a mountpoint. */
static int get_child(struct task *t, struct parent *pp, struct dentry **out)
{
	struct path c;
	int r = vfs_lookup_one(t, &pp->dir, pp->name, &c);
	if (r)
		return r;
	if (c.mnt != pp->dir.mnt || dentry_mounted(c.dentry)) {
		path_put(&c);
		return -EBUSY;
	}
	*out = c.dentry;
	return 0;
}

/* Checks shared by every creation under pp: write access, no existing. */
static int may_create(struct task *t, struct parent *pp)
{
	if (pp->kind != LAST_NORM)
		return -EEXIST;
	struct path c;
	int r = vfs_lookup_one(t, &pp->dir, pp->name, &c);
	if (r == 0) {
		path_put(&c);
		return -EEXIST;
	}
	if (r != -ENOENT)
		return r;
	r = mnt_want_write(&pp->dir);
	if (r)
		return r;
	struct inode *dir = pp->dir.dentry->inode;
	if (dentry_deleted(pp->dir.dentry) || dir_nlink(dir) == 0)
		return -ENOENT;
	return inode_permission(t, dir, MAY_WRITE | MAY_EXEC);
}

static void cache_new(struct parent *pp, struct inode *inode)
{
	struct dentry *d =
	    dentry_new(pp->dir.dentry, pp->name, strlen(pp->name), inode);
	dentry_put(d); /* stays cached */
}

static gid_t new_gid(struct task *t, struct inode *dir)
{
	struct inode_attr a;
	inode_get_attr(dir, &a);
	return (a.mode & S_ISGID) ? a.gid : task_fsgid(t);
}

/* A namespace change in pp's directory holds its dir_lock from the checks
 * to the dentry cache's update (the filesystem's op, a gofer RPC maybe, in
 * between), as Linux holds i_rwsem. */
static void dir_lock(struct parent *pp)
{
	kmutex_lock(&pp->dir.dentry->inode->dir_lock);
}

static void dir_unlock(struct parent *pp)
{
	kmutex_unlock(&pp->dir.dentry->inode->dir_lock);
}

static long do_mkdirat(struct task *t, int dirfd, uint64_t upath, mode_t mode)
{
	struct parent pp;
	int r = get_parent(t, dirfd, upath, &pp);
	if (r)
		return r;
	dir_lock(&pp);
	r = may_create(t, &pp);
	struct inode *dir = pp.dir.dentry->inode;
	if (!r && (!dir->iops || !dir->iops->mkdir))
		r = -EPERM;
	if (!r) {
		struct fs_struct *fs = task_fs(t);
		mode = mode & 01777 & ~atomic_load(&fs->umask);
		struct inode_attr da;
		inode_get_attr(dir, &da);
		if (da.mode & S_ISGID)
			mode |= S_ISGID;
		struct inode *inode;
		r = dir->iops->mkdir(dir, pp.name, mode, task_fsuid(t),
				     new_gid(t, dir), &inode);
		if (!r) {
			cache_new(&pp, inode);
			inode_put(inode);
		}
	}
	dir_unlock(&pp);
	path_put(&pp.dir);
	return r;
}

long sys_mkdir(struct task *t, const uint64_t a[6])
{
	return do_mkdirat(t, AT_FDCWD, a[0], (mode_t)a[1]);
}

long sys_mkdirat(struct task *t, const uint64_t a[6])
{
	return do_mkdirat(t, (int)a[0], a[1], (mode_t)a[2]);
}

static long do_rmdir(struct task *t, int dirfd, uint64_t upath)
{
	struct parent pp;
	int r = get_parent(t, dirfd, upath, &pp);
	if (r)
		return r;
	struct dentry *victim = NULL;
	dir_lock(&pp);
	if (pp.kind == LAST_DOT)
		r = -EINVAL;
	else if (pp.kind == LAST_DOTDOT)
		r = -ENOTEMPTY;
	else if (pp.kind == LAST_ROOT)
		r = -EBUSY;
	else
		r = get_child(t, &pp, &victim);
	struct inode *dir = pp.dir.dentry->inode;
	if (!r && !S_ISDIR(victim->inode->mode))
		r = -ENOTDIR;
	if (!r)
		r = mnt_want_write(&pp.dir);
	if (!r)
		r = may_delete(t, dir, victim->inode);
	if (!r && (!dir->iops || !dir->iops->rmdir))
		r = -EPERM;
	if (!r)
		r = dir->iops->rmdir(dir, pp.name, victim->inode);
	if (!r)
		dentry_unhash(victim);
	dir_unlock(&pp);
	dentry_put(victim);
	path_put(&pp.dir);
	return r;
}

static long do_unlink(struct task *t, int dirfd, uint64_t upath)
{
	struct parent pp;
	int r = get_parent(t, dirfd, upath, &pp);
	if (r)
		return r;
	struct dentry *victim = NULL;
	dir_lock(&pp);
	if (pp.kind != LAST_NORM)
		r = -EISDIR;
	else
		r = get_child(t, &pp, &victim);
	struct inode *dir = pp.dir.dentry->inode;
	if (!r && S_ISDIR(victim->inode->mode))
		r = -EISDIR;
	else if (!r && pp.trailing)
		r = -ENOTDIR;
	if (!r)
		r = mnt_want_write(&pp.dir);
	if (!r)
		r = may_delete(t, dir, victim->inode);
	if (!r && (!dir->iops || !dir->iops->unlink))
		r = -EPERM;
	if (!r)
		r = dir->iops->unlink(dir, pp.name, victim->inode);
	if (!r)
		dentry_unhash(victim);
	dir_unlock(&pp);
	dentry_put(victim);
	path_put(&pp.dir);
	return r;
}

long sys_rmdir(struct task *t, const uint64_t a[6])
{
	return do_rmdir(t, AT_FDCWD, a[0]);
}

long sys_unlink(struct task *t, const uint64_t a[6])
{
	return do_unlink(t, AT_FDCWD, a[0]);
}

long sys_unlinkat(struct task *t, const uint64_t a[6])
{
	int flags = (int)a[2];
	if (flags & ~AT_REMOVEDIR)
		return -EINVAL;
	if (flags & AT_REMOVEDIR)
		return do_rmdir(t, (int)a[0], a[1]);
	return do_unlink(t, (int)a[0], a[1]);
}

static bool is_ancestor(struct dentry *anc, struct dentry *d)
{
	return dentry_is_ancestor(anc, d);
}

/* Renames lock both directories: a rename across directories first takes
 * the rename lock (no two such renames at once, so the tree cannot change
 * shape under the ancestor checks), then the two in address order. */
static struct kmutex rename_lock = KMUTEX_INITIALIZER("rename", LR_RENAME);

static void lock_rename(struct inode *a, struct inode *b)
{
	if (a == b) {
		kmutex_lock(&a->dir_lock);
		return;
	}
	kmutex_lock(&rename_lock);
	if (a > b) {
		struct inode *x = a;
		a = b;
		b = x;
	}
	kmutex_lock_nested(&a->dir_lock, 0);
	kmutex_lock_nested(&b->dir_lock, 1);
}

static void unlock_rename(struct inode *a, struct inode *b)
{
	kmutex_unlock(&a->dir_lock);
	if (a != b) {
		kmutex_unlock(&b->dir_lock);
		kmutex_unlock(&rename_lock);
	}
}

static long do_renameat2(struct task *t, int odfd, uint64_t oldp, int ndfd,
			 uint64_t newp, unsigned flags)
{
	if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT))
		return -EINVAL;
	if ((flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		return -EINVAL;
	if (flags & RENAME_WHITEOUT)
		return -EINVAL;
	struct parent op, np;
	int r = get_parent(t, odfd, oldp, &op);
	if (r)
		return r;
	r = get_parent(t, ndfd, newp, &np);
	if (r) {
		path_put(&op.dir);
		return r;
	}
	struct dentry *od = NULL, *nd = NULL;
	struct inode *odir = op.dir.dentry->inode, *ndir = np.dir.dentry->inode;
	lock_rename(odir, ndir);
	if (op.kind != LAST_NORM || np.kind != LAST_NORM)
		r = -EBUSY;
	if (!r && op.dir.mnt != np.dir.mnt)
		r = -EXDEV;
	if (!r)
		r = get_child(t, &op, &od);
	if (!r) {
		r = get_child(t, &np, &nd);
		if (r == -ENOENT && !(flags & RENAME_EXCHANGE)) {
			r = 0;
			nd = NULL;
		}
	}
	if (r)
		goto out;
	bool odirp = S_ISDIR(od->inode->mode);
	if ((op.trailing || np.trailing) && !odirp) {
		r = -ENOTDIR;
		goto out;
	}
	if (nd && nd->inode == od->inode && !(flags & RENAME_EXCHANGE))
		goto out; /* same file: nothing to do */
	if (nd && (flags & RENAME_NOREPLACE)) {
		r = -EEXIST;
		goto out;
	}
	/* A directory cannot move under itself. */
	if (odirp && is_ancestor(od, np.dir.dentry)) {
		r = -EINVAL;
		goto out;
	}
	if (nd && S_ISDIR(nd->inode->mode) && is_ancestor(nd, op.dir.dentry)) {
		r = (flags & RENAME_EXCHANGE) ? -EINVAL : -ENOTEMPTY;
		goto out;
	}
	if (nd && !(flags & RENAME_EXCHANGE)) {
		if (odirp && !S_ISDIR(nd->inode->mode))
			r = -ENOTDIR;
		else if (!odirp && S_ISDIR(nd->inode->mode))
			r = -EISDIR;
		if (r)
			goto out;
	}
	r = mnt_want_write(&op.dir);
	if (!r)
		r = may_delete(t, odir, od->inode);
	if (!r)
		r = nd ? may_delete(t, ndir, nd->inode)
		       : inode_permission(t, ndir, MAY_WRITE | MAY_EXEC);
	if (!r && odirp && odir != ndir)
		r = inode_permission(t, od->inode, MAY_WRITE);
	if (!r && (!odir->iops || !odir->iops->rename))
		r = -EPERM;
	if (r)
		goto out;
	r = odir->iops->rename(odir, op.name, ndir, np.name, flags);
	if (r)
		goto out;
	if (flags & RENAME_EXCHANGE) {
		dentry_move(nd, op.dir.dentry, op.name);
		dentry_move(od, np.dir.dentry, np.name);
	} else {
		if (nd)
			dentry_unhash(nd);
		dentry_move(od, np.dir.dentry, np.name);
	}
out:
	unlock_rename(odir, ndir);
	dentry_put(od);
	dentry_put(nd);
	path_put(&op.dir);
	path_put(&np.dir);
	return r;
}

long sys_rename(struct task *t, const uint64_t a[6])
{
	return do_renameat2(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0);
}

long sys_renameat(struct task *t, const uint64_t a[6])
{
	return do_renameat2(t, (int)a[0], a[1], (int)a[2], a[3], 0);
}

long sys_renameat2(struct task *t, const uint64_t a[6])
{
	return do_renameat2(t, (int)a[0], a[1], (int)a[2], a[3],
			    (unsigned)a[4]);
}

static long do_linkat(struct task *t, int odfd, uint64_t oldp, int ndfd,
		      uint64_t newp, int flags)
{
	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH))
		return -EINVAL;
	char path[VFS_PATH_MAX];
	int r = get_path(t, oldp, path, flags & AT_EMPTY_PATH);
	if (r)
		return r;
	struct path old;
	unsigned lf = (flags & AT_SYMLINK_FOLLOW) ? LOOKUP_FOLLOW : 0;
	if (flags & AT_EMPTY_PATH)
		lf |= LOOKUP_EMPTY;
	r = vfs_lookup(t, odfd, path, lf, &old);
	if (r)
		return r;
	struct parent np;
	r = get_parent(t, ndfd, newp, &np);
	if (r) {
		path_put(&old);
		return r;
	}
	struct inode *dir = np.dir.dentry->inode, *inode = old.dentry->inode;
	dir_lock(&np);
	if (np.trailing)
		r = -ENOENT;
	if (!r)
		r = may_create(t, &np);
	if (!r && S_ISDIR(inode->mode))
		r = -EPERM;
	if (!r && old.mnt != np.dir.mnt)
		r = -EXDEV;
	if (!r && (!dir->iops || !dir->iops->link))
		r = -EPERM;
	if (!r)
		r = dir->iops->link(dir, np.name, inode);
	if (!r)
		cache_new(&np, inode);
	dir_unlock(&np);
	path_put(&old);
	path_put(&np.dir);
	return r;
}

long sys_link(struct task *t, const uint64_t a[6])
{
	return do_linkat(t, AT_FDCWD, a[0], AT_FDCWD, a[1], 0);
}

long sys_linkat(struct task *t, const uint64_t a[6])
{
	return do_linkat(t, (int)a[0], a[1], (int)a[2], a[3], (int)a[4]);
}

static long do_symlinkat(struct task *t, uint64_t utarget, int dirfd,
			 uint64_t upath)
{
	char *target = malloc(VFS_PATH_MAX);
	if (!target)
		return -ENOMEM;
	int r = get_path(t, utarget, target, false);
	struct parent pp;
	if (!r)
		r = get_parent(t, dirfd, upath, &pp);
	if (r) {
		free(target);
		return r;
	}
	struct inode *dir = pp.dir.dentry->inode;
	dir_lock(&pp);
	r = may_create(t, &pp);
	if (!r && pp.trailing)
		r = -ENOENT;
	if (!r && (!dir->iops || !dir->iops->symlink))
		r = -EPERM;
	if (!r) {
		struct inode *inode;
		r = dir->iops->symlink(dir, pp.name, target, task_fsuid(t),
				       new_gid(t, dir), &inode);
		if (!r) {
			cache_new(&pp, inode);
			inode_put(inode);
		}
	}
	dir_unlock(&pp);
	path_put(&pp.dir);
	free(target);
	return r;
}

long sys_symlink(struct task *t, const uint64_t a[6])
{
	return do_symlinkat(t, a[0], AT_FDCWD, a[1]);
}

long sys_symlinkat(struct task *t, const uint64_t a[6])
{
	return do_symlinkat(t, a[0], (int)a[1], a[2]);
}

/* mknod: regular files and FIFOs (devices need a privilege an
 * unprivileged container does not have; sockets come with bind()). */
static long do_mknodat(struct task *t, int dirfd, uint64_t upath, mode_t mode,
		       dev_t dev)
{
	(void)dev;
	mode_t type = mode & S_IFMT;
	if (type == S_IFSOCK) {
		/* A socket node, as bind(2) makes (no socket bound to it). */
		char path[VFS_PATH_MAX];
		int r = get_path(t, upath, path, false);
		if (r)
			return r;
		struct inode *inode;
		r = vfs_mknod_sock(t, dirfd, path, mode & 07777, &inode);
		if (r)
			return r == -EADDRINUSE ? -EEXIST : r;
		inode_put(inode);
		return 0;
	}
	if (type != 0 && type != S_IFREG && type != S_IFIFO) {
		if (type == S_IFCHR || type == S_IFBLK || type == S_IFSOCK)
			return -EPERM;
		return -EINVAL;
	}
	struct parent pp;
	int r = get_parent(t, dirfd, upath, &pp);
	if (r)
		return r;
	struct inode *dir = pp.dir.dentry->inode;
	dir_lock(&pp);
	r = may_create(t, &pp);
	if (!r && type == S_IFIFO && (!dir->iops || !dir->iops->mknod))
		r = -EPERM;
	else if (!r && type != S_IFIFO && (!dir->iops || !dir->iops->create))
		r = -EPERM;
	if (!r) {
		struct inode *inode;
		mode_t perm = mode & 07777 & ~atomic_load(&task_fs(t)->umask);
		if (type == S_IFIFO)
			r = dir->iops->mknod(dir, pp.name, perm | S_IFIFO, 0,
					     task_fsuid(t), new_gid(t, dir),
					     &inode);
		else
			r = dir->iops->create(dir, pp.name, perm | S_IFREG,
					      task_fsuid(t), new_gid(t, dir),
					      O_RDONLY, &inode);
		if (!r) {
			cache_new(&pp, inode);
			inode_put(inode);
		}
	}
	dir_unlock(&pp);
	path_put(&pp.dir);
	return r;
}

long sys_mknod(struct task *t, const uint64_t a[6])
{
	return do_mknodat(t, AT_FDCWD, a[0], (mode_t)a[1], (dev_t)a[2]);
}

long sys_mknodat(struct task *t, const uint64_t a[6])
{
	return do_mknodat(t, (int)a[0], a[1], (mode_t)a[2], (dev_t)a[3]);
}

/* bind(2) of a unix socket to a path (kpath: a kernel copy), or mknod of
 * a socket: a new S_IFSOCK node of mode perm less the umask, the inode with
 * a reference in *out. -EADDRINUSE if the name exists. */
int vfs_mknod_sock(struct task *t, int dirfd, const char *kpath, mode_t perm,
		   struct inode **out)
{
	struct parent pp;
	int r = vfs_lookup_parent(t, dirfd, kpath, &pp.dir, pp.name, &pp.kind,
				  &pp.trailing);
	if (r)
		return r;
	struct inode *dir = pp.dir.dentry->inode;
	dir_lock(&pp);
	r = may_create(t, &pp);
	if (!r && pp.trailing)
		r = -ENOENT;
	if (!r && (!dir->iops || !dir->iops->mknod))
		r = -EPERM;
	if (!r) {
		mode_t mode =
		    (perm & ~atomic_load(&task_fs(t)->umask)) | S_IFSOCK;
		struct inode *inode;
		r = dir->iops->mknod(dir, pp.name, mode, 0, task_fsuid(t),
				     new_gid(t, dir), &inode);
		if (!r) {
			cache_new(&pp, inode);
			*out = inode;
		}
	}
	dir_unlock(&pp);
	path_put(&pp.dir);
	return r == -EEXIST ? -EADDRINUSE : r;
}
