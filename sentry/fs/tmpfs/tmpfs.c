/* tmpfs: a directory holds its entries itself, in a hash table by name
 * (lookups O(1) however large it grows) and in a tree by cookie, a number
 * each entry gets when it arrives, never reused in that directory: readdir
 * resumes at the first cookie after the last one it returned, so entries
 * added or removed meanwhile never make it skip or repeat another. The
 * dentry cache above is only a cache, as on every other filesystem. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bulkhead/rbtree.h"
#include "sentry/vfs/chrdev.h"
#include "sentry/fs/tmpfs/tmpfs.h"
#include "sentry/mm/uio.h"
#include "sentry/vfs/xattr.h"

struct tmpfs_sb {
	struct kmutex lock;   /* a spin lock: used, inodes */
	uint64_t limit, used; /* bytes of file data */
	uint64_t inodes;
};

struct tmpfs_dirent {
	struct hnode hn;   /* in the directory's names */
	struct rb_node rb; /* in the directory's bycookie */
	uint64_t cookie;
	char *name;
	size_t len;
	struct inode *inode; /* reference held */
};

struct tmpfs_inode {
	/* Directories: */
	struct htable names;	 /* struct tmpfs_dirent by name */
	struct rb_root bycookie; /* the same, by cookie */
	uint64_t next_cookie;	 /* the next entry's (starts at 1) */
	size_t nentries;
	int memfd;    /* regular files: -1 until first data */
	char *target; /* symlinks */
	/* user.* xattrs, under the inode's lock; charged to the tmpfs's
	 * space like file data. */
	struct xattr_list xattrs;
};

static const struct inode_ops tmpfs_iops;
static const struct file_ops tmpfs_fops;
static uint64_t tmpfs_devs = 0x100;

#define TI(inode)  ((struct tmpfs_inode *)(inode)->priv)
#define TSB(inode) ((struct tmpfs_sb *)(inode)->sb->priv)

bool tmpfs_is(struct inode *inode)
{
	return inode->iops == &tmpfs_iops;
}

static void tmpfs_evict(struct inode *inode)
{
	struct tmpfs_inode *ti = TI(inode);
	if (!ti)
		return;
	struct rb_node *rn;
	while ((rn = ti->bycookie.node)) {
		struct tmpfs_dirent *e = rb_entry(rn, struct tmpfs_dirent, rb);
		rb_erase(rn, &ti->bycookie);
		htable_remove(&ti->names, &e->hn);
		inode_put(e->inode);
		free(e->name);
		free(e);
	}
	if (S_ISDIR(inode->mode))
		htable_destroy(&ti->names);
	if (ti->memfd >= 0)
		close(ti->memfd);
	struct tmpfs_sb *ts = TSB(inode);
	size_t xb = xattr_list_free(&ti->xattrs);
	kmutex_lock(&ts->lock);
	if (S_ISREG(inode->mode))
		ts->used -= inode->size < ts->used ? inode->size : ts->used;
	ts->used -= xb < ts->used ? xb : ts->used;
	ts->inodes--;
	kmutex_unlock(&ts->lock);
	free(ti->target);
	free(ti);
}

static int tmpfs_statfs(struct super_block *sb, struct statfs *st)
{
	struct tmpfs_sb *ts = sb->priv;
	memset(st, 0, sizeof(*st));
	st->f_type = TMPFS_MAGIC_NR;
	st->f_bsize = 4096;
	st->f_frsize = 4096;
	st->f_blocks = ts->limit / 4096;
	kmutex_lock(&ts->lock);
	st->f_bfree = st->f_bavail = (ts->limit - ts->used) / 4096;
	st->f_files = 1 << 20;
	st->f_ffree = st->f_files - ts->inodes;
	kmutex_unlock(&ts->lock);
	st->f_namelen = VFS_NAME_MAX;
	return 0;
}

static const struct super_ops tmpfs_sops = {
    .statfs = tmpfs_statfs,
    .evict = tmpfs_evict,
};

static struct inode *tmpfs_inode_new(struct super_block *sb, mode_t mode,
				     uid_t uid, gid_t gid)
{
	struct tmpfs_sb *ts = sb->priv;
	kmutex_lock(&ts->lock);
	bool full = ts->inodes >= (1 << 20);
	if (!full)
		ts->inodes++;
	kmutex_unlock(&ts->lock);
	if (full)
		return NULL;
	struct tmpfs_inode *ti = calloc(1, sizeof(*ti));
	struct inode *inode = ti ? inode_new(sb, mode) : NULL;
	if (ti) {
		ti->memfd = -1;
		ti->bycookie = (struct rb_root)RB_ROOT_INIT;
		ti->next_cookie = 1;
		xattr_list_init(&ti->xattrs);
	}
	if (!inode || (S_ISDIR(mode) && htable_init(&ti->names, 2) < 0)) {
		free(ti);
		if (inode) {
			inode->sb = NULL; /* no evict: nothing to free */
			inode_put(inode);
		}
		kmutex_lock(&ts->lock);
		ts->inodes--;
		kmutex_unlock(&ts->lock);
		return NULL;
	}
	inode->priv = ti;
	inode->iops = &tmpfs_iops;
	inode->uid = uid;
	inode->gid = gid;
	inode->nlink = S_ISDIR(mode) ? 2 : 1;
	if (S_ISDIR(mode))
		inode->size = 4096;
	return inode;
}

int tmpfs_new(uint64_t size, mode_t mode, uid_t uid, gid_t gid,
	      struct super_block **sbp, struct dentry **rootp)
{
	struct super_block *sb = calloc(1, sizeof(*sb));
	struct tmpfs_sb *ts = calloc(1, sizeof(*ts));
	if (ts)
		kmutex_init(&ts->lock, "tmpfs_sb", LR_TMPFS_SB);
	if (!sb || !ts) {
		free(sb);
		free(ts);
		return -ENOMEM;
	}
	ts->limit = size ? size : TMPFS_DEFAULT_SIZE;
	sb->fstype = "tmpfs";
	sb->ops = &tmpfs_sops;
	sb->dev = tmpfs_devs++;
	sb->priv = ts;
	sb->next_ino = 1;
	struct inode *root =
	    tmpfs_inode_new(sb, S_IFDIR | (mode & 07777), uid, gid);
	if (!root)
		return -ENOMEM;
	struct dentry *d = dentry_new(NULL, "/", 1, root);
	inode_put(root);
	if (!d)
		return -ENOMEM;
	*sbp = sb;
	*rootp = d;
	return 0;
}

/* Directory entries are under the directory inode's lock; a child's
 * attributes (its link count) under the child's, taken inside. */
#define SUB_CHILD 2

static struct tmpfs_dirent *find(struct inode *dir, const char *name)
{
	struct tmpfs_inode *ti = TI(dir);
	size_t len = strlen(name);
	uint64_t h = hash_bytes(name, len);
	for (struct hnode *n = htable_first(&ti->names, h); n;
	     n = htable_next(&ti->names, n)) {
		struct tmpfs_dirent *e =
		    htable_entry(n, struct tmpfs_dirent, hn);
		if (e->len == len && memcmp(e->name, name, len) == 0)
			return e;
	}
	return NULL;
}

/* Link e into dir under e->name with a fresh cookie (dir locked). */
static void link_entry(struct inode *dir, struct tmpfs_dirent *e)
{
	struct tmpfs_inode *ti = TI(dir);
	e->cookie = ti->next_cookie++;
	htable_insert(&ti->names, &e->hn, hash_bytes(e->name, e->len));
	/* Cookies only grow: the new entry is the rightmost. */
	struct rb_node **link = &ti->bycookie.node, *parent = NULL;
	while (*link) {
		parent = *link;
		link = &parent->right;
	}
	rb_link_node(&e->rb, parent, link);
	rb_insert_color(&e->rb, &ti->bycookie);
	ti->nentries++;
}

static void unlink_entry(struct inode *dir, struct tmpfs_dirent *e)
{
	struct tmpfs_inode *ti = TI(dir);
	htable_remove(&ti->names, &e->hn);
	rb_erase(&e->rb, &ti->bycookie);
	ti->nentries--;
}

static void child_nlink(struct inode *c, int delta, bool zero)
{
	kmutex_lock_nested(&c->lock, SUB_CHILD);
	if (zero)
		c->nlink = 0;
	else
		c->nlink = (nlink_t)((int)c->nlink + delta);
	c->ctime = vfs_now();
	kmutex_unlock(&c->lock);
}

static void dir_changed(struct inode *dir, int nlink_delta)
{
	/* dir locked */
	dir->nlink = (nlink_t)((int)dir->nlink + nlink_delta);
	dir->mtime = dir->ctime = vfs_now();
}

static struct tmpfs_dirent *dirent_new(const char *name, struct inode *inode)
{
	struct tmpfs_dirent *e = calloc(1, sizeof(*e));
	if (!e || !(e->name = strdup(name))) {
		free(e);
		return NULL;
	}
	e->len = strlen(name);
	e->inode = inode;
	inode_get(inode);
	return e;
}

static void dirent_free(struct tmpfs_dirent *e)
{
	inode_put(e->inode);
	free(e->name);
	free(e);
}

/* Add inode under name (dir unlocked): -EEXIST, -ENOMEM or 0. */
static int add_entry(struct inode *dir, const char *name, struct inode *inode)
{
	struct tmpfs_dirent *e = dirent_new(name, inode);
	if (!e)
		return -ENOMEM;
	inode_lock(dir);
	if (find(dir, name)) {
		inode_unlock(dir);
		dirent_free(e);
		return -EEXIST;
	}
	link_entry(dir, e);
	dir_changed(dir, S_ISDIR(inode->mode) ? 1 : 0);
	inode_unlock(dir);
	return 0;
}

/* Take e out of dir (dir locked); the caller frees it after unlocking. */
static void del_entry_locked(struct inode *dir, struct tmpfs_dirent *e)
{
	unlink_entry(dir, e);
	bool isdir = S_ISDIR(e->inode->mode);
	child_nlink(e->inode, -1, isdir);
	dir_changed(dir, isdir ? -1 : 0);
}

static int tmpfs_lookup(struct inode *dir, const char *name, struct inode **out)
{
	inode_lock(dir);
	struct tmpfs_dirent *e = find(dir, name);
	if (e)
		inode_get(e->inode);
	inode_unlock(dir);
	if (!e)
		return -ENOENT;
	*out = e->inode;
	return 0;
}

static int make(struct inode *dir, const char *name, mode_t mode, uid_t uid,
		gid_t gid, struct inode **out)
{
	struct inode *inode = tmpfs_inode_new(dir->sb, mode, uid, gid);
	if (!inode)
		return -ENOSPC;
	int r = add_entry(dir, name, inode);
	if (r) {
		inode_put(inode);
		return r;
	}
	if (out)
		*out = inode;
	else
		inode_put(inode);
	return 0;
}

static int tmpfs_create(struct inode *dir, const char *name, mode_t mode,
			uid_t uid, gid_t gid, int oflags, struct inode **out)
{
	(void)oflags;
	return make(dir, name, S_IFREG | (mode & 07777), uid, gid, out);
}

static int tmpfs_mkdir(struct inode *dir, const char *name, mode_t mode,
		       uid_t uid, gid_t gid, struct inode **out)
{
	return make(dir, name, S_IFDIR | (mode & 07777), uid, gid, out);
}

static int tmpfs_mknod(struct inode *dir, const char *name, mode_t mode,
		       dev_t rdev, uid_t uid, gid_t gid, struct inode **out)
{
	struct inode *inode = tmpfs_inode_new(dir->sb, mode, uid, gid);
	if (!inode)
		return -ENOSPC;
	inode->rdev = rdev; /* set before anyone can see it */
	int r = add_entry(dir, name, inode);
	if (r) {
		inode_put(inode);
		return r;
	}
	if (out)
		*out = inode;
	else
		inode_put(inode);
	return 0;
}

static int tmpfs_symlink(struct inode *dir, const char *name,
			 const char *target, uid_t uid, gid_t gid,
			 struct inode **out)
{
	char *t = strdup(target);
	if (!t)
		return -ENOMEM;
	struct inode *inode =
	    tmpfs_inode_new(dir->sb, S_IFLNK | 0777, uid, gid);
	if (!inode) {
		free(t);
		return -ENOSPC;
	}
	TI(inode)->target = t; /* immutable from here */
	inode->size = strlen(t);
	int r = add_entry(dir, name, inode);
	if (r) {
		inode_put(inode);
		return r;
	}
	if (out)
		*out = inode;
	else
		inode_put(inode);
	return 0;
}

static int tmpfs_link(struct inode *dir, const char *name, struct inode *target)
{
	if (target->sb != dir->sb)
		return -EXDEV;
	int r = add_entry(dir, name, target);
	if (r)
		return r;
	inode_lock(target);
	target->nlink++;
	target->ctime = vfs_now();
	inode_unlock(target);
	return 0;
}

static int tmpfs_unlink(struct inode *dir, const char *name,
			struct inode *victim)
{
	(void)victim;
	inode_lock(dir);
	struct tmpfs_dirent *e = find(dir, name);
	int r = !e ? -ENOENT : S_ISDIR(e->inode->mode) ? -EISDIR : 0;
	if (!r)
		del_entry_locked(dir, e);
	inode_unlock(dir);
	if (!r)
		dirent_free(e);
	return r;
}

static bool dir_empty(struct inode *inode)
{
	/* Under the parent's lock (and the VFS's dir_lock of the parent):
	 * nothing can be added to a directory being removed, as its own
	 * dir_lock is taken by any creation in it... except it is not held
	 * here, so read the count under the child's lock. */
	kmutex_lock_nested(&inode->lock, SUB_CHILD);
	bool r = TI(inode)->nentries == 0;
	kmutex_unlock(&inode->lock);
	return r;
}

static int tmpfs_rmdir(struct inode *dir, const char *name,
		       struct inode *victim)
{
	(void)victim;
	inode_lock(dir);
	struct tmpfs_dirent *e = find(dir, name);
	int r = !e			   ? -ENOENT
		: !S_ISDIR(e->inode->mode) ? -ENOTDIR
		: !dir_empty(e->inode)	   ? -ENOTEMPTY
					   : 0;
	if (!r)
		del_entry_locked(dir, e);
	inode_unlock(dir);
	if (!r)
		dirent_free(e);
	return r;
}

static void lock_dirs(struct inode *a, struct inode *b)
{
	if (a == b) {
		inode_lock(a);
	} else if (a < b) {
		kmutex_lock_nested(&a->lock, 0);
		kmutex_lock_nested(&b->lock, 1);
	} else {
		kmutex_lock_nested(&b->lock, 0);
		kmutex_lock_nested(&a->lock, 1);
	}
}

static void unlock_dirs(struct inode *a, struct inode *b)
{
	inode_unlock(a);
	if (a != b)
		inode_unlock(b);
}

static int rename_locked(struct inode *odir, const char *oname,
			 struct inode *ndir, const char *nname, unsigned flags,
			 struct tmpfs_dirent **victim)
{
	struct tmpfs_dirent *oe = find(odir, oname);
	if (!oe)
		return -ENOENT;
	struct tmpfs_dirent *ne = find(ndir, nname);
	bool odirp = S_ISDIR(oe->inode->mode);
	if (flags & RENAME_EXCHANGE) {
		if (!ne)
			return -ENOENT;
		bool ndirp = S_ISDIR(ne->inode->mode);
		struct inode *tmp = oe->inode;
		oe->inode = ne->inode;
		ne->inode = tmp;
		if (odirp != ndirp && odir != ndir) {
			dir_changed(odir, odirp ? -1 : 1);
			dir_changed(ndir, odirp ? 1 : -1);
		} else {
			dir_changed(odir, 0);
			dir_changed(ndir, 0);
		}
		return 0;
	}
	if (ne) {
		if (flags & RENAME_NOREPLACE)
			return -EEXIST;
		if (ne->inode == oe->inode)
			return 0;
		if (odirp && !S_ISDIR(ne->inode->mode))
			return -ENOTDIR;
		if (!odirp && S_ISDIR(ne->inode->mode))
			return -EISDIR;
		if (odirp && !dir_empty(ne->inode))
			return -ENOTEMPTY;
	}
	char *n = strdup(nname);
	if (!n)
		return -ENOMEM;
	if (ne) {
		del_entry_locked(ndir, ne);
		*victim = ne;
	}
	/* The entry arrives anew in ndir: a new cookie there. */
	unlink_entry(odir, oe);
	free(oe->name);
	oe->name = n;
	oe->len = strlen(n);
	link_entry(ndir, oe);
	if (odirp && odir != ndir) {
		dir_changed(odir, -1);
		dir_changed(ndir, 1);
	} else {
		dir_changed(odir, 0);
		dir_changed(ndir, 0);
	}
	child_nlink(oe->inode, 0, false);
	return 0;
}

static int tmpfs_rename(struct inode *odir, const char *oname,
			struct inode *ndir, const char *nname, unsigned flags)
{
	if (odir->sb != ndir->sb)
		return -EXDEV;
	struct tmpfs_dirent *victim = NULL;
	lock_dirs(odir, ndir);
	int r = rename_locked(odir, oname, ndir, nname, flags, &victim);
	unlock_dirs(odir, ndir);
	if (victim)
		dirent_free(victim);
	return r;
}

static long tmpfs_readlink(struct inode *inode, char *buf, size_t cap)
{
	const char *t = TI(inode)->target;
	if (!S_ISLNK(inode->mode) || !t)
		return -EINVAL;
	size_t n = strlen(t);
	if (n + 1 > cap)
		return -ENAMETOOLONG;
	memcpy(buf, t, n + 1);
	return (long)n;
}

/* File data: a memfd made at the first byte. Writes and truncations of
 * one file are serialized by its inode's dir_lock (a sleep lock: for a
 * regular file it is the write lock, as Linux's i_rwsem), so that the
 * space check, the host write and the new size agree; the size is under
 * the inode's lock, the space used under the tmpfs's own. */

/* inode locked. */
static int ensure_memfd(struct inode *inode)
{
	struct tmpfs_inode *ti = TI(inode);
	if (ti->memfd >= 0)
		return 0;
	int fd = memfd_create("bulkhead-tmpfs", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (inode->size && ftruncate(fd, (off_t)inode->size) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	ti->memfd = fd;
	return 0;
}

/* Take room for the file to grow from its size to end (inode locked):
 * -ENOSPC past the limit, -EFBIG past the largest offset. */
static int charge(struct inode *inode, uint64_t end)
{
	struct tmpfs_sb *ts = TSB(inode);
	if (end <= inode->size)
		return 0;
	if (end > (uint64_t)INT64_MAX)
		return -EFBIG;
	int r = 0;
	kmutex_lock(&ts->lock);
	if (end - inode->size > ts->limit - ts->used)
		r = -ENOSPC;
	else
		ts->used += end - inode->size;
	kmutex_unlock(&ts->lock);
	return r;
}

/* Give back what charge() took beyond what was used (inode locked). */
static void uncharge(struct inode *inode, uint64_t bytes)
{
	struct tmpfs_sb *ts = TSB(inode);
	kmutex_lock(&ts->lock);
	ts->used -= bytes < ts->used ? bytes : ts->used;
	kmutex_unlock(&ts->lock);
}

static int tmpfs_setattr(struct inode *inode, const struct iattr *ia)
{
	if (!(ia->valid & ATTR_SIZE) || !S_ISREG(inode->mode)) {
		inode_apply_iattr(inode, ia);
		return 0;
	}
	kmutex_lock(&inode->dir_lock);
	inode_lock(inode);
	uint64_t old = inode->size;
	int r = 0;
	if (ia->size > old)
		r = charge(inode, ia->size);
	if (!r && ia->size)
		r = ensure_memfd(inode);
	if (!r && TI(inode)->memfd >= 0 &&
	    ftruncate(TI(inode)->memfd, (off_t)ia->size) < 0) {
		r = -errno;
		if (ia->size > old)
			uncharge(inode, ia->size - old);
	}
	if (!r) {
		if (ia->size < old)
			uncharge(inode, old - ia->size);
		inode->size = ia->size;
	}
	inode_unlock(inode);
	if (!r)
		inode_apply_iattr(inode, ia);
	kmutex_unlock(&inode->dir_lock);
	return r;
}

static ssize_t tmpfs_read(struct file *f, struct uio *u, uint64_t *pos)
{
	struct inode *inode = f->inode;
	struct tmpfs_inode *ti = TI(inode);
	inode_lock(inode);
	uint64_t size = inode->size;
	int memfd = ti->memfd;
	inode_unlock(inode);
	if (*pos >= size || uio_resid(u) == 0)
		return 0;
	if (memfd < 0) {
		/* Never written: all of it is a hole. */
		uint64_t n = size - *pos;
		ssize_t r = uio_zero(u, n < uio_resid(u) ? n : uio_resid(u));
		if (r > 0)
			*pos += (uint64_t)r;
		return r;
	}
	/* The memfd is as long as the file: reading stops at its end. */
	return uio_pread_fd(u, memfd, pos);
}

static ssize_t tmpfs_write(struct file *f, struct uio *u, uint64_t *pos)
{
	struct inode *inode = f->inode;
	size_t n = uio_resid(u);
	if (n == 0)
		return 0;
	kmutex_lock(&inode->dir_lock);
	inode_lock(inode);
	if ((f->flags & O_APPEND) || (u->flags & UIO_APPEND))
		*pos = inode->size;
	uint64_t end, old = inode->size;
	int r = 0;
	if (__builtin_add_overflow(*pos, n, &end) || end > (uint64_t)INT64_MAX)
		r = -EFBIG;
	if (!r)
		r = charge(inode, end);
	if (!r) {
		r = ensure_memfd(inode);
		if (r && end > old)
			uncharge(inode, end - old);
	}
	int memfd = TI(inode)->memfd;
	inode_unlock(inode);
	if (r) {
		kmutex_unlock(&inode->dir_lock);
		return r;
	}
	ssize_t w = uio_pwrite_fd(u, memfd, pos);
	inode_lock(inode);
	uint64_t grown = *pos > old ? *pos : old;
	if (end > grown && end > old)
		uncharge(inode, end - (grown > old ? grown : old));
	inode->size = grown;
	if (w > 0)
		inode->mtime = inode->ctime = vfs_now();
	inode_unlock(inode);
	kmutex_unlock(&inode->dir_lock);
	return w;
}

static int tmpfs_host_fd(struct file *f)
{
	inode_lock(f->inode);
	int r = ensure_memfd(f->inode);
	int fd = TI(f->inode)->memfd;
	inode_unlock(f->inode);
	return r ? r : fd;
}

static const struct file_ops tmpfs_fops = {
    .read = tmpfs_read,
    .write = tmpfs_write,
    .llseek = generic_llseek,
    .host_fd = tmpfs_host_fd,
};

static int tmpfs_open(struct inode *inode, struct file *f)
{
	if (S_ISREG(inode->mode)) {
		f->fops = &tmpfs_fops;
		return 0;
	}
	if (S_ISCHR(inode->mode))
		return chrdev_open(inode, f);
	if (S_ISDIR(inode->mode))
		return 0; /* the VFS's directory ops */
	return -ENXIO;
}

static int tmpfs_readdir(struct inode *dir, uint64_t cookie, dir_emit_fn emit,
			 void *arg)
{
	/* emit only fills the caller's sentry buffer: the walk holds the
	 * directory's lock. */
	inode_lock(dir);
	/* The first entry with a cookie above the last one read. */
	struct rb_node *n = TI(dir)->bycookie.node, *first = NULL;
	while (n) {
		struct tmpfs_dirent *e = rb_entry(n, struct tmpfs_dirent, rb);
		if (e->cookie > cookie) {
			first = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	for (n = first; n; n = rb_next(n)) {
		struct tmpfs_dirent *e = rb_entry(n, struct tmpfs_dirent, rb);
		int r = emit(arg, e->name, e->len, e->inode->ino,
			     mode_to_dtype(e->inode->mode), e->cookie);
		if (r) {
			inode_unlock(dir);
			return r < 0 ? r : 0;
		}
	}
	inode_unlock(dir);
	return 0;
}

/* ---- user.* xattrs (Linux tmpfs keeps them in memory too) ---- */

static bool user_xattr(const char *name)
{
	return strncmp(name, "user.", 5) == 0;
}

static ssize_t tmpfs_getxattr(struct inode *inode, const char *name, void *buf,
			      size_t size)
{
	if (!user_xattr(name))
		return -EOPNOTSUPP;
	inode_lock(inode);
	ssize_t r = xattr_get(&TI(inode)->xattrs, name, buf, size);
	inode_unlock(inode);
	return r;
}

static int tmpfs_setxattr(struct inode *inode, const char *name,
			  const void *value, size_t size, int flags)
{
	if (!user_xattr(name))
		return -EOPNOTSUPP;
	struct xattr_entry *e = xattr_entry_new(name, value, size), *old;
	if (!e)
		return -ENOMEM;
	struct tmpfs_inode *ti = TI(inode);
	struct tmpfs_sb *ts = TSB(inode);
	size_t need = xattr_size(name, size);
	inode_lock(inode);
	ssize_t had = xattr_get(&ti->xattrs, name, NULL, 0);
	size_t freed = had >= 0 ? xattr_size(name, (size_t)had) : 0;
	size_t more = need > freed ? need - freed : 0;
	int r = 0;
	/* Per inode as Linux's bound on one listxattr answer; in all, the
	 * tmpfs's size. */
	if (ti->xattrs.bytes - freed + need > XATTR_LIST_MAX_)
		r = -ENOSPC;
	if (!r && more) {
		kmutex_lock(&ts->lock);
		if (more > ts->limit - ts->used)
			r = -ENOSPC;
		else
			ts->used += more;
		kmutex_unlock(&ts->lock);
	}
	if (!r) {
		r = xattr_set(&ti->xattrs, e, flags, &old);
		size_t back = r ? more : (freed > need ? freed - need : 0);
		if (back) {
			kmutex_lock(&ts->lock);
			ts->used -= back < ts->used ? back : ts->used;
			kmutex_unlock(&ts->lock);
		}
		if (!r)
			inode->ctime = vfs_now();
	}
	inode_unlock(inode);
	if (r)
		free(e);
	else
		free(old);
	return r;
}

static int tmpfs_removexattr(struct inode *inode, const char *name)
{
	if (!user_xattr(name))
		return -EOPNOTSUPP;
	struct xattr_entry *old;
	inode_lock(inode);
	int r = xattr_remove(&TI(inode)->xattrs, name, &old);
	if (!r) {
		size_t back = xattr_size(old->name, old->size);
		struct tmpfs_sb *ts = TSB(inode);
		kmutex_lock(&ts->lock);
		ts->used -= back < ts->used ? back : ts->used;
		kmutex_unlock(&ts->lock);
		inode->ctime = vfs_now();
	}
	inode_unlock(inode);
	if (!r)
		free(old);
	return r;
}

static ssize_t tmpfs_listxattr(struct inode *inode, char *buf, size_t size)
{
	inode_lock(inode);
	ssize_t r = xattr_listnames(&TI(inode)->xattrs, buf, size);
	inode_unlock(inode);
	return r;
}

static const struct inode_ops tmpfs_iops = {
    .lookup = tmpfs_lookup,
    .create = tmpfs_create,
    .mkdir = tmpfs_mkdir,
    .mknod = tmpfs_mknod,
    .symlink = tmpfs_symlink,
    .link = tmpfs_link,
    .unlink = tmpfs_unlink,
    .rmdir = tmpfs_rmdir,
    .rename = tmpfs_rename,
    .readlink = tmpfs_readlink,
    .setattr = tmpfs_setattr,
    .open = tmpfs_open,
    .readdir = tmpfs_readdir,
    .getxattr = tmpfs_getxattr,
    .setxattr = tmpfs_setxattr,
    .removexattr = tmpfs_removexattr,
    .listxattr = tmpfs_listxattr,
};

int tmpfs_mkdir_k(struct inode *dir, const char *name, mode_t mode,
		  struct inode **out)
{
	return tmpfs_mkdir(dir, name, mode, 0, 0, out);
}

int tmpfs_symlink_k(struct inode *dir, const char *name, const char *target)
{
	return tmpfs_symlink(dir, name, target, 0, 0, NULL);
}

int tmpfs_mknod_k(struct inode *dir, const char *name, mode_t mode, dev_t rdev)
{
	return tmpfs_mknod(dir, name, mode, rdev, 0, 0, NULL);
}

static int tmpfs_get_sb(const struct bh_mount *bm, struct super_block **sb,
			struct dentry **root, const char **source)
{
	*source = "tmpfs";
	return tmpfs_new(bm->tmpfs_size, bm->tmpfs_mode, 0, 0, sb, root);
}

const struct fs_type tmpfs_type = {
    .name = "tmpfs",
    .type = BH_MOUNT_TMPFS,
    .get_sb = tmpfs_get_sb,
};
