/* Per-process root, cwd and umask (Linux struct fs_struct), shared by
 * CLONE_FS. */
#ifndef BULKHEAD_VFS_FS_STRUCT_H
#define BULKHEAD_VFS_FS_STRUCT_H

#include "sentry/vfs/fs.h"

struct fs_struct {
	_Atomic int refs;
	struct kmutex lock;    /* a spin lock: root, cwd */
	struct path root, cwd; /* references held */
	_Atomic mode_t umask;
};

/* The task's fs_struct, or NULL (kernel context at boot). */
struct fs_struct *task_fs(struct task *t);
/* Replace cwd with p (takes a new reference). */
void fs_set_cwd(struct fs_struct *fs, const struct path *p);
/* Copies of root and cwd, with references (the caller puts them). */
void fs_get_root(struct fs_struct *fs, struct path *out);
void fs_get_cwd(struct fs_struct *fs, struct path *out);

#endif
