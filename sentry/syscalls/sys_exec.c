/* execve and execveat: copy path, argv and envp in once, bounded, then
 * hand them to the loader. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/syscall.h>

#include "sentry/loader/exec.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/usercopy.h"
#include "sentry/syscalls/syscalls.h"

static long do_execveat(struct task *t, int dirfd, uint64_t upath,
			uint64_t uargv, uint64_t uenvp, int flags)
{
	char **av = NULL, **ev = NULL, *ab = NULL, *eb = NULL;
	long r;

	if (flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -EINVAL;
	char *path = malloc(PATH_MAX);
	if (!path)
		return -ENOMEM;
	r = strncpy_from_user(t, path, upath, PATH_MAX);
	if (r == 0 && !(flags & AT_EMPTY_PATH))
		r = -ENOENT;
	if (r < 0)
		goto out;
	r = copy_strings_from_user(t, uargv, EXEC_ARGC_MAX, EXEC_ARG_MAX, &av,
				   &ab);
	if (r < 0)
		goto out;
	r = copy_strings_from_user(t, uenvp, EXEC_ARGC_MAX, EXEC_ARG_MAX, &ev,
				   &eb);
	if (r < 0)
		goto out;
	r = kernel_execveat(t, dirfd, path, av, ev, flags);
	if (r == -EXEC_FATAL) {
		/* The old image is gone: die as Linux does, by a SIGSEGV
		 * that no handler or mask can stop. */
		signal_force(t, SIGSEGV, NULL);
		r = -EFAULT;
	}
out:
	free(path);
	free(av);
	free(ab);
	free(ev);
	free(eb);
	return r;
}

static long sys_execve(struct task *t, const uint64_t a[6])
{
	return do_execveat(t, AT_FDCWD, a[0], a[1], a[2], 0);
}

static long sys_execveat(struct task *t, const uint64_t a[6])
{
	return do_execveat(t, (int)a[0], a[1], a[2], a[3], (int)a[4]);
}

const struct syscall_def sys_exec_defs[] = {
    {__NR_execve, "execve", sys_execve, "spp", "0s"},
    {__NR_execveat, "execveat", sys_execveat, "fsppx", "1s"},
    {.nr = -1},
};
