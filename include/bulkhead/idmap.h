/* A growable bitmap of small integer ids.
 *
 * What it is for: file descriptor numbers (the lowest free one at or above
 * a minimum, below RLIMIT_NOFILE, as POSIX requires of open and dup), and
 * any other id space that wants the lowest free number. One bit per id;
 * a second bitmap, one bit per 64-bit word of the first, is set when that
 * word is all ones, so a search for a free id skips 64 full words (4096
 * ids) at a time.
 *
 * Complexity: idmap_set, idmap_clear and idmap_test are O(1) (idmap_set
 * amortised: the map doubles when an id is past its end); idmap_alloc is
 * O(1 + (answer - min) / 4096), so at worst O(nbits / 4096);
 * idmap_next_set is O(1 + (answer - from) / 64); idmap_copy is O(nbits).
 * Memory is nbits / 8 bytes and a 64th of that again.
 *
 * Ids are 0 to IDMAP_MAX_BITS - 1 (INT_MAX), so that every id fits in the
 * int that idmap_alloc returns. The map never shrinks. No locking: the
 * caller serialises access to a map.
 */
#ifndef BULKHEAD_IDMAP_H
#define BULKHEAD_IDMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The size of the first allocation, and the largest size. */
#define IDMAP_MIN_BITS 256u
#define IDMAP_MAX_BITS (1u << 31)

struct idmap {
	uint64_t *bits;
	uint64_t *full; /* bit w set when bits[w] is all ones */
	size_t nbits;	/* 0, or a power of two >= IDMAP_MIN_BITS */
};

/* An empty map; nothing is allocated until the first id is set. */
void idmap_init(struct idmap *m);
void idmap_destroy(struct idmap *m);

/* The lowest clear id >= min and < limit, now set. -EMFILE if there is none
 * (also when limit is 0 or min >= limit; a limit above IDMAP_MAX_BITS
 * counts as IDMAP_MAX_BITS), -ENOMEM if the map had to grow and could
 * not. */
int idmap_alloc(struct idmap *m, unsigned min, unsigned limit);
/* Marks id used, growing the map as needed: 0, -ENOMEM, or -EINVAL if id >=
 * IDMAP_MAX_BITS. */
int idmap_set(struct idmap *m, unsigned id);
/* Marks id free; an id past the end is already free. */
void idmap_clear(struct idmap *m, unsigned id);
bool idmap_test(const struct idmap *m, unsigned id);
/* The lowest set id >= from, or -1. */
int idmap_next_set(const struct idmap *m, unsigned from);
/* The number of ids the map has room for now (nbits). */
size_t idmap_size(const struct idmap *m);
/* Makes dst (an initialised map; what it held is dropped) a copy of src,
 * for fork. 0, or -ENOMEM with dst unchanged. */
int idmap_copy(struct idmap *dst, const struct idmap *src);

#endif
