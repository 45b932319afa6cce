/* The character-device table: a few dozen entries at most, scanned. */
#include "sentry/vfs/chrdev.h"

#include <errno.h>
#include <stddef.h>
#include <sys/sysmacros.h>

#include "sentry/vfs/fs.h"

#define CHRDEV_MAX 64

struct chrdev {
	unsigned major, lo, hi;
	const struct file_ops *fops;
	int (*open)(struct inode *inode, struct file *f);
};

/* Written only before the guest starts (single-threaded boot). */
static struct chrdev table[CHRDEV_MAX];
static int ntable;

int chrdev_register(unsigned major, unsigned minor_lo, unsigned minor_hi,
		    const struct file_ops *fops,
		    int (*open)(struct inode *inode, struct file *f))
{
	if (minor_lo > minor_hi || (!fops && !open))
		return -EINVAL;
	for (int i = 0; i < ntable; i++)
		if (table[i].major == major && minor_lo <= table[i].hi &&
		    table[i].lo <= minor_hi)
			return -EBUSY;
	if (ntable == CHRDEV_MAX)
		return -ENOSPC;
	table[ntable++] =
	    (struct chrdev){major, minor_lo, minor_hi, fops, open};
	return 0;
}

int chrdev_open(struct inode *inode, struct file *f)
{
	unsigned ma = major(inode->rdev), mi = minor(inode->rdev);
	for (int i = 0; i < ntable; i++) {
		const struct chrdev *c = &table[i];
		if (c->major != ma || mi < c->lo || mi > c->hi)
			continue;
		if (c->open)
			return c->open(inode, f);
		f->fops = c->fops;
		return 0;
	}
	return -ENXIO;
}
