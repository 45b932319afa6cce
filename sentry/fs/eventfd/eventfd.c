/* eventfds. The counter is under ctx->lock, a spin lock never held across
 * the copy to or from the guest (8 bytes, copied after the counter moved,
 * as Linux does); readers and writers sleep on one queue, woken with the
 * direction that opened up. */
#include "sentry/fs/eventfd/eventfd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>

#include "sentry/kernel/task.h"
#include "sentry/kernel/waitq.h"
#include "sentry/mm/uio.h"
#include "sentry/vfs/fs.h"

#define EVENTFD_MAX 0xfffffffffffffffeull

struct eventfd_ctx {
	struct kmutex lock;
	uint64_t count; /* lock */
	bool semaphore; /* immutable */
	struct waitq wq;
};

static ssize_t efd_read(struct file *f, struct uio *u, uint64_t *pos)
{
	(void)pos;
	struct eventfd_ctx *ctx = f->priv;
	struct task *t = u->t;
	if (uio_resid(u) < sizeof(uint64_t))
		return -EINVAL;
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLIN);
	uint64_t val = 0;
	ssize_t ret = 0;
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		kmutex_lock(&ctx->lock);
		if (ctx->count) {
			val = ctx->semaphore ? 1 : ctx->count;
			ctx->count -= val;
			kmutex_unlock(&ctx->lock);
			break;
		}
		kmutex_unlock(&ctx->lock);
		if ((f->flags & O_NONBLOCK) || (u->flags & UIO_NOWAIT)) {
			ret = -EAGAIN;
			break;
		}
		if (!we.q) {
			waitq_add(&ctx->wq, &we);
			continue;
		}
		if (task_sleep(t, seq, NULL, SLEEP_INTR) == -EINTR) {
			ret = -ERESTARTSYS;
			break;
		}
	}
	waitq_remove(&we);
	if (ret)
		return ret;
	waitq_wake(&ctx->wq, POLLOUT | POLLWRNORM);
	ssize_t c = uio_copy_out(u, &val, sizeof(val));
	return c == sizeof(val) ? (ssize_t)sizeof(val) : -EFAULT;
}

static ssize_t efd_write(struct file *f, struct uio *u, uint64_t *pos)
{
	(void)pos;
	struct eventfd_ctx *ctx = f->priv;
	struct task *t = u->t;
	uint64_t val;
	/* Exactly 8 bytes (Linux since 6.x; a read may ask for more). */
	if (uio_resid(u) != sizeof(val))
		return -EINVAL;
	if (uio_copy_in(u, &val, sizeof(val)) != sizeof(val))
		return -EFAULT;
	if (val == UINT64_MAX)
		return -EINVAL;
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLOUT);
	ssize_t ret = sizeof(val);
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		kmutex_lock(&ctx->lock);
		if (EVENTFD_MAX - ctx->count >= val) {
			ctx->count += val;
			kmutex_unlock(&ctx->lock);
			break;
		}
		kmutex_unlock(&ctx->lock);
		if ((f->flags & O_NONBLOCK) || (u->flags & UIO_NOWAIT)) {
			ret = -EAGAIN;
			break;
		}
		if (!we.q) {
			waitq_add(&ctx->wq, &we);
			continue;
		}
		if (task_sleep(t, seq, NULL, SLEEP_INTR) == -EINTR) {
			ret = -ERESTARTSYS;
			break;
		}
	}
	waitq_remove(&we);
	if (ret > 0 && val)
		waitq_wake(&ctx->wq, POLLIN | POLLRDNORM);
	return ret;
}

static uint32_t eventfd_poll(struct file *f, struct poll_table *pt)
{
	struct eventfd_ctx *ctx = f->priv;
	poll_wait(pt, &ctx->wq);
	kmutex_lock(&ctx->lock);
	uint64_t c = ctx->count;
	kmutex_unlock(&ctx->lock);
	uint32_t m = 0;
	if (c > 0)
		m |= POLLIN | POLLRDNORM;
	if (c == UINT64_MAX)
		m |= POLLERR;
	if (c < EVENTFD_MAX)
		m |= POLLOUT | POLLWRNORM;
	return m;
}

static int eventfd_show_fdinfo(struct file *f, char *buf, size_t cap)
{
	struct eventfd_ctx *ctx = f->priv;
	kmutex_lock(&ctx->lock);
	uint64_t c = ctx->count;
	kmutex_unlock(&ctx->lock);
	return snprintf(buf, cap,
			"eventfd-count: %16llx\neventfd-id: %llu\n"
			"eventfd-semaphore: %d\n",
			(unsigned long long)c,
			(unsigned long long)f->inode->ino, ctx->semaphore);
}

static void eventfd_release(struct file *f)
{
	struct eventfd_ctx *ctx = f->priv;
	kmutex_destroy(&ctx->lock);
	free(ctx);
}

static const struct file_ops eventfd_fops = {
    .read = efd_read,
    .write = efd_write,
    .poll = eventfd_poll,
    .llseek = noop_llseek,
    .show_fdinfo = eventfd_show_fdinfo,
    .release = eventfd_release,
};

int eventfd_create_file(unsigned initval, int flags, struct file **out)
{
	struct eventfd_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	kmutex_init(&ctx->lock, "eventfd", LR_LEAF);
	waitq_init(&ctx->wq);
	ctx->count = initval;
	ctx->semaphore = flags & EFD_SEMAPHORE;
	int r = anon_file_new("[eventfd]", &eventfd_fops, ctx,
			      O_RDWR | (flags & O_NONBLOCK), out);
	if (r) {
		kmutex_destroy(&ctx->lock);
		free(ctx);
	}
	return r;
}
