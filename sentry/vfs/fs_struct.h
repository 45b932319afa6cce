/* Per-process root, cwd and umask (Linux struct fs_struct). */
#ifndef BULKHEAD_VFS_FS_STRUCT_H
#define BULKHEAD_VFS_FS_STRUCT_H

#include "sentry/vfs/fs.h"

struct fs_struct {
	int refs;
	struct path root, cwd; /* references held */
	mode_t umask;
};

/* The task's fs_struct, or NULL (kernel context at boot). */
struct fs_struct *task_fs(struct task *t);
/* Replace cwd with p (takes a new reference). */
void fs_set_cwd(struct fs_struct *fs, const struct path *p);

#endif
