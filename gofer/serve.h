/* The gofer's request loop, callable with pre-opened exports so that tests
 * can run it without confinement. */
#ifndef GOFER_SERVE_H
#define GOFER_SERVE_H

#include <stdint.h>

#include "gofer/export.h"
#include "gofer/node.h"

struct gofer_server {
	struct gofer_export *exports; /* borrowed */
	unsigned nexports;
	struct gofer_node_table nodes;
	uint8_t *rx, *tx; /* GP_MSG_MAX each */
};

/* Also sets umask 0 (the sentry applies the guest's umask to modes) and
 * raises RLIMIT_NOFILE to its hard limit to size the node fd LRU
 * (fdbudget.h): call it before confinement. */
int gofer_server_init(struct gofer_server *s, struct gofer_export *exports,
		      unsigned nexports);
void gofer_server_destroy(struct gofer_server *s);

/* Answers requests on the SOCK_SEQPACKET sock until the peer closes it.
 * Returns 0 on EOF, a negative errno on a transport failure. */
int gofer_serve(struct gofer_server *s, int sock);

#endif
