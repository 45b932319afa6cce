/* The dentry cache: a tree of names over inodes, so that ".." and getcwd
 * work on every filesystem and repeated walks cost no gofer round trip.
 * Children are found through one hash table keyed by (parent, name), so a
 * lookup in a directory of 50,000 cached names costs what one in a
 * directory of ten does.
 *
 * A child holds a reference on its parent (as in Linux), so a dentry with
 * refs == 0 is always an unused leaf: those sit on an LRU and the oldest are
 * freed past DCACHE_UNUSED_MAX. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/vfs/fs.h"

static struct htable dcache_hash;
static bool dcache_ready;
static struct list_head lru = LIST_HEAD_INIT(lru);
static size_t nunused;

static uint64_t dentry_hash(const struct dentry *parent, const char *name,
			    size_t len)
{
	return hash_bytes(name, len) ^ hash_u64((uint64_t)(uintptr_t)parent);
}

static void dcache_init(void)
{
	if (dcache_ready)
		return;
	/* On failure the table allocates on first insert. */
	htable_init(&dcache_hash, 10);
	dcache_ready = true;
}

static void hash_in(struct dentry *d)
{
	dcache_init();
	htable_insert(&dcache_hash, &d->hn,
		      dentry_hash(d->parent, d->name, d->namelen));
	d->in_hash = true;
	d->unhashed = false;
}

static void hash_out(struct dentry *d)
{
	if (!d->in_hash)
		return;
	htable_remove(&dcache_hash, &d->hn);
	d->in_hash = false;
}

struct dentry *dentry_new(struct dentry *parent, const char *name, size_t len,
			  struct inode *inode)
{
	struct dentry *d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->name = strndup(name, len);
	if (!d->name) {
		free(d);
		return NULL;
	}
	d->namelen = len;
	d->refs = 1;
	list_init(&d->lru);
	d->inode = inode;
	if (inode)
		inode_get(inode);
	if (parent) {
		dentry_get(parent);
		d->parent = parent;
		hash_in(d);
	}
	return d;
}

void dentry_get(struct dentry *d)
{
	if (d->refs++ == 0) {
		list_del(&d->lru);
		nunused--;
	}
}

static bool dentry_cacheable(struct dentry *d)
{
	if (!d->parent || d->unhashed)
		return false;
	return !(d->inode && d->inode->sb &&
		 (d->inode->sb->flags & SB_NOCACHE));
}

/* Free d (refs == 0) and drop its reference on the parent, iteratively. */
static void dentry_kill(struct dentry *d)
{
	while (d) {
		struct dentry *parent = d->parent;
		hash_out(d);
		inode_put(d->inode);
		free(d->name);
		free(d);
		if (!parent || --parent->refs > 0)
			return;
		if (dentry_cacheable(parent)) {
			list_add(&parent->lru, &lru);
			nunused++;
			dentry_prune(DCACHE_UNUSED_MAX);
			return;
		}
		d = parent;
	}
}

void dentry_put(struct dentry *d)
{
	if (!d || --d->refs > 0)
		return;
	if (!dentry_cacheable(d)) {
		dentry_kill(d);
		return;
	}
	list_add(&d->lru, &lru);
	nunused++;
	dentry_prune(DCACHE_UNUSED_MAX);
}

void dentry_prune(size_t keep)
{
	while (nunused > keep && !list_empty(&lru)) {
		struct dentry *d = list_entry(lru.prev, struct dentry, lru);
		list_del(&d->lru);
		nunused--;
		dentry_kill(d);
	}
}

size_t dentry_unused_count(void)
{
	return nunused;
}

struct dentry *dentry_find_child(struct dentry *dir, const char *name,
				 size_t len)
{
	if (!dcache_ready)
		return NULL;
	uint64_t h = dentry_hash(dir, name, len);
	for (struct hnode *n = htable_first(&dcache_hash, h); n;
	     n = htable_next(&dcache_hash, n)) {
		struct dentry *c = htable_entry(n, struct dentry, hn);
		if (c->parent == dir && c->namelen == len &&
		    memcmp(c->name, name, len) == 0) {
			dentry_get(c);
			return c;
		}
	}
	return NULL;
}

int dentry_lookup(struct dentry *dir, const char *name, size_t len,
		  struct dentry **out)
{
	struct inode *di = dir->inode;
	char buf[VFS_NAME_MAX + 1];

	if (len > VFS_NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(buf, name, len);
	buf[len] = 0;
	struct dentry *c = dentry_find_child(dir, name, len);
	if (c) {
		if (!di->iops || !di->iops->revalidate ||
		    di->iops->revalidate(di, buf, c->inode)) {
			*out = c;
			return 0;
		}
		dentry_unhash(c);
		dentry_put(c);
	}
	if (!di->iops || !di->iops->lookup)
		return S_ISDIR(di->mode) ? -ENOENT : -ENOTDIR;
	struct inode *inode;
	int r = di->iops->lookup(di, buf, &inode);
	if (r == -EMFILE || r == -ENFILE) {
		/* Out of host fds somewhere below: let half of the unused
		 * cached dentries go (each may hold one), and try again. */
		dentry_prune(nunused / 2);
		r = di->iops->lookup(di, buf, &inode);
	}
	if (r)
		return r;
	c = dentry_new(dir, name, len, inode);
	inode_put(inode);
	if (!c)
		return -ENOMEM;
	*out = c;
	return 0;
}

void dentry_unhash(struct dentry *d)
{
	if (d->unhashed || !d->parent)
		return;
	hash_out(d);
	d->unhashed = true;
	/* An unused cached dentry is now garbage. */
	if (d->refs == 0) {
		list_del(&d->lru);
		nunused--;
		dentry_kill(d);
	}
}

void dentry_move(struct dentry *d, struct dentry *newparent,
		 const char *newname)
{
	char *n = strdup(newname);
	if (!n) {
		dentry_unhash(d);
		return;
	}
	hash_out(d);
	free(d->name);
	d->name = n;
	d->namelen = strlen(n);
	struct dentry *old = d->parent;
	dentry_get(newparent);
	d->parent = newparent;
	hash_in(d);
	dentry_put(old);
}
