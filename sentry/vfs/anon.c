/* The anonymous mount: inodes that have no name in the tree (pipes, the
 * sentry's host fds) still get a dentry and a mount, so that every struct
 * file has a path for /proc/pid/fd and reopening through it works. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sentry/kernel/task.h"

#include "sentry/vfs/fs.h"

static struct super_block anon_super = {
    .fstype = "anon",
    .dev = 0xd,
    .flags = SB_NOCACHE,
};
static struct mount anon_mount = {.sb = &anon_super, .source = "anon"};

struct super_block *anon_sb(void)
{
	return &anon_super;
}

int anon_path(struct inode *inode, const char *name, struct path *out)
{
	struct dentry *d = dentry_new(NULL, name, strlen(name), inode);
	if (!d)
		return -ENOMEM;
	*out = (struct path){&anon_mount, d};
	return 0;
}

int anon_file_new(const char *name, const struct file_ops *fops, void *priv,
		  int flags, struct file **out)
{
	struct inode *inode = inode_new(&anon_super, S_IRUSR | S_IWUSR);
	if (!inode)
		return -ENOMEM;
	inode->uid = task_fsuid(current);
	inode->gid = task_fsgid(current);
	char label[64];
	snprintf(label, sizeof(label), "anon_inode:%s", name);
	struct path path;
	int r = anon_path(inode, label, &path);
	if (r) {
		inode_put(inode);
		return r;
	}
	struct file *f = file_alloc(&path, inode, flags);
	path_put(&path);
	inode_put(inode);
	if (!f)
		return -ENOMEM;
	f->fops = fops;
	f->priv = priv;
	*out = f;
	return 0;
}

int64_t noop_llseek(struct file *f, int64_t off, int whence)
{
	(void)off, (void)whence;
	return (int64_t)f->pos;
}
