/* Attempts to leave the sandbox. Every one must fail or stay confined to the
 * container. The test first drops to the capabilities the default bundle
 * grants (CAP_KILL, CAP_AUDIT_WRITE, CAP_NET_BIND_SERVICE), so the host
 * kernel enforces the same rules natively that the guest kernel must
 * enforce inside; arguments are chosen so that even an unexpected success
 * would be harmless on the host.
 *
 * BH_ESCAPE_MARKER=/host/abs/path names a file outside the container's root
 * (the runner puts one next to the rootfs); no path may reach it. */
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include "check.h"

/* A privileged call must fail; which errno depends on the kernel. */
#define MUST_FAIL(expr)                                                        \
	do {                                                                   \
		checks++;                                                      \
		errno = 0;                                                     \
		long _r = (long)(expr);                                        \
		if (_r != -1 ||                                                \
		    (errno != EPERM && errno != ENOSYS && errno != EINVAL &&   \
		     errno != EFAULT && errno != ENOENT && errno != EACCES &&  \
		     errno != ESRCH))                                          \
			FAIL_AT("%s = %ld errno %d (%s): escaped?", #expr, _r, \
				errno, strerror(errno));                       \
	} while (0)

static void same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	SYS(stat(a, &sa));
	SYS(stat(b, &sb));
	checks++;
	if (sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino)
		FAIL_AT("%s and %s differ", a, b);
}

static void drop_caps(void)
{
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {0};
	unsigned keep =
	    1u << CAP_KILL | 1u << CAP_AUDIT_WRITE | 1u << CAP_NET_BIND_SERVICE;
	d[0].effective = d[0].permitted = keep;
	SYS(syscall(SYS_capset, &h, d));
	SYS(syscall(SYS_capget, &h, d));
	CHECK_EQ(d[0].effective, keep);
	CHECK_EQ(d[1].effective, 0);
}

static void paths(void)
{
	same_file("/..", "/");
	same_file("/../../../../..", "/");
	same_file("/tmp/../../..", "/");
	same_file("/../../../etc/passwd", "/etc/passwd");

	int root = SYS(open("/", O_RDONLY | O_DIRECTORY));
	int up = SYS(openat(root, "..", O_RDONLY | O_DIRECTORY));
	struct stat a, b;
	SYS(fstat(root, &a));
	SYS(fstat(up, &b));
	CHECK(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	close(up);

	/* chdir("..") from the root stays at the root. */
	char cwd[PATH_MAX];
	SYS(chdir("/tmp"));
	for (int i = 0; i < 8; i++)
		SYS(chdir(".."));
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_STR(cwd, "/");
	same_file(".", "/");

	/* Symlinks that climb, absolute and relative, land inside. */
	char dir[] = "/tmp/bhtest-escape-XXXXXX";
	CHECK(mkdtemp(dir) != NULL);
	int dfd = SYS(open(dir, O_RDONLY | O_DIRECTORY));
	SYS(symlinkat("../../../../../../../..", dfd, "up"));
	SYS(symlinkat("/", dfd, "root"));
	SYS(symlinkat("/../../../..", dfd, "absup"));
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/up", dir);
	same_file(p, "/");
	snprintf(p, sizeof(p), "%s/root/..", dir);
	same_file(p, "/");
	snprintf(p, sizeof(p), "%s/absup/..", dir);
	same_file(p, "/");
	snprintf(p, sizeof(p), "%s/up/etc/passwd", dir);
	same_file(p, "/etc/passwd");
	int fd = SYS(openat(dfd, "up/..", O_RDONLY | O_DIRECTORY));
	SYS(fstat(fd, &b));
	CHECK(a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	close(fd);
	SYS(unlinkat(dfd, "up", 0));
	SYS(unlinkat(dfd, "root", 0));
	SYS(unlinkat(dfd, "absup", 0));
	close(dfd);
	SYS(rmdir(dir));

	/* /proc/1/root is either refused or our own root. */
	errno = 0;
	if (stat("/proc/1/root/.", &b) == 0) {
		checks++;
		if (b.st_ino != a.st_ino || b.st_dev != a.st_dev)
			FAIL_AT("/proc/1/root is not our root");
	} else {
		CHECK(errno == EACCES || errno == EPERM || errno == ENOENT);
	}
	close(root);

	const char *marker = getenv("BH_ESCAPE_MARKER");
	if (marker) {
		CHECK_ERR(open(marker, O_RDONLY), ENOENT);
		snprintf(p, sizeof(p), "/../../../../..%s", marker);
		CHECK_ERR(open(p, O_RDONLY), ENOENT);
		const char *base = strrchr(marker, '/');
		snprintf(p, sizeof(p), "/..%s", base);
		CHECK_ERR(open(p, O_RDONLY), ENOENT);
	}
}

static int secret = 0x5ec7e7;

static void tracing(void)
{
	/* ptrace and process_vm_readv reach nobody but our own children. */
	MUST_FAIL(ptrace(PTRACE_ATTACH, 1, 0, 0));
	if (getppid() > 0)
		MUST_FAIL(ptrace(PTRACE_ATTACH, getppid(), 0, 0));
	int buf = 0;
	struct iovec local = {&buf, sizeof(buf)},
		     remote = {&secret, sizeof(int)};
	for (pid_t pid = 1; pid < 64; pid++) {
		if (pid == getpid())
			continue;
		MUST_FAIL(process_vm_readv(pid, &local, 1, &remote, 1, 0));
	}

	/* A child may ask to be traced: then we see its memory (ours, after
	 * fork), or the request is refused. Either is confined. */
	int p[2];
	SYS(pipe(p));
	pid_t pid = SYS(fork());
	if (pid == 0) {
		long r = ptrace(PTRACE_TRACEME, 0, 0, 0);
		char c = r == 0 ? 'y' : 'n';
		(void)!write(p[1], &c, 1);
		if (r == 0)
			raise(SIGSTOP);
		_exit(0);
	}
	char c = 0;
	CHECK_EQ(read(p[0], &c, 1), 1);
	int st;
	if (c == 'y') {
		CHECK_EQ(waitpid(pid, &st, WUNTRACED), pid);
		CHECK(WIFSTOPPED(st));
		errno = 0;
		long v = ptrace(PTRACE_PEEKDATA, pid, &secret, 0);
		CHECK_EQ(errno, 0);
		CHECK_EQ((int)v, secret);
		SYS(ptrace(PTRACE_CONT, pid, 0, 0));
	}
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	close(p[0]);
	close(p[1]);
}

static void privileged(void)
{
	/* Bad magic numbers: refused even with CAP_SYS_BOOT. */
	MUST_FAIL(syscall(SYS_reboot, 0xdead, 0xbeef, 0, 0));
	MUST_FAIL(mount("none", "/tmp", "tmpfs", 0, NULL));
	MUST_FAIL(mount("/", "/tmp", NULL, MS_BIND, NULL));
	MUST_FAIL(umount2("/proc", MNT_DETACH));
	MUST_FAIL(syscall(SYS_kexec_load, 0, 0, NULL, 0));
	MUST_FAIL(syscall(SYS_init_module, NULL, 0, ""));
	MUST_FAIL(syscall(SYS_finit_module, 0, "", 0));
	MUST_FAIL(syscall(SYS_delete_module, "bh_no_such_module", 0));
	MUST_FAIL(syscall(SYS_swapon, "/nonexistent-swap", 0));
	MUST_FAIL(chroot("/tmp"));
	MUST_FAIL(syscall(SYS_pivot_root, "/tmp", "/tmp"));
	MUST_FAIL(syscall(SYS_iopl, 3));
	MUST_FAIL(syscall(SYS_ioperm, 0x80, 1, 1));
	MUST_FAIL(
	    mknod("/tmp/bhtest-escape-dev", S_IFBLK | 0600, makedev(8, 0)));
	/* Harmless even on success: the current name and time. */
	char host[256];
	SYS(gethostname(host, sizeof(host)));
	MUST_FAIL(sethostname(host, strlen(host)));
	struct timespec now;
	SYS(clock_gettime(CLOCK_REALTIME, &now));
	MUST_FAIL(clock_settime(CLOCK_REALTIME, &now));
	/* Raising capabilities back is refused. */
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2] = {{~0u, ~0u, 0}, {~0u, ~0u, 0}};
	MUST_FAIL(syscall(SYS_capset, &h, d));
}

int main(void)
{
	drop_caps();
	paths();
	tracing();
	privileged();
	pass("escape");
	return 0;
}
