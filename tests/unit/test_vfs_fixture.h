/* A booted VFS for unit tests: tmpfs root, /proc, /dev, a tmpfs at /mnt,
 * a read-only tmpfs at /ro, and one process (pid 1, root) with a task. */
#ifndef BH_TEST_VFS_FIXTURE_H
#define BH_TEST_VFS_FIXTURE_H

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/fs/dev/devfs.h"
#include "sentry/fs/proc/procfs.h"
#include "sentry/fs/tmpfs/tmpfs.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/vfs/fs_struct.h"
#include "tests/unit/test_vfs_stubs.h"

static struct process fx_proc;
/* The task's own fields (cred, files, fs) are set in fx_boot. */
static struct task fx_task;
static struct mm fx_mm;

static void fx_mount(struct task *t, const char *dest, struct super_block *sb,
		     struct dentry *root, bool ro)
{
	SC2(t, "mkdir", dest, 0755);
	struct path mp;
	if (vfs_lookup(t, AT_FDCWD, dest, LOOKUP_FOLLOW, &mp))
		abort();
	struct mount *m = mount_new(sb, root, "test", ro);
	mount_attach(m, &mp);
	path_put(&mp);
}

static void fx_boot(void)
{
	struct super_block *sb;
	struct dentry *root;
	if (tmpfs_new(0, 0755, 0, 0, &sb, &root))
		abort();
	mount_set_root(mount_new(sb, root, "rootfs", false));

	struct process *p = &fx_proc;
	p->pid = p->pgid = p->sid = 1;
	p->nthreads = 1;
	list_init(&p->children);
	list_init(&p->threads);
	list_init(&p->shared_pending.queue);
	strcpy(p->comm, "init");
	/* root with every capability, as the sandbox's init usually is */
	fx_task.cred.cap_eff = fx_task.cred.cap_prm = fx_task.cred.cap_bnd =
	    ~0ull;
	fx_task.files = fdtable_new();
	p->mm = &fx_mm;
	fx_task.fs = fs_new_root();
	p->refs = 1;
	for (int i = 0; i < RLIM_NLIMITS; i++)
		p->rlimits[i] = (struct rlimit){1024, 1024};
	list_add_tail(&p->all_node, &kernel.processes);
	fx_task.tid = 1;
	fx_task.proc = p;
	list_init(&fx_task.pending.queue);
	list_add_tail(&fx_task.thread_node, &p->threads);
	current = &fx_task;
	struct task *t = &fx_task;

	if (procfs_new(&sb, &root))
		abort();
	fx_mount(t, "/proc", sb, root, false);
	int dr = devfs_init(); /* once per process: -EBUSY after */
	if ((dr && dr != -EBUSY) || tmpfs_new(0, 0755, 0, 0, &sb, &root) ||
	    devfs_populate(root->inode))
		abort();
	fx_mount(t, "/dev", sb, root, false);
	if (tmpfs_new(1 << 20, 01777, 0, 0, &sb, &root))
		abort();
	fx_mount(t, "/mnt", sb, root, false);
	if (tmpfs_new(0, 0755, 0, 0, &sb, &root))
		abort();
	fx_mount(t, "/ro", sb, root, true);
}

#endif
