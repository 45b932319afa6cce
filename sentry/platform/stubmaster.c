#include "sentry/platform/stubmaster.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bulkhead/fdpass.h"
#include "bulkhead/log.h"

/* Host ids the stubs run as: nobody. Root inside their user namespace maps
 * to it, so a stub that escaped every other layer still holds no host
 * privilege. */
#define STUB_HOST_ID 65534

static int spawn_sock = -1; /* sentry end; the master holds the other */
static pid_t master_pid = -1;

pid_t stubmaster_pid(void)
{
	return master_pid;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, s, strlen(s));
	int err = n < 0 ? -errno : 0;
	close(fd);
	return err;
}

static void die(const char *what)
{
	/* The master has no log of its own; the sentry sees spawn fail. */
	(void)what;
	_exit(127);
}

/* Runs in each new stub between fork and exec; gsock: its fd channel. */
static void stub_child(int msock, int gsock, int memfd)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* Move the memfd out of the way first: it may sit at STUB_FD_SOCK. */
	int efd = fcntl(memfd, F_DUPFD_CLOEXEC, 64);
	if (efd < 0)
		die("dupfd");
	if (msock == STUB_FD_SOCK &&
	    (msock = fcntl(msock, F_DUPFD_CLOEXEC, 64)) < 0)
		die("dupfd");
	/* dup2 onto itself would keep the close-on-exec flag. */
	if (gsock == STUB_FD_SOCK ? fcntl(gsock, F_SETFD, 0) < 0
				  : dup2(gsock, STUB_FD_SOCK) < 0)
		die("dup2");
	/* Announce ourselves: the sentry's end has SO_PASSCRED, so the kernel
	 * attaches our pid, translated into the sentry's pid namespace. */
	if (write(msock, "c", 1) != 1)
		die("announce");
	for (int fd = 0; fd < STUB_FD_SOCK; fd++)
		close(fd);
	if (syscall(SYS_close_range, STUB_FD_SOCK + 1, efd - 1, 0) < 0 ||
	    syscall(SYS_close_range, efd + 1, ~0U, 0) < 0)
		die("close_range");
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	char *argv[] = {"bulkhead-stub", NULL};
	char *envp[] = {NULL};
	syscall(SYS_execveat, efd, "", argv, envp, AT_EMPTY_PATH);
	die("execveat");
}

static int drop_all_caps(void)
{
	for (int c = 0; c <= CAP_LAST_CAP; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	cap_t caps = cap_init(); /* empty */
	if (!caps)
		return -ENOMEM;
	int r = cap_set_proc(caps);
	cap_free(caps);
	if (r < 0)
		return -errno;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}

/* An empty, read-only tmpfs as / : stubs can name no file at all. */
static int enter_empty_root(void)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	if (mount("none", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "size=4k,mode=0555") < 0)
		return -errno;
	if (chdir("/tmp") < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		return -errno;
	if (umount2(".", MNT_DETACH) < 0)
		return -errno;
	if (chdir("/") < 0)
		return -errno;
	if (mount(NULL, "/", NULL,
		  MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV |
		      MS_NOEXEC,
		  NULL) < 0)
		return -errno;
	return 0;
}

/* The master must hold nothing of the sentry's (gofer socket, control
 * socket, stdio): close every fd but the ones it serves with. */
static void close_all_except(const int *keep, int n)
{
	for (int fd = 0; fd < 1024; fd++) {
		bool k = false;
		for (int i = 0; i < n; i++)
			k |= keep[i] == fd;
		if (!k)
			close(fd);
	}
	syscall(SYS_close_range, 1024, ~0U, 0);
}

static void master_main(int msock, int memfd, int syncfd)
{
	char c;
	int keep[] = {msock, memfd, syncfd};
	close_all_except(keep, 3);
	/* Wait until the sentry has written our uid/gid maps. */
	if (read(syncfd, &c, 1) != 1)
		die("sync");
	close(syncfd);
	if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		die("setresuid");
	if (enter_empty_root() < 0)
		die("root");
	if (sethostname("bulkhead-stub", 13) < 0)
		die("hostname");
	if (drop_all_caps() < 0)
		die("caps");

	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		die("signalfd");

	for (;;) {
		struct pollfd p[2] = {{.fd = msock, .events = POLLIN},
				      {.fd = sfd, .events = POLLIN}};
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			die("poll");
		if (p[1].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) > 0)
				;
			while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
				;
		}
		if (p[0].revents) {
			/* A request carries the new stub's fd channel. */
			struct iovec iov = {.iov_base = &c, .iov_len = 1};
			union {
				char buf[CMSG_SPACE(sizeof(int) * 2)];
				struct cmsghdr align;
			} u;
			struct msghdr mh = {.msg_iov = &iov,
					    .msg_iovlen = 1,
					    .msg_control = u.buf,
					    .msg_controllen = sizeof(u.buf)};
			ssize_t n = recvmsg(msock, &mh, MSG_CMSG_CLOEXEC);
			if (n <= 0)
				_exit(0); /* the sentry is gone */
			int gsock = -1;
			fdpass_take(&mh, &gsock);
			pid_t pid = gsock >= 0 ? fork() : -1;
			if (pid == 0)
				stub_child(msock, gsock, memfd);
			if (gsock >= 0)
				close(gsock);
			if (pid < 0) {
				/* Tell the sentry with a message that has no
				 * credentials it could mistake for a stub's:
				 * a zero-byte message. */
				send(msock, "", 0, 0);
			}
		}
	}
}

int stubmaster_init(int stub_memfd)
{
	int sp[2], sync[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0)
		return -errno;
	if (pipe2(sync, O_CLOEXEC) < 0)
		return -errno;
	int one = 1;
	if (setsockopt(sp[0], SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0)
		return -errno;
	long pid =
	    syscall(SYS_clone,
		    CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC |
			CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWCGROUP | SIGCHLD,
		    0, 0, 0, 0);
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		/* A sentry that died before this line is caught by the sync
		 * read in master_main (EOF). */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(sp[0]);
		close(sync[1]);
		master_main(sp[1], stub_memfd, sync[0]);
		_exit(0);
	}
	close(sp[1]);
	close(sync[0]);
	char path[64], map[64];
	snprintf(map, sizeof(map), "0 %d 1\n", STUB_HOST_ID);
	snprintf(path, sizeof(path), "/proc/%ld/setgroups", pid);
	int r = write_file(path, "deny");
	if (r == 0) {
		snprintf(path, sizeof(path), "/proc/%ld/gid_map", pid);
		r = write_file(path, map);
	}
	if (r == 0) {
		snprintf(path, sizeof(path), "/proc/%ld/uid_map", pid);
		r = write_file(path, map);
	}
	if (r < 0) {
		bh_error("stub master: writing id maps: %s", strerror(-r));
		kill((pid_t)pid, SIGKILL);
		waitpid((pid_t)pid, NULL, 0);
		return r;
	}
	if (write(sync[1], "g", 1) != 1)
		return -EIO;
	close(sync[1]);
	spawn_sock = sp[0];
	master_pid = (pid_t)pid;
	return 0;
}

struct stub_chan *stub_chan_new(void)
{
	int fp[2];
	struct stub_chan *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, fp) < 0) {
		free(c);
		return NULL;
	}
	c->sock = fp[0];
	c->peer = fp[1];
	c->refs = 1;
	kmutex_init(&c->lock, "stub_chan", LR_STUB_CHAN);
	return c;
}

/* Channels are shared by a process's threads and its vfork children, whose
 * sentry threads may take and drop them without the kernel lock. */
static pthread_mutex_t chan_lock = PTHREAD_MUTEX_INITIALIZER;

void stub_chan_get(struct stub_chan *c)
{
	pthread_mutex_lock(&chan_lock);
	c->refs++;
	pthread_mutex_unlock(&chan_lock);
}

void stub_chan_put(struct stub_chan *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&chan_lock);
	bool last = --c->refs <= 0;
	pthread_mutex_unlock(&chan_lock);
	if (!last)
		return;
	close(c->sock);
	close(c->peer);
	free(c);
}

static struct kmutex spawn_lock = KMUTEX_INITIALIZER("spawn", LR_SPAWN);
static pid_t stubmaster_spawn_locked(struct stub_chan *ch);

pid_t stubmaster_spawn(struct stub_chan *ch)
{
	kmutex_lock(&spawn_lock);
	pid_t r = stubmaster_spawn_locked(ch);
	kmutex_unlock(&spawn_lock);
	return r;
}

static pid_t stubmaster_spawn_locked(struct stub_chan *ch)
{
	if (stubmaster_send_fds(&(struct stub_chan){.sock = spawn_sock},
				&ch->peer, 1) < 0)
		return -EIO;
	char c;
	struct iovec iov = {.iov_base = &c, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	ssize_t n = recvmsg(spawn_sock, &msg, 0);
	if (n != 1)
		return n < 0 ? -errno : -EAGAIN;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_level != SOL_SOCKET ||
	    cm->cmsg_type != SCM_CREDENTIALS)
		return -EPROTO;
	struct ucred cred;
	memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
	if (cred.pid <= 0)
		return -EPROTO;
	return cred.pid;
}

int stubmaster_send_fds(struct stub_chan *ch, const int *fds, int n)
{
	char c = 'f';
	struct iovec iov = {.iov_base = &c, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int) * 2)];
		struct cmsghdr align;
	} u;
	if (n < 1 || n > 2)
		return -EINVAL;
	memset(&u, 0, sizeof(u));
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = CMSG_SPACE(sizeof(int) * n)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	if (sendmsg(ch->sock, &msg, MSG_NOSIGNAL) != 1)
		return -errno;
	return 0;
}

int stubmaster_send_fd(struct stub_chan *ch, int hostfd)
{
	return stubmaster_send_fds(ch, &hostfd, 1);
}

int stubmaster_recv_fd(struct stub_chan *ch)
{
	char c;
	struct iovec iov = {.iov_base = &c, .iov_len = 1};
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = u.buf,
			     .msg_controllen = sizeof(u.buf)};
	if (recvmsg(ch->sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) < 0)
		return -errno;
	int got = -1;
	fdpass_take(&msg, &got); /* a stub sends one fd, never more */
	return got >= 0 ? got : -EPROTO;
}

void stubmaster_flush_fd(struct stub_chan *ch)
{
	char c;
	union {
		char buf[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = &c, .iov_len = 1};
	for (;;) {
		struct msghdr msg = {.msg_iov = &iov,
				     .msg_iovlen = 1,
				     .msg_control = u.buf,
				     .msg_controllen = sizeof(u.buf)};
		if (recvmsg(ch->peer, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) <
		    0)
			return;
		fdpass_take(&msg, NULL);
	}
}

void stub_fd_msg_init(struct stub_fd_msg *s, uint64_t base, int fd)
{
	memset(s, 0, sizeof(*s));
	s->byte = 'f';
	s->iov.iov_base = (void *)(base + offsetof(struct stub_fd_msg, byte));
	s->iov.iov_len = 1;
	s->msg.msg_iov = (void *)(base + offsetof(struct stub_fd_msg, iov));
	s->msg.msg_iovlen = 1;
	s->msg.msg_control = (void *)(base + offsetof(struct stub_fd_msg, cm));
	s->msg.msg_controllen = sizeof(s->cm.buf);
	if (fd >= 0) {
		s->cm.align.cmsg_level = SOL_SOCKET;
		s->cm.align.cmsg_type = SCM_RIGHTS;
		s->cm.align.cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(&s->cm.align), &fd, sizeof(int));
	}
}

int stub_fd_msg_fd(const struct stub_fd_msg *s)
{
	struct cmsghdr cm;
	memcpy(&cm, &s->cm.align, sizeof(cm));
	if (cm.cmsg_level != SOL_SOCKET || cm.cmsg_type != SCM_RIGHTS ||
	    cm.cmsg_len != CMSG_LEN(sizeof(int)))
		return -EIO;
	int fd;
	memcpy(&fd, CMSG_DATA(&s->cm.align), sizeof(int));
	return fd < 0 ? -EIO : fd;
}
