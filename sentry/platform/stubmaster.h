/* The stub master: PID 1 of the sandbox's namespaces. Made once at boot; on
 * request it forks a new stub process that execs the embedded stub, so every
 * stub starts in the same user, PID, mount, IPC, UTS and network namespaces,
 * in an empty read-only root, without capabilities, with no_new_privs and no
 * fds but the fd-passing socket. It also reaps every stub (guest forks use
 * CLONE_PARENT so that stubs are its children). Shared by all platforms. */
#ifndef BULKHEAD_STUBMASTER_H
#define BULKHEAD_STUBMASTER_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* The fd number every stub has for receiving fds from the sentry. */
#define STUB_FD_SOCK 3

int stubmaster_init(int stub_memfd);
/* A new stub process, stopped by its own SIGSTOP and not traced; returns its
 * host pid (as the sentry sees it) or a negative errno. */
pid_t stubmaster_spawn(void);
/* Send hostfd to the stubs' receiving socket (one message). */
int stubmaster_send_fd(int hostfd);
/* Receive one fd a stub sent on its fd socket (non-blocking). */
int stubmaster_recv_fd(void);
/* Drop a message that no stub received (after a failed receive). */
void stubmaster_flush_fd(void);
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
