#include "sentry/mm/vma.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/vfs/vfs.h"

struct vma *vma_new(void)
{
	struct vma *v = calloc(1, sizeof(*v));
	if (v)
		list_init(&v->node);
	return v;
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

static struct vma *vma_of(struct list_head *n)
{
	return list_entry(n, struct vma, node);
}

struct vma *vma_find(struct mm *mm, uint64_t addr)
{
	struct list_head *n;

	list_for_each(n, &mm->vmas)
	{
		struct vma *v = vma_of(n);
		if (v->end > addr)
			return v;
	}
	return NULL;
}

struct vma *vma_next(struct mm *mm, struct vma *v)
{
	return v->node.next == &mm->vmas ? NULL : vma_of(v->node.next);
}

struct vma *vma_prev(struct mm *mm, struct vma *v)
{
	return v->node.prev == &mm->vmas ? NULL : vma_of(v->node.prev);
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

/* Cut the VMA straddling addr (if any) in two. */
static void vma_split_at(struct mm *mm, uint64_t addr, struct vma_spares *sp)
{
	struct vma *v = vma_find(mm, addr);

	if (!v || v->start >= addr)
		return;
	struct vma *n = spare_take(sp);
	struct list_head keep = n->node;
	*n = *v;
	n->node = keep;
	n->start = addr;
	if (n->file) {
		file_get(n->file);
		n->pgoff += addr - v->start;
	}
	v->end = addr;
	list_add(&n->node, &v->node);
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
		list_del(&v->node);
		vma_free(v);
		v = nx;
	}
	vma_recount(mm);
}

void vma_insert(struct mm *mm, struct vma *v)
{
	struct list_head *n;

	list_for_each(n, &mm->vmas)
	{
		if (vma_of(n)->start >= v->end)
			break;
	}
	list_add_tail(&v->node, n); /* before n: keeps the list sorted */
	vma_recount(mm);
}

static bool vma_mergeable(const struct vma *a, const struct vma *b)
{
	if (a->end != b->start || a->prot != b->prot || a->flags != b->flags ||
	    a->file != b->file || a->no_write != b->no_write ||
	    strcmp(a->name, b->name) != 0)
		return false;
	return !a->file || a->pgoff + (a->end - a->start) == b->pgoff;
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
			v->end = nx->end;
			list_del(&nx->node);
			vma_free(nx);
			continue;
		}
		v = nx;
	}
	vma_recount(mm);
}

void vma_recount(struct mm *mm)
{
	struct list_head *n;
	uint64_t pages = 0;
	int count = 0;

	list_for_each(n, &mm->vmas)
	{
		struct vma *v = vma_of(n);
		pages += (v->end - v->start) / MM_PAGE;
		count++;
	}
	mm->total_pages = pages;
	mm->map_count = count;
}
