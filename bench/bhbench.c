/* Microbenchmarks. `bhbench all [SCALE]` runs every one; `bhbench NAME
 * [SCALE]` one. Each runs a fixed number of iterations (divided by SCALE,
 * for slow runtimes) REPS times and prints the median as
 *   RESULT <name> <unit> <value>
 * with unit ns (per operation), MBps, or ms (per whole run). Files live
 * under BENCH_DIR (default /bench), which run.sh prepares. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
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

struct bench {
	const char *name;
	long iters;
	void (*fn)(long);
};

static const struct bench benches[] = {
    {"getpid", 200000, b_getpid},    {"pipe_rt", 20000, b_pipe},
    {"fork_exit_wait", 500, b_fork}, {"fork_exec_wait", 300, b_exec},
    {"mmap_1m", 2000, b_mmap},	     {"open_close", 20000, b_open_close},
    {"pread_4k", 50000, b_pread},    {"stat", 50000, b_stat},
    {"tree_walk", 5, b_walk},
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
	if (!found) {
		fprintf(stderr, "bhbench: unknown benchmark %s\n", which);
		return 2;
	}
	return 0;
}
