/* Anonymous pipes: a ring buffer with two wait queues. */
#ifndef BULKHEAD_FS_PIPE_H
#define BULKHEAD_FS_PIPE_H

#include <stdbool.h>

#include "sentry/vfs/fs.h"

#define PIPE_DEF_SIZE (64u << 10)
#define PIPE_MAX_SIZE (1u << 20) /* like /proc/sys/fs/pipe-max-size */
#define PIPE_ATOMIC   4096	 /* PIPE_BUF */

/* pipe2(2): flags O_NONBLOCK and O_CLOEXEC's sibling bits already
 * checked by the caller; only O_NONBLOCK matters here. */
int pipe_create(int flags, struct file **rd, struct file **wr);
bool file_is_pipe(struct file *f);
/* Open of a FIFO inode of any filesystem (the VFS calls it for every
 * S_IFIFO inode): its pipe, made at the first open; a reader waits for a
 * writer and a writer for a reader unless O_NONBLOCK (a writer then gets
 * -ENXIO) or O_RDWR. Sets f->fops. */
int fifo_open(struct task *t, struct inode *inode, struct file *f);
/* The inode is freed: its pipe too. */
void pipe_inode_free(struct inode *inode);
/* F_GETPIPE_SZ / F_SETPIPE_SZ; -EBADF if f is not a pipe. */
long pipe_get_size(struct file *f);
long pipe_set_size(struct file *f, unsigned long size);

#endif
