/* /dev: character devices (null, zero, full, random, urandom, tty) and the
 * standard links, populated into a tmpfs mounted at /dev. */
#ifndef BULKHEAD_FS_DEVFS_H
#define BULKHEAD_FS_DEVFS_H

#include "sentry/vfs/fs.h"

/* Register the devices in the char-device table (vfs/chrdev.h). */
int devfs_init(void);
/* Fill the root of a tmpfs with the device nodes and links. */
int devfs_populate(struct inode *root);

#endif
