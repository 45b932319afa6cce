#include "runsc-shim/control.h"

#include "runsc-shim/state.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int ctl_connect(const char *dir, char *err, size_t errlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir,
			     STATE_CONTROL) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "control socket path is too long");
		return -ENAMETOOLONG;
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		int e = errno;
		snprintf(err, errlen, "socket: %s", strerror(e));
		return -e;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		snprintf(err, errlen, "cannot reach the sandbox: %s",
			 strerror(e));
		return -e;
	}
	return fd;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One line, bounded, within the deadline. */
static int recv_line(int fd, char **out, char *err, size_t errlen)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	long long deadline = now_ms() + CTL_TIMEOUT_MS;
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0) {
			free(buf);
			snprintf(err, errlen, "the sandbox did not answer");
			return -ETIMEDOUT;
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int pr = poll(&p, 1, (int)left);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0) {
			int e = errno;
			free(buf);
			return -e;
		}
		if (pr == 0)
			continue;
		if (len + 1 >= cap) {
			if (cap >= CTL_MAX_REPLY) {
				free(buf);
				snprintf(err, errlen,
					 "the sandbox's reply is too long");
				return -EMSGSIZE;
			}
			cap *= 2;
			char *nb = realloc(buf, cap);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
		ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			snprintf(err, errlen, "control socket: %s",
				 strerror(e));
			return -e;
		}
		if (n == 0) {
			free(buf);
			snprintf(err, errlen,
				 "the sandbox closed the control connection");
			return -ECONNRESET;
		}
		char *nl = memchr(buf + len, '\n', (size_t)n);
		len += (size_t)n;
		if (nl) {
			*nl = '\0';
			*out = buf;
			return 0;
		}
	}
}

int ctl_request(const char *dir, json_t *req, json_t **reply, char *err,
		size_t errlen)
{
	if (reply)
		*reply = NULL;
	char *text = json_dumps(req, JSON_COMPACT);
	if (!text)
		return -ENOMEM;
	size_t tlen = strlen(text);
	char *line = realloc(text, tlen + 2);
	if (!line) {
		free(text);
		return -ENOMEM;
	}
	line[tlen] = '\n';
	line[tlen + 1] = '\0';
	int fd = ctl_connect(dir, err, errlen);
	if (fd < 0) {
		free(line);
		return fd;
	}
	int rc = send_all(fd, line, tlen + 1);
	free(line);
	if (rc < 0) {
		close(fd);
		snprintf(err, errlen, "control socket: %s", strerror(-rc));
		return rc;
	}
	char *resp = NULL;
	rc = recv_line(fd, &resp, err, errlen);
	close(fd);
	if (rc < 0)
		return rc;
	json_t *o = json_loads(resp, 0, NULL);
	free(resp);
	if (!json_is_object(o) || !json_is_boolean(json_object_get(o, "ok"))) {
		json_decref(o);
		snprintf(err, errlen, "the sandbox sent a malformed reply");
		return -EPROTO;
	}
	if (!json_is_true(json_object_get(o, "ok"))) {
		json_t *e = json_object_get(o, "error");
		snprintf(err, errlen, "%.1000s",
			 json_is_string(e) ? json_string_value(e)
					   : "request failed");
		json_decref(o);
		return -EIO;
	}
	if (reply)
		*reply = o;
	else
		json_decref(o);
	return 0;
}
