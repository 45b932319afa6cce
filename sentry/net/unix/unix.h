/* AF_UNIX, wholly in the sentry (Linux's net/unix/): the state shared by
 * the family's files. unix.c has the family and its proto_ops, unix_io.c the
 * data path (queues, send, receive), unix_addr.c the names (abstract
 * namespace, path names bound to socket inodes, autobind), unix_scm.c the
 * control messages (SCM_RIGHTS, SCM_CREDENTIALS) and the collector of
 * in-flight cycles.
 *
 * Lifetimes: a struct unix_sock is reference counted (refs): its socket's
 * file holds one, a connected peer holds one, each queued message holds one
 * on its sender, a listener's pending list holds one per embryo (a
 * connection not yet accepted, which has no file). The file's release
 * (unix_release) disconnects it and purges its queue; the memory goes with
 * the last reference.
 *
 * Locking (ranks in lockorder.h):
 *  - unix_gc_lock (LR_UNIX_GC, spin): the list of every unix socket and the
 *    in-flight counts; the collector holds it across its whole pass.
 *  - unix_sock.lock (LR_UNIX, spin; +1 for a second socket, always the
 *    peer or the listener of the first): the fields marked (lock), the
 *    receive queue included.
 *  - unix_names_lock (LR_UNIX_NAMES, spin): the name tables.
 *  - unix_sock.iolock (LR_UNIX_IO, sleep): receivers of one socket, held
 *    across the copy to the guest so that the head message stays put; the
 *    queue is read under lock, never the guest's memory.
 * A task sleeps with none of these held. */
#ifndef BULKHEAD_NET_UNIX_H
#define BULKHEAD_NET_UNIX_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "bulkhead/list.h"
#include "sentry/kernel/lock.h"
#include "sentry/kernel/waitq.h"
#include "sentry/vfs/fs.h"

struct socket;
struct task;
struct sock_msg;
struct uio;

/* Linux's limits (net.core.{w,r}mem_default, _max, net.unix.*). */
#define UNIX_BUF_DEFAULT    212992
#define UNIX_BUF_MAX	    212992 /* setsockopt caps here, then doubles */
#define UNIX_SNDBUF_MIN	    4608
#define UNIX_RCVBUF_MIN	    2304
#define UNIX_DGRAM_QLEN	    10	  /* net.unix.max_dgram_qlen */
#define UNIX_SKB_OVERHEAD   576	  /* what one message costs besides data */
#define UNIX_SCM_MAX_FD	    253	  /* SCM_MAX_FD */
#define UNIX_INFLIGHT_LIMIT 65536 /* in-flight files, whatever the caps */

#define UNIX_RCV_SHUTDOWN  1
#define UNIX_SEND_SHUTDOWN 2
#define UNIX_SHUTDOWN_MASK 3

enum unix_state {
	US_UNCONNECTED, /* new, or a datagram socket without a peer */
	US_LISTEN,
	US_CONNECTED, /* also after the peer went: shutdown says so */
};

/* A sockaddr_un with room for a 108-byte path and its NUL (Linux takes a
 * full sun_path without one and reports length 111). */
union unix_name {
	struct sockaddr_un sun;
	struct sockaddr_storage ss;
};

/* A name. Immutable after creation; shared by reference. */
struct unix_addr {
	_Atomic int refs;
	socklen_t len; /* as getsockname reports it */
	union unix_name name;
	/* A path name: the socket inode it is bound to (a reference), the key
	 * of the path table with its super block. NULL for abstract names. */
	struct inode *inode;
};

struct unix_cred {
	int pid;
	uint32_t uid, gid;
};

/* The control part of one message. */
struct unix_scm {
	struct file **fps; /* references; NULL when none */
	int nfp;
	bool has_cred;
	struct unix_cred cred;
};

/* One queued message: a datagram, a seqpacket record, or a piece of a
 * stream. */
struct unix_skb {
	struct list_head node;	  /* in the receiver's rq (its lock) */
	struct unix_sock *sender; /* a reference; charged truesize */
	struct unix_addr *from;	  /* the sender's name then (reference) */
	struct unix_scm scm;
	size_t len, off; /* off: bytes of a stream piece already read */
	size_t truesize;
	char data[];
};

struct unix_sock {
	_Atomic int refs;
	struct kmutex lock;
	struct kmutex iolock;
	int type;
	/* The socket (NULL for an embryo until accept, and after release);
	 * written under lock, read by the collector under unix_gc_lock. */
	struct socket *sock;
	enum unix_state state;	 /* lock */
	struct unix_sock *peer;	 /* lock; a reference */
	struct unix_addr *addr;	 /* lock; set once (bind or autobind) */
	struct list_head rq;	 /* lock: struct unix_skb */
	size_t rq_len, rq_bytes; /* lock: messages, data bytes */
	/* Truesize of what this socket sent that is still queued: the send
	 * buffer in use. Changed under the receiver's lock, read anywhere. */
	_Atomic size_t wmem;
	_Atomic int sndbuf, rcvbuf;
	int shutdown; /* lock: UNIX_*_SHUTDOWN */
	int err;      /* lock: SO_ERROR, cleared when read */
	_Atomic bool passcred;
	bool dead; /* lock: released */
	/* A listener: embryos waiting for accept (lock). */
	struct list_head pending;
	int npending, backlog;
	struct list_head embryo_node; /* in the listener's pending (its lock) */
	/* In a name table by addr (unix_names_lock). */
	struct list_head name_node;
	bool name_hashed;
	/* SO_PEERCRED: the peer's credentials at connect time (lock). */
	bool has_peercred;
	struct unix_cred peercred;
	/* Who waits: readers (POLLIN), writers of this socket waiting for
	 * its own send buffer (POLLOUT), pollers, connectors and accepters. */
	struct waitq wq;
	/* Datagram writers waiting for room in this socket's queue. */
	struct waitq peer_wait;
	/* Registered on peer->peer_wait when poll found the peer's queue
	 * full: relays its wake-up to wq (lock). */
	struct wait_entry peer_wake;
	struct unix_sock *peer_wake_on; /* lock: whose peer_wait it is on */

	/* The collector's (unix_gc_lock). */
	struct list_head all_node;
	struct list_head gc_node;
	long inflight; /* times our file is in a queue */
	long gc_count;
	bool gc_candidate, gc_reachable;
	uint64_t ino; /* /proc/net/unix: the socket's inode number */
};

extern struct kmutex unix_gc_lock;
extern struct kmutex unix_names_lock;

static inline struct unix_sock *unix_sk(struct socket *s);
void unix_sock_get(struct unix_sock *u);
void unix_sock_put(struct unix_sock *u);
/* A fresh unix_sock of type (no socket yet). -ENOMEM. */
int unix_sock_new(int type, struct unix_sock **out);
struct unix_cred unix_cred_of(struct task *t);
/* Is this file one of our sockets? Its unix_sock then, else NULL. */
struct unix_sock *unix_sock_of_file(struct file *f);
/* The send buffer has room (Linux's unix_writable). */
bool unix_writable(struct unix_sock *u);
/* Disconnect u from peer's peer_wait (u->lock held). */
void unix_peer_wake_disconnect(struct unix_sock *u);

/* ---- unix_io.c ---- */
ssize_t unix_sendmsg(struct socket *s, struct task *t, struct uio *uio,
		     struct sock_msg *m);
ssize_t unix_recvmsg(struct socket *s, struct task *t, struct uio *uio,
		     struct sock_msg *m);
/* Free a message that left every queue (drops its files, uncharges and
 * wakes its sender). No unix lock held. */
void unix_skb_free(struct unix_skb *skb);
/* Take every message off u's queue (u->lock held) onto out. */
void unix_rq_splice(struct unix_sock *u, struct list_head *out);
/* Free the messages of a list taken off a queue. */
void unix_skb_list_free(struct list_head *l);

/* ---- unix_addr.c ---- */
void unix_addr_get(struct unix_addr *a);
void unix_addr_put(struct unix_addr *a);
/* Check and copy a guest sockaddr_un: -EINVAL as Linux. *autobind when
 * it carries only the family. */
int unix_addr_parse(const struct sockaddr *sa, socklen_t len,
		    union unix_name *out, socklen_t *outlen, bool *autobind);
int unix_bind(struct socket *s, struct task *t, const struct sockaddr *addr,
	      socklen_t len);
/* Give u a 5-hex-digit abstract name if it has none. */
int unix_autobind(struct unix_sock *u);
/* The socket bound to a name, with a reference: -ECONNREFUSED (abstract
 * or path without a socket), -ENOENT, -EACCES... */
int unix_find(struct task *t, const union unix_name *n, socklen_t len, int type,
	      struct unix_sock **out);
/* Forget u's name (release): the name is free again. */
void unix_unbind(struct unix_sock *u);

/* ---- unix_scm.c ---- */
/* Parse a send's control messages (kernel copy) into scm: -EINVAL,
 * -EBADF, -ETOOMANYREFS, -EPERM as Linux. */
int unix_scm_parse(struct task *t, struct unix_sock *u, struct sock_msg *m,
		   struct unix_scm *scm);
/* Attach scm's files to a message: counts them in flight. */
void unix_scm_inflight(struct unix_scm *scm);
/* Deliver a received message's control data into m (receiver t): its
 * credentials (if creds and SO_PASSCRED), then its files, installed; they
 * leave the flight. peek: install duplicates. */
void unix_scm_recv(struct task *t, struct unix_sock *u, struct unix_scm *scm,
		   struct sock_msg *m, bool peek, bool creds);
/* Drop scm's files (a message freed unread). */
void unix_scm_destroy(struct unix_scm *scm, bool inflight);
/* The list of every unix socket (all_node; unix_gc_lock held). */
struct list_head *unix_all_socks(void);
/* Register / forget a socket for the collector. */
void unix_gc_register(struct unix_sock *u);
void unix_gc_unregister(struct unix_sock *u);
/* Run the collector if files are in flight. */
void unix_gc(void);
/* A socket was released: run the collector if what is in flight changed
 * since its last pass, or every UNIX_GC_RELEASES releases (a pass costs
 * time linear in the number of sockets, and closes come in floods). */
void unix_gc_on_release(void);
/* Has t's user too many files in flight (too_many_unix_fds)? */
bool unix_too_many_fds(struct task *t);

/* The socket layer's ops for our sockets, and a struct socket for an
 * accepted embryo. */
extern const struct proto_ops unix_stream_ops;
extern const struct proto_ops unix_dgram_ops;

#include "sentry/net/socket.h"
static inline struct unix_sock *unix_sk(struct socket *s)
{
	return s->priv;
}

#endif
