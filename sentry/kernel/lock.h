/* Sentry mutexes with a lock-order checker. Every kmutex has a name and a
 * rank from lockorder.h; with checking on (always in the debug build, or
 * BH_LOCKCHECK=1 in the environment), taking a lock whose rank is not above
 * every rank the thread holds aborts with both locks named, and a round
 * trip to a host (lock_might_block) with a spin lock held aborts too. With
 * checking off a kmutex is a plain pthread mutex and each check one
 * predictable branch. */
#ifndef BULKHEAD_LOCK_H
#define BULKHEAD_LOCK_H

#include <pthread.h>
#include <stdbool.h>

#include "sentry/kernel/lockorder.h"

struct kmutex {
	pthread_mutex_t m;
	const char *name;
	int rank;
};

#define KMUTEX_INITIALIZER(nm, rk)                                             \
	{                                                                      \
		.m = PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP, .name = (nm),      \
		.rank = (rk)                                                   \
	}

extern bool lock_check_enabled;

void kmutex_init(struct kmutex *m, const char *name, int rank);
void kmutex_destroy(struct kmutex *m);
/* sub: the depth of a lock class that nests in itself; its rank is
 * rank + sub (rank + 2 * sub for wait queues: see lockorder.h). */
void kmutex_lock_nested(struct kmutex *m, int sub);
bool kmutex_trylock(struct kmutex *m);
void kmutex_unlock(struct kmutex *m);

static inline void kmutex_lock(struct kmutex *m)
{
	kmutex_lock_nested(m, 0);
}

/* pthread_cond_wait on m, keeping the checker's record straight. */
int kcond_wait(pthread_cond_t *c, struct kmutex *m);
int kcond_timedwait(pthread_cond_t *c, struct kmutex *m,
		    const struct timespec *abstime);

/* About to make a host round trip (what names it): no spin lock may be
 * held. */
void lock_might_block(const char *what);
/* About to sleep: no lock at all may be held. */
void lock_assert_none(const char *what);
/* m is held by this thread (checked only with checking on). */
void lock_assert_held(const struct kmutex *m);

/* Where the checker reports (tests redirect it); default stderr. */
void lock_check_set_fd(int fd);

#endif
