/* The sentry's own confinement, applied once boot no longer needs host
 * paths: an empty mount namespace root and a seccomp allowlist. */
#ifndef BULKHEAD_SENTRY_CONFINE_H
#define BULKHEAD_SENTRY_CONFINE_H

/* Must run while the sentry is single-threaded. 0 or -errno. */
int sentry_confine(void);

#endif
