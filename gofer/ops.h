/* Request handlers. Each decodes its request body from req (positioned
 * after the header), appends its response body to resp (already begun with
 * the header) and returns 0 or a negative errno, in which case the caller
 * replaces the response by a bare header carrying the error. *fd receives
 * an fd to donate with the response (the caller closes it). */
#ifndef GOFER_OPS_H
#define GOFER_OPS_H

#include <errno.h>
#include <sys/stat.h>

#include "bulkhead/gofer_proto.h"
#include "gofer/nodefd.h"
#include "gofer/serve.h"

typedef int (*gofer_op_fn)(struct gofer_server *s, struct gp_buf *req,
			   struct gp_buf *resp, int *fd);

int gofer_op_attach(struct gofer_server *s, struct gp_buf *req,
		    struct gp_buf *resp, int *fd);
int gofer_op_walk(struct gofer_server *s, struct gp_buf *req,
		  struct gp_buf *resp, int *fd);
int gofer_op_stat(struct gofer_server *s, struct gp_buf *req,
		  struct gp_buf *resp, int *fd);
int gofer_op_open(struct gofer_server *s, struct gp_buf *req,
		  struct gp_buf *resp, int *fd);
int gofer_op_readlink(struct gofer_server *s, struct gp_buf *req,
		      struct gp_buf *resp, int *fd);
int gofer_op_setattr(struct gofer_server *s, struct gp_buf *req,
		     struct gp_buf *resp, int *fd);
int gofer_op_statfs(struct gofer_server *s, struct gp_buf *req,
		    struct gp_buf *resp, int *fd);
int gofer_op_close(struct gofer_server *s, struct gp_buf *req,
		   struct gp_buf *resp, int *fd);
int gofer_op_create(struct gofer_server *s, struct gp_buf *req,
		    struct gp_buf *resp, int *fd);
/* MKNOD: FIFOs (mkfifo) and socket nodes (a unix socket's bind) only:
 * devices need privilege the gofer does not keep. */
int gofer_op_mknod(struct gofer_server *s, struct gp_buf *req,
		   struct gp_buf *resp, int *fd);
int gofer_op_mkdir(struct gofer_server *s, struct gp_buf *req,
		   struct gp_buf *resp, int *fd);
int gofer_op_symlink(struct gofer_server *s, struct gp_buf *req,
		     struct gp_buf *resp, int *fd);
int gofer_op_link(struct gofer_server *s, struct gp_buf *req,
		  struct gp_buf *resp, int *fd);
int gofer_op_unlink(struct gofer_server *s, struct gp_buf *req,
		    struct gp_buf *resp, int *fd);
int gofer_op_rename(struct gofer_server *s, struct gp_buf *req,
		    struct gp_buf *resp, int *fd);
int gofer_op_getdents(struct gofer_server *s, struct gp_buf *req,
		      struct gp_buf *resp, int *fd);

/* The request must have decoded without error and to its last byte. A
 * too-long name keeps its -ENAMETOOLONG; anything else is -EPROTO. */
static inline int gofer_op_req_done(const struct gp_buf *req)
{
	if (req->err)
		return req->err == -ENAMETOOLONG ? req->err : -EPROTO;
	return req->off == req->len ? 0 : -EPROTO;
}

/* The live node id, or -EBADF: ids are never reused, so a stale or forged
 * id can only miss. */
static inline int gofer_op_node(struct gofer_server *s, uint64_t id,
				struct gofer_node **out)
{
	*out = gofer_node_get(&s->nodes, id);
	return *out ? 0 : -EBADF;
}

/* Decode a request that is only a node id (STAT, READLINK, STATFS,
 * CLOSE) and look the node up. */
static inline int gofer_op_node_req(struct gofer_server *s, struct gp_buf *req,
				    struct gofer_node **out)
{
	struct gp_node_req q;
	gp_get(req, &q, sizeof(q));
	int r = gofer_op_req_done(req);
	return r ? r : gofer_op_node(s, q.node, out);
}

/* A directory node of a writable export, for the mutating ops, and its fd
 * (open until the request ends). */
static inline int gofer_op_wdir(struct gofer_server *s, uint64_t id,
				struct gofer_node **out, int *fd)
{
	int r = gofer_op_node(s, id, out);
	if (r)
		return r;
	if ((*out)->type != S_IFDIR)
		return -ENOTDIR;
	if (s->exports[(*out)->export].ro)
		return -EROFS;
	*fd = gofer_node_fd(&s->nodes, *out);
	return *fd < 0 ? *fd : 0;
}

#endif
