/* The stub master: PID 1 of the sandbox's namespaces. Made once at boot; on
 * request it forks a new stub process that execs the embedded stub, so every
 * stub starts in the same user, PID, mount, IPC, UTS and network namespaces,
 * in an empty read-only root, without capabilities, with no_new_privs and no
 * fds but its own fd channel. It also reaps every stub (guest forks use
 * CLONE_PARENT so that stubs are its children). Shared by all platforms. */
#ifndef BULKHEAD_STUBMASTER_H
#define BULKHEAD_STUBMASTER_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "sentry/kernel/lock.h"

/* The fd number where every stub process has its own end of its fd
 * channel. */
#define STUB_FD_SOCK 3

/* The socket through which the sentry hands one stub process (and its
 * threads) host fds, and that process hands back pidfds. One per process,
 * so that no guest process, even one that runs the stub's own receive at
 * its gate, can take an fd meant for another. */
struct stub_chan {
	int sock; /* the sentry's end */
	int peer; /* the stub's end, kept to give and to flush */
	int refs;
	/* Held from sending fds until the stub took them (a send and the
	 * stub's receive are one exchange), so that two threads never take
	 * each other's fds. A sleep lock: it spans the stub's command. */
	struct kmutex lock;
};
struct stub_chan *stub_chan_new(void);
void stub_chan_get(struct stub_chan *c);
void stub_chan_put(struct stub_chan *c);

int stubmaster_init(int stub_memfd);
/* A new stub process with c's stub end as its STUB_FD_SOCK, stopped by its
 * own SIGSTOP and not traced; returns its host pid (as the sentry sees it)
 * or a negative errno. */
pid_t stubmaster_spawn(struct stub_chan *c);
/* Send host fds (one message, at most 2) to c's stub end. */
int stubmaster_send_fds(struct stub_chan *c, const int *fds, int n);
int stubmaster_send_fd(struct stub_chan *c, int hostfd);
/* Receive one fd the stub sent on c (non-blocking). */
int stubmaster_recv_fd(struct stub_chan *c);
/* Drop what the stub did not take from c (after a failed receive). */
void stubmaster_flush_fd(struct stub_chan *c);
pid_t stubmaster_pid(void);

/* A one-byte message with room for one fd, as a stub's recvmsg/sendmsg
 * on its fd socket sees it: built by the sentry, placed at address base
 * inside the stub. */
struct stub_fd_msg {
	struct msghdr msg;
	struct iovec iov;
	char byte;
	char pad[7];
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} cm;
};
/* Lay s out for stub address base; fd >= 0 is attached (for sending). */
void stub_fd_msg_init(struct stub_fd_msg *s, uint64_t base, int fd);
/* The fd a received message carries (in the stub's table), or -EIO. */
int stub_fd_msg_fd(const struct stub_fd_msg *s);

#endif
