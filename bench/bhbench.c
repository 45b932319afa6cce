/* Microbenchmarks. `bhbench all [SCALE]` runs every one; `bhbench NAME
 * [SCALE]` one. Each runs a fixed number of iterations (divided by SCALE,
 * for slow runtimes) REPS times and prints the median as
 *   RESULT <name> <unit> <value>
 * with unit ns (per operation), us (a latency percentile), MBps, ms (per
 * whole run) or x (a ratio). Files live under BENCH_DIR (default /bench),
 * which run.sh prepares.
 *
 * The scale benchmarks (create_20k, mmap_15k, dup_15k, rootfs_50k and the
 * set-ups of stat_8k_dir, stat_8k_rootfs and kill0_1000) use the same
 * counts whatever SCALE is: they measure how the kernel copes with many
 * objects, not how fast one operation is. They make what they need in
 * scratch directories and remove it; one that fails prints
 *   bhbench: <name>: n/a: <why>
 * on stderr, no RESULT, and the others still run. `INFO <key> <value>...`
 * lines on stdout say where they ran. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REPS 5

static const char *dir = "/bench";
static long scale = 1;
static char path_file[512], path_big[512], path_tree[512], path_true[512];

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void die(const char *what)
{
	fprintf(stderr, "bhbench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double median(double *v)
{
	qsort(v, REPS, sizeof(double), cmp_double);
	return v[REPS / 2];
}

/* Runs fn(n) REPS times; reports median ns per iteration. */
static void per_op(const char *name, long n, void (*fn)(long))
{
	double v[REPS];
	/* At least 100 iterations (or all there are) whatever the scale: a
	 * run of a few dozen forks catches one phase of the scheduler's
	 * placement, not its mix. */
	long min = n < 100 ? n : 100;
	n = n / scale > min ? n / scale : min;
	fn(n > 10 ? n / 10 : 1); /* warm up */
	for (int r = 0; r < REPS; r++) {
		double t = now_ns();
		fn(n);
		v[r] = (now_ns() - t) / n;
	}
	printf("RESULT %s ns %.1f\n", name, median(v));
	fflush(stdout);
}

static void b_getpid(long n)
{
	for (long i = 0; i < n; i++)
		syscall(SYS_getpid);
}

static void b_open_close(long n)
{
	for (long i = 0; i < n; i++) {
		int fd = open(path_file, O_RDONLY);
		if (fd < 0)
			die(path_file);
		close(fd);
	}
}

static void b_pread(long n)
{
	static char buf[4096];
	int fd = open(path_file, O_RDONLY);
	if (fd < 0)
		die(path_file);
	for (long i = 0; i < n; i++)
		if (pread(fd, buf, sizeof(buf), 0) != sizeof(buf))
			die("pread");
	close(fd);
}

static void b_stat(long n)
{
	struct stat st;
	for (long i = 0; i < n; i++)
		if (stat(path_file, &st) != 0)
			die("stat");
}

static void b_fork(long n)
{
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0 || waitpid(pid, NULL, 0) != pid)
			die("fork");
	}
}

static void b_exec(long n)
{
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			char *av[] = {path_true, NULL};
			execv(path_true, av);
			_exit(127);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || st != 0)
			die("fork+exec");
	}
}

static void b_pipe(long n)
{
	int a[2], b[2];
	char c = 'x';
	if (pipe(a) || pipe(b))
		die("pipe");
	pid_t pid = fork();
	if (pid == 0) {
		/* Without the other ends closed, EOF never comes. */
		close(a[1]);
		close(b[0]);
		while (read(a[0], &c, 1) == 1)
			if (write(b[1], &c, 1) != 1)
				break;
		_exit(0);
	}
	close(a[0]);
	close(b[1]);
	for (long i = 0; i < n; i++)
		if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
			die("pipe round trip");
	close(a[1]);
	waitpid(pid, NULL, 0);
	close(b[0]);
}

/* A round trip through a pipe with both sides waiting in epoll_wait, as
 * an event loop does. */
static void b_epoll_rt(long n)
{
	int a[2], b[2];
	char c = 'x';
	if (pipe(a) || pipe(b))
		die("pipe");
	pid_t pid = fork();
	if (pid == 0) {
		close(a[1]);
		close(b[0]);
		int ep = epoll_create1(0);
		struct epoll_event ev = {.events = EPOLLIN};
		if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, a[0], &ev))
			_exit(1);
		for (;;) {
			if (epoll_wait(ep, &ev, 1, -1) != 1)
				_exit(1);
			if (read(a[0], &c, 1) != 1 || write(b[1], &c, 1) != 1)
				_exit(0);
		}
	}
	close(a[0]);
	close(b[1]);
	int ep = epoll_create1(0);
	struct epoll_event ev = {.events = EPOLLIN};
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, b[0], &ev))
		die("epoll");
	for (long i = 0; i < n; i++)
		if (write(a[1], &c, 1) != 1 ||
		    epoll_wait(ep, &ev, 1, -1) != 1 || read(b[0], &c, 1) != 1)
			die("epoll round trip");
	close(a[1]);
	waitpid(pid, NULL, 0);
	close(b[0]);
	close(ep);
}

/* Two processes passing a count back and forth through two eventfds. */
static void b_eventfd_pp(long n)
{
	int to = eventfd(0, 0), from = eventfd(0, 0);
	if (to < 0 || from < 0)
		die("eventfd");
	uint64_t v = 1;
	pid_t pid = fork();
	if (pid == 0) {
		for (;;) {
			if (read(to, &v, 8) != 8)
				_exit(1);
			if (v == 2)
				_exit(0);
			if (write(from, &v, 8) != 8)
				_exit(1);
		}
	}
	for (long i = 0; i < n; i++) {
		v = 1;
		if (write(to, &v, 8) != 8 || read(from, &v, 8) != 8)
			die("eventfd ping-pong");
	}
	v = 2;
	if (write(to, &v, 8) != 8)
		die("eventfd");
	waitpid(pid, NULL, 0);
	close(to);
	close(from);
}

static void b_mmap(long n)
{
	for (long i = 0; i < n; i++) {
		char *p = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("mmap");
		for (int off = 0; off < 1 << 20; off += 4096)
			p[off] = 1;
		munmap(p, 1 << 20);
	}
}

static long walk(const char *path)
{
	DIR *d = opendir(path);
	if (!d)
		return 0;
	long n = 0;
	struct dirent *de;
	char sub[1024];
	struct stat st;
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (lstat(sub, &st) != 0)
			die(sub);
		n++;
		if (S_ISDIR(st.st_mode))
			n += walk(sub);
	}
	closedir(d);
	return n;
}

static void b_walk(long n)
{
	for (long i = 0; i < n; i++)
		if (walk(path_tree) < 1000)
			die("tree walk: tree missing");
}

/* Sequential 64 MiB write (with fsync-free close) then read, in MB/s. */
static void b_seq(void)
{
	enum { CHUNK = 1 << 20, TOTAL = 64 };
	static char buf[CHUNK];
	double w[REPS], r[REPS];
	memset(buf, 'b', sizeof(buf));
	for (int rep = 0; rep < REPS; rep++) {
		double t = now_ns();
		int fd = open(path_big, O_CREAT | O_TRUNC | O_WRONLY, 0644);
		if (fd < 0)
			die(path_big);
		for (int i = 0; i < TOTAL; i++)
			if (write(fd, buf, CHUNK) != CHUNK)
				die("write");
		close(fd);
		w[rep] = TOTAL * 1.048576 * 1e9 / (now_ns() - t);
		t = now_ns();
		fd = open(path_big, O_RDONLY);
		if (fd < 0)
			die(path_big);
		while (read(fd, buf, CHUNK) > 0)
			;
		close(fd);
		r[rep] = TOTAL * 1.048576 * 1e9 / (now_ns() - t);
	}
	unlink(path_big);
	printf("RESULT write_64m MBps %.0f\n", median(w));
	printf("RESULT read_64m MBps %.0f\n", median(r));
	fflush(stdout);
}

/* A whole shell command, run REPS times; median ms per run. */
static void b_cmd(const char *name, const char *script)
{
	double v[REPS];
	for (int rep = 0; rep < REPS; rep++) {
		double t = now_ns();
		pid_t pid = fork();
		if (pid == 0) {
			execl("/bin/sh", "sh", "-c", script, (char *)NULL);
			_exit(127);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || st != 0)
			die(name);
		v[rep] = (now_ns() - t) / 1e6;
	}
	printf("RESULT %s ms %.2f\n", name, median(v));
	fflush(stdout);
}

/* ---- Scale benchmarks ---- */

#define SCALE_REPS 3
/* rootfs_50k is slow on a slow host filesystem: one run, the rounds give
 * the median. */
#define TREE_REPS 1

/* The parent of the in-memory scratch directories: /tmp when it is a
 * tmpfs (it is in the bundle's config), else BENCH_DIR on the rootfs. */
static char scratch_parent[512];
static char scratch_fs[32];

/* A failed scale benchmark: says why on stderr; the run goes on. */
static int nafail(const char *name, const char *fmt, ...)
{
	int e = errno;
	char why[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	fprintf(stderr, "bhbench: %s: n/a: %s: %s\n", name, why, strerror(e));
	fflush(stderr);
	return -1;
}

static const char *fs_kind(const char *path, char *buf, size_t n)
{
	struct statfs sf;
	if (statfs(path, &sf) != 0)
		snprintf(buf, n, "unknown");
	else if (sf.f_type == 0x01021994)
		snprintf(buf, n, "tmpfs");
	else if (sf.f_type == 0xEF53)
		snprintf(buf, n, "ext4");
	else if (sf.f_type == 0x9123683E)
		snprintf(buf, n, "btrfs");
	else if (sf.f_type == 0x794c7630)
		snprintf(buf, n, "overlayfs");
	else if (sf.f_type == 0x01021997)
		snprintf(buf, n, "9p");
	else
		snprintf(buf, n, "0x%lx", (unsigned long)sf.f_type);
	return buf;
}

/* Removes path and everything under it, best effort (for leftovers and
 * after a failure). */
static void rm_tree(const char *path)
{
	DIR *d = opendir(path);
	if (!d) {
		unlink(path);
		return;
	}
	struct dirent *de;
	char sub[1024];
	while ((de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		if (de->d_type == DT_DIR)
			rm_tree(sub);
		else if (unlink(sub) != 0 && errno == EISDIR)
			rm_tree(sub);
	}
	closedir(d);
	rmdir(path);
}

/* A fresh, empty scratch directory PARENT/bhbench-TAG.PID. */
static int mkscratch(char *out, size_t n, const char *parent, const char *tag)
{
	snprintf(out, n, "%s/bhbench-%s.%d", parent, tag, (int)getpid());
	rm_tree(out);
	return mkdir(out, 0755);
}

static void ms_result(const char *name, double *v, int reps)
{
	qsort(v, reps, sizeof(double), cmp_double);
	printf("RESULT %s ms %.1f\n", name, v[reps / 2]);
	fflush(stdout);
}

/* Creates N empty files D/fNNNNN; on failure removes those made. */
static int make_files(const char *name, const char *d, long n)
{
	char p[1024];
	for (long i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/f%05ld", d, i);
		int fd = open(p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0) {
			nafail(name, "create of entry %ld of %ld in %s", i + 1,
			       n, d);
			rm_tree(d);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static int unlink_files(const char *name, const char *d, long n)
{
	char p[1024];
	for (long i = 0; i < n; i++) {
		snprintf(p, sizeof(p), "%s/f%05ld", d, i);
		if (unlink(p) != 0) {
			nafail(name, "unlink of entry %ld of %ld", i + 1, n);
			rm_tree(d);
			return -1;
		}
	}
	return 0;
}

/* create_20k / unlink_20k: 20,000 empty files made in one directory,
 * then unlinked, in the scratch directory's filesystem. */
static void b_create_20k(void)
{
	enum { N = 20000 };
	double c[SCALE_REPS], u[SCALE_REPS];
	char d[600];
	printf("INFO create_20k %s %s\n", scratch_fs, scratch_parent);
	for (int r = 0; r < SCALE_REPS; r++) {
		if (mkscratch(d, sizeof(d), scratch_parent, "create") != 0) {
			nafail("create_20k", "mkdir %s", d);
			return;
		}
		double t = now_ns();
		if (make_files("create_20k", d, N) != 0)
			return;
		c[r] = (now_ns() - t) / 1e6;
		t = now_ns();
		if (unlink_files("unlink_20k", d, N) != 0)
			return;
		u[r] = (now_ns() - t) / 1e6;
		rmdir(d);
	}
	ms_result("create_20k", c, SCALE_REPS);
	ms_result("unlink_20k", u, SCALE_REPS);
}

/* stat_8k_*: stat of files in a directory of 8,000 entries, 64 names
 * spread over it in turn, so that neither end of a list is favoured. */
static char stat_paths[64][640];

static void b_stat_many(long n)
{
	struct stat st;
	for (long i = 0; i < n; i++)
		if (stat(stat_paths[i & 63], &st) != 0)
			die("stat");
}

static void b_stat_8k(const char *name, const char *parent, long iters)
{
	enum { N = 8000 };
	char d[600];
	if (mkscratch(d, sizeof(d), parent, name) != 0) {
		nafail(name, "mkdir %s", d);
		return;
	}
	if (make_files(name, d, N) != 0)
		return;
	for (int k = 0; k < 64; k++)
		snprintf(stat_paths[k], sizeof(stat_paths[k]), "%s/f%05d", d,
			 k * (N / 64) + 7);
	per_op(name, iters, b_stat_many);
	rm_tree(d);
}

/* mmap_15k: 15,000 anonymous one-page mappings, all alive at once, then
 * unmapped. Neighbours alternate protections so that no kernel can merge
 * them into one mapping. */
static void b_mmap_15k(void)
{
	enum { N = 15000 };
	static void *maps[N];
	double v[SCALE_REPS];
	long pg = sysconf(_SC_PAGESIZE);
	for (int r = 0; r < SCALE_REPS; r++) {
		double t = now_ns();
		for (long i = 0; i < N; i++) {
			int prot = i & 1 ? PROT_READ : PROT_READ | PROT_WRITE;
			maps[i] = mmap(NULL, pg, prot,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (maps[i] == MAP_FAILED) {
				nafail("mmap_15k", "mmap %ld of %d", i + 1, N);
				while (i-- > 0)
					munmap(maps[i], pg);
				return;
			}
		}
		for (long i = 0; i < N; i++)
			if (munmap(maps[i], pg) != 0) {
				nafail("mmap_15k", "munmap %ld", i + 1);
				return;
			}
		v[r] = (now_ns() - t) / 1e6;
	}
	ms_result("mmap_15k", v, SCALE_REPS);
}

/* dup_15k: 15,000 dups of one file alive at once, then all closed; the
 * soft RLIMIT_NOFILE raised to the hard one first. */
static void b_dup_15k(void)
{
	enum { N = 15000 };
	static int fds[N];
	double v[SCALE_REPS];
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0) {
		nafail("dup_15k", "getrlimit");
		return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
			nafail("dup_15k", "setrlimit NOFILE to %llu",
			       (unsigned long long)rl.rlim_max);
			return;
		}
	}
	printf("INFO dup_15k RLIMIT_NOFILE %llu\n",
	       (unsigned long long)rl.rlim_cur);
	if (rl.rlim_cur < N + 64) {
		errno = EMFILE;
		nafail("dup_15k", "hard RLIMIT_NOFILE %llu < %d",
		       (unsigned long long)rl.rlim_cur, N + 64);
		return;
	}
	int fd = open(path_file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		nafail("dup_15k", "open %s", path_file);
		return;
	}
	for (int r = 0; r < SCALE_REPS; r++) {
		double t = now_ns();
		for (long i = 0; i < N; i++) {
			fds[i] = dup(fd);
			if (fds[i] < 0) {
				nafail("dup_15k", "dup %ld of %d", i + 1, N);
				while (i-- > 0)
					close(fds[i]);
				close(fd);
				return;
			}
		}
		for (long i = 0; i < N; i++)
			close(fds[i]);
		v[r] = (now_ns() - t) / 1e6;
	}
	close(fd);
	ms_result("dup_15k", v, SCALE_REPS);
}

/* kill0_1000: kill(pid, 0) in turn on 1,000 live children, which block
 * reading a pipe until its write end closes. */
enum { KIDS = 1000 };
static pid_t kids[KIDS];

static void b_kill0(long n)
{
	for (long i = 0; i < n; i++)
		if (kill(kids[i % KIDS], 0) != 0)
			die("kill 0");
}

static void b_kill0_1000(long iters)
{
	int p[2];
	char c;
	int made = 0;
	if (pipe2(p, O_CLOEXEC) != 0) {
		nafail("kill0_1000", "pipe");
		return;
	}
	for (; made < KIDS; made++) {
		pid_t pid = fork();
		if (pid == 0) {
			close(p[1]);
			while (read(p[0], &c, 1) < 0 && errno == EINTR)
				;
			_exit(0);
		}
		if (pid < 0) {
			nafail("kill0_1000", "fork of child %d of %d", made + 1,
			       KIDS);
			break;
		}
		kids[made] = pid;
	}
	if (made == KIDS)
		per_op("kill0_1000", iters, b_kill0);
	close(p[1]);
	close(p[0]);
	for (int i = 0; i < made; i++)
		waitpid(kids[i], NULL, 0);
}

/* getppid_streaming: latency of single getppid() calls on one thread
 * while another reads a 64 MiB rootfs file over and over. Timed with the
 * TSC (calibrated against CLOCK_MONOTONIC), so that a sandbox without a
 * vDSO does not add a clock_gettime trap to each sample. */
static volatile int stream_stop;
static volatile long stream_reads;
static char path_stream[512];

static void *streamer(void *arg)
{
	enum { CHUNK = 1 << 20 };
	char *buf = malloc(CHUNK);
	(void)arg;
	if (!buf)
		return NULL;
	while (!stream_stop) {
		int fd = open(path_stream, O_RDONLY);
		if (fd < 0)
			break;
		while (!stream_stop && read(fd, buf, CHUNK) > 0)
			__atomic_add_fetch(&stream_reads, 1, __ATOMIC_RELAXED);
		close(fd);
	}
	free(buf);
	return NULL;
}

static inline unsigned long long ticks(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return (unsigned long long)now_ns();
#endif
}

static double ns_per_tick(void)
{
#if defined(__x86_64__) || defined(__i386__)
	double t0 = now_ns();
	unsigned long long k0 = ticks();
	while (now_ns() - t0 < 20e6)
		;
	return (now_ns() - t0) / (double)(ticks() - k0);
#else
	return 1.0;
#endif
}

static void b_getppid_streaming(long iters)
{
	enum { CHUNK = 1 << 20, TOTAL = 64 };
	long n = iters / scale > 5000 ? iters / scale : 5000;
	double p50[REPS], p99[REPS];
	double *lat = malloc(n * sizeof(double));
	char *buf = malloc(CHUNK);
	pthread_t th;
	if (!lat || !buf) {
		nafail("getppid_streaming", "malloc");
		goto out;
	}
	snprintf(path_stream, sizeof(path_stream), "%s/bhbench-stream.%d", dir,
		 (int)getpid());
	memset(buf, 's', CHUNK);
	int fd = open(path_stream, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	if (fd < 0) {
		nafail("getppid_streaming", "create %s", path_stream);
		goto out;
	}
	for (int i = 0; i < TOTAL; i++)
		if (write(fd, buf, CHUNK) != CHUNK) {
			nafail("getppid_streaming", "write %s", path_stream);
			close(fd);
			goto out_unlink;
		}
	close(fd);
	double tick = ns_per_tick();
	stream_stop = 0;
	stream_reads = 0;
	errno = pthread_create(&th, NULL, streamer, NULL);
	if (errno) {
		nafail("getppid_streaming", "pthread_create");
		goto out_unlink;
	}
	/* Sample only once the stream flows. */
	for (int i = 0; i < 5000 && !stream_reads; i++)
		usleep(1000);
	long reads0 = stream_reads;
	double t0 = now_ns();
	for (int r = 0; r < REPS; r++) {
		for (long i = 0; i < n; i++) {
			unsigned long long k = ticks();
			syscall(SYS_getppid);
			lat[i] = (ticks() - k) * tick;
		}
		qsort(lat, n, sizeof(double), cmp_double);
		p50[r] = lat[n / 2] / 1e3;
		p99[r] = lat[n * 99 / 100] / 1e3;
	}
	double secs = (now_ns() - t0) / 1e9;
	long reads = stream_reads - reads0;
	stream_stop = 1;
	pthread_join(th, NULL);
	printf("INFO getppid_streaming samples %ld streamed_MBps %.0f\n", n,
	       reads * 1.048576 / secs);
	if (reads == 0) {
		errno = EIO;
		nafail("getppid_streaming",
		       "the streaming thread read nothing");
		goto out_unlink;
	}
	printf("RESULT getppid_stream_p50 us %.2f\n", median(p50));
	printf("RESULT getppid_stream_p99 us %.2f\n", median(p99));
	fflush(stdout);
out_unlink:
	unlink(path_stream);
out:
	free(lat);
	free(buf);
}

/* threads_2_*: the same total work on one thread and split over two;
 * reports the median of (2-thread time / 1-thread time): 0.5 is perfect
 * scaling, 1.0 none, more than 1.0 contention worse than none. */
struct tjob {
	long n;
	void (*fn)(long);
};

static void *tjob_run(void *arg)
{
	struct tjob *j = arg;
	j->fn(j->n);
	return NULL;
}

static double run_threads(int nt, long total, void (*fn)(long))
{
	pthread_t th[2];
	struct tjob j[2];
	double t = now_ns();
	for (int i = 0; i < nt; i++) {
		j[i].n = total / nt;
		j[i].fn = fn;
		if ((errno = pthread_create(&th[i], NULL, tjob_run, &j[i])))
			die("pthread_create");
	}
	for (int i = 0; i < nt; i++)
		pthread_join(th[i], NULL);
	return now_ns() - t;
}

static void b_getppid(long n)
{
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
}

static void b_threads_2(const char *name, long iters, void (*fn)(long))
{
	double v[REPS];
	long n = iters / scale > 1000 ? iters / scale : 1000;
	fn(n / 10); /* warm up */
	for (int r = 0; r < REPS; r++) {
		double t1 = run_threads(1, n, fn);
		double t2 = run_threads(2, n, fn);
		v[r] = t2 / t1;
	}
	printf("RESULT %s x %.2f\n", name, median(v));
	fflush(stdout);
}

/* rootfs_50k_*: a tree of 50 directories × 1,000 empty files made on the
 * rootfs (through the gofer in Bulkhead), then each file stat'ed, then all
 * removed; total ms of each phase. */
static void b_rootfs_50k(void)
{
	enum { DIRS = 50, FILES = 1000 };
	double c[TREE_REPS], s[TREE_REPS], u[TREE_REPS];
	char root[600], p[1024];
	struct stat st;
	printf("INFO rootfs_50k %s %s\n", fs_kind(dir, p, sizeof(p)), dir);
	for (int r = 0; r < TREE_REPS; r++) {
		if (mkscratch(root, sizeof(root), dir, "tree") != 0) {
			nafail("rootfs_50k", "mkdir %s", root);
			return;
		}
		double t = now_ns();
		for (int d = 0; d < DIRS; d++) {
			snprintf(p, sizeof(p), "%s/d%02d", root, d);
			if (mkdir(p, 0755) != 0) {
				nafail("rootfs_50k", "mkdir of entry %d of %d",
				       d * (FILES + 1) + 1, DIRS * (FILES + 1));
				goto fail;
			}
			for (int f = 0; f < FILES; f++) {
				snprintf(p, sizeof(p), "%s/d%02d/f%04d", root,
					 d, f);
				int fd = open(
				    p, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
				    0644);
				if (fd < 0) {
					nafail("rootfs_50k",
					       "create of entry %d of %d",
					       d * (FILES + 1) + f + 2,
					       DIRS * (FILES + 1));
					goto fail;
				}
				close(fd);
			}
		}
		c[r] = (now_ns() - t) / 1e6;
		t = now_ns();
		for (int d = 0; d < DIRS; d++)
			for (int f = 0; f < FILES; f++) {
				snprintf(p, sizeof(p), "%s/d%02d/f%04d", root,
					 d, f);
				if (stat(p, &st) != 0) {
					nafail("rootfs_50k", "stat of %s", p);
					goto fail;
				}
			}
		s[r] = (now_ns() - t) / 1e6;
		t = now_ns();
		for (int d = 0; d < DIRS; d++) {
			for (int f = 0; f < FILES; f++) {
				snprintf(p, sizeof(p), "%s/d%02d/f%04d", root,
					 d, f);
				if (unlink(p) != 0) {
					nafail("rootfs_50k", "unlink of %s", p);
					goto fail;
				}
			}
			snprintf(p, sizeof(p), "%s/d%02d", root, d);
			if (rmdir(p) != 0) {
				nafail("rootfs_50k", "rmdir of %s", p);
				goto fail;
			}
		}
		u[r] = (now_ns() - t) / 1e6;
		rmdir(root);
	}
	ms_result("rootfs_50k_create", c, TREE_REPS);
	ms_result("rootfs_50k_stat", s, TREE_REPS);
	ms_result("rootfs_50k_remove", u, TREE_REPS);
	return;
fail:
	rm_tree(root);
}

struct bench {
	const char *name;
	long iters;
	void (*fn)(long);
};

static const struct bench benches[] = {
    {"getpid", 200000, b_getpid},
    {"pipe_rt", 20000, b_pipe},
    {"fork_exit_wait", 500, b_fork},
    {"fork_exec_wait", 300, b_exec},
    {"mmap_1m", 2000, b_mmap},
    {"open_close", 20000, b_open_close},
    {"pread_4k", 50000, b_pread},
    {"stat", 50000, b_stat},
    {"tree_walk", 5, b_walk},
    {"epoll_rt", 20000, b_epoll_rt},
    {"eventfd_pp", 20000, b_eventfd_pp},
};

int main(int argc, char **argv)
{
	const char *which = argc > 1 ? argv[1] : "all";
	if (argc > 2)
		scale = atol(argv[2]) > 0 ? atol(argv[2]) : 1;
	if (getenv("BENCH_DIR"))
		dir = getenv("BENCH_DIR");
	snprintf(path_file, sizeof(path_file), "%s/file", dir);
	snprintf(path_big, sizeof(path_big), "%s/big", dir);
	snprintf(path_tree, sizeof(path_tree), "%s/tree", dir);
	snprintf(path_true, sizeof(path_true), "%s/true", dir);
	int all = strcmp(which, "all") == 0, found = all;
	for (size_t i = 0; i < sizeof(benches) / sizeof(benches[0]); i++) {
		if (all || strcmp(which, benches[i].name) == 0) {
			per_op(benches[i].name, benches[i].iters,
			       benches[i].fn);
			found = 1;
		}
	}
	if (all || strcmp(which, "seq_64m") == 0) {
		b_seq();
		found = 1;
	}
	if (all || strcmp(which, "sh_loop") == 0) {
		b_cmd("sh_loop_2000",
		      "i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done");
		found = 1;
	}
	if (all || strcmp(which, "true_200") == 0) {
		b_cmd("busybox_true_200", "i=0; while [ $i -lt 200 ]; do "
					  "/bin/true; i=$((i+1)); done");
		found = 1;
	}
	/* Scale benchmarks: the same counts whatever the scale. */
	struct stat st;
	snprintf(scratch_parent, sizeof(scratch_parent), "%s", dir);
	if (stat("/tmp", &st) == 0 && S_ISDIR(st.st_mode) &&
	    !strcmp(fs_kind("/tmp", scratch_fs, sizeof(scratch_fs)), "tmpfs"))
		snprintf(scratch_parent, sizeof(scratch_parent), "/tmp");
	fs_kind(scratch_parent, scratch_fs, sizeof(scratch_fs));
	if (all || strcmp(which, "create_20k") == 0) {
		b_create_20k();
		found = 1;
	}
	if (all || strcmp(which, "stat_8k_dir") == 0) {
		printf("INFO stat_8k_dir %s %s\n", scratch_fs, scratch_parent);
		b_stat_8k("stat_8k_dir", scratch_parent, 50000);
		found = 1;
	}
	if (all || strcmp(which, "stat_8k_rootfs") == 0) {
		b_stat_8k("stat_8k_rootfs", dir, 50000);
		found = 1;
	}
	if (all || strcmp(which, "mmap_15k") == 0) {
		b_mmap_15k();
		found = 1;
	}
	if (all || strcmp(which, "dup_15k") == 0) {
		b_dup_15k();
		found = 1;
	}
	if (all || strcmp(which, "kill0_1000") == 0) {
		b_kill0_1000(50000);
		found = 1;
	}
	if (all || strcmp(which, "getppid_streaming") == 0) {
		b_getppid_streaming(20000);
		found = 1;
	}
	if (all || strcmp(which, "threads_2") == 0) {
		b_threads_2("threads_2_getppid", 100000, b_getppid);
		b_threads_2("threads_2_stat", 50000, b_stat);
		found = 1;
	}
	if (all || strcmp(which, "rootfs_50k") == 0) {
		b_rootfs_50k();
		found = 1;
	}
	if (!found) {
		fprintf(stderr, "bhbench: unknown benchmark %s\n", which);
		return 2;
	}
	return 0;
}
