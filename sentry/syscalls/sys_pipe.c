/* pipe, pipe2. */
#include <errno.h>
#include <fcntl.h>

#include "sentry/fs/pipe/pipe.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/usercopy.h"
#include "sentry/syscalls/sys_file.h"

static long do_pipe2(struct task *t, uint64_t ufds, int flags)
{
	if (flags & ~(O_CLOEXEC | O_NONBLOCK | O_DIRECT))
		return -EINVAL;
	struct file *rd, *wr;
	int r = pipe_create(flags, &rd, &wr);
	if (r)
		return r;
	bool cloexec = flags & O_CLOEXEC;
	int fds[2];
	fds[0] = fd_alloc(t->files, 0, rd, cloexec);
	fds[1] = fds[0] < 0 ? fds[0] : fd_alloc(t->files, 0, wr, cloexec);
	file_put(rd);
	file_put(wr);
	if (fds[1] < 0) {
		if (fds[0] >= 0)
			fd_close(t->files, fds[0]);
		return fds[1];
	}
	if (copy_to_user(t, ufds, fds, sizeof(fds))) {
		fd_close(t->files, fds[0]);
		fd_close(t->files, fds[1]);
		return -EFAULT;
	}
	return 0;
}

long sys_pipe(struct task *t, const uint64_t a[6])
{
	return do_pipe2(t, a[0], 0);
}

long sys_pipe2(struct task *t, const uint64_t a[6])
{
	return do_pipe2(t, a[0], (int)a[1]);
}
