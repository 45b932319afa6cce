/* File descriptors received with SCM_RIGHTS: every receiver keeps at most
 * the one it expects and closes the rest, so a confused or hostile peer
 * cannot make it leak fds. */
#ifndef BULKHEAD_FDPASS_H
#define BULKHEAD_FDPASS_H

#include <sys/socket.h>

/* Walk mh's SCM_RIGHTS fds: the first goes to *keep when keep is non-NULL
 * and *keep < 0; every other is closed. Returns how many were closed. */
int fdpass_take(struct msghdr *mh, int *keep);

#endif
