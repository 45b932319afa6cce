#include "sentry/mm/vma.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/vfs/vfs.h"

struct vma *vma_new(void)
{
	return calloc(1, sizeof(struct vma));
}

void vma_free(struct vma *v)
{
	if (!v)
		return;
	if (v->file)
		file_put(v->file);
	free(v);
}

int vma_spares_get(struct vma_spares *sp)
{
	bool ok = true;

	for (int i = 0; i < VMA_SPARES; i++) {
		sp->v[i] = vma_new();
		ok = ok && sp->v[i];
	}
	if (!ok) {
		vma_spares_put(sp);
		return -ENOMEM;
	}
	return 0;
}

void vma_spares_put(struct vma_spares *sp)
{
	for (int i = 0; i < VMA_SPARES; i++) {
		free(sp->v[i]); /* spares never hold a file */
		sp->v[i] = NULL;
	}
}

static struct vma *vma_of(struct rb_node *n)
{
	return n ? rb_entry(n, struct vma, rb) : NULL;
}

struct vma *vma_find(struct mm *mm, uint64_t addr)
{
	struct rb_node *n = mm->vmas.node;
	struct vma *best = NULL;

	while (n) {
		struct vma *v = vma_of(n);
		if (v->end > addr) {
			best = v;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

struct vma *vma_first(struct mm *mm)
{
	return vma_of(rb_first(&mm->vmas));
}

struct vma *vma_next(struct mm *mm, struct vma *v)
{
	(void)mm;
	return vma_of(rb_next(&v->rb));
}

struct vma *vma_prev(struct mm *mm, struct vma *v)
{
	(void)mm;
	return vma_of(rb_prev(&v->rb));
}

bool vma_intersects(struct mm *mm, uint64_t s, uint64_t e)
{
	struct vma *v = vma_find(mm, s);
	return v && v->start < e;
}

bool vma_covers(struct mm *mm, uint64_t s, uint64_t e)
{
	struct vma *v = vma_find(mm, s);
	uint64_t at = s;

	for (; v && at < e; v = vma_next(mm, v)) {
		if (v->start > at)
			return false;
		at = v->end;
	}
	return at >= e;
}

void vma_insert(struct mm *mm, struct vma *v)
{
	struct rb_node **link = &mm->vmas.node, *parent = NULL;

	while (*link) {
		parent = *link;
		link = v->start < vma_of(parent)->start ? &parent->left
							: &parent->right;
	}
	rb_link_node(&v->rb, parent, link);
	rb_insert_color(&v->rb, &mm->vmas);
	mm->map_count++;
	mm->total_pages += (v->end - v->start) / MM_PAGE;
}

void vma_unlink(struct mm *mm, struct vma *v)
{
	rb_erase(&v->rb, &mm->vmas);
	mm->map_count--;
	mm->total_pages -= (v->end - v->start) / MM_PAGE;
}

static struct vma *spare_take(struct vma_spares *sp)
{
	for (int i = 0; i < VMA_SPARES; i++) {
		if (sp->v[i]) {
			struct vma *v = sp->v[i];
			sp->v[i] = NULL;
			return v;
		}
	}
	abort(); /* a caller reserved too few: a bug, not a guest error */
}

/* Cut the VMA straddling addr (if any) in two. The upper part is a new
 * node; the lower keeps its place in the tree (its start is unchanged). */
static void vma_split_at(struct mm *mm, uint64_t addr, struct vma_spares *sp)
{
	struct vma *v = vma_find(mm, addr);

	if (!v || v->start >= addr)
		return;
	struct vma *n = spare_take(sp);
	*n = *v;
	n->start = addr;
	if (n->file)
		file_get(n->file);
	if (n->file || n->shm_id)
		n->pgoff += addr - v->start;
	/* Only v's end moves: take its pages out, then both back in. */
	mm->total_pages -= (v->end - v->start) / MM_PAGE;
	v->end = addr;
	mm->total_pages += (v->end - v->start) / MM_PAGE;
	vma_insert(mm, n);
}

void vma_isolate(struct mm *mm, uint64_t s, uint64_t e, struct vma_spares *sp)
{
	vma_split_at(mm, s, sp);
	vma_split_at(mm, e, sp);
}

void vma_remove_range(struct mm *mm, uint64_t s, uint64_t e,
		      struct vma_spares *sp)
{
	vma_isolate(mm, s, e, sp);
	struct vma *v = vma_find(mm, s);
	while (v && v->start < e) {
		struct vma *nx = vma_next(mm, v);
		vma_unlink(mm, v);
		vma_free(v);
		v = nx;
	}
}

static bool vma_mergeable(const struct vma *a, const struct vma *b)
{
	if (a->end != b->start || a->prot != b->prot || a->flags != b->flags ||
	    a->file != b->file || a->no_write != b->no_write ||
	    a->shm_id != b->shm_id || strcmp(a->name, b->name) != 0)
		return false;
	if (a->file || a->shm_id)
		return a->pgoff + (a->end - a->start) == b->pgoff;
	return true;
}

void vma_merge_range(struct mm *mm, uint64_t s, uint64_t e)
{
	struct vma *v = vma_find(mm, s);

	if (!v)
		return;
	struct vma *p = vma_prev(mm, v);
	if (p)
		v = p;
	while (v && v->start <= e) {
		struct vma *nx = vma_next(mm, v);
		if (nx && vma_mergeable(v, nx)) {
			/* nx's pages move to v: the total is unchanged. */
			uint64_t end = nx->end;
			vma_unlink(mm, nx);
			vma_free(nx);
			mm->total_pages += (end - v->end) / MM_PAGE;
			v->end = end;
			continue;
		}
		v = nx;
	}
}

void vma_free_all(struct mm *mm)
{
	struct rb_node *n;
	while ((n = mm->vmas.node)) {
		struct vma *v = vma_of(n);
		vma_unlink(mm, v);
		vma_free(v);
	}
}
