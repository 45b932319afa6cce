/* The embedded stub ELF (sentry/stub/stub.S), and the offsets the sentry
 * relies on. */
#ifndef BULKHEAD_STUB_H
#define BULKHEAD_STUB_H

#include "sentry/platform/platform.h"

extern const unsigned char stub_elf_start[];
extern const unsigned char stub_elf_end[];

#define STUB_GATE_RET (STUB_GATE + 2) /* rip after the gate's syscall */
#define STUB_PARK     (STUB_BASE + 0x10)

#endif
