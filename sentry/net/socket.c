/* The family-independent socket layer: the family registry, socket files
 * and the helpers every family shares. */
#include "sentry/net/socket.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bulkhead/log.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/uio.h"
#include "sentry/net/unix/af_unix.h"
#include "sentry/net/inet/inet.h"
#include "sentry/net/netlink/netlink.h"
#include "sentry/vfs/fs.h"

#define NET_FAMILIES_MAX 46 /* AF_MAX on Linux 6.x */

/* Written only at boot, before any guest thread runs. */
static const struct net_family *families[NET_FAMILIES_MAX];

int net_family_register(const struct net_family *fam)
{
	if (fam->family <= 0 || fam->family >= NET_FAMILIES_MAX || !fam->create)
		return -EINVAL;
	if (families[fam->family])
		return -EEXIST;
	families[fam->family] = fam;
	return 0;
}

const struct net_family *net_family_find(int family)
{
	if (family <= 0 || family >= NET_FAMILIES_MAX)
		return NULL;
	return families[family];
}

/* The families built into the sentry, one line each (net/<family>/). */
static const struct net_family *const builtin[] = {
    &unix_family,
    /* net/inet/: host sockets in the container's netns */
    &inet_family,
    &inet6_family,
    /* net/inet/: refused (EPERM) */
    &packet_family,
    /* net/netlink/: NETLINK_ROUTE reads of the container's netns */
    &netlink_family,
};

void net_init(void)
{
	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		if (!builtin[i])
			continue;
		int r = net_family_register(builtin[i]);
		if (r)
			bh_warn("net: family %s: %s", builtin[i]->name,
				strerror(-r));
		else if (builtin[i]->init)
			builtin[i]->init();
	}
}

int sock_create(struct task *t, int family, int type, int protocol,
		struct socket **out)
{
	const struct net_family *fam = net_family_find(family);
	if (!fam)
		return -EAFNOSUPPORT;
	struct socket *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->family = family;
	s->type = type;
	s->protocol = protocol;
	int r = fam->create(s, t, type, protocol);
	if (r) {
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

void sock_destroy(struct socket *s)
{
	if (!s)
		return;
	if (s->ops && s->ops->release)
		s->ops->release(s);
	free(s);
}

static struct socket *file_sock(struct file *f)
{
	return f->priv;
}

static ssize_t sock_file_read(struct file *f, struct uio *u, uint64_t *pos)
{
	(void)pos;
	struct socket *s = file_sock(f);
	if (!s->ops->recvmsg)
		return -EINVAL;
	struct sock_msg m = {.nonblock = (f->flags & O_NONBLOCK) ||
					 (u->flags & UIO_NOWAIT)};
	return s->ops->recvmsg(s, u->t, u, &m);
}

static ssize_t sock_file_write(struct file *f, struct uio *u, uint64_t *pos)
{
	(void)pos;
	struct socket *s = file_sock(f);
	if (!s->ops->sendmsg)
		return -EINVAL;
	struct sock_msg m = {.nonblock = (f->flags & O_NONBLOCK) ||
					 (u->flags & UIO_NOWAIT)};
	ssize_t r = s->ops->sendmsg(s, u->t, u, &m);
	if (r == -EPIPE && !m.epipe_nosignal)
		signal_send_task(u->t, SIGPIPE, NULL);
	return r;
}

static uint32_t sock_file_poll(struct file *f, struct poll_table *pt)
{
	struct socket *s = file_sock(f);
	return s->ops->poll ? s->ops->poll(s, pt) : 0;
}

static long sock_file_ioctl(struct file *f, struct task *t, unsigned cmd,
			    uint64_t arg)
{
	struct socket *s = file_sock(f);
	long r = s->ops->ioctl ? s->ops->ioctl(s, t, cmd, arg) : -ENOTTY;
	if (r == -ENOTTY && s->family != AF_INET && s->family != AF_INET6)
		r = inet_dev_ioctl(t, cmd, arg);
	return r;
}

static int sock_file_fdinfo(struct file *f, char *buf, size_t cap)
{
	struct socket *s = file_sock(f);
	return s->ops->show_fdinfo ? s->ops->show_fdinfo(s, buf, cap) : 0;
}

static int64_t sock_file_llseek(struct file *f, int64_t off, int whence)
{
	(void)f, (void)off, (void)whence;
	return -ESPIPE;
}

static void sock_file_release(struct file *f)
{
	sock_destroy(file_sock(f));
}

static const struct file_ops sock_fops = {
    .read = sock_file_read,
    .write = sock_file_write,
    .llseek = sock_file_llseek,
    .ioctl = sock_file_ioctl,
    .poll = sock_file_poll,
    .show_fdinfo = sock_file_fdinfo,
    .release = sock_file_release,
};

int sock_file_new(struct socket *s, int flags, struct file **out)
{
	struct inode *inode = inode_new(anon_sb(), S_IFSOCK | 0777);
	if (!inode) {
		sock_destroy(s);
		return -ENOMEM;
	}
	inode->uid = task_fsuid(current);
	inode->gid = task_fsgid(current);
	char label[48];
	snprintf(label, sizeof(label), "socket:[%llu]",
		 (unsigned long long)inode->ino);
	struct path path;
	int r = anon_path(inode, label, &path);
	if (r) {
		inode_put(inode);
		sock_destroy(s);
		return r;
	}
	struct file *f = file_alloc(&path, inode, O_RDWR | flags);
	path_put(&path);
	inode_put(inode);
	if (!f) {
		sock_destroy(s);
		return -ENOMEM;
	}
	f->fops = &sock_fops;
	f->priv = s;
	s->file = f;
	*out = f;
	return 0;
}

struct socket *sock_from_file(struct file *f)
{
	return f && f->fops == &sock_fops ? f->priv : NULL;
}

uint64_t sock_ino(const struct socket *s)
{
	return s->file ? s->file->inode->ino : 0;
}

int sock_put_cmsg(struct sock_msg *m, int level, int type, const void *data,
		  size_t len)
{
	size_t room = m->controllen - m->controlused;
	if (room < sizeof(struct cmsghdr)) {
		m->out_flags |= MSG_CTRUNC;
		return -EMSGSIZE;
	}
	size_t full = CMSG_LEN(len), space = CMSG_SPACE(len);
	size_t take = full;
	int r = 0;
	if (full > room) {
		m->out_flags |= MSG_CTRUNC;
		take = room;
		r = -EMSGSIZE;
	}
	struct cmsghdr h = {
	    .cmsg_len = take, .cmsg_level = level, .cmsg_type = type};
	uint8_t *p = (uint8_t *)m->control + m->controlused;
	memcpy(p, &h, sizeof(h));
	memcpy(p + CMSG_LEN(0), data, take - CMSG_LEN(0));
	m->controlused += space < room ? space : room;
	return r;
}

bool sock_deadline(int64_t timeo_ns, struct timespec *ts)
{
	if (timeo_ns <= 0)
		return false;
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += timeo_ns / 1000000000;
	ts->tv_nsec += timeo_ns % 1000000000;
	if (ts->tv_nsec >= 1000000000) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000;
	}
	return true;
}
