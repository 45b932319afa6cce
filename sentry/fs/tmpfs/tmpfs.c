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
#include "sentry/fs/dev/devfs.h"
#include "sentry/fs/tmpfs/tmpfs.h"
#include "sentry/mm/uio.h"

struct tmpfs_sb {
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
	if (S_ISREG(inode->mode))
		TSB(inode)->used -= inode->size;
	TSB(inode)->inodes--;
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
	st->f_bfree = st->f_bavail = (ts->limit - ts->used) / 4096;
	st->f_files = 1 << 20;
	st->f_ffree = st->f_files - ts->inodes;
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
	if (ts->inodes >= (1 << 20))
		return NULL;
	struct tmpfs_inode *ti = calloc(1, sizeof(*ti));
	if (!ti)
		return NULL;
	ti->memfd = -1;
	ti->bycookie = (struct rb_root)RB_ROOT_INIT;
	ti->next_cookie = 1;
	if (S_ISDIR(mode) && htable_init(&ti->names, 2) < 0) {
		free(ti);
		return NULL;
	}
	struct inode *inode = inode_new(sb, mode);
	if (!inode) {
		free(ti);
		return NULL;
	}
	inode->priv = ti;
	inode->iops = &tmpfs_iops;
	inode->uid = uid;
	inode->gid = gid;
	inode->nlink = S_ISDIR(mode) ? 2 : 1;
	if (S_ISDIR(mode))
		inode->size = 4096;
	ts->inodes++;
	return inode;
}

int tmpfs_new(uint64_t size, mode_t mode, uid_t uid, gid_t gid,
	      struct super_block **sbp, struct dentry **rootp)
{
	struct super_block *sb = calloc(1, sizeof(*sb));
	struct tmpfs_sb *ts = calloc(1, sizeof(*ts));
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

/* Link e into dir under e->name with a fresh cookie. */
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

static int add_entry(struct inode *dir, const char *name, struct inode *inode)
{
	if (find(dir, name))
		return -EEXIST;
	struct tmpfs_dirent *e = calloc(1, sizeof(*e));
	if (!e || !(e->name = strdup(name))) {
		free(e);
		return -ENOMEM;
	}
	e->len = strlen(name);
	e->inode = inode;
	inode_get(inode);
	link_entry(dir, e);
	if (S_ISDIR(inode->mode))
		dir->nlink++;
	inode_touch(dir, false, true, true);
	return 0;
}

static void del_entry(struct inode *dir, struct tmpfs_dirent *e)
{
	unlink_entry(dir, e);
	if (S_ISDIR(e->inode->mode)) {
		dir->nlink--;
		e->inode->nlink = 0;
	} else {
		e->inode->nlink--;
	}
	e->inode->ctime = vfs_now();
	inode_touch(dir, false, true, true);
	inode_put(e->inode);
	free(e->name);
	free(e);
}

static int tmpfs_lookup(struct inode *dir, const char *name, struct inode **out)
{
	struct tmpfs_dirent *e = find(dir, name);
	if (!e)
		return -ENOENT;
	inode_get(e->inode);
	*out = e->inode;
	return 0;
}

static int make(struct inode *dir, const char *name, mode_t mode, uid_t uid,
		gid_t gid, struct inode **out)
{
	if (find(dir, name))
		return -EEXIST;
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
	struct inode *inode;
	int r = make(dir, name, mode, uid, gid, &inode);
	if (r)
		return r;
	inode->rdev = rdev;
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
	struct inode *inode;
	int r = make(dir, name, S_IFLNK | 0777, uid, gid, &inode);
	if (r) {
		free(t);
		return r;
	}
	TI(inode)->target = t;
	inode->size = strlen(t);
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
	target->nlink++;
	target->ctime = vfs_now();
	return 0;
}

static int tmpfs_unlink(struct inode *dir, const char *name,
			struct inode *victim)
{
	(void)victim;
	struct tmpfs_dirent *e = find(dir, name);
	if (!e)
		return -ENOENT;
	if (S_ISDIR(e->inode->mode))
		return -EISDIR;
	del_entry(dir, e);
	return 0;
}

static bool dir_empty(struct inode *inode)
{
	return TI(inode)->nentries == 0;
}

static int tmpfs_rmdir(struct inode *dir, const char *name,
		       struct inode *victim)
{
	(void)victim;
	struct tmpfs_dirent *e = find(dir, name);
	if (!e)
		return -ENOENT;
	if (!S_ISDIR(e->inode->mode))
		return -ENOTDIR;
	if (!dir_empty(e->inode))
		return -ENOTEMPTY;
	del_entry(dir, e);
	return 0;
}

static int tmpfs_rename(struct inode *odir, const char *oname,
			struct inode *ndir, const char *nname, unsigned flags)
{
	if (odir->sb != ndir->sb)
		return -EXDEV;
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
			odir->nlink += odirp ? -1 : 1;
			ndir->nlink += odirp ? 1 : -1;
		}
		inode_touch(odir, false, true, true);
		inode_touch(ndir, false, true, true);
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
		del_entry(ndir, ne);
	}
	char *n = strdup(nname);
	if (!n)
		return -ENOMEM;
	/* The entry arrives anew in ndir: a new cookie there. */
	unlink_entry(odir, oe);
	free(oe->name);
	oe->name = n;
	oe->len = strlen(n);
	link_entry(ndir, oe);
	if (odirp && odir != ndir) {
		odir->nlink--;
		ndir->nlink++;
	}
	oe->inode->ctime = vfs_now();
	inode_touch(odir, false, true, true);
	inode_touch(ndir, false, true, true);
	return 0;
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

static int ensure_memfd(struct inode *inode)
{
	struct tmpfs_inode *ti = TI(inode);
	if (ti->memfd >= 0)
		return 0;
	ti->memfd = memfd_create("bulkhead-tmpfs", MFD_CLOEXEC);
	if (ti->memfd < 0) {
		ti->memfd = -1;
		return -errno;
	}
	if (inode->size && ftruncate(ti->memfd, (off_t)inode->size) < 0) {
		int e = errno;
		close(ti->memfd);
		ti->memfd = -1;
		return -e;
	}
	return 0;
}

/* Account growth of a file from its size to end; -ENOSPC past the limit. */
static int charge(struct inode *inode, uint64_t end)
{
	struct tmpfs_sb *ts = TSB(inode);
	if (end <= inode->size)
		return 0;
	if (end > (uint64_t)INT64_MAX)
		return -EFBIG;
	if (end - inode->size > ts->limit - ts->used)
		return -ENOSPC;
	return 0;
}

static void resize(struct inode *inode, uint64_t size)
{
	struct tmpfs_sb *ts = TSB(inode);
	ts->used = ts->used - inode->size + size;
	inode->size = size;
}

static int tmpfs_setattr(struct inode *inode, const struct iattr *ia)
{
	if ((ia->valid & ATTR_SIZE) && S_ISREG(inode->mode) &&
	    ia->size != inode->size) {
		int r = charge(inode, ia->size);
		if (r)
			return r;
		if (ia->size) {
			r = ensure_memfd(inode);
			if (r)
				return r;
		}
		if (TI(inode)->memfd >= 0 &&
		    ftruncate(TI(inode)->memfd, (off_t)ia->size) < 0)
			return -errno;
		resize(inode, ia->size);
	}
	inode_apply_iattr(inode, ia);
	return 0;
}

static ssize_t tmpfs_read(struct file *f, struct uio *u, uint64_t *pos)
{
	struct inode *inode = f->inode;
	struct tmpfs_inode *ti = TI(inode);
	if (*pos >= inode->size || uio_resid(u) == 0)
		return 0;
	if (ti->memfd < 0) {
		/* Never written: all of it is a hole. */
		uint64_t n = inode->size - *pos;
		ssize_t r = uio_zero(u, n < uio_resid(u) ? n : uio_resid(u));
		if (r > 0)
			*pos += (uint64_t)r;
		return r;
	}
	return uio_pread_fd(u, ti->memfd, pos);
}

static ssize_t tmpfs_write(struct file *f, struct uio *u, uint64_t *pos)
{
	struct inode *inode = f->inode;
	if ((f->flags & O_APPEND) || (u->flags & UIO_APPEND))
		*pos = inode->size;
	size_t n = uio_resid(u);
	if (n == 0)
		return 0;
	uint64_t end;
	if (__builtin_add_overflow(*pos, n, &end) || end > (uint64_t)INT64_MAX)
		return -EFBIG;
	int r = charge(inode, end);
	if (r)
		return r;
	r = ensure_memfd(inode);
	if (r)
		return r;
	ssize_t w = uio_pwrite_fd(u, TI(inode)->memfd, pos);
	if (w <= 0)
		return w;
	if (*pos > inode->size)
		resize(inode, *pos);
	inode_touch(inode, false, true, true);
	return w;
}

static int tmpfs_host_fd(struct file *f)
{
	int r = ensure_memfd(f->inode);
	return r ? r : TI(f->inode)->memfd;
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
		return devfs_open_chr(inode, f);
	if (S_ISDIR(inode->mode))
		return 0; /* the VFS's directory ops */
	return -ENXIO;
}

static int tmpfs_readdir(struct inode *dir, uint64_t cookie, dir_emit_fn emit,
			 void *arg)
{
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
		if (r)
			return r < 0 ? r : 0;
	}
	return 0;
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
