/* Address space: anonymous and file mappings, protections, brk, MAP_FIXED,
 * MAP_SHARED write-through, mremap, and copy-on-write across fork. */
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "check.h"

static sigjmp_buf jb;
static volatile void *fault_addr;
static volatile int fault_code;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	fault_addr = si->si_addr;
	fault_code = si->si_code;
	siglongjmp(jb, 1);
}

/* 1 when writing *p faults, 0 when it succeeds. */
static int write_faults(volatile char *p)
{
	fault_addr = NULL;
	if (sigsetjmp(jb, 1) == 0) {
		*p = 1;
		return 0;
	}
	return 1;
}

static int read_faults(volatile char *p)
{
	fault_addr = NULL;
	if (sigsetjmp(jb, 1) == 0) {
		(void)*p;
		return 0;
	}
	return 1;
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	CHECK_EQ(pg, 4096);
	struct sigaction sa = {0};
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	SYS(sigaction(SIGSEGV, &sa, NULL));

	/* Anonymous memory starts zeroed and is writable. */
	size_t len = 16 * pg;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(m != MAP_FAILED);
	CHECK_EQ((uintptr_t)m % pg, 0);
	int nonzero = 0;
	for (size_t i = 0; i < len; i++)
		nonzero |= m[i];
	CHECK_EQ(nonzero, 0);
	for (size_t i = 0; i < len; i += 97)
		m[i] = (char)(i & 0x7f);
	CHECK_EQ(m[97 * 5], (char)((97 * 5) & 0x7f));

	/* mprotect read-only: reads work, writes fault with SEGV_ACCERR at
	 * the exact address. */
	SYS(mprotect(m + pg, pg, PROT_READ));
	CHECK_EQ(write_faults(m), 0);
	CHECK_EQ(read_faults(m + pg + 8), 0);
	CHECK_EQ(write_faults(m + pg + 8), 1);
	CHECK(fault_addr == m + pg + 8);
	CHECK_EQ(fault_code, SEGV_ACCERR);
	SYS(mprotect(m + pg, pg, PROT_NONE));
	CHECK_EQ(read_faults(m + pg), 1);
	SYS(mprotect(m + pg, pg, PROT_READ | PROT_WRITE));
	CHECK_EQ(write_faults(m + pg), 0);
	CHECK_ERR(mprotect(m + 1, pg, PROT_READ), EINVAL);

	/* munmap a hole: the hole faults, its neighbours still work. */
	SYS(munmap(m + 2 * pg, pg));
	CHECK_EQ(read_faults(m + 2 * pg), 1);
	CHECK(fault_addr == m + 2 * pg);
	CHECK_EQ(fault_code, SEGV_MAPERR);
	CHECK_EQ(write_faults(m + 3 * pg), 0);
	CHECK_EQ(write_faults(m + pg), 0);

	/* MAP_FIXED into the hole, and over existing pages (replacing
	 * them with zeroes). */
	char *f = mmap(m + 2 * pg, pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(f == m + 2 * pg);
	CHECK_EQ(write_faults(f), 0);
	m[4 * pg] = 'q';
	f = mmap(m + 4 * pg, pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CHECK(f == m + 4 * pg);
	CHECK_EQ(m[4 * pg], 0);
	/* MAP_FIXED_NOREPLACE refuses to clobber. */
	f = mmap(m + 4 * pg, pg, PROT_READ,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	CHECK(f == MAP_FAILED);
	CHECK_EQ(errno, EEXIST);

	/* mremap grows (possibly moving) and keeps contents. */
	m[0] = 'A';
	m[len - 1] = 'Z';
	char *r = mremap(m, len, 64 * pg, MREMAP_MAYMOVE);
	CHECK(r != MAP_FAILED);
	CHECK_EQ(r[0], 'A');
	CHECK_EQ(r[len - 1], 'Z');
	CHECK_EQ(r[64 * pg - 1], 0);
	r = mremap(r, 64 * pg, pg, 0);
	CHECK(r != MAP_FAILED);
	CHECK_EQ(r[0], 'A');
	SYS(munmap(r, pg));
	CHECK_EQ(read_faults(r), 1);

	/* Bad arguments. */
	CHECK(mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) ==
	      MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	CHECK(mmap(NULL, pg, PROT_READ, MAP_PRIVATE, 999, 0) == MAP_FAILED);
	CHECK_EQ(errno, EBADF);
	CHECK_ERR(munmap((void *)1, pg), EINVAL);

	/* brk grows the heap; the new memory is usable and zeroed. */
	char *b0 = sbrk(0);
	CHECK(b0 != (void *)-1);
	char *b1 = sbrk(256 * 1024);
	CHECK(b1 == b0);
	CHECK(sbrk(0) == b0 + 256 * 1024);
	CHECK_EQ(b1[1000], 0);
	memset(b1, 0x5a, 256 * 1024);
	CHECK_EQ(b1[256 * 1024 - 1], 0x5a);
	CHECK(sbrk(-128 * 1024) == b0 + 256 * 1024);
	CHECK(sbrk(0) == b0 + 128 * 1024);
	CHECK_EQ(b1[1000], 0x5a);

	/* A file mapping shows the file; MAP_SHARED writes reach the file
	 * and MAP_PRIVATE writes do not. */
	char path[] = "/tmp/bhtest-mem-XXXXXX";
	int fd = SYS(mkstemp(path));
	char *data = malloc(2 * pg);
	for (long i = 0; i < 2 * pg; i++)
		data[i] = (char)('a' + i % 26);
	CHECK_EQ(write_full(fd, data, 2 * pg), 2 * pg);
	char *fm = mmap(NULL, 2 * pg, PROT_READ, MAP_PRIVATE, fd, 0);
	CHECK(fm != MAP_FAILED);
	CHECK(memcmp(fm, data, 2 * pg) == 0);
	CHECK_EQ(write_faults(fm), 1);
	SYS(munmap(fm, 2 * pg));
	fm = mmap(NULL, pg, PROT_READ, MAP_PRIVATE, fd, pg);
	CHECK(fm != MAP_FAILED);
	CHECK_EQ(fm[0], data[pg]);
	SYS(munmap(fm, pg));

	char *sh =
	    mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	CHECK(sh != MAP_FAILED);
	memcpy(sh + 100, "SHARED", 6);
	char buf[32] = {0};
	CHECK_EQ(pread(fd, buf, 6, 100), 6);
	CHECK_STR(buf, "SHARED");
	/* ...and write() is visible through the mapping. */
	CHECK_EQ(pwrite(fd, "WRITE", 5, 200), 5);
	CHECK(memcmp(sh + 200, "WRITE", 5) == 0);
	SYS(msync(sh, 2 * pg, MS_SYNC));
	char *pv = mmap(NULL, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	CHECK(pv != MAP_FAILED);
	memcpy(pv + 300, "PRIVATE", 7);
	CHECK_EQ(pread(fd, buf, 7, 300), 7);
	CHECK(memcmp(buf, data + 300, 7) == 0);
	SYS(munmap(pv, pg));

	/* A MAP_SHARED mapping is shared with a forked child; a private
	 * anonymous one is copied on write. */
	char *anon_sh = mmap(NULL, pg, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(anon_sh != MAP_FAILED);
	char *anon_pv = mmap(NULL, pg, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(anon_pv != MAP_FAILED);
	anon_pv[0] = 'p';
	pid_t pid = SYS(fork());
	if (pid == 0) {
		anon_sh[0] = 'c';
		sh[0] = 'C';
		anon_pv[0] = 'x';
		_exit(anon_pv[0] == 'x' ? 0 : 1);
	}
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	CHECK_EQ(anon_sh[0], 'c');
	CHECK_EQ(sh[0], 'C');
	CHECK_EQ(anon_pv[0], 'p');
	CHECK_EQ(pread(fd, buf, 1, 0), 1);
	CHECK_EQ(buf[0], 'C');

	/* Touching a file mapping beyond EOF raises SIGBUS. */
	SYS(ftruncate(fd, pg / 2));
	signal(SIGBUS, SIG_DFL);
	pid = SYS(fork());
	if (pid == 0) {
		(void)*(volatile char *)(sh + pg + 1);
		_exit(0);
	}
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK(WIFSIGNALED(st));
	CHECK_EQ(WTERMSIG(st), SIGBUS);
	/* The kernel reading or writing there for a syscall gets EFAULT
	 * instead, and the caller lives on. */
	int pp[2];
	SYS(pipe(pp));
	CHECK_ERR(write(pp[1], sh + pg, 16), EFAULT);
	CHECK_EQ(write(pp[1], "0123456789abcdef", 16), 16);
	CHECK_ERR(read(pp[0], sh + pg, 16), EFAULT);
	CHECK_EQ(read(pp[0], buf, 16), 16);
	CHECK(memcmp(buf, "0123456789abcdef", 16) == 0);
	/* Within the last page (past EOF but on a page that has data) there
	 * is no fault. */
	CHECK_EQ(write(pp[1], sh + pg / 2 + 8, 16), 16);
	CHECK_EQ(read(pp[0], buf, 16), 16);
	SYS(close(pp[0]));
	SYS(close(pp[1]));

	SYS(munmap(sh, 2 * pg));
	SYS(munmap(anon_sh, pg));
	SYS(munmap(anon_pv, pg));
	SYS(close(fd));
	SYS(unlink(path));
	free(data);

	/* A large anonymous mapping, touched a page at a time. */
	size_t big = 64 << 20;
	char *g = mmap(NULL, big, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(g != MAP_FAILED);
	for (size_t i = 0; i < big; i += pg)
		g[i] = 1;
	long sum = 0;
	for (size_t i = 0; i < big; i += pg)
		sum += g[i];
	CHECK_EQ(sum, (long)(big / pg));
	SYS(munmap(g, big));
	pass("memory");
	return 0;
}
