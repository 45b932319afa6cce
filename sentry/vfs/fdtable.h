/* fd table internals beyond vfs.h: close-on-exec bits and iteration (for
 * fcntl and /proc/pid/fd). */
#ifndef BULKHEAD_VFS_FDTABLE_H
#define BULKHEAD_VFS_FDTABLE_H

#include <stdbool.h>

#include "sentry/vfs/vfs.h"

#define FD_NR_OPEN (1 << 20) /* hard cap, like fs.nr_open */

/* 0/1 or -EBADF. */
int fd_get_cloexec(struct fdtable *fdt, int fd);
int fd_set_cloexec(struct fdtable *fdt, int fd, bool on);
/* The lowest open fd >= from, or -1. */
int fdtable_next(struct fdtable *fdt, int from);
/* Open fds, and the highest one in *highest (-1 if none). */
int fdtable_count(struct fdtable *fdt, int *highest);
/* The soft RLIMIT_NOFILE of the current task (FD_MAX_DEFAULT without). */
unsigned long fd_limit(void);
/* Close fds in [lo, hi] (close_range); cloexec_only marks them instead. */
void fd_close_range(struct fdtable *fdt, unsigned lo, unsigned hi,
		    bool cloexec_only);

#endif
