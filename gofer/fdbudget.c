#include "gofer/fdbudget.h"

#include <sys/resource.h>

#include "gofer/node.h"

#define FD_RESERVE_BASE 32u

size_t gofer_fd_budget(unsigned nexports)
{
	struct rlimit nofile;
	rlim_t limit = 1024; /* the usual default, if even getrlimit fails */
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
		if (nofile.rlim_cur < nofile.rlim_max) {
			rlim_t cur = nofile.rlim_cur;
			nofile.rlim_cur = nofile.rlim_max;
			if (setrlimit(RLIMIT_NOFILE, &nofile) < 0)
				nofile.rlim_cur = cur;
		}
		limit = nofile.rlim_cur;
	}
	/* Two fds per node at most (its O_PATH fd and a directory's GETDENTS
	 * fd): more would never be used. Also keeps RLIM_INFINITY sane. */
	if (limit > 2 * (rlim_t)GOFER_NODE_MAX)
		limit = 2 * (rlim_t)GOFER_NODE_MAX;
	rlim_t reserve = FD_RESERVE_BASE + 3 * (rlim_t)nexports + limit / 16;
	if (limit < reserve + GOFER_FD_BUDGET_MIN)
		return GOFER_FD_BUDGET_MIN;
	return (size_t)(limit - reserve);
}
