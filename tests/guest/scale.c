/* Scale is behaviour: tens of thousands of files in one directory (tmpfs
 * and the rootfs), of mappings and of fds, a thousand live processes, a
 * thousand threads in one process.
 * Each phase checks that what it made is all there, and that the cost of
 * one operation does not grow with the count: the last thousand cost at
 * most SCALE_GROWTH times the first thousand (each the cheapest of its
 * ten hundreds, times ten) (a list walk would make it
 * ~50 times), measured in the same run so the platform and the machine's
 * load cancel out. A phase also has a budget relative to the same program
 * natively when the runner passes its times (BH_NATIVE_TIMES=
 * "name=ms,..."), generous enough for the slowest platform on a loaded
 * machine; it only catches a runaway. Prints "phase NAME MS" lines, which
 * the runner records natively. */
#include <dirent.h>
#include <stdbool.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>

#include "check.h"

#define NFILES	 50000
#define NMAPS	 20000
#define NFDS	 20000
#define NPROCS	 1000
#define NTHREADS 1000
#define BATCH	 1000
/* The last batch of an operation may cost this many times the first. */
#define SCALE_GROWTH 8.0
/* Slack for a batch, in ms, so tiny batches do not fail on noise. */
#define BATCH_SLACK_MS 20.0

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* One batch of BATCH operations, timed in sub-batches of SUB: its cost
 * is the cheapest sub-batch's, times BATCH / SUB, so that a moment the
 * thread lost its CPU on a loaded machine does not count. */
#define SUB 100
struct batch {
	double t, best;
	int k;
};

static void bt_start(struct batch *b)
{
	b->t = now_ms();
	b->best = 1e300;
	b->k = 0;
}

/* After each operation of the batch. */
static void bt_op(struct batch *b)
{
	if (++b->k % SUB)
		return;
	double n = now_ms();
	if (n - b->t < b->best)
		b->best = n - b->t;
	b->t = n;
}

static double bt_cost(const struct batch *b)
{
	return b->best * (BATCH / SUB);
}

/* The first and the last batch of one operation. */
static void check_growth(const char *what, const struct batch *bf,
			 const struct batch *bl)
{
	double first = bt_cost(bf), last = bt_cost(bl);
	printf("  %s: first %d %.1f ms, last %d %.1f ms\n", what, BATCH, first,
	       BATCH, last);
	/* Natively a disk's journal can stall any batch: the host is the
	 * spec of what is made, the growth bound is the sandbox's. */
	if (!getenv("BH_EXPECT_PID1"))
		return;
	checks++;
	if (last > SCALE_GROWTH * first + BATCH_SLACK_MS)
		FAIL_AT("%s: the last %d cost %.1f ms, the first %.1f ms: "
			"per-op cost grows with the count",
			what, BATCH, last, first);
}

static double native_ms(const char *phase)
{
	const char *s = getenv("BH_NATIVE_TIMES");
	size_t n = strlen(phase);
	while (s && *s) {
		if (!strncmp(s, phase, n) && s[n] == '=')
			return atof(s + n + 1);
		s = strchr(s, ',');
		if (s)
			s++;
	}
	return -1;
}

static void phase_done(const char *phase, double t0)
{
	double ms = now_ms() - t0;
	printf("phase %s %.0f\n", phase, ms);
	double nat = native_ms(phase);
	/* ptrace costs ~500 times native per syscall; twice that, plus a
	 * minute, is a runaway and nothing else. */
	double budget = nat >= 0 ? nat * 1000 + 60000 : 300000;
	checks++;
	if (ms > budget)
		FAIL_AT("phase %s took %.0f ms, budget %.0f ms (native %.0f)",
			phase, ms, budget, nat);
	fflush(stdout);
}

static void files_in(const char *phase, const char *base)
{
	char dir[256], path[320];
	snprintf(dir, sizeof(dir), "%s/scale.%d", base, getpid());
	SYS(mkdir(dir, 0755));
	double t0 = now_ms();
	struct batch cf = {0}, cl = {0}, sf = {0}, sl = {0};
	for (int i = 0; i < NFILES; i++) {
		if (i == 0)
			bt_start(&cf);
		if (i == NFILES - BATCH)
			bt_start(&cl);
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		int fd = open(path, O_CREAT | O_EXCL | O_WRONLY, 0644);
		if (fd < 0)
			FAIL_AT("create %s (%d files so far): %s", path, i,
				strerror(errno));
		close(fd);
		bt_op(i < BATCH ? &cf : &cl);
		if (i == BATCH - 1) {
			/* stat with a small directory. */
			struct stat st;
			bt_start(&sf);
			for (int k = 0; k < BATCH; k++) {
				snprintf(path, sizeof(path), "%s/f%d", dir, k);
				SYS(stat(path, &st));
				bt_op(&sf);
			}
		}
	}
	check_growth("create", &cf, &cl);
	/* stat in the full directory, of the files made last: cached like
	 * the first batch was, so this compares lookups, not cache misses
	 * (a rootfs directory larger than the dcache misses on a sweep). */
	struct stat st;
	bt_start(&sl);
	for (int i = NFILES - BATCH; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		SYS(stat(path, &st));
		bt_op(&sl);
	}
	/* Every file is there. */
	for (int i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			FAIL_AT("stat %s: %s", path, strerror(errno));
	}
	check_growth("stat", &sf, &sl);
	/* Listed exactly once each. */
	unsigned char *seen = calloc(NFILES, 1);
	CHECK(seen != NULL);
	DIR *d = opendir(dir);
	CHECK(d != NULL);
	struct dirent *de;
	int n = 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		int k = atoi(de->d_name + 1);
		CHECK(k >= 0 && k < NFILES && !seen[k]);
		seen[k] = 1;
		n++;
	}
	closedir(d);
	CHECK_EQ(n, NFILES);
	free(seen);
	for (int i = 0; i < NFILES; i++) {
		snprintf(path, sizeof(path), "%s/f%d", dir, i);
		if (unlink(path) != 0)
			FAIL_AT("unlink %s: %s", path, strerror(errno));
	}
	SYS(rmdir(dir));
	phase_done(phase, t0);
}

static void mappings(void)
{
	double t0 = now_ms();
	struct batch bf = {0}, bl = {0};
	void **m = calloc(NMAPS, sizeof(*m));
	CHECK(m != NULL);
	for (int i = 0; i < NMAPS; i++) {
		if (i == 0)
			bt_start(&bf);
		if (i == NMAPS - BATCH)
			bt_start(&bl);
		/* Alternate protections so that neighbours never merge. */
		int prot = i % 2 ? PROT_READ : PROT_READ | PROT_WRITE;
		m[i] =
		    mmap(NULL, 4096, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m[i] == MAP_FAILED)
			FAIL_AT("mmap %d: %s", i, strerror(errno));
		if (i < BATCH)
			bt_op(&bf);
		else if (i >= NMAPS - BATCH)
			bt_op(&bl);
	}
	check_growth("mmap", &bf, &bl);
	/* /proc/self/maps lists every one (no size cap). */
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL);
	char line[512];
	int lines = 0;
	while (fgets(line, sizeof(line), f))
		lines++;
	fclose(f);
	CHECK(lines >= NMAPS);
	for (int i = 0; i < NMAPS; i++)
		SYS(munmap(m[i], 4096));
	free(m);
	phase_done("mappings", t0);
}

static void fds(void)
{
	struct rlimit rl;
	SYS(getrlimit(RLIMIT_NOFILE, &rl));
	rl.rlim_cur = rl.rlim_max;
	SYS(setrlimit(RLIMIT_NOFILE, &rl));
	int n = NFDS;
	if (rl.rlim_cur < (rlim_t)NFDS + 64)
		n = (int)rl.rlim_cur - 64;
	printf("  fds: %d\n", n);
	double t0 = now_ms();
	struct batch bf = {0}, bl = {0};
	int *fd = calloc((size_t)n, sizeof(int));
	CHECK(fd != NULL);
	for (int i = 0; i < n; i++) {
		if (i == 0)
			bt_start(&bf);
		if (i == n - BATCH)
			bt_start(&bl);
		fd[i] = dup(1);
		if (fd[i] < 0)
			FAIL_AT("dup %d: %s", i, strerror(errno));
		if (i < BATCH)
			bt_op(&bf);
		else if (i >= n - BATCH)
			bt_op(&bl);
	}
	check_growth("dup", &bf, &bl);
	for (int i = 0; i < n; i++)
		SYS(close(fd[i]));
	free(fd);
	phase_done("fds", t0);
}

static void kill_batch(pid_t *pids, int n, struct batch *b)
{
	bt_start(b);
	for (int i = 0; i < BATCH; i++) {
		SYS(kill(pids[i % n], 0));
		bt_op(b);
	}
}

static void processes(void)
{
	double t0 = now_ms();
	int p[2];
	SYS(pipe(p));
	pid_t *pids = calloc(NPROCS, sizeof(pid_t));
	CHECK(pids != NULL);
	struct batch few = {0}, many = {0};
	for (int i = 0; i < NPROCS; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			FAIL_AT("fork %d: %s", i, strerror(errno));
		if (pids[i] == 0) {
			char c;
			close(p[1]);
			_exit(read(p[0], &c, 1) == 0 ? 0 : 1);
		}
		if (i == 9)
			kill_batch(pids, 10, &few);
	}
	close(p[0]);
	kill_batch(pids, NPROCS, &many);
	check_growth("kill(pid, 0)", &few, &many);
	close(p[1]); /* every child reads EOF and exits 0 */
	for (int i = 0; i < NPROCS; i++) {
		int st;
		CHECK_EQ(waitpid(pids[i], &st, 0), pids[i]);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	CHECK_ERR(waitpid(-1, NULL, WNOHANG), ECHILD);
	free(pids);
	phase_done("processes", t0);
}

static pthread_barrier_t tbar;

static void *thread_body(void *arg)
{
	/* Each makes syscalls of its own while all are alive. */
	*(pid_t *)arg = gettid();
	pthread_barrier_wait(&tbar);
	return NULL;
}

static void threads(void)
{
	double t0 = now_ms();
	pthread_t *th = calloc(NTHREADS, sizeof(*th));
	pid_t *tids = calloc(NTHREADS, sizeof(*tids));
	CHECK(th != NULL && tids != NULL);
	CHECK_EQ(pthread_barrier_init(&tbar, NULL, NTHREADS + 1), 0);
	pthread_attr_t at;
	CHECK_EQ(pthread_attr_init(&at), 0);
	CHECK_EQ(pthread_attr_setstacksize(&at, 64 << 10), 0);
	for (int i = 0; i < NTHREADS; i++) {
		int r = pthread_create(&th[i], &at, thread_body, &tids[i]);
		if (r)
			FAIL_AT("pthread_create %d: %s", i, strerror(r));
	}
	/* Every one is alive (each waits for main at the barrier), and
	 * /proc/self/task lists them all with the main thread. */
	DIR *d = opendir("/proc/self/task");
	CHECK(d != NULL);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	CHECK(n >= NTHREADS + 1);
	/* All alive at once: the barrier opens only with every one in. */
	pthread_barrier_wait(&tbar);
	for (int i = 0; i < NTHREADS; i++)
		CHECK_EQ(pthread_join(th[i], NULL), 0);
	for (int i = 0; i < NTHREADS; i++)
		CHECK(tids[i] > 0 && tids[i] != getpid());
	pthread_attr_destroy(&at);
	pthread_barrier_destroy(&tbar);
	free(th);
	free(tids);
	phase_done("threads", t0);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* tmpfs: /tmp in the sandbox; natively /tmp if it is a tmpfs, else
	 * /dev/shm. The rootfs: /var/tmp, a directory of the image. */
	struct statfs sf;
	bool tmp_is_tmpfs =
	    statfs("/tmp", &sf) == 0 && sf.f_type == 0x01021994 /* TMPFS */;
	files_in("tmpfs_files", tmp_is_tmpfs ? "/tmp" : "/dev/shm");
	files_in("rootfs_files", "/var/tmp");
	mappings();
	fds();
	processes();
	threads();
	printf("scale: %d checks\n", checks);
	return 0;
}
