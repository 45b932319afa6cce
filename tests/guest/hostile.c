/* Hostile arguments: bad pointers (NULL, kernel half, non-canonical,
 * PROT_NONE, unterminated strings at the end of a mapping), over-long paths
 * and names, bad fds, flags with every bit set, huge lengths. Each call must
 * fail the way Linux fails it, and never crash or hang the caller or the
 * guest kernel. Every hostile call goes through syscall(2): libc wrappers
 * dereference some arguments themselves (sigaction copies the struct), and
 * the vDSO would fault in the caller instead of returning EFAULT.
 * rt_sigreturn is left out: with a garbage frame it kills the caller on
 * Linux too. */
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include "check.h"

/* Addresses no process can name: the kernel half, the first address above
 * the user half (non-canonical on 4-level paging, above TASK_SIZE anyway)
 * and the zero page. The vsyscall page is avoided: it is readable on some
 * kernels. */
#define KPTR   ((long)0xffff888000000000UL)
#define NCPTR  ((long)0x0000800000000000UL)
#define LOWPTR ((long)16)
#define PAGE   4096

static char *guard;    /* PAGE read-write bytes, then a PROT_NONE page */
static char *noaccess; /* == guard + PAGE */
static char dir[64];   /* a scratch directory under the cwd */
static char file[96];  /* a 10-byte regular file in it */
static char link_[96]; /* a symlink to file */

/* A string of len bytes with no NUL that ends where a PROT_NONE page
 * starts; each in its own mapping, so no two overlap. */
static char *unterminated(size_t len, char c)
{
	char *m = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED || mprotect(m + PAGE, PAGE, PROT_NONE) < 0)
		FAIL_AT("mapping a guard page: %s", strerror(errno));
	memset(m + PAGE - len, c, len);
	return m + PAGE - len;
}

static long sc(long n, long a, long b, long c, long d, long e, long f)
{
	return syscall(n, a, b, c, d, e, f);
}
#define S1(n, a)       sc(n, (long)(a), 0, 0, 0, 0, 0)
#define S2(n, a, b)    sc(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define S3(n, a, b, c) sc(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define S4(n, a, b, c, d)                                                      \
	sc(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define S6(n, a, b, c, d, e, f)                                                \
	sc(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), (long)(f))

/* A call that must fail with one of two errnos (where Linux's answer
 * depends on the order of checks a sandbox need not copy, or on
 * privileges). */
#define CHECK_ERR2(expr, E1, E2)                                               \
	do {                                                                   \
		checks++;                                                      \
		errno = 0;                                                     \
		long long _r = (long long)(expr);                              \
		if (_r != -1 || (errno != (E1) && errno != (E2)))              \
			FAIL_AT("%s = %lld errno %d (%s), want %s or %s",      \
				#expr, _r, errno, strerror(errno), #E1, #E2);  \
	} while (0)

static void setup(void)
{
	guard = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(guard != MAP_FAILED);
	noaccess = guard + PAGE;
	SYS(mprotect(noaccess, PAGE, PROT_NONE));
	/* Unique: in the sandbox every run is pid 1 on a shared rootfs, and a
	 * failed run leaves its directory behind. */
	snprintf(dir, sizeof(dir), "hostile.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(file, sizeof(file), "%s/file", dir);
	int fd = SYS(open(file, O_CREAT | O_RDWR | O_TRUNC, 0644));
	CHECK_EQ(write(fd, "0123456789", 10), 10);
	SYS(close(fd));
	snprintf(link_, sizeof(link_), "%s/link", dir);
	SYS(symlink("file", link_));
}

static void teardown(void)
{
	unlink(link_);
	unlink(file);
	rmdir(dir);
}

/* read/write/readv/pread with bad buffers and lengths. */
static void rw(void)
{
	int fd = SYS(open(file, O_RDWR));
	static char buf[64];
	CHECK_ERR(S3(SYS_read, fd, NULL, 10), EFAULT);
	CHECK_ERR(S3(SYS_read, fd, KPTR, 10), EFAULT);
	CHECK_ERR(S3(SYS_read, fd, NCPTR, 10), EFAULT);
	CHECK_ERR(S3(SYS_read, fd, noaccess, 10), EFAULT);
	/* A length that wraps the address space fails the range check. */
	CHECK_ERR(S3(SYS_read, fd, buf, -1L), EFAULT);
	/* A huge but in-range length reads what there is (10 bytes), and must
	 * not make the kernel allocate or copy that much. */
	CHECK_EQ(S3(SYS_read, fd, buf, 1L << 30), 10);
	CHECK(memcmp(buf, "0123456789", 10) == 0);
	/* At EOF nothing is copied, so even a bad buffer reads 0. */
	CHECK_EQ(S3(SYS_read, fd, buf, 10), 0);
	CHECK_EQ(S3(SYS_read, fd, buf, 0), 0);
	CHECK_EQ(S3(SYS_write, fd, NULL, 0), 0);
	CHECK_ERR(S3(SYS_write, fd, NULL, 10), EFAULT);
	CHECK_ERR(S3(SYS_write, fd, KPTR, 10), EFAULT);
	CHECK_ERR(S3(SYS_write, fd, -1L, 10), EFAULT);
	CHECK_ERR(S3(SYS_write, fd, noaccess, 1), EFAULT);
	CHECK_ERR(S4(SYS_pread64, fd, buf, 4, -1), EINVAL);
	CHECK_ERR(S4(SYS_pwrite64, fd, buf, 4, -4096), EINVAL);
	CHECK_ERR(S4(SYS_pread64, fd, NULL, 4, 0), EFAULT);
	/* Unaligned buffers are fine. */
	CHECK_EQ(S4(SYS_pread64, fd, buf + 1, 3, 2), 3);
	CHECK(memcmp(buf + 1, "234", 3) == 0);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);

	struct iovec iov[2] = {{buf, 4}, {NULL, 4}};
	CHECK_ERR(S3(SYS_readv, fd, NULL, 1), EFAULT);
	CHECK_ERR(S3(SYS_readv, fd, iov, -1), EINVAL);
	CHECK_ERR(S3(SYS_readv, fd, iov, 1025), EINVAL);
	CHECK_ERR(S3(SYS_writev, fd, KPTR, 1), EFAULT);
	/* A length that is negative as an ssize_t. */
	struct iovec big[2] = {{buf, 4}, {buf, (size_t)-1}};
	CHECK_ERR(S3(SYS_readv, fd, big, 2), EINVAL);
	/* A length past the end of the address space. */
	big[1].iov_len = (size_t)LONG_MAX;
	CHECK_ERR(S3(SYS_readv, fd, big, 2), EFAULT);
	/* A bad second element after a good first: the first is done. */
	CHECK_EQ(S3(SYS_readv, fd, iov, 2), 4);
	CHECK_EQ(lseek(fd, 0, SEEK_SET), 0);
	struct iovec wv[2] = {{(void *)"ab", 2}, {noaccess, 2}};
	long w = S3(SYS_writev, fd, wv, 2);
	CHECK(w == 2 || (w == -1 && errno == EFAULT));
	CHECK_EQ(pwrite(fd, "01", 2, 0), 2);
	SYS(close(fd));

	/* Non-blocking, so that a kernel that loses the data below fails the
	 * check instead of hanging. */
	int p[2];
	SYS(pipe2(p, O_NONBLOCK));
	CHECK_ERR(S4(SYS_pread64, p[0], buf, 1, 0), ESPIPE);
	CHECK_ERR(S3(SYS_lseek, p[0], 0, SEEK_SET), ESPIPE);
	CHECK_EQ(write(p[1], "xyz", 3), 3);
	CHECK_ERR(S3(SYS_read, p[0], NULL, 3), EFAULT);
	/* The failed read consumed nothing, and a huge length returns what
	 * is buffered. */
	CHECK_EQ(S3(SYS_read, p[0], buf, 1L << 30), 3);
	SYS(close(p[0]));
	SYS(close(p[1]));
}

/* fds that do not exist: -1, past the table, INT_MAX. */
static void badfds(void)
{
	/* The kernel takes fds as unsigned int: (1 << 40) + 100 is fd 100. */
	const long fds[] = {
	    -1, -2, 100000, INT_MAX, (long)INT_MIN, (1L << 40) + 100};
	char buf[16];
	struct stat st;
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		long fd = fds[i];
		CHECK_ERR(S3(SYS_read, fd, buf, 1), EBADF);
		CHECK_ERR(S3(SYS_write, fd, buf, 1), EBADF);
		CHECK_ERR(S1(SYS_close, fd), EBADF);
		CHECK_ERR(S2(SYS_fstat, fd, &st), EBADF);
		CHECK_ERR(S3(SYS_lseek, fd, 0, SEEK_SET), EBADF);
		CHECK_ERR(S1(SYS_dup, fd), EBADF);
		CHECK_ERR(S2(SYS_fcntl, fd, F_GETFD), EBADF);
		CHECK_ERR(S3(SYS_getdents64, fd, buf, sizeof(buf)), EBADF);
		CHECK_ERR(S3(SYS_ioctl, fd, FIONREAD, buf), EBADF);
		CHECK_ERR(S1(SYS_fchdir, fd), EBADF);
		CHECK_ERR(S1(SYS_fsync, fd), EBADF);
		CHECK_ERR(S2(SYS_ftruncate, fd, 0), EBADF);
		/* A bad dirfd matters only for a relative path. */
		CHECK_ERR(S4(SYS_openat, fd, "x", O_RDONLY, 0), EBADF);
		CHECK_ERR(S4(SYS_newfstatat, fd, "x", &st, 0), EBADF);
	}
	CHECK_ERR(S2(SYS_dup2, 0, -1), EBADF);
	CHECK_ERR(S2(SYS_dup2, 0, INT_MAX), EBADF);
	CHECK_ERR(S2(SYS_dup2, -1, 50), EBADF);
	CHECK_ERR(S3(SYS_dup3, 0, 0, 0), EINVAL);
	CHECK_ERR(S3(SYS_dup3, 0, 50, ~O_CLOEXEC), EINVAL);
	CHECK_ERR(S3(SYS_fcntl, 0, F_DUPFD, -1), EINVAL);
	CHECK_ERR(S3(SYS_fcntl, 0, F_DUPFD, INT_MAX), EINVAL);
	CHECK_ERR(S2(SYS_fcntl, 0, 99999), EINVAL);
	int fd = SYS(open(file, O_RDONLY));
	/* F_SETFD keeps only FD_CLOEXEC of any bits. */
	SYS(S3(SYS_fcntl, fd, F_SETFD, -1));
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	CHECK_ERR(S3(SYS_ioctl, fd, 0x12345678, 0), ENOTTY);
	CHECK_ERR(S3(SYS_getdents64, fd, buf, sizeof(buf)), ENOTDIR);
	CHECK_ERR(S3(SYS_lseek, fd, 0, 99), EINVAL);
	CHECK_ERR(S3(SYS_lseek, fd, -1, SEEK_SET), EINVAL);
	CHECK_ERR(S3(SYS_lseek, fd, LONG_MIN, SEEK_END), EINVAL);
	CHECK_ERR(S2(SYS_ftruncate, fd, -1), EINVAL);
	CHECK_ERR(S4(SYS_openat, fd, "x", O_RDONLY, 0), ENOTDIR);
	SYS(close(fd));
	int p[2];
	SYS(pipe(p));
	CHECK_ERR(S3(SYS_ioctl, p[0], FIONREAD, NULL), EFAULT);
	CHECK_ERR(S3(SYS_ioctl, p[0], FIONREAD, KPTR), EFAULT);
	SYS(close(p[0]));
	SYS(close(p[1]));
	CHECK_ERR(S2(SYS_pipe2, NULL, 0), EFAULT);
	CHECK_ERR(S2(SYS_pipe2, p, ~0), EINVAL);
	CHECK_ERR(S1(SYS_pipe, KPTR), EFAULT);
}

/* Paths: bad pointers, unterminated, too long, names too long. */
static void paths(void)
{
	struct stat st;
	char *longpath = malloc(PATH_MAX + 2);
	memset(longpath, 'a', PATH_MAX + 1);
	longpath[PATH_MAX + 1] = 0;
	char name[NAME_MAX + 2 + 64];
	int n = snprintf(name, sizeof(name), "%s/", dir);
	memset(name + n, 'b', NAME_MAX + 1);
	name[n + NAME_MAX + 1] = 0;
	char okname[NAME_MAX + 1 + 64];
	n = snprintf(okname, sizeof(okname), "%s/", dir);
	memset(okname + n, 'c', NAME_MAX);
	okname[n + NAME_MAX] = 0;
	const char *shortu = unterminated(10, 'd');

	CHECK_ERR(S3(SYS_open, NULL, O_RDONLY, 0), EFAULT);
	CHECK_ERR(S3(SYS_open, KPTR, O_RDONLY, 0), EFAULT);
	CHECK_ERR(S3(SYS_open, noaccess, O_RDONLY, 0), EFAULT);
	CHECK_ERR(S3(SYS_open, shortu, O_RDONLY, 0), EFAULT);
	CHECK_ERR(S3(SYS_open, "", O_RDONLY, 0), ENOENT);
	CHECK_ERR(S3(SYS_open, longpath, O_RDONLY, 0), ENAMETOOLONG);
	CHECK_ERR(S3(SYS_open, name, O_RDONLY, 0), ENAMETOOLONG);
	CHECK_ERR(S3(SYS_open, name, O_CREAT | O_WRONLY, 0644), ENAMETOOLONG);
	CHECK_ERR(S3(SYS_open, okname, O_RDONLY, 0), ENOENT);
	/* A whole page of name with no NUL: PATH_MAX bytes are read and the
	 * name is too long before the fault is reached. */
	CHECK_ERR(S3(SYS_open, unterminated(PAGE, 'e'), O_RDONLY, 0),
		  ENAMETOOLONG);
	CHECK_ERR(S2(SYS_stat, NULL, &st), EFAULT);
	CHECK_ERR(S2(SYS_stat, shortu, &st), EFAULT);
	CHECK_ERR(S2(SYS_stat, file, NULL), EFAULT);
	CHECK_ERR(S2(SYS_stat, file, KPTR), EFAULT);
	CHECK_ERR(S2(SYS_stat, file, noaccess), EFAULT);
	CHECK_ERR(S2(SYS_lstat, longpath, &st), ENAMETOOLONG);
	CHECK_ERR(S2(SYS_lstat, name, &st), ENAMETOOLONG);
	/* Unaligned stat buffer. */
	static char stbuf[sizeof(struct stat) + 8];
	SYS(S2(SYS_stat, file, stbuf + 1));
	CHECK_ERR(S2(SYS_mkdir, shortu, 0755), EFAULT);
	CHECK_ERR(S2(SYS_mkdir, name, 0755), ENAMETOOLONG);
	CHECK_ERR(S2(SYS_mkdir, "", 0755), ENOENT);
	CHECK_ERR(S2(SYS_mkdir, dir, 0755), EEXIST);
	CHECK_ERR(S1(SYS_rmdir, shortu), EFAULT);
	CHECK_ERR(S1(SYS_rmdir, dir), ENOTEMPTY);
	CHECK_ERR(S1(SYS_rmdir, "."), EINVAL);
	CHECK_ERR(S1(SYS_unlink, shortu), EFAULT);
	CHECK_ERR(S1(SYS_unlink, dir), EISDIR);
	CHECK_ERR(S1(SYS_unlink, name), ENAMETOOLONG);
	CHECK_ERR(S1(SYS_chdir, NULL), EFAULT);
	CHECK_ERR(S1(SYS_chdir, file), ENOTDIR);
	CHECK_ERR(S1(SYS_chdir, longpath), ENAMETOOLONG);
	CHECK_ERR(S2(SYS_access, file, 8), EINVAL);
	CHECK_ERR(S2(SYS_access, shortu, F_OK), EFAULT);
	CHECK_ERR(S4(SYS_faccessat2, AT_FDCWD, file, F_OK, -1), EINVAL);
	CHECK_ERR(S2(SYS_rename, shortu, "x"), EFAULT);
	CHECK_ERR(S2(SYS_rename, file, shortu), EFAULT);
	CHECK_ERR(S2(SYS_rename, file, name), ENAMETOOLONG);
	CHECK_ERR(S2(SYS_symlink, shortu, okname), EFAULT);
	CHECK_ERR(S2(SYS_symlink, "x", shortu), EFAULT);
	CHECK_ERR(S2(SYS_link, file, shortu), EFAULT);
	CHECK_ERR(S2(SYS_chmod, shortu, 0644), EFAULT);
	CHECK_ERR(S2(SYS_truncate, shortu, 0), EFAULT);
	CHECK_ERR(S2(SYS_truncate, file, -1), EINVAL);
	CHECK_ERR(S6(SYS_renameat2, AT_FDCWD, file, AT_FDCWD, "x", -1, 0),
		  EINVAL);

	/* readlink */
	char buf[64];
	CHECK_ERR(S3(SYS_readlink, link_, buf, 0), EINVAL);
	CHECK_ERR(S3(SYS_readlink, link_, buf, -1), EINVAL);
	CHECK_ERR(S3(SYS_readlink, file, buf, sizeof(buf)), EINVAL);
	CHECK_ERR(S3(SYS_readlink, link_, NULL, sizeof(buf)), EFAULT);
	CHECK_ERR(S3(SYS_readlink, link_, KPTR, sizeof(buf)), EFAULT);
	CHECK_ERR(S3(SYS_readlink, shortu, buf, sizeof(buf)), EFAULT);
	CHECK_ERR(S3(SYS_readlink, longpath, buf, sizeof(buf)), ENAMETOOLONG);
	CHECK_EQ(S3(SYS_readlink, link_, buf, 2), 2); /* truncated, no NUL */
	CHECK(memcmp(buf, "fi", 2) == 0);
	CHECK_EQ(S3(SYS_readlink, link_, buf + 1, sizeof(buf) - 1), 4);

	/* getcwd */
	CHECK_ERR(S2(SYS_getcwd, buf, 0), ERANGE);
	CHECK_ERR(S2(SYS_getcwd, buf, 1), ERANGE);
	CHECK_ERR(S2(SYS_getcwd, NULL, sizeof(buf)), EFAULT);
	CHECK_ERR(S2(SYS_getcwd, KPTR, sizeof(buf)), EFAULT);

	/* getdents64 */
	int d = SYS(open(dir, O_RDONLY | O_DIRECTORY));
	CHECK_ERR(S3(SYS_getdents64, d, buf, 1), EINVAL);
	CHECK_ERR(S3(SYS_getdents64, d, buf, 0), EINVAL);
	CHECK_ERR(S3(SYS_getdents64, d, NULL, 4096), EFAULT);
	CHECK_ERR(S3(SYS_getdents64, d, KPTR, 4096), EFAULT);
	/* A count past INT_MAX is clamped, not trusted. */
	static char dbuf[4096];
	CHECK(S3(SYS_getdents64, d, dbuf, sizeof(dbuf)) > 0);
	SYS(close(d));

	/* Flags with every bit set. open() strips an O_PATH open to the
	 * O_PATH flags, so this is O_PATH|O_DIRECTORY|O_NOFOLLOW|O_CLOEXEC. */
	CHECK_ERR(S3(SYS_open, file, -1, 0), ENOTDIR);
	d = SYS(S3(SYS_open, dir, -1, 0));
	SYS(close(d));
	struct {
		uint64_t flags, mode, resolve;
	} how = {~0ULL, 0, 0};
	/* openat2 may be missing from a guest kernel (ENOSYS), as from
	 * Linux before 5.6; where it exists it judges its arguments. */
	CHECK_ERR2(S4(SYS_openat2, AT_FDCWD, file, &how, sizeof(how)), EINVAL,
		   ENOSYS);
	CHECK_ERR2(S4(SYS_openat2, AT_FDCWD, file, NULL, sizeof(how)), EFAULT,
		   ENOSYS);
	CHECK_ERR2(S4(SYS_openat2, AT_FDCWD, file, &how, 1), EINVAL, ENOSYS);
	CHECK_ERR(S4(SYS_newfstatat, AT_FDCWD, file, &st, -1), EINVAL);
	CHECK_ERR(S6(SYS_statx, AT_FDCWD, file, -1, 0x7ff, buf, 0), EINVAL);
	CHECK_ERR(S4(SYS_utimensat, AT_FDCWD, file, NULL, -1), EINVAL);
	struct timespec badts[2] = {{0, 2000000000L}, {0, 0}};
	CHECK_ERR(S4(SYS_utimensat, AT_FDCWD, file, badts, 0), EINVAL);
	CHECK_ERR(S4(SYS_utimensat, AT_FDCWD, file, KPTR, 0), EFAULT);
	free(longpath);
}

/* Memory management with bad addresses, lengths and flags. */
static void mm(void)
{
	CHECK_ERR(
	    S6(SYS_mmap, 0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
	    EINVAL);
	CHECK_ERR(S6(SYS_mmap, 0, PAGE, PROT_READ, MAP_ANONYMOUS, -1, 0),
		  EINVAL);
	CHECK_ERR(S6(SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE, -1, 0), EBADF);
	CHECK_ERR(S6(SYS_mmap, 0, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		     -1, 1),
		  EINVAL);
	CHECK_ERR(
	    S6(SYS_mmap, 0, -1L, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
	    ENOMEM);
	CHECK_ERR(S6(SYS_mmap, KPTR, PAGE, PROT_READ,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
		  ENOMEM);
	CHECK_ERR(S6(SYS_mmap, guard + 1, PAGE, PROT_READ,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
		  EINVAL);
	CHECK_ERR(S2(SYS_munmap, guard + 1, PAGE), EINVAL);
	CHECK_ERR(S2(SYS_munmap, guard, 0), EINVAL);
	CHECK_ERR(S2(SYS_munmap, KPTR, PAGE), EINVAL);
	CHECK_ERR(S3(SYS_mprotect, guard + 1, PAGE, PROT_READ), EINVAL);
	CHECK_ERR(S3(SYS_mprotect, guard, PAGE, -1), EINVAL);
	CHECK_ERR(S3(SYS_mprotect, KPTR, PAGE, PROT_READ), ENOMEM);
	CHECK_ERR(S3(SYS_madvise, guard, PAGE, 12345), EINVAL);
	CHECK_ERR(S3(SYS_madvise, guard + 1, PAGE, MADV_NORMAL), EINVAL);
	CHECK_ERR(S3(SYS_msync, guard + 1, PAGE, MS_SYNC), EINVAL);
	CHECK_ERR(S3(SYS_msync, guard, PAGE, -1), EINVAL);
	unsigned char vec[2];
	CHECK_ERR(S3(SYS_mincore, guard + 1, PAGE, vec), EINVAL);
	CHECK_ERR(S3(SYS_mincore, guard, PAGE, NULL), EFAULT);
	CHECK_ERR(S4(SYS_mremap, guard + 1, PAGE, PAGE, 0), EINVAL);
	CHECK_ERR(S4(SYS_mremap, guard, PAGE, 2 * PAGE, -1), EINVAL);
	CHECK_ERR(S4(SYS_mremap, guard, PAGE, 0, 0), EINVAL);
	/* brk with garbage returns the current break and changes nothing. */
	long b0 = S1(SYS_brk, 0);
	CHECK_EQ(S1(SYS_brk, KPTR), b0);
	CHECK_EQ(S1(SYS_brk, 1), b0);
	CHECK_EQ(S1(SYS_brk, 0), b0);
	/* The guard page is still PROT_NONE and the first page still ours. */
	guard[0] = 1;
	CHECK_EQ(guard[0], 1);
}

static volatile sig_atomic_t got;
static void on_usr1(int s)
{
	(void)s;
	got++;
}

/* Signals: bad numbers, bad pointers, bad sizes. */
static void signals(void)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	CHECK_ERR(S4(SYS_rt_sigaction, SIGUSR1, KPTR, NULL, 8), EFAULT);
	CHECK_ERR(S4(SYS_rt_sigaction, SIGUSR1, noaccess, NULL, 8), EFAULT);
	CHECK_ERR(S4(SYS_rt_sigaction, SIGUSR1, NULL, KPTR, 8), EFAULT);
	CHECK_ERR(S4(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 7), EINVAL);
	CHECK_ERR(S4(SYS_rt_sigaction, SIGUSR1, NULL, NULL, 1L << 32), EINVAL);
	CHECK_ERR(S4(SYS_rt_sigaction, 0, NULL, NULL, 8), EINVAL);
	CHECK_ERR(S4(SYS_rt_sigaction, 65, NULL, NULL, 8), EINVAL);
	CHECK_ERR(S4(SYS_rt_sigaction, -1, NULL, NULL, 8), EINVAL);
	CHECK_ERR(sigaction(SIGKILL, &sa, NULL), EINVAL);
	CHECK_ERR(sigaction(SIGSTOP, &sa, NULL), EINVAL);
	/* The failed calls above left SIGUSR1 alone. */
	struct sigaction old;
	SYS(sigaction(SIGUSR1, NULL, &old));
	CHECK(old.sa_handler == SIG_DFL);
	SYS(sigaction(SIGUSR1, &sa, NULL));

	/* how is looked at only when there is a set. */
	CHECK_EQ(S4(SYS_rt_sigprocmask, 99, NULL, NULL, 8), 0);
	sigset_t set;
	sigemptyset(&set);
	CHECK_ERR(S4(SYS_rt_sigprocmask, 99, &set, NULL, 8), EINVAL);
	CHECK_ERR(S4(SYS_rt_sigprocmask, SIG_BLOCK, KPTR, NULL, 8), EFAULT);
	CHECK_ERR(S4(SYS_rt_sigprocmask, SIG_BLOCK, NULL, KPTR, 8), EFAULT);
	CHECK_ERR(S4(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4), EINVAL);
	CHECK_ERR(S2(SYS_rt_sigpending, KPTR, 8), EFAULT);
	CHECK_ERR(S2(SYS_rt_sigpending, &set, 9), EINVAL);
	CHECK_ERR(S2(SYS_rt_sigsuspend, &set, 4), EINVAL);
	CHECK_ERR(S2(SYS_rt_sigsuspend, KPTR, 8), EFAULT);
	struct timespec zero = {0, 0};
	sigaddset(&set, SIGUSR2);
	CHECK_ERR(S4(SYS_rt_sigtimedwait, &set, NULL, &zero, 8), EAGAIN);
	CHECK_ERR(S4(SYS_rt_sigtimedwait, KPTR, NULL, &zero, 8), EFAULT);
	CHECK_ERR(S4(SYS_rt_sigtimedwait, &set, NULL, KPTR, 8), EFAULT);
	CHECK_ERR(S2(SYS_sigaltstack, KPTR, NULL), EFAULT);
	CHECK_ERR(S2(SYS_sigaltstack, NULL, KPTR), EFAULT);
	stack_t ss = {.ss_sp = guard, .ss_size = 16, .ss_flags = 0};
	CHECK_ERR(S2(SYS_sigaltstack, &ss, NULL), ENOMEM);
	ss.ss_flags = 0x1234;
	ss.ss_size = 65536;
	CHECK_ERR(S2(SYS_sigaltstack, &ss, NULL), EINVAL);

	CHECK_ERR(S2(SYS_kill, getpid(), 99), EINVAL);
	CHECK_ERR(S2(SYS_kill, getpid(), -1), EINVAL);
	CHECK_ERR(S2(SYS_kill, INT_MAX, 0), ESRCH);
	CHECK_ERR(S2(SYS_kill, INT_MIN, 0), ESRCH);
	CHECK_ERR(S3(SYS_tgkill, -1, getpid(), SIGUSR1), EINVAL);
	CHECK_ERR(S3(SYS_tgkill, getpid(), 0, SIGUSR1), EINVAL);
	CHECK_ERR(S3(SYS_tgkill, getpid(), INT_MAX, SIGUSR1), ESRCH);
	CHECK_ERR(S2(SYS_tkill, -5, SIGUSR1), EINVAL);
	CHECK_ERR(S3(SYS_rt_sigqueueinfo, getpid(), SIGUSR1, KPTR), EFAULT);
	CHECK_EQ(got, 0);
	SYS(kill(getpid(), SIGUSR1));
	CHECK_EQ(got, 1);
	signal(SIGUSR1, SIG_DFL);
}

/* Process calls: wait4 with bad pointers, clone with bad flags, execve with
 * garbage argv/envp. */
static void process(const char *self)
{
	(void)self;
	int st;
	CHECK_ERR(S4(SYS_wait4, -1, &st, 0, NULL), ECHILD);
	CHECK_ERR(S4(SYS_wait4, -1, &st, 0x1000, NULL), EINVAL);
	CHECK_ERR(S4(SYS_wait4, INT_MIN, &st, 0, NULL), ESRCH);
	CHECK_ERR(S4(SYS_wait4, -1, KPTR, WNOHANG, NULL), ECHILD);
	pid_t c = SYS(fork());
	if (c == 0)
		_exit(3);
	/* A bad status pointer: the child is reaped anyway (Linux copies
	 * the status out after reaping) and the call fails. */
	CHECK_ERR(S4(SYS_wait4, c, KPTR, 0, NULL), EFAULT);
	CHECK_ERR(S4(SYS_wait4, c, &st, WNOHANG, NULL), ECHILD);
	c = SYS(fork());
	if (c == 0)
		_exit(4);
	CHECK_ERR(S4(SYS_wait4, c, &st, 0, KPTR), EFAULT);
	CHECK_ERR(S4(SYS_wait4, c, &st, WNOHANG, NULL), ECHILD);
	CHECK_ERR(S6(SYS_waitid, P_ALL, 0, NULL, WEXITED | WNOHANG, 0, 0),
		  ECHILD);
	CHECK_ERR(S6(SYS_waitid, 99, 0, NULL, WEXITED, 0, 0), EINVAL);
	CHECK_ERR(S6(SYS_waitid, P_ALL, 0, NULL, 0, 0, 0), EINVAL);

	/* clone flags Linux refuses outright. */
	CHECK_ERR(S6(SYS_clone, CLONE_SIGHAND, 0, 0, 0, 0, 0), EINVAL);
	CHECK_ERR(S6(SYS_clone, CLONE_THREAD, 0, 0, 0, 0, 0), EINVAL);
	CHECK_ERR(S6(SYS_clone, CLONE_NEWNS | CLONE_FS, 0, 0, 0, 0, 0), EINVAL);
	/* clone3 may be refused outright (libc falls back to clone). */
	CHECK_ERR2(S2(SYS_clone3, NULL, 88), EFAULT, ENOSYS);
	CHECK_ERR2(S2(SYS_clone3, guard, 1), EINVAL, ENOSYS);

	/* execve: every failure here comes before the point of no return.
	 * /bin/true exists natively and in the sandbox's busybox rootfs, so
	 * a call that wrongly succeeds exits 0 instead of the errno. */
	static char *const okargv[] = {"true", NULL};
	char *const badelem[] = {"true", (char *)KPTR, NULL};
	char *const unterm[] = {unterminated(10, 'f'), NULL};
	/* One good argv slot right before a guard page, no NULL after it. */
	char **argv_end = (char **)unterminated(sizeof(char *), 0);
	argv_end[0] = "true";
	struct {
		const char *what;
		long path, argv, envp;
		int want;
	} ex[] = {
	    {"argv ptr", (long)"/bin/true", KPTR, 0, EFAULT},
	    {"argv low", (long)"/bin/true", LOWPTR, 0, EFAULT},
	    {"argv elem", (long)"/bin/true", (long)badelem, 0, EFAULT},
	    {"argv unterm", (long)"/bin/true", (long)unterm, 0, EFAULT},
	    {"argv end", (long)"/bin/true", (long)argv_end, 0, EFAULT},
	    {"envp ptr", (long)"/bin/true", (long)okargv, KPTR, EFAULT},
	    {"envp elem", (long)"/bin/true", (long)okargv, (long)badelem,
	     EFAULT},
	    {"path NULL", 0, (long)okargv, 0, EFAULT},
	    {"path unterm", (long)unterminated(10, 'g'), (long)okargv, 0,
	     EFAULT},
	    {"path empty", (long)"", (long)okargv, 0, ENOENT},
	    {"path dir", (long)"/", (long)okargv, 0, EACCES},
	};
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		c = SYS(fork());
		if (c == 0) {
			long r =
			    S3(SYS_execve, ex[i].path, ex[i].argv, ex[i].envp);
			_exit(r == -1 ? errno : 200);
		}
		SYS(waitpid(c, &st, 0));
		if (child_status(st) != ex[i].want)
			FAIL_AT("execve %s: child status %d, want errno %d",
				ex[i].what, child_status(st), ex[i].want);
		checks++;
	}

	CHECK_ERR(S2(SYS_setpgid, -1, 0), EINVAL);
	CHECK_ERR(S2(SYS_setpgid, 0, -1), EINVAL);
	CHECK_ERR(S1(SYS_getpgid, INT_MAX), ESRCH);
	CHECK_ERR(S1(SYS_getsid, INT_MAX), ESRCH);
	CHECK_ERR(S2(SYS_getgroups, -1, NULL), EINVAL);
	CHECK_ERR(S2(SYS_getrlimit, 99, NULL), EINVAL);
	CHECK_ERR(S2(SYS_getrlimit, RLIMIT_NOFILE, KPTR), EFAULT);
	CHECK_ERR(S4(SYS_prlimit64, 0, 99, NULL, NULL), EINVAL);
	CHECK_ERR(S4(SYS_prlimit64, 0, RLIMIT_NOFILE, KPTR, NULL), EFAULT);
	CHECK_ERR(S4(SYS_prlimit64, INT_MAX, RLIMIT_NOFILE, NULL, NULL), ESRCH);
	CHECK_ERR(S2(SYS_getrusage, 99, NULL), EINVAL);
	CHECK_ERR(S2(SYS_getrusage, RUSAGE_SELF, KPTR), EFAULT);
	CHECK_ERR(S1(SYS_times, KPTR), EFAULT);
	CHECK_ERR(S1(SYS_uname, NULL), EFAULT);
	CHECK_ERR(S1(SYS_uname, noaccess), EFAULT);
	CHECK_ERR(S1(SYS_sysinfo, KPTR), EFAULT);
	CHECK_ERR(S3(SYS_getrandom, NULL, 16, 0), EFAULT);
	CHECK_ERR(S3(SYS_getrandom, guard, 16, -1), EINVAL);
	/* Too long a name fails whatever the capabilities: EINVAL with
	 * CAP_SYS_ADMIN, EPERM without. */
	char host[128];
	memset(host, 'h', sizeof(host));
	CHECK_ERR2(S2(SYS_sethostname, host, sizeof(host)), EINVAL, EPERM);
	CHECK_ERR2(S2(SYS_sethostname, host, -1), EINVAL, EPERM);
	CHECK_ERR2(S2(SYS_setdomainname, host, -1), EINVAL, EPERM);
}

/* Time, poll and futex with bad arguments. */
static void timepoll(void)
{
	CHECK_ERR(S2(SYS_clock_gettime, CLOCK_MONOTONIC, NULL), EFAULT);
	CHECK_ERR(S2(SYS_clock_gettime, CLOCK_REALTIME, KPTR), EFAULT);
	CHECK_ERR(S2(SYS_clock_gettime, 999, guard), EINVAL);
	CHECK_ERR(S2(SYS_clock_getres, 12345, guard), EINVAL);
	CHECK_ERR(S2(SYS_gettimeofday, KPTR, NULL), EFAULT);
	CHECK_ERR(S1(SYS_time, KPTR), EFAULT);
	struct timespec bad = {0, 1000000000L}, neg = {-1, 0};
	CHECK_ERR(S2(SYS_nanosleep, &bad, NULL), EINVAL);
	CHECK_ERR(S2(SYS_nanosleep, &neg, NULL), EINVAL);
	CHECK_ERR(S2(SYS_nanosleep, NULL, NULL), EFAULT);
	CHECK_ERR(S2(SYS_nanosleep, KPTR, NULL), EFAULT);
	CHECK_ERR(S4(SYS_clock_nanosleep, 12345, 0, &bad, NULL), EINVAL);
	CHECK_ERR(S4(SYS_clock_nanosleep, CLOCK_MONOTONIC, 0, &bad, NULL),
		  EINVAL);
	struct itimerval itv;
	CHECK_ERR(S2(SYS_getitimer, 99, &itv), EINVAL);
	CHECK_ERR(S2(SYS_getitimer, ITIMER_REAL, KPTR), EFAULT);

	struct pollfd pfd[3] = {
	    {-1, POLLIN, 7}, {100000, POLLIN, 7}, {INT_MAX, POLLIN, 7}};
	CHECK_EQ(poll(pfd, 3, 0), 2);
	CHECK_EQ(pfd[0].revents, 0);
	CHECK_EQ(pfd[1].revents, POLLNVAL);
	CHECK_EQ(pfd[2].revents, POLLNVAL);
	CHECK_ERR(S3(SYS_poll, NULL, 1, 0), EFAULT);
	CHECK_ERR(S3(SYS_poll, KPTR, 1, 0), EFAULT);
	CHECK_ERR(S3(SYS_poll, pfd, 1L << 30, 0), EINVAL);
	CHECK_ERR(S3(SYS_poll, noaccess - sizeof(pfd[0]), 2, 0), EFAULT);
	CHECK_EQ(S3(SYS_poll, NULL, 0, 0), 0);
	struct timespec z = {0, 0};
	CHECK_ERR(S6(SYS_ppoll, pfd, 1, &z, guard, 7, 0), EINVAL);
	CHECK_ERR(S6(SYS_ppoll, pfd, 1, KPTR, NULL, 8, 0), EFAULT);
	CHECK_ERR(S6(SYS_ppoll, pfd, 1, &bad, NULL, 8, 0), EINVAL);
	struct timeval tv0 = {0, 0}, tvbad = {0, -1};
	CHECK_ERR(S6(SYS_select, -1, NULL, NULL, NULL, &tv0, 0), EINVAL);
	CHECK_ERR(S6(SYS_select, 1, KPTR, NULL, NULL, &tv0, 0), EFAULT);
	CHECK_ERR(S6(SYS_select, 1, NULL, NULL, NULL, &tvbad, 0), EINVAL);
	CHECK_ERR(S6(SYS_select, 1, NULL, NULL, NULL, KPTR, 0), EFAULT);

	static int fw = 5;
	CHECK_ERR(S6(SYS_futex, NULL, FUTEX_WAIT_PRIVATE, 0, NULL, 0, 0),
		  EFAULT);
	CHECK_ERR(S6(SYS_futex, KPTR, FUTEX_WAIT_PRIVATE, 0, NULL, 0, 0),
		  EFAULT);
	CHECK_ERR(
	    S6(SYS_futex, (char *)&fw + 1, FUTEX_WAIT_PRIVATE, 0, NULL, 0, 0),
	    EINVAL);
	CHECK_ERR(S6(SYS_futex, &fw, FUTEX_WAIT_PRIVATE, 4, NULL, 0, 0),
		  EAGAIN);
	CHECK_ERR(S6(SYS_futex, &fw, FUTEX_WAIT_PRIVATE, 5, &bad, 0, 0),
		  EINVAL);
	CHECK_ERR(S6(SYS_futex, &fw, FUTEX_WAIT_PRIVATE, 5, KPTR, 0, 0),
		  EFAULT);
	CHECK_EQ(S6(SYS_futex, &fw, FUTEX_WAKE_PRIVATE, 1, NULL, 0, 0), 0);
	CHECK_ERR(S6(SYS_futex, &fw, 99, 0, NULL, 0, 0), ENOSYS);
}

/* A fixed-seed random walk over calls whose hostile arguments can do no
 * harm natively: fds ≥ 100 (none open), pointers no process can name, and
 * any lengths, offsets and flags. Only survival and plausible results are
 * checked: which error wins between a bad fd and a bad pointer is Linux's
 * business. */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static long rfd(void)
{
	switch (rnd() % 4) {
	case 0:
		return 100 + (long)(rnd() % 900);
	case 1:
		return -1 - (long)(rnd() % 1000);
	case 2:
		return INT_MAX - (long)(rnd() % 10);
	default: /* high bits the kernel drops: still fd 100..999 */
		return (long)(rnd() & ~0xffffffffULL) |
		       (100 + (long)(rnd() % 900));
	}
}

static long rptr(void)
{
	switch (rnd() % 5) {
	case 0:
		return 0;
	case 1:
		return (long)(0xffff800000000000ULL |
			      (rnd() & 0x7fffffffffffULL));
	case 2:
		return (long)(noaccess + rnd() % PAGE);
	case 3:
		return (long)(rnd() % PAGE);
	default:
		return (long)(0x0000800000000000ULL +
			      (rnd() & 0xffffffffffULL));
	}
}

static long rval(void)
{
	switch (rnd() % 4) {
	case 0:
		return (long)(rnd() % 64);
	case 1:
		return -(long)(rnd() % 64);
	case 2:
		return (long)(rnd() >> (rnd() % 64));
	default:
		return (long)rnd();
	}
}

static void fuzz(void)
{
	for (int i = 100; i < 1000; i++)
		close(i);
	static const long calls[] = {
	    SYS_read,	   SYS_write,	SYS_pread64,	SYS_pwrite64,
	    SYS_lseek,	   SYS_fstat,	SYS_dup,	SYS_dup2,
	    SYS_close,	   SYS_fcntl,	SYS_getdents64, SYS_readv,
	    SYS_writev,	   SYS_ioctl,	SYS_fsync,	SYS_fchdir,
	    SYS_ftruncate, SYS_uname,	SYS_getpid,	SYS_newfstatat,
	    SYS_fchmod,	   SYS_fstatfs, SYS_openat,
	};
	for (int i = 0; i < 3000; i++) {
		long n = calls[rnd() % (sizeof(calls) / sizeof(calls[0]))];
		long a[6] = {rfd(), rptr(), rval(), rval(), rval(), rval()};
		if (n == SYS_dup2)
			a[1] = rfd(); /* never a real fd as the target */
		if (n == SYS_uname)
			a[0] = rptr();
		if (n == SYS_openat) {
			/* A bad dirfd or a bad path: never creates. */
			a[1] = rptr();
			a[2] &= ~(long)(O_CREAT | __O_TMPFILE);
		}
		errno = 0;
		long r = syscall(n, a[0], a[1], a[2], a[3], a[4], a[5]);
		if (n == SYS_getpid) {
			CHECK_EQ(r, getpid());
			continue;
		}
		if (r >= 0) /* only bad fds and pointers were passed */
			FAIL_AT("call %ld(%lx, %lx, %lx) = %ld", n, a[0], a[1],
				a[2], r);
		checks++;
		if (r < 0 && errno != EBADF && errno != EFAULT &&
		    errno != EINVAL && errno != ENOTTY &&
		    errno != ENAMETOOLONG && errno != ENOENT)
			FAIL_AT("call %ld(%lx, %lx, %lx): errno %d %s", n, a[0],
				a[1], a[2], errno, strerror(errno));
	}
	/* Still a working process with a working kernel. */
	int fd = SYS(open(file, O_RDONLY));
	char buf[10];
	CHECK_EQ(read(fd, buf, 10), 10);
	SYS(close(fd));
}

int main(int argc, char **argv)
{
	(void)argc;
	setup();
	rw();
	badfds();
	paths();
	mm();
	signals();
	process(argv[0]);
	timepoll();
	fuzz();
	teardown();
	pass("hostile");
	return 0;
}
