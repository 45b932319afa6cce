/* The sentry <-> gofer wire protocol.
 *
 * Transport: a SOCK_SEQPACKET socketpair, so one sendmsg is one message and
 * no framing is needed beyond the header. Requests are answered in order; the
 * sentry has at most one request outstanding per connection (it serialises
 * callers), the tag is echoed so a confused peer is detected, not trusted.
 *
 * Every message is: struct gp_hdr, then the op's fixed struct, then a
 * variable tail of strings. A string on the wire is a uint16_t length
 * followed by that many bytes, no NUL. Both ends decode with the bounded
 * readers of lib/gofer_proto.c and reject anything that does not fit.
 *
 * Nodes are named by 64-bit ids that the gofer maps to host O_PATH fds, never
 * to paths. Node 0 is invalid. ATTACH returns the root node of an export:
 * export 0 is the container rootfs, export i (i >= 1) is the i-th bind mount
 * of config.json (in file order), as passed to the gofer with --mount.
 *
 * Names in WALK/CREATE/... are single components: never empty, never ".",
 * never "..", no '/', no NUL, at most GP_NAME_MAX bytes. ".." is resolved by
 * the sentry's dentry tree; the gofer refuses it so that a confused or
 * compromised sentry still cannot leave an export.
 */
#ifndef BULKHEAD_GOFER_PROTO_H
#define BULKHEAD_GOFER_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define GP_MSG_MAX  65536u /* largest message either side sends or accepts */
#define GP_NAME_MAX 255u
#define GP_PATH_MAX 4096u /* readlink / symlink targets */
#define GP_WALK_MAX 64u	  /* components in one WALK */

enum gp_op {
	GP_ATTACH = 1, /* gp_attach_req -> gp_node_resp */
	GP_WALK,       /* gp_walk_req + names -> gp_walk_resp + nodes */
	GP_STAT,       /* gp_node_req -> gp_attr_resp */
	GP_OPEN,       /* gp_open_req -> gp_open_resp (+ fd via SCM_RIGHTS) */
	GP_CREATE,     /* gp_create_req + name -> gp_create_resp (+ fd) */
	GP_MKDIR,      /* gp_mkdir_req + name -> gp_node_resp */
	GP_SYMLINK,    /* gp_symlink_req + name + target -> gp_node_resp */
	GP_LINK,       /* gp_link_req + name -> gp_node_resp */
	GP_UNLINK,     /* gp_unlink_req + name -> gp_hdr only */
	GP_RENAME,     /* gp_rename_req + oldname + newname -> gp_hdr only */
	GP_READLINK,   /* gp_node_req -> gp_readlink_resp + target */
	GP_GETDENTS,   /* gp_getdents_req -> gp_getdents_resp + entries */
	GP_SETATTR,    /* gp_setattr_req -> gp_attr_resp */
	GP_STATFS,     /* gp_node_req -> gp_statfs_resp */
	GP_CLOSE,      /* gp_node_req -> gp_hdr only; forgets the node id */
	GP_MKNOD, /* gp_mkdir_req (mode with S_IFIFO or S_IFSOCK) + name ->
		     gp_node_resp */
	GP_OP_MAX
};

struct gp_hdr {
	uint32_t len; /* whole message, header included */
	uint16_t op;  /* enum gp_op; a response carries the request's op */
	uint16_t flags;
	uint32_t tag;
	int32_t err; /* responses: 0 or a negative errno; requests: 0 */
};

/* File attributes as the gofer saw them with fstatat(AT_SYMLINK_NOFOLLOW). */
struct gp_attr {
	uint64_t ino;
	uint64_t dev;
	uint64_t size;
	uint64_t blocks;
	int64_t atime_sec, mtime_sec, ctime_sec;
	uint32_t atime_nsec, mtime_nsec, ctime_nsec;
	uint32_t mode; /* includes S_IFMT */
	uint32_t nlink;
	uint32_t uid, gid;
	uint32_t rdev_major, rdev_minor;
	uint32_t blksize;
	uint32_t pad;
};

struct gp_node_req {
	uint64_t node;
};

struct gp_attach_req {
	uint32_t export_idx;
	uint32_t pad;
};

/* Response for ATTACH, MKDIR, SYMLINK, LINK: the new node and its attrs. */
struct gp_node_resp {
	uint64_t node;
	struct gp_attr attr;
	uint32_t export_ro; /* ATTACH: 1 if the export is read-only */
	uint32_t pad;
};

/* WALK: resolve nnames components from node, one at a time, with
 * O_PATH|O_NOFOLLOW. Stops early at the first missing component (then
 * nwalked < nnames and err is 0 unless nwalked == 0, where err is the errno
 * of the first component) and right after a symlink (the sentry resolves
 * links itself). Each walked component yields a struct gp_walk_ent. */
struct gp_walk_req {
	uint64_t node;
	uint32_t nnames;
	uint32_t pad;
	/* then nnames strings */
};
struct gp_walk_ent {
	uint64_t node;
	struct gp_attr attr;
};
struct gp_walk_resp {
	uint32_t nwalked;
	int32_t stop_err; /* errno (negative) that stopped the walk, or 0 */
			  /* then nwalked struct gp_walk_ent */
};

struct gp_attr_resp {
	struct gp_attr attr;
};

/* OPEN: flags are Linux open flags (O_ACCMODE, O_TRUNC, O_APPEND,
 * O_DIRECTORY, O_NONBLOCK, O_LARGEFILE); O_CREAT/O_EXCL are refused (use
 * CREATE). The host fd arrives with SCM_RIGHTS, already O_CLOEXEC. Only
 * regular files and directories (read-only) are opened. */
struct gp_open_req {
	uint64_t node;
	uint32_t flags;
	uint32_t pad;
};
struct gp_open_resp {
	struct gp_attr attr;
	uint32_t has_fd; /* 1: one fd follows in SCM_RIGHTS */
	uint32_t pad;
};

/* CREATE: a regular file, O_CREAT implied, O_EXCL as given. */
struct gp_create_req {
	uint64_t dir;
	uint32_t flags;
	uint32_t mode;
	uint32_t uid, gid;
	/* then name */
};
struct gp_create_resp {
	uint64_t node;
	struct gp_attr attr;
	uint32_t has_fd;
	uint32_t pad;
};

struct gp_mkdir_req {
	uint64_t dir;
	uint32_t mode;
	uint32_t uid, gid;
	uint32_t pad;
	/* then name */
};

struct gp_symlink_req {
	uint64_t dir;
	uint32_t uid, gid;
	/* then name, then target */
};

struct gp_link_req {
	uint64_t dir;	 /* new link's parent */
	uint64_t target; /* existing node (not a directory) */
			 /* then name */
};

struct gp_unlink_req {
	uint64_t dir;
	uint32_t flags; /* 0 or AT_REMOVEDIR */
	uint32_t pad;
	/* then name */
};

struct gp_rename_req {
	uint64_t olddir;
	uint64_t newdir;
	uint32_t flags; /* renameat2 flags: RENAME_NOREPLACE, RENAME_EXCHANGE */
	uint32_t pad;
	/* then oldname, newname */
};

struct gp_readlink_resp {
	uint32_t pad;
	uint32_t pad2;
	/* then target string */
};

/* GETDENTS: entries of directory node, starting at cookie (0 = start).
 * The gofer returns as many whole entries as fit in one message; an empty
 * batch (n == 0) means the end. "." and ".." are not returned: the sentry
 * synthesises them. */
struct gp_getdents_req {
	uint64_t node;
	uint64_t cookie;
};
struct gp_dirent {
	uint64_t ino;
	uint64_t next_cookie; /* cookie to resume after this entry */
	uint8_t type;	      /* DT_* */
	uint8_t pad[7];
	/* then name string */
};
struct gp_getdents_resp {
	uint32_t n;
	uint32_t pad;
	/* then n x (struct gp_dirent, name) */
};

enum gp_setattr_mask {
	GP_SET_MODE = 1u << 0,
	GP_SET_SIZE = 1u << 1,
	GP_SET_ATIME = 1u << 2, /* value given; UTIME_NOW in nsec means now */
	GP_SET_MTIME = 1u << 3,
	GP_SET_UID = 1u << 4,
	GP_SET_GID = 1u << 5,
};
struct gp_setattr_req {
	uint64_t node;
	uint32_t mask;
	uint32_t mode;
	uint64_t size;
	int64_t atime_sec, mtime_sec;
	uint32_t atime_nsec, mtime_nsec;
	uint32_t uid, gid;
};

struct gp_statfs_resp {
	uint64_t type, bsize, blocks, bfree, bavail, files, ffree, namelen,
	    frsize;
};

/* ---- bounded encoder/decoder (lib/gofer_proto.c) ---- */

struct gp_buf {
	uint8_t *data;
	size_t cap; /* bytes available in data */
	size_t len; /* encoder: bytes written; decoder: bytes valid */
	size_t off; /* decoder: read position */
	int err;    /* sticky: first error (-EMSGSIZE/-EPROTO), 0 if none */
};

void gp_buf_init(struct gp_buf *b, void *data, size_t cap);
/* Decoder over len valid bytes. */
void gp_buf_view(struct gp_buf *b, const void *data, size_t len);

/* Encoder: start a message with header (op, tag, err), then append. The
 * header's len is fixed up by gp_finish(). */
void gp_begin(struct gp_buf *b, uint16_t op, uint32_t tag, int32_t err);
void gp_put(struct gp_buf *b, const void *p, size_t n);
/* Strings longer than GP_PATH_MAX fail with -EMSGSIZE. */
void gp_put_str(struct gp_buf *b, const char *s, size_t n);
/* Returns the message length, or the sticky negative error. */
long gp_finish(struct gp_buf *b);

/* Decoder: reads and checks the header (len matches the buffer, op in
 * range). Returns 0 or -EPROTO. */
int gp_get_hdr(struct gp_buf *b, struct gp_hdr *h);
/* Copies n bytes; on short input sets err and zero-fills. */
void gp_get(struct gp_buf *b, void *p, size_t n);
/* Copies a string into out (cap bytes incl. NUL). Fails with -EPROTO on a
 * short buffer or an embedded NUL, -ENAMETOOLONG if it does not fit in cap-1
 * or maxlen; out is "" on failure. */
void gp_get_str(struct gp_buf *b, char *out, size_t cap, size_t maxlen);
/* 1 if name is a valid single path component for the gofer (see top
 * comment), 0 otherwise. Callers answer an invalid name with -EINVAL. */
int gp_name_valid(const char *name);

#endif
