/* Character devices by number (Linux's chrdev regions): a driver
 * registers the file ops for a range of minors of one major, and opening a
 * character-device inode of any filesystem (tmpfs, the gofer's rootfs,
 * devfs's own nodes) finds them here. Registration happens at start-up,
 * before any guest runs; lookups take no lock. */
#ifndef BULKHEAD_CHRDEV_H
#define BULKHEAD_CHRDEV_H

#include <sys/types.h>

struct file;
struct file_ops;
struct inode;

/* Minors [minor_lo, minor_hi] of major: an open gets fops, or calls open
 * (when not NULL) to pick them. -EBUSY if the range overlaps one taken,
 * -ENOSPC when the table is full. */
int chrdev_register(unsigned major, unsigned minor_lo, unsigned minor_hi,
		    const struct file_ops *fops,
		    int (*open)(struct inode *inode, struct file *f));
/* Open a character-device inode: -ENXIO for a number nobody drives. */
int chrdev_open(struct inode *inode, struct file *f);

#endif
