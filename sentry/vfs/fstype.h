/* Filesystem types (Linux's register_filesystem): each filesystem
 * registers how to make a super block from a config mount, and mounting
 * looks the type up instead of knowing every filesystem. Registration
 * happens at start-up, before any guest runs. */
#ifndef BULKHEAD_FSTYPE_H
#define BULKHEAD_FSTYPE_H

#include "bulkhead/config.h"

struct super_block;
struct dentry;

struct fs_type {
	const char *name;	 /* "tmpfs", "proc", "bind" ... */
	enum bh_mount_type type; /* the config's kind it serves */
	/* A new super block and its root (a reference) for bm; *source is
	 * what /proc/mounts shows (NULL: bm's own source). */
	int (*get_sb)(const struct bh_mount *bm, struct super_block **sb,
		      struct dentry **root, const char **source);
};

/* -EBUSY if a type already serves that kind, -ENOSPC if full. */
int fs_type_register(const struct fs_type *ft);
/* The type serving a config kind, or NULL. */
const struct fs_type *fs_type_find(enum bh_mount_type type);

#endif
