/* The anonymous mount: inodes that have no name in the tree (pipes, the
 * sentry's host fds) still get a dentry and a mount, so that every struct
 * file has a path for /proc/pid/fd and reopening through it works. */
#include <errno.h>
#include <string.h>

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
