/* AF_INET and AF_INET6 (DESIGN decision 7): each guest socket is a host
 * socket that the sentry made inside the container's network namespace
 * (sentry/net/netns.h), non-blocking, so that no sentry thread ever sleeps
 * in the host kernel: a guest that must wait sleeps on the socket's wait
 * queue, woken by the host-fd notifier (sentry/kernel/notifier.h). What the
 * guest may ask of the host socket is written down: the types and
 * protocols here, the options in inet_opt.c, the ioctls in inet_ioctl.c,
 * each with its reason. Raw and packet sockets are refused (EPERM): the
 * guest's capabilities are virtual and the sentry's are real. */
#ifndef BULKHEAD_NET_INET_H
#define BULKHEAD_NET_INET_H

#include <stdint.h>
#include <sys/socket.h>

#include "sentry/kernel/notifier.h"
#include "sentry/net/socket.h"

/* A socket's family state: immutable after create (the host serializes
 * what happens to the socket itself), the watch's own state under the
 * notifier's lock. */
struct inet_sock {
	int fd; /* the host socket, O_NONBLOCK, owned */
	struct host_watch watch;
};

extern const struct net_family inet_family, inet6_family, packet_family;

/* inet_opt.c: the option allowlist. */
int inet_setsockopt(struct socket *s, struct task *t, int level, int name,
		    const void *val, socklen_t len);
int inet_getsockopt(struct socket *s, struct task *t, int level, int name,
		    void *val, socklen_t *len);
/* inet_ioctl.c: the ioctl allowlist. */
long inet_ioctl(struct socket *s, struct task *t, unsigned cmd, uint64_t arg);
/* The interface queries (SIOCGIF*) of any socket, as Linux's dev_ioctl
 * answers them whatever the socket's family (glibc's if_nametoindex asks
 * an AF_UNIX socket): -ENOTTY for anything else. */
long inet_dev_ioctl(struct task *t, unsigned cmd, uint64_t arg);
/* Is this a control message the guest may send on s (and pass to the
 * host)? 1 yes, 0 ignore it (as Linux ignores unknown levels), -EINVAL. */
int inet_cmsg_send_ok(const struct socket *s, int level, int type);
/* Is this a control message the host gave that the guest may see? */
int inet_cmsg_recv_ok(const struct socket *s, int level, int type);

#endif
