/* The stub master: PID 1 of the sandbox's namespaces. Made once at boot; on
 * request it forks a new stub process that execs the embedded stub, so every
 * stub starts in the same user, PID, mount, IPC, UTS and network namespaces,
 * in an empty read-only root, without capabilities, with no_new_privs and no
 * fds but the fd-passing socket. It also reaps every stub (guest forks use
 * CLONE_PARENT so that stubs are its children). Shared by all platforms. */
#ifndef BULKHEAD_STUBMASTER_H
#define BULKHEAD_STUBMASTER_H

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

#endif
