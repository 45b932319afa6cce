/* Names and special nodes: hard links (one inode, shared size and link
 * count, the remaining name keeps working after the first goes), FIFOs
 * made by mkfifo/mknod with their open semantics between processes, and
 * xattr calls on filesystems without xattrs (ENOTSUP, not ENOSYS). */
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include "check.h"

static void wait_ok(pid_t pid)
{
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
}

static void put(const char *path, const char *s, int flags)
{
	int fd = (int)SYS(open(path, O_WRONLY | O_CREAT | flags, 0644));
	CHECK_EQ(write(fd, s, strlen(s)), (long)strlen(s));
	SYS(close(fd));
}

static void expect(const char *path, const char *s)
{
	char buf[64] = {0};
	int fd = (int)SYS(open(path, O_RDONLY));
	CHECK_EQ(read_full(fd, buf, sizeof(buf) - 1), (long)strlen(s));
	CHECK_STR(buf, s);
	SYS(close(fd));
}

static void test_links(const char *d)
{
	char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX];
	snprintf(a, sizeof(a), "%s/a", d);
	snprintf(b, sizeof(b), "%s/b", d);
	snprintf(c, sizeof(c), "%s/c", d);
	/* echo x > a; ln a b; rm a; cat b */
	put(a, "x\n", O_TRUNC);
	SYS(link(a, b));
	SYS(unlink(a));
	expect(b, "x\n");
	struct stat sb;
	SYS(stat(b, &sb));
	CHECK_EQ(sb.st_nlink, 1);
	SYS(unlink(b));

	/* Two names, one inode. */
	put(a, "one", O_TRUNC);
	SYS(link(a, b));
	struct stat sa;
	SYS(stat(a, &sa));
	SYS(stat(b, &sb));
	CHECK_EQ(sa.st_ino, sb.st_ino);
	CHECK_EQ(sa.st_dev, sb.st_dev);
	CHECK_EQ(sa.st_nlink, 2);
	CHECK_EQ(sb.st_nlink, 2);
	CHECK_ERR(link(a, b), EEXIST);
	CHECK_ERR(link(d, c), EPERM);
	/* A write through one name is seen through the other, size and
	 * times included. */
	put(b, "-two", O_APPEND);
	expect(a, "one-two");
	SYS(stat(a, &sa));
	SYS(stat(b, &sb));
	CHECK_EQ(sa.st_size, 7);
	CHECK_EQ(sb.st_size, 7);
	CHECK_EQ(sa.st_mtim.tv_sec, sb.st_mtim.tv_sec);
	CHECK_EQ(sa.st_mtim.tv_nsec, sb.st_mtim.tv_nsec);
	SYS(chmod(a, 0600));
	SYS(stat(b, &sb));
	CHECK_EQ(sb.st_mode & 07777, 0600);
	/* A third link, then names go one by one. */
	int fd = (int)SYS(open(a, O_RDWR));
	SYS(link(b, c));
	SYS(stat(c, &sb));
	CHECK_EQ(sb.st_nlink, 3);
	SYS(unlink(a));
	SYS(fstat(fd, &sb));
	CHECK_EQ(sb.st_nlink, 2);
	CHECK_ERR(stat(a, &sa), ENOENT);
	expect(c, "one-two");
	/* Rename over a name of the same inode is a no-op. */
	SYS(rename(b, c));
	SYS(stat(b, &sb));
	SYS(unlink(b));
	SYS(stat(c, &sb));
	CHECK_EQ(sb.st_nlink, 1);
	CHECK_EQ(write(fd, "ONE", 3), 3);
	expect(c, "ONE-two");
	SYS(unlink(c));
	SYS(fstat(fd, &sb));
	CHECK_EQ(sb.st_nlink, 0);
	SYS(close(fd));
}

static bool quiet(int rfd)
{
	struct pollfd p = {.fd = rfd, .events = POLLIN};
	return poll(&p, 1, 300) == 0;
}

static void test_fifo(const char *d)
{
	char f[PATH_MAX], g[PATH_MAX], buf[16];
	snprintf(f, sizeof(f), "%s/fifo", d);
	snprintf(g, sizeof(g), "%s/fifo2", d);
	SYS(mkfifo(f, 0600));
	CHECK_ERR(mkfifo(f, 0600), EEXIST);
	SYS(mknod(g, S_IFIFO | 0600, 0));
	struct stat st;
	SYS(stat(f, &st));
	CHECK(S_ISFIFO(st.st_mode));
	CHECK_EQ(st.st_mode & 0777, 0600);
	SYS(stat(g, &st));
	CHECK(S_ISFIFO(st.st_mode));
	/* Without a reader a nonblocking writer cannot open. */
	CHECK_ERR(open(f, O_WRONLY | O_NONBLOCK), ENXIO);
	int r = (int)SYS(open(f, O_RDONLY | O_NONBLOCK));
	int w = (int)SYS(open(f, O_WRONLY | O_NONBLOCK));
	CHECK_ERR(read(r, buf, sizeof(buf)), EAGAIN);
	CHECK_EQ(write(w, "hi", 2), 2);
	CHECK_EQ(read(r, buf, sizeof(buf)), 2);
	CHECK(memcmp(buf, "hi", 2) == 0);
	CHECK_ERR(lseek(r, 0, SEEK_SET), ESPIPE);
	CHECK_EQ(fcntl(r, F_GETPIPE_SZ) > 0, 1);
	SYS(close(w));
	CHECK_EQ(read(r, buf, sizeof(buf)), 0); /* no writer: EOF */
	SYS(close(r));
	/* O_RDWR opens at once. */
	int rw = (int)SYS(open(f, O_RDWR));
	SYS(close(rw));

	/* A blocking reader waits for a writer; the data flows. */
	int up[2];
	SYS(pipe(up));
	pid_t c = SYS(fork());
	if (c == 0) {
		int fd = (int)SYS(open(f, O_RDONLY));
		CHECK_EQ(write(up[1], "o", 1), 1);
		CHECK_EQ(read_full(fd, buf, 5), 5);
		CHECK(memcmp(buf, "hello", 5) == 0);
		CHECK_EQ(read(fd, buf, sizeof(buf)), 0);
		_exit(0);
	}
	CHECK(quiet(up[0]));
	w = (int)SYS(open(f, O_WRONLY));
	CHECK_EQ(read(up[0], buf, 1), 1);
	CHECK_EQ(write(w, "hello", 5), 5);
	SYS(close(w));
	wait_ok(c);

	/* A blocking writer waits for a reader. */
	c = SYS(fork());
	if (c == 0) {
		int fd = (int)SYS(open(g, O_WRONLY));
		CHECK_EQ(write(up[1], "o", 1), 1);
		CHECK_EQ(write(fd, "back", 4), 4);
		_exit(0);
	}
	CHECK(quiet(up[0]));
	r = (int)SYS(open(g, O_RDONLY));
	CHECK_EQ(read(up[0], buf, 1), 1);
	CHECK_EQ(read_full(r, buf, 4), 4);
	CHECK(memcmp(buf, "back", 4) == 0);
	SYS(close(r));
	wait_ok(c);
	SYS(close(up[0]));
	SYS(close(up[1]));
	SYS(unlink(f));
	SYS(unlink(g));
}

static void test_xattr(void)
{
	char buf[64];
	const char *p = "/proc/self/status";
	CHECK_ERR(getxattr(p, "user.bh", buf, sizeof(buf)), ENOTSUP);
	CHECK_ERR(lgetxattr(p, "user.bh", buf, sizeof(buf)), ENOTSUP);
	int fd = (int)SYS(open(p, O_RDONLY));
	CHECK_ERR(fgetxattr(fd, "user.bh", buf, sizeof(buf)), ENOTSUP);
	CHECK_EQ(flistxattr(fd, buf, sizeof(buf)), 0);
	SYS(close(fd));
	CHECK_EQ(listxattr(p, buf, sizeof(buf)), 0);
	CHECK_EQ(llistxattr(p, NULL, 0), 0);
	CHECK_ERR(getxattr(p, "", buf, sizeof(buf)), ERANGE);
	CHECK_ERR(getxattr("/nonexistent-bh", "user.bh", buf, 1), ENOENT);
	CHECK_ERR(getxattr(p, (const char *)8, buf, 1), EFAULT);
	/* user.* lives only on regular files and directories. */
	int pp[2];
	SYS(pipe(pp));
	CHECK_ERR(fgetxattr(pp[0], "user.bh", buf, sizeof(buf)), ENODATA);
	CHECK_ERR(fsetxattr(pp[0], "user.bh", "v", 1, 0), EPERM);
	CHECK_ERR(fremovexattr(pp[0], "user.bh"), EPERM);
	SYS(close(pp[0]));
	SYS(close(pp[1]));
}

/* user.* xattrs on a tmpfs: kept per inode, shared by hard links. */
static void test_user_xattr(const char *d)
{
	char f[PATH_MAX], l[PATH_MAX], sl[PATH_MAX], buf[64];
	snprintf(f, sizeof(f), "%s/x", d);
	snprintf(l, sizeof(l), "%s/xl", d);
	snprintf(sl, sizeof(sl), "%s/xs", d);
	put(f, "data", O_TRUNC);
	CHECK_ERR(getxattr(f, "user.a", buf, sizeof(buf)), ENODATA);
	SYS(setxattr(f, "user.a", "hello", 5, 0));
	CHECK_EQ(getxattr(f, "user.a", NULL, 0), 5);
	CHECK_EQ(getxattr(f, "user.a", buf, sizeof(buf)), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	CHECK_ERR(getxattr(f, "user.a", buf, 2), ERANGE);
	CHECK_ERR(setxattr(f, "user.a", "x", 1, XATTR_CREATE), EEXIST);
	CHECK_ERR(setxattr(f, "user.b", "x", 1, XATTR_REPLACE), ENODATA);
	CHECK_ERR(setxattr(f, "user.a", "x", 1, 7), EINVAL);
	SYS(setxattr(f, "user.a", "hi", 2, XATTR_REPLACE));
	SYS(setxattr(f, "user.empty", "", 0, XATTR_CREATE));
	CHECK_EQ(getxattr(f, "user.empty", buf, sizeof(buf)), 0);
	/* Both names, in some order, NUL-terminated. */
	char list[64];
	ssize_t n = listxattr(f, list, sizeof(list));
	CHECK_EQ(n, (long)(sizeof("user.a") + sizeof("user.empty")));
	CHECK_EQ(listxattr(f, NULL, 0), n);
	CHECK_ERR(listxattr(f, list, 3), ERANGE);
	CHECK(memmem(list, (size_t)n, "user.a\0", 7) != NULL);
	CHECK(memmem(list, (size_t)n, "user.empty\0", 11) != NULL);
	/* A hard link is the same inode: the same xattrs. */
	SYS(link(f, l));
	CHECK_EQ(getxattr(l, "user.a", buf, sizeof(buf)), 2);
	int fd = (int)SYS(open(l, O_RDWR));
	SYS(fsetxattr(fd, "user.c", "3", 1, 0));
	CHECK_EQ(fgetxattr(fd, "user.c", buf, sizeof(buf)), 1);
	SYS(fremovexattr(fd, "user.c"));
	SYS(close(fd));
	CHECK_ERR(getxattr(f, "user.c", buf, sizeof(buf)), ENODATA);
	SYS(removexattr(f, "user.a"));
	CHECK_ERR(removexattr(f, "user.a"), ENODATA);
	CHECK_ERR(getxattr(l, "user.a", buf, sizeof(buf)), ENODATA);
	/* Directories carry them; a symlink itself does not. */
	SYS(setxattr(d, "user.dir", "1", 1, 0));
	CHECK_EQ(getxattr(d, "user.dir", buf, sizeof(buf)), 1);
	SYS(removexattr(d, "user.dir"));
	SYS(symlink("x", sl));
	CHECK_EQ(getxattr(sl, "user.empty", buf, sizeof(buf)), 0); /* x */
	CHECK_ERR(lgetxattr(sl, "user.empty", buf, sizeof(buf)), ENODATA);
	CHECK_ERR(lsetxattr(sl, "user.n", "v", 1, 0), EPERM);
	/* Another namespace than user.* on a tmpfs, unprivileged: not
	 * stored (Linux answers EPERM/ENODATA for trusted.*, EOPNOTSUPP
	 * where unknown); a name without one is not supported. */
	CHECK_ERR(setxattr(f, "bogus", "v", 1, 0), ENOTSUP);
	SYS(unlink(sl));
	SYS(unlink(l));
	SYS(unlink(f));
}

static void in_dir(const char *base, void (*fn)(const char *))
{
	char d[PATH_MAX];
	snprintf(d, sizeof(d), "%s/bhtest-names-XXXXXX", base);
	CHECK(mkdtemp(d) != NULL);
	fn(d);
	SYS(rmdir(d));
}

int main(void)
{
	in_dir("/tmp", test_links);
	in_dir("/var/tmp", test_links);
	in_dir("/tmp", test_fifo);
	in_dir("/var/tmp", test_fifo);
	test_xattr();
	in_dir("/tmp", test_user_xattr);
	pass("names");
	return 0;
}
