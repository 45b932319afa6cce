/* Handlers that act on a directory's entries: CREATE, MKDIR, SYMLINK, LINK,
 * UNLINK, RENAME, GETDENTS. Each name is one validated component resolved
 * under the directory node's fd, so nothing here can reach outside it. */
#include "gofer/ops.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gofer/fsutil.h"
#include "gofer/nodefd.h"

/* Decodes a name and checks it once the whole request is decoded. */
static int get_name_done(struct gp_buf *req, char *name)
{
	gp_get_str(req, name, GP_NAME_MAX + 1, GP_NAME_MAX);
	int r = gofer_op_req_done(req);
	if (r)
		return r;
	return gp_name_valid(name) ? 0 : -EINVAL;
}

/* Adds a node for dir/name (dfd is dir's fd) of type want_type, and puts
 * the standard node response. */
static int new_child(struct gofer_server *s, struct gofer_node *dir, int dfd,
		     const char *name, uint32_t want_type, struct gp_buf *resp,
		     struct gofer_node **out, struct stat *st)
{
	int pfd = gofer_node_openat(&s->nodes, dfd, name, O_PATH, 0);
	if (pfd < 0)
		return pfd;
	if (fstat(pfd, st) < 0 || (st->st_mode & S_IFMT) != want_type) {
		close(pfd);
		return -ESTALE;
	}
	struct gofer_node *n;
	int r = gofer_node_new(&s->nodes, pfd, dir->export, st, dir, name,
			       false, &n);
	if (r)
		return r;
	if (resp) {
		struct gp_node_resp o = {.node = n->id};
		gofer_fs_attr(st, &o.attr);
		gp_put(resp, &o, sizeof(o));
	}
	if (out)
		*out = n;
	return 0;
}

#define CREATE_KEEP                                                            \
	(O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT |     \
	 O_NOATIME | O_LARGEFILE)

static int create_open(struct gofer_server *s, int dfd, const char *name,
		       const struct gp_create_req *q, bool *created)
{
	int keep = ((int)q->flags & CREATE_KEEP) | O_NONBLOCK | O_NOCTTY;
	int fd = gofer_node_openat(&s->nodes, dfd, name,
				   keep | O_CREAT | O_EXCL, q->mode & 07777);
	*created = fd >= 0;
	/* Creating exclusively first tells us whether the owner must be set;
	 * O_NONBLOCK keeps a fifo found under the name from hanging us. */
	if (fd == -EEXIST && !(q->flags & O_EXCL))
		fd = gofer_node_openat(&s->nodes, dfd, name, keep, 0);
	if (fd < 0)
		return fd;
	struct stat st;
	int r = 0;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (S_ISDIR(st.st_mode))
		r = -EISDIR;
	else if (!S_ISREG(st.st_mode))
		r = -EPERM;
	else if (*created && fchown(fd, q->uid, q->gid) < 0)
		r = -errno;
	else if (!*created && (q->flags & O_TRUNC) && ftruncate(fd, 0) < 0)
		r = -errno;
	else if (!(q->flags & O_NONBLOCK) &&
		 fcntl(fd, F_SETFL, (int)q->flags & CREATE_KEEP & ~O_ACCMODE) <
		     0)
		r = -errno;
	if (r) {
		if (*created)
			unlinkat(dfd, name, 0);
		close(fd);
		return r;
	}
	return fd;
}

int gofer_op_create(struct gofer_server *s, struct gp_buf *req,
		    struct gp_buf *resp, int *fd)
{
	struct gp_create_req q;
	char name[GP_NAME_MAX + 1];
	struct gofer_node *dir;
	int dfd;
	gp_get(req, &q, sizeof(q));
	int r = get_name_done(req, name);
	if (!r)
		r = gofer_op_wdir(s, q.dir, &dir, &dfd);
	if (r)
		return r;
	if ((q.flags & O_ACCMODE) == O_ACCMODE ||
	    (q.flags & (O_PATH | O_TMPFILE | O_DIRECTORY)) ||
	    ((q.mode & S_IFMT) && (q.mode & S_IFMT) != S_IFREG))
		return -EINVAL;
	bool created;
	int ofd = create_open(s, dfd, name, &q, &created);
	if (ofd < 0)
		return ofd;
	struct gofer_node *n;
	struct stat st;
	r = new_child(s, dir, dfd, name, S_IFREG, NULL, &n, &st);
	struct stat ost;
	if (!r && (fstat(ofd, &ost) < 0 || ost.st_ino != st.st_ino ||
		   ost.st_dev != st.st_dev)) {
		gofer_node_close(&s->nodes, n);
		r = -ESTALE;
	}
	if (r) {
		close(ofd);
		return r;
	}
	struct gp_create_resp o = {.node = n->id, .has_fd = 1};
	gofer_fs_attr(&ost, &o.attr);
	gp_put(resp, &o, sizeof(o));
	*fd = ofd;
	return 0;
}

int gofer_op_mkdir(struct gofer_server *s, struct gp_buf *req,
		   struct gp_buf *resp, int *fd)
{
	(void)fd;
	struct gp_mkdir_req q;
	char name[GP_NAME_MAX + 1];
	struct gofer_node *dir;
	int dfd;
	gp_get(req, &q, sizeof(q));
	int r = get_name_done(req, name);
	if (!r)
		r = gofer_op_wdir(s, q.dir, &dir, &dfd);
	if (r)
		return r;
	if ((q.mode & S_IFMT) && (q.mode & S_IFMT) != S_IFDIR)
		return -EINVAL;
	if (mkdirat(dfd, name, q.mode & 07777) < 0)
		return -errno;
	struct gofer_node *n;
	struct stat st;
	r = new_child(s, dir, dfd, name, S_IFDIR, NULL, &n, &st);
	/* A new node's fd stays open for the request. */
	if (!r && fchownat(n->fd, "", q.uid, q.gid, AT_EMPTY_PATH) < 0) {
		r = -errno;
		gofer_node_close(&s->nodes, n);
	}
	if (r) {
		unlinkat(dfd, name, AT_REMOVEDIR);
		return r;
	}
	struct gp_node_resp o = {.node = n->id};
	if (fstat(n->fd, &st) == 0)
		gofer_fs_attr(&st, &o.attr);
	gp_put(resp, &o, sizeof(o));
	return 0;
}

int gofer_op_mknod(struct gofer_server *s, struct gp_buf *req,
		   struct gp_buf *resp, int *fd)
{
	(void)fd;
	struct gp_mkdir_req q;
	char name[GP_NAME_MAX + 1];
	struct gofer_node *dir;
	int dfd;
	gp_get(req, &q, sizeof(q));
	int r = get_name_done(req, name);
	if (!r)
		r = gofer_op_wdir(s, q.dir, &dir, &dfd);
	if (r)
		return r;
	mode_t type = q.mode & S_IFMT;
	if (type != S_IFIFO && type != S_IFSOCK)
		return -EPERM;
	if (mknodat(dfd, name, type | (q.mode & 07777), 0) < 0)
		return -errno;
	struct gofer_node *n;
	struct stat st;
	r = new_child(s, dir, dfd, name, type, NULL, &n, &st);
	if (!r && fchownat(n->fd, "", q.uid, q.gid, AT_EMPTY_PATH) < 0) {
		r = -errno;
		gofer_node_close(&s->nodes, n);
	}
	if (r) {
		unlinkat(dfd, name, 0);
		return r;
	}
	struct gp_node_resp o = {.node = n->id};
	if (fstat(n->fd, &st) == 0)
		gofer_fs_attr(&st, &o.attr);
	gp_put(resp, &o, sizeof(o));
	return 0;
}

int gofer_op_symlink(struct gofer_server *s, struct gp_buf *req,
		     struct gp_buf *resp, int *fd)
{
	(void)fd;
	struct gp_symlink_req q;
	char name[GP_NAME_MAX + 1], target[GP_PATH_MAX + 1];
	struct gofer_node *dir;
	gp_get(req, &q, sizeof(q));
	gp_get_str(req, name, sizeof(name), GP_NAME_MAX);
	gp_get_str(req, target, sizeof(target), GP_PATH_MAX);
	int r = gofer_op_req_done(req);
	if (r)
		return r;
	if (!gp_name_valid(name))
		return -EINVAL;
	if (target[0] == '\0')
		return -ENOENT;
	int dfd;
	r = gofer_op_wdir(s, q.dir, &dir, &dfd);
	if (r)
		return r;
	/* The target is stored, never followed here: the sentry resolves it
	 * within its own view of the container. */
	if (symlinkat(target, dfd, name) < 0)
		return -errno;
	struct gofer_node *n;
	struct stat st;
	r = new_child(s, dir, dfd, name, S_IFLNK, NULL, &n, &st);
	if (!r && fchownat(n->fd, "", q.uid, q.gid,
			   AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
		r = -errno;
		gofer_node_close(&s->nodes, n);
	}
	if (r) {
		unlinkat(dfd, name, 0);
		return r;
	}
	struct gp_node_resp o = {.node = n->id};
	if (fstat(n->fd, &st) == 0)
		gofer_fs_attr(&st, &o.attr);
	gp_put(resp, &o, sizeof(o));
	return 0;
}

int gofer_op_link(struct gofer_server *s, struct gp_buf *req,
		  struct gp_buf *resp, int *fd)
{
	(void)fd;
	struct gp_link_req q;
	char name[GP_NAME_MAX + 1];
	struct gofer_node *dir, *target;
	gp_get(req, &q, sizeof(q));
	int r = get_name_done(req, name);
	if (!r)
		r = gofer_op_node(s, q.target, &target);
	if (!r)
		r = gofer_op_node(s, q.dir, &dir);
	if (r)
		return r;
	if (target->export != dir->export)
		return -EXDEV;
	int dfd;
	r = gofer_op_wdir(s, q.dir, &dir, &dfd);
	if (r)
		return r;
	if (target->type == S_IFDIR)
		return -EPERM;
	if (!target->parent)
		return -ENOENT;
	int tfd = gofer_node_fd(&s->nodes, target->parent);
	if (tfd < 0)
		return tfd;
	/* By the target's parent and name rather than AT_EMPTY_PATH, which
	 * would need CAP_DAC_READ_SEARCH (and with it open_by_handle_at); the
	 * result is checked to be the target's inode. */
	if (linkat(tfd, target->name, dfd, name, 0) < 0)
		return -errno;
	struct stat st;
	struct gofer_node *n;
	r = new_child(s, dir, dfd, name, target->type, NULL, &n, &st);
	if (!r && ((uint64_t)st.st_dev != target->dev ||
		   (uint64_t)st.st_ino != target->ino)) {
		gofer_node_close(&s->nodes, n);
		r = -ESTALE;
	}
	if (r) {
		unlinkat(dfd, name, 0);
		return r;
	}
	struct gp_node_resp o = {.node = n->id};
	gofer_fs_attr(&st, &o.attr);
	gp_put(resp, &o, sizeof(o));
	return 0;
}

int gofer_op_unlink(struct gofer_server *s, struct gp_buf *req,
		    struct gp_buf *resp, int *fd)
{
	(void)fd;
	(void)resp;
	struct gp_unlink_req q;
	char name[GP_NAME_MAX + 1];
	struct gofer_node *dir;
	int dfd;
	gp_get(req, &q, sizeof(q));
	int r = get_name_done(req, name);
	if (!r && (q.flags & ~(uint32_t)AT_REMOVEDIR))
		r = -EINVAL;
	if (!r)
		r = gofer_op_wdir(s, q.dir, &dir, &dfd);
	if (r)
		return r;
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (unlinkat(dfd, name, (int)q.flags) < 0)
		return -errno;
	gofer_node_unlinked(&s->nodes, dir, name, &st);
	return 0;
}

int gofer_op_rename(struct gofer_server *s, struct gp_buf *req,
		    struct gp_buf *resp, int *fd)
{
	(void)fd;
	(void)resp;
	struct gp_rename_req q;
	char oldname[GP_NAME_MAX + 1], newname[GP_NAME_MAX + 1];
	struct gofer_node *olddir, *newdir;
	gp_get(req, &q, sizeof(q));
	gp_get_str(req, oldname, sizeof(oldname), GP_NAME_MAX);
	gp_get_str(req, newname, sizeof(newname), GP_NAME_MAX);
	int r = gofer_op_req_done(req);
	if (r)
		return r;
	if (!gp_name_valid(oldname) || !gp_name_valid(newname) ||
	    (q.flags & ~(uint32_t)(RENAME_NOREPLACE | RENAME_EXCHANGE)))
		return -EINVAL;
	r = gofer_op_node(s, q.olddir, &olddir);
	if (!r)
		r = gofer_op_node(s, q.newdir, &newdir);
	if (r)
		return r;
	if (olddir->export != newdir->export)
		return -EXDEV;
	int ofd, nfd;
	r = gofer_op_wdir(s, q.olddir, &olddir, &ofd);
	if (!r)
		r = gofer_op_wdir(s, q.newdir, &newdir, &nfd);
	if (r)
		return r;
	struct stat ost, nst;
	if (fstatat(ofd, oldname, &ost, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	bool have_new = fstatat(nfd, newname, &nst, AT_SYMLINK_NOFOLLOW) == 0;
	if (syscall(SYS_renameat2, ofd, oldname, nfd, newname, q.flags) < 0)
		return -errno;
	/* Renaming onto another link of the same inode does nothing. */
	if (have_new && nst.st_dev == ost.st_dev && nst.st_ino == ost.st_ino)
		return 0;
	gofer_node_renamed(&s->nodes, olddir, oldname, &ost, newdir, newname,
			   have_new ? &nst : NULL,
			   (q.flags & RENAME_EXCHANGE) != 0);
	return 0;
}

/* Host getdents64 record; glibc does not declare it. */
struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Appends one entry: 1 added, 0 skipped, -1 does not fit. */
static int put_dirent(struct gp_buf *resp, int dirfd,
		      const struct linux_dirent64 *d)
{
	size_t l = strnlen(d->d_name, GP_NAME_MAX + 1);
	if (l == 0 || l > GP_NAME_MAX)
		return 0; /* cannot be named on the wire */
	if (sizeof(struct gp_dirent) + 2 + l > resp->cap - resp->len)
		return -1;
	struct gp_dirent e = {.ino = d->d_ino,
			      .next_cookie = (uint64_t)d->d_off,
			      .type = d->d_type};
	if (e.type == DT_UNKNOWN) {
		struct stat st;
		if (fstatat(dirfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			e.type = (uint8_t)IFTODT(st.st_mode);
	}
	gp_put(resp, &e, sizeof(e));
	gp_put_str(resp, d->d_name, l);
	return 1;
}

int gofer_op_getdents(struct gofer_server *s, struct gp_buf *req,
		      struct gp_buf *resp, int *fd)
{
	(void)fd;
	struct gp_getdents_req q;
	struct gofer_node *n;
	gp_get(req, &q, sizeof(q));
	int r = gofer_op_req_done(req);
	if (!r)
		r = gofer_op_node(s, q.node, &n);
	if (r)
		return r;
	if (n->type != S_IFDIR)
		return -ENOTDIR;
	if (q.cookie > INT64_MAX)
		return -EINVAL;
	int dfd = gofer_node_dirfd(&s->nodes, n);
	if (dfd < 0)
		return dfd;
	/* The cookie is the host's d_off of the last entry the sentry took,
	 * so every batch starts with a seek and no position is kept here;
	 * that is also why the fd may be evicted between batches. */
	if (lseek(dfd, (off_t)q.cookie, SEEK_SET) < 0)
		return -errno;
	size_t at = resp->len;
	struct gp_getdents_resp o = {0};
	gp_put(resp, &o, sizeof(o));
	char buf[16384] __attribute__((aligned(8)));
	bool full = false;
	while (!full) {
		long nr = syscall(SYS_getdents64, dfd, buf, sizeof(buf));
		if (nr < 0) {
			if (o.n)
				break;
			return -errno;
		}
		if (nr == 0)
			break;
		for (long off = 0; off < nr;) {
			const struct linux_dirent64 *d =
			    (const void *)(buf + off);
			off += d->d_reclen;
			if (strcmp(d->d_name, ".") == 0 ||
			    strcmp(d->d_name, "..") == 0)
				continue;
			int added = put_dirent(resp, dfd, d);
			if (added < 0) {
				full = true;
				break;
			}
			o.n += (uint32_t)added;
		}
	}
	if (resp->err)
		return resp->err;
	memcpy(resp->data + at, &o, sizeof(o));
	return 0;
}
