/* --strace: one log line per guest syscall, decoded by the table's
 * argument shapes. */
#ifndef BULKHEAD_STRACE_H
#define BULKHEAD_STRACE_H

#include <stdint.h>

struct task;
void strace_log(struct task *t, long nr, const uint64_t a[6], long ret);

#endif
