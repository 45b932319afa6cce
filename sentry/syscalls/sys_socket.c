/* Socket syscalls: every guest argument (addresses, message headers,
 * iovecs, control messages, option values) is copied in here once and
 * bounded; the families (sentry/net/) see kernel copies and a uio. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>

#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/uio.h"
#include "sentry/mm/usercopy.h"
#include "sentry/net/socket.h"
#include "sentry/syscalls/sys_file.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/vfs.h"

#ifndef SO_RCVTIMEO_NEW
#define SO_RCVTIMEO_NEW 66
#define SO_SNDTIMEO_NEW 67
#endif
/* Set only by the kernel's compat entry points: EINVAL from a guest. */
#define MSG_CMSG_COMPAT 0x80000000
#define SO_RCVTIMEO_OLD 20
#define SO_SNDTIMEO_OLD 21

/* The socket behind fd, with the file's reference in *fp. */
static struct socket *sockfd_get(struct task *t, int fd, struct file **fp,
				 long *err)
{
	struct file *f = fget(t, fd);
	if (!f) {
		*err = -EBADF;
		return NULL;
	}
	struct socket *s = sock_from_file(f);
	if (!s) {
		file_put(f);
		*err = -ENOTSOCK;
		return NULL;
	}
	*fp = f;
	return s;
}

static int addr_from_user(struct task *t, uint64_t uaddr, uint64_t ulen,
			  struct sockaddr_storage *out, socklen_t *len)
{
	if ((int)ulen < 0 || ulen > SOCK_ADDR_MAX)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (ulen && copy_from_user(t, out, uaddr, ulen))
		return -EFAULT;
	*len = (socklen_t)ulen;
	return 0;
}

/* Linux's move_addr_to_user: as much of the address as the guest's buffer
 * takes, and the whole length in *ulenp. */
static int addr_to_user(struct task *t, const struct sockaddr_storage *a,
			socklen_t klen, uint64_t uaddr, uint64_t ulenp)
{
	int ulen;
	if (copy_from_user(t, &ulen, ulenp, sizeof(ulen)))
		return -EFAULT;
	if (ulen < 0)
		return -EINVAL;
	socklen_t n = (socklen_t)ulen < klen ? (socklen_t)ulen : klen;
	if (n && copy_to_user(t, uaddr, a, n))
		return -EFAULT;
	int kl = (int)klen;
	if (copy_to_user(t, ulenp, &kl, sizeof(kl)))
		return -EFAULT;
	return 0;
}

static long sys_socket(struct task *t, const uint64_t a[6])
{
	int type = (int)a[1];
	if (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC | 0xf))
		return -EINVAL;
	struct socket *s;
	int r = sock_create(t, (int)a[0], type & 0xf, (int)a[2], &s);
	if (r)
		return r;
	struct file *f;
	r = sock_file_new(s, (type & SOCK_NONBLOCK) ? O_NONBLOCK : 0, &f);
	if (r)
		return r;
	return install_file(t, f, type & SOCK_CLOEXEC);
}

static long sys_socketpair(struct task *t, const uint64_t a[6])
{
	int family = (int)a[0], type = (int)a[1], protocol = (int)a[2];
	if (type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC | 0xf))
		return -EINVAL;
	const struct net_family *fam = net_family_find(family);
	if (!fam)
		return -EAFNOSUPPORT;
	struct socket *s[2] = {NULL, NULL};
	struct file *f[2] = {NULL, NULL};
	int r = sock_create(t, family, type & 0xf, protocol, &s[0]);
	if (r)
		return r;
	if (!fam->socketpair) {
		sock_destroy(s[0]);
		return -EOPNOTSUPP;
	}
	r = sock_create(t, family, type & 0xf, protocol, &s[1]);
	if (r) {
		sock_destroy(s[0]);
		return r;
	}
	r = fam->socketpair(s[0], s[1], t);
	if (r) {
		sock_destroy(s[0]);
		sock_destroy(s[1]);
		return r;
	}
	int fl = (type & SOCK_NONBLOCK) ? O_NONBLOCK : 0;
	r = sock_file_new(s[0], fl, &f[0]);
	if (r) {
		sock_destroy(s[1]);
		return r;
	}
	r = sock_file_new(s[1], fl, &f[1]);
	if (r) {
		file_put(f[0]);
		return r;
	}
	bool cloexec = type & SOCK_CLOEXEC;
	int fd0 = fd_alloc(t->files, 0, f[0], cloexec);
	int fd1 = fd0 < 0 ? fd0 : fd_alloc(t->files, 0, f[1], cloexec);
	file_put(f[0]);
	file_put(f[1]);
	if (fd1 < 0) {
		if (fd0 >= 0)
			fd_close(t->files, fd0);
		return fd1;
	}
	int sv[2] = {fd0, fd1};
	if (copy_to_user(t, a[3], sv, sizeof(sv))) {
		fd_close(t->files, fd0);
		fd_close(t->files, fd1);
		return -EFAULT;
	}
	return 0;
}

/* bind(2) and connect(2): an address in, one op. */
static long do_addr_op(struct task *t, const uint64_t a[6], bool connect)
{
	struct sockaddr_storage addr;
	socklen_t len;
	long r = addr_from_user(t, a[1], a[2], &addr, &len);
	if (r)
		return r;
	struct file *f;
	struct socket *s = sockfd_get(t, (int)a[0], &f, &r);
	if (!s)
		return r;
	const struct sockaddr *sa = (const struct sockaddr *)&addr;
	if (connect)
		r = s->ops->connect ? s->ops->connect(s, t, sa, len, f->flags)
				    : -EOPNOTSUPP;
	else
		r = s->ops->bind ? s->ops->bind(s, t, sa, len) : -EOPNOTSUPP;
	file_put(f);
	return r;
}

static long sys_bind(struct task *t, const uint64_t a[6])
{
	return do_addr_op(t, a, false);
}

static long sys_connect(struct task *t, const uint64_t a[6])
{
	return do_addr_op(t, a, true);
}

static long sys_listen(struct task *t, const uint64_t a[6])
{
	long r;
	struct file *f;
	struct socket *s = sockfd_get(t, (int)a[0], &f, &r);
	if (!s)
		return r;
	/* As Linux: a backlog above somaxconn, negative ones included (as
	 * unsigned), is somaxconn. */
	unsigned backlog = (unsigned)(int)a[1];
	if (backlog > SOCK_BACKLOG_MAX)
		backlog = SOCK_BACKLOG_MAX;
	r = s->ops->listen ? s->ops->listen(s, t, (int)backlog) : -EOPNOTSUPP;
	file_put(f);
	return r;
}

static long do_accept(struct task *t, int fd, uint64_t uaddr, uint64_t ulenp,
		      int flags)
{
	if (flags & ~(SOCK_CLOEXEC | SOCK_NONBLOCK))
		return -EINVAL;
	long r;
	struct file *f;
	struct socket *s = sockfd_get(t, fd, &f, &r);
	if (!s)
		return r;
	struct socket *ns = NULL;
	r = s->ops->accept ? s->ops->accept(s, t, f->flags & O_NONBLOCK, &ns)
			   : -EOPNOTSUPP;
	file_put(f);
	if (r)
		return r;
	struct file *nf;
	r = sock_file_new(ns, (flags & SOCK_NONBLOCK) ? O_NONBLOCK : 0, &nf);
	if (r)
		return r;
	if (uaddr) {
		struct sockaddr_storage addr;
		socklen_t len = sizeof(addr);
		memset(&addr, 0, sizeof(addr));
		r = ns->ops->getname ? ns->ops->getname(ns, &addr, &len, true)
				     : -EOPNOTSUPP;
		if (r == 0)
			r = addr_to_user(t, &addr, len, uaddr, ulenp);
		if (r) {
			/* As Linux: the connection is dropped, no fd. */
			file_put(nf);
			return r == -ENOTCONN ? -ECONNABORTED : r;
		}
	}
	return install_file(t, nf, flags & SOCK_CLOEXEC);
}

static long sys_accept(struct task *t, const uint64_t a[6])
{
	return do_accept(t, (int)a[0], a[1], a[2], 0);
}

static long sys_accept4(struct task *t, const uint64_t a[6])
{
	return do_accept(t, (int)a[0], a[1], a[2], (int)a[3]);
}

static long do_getname(struct task *t, const uint64_t a[6], bool peer)
{
	long r;
	struct file *f;
	struct socket *s = sockfd_get(t, (int)a[0], &f, &r);
	if (!s)
		return r;
	struct sockaddr_storage addr;
	socklen_t len = sizeof(addr);
	memset(&addr, 0, sizeof(addr));
	r = s->ops->getname ? s->ops->getname(s, &addr, &len, peer)
			    : -EOPNOTSUPP;
	if (r == 0)
		r = addr_to_user(t, &addr, len, a[1], a[2]);
	file_put(f);
	return r;
}

static long sys_getsockname(struct task *t, const uint64_t a[6])
{
	return do_getname(t, a, false);
}

static long sys_getpeername(struct task *t, const uint64_t a[6])
{
	return do_getname(t, a, true);
}

static void pipe_signal(struct task *t, long r, int flags)
{
	if (r == -EPIPE && !(flags & MSG_NOSIGNAL))
		signal_send_task(t, SIGPIPE, NULL);
}

static long sock_send(struct task *t, struct file *f, struct socket *s,
		      struct uio *u, struct sock_msg *m)
{
	if (!s->ops->sendmsg)
		return -EOPNOTSUPP;
	m->nonblock = (f->flags & O_NONBLOCK) || (m->flags & MSG_DONTWAIT);
	long r = s->ops->sendmsg(s, t, u, m);
	if (!m->epipe_nosignal)
		pipe_signal(t, r, m->flags);
	return r;
}

static long sock_recv(struct task *t, struct file *f, struct socket *s,
		      struct uio *u, struct sock_msg *m)
{
	if (!s->ops->recvmsg)
		return -EOPNOTSUPP;
	m->nonblock = (f->flags & O_NONBLOCK) || (m->flags & MSG_DONTWAIT);
	return s->ops->recvmsg(s, t, u, m);
}

static long sys_sendto(struct task *t, const uint64_t a[6])
{
	struct sock_msg m = {.flags = (int)a[3]};
	long r;
	if (a[4]) {
		r = addr_from_user(t, a[4], a[5], &m.addr, &m.addrlen);
		if (r)
			return r;
	}
	size_t len = a[2] > MAX_RW_COUNT ? MAX_RW_COUNT : a[2];
	if (!user_range_ok(a[1], len))
		return -EFAULT;
	struct file *f;
	struct socket *s = sockfd_get(t, (int)a[0], &f, &r);
	if (!s)
		return r;
	struct uio u;
	uio_init_user1(&u, t, a[1], len);
	r = sock_send(t, f, s, &u, &m);
	file_put(f);
	return r;
}

static long sys_recvfrom(struct task *t, const uint64_t a[6])
{
	struct sock_msg m = {.flags = (int)a[3]};
	size_t len = a[2] > MAX_RW_COUNT ? MAX_RW_COUNT : a[2];
	if (!user_range_ok(a[1], len))
		return -EFAULT;
	long r;
	struct file *f;
	struct socket *s = sockfd_get(t, (int)a[0], &f, &r);
	if (!s)
		return r;
	struct uio u;
	uio_init_user1(&u, t, a[1], len);
	r = sock_recv(t, f, s, &u, &m);
	file_put(f);
	if (r >= 0 && a[4] && m.addrlen) {
		long e = addr_to_user(t, &m.addr, m.addrlen, a[4], a[5]);
		if (e)
			return e;
	} else if (r >= 0 && a[4] && a[5]) {
		int zero = 0;
		if (copy_to_user(t, a[5], &zero, sizeof(zero)))
			return -EFAULT;
	}
	return r;
}

/* One sendmsg: the header at umsg, copied in and checked. */
static long do_sendmsg(struct task *t, struct file *f, struct socket *s,
		       uint64_t umsg, int flags)
{
	struct msghdr h;
	if (copy_from_user(t, &h, umsg, sizeof(h)))
		return -EFAULT;
	struct sock_msg m = {.flags = flags};
	long r;
	if (h.msg_name && s->type != SOCK_STREAM) {
		r = addr_from_user(t, (uint64_t)(uintptr_t)h.msg_name,
				   h.msg_namelen, &m.addr, &m.addrlen);
		if (r)
			return r;
	}
	if (h.msg_controllen > INT_MAX || h.msg_controllen > SOCK_OPTMEM_MAX)
		return -ENOBUFS;
	struct iovec fast[UIO_FASTIOV], *iov = fast;
	r = import_iovec(t, (uint64_t)(uintptr_t)h.msg_iov, h.msg_iovlen, fast,
			 &iov);
	if (r)
		goto out;
	if (h.msg_controllen) {
		m.control = malloc(h.msg_controllen);
		if (!m.control) {
			r = -ENOBUFS;
			goto out;
		}
		m.controllen = h.msg_controllen;
		if (copy_from_user(t, m.control,
				   (uint64_t)(uintptr_t)h.msg_control,
				   h.msg_controllen)) {
			r = -EFAULT;
			goto out;
		}
	}
	struct uio u;
	uio_init_user(&u, t, iov, (int)h.msg_iovlen);
	r = sock_send(t, f, s, &u, &m);
out:
	free(m.control);
	if (iov != fast)
		free(iov);
	return r;
}

/* One recvmsg into the header at umsg; the header's msg_namelen,
 * msg_controllen and msg_flags are written back. */
static long do_recvmsg(struct task *t, struct file *f, struct socket *s,
		       uint64_t umsg, int flags)
{
	struct msghdr h;
	if (copy_from_user(t, &h, umsg, sizeof(h)))
		return -EFAULT;
	if ((int)h.msg_namelen < 0)
		return -EINVAL;
	struct sock_msg m = {.flags = flags};
	struct iovec fast[UIO_FASTIOV], *iov = fast;
	long r = import_iovec(t, (uint64_t)(uintptr_t)h.msg_iov, h.msg_iovlen,
			      fast, &iov);
	if (r)
		goto out;
	size_t cl = h.msg_control ? h.msg_controllen : 0;
	if (cl > SOCK_RCVCTL_MAX)
		cl = SOCK_RCVCTL_MAX;
	if (cl) {
		m.control = calloc(1, cl);
		if (!m.control) {
			r = -ENOMEM;
			goto out;
		}
		m.controllen = cl;
	}
	struct uio u;
	uio_init_user(&u, t, iov, (int)h.msg_iovlen);
	r = sock_recv(t, f, s, &u, &m);
	if (r < 0)
		goto out;
	/* Write back what Linux writes back, in its order. */
	socklen_t namelen = 0;
	if (h.msg_name && m.addrlen) {
		namelen = m.addrlen;
		socklen_t n =
		    h.msg_namelen < m.addrlen ? h.msg_namelen : m.addrlen;
		if (n && copy_to_user(t, (uint64_t)(uintptr_t)h.msg_name,
				      &m.addr, n)) {
			r = -EFAULT;
			goto out;
		}
	}
	struct msghdr out_h = h;
	out_h.msg_namelen = namelen;
	out_h.msg_flags = m.out_flags;
	out_h.msg_controllen = m.controlused;
	if ((m.controlused &&
	     copy_to_user(t, (uint64_t)(uintptr_t)h.msg_control, m.control,
			  m.controlused)) ||
	    copy_to_user(t, umsg + offsetof(struct msghdr, msg_namelen),
			 &out_h.msg_namelen, sizeof(out_h.msg_namelen)) ||
	    copy_to_user(t, umsg + offsetof(struct msghdr, msg_controllen),
			 &out_h.msg_controllen, sizeof(out_h.msg_controllen)) ||
	    copy_to_user(t, umsg + offsetof(struct msghdr, msg_flags),
			 &out_h.msg_flags, sizeof(out_h.msg_flags)))
		r = -EFAULT;
out:
	free(m.control);
	if (iov != fast)
		free(iov);
	return r;
}

static long sys_sendmsg(struct task *t, const uint64_t a[6])
{
	if ((int)a[2] & MSG_CMSG_COMPAT)
		return -EINVAL;
	long r;
	struct file *f;
	struct socket *s = sockfd_get(t, (int)a[0], &f, &r);
	if (!s)
		return r;
	r = do_sendmsg(t, f, s, a[1], (int)a[2]);
	file_put(f);
	return r;
}

static long sys_recvmsg(struct task *t, const uint64_t a[6])
{
	int flags = (int)a[2];
	if (flags & MSG_CMSG_COMPAT)
		return -EINVAL;
	long r;
	struct file *f;
	struct socket *s = sockfd_get(t, (int)a[0], &f, &r);
	if (!s)
		return r;
	r = do_recvmsg(t, f, s, a[1], flags);
	file_put(f);
	return r;
}

/* sendmmsg: the datagrams sent, or the first one's error. */
static long sys_sendmmsg(struct task *t, const uint64_t a[6])
{
	unsigned vlen = (unsigned)a[2];
	if ((int)a[3] & MSG_CMSG_COMPAT)
		return -EINVAL;
	if (vlen > SOCK_MMSG_MAX)
		vlen = SOCK_MMSG_MAX;
	long r;
	struct file *f;
	struct socket *s = sockfd_get(t, (int)a[0], &f, &r);
	if (!s)
		return r;
	unsigned done = 0;
	r = 0; /* vlen 0: nothing to do */
	for (; done < vlen; done++) {
		uint64_t um = a[1] + (uint64_t)done * sizeof(struct mmsghdr);
		r = do_sendmsg(t, f, s, um, (int)a[3]);
		if (r < 0)
			break;
		unsigned len = (unsigned)r;
		if (copy_to_user(t, um + offsetof(struct mmsghdr, msg_len),
				 &len, sizeof(len))) {
			r = -EFAULT;
			break;
		}
	}
	file_put(f);
	return done ? (long)done : r;
}

static bool ts_passed(const struct timespec *deadline)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec &&
		now.tv_nsec >= deadline->tv_nsec);
}

/* recvmmsg: as Linux, the timeout is looked at only between datagrams,
 * and MSG_WAITFORONE makes every receive after the first non-blocking. */
static long sys_recvmmsg(struct task *t, const uint64_t a[6])
{
	unsigned vlen = (unsigned)a[2];
	int flags = (int)a[3];
	if (flags & MSG_CMSG_COMPAT)
		return -EINVAL;
	if (vlen > SOCK_MMSG_MAX)
		vlen = SOCK_MMSG_MAX;
	struct timespec deadline;
	bool timed = false;
	if (a[4]) {
		struct timespec ts;
		if (copy_from_user(t, &ts, a[4], sizeof(ts)))
			return -EFAULT;
		if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000)
			return -EINVAL;
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += ts.tv_sec;
		deadline.tv_nsec += ts.tv_nsec;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
		timed = true;
	}
	long r;
	struct file *f;
	struct socket *s = sockfd_get(t, (int)a[0], &f, &r);
	if (!s)
		return r;
	unsigned done = 0;
	r = 0; /* vlen 0: nothing to do */
	for (; done < vlen; done++) {
		uint64_t um = a[1] + (uint64_t)done * sizeof(struct mmsghdr);
		int fl = flags & ~MSG_WAITFORONE;
		if (done && (flags & MSG_WAITFORONE))
			fl |= MSG_DONTWAIT;
		r = do_recvmsg(t, f, s, um, fl);
		if (r < 0)
			break;
		unsigned len = (unsigned)r;
		if (copy_to_user(t, um + offsetof(struct mmsghdr, msg_len),
				 &len, sizeof(len))) {
			r = -EFAULT;
			done++;
			break;
		}
		if (timed && ts_passed(&deadline)) {
			done++;
			break;
		}
	}
	file_put(f);
	if (done)
		return (long)done;
	return r;
}

static long sys_shutdown(struct task *t, const uint64_t a[6])
{
	int how = (int)a[1];
	long r;
	struct file *f;
	struct socket *s = sockfd_get(t, (int)a[0], &f, &r);
	if (!s)
		return r;
	if (how < SHUT_RD || how > SHUT_RDWR)
		r = -EINVAL;
	else
		r = s->ops->shutdown ? s->ops->shutdown(s, how) : -EOPNOTSUPP;
	file_put(f);
	return r;
}

/* SO_RCVTIMEO / SO_SNDTIMEO, as Linux's sock_set_timeout: a struct
 * timeval (the _OLD and _NEW forms are both 16 bytes on x86-64). */
static int set_timeo(_Atomic int64_t *timeo, const void *val, socklen_t len)
{
	struct {
		int64_t sec, usec;
	} tv;
	if (len < sizeof(tv))
		return -EINVAL;
	memcpy(&tv, val, sizeof(tv));
	if (tv.usec < 0 || tv.usec >= 1000000)
		return -EDOM;
	if (tv.sec < 0) {
		atomic_store(timeo, 1); /* already expired: EAGAIN at once */
		return 0;
	}
	int64_t ns = 0;
	if (tv.sec || tv.usec) {
		ns = tv.sec > INT64_MAX / 1000000000 - 1
			 ? 0 /* as Linux: too long is forever */
			 : tv.sec * 1000000000 + tv.usec * 1000;
	}
	atomic_store(timeo, ns);
	return 0;
}

static void get_timeo(_Atomic int64_t *timeo, void *val, socklen_t *len)
{
	int64_t ns = atomic_load(timeo);
	struct {
		int64_t sec, usec;
	} tv = {ns / 1000000000, (ns % 1000000000) / 1000};
	if (*len > sizeof(tv))
		*len = sizeof(tv);
	memcpy(val, &tv, *len);
}

static long sys_setsockopt(struct task *t, const uint64_t a[6])
{
	int level = (int)a[1], name = (int)a[2];
	int len = (int)a[4];
	if (len < 0)
		return -EINVAL;
	if (len > SOCK_OPTVAL_MAX)
		return -ENOBUFS;
	uint8_t val[SOCK_OPTVAL_MAX];
	if (len && copy_from_user(t, val, a[3], (size_t)len))
		return -EFAULT;
	long r;
	struct file *f;
	struct socket *s = sockfd_get(t, (int)a[0], &f, &r);
	if (!s)
		return r;
	if (level == SOL_SOCKET &&
	    (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW))
		r = set_timeo(&s->rcvtimeo, val, (socklen_t)len);
	else if (level == SOL_SOCKET &&
		 (name == SO_SNDTIMEO_OLD || name == SO_SNDTIMEO_NEW))
		r = set_timeo(&s->sndtimeo, val, (socklen_t)len);
	else if (level == SOL_SOCKET &&
		 (name == SO_TYPE || name == SO_DOMAIN || name == SO_PROTOCOL))
		r = -ENOPROTOOPT;
	else
		r = s->ops->setsockopt ? s->ops->setsockopt(s, t, level, name,
							    val, (socklen_t)len)
				       : -ENOPROTOOPT;
	file_put(f);
	return r;
}

static long sys_getsockopt(struct task *t, const uint64_t a[6])
{
	int level = (int)a[1], name = (int)a[2];
	int ulen;
	if (copy_from_user(t, &ulen, a[4], sizeof(ulen)))
		return -EFAULT;
	if (ulen < 0)
		return -EINVAL;
	socklen_t len =
	    ulen > SOCK_OPTVAL_MAX ? SOCK_OPTVAL_MAX : (socklen_t)ulen;
	uint8_t val[SOCK_OPTVAL_MAX];
	memset(val, 0, len);
	long r;
	struct file *f;
	struct socket *s = sockfd_get(t, (int)a[0], &f, &r);
	if (!s)
		return r;
	int iv = -1;
	if (level == SOL_SOCKET && name == SO_TYPE)
		iv = s->type;
	else if (level == SOL_SOCKET && name == SO_DOMAIN)
		iv = s->family;
	else if (level == SOL_SOCKET && name == SO_PROTOCOL)
		iv = s->protocol;
	if (iv >= 0) {
		if (len > sizeof(iv))
			len = sizeof(iv);
		memcpy(val, &iv, len);
		r = 0;
	} else if (level == SOL_SOCKET &&
		   (name == SO_RCVTIMEO_OLD || name == SO_RCVTIMEO_NEW)) {
		get_timeo(&s->rcvtimeo, val, &len);
		r = 0;
	} else if (level == SOL_SOCKET &&
		   (name == SO_SNDTIMEO_OLD || name == SO_SNDTIMEO_NEW)) {
		get_timeo(&s->sndtimeo, val, &len);
		r = 0;
	} else {
		r = s->ops->getsockopt
			? s->ops->getsockopt(s, t, level, name, val, &len)
			: -ENOPROTOOPT;
	}
	file_put(f);
	if (r)
		return r;
	if (len > (socklen_t)ulen)
		len = (socklen_t)ulen;
	int out = (int)len;
	if ((len && copy_to_user(t, a[3], val, len)) ||
	    copy_to_user(t, a[4], &out, sizeof(out)))
		return -EFAULT;
	return 0;
}

#define D(n, fn, args, pf)                                                     \
	{                                                                      \
		__NR_##n, #n, fn, args, pf                                     \
	}
const struct syscall_def sys_socket_defs[] = {
    D(socket, sys_socket, "ddd", NULL),
    D(socketpair, sys_socketpair, "dddp", NULL),
    D(bind, sys_bind, "fbu", "1b"),
    D(connect, sys_connect, "fbu", "1b"),
    D(listen, sys_listen, "fd", NULL),
    D(accept, sys_accept, "fpp", NULL),
    D(accept4, sys_accept4, "fppx", NULL),
    D(getsockname, sys_getsockname, "fpp", NULL),
    D(getpeername, sys_getpeername, "fpp", NULL),
    D(sendto, sys_sendto, "fbuxpu", "1b"),
    D(recvfrom, sys_recvfrom, "fpuxpp", NULL),
    D(sendmsg, sys_sendmsg, "fpx", NULL),
    D(recvmsg, sys_recvmsg, "fpx", NULL),
    D(sendmmsg, sys_sendmmsg, "fpux", NULL),
    D(recvmmsg, sys_recvmmsg, "fpuxp", NULL),
    D(shutdown, sys_shutdown, "fd", NULL),
    D(setsockopt, sys_setsockopt, "fddpu", NULL),
    D(getsockopt, sys_getsockopt, "fddpp", NULL),
    {-1, NULL, NULL, NULL, NULL},
};
