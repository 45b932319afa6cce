/* Pipes (Linux fs/pipe.c): a ring buffer; readers sleep on rq, writers on
 * wq. Writes of at most PIPE_BUF bytes are atomic; larger ones may be split
 * and interleaved. The ring is under the pipe's mutex, a sleep lock held
 * across the copy to or from the guest (as Linux's pipe->mutex), never
 * while sleeping; poll reads the counts without it (they are atomics, and a
 * poller registers before it looks). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "sentry/fs/pipe/pipe.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/uio.h"
#include "sentry/mm/usercopy.h"

struct pipe {
	struct kmutex mutex;
	struct waitq rq, wq;
	char *buf;	  /* mutex */
	size_t cap, head; /* mutex (cap read by F_GETPIPE_SZ without) */
	_Atomic size_t len;
	_Atomic int readers, writers;
	/* Opens ever made for reading and for writing: a FIFO open that
	 * waits for its partner waits for these to move (Linux's
	 * r_counter/w_counter), and the partner wakes oq. */
	_Atomic unsigned r_counter, w_counter;
	struct waitq oq;
};

static const struct file_ops pipe_fops;
static const struct inode_ops pipe_iops;

void pipe_inode_free(struct inode *inode)
{
	struct pipe *p = inode->i_pipe;
	if (p) {
		free(p->buf);
		kmutex_destroy(&p->mutex);
		free(p);
		inode->i_pipe = NULL;
	}
}

static const struct super_ops pipe_sops = {0};
static struct super_block pipe_sb = {
    .fstype = "pipefs",
    .ops = &pipe_sops,
    .dev = 0xc,
    .flags = SB_NOCACHE,
};

/* Data moves in steps of at most a page, as Linux's pipe buffers do: a
 * guest buffer that faults part-way through a step takes nothing of that
 * step from the pipe (the call then returns what earlier steps moved, or
 * -EFAULT), so no data the guest did not receive is lost. */
#define PIPE_STEP 4096

/* Copy the ring's first n bytes (n <= len) into u, across the wrap. */
static ssize_t ring_peek(struct pipe *p, struct uio *u, size_t n)
{
	size_t first = p->cap - p->head;
	if (first > n)
		first = n;
	ssize_t c = uio_copy_out(u, p->buf + p->head, first);
	if (c < (ssize_t)first || first == n)
		return c;
	ssize_t d = uio_copy_out(u, p->buf, n - first);
	return d < 0 ? c : c + d;
}

static ssize_t ring_get(struct pipe *p, struct uio *u, size_t n)
{
	size_t done = 0;
	while (done < n && p->len) {
		size_t k = n - done;
		if (k > p->len)
			k = p->len;
		if (k > PIPE_STEP)
			k = PIPE_STEP;
		ssize_t c = ring_peek(p, u, k);
		if (c < (ssize_t)k)
			return done ? (ssize_t)done : -EFAULT;
		p->head = (p->head + k) % p->cap;
		p->len -= k;
		done += k;
	}
	if (p->len == 0)
		p->head = 0;
	return (ssize_t)done;
}

static ssize_t pipe_read(struct file *f, struct uio *u, uint64_t *pos)
{
	(void)pos;
	struct task *t = u->t;
	struct pipe *p = f->inode->i_pipe;
	if (uio_resid(u) == 0)
		return 0;
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLIN | POLLHUP);
	ssize_t ret;
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		kmutex_lock(&p->mutex);
		if (p->len > 0) {
			ret = ring_get(p, u, uio_resid(u));
			kmutex_unlock(&p->mutex);
			if (ret > 0)
				waitq_wake(&p->wq, POLLOUT | POLLWRNORM);
			break;
		}
		kmutex_unlock(&p->mutex);
		if (p->writers == 0) {
			ret = 0;
			break;
		}
		if ((f->flags & O_NONBLOCK) || (u->flags & UIO_NOWAIT)) {
			ret = -EAGAIN;
			break;
		}
		if (!we.q)
			waitq_add(&p->rq, &we);
		if (task_sleep(t, seq, NULL, SLEEP_INTR) == -EINTR) {
			ret = -ERESTARTSYS;
			break;
		}
	}
	waitq_remove(&we);
	return ret;
}

static void ring_append(struct pipe *p, const char *src, size_t n)
{
	size_t tail = (p->head + p->len) % p->cap;
	size_t first = p->cap - tail;
	if (first > n)
		first = n;
	memcpy(p->buf + tail, src, first);
	memcpy(p->buf, src + first, n - first);
	p->len += n;
}

/* Move up to n bytes (n <= free space) from u into the ring, a step at a
 * time through a page of sentry memory. */
static ssize_t ring_put(struct pipe *p, struct uio *u, size_t n)
{
	char step[PIPE_STEP];
	size_t done = 0;
	while (done < n) {
		size_t k = n - done < PIPE_STEP ? n - done : PIPE_STEP;
		ssize_t c = uio_copy_in(u, step, k);
		if (c < (ssize_t)k)
			return done ? (ssize_t)done : -EFAULT;
		ring_append(p, step, k);
		done += k;
	}
	return (ssize_t)done;
}

static ssize_t pipe_write(struct file *f, struct uio *u, uint64_t *pos)
{
	(void)pos;
	struct task *t = u->t;
	struct pipe *p = f->inode->i_pipe;
	size_t n = uio_resid(u), done = 0;
	/* Writes of at most PIPE_BUF bytes are not interleaved with others:
	 * they wait for room for all of it. */
	bool atomic = n <= PIPE_ATOMIC;
	if (n == 0)
		return 0;
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLOUT | POLLERR);
	ssize_t ret;
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		if (p->readers == 0) {
			signal_send_task(t, SIGPIPE, NULL);
			ret = done ? (ssize_t)done : -EPIPE;
			break;
		}
		kmutex_lock(&p->mutex);
		size_t space = p->cap - p->len;
		if (atomic ? space >= n : space > 0) {
			size_t want = n - done < space ? n - done : space;
			ssize_t c = ring_put(p, u, want);
			kmutex_unlock(&p->mutex);
			if (c > 0) {
				done += (size_t)c;
				waitq_wake(&p->rq, POLLIN | POLLRDNORM);
			}
			/* Done, or the guest's buffer faulted. */
			if (done == n || c < (ssize_t)want) {
				ret = done ? (ssize_t)done : c;
				break;
			}
			continue;
		}
		kmutex_unlock(&p->mutex);
		if ((f->flags & O_NONBLOCK) || (u->flags & UIO_NOWAIT)) {
			ret = done ? (ssize_t)done : -EAGAIN;
			break;
		}
		if (!we.q)
			waitq_add(&p->wq, &we);
		if (task_sleep(t, seq, NULL, SLEEP_INTR) == -EINTR) {
			ret = done ? (ssize_t)done : -ERESTARTSYS;
			break;
		}
	}
	waitq_remove(&we);
	return ret;
}

static uint32_t pipe_poll(struct file *f, struct poll_table *pt)
{
	struct pipe *p = f->inode->i_pipe;
	uint32_t m = 0;
	if (f->fmode & FMODE_READ)
		poll_wait(pt, &p->rq);
	if (f->fmode & FMODE_WRITE)
		poll_wait(pt, &p->wq);
	if (f->fmode & FMODE_READ) {
		if (p->len)
			m |= POLLIN | POLLRDNORM;
		if (!p->writers)
			m |= POLLHUP;
	}
	if (f->fmode & FMODE_WRITE) {
		if (p->len < __atomic_load_n(&p->cap, __ATOMIC_RELAXED))
			m |= POLLOUT | POLLWRNORM;
		if (!p->readers)
			m |= POLLERR;
	}
	return m;
}

static long pipe_ioctl(struct file *f, struct task *t, unsigned cmd,
		       uint64_t arg)
{
	struct pipe *p = f->inode->i_pipe;
	if (cmd != FIONREAD)
		return -ENOTTY;
	int n = (int)p->len;
	return copy_to_user(t, arg, &n, sizeof(n));
}

static void pipe_release(struct file *f)
{
	struct pipe *p = f->inode->i_pipe;
	if (f->fmode & FMODE_READ && atomic_fetch_sub(&p->readers, 1) == 1)
		waitq_wake(&p->wq, POLLERR | POLLOUT);
	if (f->fmode & FMODE_WRITE && atomic_fetch_sub(&p->writers, 1) == 1)
		waitq_wake(&p->rq, POLLHUP | POLLIN);
	/* A FIFO's data goes with its last opener, as on Linux. */
	if (!p->readers && !p->writers) {
		kmutex_lock(&p->mutex);
		if (!p->readers && !p->writers)
			p->len = p->head = 0;
		kmutex_unlock(&p->mutex);
	}
}

static const struct file_ops pipe_fops = {
    .read = pipe_read,
    .write = pipe_write,
    .poll = pipe_poll,
    .ioctl = pipe_ioctl,
    .release = pipe_release,
};

/* Reopen through /proc/pid/fd/N: another reader or writer. */
static int pipe_open(struct inode *inode, struct file *f)
{
	struct pipe *p = inode->i_pipe;
	f->fops = &pipe_fops;
	if (f->fmode & FMODE_READ)
		p->readers++;
	if (f->fmode & FMODE_WRITE)
		p->writers++;
	return 0;
}

static const struct inode_ops pipe_iops = {.open = pipe_open};

bool file_is_pipe(struct file *f)
{
	return f->fops == &pipe_fops;
}

static struct pipe *pipe_alloc(void)
{
	struct pipe *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->cap = PIPE_DEF_SIZE;
	p->buf = malloc(p->cap);
	if (!p->buf) {
		free(p);
		return NULL;
	}
	kmutex_init(&p->mutex, "pipe", LR_PIPE);
	waitq_init(&p->rq);
	waitq_init(&p->wq);
	waitq_init(&p->oq);
	return p;
}

int pipe_create(int flags, struct file **rd, struct file **wr)
{
	struct pipe *p = pipe_alloc();
	if (!p)
		return -ENOMEM;
	struct inode *inode = inode_new(&pipe_sb, S_IFIFO | 0600);
	if (!inode) {
		free(p->buf);
		free(p);
		return -ENOMEM;
	}
	inode->i_pipe = p;
	inode->iops = &pipe_iops;
	inode->uid = task_fsuid(current);
	inode->gid = task_fsgid(current);
	char name[48];
	snprintf(name, sizeof(name), "pipe:[%llu]",
		 (unsigned long long)inode->ino);
	struct path path;
	int r = anon_path(inode, name, &path);
	if (r) {
		inode_put(inode);
		return r;
	}
	int nb = flags & O_NONBLOCK;
	struct file *r_f = file_alloc(&path, inode, O_RDONLY | nb);
	struct file *w_f = file_alloc(&path, inode, O_WRONLY | nb);
	path_put(&path);
	inode_put(inode);
	if (!r_f || !w_f) {
		/* Not yet counted as readers/writers: no release. */
		if (r_f)
			r_f->fops = NULL;
		if (w_f)
			w_f->fops = NULL;
		file_put(r_f);
		file_put(w_f);
		return -ENOMEM;
	}
	pipe_open(inode, r_f);
	pipe_open(inode, w_f);
	*rd = r_f;
	*wr = w_f;
	return 0;
}

long pipe_get_size(struct file *f)
{
	if (!file_is_pipe(f))
		return -EBADF;
	return (long)__atomic_load_n(&((struct pipe *)f->inode->i_pipe)->cap,
				     __ATOMIC_RELAXED);
}

long pipe_set_size(struct file *f, unsigned long size)
{
	if (!file_is_pipe(f))
		return -EBADF;
	struct pipe *p = f->inode->i_pipe;
	if (size > PIPE_MAX_SIZE)
		return -EPERM;
	size_t cap = 4096;
	while (cap < size)
		cap *= 2;
	char *nb = malloc(cap);
	if (!nb)
		return -ENOMEM;
	kmutex_lock(&p->mutex);
	if (cap < p->len) {
		kmutex_unlock(&p->mutex);
		free(nb);
		return -EBUSY;
	}
	size_t first = p->cap - p->head < p->len ? p->cap - p->head : p->len;
	memcpy(nb, p->buf + p->head, first);
	memcpy(nb + first, p->buf, p->len - first);
	free(p->buf);
	p->buf = nb;
	p->head = 0;
	__atomic_store_n(&p->cap, cap, __ATOMIC_RELAXED);
	kmutex_unlock(&p->mutex);
	waitq_wake(&p->wq, POLLOUT | POLLWRNORM);
	return (long)cap;
}

/* Wait until *counter moves from seen (the partner opened) or a signal. */
static int fifo_wait(struct task *t, struct pipe *p, _Atomic unsigned *counter,
		     unsigned seen)
{
	struct wait_entry we;
	wait_entry_init_task(&we, t, 0);
	int r = 0;
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		if (!we.q)
			waitq_add(&p->oq, &we);
		if (atomic_load(counter) != seen)
			break;
		if (task_sleep(t, seq, NULL, SLEEP_INTR) == -EINTR) {
			r = -ERESTARTSYS;
			break;
		}
	}
	waitq_remove(&we);
	return r;
}

int fifo_open(struct task *t, struct inode *inode, struct file *f)
{
	struct pipe *p = atomic_load(&inode->i_pipe);
	if (!p) {
		struct pipe *n = pipe_alloc();
		if (!n)
			return -ENOMEM;
		struct pipe *expect = NULL;
		if (atomic_compare_exchange_strong(&inode->i_pipe, &expect,
						   n)) {
			p = n;
		} else {
			free(n->buf);
			free(n);
			p = expect;
		}
	}
	bool nb = f->flags & O_NONBLOCK;
	unsigned mode = f->fmode & (FMODE_READ | FMODE_WRITE);
	if (mode == FMODE_WRITE && nb && p->readers == 0)
		return -ENXIO; /* no release: nothing counted */
	f->fops = &pipe_fops;
	unsigned seen_r = atomic_load(&p->r_counter);
	unsigned seen_w = atomic_load(&p->w_counter);
	if (mode & FMODE_READ) {
		p->readers++;
		p->r_counter++;
	}
	if (mode & FMODE_WRITE) {
		p->writers++;
		p->w_counter++;
	}
	waitq_wake_all(&p->oq);
	/* O_RDWR never waits; a reader waits for a writer, a writer for a
	 * reader (the release undoes the counts if the wait is cut). */
	if (mode == FMODE_READ && !nb && p->writers == 0)
		return fifo_wait(t, p, &p->w_counter, seen_w);
	if (mode == FMODE_WRITE && p->readers == 0)
		return fifo_wait(t, p, &p->r_counter, seen_r);
	return 0;
}
