/* eventfd (Linux fs/eventfd.c): a 64-bit counter as a file. A write adds
 * to it (blocking while the sum would pass 2^64 - 2), a read takes it all,
 * or 1 with EFD_SEMAPHORE (blocking while it is 0). */
#ifndef BULKHEAD_EVENTFD_H
#define BULKHEAD_EVENTFD_H

#include <stdint.h>

struct file;

/* eventfd2(initval, flags): flags already checked (EFD_SEMAPHORE,
 * EFD_NONBLOCK; EFD_CLOEXEC is the caller's). */
int eventfd_create_file(unsigned initval, int flags, struct file **out);

#endif
