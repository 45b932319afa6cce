/* Client of the sentry's control socket (<state dir>/control.sock): one JSON
 * request line, one JSON reply line, per connection. */
#ifndef SHIM_CONTROL_H
#define SHIM_CONTROL_H

#include <jansson.h>
#include <stddef.h>

#define CTL_TIMEOUT_MS 10000
#define CTL_MAX_REPLY  (1u << 20)

/* Send req to the sentry of the container whose state dir is dir and wait
 * for its reply. Returns 0 when the reply says {"ok":true} (*reply, if not
 * NULL, gets it), -EIO with the sentry's error message in err when it says
 * {"ok":false,...}, or another negative errno with a description in err. */
int ctl_request(const char *dir, json_t *req, json_t **reply, char *err,
		size_t errlen);

#endif
