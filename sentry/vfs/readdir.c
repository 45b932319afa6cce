/* Directory reading. The first getdents after open or a rewind takes a
 * snapshot of the entries ("." and ".." included); later calls resume by
 * index, so d_off values are small and stable and a concurrent unlink
 * cannot make the guest skip or repeat an entry (POSIX leaves entries added
 * after the rewind unspecified). */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sentry/vfs/fs.h"

#define DIR_SNAPSHOT_MAX (1u << 20) /* entries; bounds sentry memory */

struct dir_ent {
	char *name;
	uint64_t ino;
	unsigned char type;
};

struct dir_snapshot {
	size_t n, cap;
	struct dir_ent *ents;
};

unsigned char mode_to_dtype(mode_t mode)
{
	return (unsigned char)((mode & S_IFMT) >> 12);
}

void dir_snapshot_free(struct dir_snapshot *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->ents[i].name);
	free(s->ents);
	free(s);
}

static int snap_add(void *arg, const char *name, size_t len, uint64_t ino,
		    unsigned char type)
{
	struct dir_snapshot *s = arg;
	if (s->n >= DIR_SNAPSHOT_MAX)
		return -EOVERFLOW;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 32;
		struct dir_ent *e = realloc(s->ents, cap * sizeof(*e));
		if (!e)
			return -ENOMEM;
		s->ents = e;
		s->cap = cap;
	}
	char *n = strndup(name, len);
	if (!n)
		return -ENOMEM;
	s->ents[s->n++] = (struct dir_ent){n, ino, type};
	return 0;
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
	return d->parent ? d->parent->inode->ino : d->inode->ino;
}

static int dir_snapshot_take(struct file *f)
{
	struct dir_snapshot *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	int r = snap_add(s, ".", 1, f->inode->ino, DT_DIR);
	if (!r)
		r = snap_add(s, "..", 2, parent_ino(f), DT_DIR);
	if (!r && f->inode->iops && f->inode->iops->readdir)
		r = f->inode->iops->readdir(f->inode, snap_add, s);
	if (r) {
		dir_snapshot_free(s);
		return r;
	}
	dir_snapshot_free(f->dir);
	f->dir = s;
	return 0;
}

int vfs_iterate_dir(struct file *f, struct dir_ctx *ctx)
{
	if (!S_ISDIR(f->inode->mode))
		return -ENOTDIR;
	if (f->inode->nlink == 0 && f->pos == 0) {
		/* A removed directory reads as empty, like Linux. */
		return 0;
	}
	if (!f->dir || f->pos == 0) {
		int r = dir_snapshot_take(f);
		if (r)
			return r;
	}
	struct dir_snapshot *s = f->dir;
	while (f->pos < s->n) {
		struct dir_ent *e = &s->ents[f->pos];
		if (ctx->actor(ctx, e->name, strlen(e->name), f->pos + 1,
			       e->ino, e->type))
			break;
		f->pos++;
	}
	return 0;
}

bool vfs_dir_has_more(struct file *f)
{
	return f->dir && f->pos < f->dir->n;
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
