/* poll on pipes: readiness for read, write, hangup and timeouts. */
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <time.h>
#include "check.h"

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(void)
{
	int p[2];
	char c;
	SYS(pipe(p));
	struct pollfd fds[2] = {{.fd = p[0], .events = POLLIN},
				{.fd = p[1], .events = POLLOUT}};
	CHECK_EQ(poll(fds, 2, 0), 1);
	CHECK_EQ(fds[0].revents, 0);
	CHECK_EQ(fds[1].revents, POLLOUT);

	/* A timeout with nothing ready returns 0 after about that long. */
	long long t0 = now_ms();
	CHECK_EQ(poll(fds, 1, 50), 0);
	CHECK(now_ms() - t0 >= 45);

	CHECK_EQ(write(p[1], "x", 1), 1);
	CHECK_EQ(poll(fds, 1, 0), 1);
	CHECK_EQ(fds[0].revents, POLLIN);
	CHECK_EQ(read(p[0], &c, 1), 1);

	/* A child's write wakes a poll that is already blocked. */
	pid_t pid = SYS(fork());
	if (pid == 0) {
		usleep(50000);
		_exit(write(p[1], "y", 1) == 1 ? 0 : 2);
	}
	fds[0].revents = 0;
	CHECK_EQ(poll(fds, 1, 5000), 1);
	CHECK_EQ(fds[0].revents, POLLIN);
	CHECK_EQ(read(p[0], &c, 1), 1);
	CHECK_EQ(c, 'y');
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);

	/* Closing the write end gives POLLHUP on the read end... */
	SYS(close(p[1]));
	CHECK_EQ(poll(fds, 1, 1000), 1);
	CHECK(fds[0].revents & POLLHUP);
	/* ...and closing the read end gives POLLERR on a write end. */
	int q[2];
	SYS(pipe(q));
	SYS(close(q[0]));
	struct pollfd w = {.fd = q[1], .events = POLLOUT};
	CHECK_EQ(poll(&w, 1, 0), 1);
	CHECK(w.revents & POLLERR);

	/* A closed fd is reported as POLLNVAL, not an error of poll. */
	struct pollfd bad = {.fd = p[1], .events = POLLIN};
	CHECK_EQ(poll(&bad, 1, 0), 1);
	CHECK_EQ(bad.revents, POLLNVAL);
	/* Negative fds are ignored. */
	struct pollfd neg = {.fd = -1, .events = POLLIN};
	CHECK_EQ(poll(&neg, 1, 0), 0);
	pass("poll");
	return 0;
}
