#include "gofer/nodefd.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "bulkhead/gofer_proto.h"
#include "gofer/fdbudget.h"
#include "gofer/fsutil.h"

/* On EMFILE: evict this many fds per try, and try this often. */
#define SHED_BATCH 32u
#define SHED_TRIES 4u

static unsigned own_fds(const struct gofer_node *n)
{
	return (unsigned)(!n->is_root && n->fd >= 0) + (n->dirfd >= 0);
}

static bool pinned(const struct gofer_node_table *t, const struct gofer_node *n)
{
	return n->held || n->pin_gen == t->gen;
}

static bool is_orphan(const struct gofer_node *n)
{
	return !n->is_root && !n->parent;
}

/* Takes n off its LRU list and its fds out of the counts. */
static void unlist(struct gofer_node_table *t, struct gofer_node *n)
{
	if (!n->nfds)
		return;
	list_del(&n->lru);
	t->nfds -= n->nfds;
	if (n->orphan)
		t->orphan_fds -= n->nfds;
	n->nfds = 0;
}

static void evict(struct gofer_node_table *t, struct gofer_node *n)
{
	if (!n->is_root && n->fd >= 0) {
		close(n->fd);
		n->fd = -1;
	}
	if (n->dirfd >= 0) {
		close(n->dirfd);
		n->dirfd = -1;
	}
	unlist(t, n);
}

static struct gofer_node *oldest_unpinned(const struct gofer_node_table *t,
					  const struct list_head *l)
{
	for (struct list_head *p = l->prev; p != l; p = p->prev) {
		struct gofer_node *n = container_of(p, struct gofer_node, lru);
		if (!pinned(t, n))
			return n;
	}
	return NULL;
}

/* The least recently used node that may lose its fds: reopenable nodes
 * first, unless orphans hold more than their share (node.h). Pinned nodes
 * were used in this request and so sit at the front: scanning from the
 * back rarely meets one. */
static struct gofer_node *victim(struct gofer_node_table *t)
{
	struct gofer_node *v = NULL;
	if (t->orphan_fds > t->fd_cap / 8)
		v = oldest_unpinned(t, &t->lru_orphan);
	if (!v)
		v = oldest_unpinned(t, &t->lru);
	if (!v)
		v = oldest_unpinned(t, &t->lru_orphan);
	return v;
}

/* Evicts until at most target fds are held; returns how many it closed. */
static size_t evict_to(struct gofer_node_table *t, size_t target)
{
	size_t closed = 0;
	while (t->nfds > target) {
		struct gofer_node *v = victim(t);
		if (!v)
			break;
		closed += v->nfds;
		evict(t, v);
	}
	return closed;
}

void gofer_node_fd_update(struct gofer_node_table *t, struct gofer_node *n,
			  bool pin)
{
	unlist(t, n);
	unsigned k = own_fds(n);
	if (k) {
		n->nfds = (uint8_t)k;
		n->orphan = is_orphan(n);
		t->nfds += k;
		if (n->orphan)
			t->orphan_fds += k;
		list_add(&n->lru, n->orphan ? &t->lru_orphan : &t->lru);
	}
	if (pin)
		n->pin_gen = t->gen;
	evict_to(t, t->fd_cap);
}

void gofer_node_fd_release(struct gofer_node_table *t, struct gofer_node *n)
{
	unlist(t, n);
	if (!n->is_root && n->fd >= 0)
		close(n->fd);
	if (n->dirfd >= 0)
		close(n->dirfd);
	n->fd = n->dirfd = -1;
}

void gofer_node_begin_request(struct gofer_node_table *t)
{
	t->gen++;
	/* The last request may have pinned more than fd_cap. */
	evict_to(t, t->fd_cap);
}

bool gofer_node_shed(struct gofer_node_table *t, int err, unsigned *tries)
{
	if ((err != -EMFILE && err != -ENFILE) || *tries >= SHED_TRIES)
		return false;
	++*tries;
	size_t target = t->nfds > SHED_BATCH ? t->nfds - SHED_BATCH : 0;
	/* EMFILE below fd_cap: the budget overestimated our own room, so
	 * lower it, or every later op would hit the limit too. ENFILE is the
	 * whole system's, and passes. */
	if (err == -EMFILE && target < t->fd_cap)
		t->fd_cap =
		    target > GOFER_FD_BUDGET_MIN ? target : GOFER_FD_BUDGET_MIN;
	return evict_to(t, target) > 0;
}

int gofer_node_openat(struct gofer_node_table *t, int dirfd, const char *name,
		      int flags, unsigned mode)
{
	/* Retrying is safe with O_CREAT too: the kernel reserves the fd (and
	 * the struct file) before it looks the name up, so an open that
	 * failed with EMFILE or ENFILE created nothing. */
	unsigned tries = 0;
	int fd;
	do
		fd = gofer_fs_openat(dirfd, name, flags, mode);
	while (gofer_node_shed(t, fd, &tries));
	return fd;
}

/* Reopens c from its parent p, whose fd is open and held. The name is one
 * component under p's fd, resolved beneath it without following any
 * symlink (a symlink swapped in is opened as itself and fails the type
 * check), and the result must be c's own inode. */
static int reopen_child(struct gofer_node_table *t, struct gofer_node *p,
			struct gofer_node *c)
{
	/* Names were validated when they arrived; checking again costs
	 * nothing and keeps a bug elsewhere from becoming a path. */
	if (!gp_name_valid(c->name))
		return -ESTALE;
	int fd = gofer_node_openat(t, p->fd, c->name, O_PATH, 0);
	if (fd < 0) {
		bool gone = fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP ||
			    fd == -EXDEV;
		return gone ? -ESTALE : fd;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_dev != c->dev ||
	    (uint64_t)st.st_ino != c->ino ||
	    (uint32_t)(st.st_mode & S_IFMT) != c->type) {
		close(fd);
		return -ESTALE;
	}
	c->fd = fd;
	c->held = true; /* not evicted by its own insertion */
	gofer_node_fd_update(t, c, false);
	c->held = false;
	return 0;
}

/* Reopens n's fd: up the parents to the nearest one with an open fd (an
 * export root at worst), then down again one name at a time. Iterative, so
 * a deep chain costs no stack; the ancestors reopened on the way are only
 * cached, not pinned, so a chain deeper than fd_cap still works. */
static int reopen(struct gofer_node_table *t, struct gofer_node *n)
{
	uint64_t v = ++t->visit_gen;
	struct gofer_node *c = n;
	n->visit = v;
	n->down = NULL;
	while (c->fd < 0) {
		struct gofer_node *p = c->parent;
		/* Parent chains stay within an export, and can only loop
		 * after renames done on the host behind our back: either way
		 * there is no safe anchor, so fail closed. */
		if (!p || p->export != n->export || p->visit == v)
			return -ESTALE;
		p->visit = v;
		p->down = c;
		c = p;
	}
	while (c != n) {
		struct gofer_node *k = c->down;
		c->held = true;
		int r = reopen_child(t, c, k);
		c->held = false;
		if (r)
			return r;
		c = k;
	}
	return 0;
}

int gofer_node_fd(struct gofer_node_table *t, struct gofer_node *n)
{
	if (n->fd < 0) {
		int r = reopen(t, n);
		if (r)
			return r;
	}
	gofer_node_fd_update(t, n, true);
	return n->fd;
}

int gofer_node_dirfd(struct gofer_node_table *t, struct gofer_node *n)
{
	int fd = gofer_node_fd(t, n);
	if (fd < 0 || n->dirfd >= 0)
		return fd < 0 ? fd : n->dirfd;
	/* "." of the node's own fd: the same inode, no name involved. */
	int d = gofer_node_openat(t, fd, ".", O_RDONLY | O_DIRECTORY, 0);
	if (d < 0)
		return d;
	n->dirfd = d;
	gofer_node_fd_update(t, n, true);
	return d;
}
