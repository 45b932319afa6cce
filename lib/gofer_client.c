/* Synchronous gofer RPC client. The gofer is semi-trusted: every response is
 * matched to its request (op and tag), must be exactly as long as its
 * contents, and its values are range-checked before the caller sees them. */
#include "bulkhead/gofer_client.h"
#include "bulkhead/fdpass.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int gofer_conn_init(struct gofer_conn *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->tx = malloc(GP_MSG_MAX);
	c->rx = malloc(GP_MSG_MAX);
	if (!c->tx || !c->rx) {
		free(c->tx);
		free(c->rx);
		return -ENOMEM;
	}
	int r = pthread_mutex_init(&c->mu, NULL);
	if (r) {
		free(c->tx);
		free(c->rx);
		return -r;
	}
	return 0;
}

void gofer_conn_destroy(struct gofer_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	pthread_mutex_destroy(&c->mu);
	free(c->tx);
	free(c->rx);
	c->tx = c->rx = NULL;
}

/* One exchange in progress; lives on the caller's stack, under c->mu. */
struct call {
	struct gofer_conn *c;
	struct gp_buf tx, rx;
	uint16_t op;
	uint32_t tag;
	int fd; /* received fd or -1 */
};

static void call_begin(struct call *k, struct gofer_conn *c, uint16_t op)
{
	if (c->before_call)
		c->before_call();
	pthread_mutex_lock(&c->mu);
	k->c = c;
	k->op = op;
	k->tag = ++c->tag;
	k->fd = -1;
	gp_buf_init(&k->tx, c->tx, GP_MSG_MAX);
	gp_begin(&k->tx, op, k->tag, 0);
}

static int call_end(struct call *k, int r)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
	pthread_mutex_unlock(&k->c->mu);
	return r;
}

/* Keeps the first received fd in k->fd, closes any other. */
static int call_take_fds(struct call *k, struct msghdr *mh)
{
	return fdpass_take(mh, &k->fd) ? -EPROTO : 0;
}

/* Sends the request and receives its response header. Returns 0 with k->rx
 * positioned after the header, the gofer's error, or a transport error. */
static int call_do(struct call *k)
{
	struct gofer_conn *c = k->c;
	long len = gp_finish(&k->tx);
	if (len < 0)
		return (int)len;
	ssize_t n;
	do
		n = send(c->fd, c->tx, (size_t)len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EMSGSIZE ? -EMSGSIZE : -EIO;
	if (n != len)
		return -EIO;

	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {.iov_base = c->rx, .iov_len = GP_MSG_MAX};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf.buf,
			    .msg_controllen = sizeof(cbuf.buf)};
	do
		n = recvmsg(c->fd, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		return -EIO;
	int fr = call_take_fds(k, &mh);
	if (fr)
		return fr;
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		return -EPROTO;

	struct gp_hdr h;
	gp_buf_view(&k->rx, c->rx, (size_t)n);
	if (gp_get_hdr(&k->rx, &h) < 0 || h.op != k->op || h.tag != k->tag)
		return -EPROTO;
	if (h.err > 0 || h.err < -4095)
		return -EPROTO;
	if (h.err)
		return h.err;
	return 0;
}

/* The response must be consumed exactly. */
static int call_decoded(struct call *k)
{
	if (k->rx.err || k->rx.off != k->rx.len)
		return -EPROTO;
	return 0;
}

static int attr_valid(const struct gp_attr *a)
{
	switch (a->mode & S_IFMT) {
	case S_IFREG:
	case S_IFDIR:
	case S_IFLNK:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	default:
		return 0;
	}
	return (a->mode & ~(uint32_t)(S_IFMT | 07777)) == 0 &&
	       a->atime_nsec < 1000000000u && a->mtime_nsec < 1000000000u &&
	       a->ctime_nsec < 1000000000u;
}

static int get_attr(struct call *k, struct gp_attr *out)
{
	struct gp_attr a;
	gp_get(&k->rx, &a, sizeof(a));
	if (k->rx.err || !attr_valid(&a))
		return -EPROTO;
	if (out)
		*out = a;
	return 0;
}

static int get_node_resp(struct call *k, uint64_t *node, struct gp_attr *attr,
			 bool *ro)
{
	struct gp_node_resp r;
	gp_get(&k->rx, &r, sizeof(r));
	int e = call_decoded(k);
	if (e)
		return e;
	if (r.node == 0 || !attr_valid(&r.attr) || r.export_ro > 1)
		return -EPROTO;
	*node = r.node;
	if (attr)
		*attr = r.attr;
	if (ro)
		*ro = r.export_ro;
	return 0;
}

int gofer_attach(struct gofer_conn *c, uint32_t export_idx, uint64_t *node,
		 struct gp_attr *attr, bool *ro)
{
	struct call k;
	call_begin(&k, c, GP_ATTACH);
	struct gp_attach_req q = {.export_idx = export_idx};
	gp_put(&k.tx, &q, sizeof(q));
	int r = call_do(&k);
	if (!r)
		r = get_node_resp(&k, node, attr, ro);
	return call_end(&k, r);
}

int gofer_walk(struct gofer_conn *c, uint64_t node, const char *const names[],
	       unsigned n, struct gp_walk_ent out[], unsigned *nwalked)
{
	*nwalked = 0;
	if (n == 0 || n > GP_WALK_MAX)
		return -EINVAL;
	struct call k;
	call_begin(&k, c, GP_WALK);
	struct gp_walk_req q = {.node = node, .nnames = n};
	gp_put(&k.tx, &q, sizeof(q));
	for (unsigned i = 0; i < n; i++)
		gp_put_str(&k.tx, names[i], strlen(names[i]));
	int r = call_do(&k);
	if (r)
		return call_end(&k, r);
	struct gp_walk_resp w;
	gp_get(&k.rx, &w, sizeof(w));
	if (k.rx.err || w.nwalked == 0 || w.nwalked > n || w.stop_err > 0 ||
	    w.stop_err < -4095)
		return call_end(&k, -EPROTO);
	/* Entries are handed out only if the whole response is sound, but the
	 * node ids of a sound prefix would leak otherwise: accept them first,
	 * then judge. */
	unsigned got = 0;
	for (unsigned i = 0; i < w.nwalked; i++) {
		struct gp_walk_ent e;
		gp_get(&k.rx, &e, sizeof(e));
		if (k.rx.err || e.node == 0)
			break;
		out[got++] = e;
		if (!attr_valid(&e.attr)) {
			r = -EPROTO;
			break;
		}
	}
	*nwalked = got;
	if (r || call_decoded(&k) || got != w.nwalked)
		return call_end(&k, -EPROTO);
	/* A symlink anywhere but last, or a missing stop reason for a short
	 * walk that did not end on a symlink, is a confused gofer. */
	for (unsigned i = 0; i + 1 < got; i++)
		if (S_ISLNK(out[i].attr.mode))
			return call_end(&k, -EPROTO);
	if (got < n && !S_ISLNK(out[got - 1].attr.mode) && w.stop_err == 0)
		return call_end(&k, -EPROTO);
	if (got == n && w.stop_err != 0)
		return call_end(&k, -EPROTO);
	return call_end(&k, w.stop_err);
}

static int node_req(struct call *k, struct gofer_conn *c, uint16_t op,
		    uint64_t node)
{
	call_begin(k, c, op);
	struct gp_node_req q = {.node = node};
	gp_put(&k->tx, &q, sizeof(q));
	return call_do(k);
}

int gofer_stat(struct gofer_conn *c, uint64_t node, struct gp_attr *attr)
{
	struct call k;
	int r = node_req(&k, c, GP_STAT, node);
	if (!r)
		r = get_attr(&k, attr);
	if (!r)
		r = call_decoded(&k);
	return call_end(&k, r);
}

/* Hands the received fd to the caller when the response promised one. */
static int take_fd(struct call *k, uint32_t has_fd, int *hostfd)
{
	if (has_fd != 1 || k->fd < 0)
		return -EPROTO;
	*hostfd = k->fd;
	k->fd = -1;
	return 0;
}

int gofer_open(struct gofer_conn *c, uint64_t node, uint32_t flags, int *hostfd,
	       struct gp_attr *attr)
{
	*hostfd = -1;
	struct call k;
	call_begin(&k, c, GP_OPEN);
	struct gp_open_req q = {.node = node, .flags = flags};
	gp_put(&k.tx, &q, sizeof(q));
	int r = call_do(&k);
	if (r)
		return call_end(&k, r);
	struct gp_open_resp o;
	gp_get(&k.rx, &o, sizeof(o));
	r = call_decoded(&k);
	if (!r && !attr_valid(&o.attr))
		r = -EPROTO;
	if (!r)
		r = take_fd(&k, o.has_fd, hostfd);
	if (!r && attr)
		*attr = o.attr;
	return call_end(&k, r);
}

int gofer_create(struct gofer_conn *c, uint64_t dir, const char *name,
		 uint32_t flags, uint32_t mode, uint32_t uid, uint32_t gid,
		 uint64_t *node, struct gp_attr *attr, int *hostfd)
{
	*hostfd = -1;
	struct call k;
	call_begin(&k, c, GP_CREATE);
	struct gp_create_req q = {
	    .dir = dir, .flags = flags, .mode = mode, .uid = uid, .gid = gid};
	gp_put(&k.tx, &q, sizeof(q));
	gp_put_str(&k.tx, name, strlen(name));
	int r = call_do(&k);
	if (r)
		return call_end(&k, r);
	struct gp_create_resp o;
	gp_get(&k.rx, &o, sizeof(o));
	r = call_decoded(&k);
	if (!r && (o.node == 0 || !attr_valid(&o.attr)))
		r = -EPROTO;
	if (!r)
		r = take_fd(&k, o.has_fd, hostfd);
	if (!r) {
		*node = o.node;
		if (attr)
			*attr = o.attr;
	}
	return call_end(&k, r);
}

int gofer_mkdir(struct gofer_conn *c, uint64_t dir, const char *name,
		uint32_t mode, uint32_t uid, uint32_t gid, uint64_t *node,
		struct gp_attr *attr)
{
	struct call k;
	call_begin(&k, c, GP_MKDIR);
	struct gp_mkdir_req q = {
	    .dir = dir, .mode = mode, .uid = uid, .gid = gid};
	gp_put(&k.tx, &q, sizeof(q));
	gp_put_str(&k.tx, name, strlen(name));
	int r = call_do(&k);
	if (!r)
		r = get_node_resp(&k, node, attr, NULL);
	return call_end(&k, r);
}

int gofer_mknod(struct gofer_conn *c, uint64_t dir, const char *name,
		uint32_t mode, uint32_t uid, uint32_t gid, uint64_t *node,
		struct gp_attr *attr)
{
	struct call k;
	call_begin(&k, c, GP_MKNOD);
	struct gp_mkdir_req q = {
	    .dir = dir, .mode = mode, .uid = uid, .gid = gid};
	gp_put(&k.tx, &q, sizeof(q));
	gp_put_str(&k.tx, name, strlen(name));
	int r = call_do(&k);
	if (!r)
		r = get_node_resp(&k, node, attr, NULL);
	return call_end(&k, r);
}

int gofer_symlink(struct gofer_conn *c, uint64_t dir, const char *name,
		  const char *target, uint32_t uid, uint32_t gid,
		  uint64_t *node, struct gp_attr *attr)
{
	struct call k;
	call_begin(&k, c, GP_SYMLINK);
	struct gp_symlink_req q = {.dir = dir, .uid = uid, .gid = gid};
	gp_put(&k.tx, &q, sizeof(q));
	gp_put_str(&k.tx, name, strlen(name));
	gp_put_str(&k.tx, target, strlen(target));
	int r = call_do(&k);
	if (!r)
		r = get_node_resp(&k, node, attr, NULL);
	return call_end(&k, r);
}

int gofer_link(struct gofer_conn *c, uint64_t dir, const char *name,
	       uint64_t target, uint64_t *node, struct gp_attr *attr)
{
	struct call k;
	call_begin(&k, c, GP_LINK);
	struct gp_link_req q = {.dir = dir, .target = target};
	gp_put(&k.tx, &q, sizeof(q));
	gp_put_str(&k.tx, name, strlen(name));
	int r = call_do(&k);
	if (!r)
		r = get_node_resp(&k, node, attr, NULL);
	return call_end(&k, r);
}

int gofer_unlink(struct gofer_conn *c, uint64_t dir, const char *name,
		 uint32_t flags)
{
	struct call k;
	call_begin(&k, c, GP_UNLINK);
	struct gp_unlink_req q = {.dir = dir, .flags = flags};
	gp_put(&k.tx, &q, sizeof(q));
	gp_put_str(&k.tx, name, strlen(name));
	int r = call_do(&k);
	if (!r)
		r = call_decoded(&k);
	return call_end(&k, r);
}

int gofer_rename(struct gofer_conn *c, uint64_t olddir, const char *oldname,
		 uint64_t newdir, const char *newname, uint32_t flags)
{
	struct call k;
	call_begin(&k, c, GP_RENAME);
	struct gp_rename_req q = {
	    .olddir = olddir, .newdir = newdir, .flags = flags};
	gp_put(&k.tx, &q, sizeof(q));
	gp_put_str(&k.tx, oldname, strlen(oldname));
	gp_put_str(&k.tx, newname, strlen(newname));
	int r = call_do(&k);
	if (!r)
		r = call_decoded(&k);
	return call_end(&k, r);
}

long gofer_readlink(struct gofer_conn *c, uint64_t node, char *buf, size_t cap)
{
	struct call k;
	int r = node_req(&k, c, GP_READLINK, node);
	if (r)
		return call_end(&k, r);
	struct gp_readlink_resp o;
	char target[GP_PATH_MAX + 1];
	gp_get(&k.rx, &o, sizeof(o));
	gp_get_str(&k.rx, target, sizeof(target), GP_PATH_MAX);
	r = call_decoded(&k);
	if (!r && target[0] == '\0')
		r = -EPROTO;
	if (r)
		return call_end(&k, r);
	size_t len = strlen(target);
	if (cap <= len)
		return call_end(&k, -ENAMETOOLONG);
	memcpy(buf, target, len + 1);
	call_end(&k, 0);
	return (long)len;
}

/* Reads one entry at the decoder's position; name points into rx. */
static int get_dirent(struct gp_buf *rx, struct gofer_dirent *d)
{
	struct gp_dirent e;
	uint16_t l;
	gp_get(rx, &e, sizeof(e));
	gp_get(rx, &l, sizeof(l));
	if (rx->err || l == 0 || l > GP_NAME_MAX || l > rx->len - rx->off)
		return -EPROTO;
	const char *name = (const char *)rx->data + rx->off;
	rx->off += l;
	if (e.type > DT_WHT || memchr(name, '\0', l) || memchr(name, '/', l) ||
	    (l == 1 && name[0] == '.') ||
	    (l == 2 && name[0] == '.' && name[1] == '.'))
		return -EPROTO;
	d->ino = e.ino;
	d->next_cookie = e.next_cookie;
	d->type = e.type;
	d->namelen = l;
	d->name = name;
	return 0;
}

int gofer_getdents(struct gofer_conn *c, uint64_t node, uint64_t cookie,
		   gofer_dirent_fn fn, void *arg)
{
	struct call k;
	call_begin(&k, c, GP_GETDENTS);
	struct gp_getdents_req q = {.node = node, .cookie = cookie};
	gp_put(&k.tx, &q, sizeof(q));
	int r = call_do(&k);
	if (r)
		return call_end(&k, r);
	struct gp_getdents_resp o;
	gp_get(&k.rx, &o, sizeof(o));
	if (k.rx.err)
		return call_end(&k, -EPROTO);
	size_t start = k.rx.off;
	struct gofer_dirent d;
	/* First pass: validate every entry, so the caller never consumes part
	 * of a batch that turns out to be garbage. */
	for (uint32_t i = 0; i < o.n; i++)
		if (get_dirent(&k.rx, &d))
			return call_end(&k, -EPROTO);
	if (call_decoded(&k))
		return call_end(&k, -EPROTO);

	/* Second pass: names are NUL-terminated in place by copying each into
	 * a small buffer, as the wire has no terminator. */
	k.rx.off = start;
	int accepted = 0;
	for (uint32_t i = 0; i < o.n; i++) {
		char name[GP_NAME_MAX + 1];
		get_dirent(&k.rx, &d);
		memcpy(name, d.name, d.namelen);
		name[d.namelen] = '\0';
		d.name = name;
		int f = fn(arg, &d);
		if (f < 0)
			return call_end(&k, f);
		if (f > 0)
			break;
		accepted++;
	}
	return call_end(&k, accepted);
}

int gofer_setattr(struct gofer_conn *c, const struct gp_setattr_req *req,
		  struct gp_attr *attr)
{
	struct call k;
	call_begin(&k, c, GP_SETATTR);
	gp_put(&k.tx, req, sizeof(*req));
	int r = call_do(&k);
	if (!r)
		r = get_attr(&k, attr);
	if (!r)
		r = call_decoded(&k);
	return call_end(&k, r);
}

int gofer_statfs(struct gofer_conn *c, uint64_t node,
		 struct gp_statfs_resp *out)
{
	struct call k;
	int r = node_req(&k, c, GP_STATFS, node);
	if (!r)
		gp_get(&k.rx, out, sizeof(*out));
	if (!r)
		r = call_decoded(&k);
	return call_end(&k, r);
}

int gofer_close(struct gofer_conn *c, uint64_t node)
{
	struct call k;
	int r = node_req(&k, c, GP_CLOSE, node);
	if (!r)
		r = call_decoded(&k);
	return call_end(&k, r);
}
