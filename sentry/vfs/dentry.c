/* The dentry cache: a tree of names over inodes, so that ".." and getcwd
 * work on every filesystem and repeated walks cost no gofer round trip.
 * Children are found through one hash table keyed by (parent, name), so a
 * lookup in a directory of 50,000 cached names costs what one in a
 * directory of ten does.
 *
 * A child holds a reference on its parent (as in Linux), so a dentry with
 * refs == 0 is always an unused leaf: those sit on an LRU and the oldest are
 * freed past DCACHE_UNUSED_MAX. Everything here is under dcache_lock, a
 * spin lock: the inodes of dentries that die are put after it is dropped,
 * since that may end in a filesystem's evict. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/vfs/fs.h"

struct kmutex dcache_lock = KMUTEX_INITIALIZER("dcache", LR_DCACHE);
/* Under dcache_lock: */
static struct htable dcache_hash;
static bool dcache_ready;
static struct list_head lru = LIST_HEAD_INIT(lru);
static size_t nunused;

/* Dentries that died under the lock, to be finished after it. */
struct dispose {
	struct dentry *head;
};

static uint64_t dentry_hash(const struct dentry *parent, const char *name,
			    size_t len)
{
	return hash_bytes(name, len) ^ hash_u64((uint64_t)(uintptr_t)parent);
}

static void hash_in(struct dentry *d)
{
	if (!dcache_ready) {
		/* On failure the table allocates on first insert. */
		htable_init(&dcache_hash, 10);
		dcache_ready = true;
	}
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

static struct dentry *find_locked(struct dentry *dir, const char *name,
				  size_t len)
{
	if (!dcache_ready)
		return NULL;
	uint64_t h = dentry_hash(dir, name, len);
	for (struct hnode *n = htable_first(&dcache_hash, h); n;
	     n = htable_next(&dcache_hash, n)) {
		struct dentry *c = htable_entry(n, struct dentry, hn);
		if (c->parent == dir && c->namelen == len &&
		    memcmp(c->name, name, len) == 0)
			return c;
	}
	return NULL;
}

static void get_locked(struct dentry *d)
{
	if (d->refs++ == 0) {
		list_del(&d->lru);
		nunused--;
	}
}

static struct dentry *dentry_alloc(const char *name, size_t len,
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
	return d;
}

static void dispose_all(struct dispose *dp)
{
	while (dp->head) {
		struct dentry *d = dp->head;
		dp->head = d->parent; /* reused as the dispose chain */
		inode_put(d->inode);
		free(d->name);
		free(d);
	}
}

static bool dentry_cacheable(struct dentry *d)
{
	if (!d->parent || d->unhashed)
		return false;
	return !(d->inode && d->inode->sb &&
		 (d->inode->sb->flags & SB_NOCACHE));
}

static void prune_locked(size_t keep, struct dispose *dp);

/* d (refs == 0) dies: unlink it, then its parent loses a reference,
 * iteratively. */
static void kill_locked(struct dentry *d, struct dispose *dp)
{
	while (d) {
		struct dentry *parent = d->parent;
		hash_out(d);
		d->parent = dp->head;
		dp->head = d;
		if (!parent || --parent->refs > 0)
			return;
		if (dentry_cacheable(parent)) {
			list_add(&parent->lru, &lru);
			nunused++;
			prune_locked(DCACHE_UNUSED_MAX, dp);
			return;
		}
		d = parent;
	}
}

static void put_locked(struct dentry *d, struct dispose *dp)
{
	if (--d->refs > 0)
		return;
	if (!dentry_cacheable(d)) {
		kill_locked(d, dp);
		return;
	}
	list_add(&d->lru, &lru);
	nunused++;
	prune_locked(DCACHE_UNUSED_MAX, dp);
}

static void prune_locked(size_t keep, struct dispose *dp)
{
	while (nunused > keep && !list_empty(&lru)) {
		struct dentry *d = list_entry(lru.prev, struct dentry, lru);
		list_del(&d->lru);
		nunused--;
		kill_locked(d, dp);
	}
}

struct dentry *dentry_new(struct dentry *parent, const char *name, size_t len,
			  struct inode *inode)
{
	struct dentry *d = dentry_alloc(name, len, inode);
	if (!d || !parent)
		return d;
	struct dispose dp = {NULL};
	kmutex_lock(&dcache_lock);
	struct dentry *old = find_locked(parent, name, len);
	if (old) {
		/* A lookup that raced us cached the name first: one dentry
		 * per name, and ours goes. */
		get_locked(old);
		kmutex_unlock(&dcache_lock);
		inode_put(d->inode);
		free(d->name);
		free(d);
		return old;
	}
	get_locked(parent);
	d->parent = parent;
	hash_in(d);
	kmutex_unlock(&dcache_lock);
	dispose_all(&dp);
	return d;
}

void dentry_get(struct dentry *d)
{
	kmutex_lock(&dcache_lock);
	get_locked(d);
	kmutex_unlock(&dcache_lock);
}

void dentry_put(struct dentry *d)
{
	if (!d)
		return;
	struct dispose dp = {NULL};
	kmutex_lock(&dcache_lock);
	put_locked(d, &dp);
	kmutex_unlock(&dcache_lock);
	dispose_all(&dp);
}

struct dentry *dentry_get_parent(struct dentry *d)
{
	kmutex_lock(&dcache_lock);
	struct dentry *p = d->parent;
	if (p)
		get_locked(p);
	kmutex_unlock(&dcache_lock);
	return p;
}

bool dentry_deleted(struct dentry *d)
{
	kmutex_lock(&dcache_lock);
	bool r = d->unhashed;
	kmutex_unlock(&dcache_lock);
	return r;
}

bool dentry_is_ancestor(struct dentry *anc, struct dentry *d)
{
	kmutex_lock(&dcache_lock);
	for (; d; d = d->parent)
		if (d == anc)
			break;
	kmutex_unlock(&dcache_lock);
	return d != NULL;
}

void dentry_prune(size_t keep)
{
	struct dispose dp = {NULL};
	kmutex_lock(&dcache_lock);
	prune_locked(keep, &dp);
	kmutex_unlock(&dcache_lock);
	dispose_all(&dp);
}

size_t dentry_unused_count(void)
{
	kmutex_lock(&dcache_lock);
	size_t n = nunused;
	kmutex_unlock(&dcache_lock);
	return n;
}

struct dentry *dentry_find_child(struct dentry *dir, const char *name,
				 size_t len)
{
	kmutex_lock(&dcache_lock);
	struct dentry *c = find_locked(dir, name, len);
	if (c)
		get_locked(c);
	kmutex_unlock(&dcache_lock);
	return c;
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
		dentry_prune(dentry_unused_count() / 2);
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
	struct dispose dp = {NULL};
	kmutex_lock(&dcache_lock);
	if (!d->unhashed && d->parent) {
		hash_out(d);
		d->unhashed = true;
		/* An unused cached dentry is now garbage. */
		if (d->refs == 0) {
			list_del(&d->lru);
			nunused--;
			kill_locked(d, &dp);
		}
	}
	kmutex_unlock(&dcache_lock);
	dispose_all(&dp);
}

void dentry_move(struct dentry *d, struct dentry *newparent,
		 const char *newname)
{
	char *n = strdup(newname);
	if (!n) {
		dentry_unhash(d);
		return;
	}
	struct dispose dp = {NULL};
	kmutex_lock(&dcache_lock);
	hash_out(d);
	char *oldname = d->name;
	d->name = n;
	d->namelen = strlen(n);
	struct dentry *old = d->parent;
	get_locked(newparent);
	d->parent = newparent;
	hash_in(d);
	put_locked(old, &dp);
	kmutex_unlock(&dcache_lock);
	free(oldname);
	dispose_all(&dp);
}
