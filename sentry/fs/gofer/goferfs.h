/* The gofer filesystem: the container rootfs (export 0) and bind mounts
 * (exports 1..), reached only through the gofer protocol. Regular files are
 * read and written straight through the host fd the gofer donates at open,
 * with no round trip. */
#ifndef BULKHEAD_FS_GOFERFS_H
#define BULKHEAD_FS_GOFERFS_H

#include "sentry/vfs/fs.h"
#include "sentry/vfs/fstype.h"

/* Take ownership of the gofer socket (once, at boot). */
int goferfs_init(int gofer_fd);
/* Attach export idx; readonly forces a read-only mount (root.readonly, a
 * "ro" bind) even if the gofer did not say so. */
int goferfs_mount(unsigned export_idx, bool readonly, struct super_block **sbp,
		  struct dentry **rootp);

/* "bind" (gofer exports) in the filesystem-type table. */
extern const struct fs_type goferfs_bind_type;

#endif
