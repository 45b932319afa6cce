/* AF_UNIX control messages: SCM_RIGHTS between fd tables (limits,
 * MSG_CTRUNC, MSG_CMSG_CLOEXEC, MSG_PEEK), SCM_CREDENTIALS (what a sender
 * may claim, delivery with SO_PASSCRED), and the collection of sockets
 * that are only in flight (a socket sent over itself, two sockets sent to
 * each other), looped so that a leak shows as ETOOMANYREFS or EMFILE. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "check.h"

static int send_fds(int s, const int *fds, int n, const void *data, size_t len)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 300)];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = {(void *)data, len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (n) {
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	return (int)sendmsg(s, &mh, 0);
}

/* Receive up to max fds with a control buffer for room of them; returns
 * the count received, -1 on error. *flags gets msg_flags. */
static int recv_fds(int s, int *fds, int room, int flags, int *mflags)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 300)];
	memset(cbuf, 0, sizeof(cbuf));
	char b[16];
	struct iovec iov = {b, sizeof(b)};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	mh.msg_control = cbuf;
	mh.msg_controllen =
	    room ? CMSG_LEN(sizeof(int) * room) : sizeof(struct cmsghdr) - 1;
	if (recvmsg(s, &mh, flags) < 0)
		return -1;
	*mflags = mh.msg_flags;
	int n = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c;
	     c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			int k =
			    (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
			memcpy(fds + n, CMSG_DATA(c), sizeof(int) * k);
			n += k;
		}
	}
	return n;
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n - 1; /* the directory's own fd */
}

static void rights(void)
{
	int sv[2], p[2], got[300], fl;
	SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	SYS(pipe(p));
	CHECK_EQ(send_fds(sv[0], &p[1], 1, "f", 1), 1);
	SYS(close(p[1]));
	CHECK_EQ(recv_fds(sv[1], got, 1, 0, &fl), 1);
	CHECK_EQ(fl & MSG_CTRUNC, 0);
	CHECK_EQ(fcntl(got[0], F_GETFD), 0);
	/* The received fd is the same pipe. */
	CHECK_EQ(write(got[0], "via", 3), 3);
	char buf[8];
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 3);
	SYS(close(got[0]));
	/* MSG_CMSG_CLOEXEC. */
	CHECK_EQ(send_fds(sv[0], &p[0], 1, "g", 1), 1);
	CHECK_EQ(recv_fds(sv[1], got, 1, MSG_CMSG_CLOEXEC, &fl), 1);
	CHECK_EQ(fcntl(got[0], F_GETFD), FD_CLOEXEC);
	SYS(close(got[0]));
	/* MSG_PEEK installs copies and leaves the message. */
	CHECK_EQ(send_fds(sv[0], &p[0], 1, "h", 1), 1);
	CHECK_EQ(recv_fds(sv[1], got, 1, MSG_PEEK, &fl), 1);
	SYS(close(got[0]));
	CHECK_EQ(recv_fds(sv[1], got, 1, 0, &fl), 1);
	SYS(close(got[0]));
	/* A short control buffer: MSG_CTRUNC, and the fds that did not fit
	 * are closed, not leaked into our table. */
	int three[3] = {p[0], p[0], p[0]};
	int before = count_fds();
	CHECK_EQ(send_fds(sv[0], three, 3, "i", 1), 1);
	CHECK_EQ(recv_fds(sv[1], got, 1, 0, &fl), 1);
	CHECK(fl & MSG_CTRUNC);
	CHECK_EQ(count_fds(), before + 1);
	SYS(close(got[0]));
	CHECK_EQ(send_fds(sv[0], three, 3, "j", 1), 1);
	CHECK_EQ(recv_fds(sv[1], got, 0, 0, &fl), 0);
	CHECK(fl & MSG_CTRUNC);
	CHECK_EQ(count_fds(), before);
	/* No control buffer at all. */
	CHECK_EQ(send_fds(sv[0], three, 3, "k", 1), 1);
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), 0), 1);
	CHECK_EQ(count_fds(), before);
	/* SCM_MAX_FD: 253 go, 254 are EINVAL; a bad fd EBADF. */
	int many[254];
	for (int i = 0; i < 254; i++)
		many[i] = p[0];
	CHECK_ERR(send_fds(sv[0], many, 254, "l", 1), EINVAL);
	CHECK_EQ(send_fds(sv[0], many, 253, "m", 1), 1);
	int n = recv_fds(sv[1], got, 253, 0, &fl);
	CHECK_EQ(n, 253);
	for (int i = 0; i < n; i++)
		SYS(close(got[i]));
	int bad = 1000;
	CHECK_ERR(send_fds(sv[0], &bad, 1, "n", 1), EBADF);
	/* Files end a stream read: the data after them waits for the
	 * next one. */
	CHECK_EQ(write(sv[0], "ab", 2), 2);
	CHECK_EQ(send_fds(sv[0], &p[0], 1, "c", 1), 1);
	CHECK_EQ(write(sv[0], "de", 2), 2);
	char rb[16];
	struct iovec riov = {rb, sizeof(rb)};
	char rc[CMSG_SPACE(sizeof(int))];
	struct msghdr rmh = {.msg_iov = &riov,
			     .msg_iovlen = 1,
			     .msg_control = rc,
			     .msg_controllen = sizeof(rc)};
	CHECK_EQ(recvmsg(sv[1], &rmh, 0), 3);
	CHECK(memcmp(rb, "abc", 3) == 0);
	struct cmsghdr *rcm = CMSG_FIRSTHDR(&rmh);
	CHECK(rcm && rcm->cmsg_type == SCM_RIGHTS);
	int rfd;
	memcpy(&rfd, CMSG_DATA(rcm), sizeof(rfd));
	SYS(close(rfd));
	CHECK_EQ(recv(sv[1], rb, sizeof(rb), 0), 2);
	SYS(close(p[0]));
	SYS(close(sv[0]));
	SYS(close(sv[1]));

	/* Between processes, over datagrams. */
	SYS(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	pid_t pid = SYS(fork());
	if (pid == 0) {
		int q[2];
		if (pipe(q) || send_fds(sv[1], &q[1], 1, "x", 1) != 1 ||
		    close(q[1]))
			_exit(2);
		char c;
		_exit(read(q[0], &c, 1) == 1 && c == 'Z' ? 0 : 3);
	}
	CHECK_EQ(recv_fds(sv[0], got, 1, 0, &fl), 1);
	CHECK_EQ(write(got[0], "Z", 1), 1);
	SYS(close(got[0]));
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	SYS(close(sv[0]));
	SYS(close(sv[1]));
}

/* Drop root (natively) or find ourselves without the capabilities
 * already (a sandbox's root: no CAP_SETUID, CAP_SYS_ADMIN). */
static uid_t child_uid;
static void drop_privileges(void)
{
	if (geteuid() == 0 && (setgid(65534) || setuid(65534)) &&
	    errno != EPERM)
		_exit(2);
}

static void put_creds(struct msghdr *mh, char *cbuf, pid_t pid, uid_t uid,
		      gid_t gid)
{
	struct ucred uc = {pid, uid, gid};
	mh->msg_control = cbuf;
	mh->msg_controllen = CMSG_SPACE(sizeof(uc));
	struct cmsghdr *c = CMSG_FIRSTHDR(mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(uc));
	memcpy(CMSG_DATA(c), &uc, sizeof(uc));
}

static int send_creds(int s, pid_t pid, uid_t uid, gid_t gid)
{
	char cbuf[CMSG_SPACE(sizeof(struct ucred))] = {0};
	struct iovec iov = {"c", 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	put_creds(&mh, cbuf, pid, uid, gid);
	return (int)sendmsg(s, &mh, 0);
}

static int recv_creds(int s, struct ucred *out)
{
	char cbuf[CMSG_SPACE(sizeof(struct ucred)) + 64] = {0};
	char b[4];
	struct iovec iov = {b, sizeof(b)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	if (recvmsg(s, &mh, 0) < 0)
		return -1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET &&
		    c->cmsg_type == SCM_CREDENTIALS) {
			memcpy(out, CMSG_DATA(c), sizeof(*out));
			return 1;
		}
	return 0;
}

static void credentials(void)
{
	int sv[2];
	struct ucred uc;
	SYS(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	/* Without SO_PASSCRED nothing is delivered. */
	CHECK_EQ(send_creds(sv[0], getpid(), getuid(), getgid()), 1);
	CHECK_EQ(recv_creds(sv[1], &uc), 0);
	int one = 1;
	/* What uid a child that drops privileges ends up with. */
	child_uid = getuid();
	if (getuid() == 0) {
		pid_t k = SYS(fork());
		if (k == 0) {
			drop_privileges();
			_exit(getuid() == 65534 ? 1 : 0);
		}
		int kst;
		CHECK_EQ(waitpid(k, &kst, 0), k);
		if (child_status(kst) == 1)
			child_uid = 65534;
	}
	SYS(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)));
	socklen_t l = sizeof(one);
	SYS(getsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, &l));
	CHECK_EQ(one, 1);
	CHECK_EQ(send_creds(sv[0], getpid(), getuid(), getgid()), 1);
	CHECK_EQ(recv_creds(sv[1], &uc), 1);
	CHECK_EQ(uc.pid, getpid());
	CHECK_EQ(uc.uid, getuid());
	CHECK_EQ(uc.gid, getgid());
	/* Implicit: the sender's own. */
	CHECK_EQ(send(sv[0], "i", 1, 0), 1);
	CHECK_EQ(recv_creds(sv[1], &uc), 1);
	CHECK_EQ(uc.pid, getpid());
	CHECK_EQ(uc.uid, getuid());
	/* A bad length. */
	char cbuf[CMSG_SPACE(sizeof(struct ucred))] = {0};
	struct iovec iov = {"c", 1};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	put_creds(&mh, cbuf, getpid(), getuid(), getgid());
	CMSG_FIRSTHDR(&mh)->cmsg_len = CMSG_LEN(sizeof(struct ucred) - 4);
	CHECK_ERR(sendmsg(sv[0], &mh, 0), EINVAL);
	/* An unprivileged sender claims only its own ids. */
	pid_t parent = getpid();
	pid_t pid = SYS(fork());
	if (pid == 0) {
		drop_privileges();
		if (send_creds(sv[0], parent, getuid(), getgid()) != -1 ||
		    errno != EPERM)
			_exit(3);
		if (send_creds(sv[0], getpid(), getuid() + 1, getgid()) != -1 ||
		    errno != EPERM)
			_exit(4);
		if (send_creds(sv[0], getpid(), getuid(), getgid() + 1) != -1 ||
		    errno != EPERM)
			_exit(5);
		if (send_creds(sv[0], getpid(), getuid(), getgid()) != 1)
			_exit(6);
		_exit(0);
	}
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	CHECK_EQ(recv_creds(sv[1], &uc), 1);
	CHECK_EQ(uc.pid, pid);
	CHECK_EQ(uc.uid, child_uid);
	SYS(close(sv[0]));
	SYS(close(sv[1]));

	/* Stream: credentials of the connecting process too. */
	SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	one = 1;
	SYS(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)));
	CHECK_EQ(write(sv[0], "s", 1), 1);
	CHECK_EQ(recv_creds(sv[1], &uc), 1);
	CHECK_EQ(uc.pid, getpid());
	SYS(close(sv[0]));
	SYS(close(sv[1]));
}

/* Sockets that are only in flight must be freed: each round leaves two
 * cycles behind. Without collection the in-flight count passes
 * RLIMIT_NOFILE within a few hundred rounds (ETOOMANYREFS for a
 * non-root sender) and the sentry's memory grows. */
/* Linux collects from a work queue: a sender may see ETOOMANYREFS until
 * it ran. Retry for a while; a leak never clears. */
static int send_fds_retry(int s, const int *fds, int n, const char *d)
{
	for (int tries = 0; tries < 2000; tries++) {
		int r = send_fds(s, fds, n, d, 1);
		if (r == 1 || errno != ETOOMANYREFS)
			return r;
		usleep(1000);
	}
	return -1;
}

static int gc_rounds(int rounds)
{
	for (int i = 0; i < rounds; i++) {
		int a[2], b[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) ||
		    socketpair(AF_UNIX, SOCK_DGRAM, 0, b))
			return 10;
		/* a[0] over itself (it lands in a[0]'s own queue). */
		if (send_fds_retry(a[1], &a[0], 1, "s") != 1)
			return 11;
		/* b[0] and b[1] to each other. */
		if (send_fds_retry(b[0], &b[0], 1, "t") != 1 ||
		    send_fds_retry(b[1], &b[1], 1, "u") != 1)
			return 12;
		/* Both ends of a into b's queue as well. */
		int both[2] = {a[0], a[1]};
		if (send_fds_retry(b[1], both, 2, "v") != 1)
			return 13;
		if (close(a[0]) || close(a[1]) || close(b[0]) || close(b[1]))
			return 14;
	}
	return 0;
}

static void collect(void)
{
	/* 10,000 rounds, 20,000 sockets left in flight in cycles. In the
	 * sandbox the guest's root has no CAP_SYS_RESOURCE, so RLIMIT_NOFILE
	 * (1024) bounds the files in flight: a leak fails within a few
	 * hundred rounds. */
	int before = count_fds();
	CHECK_EQ(gc_rounds(10000), 0);
	CHECK_EQ(count_fds(), before);

	/* The limit itself: files held in flight by a live socket count
	 * (a uid of its own natively: Linux counts per user). */
	pid_t pid = SYS(fork());
	if (pid == 0) {
		struct rlimit rl = {64, 64};
		if (setrlimit(RLIMIT_NOFILE, &rl))
			_exit(20);
		if (geteuid() == 0 && (setgid(65533) || setuid(65533)) &&
		    errno != EPERM)
			_exit(21);
		int sv[2], p[2];
		if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) || pipe(p))
			_exit(22);
		int one[1] = {p[0]};
		int i = 0;
		for (; i < 1000; i++)
			if (send_fds(sv[0], one, 1, "w", 1) != 1)
				break;
		/* Linux: more than RLIMIT_NOFILE in flight fails. */
		_exit(errno == ETOOMANYREFS && i == 65 ? 0 : 23);
	}
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
}

int main(void)
{
	rights();
	credentials();
	collect();
	pass("unix_scm");
	return 0;
}
