/* How the sandbox ends: when init (pid 1) exits, main() is told its wait
 * status and ends the sentry with it. */
#ifndef BULKHEAD_EXIT_NOTIFY_H
#define BULKHEAD_EXIT_NOTIFY_H

void exit_notify_init(int status);
/* Blocks until init exited; returns its wait status. */
int exit_wait_init(void);

#endif
