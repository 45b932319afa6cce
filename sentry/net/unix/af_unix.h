/* The AF_UNIX family, for the socket layer's table of built-in families. */
#ifndef BULKHEAD_NET_AF_UNIX_H
#define BULKHEAD_NET_AF_UNIX_H

#include "sentry/net/socket.h"

extern const struct net_family unix_family;

/* /proc/net/unix: the text in a malloc'd *out, its length, or -errno. */
long unix_proc_net_unix(char **out);

#endif
