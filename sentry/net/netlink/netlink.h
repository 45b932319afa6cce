/* AF_NETLINK, NETLINK_ROUTE only (DESIGN decision 7): the guest's reads of
 * the routing tables, links, addresses and neighbours are answered for the
 * container's namespace by forwarding each request, once checked, to a host
 * NETLINK_ROUTE socket that the sentry opened there, and relaying the
 * replies. Requests that would change anything (RTM_NEW*, RTM_DEL*,
 * RTM_SET*) never reach the host: the guest gets the NLMSG_ERROR reply
 * EPERM that Linux gives a caller without CAP_NET_ADMIN (the guest's
 * capabilities are virtual; the sentry's are real). Other netlink
 * protocols are EPROTONOSUPPORT. */
#ifndef BULKHEAD_NET_NETLINK_H
#define BULKHEAD_NET_NETLINK_H

#include "sentry/net/socket.h"

extern const struct net_family netlink_family;

#endif
