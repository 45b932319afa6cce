#include "gofer/node.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gofer/nodefd.h"

#define NODE_BUCKETS 65536u

int gofer_node_table_init(struct gofer_node_table *t, size_t max, size_t fd_cap)
{
	memset(t, 0, sizeof(*t));
	t->nbuckets = NODE_BUCKETS;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	int r = gofer_child_index_init(&t->children);
	if (r) {
		free(t->buckets);
		t->buckets = NULL;
		return r;
	}
	t->next_id = 1;
	t->max = max;
	t->fd_cap = fd_cap;
	t->gen = 1;
	list_init(&t->all);
	list_init(&t->lru);
	list_init(&t->lru_orphan);
	return 0;
}

static void node_free_one(struct gofer_node_table *t, struct gofer_node *n)
{
	list_del(&n->all);
	gofer_child_index_del(&t->children, n);
	t->count--;
	gofer_node_fd_release(t, n);
	free(n->name);
	free(n);
}

/* Drops one reference; freeing a node drops its parent's, iteratively so
 * that a deep chain cannot exhaust the stack. */
static void node_put(struct gofer_node_table *t, struct gofer_node *n)
{
	while (n && --n->refs == 0) {
		struct gofer_node *p = n->parent;
		node_free_one(t, n);
		n = p;
	}
}

void gofer_node_table_destroy(struct gofer_node_table *t)
{
	while (!list_empty(&t->all)) {
		struct gofer_node *n =
		    container_of(t->all.next, struct gofer_node, all);
		node_free_one(t, n);
	}
	free(t->buckets);
	t->buckets = NULL;
	gofer_child_index_destroy(&t->children);
}

static size_t node_bucket(const struct gofer_node_table *t, uint64_t id)
{
	return (size_t)((id * 0x9E3779B97F4A7C15ull) >> 32) & (t->nbuckets - 1);
}

struct gofer_node *gofer_node_get(struct gofer_node_table *t, uint64_t id)
{
	if (id == 0)
		return NULL;
	for (struct gofer_node *n = t->buckets[node_bucket(t, id)]; n;
	     n = n->hnext)
		if (n->id == id)
			return n;
	return NULL;
}

int gofer_node_new(struct gofer_node_table *t, int fd, uint32_t export,
		   const struct stat *st, struct gofer_node *parent,
		   const char *name, bool is_root, struct gofer_node **out)
{
	if (t->count >= t->max) {
		if (!is_root)
			close(fd);
		return -ENFILE;
	}
	struct gofer_node *n = calloc(1, sizeof(*n));
	char *nm = name ? strdup(name) : NULL;
	if (!n || (name && !nm)) {
		free(n);
		free(nm);
		if (!is_root)
			close(fd);
		return -ENOMEM;
	}
	n->id = t->next_id++;
	n->fd = fd;
	n->dirfd = -1;
	n->export = export;
	n->type = st->st_mode & S_IFMT;
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->is_root = is_root;
	n->live = true;
	n->refs = 1;
	n->name = nm;
	n->parent = parent && nm ? parent : NULL;
	if (n->parent) {
		n->parent->refs++;
		gofer_child_index_add(&t->children, n);
	}
	size_t b = node_bucket(t, n->id);
	n->hnext = t->buckets[b];
	t->buckets[b] = n;
	list_add_tail(&n->all, &t->all);
	t->count++;
	gofer_node_fd_update(t, n, true);
	*out = n;
	return 0;
}

void gofer_node_close(struct gofer_node_table *t, struct gofer_node *n)
{
	struct gofer_node **pp = &t->buckets[node_bucket(t, n->id)];
	while (*pp && *pp != n)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = n->hnext;
	n->hnext = NULL;
	n->live = false;
	node_put(t, n);
}

/* n, found in the child index as dir/name, is still the inode st. Only
 * nodes of dir's export are indexed under it: others keep their stale name,
 * which the dev/ino check on reopen turns into -ESTALE. */
static bool node_is(const struct gofer_node *n, const struct stat *st)
{
	return n->dev == (uint64_t)st->st_dev && n->ino == (uint64_t)st->st_ino;
}

enum { ACT_DETACH = 1, ACT_TO_NEW, ACT_TO_OLD };

static void node_detach(struct gofer_node_table *t, struct gofer_node *n)
{
	struct gofer_node *p = n->parent;
	gofer_child_index_del(&t->children, n);
	n->parent = NULL;
	free(n->name);
	n->name = NULL;
	/* Now unreopenable: its fd moves to lru_orphan. */
	gofer_node_fd_update(t, n, false);
	node_put(t, p);
}

static void node_move(struct gofer_node_table *t, struct gofer_node *n,
		      struct gofer_node *dir, const char *name)
{
	char *nm = strdup(name);
	if (!nm) {
		node_detach(t, n);
		return;
	}
	struct gofer_node *p = n->parent;
	gofer_child_index_del(&t->children, n);
	dir->refs++;
	n->parent = dir;
	free(n->name);
	n->name = nm;
	gofer_child_index_add(&t->children, n);
	node_put(t, p);
}

/* Applies the actions chained through ->tmp. Matching and applying are
 * separate phases, and each chained node holds an extra reference, because
 * dropping a parent may free nodes anywhere in the table. */
static void node_apply(struct gofer_node_table *t, struct gofer_node *chain,
		       struct gofer_node *olddir, const char *oldname,
		       struct gofer_node *newdir, const char *newname)
{
	for (struct gofer_node *n = chain; n; n = n->tmp) {
		if (n->tmp_action == ACT_DETACH)
			node_detach(t, n);
		else if (n->tmp_action == ACT_TO_NEW)
			node_move(t, n, newdir, newname);
		else
			node_move(t, n, olddir, oldname);
	}
	while (chain) {
		struct gofer_node *next = chain->tmp;
		chain->tmp = NULL;
		chain->tmp_action = 0;
		node_put(t, chain);
		chain = next;
	}
}

static void chain_add(struct gofer_node **chain, struct gofer_node *n,
		      int action)
{
	if (n->tmp_action)
		return; /* already chained */
	n->refs++;
	n->tmp_action = action;
	n->tmp = *chain;
	*chain = n;
}

void gofer_node_unlinked(struct gofer_node_table *t, struct gofer_node *dir,
			 const char *name, const struct stat *st)
{
	struct gofer_node *chain = NULL;
	for (struct gofer_node *n =
		 gofer_child_index_first(&t->children, dir, name);
	     n; n = gofer_child_index_next(n, dir, name))
		if (node_is(n, st))
			chain_add(&chain, n, ACT_DETACH);
	node_apply(t, chain, NULL, NULL, NULL, NULL);
}

void gofer_node_renamed(struct gofer_node_table *t, struct gofer_node *olddir,
			const char *oldname, const struct stat *oldst,
			struct gofer_node *newdir, const char *newname,
			const struct stat *newst, bool exchange)
{
	struct gofer_node *chain = NULL;
	for (struct gofer_node *n =
		 gofer_child_index_first(&t->children, olddir, oldname);
	     n; n = gofer_child_index_next(n, olddir, oldname))
		if (node_is(n, oldst))
			chain_add(&chain, n, ACT_TO_NEW);
	if (newst)
		for (struct gofer_node *n =
			 gofer_child_index_first(&t->children, newdir, newname);
		     n; n = gofer_child_index_next(n, newdir, newname))
			if (node_is(n, newst))
				chain_add(&chain, n,
					  exchange ? ACT_TO_OLD : ACT_DETACH);
	/* Keep both directories alive across the moves. */
	olddir->refs++;
	newdir->refs++;
	node_apply(t, chain, olddir, oldname, newdir, newname);
	node_put(t, olddir);
	node_put(t, newdir);
}
