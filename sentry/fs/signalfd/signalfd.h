/* signalfd (Linux fs/signalfd.c): reading takes pending signals of the
 * reader (its thread's, then its process's) that are in the file's mask,
 * as struct signalfd_siginfo, instead of delivering them. Readiness is
 * the reader's: a signalfd inherited across fork reads the child's
 * signals in the child. */
#ifndef BULKHEAD_SIGNALFD_H
#define BULKHEAD_SIGNALFD_H

#include <stdbool.h>
#include <stdint.h>

struct file;

/* mask: signals 1..64 as bits (sig - 1); SIGKILL and SIGSTOP are
 * dropped. flags: SFD_NONBLOCK (SFD_CLOEXEC is the caller's). */
int signalfd_create_file(uint64_t mask, int flags, struct file **out);
bool file_is_signalfd(struct file *f);
/* signalfd(fd, mask) on an existing one: replace the mask. */
void signalfd_set_mask(struct file *f, uint64_t mask);

#endif
