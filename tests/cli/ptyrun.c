/* A terminal for the CLI tests: drives an interactive shell in a container
 * and prints everything it shows.
 *   ptyrun -- CMD ARGS...      runs CMD on a new pty (bulkhead run, which
 *                              uses the caller's terminal); exits with
 *                              CMD's status
 *   ptyrun --socket PATH       listens on PATH as a console socket,
 *                              takes the pty master a `create
 *                              --console-socket PATH` sends, and talks to
 *                              the shell through it; exits 0
 * Both wait for the shell's prompt ("# "), set the window to 40x120, then
 * type "stty size; tty; exit 7" and read until the terminal closes. */
#include <errno.h>
#include <poll.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TIMEOUT_MS 60000

static char out[1 << 16];
static size_t outlen;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read from m until want appears (NULL: until EOF/EIO) or time runs out. */
static int read_until(int m, const char *want, long long deadline)
{
	for (;;) {
		out[outlen] = 0;
		if (want && strstr(out, want))
			return 0;
		long long left = deadline - now_ms();
		if (left <= 0)
			return -1;
		struct pollfd p = {m, POLLIN, 0};
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return -1;
		if (!p.revents)
			continue;
		ssize_t r = read(m, out + outlen, sizeof(out) - 1 - outlen);
		if (r <= 0)
			return want ? -1 : 0;
		outlen += (size_t)r;
		if (outlen >= sizeof(out) - 1)
			return -1;
	}
}

static int converse(int m)
{
	long long deadline = now_ms() + TIMEOUT_MS;
	if (read_until(m, "# ", deadline) < 0) {
		fprintf(stderr, "ptyrun: no prompt\n");
		return -1;
	}
	struct winsize ws = {.ws_row = 40, .ws_col = 120};
	if (ioctl(m, TIOCSWINSZ, &ws) < 0)
		return -1;
	usleep(600000); /* the bridge looks every 250 ms */
	const char *cmd = "stty size; tty; exit 7\r";
	if (write(m, cmd, strlen(cmd)) != (ssize_t)strlen(cmd))
		return -1;
	return read_until(m, NULL, deadline);
}

static int recv_fd(int s)
{
	char name[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {name, sizeof(name)};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cbuf,
			    .msg_controllen = sizeof(cbuf)};
	if (recvmsg(s, &mh, 0) <= 0)
		return -1;
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && !strcmp(argv[1], "--socket")) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", argv[2]);
		int l = socket(AF_UNIX, SOCK_STREAM, 0);
		if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(l, 1) < 0) {
			perror("ptyrun: console socket");
			return 1;
		}
		struct pollfd p = {l, POLLIN, 0};
		int c =
		    poll(&p, 1, TIMEOUT_MS) == 1 ? accept(l, NULL, NULL) : -1;
		int m = c >= 0 ? recv_fd(c) : -1;
		if (m < 0) {
			fprintf(stderr, "ptyrun: no pty master received\n");
			return 1;
		}
		int r = converse(m);
		fwrite(out, 1, outlen, stdout);
		return r < 0 ? 1 : 0;
	}
	if (argc < 3 || strcmp(argv[1], "--")) {
		fprintf(stderr,
			"usage: ptyrun -- CMD... | ptyrun --socket P\n");
		return 2;
	}
	int m;
	pid_t pid = forkpty(&m, NULL, NULL, NULL);
	if (pid < 0) {
		perror("ptyrun: forkpty");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	int r = converse(m);
	fwrite(out, 1, outlen, stdout);
	int st;
	if (waitpid(pid, &st, 0) < 0 || r < 0)
		return 1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
