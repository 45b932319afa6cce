/* In-memory extended attributes for filesystems that keep them themselves
 * (tmpfs), as Linux's simple_xattr: a list per inode under the inode's
 * lock. Entries are made and freed outside that lock; the owner charges
 * their size (xattr_size) to its own accounting. */
#ifndef BULKHEAD_VFS_XATTR_H
#define BULKHEAD_VFS_XATTR_H

#include <stddef.h>
#include <sys/types.h>

#include "bulkhead/list.h"

#define XATTR_NAME_MAX_ 255
#define XATTR_SIZE_MAX_ 65536 /* one value, as Linux */
#define XATTR_LIST_MAX_ 65536 /* a listxattr answer, as Linux */

struct xattr_entry {
	struct list_head node;
	size_t size;
	char *value; /* size bytes, after the name in the same block */
	char name[];
};

struct xattr_list {
	struct list_head entries;
	size_t bytes; /* xattr_size of every entry */
};

void xattr_list_init(struct xattr_list *x);
/* Frees every entry (the inode is going); returns the bytes they had. */
size_t xattr_list_free(struct xattr_list *x);
/* What an entry counts for against a limit. */
size_t xattr_size(const char *name, size_t size);
/* A new entry, or NULL (-ENOMEM). */
struct xattr_entry *xattr_entry_new(const char *name, const void *value,
				    size_t size);
/* Copy name's value into buf (size 0: only its length). Returns the
 * length, -ENODATA or -ERANGE. */
ssize_t xattr_get(struct xattr_list *x, const char *name, void *buf,
		  size_t size);
/* Link e in place of any entry with its name (XATTR_CREATE: -EEXIST if
 * there is one, XATTR_REPLACE: -ENODATA if not). The replaced entry goes
 * to *old for the caller to free. */
int xattr_set(struct xattr_list *x, struct xattr_entry *e, int flags,
	      struct xattr_entry **old);
/* Unlink name's entry into *old; -ENODATA if none. */
int xattr_remove(struct xattr_list *x, const char *name,
		 struct xattr_entry **old);
/* The names, each NUL-terminated, into buf (size 0: only the length).
 * Returns the length or -ERANGE. */
ssize_t xattr_listnames(struct xattr_list *x, char *buf, size_t size);

#endif
