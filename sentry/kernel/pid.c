#include "sentry/kernel/pid.h"

#include <errno.h>
#include <stdlib.h>

#include "sentry/kernel/task.h"

static struct htable pids; /* struct kpid by nr */
static int last_pid;

int pid_init(void)
{
	return htable_init(&pids, 8);
}

struct kpid *pid_lookup(int nr)
{
	uint64_t h = hash_u64((uint64_t)(unsigned)nr);
	for (struct hnode *n = htable_first(&pids, h); n;
	     n = htable_next(&pids, n)) {
		struct kpid *k = htable_entry(n, struct kpid, hn);
		if (k->nr == nr)
			return k;
	}
	return NULL;
}

static struct kpid *kpid_new(int nr)
{
	struct kpid *k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->nr = nr;
	list_init(&k->pgrp);
	list_init(&k->session);
	htable_insert(&pids, &k->hn, hash_u64((uint64_t)(unsigned)nr));
	return k;
}

static void kpid_maybe_free(struct kpid *k)
{
	if (k->reserved || k->pins || k->task || k->proc ||
	    !list_empty(&k->pgrp) || !list_empty(&k->session))
		return;
	htable_remove(&pids, &k->hn);
	free(k);
}

int pid_alloc(void)
{
	for (int i = 0; i < PID_MAX; i++) {
		int nr = last_pid + 1;
		if (nr >= PID_MAX)
			nr = 2; /* like Linux, skip the low pids on wrap */
		last_pid = nr;
		if (pid_lookup(nr))
			continue;
		struct kpid *k = kpid_new(nr);
		if (!k)
			return -ENOMEM;
		k->reserved = true;
		return nr;
	}
	return -EAGAIN;
}

void pid_unreserve(int nr)
{
	struct kpid *k = pid_lookup(nr);
	if (!k)
		return;
	k->reserved = false;
	kpid_maybe_free(k);
}

/* The entry for nr, made if need be (boot's pid 1 is never allocated). */
static struct kpid *kpid_get(int nr)
{
	struct kpid *k = pid_lookup(nr);
	if (!k)
		k = kpid_new(nr);
	if (k)
		k->reserved = false;
	return k;
}

void pid_attach_task(struct task *t, int nr)
{
	struct kpid *k = kpid_get(nr);
	if (!k)
		abort(); /* the number was reserved: it exists */
	k->task = t;
	t->tid = nr;
}

void pid_detach_task(struct task *t)
{
	struct kpid *k = pid_lookup(t->tid);
	if (k && k->task == t) {
		k->task = NULL;
		kpid_maybe_free(k);
	}
}

void pid_attach_process(struct process *p)
{
	struct kpid *k = kpid_get(p->pid);
	if (!k)
		abort();
	k->proc = p;
}

void pid_detach_process(struct process *p)
{
	struct kpid *k = pid_lookup(p->pid);
	if (k && k->proc == p) {
		k->proc = NULL;
		kpid_maybe_free(k);
	}
}

static void leave(struct list_head *node, int nr)
{
	if (list_empty(node))
		return;
	list_del(node);
	struct kpid *k = pid_lookup(nr);
	if (k)
		kpid_maybe_free(k);
}

void pid_set_pgid(struct process *p, int pgid)
{
	struct kpid *k = kpid_get(pgid);
	if (!k)
		abort();
	leave(&p->pgrp_node, p->pgid);
	p->pgid = pgid;
	list_add_tail(&p->pgrp_node, &k->pgrp);
}

void pid_set_sid(struct process *p, int sid)
{
	struct kpid *k = kpid_get(sid);
	if (!k)
		abort();
	leave(&p->session_node, p->sid);
	p->sid = sid;
	list_add_tail(&p->session_node, &k->session);
}

void pid_leave_groups(struct process *p)
{
	leave(&p->pgrp_node, p->pgid);
	leave(&p->session_node, p->sid);
}

void pid_pin(int nr)
{
	struct kpid *k = pid_lookup(nr);
	if (k)
		k->pins++;
}

void pid_unpin(int nr)
{
	struct kpid *k = pid_lookup(nr);
	if (k && k->pins > 0) {
		k->pins--;
		kpid_maybe_free(k);
	}
}

struct task *pid_task(int nr)
{
	struct kpid *k = pid_lookup(nr);
	return k ? k->task : NULL;
}

struct process *pid_process(int nr)
{
	struct kpid *k = pid_lookup(nr);
	return k && k->proc && k->proc->state != PROC_DEAD ? k->proc : NULL;
}

struct list_head *pid_pgrp(int pgid)
{
	struct kpid *k = pid_lookup(pgid);
	return k && !list_empty(&k->pgrp) ? &k->pgrp : NULL;
}

struct list_head *pid_session(int sid)
{
	struct kpid *k = pid_lookup(sid);
	return k && !list_empty(&k->session) ? &k->session : NULL;
}

int pid_last(void)
{
	return last_pid;
}
