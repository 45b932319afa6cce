/* Path resolution, after Linux's fs/namei.c: link_path_walk() walks all but
 * the last component, the caller decides what to do with the last one.
 * Symlinks are followed by recursing on the target, at most
 * VFS_MAXSYMLINKS in one resolution (-ELOOP). ".." never leaves the task's
 * root and at a mount's root continues from the mountpoint. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/kernel/task.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs_struct.h"

struct nameidata {
	struct task *t;
	struct path root; /* references held */
	struct path cur;
	int nlinks;
};

/* Replace nd->cur by p, taking over p's reference. */
static void set_cur(struct nameidata *nd, struct path p)
{
	path_put(&nd->cur);
	nd->cur = p;
}

static void follow_mounts(struct path *p)
{
	for (;;) {
		struct mount *m = mount_lookup(p->mnt, p->dentry);
		if (!m)
			return;
		dentry_get(m->root);
		dentry_put(p->dentry);
		p->mnt = m;
		p->dentry = m->root;
	}
}

static void step_dotdot(struct nameidata *nd)
{
	for (;;) {
		if (path_equal(&nd->cur, &nd->root))
			return;
		if (nd->cur.mnt && nd->cur.dentry == nd->cur.mnt->root) {
			struct mount *m = nd->cur.mnt;
			if (!m->parent)
				return;
			dentry_get(m->mountpoint);
			set_cur(nd, (struct path){m->parent, m->mountpoint});
			continue;
		}
		break;
	}
	struct dentry *parent = dentry_get_parent(nd->cur.dentry);
	if (!parent)
		return;
	struct path p = {nd->cur.mnt, parent};
	follow_mounts(&p);
	set_cur(nd, p);
}

static int lookup_child(struct task *t, const struct path *dir,
			const char *name, size_t len, struct path *out)
{
	struct inode *di = dir->dentry->inode;
	if (!S_ISDIR(di->mode))
		return -ENOTDIR;
	int r = inode_permission(t, di, MAY_EXEC);
	if (r)
		return r;
	struct dentry *d;
	r = dentry_lookup(dir->dentry, name, len, &d);
	if (r)
		return r;
	*out = (struct path){dir->mnt, d};
	follow_mounts(out);
	return 0;
}

static int walk_full(struct nameidata *nd, const char *s, unsigned flags);

/* nd->cur is the directory holding the link inode; on success nd->cur is
 * the link's target. */
static int follow_link(struct nameidata *nd, struct inode *link)
{
	if (++nd->nlinks > VFS_MAXSYMLINKS)
		return -ELOOP;
	if (link->iops && link->iops->get_link) {
		struct path p;
		int r = link->iops->get_link(link, nd->t, &p);
		if (r == 0) {
			set_cur(nd, p);
			return 0;
		}
		if (r != -ENOENT)
			return r;
	}
	if (!link->iops || !link->iops->readlink)
		return -EINVAL;
	char *buf = malloc(VFS_PATH_MAX + 1);
	if (!buf)
		return -ENOMEM;
	long n = link->iops->readlink(link, buf, VFS_PATH_MAX + 1);
	int r;
	if (n < 0) {
		r = (int)n;
	} else if (n == 0) {
		r = -ENOENT;
	} else {
		if (buf[0] == '/') {
			path_get(&nd->root);
			set_cur(nd, nd->root);
		}
		r = walk_full(nd, buf, LOOKUP_FOLLOW);
	}
	free(buf);
	return r;
}

/* One component into nd->cur. */
static int walk_component(struct nameidata *nd, const char *name, size_t len,
			  bool follow)
{
	struct inode *ci = nd->cur.dentry->inode;
	if (len == 1 && name[0] == '.') {
		if (!S_ISDIR(ci->mode))
			return -ENOTDIR;
		return inode_permission(nd->t, ci, MAY_EXEC);
	}
	if (len == 2 && name[0] == '.' && name[1] == '.') {
		if (!S_ISDIR(ci->mode))
			return -ENOTDIR;
		int r = inode_permission(nd->t, ci, MAY_EXEC);
		if (r)
			return r;
		step_dotdot(nd);
		return 0;
	}
	struct path next;
	int r = lookup_child(nd->t, &nd->cur, name, len, &next);
	if (r)
		return r;
	struct inode *ni = next.dentry->inode;
	if (S_ISLNK(ni->mode) && follow) {
		inode_get(ni);
		path_put(&next);
		r = follow_link(nd, ni);
		inode_put(ni);
		return r;
	}
	set_cur(nd, next);
	return 0;
}

struct last {
	const char *name;
	size_t len;
	enum last_kind kind;
	bool trailing;
};

static int link_path_walk(struct nameidata *nd, const char *s,
			  struct last *last)
{
	while (*s == '/')
		s++;
	if (!*s) {
		*last = (struct last){.kind = LAST_ROOT};
		return 0;
	}
	for (;;) {
		const char *name = s;
		size_t len = strcspn(s, "/");
		if (len > VFS_NAME_MAX)
			return -ENAMETOOLONG;
		s += len;
		bool trailing = false;
		while (*s == '/') {
			s++;
			trailing = true;
		}
		if (!*s) {
			last->name = name;
			last->len = len;
			last->trailing = trailing;
			last->kind = LAST_NORM;
			if (len == 1 && name[0] == '.')
				last->kind = LAST_DOT;
			else if (len == 2 && name[0] == '.' && name[1] == '.')
				last->kind = LAST_DOTDOT;
			return 0;
		}
		int r = walk_component(nd, name, len, true);
		if (r)
			return r;
	}
}

static int walk_full(struct nameidata *nd, const char *s, unsigned flags)
{
	struct last last;
	int r = link_path_walk(nd, s, &last);
	if (r)
		return r;
	if (last.kind != LAST_ROOT) {
		bool follow = (flags & LOOKUP_FOLLOW) || last.trailing;
		r = walk_component(nd, last.name, last.len, follow);
		if (r)
			return r;
	}
	if ((last.trailing || last.kind != LAST_NORM ||
	     (flags & LOOKUP_DIRECTORY)) &&
	    !S_ISDIR(nd->cur.dentry->inode->mode))
		return -ENOTDIR;
	return 0;
}

int vfs_dirfd_path(struct task *t, int dirfd, struct path *out)
{
	if (dirfd == AT_FDCWD) {
		struct fs_struct *fs = task_fs(t);
		if (fs) {
			fs_get_cwd(fs, out);
			return 0;
		}
		struct mount *m = mount_root();
		if (!m)
			return -ENOENT;
		*out = (struct path){m, m->root};
		path_get(out);
		return 0;
	}
	if (!t || !t->proc)
		return -EBADF;
	struct file *f = fd_get(t->files, dirfd);
	if (!f)
		return -EBADF;
	if (!f->path.dentry) {
		file_put(f);
		return -EBADF;
	}
	*out = f->path;
	path_get(out);
	file_put(f);
	return 0;
}

static int nd_init(struct nameidata *nd, struct task *t, int dirfd,
		   const char *path)
{
	struct fs_struct *fs = task_fs(t);
	nd->t = t;
	nd->nlinks = 0;
	if (fs) {
		fs_get_root(fs, &nd->root);
	} else {
		struct mount *m = mount_root();
		if (!m)
			return -ENOENT;
		nd->root = (struct path){m, m->root};
		path_get(&nd->root);
	}
	if (path[0] == '/') {
		nd->cur = nd->root;
		path_get(&nd->cur);
		return 0;
	}
	int r = vfs_dirfd_path(t, dirfd, &nd->cur);
	if (r) {
		path_put(&nd->root);
		return r;
	}
	if (!S_ISDIR(nd->cur.dentry->inode->mode)) {
		path_put(&nd->cur);
		path_put(&nd->root);
		return -ENOTDIR;
	}
	return 0;
}

static void nd_done(struct nameidata *nd)
{
	path_put(&nd->cur);
	path_put(&nd->root);
}

int vfs_lookup(struct task *t, int dirfd, const char *path, unsigned flags,
	       struct path *out)
{
	if (!path[0]) {
		if (!(flags & LOOKUP_EMPTY))
			return -ENOENT;
		return vfs_dirfd_path(t, dirfd, out);
	}
	if (strlen(path) >= VFS_PATH_MAX)
		return -ENAMETOOLONG;
	struct nameidata nd;
	int r = nd_init(&nd, t, dirfd, path);
	if (r)
		return r;
	r = walk_full(&nd, path, flags);
	if (r == 0) {
		*out = nd.cur;
		path_get(out);
	}
	nd_done(&nd);
	return r;
}

int vfs_lookup_parent(struct task *t, int dirfd, const char *path,
		      struct path *parent, char *lastname, enum last_kind *kind,
		      bool *trailing_slash)
{
	if (!path[0])
		return -ENOENT;
	if (strlen(path) >= VFS_PATH_MAX)
		return -ENAMETOOLONG;
	struct nameidata nd;
	int r = nd_init(&nd, t, dirfd, path);
	if (r)
		return r;
	struct last last;
	r = link_path_walk(&nd, path, &last);
	if (r == 0 && !S_ISDIR(nd.cur.dentry->inode->mode))
		r = -ENOTDIR;
	if (r == 0) {
		*kind = last.kind;
		*trailing_slash = last.trailing;
		/* A root ("/") has no last name: last.name is NULL, and
		 * memcpy from NULL is undefined even for 0 bytes. */
		if (last.len)
			memcpy(lastname, last.name, last.len);
		lastname[last.len] = 0;
		*parent = nd.cur;
		path_get(parent);
	}
	nd_done(&nd);
	return r;
}

int vfs_lookup_one(struct task *t, const struct path *parent, const char *name,
		   struct path *out)
{
	return lookup_child(t, parent, name, strlen(name), out);
}
