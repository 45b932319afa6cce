/* The VMAs of an mm: a red-black tree by address (they never overlap, so
 * ordering by start orders by end too), pure bookkeeping with no host
 * calls. Lookups, inserts and removals are O(log n); walking to a
 * neighbour is O(1) amortised. Callers preallocate what a change may need
 * (struct vma_spares) before they touch the stub, so that once the host has
 * changed the mappings the tree can always follow without failing. The
 * counts (map_count, total_pages) are kept up to date by every change. */
#ifndef BULKHEAD_VMA_H
#define BULKHEAD_VMA_H

#include "sentry/mm/mm.h"

#define MM_PAGE	     4096UL
#define MM_PAGE_MASK (~(MM_PAGE - 1))

/* Enough for two range removals (each may split two VMAs): mremap. */
#define VMA_SPARES 4
struct vma_spares {
	struct vma *v[VMA_SPARES];
};

int vma_spares_get(struct vma_spares *sp);
void vma_spares_put(struct vma_spares *sp);

struct vma *vma_new(void);
void vma_free(struct vma *v);
/* The first VMA with end > addr, or NULL. */
struct vma *vma_find(struct mm *mm, uint64_t addr);
struct vma *vma_first(struct mm *mm);
struct vma *vma_next(struct mm *mm, struct vma *v); /* NULL at the end */
struct vma *vma_prev(struct mm *mm, struct vma *v);
/* Does any VMA intersect [s, e)? */
bool vma_intersects(struct mm *mm, uint64_t s, uint64_t e);
/* Is [s, e) covered by VMAs without a hole? */
bool vma_covers(struct mm *mm, uint64_t s, uint64_t e);
/* Make s and e VMA boundaries (splitting with spares). */
void vma_isolate(struct mm *mm, uint64_t s, uint64_t e, struct vma_spares *sp);
/* Drop everything in [s, e) (splitting with spares). */
void vma_remove_range(struct mm *mm, uint64_t s, uint64_t e,
		      struct vma_spares *sp);
/* Link v into its place; [v->start, v->end) must be free. */
void vma_insert(struct mm *mm, struct vma *v);
/* Unlink v (the caller frees it). */
void vma_unlink(struct mm *mm, struct vma *v);
/* Merge compatible neighbours touching [s, e). */
void vma_merge_range(struct mm *mm, uint64_t s, uint64_t e);
/* Unlink and free every VMA. */
void vma_free_all(struct mm *mm);

#endif
