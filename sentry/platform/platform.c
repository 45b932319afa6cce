#include "sentry/platform/platform.h"

#include <errno.h>
#include <string.h>

const struct plat_ops *platform;

int platform_select(const char *name)
{
	if (!name || strcmp(name, "systrap") == 0) {
		platform = &plat_systrap_ops;
		return 0;
	}
	if (strcmp(name, "ptrace") == 0) {
		platform = &plat_ptrace_ops;
		return 0;
	}
	return -EINVAL;
}
