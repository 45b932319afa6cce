#include "sentry/kernel/timer.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "bulkhead/log.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/lock.h"

/* Under timer_lock: */
static struct kmutex timer_lock = KMUTEX_INITIALIZER("timer", LR_TIMER);
static pthread_cond_t timer_done = PTHREAD_COND_INITIALIZER;
static struct heap heap;
static struct list_head rt_list = LIST_HEAD_INIT(rt_list);
static uint64_t armed_at; /* what tfd_mono is set for (0: disarmed) */

static int tfd_mono = -1; /* fires at the earliest deadline */
static int tfd_rt = -1;	  /* tells when the wall clock is set */
static __thread bool on_timer_thread;

static struct kmutex hooks_lock = KMUTEX_INITIALIZER("clockset", LR_CLOCKSET);
static struct list_head hooks = LIST_HEAD_INIT(hooks);

static struct timespec ns_ts(uint64_t ns)
{
	return (struct timespec){(time_t)(ns / 1000000000ull),
				 (long)(ns % 1000000000ull)};
}

static void rearm_locked(void)
{
	struct heap_node *m = heap_min(&heap);
	uint64_t want = m ? (m->key ? m->key : 1) : 0;
	if (want == armed_at)
		return;
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	if (want)
		its.it_value = ns_ts(want);
	timerfd_settime(tfd_mono, TFD_TIMER_ABSTIME, &its, NULL);
	armed_at = want;
}

void ktimer_init(struct ktimer *kt, ktimer_fn fn, void *priv)
{
	memset(kt, 0, sizeof(*kt));
	heap_node_init(&kt->hn, 0);
	kt->fn = fn;
	kt->priv = priv;
	list_init(&kt->rt);
}

static void arm_locked(struct ktimer *kt, uint64_t mono_ns)
{
	if (heap_contains(&kt->hn)) {
		heap_update(&heap, &kt->hn, mono_ns);
	} else {
		kt->hn.key = mono_ns;
		if (heap_insert(&heap, &kt->hn) < 0) {
			bh_warn("timer: out of memory: a timer is lost");
			return;
		}
	}
	rearm_locked();
}

static void rt_forget(struct ktimer *kt)
{
	if (kt->realtime) {
		list_del(&kt->rt);
		kt->realtime = false;
	}
}

void ktimer_arm(struct ktimer *kt, uint64_t mono_ns)
{
	kmutex_lock(&timer_lock);
	rt_forget(kt);
	arm_locked(kt, mono_ns);
	kmutex_unlock(&timer_lock);
}

/* The monotonic time at which the wall clock will read real_ns. */
static uint64_t real_to_mono(uint64_t real_ns)
{
	uint64_t now_r = kernel_now_ns(CLOCK_REALTIME);
	uint64_t now_m = kernel_now_ns(CLOCK_MONOTONIC);
	return real_ns > now_r ? now_m + (real_ns - now_r) : now_m;
}

void ktimer_arm_realtime(struct ktimer *kt, uint64_t real_ns)
{
	kmutex_lock(&timer_lock);
	rt_forget(kt);
	kt->realtime = true;
	kt->real_ns = real_ns;
	list_add_tail(&kt->rt, &rt_list);
	arm_locked(kt, real_to_mono(real_ns));
	kmutex_unlock(&timer_lock);
}

bool ktimer_cancel(struct ktimer *kt)
{
	kmutex_lock(&timer_lock);
	bool armed = heap_contains(&kt->hn);
	if (armed)
		heap_remove(&heap, &kt->hn);
	rt_forget(kt);
	rearm_locked();
	kmutex_unlock(&timer_lock);
	return armed;
}

void ktimer_sync(struct ktimer *kt)
{
	if (on_timer_thread)
		return;
	lock_might_block("ktimer_sync");
	kmutex_lock(&timer_lock);
	while (kt->running)
		kcond_wait(&timer_done, &timer_lock);
	kmutex_unlock(&timer_lock);
}

uint64_t ktimer_expiry(struct ktimer *kt)
{
	kmutex_lock(&timer_lock);
	uint64_t r = heap_contains(&kt->hn) ? kt->hn.key : 0;
	kmutex_unlock(&timer_lock);
	return r;
}

void timer_clockset_register(struct clockset_hook *h)
{
	kmutex_lock(&hooks_lock);
	list_add_tail(&h->node, &hooks);
	kmutex_unlock(&hooks_lock);
}

void timer_clockset_unregister(struct clockset_hook *h)
{
	/* Hooks run under hooks_lock: once this returns, h is not running. */
	kmutex_lock(&hooks_lock);
	list_del(&h->node);
	kmutex_unlock(&hooks_lock);
}

static void arm_rt_watch(void)
{
	/* Far in the future: it never fires, it only cancels. */
	struct itimerspec its;
	memset(&its, 0, sizeof(its));
	its.it_value = ns_ts(kernel_now_ns(CLOCK_REALTIME) +
			     100ull * 365 * 86400 * 1000000000ull);
	timerfd_settime(tfd_rt, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET,
			&its, NULL);
}

static void clock_was_set(void)
{
	kmutex_lock(&timer_lock);
	struct list_head *pos;
	list_for_each(pos, &rt_list)
	{
		struct ktimer *kt = list_entry(pos, struct ktimer, rt);
		if (heap_contains(&kt->hn))
			heap_update(&heap, &kt->hn, real_to_mono(kt->real_ns));
	}
	rearm_locked();
	kmutex_unlock(&timer_lock);
	kmutex_lock(&hooks_lock);
	list_for_each(pos, &hooks)
	{
		struct clockset_hook *h =
		    list_entry(pos, struct clockset_hook, node);
		h->fn(h);
	}
	kmutex_unlock(&hooks_lock);
}

static void *timer_main(void *arg)
{
	(void)arg;
	on_timer_thread = true;
	for (;;) {
		struct pollfd p[2] = {{.fd = tfd_mono, .events = POLLIN},
				      {.fd = tfd_rt, .events = POLLIN}};
		if (poll(p, 2, -1) < 0)
			continue;
		uint64_t n;
		if (p[1].revents) {
			if (read(tfd_rt, &n, sizeof(n)) < 0 &&
			    errno == ECANCELED) {
				arm_rt_watch();
				clock_was_set();
			}
		}
		if (p[0].revents) {
			ssize_t r = read(tfd_mono, &n, sizeof(n));
			(void)r;
		}
		kmutex_lock(&timer_lock);
		/* The fd is disarmed by its expiry (absolute, no interval). */
		armed_at = 0;
		uint64_t now = kernel_now_ns(CLOCK_MONOTONIC);
		struct heap_node *m;
		while ((m = heap_min(&heap)) && m->key <= now) {
			struct ktimer *kt = heap_entry(m, struct ktimer, hn);
			heap_pop(&heap);
			rt_forget(kt);
			kt->running = true;
			kmutex_unlock(&timer_lock);
			kt->fn(kt);
			kmutex_lock(&timer_lock);
			kt->running = false;
			pthread_cond_broadcast(&timer_done);
			now = kernel_now_ns(CLOCK_MONOTONIC);
		}
		rearm_locked();
		kmutex_unlock(&timer_lock);
	}
	return NULL;
}

int timer_init(void)
{
	heap_init(&heap);
	tfd_mono = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	tfd_rt = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (tfd_mono < 0 || tfd_rt < 0)
		return -errno;
	arm_rt_watch();
	pthread_t th;
	int r = pthread_create(&th, NULL, timer_main, NULL);
	if (r)
		return -r;
	pthread_detach(th);
	return 0;
}
