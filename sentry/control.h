/* The control socket: one JSON request per line from the CLI (start, kill,
 * ps), one JSON reply per line. */
#ifndef BULKHEAD_SENTRY_CONTROL_H
#define BULKHEAD_SENTRY_CONTROL_H

/* Serve the listening socket fd on a new thread. */
int control_start(int listen_fd);

/* Wait (at most 2 s) for a reply being written to go out. */
void control_quiesce(void);

#endif
