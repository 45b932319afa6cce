/* tmpfs: an in-memory filesystem. Regular file data lives in a memfd per
 * file (made on first write), so file_host_fd() works and mmap of tmpfs
 * files needs nothing special. */
#ifndef BULKHEAD_FS_TMPFS_H
#define BULKHEAD_FS_TMPFS_H

#include "sentry/vfs/fs.h"
#include "sentry/vfs/fstype.h"

#define TMPFS_DEFAULT_SIZE (64ull << 20)
#define TMPFS_MAGIC_NR	   0x01021994

/* A new tmpfs (size 0: the default) whose root has mode/uid/gid. Returns
 * the root dentry (a reference) and its super block. */
int tmpfs_new(uint64_t size, mode_t mode, uid_t uid, gid_t gid,
	      struct super_block **sbp, struct dentry **rootp);
/* Kernel-side helpers for filling a tmpfs at boot (devfs, synthetic
 * mountpoints): they work on a directory inode directly. */
int tmpfs_mkdir_k(struct inode *dir, const char *name, mode_t mode,
		  struct inode **out);
int tmpfs_symlink_k(struct inode *dir, const char *name, const char *target);
int tmpfs_mknod_k(struct inode *dir, const char *name, mode_t mode, dev_t rdev);
bool tmpfs_is(struct inode *inode);

/* "tmpfs" in the filesystem-type table. */
extern const struct fs_type tmpfs_type;

#endif
