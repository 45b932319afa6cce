/* procfs: /proc generated from the guest kernel's structures. File contents
 * are rendered when the file is opened (kernel_lock held), so one read
 * sequence sees one consistent snapshot. */
#ifndef BULKHEAD_FS_PROCFS_H
#define BULKHEAD_FS_PROCFS_H

#include "sentry/vfs/fs.h"

#ifndef BH_UTS_RELEASE
#define BH_UTS_RELEASE "6.1.0-bulkhead" /* = BH_UNAME_RELEASE (sys_misc) */
#endif

/* A new procfs instance (call at boot: it samples the host CPU count). */
int procfs_new(struct super_block **sbp, struct dentry **rootp);

struct process;
/* Renderers, exposed for unit tests. Return the length written into a
 * malloc'd buffer in *out, or a negative errno. */
long procfs_render_status(struct process *p, struct task *tk, char **out);
long procfs_render_stat(struct process *p, struct task *tk, char **out);

#endif
