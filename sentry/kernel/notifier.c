/* The notifier thread. Its epoll names each watch by a table slot and a
 * generation, never by pointer: an event the thread fetched just before a
 * watch was disarmed finds a cleared slot (or a newer generation) and is
 * dropped, so a freed watch is never touched. Wake-ups run under the table
 * lock, which host_watch_disarm also takes: once it returns, no wake-up of
 * that watch is in flight. */
#include "sentry/kernel/notifier.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "bulkhead/log.h"

#define NOTIFIER_BATCH 64
#define NOTIFIER_MAX   (1 << 20) /* slots; bounded by the host's fds */

struct slot {
	struct host_watch *w;
	uint32_t gen;
};

static int epfd = -1;
static struct kmutex tab_lock = KMUTEX_INITIALIZER("notifier", LR_NOTIFIER);
/* Under tab_lock: the slots and a stack of free slot indices. */
static struct slot *tab;
static int *free_list;
static int tab_cap, nfree, tab_used;

static void *notifier_main(void *arg)
{
	(void)arg;
	struct epoll_event ev[NOTIFIER_BATCH];
	for (;;) {
		int n = epoll_wait(epfd, ev, NOTIFIER_BATCH, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			bh_error("notifier: epoll_wait: %s", strerror(errno));
			return NULL;
		}
		kmutex_lock(&tab_lock);
		for (int i = 0; i < n; i++) {
			int s = (int)(ev[i].data.u64 >> 32);
			uint32_t gen = (uint32_t)ev[i].data.u64;
			if (s < 0 || s >= tab_used || !tab[s].w ||
			    tab[s].gen != gen)
				continue;
			waitq_wake(&tab[s].w->wq, ev[i].events);
		}
		kmutex_unlock(&tab_lock);
	}
}

int notifier_init(void)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		return -errno;
	pthread_t th;
	int r = pthread_create(&th, NULL, notifier_main, NULL);
	if (r)
		return -r;
	pthread_detach(th);
	return 0;
}

void host_watch_init(struct host_watch *w, int fd)
{
	waitq_init(&w->wq);
	w->fd = fd;
	w->slot = -1;
	w->unwatchable = false;
}

static int slot_take(void)
{
	if (nfree)
		return free_list[--nfree];
	if (tab_used == tab_cap) {
		if (tab_cap >= NOTIFIER_MAX)
			return -ENFILE;
		int cap = tab_cap ? tab_cap * 2 : 16;
		struct slot *nt = realloc(tab, (size_t)cap * sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		tab = nt;
		int *nf = realloc(free_list, (size_t)cap * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		free_list = nf;
		memset(tab + tab_cap, 0,
		       (size_t)(cap - tab_cap) * sizeof(*tab));
		tab_cap = cap;
	}
	return tab_used++;
}

int host_watch_arm(struct host_watch *w)
{
	kmutex_lock(&tab_lock);
	if (w->slot >= 0 || w->unwatchable) {
		int r = w->unwatchable ? -EPERM : 0;
		kmutex_unlock(&tab_lock);
		return r;
	}
	int s = slot_take();
	if (s < 0) {
		kmutex_unlock(&tab_lock);
		return s;
	}
	tab[s].gen++;
	tab[s].w = w;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP |
					   EPOLLPRI | EPOLLET,
				 .data.u64 = ((uint64_t)s << 32) | tab[s].gen};
	int r = 0;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0) {
		r = -errno;
		tab[s].w = NULL;
		free_list[nfree++] = s;
		if (r == -EPERM)
			w->unwatchable = true;
	} else {
		w->slot = s;
	}
	kmutex_unlock(&tab_lock);
	return r;
}

void host_watch_disarm(struct host_watch *w)
{
	kmutex_lock(&tab_lock);
	if (w->slot >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, w->fd, NULL);
		tab[w->slot].w = NULL;
		free_list[nfree++] = w->slot;
		w->slot = -1;
	}
	kmutex_unlock(&tab_lock);
}
