/* The filesystem-type table: a handful of entries, scanned. */
#include "sentry/vfs/fstype.h"

#include <errno.h>
#include <stddef.h>

#define FS_TYPE_MAX 16

/* Written only before the guest starts (single-threaded boot). */
static const struct fs_type *types[FS_TYPE_MAX];
static int ntypes;

int fs_type_register(const struct fs_type *ft)
{
	if (fs_type_find(ft->type))
		return -EBUSY;
	if (ntypes == FS_TYPE_MAX)
		return -ENOSPC;
	types[ntypes++] = ft;
	return 0;
}

const struct fs_type *fs_type_find(enum bh_mount_type type)
{
	for (int i = 0; i < ntypes; i++)
		if (types[i]->type == type)
			return types[i];
	return NULL;
}
