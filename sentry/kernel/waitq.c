#include "sentry/kernel/waitq.h"

#include "sentry/kernel/task.h"

void waitq_init(struct waitq *q)
{
	kmutex_init(&q->lock, "waitq", LR_WAITQ);
	list_init(&q->entries);
}

void waitq_add(struct waitq *q, struct wait_entry *e)
{
	kmutex_lock(&q->lock);
	e->q = q;
	/* Exclusive entries go last, so a wake-up reaches every ordinary
	 * waiter before it picks one exclusive waiter (Linux's order). */
	if (e->exclusive)
		list_add_tail(&e->node, &q->entries);
	else
		list_add(&e->node, &q->entries);
	kmutex_unlock(&q->lock);
}

void waitq_remove(struct wait_entry *e)
{
	struct waitq *q = e->q;
	if (!q)
		return;
	kmutex_lock(&q->lock);
	list_del(&e->node);
	e->q = NULL;
	kmutex_unlock(&q->lock);
}

void waitq_wake_nested(struct waitq *q, uint32_t events, int depth)
{
	kmutex_lock_nested(&q->lock, depth);
	struct list_head *pos, *n;
	list_for_each_safe(pos, n, &q->entries)
	{
		struct wait_entry *e = list_entry(pos, struct wait_entry, node);
		if (events && e->mask && !(e->mask & events))
			continue;
		if (e->fn(e, events, depth) && e->exclusive)
			break;
	}
	kmutex_unlock(&q->lock);
}

void waitq_wake(struct waitq *q, uint32_t events)
{
	waitq_wake_nested(q, events, 0);
}

bool waitq_active(struct waitq *q)
{
	kmutex_lock(&q->lock);
	bool r = !list_empty(&q->entries);
	kmutex_unlock(&q->lock);
	return r;
}

static bool wake_task_fn(struct wait_entry *e, uint32_t events, int depth)
{
	(void)events, (void)depth;
	task_wake(e->priv);
	return true;
}

void wait_entry_init_task(struct wait_entry *e, struct task *t, uint32_t mask)
{
	list_init(&e->node);
	e->q = NULL;
	e->fn = wake_task_fn;
	e->mask = mask;
	e->exclusive = false;
	e->priv = t;
}
