/* The id bitmap. Invariant: full[w / 64] bit w % 64 is set exactly when
 * bits[w] == ~0; bits of full past the last word are 0. */
#include "bulkhead/idmap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WORD_BITS 64u

static inline size_t nwords_of(size_t nbits)
{
	return nbits / WORD_BITS;
}

static inline size_t nfull_of(size_t nbits)
{
	return (nwords_of(nbits) + WORD_BITS - 1) / WORD_BITS;
}

void idmap_init(struct idmap *m)
{
	m->bits = NULL;
	m->full = NULL;
	m->nbits = 0;
}

void idmap_destroy(struct idmap *m)
{
	free(m->bits);
	free(m->full);
	idmap_init(m);
}

/* Grows the map, by doubling, until it holds id (< IDMAP_MAX_BITS). nbits
 * changes only once both arrays have their new size; a failure on the
 * second leaves the first larger than needed, which is harmless. */
static int idmap_grow(struct idmap *m, size_t id)
{
	size_t nbits = m->nbits ? m->nbits : IDMAP_MIN_BITS;

	while (nbits <= id)
		nbits *= 2;
	uint64_t *bits = realloc(m->bits, nwords_of(nbits) * sizeof(*bits));
	if (!bits)
		return -ENOMEM;
	m->bits = bits;
	uint64_t *full = realloc(m->full, nfull_of(nbits) * sizeof(*full));
	if (!full)
		return -ENOMEM;
	m->full = full;
	size_t ow = nwords_of(m->nbits), of = nfull_of(m->nbits);
	memset(bits + ow, 0, (nwords_of(nbits) - ow) * sizeof(*bits));
	memset(full + of, 0, (nfull_of(nbits) - of) * sizeof(*full));
	m->nbits = nbits;
	return 0;
}

/* The lowest clear id >= from, which is max(from, nbits) when every id from
 * there to the end of the map is set. */
static size_t find_clear(const struct idmap *m, size_t from)
{
	size_t nw = nwords_of(m->nbits), w = from / WORD_BITS;

	if (w >= nw)
		return from;
	/* The ids below from in its word count as set. */
	uint64_t word = m->bits[w] | ((1ull << (from % WORD_BITS)) - 1);
	if (~word)
		return w * WORD_BITS + (size_t)__builtin_ctzll(~word);
	/* Then the first word that is not full, 64 words per step; words
	 * below w count as full. */
	for (w++; w < nw; w = (w / WORD_BITS + 1) * WORD_BITS) {
		uint64_t f =
		    m->full[w / WORD_BITS] | ((1ull << (w % WORD_BITS)) - 1);
		if (~f) {
			w = w / WORD_BITS * WORD_BITS +
			    (size_t)__builtin_ctzll(~f);
			if (w >= nw)
				break;
			return w * WORD_BITS +
			       (size_t)__builtin_ctzll(~m->bits[w]);
		}
	}
	return m->nbits;
}

int idmap_alloc(struct idmap *m, unsigned min, unsigned limit)
{
	if (limit > IDMAP_MAX_BITS)
		limit = IDMAP_MAX_BITS;
	if (min >= limit)
		return -EMFILE;
	size_t id = find_clear(m, min);
	if (id >= limit)
		return -EMFILE;
	int rc = idmap_set(m, (unsigned)id);
	if (rc < 0)
		return rc;
	return (int)id;
}

int idmap_set(struct idmap *m, unsigned id)
{
	if (id >= IDMAP_MAX_BITS)
		return -EINVAL;
	if (id >= m->nbits) {
		int rc = idmap_grow(m, id);
		if (rc < 0)
			return rc;
	}
	size_t w = id / WORD_BITS;
	m->bits[w] |= 1ull << (id % WORD_BITS);
	if (m->bits[w] == ~0ull)
		m->full[w / WORD_BITS] |= 1ull << (w % WORD_BITS);
	return 0;
}

void idmap_clear(struct idmap *m, unsigned id)
{
	if (id >= m->nbits)
		return;
	size_t w = id / WORD_BITS;
	m->bits[w] &= ~(1ull << (id % WORD_BITS));
	m->full[w / WORD_BITS] &= ~(1ull << (w % WORD_BITS));
}

bool idmap_test(const struct idmap *m, unsigned id)
{
	return id < m->nbits &&
	       (m->bits[id / WORD_BITS] >> (id % WORD_BITS) & 1);
}

int idmap_next_set(const struct idmap *m, unsigned from)
{
	size_t nw = nwords_of(m->nbits), w = from / WORD_BITS;

	if (from >= m->nbits)
		return -1;
	uint64_t word = m->bits[w] & (~0ull << (from % WORD_BITS));
	for (;;) {
		if (word)
			return (int)(w * WORD_BITS +
				     (size_t)__builtin_ctzll(word));
		if (++w >= nw)
			return -1;
		word = m->bits[w];
	}
}

size_t idmap_size(const struct idmap *m)
{
	return m->nbits;
}

int idmap_copy(struct idmap *dst, const struct idmap *src)
{
	struct idmap c;

	if (dst == src)
		return 0;
	idmap_init(&c);
	if (src->nbits) {
		size_t bw = nwords_of(src->nbits) * sizeof(*c.bits);
		size_t fw = nfull_of(src->nbits) * sizeof(*c.full);
		c.bits = malloc(bw);
		c.full = malloc(fw);
		if (!c.bits || !c.full) {
			idmap_destroy(&c);
			return -ENOMEM;
		}
		memcpy(c.bits, src->bits, bw);
		memcpy(c.full, src->full, fw);
		c.nbits = src->nbits;
	}
	idmap_destroy(dst);
	*dst = c;
	return 0;
}
