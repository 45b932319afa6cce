/* Inodes: the generic fields every filesystem fills, refcounting, stat.
 * The attributes are under the inode's lock; a filesystem that refreshes
 * them from a host round trip does the trip first, then takes the lock. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sentry/fs/pipe/pipe.h"
#include "sentry/vfs/fs.h"
#include "sentry/vfs/locks.h"

struct inode *inode_new(struct super_block *sb, mode_t mode)
{
	struct inode *inode = calloc(1, sizeof(*inode));
	if (!inode)
		return NULL;
	inode->refs = 1;
	kmutex_init(&inode->lock, "inode", LR_INODE);
	kmutex_init(&inode->dir_lock, "dir", LR_DIR);
	inode->sb = sb;
	inode->mode = mode;
	inode->nlink = 1;
	inode->ino = sb_next_ino(sb);
	inode->atime = inode->mtime = inode->ctime = vfs_now();
	return inode;
}

uint64_t sb_next_ino(struct super_block *sb)
{
	return atomic_fetch_add(&sb->next_ino, 1) + 1;
}

void inode_get(struct inode *inode)
{
	atomic_fetch_add_explicit(&inode->refs, 1, memory_order_relaxed);
}

int inode_get_write_access(struct inode *inode)
{
	int v = atomic_load(&inode->writecount);
	do {
		if (v < 0)
			return -ETXTBSY;
	} while (!atomic_compare_exchange_weak(&inode->writecount, &v, v + 1));
	return 0;
}

void inode_put_write_access(struct inode *inode)
{
	atomic_fetch_sub(&inode->writecount, 1);
}

int inode_deny_write_access(struct inode *inode)
{
	int v = atomic_load(&inode->writecount);
	do {
		if (v > 0)
			return -ETXTBSY;
	} while (!atomic_compare_exchange_weak(&inode->writecount, &v, v - 1));
	return 0;
}

void inode_allow_write_access(struct inode *inode)
{
	atomic_fetch_add(&inode->writecount, 1);
}

void inode_put(struct inode *inode)
{
	if (!inode || atomic_fetch_sub_explicit(&inode->refs, 1,
						memory_order_acq_rel) > 1)
		return;
	if (inode->sb && inode->sb->ops && inode->sb->ops->evict)
		inode->sb->ops->evict(inode);
	locks_evict_inode(inode);
	if (inode->i_pipe)
		pipe_inode_free(inode);
	kmutex_destroy(&inode->lock);
	kmutex_destroy(&inode->dir_lock);
	free(inode);
}

struct timespec vfs_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

void inode_touch(struct inode *inode, bool atime, bool mtime, bool ctime)
{
	struct timespec now = vfs_now();
	inode_lock(inode);
	if (atime)
		inode->atime = now;
	if (mtime)
		inode->mtime = now;
	if (ctime)
		inode->ctime = now;
	inode_unlock(inode);
}

void inode_get_attr(struct inode *inode, struct inode_attr *a)
{
	inode_lock(inode);
	a->mode = inode->mode;
	a->uid = inode->uid;
	a->gid = inode->gid;
	a->size = inode->size;
	inode_unlock(inode);
}

uint64_t inode_size(struct inode *inode)
{
	inode_lock(inode);
	uint64_t s = inode->size;
	inode_unlock(inode);
	return s;
}

nlink_t dir_nlink(struct inode *inode)
{
	inode_lock(inode);
	nlink_t n = inode->nlink;
	inode_unlock(inode);
	return n;
}

void inode_fill_stat(struct inode *inode, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	inode_lock(inode);
	st->st_dev = inode->sb ? inode->sb->dev : 0;
	st->st_ino = inode->ino;
	st->st_mode = inode->mode;
	st->st_nlink = inode->nlink;
	st->st_uid = inode->uid;
	st->st_gid = inode->gid;
	st->st_rdev = inode->rdev;
	st->st_size = (off_t)inode->size;
	st->st_blksize = 4096;
	st->st_blocks = inode->blocks ? (blkcnt_t)inode->blocks
				      : (blkcnt_t)((inode->size + 511) / 512);
	st->st_atim = inode->atime;
	st->st_mtim = inode->mtime;
	st->st_ctim = inode->ctime;
	inode_unlock(inode);
}

void inode_apply_iattr(struct inode *inode, const struct iattr *ia)
{
	struct timespec now = vfs_now();
	inode_lock(inode);
	if (ia->valid & ATTR_MODE)
		inode->mode = (inode->mode & S_IFMT) | (ia->mode & 07777);
	if (ia->valid & ATTR_UID)
		inode->uid = ia->uid;
	if (ia->valid & ATTR_GID)
		inode->gid = ia->gid;
	if (ia->valid & ATTR_SIZE) {
		inode->size = ia->size;
		inode->mtime = now;
	}
	if (ia->valid & ATTR_ATIME)
		inode->atime = ia->atime;
	if (ia->valid & ATTR_MTIME)
		inode->mtime = ia->mtime;
	inode->ctime = now;
	inode_unlock(inode);
}

int inode_setattr(struct inode *inode, const struct iattr *ia)
{
	if ((ia->valid & ATTR_SIZE) && S_ISDIR(inode->mode))
		return -EISDIR;
	if ((ia->valid & ATTR_SIZE) && !S_ISREG(inode->mode))
		return -EINVAL;
	if (ia->valid & ATTR_SIZE && ia->size > (uint64_t)INT64_MAX)
		return -EINVAL;
	if (inode->iops && inode->iops->setattr)
		return inode->iops->setattr(inode, ia);
	inode_apply_iattr(inode, ia);
	return 0;
}
