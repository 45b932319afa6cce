/* Guest address spaces: the sentry's bookkeeping of the VMAs that live in a
 * stub process. The host kernel holds the real mappings (and does
 * copy-on-write for fork); the sentry keeps this list to validate requests,
 * to answer /proc/pid/maps and mremap, and to tear an address space down at
 * exec. All changes of the stub's mappings go through these functions, which
 * run host mmap/munmap/mprotect inside the stub via platform->syscall(). */
#ifndef BULKHEAD_MM_H
#define BULKHEAD_MM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "bulkhead/list.h"
#include "bulkhead/rbtree.h"
#include "sentry/kernel/lock.h"

struct task;
struct file;

#define GUEST_TASK_SIZE	 0x7ffffffff000UL /* top of the guest's user range */
#define GUEST_MMAP_MIN	 0x10000UL	  /* like vm.mmap_min_addr */
#define GUEST_STACK_SIZE (8UL << 20)

struct vma {
	struct rb_node rb;   /* in mm->vmas, by start (they never overlap) */
	uint64_t start, end; /* page aligned, end exclusive */
	int prot;	     /* PROT_* */
	int flags;	     /* MAP_SHARED / MAP_PRIVATE / MAP_ANONYMOUS ... */
	/* File offset in bytes; for shared anonymous memory, the offset in
	 * the memory object shm_id names. */
	uint64_t pgoff;
	struct file *file; /* ref held; NULL for anonymous */
	/* Shared anonymous memory: one id per object, kept by fork and by
	 * splits, so that a futex key names the memory, not the mapping. */
	uint64_t shm_id;
	/* A shared mapping of a file not open for writing: PROT_WRITE may
	 * never be added (Linux clears VM_MAYWRITE). */
	bool no_write;
	char name[64]; /* "[stack]", "[heap]", or "" */
};

/* An address space. lock is a sleep lock (lockorder.h) held across the
 * address space's own stub calls, so that the VMAs and the host's
 * mappings change together; every field below refs is under it. */
struct mm {
	_Atomic int refs;
	struct kmutex lock;
	struct rb_root vmas; /* struct vma, by address */
	uint64_t brk_start, brk;
	uint64_t start_stack;
	uint64_t arg_start, arg_end, env_start, env_end;
	uint64_t auxv[64]; /* copy of the auxv, for /proc/pid/auxv */
	size_t auxv_len;
	uint64_t total_pages; /* kept as VMAs come, go, split and merge */
	int map_count;	      /* VMAs, bounded like vm.max_map_count */
	/* The program exec loaded (Linux's mm->exe_file), with a reference
	 * and its inode's write access denied while this mm lives; set once
	 * by exec, before any other thread can see the mm. */
	struct file *exe_file;
};

#define MM_MAX_MAP_COUNT 65530

struct mm *mm_new(void);
/* Copy of the VMAs for fork (the host clone copies the memory); the
 * caller holds mm->lock across the host clone and this copy. */
struct mm *mm_dup(struct mm *mm);
static inline void mm_lock(struct mm *mm)
{
	kmutex_lock(&mm->lock);
}
static inline void mm_unlock(struct mm *mm)
{
	kmutex_unlock(&mm->lock);
}
void mm_get(struct mm *mm);
void mm_put(struct mm *mm);
/* Give mm the file exec loaded (its reference and its write denial,
 * both taken by the caller), dropping the previous one's; NULL: none. */
struct file;
void mm_set_exe_file(struct mm *mm, struct file *f);

/* Syscall bodies (t->proc->mm, t->pt for host calls). Negative errno. */
long mm_mmap(struct task *t, uint64_t addr, uint64_t len, int prot, int flags,
	     int fd, uint64_t off);
long mm_munmap(struct task *t, uint64_t addr, uint64_t len);
long mm_mprotect(struct task *t, uint64_t addr, uint64_t len, int prot);
long mm_brk(struct task *t, uint64_t newbrk);
long mm_mremap(struct task *t, uint64_t old, uint64_t oldlen, uint64_t newlen,
	       int flags, uint64_t newaddr);
long mm_madvise(struct task *t, uint64_t addr, uint64_t len, int advice);
long mm_msync(struct task *t, uint64_t addr, uint64_t len, int flags);
/* Map from a kernel-side struct file (ELF loader); file may be NULL for
 * anonymous memory. Returns the address or a negative errno. */
/* Several MAP_FIXED mappings of one file at once (an ELF's segments): on
 * systrap one round trip to the stub instead of one each. 0, or the first
 * error (the mappings that worked stay). */
#define MM_MAP_MANY_MAX 16
struct mm_file_map {
	uint64_t addr, len, off;
	int prot, flags;
};
int mm_map_file_many(struct task *t, struct file *file, int n,
		     const struct mm_file_map *maps);
long mm_map_file(struct task *t, uint64_t addr, uint64_t len, int prot,
		 int flags, struct file *file, uint64_t off);
/* The same with a name for /proc/pid/maps ("[stack]"); name may be NULL. */
long mm_map_named(struct task *t, uint64_t addr, uint64_t len, int prot,
		  int flags, struct file *file, uint64_t off, const char *name);
/* vma_intersects and vma_covers, under the mm's lock. */
bool mm_intersects(struct mm *mm, uint64_t s, uint64_t e);
bool mm_covers(struct mm *mm, uint64_t s, uint64_t e);
/* Unmap every guest VMA (exec). */
void mm_unmap_all(struct task *t);
/* Render the /proc/pid/maps lines of the VMAs from the one holding *from
 * on, as many whole lines as fit in buf (cap >= 8 KiB always fits one);
 * returns the length and moves *from past the last VMA rendered. */
size_t mm_render_maps(struct mm *mm, uint64_t *from, char *buf, size_t cap);

#endif
