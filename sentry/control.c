#include "sentry/control.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bulkhead/log.h"
#include "sentry/boot.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"

#define CTL_LINE_MAX 4096

static int read_line(int fd, char *buf, size_t cap)
{
	size_t n = 0;
	while (n + 1 < cap) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		if (poll(&p, 1, 10000) <= 0)
			return -ETIMEDOUT;
		ssize_t r = read(fd, buf + n, cap - 1 - n);
		if (r <= 0)
			return r < 0 ? -errno : -ECONNRESET;
		n += (size_t)r;
		if (memchr(buf, '\n', n))
			break;
	}
	buf[n] = 0;
	char *nl = strchr(buf, '\n');
	if (!nl)
		return -EMSGSIZE;
	*nl = 0;
	return 0;
}

static void reply(int fd, json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!s)
		return;
	size_t len = strlen(s);
	ssize_t w = write(fd, s, len);
	w = write(fd, "\n", 1);
	(void)w;
	free(s);
}

static json_t *err_reply(const char *msg)
{
	return json_pack("{s:b,s:s}", "ok", 0, "error", msg);
}

static json_t *handle(json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	if (!cmd)
		return err_reply("missing \"cmd\"");
	if (strcmp(cmd, "start") == 0) {
		int r = boot_start();
		if (r == -EALREADY)
			return err_reply("container already started");
		if (r < 0)
			return err_reply(strerror(-r));
		return json_pack("{s:b}", "ok", 1);
	}
	if (strcmp(cmd, "kill") == 0) {
		json_t *sj = json_object_get(req, "signal");
		if (!json_is_integer(sj))
			return err_reply("\"signal\" must be an integer");
		json_int_t sig = json_integer_value(sj);
		if (sig < 0 || sig > BH_NSIG)
			return err_reply("invalid signal");
		bool all = json_is_true(json_object_get(req, "all"));
		tasklist_lock_take();
		int r = 0;
		if (all) {
			struct list_head *pos;
			list_for_each(pos, &kernel.processes)
			{
				struct process *p =
				    list_entry(pos, struct process, all_node);
				if (p->state == PROC_ALIVE && sig)
					signal_send_process_locked(p, (int)sig,
								   NULL);
			}
		} else {
			r = signal_kill_locked(NULL, 1, (int)sig);
		}
		tasklist_unlock();
		if (r < 0)
			return err_reply(strerror(-r));
		return json_pack("{s:b}", "ok", 1);
	}
	if (strcmp(cmd, "ps") == 0) {
		json_t *pids = json_array();
		tasklist_lock_take();
		struct list_head *pos;
		list_for_each(pos, &kernel.processes)
		{
			struct process *p =
			    list_entry(pos, struct process, all_node);
			if (p->state == PROC_ALIVE)
				json_array_append_new(pids,
						      json_integer(p->pid));
		}
		tasklist_unlock();
		return json_pack("{s:b,s:o}", "ok", 1, "pids", pids);
	}
	return err_reply("unknown command");
}

/* Held from reading a request to having written its reply: the sentry
 * exits only after an answer in flight went out (control_quiesce), so a
 * client whose container's init exits at once still hears "started". */
static pthread_mutex_t reply_mu = PTHREAD_MUTEX_INITIALIZER;

void control_quiesce(void)
{
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 2; /* a wedged client must not hold the exit up */
	if (pthread_mutex_timedlock(&reply_mu, &dl) == 0)
		pthread_mutex_unlock(&reply_mu);
}

static void *control_main(void *arg)
{
	int lfd = (int)(intptr_t)arg;
	for (;;) {
		int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			bh_error("control: accept: %s", strerror(errno));
			return NULL;
		}
		char line[CTL_LINE_MAX];
		pthread_mutex_lock(&reply_mu);
		if (read_line(c, line, sizeof(line)) == 0) {
			json_error_t je;
			json_t *req = json_loads(line, 0, &je);
			if (!req || !json_is_object(req))
				reply(c, err_reply("malformed request"));
			else
				reply(c, handle(req));
			json_decref(req);
		}
		close(c);
		pthread_mutex_unlock(&reply_mu);
	}
}

int control_start(int listen_fd)
{
	pthread_t th;
	int r = pthread_create(&th, NULL, control_main,
			       (void *)(intptr_t)listen_fd);
	if (r)
		return -r;
	pthread_detach(th);
	return 0;
}
