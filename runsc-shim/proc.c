#include "runsc-shim/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int proc_start_time(pid_t pid, unsigned long long *start, bool *zombie)
{
	if (pid <= 0)
		return -ESRCH;
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ESRCH;
	buf[n] = '\0';
	/* comm (field 2) may hold spaces and parentheses: parse after the
	 * last ')'. */
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ')
		return -EINVAL;
	p += 2;
	char state = *p;
	/* p is at field 3; skip to field 22. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		p++;
	}
	char *end;
	errno = 0;
	unsigned long long st = strtoull(p, &end, 10);
	if (errno || end == p)
		return -EINVAL;
	*start = st;
	if (zombie)
		*zombie = state == 'Z' || state == 'X';
	return 0;
}

bool proc_alive(pid_t pid, unsigned long long start)
{
	unsigned long long st;
	bool zombie;
	if (proc_start_time(pid, &st, &zombie) < 0)
		return false;
	return st == start && !zombie;
}

int proc_kill_wait(pid_t pid, unsigned long long start, int timeout_ms)
{
	if (!proc_alive(pid, start)) {
		/* Reap it if it is our zombie child; harmless otherwise. */
		if (pid > 0)
			waitpid(pid, NULL, WNOHANG);
		return 0;
	}
	if (kill(pid, SIGKILL) < 0 && errno != ESRCH)
		return -errno;
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return 0;
		if (!proc_alive(pid, start))
			return 0;
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	return -ETIMEDOUT;
}
