#include "sentry/mm/uio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sentry/kernel/lock.h"
#include "sentry/mm/usercopy.h"

#define MAX_RW_COUNT	 0x7ffff000UL /* INT_MAX & PAGE_MASK, as Linux */
#define UIO_CHUNK	 (64u << 10)  /* a sentry buffer for host I/O */
#define DIRECT_READ_MIN	 (64u << 10)
#define DIRECT_READ_STEP (1u << 20)

void uio_init_user(struct uio *u, struct task *t, struct iovec *iov, int cnt)
{
	memset(u, 0, sizeof(*u));
	u->t = t;
	u->iov = iov;
	u->nseg = cnt;
	size_t total = 0;
	for (int i = 0; i < cnt; i++) {
		if (iov[i].iov_len > MAX_RW_COUNT - total)
			iov[i].iov_len = MAX_RW_COUNT - total;
		total += iov[i].iov_len;
	}
	u->resid = total;
}

void uio_init_user1(struct uio *u, struct task *t, uint64_t addr, size_t len)
{
	if (len > MAX_RW_COUNT)
		len = MAX_RW_COUNT;
	memset(u, 0, sizeof(*u));
	u->t = t;
	u->one.iov_base = (void *)(uintptr_t)addr;
	u->one.iov_len = len;
	u->iov = &u->one;
	u->nseg = 1;
	u->resid = len;
}

void uio_init_kernel(struct uio *u, void *buf, size_t len)
{
	memset(u, 0, sizeof(*u));
	u->kernel = true;
	u->one.iov_base = buf;
	u->one.iov_len = len;
	u->iov = &u->one;
	u->nseg = 1;
	u->resid = len;
}

/* Skip finished and empty segments. */
static void uio_settle(struct uio *u)
{
	while (u->nseg && u->off >= u->iov[0].iov_len) {
		u->iov++;
		u->nseg--;
		u->off = 0;
	}
}

static void uio_advance(struct uio *u, size_t n)
{
	u->off += n;
	u->resid -= n;
	uio_settle(u);
}

/* One direction of the copy; out: from buf into the uio's memory. */
static ssize_t uio_move(struct uio *u, void *buf, size_t n, bool out, bool zero)
{
	size_t done = 0;
	if (n > u->resid)
		n = u->resid;
	uio_settle(u);
	while (done < n && u->nseg) {
		size_t k = u->iov[0].iov_len - u->off;
		if (k > n - done)
			k = n - done;
		char *seg = (char *)u->iov[0].iov_base + u->off;
		char *b = (char *)buf + (zero ? 0 : done);
		ssize_t c;
		if (u->kernel) {
			if (out)
				memcpy(seg, b, k);
			else
				memcpy(b, seg, k);
			c = (ssize_t)k;
		} else if (out) {
			c = copy_to_user_partial(u->t, (uint64_t)(uintptr_t)seg,
						 b, k);
		} else {
			c = copy_from_user_partial(u->t, b,
						   (uint64_t)(uintptr_t)seg, k);
		}
		if (c <= 0)
			break;
		uio_advance(u, (size_t)c);
		done += (size_t)c;
		if ((size_t)c < k)
			break; /* a fault: stop exactly there */
	}
	if (done == 0 && n > 0)
		return -EFAULT;
	return (ssize_t)done;
}

ssize_t uio_copy_out(struct uio *u, const void *buf, size_t n)
{
	return uio_move(u, (void *)buf, n, true, false);
}

ssize_t uio_copy_in(struct uio *u, void *buf, size_t n)
{
	return uio_move(u, buf, n, false, false);
}

ssize_t uio_zero(struct uio *u, size_t n)
{
	static const char zeros[4096];
	size_t done = 0;
	while (done < n) {
		size_t k = n - done < sizeof(zeros) ? n - done : sizeof(zeros);
		ssize_t c = uio_move(u, (void *)zeros, k, true, true);
		if (c < 0)
			return done ? (ssize_t)done : c;
		done += (size_t)c;
		if ((size_t)c < k)
			break;
	}
	return (ssize_t)done;
}

ssize_t uio_read_host(struct uio *u, int hostfd, uint64_t off, size_t n)
{
	uio_settle(u);
	if (u->kernel || !u->nseg)
		return -EOPNOTSUPP;
	size_t seg = u->iov[0].iov_len - u->off;
	if (n > seg)
		n = seg;
	if (n < DIRECT_READ_MIN)
		return -EOPNOTSUPP;
	if (n > DIRECT_READ_STEP)
		n = DIRECT_READ_STEP;
	uint64_t dst = (uint64_t)(uintptr_t)u->iov[0].iov_base + u->off;
	ssize_t r = copy_to_user_from_fd(u->t, dst, hostfd, n, off);
	if (r > 0)
		uio_advance(u, (size_t)r);
	return r;
}

ssize_t uio_pread_fd(struct uio *u, int hostfd, uint64_t *pos)
{
	size_t done = 0;
	char *buf = NULL;
	ssize_t ret = 0;
	while (uio_resid(u) > 0) {
		ssize_t r = uio_read_host(u, hostfd, *pos, uio_resid(u));
		if (r != -EOPNOTSUPP) {
			if (r < 0) {
				ret = r;
				break;
			}
			*pos += (uint64_t)r;
			done += (size_t)r;
			if (r == 0)
				break;
			continue;
		}
		size_t want =
		    uio_resid(u) < UIO_CHUNK ? uio_resid(u) : UIO_CHUNK;
		if (u->kernel) {
			/* Straight into the caller's sentry buffer. */
			lock_might_block("host file read");
			char *dst = (char *)u->iov[0].iov_base + u->off;
			size_t seg = u->iov[0].iov_len - u->off;
			r = pread(hostfd, dst, want < seg ? want : seg,
				  (off_t)*pos);
			if (r < 0) {
				ret = -errno;
				break;
			}
			uio_advance(u, (size_t)r);
			*pos += (uint64_t)r;
			done += (size_t)r;
			if (r == 0)
				break;
			continue;
		}
		if (!buf && !(buf = malloc(UIO_CHUNK))) {
			ret = -ENOMEM;
			break;
		}
		lock_might_block("host file read");
		r = pread(hostfd, buf, want, (off_t)*pos);
		if (r < 0) {
			ret = -errno;
			break;
		}
		if (r == 0)
			break;
		ssize_t c = uio_copy_out(u, buf, (size_t)r);
		if (c < 0) {
			ret = c;
			break;
		}
		/* The offset moves by what the guest received. */
		*pos += (uint64_t)c;
		done += (size_t)c;
		if (c < r || (size_t)r < want)
			break;
	}
	free(buf);
	return done ? (ssize_t)done : ret;
}

ssize_t uio_pwrite_fd(struct uio *u, int hostfd, uint64_t *pos)
{
	size_t done = 0;
	char small[512], *buf = small;
	size_t cap = sizeof(small);
	ssize_t ret = 0;
	if (uio_resid(u) > cap) {
		cap = uio_resid(u) < UIO_CHUNK ? uio_resid(u) : UIO_CHUNK;
		buf = malloc(cap);
		if (!buf)
			return -ENOMEM;
	}
	while (uio_resid(u) > 0) {
		size_t want = uio_resid(u) < cap ? uio_resid(u) : cap;
		ssize_t c = uio_copy_in(u, buf, want);
		if (c < 0) {
			ret = c;
			break;
		}
		lock_might_block("host file write");
		ssize_t r = pwrite(hostfd, buf, (size_t)c, (off_t)*pos);
		if (r < 0) {
			ret = -errno;
			break;
		}
		*pos += (uint64_t)r;
		done += (size_t)r;
		if (r < c || (size_t)c < want)
			break;
	}
	if (buf != small)
		free(buf);
	return done ? (ssize_t)done : ret;
}
