/* open(2) semantics (Linux do_filp_open): O_CREAT/O_EXCL against the
 * parent, trailing symlinks, O_NOFOLLOW, O_DIRECTORY, permission and
 * O_TRUNC. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "sentry/fs/pipe/pipe.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/fs_struct.h"

extern const struct file_ops dir_fops;

static int open_perm(struct task *t, const struct path *p, int flags)
{
	struct inode *inode = p->dentry->inode;
	int acc = flags & O_ACCMODE, mask = 0;
	if (acc != O_WRONLY)
		mask |= MAY_READ;
	if (acc != O_RDONLY || (flags & O_TRUNC))
		mask |= MAY_WRITE;
	if ((mask & MAY_WRITE) && !S_ISCHR(inode->mode) &&
	    !S_ISFIFO(inode->mode) && !S_ISSOCK(inode->mode)) {
		int r = mnt_want_write(p);
		if (r)
			return r;
	}
	return inode_permission(t, inode, mask);
}

static int do_open_path(struct task *t, const struct path *p, int flags,
			bool created, struct file **out)
{
	struct inode *inode = p->dentry->inode;
	int acc = flags & O_ACCMODE;

	if (!(flags & O_PATH)) {
		if (S_ISLNK(inode->mode))
			return -ELOOP;
		if (S_ISDIR(inode->mode) &&
		    (acc != O_RDONLY || (flags & O_TRUNC)))
			return -EISDIR;
	}
	if ((flags & O_DIRECTORY) && !S_ISDIR(inode->mode))
		return -ENOTDIR;
	/* A unix socket's name is reached by connect(2), never opened. */
	if (S_ISSOCK(inode->mode) && !(flags & O_PATH))
		return -ENXIO;
	if (!created && !(flags & O_PATH)) {
		int r = open_perm(t, p, flags);
		if (r)
			return r;
	}
	/* A running program's file is not opened for writing (ETXTBSY). */
	bool writer =
	    S_ISREG(inode->mode) && acc != O_RDONLY && !(flags & O_PATH);
	if (writer) {
		int r = inode_get_write_access(inode);
		if (r)
			return r;
	}
	if ((flags & O_TRUNC) && writer && !created && inode_size(inode) != 0) {
		struct iattr ia = {.valid = ATTR_SIZE, .size = 0};
		int r = inode_setattr(inode, &ia);
		if (r) {
			inode_put_write_access(inode);
			return r;
		}
	}
	/* O_NOCTTY is seen by the open op (a terminal's), then dropped, as
	 * Linux's do_dentry_open does. */
	struct file *f =
	    file_alloc(p, inode, flags & ~(O_CREAT | O_EXCL | O_TRUNC));
	if (!f) {
		if (writer)
			inode_put_write_access(inode);
		return -ENOMEM;
	}
	if (writer)
		f->fmode |= FMODE_WRITER; /* file_put gives it back */
	if (!(flags & O_PATH)) {
		int r = 0;
		if (S_ISFIFO(inode->mode))
			r = fifo_open(t, inode, f);
		else if (inode->iops && inode->iops->open)
			r = inode->iops->open(inode, f);
		else if (S_ISDIR(inode->mode))
			f->fops = &dir_fops;
		if (r) {
			file_put(f);
			return r;
		}
		if (S_ISDIR(inode->mode) && !f->fops)
			f->fops = &dir_fops;
	}
	atomic_fetch_and(&f->flags, ~O_NOCTTY);
	*out = f;
	return 0;
}

int vfs_open_path(struct task *t, const struct path *p, int flags,
		  struct file **out)
{
	return do_open_path(t, p, flags, false, out);
}

/* Create name under parent; on success *out holds the new dentry's path. */
static int vfs_create(struct task *t, const struct path *parent,
		      const char *name, mode_t mode, int flags,
		      struct path *out)
{
	struct inode *dir = parent->dentry->inode;
	int r = mnt_want_write(parent);
	if (r)
		return r;
	r = inode_permission(t, dir, MAY_WRITE | MAY_EXEC);
	if (r)
		return r;
	struct inode_attr da;
	inode_get_attr(dir, &da);
	if (dentry_deleted(parent->dentry) || dir_nlink(dir) == 0)
		return -ENOENT;
	if (!dir->iops || !dir->iops->create)
		return -EACCES;
	struct fs_struct *fs = task_fs(t);
	mode = (mode & 07777 & ~(fs ? atomic_load(&fs->umask) : 022)) | S_IFREG;
	gid_t gid = (da.mode & S_ISGID) ? da.gid : task_fsgid(t);
	struct inode *inode;
	r = dir->iops->create(dir, name, mode, task_fsuid(t), gid, flags,
			      &inode);
	if (r)
		return r;
	struct dentry *d =
	    dentry_new(parent->dentry, name, strlen(name), inode);
	inode_put(inode);
	if (!d)
		return -ENOMEM;
	*out = (struct path){parent->mnt, d};
	return 0;
}

int vfs_open(struct task *t, int dirfd, const char *path, int flags,
	     mode_t mode, struct file **out)
{
	struct path p;
	int r;
	bool created = false;

	if (!(flags & O_CREAT)) {
		unsigned lf = 0;
		if (!(flags & O_NOFOLLOW))
			lf |= LOOKUP_FOLLOW;
		if (flags & O_DIRECTORY)
			lf |= LOOKUP_DIRECTORY;
		r = vfs_lookup(t, dirfd, path, lf, &p);
		if (r)
			return r;
		if (S_ISLNK(p.dentry->inode->mode) && !(flags & O_PATH)) {
			path_put(&p);
			return -ELOOP;
		}
	} else {
		struct path parent;
		char last[VFS_NAME_MAX + 1];
		enum last_kind kind;
		bool trailing;
		r = vfs_lookup_parent(t, dirfd, path, &parent, last, &kind,
				      &trailing);
		if (r)
			return r;
		if (kind != LAST_NORM || trailing) {
			path_put(&parent);
			return -EISDIR;
		}
		/* The directory's namespace is ours from the lookup to the
		 * create: two O_CREAT|O_EXCL opens cannot both create. */
		struct inode *dir = parent.dentry->inode;
		kmutex_lock(&dir->dir_lock);
		r = vfs_lookup_one(t, &parent, last, &p);
		if (r == -ENOENT) {
			r = vfs_create(t, &parent, last, mode, flags, &p);
			created = r == 0;
		}
		kmutex_unlock(&dir->dir_lock);
		if (created || r == -ENOENT) {
			/* nothing more to check */
		} else if (r == 0 && (flags & O_EXCL)) {
			path_put(&p);
			r = -EEXIST;
		} else if (r == 0 && S_ISLNK(p.dentry->inode->mode)) {
			path_put(&p);
			if (flags & O_NOFOLLOW)
				r = -ELOOP;
			else
				r = vfs_lookup(t, dirfd, path, LOOKUP_FOLLOW,
					       &p);
		}
		path_put(&parent);
		if (r)
			return r;
		if (S_ISDIR(p.dentry->inode->mode)) {
			path_put(&p);
			return -EISDIR;
		}
	}
	r = do_open_path(t, &p, flags, created, out);
	path_put(&p);
	return r;
}
