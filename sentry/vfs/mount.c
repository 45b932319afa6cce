/* The mount table and struct path helpers. Mounts are made at boot and
 * never unmounted (the guest has no mount(2) yet), so they are not
 * refcounted; the table and each dentry's mount count are under
 * mount_lock. */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/vfs/fs.h"

static struct kmutex mount_lock = KMUTEX_INITIALIZER("mount", LR_MOUNT);
static struct list_head mounts = LIST_HEAD_INIT(mounts);
static struct mount *root_mount;

struct mount *mount_new(struct super_block *sb, struct dentry *root,
			const char *source, bool readonly)
{
	struct mount *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->source = strdup(source ? source : "none");
	if (!m->source) {
		free(m);
		return NULL;
	}
	static _Atomic int next_id = 20; /* Linux's first ids go to its own */
	m->id = atomic_fetch_add(&next_id, 1);
	m->sb = sb;
	m->root = root; /* takes the caller's reference */
	m->readonly = readonly || (sb->flags & SB_RDONLY);
	list_init(&m->node);
	return m;
}

void mount_attach(struct mount *m, const struct path *mp)
{
	dentry_get(mp->dentry);
	kmutex_lock(&mount_lock);
	m->parent = mp->mnt;
	m->mountpoint = mp->dentry;
	mp->dentry->mounted++;
	list_add_tail(&m->node, &mounts);
	kmutex_unlock(&mount_lock);
}

static struct mount *lookup_locked(struct mount *parent,
				   struct dentry *mountpoint)
{
	struct list_head *pos;
	struct mount *found = NULL;
	if (!mountpoint->mounted)
		return NULL;
	/* The last mount on a mountpoint hides the earlier ones. */
	list_for_each(pos, &mounts)
	{
		struct mount *m = list_entry(pos, struct mount, node);
		if (m->parent == parent && m->mountpoint == mountpoint)
			found = m;
	}
	return found;
}

struct mount *mount_lookup(struct mount *parent, struct dentry *mountpoint)
{
	kmutex_lock(&mount_lock);
	struct mount *m = lookup_locked(parent, mountpoint);
	kmutex_unlock(&mount_lock);
	return m;
}

bool dentry_mounted(struct dentry *d)
{
	kmutex_lock(&mount_lock);
	bool r = d->mounted > 0;
	kmutex_unlock(&mount_lock);
	return r;
}

struct mount *mount_root(void)
{
	return root_mount;
}

void mount_set_root(struct mount *m)
{
	kmutex_lock(&mount_lock);
	root_mount = m;
	list_add(&m->node, &mounts);
	kmutex_unlock(&mount_lock);
}

void mount_for_each(void (*fn)(struct mount *m, void *arg), void *arg)
{
	/* Mounts are never freed: a snapshot of the pointers is enough. */
	struct mount *v[256];
	int n = 0;
	kmutex_lock(&mount_lock);
	struct list_head *pos;
	list_for_each(pos, &mounts)
	{
		if (n < 256)
			v[n++] = list_entry(pos, struct mount, node);
	}
	kmutex_unlock(&mount_lock);
	for (int i = 0; i < n; i++)
		fn(v[i], arg);
}

int mnt_want_write(const struct path *p)
{
	return p->mnt && p->mnt->readonly ? -EROFS : 0;
}

void path_get(const struct path *p)
{
	if (p->dentry)
		dentry_get(p->dentry);
}

void path_put(const struct path *p)
{
	if (p->dentry)
		dentry_put(p->dentry);
}

bool path_equal(const struct path *a, const struct path *b)
{
	return a->mnt == b->mnt && a->dentry == b->dentry;
}

int path_render(const struct path *p, const struct path *root, char *buf,
		size_t cap)
{
	/* Built backwards from the end of buf, then moved to the front. */
	if (cap < 2)
		return -ENAMETOOLONG;
	size_t end = cap - 1, pos = end;
	buf[end] = 0;
	struct mount *mnt = p->mnt;
	struct dentry *d = p->dentry;
	int r = 0;

	kmutex_lock(&dcache_lock);
	bool deleted = d->unhashed;
	for (;;) {
		if (root && mnt == root->mnt && d == root->dentry)
			break;
		if (mnt && d == mnt->root) {
			if (!mnt->parent)
				break;
			d = mnt->mountpoint;
			mnt = mnt->parent;
			continue;
		}
		if (!d->parent) {
			/* Anonymous (pipe:[N]): the name is the whole path. */
			size_t n = d->namelen;
			if (n + 1 > cap) {
				r = -ENAMETOOLONG;
			} else {
				memcpy(buf, d->name, n + 1);
				r = (int)n;
			}
			kmutex_unlock(&dcache_lock);
			return r;
		}
		size_t n = d->namelen;
		if (n + 1 > pos) {
			kmutex_unlock(&dcache_lock);
			return -ENAMETOOLONG;
		}
		pos -= n;
		memcpy(buf + pos, d->name, n);
		buf[--pos] = '/';
		d = d->parent;
	}
	kmutex_unlock(&dcache_lock);
	if (pos == end)
		buf[--pos] = '/';
	size_t len = end - pos;
	memmove(buf, buf + pos, len + 1);
	if (deleted) {
		const char *suf = " (deleted)";
		if (len + strlen(suf) + 1 > cap)
			return -ENAMETOOLONG;
		strcpy(buf + len, suf);
		len += strlen(suf);
	}
	return (int)len;
}
