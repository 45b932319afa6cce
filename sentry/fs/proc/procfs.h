/* procfs: /proc generated from the guest kernel's structures. File contents
 * are rendered when the file is opened, each from one pass under tasklist,
 * so one read sequence sees one snapshot (maps excepted: it is rendered
 * as it is read, as Linux's seq_file). */
#ifndef BULKHEAD_FS_PROCFS_H
#define BULKHEAD_FS_PROCFS_H

#include "sentry/vfs/fs.h"
#include "sentry/vfs/fstype.h"

#ifndef BH_UTS_RELEASE
#define BH_UTS_RELEASE "6.1.0-bulkhead" /* = BH_UNAME_RELEASE (sys_misc) */
#endif

/* A new procfs instance (call at boot: it samples the host CPU count). */
int procfs_new(struct super_block **sbp, struct dentry **rootp);
/* "proc" in the filesystem-type table. */
extern const struct fs_type procfs_type;

/* A file of /proc/net (a network family's table, at boot): render puts
 * its text in a malloc'd *out and returns the length, or -errno. */
int proc_net_register(const char *name, long (*render)(char **out));

struct process;
/* Renderers of /proc/<pid>[/task/<tid>]/{status,stat} (tid 0: the
 * process), exposed for unit tests. p is held by the caller; they take
 * tasklist. Return the length written into a malloc'd buffer in *out, or
 * a negative errno (-ESRCH once p or the thread is gone). */
long procfs_render_status(struct process *p, int tid, char **out);
long procfs_render_stat(struct process *p, int tid, char **out);

#endif
