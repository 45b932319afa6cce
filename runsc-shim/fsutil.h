/* Small file helpers for the state directory: atomic replacement, bounded
 * reads, and removal of a flat directory. */
#ifndef SHIM_FSUTIL_H
#define SHIM_FSUTIL_H

#include <stddef.h>
#include <sys/types.h>

/* Replace path with data: written to a temporary file in the same directory,
 * fsync'd and renamed, so readers see the old or the new file, never half. */
int fsutil_write_atomic(const char *path, const void *data, size_t len,
			mode_t mode);
/* Read a regular file of at most max bytes into a NUL-terminated malloc'd
 * buffer. -EFBIG past max. */
int fsutil_read_file(const char *path, size_t max, char **out, size_t *len);
/* Remove every entry of dir (which holds no subdirectories) and dir itself.
 * A missing dir is success. */
int fsutil_remove_flat_dir(const char *dir);
/* Absolute form of path (relative to the cwd), without resolving symlinks;
 * malloc'd. */
int fsutil_abspath(const char *path, char **out);

#endif
