/* AF_UNIX names: the abstract namespace (one per sandbox, a hash of the
 * name bytes), path names (a socket inode in the guest VFS, on any
 * filesystem with mknod; the binding is keyed by the inode's super block
 * and number, so whichever struct inode a later lookup finds for the node
 * maps back to the bound socket), and autobind (Linux's 5-hex-digit
 * abstract names). */
#include "sentry/net/unix/unix.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "bulkhead/htable.h"
#include "sentry/kernel/task.h"
#include "sentry/syscalls/sys_file.h"

#define NAME_BUCKETS 1024

struct kmutex unix_names_lock = KMUTEX_INITIALIZER("unix_names", LR_UNIX_NAMES);
/* unix_names_lock: abstract names and path bindings, chained. */
static struct list_head abstract_tab[NAME_BUCKETS];
static struct list_head path_tab[NAME_BUCKETS];
static bool tabs_ready;
static unsigned autobind_next;

static void tabs_init(void)
{
	if (tabs_ready)
		return;
	for (int i = 0; i < NAME_BUCKETS; i++) {
		list_init(&abstract_tab[i]);
		list_init(&path_tab[i]);
	}
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	autobind_next = (unsigned)ts.tv_nsec & 0xfffff;
	tabs_ready = true;
}

void unix_addr_get(struct unix_addr *a)
{
	atomic_fetch_add(&a->refs, 1);
}

void unix_addr_put(struct unix_addr *a)
{
	if (!a || atomic_fetch_sub(&a->refs, 1) != 1)
		return;
	if (a->inode)
		inode_put(a->inode);
	free(a);
}

static bool is_abstract(const struct unix_addr *a)
{
	return a->name.sun.sun_path[0] == 0;
}

/* Names are the guest's: the keyed hash of htable.h. */
static unsigned name_hash(const void *p, size_t n)
{
	return (unsigned)(hash_bytes(p, n) % NAME_BUCKETS);
}

static unsigned abstract_hash(const union unix_name *n, socklen_t len)
{
	return name_hash(n->sun.sun_path, len - sizeof(sa_family_t));
}

static unsigned path_hash(const struct inode *inode)
{
	struct {
		const void *sb;
		uint64_t ino;
	} k = {inode->sb, inode->ino};
	return name_hash(&k, sizeof(k));
}

int unix_addr_parse(const struct sockaddr *sa, socklen_t len,
		    union unix_name *out, socklen_t *outlen, bool *autobind)
{
	*autobind = false;
	if (len == sizeof(sa_family_t) && sa->sa_family == AF_UNIX) {
		*autobind = true;
		return 0;
	}
	if (len <= sizeof(sa_family_t) || len > sizeof(struct sockaddr_un) ||
	    sa->sa_family != AF_UNIX)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memcpy(out, sa, len);
	if (out->sun.sun_path[0]) {
		/* A path: Linux ends it at the first NUL, or after all of
		 * sun_path, and counts the NUL in the length. */
		size_t n =
		    strnlen(out->sun.sun_path, len - sizeof(sa_family_t));
		out->sun.sun_path[n] = 0; /* room: see union unix_name */
		len = (socklen_t)(sizeof(sa_family_t) + n + 1);
	}
	*outlen = len;
	return 0;
}

static struct unix_addr *addr_new(const union unix_name *n, socklen_t len)
{
	struct unix_addr *a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	atomic_init(&a->refs, 1);
	a->len = len;
	memcpy(&a->name, n, len);
	return a;
}

/* unix_names_lock held. As Linux, an abstract name is per socket type: a
 * stream client does not find a datagram socket of its name. */
static struct unix_sock *abstract_lookup(const union unix_name *n,
					 socklen_t len, int type)
{
	struct list_head *p;
	list_for_each(p, &abstract_tab[abstract_hash(n, len)])
	{
		struct unix_sock *u =
		    list_entry(p, struct unix_sock, name_node);
		if (u->type == type && u->addr->len == len &&
		    memcmp(&u->addr->name, n, len) == 0)
			return u;
	}
	return NULL;
}

static struct unix_sock *path_lookup(const struct inode *inode)
{
	struct list_head *p;
	list_for_each(p, &path_tab[path_hash(inode)])
	{
		struct unix_sock *u =
		    list_entry(p, struct unix_sock, name_node);
		if (u->addr->inode->sb == inode->sb &&
		    u->addr->inode->ino == inode->ino)
			return u;
	}
	return NULL;
}

/* Give u the name a, hashed (unix_names_lock held): -EINVAL when u has one
 * already, -EADDRINUSE when the name is taken. Takes a's reference. */
static int set_name(struct unix_sock *u, struct unix_addr *a)
{
	tabs_init();
	if (is_abstract(a) ? abstract_lookup(&a->name, a->len, u->type) != NULL
			   : path_lookup(a->inode) != NULL)
		return -EADDRINUSE;
	kmutex_lock(&u->lock);
	if (u->addr || u->dead) {
		kmutex_unlock(&u->lock);
		return -EINVAL;
	}
	__atomic_store_n(&u->addr, a, __ATOMIC_RELEASE);
	kmutex_unlock(&u->lock);
	list_add(&u->name_node,
		 is_abstract(a) ? &abstract_tab[abstract_hash(&a->name, a->len)]
				: &path_tab[path_hash(a->inode)]);
	u->name_hashed = true;
	return 0;
}

int unix_autobind(struct unix_sock *u)
{
	kmutex_lock(&u->lock);
	bool named = u->addr != NULL;
	kmutex_unlock(&u->lock);
	if (named)
		return 0;
	union unix_name n;
	memset(&n, 0, sizeof(n));
	n.sun.sun_family = AF_UNIX;
	socklen_t len = sizeof(sa_family_t) + 1 + 5;
	kmutex_lock(&unix_names_lock);
	tabs_init();
	int r = -ENOSPC;
	for (unsigned tries = 0; tries <= 0xfffff; tries++) {
		unsigned num = autobind_next++ & 0xfffff;
		char tmp[8];
		snprintf(tmp, sizeof(tmp), "%05x", num);
		memcpy(n.sun.sun_path + 1, tmp, 5);
		if (abstract_lookup(&n, len, u->type))
			continue;
		struct unix_addr *a = addr_new(&n, len);
		if (!a) {
			r = -ENOMEM;
			break;
		}
		r = set_name(u, a);
		if (r)
			unix_addr_put(a);
		if (r == -EINVAL)
			r = 0; /* named meanwhile: as good */
		break;
	}
	kmutex_unlock(&unix_names_lock);
	return r;
}

int unix_bind(struct socket *s, struct task *t, const struct sockaddr *sa,
	      socklen_t len)
{
	struct unix_sock *u = unix_sk(s);
	union unix_name n;
	socklen_t nl;
	bool autob;
	if (len < sizeof(sa_family_t))
		return -EINVAL;
	int r = unix_addr_parse(sa, len, &n, &nl, &autob);
	if (r)
		return r;
	if (autob)
		return unix_autobind(u);
	kmutex_lock(&u->lock);
	bool named = u->addr != NULL;
	kmutex_unlock(&u->lock);
	if (named)
		return -EINVAL;
	struct unix_addr *a = addr_new(&n, nl);
	if (!a)
		return -ENOMEM;
	if (n.sun.sun_path[0]) {
		r = vfs_mknod_sock(t, AT_FDCWD, n.sun.sun_path, 0777,
				   &a->inode);
		if (r) {
			unix_addr_put(a);
			return r;
		}
	}
	kmutex_lock(&unix_names_lock);
	r = set_name(u, a);
	kmutex_unlock(&unix_names_lock);
	if (r)
		unix_addr_put(a);
	return r;
}

int unix_find(struct task *t, const union unix_name *n, socklen_t len, int type,
	      struct unix_sock **out)
{
	struct unix_sock *u = NULL;
	if (n->sun.sun_path[0] == 0) {
		kmutex_lock(&unix_names_lock);
		tabs_init();
		u = abstract_lookup(n, len, type);
		if (u)
			unix_sock_get(u);
		kmutex_unlock(&unix_names_lock);
	} else {
		struct path p;
		int r =
		    vfs_lookup(t, AT_FDCWD, n->sun.sun_path, LOOKUP_FOLLOW, &p);
		if (r)
			return r;
		struct inode *inode = p.dentry->inode;
		if (!S_ISSOCK(inode->mode)) {
			path_put(&p);
			return -ECONNREFUSED;
		}
		r = inode_permission(t, inode, MAY_WRITE);
		if (r) {
			path_put(&p);
			return r;
		}
		kmutex_lock(&unix_names_lock);
		tabs_init();
		u = path_lookup(inode);
		if (u)
			unix_sock_get(u);
		kmutex_unlock(&unix_names_lock);
		path_put(&p);
	}
	if (!u)
		return -ECONNREFUSED;
	if (u->type != type) {
		unix_sock_put(u);
		return -EPROTOTYPE;
	}
	*out = u;
	return 0;
}

void unix_unbind(struct unix_sock *u)
{
	kmutex_lock(&unix_names_lock);
	if (u->name_hashed) {
		list_del(&u->name_node);
		u->name_hashed = false;
	}
	kmutex_unlock(&unix_names_lock);
}
