/* In-memory extended attributes (see xattr.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "sentry/vfs/xattr.h"

void xattr_list_init(struct xattr_list *x)
{
	list_init(&x->entries);
	x->bytes = 0;
}

size_t xattr_size(const char *name, size_t size)
{
	/* The bookkeeping too, so that empty values still cost. */
	return sizeof(struct xattr_entry) + strlen(name) + 1 + size;
}

size_t xattr_list_free(struct xattr_list *x)
{
	size_t bytes = x->bytes;
	while (!list_empty(&x->entries)) {
		struct xattr_entry *e =
		    list_entry(x->entries.next, struct xattr_entry, node);
		list_del(&e->node);
		free(e);
	}
	x->bytes = 0;
	return bytes;
}

struct xattr_entry *xattr_entry_new(const char *name, const void *value,
				    size_t size)
{
	size_t n = strlen(name);
	struct xattr_entry *e = malloc(sizeof(*e) + n + 1 + size);
	if (!e)
		return NULL;
	memcpy(e->name, name, n + 1);
	e->value = e->name + n + 1;
	e->size = size;
	if (size)
		memcpy(e->value, value, size);
	return e;
}

static struct xattr_entry *find(struct xattr_list *x, const char *name)
{
	struct list_head *pos;
	list_for_each(pos, &x->entries)
	{
		struct xattr_entry *e =
		    list_entry(pos, struct xattr_entry, node);
		if (strcmp(e->name, name) == 0)
			return e;
	}
	return NULL;
}

ssize_t xattr_get(struct xattr_list *x, const char *name, void *buf,
		  size_t size)
{
	struct xattr_entry *e = find(x, name);
	if (!e)
		return -ENODATA;
	if (size == 0)
		return (ssize_t)e->size;
	if (size < e->size)
		return -ERANGE;
	memcpy(buf, e->value, e->size);
	return (ssize_t)e->size;
}

int xattr_set(struct xattr_list *x, struct xattr_entry *e, int flags,
	      struct xattr_entry **old)
{
	struct xattr_entry *o = find(x, e->name);
	*old = NULL;
	if (o && (flags & XATTR_CREATE))
		return -EEXIST;
	if (!o && (flags & XATTR_REPLACE))
		return -ENODATA;
	if (o) {
		list_del(&o->node);
		x->bytes -= xattr_size(o->name, o->size);
		*old = o;
	}
	list_add_tail(&e->node, &x->entries);
	x->bytes += xattr_size(e->name, e->size);
	return 0;
}

int xattr_remove(struct xattr_list *x, const char *name,
		 struct xattr_entry **old)
{
	struct xattr_entry *o = find(x, name);
	*old = o;
	if (!o)
		return -ENODATA;
	list_del(&o->node);
	x->bytes -= xattr_size(o->name, o->size);
	return 0;
}

ssize_t xattr_listnames(struct xattr_list *x, char *buf, size_t size)
{
	size_t len = 0;
	struct list_head *pos;
	list_for_each(pos, &x->entries)
	{
		struct xattr_entry *e =
		    list_entry(pos, struct xattr_entry, node);
		size_t n = strlen(e->name) + 1;
		if (size) {
			if (len + n > size)
				return -ERANGE;
			memcpy(buf + len, e->name, n);
		}
		len += n;
	}
	return (ssize_t)len;
}
