/* An export: the container rootfs (index 0) or a bind mount (index i, the
 * i-th --mount), opened before confinement. */
#ifndef GOFER_EXPORT_H
#define GOFER_EXPORT_H

#include <stdbool.h>
#include <stdint.h>

#define GOFER_EXPORT_MAX 256

struct gofer_export {
	int fd; /* O_PATH of the root (a directory or a single file) */
	bool ro;
	/* A single-file export cannot be reopened by name (its parent is
	 * outside the export), so it is opened for I/O up front and dup'ed:
	 * the dups share one open file description, so the sentry must use
	 * pread/pwrite on them. -1 when not a regular file / not writable. */
	int file_ro_fd;
	int file_rw_fd;
};

/* Opens path as an export. Returns 0 or a negative errno. */
int gofer_export_open(struct gofer_export *e, const char *path, bool ro);
void gofer_export_close(struct gofer_export *e);

#endif
