#include "gofer/fsutil.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "gofer/nodefd.h"

int gofer_fs_openat(int dirfd, const char *name, int flags, unsigned mode)
{
	static int no_openat2;
	flags |= O_CLOEXEC | O_NOFOLLOW;
	if (!no_openat2) {
		struct open_how how = {
		    .flags = (uint64_t)(unsigned)flags,
		    .mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0,
		    .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			       RESOLVE_NO_MAGICLINKS};
		long fd = syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if (errno != ENOSYS)
			return -errno;
		no_openat2 = 1;
	}
	int fd = openat(dirfd, name, flags, mode);
	return fd < 0 ? -errno : fd;
}

static int reopen_file(struct gofer_node_table *t,
		       const struct gofer_export *exports, struct gofer_node *n,
		       int flags)
{
	int acc = flags & O_ACCMODE;
	if (n->is_root) {
		const struct gofer_export *e = &exports[n->export];
		int src = acc == O_RDONLY ? e->file_ro_fd : e->file_rw_fd;
		if (src < 0)
			return e->ro ? -EROFS : -EACCES;
		unsigned tries = 0;
		int fd;
		do {
			fd = fcntl(src, F_DUPFD_CLOEXEC, 0);
			if (fd < 0)
				fd = -errno;
		} while (gofer_node_shed(t, fd, &tries));
		return fd;
	}
	if (!n->parent)
		return -ESTALE;
	int pfd = gofer_node_fd(t, n->parent);
	if (pfd < 0)
		return pfd;
	/* O_NONBLOCK and O_NOCTTY: if something else was swapped in under the
	 * name, opening it must neither hang (fifo) nor acquire a tty before
	 * the inode check below rejects it. */
	int fd = gofer_node_openat(t, pfd, n->name,
				   flags | O_NONBLOCK | O_NOCTTY, 0);
	if (fd < 0)
		return fd == -ELOOP ? -ESTALE : fd;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_dev != n->dev || (uint64_t)st.st_ino != n->ino) {
		close(fd);
		return -ESTALE;
	}
	if (!(flags & O_NONBLOCK) &&
	    fcntl(fd, F_SETFL, flags & ~(O_ACCMODE | O_NONBLOCK)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int gofer_fs_reopen(struct gofer_node_table *t,
		    const struct gofer_export *exports, struct gofer_node *n,
		    int flags)
{
	switch (n->type) {
	case S_IFREG:
		return reopen_file(t, exports, n, flags);
	case S_IFDIR: {
		if ((flags & O_ACCMODE) != O_RDONLY)
			return -EISDIR;
		int nfd = gofer_node_fd(t, n);
		if (nfd < 0)
			return nfd;
		return gofer_node_openat(
		    t, nfd, ".", O_RDONLY | O_DIRECTORY | (flags & O_NONBLOCK),
		    0);
	}
	case S_IFLNK:
		return -ELOOP;
	default:
		return -EPERM;
	}
}

void gofer_fs_attr(const struct stat *st, struct gp_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = st->st_ino;
	a->dev = st->st_dev;
	a->size = (uint64_t)st->st_size;
	a->blocks = (uint64_t)st->st_blocks;
	a->atime_sec = st->st_atim.tv_sec;
	a->mtime_sec = st->st_mtim.tv_sec;
	a->ctime_sec = st->st_ctim.tv_sec;
	a->atime_nsec = (uint32_t)st->st_atim.tv_nsec;
	a->mtime_nsec = (uint32_t)st->st_mtim.tv_nsec;
	a->ctime_nsec = (uint32_t)st->st_ctim.tv_nsec;
	a->mode = st->st_mode;
	a->nlink = (uint32_t)st->st_nlink;
	a->uid = st->st_uid;
	a->gid = st->st_gid;
	a->rdev_major = major(st->st_rdev);
	a->rdev_minor = minor(st->st_rdev);
	a->blksize = (uint32_t)st->st_blksize;
}
