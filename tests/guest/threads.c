/* Threads: ids, futex-based mutexes and condvars under contention, signals
 * aimed at one thread or at the process, blocking reads woken from another
 * thread, a thread spinning without syscalls interrupted by a signal,
 * exit_group and execve from a non-main thread, TLS, pthread_exit and
 * CLONE_CHILD_CLEARTID (pthread_join). Every wait is bounded, so a guest
 * kernel that loses a wakeup fails a check instead of hanging the run. */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include "check.h"

/* Progress on stdout, so a hang in the sandbox shows which part hung. */
static void step(const char *what)
{
	printf("-- %s\n", what);
	fflush(stdout);
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* Waits up to ms for *flag to become non-zero; returns its value. */
static int wait_flag(volatile atomic_int *flag, long ms)
{
	long end = now_ms() + ms;
	while (!atomic_load(flag) && now_ms() < end)
		usleep(500);
	return atomic_load(flag);
}

/* waitpid with a deadline: a child still alive after ms is killed and the
 * check fails. Returns the child's status. */
static int wait_child(pid_t pid, long ms)
{
	long end = now_ms() + ms;
	int st;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		if (r < 0 && errno != EINTR)
			FAIL_AT("waitpid(%d): %s", pid, strerror(errno));
		if (now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			FAIL_AT("child %d still running after %ld ms", pid, ms);
		}
		usleep(1000);
	}
}

/* pthread_join with a deadline. */
static void *join_within(pthread_t t, long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	void *ret;
	int r = pthread_timedjoin_np(t, &ret, &ts);
	if (r)
		FAIL_AT("pthread_timedjoin_np: %s", strerror(r));
	return ret;
}

/* --- ids and work ------------------------------------------------------- */
#define NWORK 6
struct work {
	int idx;
	pid_t tid, pid;
	long sum;
};

static void *worker(void *arg)
{
	struct work *w = arg;
	w->tid = gettid_();
	w->pid = getpid();
	long s = 0;
	for (long i = 0; i < 200000; i++)
		s += i % (w->idx + 2);
	w->sum = s;
	return arg;
}

static void ids(void)
{
	pthread_t t[NWORK];
	struct work w[NWORK];
	for (int i = 0; i < NWORK; i++) {
		w[i] = (struct work){.idx = i};
		CHECK_EQ(pthread_create(&t[i], NULL, worker, &w[i]), 0);
	}
	for (int i = 0; i < NWORK; i++)
		CHECK(join_within(t[i], 5000) == &w[i]);
	pid_t me = gettid_();
	CHECK_EQ(me, getpid());
	for (int i = 0; i < NWORK; i++) {
		long s = 0;
		for (long k = 0; k < 200000; k++)
			s += k % (i + 2);
		CHECK_EQ(w[i].sum, s);
		CHECK_EQ(w[i].pid, getpid());
		CHECK(w[i].tid > 0);
		CHECK(w[i].tid != me);
		for (int j = 0; j < i; j++)
			CHECK(w[i].tid != w[j].tid);
	}
}

/* --- producer/consumer -------------------------------------------------- */
#define ITEMS 10000
#define QLEN  16
static struct {
	pthread_mutex_t mu;
	pthread_cond_t not_empty, not_full;
	int buf[QLEN];
	int head, count, produced, consumed;
	long sum;
} q = {.mu = PTHREAD_MUTEX_INITIALIZER,
       .not_empty = PTHREAD_COND_INITIALIZER,
       .not_full = PTHREAD_COND_INITIALIZER};

static void *producer(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_mutex_lock(&q.mu);
		while (q.count == QLEN && q.produced < ITEMS)
			pthread_cond_wait(&q.not_full, &q.mu);
		if (q.produced == ITEMS) {
			pthread_mutex_unlock(&q.mu);
			return NULL;
		}
		int v = ++q.produced;
		q.buf[(q.head + q.count) % QLEN] = v;
		q.count++;
		pthread_cond_signal(&q.not_empty);
		pthread_mutex_unlock(&q.mu);
	}
}

static void *consumer(void *arg)
{
	long mine = 0;
	for (;;) {
		pthread_mutex_lock(&q.mu);
		while (q.count == 0 && q.consumed < ITEMS)
			pthread_cond_wait(&q.not_empty, &q.mu);
		if (q.count == 0) {
			pthread_mutex_unlock(&q.mu);
			/* Wake the other consumer, which may wait for more. */
			pthread_cond_broadcast(&q.not_empty);
			break;
		}
		int v = q.buf[q.head];
		q.head = (q.head + 1) % QLEN;
		q.count--;
		q.consumed++;
		q.sum += v;
		mine++;
		if (q.consumed == ITEMS)
			pthread_cond_broadcast(&q.not_empty);
		pthread_cond_signal(&q.not_full);
		pthread_mutex_unlock(&q.mu);
	}
	*(long *)arg = mine;
	return NULL;
}

static void prodcons(void)
{
	pthread_t t[4];
	long got[2] = {0, 0};
	CHECK_EQ(pthread_create(&t[0], NULL, consumer, &got[0]), 0);
	CHECK_EQ(pthread_create(&t[1], NULL, consumer, &got[1]), 0);
	CHECK_EQ(pthread_create(&t[2], NULL, producer, NULL), 0);
	CHECK_EQ(pthread_create(&t[3], NULL, producer, NULL), 0);
	for (int i = 0; i < 4; i++)
		join_within(t[i], 10000);
	CHECK_EQ(q.produced, ITEMS);
	CHECK_EQ(q.consumed, ITEMS);
	CHECK_EQ(q.count, 0);
	CHECK_EQ(got[0] + got[1], ITEMS);
	CHECK_EQ(q.sum, (long)ITEMS * (ITEMS + 1) / 2);
}

/* --- signals and threads ------------------------------------------------ */
static atomic_int h_tid, h_count, stop;

static void on_usr(int sig)
{
	(void)sig;
	atomic_store(&h_tid, gettid_());
	atomic_fetch_add(&h_count, 1);
}

static void install(int sig, void (*fn)(int))
{
	struct sigaction sa = {0};
	sa.sa_handler = fn;
	sigemptyset(&sa.sa_mask);
	SYS(sigaction(sig, &sa, NULL));
}

struct sleeper {
	atomic_int ready;
	pid_t tid;
	int block; /* signal this thread blocks, or 0 */
};

/* Sleeps in short nanosleeps until `stop`, so it is inside the guest kernel
 * most of the time and a signal interrupts a blocked syscall. */
static void *sleeper(void *arg)
{
	struct sleeper *s = arg;
	if (s->block) {
		sigset_t set;
		sigemptyset(&set);
		sigaddset(&set, s->block);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
	}
	s->tid = gettid_();
	atomic_store(&s->ready, 1);
	while (!atomic_load(&stop))
		usleep(1000);
	return NULL;
}

static void targeted(void)
{
	install(SIGUSR1, on_usr);
	atomic_store(&stop, 0);
	struct sleeper s[3] = {{0}, {0}, {0}};
	pthread_t t[3];
	for (int i = 0; i < 3; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, sleeper, &s[i]), 0);
	for (int i = 0; i < 3; i++)
		CHECK(wait_flag(&s[i].ready, 5000));
	/* Each thread in turn: the handler runs on that thread. */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 3; i++) {
			atomic_store(&h_tid, 0);
			atomic_store(&h_count, 0);
			CHECK_EQ(pthread_kill(t[i], SIGUSR1), 0);
			CHECK(wait_flag(&h_count, 5000));
			CHECK_EQ(atomic_load(&h_tid), s[i].tid);
			CHECK_EQ(atomic_load(&h_count), 1);
		}
	}
	/* tgkill with the raw ids, and to the main thread itself. */
	atomic_store(&h_tid, 0);
	atomic_store(&h_count, 0);
	SYS(syscall(SYS_tgkill, getpid(), s[1].tid, SIGUSR1));
	CHECK(wait_flag(&h_count, 5000));
	CHECK_EQ(atomic_load(&h_tid), s[1].tid);
	atomic_store(&h_count, 0);
	SYS(syscall(SYS_tgkill, getpid(), gettid_(), SIGUSR1));
	CHECK_EQ(atomic_load(&h_count), 1);
	CHECK_EQ(atomic_load(&h_tid), gettid_());
	/* A tid of another thread group, or a wrong tgid, is ESRCH. */
	CHECK_ERR(syscall(SYS_tgkill, getpid() + 100000, s[0].tid, SIGUSR1),
		  ESRCH);
	atomic_store(&stop, 1);
	for (int i = 0; i < 3; i++)
		join_within(t[i], 5000);
	CHECK_EQ(pthread_kill(pthread_self(), 0), 0);
}

/* A signal sent to the process while the main thread blocks it goes to the
 * thread that does not. */
static struct {
	atomic_int ready;
	pid_t tid;
} unb;

static void *unblocker(void *arg)
{
	(void)arg;
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	unb.tid = gettid_();
	atomic_store(&unb.ready, 1);
	while (!atomic_load(&stop))
		usleep(1000);
	return NULL;
}

static void process_directed(void)
{
	install(SIGUSR2, on_usr);
	sigset_t set, old;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	SYS(sigprocmask(SIG_BLOCK, &set, &old));
	atomic_store(&stop, 0);
	/* The new thread inherits the blocked mask and unblocks SIGUSR2. */
	struct sleeper s = {.block = SIGUSR2};
	pthread_t t, t2;
	CHECK_EQ(pthread_create(&t, NULL, sleeper, &s), 0);
	CHECK_EQ(pthread_create(&t2, NULL, unblocker, NULL), 0);
	CHECK(wait_flag(&s.ready, 5000));
	CHECK(wait_flag(&unb.ready, 5000));
	for (int i = 0; i < 3; i++) {
		atomic_store(&h_tid, 0);
		atomic_store(&h_count, 0);
		SYS(kill(getpid(), SIGUSR2));
		CHECK(wait_flag(&h_count, 5000));
		CHECK_EQ(atomic_load(&h_tid), unb.tid);
		CHECK_EQ(atomic_load(&h_count), 1);
	}
	/* Nothing is left pending for the threads that block it. */
	usleep(10000);
	sigset_t pend;
	SYS(sigpending(&pend));
	CHECK(!sigismember(&pend, SIGUSR2));
	atomic_store(&stop, 1);
	join_within(t, 5000);
	join_within(t2, 5000);
	SYS(sigprocmask(SIG_SETMASK, &old, NULL));
	CHECK_EQ(atomic_load(&h_count), 1);
	signal(SIGUSR2, SIG_DFL);
}

/* --- blocking read woken by another thread ------------------------------ */
static int rp[2];
static atomic_int reading;

static void *reader(void *arg)
{
	(void)arg;
	char buf[8] = {0};
	atomic_store(&reading, 1);
	ssize_t n = read(rp[0], buf, sizeof(buf));
	return (void *)(intptr_t)(n == 5 && memcmp(buf, "hello", 5) == 0
				      ? 1
				      : -n - 100);
}

static void pipe_wake(void)
{
	SYS(pipe(rp));
	for (int round = 0; round < 3; round++) {
		atomic_store(&reading, 0);
		pthread_t t;
		CHECK_EQ(pthread_create(&t, NULL, reader, NULL), 0);
		CHECK(wait_flag(&reading, 5000));
		usleep(20000); /* let it block in read */
		CHECK_EQ(write(rp[1], "hello", 5), 5);
		CHECK_EQ((intptr_t)join_within(t, 5000), 1);
	}
	close(rp[0]);
	close(rp[1]);
}

/* --- a spinning thread interrupted -------------------------------------- */
static volatile sig_atomic_t spin_stop;
static atomic_int spinning;
static volatile pid_t spin_handler_tid;

static void on_spin(int sig)
{
	(void)sig;
	spin_handler_tid = gettid_();
	spin_stop = 1;
}

static void *spinner(void *arg)
{
	unsigned long n = 0;
	*(pid_t *)arg = gettid_();
	atomic_store(&spinning, 1);
	/* No syscalls in here: only a signal can end it. */
	while (!spin_stop)
		n++;
	return (void *)n;
}

static void spin_interrupt(void)
{
	install(SIGUSR1, on_spin);
	for (int round = 0; round < 3; round++) {
		spin_stop = 0;
		spin_handler_tid = 0;
		atomic_store(&spinning, 0);
		pid_t tid = 0;
		pthread_t t;
		CHECK_EQ(pthread_create(&t, NULL, spinner, &tid), 0);
		CHECK(wait_flag(&spinning, 5000));
		usleep(20000); /* it is in the loop, in guest code */
		CHECK_EQ(pthread_kill(t, SIGUSR1), 0);
		void *n = join_within(t, 5000);
		CHECK(n != NULL);
		CHECK_EQ(spin_handler_tid, tid);
	}
	signal(SIGUSR1, SIG_DFL);
}

/* --- exit_group from a thread while others block ------------------------ */
static int blockp[2];

static void *block_read(void *arg)
{
	(void)arg;
	char c;
	(void)!read(blockp[0], &c, 1);
	return NULL;
}

static void *block_sleep(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void *exit_later(void *arg)
{
	usleep(30000);
	exit((int)(intptr_t)arg);
}

static void exit_group_thread(void)
{
	for (int variant = 0; variant < 2; variant++) {
		pid_t pid = SYS(fork());
		if (pid == 0) {
			if (pipe(blockp) < 0)
				_exit(2);
			pthread_t t;
			for (int i = 0; i < 2; i++) {
				pthread_create(&t, NULL, block_read, NULL);
				pthread_create(&t, NULL, block_sleep, NULL);
			}
			if (variant == 0) {
				/* A non-main thread exits; main blocks. */
				pthread_create(&t, NULL, exit_later,
					       (void *)(intptr_t)42);
				char c;
				(void)!read(blockp[0], &c, 1);
				_exit(3);
			}
			/* Main exits while all others block. */
			usleep(30000);
			exit(43);
		}
		int st = wait_child(pid, 5000);
		CHECK_EQ(child_status(st), variant == 0 ? 42 : 43);
	}
	/* A fatal signal kills every thread too. */
	pid_t pid = SYS(fork());
	if (pid == 0) {
		if (pipe(blockp) < 0)
			_exit(2);
		pthread_t t;
		for (int i = 0; i < 3; i++)
			pthread_create(&t, NULL, block_read, NULL);
		pause();
		_exit(3);
	}
	usleep(30000);
	SYS(kill(pid, SIGTERM));
	CHECK_EQ(child_status(wait_child(pid, 5000)), 1000 + SIGTERM);
}

/* --- execve from a non-main thread -------------------------------------- */
static char *self_exe;
static char pidarg[32];

static void *execer(void *arg)
{
	(void)arg;
	usleep(20000);
	char *argv[] = {self_exe, "--exec-marker", pidarg, NULL};
	execv(self_exe, argv);
	_exit(5);
}

/* The re-executed program: same pid, which is also its only thread's tid. */
static int exec_marker(const char *want_pid)
{
	pid_t me = getpid();
	if (me != atoi(want_pid)) {
		fprintf(stderr, "exec marker: pid %d, want %s\n", me, want_pid);
		return 10;
	}
	if (gettid_() != me) {
		fprintf(stderr, "exec marker: tid %d != pid %d\n", gettid_(),
			me);
		return 11;
	}
	printf("exec-marker ok\n");
	return 77;
}

static void exec_thread(void)
{
	static char buf[4096];
	ssize_t n = SYS(readlink("/proc/self/exe", buf, sizeof(buf) - 1));
	buf[n] = 0;
	self_exe = buf;
	for (int variant = 0; variant < 2; variant++) {
		int p[2];
		SYS(pipe(p));
		pid_t pid = SYS(fork());
		if (pid == 0) {
			close(p[0]);
			dup2(p[1], 1);
			snprintf(pidarg, sizeof(pidarg), "%d", getpid());
			pthread_t t;
			if (pipe(blockp) < 0)
				_exit(2);
			if (variant == 1) /* more threads to tear down */
				for (int i = 0; i < 3; i++)
					pthread_create(&t, NULL, block_read,
						       NULL);
			pthread_create(&t, NULL, execer, NULL);
			char c;
			(void)!read(blockp[0], &c, 1); /* main blocks */
			_exit(4);
		}
		close(p[1]);
		/* Reaped first: a child stuck in exec must not hang the read.
		 */
		CHECK_EQ(child_status(wait_child(pid, 5000)), 77);
		char out[64] = {0};
		ssize_t r = read_full(p[0], out, sizeof(out) - 1);
		close(p[0]);
		CHECK(r > 0);
		CHECK_STR(out, "exec-marker ok\n");
	}
}

/* --- TLS ---------------------------------------------------------------- */
static __thread int tls_val = 5;
static __thread char tls_buf[64] = "initial";

static void *tls_thread(void *arg)
{
	int id = (int)(intptr_t)arg;
	/* A fresh thread sees the initial image, not another thread's. */
	if (tls_val != 5 || strcmp(tls_buf, "initial") != 0)
		return (void *)(intptr_t)-1;
	tls_val = 100 + id;
	snprintf(tls_buf, sizeof(tls_buf), "thread %d", id);
	for (int i = 0; i < 50; i++) {
		sched_yield();
		if (tls_val != 100 + id)
			return (void *)(intptr_t)-2;
	}
	char want[64];
	snprintf(want, sizeof(want), "thread %d", id);
	if (strcmp(tls_buf, want) != 0)
		return (void *)(intptr_t)-3;
	return (void *)&tls_val;
}

static void tls(void)
{
	tls_val = 7;
	strcpy(tls_buf, "main");
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		CHECK_EQ(pthread_create(&t[i], NULL, tls_thread,
					(void *)(intptr_t)i),
			 0);
	void *addr[4];
	for (int i = 0; i < 4; i++) {
		addr[i] = join_within(t[i], 5000);
		CHECK((intptr_t)addr[i] > 0);
		CHECK(addr[i] != (void *)&tls_val);
		for (int j = 0; j < i; j++)
			CHECK(addr[i] != addr[j]);
	}
	CHECK_EQ(tls_val, 7);
	CHECK_STR(tls_buf, "main");
}

/* --- pthread_exit and join ---------------------------------------------- */
static void *exits_early(void *arg)
{
	pthread_exit(arg);
}

static void *exits_late(void *arg)
{
	usleep(30000);
	pthread_exit(arg);
}

static __attribute__((noinline)) void exit_inner(void *arg)
{
	pthread_exit((char *)arg + 1);
}

static void *exits_deep(void *arg)
{
	/* pthread_exit from a nested call unwinds the thread. */
	exit_inner(arg);
	return NULL;
}

static void thread_exit(void)
{
	pthread_t t;
	/* Joined after it exited (the tid word is already clear). */
	CHECK_EQ(pthread_create(&t, NULL, exits_early, (void *)0x1234), 0);
	usleep(20000);
	CHECK(join_within(t, 5000) == (void *)0x1234);
	/* Joined before it exits (join sleeps on the tid futex until the
	 * kernel clears it and wakes it: CLONE_CHILD_CLEARTID). */
	CHECK_EQ(pthread_create(&t, NULL, exits_late, (void *)0x5678), 0);
	CHECK(join_within(t, 5000) == (void *)0x5678);
	CHECK_EQ(pthread_create(&t, NULL, exits_deep, (void *)0x100), 0);
	CHECK(join_within(t, 5000) == (void *)0x101);
	/* Many short threads: tids are reused, joins never miss a wakeup. */
	for (int i = 0; i < 50; i++) {
		pthread_t ts[4];
		for (int j = 0; j < 4; j++)
			CHECK_EQ(pthread_create(&ts[j], NULL, exits_early,
						(void *)(intptr_t)(i * 4 + j)),
				 0);
		for (int j = 0; j < 4; j++)
			CHECK(join_within(ts[j], 5000) ==
			      (void *)(intptr_t)(i * 4 + j));
	}
	/* A detached thread that exits does not disturb anyone. */
	pthread_attr_t a;
	pthread_attr_init(&a);
	pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
	CHECK_EQ(pthread_create(&t, &a, exits_early, NULL), 0);
	pthread_attr_destroy(&a);
	usleep(10000);
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--exec-marker") == 0)
		return exec_marker(argv[2]);
	step("ids");
	ids();
	step("prodcons");
	prodcons();
	step("targeted");
	targeted();
	step("process_directed");
	process_directed();
	step("pipe_wake");
	pipe_wake();
	step("spin_interrupt");
	spin_interrupt();
	step("exit_group_thread");
	exit_group_thread();
	step("exec_thread");
	exec_thread();
	step("tls");
	tls();
	step("thread_exit");
	thread_exit();
	pass("threads");
	return 0;
}
