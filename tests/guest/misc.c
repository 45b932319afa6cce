/* uname, clocks, sleeping, randomness, limits, ids, /proc/self and /dev. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include "check.h"

static long long ns(clockid_t c)
{
	struct timespec ts;
	SYS(clock_gettime(c, &ts));
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void uts(void)
{
	struct utsname u;
	SYS(uname(&u));
	CHECK_STR(u.sysname, "Linux");
	CHECK(strlen(u.release) > 0);
	CHECK_STR(u.machine, "x86_64");
	char host[HOST_NAME_MAX + 1];
	SYS(gethostname(host, sizeof(host)));
	CHECK_STR(host, u.nodename);
	const char *want = getenv("BH_EXPECT_HOSTNAME");
	if (want)
		CHECK_STR(u.nodename, want);
}

static void clocks(void)
{
	long long a = ns(CLOCK_MONOTONIC), b = ns(CLOCK_MONOTONIC);
	CHECK(b >= a);
	long long r = ns(CLOCK_REALTIME);
	CHECK(r > 1600000000LL * 1000000000LL); /* after 2020 */
	struct timeval tv;
	SYS(gettimeofday(&tv, NULL));
	CHECK(llabs(tv.tv_sec - r / 1000000000LL) <= 2);
	/* time() reads the coarse clock, which may lag gettimeofday by a
	 * tick across a second boundary. */
	CHECK(time(NULL) >= tv.tv_sec - 1);
	ns(CLOCK_BOOTTIME);
	ns(CLOCK_PROCESS_CPUTIME_ID);
	struct timespec res;
	SYS(clock_getres(CLOCK_MONOTONIC, &res));
	CHECK(res.tv_sec == 0 && res.tv_nsec > 0);
	CHECK_ERR(clock_gettime((clockid_t)1234, &res), EINVAL);

	/* Sleeps last at least as long as asked. */
	struct timespec req = {0, 20000000};
	a = ns(CLOCK_MONOTONIC);
	SYS(nanosleep(&req, NULL));
	b = ns(CLOCK_MONOTONIC);
	CHECK(b - a >= 20000000);
	CHECK(b - a < 2000000000);
	a = ns(CLOCK_MONOTONIC);
	SYS(clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL));
	CHECK(ns(CLOCK_MONOTONIC) - a >= 20000000);
	struct timespec abs;
	SYS(clock_gettime(CLOCK_MONOTONIC, &abs));
	abs.tv_nsec += 10000000;
	if (abs.tv_nsec >= 1000000000) {
		abs.tv_sec++;
		abs.tv_nsec -= 1000000000;
	}
	CHECK_EQ(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs, NULL),
		 0);
	CHECK(ns(CLOCK_MONOTONIC) >= abs.tv_sec * 1000000000LL + abs.tv_nsec);
	req.tv_nsec = 2000000000;
	CHECK_ERR(nanosleep(&req, NULL), EINVAL);
}

static void randomness(void)
{
	unsigned char a[64], b[64];
	CHECK_EQ(getrandom(a, sizeof(a), 0), 64);
	CHECK_EQ(getrandom(b, sizeof(b), GRND_NONBLOCK), 64);
	CHECK(memcmp(a, b, 64) != 0);
	int fd = SYS(open("/dev/urandom", O_RDONLY));
	CHECK_EQ(read(fd, a, 64), 64);
	CHECK(memcmp(a, b, 64) != 0);
	close(fd);
}

static void limits(void)
{
	struct sysinfo si;
	SYS(sysinfo(&si));
	CHECK(si.totalram > 0);
	CHECK(si.uptime >= 0);
	CHECK(si.procs >= 1);
	struct rlimit rl, rl2;
	SYS(getrlimit(RLIMIT_NOFILE, &rl));
	CHECK(rl.rlim_cur > 0 && rl.rlim_cur <= rl.rlim_max);
	SYS(prlimit(0, RLIMIT_NOFILE, NULL, &rl2));
	CHECK_EQ(rl2.rlim_cur, rl.rlim_cur);
	/* Lowering the soft limit is always allowed and takes effect. */
	struct rlimit low = {64, rl.rlim_max};
	SYS(setrlimit(RLIMIT_NOFILE, &low));
	CHECK_ERR(dup2(0, 100), EBADF);
	SYS(setrlimit(RLIMIT_NOFILE, &rl));
	SYS(getrlimit(RLIMIT_STACK, &rl));
	CHECK(rl.rlim_cur >= 128 * 1024);
	CHECK_ERR(getrlimit(999, &rl), EINVAL);
}

static void ids(void)
{
	CHECK_EQ(getuid(), 0);
	CHECK_EQ(geteuid(), 0);
	CHECK_EQ(getgid(), 0);
	CHECK_EQ(getegid(), 0);
	uid_t r, e, s;
	SYS(getresuid(&r, &e, &s));
	CHECK(r == 0 && e == 0 && s == 0);
	gid_t gr, ge, gs;
	SYS(getresgid(&gr, &ge, &gs));
	CHECK(gr == 0 && ge == 0 && gs == 0);
	CHECK(getgroups(0, NULL) >= 0);
	CHECK_EQ(umask(027), 022);
	CHECK_EQ(umask(022), 027);
}

static void proc_self(int argc, char **argv)
{
	char buf[8192];
	int fd = SYS(open("/proc/self/status", O_RDONLY));
	ssize_t n = SYS(read_full(fd, buf, sizeof(buf) - 1));
	buf[n] = 0;
	close(fd);
	char want[64];
	snprintf(want, sizeof(want), "\nPid:\t%d\n", getpid());
	CHECK(strstr(buf, want) != NULL);
	CHECK(strncmp(buf, "Name:\t", 6) == 0);
	snprintf(want, sizeof(want), "\nPPid:\t%d\n", getppid());
	CHECK(strstr(buf, want) != NULL);

	/* cmdline is argv, NUL-separated. */
	fd = SYS(open("/proc/self/cmdline", O_RDONLY));
	n = SYS(read_full(fd, buf, sizeof(buf)));
	close(fd);
	size_t off = 0;
	for (int i = 0; i < argc; i++) {
		CHECK((size_t)n > off);
		CHECK_STR(buf + off, argv[i]);
		off += strlen(argv[i]) + 1;
	}
	CHECK_EQ(n, off);

	/* exe points at this binary: same inode as argv[0]'s file. */
	char exe[PATH_MAX];
	n = SYS(readlink("/proc/self/exe", exe, sizeof(exe) - 1));
	exe[n] = 0;
	CHECK_EQ(exe[0], '/');
	struct stat a, b;
	SYS(stat(exe, &a));
	SYS(stat("/proc/self/exe", &b));
	CHECK_EQ(a.st_ino, b.st_ino);

	/* /proc/self/fd lists exactly the open fds. */
	int extra = SYS(open("/dev/null", O_RDONLY));
	DIR *d = opendir("/proc/self/fd");
	CHECK(d != NULL);
	int saw_extra = 0, saw_dirfd = 0, count = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		int f = atoi(de->d_name);
		count++;
		saw_extra |= f == extra;
		saw_dirfd |= f == dirfd(d);
		CHECK(fcntl(f, F_GETFD) >= 0);
	}
	closedir(d);
	CHECK(saw_extra);
	CHECK(saw_dirfd);
	CHECK(count >= 2);
	snprintf(want, sizeof(want), "/proc/self/fd/%d", extra);
	n = SYS(readlink(want, buf, sizeof(buf) - 1));
	buf[n] = 0;
	CHECK_STR(buf, "/dev/null");
	close(extra);

	/* /proc/self is a link to our pid. */
	n = SYS(readlink("/proc/self", buf, sizeof(buf) - 1));
	buf[n] = 0;
	CHECK_EQ(atoi(buf), getpid());
	fd = SYS(open("/proc/self/stat", O_RDONLY));
	n = SYS(read(fd, buf, sizeof(buf) - 1));
	buf[n] = 0;
	close(fd);
	CHECK_EQ(atoi(buf), getpid());
	CHECK(access("/proc/self/maps", R_OK) == 0);
}

static void devices(void)
{
	char buf[128];
	int fd = SYS(open("/dev/null", O_RDWR));
	CHECK_EQ(write(fd, "abc", 3), 3);
	CHECK_EQ(read(fd, buf, sizeof(buf)), 0);
	close(fd);
	fd = SYS(open("/dev/zero", O_RDWR));
	memset(buf, 1, sizeof(buf));
	CHECK_EQ(read(fd, buf, sizeof(buf)), sizeof(buf));
	int nz = 0;
	for (size_t i = 0; i < sizeof(buf); i++)
		nz |= buf[i];
	CHECK_EQ(nz, 0);
	CHECK_EQ(write(fd, "x", 1), 1);
	close(fd);
	fd = SYS(open("/dev/full", O_WRONLY));
	CHECK_ERR(write(fd, "x", 1), ENOSPC);
	close(fd);
	struct stat st;
	SYS(stat("/dev/null", &st));
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(major(st.st_rdev), 1);
	CHECK_EQ(minor(st.st_rdev), 3);
}

int main(int argc, char **argv)
{
	umask(022);
	uts();
	clocks();
	randomness();
	limits();
	ids();
	proc_self(argc, argv);
	devices();
	pass("misc");
	return 0;
}
