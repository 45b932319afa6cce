/* cwd/root/umask, shared between threads of a process (CLONE_FS). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "sentry/kernel/task.h"
#include "sentry/vfs/fs_struct.h"

struct fs_struct *task_fs(struct task *t)
{
	return t ? t->fs : NULL;
}

static struct fs_struct *fs_alloc(void)
{
	struct fs_struct *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return NULL;
	fs->refs = 1;
	kmutex_init(&fs->lock, "fs_struct", LR_FS);
	return fs;
}

struct fs_struct *fs_new_root(void)
{
	struct mount *m = mount_root();
	if (!m)
		return NULL;
	struct fs_struct *fs = fs_alloc();
	if (!fs)
		return NULL;
	fs->root = (struct path){m, m->root};
	fs->cwd = fs->root;
	path_get(&fs->root);
	path_get(&fs->cwd);
	fs->umask = 022;
	return fs;
}

struct fs_struct *fs_dup(struct fs_struct *old)
{
	struct fs_struct *fs = fs_alloc();
	if (!fs)
		return NULL;
	kmutex_lock(&old->lock);
	fs->root = old->root;
	fs->cwd = old->cwd;
	path_get(&fs->root);
	path_get(&fs->cwd);
	kmutex_unlock(&old->lock);
	fs->umask = atomic_load(&old->umask);
	return fs;
}

void fs_get(struct fs_struct *fs)
{
	atomic_fetch_add(&fs->refs, 1);
}

void fs_put(struct fs_struct *fs)
{
	if (!fs || atomic_fetch_sub(&fs->refs, 1) > 1)
		return;
	path_put(&fs->root);
	path_put(&fs->cwd);
	kmutex_destroy(&fs->lock);
	free(fs);
}

void fs_get_root(struct fs_struct *fs, struct path *out)
{
	kmutex_lock(&fs->lock);
	*out = fs->root;
	path_get(out);
	kmutex_unlock(&fs->lock);
}

void fs_get_cwd(struct fs_struct *fs, struct path *out)
{
	kmutex_lock(&fs->lock);
	*out = fs->cwd;
	path_get(out);
	kmutex_unlock(&fs->lock);
}

void fs_set_cwd(struct fs_struct *fs, const struct path *p)
{
	path_get(p);
	kmutex_lock(&fs->lock);
	struct path old = fs->cwd;
	fs->cwd = *p;
	kmutex_unlock(&fs->lock);
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
