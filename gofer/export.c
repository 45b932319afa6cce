#include "gofer/export.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

int gofer_export_open(struct gofer_export *e, const char *path, bool ro)
{
	e->ro = ro;
	e->file_ro_fd = e->file_rw_fd = -1;
	/* Following links here is deliberate: the path comes from the host's
	 * config, resolved before any guest code runs. */
	e->fd = open(path, O_PATH | O_CLOEXEC);
	if (e->fd < 0)
		return -errno;
	struct stat st;
	if (fstat(e->fd, &st) < 0) {
		int r = -errno;
		gofer_export_close(e);
		return r;
	}
	if (!S_ISREG(st.st_mode))
		return 0;
	/* An O_PATH fd cannot be reopened without /proc: open the path again
	 * and check that it is still the same inode. */
	e->file_ro_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (!ro)
		e->file_rw_fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY);
	struct stat s2;
	if (e->file_ro_fd < 0 || fstat(e->file_ro_fd, &s2) < 0 ||
	    s2.st_dev != st.st_dev || s2.st_ino != st.st_ino) {
		gofer_export_close(e);
		return -ESTALE;
	}
	if (e->file_rw_fd >= 0 &&
	    (fstat(e->file_rw_fd, &s2) < 0 || s2.st_dev != st.st_dev ||
	     s2.st_ino != st.st_ino)) {
		close(e->file_rw_fd);
		e->file_rw_fd = -1;
	}
	return 0;
}

void gofer_export_close(struct gofer_export *e)
{
	if (e->fd >= 0)
		close(e->fd);
	if (e->file_ro_fd >= 0)
		close(e->file_ro_fd);
	if (e->file_rw_fd >= 0)
		close(e->file_rw_fd);
	e->fd = e->file_ro_fd = e->file_rw_fd = -1;
}
