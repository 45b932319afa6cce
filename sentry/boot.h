/* Boot: from config.json to a created container (init loaded, waiting for
 * `start`), then the run until init exits. */
#ifndef BULKHEAD_SENTRY_BOOT_H
#define BULKHEAD_SENTRY_BOOT_H

#include <stdbool.h>

#include "bulkhead/config.h"

struct boot_args {
	const char *id;
	struct bh_config *cfg;
	int gofer_fd;
	bool strace;
};

/* Create init and load its program; returns 0 or -errno with a message in
 * err (what `bulkhead create` prints). */
int boot_create(const struct boot_args *a, char *err, size_t errlen);
/* Let init run (the control socket's start). -EALREADY if started. */
int boot_start(void);

#endif
