/* Files that forward to one of the sentry's own host fds: the guest's
 * stdio. A read or write that could block waits in task_block() (which
 * drops kernel_lock) and then does the host call with the lock dropped, so
 * one guest reading a terminal never stalls the others. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

#include "sentry/kernel/notifier.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/uio.h"
#include "sentry/mm/usercopy.h"
#include "sentry/vfs/fs.h"

struct hostfile {
	int fd;
	bool seekable; /* a regular file: no waiting, pread works */
	struct host_watch watch;
};

static void host_evict(struct inode *inode)
{
	struct hostfile *h = inode->priv;
	host_watch_disarm(&h->watch);
	free(h);
}

static const struct super_ops host_sops = {.evict = host_evict};

static struct super_block host_super = {
    .fstype = "host",
    .ops = &host_sops,
    .dev = 0xe,
    .flags = SB_NOCACHE,
};

static bool host_ready(int fd, short ev)
{
	struct pollfd p = {.fd = fd, .events = ev};
	return poll(&p, 1, 0) != 0;
}

/* Wait until fd is ready for ev: on the notifier's queue for it, or, for
 * an fd the host cannot watch (always ready, like /dev/null), not at all. */
static int host_wait(struct file *f, struct task *t, struct hostfile *h,
		     short ev)
{
	if (f->flags & O_NONBLOCK)
		return host_ready(h->fd, ev) ? 0 : -EAGAIN;
	if (host_watch_arm(&h->watch) < 0)
		return 0;
	struct wait_entry we;
	wait_entry_init_task(&we, t, (uint32_t)ev | POLLHUP | POLLERR);
	waitq_add(&h->watch.wq, &we);
	int r;
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		if (host_ready(h->fd, ev)) {
			r = 0;
			break;
		}
		if (task_sleep(t, seq, NULL, SLEEP_INTR) == -EINTR) {
			r = -ERESTARTSYS;
			break;
		}
	}
	waitq_remove(&we);
	return r;
}

/* Mirror the host offset into f->pos, for lseek(fd, 0, SEEK_CUR). */
static void host_sync_pos(struct file *f, struct hostfile *h)
{
	off_t o = lseek(h->fd, 0, SEEK_CUR);
	if (o >= 0)
		f->pos = (uint64_t)o;
}

#define HOST_IO_CHUNK (64u << 10)

/* One read or write of a non-seekable host fd that must not block this
 * sentry thread in the host (a signal could not end it): RWF_NOWAIT where
 * the host fd supports it (pipes), else a plain call after the wait said
 * ready. Returns bytes, -EAGAIN (wait again) or -errno. */
static ssize_t host_io_nowait(int fd, void *buf, size_t n, bool write)
{
	struct iovec v = {buf, n};
	lock_might_block("host stdio");
	ssize_t r = write ? pwritev2(fd, &v, 1, -1, RWF_NOWAIT)
			  : preadv2(fd, &v, 1, -1, RWF_NOWAIT);
	if (r < 0 && errno == EOPNOTSUPP)
		r = write ? pwritev2(fd, &v, 1, -1, 0)
			  : preadv2(fd, &v, 1, -1, 0);
	return r < 0 ? -errno : r;
}

static ssize_t host_read(struct file *f, struct uio *u, uint64_t *pos)
{
	struct hostfile *h = f->priv;
	size_t n = uio_resid(u) < HOST_IO_CHUNK ? uio_resid(u) : HOST_IO_CHUNK;
	if (n == 0)
		return 0;
	if (h->seekable) {
		/* The guest's stdio is the same open file as the sentry's and
		 * its caller's: plain reads share the host offset. */
		if (pos != &f->pos)
			return uio_pread_fd(u, h->fd, pos);
		off_t o = lseek(h->fd, 0, SEEK_CUR);
		if (o < 0)
			return -errno;
		uint64_t off = (uint64_t)o;
		ssize_t r = uio_pread_fd(u, h->fd, &off);
		lseek(h->fd, (off_t)off, SEEK_SET);
		f->pos = off;
		return r;
	}
	char *buf = malloc(n);
	if (!buf)
		return -ENOMEM;
	ssize_t r;
	for (;;) {
		int w = host_wait(f, u->t, h, POLLIN);
		if (w) {
			r = w;
			break;
		}
		r = host_io_nowait(h->fd, buf, n, false);
		if (r == -EAGAIN && !(f->flags & O_NONBLOCK))
			continue;
		if (r == -EINTR)
			r = -ERESTARTSYS;
		break;
	}
	/* What the host gave cannot be put back: a guest buffer that faults
	 * loses it, as a read from a host pipe would lose it anyway. */
	if (r > 0)
		r = uio_copy_out(u, buf, (size_t)r);
	free(buf);
	return r;
}

static ssize_t host_write(struct file *f, struct uio *u, uint64_t *pos)
{
	struct hostfile *h = f->priv;
	if (uio_resid(u) == 0)
		return 0;
	if (h->seekable && pos != &f->pos && !(f->flags & O_APPEND))
		return uio_pwrite_fd(u, h->fd, pos);
	size_t cap =
	    uio_resid(u) < HOST_IO_CHUNK ? uio_resid(u) : HOST_IO_CHUNK;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	size_t done = 0;
	ssize_t ret = 0;
	while (uio_resid(u) > 0) {
		ssize_t c = uio_copy_in(u, buf, cap);
		if (c < 0) {
			ret = c;
			break;
		}
		size_t off = 0;
		while (off < (size_t)c) {
			ssize_t r;
			if (h->seekable) {
				lock_might_block("host stdio");
				r = write(h->fd, buf + off, (size_t)c - off);
				r = r < 0 ? -errno : r;
			} else {
				r = host_wait(f, u->t, h, POLLOUT);
				if (!r)
					r = host_io_nowait(h->fd, buf + off,
							   (size_t)c - off,
							   true);
				if (r == -EAGAIN && !(f->flags & O_NONBLOCK))
					continue;
			}
			if (r == -EPIPE)
				/* The sentry ignores SIGPIPE; the guest must
				 * see it. */
				signal_send_task(u->t, SIGPIPE, NULL);
			if (r == -EINTR)
				r = -ERESTARTSYS;
			if (r <= 0) {
				ret = r;
				goto out;
			}
			off += (size_t)r;
			done += (size_t)r;
		}
		if ((size_t)c < cap)
			break;
	}
out:
	if (h->seekable)
		host_sync_pos(f, h);
	free(buf);
	return done ? (ssize_t)done : ret;
}

static uint32_t host_poll(struct file *f, struct poll_table *pt)
{
	struct hostfile *h = f->priv;
	struct pollfd p = {.fd = h->fd,
			   .events = POLLIN | POLLOUT | POLLPRI | POLLRDHUP};
	if (poll(&p, 1, 0) < 0)
		return POLLERR;
	if (pt && pt->qproc && !h->seekable && host_watch_arm(&h->watch) == 0)
		poll_wait(pt, &h->watch.wq);
	return (uint16_t)p.revents;
}

static long host_ioctl(struct file *f, struct task *t, unsigned cmd,
		       uint64_t arg)
{
	struct hostfile *h = f->priv;
	switch (cmd) {
	case TCGETS: {
		struct termios tio;
		if (ioctl(h->fd, TCGETS, &tio) < 0)
			return -errno;
		return copy_to_user(t, arg, &tio, sizeof(tio));
	}
	case TIOCGWINSZ: {
		struct winsize ws;
		if (ioctl(h->fd, TIOCGWINSZ, &ws) < 0)
			return -errno;
		return copy_to_user(t, arg, &ws, sizeof(ws));
	}
	case TIOCGPGRP: {
		/* The host's pgrp means nothing to the guest: report the
		 * caller's own process group as the foreground one. */
		struct termios tio;
		if (ioctl(h->fd, TCGETS, &tio) < 0)
			return -errno;
		int pg = t && t->proc ? t->proc->pgid : 1;
		return copy_to_user(t, arg, &pg, sizeof(pg));
	}
	case FIONREAD: {
		int n = 0;
		if (ioctl(h->fd, FIONREAD, &n) < 0)
			return -errno;
		return copy_to_user(t, arg, &n, sizeof(n));
	}
	}
	return -ENOTTY;
}

static int host_fsync(struct file *f)
{
	struct hostfile *h = f->priv;
	return h->seekable && fsync(h->fd) < 0 ? -errno : 0;
}

static int host_hostfd(struct file *f)
{
	struct hostfile *h = f->priv;
	return h->seekable ? h->fd : -ENODEV;
}

static int64_t host_llseek(struct file *f, int64_t off, int whence)
{
	struct hostfile *h = f->priv;
	if (!h->seekable)
		return -ESPIPE;
	/* The host offset is shared with the sentry's caller: seek it. */
	off_t r = lseek(h->fd, (off_t)off, whence);
	if (r < 0)
		return -errno;
	f->pos = (uint64_t)r;
	return r;
}

static const struct file_ops host_fops = {
    .read = host_read,
    .write = host_write,
    .llseek = host_llseek,
    .ioctl = host_ioctl,
    .poll = host_poll,
    .fsync = host_fsync,
    .host_fd = host_hostfd,
};

static int host_getattr(struct inode *inode)
{
	struct hostfile *h = inode->priv;
	struct stat st;
	if (fstat(h->fd, &st) < 0)
		return -errno;
	inode->size = (uint64_t)st.st_size;
	inode->mtime = st.st_mtim;
	inode->atime = st.st_atim;
	inode->ctime = st.st_ctim;
	return 0;
}

/* Reopening through /proc/self/fd/N shares the same host fd. */
static int host_open(struct inode *inode, struct file *f)
{
	f->priv = inode->priv;
	f->fops = &host_fops;
	return 0;
}

static const struct inode_ops host_iops = {
    .getattr = host_getattr,
    .open = host_open,
};

struct file *file_new_host(int hostfd, int oflags)
{
	struct stat st;
	if (fstat(hostfd, &st) < 0)
		return NULL;
	struct hostfile *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->fd = hostfd;
	h->seekable = S_ISREG(st.st_mode);
	host_watch_init(&h->watch, hostfd);
	struct inode *inode = inode_new(&host_super, st.st_mode);
	if (!inode) {
		free(h);
		return NULL;
	}
	/* The host fd lives as long as the sentry: never closed here. */
	inode->priv = h;
	inode->iops = &host_iops;
	inode->size = (uint64_t)st.st_size;
	inode->uid = 0;
	inode->gid = 0;
	char name[64];
	if (S_ISFIFO(st.st_mode))
		snprintf(name, sizeof(name), "pipe:[%lu]",
			 (unsigned long)st.st_ino);
	else if (S_ISSOCK(st.st_mode))
		snprintf(name, sizeof(name), "socket:[%lu]",
			 (unsigned long)st.st_ino);
	else if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(1, 3))
		snprintf(name, sizeof(name), "/dev/null");
	else if (S_ISCHR(st.st_mode) && major(st.st_rdev) == 136)
		snprintf(name, sizeof(name), "/dev/pts/%u", minor(st.st_rdev));
	else if (S_ISCHR(st.st_mode))
		snprintf(name, sizeof(name), "/dev/char/%u:%u",
			 major(st.st_rdev), minor(st.st_rdev));
	else
		snprintf(name, sizeof(name), "host:[%d]", hostfd);
	struct path p;
	if (anon_path(inode, name, &p)) {
		inode_put(inode);
		return NULL;
	}
	struct file *f = file_alloc(&p, inode, oflags & ~O_CREAT);
	path_put(&p);
	inode_put(inode);
	if (!f)
		return NULL;
	if (!h->seekable)
		f->fmode &= ~(FMODE_LSEEK | FMODE_PREAD);
	f->priv = h;
	f->fops = &host_fops;
	return f;
}
