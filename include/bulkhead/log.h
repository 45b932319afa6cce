/* Logging shared by the CLI, the gofer and the sentry: one line per record,
 * to the fd given by --log (default stderr for the CLI, none for the others),
 * as text or as the JSON lines containerd reads ({"level":…,"msg":…,"time":…}).
 */
#ifndef BULKHEAD_LOG_H
#define BULKHEAD_LOG_H

#include <stdbool.h>

enum bh_log_level { BH_LOG_DEBUG, BH_LOG_INFO, BH_LOG_WARN, BH_LOG_ERROR };

/* fd < 0 disables logging; json selects the JSON line format; debug enables
 * BH_LOG_DEBUG records. prog is prefixed to text records ("bulkhead-sentry").
 */
void bh_log_init(const char *prog, int fd, bool json, bool debug);
/* Replace control characters (newlines included) with '?' in place: a
 * message carrying a guest's or a caller's string stays one line, and no
 * one forges a record. Every record goes through it. */
void bh_log_sanitize(char *s);
int bh_log_fd(void);
bool bh_log_debug_enabled(void);
void bh_log(enum bh_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define bh_debug(...) bh_log(BH_LOG_DEBUG, __VA_ARGS__)
#define bh_info(...)  bh_log(BH_LOG_INFO, __VA_ARGS__)
#define bh_warn(...)  bh_log(BH_LOG_WARN, __VA_ARGS__)
#define bh_error(...) bh_log(BH_LOG_ERROR, __VA_ARGS__)

#endif
