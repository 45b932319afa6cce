/* Futexes, raw: FUTEX_WAIT's value check and timeouts (relative, absolute
 * with and without FUTEX_CLOCK_REALTIME), alignment and address errors,
 * FUTEX_WAKE counts, bitsets, private against shared keys, FUTEX_REQUEUE
 * and FUTEX_CMP_REQUEUE, FUTEX_WAKE_OP, a shared-memory futex between a
 * parent and a forked child, PI futexes (lock, unlock, EDEADLK, contention,
 * timeout) and robust lists (raw, and pthread robust mutexes giving
 * EOWNERDEAD). A waiter is known to be waiting once /proc shows its task
 * asleep ('S'), so the wake counts are exact without sleeping and hoping;
 * every wait has a deadline. */
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include "check.h"

#define MS 1000000LL

static void step(const char *what)
{
	printf("-- %s\n", what);
	fflush(stdout);
}

static long fx(void *uaddr, int op, long val, const void *ts, void *uaddr2,
	       int val3)
{
	return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static long long now_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static struct timespec ts_of(long long ns)
{
	return (struct timespec){ns / 1000000000LL, ns % 1000000000LL};
}

static void *join_within(pthread_t t, long ms)
{
	struct timespec ts = ts_of(now_ns(CLOCK_REALTIME) + ms * MS);
	void *ret;
	int r = pthread_timedjoin_np(t, &ret, &ts);
	if (r)
		FAIL_AT("pthread_timedjoin_np: %s", strerror(r));
	return ret;
}

/* The state letter of /proc/self/task/TID/stat (or /proc/PID/stat when
 * tid is negative: -pid), or '?' if unreadable. */
static char task_state(pid_t tid)
{
	char path[64], buf[512];
	if (tid > 0)
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
	else
		snprintf(path, sizeof(path), "/proc/%d/stat", -tid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return '?';
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return '?';
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : '?';
}

/* Waits (up to 5 s) until the task is asleep. */
static void wait_asleep(pid_t tid)
{
	long long end = now_ns(CLOCK_MONOTONIC) + 5000 * MS;
	while (task_state(tid) != 'S') {
		if (now_ns(CLOCK_MONOTONIC) > end)
			FAIL_AT("task %d never went to sleep (state %c)", tid,
				task_state(tid));
		usleep(1000);
	}
}

/* --- waiter threads ------------------------------------------------------ */
struct waiter {
	int *word;
	int op;
	int val;
	int bitset;
	atomic_int tid;
	long ret;
	int err;
	pthread_t th;
};

static void *wait_thread(void *arg)
{
	struct waiter *w = arg;
	/* A deadline so that a lost wakeup cannot hang the test. */
	struct timespec ts = {10, 0};
	const void *timeout = &ts;
	struct timespec abs;
	if ((w->op & FUTEX_CMD_MASK) == FUTEX_WAIT_BITSET) {
		abs = ts_of(now_ns(CLOCK_MONOTONIC) + 10000 * MS);
		timeout = &abs;
	}
	atomic_store(&w->tid, gettid_());
	w->ret = fx(w->word, w->op, w->val, timeout, NULL, w->bitset);
	w->err = errno;
	return NULL;
}

/* Starts a waiter and returns once it is asleep in the kernel. */
static void start_waiter(struct waiter *w, int *word, int op, int val,
			 int bitset)
{
	w->word = word;
	w->op = op;
	w->val = val;
	w->bitset = bitset;
	atomic_store(&w->tid, 0);
	w->ret = -2;
	CHECK_EQ(pthread_create(&w->th, NULL, wait_thread, w), 0);
	long long end = now_ns(CLOCK_MONOTONIC) + 5000 * MS;
	while (!atomic_load(&w->tid)) {
		if (now_ns(CLOCK_MONOTONIC) > end)
			FAIL_AT("waiter thread did not start");
		usleep(500);
	}
	wait_asleep(atomic_load(&w->tid));
}

/* Joins a waiter and checks it was woken (returned 0), not timed out. */
static void woken(struct waiter *w)
{
	join_within(w->th, 15000);
	if (w->ret != 0)
		FAIL_AT("waiter returned %ld errno %d (%s), want woken", w->ret,
			w->err, strerror(w->err));
	checks++;
}

/* --- FUTEX_WAIT basics --------------------------------------------------- */
static void basics(void)
{
	int word = 0;
	char *bad =
	    mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(bad != MAP_FAILED);

	/* The value check. */
	CHECK_ERR(fx(&word, FUTEX_WAIT, 1, NULL, NULL, 0), EAGAIN);
	CHECK_ERR(fx(&word, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0), EAGAIN);
	CHECK_ERR(fx(&word, FUTEX_WAIT_BITSET, 1, NULL, NULL, -1), EAGAIN);
	/* No waiters: WAKE returns 0. */
	CHECK_EQ(fx(&word, FUTEX_WAKE, 1, NULL, NULL, 0), 0);
	CHECK_EQ(fx(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 0);

	/* A relative timeout: ETIMEDOUT, not before 50 ms. */
	struct timespec rel = {0, 50 * MS};
	long long t0 = now_ns(CLOCK_MONOTONIC);
	CHECK_ERR(fx(&word, FUTEX_WAIT, 0, &rel, NULL, 0), ETIMEDOUT);
	long long dt = now_ns(CLOCK_MONOTONIC) - t0;
	CHECK(dt >= 50 * MS);
	CHECK(dt < 5000 * MS);
	t0 = now_ns(CLOCK_MONOTONIC);
	CHECK_ERR(fx(&word, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0), ETIMEDOUT);
	CHECK(now_ns(CLOCK_MONOTONIC) - t0 >= 50 * MS);
	struct timespec zero = {0, 0};
	CHECK_ERR(fx(&word, FUTEX_WAIT, 0, &zero, NULL, 0), ETIMEDOUT);

	/* Invalid timespecs. */
	static const struct timespec badts[] = {
	    {0, 1000000000}, {-1, 0}, {0, -1}};
	for (unsigned i = 0; i < 3; i++) {
		CHECK_ERR(fx(&word, FUTEX_WAIT, 0, &badts[i], NULL, 0), EINVAL);
		CHECK_ERR(fx(&word, FUTEX_WAIT_BITSET, 0, &badts[i], NULL, -1),
			  EINVAL);
	}
	CHECK_ERR(fx(&word, FUTEX_WAIT, 0, (void *)-4096L, NULL, 0), EFAULT);

	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time... */
	long long target = now_ns(CLOCK_MONOTONIC) + 50 * MS;
	struct timespec abs = ts_of(target);
	CHECK_ERR(
	    fx(&word, FUTEX_WAIT_BITSET, 0, &abs, NULL, FUTEX_BITSET_MATCH_ANY),
	    ETIMEDOUT);
	CHECK(now_ns(CLOCK_MONOTONIC) >= target);
	CHECK(now_ns(CLOCK_MONOTONIC) - target < 5000 * MS);
	/* ...or CLOCK_REALTIME with FUTEX_CLOCK_REALTIME. */
	target = now_ns(CLOCK_REALTIME) + 50 * MS;
	abs = ts_of(target);
	CHECK_ERR(fx(&word, FUTEX_WAIT_BITSET_PRIVATE | FUTEX_CLOCK_REALTIME, 0,
		     &abs, NULL, FUTEX_BITSET_MATCH_ANY),
		  ETIMEDOUT);
	CHECK(now_ns(CLOCK_REALTIME) >= target);
	/* A time in the past times out at once. */
	abs = (struct timespec){1, 0};
	t0 = now_ns(CLOCK_MONOTONIC);
	CHECK_ERR(fx(&word, FUTEX_WAIT_BITSET, 0, &abs, NULL, -1), ETIMEDOUT);
	CHECK_ERR(fx(&word, FUTEX_WAIT_BITSET | FUTEX_CLOCK_REALTIME, 0, &abs,
		     NULL, -1),
		  ETIMEDOUT);
	CHECK(now_ns(CLOCK_MONOTONIC) - t0 < 4000 * MS);

	/* FUTEX_CLOCK_REALTIME with plain FUTEX_WAIT: the man page says
	 * accepted since 4.5, but Linux 6.x refuses it with ENOSYS (only
	 * WAIT_BITSET, WAIT_REQUEUE_PI and LOCK_PI2 take the flag); so does
	 * any other op, and an unknown op. */
	CHECK_ERR(
	    fx(&word, FUTEX_WAIT | FUTEX_CLOCK_REALTIME, 0, &rel, NULL, 0),
	    ENOSYS);
	CHECK_ERR(fx(&word, FUTEX_WAIT_PRIVATE | FUTEX_CLOCK_REALTIME, 0, &rel,
		     NULL, 0),
		  ENOSYS);
	CHECK_ERR(
	    fx(&word, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0),
	    ENOSYS);
	CHECK_ERR(fx(&word, 99, 0, NULL, NULL, 0), ENOSYS);

	/* A zero bitset is EINVAL, for wait and wake. */
	CHECK_ERR(fx(&word, FUTEX_WAIT_BITSET, 0, NULL, NULL, 0), EINVAL);
	CHECK_ERR(fx(&word, FUTEX_WAKE_BITSET, 1, NULL, NULL, 0), EINVAL);

	/* Misaligned: EINVAL for wait and wake, shared or private. */
	char *mis = (char *)&word + 1;
	CHECK_ERR(fx(mis, FUTEX_WAIT, 0, &rel, NULL, 0), EINVAL);
	CHECK_ERR(fx(mis, FUTEX_WAKE, 1, NULL, NULL, 0), EINVAL);
	CHECK_ERR(fx(mis + 1, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0), EINVAL);
	CHECK_ERR(fx(mis + 1, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), EINVAL);

	/* Bad memory: a wait reads the word, EFAULT; a shared wake needs
	 * the page, EFAULT; a private wake does not touch memory at all and
	 * finds no waiters. An address outside user space is EFAULT. */
	CHECK_ERR(fx(bad, FUTEX_WAIT, 0, &rel, NULL, 0), EFAULT);
	CHECK_ERR(fx(bad, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0), EFAULT);
	CHECK_ERR(fx(bad, FUTEX_WAKE, 1, NULL, NULL, 0), EFAULT);
	CHECK_EQ(fx(bad, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 0);
	CHECK_ERR(fx((void *)-4096L, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0),
		  EFAULT);
	SYS(munmap(bad, 4096));
}

/* --- FUTEX_WAKE counts, bitsets, keys ------------------------------------ */
static void wake_counts(void)
{
	static int word;
	struct waiter w[3];
	for (int i = 0; i < 3; i++)
		start_waiter(&w[i], &word, FUTEX_WAIT_PRIVATE, 0, 0);
	/* Exactly as many as asked for, then the rest, then none. */
	CHECK_EQ(fx(&word, FUTEX_WAKE_PRIVATE, 2, NULL, NULL, 0), 2);
	CHECK_EQ(fx(&word, FUTEX_WAKE_PRIVATE, 5, NULL, NULL, 0), 1);
	CHECK_EQ(fx(&word, FUTEX_WAKE_PRIVATE, 5, NULL, NULL, 0), 0);
	for (int i = 0; i < 3; i++)
		woken(&w[i]);

	/* Linux quirk: FUTEX_WAKE with a count of 0 still wakes one (the
	 * loop checks the count after waking). */
	start_waiter(&w[0], &word, FUTEX_WAIT_PRIVATE, 0, 0);
	start_waiter(&w[1], &word, FUTEX_WAIT_PRIVATE, 0, 0);
	CHECK_EQ(fx(&word, FUTEX_WAKE_PRIVATE, 0, NULL, NULL, 0), 1);
	CHECK_EQ(fx(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 1);
	woken(&w[0]);
	woken(&w[1]);

	/* Bitsets: a wake reaches only waiters whose bitset intersects. */
	start_waiter(&w[0], &word, FUTEX_WAIT_BITSET_PRIVATE, 0, 1);
	start_waiter(&w[1], &word, FUTEX_WAIT_BITSET_PRIVATE, 0, 2);
	start_waiter(&w[2], &word, FUTEX_WAIT_BITSET_PRIVATE, 0, 4);
	CHECK_EQ(fx(&word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 8),
		 0);
	CHECK_EQ(fx(&word, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 6),
		 2);
	woken(&w[1]);
	woken(&w[2]);
	/* Plain FUTEX_WAKE matches any bitset. */
	CHECK_EQ(fx(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 1);
	woken(&w[0]);

	/* Private and shared are different keys, even for the same
	 * address: neither wakes the other's waiters. */
	start_waiter(&w[0], &word, FUTEX_WAIT, 0, 0);
	CHECK_EQ(fx(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 0);
	CHECK_EQ(fx(&word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0), 1);
	woken(&w[0]);
	start_waiter(&w[0], &word, FUTEX_WAIT_PRIVATE, 0, 0);
	CHECK_EQ(fx(&word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0), 0);
	CHECK_EQ(fx(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 1);
	woken(&w[0]);

	/* A waiter whose wait times out is gone: nothing left to wake. */
	struct timespec rel = {0, 20 * MS};
	CHECK_ERR(fx(&word, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0), ETIMEDOUT);
	CHECK_EQ(fx(&word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 0);
}

/* --- requeue ------------------------------------------------------------- */
static void requeue(void)
{
	static int a, b;
	struct waiter w[3];

	/* FUTEX_REQUEUE: wake 1, move 1 to b; returns woken + requeued. */
	for (int i = 0; i < 3; i++)
		start_waiter(&w[i], &a, FUTEX_WAIT_PRIVATE, 0, 0);
	CHECK_EQ(fx(&a, FUTEX_REQUEUE_PRIVATE, 1, (void *)1L, &b, 0), 2);
	CHECK_EQ(fx(&a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 1);
	CHECK_EQ(fx(&b, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 1);
	for (int i = 0; i < 3; i++)
		woken(&w[i]);

	/* FUTEX_CMP_REQUEUE: refused with EAGAIN unless *a == val3; then
	 * wake 1, move the rest. */
	for (int i = 0; i < 3; i++)
		start_waiter(&w[i], &a, FUTEX_WAIT_PRIVATE, 0, 0);
	CHECK_ERR(
	    fx(&a, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)(long)INT_MAX, &b, 1),
	    EAGAIN);
	CHECK_EQ(
	    fx(&a, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)(long)INT_MAX, &b, 0),
	    3);
	CHECK_EQ(fx(&a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 0);
	/* Requeued waiters really wait on b now: a wake of 1 wakes 1. */
	CHECK_EQ(fx(&b, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 1);
	CHECK_EQ(fx(&b, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 1);
	for (int i = 0; i < 3; i++)
		woken(&w[i]);

	/* Wake none, requeue 0: nothing moves. */
	start_waiter(&w[0], &a, FUTEX_WAIT_PRIVATE, 0, 0);
	CHECK_EQ(fx(&a, FUTEX_CMP_REQUEUE_PRIVATE, 0, (void *)0L, &b, 0), 0);
	CHECK_EQ(fx(&b, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 0);
	CHECK_EQ(fx(&a, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 1);
	woken(&w[0]);

	/* Negative counts are EINVAL; a misaligned target too. */
	CHECK_ERR(fx(&a, FUTEX_CMP_REQUEUE_PRIVATE, -1, (void *)1L, &b, 0),
		  EINVAL);
	CHECK_ERR(fx(&a, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)-1L, &b, 0),
		  EINVAL);
	CHECK_ERR(
	    fx(&a, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)1L, (char *)&b + 1, 0),
	    EINVAL);
	/* No waiters: 0. */
	CHECK_EQ(fx(&a, FUTEX_REQUEUE_PRIVATE, 1, (void *)1L, &b, 0), 0);
}

/* --- FUTEX_WAKE_OP ------------------------------------------------------- */
static void wake_op(void)
{
	static int w1, w2;
	struct waiter w[2];

	/* *w2 = 5 (was 0); wake 1 on w1, and 1 on w2 since old == 0. */
	start_waiter(&w[0], &w1, FUTEX_WAIT_PRIVATE, 0, 0);
	start_waiter(&w[1], &w2, FUTEX_WAIT_PRIVATE, 0, 0);
	CHECK_EQ(fx(&w1, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &w2,
		    FUTEX_OP(FUTEX_OP_SET, 5, FUTEX_OP_CMP_EQ, 0)),
		 2);
	CHECK_EQ(w2, 5);
	woken(&w[0]);
	woken(&w[1]);

	/* The comparison is on the old value: false, so w2's waiter
	 * stays. */
	w2 = 0;
	start_waiter(&w[0], &w1, FUTEX_WAIT_PRIVATE, 0, 0);
	start_waiter(&w[1], &w2, FUTEX_WAIT_PRIVATE, 0, 0);
	CHECK_EQ(fx(&w1, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &w2,
		    FUTEX_OP(FUTEX_OP_ADD, 3, FUTEX_OP_CMP_GT, 0)),
		 1);
	CHECK_EQ(w2, 3);
	woken(&w[0]);
	CHECK_EQ(fx(&w2, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0), 1);
	woken(&w[1]);

	/* The operations, with no waiters: returns 0, the op is done. */
	w2 = 0;
	CHECK_EQ(fx(&w1, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &w2,
		    FUTEX_OP((FUTEX_OP_OR | FUTEX_OP_OPARG_SHIFT), 4,
			     FUTEX_OP_CMP_EQ, 0)),
		 0);
	CHECK_EQ(w2, 16);
	w2 = 5;
	CHECK_EQ(fx(&w1, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &w2,
		    FUTEX_OP(FUTEX_OP_ANDN, 4, FUTEX_OP_CMP_EQ, 0)),
		 0);
	CHECK_EQ(w2, 1);
	/* The 12-bit oparg is signed: 0xfff is -1. */
	w2 = 5;
	CHECK_EQ(fx(&w1, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &w2,
		    FUTEX_OP(FUTEX_OP_XOR, 0xfff, FUTEX_OP_CMP_EQ, 0)),
		 0);
	CHECK_EQ(w2, -6);
	/* An unknown op is ENOSYS and changes nothing; an unknown
	 * comparison is ENOSYS too, but only after the op was done. */
	w2 = 0;
	CHECK_ERR(fx(&w1, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &w2,
		     FUTEX_OP(7, 1, FUTEX_OP_CMP_EQ, 0)),
		  ENOSYS);
	CHECK_EQ(w2, 0);
	CHECK_ERR(fx(&w1, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, &w2,
		     FUTEX_OP(FUTEX_OP_SET, 1, 7, 0)),
		  ENOSYS);
	CHECK_EQ(w2, 1);
	/* Bad second word. */
	CHECK_ERR(fx(&w1, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, (char *)&w2 + 1,
		     FUTEX_OP(FUTEX_OP_SET, 1, 0, 0)),
		  EINVAL);
	CHECK_ERR(fx(&w1, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1L, (void *)8L,
		     FUTEX_OP(FUTEX_OP_SET, 1, 0, 0)),
		  EFAULT);
}

/* --- across fork, in shared memory --------------------------------------- */
static void shared_fork(void)
{
	int *word = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(word != MAP_FAILED);
	*word = 0;

	/* The child waits, the parent wakes. */
	pid_t pid = SYS(fork());
	if (pid == 0) {
		struct timespec ts = {10, 0};
		long r = fx(word, FUTEX_WAIT, 0, &ts, NULL, 0);
		_exit(r == 0 ? 0 : r < 0 && errno == ETIMEDOUT ? 2 : 3);
	}
	wait_asleep(-pid);
	/* A private wake is keyed by this process's mm: not the child. */
	CHECK_EQ(fx(word, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0), 0);
	CHECK_EQ(fx(word, FUTEX_WAKE, INT_MAX, NULL, NULL, 0), 1);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);

	/* The parent waits, the child wakes it: the child retries until its
	 * wake finds the parent queued (a wake before the wait finds
	 * nobody), then changes the word for the parent to see. */
	pid_t parent = getpid();
	pid = SYS(fork());
	if (pid == 0) {
		long long end = now_ns(CLOCK_MONOTONIC) + 5000 * MS;
		while (task_state(-parent) != 'S' &&
		       now_ns(CLOCK_MONOTONIC) < end)
			usleep(1000);
		long n;
		while ((n = fx(word, FUTEX_WAKE, 1, NULL, NULL, 0)) == 0) {
			if (now_ns(CLOCK_MONOTONIC) > end)
				_exit(3);
			usleep(1000);
		}
		__atomic_store_n(word, 1, __ATOMIC_SEQ_CST);
		_exit(n == 1 ? 0 : 4);
	}
	struct timespec ts = {10, 0};
	CHECK_EQ(fx(word, FUTEX_WAIT, 0, &ts, NULL, 0), 0);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	CHECK_EQ(*word, 1);
	SYS(munmap(word, 4096));
}

/* --- PI futexes ---------------------------------------------------------- */
static int pi_word;
static atomic_int pi_state; /* 1: holder has the lock, 2: may release */

static void *pi_locker(void *arg)
{
	(void)arg;
	long r = fx(&pi_word, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0);
	if (r)
		return (void *)1L;
	if ((pi_word & FUTEX_TID_MASK) != gettid_())
		return (void *)2L;
	atomic_store(&pi_state, 1);
	long long end = now_ns(CLOCK_MONOTONIC) + 10000 * MS;
	while (atomic_load(&pi_state) != 2 && now_ns(CLOCK_MONOTONIC) < end)
		usleep(1000);
	return (void *)fx(&pi_word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0);
}

struct pi_waiter {
	atomic_int tid;
	long ret;
	int owner_ok;
};

static void *pi_contender(void *arg)
{
	struct pi_waiter *w = arg;
	atomic_store(&w->tid, gettid_());
	w->ret = fx(&pi_word, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0);
	w->owner_ok = (pi_word & FUTEX_TID_MASK) == (unsigned)gettid_();
	if (w->ret == 0 &&
	    fx(&pi_word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0) != 0)
		w->ret = -100;
	return NULL;
}

static void pi(void)
{
	pid_t me = gettid_();
	pi_word = 0;
	/* Uncontended: LOCK_PI on 0 stores our tid; UNLOCK_PI clears. */
	CHECK_EQ(fx(&pi_word, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), 0);
	CHECK_EQ(pi_word, me);
	CHECK_ERR(fx(&pi_word, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0),
		  EDEADLK);
	CHECK_ERR(fx(&pi_word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0),
		  EDEADLK);
	CHECK_EQ(fx(&pi_word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0), 0);
	CHECK_EQ(pi_word, 0);
	/* Not the owner: EPERM. */
	CHECK_ERR(fx(&pi_word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0),
		  EPERM);
	pi_word = 12345;
	CHECK_ERR(fx(&pi_word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0),
		  EPERM);
	/* TRYLOCK_PI on 0 takes it too; shared (non-private) works. */
	pi_word = 0;
	CHECK_EQ(fx(&pi_word, FUTEX_TRYLOCK_PI, 0, NULL, NULL, 0), 0);
	CHECK_EQ(pi_word, me);
	CHECK_EQ(fx(&pi_word, FUTEX_UNLOCK_PI, 0, NULL, NULL, 0), 0);
	CHECK_EQ(pi_word, 0);
	/* An owner that does not exist: ESRCH. */
	pi_word = 0x3ffffff0;
	CHECK_ERR(fx(&pi_word, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0), ESRCH);
	CHECK_ERR(
	    fx((char *)&pi_word + 1, FUTEX_LOCK_PI_PRIVATE, 0, NULL, NULL, 0),
	    EINVAL);

	/* Held by another thread: TRYLOCK is EAGAIN, UNLOCK is EPERM, and
	 * LOCK_PI's timeout is an absolute CLOCK_REALTIME time. */
	pi_word = 0;
	atomic_store(&pi_state, 0);
	pthread_t holder;
	CHECK_EQ(pthread_create(&holder, NULL, pi_locker, NULL), 0);
	long long end = now_ns(CLOCK_MONOTONIC) + 5000 * MS;
	while (atomic_load(&pi_state) != 1 && now_ns(CLOCK_MONOTONIC) < end)
		usleep(1000);
	CHECK_EQ(atomic_load(&pi_state), 1);
	CHECK_ERR(fx(&pi_word, FUTEX_TRYLOCK_PI_PRIVATE, 0, NULL, NULL, 0),
		  EAGAIN);
	CHECK_ERR(fx(&pi_word, FUTEX_UNLOCK_PI_PRIVATE, 0, NULL, NULL, 0),
		  EPERM);
	long long target = now_ns(CLOCK_REALTIME) + 50 * MS;
	struct timespec abs = ts_of(target);
	CHECK_ERR(fx(&pi_word, FUTEX_LOCK_PI_PRIVATE, 0, &abs, NULL, 0),
		  ETIMEDOUT);
	CHECK(now_ns(CLOCK_REALTIME) >= target);
	/* A waiter blocks (and the kernel marks the word FUTEX_WAITERS);
	 * the holder's UNLOCK_PI hands the lock straight to it. */
	struct pi_waiter pw = {.ret = -2};
	pthread_t contender;
	CHECK_EQ(pthread_create(&contender, NULL, pi_contender, &pw), 0);
	end = now_ns(CLOCK_MONOTONIC) + 5000 * MS;
	while (!atomic_load(&pw.tid) && now_ns(CLOCK_MONOTONIC) < end)
		usleep(500);
	wait_asleep(atomic_load(&pw.tid));
	CHECK(__atomic_load_n(&pi_word, __ATOMIC_SEQ_CST) & FUTEX_WAITERS);
	atomic_store(&pi_state, 2);
	CHECK(join_within(holder, 5000) == NULL);
	join_within(contender, 5000);
	CHECK_EQ(pw.ret, 0);
	CHECK(pw.owner_ok);
	CHECK_EQ(pi_word, 0);
}

/* --- robust lists -------------------------------------------------------- */
struct robust_entry {
	struct robust_list list;
	int futex;
};

static struct robust_list_head rhead;
static struct robust_entry rentry;
static atomic_int r_state;

static void *robust_dier(void *arg)
{
	(void)arg;
	/* This thread's own robust list: one entry, held. */
	rhead.list.next = &rentry.list;
	rentry.list.next = &rhead.list;
	rhead.futex_offset = offsetof(struct robust_entry, futex) -
			     offsetof(struct robust_entry, list);
	rhead.list_op_pending = NULL;
	__atomic_store_n(&rentry.futex, gettid_(), __ATOMIC_SEQ_CST);
	if (syscall(SYS_set_robust_list, &rhead, sizeof(rhead)))
		return (void *)1L;
	atomic_store(&r_state, 1);
	long long end = now_ns(CLOCK_MONOTONIC) + 10000 * MS;
	while (atomic_load(&r_state) != 2 && now_ns(CLOCK_MONOTONIC) < end)
		usleep(1000);
	return NULL; /* dies holding it */
}

static pthread_mutex_t rmu;

static void *mutex_dier(void *arg)
{
	(void)arg;
	return (void *)(long)pthread_mutex_lock(&rmu);
}

static void robust_mutex(int protocol)
{
	pthread_mutexattr_t at;
	CHECK_EQ(pthread_mutexattr_init(&at), 0);
	CHECK_EQ(pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST), 0);
	CHECK_EQ(pthread_mutexattr_setprotocol(&at, protocol), 0);
	CHECK_EQ(pthread_mutex_init(&rmu, &at), 0);
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, mutex_dier, NULL), 0);
	CHECK(join_within(t, 5000) == NULL);
	/* The owner died: the next locker gets it, with EOWNERDEAD. */
	CHECK_EQ(pthread_mutex_lock(&rmu), EOWNERDEAD);
	CHECK_EQ(pthread_mutex_consistent(&rmu), 0);
	CHECK_EQ(pthread_mutex_unlock(&rmu), 0);
	CHECK_EQ(pthread_mutex_lock(&rmu), 0);
	CHECK_EQ(pthread_mutex_unlock(&rmu), 0);
	/* Again, but unlocked without being made consistent: the mutex is
	 * then unusable. */
	CHECK_EQ(pthread_create(&t, NULL, mutex_dier, NULL), 0);
	CHECK(join_within(t, 5000) == NULL);
	CHECK_EQ(pthread_mutex_trylock(&rmu), EOWNERDEAD);
	CHECK_EQ(pthread_mutex_unlock(&rmu), 0);
	CHECK_EQ(pthread_mutex_lock(&rmu), ENOTRECOVERABLE);
	CHECK_EQ(pthread_mutex_destroy(&rmu), 0);
	pthread_mutexattr_destroy(&at);
}

static void robust(void)
{
	/* The syscalls: the head is 24 bytes (and only that size is
	 * accepted); glibc registered one for this thread. */
	void *head;
	size_t len = 0;
	SYS(syscall(SYS_get_robust_list, 0, &head, &len));
	CHECK_EQ(len, sizeof(struct robust_list_head));
	CHECK_EQ(len, 24);
	CHECK(head != NULL);
	CHECK_ERR(syscall(SYS_set_robust_list, head, len - 1), EINVAL);
	CHECK_ERR(syscall(SYS_set_robust_list, head, len + 8), EINVAL);
	CHECK_ERR(syscall(SYS_get_robust_list, 0x3ffffff0, &head, &len), ESRCH);

	/* Raw: a thread dies holding a robust futex that has a waiter
	 * marked. The kernel sets FUTEX_OWNER_DIED, keeps FUTEX_WAITERS,
	 * clears the tid, and wakes a waiter. */
	atomic_store(&r_state, 0);
	pthread_t t;
	CHECK_EQ(pthread_create(&t, NULL, robust_dier, NULL), 0);
	long long end = now_ns(CLOCK_MONOTONIC) + 5000 * MS;
	while (atomic_load(&r_state) != 1 && now_ns(CLOCK_MONOTONIC) < end)
		usleep(1000);
	CHECK_EQ(atomic_load(&r_state), 1);
	int tid = __atomic_load_n(&rentry.futex, __ATOMIC_SEQ_CST);
	CHECK(tid > 0);
	int expect = tid;
	CHECK(__atomic_compare_exchange_n(&rentry.futex, &expect,
					  tid | FUTEX_WAITERS, 0,
					  __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
	atomic_store(&r_state, 2);
	struct timespec ts = {10, 0};
	errno = 0;
	long r =
	    fx(&rentry.futex, FUTEX_WAIT, tid | FUTEX_WAITERS, &ts, NULL, 0);
	/* Woken by the exit, or the word had already changed. */
	CHECK(r == 0 || errno == EAGAIN);
	join_within(t, 5000);
	CHECK_EQ((unsigned)rentry.futex, FUTEX_OWNER_DIED | FUTEX_WAITERS);

	/* pthread robust mutexes, plain and priority-inheriting. */
	robust_mutex(PTHREAD_PRIO_NONE);
	robust_mutex(PTHREAD_PRIO_INHERIT);

	/* Process-shared, across processes: the child dies holding it. */
	pthread_mutex_t *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	pthread_mutexattr_t at;
	CHECK_EQ(pthread_mutexattr_init(&at), 0);
	CHECK_EQ(pthread_mutexattr_setrobust(&at, PTHREAD_MUTEX_ROBUST), 0);
	CHECK_EQ(pthread_mutexattr_setpshared(&at, PTHREAD_PROCESS_SHARED), 0);
	CHECK_EQ(pthread_mutex_init(m, &at), 0);
	pid_t pid = SYS(fork());
	if (pid == 0)
		_exit(pthread_mutex_lock(m) == 0 ? 0 : 2);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	CHECK_EQ(pthread_mutex_lock(m), EOWNERDEAD);
	CHECK_EQ(pthread_mutex_consistent(m), 0);
	CHECK_EQ(pthread_mutex_unlock(m), 0);
	/* The parent holds it while a child blocks on it; the parent's
	 * unlock lets the child in. */
	CHECK_EQ(pthread_mutex_lock(m), 0);
	pid = SYS(fork());
	if (pid == 0) {
		struct timespec dl = ts_of(now_ns(CLOCK_REALTIME) + 10000 * MS);
		int e = pthread_mutex_timedlock(m, &dl);
		_exit(e == 0 ? 0 : 2);
	}
	usleep(20000);
	CHECK_EQ(pthread_mutex_unlock(m), 0);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	/* That child exited holding it, too. */
	CHECK_EQ(pthread_mutex_lock(m), EOWNERDEAD);
	CHECK_EQ(pthread_mutex_consistent(m), 0);
	CHECK_EQ(pthread_mutex_unlock(m), 0);
	pthread_mutexattr_destroy(&at);
	SYS(munmap(m, 4096));
}

int main(void)
{
	step("basics");
	basics();
	step("wake counts");
	wake_counts();
	step("requeue");
	requeue();
	step("wake op");
	wake_op();
	step("shared across fork");
	shared_fork();
	step("pi");
	pi();
	step("robust");
	robust();
	pass("futexes");
	return 0;
}
