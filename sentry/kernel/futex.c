#include "sentry/kernel/futex.h"

#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "bulkhead/htable.h"
#include "sentry/kernel/lock.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/usercopy.h"
#include "sentry/mm/vma.h"
#include "sentry/vfs/fs.h"

#define FUTEX_BUCKETS	  256 /* a power of two */
#define ROBUST_LIST_LIMIT 2048
#ifndef FUTEX_LOCK_PI2
#define FUTEX_LOCK_PI2 13
#endif

/* KEY_MM: a shared-op futex on a private mapping, keyed by address space
 * and address like KEY_PRIVATE but apart from it (Linux's FUT_OFF_MMSHARED):
 * FUTEX_WAKE_PRIVATE never wakes a plain FUTEX_WAIT, nor the reverse. */
enum key_kind { KEY_PRIVATE = 1, KEY_MM, KEY_FILE, KEY_SHMEM };

struct futex_key {
	uint64_t kind, a, b, off;
};

struct futex_q {
	struct list_head node;	     /* in bucket->waiters */
	struct futex_bucket *bucket; /* where it is now (requeue moves it) */
	struct futex_key key;
	uint32_t bitset;
	struct task *t;
	bool woken; /* taken off the bucket by a waker */
	bool pi;    /* waits in FUTEX_LOCK_PI */
	int index;  /* futex_waitv: which futex it waits on */
	int *woke;  /* futex_waitv: where to say which one woke */
};

struct futex_bucket {
	struct kmutex lock;
	struct list_head waiters;
};

static struct futex_bucket buckets[FUTEX_BUCKETS];
static pthread_once_t buckets_once = PTHREAD_ONCE_INIT;
/* PI words change under it: each change is a stub op, so it is a sleep
 * lock, serializing only the sandbox's PI lock and unlock slow paths. */
static struct kmutex pi_lock = KMUTEX_INITIALIZER("futex_pi", LR_FUTEX_PI);

static void buckets_init(void)
{
	for (int i = 0; i < FUTEX_BUCKETS; i++) {
		kmutex_init(&buckets[i].lock, "futex", LR_FUTEX);
		list_init(&buckets[i].waiters);
	}
}

static struct futex_bucket *bucket_of(const struct futex_key *k)
{
	pthread_once(&buckets_once, buckets_init);
	uint64_t h = hash_u64(k->kind ^ (k->a * 0x9e3779b97f4a7c15ull) ^
			      (k->b * 0xc2b2ae3d27d4eb4full) ^ k->off);
	return &buckets[h & (FUTEX_BUCKETS - 1)];
}

static bool key_eq(const struct futex_key *x, const struct futex_key *y)
{
	return x->kind == y->kind && x->a == y->a && x->b == y->b &&
	       x->off == y->off;
}

/* Linux's get_futex_key: private futexes and private mappings by address
 * space and address; shared mappings by what they map. */
static int get_key(struct task *t, uint64_t uaddr, bool private,
		   struct futex_key *k)
{
	if (uaddr & 3)
		return -EINVAL;
	/* Linux's access_ok, for every key. */
	if (uaddr > GUEST_TASK_SIZE - sizeof(uint32_t))
		return -EFAULT;
	struct mm *mm = t->proc->mm;
	memset(k, 0, sizeof(*k));
	k->kind = KEY_PRIVATE;
	k->a = (uint64_t)(uintptr_t)mm;
	k->off = uaddr;
	if (private)
		return 0;
	k->kind = KEY_MM;
	mm_lock(mm);
	struct vma *v = vma_find(mm, uaddr);
	int r = 0;
	if (!v || v->start > uaddr || !(v->prot & PROT_READ)) {
		/* A shared key needs the page itself (Linux pins it):
		 * unmapped or PROT_NONE memory is EFAULT. */
		r = -EFAULT;
	} else if (v->flags & MAP_SHARED) {
		uint64_t off = v->pgoff + (uaddr - v->start);
		if (v->file) {
			struct inode *i = v->file->inode;
			k->kind = KEY_FILE;
			k->a = i->sb ? i->sb->dev : 0;
			k->b = i->ino;
			k->off = off;
		} else if (v->shm_id) {
			k->kind = KEY_SHMEM;
			k->a = v->shm_id;
			k->off = off;
		}
	}
	mm_unlock(mm);
	return r;
}

static void q_init(struct futex_q *q, struct task *t, const struct futex_key *k,
		   uint32_t bitset)
{
	memset(q, 0, sizeof(*q));
	list_init(&q->node);
	q->key = *k;
	q->bitset = bitset;
	q->t = t;
}

static void q_enqueue(struct futex_q *q)
{
	struct futex_bucket *b = bucket_of(&q->key);
	kmutex_lock(&b->lock);
	q->bucket = b;
	list_add_tail(&q->node, &b->waiters);
	kmutex_unlock(&b->lock);
}

/* Lock the bucket q is in now (a requeue may move it meanwhile). */
static struct futex_bucket *q_lock(struct futex_q *q)
{
	for (;;) {
		struct futex_bucket *b =
		    __atomic_load_n(&q->bucket, __ATOMIC_ACQUIRE);
		kmutex_lock(&b->lock);
		if (b == __atomic_load_n(&q->bucket, __ATOMIC_ACQUIRE))
			return b;
		kmutex_unlock(&b->lock);
	}
}

/* Off its bucket unless a waker took it; returns whether it was woken. */
static bool q_dequeue(struct futex_q *q)
{
	struct futex_bucket *b = q_lock(q);
	bool woken = q->woken;
	if (!woken)
		list_del(&q->node);
	kmutex_unlock(&b->lock);
	return woken;
}

static bool q_is_woken(struct futex_q *q)
{
	struct futex_bucket *b = q_lock(q);
	bool w = q->woken;
	kmutex_unlock(&b->lock);
	return w;
}

/* Take q off (bucket locked) and wake its task. */
static void q_wake(struct futex_q *q)
{
	list_del(&q->node);
	list_init(&q->node);
	if (q->woke)
		*q->woke = q->index;
	q->woken = true;
	task_wake(q->t);
}

static int wake_key(const struct futex_key *k, int n, uint32_t bitset, bool pi)
{
	struct futex_bucket *b = bucket_of(k);
	int woken = 0;
	kmutex_lock(&b->lock);
	struct list_head *pos, *nx;
	list_for_each_safe(pos, nx, &b->waiters)
	{
		if (woken >= n)
			break;
		struct futex_q *q = list_entry(pos, struct futex_q, node);
		if (!key_eq(&q->key, k) || q->pi != pi || !(q->bitset & bitset))
			continue;
		q_wake(q);
		woken++;
	}
	kmutex_unlock(&b->lock);
	return woken;
}

/* Sleep on q until woken, the deadline or a signal. 0 when woken, else
 * -ETIMEDOUT or -ERESTARTSYS (after taking q off). */
static int q_sleep(struct task *t, struct futex_q *q,
		   const struct timespec *deadline)
{
	for (;;) {
		uint32_t seq = task_wake_seq(t);
		if (q_is_woken(q))
			return 0;
		int r = task_sleep(t, seq, deadline, SLEEP_INTR);
		if (r == 0)
			continue;
		if (q_dequeue(q))
			return 0; /* a wake won the race: it counts */
		return r == -EINTR ? -ERESTARTSYS : r;
	}
}

static int futex_wait(struct task *t, uint64_t uaddr, bool private,
		      uint32_t val, const struct timespec *deadline,
		      uint32_t bitset)
{
	struct futex_key k;
	int r = get_key(t, uaddr, private, &k);
	if (r)
		return r;
	struct futex_q q;
	q_init(&q, t, &k, bitset);
	q_enqueue(&q);
	uint32_t cur;
	if (copy_from_user(t, &cur, uaddr, sizeof(cur)) < 0) {
		q_dequeue(&q);
		return -EFAULT;
	}
	if (cur != val)
		return q_dequeue(&q) ? 0 : -EAGAIN;
	return q_sleep(t, &q, deadline);
}

static int futex_wake(struct task *t, uint64_t uaddr, bool private, int n,
		      uint32_t bitset)
{
	struct futex_key k;
	int r = get_key(t, uaddr, private, &k);
	if (r)
		return r;
	return wake_key(&k, n, bitset, false);
}

int futex_wake_addr(struct task *t, uint64_t uaddr, int n)
{
	int r = futex_wake(t, uaddr, false, n, FUTEX_BITSET_ALL);
	return r < 0 ? 0 : r;
}

/* Lock two buckets in address order (the second one level deeper). */
static void lock2(struct futex_bucket *a, struct futex_bucket *b)
{
	if (a == b) {
		kmutex_lock(&a->lock);
	} else if (a < b) {
		kmutex_lock(&a->lock);
		kmutex_lock_nested(&b->lock, 1);
	} else {
		kmutex_lock(&b->lock);
		kmutex_lock_nested(&a->lock, 1);
	}
}

static void unlock2(struct futex_bucket *a, struct futex_bucket *b)
{
	kmutex_unlock(&a->lock);
	if (a != b)
		kmutex_unlock(&b->lock);
}

static long futex_requeue(struct task *t, uint64_t uaddr, uint64_t uaddr2,
			  bool private, int nwake, int nmove, bool cmp,
			  uint32_t val3)
{
	if (nwake < 0 || nmove < 0)
		return -EINVAL;
	struct futex_key k1, k2;
	int r = get_key(t, uaddr, private, &k1);
	if (!r)
		r = get_key(t, uaddr2, private, &k2);
	if (r)
		return r;
	if (cmp) {
		uint32_t cur;
		if (copy_from_user(t, &cur, uaddr, 4) < 0)
			return -EFAULT;
		if (cur != val3)
			return -EAGAIN;
	}
	struct futex_bucket *b1 = bucket_of(&k1), *b2 = bucket_of(&k2);
	int woken = 0, moved = 0;
	lock2(b1, b2);
	struct list_head *pos, *nx;
	list_for_each_safe(pos, nx, &b1->waiters)
	{
		struct futex_q *q = list_entry(pos, struct futex_q, node);
		if (!key_eq(&q->key, &k1) || q->pi)
			continue;
		if (woken < nwake) {
			q_wake(q);
			woken++;
		} else if (moved < nmove) {
			list_del(&q->node);
			q->key = k2;
			list_add_tail(&q->node, &b2->waiters);
			__atomic_store_n(&q->bucket, b2, __ATOMIC_RELEASE);
			moved++;
		} else {
			break;
		}
	}
	unlock2(b1, b2);
	/* Both forms count the waiters woken and moved (the kernel does,
	 * whatever futex(2) says of FUTEX_REQUEUE). */
	return woken + moved;
}

/* FUTEX_WAKE_OP: *uaddr2 = op(*uaddr2) atomically, wake on uaddr, and on
 * uaddr2 too if the old value passes the comparison. */
static long futex_wake_op(struct task *t, uint64_t uaddr, uint64_t uaddr2,
			  bool private, int nwake, int nwake2, uint32_t encoded)
{
	int op = (int)((encoded >> 28) & 7);
	int cmp = (int)((encoded >> 24) & 15);
	int oparg = (int)(encoded << 8) >> 20; /* signed 12 bits */
	int cmparg = (int)(encoded << 20) >> 20;
	if (encoded & ((uint32_t)FUTEX_OP_OPARG_SHIFT << 28)) {
		if (oparg < 0 || oparg > 31)
			return -EINVAL; /* as Linux (it also warns) */
		oparg = (int)(1u << oparg);
	}
	if (op > FUTEX_OP_XOR)
		return -ENOSYS;
	struct futex_key k1, k2;
	int r = get_key(t, uaddr, private, &k1);
	if (!r)
		r = get_key(t, uaddr2, private, &k2);
	if (r)
		return r;
	uint32_t old;
	r = user_atomic32(t, uaddr2, op, (uint32_t)oparg, 0, &old);
	if (r)
		return r;
	/* An unknown comparison fails only after the op was done, as in
	 * Linux's futex_atomic_op_inuser. */
	if (cmp > FUTEX_OP_CMP_GE)
		return -ENOSYS;
	int o = (int)old;
	bool pass;
	switch (cmp) {
	case FUTEX_OP_CMP_EQ:
		pass = o == cmparg;
		break;
	case FUTEX_OP_CMP_NE:
		pass = o != cmparg;
		break;
	case FUTEX_OP_CMP_LT:
		pass = o < cmparg;
		break;
	case FUTEX_OP_CMP_LE:
		pass = o <= cmparg;
		break;
	case FUTEX_OP_CMP_GT:
		pass = o > cmparg;
		break;
	default:
		pass = o >= cmparg;
		break;
	}
	int woken = wake_key(&k1, nwake, FUTEX_BITSET_ALL, false);
	if (pass)
		woken += wake_key(&k2, nwake2, FUTEX_BITSET_ALL, false);
	return woken;
}

/* ---- PI futexes ---- */

/* One try to take a PI lock for t (pi_lock held): 0 taken, 1 owned by
 * another (FUTEX_WAITERS now set when wait), or -errno. */
static int pi_try(struct task *t, uint64_t uaddr, bool wait)
{
	uint32_t tid = (uint32_t)t->tid, old;
	for (;;) {
		int r = user_atomic32(t, uaddr, UA_CMPXCHG, tid, 0, &old);
		if (r)
			return r;
		if (old == 0)
			return 0;
		if ((old & FUTEX_TID_MASK) == tid)
			return -EDEADLK;
		if (!(old & FUTEX_TID_MASK)) {
			/* Its owner died and left it: take it, keeping
			 * OWNER_DIED so that the new owner sees it. */
			uint32_t nv = (old & FUTEX_OWNER_DIED) | tid;
			uint32_t cur;
			r = user_atomic32(t, uaddr, UA_CMPXCHG, nv, old, &cur);
			if (r)
				return r;
			if (cur == old)
				return 0;
			continue;
		}
		if (!wait)
			return 1;
		tasklist_lock_take();
		bool owner = kernel_find_task((int)(old & FUTEX_TID_MASK));
		tasklist_unlock();
		if (!owner)
			return -ESRCH;
		if (old & FUTEX_WAITERS)
			return 1;
		uint32_t cur;
		r = user_atomic32(t, uaddr, UA_CMPXCHG, old | FUTEX_WAITERS,
				  old, &cur);
		if (r)
			return r;
		if (cur == old)
			return 1;
	}
}

static long futex_lock_pi(struct task *t, uint64_t uaddr, bool private,
			  const struct timespec *deadline, bool trylock)
{
	struct futex_key k;
	int r = get_key(t, uaddr, private, &k);
	if (r)
		return r;
	for (;;) {
		struct futex_q q;
		q_init(&q, t, &k, FUTEX_BITSET_ALL);
		q.pi = true;
		kmutex_lock(&pi_lock);
		/* Queued before the word says there are waiters: an unlock
		 * that sees FUTEX_WAITERS always finds one. */
		q_enqueue(&q);
		r = pi_try(t, uaddr, !trylock);
		kmutex_unlock(&pi_lock);
		if (r <= 0 || trylock) {
			q_dequeue(&q);
			return r == 1 ? -EAGAIN : r;
		}
		r = q_sleep(t, &q, deadline);
		if (r)
			return r;
		/* Woken by an unlock that handed it over (the word names
		 * us), or by the death of the owner: try again. */
		uint32_t cur;
		if (copy_from_user(t, &cur, uaddr, 4) < 0)
			return -EFAULT;
		if ((cur & FUTEX_TID_MASK) == (uint32_t)t->tid)
			return 0;
	}
}

static long futex_unlock_pi(struct task *t, uint64_t uaddr, bool private)
{
	struct futex_key k;
	int r = get_key(t, uaddr, private, &k);
	if (r)
		return r;
	uint32_t tid = (uint32_t)t->tid;
	kmutex_lock(&pi_lock);
	for (;;) {
		uint32_t cur;
		r = user_atomic32(t, uaddr, UA_CMPXCHG, 0, 0, &cur);
		if (r)
			break;
		if ((cur & FUTEX_TID_MASK) != tid) {
			r = -EPERM;
			break;
		}
		/* Hand it to the first waiter, marking whether others wait. */
		struct futex_bucket *b = bucket_of(&k);
		kmutex_lock(&b->lock);
		struct futex_q *top = NULL;
		bool more = false;
		struct list_head *pos;
		list_for_each(pos, &b->waiters)
		{
			struct futex_q *q =
			    list_entry(pos, struct futex_q, node);
			if (!q->pi || !key_eq(&q->key, &k))
				continue;
			if (top) {
				more = true;
				break;
			}
			top = q;
		}
		uint32_t nv = 0;
		if (top) {
			/* Without tasklist (ranked below the bucket): a tid
			 * changes only when its own thread execs, and this
			 * one is asleep here. */
			nv = (uint32_t)__atomic_load_n(&top->t->tid,
						       __ATOMIC_RELAXED);
			if (more)
				nv |= FUTEX_WAITERS;
		}
		kmutex_unlock(&b->lock);
		uint32_t seen;
		r = user_atomic32(t, uaddr, UA_CMPXCHG, nv, cur, &seen);
		if (r)
			break;
		if (seen != cur)
			continue; /* the word moved (a waiter set WAITERS) */
		if (top) {
			/* The word names it now; it is still queued: waiters
			 * leave only under pi_lock or by a wake. */
			kmutex_lock(&b->lock);
			if (!top->woken)
				q_wake(top);
			kmutex_unlock(&b->lock);
		}
		r = 0;
		break;
	}
	kmutex_unlock(&pi_lock);
	return r;
}

/* ---- robust lists ---- */

static void robust_death(struct task *t, uint64_t uaddr, bool pi)
{
	uint32_t tid = (uint32_t)t->tid;
	for (int tries = 0; tries < 16; tries++) {
		uint32_t cur;
		if (user_atomic32(t, uaddr, UA_CMPXCHG, 0, 0, &cur) < 0)
			return;
		if ((cur & FUTEX_TID_MASK) != tid)
			return;
		uint32_t nv = (cur & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
		uint32_t seen;
		if (user_atomic32(t, uaddr, UA_CMPXCHG, nv, cur, &seen) < 0)
			return;
		if (seen != cur)
			continue;
		if (cur & FUTEX_WAITERS) {
			struct futex_key k;
			if (get_key(t, uaddr, false, &k) == 0)
				wake_key(&k, 1, FUTEX_BITSET_ALL, pi);
		}
		return;
	}
}

void futex_exit_robust(struct task *t)
{
	uint64_t head = t->robust_list;
	if (!head || t->robust_len != 24 || !t->proc->mm)
		return;
	/* struct robust_list_head: next, futex_offset, list_op_pending. */
	uint64_t h[3];
	if (copy_from_user(t, h, head, sizeof(h)) < 0)
		return;
	int64_t off = (int64_t)h[1];
	uint64_t entry = h[0], pending = h[2];
	for (int i = 0; i < ROBUST_LIST_LIMIT && (entry & ~1ull) != head; i++) {
		uint64_t e = entry & ~1ull, next;
		if (copy_from_user(t, &next, e, 8) < 0)
			return;
		if (e != (pending & ~1ull))
			robust_death(t, e + (uint64_t)off, entry & 1);
		entry = next;
	}
	if (pending)
		robust_death(t, (pending & ~1ull) + (uint64_t)off, pending & 1);
}

/* ---- the syscalls ---- */

static uint64_t ts_to_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * 1000000000ull + (uint64_t)ts->tv_nsec;
}

/* An absolute timeout on clock (REALTIME or MONOTONIC) as an absolute
 * CLOCK_MONOTONIC deadline. */
static void abs_to_mono(const struct timespec *abs, bool realtime,
			struct timespec *out)
{
	if (!realtime) {
		*out = *abs;
		return;
	}
	int64_t d =
	    (int64_t)ts_to_ns(abs) - (int64_t)kernel_now_ns(CLOCK_REALTIME);
	uint64_t m = kernel_now_ns(CLOCK_MONOTONIC) + (d > 0 ? (uint64_t)d : 0);
	out->tv_sec = (time_t)(m / 1000000000ull);
	out->tv_nsec = (long)(m % 1000000000ull);
}

static int get_timeout(struct task *t, uint64_t uts, struct timespec *tv)
{
	if (copy_from_user(t, tv, uts, sizeof(*tv)) < 0)
		return -EFAULT;
	if (tv->tv_sec < 0 || tv->tv_nsec < 0 || tv->tv_nsec >= 1000000000L)
		return -EINVAL;
	return 0;
}

long sys_futex(struct task *t, const uint64_t a[6])
{
	uint64_t uaddr = a[0];
	int op = (int)a[1];
	int cmd = op & FUTEX_CMD_MASK;
	bool private = op & FUTEX_PRIVATE_FLAG;
	bool realtime = op & FUTEX_CLOCK_REALTIME;
	uint32_t val = (uint32_t)a[2];
	struct timespec tv, dl, *deadline = NULL;
	/* As Linux: FUTEX_WAIT's timeout is relative, so a clock flag on it
	 * is meaningless and refused. */
	if (realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_LOCK_PI2 &&
	    cmd != FUTEX_WAIT_REQUEUE_PI)
		return -ENOSYS;
	switch (cmd) {
	case FUTEX_WAIT:
	case FUTEX_WAIT_BITSET: {
		uint32_t bitset =
		    cmd == FUTEX_WAIT ? FUTEX_BITSET_ALL : (uint32_t)a[5];
		if (!bitset)
			return -EINVAL;
		if (a[3]) {
			int r = get_timeout(t, a[3], &tv);
			if (r)
				return r;
			if (cmd == FUTEX_WAIT) {
				/* Relative, on CLOCK_MONOTONIC. */
				uint64_t m = kernel_now_ns(CLOCK_MONOTONIC) +
					     ts_to_ns(&tv);
				dl.tv_sec = (time_t)(m / 1000000000ull);
				dl.tv_nsec = (long)(m % 1000000000ull);
			} else {
				abs_to_mono(&tv, realtime, &dl);
			}
			deadline = &dl;
		}
		return futex_wait(t, uaddr, private, val, deadline, bitset);
	}
	case FUTEX_WAKE:
		return futex_wake(t, uaddr, private,
				  (int)val > 0 ? (int)val : 1,
				  FUTEX_BITSET_ALL);
	case FUTEX_WAKE_BITSET:
		if (!(uint32_t)a[5])
			return -EINVAL;
		return futex_wake(t, uaddr, private,
				  (int)val > 0 ? (int)val : 1, (uint32_t)a[5]);
	case FUTEX_REQUEUE:
		return futex_requeue(t, uaddr, a[4], private, (int)val,
				     (int)a[3], false, 0);
	case FUTEX_CMP_REQUEUE:
		return futex_requeue(t, uaddr, a[4], private, (int)val,
				     (int)a[3], true, (uint32_t)a[5]);
	case FUTEX_WAKE_OP:
		return futex_wake_op(t, uaddr, a[4], private, (int)val,
				     (int)a[3], (uint32_t)a[5]);
	case FUTEX_LOCK_PI:
	case FUTEX_LOCK_PI2:
		if (a[3]) {
			int r = get_timeout(t, a[3], &tv);
			if (r)
				return r;
			/* LOCK_PI's timeout is on CLOCK_REALTIME; LOCK_PI2's
			 * on MONOTONIC unless FUTEX_CLOCK_REALTIME. */
			abs_to_mono(&tv, cmd == FUTEX_LOCK_PI || realtime, &dl);
			deadline = &dl;
		}
		return futex_lock_pi(t, uaddr, private, deadline, false);
	case FUTEX_TRYLOCK_PI:
		return futex_lock_pi(t, uaddr, private, NULL, true);
	case FUTEX_UNLOCK_PI:
		return futex_unlock_pi(t, uaddr, private);
	default:
		/* WAIT_REQUEUE_PI/CMP_REQUEUE_PI: glibc uses them only for
		 * PI condition variables, which it no longer builds. */
		return -ENOSYS;
	}
}

/* futex_waitv(2): wait on up to 128 futexes at once. */
#define FUTEX_WAITV_MAX 128
#define FUTEX2_SIZE_U32 0x02
#define FUTEX2_PRIVATE	128
struct k_futex_waitv {
	uint64_t val, uaddr;
	uint32_t flags, reserved;
};

long sys_futex_waitv(struct task *t, const uint64_t a[6])
{
	uint64_t uwaiters = a[0];
	unsigned n = (unsigned)a[1], flags = (unsigned)a[2];
	int clockid = (int)a[4];
	if (flags || n == 0 || n > FUTEX_WAITV_MAX || !uwaiters)
		return -EINVAL;
	struct timespec tv, dl, *deadline = NULL;
	if (a[3]) {
		if (clockid != CLOCK_MONOTONIC && clockid != CLOCK_REALTIME)
			return -EINVAL;
		int r = get_timeout(t, a[3], &tv);
		if (r)
			return r;
		abs_to_mono(&tv, clockid == CLOCK_REALTIME, &dl);
		deadline = &dl;
	}
	struct k_futex_waitv w[FUTEX_WAITV_MAX];
	if (copy_from_user(t, w, uwaiters, n * sizeof(w[0])) < 0)
		return -EFAULT;
	struct futex_q qs[FUTEX_WAITV_MAX];
	int woke = -1;
	for (unsigned i = 0; i < n; i++) {
		if ((w[i].flags &
		     ~(uint32_t)(FUTEX2_SIZE_U32 | FUTEX2_PRIVATE)) ||
		    (w[i].flags & 3) != FUTEX2_SIZE_U32 || w[i].reserved ||
		    w[i].val > UINT32_MAX)
			return -EINVAL;
	}
	unsigned queued = 0;
	int r = 0;
	for (; queued < n; queued++) {
		struct futex_key k;
		r = get_key(t, w[queued].uaddr,
			    w[queued].flags & FUTEX2_PRIVATE, &k);
		if (r)
			break;
		q_init(&qs[queued], t, &k, FUTEX_BITSET_ALL);
		qs[queued].index = (int)queued;
		qs[queued].woke = &woke;
		q_enqueue(&qs[queued]);
	}
	/* All queued: now read the words. */
	for (unsigned i = 0; !r && i < queued; i++) {
		uint32_t cur;
		if (copy_from_user(t, &cur, w[i].uaddr, 4) < 0)
			r = -EFAULT;
		else if (cur != (uint32_t)w[i].val)
			r = -EAGAIN;
	}
	if (!r) {
		for (;;) {
			uint32_t seq = task_wake_seq(t);
			bool any = false;
			for (unsigned i = 0; i < queued && !any; i++)
				any = q_is_woken(&qs[i]);
			if (any)
				break;
			int s = task_sleep(t, seq, deadline, SLEEP_INTR);
			if (s) {
				r = s == -EINTR ? -ERESTARTSYS : s;
				break;
			}
		}
	}
	bool any = false;
	for (unsigned i = 0; i < queued; i++)
		if (q_dequeue(&qs[i]))
			any = true;
	if (any && woke >= 0)
		return woke;
	return r;
}
