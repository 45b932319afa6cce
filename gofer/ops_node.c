/* Handlers that act on one existing node: ATTACH, WALK, STAT, OPEN,
 * READLINK, SETATTR, STATFS, CLOSE. */
#include "gofer/ops.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gofer/fsutil.h"
#include "gofer/nodefd.h"

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452
#endif

static int node_stat(struct gofer_server *s, struct gofer_node *n,
		     struct gp_attr *a)
{
	int fd = gofer_node_fd(&s->nodes, n);
	if (fd < 0)
		return fd;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	gofer_fs_attr(&st, a);
	return 0;
}

int gofer_op_attach(struct gofer_server *s, struct gp_buf *req,
		    struct gp_buf *resp, int *fd)
{
	(void)fd;
	struct gp_attach_req q;
	gp_get(req, &q, sizeof(q));
	int r = gofer_op_req_done(req);
	if (r)
		return r;
	if (q.export_idx >= s->nexports)
		return -ENOENT;
	const struct gofer_export *e = &s->exports[q.export_idx];
	struct stat st;
	if (fstat(e->fd, &st) < 0)
		return -errno;
	/* The root borrows the export's fd: however often the sentry
	 * attaches, roots cost no fds, and every reopen has an anchor. */
	struct gofer_node *n;
	r = gofer_node_new(&s->nodes, e->fd, q.export_idx, &st, NULL, NULL,
			   true, &n);
	if (r)
		return r;
	struct gp_node_resp o = {.node = n->id, .export_ro = e->ro};
	gofer_fs_attr(&st, &o.attr);
	gp_put(resp, &o, sizeof(o));
	return 0;
}

int gofer_op_walk(struct gofer_server *s, struct gp_buf *req,
		  struct gp_buf *resp, int *fd)
{
	(void)fd;
	struct gp_walk_req q;
	char names[GP_WALK_MAX][GP_NAME_MAX + 1];
	gp_get(req, &q, sizeof(q));
	if (!req->err && (q.nnames == 0 || q.nnames > GP_WALK_MAX))
		return -EINVAL;
	for (uint32_t i = 0; i < q.nnames && !req->err; i++)
		gp_get_str(req, names[i], sizeof(names[i]), GP_NAME_MAX);
	int r = gofer_op_req_done(req);
	if (r)
		return r;
	for (uint32_t i = 0; i < q.nnames; i++)
		if (!gp_name_valid(names[i]))
			return -EINVAL;
	struct gofer_node *cur;
	r = gofer_op_node(s, q.node, &cur);
	if (r)
		return r;

	struct gp_walk_ent ents[GP_WALK_MAX];
	struct gp_walk_resp w = {0};
	for (uint32_t i = 0; i < q.nnames; i++) {
		int nfd = gofer_node_fd(&s->nodes, cur);
		if (nfd >= 0)
			nfd = gofer_node_openat(&s->nodes, nfd, names[i],
						O_PATH, 0);
		struct stat st;
		if (nfd >= 0 && fstat(nfd, &st) < 0) {
			r = -errno;
			close(nfd);
			nfd = r;
		}
		struct gofer_node *n = NULL;
		r = nfd < 0 ? nfd
			    : gofer_node_new(&s->nodes, nfd, cur->export, &st,
					     cur, names[i], false, &n);
		if (r) {
			if (i == 0)
				return r;
			w.stop_err = r;
			break;
		}
		ents[i].node = n->id;
		gofer_fs_attr(&st, &ents[i].attr);
		w.nwalked++;
		cur = n;
		if (S_ISLNK(st.st_mode))
			break;
	}
	gp_put(resp, &w, sizeof(w));
	gp_put(resp, ents, w.nwalked * sizeof(ents[0]));
	return 0;
}

int gofer_op_stat(struct gofer_server *s, struct gp_buf *req,
		  struct gp_buf *resp, int *fd)
{
	(void)fd;
	struct gofer_node *n;
	int r = gofer_op_node_req(s, req, &n);
	struct gp_attr_resp o;
	if (!r)
		r = node_stat(s, n, &o.attr);
	if (!r)
		gp_put(resp, &o, sizeof(o));
	return r;
}

/* Status flags the sentry may ask for; the rest is the sentry's business
 * or meaningless for a donated fd. */
#define OPEN_KEEP                                                              \
	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT |     \
	 O_NOATIME | O_LARGEFILE)

int gofer_op_open(struct gofer_server *s, struct gp_buf *req,
		  struct gp_buf *resp, int *fd)
{
	struct gp_open_req q;
	struct gofer_node *n;
	gp_get(req, &q, sizeof(q));
	int r = gofer_op_req_done(req);
	if (!r)
		r = gofer_op_node(s, q.node, &n);
	if (r)
		return r;
	int flags = (int)q.flags;
	int acc = flags & O_ACCMODE;
	if ((flags &
	     (O_CREAT | O_EXCL | O_PATH | (O_TMPFILE & ~O_DIRECTORY))) ||
	    acc == O_ACCMODE)
		return -EINVAL;
	if ((acc != O_RDONLY || (flags & O_TRUNC)) && s->exports[n->export].ro)
		return -EROFS;
	if ((flags & O_DIRECTORY) && n->type != S_IFDIR)
		return -ENOTDIR;
	if (n->type == S_IFDIR && (flags & O_TRUNC))
		return -EISDIR;
	int ofd = gofer_fs_reopen(&s->nodes, s->exports, n, flags & OPEN_KEEP);
	if (ofd < 0)
		return ofd;
	/* Truncation only after the reopen proved it is the node's inode. */
	struct stat st;
	if (((flags & O_TRUNC) && ftruncate(ofd, 0) < 0) ||
	    fstat(ofd, &st) < 0) {
		r = -errno;
		close(ofd);
		return r;
	}
	struct gp_open_resp o = {.has_fd = 1};
	gofer_fs_attr(&st, &o.attr);
	gp_put(resp, &o, sizeof(o));
	*fd = ofd;
	return 0;
}

int gofer_op_readlink(struct gofer_server *s, struct gp_buf *req,
		      struct gp_buf *resp, int *fd)
{
	(void)fd;
	struct gofer_node *n;
	int r = gofer_op_node_req(s, req, &n);
	if (r)
		return r;
	if (n->type != S_IFLNK)
		return -EINVAL;
	int nfd = gofer_node_fd(&s->nodes, n);
	if (nfd < 0)
		return nfd;
	char buf[GP_PATH_MAX + 1];
	ssize_t len = readlinkat(nfd, "", buf, sizeof(buf));
	if (len < 0)
		return -errno;
	if ((size_t)len > GP_PATH_MAX)
		return -ENAMETOOLONG;
	struct gp_readlink_resp o = {0};
	gp_put(resp, &o, sizeof(o));
	gp_put_str(resp, buf, (size_t)len);
	return 0;
}

static int set_mode(struct gofer_server *s, struct gofer_node *n, int nfd,
		    uint32_t mode)
{
	if (mode & ~07777u)
		return -EINVAL;
	if (n->type == S_IFLNK)
		return -EOPNOTSUPP;
	if (syscall(SYS_fchmodat2, nfd, "", mode, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOSYS)
		return -errno;
	/* Kernels before 6.6: fchmod needs a real fd, not O_PATH. */
	int fd = gofer_fs_reopen(&s->nodes, s->exports, n, O_RDONLY);
	if (fd < 0)
		return fd;
	int r = fchmod(fd, mode) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int set_size(struct gofer_server *s, struct gofer_node *n, uint64_t size)
{
	if (n->type == S_IFDIR)
		return -EISDIR;
	if (n->type != S_IFREG)
		return -EINVAL;
	if (size > INT64_MAX)
		return -EINVAL;
	int fd = gofer_fs_reopen(&s->nodes, s->exports, n, O_WRONLY);
	if (fd < 0)
		return fd;
	int r = ftruncate(fd, (off_t)size) < 0 ? -errno : 0;
	close(fd);
	return r;
}

static int time_valid(uint32_t nsec)
{
	return nsec < 1000000000u || nsec == UTIME_NOW || nsec == UTIME_OMIT;
}

#define SETATTR_ALL                                                            \
	(GP_SET_MODE | GP_SET_SIZE | GP_SET_ATIME | GP_SET_MTIME |             \
	 GP_SET_UID | GP_SET_GID)

int gofer_op_setattr(struct gofer_server *s, struct gp_buf *req,
		     struct gp_buf *resp, int *fd)
{
	(void)fd;
	struct gp_setattr_req q;
	struct gofer_node *n;
	gp_get(req, &q, sizeof(q));
	int r = gofer_op_req_done(req);
	if (!r)
		r = gofer_op_node(s, q.node, &n);
	if (r)
		return r;
	if (q.mask & ~(uint32_t)SETATTR_ALL)
		return -EINVAL;
	if (q.mask && s->exports[n->export].ro)
		return -EROFS;
	if (((q.mask & GP_SET_ATIME) && !time_valid(q.atime_nsec)) ||
	    ((q.mask & GP_SET_MTIME) && !time_valid(q.mtime_nsec)))
		return -EINVAL;
	int nfd = gofer_node_fd(&s->nodes, n);
	if (nfd < 0)
		return nfd;
	/* Linux's order: owner first (it clears set-id bits), then mode, size,
	 * and times last so that truncation does not overwrite them. */
	if (q.mask & (GP_SET_UID | GP_SET_GID)) {
		uid_t uid = (q.mask & GP_SET_UID) ? q.uid : (uid_t)-1;
		gid_t gid = (q.mask & GP_SET_GID) ? q.gid : (gid_t)-1;
		if (fchownat(nfd, "", uid, gid,
			     AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	if ((q.mask & GP_SET_MODE) && (r = set_mode(s, n, nfd, q.mode)))
		return r;
	if ((q.mask & GP_SET_SIZE) && (r = set_size(s, n, q.size)))
		return r;
	if (q.mask & (GP_SET_ATIME | GP_SET_MTIME)) {
		struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
		if (q.mask & GP_SET_ATIME)
			ts[0] = (struct timespec){q.atime_sec, q.atime_nsec};
		if (q.mask & GP_SET_MTIME)
			ts[1] = (struct timespec){q.mtime_sec, q.mtime_nsec};
		if (utimensat(nfd, "", ts,
			      AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
			return -errno;
	}
	struct gp_attr_resp o;
	r = node_stat(s, n, &o.attr);
	if (!r)
		gp_put(resp, &o, sizeof(o));
	return r;
}

int gofer_op_statfs(struct gofer_server *s, struct gp_buf *req,
		    struct gp_buf *resp, int *fd)
{
	(void)fd;
	struct gofer_node *n;
	int r = gofer_op_node_req(s, req, &n);
	if (r)
		return r;
	int nfd = gofer_node_fd(&s->nodes, n);
	if (nfd < 0)
		return nfd;
	struct statfs sf;
	if (fstatfs(nfd, &sf) < 0)
		return -errno;
	struct gp_statfs_resp o = {
	    .type = (uint64_t)sf.f_type,
	    .bsize = (uint64_t)sf.f_bsize,
	    .blocks = sf.f_blocks,
	    .bfree = sf.f_bfree,
	    .bavail = sf.f_bavail,
	    .files = sf.f_files,
	    .ffree = sf.f_ffree,
	    .namelen = (uint64_t)sf.f_namelen,
	    .frsize = (uint64_t)sf.f_frsize,
	};
	gp_put(resp, &o, sizeof(o));
	return 0;
}

int gofer_op_close(struct gofer_server *s, struct gp_buf *req,
		   struct gp_buf *resp, int *fd)
{
	(void)fd;
	(void)resp;
	struct gofer_node *n;
	int r = gofer_op_node_req(s, req, &n);
	if (!r)
		gofer_node_close(&s->nodes, n);
	return r;
}
