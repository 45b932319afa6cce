/* Gofer-backed inodes. An inode owns one gofer node id (released with
 * gofer_close when the inode dies). Attributes are cached in the inode and
 * refreshed from the gofer's answers after every change the sentry makes,
 * or with fstat on an open host fd (no round trip). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "bulkhead/gofer_client.h"
#include "sentry/fs/dev/devfs.h"
#include "sentry/fs/gofer/goferfs.h"
#include "sentry/mm/uio.h"

struct goferfs_inode {
	uint64_t node;
	int create_fd; /* donated by CREATE, for the open that follows */
	/* A read-only host fd kept from an O_RDONLY open: later ones (every
	 * exec of a program, every read of a library or a config file) dup
	 * it instead of asking the gofer again. All I/O is pread/pwrite at
	 * explicit offsets, so sharing the host file description is
	 * harmless. In ro_lru while set. */
	int ro_fd;
	struct list_head ro_node;
	int create_acc;
	int attr_fd; /* an open host fd, for attribute refresh */
	char *link;  /* symlink target, cached (immutable) */
};

struct goferfs_file {
	int hostfd;
};

static struct gofer_conn conn;

/* The inodes holding a ro_fd, least recently opened first. An open costs a
 * round trip to the gofer (~12 us here) where a dup costs ~1 us; the bound
 * keeps a guest that reads many files once from holding as many host fds.
 * Kernel lock held, as for every VFS operation. */
#define RO_CACHE_MAX 256
static struct list_head ro_lru = LIST_HEAD_INIT(ro_lru);
static int ro_count;

static void ro_drop(struct goferfs_inode *gi)
{
	if (gi->ro_fd < 0)
		return;
	close(gi->ro_fd);
	gi->ro_fd = -1;
	list_del(&gi->ro_node);
	ro_count--;
}

static void ro_keep(struct goferfs_inode *gi, int hostfd)
{
	int fd = fcntl(hostfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (ro_count >= RO_CACHE_MAX)
		ro_drop(list_entry(ro_lru.next, struct goferfs_inode, ro_node));
	gi->ro_fd = fd;
	list_add_tail(&gi->ro_node, &ro_lru);
	ro_count++;
}
static bool conn_ready;
static uint64_t gofer_devs = 0x200;

static const struct inode_ops gofer_iops;
static const struct file_ops gofer_reg_fops;

#define GI(inode) ((struct goferfs_inode *)(inode)->priv)

int goferfs_init(int gofer_fd)
{
	if (conn_ready)
		return -EBUSY;
	int r = gofer_conn_init(&conn, gofer_fd);
	if (r)
		return r;
	conn_ready = true;
	return 0;
}

static void attr_apply(struct inode *inode, const struct gp_attr *a)
{
	inode->ino = a->ino;
	inode->mode = a->mode;
	inode->nlink = a->nlink;
	inode->uid = a->uid;
	inode->gid = a->gid;
	inode->size = a->size;
	inode->blocks = a->blocks;
	inode->rdev = makedev(a->rdev_major, a->rdev_minor);
	inode->atime = (struct timespec){a->atime_sec, a->atime_nsec};
	inode->mtime = (struct timespec){a->mtime_sec, a->mtime_nsec};
	inode->ctime = (struct timespec){a->ctime_sec, a->ctime_nsec};
}

static void stat_apply(struct inode *inode, const struct stat *st)
{
	inode->nlink = st->st_nlink;
	inode->size = (uint64_t)st->st_size;
	inode->blocks = (uint64_t)st->st_blocks;
	inode->atime = st->st_atim;
	inode->mtime = st->st_mtim;
	inode->ctime = st->st_ctim;
	inode->mode = st->st_mode;
	inode->uid = st->st_uid;
	inode->gid = st->st_gid;
}

static struct inode *gofer_inode_new(struct super_block *sb, uint64_t node,
				     const struct gp_attr *a)
{
	struct goferfs_inode *gi = calloc(1, sizeof(*gi));
	struct inode *inode = gi ? inode_new(sb, a->mode) : NULL;
	if (!inode) {
		free(gi);
		gofer_close(&conn, node);
		return NULL;
	}
	gi->node = node;
	gi->create_fd = -1;
	gi->ro_fd = -1;
	list_init(&gi->ro_node);
	gi->attr_fd = -1;
	inode->priv = gi;
	inode->iops = &gofer_iops;
	attr_apply(inode, a);
	return inode;
}

static void gofer_evict(struct inode *inode)
{
	struct goferfs_inode *gi = GI(inode);
	if (!gi)
		return;
	gofer_close(&conn, gi->node);
	if (gi->create_fd >= 0)
		close(gi->create_fd);
	ro_drop(gi);
	free(gi->link);
	free(gi);
}

static int gofer_statfs_op(struct super_block *sb, struct statfs *st)
{
	struct gp_statfs_resp s;
	int r = gofer_statfs(&conn, (uint64_t)(uintptr_t)sb->priv, &s);
	if (r)
		return r;
	memset(st, 0, sizeof(*st));
	st->f_type = (__fsword_t)s.type;
	st->f_bsize = (__fsword_t)s.bsize;
	st->f_blocks = s.blocks;
	st->f_bfree = s.bfree;
	st->f_bavail = s.bavail;
	st->f_files = s.files;
	st->f_ffree = s.ffree;
	st->f_namelen = (__fsword_t)s.namelen;
	st->f_frsize = (__fsword_t)s.frsize;
	return 0;
}

static const struct super_ops gofer_sops = {
    .statfs = gofer_statfs_op,
    .evict = gofer_evict,
};

static int gofer_lookup(struct inode *dir, const char *name, struct inode **out)
{
	const char *names[1] = {name};
	struct gp_walk_ent ent;
	unsigned n = 0;
	int r = gofer_walk(&conn, GI(dir)->node, names, 1, &ent, &n);
	if (r) {
		if (n)
			gofer_close(&conn, ent.node);
		return r;
	}
	if (n != 1)
		return -EIO;
	*out = gofer_inode_new(dir->sb, ent.node, &ent.attr);
	return *out ? 0 : -ENOMEM;
}

static int gofer_create_op(struct inode *dir, const char *name, mode_t mode,
			   uid_t uid, gid_t gid, int oflags, struct inode **out)
{
	uint64_t node;
	struct gp_attr a;
	int fd = -1;
	int acc = oflags & O_ACCMODE;
	if (acc == O_ACCMODE)
		acc = O_RDWR;
	int r =
	    gofer_create(&conn, GI(dir)->node, name, (uint32_t)(acc | O_EXCL),
			 mode & 07777, uid, gid, &node, &a, &fd);
	if (r)
		return r;
	struct inode *inode = gofer_inode_new(dir->sb, node, &a);
	if (!inode) {
		close(fd);
		return -ENOMEM;
	}
	GI(inode)->create_fd = fd;
	GI(inode)->create_acc = acc;
	inode_touch(dir, false, true, true);
	*out = inode;
	return 0;
}

static int gofer_mkdir_op(struct inode *dir, const char *name, mode_t mode,
			  uid_t uid, gid_t gid, struct inode **out)
{
	uint64_t node;
	struct gp_attr a;
	int r = gofer_mkdir(&conn, GI(dir)->node, name, mode & 07777, uid, gid,
			    &node, &a);
	if (r)
		return r;
	*out = gofer_inode_new(dir->sb, node, &a);
	dir->nlink++;
	inode_touch(dir, false, true, true);
	return *out ? 0 : -ENOMEM;
}

static int gofer_symlink_op(struct inode *dir, const char *name,
			    const char *target, uid_t uid, gid_t gid,
			    struct inode **out)
{
	uint64_t node;
	struct gp_attr a;
	int r = gofer_symlink(&conn, GI(dir)->node, name, target, uid, gid,
			      &node, &a);
	if (r)
		return r;
	*out = gofer_inode_new(dir->sb, node, &a);
	inode_touch(dir, false, true, true);
	return *out ? 0 : -ENOMEM;
}

static int gofer_link_op(struct inode *dir, const char *name,
			 struct inode *target)
{
	if (target->sb != dir->sb)
		return -EXDEV;
	uint64_t node;
	struct gp_attr a;
	int r =
	    gofer_link(&conn, GI(dir)->node, name, GI(target)->node, &node, &a);
	if (r)
		return r;
	gofer_close(&conn, node);
	attr_apply(target, &a);
	inode_touch(dir, false, true, true);
	return 0;
}

static int gofer_unlink_op(struct inode *dir, const char *name,
			   struct inode *victim)
{
	int r = gofer_unlink(&conn, GI(dir)->node, name, 0);
	if (r)
		return r;
	if (victim->nlink)
		victim->nlink--;
	victim->ctime = vfs_now();
	inode_touch(dir, false, true, true);
	return 0;
}

static int gofer_rmdir_op(struct inode *dir, const char *name,
			  struct inode *victim)
{
	int r = gofer_unlink(&conn, GI(dir)->node, name, AT_REMOVEDIR);
	if (r)
		return r;
	victim->nlink = 0;
	if (dir->nlink > 2)
		dir->nlink--;
	inode_touch(dir, false, true, true);
	return 0;
}

static int gofer_rename_op(struct inode *odir, const char *oname,
			   struct inode *ndir, const char *nname,
			   unsigned flags)
{
	if (odir->sb != ndir->sb)
		return -EXDEV;
	int r = gofer_rename(&conn, GI(odir)->node, oname, GI(ndir)->node,
			     nname, flags);
	if (r)
		return r;
	inode_touch(odir, false, true, true);
	inode_touch(ndir, false, true, true);
	return 0;
}

static long gofer_readlink_op(struct inode *inode, char *buf, size_t cap)
{
	struct goferfs_inode *gi = GI(inode);
	if (!S_ISLNK(inode->mode))
		return -EINVAL;
	if (!gi->link) {
		char *t = malloc(GP_PATH_MAX + 1);
		if (!t)
			return -ENOMEM;
		long n = gofer_readlink(&conn, gi->node, t, GP_PATH_MAX + 1);
		if (n < 0) {
			free(t);
			return n;
		}
		gi->link = t;
	}
	size_t n = strlen(gi->link);
	if (n + 1 > cap)
		return -ENAMETOOLONG;
	memcpy(buf, gi->link, n + 1);
	return (long)n;
}

static int gofer_getattr(struct inode *inode)
{
	struct goferfs_inode *gi = GI(inode);
	struct stat st;
	if (gi->attr_fd >= 0 && fstat(gi->attr_fd, &st) == 0) {
		stat_apply(inode, &st);
		return 0;
	}
	return 0; /* the cache is current: every change goes through us */
}

static int gofer_setattr_op(struct inode *inode, const struct iattr *ia)
{
	struct gp_setattr_req q = {.node = GI(inode)->node};
	if (ia->valid & ATTR_MODE) {
		q.mask |= GP_SET_MODE;
		q.mode = ia->mode & 07777;
	}
	if (ia->valid & ATTR_SIZE) {
		q.mask |= GP_SET_SIZE;
		q.size = ia->size;
	}
	if (ia->valid & ATTR_UID) {
		q.mask |= GP_SET_UID;
		q.uid = ia->uid;
	}
	if (ia->valid & ATTR_GID) {
		q.mask |= GP_SET_GID;
		q.gid = ia->gid;
	}
	if (ia->valid & ATTR_ATIME) {
		q.mask |= GP_SET_ATIME;
		q.atime_sec = ia->atime.tv_sec;
		q.atime_nsec = (uint32_t)ia->atime.tv_nsec;
	}
	if (ia->valid & ATTR_MTIME) {
		q.mask |= GP_SET_MTIME;
		q.mtime_sec = ia->mtime.tv_sec;
		q.mtime_nsec = (uint32_t)ia->mtime.tv_nsec;
	}
	struct gp_attr a;
	int r = gofer_setattr(&conn, &q, &a);
	if (r)
		return r;
	attr_apply(inode, &a);
	return 0;
}

static ssize_t gofer_read(struct file *f, struct uio *u, uint64_t *pos)
{
	struct goferfs_file *gf = f->priv;
	return uio_pread_fd(u, gf->hostfd, pos);
}

static ssize_t gofer_write(struct file *f, struct uio *u, uint64_t *pos)
{
	struct goferfs_file *gf = f->priv;
	if ((f->flags & O_APPEND) || (u->flags & UIO_APPEND)) {
		struct stat st;
		if (fstat(gf->hostfd, &st) < 0)
			return -errno;
		*pos = (uint64_t)st.st_size;
	}
	ssize_t r = uio_pwrite_fd(u, gf->hostfd, pos);
	if (r > 0) {
		struct inode *inode = f->inode;
		if (*pos > inode->size)
			inode->size = *pos;
		inode_touch(inode, false, true, true);
		if (u->flags & UIO_DSYNC)
			fdatasync(gf->hostfd);
	}
	return r;
}

static int gofer_fsync(struct file *f)
{
	struct goferfs_file *gf = f->priv;
	return fsync(gf->hostfd) < 0 ? -errno : 0;
}

static int gofer_host_fd(struct file *f)
{
	return ((struct goferfs_file *)f->priv)->hostfd;
}

static void gofer_release(struct file *f)
{
	struct goferfs_file *gf = f->priv;
	struct goferfs_inode *gi = GI(f->inode);
	if (gi->attr_fd == gf->hostfd)
		gi->attr_fd = -1;
	close(gf->hostfd);
	free(gf);
}

static const struct file_ops gofer_reg_fops = {
    .read = gofer_read,
    .write = gofer_write,
    .llseek = generic_llseek,
    .fsync = gofer_fsync,
    .host_fd = gofer_host_fd,
    .release = gofer_release,
};

static int gofer_open_op(struct inode *inode, struct file *f)
{
	struct goferfs_inode *gi = GI(inode);
	if (S_ISDIR(inode->mode))
		return 0;
	if (S_ISCHR(inode->mode))
		return devfs_open_chr(inode, f);
	if (!S_ISREG(inode->mode))
		return -ENXIO;
	int acc = f->flags & O_ACCMODE;
	if (acc == O_ACCMODE)
		acc = O_RDWR;
	struct goferfs_file *gf = malloc(sizeof(*gf));
	if (!gf)
		return -ENOMEM;
	if (gi->create_fd >= 0 && gi->create_acc == acc) {
		gf->hostfd = gi->create_fd;
		gi->create_fd = -1;
	} else if (acc == O_RDONLY && gi->ro_fd >= 0 &&
		   (gf->hostfd = fcntl(gi->ro_fd, F_DUPFD_CLOEXEC, 0)) >= 0) {
		/* Cached: no round trip to the gofer. */
		list_del(&gi->ro_node);
		list_add_tail(&gi->ro_node, &ro_lru);
	} else {
		if (gi->create_fd >= 0) {
			close(gi->create_fd);
			gi->create_fd = -1;
		}
		/* O_APPEND and O_TRUNC are the VFS's job; the host fd only
		 * carries the access mode. */
		struct gp_attr a;
		int r =
		    gofer_open(&conn, gi->node, (uint32_t)(acc | O_LARGEFILE),
			       &gf->hostfd, &a);
		if (r) {
			free(gf);
			return r;
		}
		attr_apply(inode, &a);
		if (acc == O_RDONLY && gi->ro_fd < 0)
			ro_keep(gi, gf->hostfd);
	}
	gi->attr_fd = gf->hostfd;
	f->priv = gf;
	f->fops = &gofer_reg_fops;
	return 0;
}

struct readdir_arg {
	dir_emit_fn emit;
	void *arg;
	uint64_t cookie; /* after the last entry taken */
	int stop;	 /* emit's stop (> 0) or error (< 0) */
};

/* Runs with the gofer connection locked: emit must only fill the caller's
 * sentry buffer (getdents copies it out after). */
static int readdir_one(void *arg, const struct gofer_dirent *d)
{
	struct readdir_arg *ra = arg;
	int r = ra->emit(ra->arg, d->name, d->namelen, d->ino, d->type,
			 d->next_cookie);
	if (r)
		ra->stop = r;
	else
		ra->cookie = d->next_cookie;
	return r;
}

/* The gofer's cookies are the host directory's offsets, which resume a
 * host readdir exactly. */
static int gofer_readdir(struct inode *dir, uint64_t cookie, dir_emit_fn emit,
			 void *arg)
{
	struct readdir_arg ra = {.emit = emit, .arg = arg, .cookie = cookie};
	for (;;) {
		int r = gofer_getdents(&conn, GI(dir)->node, ra.cookie,
				       readdir_one, &ra);
		if (ra.stop)
			return ra.stop < 0 ? ra.stop : 0;
		if (r <= 0)
			return r;
	}
}

static const struct inode_ops gofer_iops = {
    .lookup = gofer_lookup,
    .create = gofer_create_op,
    .mkdir = gofer_mkdir_op,
    .symlink = gofer_symlink_op,
    .link = gofer_link_op,
    .unlink = gofer_unlink_op,
    .rmdir = gofer_rmdir_op,
    .rename = gofer_rename_op,
    .readlink = gofer_readlink_op,
    .getattr = gofer_getattr,
    .setattr = gofer_setattr_op,
    .open = gofer_open_op,
    .readdir = gofer_readdir,
};

int goferfs_mount(unsigned export_idx, bool readonly, struct super_block **sbp,
		  struct dentry **rootp)
{
	if (!conn_ready)
		return -ENOTCONN;
	uint64_t node;
	struct gp_attr a;
	bool ro = false;
	int r = gofer_attach(&conn, export_idx, &node, &a, &ro);
	if (r)
		return r;
	struct super_block *sb = calloc(1, sizeof(*sb));
	if (!sb) {
		gofer_close(&conn, node);
		return -ENOMEM;
	}
	sb->fstype = "9p";
	sb->ops = &gofer_sops;
	sb->dev = gofer_devs++;
	sb->flags = (readonly || ro) ? SB_RDONLY : 0;
	sb->priv = (void *)(uintptr_t)node;
	struct inode *root = gofer_inode_new(sb, node, &a);
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
