/* The one place that decides how guest memory is reached. Every access to
 * guest memory by the sentry goes through these. Addresses are guest
 * virtual addresses and are never trusted. */
#ifndef BULKHEAD_USERCOPY_H
#define BULKHEAD_USERCOPY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct task;
struct process;
struct mm;

/* Copy n bytes; 0 or -EFAULT (nothing partial is reported as success). */
int copy_from_user(struct task *t, void *dst, uint64_t src, size_t n);
int copy_to_user(struct task *t, uint64_t dst, const void *src, size_t n);
/* Like Linux strncpy_from_user: copies a NUL-terminated string of at most
 * cap-1 bytes plus NUL. Returns the length, -EFAULT, or -ENAMETOOLONG if
 * no NUL within cap-1 bytes. */
long strncpy_from_user(struct task *t, char *dst, uint64_t src, size_t cap);
/* A path argument: PATH_MAX bounded, empty -> -ENOENT. */
long copy_path_from_user(struct task *t, char *dst, uint64_t src);
/* Zero-fill n bytes of guest memory. */
int clear_user(struct task *t, uint64_t dst, size_t n);
/* Partial copies for read-like syscalls: returns bytes copied (may be less
 * than n at an unmapped page), or -EFAULT if none. */
ssize_t copy_to_user_partial(struct task *t, uint64_t dst, const void *src,
			     size_t n);
ssize_t copy_from_user_partial(struct task *t, void *dst, uint64_t src,
			       size_t n);
/* Read a NULL-terminated array of string pointers (argv/envp) into one
 * NUL-separated blob; *vec (count + 1 entries, NULL-terminated) points into
 * it. Bounded by max_total bytes (strings, their NULs and one pointer
 * each, as they will cost on the new stack), max_count entries and 128 KiB
 * per string (-E2BIG). A NULL uvec is an empty array. Returns the count or
 * a negative errno (-E2BIG, -EFAULT, -ENOMEM). The caller frees *blob and
 * *vec. */
/* Read up to n bytes of host fd hostfd at off straight into guest memory
 * at dst, where the platform can run the read in the guest's own address
 * space (one copy, made by the host kernel): bytes read or -errno;
 * -EOPNOTSUPP when it cannot (copy through the sentry instead). */
ssize_t copy_to_user_from_fd(struct task *t, uint64_t dst, int hostfd, size_t n,
			     uint64_t off);

/* An atomic read-modify-write of the aligned 32-bit guest word at addr,
 * done in the guest's own address space (the calling task's): op is one
 * of the UA_* below; for UA_CMPXCHG the word becomes arg if it was cmp.
 * *old gets the word's previous value. 0, -EFAULT. */
#define UA_SET	   0 /* = FUTEX_OP_SET, and so on */
#define UA_ADD	   1
#define UA_OR	   2
#define UA_ANDN	   3
#define UA_XOR	   4
#define UA_CMPXCHG 5
int user_atomic32(struct task *t, uint64_t addr, int op, uint32_t arg,
		  uint32_t cmp, uint32_t *old);

/* Read up to n bytes of another process's memory (/proc/<pid>/environ):
 * bytes read, -EFAULT if none, -ESRCH if mm is no longer p's or p has no
 * live thread. The caller holds references on p and mm. Takes tasklist. */
ssize_t copy_from_process(struct process *p, struct mm *mm, void *dst,
			  uint64_t src, size_t n);

long copy_strings_from_user(struct task *t, uint64_t uvec, size_t max_count,
			    size_t max_total, char ***vec, char **blob);

#endif
