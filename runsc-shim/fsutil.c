#include "runsc-shim/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fsutil_write_atomic(const char *path, const void *data, size_t len,
			mode_t mode)
{
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path,
			     (int)getpid()) >= sizeof(tmp))
		return -ENAMETOOLONG;
	int fd = open(
	    tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	const char *p = data;
	size_t off = 0;
	while (off < len) {
		ssize_t n = write(fd, p + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			unlink(tmp);
			return -e;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		int e = errno;
		unlink(tmp);
		return -e;
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return -e;
	}
	return 0;
}

int fsutil_read_file(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((unsigned long long)st.st_size > max) {
		close(fd);
		return -EFBIG;
	}
	char *buf = malloc(max + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	size_t off = 0;
	for (;;) {
		if (off > max)
			break;
		ssize_t n = read(fd, buf + off, max + 1 - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		off += (size_t)n;
		if (off == max + 1)
			break;
	}
	close(fd);
	if (off > max) {
		free(buf);
		return -EFBIG;
	}
	buf[off] = '\0';
	*out = buf;
	if (len)
		*len = off;
	return 0;
}

int fsutil_remove_flat_dir(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (dfd < 0)
		return errno == ENOENT ? 0 : -errno;
	DIR *d = fdopendir(dfd);
	if (!d) {
		int e = errno;
		close(dfd);
		return -e;
	}
	int rc = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dfd, de->d_name, 0) < 0 && errno != ENOENT) {
			/* A stray subdirectory: try it as an empty dir. */
			if (errno != EISDIR ||
			    unlinkat(dfd, de->d_name, AT_REMOVEDIR) < 0)
				rc = -errno;
		}
	}
	closedir(d);
	if (rmdir(dir) < 0 && errno != ENOENT)
		return -errno;
	return rc;
}

int fsutil_abspath(const char *path, char **out)
{
	if (path[0] == '/') {
		*out = strdup(path);
		return *out ? 0 : -ENOMEM;
	}
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	if (asprintf(out, "%s/%s", strcmp(cwd, "/") ? cwd : "", path) < 0)
		return -ENOMEM;
	if (strlen(*out) >= PATH_MAX) {
		free(*out);
		*out = NULL;
		return -ENAMETOOLONG;
	}
	return 0;
}
