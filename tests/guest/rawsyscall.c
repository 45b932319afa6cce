/* Raw syscall instructions from code the program wrote itself, which no
 * libc wrapper or known call site covers: the guest kernel must serve them
 * (getpid is the guest's pid, 1 as init in the sandbox, not the stub's host
 * pid), must refuse every host-level operation (reboot, mount, modules,
 * ptrace, bpf, namespaces, seccomp...) and stay intact after each, and a
 * jump into the stub's own syscall gates must not reach the host kernel:
 * the jumper dies or gets the guest's answer. */
#include <fcntl.h>
#include <dirent.h>
#include <linux/reboot.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include "check.h"

typedef long (*rawfn)(long nr, long a0, long a1, long a2, long a3, long a4,
		      long a5);
static rawfn raw;

/* The System V call into the page moves its arguments into the syscall
 * registers and ends in "syscall; ret": rax = nr, rdi..r9 = a0..a5. */
static const unsigned char tramp[] = {
    0x48, 0x89, 0xf8,		  /* mov %rdi,%rax */
    0x48, 0x89, 0xf7,		  /* mov %rsi,%rdi */
    0x48, 0x89, 0xd6,		  /* mov %rdx,%rsi */
    0x48, 0x89, 0xca,		  /* mov %rcx,%rdx */
    0x4d, 0x89, 0xc2,		  /* mov %r8,%r10 */
    0x4d, 0x89, 0xc8,		  /* mov %r9,%r8 */
    0x4c, 0x8b, 0x4c, 0x24, 0x08, /* mov 8(%rsp),%r9 */
    0x0f, 0x05,			  /* syscall */
    0xc3,			  /* ret */
};

static void make_page(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		memcpy(p, tramp, sizeof(tramp));
	} else {
		p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		CHECK(p != MAP_FAILED);
		memcpy(p, tramp, sizeof(tramp));
		SYS(mprotect(p, 4096, PROT_READ | PROT_EXEC));
	}
	raw = (rawfn)p;
}

#define R0(n) raw(n, 0, 0, 0, 0, 0, 0)
#define R(n, a, b, c, d)                                                       \
	raw(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

static int in_sandbox(void)
{
	const char *e = getenv("BH_EXPECT_PID1");
	return e && strcmp(e, "1") == 0;
}

static void served(void)
{
	CHECK_EQ(R0(__NR_getpid), getpid());
	CHECK_EQ(R0(__NR_gettid), syscall(SYS_gettid));
	CHECK_EQ(R0(__NR_getppid), getppid());
	CHECK_EQ(R0(__NR_getuid), getuid());
	if (in_sandbox()) {
		CHECK_EQ(R0(__NR_getpid), 1);
		CHECK_EQ(R0(__NR_getppid), 0);
	}
	struct utsname a, b;
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	SYS(uname(&a));
	CHECK_EQ(R(__NR_uname, &b, 0, 0, 0), 0);
	CHECK_STR(b.nodename, a.nodename);
	CHECK_STR(b.sysname, a.sysname);
	/* Errors come back as -errno in rax, with no libc in between. */
	CHECK_EQ(R(__NR_close, -1, 0, 0, 0), -EBADF);
	CHECK_EQ(R(__NR_uname, 16, 0, 0, 0), -EFAULT);
	CHECK_EQ(R0(99999), -ENOSYS);
	/* A write and a read through the page. */
	int p[2];
	SYS(pipe(p));
	CHECK_EQ(R(__NR_write, p[1], "raw", 3, 0), 3);
	char buf[4] = {0};
	CHECK_EQ(R(__NR_read, p[0], buf, 3, 0), 3);
	CHECK_STR(buf, "raw");
	close(p[0]);
	close(p[1]);
	/* A child forked with the raw call has its own pid. */
	long pid = R0(__NR_fork);
	if (pid == 0)
		_exit(R0(__NR_getpid) == getpid() ? 0 : 1);
	CHECK(pid > 0);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
}

/* The sandbox is still whole: we are init, and / is the container's. */
static void intact(const char *after)
{
	if (getpid() != 1)
		FAIL_AT("after %s: getpid() = %d", after, getpid());
	DIR *d = opendir("/");
	if (!d)
		FAIL_AT("after %s: opendir(/): %s", after, strerror(errno));
	int bin = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		bin |= strcmp(e->d_name, "bin") == 0;
	closedir(d);
	if (!bin)
		FAIL_AT("after %s: / has no bin", after);
	checks++;
}

/* A forbidden call must fail with an errno (any of them: EPERM, ENOSYS,
 * EINVAL, ENOENT, EFAULT...) and leave the sandbox as it was. */
static void refused(const char *what, long r)
{
	checks++;
	if (r >= 0 || r < -4095)
		FAIL_AT("%s = %ld, want refused with -errno", what, r);
	intact(what);
}

#define REFUSE(n, a, b, c, d)                                                  \
	refused(#n "(" #a ", " #b ", " #c ", " #d ")", R(n, a, b, c, d))

static void forbidden(void)
{
	static char buf[4096];
	static char attr[256];
	REFUSE(__NR_reboot, 0xdead, 0xbeef, LINUX_REBOOT_CMD_RESTART, 0);
	REFUSE(__NR_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
	       LINUX_REBOOT_CMD_CAD_OFF, 0);
	REFUSE(__NR_mount, "none", "/mnt", "tmpfs", 0);
	REFUSE(__NR_umount2, "/", MNT_DETACH, 0, 0);
	REFUSE(__NR_pivot_root, "/tmp", "/tmp", 0, 0);
	REFUSE(__NR_init_module, buf, 64, "", 0);
	REFUSE(__NR_finit_module, 0, "", 0, 0);
	REFUSE(__NR_delete_module, "loop", 0, 0, 0);
	REFUSE(__NR_kexec_load, 0, 0, NULL, 0);
	REFUSE(__NR_swapon, "/dev/null", 0, 0, 0);
	REFUSE(__NR_ptrace, 16 /* PTRACE_ATTACH */, 1, 0, 0);
	{
		static char secret[16] = "guest-own-bytes";
		char got[16] = {0};
		struct iovec l = {got, sizeof(got)};
		struct iovec rm = {secret, sizeof(secret)};
		long r =
		    raw(__NR_process_vm_readv, 1, (long)&l, 1, (long)&rm, 1, 0);
		refused("process_vm_readv(1)", r);
	}
	REFUSE(__NR_bpf, 0 /* BPF_MAP_CREATE */, attr, sizeof(attr), 0);
	{
		/* perf_event_attr: PERF_TYPE_SOFTWARE, cpu clock. */
		uint32_t pa[32] = {1, 112, 0};
		long r = raw(__NR_perf_event_open, (long)pa, 0, -1, -1, 0, 0);
		refused("perf_event_open", r);
	}
	REFUSE(__NR_unshare, CLONE_NEWUSER | CLONE_NEWNS, 0, 0, 0);
	REFUSE(__NR_setns, 0, CLONE_NEWNS, 0, 0);
	REFUSE(__NR_keyctl, 0 /* KEYCTL_GET_KEYRING_ID */, -3, 0, 0);
	REFUSE(__NR_io_uring_setup, 1, attr, 0, 0);
	REFUSE(__NR_userfaultfd, 0, 0, 0, 0);
	REFUSE(__NR_open_by_handle_at, AT_FDCWD, attr, 0, 0);
	REFUSE(__NR_syslog, 3 /* READ_ALL */, buf, sizeof(buf), 0);
	REFUSE(__NR_acct, "/tmp/acct", 0, 0, 0);
	REFUSE(__NR_sethostname, NULL, 100000, 0, 0);
	/* Natively strict mode would succeed and kill us: sandbox only, and
	 * a success would leave us unable to call intact(). */
	REFUSE(__NR_seccomp, 0 /* SECCOMP_SET_MODE_STRICT */, 0, NULL, 0);
	/* After all that, ordinary calls still work. */
	CHECK_EQ(R0(__NR_getpid), 1);
	int fd = SYS(open("/proc/self/exe", O_RDONLY));
	close(fd);
}

/* --- jumping into the stub's gates -------------------------------------- */
#define GATE_INT3 0x7e0000000000UL /* "syscall; int3" */
#define GATE_RET  0x7e0000000020UL /* "syscall; ret" */

static long gate_call3(unsigned long addr, long nr, long a0, long a1, long a2)
{
	register long rdi __asm__("rdi") = a0;
	register long rsi __asm__("rsi") = a1;
	register long rdx __asm__("rdx") = a2;
	long ret;
	/* Skip the red zone before call pushes the return address. */
	__asm__ volatile("sub $128, %%rsp\n\t"
			 "call *%[addr]\n\t"
			 "add $128, %%rsp"
			 : "=a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx)
			 : [addr] "r"(addr), "a"(nr)
			 : "rcx", "r11", "r8", "r9", "r10", "memory", "cc");
	return ret;
}

static long gate_call(unsigned long addr, long nr, long a0, long a1)
{
	return gate_call3(addr, nr, a0, a1, 0);
}

struct gate_case {
	unsigned long addr;
	long nr, a0, a1;
	const char *name;
};

/* The child makes the jump and reports what came back; it must either
 * die by a signal or report the guest kernel's own answer. */
static void gate_jump(const struct gate_case *c)
{
	int p[2];
	SYS(pipe(p));
	pid_t parent = getpid();
	pid_t pid = SYS(fork());
	if (pid == 0) {
		close(p[0]);
		signal(SIGSEGV, SIG_DFL);
		signal(SIGTRAP, SIG_DFL);
		signal(SIGSYS, SIG_DFL);
		alarm(5);
		long r = gate_call(c->addr, c->nr, c->a0, c->a1);
		(void)!write(p[1], &r, sizeof(r));
		_exit(0);
	}
	close(p[1]);
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	long r = 0;
	ssize_t n = read_full(p[0], &r, sizeof(r));
	close(p[0]);
	checks++;
	if (WIFSIGNALED(st)) {
		if (WTERMSIG(st) == SIGALRM)
			FAIL_AT("%s: the jumper hung", c->name);
		printf("%s: died by signal %d\n", c->name, WTERMSIG(st));
		return;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || n != sizeof(r))
		FAIL_AT("%s: child status %#x, read %zd", c->name, st, n);
	long want;
	switch (c->nr) {
	case __NR_getpid:
	case __NR_gettid:
		want = pid;
		break;
	case __NR_getppid:
		want = parent;
		break;
	default:
		want = 0; /* kill(own pid, 0) */
	}
	if (r != want)
		FAIL_AT("%s returned %ld, want %ld (the guest's answer) or a "
			"signal death",
			c->name, r, want);
	printf("%s: returned %ld, the guest's answer\n", c->name, r);
}

static void gates(void)
{
	const struct gate_case cases[] = {
	    {GATE_RET, __NR_getpid, 0, 0, "gate ret: getpid"},
	    {GATE_INT3, __NR_getpid, 0, 0, "gate int3: getpid"},
	    {GATE_RET, __NR_getppid, 0, 0, "gate ret: getppid"},
	    {GATE_RET, __NR_gettid, 0, 0, "gate ret: gettid"},
	    {GATE_RET, __NR_kill, 0, 0, "gate ret: kill(0, 0)"},
	    {GATE_INT3, __NR_kill, 0, 0, "gate int3: kill(0, 0)"},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		gate_jump(&cases[i]);
		if (in_sandbox())
			intact(cases[i].name);
	}
}

/* --- another process's fds ------------------------------------------------
 * The sentry hands a stub the host fd of each file it maps through a
 * socket, and the stub's gate may receive on it. A child that keeps
 * receiving there through the gate must get none of the fds meant for its
 * parent's mmaps, and the parent's mmaps must all work. */

static void fd_theft(void)
{
	volatile int *stop = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(stop != MAP_FAILED);
	int p[2];
	SYS(pipe(p));
	pid_t pid = SYS(fork());
	if (pid == 0) {
		close(p[0]);
		signal(SIGSEGV, SIG_DFL);
		signal(SIGSYS, SIG_DFL);
		alarm(20);
		long stolen = 0;
		char byte;
		union {
			char buf[CMSG_SPACE(sizeof(int) * 4)];
			struct cmsghdr align;
		} u;
		while (!*stop) {
			struct iovec iov = {&byte, 1};
			struct msghdr mh = {.msg_iov = &iov,
					    .msg_iovlen = 1,
					    .msg_control = u.buf,
					    .msg_controllen = sizeof(u.buf)};
			long r = gate_call3(GATE_RET, __NR_recvmsg, 3,
					    (long)&mh, MSG_DONTWAIT);
			if (r > 0 && mh.msg_controllen > 0)
				stolen++;
		}
		(void)!write(p[1], &stolen, sizeof(stolen));
		_exit(0);
	}
	close(p[1]);
	int bad = 0;
	for (int i = 0; i < 300; i++) {
		int fd = open("/proc/self/exe", O_RDONLY);
		void *m = fd < 0
			      ? MAP_FAILED
			      : mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED)
			bad++;
		else
			munmap(m, 4096);
		if (fd >= 0)
			close(fd);
	}
	*stop = 1;
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	long stolen = -1;
	ssize_t n = read_full(p[0], &stolen, sizeof(stolen));
	close(p[0]);
	CHECK_EQ(bad, 0);
	/* A child the gate killed took nothing either. */
	if (WIFEXITED(st)) {
		CHECK_EQ(n, (ssize_t)sizeof(stolen));
		CHECK_EQ(stolen, 0);
		printf("fd theft: the thief got no fd in 300 maps\n");
	} else {
		printf("fd theft: the thief died by signal %d\n", WTERMSIG(st));
	}
	munmap((void *)stop, 4096);
}

/* uretprobe (335) and uprobe (336) pass every seccomp filter on recent
 * hosts (6.11, 6.16); outside their trampolines the host kills with SIGILL
 * or answers ENXIO. The guest kernel has neither: ENOSYS, and the caller
 * lives, on every platform. uprobe returns from the host on systrap
 * without a trap, so only its harmlessness is checked: the sandbox and
 * the caller stay intact. In forked children, natively too. */
static void probe_calls(void)
{
	for (long nr = 335; nr <= 336; nr++) {
		pid_t p = SYS(fork());
		if (p == 0) {
			long r = R0(nr);
			if (nr == 335 && r != -ENOSYS)
				_exit(10);
			if (nr == 336 && r != -ENOSYS && r != -ENXIO)
				_exit(11);
			_exit(0);
		}
		int st;
		SYS(waitpid(p, &st, 0));
		if (in_sandbox())
			CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		else /* the host's own answer: SIGILL on 6.11 and later */
			CHECK((WIFEXITED(st) && WEXITSTATUS(st) == 0) ||
			      (WIFSIGNALED(st) && WTERMSIG(st) == SIGILL));
	}
	if (in_sandbox())
		intact("uretprobe/uprobe");
}

int main(void)
{
	make_page();
	served();
	if (in_sandbox())
		forbidden();
	gates();
	probe_calls();
	if (in_sandbox())
		fd_theft();
	pass("rawsyscall");
	return 0;
}
