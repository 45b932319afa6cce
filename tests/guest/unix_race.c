/* AF_UNIX under concurrency: several readers and writers on one stream,
 * file passing and in-flight cycles from several threads at once (the
 * collector runs while others send), a close racing a blocked reader, and
 * datagram senders racing the receiver's close. Every byte and message is
 * accounted for. */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "check.h"

#define WRITERS	  3
#define PER_WRITE 100
#define WRITES	  2000

static int pair[2];
static _Atomic long got_bytes, got_sum;

static void *writer(void *arg)
{
	unsigned char buf[PER_WRITE];
	long id = (long)arg;
	memset(buf, (int)(id + 1), sizeof(buf));
	for (int i = 0; i < WRITES; i++)
		if (write_full(pair[0], buf, sizeof(buf)) != sizeof(buf))
			return (void *)1;
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	unsigned char buf[333];
	for (;;) {
		ssize_t r = read(pair[1], buf, sizeof(buf));
		if (r <= 0)
			return r == 0 ? NULL : (void *)1;
		long s = 0;
		for (ssize_t i = 0; i < r; i++)
			s += buf[i];
		atomic_fetch_add(&got_bytes, r);
		atomic_fetch_add(&got_sum, s);
	}
}

static void many_readers_writers(void)
{
	SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, pair));
	pthread_t w[WRITERS], r[2];
	for (long i = 0; i < 2; i++)
		CHECK_EQ(pthread_create(&r[i], NULL, reader, NULL), 0);
	for (long i = 0; i < WRITERS; i++)
		CHECK_EQ(pthread_create(&w[i], NULL, writer, (void *)i), 0);
	void *ret;
	for (int i = 0; i < WRITERS; i++) {
		CHECK_EQ(pthread_join(w[i], &ret), 0);
		CHECK(ret == NULL);
	}
	SYS(shutdown(pair[0], SHUT_WR));
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(pthread_join(r[i], &ret), 0);
		CHECK(ret == NULL);
	}
	long want = 0;
	for (int i = 0; i < WRITERS; i++)
		want += (long)(i + 1) * PER_WRITE * WRITES;
	CHECK_EQ(got_bytes, (long)WRITERS * PER_WRITE * WRITES);
	CHECK_EQ(got_sum, want);
	SYS(close(pair[0]));
	SYS(close(pair[1]));
}

static int send_fd(int s, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {"x", 1};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(fd));
	return (int)sendmsg(s, &mh, 0);
}

/* Cycles made from several threads at once, with receives of passed
 * sockets in between: the collector runs while the others send. */
static void *cycler(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1500; i++) {
		int a[2], b[2];
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, a) ||
		    socketpair(AF_UNIX, SOCK_DGRAM, 0, b))
			return (void *)1;
		for (int tries = 0;; tries++) {
			if (send_fd(a[1], a[0]) == 1 &&
			    send_fd(b[0], b[1]) == 1 &&
			    send_fd(b[1], a[1]) == 1)
				break;
			/* Linux collects from a work queue. */
			if (errno != ETOOMANYREFS || tries > 2000)
				return (void *)2;
			usleep(1000);
		}
		if (i % 3 == 0) {
			/* Take one back out before closing. */
			char c;
			char cbuf[CMSG_SPACE(sizeof(int))];
			struct iovec iov = {&c, 1};
			struct msghdr mh = {.msg_iov = &iov,
					    .msg_iovlen = 1,
					    .msg_control = cbuf,
					    .msg_controllen = sizeof(cbuf)};
			if (recvmsg(b[0], &mh, 0) != 1)
				return (void *)3;
			struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
			int fd;
			if (!cm)
				return (void *)4;
			memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
			close(fd);
		}
		close(a[0]);
		close(a[1]);
		close(b[0]);
		close(b[1]);
	}
	return NULL;
}

static void concurrent_cycles(void)
{
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		CHECK_EQ(pthread_create(&th[i], NULL, cycler, NULL), 0);
	for (int i = 0; i < 4; i++) {
		void *ret;
		CHECK_EQ(pthread_join(th[i], &ret), 0);
		CHECK_EQ((long)ret, 0);
	}
}

static int blocked_fd[2];
static void *blocked_reader(void *arg)
{
	(void)arg;
	char c;
	return (void *)(long)read(blocked_fd[1], &c, 1);
}

/* A reader blocked while another thread closes its fd keeps the socket
 * (Linux: the file lives until the read returns); the peer's close ends
 * it with EOF. */
static void close_under_reader(void)
{
	for (int i = 0; i < 50; i++) {
		SYS(socketpair(AF_UNIX, SOCK_STREAM, 0, blocked_fd));
		pthread_t th;
		CHECK_EQ(pthread_create(&th, NULL, blocked_reader, NULL), 0);
		usleep(1000);
		SYS(close(blocked_fd[1]));
		SYS(close(blocked_fd[0]));
		void *ret;
		CHECK_EQ(pthread_join(th, &ret), 0);
		CHECK((long)ret == 0 || (long)ret == -1);
	}
}

/* Senders blocked on a full datagram receiver when it closes: they all
 * return, with ECONNREFUSED. */
static void dgram_close_under_senders(void)
{
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	snprintf(a.sun_path + 1, sizeof(a.sun_path) - 1, "bh-race-%d",
		 (int)getpid());
	socklen_t al = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				   strlen(a.sun_path + 1));
	int r = SYS(socket(AF_UNIX, SOCK_DGRAM, 0));
	SYS(bind(r, (struct sockaddr *)&a, al));
	pid_t pids[4];
	for (int k = 0; k < 4; k++) {
		pids[k] = SYS(fork());
		if (pids[k] == 0) {
			close(r);
			int s = socket(AF_UNIX, SOCK_DGRAM, 0);
			for (;;) {
				if (sendto(s, "d", 1, 0, (struct sockaddr *)&a,
					   al) != 1)
					_exit(errno == ECONNREFUSED ? 0 : 1);
			}
		}
	}
	char c;
	for (int i = 0; i < 200; i++)
		CHECK_EQ(recv(r, &c, 1, 0), 1);
	SYS(close(r));
	for (int k = 0; k < 4; k++) {
		int st;
		CHECK_EQ(waitpid(pids[k], &st, 0), pids[k]);
		CHECK_EQ(child_status(st), 0);
	}
}

int main(void)
{
	many_readers_writers();
	concurrent_cycles();
	close_under_reader();
	dgram_close_under_senders();
	pass("unix_race");
	return 0;
}
