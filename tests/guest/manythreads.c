/* Many threads in one process: far more than a runtime with a small fixed
 * table of per-thread state can hold (Java, Go and Node thread pools run
 * hundreds). 300 threads alive at once, each making syscalls; 2,000
 * short-lived threads in waves of 100, so that whatever a thread holds is
 * given back and reused; a fork from a process with 150 threads whose child
 * starts 150 of its own. Waits are on barriers and joins, never on timing,
 * and every join is bounded so that a lost thread fails a check instead of
 * hanging the run. */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include "check.h"

#define ALIVE	   300
#define WAVES	   20
#define WAVE	   100
#define FORK_PAR   150
#define FORK_CHILD 150
/* Small stacks: hundreds of threads, each needing only a few frames. */
#define STACK_SIZE (128 * 1024)

static void step(const char *what)
{
	printf("-- %s\n", what);
	fflush(stdout);
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static pthread_attr_t attr;

static void start(pthread_t *t, void *(*fn)(void *), void *arg)
{
	int r = pthread_create(t, &attr, fn, arg);
	if (r)
		FAIL_AT("pthread_create: %s", strerror(r));
}

/* pthread_join with a generous deadline. */
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

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
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
		usleep(2000);
	}
}

/* What each thread of a group reports through the pipe: one write of
 * fewer than PIPE_BUF bytes, so reports never interleave. */
struct report {
	int idx;
	pid_t tid, pid;
};

struct group {
	int n;
	int wfd;
	pid_t pid; /* the process the threads must be in */
	pthread_barrier_t all_up;
	atomic_int done;
};

struct member {
	struct group *g;
	int idx;
	pid_t tid;
};

/* Syscalls on the way up, then wait with all the others alive, then a few
 * more on the way out. */
static void *member_main(void *arg)
{
	struct member *m = arg;
	struct report rep = {m->idx, gettid_(), getpid()};
	m->tid = rep.tid;
	if (write(m->g->wfd, &rep, sizeof(rep)) != sizeof(rep))
		return NULL;
	int r = pthread_barrier_wait(&m->g->all_up);
	if (r != 0 && r != PTHREAD_BARRIER_SERIAL_THREAD)
		return NULL;
	if (getpid() != m->g->pid || gettid_() != rep.tid)
		return NULL;
	atomic_fetch_add(&m->g->done, 1);
	return m;
}

/* n threads alive at once in this process, all checked in through the
 * pipe and through the barrier, then joined. */
static void run_group(int n)
{
	struct group g = {.n = n, .pid = getpid()};
	int p[2];
	SYS(pipe(p));
	g.wfd = p[1];
	CHECK_EQ(pthread_barrier_init(&g.all_up, NULL, (unsigned)n + 1), 0);
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	struct member *m = calloc((size_t)n, sizeof(*m));
	struct report *rep = calloc((size_t)n, sizeof(*rep));
	char *seen = calloc((size_t)n, 1);
	CHECK(t && m && rep && seen);
	for (int i = 0; i < n; i++) {
		m[i] = (struct member){.g = &g, .idx = i};
		start(&t[i], member_main, &m[i]);
	}
	/* Every thread is alive and blocked until this returns. */
	int r = pthread_barrier_wait(&g.all_up);
	CHECK(r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD);
	CHECK_EQ(read_full(p[0], rep, (size_t)n * sizeof(*rep)),
		 (long)((size_t)n * sizeof(*rep)));
	for (int i = 0; i < n; i++) {
		CHECK(rep[i].idx >= 0 && rep[i].idx < n);
		CHECK(!seen[rep[i].idx]);
		seen[rep[i].idx] = 1;
		CHECK_EQ(rep[i].pid, g.pid);
		CHECK(rep[i].tid > 0 && rep[i].tid != g.pid);
	}
	for (int i = 0; i < n; i++)
		CHECK(join_within(t[i], 30000) == &m[i]);
	CHECK_EQ(atomic_load(&g.done), n);
	/* All tids distinct: compare against the reports, sorted by idx. */
	for (int i = 0; i < n; i++)
		CHECK_EQ(rep[i].tid, m[rep[i].idx].tid);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (m[i].tid == m[j].tid)
				FAIL_AT("threads %d and %d share tid %d", i, j,
					m[i].tid);
	pthread_barrier_destroy(&g.all_up);
	close(p[0]);
	close(p[1]);
	free(t);
	free(m);
	free(rep);
	free(seen);
}

/* --- short-lived threads ------------------------------------------------ */
static void *brief(void *arg)
{
	/* One syscall, then gone: its resources must come back. */
	return gettid_() > 0 ? arg : NULL;
}

static void waves(void)
{
	pthread_t t[WAVE];
	long tag[WAVE];
	for (int w = 0; w < WAVES; w++) {
		for (int i = 0; i < WAVE; i++) {
			tag[i] = (long)w * WAVE + i;
			start(&t[i], brief, &tag[i]);
		}
		for (int i = 0; i < WAVE; i++)
			CHECK(join_within(t[i], 30000) == &tag[i]);
	}
}

/* --- fork from a crowd -------------------------------------------------- */
static pthread_barrier_t hold;

static void *holder(void *arg)
{
	/* Blocked across the fork; released after the child is done. */
	int r = pthread_barrier_wait(&hold);
	return r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD ? arg : NULL;
}

static void fork_crowd(void)
{
	pthread_t t[FORK_PAR];
	CHECK_EQ(pthread_barrier_init(&hold, NULL, FORK_PAR + 1), 0);
	for (int i = 0; i < FORK_PAR; i++)
		start(&t[i], holder, &t[i]);
	pid_t pid = SYS(fork());
	if (pid == 0) {
		/* Only the forking thread came along; this process has
		 * room for a crowd of its own. */
		run_group(FORK_CHILD);
		fflush(stdout);
		_exit(0);
	}
	CHECK_EQ(child_status(wait_child(pid, 30000)), 0);
	int r = pthread_barrier_wait(&hold);
	CHECK(r == 0 || r == PTHREAD_BARRIER_SERIAL_THREAD);
	for (int i = 0; i < FORK_PAR; i++)
		CHECK(join_within(t[i], 30000) == &t[i]);
	pthread_barrier_destroy(&hold);
	/* And the parent, back to one thread, can still make more. */
	run_group(8);
}

int main(void)
{
	CHECK_EQ(pthread_attr_init(&attr), 0);
	CHECK_EQ(pthread_attr_setstacksize(&attr, STACK_SIZE), 0);
	step("300 threads alive at once");
	run_group(ALIVE);
	step("2000 short-lived threads, 100 at a time");
	waves();
	step("300 alive again, after the waves");
	run_group(ALIVE);
	step("fork from 150 threads; the child starts 150");
	fork_crowd();
	pass("manythreads");
	return 0;
}
