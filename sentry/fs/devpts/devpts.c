/* devpts instances: a root directory holding ptmx and the live slaves. A
 * pty's number is taken at the ptmx open and given back when the pair is
 * freed; its node is visible from then until the master closes. The table
 * is under the instance's spin lock, never held across anything but
 * memory. */
#include "sentry/fs/devpts/devpts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/sysmacros.h>

#include "sentry/kernel/task.h"
#include "sentry/tty/jobctl.h"
#include "sentry/tty/tty.h"
#include "sentry/vfs/chrdev.h"
#include "sentry/vfs/fs.h"

#define DEVPTS_SUPER_MAGIC 0x1cd1
#define PTY_SLAVE_MAJOR	   136

struct devpts {
	struct super_block sb;
	struct kmutex lock; /* ttys, used */
	struct inode *ptmx; /* immutable */
	unsigned max;	    /* immutable */
	mode_t mode;	    /* immutable: slaves' */
	long uid, gid;	    /* immutable: slaves' (-1: the opener's) */
	struct tty **ttys;  /* visible nodes by number (no reference) */
	uint8_t *used;	    /* numbers taken */
};

static _Atomic int devpts_total;
static _Atomic uint64_t devpts_devs = 0x80;

static const struct inode_ops devpts_dir_iops, devpts_ptmx_iops,
    devpts_slave_iops;

static struct devpts *DP(struct super_block *sb)
{
	return sb->priv;
}

/* "0".."max-1" in canonical decimal, or -1. */
static int parse_index(const char *name, unsigned max)
{
	if (!name[0] || (name[0] == '0' && name[1]))
		return -1;
	unsigned long v = 0;
	for (const char *s = name; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned)(*s - '0');
		if (v >= max)
			return -1;
	}
	return (int)v;
}

static int devpts_lookup(struct inode *dir, const char *name,
			 struct inode **out)
{
	struct devpts *d = DP(dir->sb);
	if (!strcmp(name, "ptmx")) {
		inode_get(d->ptmx);
		*out = d->ptmx;
		return 0;
	}
	int idx = parse_index(name, d->max);
	if (idx < 0)
		return -ENOENT;
	int r = -ENOENT;
	kmutex_lock(&d->lock);
	struct tty *tty = d->ttys[idx];
	if (tty) {
		inode_get(tty->slave_inode);
		*out = tty->slave_inode;
		r = 0;
	}
	kmutex_unlock(&d->lock);
	return r;
}

static bool devpts_revalidate(struct inode *dir, const char *name,
			      struct inode *inode)
{
	struct devpts *d = DP(dir->sb);
	if (!strcmp(name, "ptmx"))
		return true;
	int idx = parse_index(name, d->max);
	if (idx < 0)
		return false;
	kmutex_lock(&d->lock);
	bool ok = d->ttys[idx] && d->ttys[idx]->slave_inode == inode;
	kmutex_unlock(&d->lock);
	return ok;
}

/* Cookies: 1 after ptmx, n + 2 after pty n. */
static int devpts_readdir(struct inode *dir, uint64_t cookie, dir_emit_fn emit,
			  void *arg)
{
	struct devpts *d = DP(dir->sb);
	if (cookie == 0) {
		int r = emit(arg, "ptmx", 4, d->ptmx->ino, DT_CHR, 1);
		if (r)
			return r < 0 ? r : 0;
		cookie = 1;
	}
	/* emit only fills the caller's sentry buffer. */
	kmutex_lock(&d->lock);
	for (uint64_t i = cookie - 1; i < d->max; i++) {
		struct tty *tty = d->ttys[i];
		if (!tty)
			continue;
		char name[16];
		int n = snprintf(name, sizeof(name), "%u", (unsigned)i);
		int r = emit(arg, name, (size_t)n, tty->slave_inode->ino,
			     DT_CHR, i + 2);
		if (r) {
			kmutex_unlock(&d->lock);
			return r < 0 ? r : 0;
		}
	}
	kmutex_unlock(&d->lock);
	return 0;
}

/* A new pair in instance d for the open file f of its ptmx. */
static int ptmx_open_in(struct devpts *d, struct file *f)
{
	if (atomic_fetch_add(&devpts_total, 1) >= DEVPTS_PTYS_MAX) {
		atomic_fetch_sub(&devpts_total, 1);
		return -ENOSPC;
	}
	int idx = -1;
	kmutex_lock(&d->lock);
	for (unsigned i = 0; i < d->max; i++) {
		if (!d->used[i]) {
			d->used[i] = 1;
			idx = (int)i;
			break;
		}
	}
	kmutex_unlock(&d->lock);
	if (idx < 0) {
		atomic_fetch_sub(&devpts_total, 1);
		return -ENOSPC;
	}
	struct tty *tty;
	int r = tty_alloc(idx, &tty);
	struct inode *inode = r ? NULL : inode_new(&d->sb, S_IFCHR | d->mode);
	if (!inode) {
		if (!r)
			tty_put(tty); /* no devpts yet: nothing given back */
		devpts_index_release(d, idx);
		return -ENOMEM;
	}
	inode->rdev = makedev(PTY_SLAVE_MAJOR, (unsigned)idx);
	inode->uid = d->uid >= 0 ? (uid_t)d->uid : task_fsuid(current);
	inode->gid = d->gid >= 0 ? (gid_t)d->gid : task_fsgid(current);
	inode->iops = &devpts_slave_iops;
	inode->priv = (void *)(uintptr_t)idx;
	tty->slave_inode = inode;
	tty->devpts = d;
	kmutex_lock(&d->lock);
	d->ttys[idx] = tty;
	kmutex_unlock(&d->lock);
	return tty_master_open(tty, f);
}

static int devpts_ptmx_open(struct inode *inode, struct file *f)
{
	return ptmx_open_in(DP(inode->sb), f);
}

static int devpts_slave_iopen(struct inode *inode, struct file *f)
{
	struct devpts *d = DP(inode->sb);
	int idx = (int)(uintptr_t)inode->priv;
	kmutex_lock(&d->lock);
	struct tty *tty = d->ttys[idx];
	if (tty && tty->slave_inode == inode)
		tty_get(tty);
	else
		tty = NULL;
	kmutex_unlock(&d->lock);
	if (!tty)
		return -EIO;
	int r = tty_slave_open(tty, f, true);
	tty_put(tty);
	return r;
}

void devpts_pty_kill(struct tty *tty)
{
	struct devpts *d = tty->devpts;
	if (!d)
		return;
	kmutex_lock(&d->lock);
	if (d->ttys[tty->index] == tty)
		d->ttys[tty->index] = NULL;
	kmutex_unlock(&d->lock);
}

void devpts_index_release(void *devpts, int index)
{
	struct devpts *d = devpts;
	kmutex_lock(&d->lock);
	d->used[index] = 0;
	kmutex_unlock(&d->lock);
	atomic_fetch_sub(&devpts_total, 1);
}

struct find_mnt {
	struct super_block *sb;
	struct mount *m;
};

static void find_mnt_fn(struct mount *m, void *arg)
{
	struct find_mnt *fm = arg;
	if (!fm->m && m->sb == fm->sb)
		fm->m = m;
}

int devpts_open_slave(struct task *t, struct tty *tty, int flags,
		      struct file **out)
{
	struct devpts *d = tty->devpts;
	if (!d)
		return -EIO;
	struct find_mnt fm = {&d->sb, NULL};
	mount_for_each(find_mnt_fn, &fm);
	if (!fm.m)
		return -EIO;
	struct path root = {fm.m, fm.m->root}, p;
	char name[16];
	snprintf(name, sizeof(name), "%d", tty->index);
	int r = vfs_lookup_one(NULL, &root, name, &p);
	if (r)
		return r == -ENOENT ? -EIO : r;
	r = vfs_open_path(t, &p, flags, out);
	path_put(&p);
	return r;
}

/* /dev/ptmx outside a devpts: the instance mounted on "pts" beside it
 * (Linux's devpts_mntget). */
static int ptmx_chr_open(struct inode *inode, struct file *f)
{
	(void)inode;
	struct dentry *parent =
	    f->path.dentry ? dentry_get_parent(f->path.dentry) : NULL;
	if (!parent)
		return -ENODEV;
	struct path pp = {f->path.mnt, parent}, pts;
	int r = vfs_lookup_one(NULL, &pp, "pts", &pts);
	dentry_put(parent);
	if (r)
		return -ENODEV;
	struct super_block *sb = pts.dentry->inode->sb;
	r = sb->fstype && !strcmp(sb->fstype, "devpts")
		? ptmx_open_in(DP(sb), f)
		: -ENODEV;
	path_put(&pts);
	return r;
}

/* /dev/tty: the caller's controlling terminal, never made one by this. */
static int devtty_open(struct inode *inode, struct file *f)
{
	(void)inode;
	struct tty *tty = tty_get_ctty(current);
	if (!tty)
		return -ENXIO;
	int r = tty_slave_open(tty, f, false);
	tty_put(tty);
	return r;
}

int devpts_init(void)
{
	int r = chrdev_register(5, 0, 0, NULL, devtty_open);
	if (!r)
		r = chrdev_register(5, 2, 2, NULL, ptmx_chr_open);
	return r;
}

static int devpts_statfs(struct super_block *sb, struct statfs *st)
{
	(void)sb;
	memset(st, 0, sizeof(*st));
	st->f_type = DEVPTS_SUPER_MAGIC;
	st->f_bsize = 4096;
	st->f_namelen = 255;
	return 0;
}

static const struct super_ops devpts_sops = {.statfs = devpts_statfs};

static const struct inode_ops devpts_dir_iops = {
    .lookup = devpts_lookup,
    .readdir = devpts_readdir,
    .revalidate = devpts_revalidate,
};
static const struct inode_ops devpts_ptmx_iops = {.open = devpts_ptmx_open};
static const struct inode_ops devpts_slave_iops = {
    .open = devpts_slave_iopen,
};

static int devpts_get_sb(const struct bh_mount *bm, struct super_block **sbp,
			 struct dentry **rootp, const char **source)
{
	struct devpts *d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->max = bm->pts_max && bm->pts_max < DEVPTS_PTYS_MAX
		     ? (unsigned)bm->pts_max
		     : DEVPTS_PTYS_MAX;
	d->ttys = calloc(d->max, sizeof(*d->ttys));
	d->used = calloc(d->max, 1);
	if (!d->ttys || !d->used) {
		free(d->ttys);
		free(d->used);
		free(d);
		return -ENOMEM;
	}
	kmutex_init(&d->lock, "devpts", LR_DEVPTS);
	d->mode = bm->pts_mode & 07777;
	d->uid = bm->pts_uid;
	d->gid = bm->pts_gid;
	d->sb.fstype = "devpts";
	d->sb.ops = &devpts_sops;
	d->sb.dev = atomic_fetch_add(&devpts_devs, 1);
	d->sb.flags = SB_NOCACHE;
	d->sb.next_ino = 0;
	d->sb.priv = d;
	/* Linux numbers the root 1, ptmx 2 and a slave n + 3. */
	struct inode *root = inode_new(&d->sb, S_IFDIR | 0755);
	d->ptmx = inode_new(&d->sb, S_IFCHR | (bm->pts_ptmxmode & 07777));
	if (!root || !d->ptmx) {
		inode_put(root);
		inode_put(d->ptmx);
		return -ENOMEM; /* the instance stays: nothing refers to it */
	}
	root->nlink = 2;
	root->iops = &devpts_dir_iops;
	d->ptmx->rdev = makedev(5, 2);
	d->ptmx->iops = &devpts_ptmx_iops;
	struct dentry *rd = dentry_new(NULL, "/", 1, root);
	inode_put(root);
	if (!rd)
		return -ENOMEM;
	*sbp = &d->sb;
	*rootp = rd;
	*source = "devpts";
	return 0;
}

const struct fs_type devpts_type = {
    .name = "devpts",
    .type = BH_MOUNT_DEVPTS,
    .get_sb = devpts_get_sb,
};
