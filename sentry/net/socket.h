/* Sockets: the family-independent layer (Linux's net/socket.c, gVisor's
 * pkg/sentry/socket). A socket is a struct socket behind an ordinary struct
 * file ("socket:[ino]" on the anonymous mount, S_IFSOCK), so read, write,
 * poll, epoll, fcntl and close work on it as on any file. Each address
 * family registers a struct net_family (net_family_register) whose create
 * op fills in a socket's proto_ops; the syscalls (sys_socket.c) copy the
 * guest's arguments in once, bound them, and call those ops with kernel
 * copies only: no op reads a guest pointer other than through its uio.
 *
 * Locking: struct socket's fields are immutable after create except those
 * marked; a family keeps its own state under its own locks (ranked in
 * sentry/kernel/lockorder.h). No op is called with a lock of this layer
 * held, and ops that block sleep on their own wait queues (waitq.h) with no
 * lock held, as every file does. */
#ifndef BULKHEAD_NET_SOCKET_H
#define BULKHEAD_NET_SOCKET_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct file;
struct task;
struct uio;
struct poll_table;
struct socket;

/* Bounds on what a guest hands the socket layer in one call. */
#define SOCK_ADDR_MAX	 ((socklen_t)sizeof(struct sockaddr_storage))
#define SOCK_OPTMEM_MAX	 20480 /* net.core.optmem_max: send control */
#define SOCK_RCVCTL_MAX	 65536 /* receive control buffer we fill */
#define SOCK_OPTVAL_MAX	 4096  /* one {get,set}sockopt value */
#define SOCK_MMSG_MAX	 1024  /* UIO_MAXIOV: {send,recv}mmsg's vlen */
#define SOCK_BACKLOG_MAX 4096  /* net.core.somaxconn */

/* One sendmsg/recvmsg, in kernel memory. The data is the uio beside it.
 *
 * send: addr/addrlen the destination (addrlen 0: none); control/controllen
 * the guest's control messages, copied in whole and bounded (walk them with
 * CMSG_FIRSTHDR/CMSG_NXTHDR over msg_hdr()); flags the call's MSG_* flags.
 *
 * recv: the op sets addr/addrlen to the source (addrlen 0: none, the
 * caller then reports msg_namelen 0); control is a zeroed buffer of
 * controllen bytes that the op fills with sock_put_cmsg (controlused says
 * how far); flags comes in as the call's MSG_* flags and the op sets
 * out_flags (MSG_TRUNC, MSG_CTRUNC, MSG_EOR, MSG_OOB, MSG_ERRQUEUE). */
struct sock_msg {
	struct sockaddr_storage addr;
	socklen_t addrlen;
	void *control;
	size_t controllen;
	size_t controlused;
	int flags;
	int out_flags;
	bool nonblock; /* O_NONBLOCK on the file or MSG_DONTWAIT */
	/* send: set by an op whose -EPIPE raises no SIGPIPE (Linux's unix
	 * datagram and seqpacket sockets); the caller then does not. */
	bool epipe_nosignal;
};

struct proto_ops {
	/* bind(2): addr is a kernel copy of len bytes (len <= SOCK_ADDR_MAX,
	 * possibly shorter than the family's struct: the op checks). */
	int (*bind)(struct socket *s, struct task *t,
		    const struct sockaddr *addr, socklen_t len);
	/* connect(2); fflags are the file's status flags (O_NONBLOCK). May
	 * block; -ERESTARTSYS when interrupted, -EINPROGRESS non-blocking. */
	int (*connect)(struct socket *s, struct task *t,
		       const struct sockaddr *addr, socklen_t len, int fflags);
	/* listen(2): backlog already clamped to [0, SOCK_BACKLOG_MAX]. */
	int (*listen)(struct socket *s, struct task *t, int backlog);
	/* accept4(2): a new connected socket in *out (its file is made by
	 * the caller). nonblock: do not wait for a connection. */
	int (*accept)(struct socket *s, struct task *t, bool nonblock,
		      struct socket **out);
	/* getsockname (peer false) / getpeername (peer true): the address
	 * in *addr and its length in *len (may exceed what the guest asked
	 * for: the caller truncates, as Linux). */
	int (*getname)(struct socket *s, struct sockaddr_storage *addr,
		       socklen_t *len, bool peer);
	/* Bytes sent or received, or -errno when none were. recv returns 0 at
	 * end of stream. -EPIPE from send: the caller raises SIGPIPE unless
	 * MSG_NOSIGNAL. */
	ssize_t (*sendmsg)(struct socket *s, struct task *t, struct uio *u,
			   struct sock_msg *m);
	ssize_t (*recvmsg)(struct socket *s, struct task *t, struct uio *u,
			   struct sock_msg *m);
	int (*shutdown)(struct socket *s, int how);
	/* Options the core does not answer itself (see socket.c), with the
	 * value in kernel memory: set gets len bytes (len <=
	 * SOCK_OPTVAL_MAX); get fills up to *len bytes and sets *len.
	 * Unknown options: -ENOPROTOOPT. */
	int (*setsockopt)(struct socket *s, struct task *t, int level, int name,
			  const void *val, socklen_t len);
	int (*getsockopt)(struct socket *s, struct task *t, int level, int name,
			  void *val, socklen_t *len);
	uint32_t (*poll)(struct socket *s, struct poll_table *pt);
	/* ioctls the core does not answer (arg is a guest address). */
	long (*ioctl)(struct socket *s, struct task *t, unsigned cmd,
		      uint64_t arg);
	/* The kind's lines of /proc/pid/fdinfo/N; may be NULL. */
	int (*show_fdinfo)(struct socket *s, char *buf, size_t cap);
	/* The last reference to the file went: free the family's state. */
	void (*release)(struct socket *s);
};

struct socket {
	int family, type, protocol; /* type without SOCK_NONBLOCK/CLOEXEC */
	const struct proto_ops *ops;
	void *priv; /* the family's */
	/* The file that owns this socket; set once by sock_file_new, never
	 * a reference (the file holds the socket, not the reverse). */
	struct file *file;
	/* SO_RCVTIMEO / SO_SNDTIMEO in ns, 0: none (atomics: set by
	 * setsockopt while another thread may be waiting). */
	_Atomic int64_t rcvtimeo, sndtimeo;
};

/* An address family: create fills s->ops and s->priv for (type, protocol),
 * or returns -EAFNOSUPPORT / -ESOCKTNOSUPPORT / -EPROTONOSUPPORT / -EPERM
 * (raw sockets). socketpair, if the family has pairs, connects two fresh
 * sockets of one type (else NULL: -EOPNOTSUPP). */
struct net_family {
	int family;
	const char *name;
	int (*create)(struct socket *s, struct task *t, int type, int protocol);
	int (*socketpair)(struct socket *a, struct socket *b, struct task *t);
	/* Boot, after registration (may be NULL): /proc/net files... */
	void (*init)(void);
};

/* Register a family at boot (before any guest runs); -EEXIST twice. */
int net_family_register(const struct net_family *fam);
const struct net_family *net_family_find(int family);
/* Boot: register the built-in families. */
void net_init(void);

/* A new socket of (family, type, protocol); type without flags. */
int sock_create(struct task *t, int family, int type, int protocol,
		struct socket **out);
/* Free a socket that never got a file (an error path). */
void sock_destroy(struct socket *s);
/* The file for s (takes ownership of s: the file's release frees it);
 * flags O_RDWR | O_NONBLOCK as the caller wants. */
int sock_file_new(struct socket *s, int flags, struct file **out);
/* The socket behind f, or NULL if f is not a socket (-ENOTSOCK). */
struct socket *sock_from_file(struct file *f);
/* The socket's inode number (socket:[N], /proc/net/unix). */
uint64_t sock_ino(const struct socket *s);

/* Append one control message to a receive's control buffer, as Linux's
 * put_cmsg: when it does not fit whole, MSG_CTRUNC and as much as fits
 * (nothing if not even the header fits). Returns 0, or -EMSGSIZE when
 * truncated. */
int sock_put_cmsg(struct sock_msg *m, int level, int type, const void *data,
		  size_t len);
/* A struct msghdr over m's control buffer, to walk the control messages
 * of a send with CMSG_FIRSTHDR / CMSG_NXTHDR. */
static inline struct msghdr sock_msg_hdr(const struct sock_msg *m)
{
	struct msghdr h = {0};
	h.msg_control = m->control;
	h.msg_controllen = m->controllen;
	return h;
}
/* The wait deadline for a blocking op given its SO_*TIMEO (ns; 0: none):
 * an absolute CLOCK_MONOTONIC time in *ts, false when there is none. */
struct timespec;
bool sock_deadline(int64_t timeo_ns, struct timespec *ts);

#endif
