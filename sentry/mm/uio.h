/* User-memory I/O sequences (gVisor's usermem.IOSequence, Linux's
 * iov_iter): the memory a read or write moves data to or from, as a list of
 * segments, consumed from the front. A file's read and write ops take one
 * and report how much they moved; a fault part-way stops the copy there and
 * the op returns the bytes moved so far, so readv/writev and short
 * transfers behave exactly as on Linux, with no bounce buffer in handlers
 * and no data taken from a pipe that the guest did not receive. Guest
 * segments go through mm/usercopy; a kernel uio (the ELF loader, sendfile)
 * has one segment in sentry memory. */
#ifndef BULKHEAD_UIO_H
#define BULKHEAD_UIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct task;

#define UIO_FASTIOV 8

/* Per-call flags (preadv2/pwritev2's RWF_*). */
#define UIO_NOWAIT 1u /* do not block: -EAGAIN instead */
#define UIO_APPEND 2u /* this write appends, whatever the file's flags */
#define UIO_DSYNC  4u /* this write is durable when it returns */

struct uio {
	struct task *t;
	struct iovec *iov; /* the current segment and those after it */
	int nseg;	   /* segments left, from iov */
	size_t off;	   /* bytes done of iov[0] */
	size_t resid;	   /* bytes left in all */
	bool kernel;	   /* segments are sentry memory */
	unsigned flags;	   /* UIO_* */
	struct iovec one;  /* storage for a one-segment uio */
};

/* Guest segments iov[0..cnt), already copied in and checked (lengths not
 * negative, ranges in the user half); the total is capped at MAX_RW_COUNT
 * as Linux caps it. The uio keeps pointing at iov. */
void uio_init_user(struct uio *u, struct task *t, struct iovec *iov, int cnt);
void uio_init_user1(struct uio *u, struct task *t, uint64_t addr, size_t len);
void uio_init_kernel(struct uio *u, void *buf, size_t len);

static inline size_t uio_resid(const struct uio *u)
{
	return u->resid;
}

/* Move up to n bytes of buf into the uio's memory (a read), advancing it.
 * Returns the bytes moved; fewer than asked only at a fault (or the end of
 * the uio); -EFAULT when n > 0 and nothing could be moved. */
ssize_t uio_copy_out(struct uio *u, const void *buf, size_t n);
/* Move up to n bytes of the uio's memory into buf (a write). */
ssize_t uio_copy_in(struct uio *u, void *buf, size_t n);
/* Fill up to n bytes with zeros (a read of /dev/zero, a hole). */
ssize_t uio_zero(struct uio *u, size_t n);
/* Read up to n bytes of host fd hostfd at off straight into the uio's
 * guest memory where the platform can (one copy, by the host kernel):
 * bytes read, or -EOPNOTSUPP when it cannot (read into sentry memory and
 * uio_copy_out instead), or -errno. Only the uio's first segment is used,
 * and only when it is large (DIRECT_READ_MIN). */
ssize_t uio_read_host(struct uio *u, int hostfd, uint64_t off, size_t n);

/* The usual body of a read of a host fd at *pos (a gofer file, a tmpfs
 * memfd): direct where it can be, else through a sentry buffer; *pos
 * advances by what the guest received. */
ssize_t uio_pread_fd(struct uio *u, int hostfd, uint64_t *pos);
/* The usual body of a write to a host fd at *pos. */
ssize_t uio_pwrite_fd(struct uio *u, int hostfd, uint64_t *pos);

#endif
