/* cwd/root/umask, shared between threads of a process (CLONE_FS). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "sentry/kernel/task.h"
#include "sentry/vfs/fs_struct.h"

struct fs_struct *task_fs(struct task *t)
{
	return t && t->proc ? t->proc->fs : NULL;
}

struct fs_struct *fs_new_root(void)
{
	struct mount *m = mount_root();
	if (!m)
		return NULL;
	struct fs_struct *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return NULL;
	fs->refs = 1;
	fs->root = (struct path){m, m->root};
	fs->cwd = fs->root;
	path_get(&fs->root);
	path_get(&fs->cwd);
	fs->umask = 022;
	return fs;
}

struct fs_struct *fs_dup(struct fs_struct *old)
{
	struct fs_struct *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return NULL;
	fs->refs = 1;
	fs->root = old->root;
	fs->cwd = old->cwd;
	path_get(&fs->root);
	path_get(&fs->cwd);
	fs->umask = old->umask;
	return fs;
}

void fs_get(struct fs_struct *fs)
{
	fs->refs++;
}

void fs_put(struct fs_struct *fs)
{
	if (!fs || --fs->refs > 0)
		return;
	path_put(&fs->root);
	path_put(&fs->cwd);
	free(fs);
}

void fs_set_cwd(struct fs_struct *fs, const struct path *p)
{
	struct path old = fs->cwd;
	path_get(p);
	fs->cwd = *p;
	path_put(&old);
}

int fs_chdir_path(struct task *t, const char *path)
{
	struct fs_struct *fs = task_fs(t);
	if (!fs)
		return -EINVAL;
	struct path p;
	int r =
	    vfs_lookup(t, AT_FDCWD, path, LOOKUP_FOLLOW | LOOKUP_DIRECTORY, &p);
	if (r)
		return r;
	r = inode_permission(t, p.dentry->inode, MAY_EXEC);
	if (!r)
		fs_set_cwd(fs, &p);
	path_put(&p);
	return r;
}
