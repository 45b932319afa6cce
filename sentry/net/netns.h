/* The container's network namespace (DESIGN decision 7): the sentry moves
 * into it at boot, before it starts any thread or confines itself, so that
 * every host socket it opens for the guest (inet, netlink) lives there and
 * the guest sees only that namespace. The /proc files that describe it are
 * opened then too and re-read later through those fds (pread at 0
 * regenerates a seq_file or sysctl), since after boot the sentry opens no
 * host path (rule 2). */
#ifndef BULKHEAD_NET_NETNS_H
#define BULKHEAD_NET_NETNS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

enum netns_mode {
	NETNS_SANDBOX, /* the config's namespace, or a fresh one */
	NETNS_NONE,    /* a fresh one with only lo up */
	NETNS_HOST,    /* the host's (trusted use only) */
};

/* The host files kept open, one per entry. */
enum netns_file {
	NETNS_DEV,
	NETNS_TCP,
	NETNS_TCP6,
	NETNS_UDP,
	NETNS_UDP6,
	NETNS_ROUTE,
	NETNS_IF_INET6,
	NETNS_SNMP,
	NETNS_PORT_RANGE,
	NETNS_SOMAXCONN,
	NETNS_PING_GROUP,
	NETNS_NFILES,
};

/* Parse --network's value; -EINVAL if unknown. */
int netns_parse_mode(const char *s, enum netns_mode *out);
/* Enter the namespace: nsfd (>= 0, sandbox mode: the config's, opened by
 * the CLI; closed here) is joined; otherwise, in sandbox and none modes, a
 * fresh namespace is made and its lo brought up. Then the files are
 * opened. Call first thing in main, on the only thread. On failure a line
 * in err. */
int netns_setup(enum netns_mode mode, int nsfd, char *err, size_t errlen);
enum netns_mode netns_mode(void);
/* The file's current contents, up to cap bytes (a pread at 0 of the fd
 * kept from boot): bytes, or -ENOENT when the host has no such file. */
ssize_t netns_read(enum netns_file which, char *buf, size_t cap);
/* Does the host have the file (IPv6 may be off, for one)? */
bool netns_has(enum netns_file which);

#endif
