/* System V semaphores (Linux's ipc/sem.c, without its per-semaphore
 * queues): a semop applies all of its operations or none; one that cannot
 * go on waits on its set's queue, counted in semncnt/semzcnt of the
 * semaphore that stopped it, and retries whenever the set changes. SEM_UNDO
 * adjustments live per process (a hash by process) and are applied when
 * it exits. Everything is under the kind's lock (LR_IPC), which is never
 * held while guest memory is copied or while waiting. */
#include "sentry/ipc/sem.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <time.h>

#include "bulkhead/list.h"
#include "sentry/ipc/ipc.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/process.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/waitq.h"
#include "sentry/mm/usercopy.h"

#define SEM_R (S_IRUSR | S_IRGRP | S_IROTH)
#define SEM_A (S_IWUSR | S_IWGRP | S_IWOTH)

struct sem {
	int val, pid;
	int ncnt, zcnt; /* waiters for an increase / for zero */
};

struct sem_array {
	struct ipc_obj obj; /* first */
	int nsems;
	struct sem *sems;
	time_t otime, ctime;
	struct waitq wq;
	int refs; /* the registry + each waiter */
};

/* One process's adjustments to one set. */
struct sem_undo {
	struct list_head node; /* in sem_undo_list.undos */
	int semid, nsems;
	short adj[];
};

struct sem_undo_list {
	struct hnode hn; /* in undo_lists, by process */
	struct process *proc;
	struct list_head undos;
};

static struct ipc_ids sem_ids;
static struct htable undo_lists; /* sem_ids.lock */
static int sems_total;		 /* sem_ids.lock */
static bool sem_ready;

void sem_init(void)
{
	if (!sem_ready) {
		ipc_ids_init(&sem_ids, "ipc_sem");
		htable_init(&undo_lists, 4);
		sem_ready = true;
	}
}

static time_t now_s(void)
{
	return (time_t)(kernel_now_ns(CLOCK_REALTIME) / 1000000000ull);
}

static uint64_t proc_hash(const struct process *p)
{
	return (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ull;
}

static struct sem_undo_list *undo_list(struct process *p, bool make)
{
	uint64_t h = proc_hash(p);
	for (struct hnode *n = htable_first(&undo_lists, h); n;
	     n = htable_next(&undo_lists, n)) {
		struct sem_undo_list *l =
		    htable_entry(n, struct sem_undo_list, hn);
		if (l->proc == p)
			return l;
	}
	if (!make)
		return NULL;
	struct sem_undo_list *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->proc = p;
	list_init(&l->undos);
	htable_insert(&undo_lists, &l->hn, h);
	return l;
}

/* The process's adjustments to set sa, made if make. sem_ids.lock. */
static struct sem_undo *undo_of(struct process *p, struct sem_array *sa,
				bool make)
{
	struct sem_undo_list *l = undo_list(p, make);
	if (!l)
		return NULL;
	struct list_head *pos;
	list_for_each(pos, &l->undos)
	{
		struct sem_undo *u = list_entry(pos, struct sem_undo, node);
		if (u->semid == sa->obj.id)
			return u;
	}
	if (!make)
		return NULL;
	struct sem_undo *u =
	    calloc(1, sizeof(*u) + (size_t)sa->nsems * sizeof(short));
	if (!u)
		return NULL;
	u->semid = sa->obj.id;
	u->nsems = sa->nsems;
	list_add_tail(&u->node, &l->undos);
	return u;
}

/* SETVAL / SETALL: every process's adjustment of semnum (-1: all) in sa
 * goes back to 0, as Linux does. sem_ids.lock. */
static void undo_clear(struct sem_array *sa, int semnum)
{
	struct htable_iter it;
	for (struct hnode *n = htable_iter_first(&undo_lists, &it); n;
	     n = htable_iter_next(&undo_lists, &it)) {
		struct sem_undo_list *l =
		    htable_entry(n, struct sem_undo_list, hn);
		struct list_head *pos;
		list_for_each(pos, &l->undos)
		{
			struct sem_undo *u =
			    list_entry(pos, struct sem_undo, node);
			if (u->semid != sa->obj.id)
				continue;
			if (semnum < 0)
				memset(u->adj, 0,
				       (size_t)u->nsems * sizeof(short));
			else if (semnum < u->nsems)
				u->adj[semnum] = 0;
		}
	}
}

static void sa_put(struct sem_array *sa)
{
	if (--sa->refs > 0)
		return;
	sems_total -= sa->nsems;
	free(sa->sems);
	free(sa);
}

long sem_get(struct task *t, key_t key, int nsems, int flg)
{
	if (nsems < 0 || nsems > SEM_MSL)
		return -EINVAL;
	kmutex_lock(&sem_ids.lock);
	long r;
	struct ipc_obj *o =
	    key == IPC_PRIVATE ? NULL : ipc_find_key(&sem_ids, key);
	if (o) {
		if ((flg & IPC_CREAT) && (flg & IPC_EXCL))
			r = -EEXIST;
		else if (ipc_perms(t, o, flg))
			r = -EACCES;
		else if (nsems > ((struct sem_array *)o)->nsems)
			r = -EINVAL;
		else
			r = o->id;
		goto out;
	}
	if (key != IPC_PRIVATE && !(flg & IPC_CREAT)) {
		r = -ENOENT;
		goto out;
	}
	if (nsems == 0) {
		r = -EINVAL;
		goto out;
	}
	if (sems_total + nsems > SEM_MNS) {
		r = -ENOSPC;
		goto out;
	}
	struct sem_array *sa = calloc(1, sizeof(*sa));
	struct sem *s = calloc((size_t)nsems, sizeof(*s));
	if (!sa || !s) {
		free(sa);
		free(s);
		r = -ENOMEM;
		goto out;
	}
	sa->obj.key = key;
	sa->obj.mode = (uint32_t)flg & 0777u;
	sa->nsems = nsems;
	sa->sems = s;
	sa->ctime = now_s();
	sa->refs = 1;
	waitq_init(&sa->wq);
	r = ipc_add(&sem_ids, &sa->obj, t, SEM_MNI);
	if (r < 0) {
		free(s);
		free(sa);
	} else {
		sems_total += nsems;
	}
out:
	kmutex_unlock(&sem_ids.lock);
	return r;
}

/* Try all of sops on sa at once. 0: done; 1: it must wait (*block the
 * index of the operation that stopped it); -errno. sem_ids.lock. */
static int try_ops(struct sem_array *sa, struct sembuf *sops, size_t n,
		   struct sem_undo *u, int pid, size_t *block)
{
	size_t i;
	int err = 0;
	for (i = 0; i < n; i++) {
		struct sem *s = &sa->sems[sops[i].sem_num];
		int op = sops[i].sem_op;
		if (op == 0 && s->val != 0) {
			err = 1;
			break;
		}
		int v = s->val + op;
		if (v < 0) {
			err = 1;
			break;
		}
		if (v > SEM_VMX) {
			err = -ERANGE;
			break;
		}
		if ((sops[i].sem_flg & SEM_UNDO) && u) {
			int a = u->adj[sops[i].sem_num] - op;
			if (a < -SEM_VMX || a > SEM_VMX) {
				err = -ERANGE;
				break;
			}
		}
		s->val = v;
	}
	if (err) {
		if (err == 1)
			*block = i;
		/* Roll back what was applied, last first. */
		while (i-- > 0)
			sa->sems[sops[i].sem_num].val -= sops[i].sem_op;
		return err;
	}
	for (i = 0; i < n; i++) {
		sa->sems[sops[i].sem_num].pid = pid;
		if ((sops[i].sem_flg & SEM_UNDO) && u)
			u->adj[sops[i].sem_num] -= sops[i].sem_op;
	}
	sa->otime = now_s();
	return 0;
}

long sem_op(struct task *t, int id, uint64_t usops, size_t nsops,
	    const struct timespec *timeout)
{
	if (nsops < 1 || (ssize_t)nsops < 0)
		return -EINVAL;
	if (nsops > SEM_OPM)
		return -E2BIG;
	struct sembuf fast[16], *sops = fast;
	if (nsops > 16 && !(sops = malloc(nsops * sizeof(*sops))))
		return -ENOMEM;
	long r;
	if (copy_from_user(t, sops, usops, nsops * sizeof(*sops))) {
		r = -EFAULT;
		goto free_ops;
	}
	struct timespec deadline, *dl = NULL;
	if (timeout) {
		if (timeout->tv_sec < 0 || timeout->tv_nsec < 0 ||
		    timeout->tv_nsec >= 1000000000) {
			r = -EINVAL;
			goto free_ops;
		}
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += timeout->tv_sec;
		deadline.tv_nsec += timeout->tv_nsec;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
		dl = &deadline;
	}
	int maxnum = 0;
	bool alter = false, undo = false;
	for (size_t i = 0; i < nsops; i++) {
		if (sops[i].sem_num > maxnum)
			maxnum = sops[i].sem_num;
		alter |= sops[i].sem_op != 0;
		undo |= (sops[i].sem_flg & SEM_UNDO) != 0;
	}
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLIN);
	struct sem_array *held = NULL;
	struct sem *counted = NULL; /* whose ncnt/zcnt we raised */
	bool zero = false;
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		kmutex_lock(&sem_ids.lock);
		if (counted) {
			if (zero)
				counted->zcnt--;
			else
				counted->ncnt--;
			counted = NULL;
		}
		struct sem_array *sa =
		    (struct sem_array *)ipc_find_id(&sem_ids, id);
		if (held && held != sa) {
			r = held->obj.deleted ? -EIDRM : -EINVAL;
			break;
		}
		if (!sa) {
			r = -EINVAL;
			break;
		}
		if (maxnum >= sa->nsems) {
			r = -EFBIG;
			break;
		}
		if (ipc_perms(t, &sa->obj, alter ? SEM_A : SEM_R)) {
			r = -EACCES;
			break;
		}
		struct sem_undo *u = NULL;
		if (undo && !(u = undo_of(t->proc, sa, true))) {
			r = -ENOMEM;
			break;
		}
		size_t block = 0;
		int e = try_ops(sa, sops, nsops, u, t->proc->pid, &block);
		if (e <= 0) {
			r = e;
			if (e == 0 && alter)
				waitq_wake(&sa->wq, POLLIN);
			break;
		}
		if (sops[block].sem_flg & IPC_NOWAIT) {
			r = -EAGAIN;
			break;
		}
		if (!held) {
			held = sa;
			sa->refs++;
			waitq_add(&sa->wq, &we);
			kmutex_unlock(&sem_ids.lock);
			continue;
		}
		counted = &sa->sems[sops[block].sem_num];
		zero = sops[block].sem_op == 0;
		if (zero)
			counted->zcnt++;
		else
			counted->ncnt++;
		kmutex_unlock(&sem_ids.lock);
		int s = task_sleep(t, seq, dl, SLEEP_INTR);
		if (s == -EINTR || s == -ETIMEDOUT) {
			kmutex_lock(&sem_ids.lock);
			if (counted) {
				if (zero)
					counted->zcnt--;
				else
					counted->ncnt--;
			}
			counted = NULL;
			r = s == -EINTR ? -ERESTARTNOHAND : -EAGAIN;
			break;
		}
	}
	if (held) {
		waitq_remove(&we);
		sa_put(held);
	}
	kmutex_unlock(&sem_ids.lock);
free_ops:
	if (sops != fast)
		free(sops);
	return r;
}

void sem_exit(struct process *p)
{
	if (!sem_ready)
		return;
	kmutex_lock(&sem_ids.lock);
	struct sem_undo_list *l = undo_list(p, false);
	if (!l) {
		kmutex_unlock(&sem_ids.lock);
		return;
	}
	htable_remove(&undo_lists, &l->hn);
	struct list_head *pos, *n;
	list_for_each_safe(pos, n, &l->undos)
	{
		struct sem_undo *u = list_entry(pos, struct sem_undo, node);
		struct sem_array *sa =
		    (struct sem_array *)ipc_find_id(&sem_ids, u->semid);
		if (sa) {
			/* As Linux's exit_sem: clamped to [0, SEMVMX]. */
			for (int i = 0; i < u->nsems && i < sa->nsems; i++) {
				int v = sa->sems[i].val + u->adj[i];
				v = v < 0 ? 0 : v > SEM_VMX ? SEM_VMX : v;
				if (u->adj[i])
					sa->sems[i].pid = p->pid;
				sa->sems[i].val = v;
			}
			sa->otime = now_s();
			waitq_wake(&sa->wq, POLLIN);
		}
		list_del(&u->node);
		free(u);
	}
	free(l);
	kmutex_unlock(&sem_ids.lock);
}

static void fill_ds(const struct sem_array *sa, struct semid_ds *ds)
{
	memset(ds, 0, sizeof(*ds));
	ipc_fill_perm(&sa->obj, &ds->sem_perm);
	ds->sem_otime = sa->otime;
	ds->sem_ctime = sa->ctime;
	ds->sem_nsems = (unsigned long)sa->nsems;
}

long sem_ctl(struct task *t, int id, int semnum, int cmd, uint64_t arg)
{
	cmd &= ~0x100; /* IPC_64 */
	long r = 0;
	if (cmd == IPC_INFO || cmd == SEM_INFO) {
		struct seminfo si = {
		    .semmap = SEM_MNS,
		    .semmni = SEM_MNI,
		    .semmns = SEM_MNS,
		    .semmnu = SEM_MNS,
		    .semmsl = SEM_MSL,
		    .semopm = SEM_OPM,
		    .semume = SEM_OPM,
		    .semusz = 20,
		    .semvmx = SEM_VMX,
		    .semaem = SEM_VMX,
		};
		kmutex_lock(&sem_ids.lock);
		if (cmd == SEM_INFO) {
			si.semusz = sem_ids.in_use;
			si.semaem = sems_total;
		}
		r = sem_ids.max_idx < 0 ? 0 : sem_ids.max_idx;
		kmutex_unlock(&sem_ids.lock);
		if (copy_to_user(t, arg, &si, sizeof(si)))
			return -EFAULT;
		return r;
	}
	if (cmd == IPC_STAT || cmd == SEM_STAT || cmd == SEM_STAT_ANY) {
		struct semid_ds ds;
		kmutex_lock(&sem_ids.lock);
		struct sem_array *sa =
		    (struct sem_array *)(cmd == IPC_STAT
					     ? ipc_find_id(&sem_ids, id)
					     : ipc_find_idx(&sem_ids, id));
		if (!sa)
			r = -EINVAL;
		else if (cmd != SEM_STAT_ANY && ipc_perms(t, &sa->obj, SEM_R))
			r = -EACCES;
		else {
			fill_ds(sa, &ds);
			r = cmd == IPC_STAT ? 0 : sa->obj.id;
		}
		kmutex_unlock(&sem_ids.lock);
		if (r >= 0 && copy_to_user(t, arg, &ds, sizeof(ds)))
			return -EFAULT;
		return r;
	}
	/* What comes in from the guest, copied before the lock. */
	struct semid_ds in;
	unsigned short *vals = NULL;
	int nvals = 0;
	if (cmd == IPC_SET && copy_from_user(t, &in, arg, sizeof(in)))
		return -EFAULT;
	if (cmd == GETALL || cmd == SETALL) {
		kmutex_lock(&sem_ids.lock);
		struct sem_array *sa =
		    (struct sem_array *)ipc_find_id(&sem_ids, id);
		nvals = sa ? sa->nsems : 0;
		kmutex_unlock(&sem_ids.lock);
		if (!nvals)
			return -EINVAL;
		vals = calloc((size_t)nvals, sizeof(*vals));
		if (!vals)
			return -ENOMEM;
		if (cmd == SETALL &&
		    copy_from_user(t, vals, arg,
				   (size_t)nvals * sizeof(*vals))) {
			free(vals);
			return -EFAULT;
		}
	}
	kmutex_lock(&sem_ids.lock);
	struct sem_array *sa = (struct sem_array *)ipc_find_id(&sem_ids, id);
	bool one = cmd == GETVAL || cmd == SETVAL || cmd == GETPID ||
		   cmd == GETNCNT || cmd == GETZCNT;
	if (!sa) {
		r = -EINVAL;
		goto out;
	}
	if (one && (semnum < 0 || semnum >= sa->nsems)) {
		r = -EINVAL;
		goto out;
	}
	switch (cmd) {
	case GETVAL:
	case GETPID:
	case GETNCNT:
	case GETZCNT:
	case GETALL:
		if (ipc_perms(t, &sa->obj, SEM_R)) {
			r = -EACCES;
			break;
		}
		if (cmd == GETALL) {
			/* Same set, same size: nvals was read from it. */
			for (int i = 0; i < nvals && i < sa->nsems; i++)
				vals[i] = (unsigned short)sa->sems[i].val;
			break;
		}
		struct sem *s = &sa->sems[semnum];
		r = cmd == GETVAL    ? s->val
		    : cmd == GETPID  ? s->pid
		    : cmd == GETNCNT ? s->ncnt
				     : s->zcnt;
		break;
	case SETVAL:
	case SETALL: {
		if (ipc_perms(t, &sa->obj, SEM_A)) {
			r = -EACCES;
			break;
		}
		int v = (int)arg;
		if (cmd == SETVAL && (v < 0 || v > SEM_VMX)) {
			r = -ERANGE;
			break;
		}
		if (cmd == SETALL) {
			if (nvals != sa->nsems) {
				r = -EIDRM; /* replaced meanwhile */
				break;
			}
			for (int i = 0; i < nvals; i++)
				if (vals[i] > SEM_VMX)
					r = -ERANGE;
			if (r)
				break;
			for (int i = 0; i < nvals; i++) {
				sa->sems[i].val = vals[i];
				sa->sems[i].pid = t->proc->pid;
			}
			undo_clear(sa, -1);
		} else {
			sa->sems[semnum].val = v;
			sa->sems[semnum].pid = t->proc->pid;
			undo_clear(sa, semnum);
		}
		sa->ctime = now_s();
		waitq_wake(&sa->wq, POLLIN);
		break;
	}
	case IPC_SET:
		if (ipc_owner_check(t, &sa->obj)) {
			r = -EPERM;
			break;
		}
		ipc_set_perm(&sa->obj, &in.sem_perm);
		sa->ctime = now_s();
		break;
	case IPC_RMID:
		if (ipc_owner_check(t, &sa->obj)) {
			r = -EPERM;
			break;
		}
		ipc_remove(&sem_ids, &sa->obj);
		waitq_wake_all(&sa->wq);
		sa_put(sa);
		break;
	default:
		r = -EINVAL;
	}
out:
	kmutex_unlock(&sem_ids.lock);
	if (cmd == GETALL && r == 0 &&
	    copy_to_user(t, arg, vals, (size_t)nvals * sizeof(*vals)))
		r = -EFAULT;
	free(vals);
	return r;
}
