#include "gofer/serve.h"
#include "bulkhead/fdpass.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bulkhead/log.h"
#include "gofer/fdbudget.h"
#include "gofer/nodefd.h"
#include "gofer/ops.h"

static const gofer_op_fn op_table[GP_OP_MAX] = {
    [GP_ATTACH] = gofer_op_attach,     [GP_WALK] = gofer_op_walk,
    [GP_STAT] = gofer_op_stat,	       [GP_OPEN] = gofer_op_open,
    [GP_CREATE] = gofer_op_create,     [GP_MKDIR] = gofer_op_mkdir,
    [GP_SYMLINK] = gofer_op_symlink,   [GP_LINK] = gofer_op_link,
    [GP_UNLINK] = gofer_op_unlink,     [GP_RENAME] = gofer_op_rename,
    [GP_READLINK] = gofer_op_readlink, [GP_GETDENTS] = gofer_op_getdents,
    [GP_SETATTR] = gofer_op_setattr,   [GP_STATFS] = gofer_op_statfs,
    [GP_CLOSE] = gofer_op_close,       [GP_MKNOD] = gofer_op_mknod,
};

int gofer_server_init(struct gofer_server *s, struct gofer_export *exports,
		      unsigned nexports)
{
	memset(s, 0, sizeof(*s));
	s->exports = exports;
	s->nexports = nexports;
	s->rx = malloc(GP_MSG_MAX);
	s->tx = malloc(GP_MSG_MAX);
	int r = s->rx && s->tx
		    ? gofer_node_table_init(&s->nodes, GOFER_NODE_MAX,
					    gofer_fd_budget(nexports))
		    : -ENOMEM;
	if (r) {
		free(s->rx);
		free(s->tx);
		return r;
	}
	umask(0);
	return 0;
}

void gofer_server_destroy(struct gofer_server *s)
{
	gofer_node_table_destroy(&s->nodes);
	free(s->rx);
	free(s->tx);
	s->rx = s->tx = NULL;
}

/* The sentry never sends fds; any that arrive are closed unseen. */
static void drop_fds(struct msghdr *mh)
{
	fdpass_take(mh, NULL);
}

static int send_resp(int sock, const void *msg, size_t len, int fd)
{
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {.iov_base = (void *)msg, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fd >= 0) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		mh.msg_controllen = sizeof(cbuf.buf);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	ssize_t n;
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* Decodes, dispatches and answers one received message. */
static int serve_one(struct gofer_server *s, int sock, size_t len,
		     bool truncated)
{
	struct gp_buf req, resp;
	struct gp_hdr h;
	gp_buf_view(&req, s->rx, len);
	gp_buf_init(&resp, s->tx, GP_MSG_MAX);
	int r = truncated ? -EPROTO : gp_get_hdr(&req, &h);
	if (r) {
		/* Echo what can be read of a malformed header so that the
		 * sentry's pending call fails instead of hanging. */
		if (len < sizeof(h))
			return 0;
		memcpy(&h, s->rx, sizeof(h));
		if (h.op == 0 || h.op >= GP_OP_MAX)
			return 0;
		bh_warn("gofer: malformed request op %u", h.op);
	} else if (h.err != 0) {
		r = -EPROTO;
	}
	int fd = -1;
	gp_begin(&resp, h.op, h.tag, 0);
	gofer_node_begin_request(&s->nodes);
	if (!r)
		r = op_table[h.op](s, &req, &resp, &fd);
	if (!r && resp.err)
		r = -EPROTO;
	if (r) {
		if (fd >= 0)
			close(fd);
		fd = -1;
		gp_begin(&resp, h.op, h.tag, r);
	}
	long n = gp_finish(&resp);
	if (n < 0) {
		if (fd >= 0)
			close(fd);
		return (int)n;
	}
	if (bh_log_debug_enabled())
		bh_debug("gofer: op %u tag %u -> %d", h.op, h.tag, r);
	r = send_resp(sock, s->tx, (size_t)n, fd);
	if (fd >= 0)
		close(fd);
	return r;
}

int gofer_serve(struct gofer_server *s, int sock)
{
	for (;;) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * 8)];
			struct cmsghdr align;
		} cbuf;
		struct iovec iov = {.iov_base = s->rx, .iov_len = GP_MSG_MAX};
		struct msghdr mh = {.msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = cbuf.buf,
				    .msg_controllen = sizeof(cbuf.buf)};
		ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		drop_fds(&mh);
		if (n == 0)
			return 0; /* the sentry is gone */
		int r = serve_one(s, sock, (size_t)n,
				  (mh.msg_flags & MSG_TRUNC) != 0);
		if (r == -EPIPE || r == -ECONNRESET)
			return 0;
		if (r)
			return r;
	}
}
