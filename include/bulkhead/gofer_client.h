/* The sentry side of the gofer protocol: a synchronous RPC client over the
 * SOCK_SEQPACKET socket. One struct gofer_conn per socket; its mutex makes
 * each request/response exchange atomic, so any sentry thread may call any
 * function concurrently.
 *
 * Every function returns 0 (or a non-negative count) on success, or a
 * negative errno: the gofer's error, or -EPROTO / -EIO / -EMSGSIZE when the
 * transport or the response is bad. A response is only trusted after its
 * op, tag, length and values have been checked. Node ids returned by ATTACH,
 * WALK, CREATE, MKDIR, SYMLINK and LINK are owned by the caller and must be
 * released with gofer_close(). Received host fds are O_CLOEXEC.
 */
#ifndef BULKHEAD_GOFER_CLIENT_H
#define BULKHEAD_GOFER_CLIENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bulkhead/gofer_proto.h"

struct gofer_conn {
	int fd;
	uint32_t tag;
	pthread_mutex_t mu;
	uint8_t *tx; /* GP_MSG_MAX bytes each, reused under mu */
	uint8_t *rx;
	/* Called before each request, unlocked (the sentry checks there
	 * that no spin lock is held across the round trip); may be NULL. */
	void (*before_call)(void);
};

/* Takes ownership of fd (closed by gofer_conn_destroy). */
int gofer_conn_init(struct gofer_conn *c, int fd);
void gofer_conn_destroy(struct gofer_conn *c);

int gofer_attach(struct gofer_conn *c, uint32_t export_idx, uint64_t *node,
		 struct gp_attr *attr, bool *ro);

/* Walks names[0..n) from node (n <= GP_WALK_MAX). out[0..*nwalked) receive
 * the walked nodes, all owned by the caller even on failure. Returns 0 when
 * every name was walked or the walk stopped right after a symlink (the last
 * entry's attr.mode says so); otherwise the negative errno that stopped it
 * (e.g. -ENOENT), with *nwalked entries still valid. */
int gofer_walk(struct gofer_conn *c, uint64_t node, const char *const names[],
	       unsigned n, struct gp_walk_ent out[], unsigned *nwalked);

int gofer_stat(struct gofer_conn *c, uint64_t node, struct gp_attr *attr);

/* *hostfd is the donated fd (>= 0) on success; attr may be NULL. */
int gofer_open(struct gofer_conn *c, uint64_t node, uint32_t flags, int *hostfd,
	       struct gp_attr *attr);
int gofer_create(struct gofer_conn *c, uint64_t dir, const char *name,
		 uint32_t flags, uint32_t mode, uint32_t uid, uint32_t gid,
		 uint64_t *node, struct gp_attr *attr, int *hostfd);
/* A socket node (mode S_IFSOCK | perm): the new node and its attrs. */
int gofer_mknod(struct gofer_conn *c, uint64_t dir, const char *name,
		uint32_t mode, uint32_t uid, uint32_t gid, uint64_t *node,
		struct gp_attr *attr);
int gofer_mkdir(struct gofer_conn *c, uint64_t dir, const char *name,
		uint32_t mode, uint32_t uid, uint32_t gid, uint64_t *node,
		struct gp_attr *attr);
/* A FIFO (mode carries S_IFIFO). */
int gofer_mknod(struct gofer_conn *c, uint64_t dir, const char *name,
		uint32_t mode, uint32_t uid, uint32_t gid, uint64_t *node,
		struct gp_attr *attr);
int gofer_symlink(struct gofer_conn *c, uint64_t dir, const char *name,
		  const char *target, uint32_t uid, uint32_t gid,
		  uint64_t *node, struct gp_attr *attr);
/* New hard link dir/name to the existing node target. */
int gofer_link(struct gofer_conn *c, uint64_t dir, const char *name,
	       uint64_t target, uint64_t *node, struct gp_attr *attr);
/* flags: 0 or AT_REMOVEDIR. */
int gofer_unlink(struct gofer_conn *c, uint64_t dir, const char *name,
		 uint32_t flags);
/* flags: renameat2 flags (RENAME_NOREPLACE, RENAME_EXCHANGE). */
int gofer_rename(struct gofer_conn *c, uint64_t olddir, const char *oldname,
		 uint64_t newdir, const char *newname, uint32_t flags);
/* Copies the target and a NUL into buf; returns the target's length, or
 * -ENAMETOOLONG if cap <= length (cap = GP_PATH_MAX + 1 always fits). */
long gofer_readlink(struct gofer_conn *c, uint64_t node, char *buf, size_t cap);

/* One directory entry of a GETDENTS batch. name points into the
 * connection's buffer: valid only during the callback. */
struct gofer_dirent {
	uint64_t ino;
	uint64_t next_cookie; /* resume here to continue after this entry */
	uint8_t type;	      /* DT_* */
	uint16_t namelen;
	const char *name; /* NUL-terminated */
};
/* Returns 0 to accept the entry and continue, > 0 to stop before this
 * entry (it is not consumed: e.g. the guest's getdents64 buffer is full),
 * < 0 to stop with that error. Runs with the connection locked: it must
 * not call back into the gofer client. */
typedef int (*gofer_dirent_fn)(void *arg, const struct gofer_dirent *d);

/* Fetches one batch of entries of directory node starting at cookie (0 =
 * start) and passes them to fn in order. The whole batch is validated
 * before fn sees any entry. Returns the number of entries fn accepted;
 * 0 with fn never called means end of directory. To fill a guest buffer:
 * call with the directory's cookie, stop when fn returns > 0, store the
 * next_cookie of the last accepted entry, and repeat until 0 or full. */
int gofer_getdents(struct gofer_conn *c, uint64_t node, uint64_t cookie,
		   gofer_dirent_fn fn, void *arg);

/* req->mask selects the fields (enum gp_setattr_mask); attr (may be NULL)
 * receives the attributes after the change. */
int gofer_setattr(struct gofer_conn *c, const struct gp_setattr_req *req,
		  struct gp_attr *attr);
int gofer_statfs(struct gofer_conn *c, uint64_t node,
		 struct gp_statfs_resp *out);
/* Forgets node in the gofer; the id is never valid again. */
int gofer_close(struct gofer_conn *c, uint64_t node);

#endif
