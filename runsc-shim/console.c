#include "runsc-shim/console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int send_fd(int sock, int fd, const char *name)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	memset(cbuf, 0, sizeof(cbuf));
	struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
	struct msghdr mh = {
	    .msg_iov = &iov,
	    .msg_iovlen = 1,
	    .msg_control = cbuf,
	    .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	for (;;) {
		ssize_t r = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (r >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

int console_socket_pty(const char *path, int *slave, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "console socket %.200s: path too long",
			 path);
		return -ENAMETOOLONG;
	}
	strcpy(sa.sun_path, path);
	int m = -1, s = -1, sock = -1, rc;
	const char *what = "opening a pty";
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	char name[64];
	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 ||
	    ptsname_r(m, name, sizeof(name)) != 0 ||
	    (s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0)
		goto fail;
	struct termios t;
	what = "setting the pty raw";
	if (console_make_raw(s, &t) < 0)
		goto fail;
	what = "connecting to it";
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		goto fail;
	what = "sending the pty master";
	if ((rc = send_fd(sock, m, name)) < 0) {
		errno = -rc;
		goto fail;
	}
	close(sock);
	close(m);
	*slave = s;
	return 0;
fail:
	rc = -errno;
	snprintf(err, errlen, "console socket %.200s: %s: %s", path, what,
		 strerror(errno));
	if (sock >= 0)
		close(sock);
	if (s >= 0)
		close(s);
	if (m >= 0)
		close(m);
	return rc;
}

int console_make_raw(int fd, struct termios *saved)
{
	if (tcgetattr(fd, saved) < 0)
		return -errno;
	struct termios raw = *saved;
	cfmakeraw(&raw);
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return -errno;
	return 0;
}

void console_restore(int fd, const struct termios *saved)
{
	tcsetattr(fd, TCSADRAIN, saved);
}
