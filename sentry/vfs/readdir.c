/* Directory reading. Positions 0 and 1 are "." and ".."; the rest are the
 * filesystem's own cookies plus 2, which resume exactly where the last
 * getdents stopped, with no copy of the directory kept per open file. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sentry/vfs/fs.h"

#define DIR_POS_FS 2 /* the first position the filesystem's cookies use */

unsigned char mode_to_dtype(mode_t mode)
{
	return (unsigned char)((mode & S_IFMT) >> 12);
}

static uint64_t parent_ino(struct file *f)
{
	struct mount *m = f->path.mnt;
	struct dentry *d = f->path.dentry;
	if (!d)
		return f->inode->ino;
	while (m && d == m->root && m->parent) {
		d = m->mountpoint;
		m = m->parent;
	}
	struct dentry *p = dentry_get_parent(d);
	uint64_t ino = p ? p->inode->ino : d->inode->ino;
	dentry_put(p);
	return ino;
}

struct iter {
	struct file *f;
	struct dir_ctx *ctx;
};

static int iter_emit(void *arg, const char *name, size_t len, uint64_t ino,
		     unsigned char type, uint64_t next)
{
	struct iter *it = arg;
	/* A cookie too large for a d_off cannot be resumed from: end. */
	uint64_t off = next > INT64_MAX - DIR_POS_FS ? (uint64_t)INT64_MAX
						     : next + DIR_POS_FS;
	int r = it->ctx->actor(it->ctx, name, len, off, ino, type);
	if (r > 0) {
		it->ctx->full = true;
		return r;
	}
	it->f->pos = off;
	return 0;
}

int vfs_iterate_dir(struct file *f, struct dir_ctx *ctx)
{
	if (!S_ISDIR(f->inode->mode))
		return -ENOTDIR;
	/* A removed directory reads as empty, like Linux. */
	if (f->inode->nlink == 0)
		return 0;
	if (f->pos == 0) {
		if (ctx->actor(ctx, ".", 1, 1, f->inode->ino, DT_DIR)) {
			ctx->full = true;
			return 0;
		}
		f->pos = 1;
	}
	if (f->pos == 1) {
		if (ctx->actor(ctx, "..", 2, 2, parent_ino(f), DT_DIR)) {
			ctx->full = true;
			return 0;
		}
		f->pos = DIR_POS_FS;
	}
	if (f->pos == (uint64_t)INT64_MAX || !f->inode->iops ||
	    !f->inode->iops->readdir)
		return 0;
	struct iter it = {f, ctx};
	return f->inode->iops->readdir(f->inode, f->pos - DIR_POS_FS, iter_emit,
				       &it);
}

static int64_t dir_llseek(struct file *f, int64_t off, int whence)
{
	int64_t npos;
	if (whence == SEEK_SET)
		npos = off;
	else if (whence == SEEK_CUR)
		npos = (int64_t)f->pos + off;
	else
		return -EINVAL;
	if (npos < 0)
		return -EINVAL;
	f->pos = (uint64_t)npos;
	return npos;
}

const struct file_ops dir_fops = {
    .llseek = dir_llseek,
};
