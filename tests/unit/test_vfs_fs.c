/* Path walk, dentry/mount logic and file syscalls over tmpfs, through the
 * real syscall handlers. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/unit/test_vfs_fixture.h"

#define T (&fx_task)

static int setup(void **state)
{
	(void)state;
	static bool booted;
	if (!booted)
		fx_boot();
	booted = true;
	fx_task.cred = (struct cred){0};
	return 0;
}

static void test_create_rw(void **state)
{
	(void)state;
	char buf[64] = {0};
	long fd = SC3(T, "open", "/f1", O_CREAT | O_RDWR | O_EXCL, 0640);
	assert_true(fd >= 0);
	assert_int_equal(SC3(T, "write", fd, "hello world", 11), 11);
	assert_int_equal(SC3(T, "lseek", fd, 0, SEEK_CUR), 11);
	assert_int_equal(SC4(T, "pread64", fd, buf, 5, 6), 5);
	assert_string_equal(buf, "world");
	assert_int_equal(SC4(T, "pwrite64", fd, "!", 1, 20), 1);
	struct stat st;
	assert_int_equal(SC2(T, "fstat", fd, &st), 0);
	assert_int_equal(st.st_size, 21);
	assert_int_equal(st.st_mode, S_IFREG | 0640);
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(SC4(T, "pread64", fd, buf, 9, 11), 9);
	assert_memory_equal(buf, "\0\0\0\0\0\0\0\0\0", 9);
	assert_int_equal(SC2(T, "ftruncate", fd, 5), 0);
	assert_int_equal(SC2(T, "fstat", fd, &st), 0);
	assert_int_equal(st.st_size, 5);
	assert_int_equal(SC3(T, "open", "/f1", O_CREAT | O_EXCL | O_RDWR, 0),
			 -EEXIST);
	assert_int_equal(SC3(T, "lseek", fd, -100, SEEK_SET), -EINVAL);
	assert_int_equal(SC3(T, "read", fd, 0, 1), 0); /* at EOF: no fault */
	assert_int_equal(SC3(T, "lseek", fd, 0, SEEK_SET), 0);
	assert_int_equal(SC3(T, "read", fd, 0, 1), -EFAULT);
	assert_int_equal(SC1(T, "close", fd), 0);
	assert_int_equal(SC1(T, "close", fd), -EBADF);
	/* creat is write-only. */
	fd = SC2(T, "creat", "/f1", 0600);
	assert_true(fd >= 0);
	assert_int_equal(SC3(T, "read", fd, buf, 1), -EBADF);
	assert_int_equal(SC2(T, "fstat", fd, &st), 0);
	assert_int_equal(st.st_size, 0);
	SC1(T, "close", fd);
	assert_int_equal(SC1(T, "unlink", "/f1"), 0);
}

static void test_errors(void **state)
{
	(void)state;
	struct stat st;
	SC3(T, "open", "/e", O_CREAT | O_WRONLY, 0644);
	assert_int_equal(SC2(T, "stat", "/nope", &st), -ENOENT);
	assert_int_equal(SC3(T, "open", "/e/x", O_RDONLY, 0), -ENOTDIR);
	assert_int_equal(SC3(T, "open", "/e/", O_RDONLY, 0), -ENOTDIR);
	assert_int_equal(SC3(T, "open", "/e/x", O_CREAT | O_WRONLY, 0),
			 -ENOTDIR);
	assert_int_equal(SC3(T, "open", "/", O_WRONLY, 0), -EISDIR);
	assert_int_equal(SC3(T, "open", "/e", O_RDONLY | O_DIRECTORY, 0),
			 -ENOTDIR);
	assert_int_equal(SC2(T, "mkdir", "/e", 0755), -EEXIST);
	assert_int_equal(SC1(T, "rmdir", "/e"), -ENOTDIR);
	assert_int_equal(SC1(T, "unlink", "/mnt"), -EBUSY);
	assert_int_equal(SC1(T, "rmdir", "/mnt"), -EBUSY);
	assert_int_equal(SC2(T, "stat", "", &st), -ENOENT);
	assert_int_equal(SC2(T, "stat", 0, &st), -EFAULT);
	char name[300];
	memset(name, 'a', sizeof(name));
	name[0] = '/';
	name[257] = 0;
	assert_int_equal(SC2(T, "stat", name, &st), -ENAMETOOLONG);
	char *longp = malloc(5000);
	memset(longp, '/', 4999);
	longp[4999] = 0;
	assert_int_equal(SC2(T, "stat", longp, &st), -ENAMETOOLONG);
	free(longp);
	assert_int_equal(SC2(T, "mkdir", "/d1/", 0755), 0);
	assert_int_equal(SC2(T, "stat", "/d1/", &st), 0);
	assert_int_equal(SC1(T, "rmdir", "/d1/."), -EINVAL);
	assert_int_equal(SC1(T, "rmdir", "/d1/"), 0);
	assert_int_equal(SC1(T, "unlink", "/e"), 0);
}

static void test_symlinks(void **state)
{
	(void)state;
	struct stat st;
	char buf[64] = {0};
	SC2(T, "mkdir", "/s", 0755);
	long fd = SC3(T, "open", "/s/target", O_CREAT | O_WRONLY, 0644);
	SC3(T, "write", fd, "12345", 5);
	SC1(T, "close", fd);
	assert_int_equal(SC2(T, "symlink", "target", "/s/l1"), 0);
	assert_int_equal(SC2(T, "symlink", "/s/l1", "/s/l2"), 0);
	assert_int_equal(SC2(T, "symlink", "x", "/s/l1"), -EEXIST);
	assert_int_equal(SC2(T, "stat", "/s/l2", &st), 0);
	assert_int_equal(st.st_size, 5);
	assert_int_equal(SC2(T, "lstat", "/s/l2", &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(st.st_size, 5);
	assert_int_equal(SC3(T, "readlink", "/s/l1", buf, sizeof(buf)), 6);
	assert_string_equal(buf, "target");
	assert_int_equal(SC3(T, "readlink", "/s/target", buf, 64), -EINVAL);
	assert_int_equal(SC3(T, "open", "/s/l1", O_RDONLY | O_NOFOLLOW, 0),
			 -ELOOP);
	/* Loops and dangling links. */
	SC2(T, "symlink", "loopb", "/s/loopa");
	SC2(T, "symlink", "loopa", "/s/loopb");
	assert_int_equal(SC2(T, "stat", "/s/loopa", &st), -ELOOP);
	SC2(T, "symlink", "gone", "/s/dangle");
	assert_int_equal(SC2(T, "stat", "/s/dangle", &st), -ENOENT);
	assert_int_equal(SC2(T, "lstat", "/s/dangle", &st), 0);
	/* A symlink to a directory in the middle of a path. */
	SC2(T, "symlink", "/mnt", "/s/tomnt");
	fd = SC3(T, "open", "/s/tomnt/x", O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	SC1(T, "close", fd);
	assert_int_equal(SC2(T, "stat", "/mnt/x", &st), 0);
	assert_int_equal(SC1(T, "unlink", "/mnt/x"), 0);
	/* A chain of 41 links is too many; 40 is fine. */
	char name[32], tgt[32];
	for (int i = 0; i < 41; i++) {
		snprintf(name, sizeof(name), "/s/c%d", i);
		snprintf(tgt, sizeof(tgt), i ? "c%d" : "target", i - 1);
		assert_int_equal(SC2(T, "symlink", tgt, name), 0);
	}
	assert_int_equal(SC2(T, "stat", "/s/c39", &st), 0);
	assert_int_equal(SC2(T, "stat", "/s/c40", &st), -ELOOP);
	/* Trailing slash on a link to a file. */
	assert_int_equal(SC2(T, "stat", "/s/l1/", &st), -ENOTDIR);
}

static void test_dotdot_mounts(void **state)
{
	(void)state;
	char buf[256];
	struct stat st, st2;
	assert_int_equal(SC1(T, "chdir", "/mnt"), 0);
	assert_int_equal(SC2(T, "getcwd", buf, sizeof(buf)), 5);
	assert_string_equal(buf, "/mnt");
	assert_int_equal(SC2(T, "getcwd", buf, 4), -ERANGE);
	SC2(T, "mkdir", "sub", 0755);
	assert_int_equal(SC1(T, "chdir", "sub/../sub/."), 0);
	assert_int_equal(SC2(T, "getcwd", buf, sizeof(buf)), 9);
	assert_string_equal(buf, "/mnt/sub");
	assert_int_equal(SC1(T, "chdir", "../.."), 0);
	assert_int_equal(SC2(T, "getcwd", buf, sizeof(buf)), 2);
	assert_string_equal(buf, "/");
	/* ".." at the root stays there. */
	assert_int_equal(SC2(T, "stat", "/../../..", &st), 0);
	assert_int_equal(SC2(T, "stat", "/", &st2), 0);
	assert_int_equal(st.st_ino, st2.st_ino);
	assert_int_equal(st.st_dev, st2.st_dev);
	/* Crossing into a mount changes st_dev; ".." from its root goes back
	 * to the parent filesystem. */
	assert_int_equal(SC2(T, "stat", "/mnt", &st), 0);
	assert_true(st.st_dev != st2.st_dev);
	assert_int_equal(SC2(T, "stat", "/mnt/..", &st), 0);
	assert_int_equal(st.st_dev, st2.st_dev);
	/* Cross-mount rename and link are EXDEV. */
	long fd = SC3(T, "open", "/xf", O_CREAT | O_WRONLY, 0644);
	SC1(T, "close", fd);
	assert_int_equal(SC2(T, "rename", "/xf", "/mnt/xf"), -EXDEV);
	assert_int_equal(SC2(T, "link", "/xf", "/mnt/xf"), -EXDEV);
	SC1(T, "unlink", "/xf");
	/* fchdir and relative *at calls. */
	long dfd = SC3(T, "open", "/mnt/sub", O_RDONLY | O_DIRECTORY, 0);
	assert_true(dfd >= 0);
	fd = SC4(T, "openat", dfd, "rel", O_CREAT | O_RDWR, 0600);
	assert_true(fd >= 0);
	SC1(T, "close", fd);
	assert_int_equal(SC4(T, "newfstatat", dfd, "rel", &st, 0), 0);
	assert_int_equal(SC4(T, "newfstatat", dfd, "", &st, AT_EMPTY_PATH), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(SC1(T, "fchdir", dfd), 0);
	assert_int_equal(SC2(T, "getcwd", buf, sizeof(buf)), 9);
	/* getcwd of a removed directory. */
	assert_int_equal(SC3(T, "unlinkat", dfd, "rel", 0), 0);
	assert_int_equal(SC1(T, "rmdir", "/mnt/sub"), 0);
	assert_int_equal(SC2(T, "getcwd", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(SC4(T, "openat", dfd, "new", O_CREAT | O_RDWR, 0600),
			 -ENOENT);
	SC1(T, "close", dfd);
	SC1(T, "chdir", "/");
}

static void test_perms_rofs(void **state)
{
	(void)state;
	struct stat st;
	long fd = SC3(T, "open", "/secret", O_CREAT | O_WRONLY, 0600);
	SC1(T, "close", fd);
	SC2(T, "mkdir", "/pub", 0777);
	assert_int_equal(SC2(T, "chmod", "/pub", 01777), 0);
	assert_int_equal(SC2(T, "access", "/secret", X_OK), -EACCES);
	fx_task.cred = (struct cred){.uid = 1000,
				     .euid = 1000,
				     .fsuid = 1000,
				     .gid = 1000,
				     .egid = 1000,
				     .fsgid = 1000};
	assert_int_equal(SC3(T, "open", "/secret", O_RDONLY, 0), -EACCES);
	assert_int_equal(SC2(T, "access", "/secret", R_OK), -EACCES);
	assert_int_equal(SC2(T, "access", "/secret", F_OK), 0);
	assert_int_equal(SC2(T, "chmod", "/secret", 0777), -EPERM);
	assert_int_equal(SC3(T, "chown", "/secret", 1000, -1), -EPERM);
	assert_int_equal(SC3(T, "open", "/new", O_CREAT | O_WRONLY, 0644),
			 -EACCES);
	fd = SC3(T, "open", "/pub/mine", O_CREAT | O_WRONLY, 0644);
	assert_true(fd >= 0);
	SC1(T, "close", fd);
	assert_int_equal(SC2(T, "stat", "/pub/mine", &st), 0);
	assert_int_equal(st.st_uid, 1000);
	fx_task.cred = (struct cred){0};
	/* Sticky dir: another user cannot remove it. */
	fx_task.cred.fsuid = 1001;
	assert_int_equal(SC1(T, "unlink", "/pub/mine"), -EPERM);
	fx_task.cred = (struct cred){0};
	assert_int_equal(SC1(T, "unlink", "/pub/mine"), 0);
	/* Read-only mount. */
	assert_int_equal(SC3(T, "open", "/ro/x", O_CREAT | O_WRONLY, 0644),
			 -EROFS);
	assert_int_equal(SC2(T, "mkdir", "/ro/d", 0755), -EROFS);
	assert_int_equal(SC2(T, "access", "/ro", W_OK), -EROFS);
	assert_int_equal(SC2(T, "chmod", "/ro", 0700), -EROFS);
	fd = SC3(T, "open", "/ro", O_RDONLY, 0);
	assert_true(fd >= 0);
	SC1(T, "close", fd);
}

static void test_rename_link(void **state)
{
	(void)state;
	struct stat st;
	SC2(T, "mkdir", "/r", 0755);
	long fd = SC3(T, "open", "/r/a", O_CREAT | O_RDWR, 0644);
	SC3(T, "write", fd, "abc", 3);
	assert_int_equal(SC2(T, "link", "/r/a", "/r/b"), 0);
	assert_int_equal(SC2(T, "stat", "/r/b", &st), 0);
	assert_int_equal(st.st_nlink, 2);
	assert_int_equal(SC2(T, "rename", "/r/b", "/r/c"), 0);
	assert_int_equal(SC2(T, "stat", "/r/b", &st), -ENOENT);
	assert_int_equal(SC2(T, "rename", "/r/c", "/r/a"), 0); /* same inode */
	assert_int_equal(SC2(T, "stat", "/r/c", &st), 0);
	SC1(T, "unlink", "/r/c");
	SC2(T, "mkdir", "/r/d", 0755);
	SC2(T, "mkdir", "/r/d/e", 0755);
	assert_int_equal(SC2(T, "rename", "/r/d", "/r/d/e/f"), -EINVAL);
	assert_int_equal(SC2(T, "rename", "/r/a", "/r/d"), -EISDIR);
	assert_int_equal(SC2(T, "rename", "/r/d", "/r/a"), -ENOTDIR);
	assert_int_equal(SC2(T, "rmdir", "/r/d", 0), -ENOTEMPTY);
	assert_int_equal(SC5(T, "renameat2", AT_FDCWD, "/r/a", AT_FDCWD, "/r/d",
			     RENAME_EXCHANGE),
			 0);
	assert_int_equal(SC2(T, "stat", "/r/a/e", &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(SC2(T, "stat", "/r/d", &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(SC5(T, "renameat2", AT_FDCWD, "/r/d", AT_FDCWD, "/r/a",
			     RENAME_NOREPLACE),
			 -EEXIST);
	/* Unlinked while open: data stays, nlink 0, path says deleted. */
	SC1(T, "unlink", "/r/d");
	assert_int_equal(SC2(T, "fstat", fd, &st), 0);
	assert_int_equal(st.st_nlink, 0);
	char buf[8] = {0};
	assert_int_equal(SC4(T, "pread64", fd, buf, 3, 0), 3);
	assert_string_equal(buf, "abc");
	char link[64] = {0};
	char proc[32];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%ld", fd);
	assert_int_equal(SC3(T, "readlink", proc, link, sizeof(link)), 14);
	assert_string_equal(link, "/r/d (deleted)");
	SC1(T, "close", fd);
}

struct d64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

static void test_getdents(void **state)
{
	(void)state;
	SC2(T, "mkdir", "/g", 0755);
	SC2(T, "mkdir", "/g/dir", 0755);
	long fd = SC3(T, "open", "/g/file", O_CREAT | O_WRONLY, 0644);
	SC1(T, "close", fd);
	SC2(T, "symlink", "file", "/g/lnk");
	fd = SC3(T, "open", "/g", O_RDONLY | O_DIRECTORY, 0);
	char buf[4096];
	assert_int_equal(SC3(T, "read", fd, buf, 10), -EISDIR);
	long n = SC3(T, "getdents64", fd, buf, sizeof(buf));
	assert_true(n > 0);
	int seen = 0, count = 0;
	for (long off = 0; off < n;) {
		struct d64 *d = (void *)(buf + off);
		assert_int_equal(d->reclen % 8, 0);
		assert_true(d->reclen >= 20 + strlen(d->name));
		count++;
		if (!strcmp(d->name, "dir") && d->type == DT_DIR)
			seen |= 1;
		if (!strcmp(d->name, "file") && d->type == DT_REG)
			seen |= 2;
		if (!strcmp(d->name, "lnk") && d->type == DT_LNK)
			seen |= 4;
		if (!strcmp(d->name, ".") || !strcmp(d->name, ".."))
			seen |= 8;
		off += d->reclen;
	}
	assert_int_equal(count, 5);
	assert_int_equal(seen, 15);
	assert_int_equal(SC3(T, "getdents64", fd, buf, sizeof(buf)), 0);
	/* Too small for one entry: EINVAL; one entry at a time works. */
	SC3(T, "lseek", fd, 0, SEEK_SET);
	assert_int_equal(SC3(T, "getdents64", fd, buf, 10), -EINVAL);
	count = 0;
	while ((n = SC3(T, "getdents64", fd, buf, 24)) > 0)
		count++;
	assert_int_equal(n, 0);
	assert_int_equal(count, 5);
	assert_int_equal(SC3(T, "getdents64", fd, 0, 100), 0);
	SC3(T, "lseek", fd, 0, SEEK_SET);
	assert_int_equal(SC3(T, "getdents64", fd, 0, 100), -EFAULT);
	SC1(T, "close", fd);
	/* /dev and /proc list their entries too. */
	fd = SC3(T, "open", "/dev", O_RDONLY | O_DIRECTORY, 0);
	n = SC3(T, "getdents64", fd, buf, sizeof(buf));
	assert_true(n > 0);
	SC1(T, "close", fd);
}

static void test_fds(void **state)
{
	(void)state;
	long fd = SC3(T, "open", "/dev/null", O_RDWR, 0);
	assert_true(fd >= 0);
	assert_int_equal(SC3(T, "write", fd, "x", 1), 1);
	char c;
	assert_int_equal(SC3(T, "read", fd, &c, 1), 0);
	assert_int_equal(SC2(T, "fcntl", fd, F_GETFD), 0);
	assert_int_equal(SC3(T, "fcntl", fd, F_SETFD, FD_CLOEXEC), 0);
	assert_int_equal(SC2(T, "fcntl", fd, F_GETFD), FD_CLOEXEC);
	long fd2 = SC3(T, "fcntl", fd, F_DUPFD_CLOEXEC, 100);
	assert_int_equal(fd2, 100);
	assert_int_equal(SC2(T, "fcntl", fd2, F_GETFD), FD_CLOEXEC);
	assert_int_equal(SC2(T, "dup2", fd, 77), 77);
	assert_int_equal(SC2(T, "fcntl", 77, F_GETFD), 0);
	assert_int_equal(SC3(T, "dup3", 77, 77, 0), -EINVAL);
	assert_int_equal(SC3(T, "dup3", 77, 78, O_CLOEXEC), 78);
	assert_int_equal(SC2(T, "dup2", fd, 5000), -EBADF);
	assert_int_equal(SC3(T, "fcntl", fd, F_DUPFD, 5000), -EINVAL);
	assert_int_equal(SC3(T, "close_range", 77, 100, 0), 0);
	assert_int_equal(SC1(T, "close", 78), -EBADF);
	assert_int_equal(SC1(T, "close", 100), -EBADF);
	assert_int_equal(SC2(T, "fcntl", 999, F_GETFD), -EBADF);
	/* RLIMIT_NOFILE bounds the table. */
	fx_proc.rlimits[RLIMIT_NOFILE].rlim_cur = 8;
	long got = 0;
	while (SC1(T, "dup", fd) >= 0)
		got++;
	assert_int_equal(SC1(T, "dup", fd), -EMFILE);
	assert_true(got < 8);
	fx_proc.rlimits[RLIMIT_NOFILE].rlim_cur = 1024;
	SC3(T, "close_range", fd + 1, 7, 0);
	/* /dev/zero, /dev/full. */
	long z = SC3(T, "open", "/dev/zero", O_RDONLY, 0);
	char buf[4] = {1, 1, 1, 1};
	assert_int_equal(SC3(T, "read", z, buf, 4), 4);
	assert_memory_equal(buf, "\0\0\0\0", 4);
	SC1(T, "close", z);
	z = SC3(T, "open", "/dev/full", O_WRONLY, 0);
	assert_int_equal(SC3(T, "write", z, buf, 4), -ENOSPC);
	SC1(T, "close", z);
	/* /dev/stdin -> /proc/self/fd/0 follows the magic link. */
	assert_int_equal(SC2(T, "dup2", fd, 0), 0);
	z = SC3(T, "open", "/dev/stdin", O_RDONLY, 0);
	assert_true(z >= 0);
	struct stat st;
	assert_int_equal(SC2(T, "fstat", z, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	SC1(T, "close", z);
	SC1(T, "close", 0);
	SC1(T, "close", fd);
}

static void test_tmpfs_limit(void **state)
{
	(void)state;
	/* /mnt is 1 MiB. */
	long fd = SC3(T, "open", "/mnt/big", O_CREAT | O_RDWR, 0644);
	static char buf[256 << 10];
	long total = 0, r;
	while ((r = SC3(T, "write", fd, buf, sizeof(buf))) > 0)
		total += r;
	assert_int_equal(r, -ENOSPC);
	assert_int_equal(total, 1 << 20);
	assert_int_equal(SC2(T, "ftruncate", fd, 0), 0);
	SC3(T, "lseek", fd, 0, SEEK_SET);
	assert_int_equal(SC3(T, "write", fd, buf, sizeof(buf)), sizeof(buf));
	SC1(T, "close", fd);
	SC1(T, "unlink", "/mnt/big");
	/* O_APPEND writes at the end. */
	fd = SC3(T, "open", "/mnt/app", O_CREAT | O_WRONLY | O_APPEND, 0644);
	SC3(T, "write", fd, "ab", 2);
	SC3(T, "lseek", fd, 0, SEEK_SET);
	SC3(T, "write", fd, "cd", 2);
	assert_int_equal(SC3(T, "lseek", fd, 0, SEEK_CUR), 4);
	SC1(T, "close", fd);
	SC1(T, "unlink", "/mnt/app");
}

static void test_dcache_bounded(void **state)
{
	(void)state;
	char name[64];
	SC2(T, "mkdir", "/many", 0755);
	for (int i = 0; i < DCACHE_UNUSED_MAX + 500; i++) {
		snprintf(name, sizeof(name), "/many/f%d", i);
		long fd = SC3(T, "open", name, O_CREAT | O_WRONLY, 0644);
		assert_true(fd >= 0);
		SC1(T, "close", fd);
	}
	assert_true(dentry_unused_count() <= DCACHE_UNUSED_MAX);
	struct stat st;
	assert_int_equal(SC2(T, "stat", "/many/f0", &st), 0);
	for (int i = 0; i < DCACHE_UNUSED_MAX + 500; i++) {
		snprintf(name, sizeof(name), "/many/f%d", i);
		assert_int_equal(SC1(T, "unlink", name), 0);
	}
	assert_int_equal(SC1(T, "rmdir", "/many"), 0);
}

static void test_utimes_chown(void **state)
{
	(void)state;
	long fd = SC3(T, "open", "/u", O_CREAT | O_WRONLY, 04755);
	SC1(T, "close", fd);
	struct timespec ts[2] = {{100, 5}, {200, UTIME_OMIT}};
	struct stat st, st0;
	SC2(T, "stat", "/u", &st0);
	assert_int_equal(SC4(T, "utimensat", AT_FDCWD, "/u", ts, 0), 0);
	SC2(T, "stat", "/u", &st);
	assert_int_equal(st.st_atim.tv_sec, 100);
	assert_int_equal(st.st_mtim.tv_sec, st0.st_mtim.tv_sec);
	ts[1].tv_nsec = 2000000000;
	assert_int_equal(SC4(T, "utimensat", AT_FDCWD, "/u", ts, 0), -EINVAL);
	assert_int_equal(SC3(T, "chown", "/u", 5, 6), 0);
	SC2(T, "stat", "/u", &st);
	assert_int_equal(st.st_uid, 5);
	assert_int_equal(st.st_gid, 6);
	assert_int_equal(st.st_mode & 07777, 0755); /* setuid dropped */
	assert_int_equal(SC1(T, "umask", 077), 022);
	assert_int_equal(SC1(T, "umask", 022), 077);
	SC1(T, "unlink", "/u");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_create_rw, setup),
	    cmocka_unit_test_setup(test_errors, setup),
	    cmocka_unit_test_setup(test_symlinks, setup),
	    cmocka_unit_test_setup(test_dotdot_mounts, setup),
	    cmocka_unit_test_setup(test_perms_rofs, setup),
	    cmocka_unit_test_setup(test_rename_link, setup),
	    cmocka_unit_test_setup(test_getdents, setup),
	    cmocka_unit_test_setup(test_fds, setup),
	    cmocka_unit_test_setup(test_tmpfs_limit, setup),
	    cmocka_unit_test_setup(test_dcache_bounded, setup),
	    cmocka_unit_test_setup(test_utimes_chown, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
