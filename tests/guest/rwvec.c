/* Vectored I/O: readv/writev on pipes and files, zero-length segments, the
 * iovcnt and iov_len limits, a bad segment after a good one, preadv/pwritev
 * at offsets, preadv2/pwritev2 with offset -1 and their flags (RWF_NOWAIT,
 * RWF_APPEND, unknown ones), and writev atomicity on a pipe up to
 * PIPE_BUF. */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include "check.h"

static void step(const char *what)
{
	printf("-- %s\n", what);
	fflush(stdout);
}

/* A scratch file in /tmp, already unlinked. */
static int scratch(void)
{
	mkdir("/tmp", 01777);
	char path[64];
	snprintf(path, sizeof(path), "/tmp/rwvec-%d", getpid());
	int fd = SYS(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600));
	SYS(unlink(path));
	return fd;
}

/* A page that is mapped but inaccessible: passes the kernel's range check,
 * faults on access. */
static char *bad_page(void)
{
	void *p =
	    mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	return p;
}

/* readv/writev through a volatile count, so the compiler's access checks
 * do not object to deliberately bad counts. */
static ssize_t readv_n(int fd, const struct iovec *iov, int n)
{
	volatile int cnt = n;
	return readv(fd, iov, cnt);
}

static ssize_t writev_n(int fd, const struct iovec *iov, int n)
{
	volatile int cnt = n;
	return writev(fd, iov, cnt);
}

/* --- pipes --------------------------------------------------------------- */
static void pipes(void)
{
	int p[2];
	char a[16], b[16];
	SYS(pipe(p));

	/* One byte there, room for eleven: returns 1 at once. */
	CHECK_EQ(write(p[1], "x", 1), 1);
	struct iovec v[2] = {{a, 1}, {b, 10}};
	CHECK_EQ(readv(p[0], v, 2), 1);
	CHECK_EQ(a[0], 'x');
	CHECK_EQ(write(p[1], "y", 1), 1);
	v[0].iov_len = 10;
	CHECK_EQ(readv(p[0], v, 2), 1);
	CHECK_EQ(a[0], 'y');

	/* Data fills the segments in order. */
	struct iovec w[3] = {{"abc", 3}, {"", 0}, {"defg", 4}};
	CHECK_EQ(writev(p[1], w, 3), 7);
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	struct iovec r[3] = {{a, 2}, {b, 0}, {b, 8}};
	CHECK_EQ(readv(p[0], r, 3), 7);
	CHECK(memcmp(a, "ab", 2) == 0);
	CHECK(memcmp(b, "cdefg", 5) == 0);

	/* Only zero-length segments, or none: 0 at once, even on an empty
	 * pipe, and nothing is written. */
	struct iovec z[3] = {{a, 0}, {b, 0}, {a, 0}};
	CHECK_EQ(readv(p[0], z, 3), 0);
	CHECK_EQ(writev(p[1], z, 3), 0);
	CHECK_EQ(readv(p[0], v, 0), 0);
	CHECK_EQ(writev(p[1], v, 0), 0);
	SYS(fcntl(p[0], F_SETFL, O_NONBLOCK));
	CHECK_ERR(read(p[0], a, 1), EAGAIN);

	/* A bad second segment on a pipe: EFAULT, and the data stays in the
	 * pipe (Linux copies from a pipe buffer all or nothing). */
	char *bad = bad_page();
	CHECK_EQ(write(p[1], "12345678", 8), 8);
	struct iovec bv[2] = {{a, 4}, {bad, 4}};
	CHECK_ERR(readv(p[0], bv, 2), EFAULT);
	memset(a, 0, sizeof(a));
	CHECK_EQ(read(p[0], a, sizeof(a)), 8);
	CHECK(memcmp(a, "12345678", 8) == 0);

	/* RWF_NOWAIT on an empty pipe: EAGAIN even on a blocking fd; with
	 * data it reads. pwritev2 with RWF_NOWAIT writes. */
	SYS(fcntl(p[0], F_SETFL, 0));
	v[0].iov_len = 1;
	CHECK_ERR(preadv2(p[0], v, 1, -1, RWF_NOWAIT), EAGAIN);
	CHECK_EQ(pwritev2(p[1], v, 1, -1, RWF_NOWAIT), 1);
	CHECK_EQ(preadv2(p[0], v, 2, -1, RWF_NOWAIT), 1);
	/* Pipes have no offsets. */
	CHECK_ERR(preadv(p[0], v, 1, 0), ESPIPE);
	CHECK_ERR(pwritev(p[1], v, 1, 0), ESPIPE);
	CHECK_ERR(preadv2(p[0], v, 1, 0, RWF_NOWAIT), ESPIPE);
	CHECK_ERR(pwritev2(p[1], v, 1, 5, 0), ESPIPE);

	/* The wrong end. */
	CHECK_ERR(readv(p[1], v, 1), EBADF);
	CHECK_ERR(writev(p[0], v, 1), EBADF);
	SYS(munmap(bad, 4096));
	SYS(close(p[0]));
	SYS(close(p[1]));
}

/* --- limits -------------------------------------------------------------- */
static void limits(void)
{
	int p[2];
	char a[16];
	SYS(pipe(p));
	static struct iovec many[1025];
	for (int i = 0; i < 1025; i++)
		many[i] = (struct iovec){a, 0};

	/* iovcnt: 0..IOV_MAX (1024). */
	CHECK_EQ(IOV_MAX, 1024);
	CHECK_EQ(writev_n(p[1], many, 1024), 0);
	CHECK_ERR(writev_n(p[1], many, 1025), EINVAL);
	CHECK_ERR(readv_n(p[0], many, 1025), EINVAL);
	CHECK_ERR(readv_n(p[0], many, -1), EINVAL);
	CHECK_ERR(writev_n(p[1], many, -1), EINVAL);
	CHECK_ERR(writev_n(p[1], many, INT_MIN), EINVAL);

	/* One segment longer than SSIZE_MAX is EINVAL, checked for every
	 * segment before any is touched. */
	struct iovec huge[2] = {{a, 1}, {a, (size_t)SSIZE_MAX + 1}};
	CHECK_ERR(readv(p[0], huge, 2), EINVAL);
	CHECK_ERR(writev(p[1], huge, 2), EINVAL);
	huge[0] = (struct iovec){(void *)-4096L, 1};
	CHECK_ERR(writev(p[1], huge, 2), EINVAL);
	huge[1].iov_len = SIZE_MAX;
	CHECK_ERR(writev(p[1], huge, 2), EINVAL);

	/* A sum past SSIZE_MAX is not EINVAL on Linux: segments that long
	 * cannot be valid user memory, and the range check of each segment
	 * fails first with EFAULT (the total is clamped to MAX_RW_COUNT,
	 * never rejected). */
	struct iovec sum[2] = {{a, SSIZE_MAX}, {a, 2}};
	CHECK_ERR(readv(p[0], sum, 2), EFAULT);
	CHECK_ERR(writev(p[1], sum, 2), EFAULT);
	sum[0].iov_len = 2;
	sum[1].iov_len = SSIZE_MAX;
	CHECK_ERR(writev(p[1], sum, 2), EFAULT);

	/* The iovec array itself must be readable. */
	CHECK_ERR(readv(p[0], (void *)-4096L, 1), EFAULT);
	CHECK_ERR(writev_n(p[1], (void *)8, 1), EFAULT);
	/* Nothing was written by any of the failures. */
	SYS(fcntl(p[0], F_SETFL, O_NONBLOCK));
	CHECK_ERR(read(p[0], a, 1), EAGAIN);
	SYS(close(p[0]));
	SYS(close(p[1]));
}

/* --- regular files ------------------------------------------------------- */
static void files(void)
{
	int f = scratch();
	char a[32], b[32];

	/* 1024 one-byte segments. */
	static struct iovec many[1024];
	static char bytes[1024];
	for (int i = 0; i < 1024; i++) {
		bytes[i] = 'A' + i % 26;
		many[i] = (struct iovec){&bytes[i], 1};
	}
	CHECK_EQ(writev(f, many, 1024), 1024);
	CHECK_EQ(lseek(f, 0, SEEK_CUR), 1024);
	SYS(ftruncate(f, 0));
	SYS(lseek(f, 0, SEEK_SET));

	struct iovec w[2] = {{"0123456789", 10}, {"abcdef", 6}};
	CHECK_EQ(writev(f, w, 2), 16);
	CHECK_EQ(lseek(f, 0, SEEK_CUR), 16);
	SYS(lseek(f, 0, SEEK_SET));

	/* A bad second segment after a good first one: a regular file
	 * returns the bytes of the first segment, and the offset moves by
	 * that much. */
	char *bad = bad_page();
	struct iovec bv[2] = {{a, 4}, {bad, 4}};
	memset(a, 0, sizeof(a));
	CHECK_EQ(readv(f, bv, 2), 4);
	CHECK(memcmp(a, "0123", 4) == 0);
	CHECK_EQ(lseek(f, 0, SEEK_CUR), 4);
	/* Likewise for writev: the first segment is written. */
	struct iovec bw[2] = {{"WXYZ", 4}, {bad, 4}};
	CHECK_EQ(writev(f, bw, 2), 4);
	CHECK_EQ(lseek(f, 0, SEEK_CUR), 8);
	/* A bad first segment is EFAULT and moves nothing. */
	struct iovec b0[2] = {{bad, 4}, {a, 4}};
	CHECK_ERR(readv(f, b0, 2), EFAULT);
	CHECK_ERR(writev(f, b0, 2), EFAULT);
	CHECK_EQ(lseek(f, 0, SEEK_CUR), 8);
	CHECK_EQ(pread(f, a, 16, 0), 16);
	CHECK(memcmp(a, "0123WXYZ89abcdef", 16) == 0);
	SYS(munmap(bad, 4096));

	/* Reading at end of file: 0. */
	SYS(lseek(f, 0, SEEK_END));
	struct iovec r[2] = {{a, 4}, {b, 4}};
	CHECK_EQ(readv(f, r, 2), 0);

	/* preadv/pwritev at offsets leave the file position alone. */
	SYS(lseek(f, 3, SEEK_SET));
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	CHECK_EQ(preadv(f, r, 2, 8), 8);
	CHECK(memcmp(a, "89ab", 4) == 0);
	CHECK(memcmp(b, "cdef", 4) == 0);
	CHECK_EQ(lseek(f, 0, SEEK_CUR), 3);
	/* Short at end of file. */
	CHECK_EQ(preadv(f, r, 2, 14), 2);
	CHECK(memcmp(a, "ef", 2) == 0);
	CHECK_EQ(preadv(f, r, 2, 1000), 0);
	struct iovec pw[2] = {{"pq", 2}, {"rs", 2}};
	CHECK_EQ(pwritev(f, pw, 2, 4), 4);
	CHECK_EQ(lseek(f, 0, SEEK_CUR), 3);
	/* Past the end: a hole of zeros. */
	CHECK_EQ(pwritev(f, pw, 2, 20), 4);
	struct stat st;
	SYS(fstat(f, &st));
	CHECK_EQ(st.st_size, 24);
	CHECK_EQ(pread(f, a, 24, 0), 24);
	CHECK(memcmp(a, "0123pqrs89abcdef\0\0\0\0pqrs", 24) == 0);
	CHECK_EQ(lseek(f, 0, SEEK_CUR), 3);
	/* Negative offsets. */
	CHECK_ERR(preadv(f, r, 2, -1), EINVAL);
	CHECK_ERR(pwritev(f, pw, 2, -1), EINVAL);

	/* preadv2/pwritev2 with offset -1 use and advance the position;
	 * with an offset they behave as preadv/pwritev. */
	memset(a, 0, sizeof(a));
	struct iovec one = {a, 5};
	CHECK_EQ(preadv2(f, &one, 1, -1, 0), 5);
	CHECK(memcmp(a, "3pqrs", 5) == 0);
	CHECK_EQ(lseek(f, 0, SEEK_CUR), 8);
	CHECK_EQ(preadv2(f, &one, 1, 0, 0), 5);
	CHECK(memcmp(a, "0123p", 5) == 0);
	CHECK_EQ(lseek(f, 0, SEEK_CUR), 8);
	struct iovec tw = {"TU", 2};
	CHECK_EQ(pwritev2(f, &tw, 1, -1, 0), 2);
	CHECK_EQ(lseek(f, 0, SEEK_CUR), 10);
	CHECK_EQ(pwritev2(f, &tw, 1, 0, 0), 2);
	CHECK_EQ(lseek(f, 0, SEEK_CUR), 10);
	CHECK_EQ(pread(f, a, 12, 0), 12);
	CHECK(memcmp(a, "TU23pqrsTUab", 12) == 0);
	/* Other negative offsets are EINVAL. */
	CHECK_ERR(preadv2(f, &one, 1, -2, 0), EINVAL);
	CHECK_ERR(pwritev2(f, &tw, 1, -2, 0), EINVAL);

	/* RWF_APPEND writes at the end whatever the offset, and leaves the
	 * position alone when an offset is given. */
	CHECK_EQ(pwritev2(f, &tw, 1, 0, RWF_APPEND), 2);
	SYS(fstat(f, &st));
	CHECK_EQ(st.st_size, 26);
	CHECK_EQ(lseek(f, 0, SEEK_CUR), 10);
	CHECK_EQ(pread(f, a, 2, 24), 2);
	CHECK(memcmp(a, "TU", 2) == 0);
	CHECK_EQ(pread(f, a, 2, 0), 2);
	CHECK(memcmp(a, "TU", 2) == 0);

	/* Unknown flags: EOPNOTSUPP. */
	CHECK_ERR(preadv2(f, &one, 1, 0, 0x1000), EOPNOTSUPP);
	CHECK_ERR(pwritev2(f, &tw, 1, 0, 0x1000), EOPNOTSUPP);
	CHECK_ERR(preadv2(f, &one, 1, -1, -1), EOPNOTSUPP);
	/* Known flags that mean nothing here are accepted. */
	CHECK_EQ(preadv2(f, &one, 1, 0, RWF_HIPRI), 5);
	CHECK_EQ(pwritev2(f, &tw, 1, 0, RWF_DSYNC), 2);
	CHECK_EQ(pwritev2(f, &tw, 1, 0, RWF_SYNC), 2);

	/* A read-only fd refuses writev; a directory refuses readv. */
	int ro = SYS(open("/proc/self/exe", O_RDONLY));
	CHECK_ERR(writev(ro, &tw, 1), EBADF);
	CHECK_ERR(pwritev(ro, &tw, 1, 0), EBADF);
	SYS(close(ro));
	int d = SYS(open("/", O_RDONLY | O_DIRECTORY));
	CHECK_ERR(readv(d, &one, 1), EISDIR);
	CHECK_ERR(preadv(d, &one, 1, 0), EISDIR);
	SYS(close(d));
	CHECK_ERR(readv(999, &one, 1), EBADF);
	SYS(close(f));
}

/* --- atomicity ----------------------------------------------------------- */
#define WRITERS 4
#define RECORDS 300
#define RECLEN	100

static void atomic_writes(void)
{
	CHECK(RECLEN <= PIPE_BUF);
	int p[2];
	SYS(pipe(p));
	pid_t pids[WRITERS];
	for (int w = 0; w < WRITERS; w++) {
		pids[w] = SYS(fork());
		if (pids[w] == 0) {
			close(p[0]);
			char head = 'A' + w, body[RECLEN - 2], tail = 'a' + w;
			memset(body, '0' + w, sizeof(body));
			/* Three segments, one record: never interleaved with
			 * another writer's record. */
			struct iovec v[3] = {
			    {&head, 1}, {body, sizeof(body)}, {&tail, 1}};
			for (int i = 0; i < RECORDS; i++)
				if (writev(p[1], v, 3) != RECLEN)
					_exit(2);
			_exit(0);
		}
	}
	SYS(close(p[1]));
	int count[WRITERS] = {0};
	char rec[RECLEN];
	ssize_t n;
	while ((n = read_full(p[0], rec, RECLEN)) == RECLEN) {
		int w = rec[0] - 'A';
		CHECK(w >= 0 && w < WRITERS);
		CHECK_EQ(rec[RECLEN - 1], 'a' + w);
		for (int i = 1; i < RECLEN - 1; i++)
			if (rec[i] != '0' + w)
				FAIL_AT("record of writer %d torn at byte %d",
					w, i);
		count[w]++;
	}
	CHECK_EQ(n, 0);
	for (int w = 0; w < WRITERS; w++) {
		CHECK_EQ(count[w], RECORDS);
		int st;
		CHECK_EQ(waitpid(pids[w], &st, 0), pids[w]);
		CHECK_EQ(child_status(st), 0);
	}
	SYS(close(p[0]));
}

int main(void)
{
	step("pipes");
	pipes();
	step("limits");
	limits();
	step("files");
	files();
	step("atomic writes");
	atomic_writes();
	pass("rwvec");
	return 0;
}
