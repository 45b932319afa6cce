/* The memory character devices (Linux drivers/char/mem.c), registered in
 * the char-device table, and the /dev tree. They keep no state beyond
 * their file ops. */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysmacros.h>

#include "sentry/fs/dev/devfs.h"
#include "sentry/fs/tmpfs/tmpfs.h"
#include "sentry/mm/uio.h"
#include "sentry/vfs/chrdev.h"

static ssize_t null_read(struct file *f, struct uio *u, uint64_t *pos)
{
	(void)f, (void)u, (void)pos;
	return 0;
}

/* Linux's /dev/null does not read the buffer: any count succeeds. */
static ssize_t null_write(struct file *f, struct uio *u, uint64_t *pos)
{
	(void)f, (void)pos;
	return (ssize_t)uio_resid(u);
}

static ssize_t zero_read(struct file *f, struct uio *u, uint64_t *pos)
{
	(void)f, (void)pos;
	return uio_zero(u, uio_resid(u));
}

static ssize_t full_write(struct file *f, struct uio *u, uint64_t *pos)
{
	(void)f, (void)u, (void)pos;
	return -ENOSPC;
}

static ssize_t random_read(struct file *f, struct uio *u, uint64_t *pos)
{
	(void)f, (void)pos;
	char buf[4096];
	size_t done = 0;
	while (uio_resid(u) > 0) {
		size_t n =
		    uio_resid(u) < sizeof(buf) ? uio_resid(u) : sizeof(buf);
		ssize_t r = getrandom(buf, n, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return done ? (ssize_t)done : -errno;
		}
		ssize_t c = uio_copy_out(u, buf, (size_t)r);
		if (c < 0)
			return done ? (ssize_t)done : c;
		done += (size_t)c;
		if (c < r)
			break;
	}
	return (ssize_t)done;
}

static int64_t zero_llseek(struct file *f, int64_t off, int whence)
{
	(void)off, (void)whence;
	f->pos = 0;
	return 0;
}

/* /dev/random never blocks here (getrandom without GRND_RANDOM). The
 * other devices have no poll, as on Linux: poll() reports them ready and
 * epoll refuses them. */
static uint32_t always_ready(struct file *f, struct poll_table *pt)
{
	(void)f, (void)pt;
	return POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
}

static const struct file_ops null_fops = {
    .read = null_read,
    .write = null_write,
    .llseek = zero_llseek,
};
static const struct file_ops zero_fops = {
    .read = zero_read,
    .write = null_write,
    .llseek = zero_llseek,
};
static const struct file_ops full_fops = {
    .read = zero_read,
    .write = full_write,
    .llseek = zero_llseek,
};
static const struct file_ops random_fops = {
    .read = random_read,
    .write = null_write, /* entropy "added" by root: accepted, ignored */
    .llseek = zero_llseek,
    .poll = always_ready,
};

int devfs_init(void)
{
	/* 1:3 null, 1:5 zero, 1:7 full, 1:8 random, 1:9 urandom. The tty
	 * (5:0) and ptmx (5:2) are devpts's (sentry/fs/devpts/). */
	static const struct {
		unsigned mi;
		const struct file_ops *fops;
	} devs[] = {
	    {3, &null_fops},   {5, &zero_fops},	  {7, &full_fops},
	    {8, &random_fops}, {9, &random_fops},
	};
	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		int r = chrdev_register(1, devs[i].mi, devs[i].mi, devs[i].fops,
					NULL);
		if (r)
			return r;
	}
	return 0;
}

int devfs_populate(struct inode *root)
{
	static const struct {
		const char *name;
		unsigned ma, mi;
		mode_t mode;
	} nodes[] = {
	    {"null", 1, 3, 0666},    {"zero", 1, 5, 0666},
	    {"full", 1, 7, 0666},    {"random", 1, 8, 0666},
	    {"urandom", 1, 9, 0666}, {"tty", 5, 0, 0666},
	};
	static const struct {
		const char *name, *target;
	} links[] = {
	    {"fd", "/proc/self/fd"},	   {"stdin", "/proc/self/fd/0"},
	    {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
	    {"ptmx", "pts/ptmx"}, /* as runc makes it */
	};
	int r;
	for (size_t i = 0; i < sizeof(nodes) / sizeof(nodes[0]); i++) {
		r = tmpfs_mknod_k(root, nodes[i].name, S_IFCHR | nodes[i].mode,
				  makedev(nodes[i].ma, nodes[i].mi));
		if (r && r != -EEXIST)
			return r;
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		r = tmpfs_symlink_k(root, links[i].name, links[i].target);
		if (r && r != -EEXIST)
			return r;
	}
	struct inode *d;
	if ((r = tmpfs_mkdir_k(root, "shm", 01777, &d)) == 0)
		inode_put(d);
	else if (r != -EEXIST)
		return r;
	if ((r = tmpfs_mkdir_k(root, "pts", 0755, &d)) == 0)
		inode_put(d);
	else if (r != -EEXIST)
		return r;
	return 0;
}
