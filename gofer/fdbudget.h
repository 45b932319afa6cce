/* How many host fds the gofer's nodes may keep open at once: the capacity
 * of the node fd LRU (nodefd.h), derived from RLIMIT_NOFILE. */
#ifndef GOFER_FDBUDGET_H
#define GOFER_FDBUDGET_H

#include <stddef.h>

/* Never fewer than this, however low the limit: a WALK pins one fd per
 * component for the length of the request. */
#define GOFER_FD_BUDGET_MIN 16u

/* Raises the soft RLIMIT_NOFILE to the hard limit (no privilege needed;
 * failure is ignored), then returns the limit minus a reserve for the fds
 * that are not nodes': stdio, the socket, the log, three per export, the
 * request's transient fds (a donated file, a reopen for SETATTR, CREATE's
 * open file) and anything libc or the sanitizers open, plus a sixteenth of
 * the limit as slack. Must run before the seccomp filter. */
size_t gofer_fd_budget(unsigned nexports);

#endif
