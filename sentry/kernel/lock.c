/* The lock-order checker: each thread keeps the locks it holds, with the
 * rank each was taken at, in a small array. Held sets are short (a handful
 * at most), so a linear scan is cheaper than anything cleverer. */
#include "sentry/kernel/lock.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef BH_DEBUG
bool lock_check_enabled = true;
#else
bool lock_check_enabled;
#endif

#define HELD_MAX 16

struct held {
	const struct kmutex *m;
	int rank;
};

static __thread struct held held[HELD_MAX];
static __thread int nheld;
static int report_fd = 2;

__attribute__((constructor)) static void lock_check_from_env(void)
{
	const char *e = getenv("BH_LOCKCHECK");
	if (e && e[0] == '1')
		lock_check_enabled = true;
}

void lock_check_set_fd(int fd)
{
	report_fd = fd;
}

__attribute__((noreturn, format(printf, 1, 2))) static void
lock_die(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	size_t len = n < 0		       ? 0
		     : (size_t)n < sizeof(buf) ? (size_t)n
					       : sizeof(buf) - 1;
	int k = 0;
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "; held:");
	for (k = 0; k < nheld && len < sizeof(buf) - 1; k++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, " %s(%d)",
					held[k].m->name, held[k].rank);
	if (len >= sizeof(buf) - 1)
		len = sizeof(buf) - 2;
	buf[len++] = '\n';
	ssize_t w = write(report_fd, buf, len);
	(void)w;
	abort();
}

static void check_order(const struct kmutex *m, int rank)
{
	for (int i = 0; i < nheld; i++) {
		if (held[i].m == m)
			lock_die("lock order: %s taken twice", m->name);
		if (held[i].rank >= rank)
			lock_die("lock order: %s(%d) taken while holding "
				 "%s(%d)",
				 m->name, rank, held[i].m->name, held[i].rank);
	}
}

static void record(const struct kmutex *m, int rank)
{
	if (nheld >= HELD_MAX)
		lock_die("lock order: more than %d locks held taking %s",
			 HELD_MAX, m->name);
	held[nheld].m = m;
	held[nheld].rank = rank;
	nheld++;
}

static int forget(const struct kmutex *m)
{
	for (int i = nheld - 1; i >= 0; i--) {
		if (held[i].m != m)
			continue;
		int rank = held[i].rank;
		memmove(&held[i], &held[i + 1],
			(size_t)(nheld - i - 1) * sizeof(held[0]));
		nheld--;
		return rank;
	}
	lock_die("lock order: %s released but not held", m->name);
}

void kmutex_init(struct kmutex *m, const char *name, int rank)
{
	pthread_mutexattr_t a;
	pthread_mutexattr_init(&a);
	/* Spin briefly before sleeping: the sections are short. */
	pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
	pthread_mutex_init(&m->m, &a);
	pthread_mutexattr_destroy(&a);
	m->name = name;
	m->rank = rank;
}

void kmutex_destroy(struct kmutex *m)
{
	pthread_mutex_destroy(&m->m);
}

static int sub_rank(const struct kmutex *m, int sub)
{
	/* Wait queues and epoll ready locks interleave (see lockorder.h). */
	if (m->rank == LR_WAITQ || m->rank == LR_EPOLL_READY)
		return m->rank + 2 * sub;
	return m->rank + sub;
}

void kmutex_lock_nested(struct kmutex *m, int sub)
{
	if (lock_check_enabled) {
		int rank = sub_rank(m, sub);
		check_order(m, rank);
		pthread_mutex_lock(&m->m);
		record(m, rank);
		return;
	}
	pthread_mutex_lock(&m->m);
}

bool kmutex_trylock(struct kmutex *m)
{
	if (pthread_mutex_trylock(&m->m) != 0)
		return false;
	/* A trylock cannot deadlock: recorded, not judged. */
	if (lock_check_enabled)
		record(m, m->rank);
	return true;
}

void kmutex_unlock(struct kmutex *m)
{
	if (lock_check_enabled)
		forget(m);
	pthread_mutex_unlock(&m->m);
}

int kcond_wait(pthread_cond_t *c, struct kmutex *m)
{
	int rank = 0;
	if (lock_check_enabled)
		rank = forget(m);
	int r = pthread_cond_wait(c, &m->m);
	if (lock_check_enabled)
		record(m, rank);
	return r;
}

int kcond_timedwait(pthread_cond_t *c, struct kmutex *m,
		    const struct timespec *abstime)
{
	int rank = 0;
	if (lock_check_enabled)
		rank = forget(m);
	int r = pthread_cond_timedwait(c, &m->m, abstime);
	if (lock_check_enabled)
		record(m, rank);
	return r;
}

void lock_might_block(const char *what)
{
	if (!lock_check_enabled)
		return;
	for (int i = 0; i < nheld; i++)
		if (held[i].rank >= LR_SPIN_MIN)
			lock_die("lock order: %s with spin lock %s held", what,
				 held[i].m->name);
}

void lock_assert_none(const char *what)
{
	if (lock_check_enabled && nheld)
		lock_die("lock order: %s with a lock held", what);
}

void lock_assert_held(const struct kmutex *m)
{
	if (!lock_check_enabled)
		return;
	for (int i = 0; i < nheld; i++)
		if (held[i].m == m)
			return;
	lock_die("lock order: %s not held", m->name);
}
