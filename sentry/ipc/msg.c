/* System V message queues (Linux's ipc/msg.c). Messages are copied in
 * before the queue's lock is taken and out after it is dropped; senders
 * and receivers that must wait sleep on the queue's wait queue holding a
 * reference, so a queue removed under them (EIDRM) is freed by the last. */
#include "sentry/ipc/msg.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/msg.h>
#include <sys/stat.h>
#include <time.h>

#include "sentry/ipc/ipc.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/waitq.h"
#include "sentry/mm/usercopy.h"

#define CAP_SYS_RESOURCE 24
#ifndef MSG_COPY
#define MSG_COPY 040000
#endif
/* All the sandbox's queued messages together: the sentry holds them, and
 * msgmni x msgmnb would be 500 MiB. Past it, senders wait as on a full
 * queue. */
#define MSG_TOTAL_MAX (64u << 20)

struct msg_msg {
	struct list_head node;
	long mtype;
	size_t len;
	char data[];
};

struct msg_queue {
	struct ipc_obj obj; /* first: the registry holds &obj */
	struct list_head messages;
	size_t qbytes, cbytes, qnum;
	int lspid, lrpid;
	time_t stime, rtime, ctime;
	struct waitq wq; /* senders and receivers; woken on every change */
	int refs;	 /* the registry + each waiter */
};

static struct ipc_ids msg_ids;
static size_t msg_total; /* msg_ids.lock: bytes queued in all */
static size_t msg_count; /* msg_ids.lock: messages queued in all */
static bool msg_ready;

void msg_init(void)
{
	if (!msg_ready) {
		ipc_ids_init(&msg_ids, "ipc_msg");
		msg_ready = true;
	}
}

static time_t now_s(void)
{
	return (time_t)(kernel_now_ns(CLOCK_REALTIME) / 1000000000ull);
}

/* msg_ids.lock held: drop a reference, freeing a removed queue. */
static void q_put(struct msg_queue *q)
{
	if (--q->refs > 0)
		return;
	struct list_head *pos, *n;
	list_for_each_safe(pos, n, &q->messages)
	{
		struct msg_msg *m = list_entry(pos, struct msg_msg, node);
		msg_total -= m->len;
		msg_count--;
		free(m);
	}
	free(q);
}

long msg_get(struct task *t, key_t key, int flg)
{
	kmutex_lock(&msg_ids.lock);
	long r;
	struct ipc_obj *o =
	    key == IPC_PRIVATE ? NULL : ipc_find_key(&msg_ids, key);
	if (o) {
		if ((flg & IPC_CREAT) && (flg & IPC_EXCL))
			r = -EEXIST;
		else
			r = ipc_perms(t, o, flg) ? -EACCES : o->id;
		goto out;
	}
	if (key != IPC_PRIVATE && !(flg & IPC_CREAT)) {
		r = -ENOENT;
		goto out;
	}
	struct msg_queue *q = calloc(1, sizeof(*q));
	if (!q) {
		r = -ENOMEM;
		goto out;
	}
	q->obj.key = key;
	q->obj.mode = (uint32_t)flg & 0777u;
	list_init(&q->messages);
	waitq_init(&q->wq);
	q->qbytes = MSG_MNB;
	q->ctime = now_s();
	q->refs = 1;
	r = ipc_add(&msg_ids, &q->obj, t, MSG_MNI);
	if (r < 0)
		free(q);
out:
	kmutex_unlock(&msg_ids.lock);
	return r;
}

static bool fits(const struct msg_queue *q, size_t len)
{
	return len + q->cbytes <= q->qbytes && q->qnum + 1 <= q->qbytes &&
	       msg_total + len <= MSG_TOTAL_MAX;
}

/* msg_ids.lock held: queue id for t with perm, or NULL with *r set. A
 * waiter (held) whose queue went away learns it: EIDRM. */
static struct msg_queue *q_lookup(struct task *t, int id,
				  struct msg_queue *held, int perm, long *r)
{
	struct msg_queue *q = (struct msg_queue *)ipc_find_id(&msg_ids, id);
	if (held && held != q) {
		*r = held->obj.deleted ? -EIDRM : -EINVAL;
		return NULL;
	}
	if (!q) {
		*r = -EINVAL;
		return NULL;
	}
	if (ipc_perms(t, &q->obj, perm)) {
		*r = -EACCES;
		return NULL;
	}
	return q;
}

/* msg_ids.lock held, q cannot serve the call now: register on q's queue
 * (holding a reference) and look again, or sleep; with the lock held
 * again on return. false: stop with *r (IPC_NOWAIT's nowait_err, or a
 * signal's ERESTARTNOHAND). */
static bool q_wait(struct task *t, struct msg_queue *q, struct msg_queue **held,
		   struct wait_entry *we, uint32_t seq, int flg,
		   long nowait_err, long *r)
{
	if (flg & IPC_NOWAIT) {
		*r = nowait_err;
		return false;
	}
	if (!*held) {
		*held = q;
		q->refs++;
		waitq_add(&q->wq, we);
		return true;
	}
	kmutex_unlock(&msg_ids.lock);
	int s = task_sleep(t, seq, NULL, SLEEP_INTR);
	kmutex_lock(&msg_ids.lock);
	if (s == -EINTR) {
		*r = -ERESTARTNOHAND;
		return false;
	}
	return true;
}

long msg_snd(struct task *t, int id, uint64_t uaddr, size_t len, int flg)
{
	if (len > MSG_MAX || (ssize_t)len < 0)
		return -EINVAL;
	long mtype;
	if (copy_from_user(t, &mtype, uaddr, sizeof(mtype)))
		return -EFAULT;
	if (mtype < 1)
		return -EINVAL;
	struct msg_msg *m = malloc(sizeof(*m) + len);
	if (!m)
		return -ENOMEM;
	m->mtype = mtype;
	m->len = len;
	if (len && copy_from_user(t, m->data, uaddr + sizeof(long), len)) {
		free(m);
		return -EFAULT;
	}
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLOUT);
	struct msg_queue *held = NULL; /* a reference while we wait */
	long r;
	kmutex_lock(&msg_ids.lock);
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		struct msg_queue *q =
		    q_lookup(t, id, held, S_IWUSR | S_IWGRP | S_IWOTH, &r);
		if (!q)
			break;
		if (fits(q, len)) {
			list_add_tail(&m->node, &q->messages);
			m = NULL;
			q->cbytes += len;
			q->qnum++;
			msg_total += len;
			msg_count++;
			q->lspid = t->proc->pid;
			q->stime = now_s();
			waitq_wake(&q->wq, POLLIN);
			r = 0;
			break;
		}
		if (!q_wait(t, q, &held, &we, seq, flg, -EAGAIN, &r))
			break;
	}
	if (held) {
		waitq_remove(&we);
		q_put(held);
	}
	kmutex_unlock(&msg_ids.lock);
	free(m);
	return r;
}

/* The message msgrcv takes (msg_ids.lock held), or NULL. */
static struct msg_msg *pick(struct msg_queue *q, long msgtyp, int flg)
{
	struct msg_msg *best = NULL;
	long n = 0;
	struct list_head *pos;
	list_for_each(pos, &q->messages)
	{
		struct msg_msg *m = list_entry(pos, struct msg_msg, node);
		if (flg & MSG_COPY) {
			if (n++ == msgtyp)
				return m;
		} else if (msgtyp == 0) {
			return m;
		} else if (msgtyp > 0) {
			if ((flg & MSG_EXCEPT) ? m->mtype != msgtyp
					       : m->mtype == msgtyp)
				return m;
		} else if (m->mtype <= -msgtyp &&
			   (!best || m->mtype < best->mtype)) {
			best = m;
			if (best->mtype == 1)
				break; /* nothing lower */
		}
	}
	return best;
}

long msg_rcv(struct task *t, int id, uint64_t uaddr, size_t bufsz, long msgtyp,
	     int flg)
{
	if ((ssize_t)bufsz < 0)
		return -EINVAL;
	if (flg & MSG_COPY) {
		/* As Linux: a copy by index, never waiting. */
		if (!(flg & IPC_NOWAIT) || (flg & MSG_EXCEPT) || msgtyp < 0)
			return -EINVAL;
	}
	struct wait_entry we;
	wait_entry_init_task(&we, t, POLLIN);
	struct msg_queue *held = NULL;
	struct msg_msg *got = NULL;
	long r;
	kmutex_lock(&msg_ids.lock);
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		struct msg_queue *q =
		    q_lookup(t, id, held, S_IRUSR | S_IRGRP | S_IROTH, &r);
		if (!q)
			break;
		struct msg_msg *m = pick(q, msgtyp, flg);
		if (m) {
			if (m->len > bufsz && !(flg & MSG_NOERROR)) {
				r = -E2BIG;
				break;
			}
			if (flg & MSG_COPY) {
				got = malloc(sizeof(*got) + m->len);
				if (!got) {
					r = -ENOMEM;
					break;
				}
				memcpy(got, m, sizeof(*got) + m->len);
			} else {
				list_del(&m->node);
				q->cbytes -= m->len;
				q->qnum--;
				msg_total -= m->len;
				msg_count--;
				q->lrpid = t->proc->pid;
				q->rtime = now_s();
				waitq_wake(&q->wq, POLLOUT);
				got = m;
			}
			r = 0;
			break;
		}
		if (!q_wait(t, q, &held, &we, seq, flg, -ENOMSG, &r))
			break;
	}
	if (held) {
		waitq_remove(&we);
		q_put(held);
	}
	kmutex_unlock(&msg_ids.lock);
	if (!got)
		return r;
	/* Out after the lock: a fault loses the message, as on Linux. */
	size_t n = got->len < bufsz ? got->len : bufsz;
	if (copy_to_user(t, uaddr, &got->mtype, sizeof(long)) ||
	    (n && copy_to_user(t, uaddr + sizeof(long), got->data, n)))
		r = -EFAULT;
	else
		r = (long)n;
	free(got);
	return r;
}

static void fill_ds(const struct msg_queue *q, struct msqid_ds *ds)
{
	memset(ds, 0, sizeof(*ds));
	ipc_fill_perm(&q->obj, &ds->msg_perm);
	ds->msg_stime = q->stime;
	ds->msg_rtime = q->rtime;
	ds->msg_ctime = q->ctime;
	ds->__msg_cbytes = q->cbytes;
	ds->msg_qnum = q->qnum;
	ds->msg_qbytes = q->qbytes;
	ds->msg_lspid = q->lspid;
	ds->msg_lrpid = q->lrpid;
}

long msg_ctl(struct task *t, int id, int cmd, uint64_t ubuf)
{
	cmd &= ~0x100; /* IPC_64: the only layout there is */
	long r = 0;
	if (cmd == IPC_INFO || cmd == MSG_INFO) {
		struct msginfo mi = {
		    .msgmax = MSG_MAX,
		    .msgmnb = MSG_MNB,
		    .msgmni = MSG_MNI,
		    .msgssz = 16,
		    .msgseg = 0xffff,
		    .msgpool = MSG_MNI * MSG_MNB / 1024,
		    .msgmap = MSG_MNB,
		    .msgtql = MSG_MNB,
		};
		kmutex_lock(&msg_ids.lock);
		if (cmd == MSG_INFO) {
			mi.msgpool = msg_ids.in_use;
			mi.msgmap = (int)msg_count;
			mi.msgtql = (int)msg_total;
		}
		r = msg_ids.max_idx < 0 ? 0 : msg_ids.max_idx;
		kmutex_unlock(&msg_ids.lock);
		if (copy_to_user(t, ubuf, &mi, sizeof(mi)))
			return -EFAULT;
		return r;
	}
	if (cmd == IPC_STAT || cmd == MSG_STAT || cmd == MSG_STAT_ANY) {
		struct msqid_ds ds;
		kmutex_lock(&msg_ids.lock);
		struct msg_queue *q =
		    (struct msg_queue *)(cmd == IPC_STAT
					     ? ipc_find_id(&msg_ids, id)
					     : ipc_find_idx(&msg_ids, id));
		if (!q)
			r = -EINVAL;
		else if (cmd != MSG_STAT_ANY &&
			 ipc_perms(t, &q->obj, S_IRUSR | S_IRGRP | S_IROTH))
			r = -EACCES;
		else {
			fill_ds(q, &ds);
			r = cmd == IPC_STAT ? 0 : q->obj.id;
		}
		kmutex_unlock(&msg_ids.lock);
		if (r >= 0 && copy_to_user(t, ubuf, &ds, sizeof(ds)))
			return -EFAULT;
		return r;
	}
	struct msqid_ds in;
	if (cmd == IPC_SET && copy_from_user(t, &in, ubuf, sizeof(in)))
		return -EFAULT;
	if (cmd != IPC_SET && cmd != IPC_RMID)
		return -EINVAL;
	kmutex_lock(&msg_ids.lock);
	struct msg_queue *q = (struct msg_queue *)ipc_find_id(&msg_ids, id);
	if (!q)
		r = -EINVAL;
	else if (ipc_owner_check(t, &q->obj))
		r = -EPERM;
	else if (cmd == IPC_RMID) {
		ipc_remove(&msg_ids, &q->obj);
		waitq_wake_all(&q->wq);
		q_put(q);
	} else if (in.msg_qbytes > MSG_MNB &&
		   !cred_capable(&t->cred, CAP_SYS_RESOURCE)) {
		r = -EPERM;
	} else {
		ipc_set_perm(&q->obj, &in.msg_perm);
		q->qbytes = in.msg_qbytes;
		q->ctime = now_s();
		waitq_wake_all(&q->wq); /* senders may fit now */
	}
	kmutex_unlock(&msg_ids.lock);
	return r;
}
