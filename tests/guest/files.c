/* File and directory syscalls, on a tmpfs (/tmp) and on the rootfs
 * (/var/tmp), which in the sandbox are different filesystems. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "check.h"

struct linux_dirent64 {
	unsigned long long d_ino;
	long long d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/* Bit i set in the result when names[i] is in directory fd. */
static unsigned getdents_find(int fd, const char *const *names, int n)
{
	char buf[4096];
	unsigned found = 0;
	long nread;
	SYS(lseek(fd, 0, SEEK_SET));
	while ((nread = syscall(SYS_getdents64, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < nread;) {
			struct linux_dirent64 *d = (void *)(buf + off);
			for (int i = 0; i < n; i++)
				if (strcmp(d->d_name, names[i]) == 0)
					found |= 1u << i;
			off += d->d_reclen;
		}
	}
	CHECK_EQ(nread, 0);
	return found;
}

static void test_dir(const char *base)
{
	char tmpl[PATH_MAX], path[PATH_MAX + 64], path2[PATH_MAX + 64];
	char buf[256];
	struct stat st;
	int fd, fd2, dfd;

	snprintf(tmpl, sizeof(tmpl), "%s/bhtest-files-XXXXXX", base);
	CHECK(mkdtemp(tmpl) != NULL);
	const char *d = tmpl;
	dfd = SYS(open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC));

	/* creat + write + read back. */
	snprintf(path, sizeof(path), "%s/a", d);
	fd = SYS(creat(path, 0640));
	CHECK_EQ(write(fd, "hello world", 11), 11);
	CHECK_ERR(read(fd, buf, 1), EBADF); /* creat is O_WRONLY */
	SYS(close(fd));
	fd = SYS(open(path, O_RDONLY));
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(read(fd, buf, sizeof(buf)), 11);
	CHECK_STR(buf, "hello world");
	CHECK_EQ(read(fd, buf, sizeof(buf)), 0);
	CHECK_ERR(write(fd, "x", 1), EBADF);
	SYS(fstat(fd, &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0640);
	CHECK_EQ(st.st_size, 11);
	CHECK_EQ(st.st_nlink, 1);
	SYS(close(fd));

	/* pread/pwrite do not move the offset; lseek whence variants. */
	fd = SYS(open(path, O_RDWR));
	CHECK_EQ(lseek(fd, 3, SEEK_SET), 3);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(pread(fd, buf, 5, 6), 5);
	CHECK_STR(buf, "world");
	CHECK_EQ(pwrite(fd, "W", 1, 6), 1);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 3);
	CHECK_EQ(lseek(fd, -2, SEEK_END), 9);
	CHECK_EQ(lseek(fd, 1, SEEK_CUR), 10);
	CHECK_ERR(lseek(fd, -100, SEEK_SET), EINVAL);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 11);
	CHECK_STR(buf, "hello World");
	/* Writing past EOF leaves a hole of zeroes. */
	CHECK_EQ(pwrite(fd, "!", 1, 20), 1);
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_size, 21);
	CHECK_EQ(pread(fd, buf, 9, 11), 9);
	CHECK(memcmp(buf, "\0\0\0\0\0\0\0\0\0", 9) == 0);
	/* ftruncate shrinks and grows. */
	SYS(ftruncate(fd, 5));
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_size, 5);
	SYS(ftruncate(fd, 8));
	memset(buf, 'x', sizeof(buf));
	CHECK_EQ(pread(fd, buf, sizeof(buf), 0), 8);
	CHECK(memcmp(buf, "hello\0\0\0", 8) == 0);

	/* fcntl flags. */
	CHECK_EQ(fcntl(fd, F_GETFD), 0);
	SYS(fcntl(fd, F_SETFD, FD_CLOEXEC));
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	CHECK_EQ(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDWR);
	fd2 = SYS(fcntl(fd, F_DUPFD_CLOEXEC, 100));
	CHECK(fd2 >= 100);
	CHECK_EQ(fcntl(fd2, F_GETFD), FD_CLOEXEC);
	SYS(close(fd2));

	/* dup shares the offset; dup2/dup3 target a chosen fd. */
	SYS(lseek(fd, 0, SEEK_SET));
	fd2 = SYS(dup(fd));
	CHECK(fd2 != fd);
	CHECK_EQ(fcntl(fd2, F_GETFD), 0); /* dup clears FD_CLOEXEC */
	CHECK_EQ(read(fd2, buf, 2), 2);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 2);
	CHECK_EQ(dup2(fd, 77), 77);
	CHECK_EQ(dup2(77, 77), 77);
	CHECK_EQ(dup3(fd, 78, O_CLOEXEC), 78);
	CHECK_EQ(fcntl(78, F_GETFD), FD_CLOEXEC);
	CHECK_ERR(dup3(78, 78, 0), EINVAL);
	SYS(close(77));
	SYS(close(78));
	SYS(close(fd2));
	CHECK_ERR(close(fd2), EBADF);
	CHECK_ERR(read(999, buf, 1), EBADF);
	CHECK_ERR(fcntl(999, F_GETFD), EBADF);
	SYS(close(fd));

	/* O_APPEND always writes at the end, even after lseek. */
	fd = SYS(open(path, O_WRONLY | O_APPEND | O_CLOEXEC));
	CHECK_EQ(fcntl(fd, F_GETFL) & (O_APPEND | O_ACCMODE),
		 O_APPEND | O_WRONLY);
	CHECK_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	SYS(lseek(fd, 0, SEEK_SET));
	CHECK_EQ(write(fd, "AB", 2), 2);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 10);
	SYS(close(fd));
	SYS(stat(path, &st));
	CHECK_EQ(st.st_size, 10);

	/* O_EXCL, O_TRUNC. */
	CHECK_ERR(open(path, O_CREAT | O_EXCL | O_WRONLY, 0600), EEXIST);
	fd = SYS(open(path, O_WRONLY | O_TRUNC));
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_size, 0);
	SYS(close(fd));

	/* Error paths. */
	snprintf(path2, sizeof(path2), "%s/nonexistent", d);
	CHECK_ERR(open(path2, O_RDONLY), ENOENT);
	CHECK_ERR(stat(path2, &st), ENOENT);
	snprintf(path2, sizeof(path2), "%s/a/x", d);
	CHECK_ERR(open(path2, O_RDONLY), ENOTDIR);
	CHECK_ERR(open(path2, O_CREAT | O_WRONLY, 0600), ENOTDIR);
	CHECK_ERR(open(d, O_WRONLY), EISDIR);
	CHECK_ERR(open(path, O_RDONLY | O_DIRECTORY), ENOTDIR);
	CHECK_ERR(mkdir(path, 0755), EEXIST);
	CHECK_ERR(rmdir(path), ENOTDIR);
	CHECK_ERR(unlink(d), EISDIR);

	/* *at calls relative to a directory fd. */
	fd = SYS(openat(dfd, "b", O_CREAT | O_RDWR | O_EXCL, 0600));
	CHECK_EQ(write(fd, "12345", 5), 5);
	SYS(close(fd));
	SYS(fstatat(dfd, "b", &st, 0));
	CHECK_EQ(st.st_size, 5);
	CHECK_EQ(st.st_mode & 0777, 0600);
	struct statx stx;
	SYS(statx(dfd, "b", 0, STATX_BASIC_STATS, &stx));
	CHECK_EQ(stx.stx_size, 5);
	CHECK(S_ISREG(stx.stx_mode));
	CHECK_EQ(stx.stx_ino, st.st_ino);

	/* Symlinks: stat follows, lstat does not, readlink returns target. */
	SYS(symlinkat("b", dfd, "lnk"));
	SYS(fstatat(dfd, "lnk", &st, AT_SYMLINK_NOFOLLOW));
	CHECK(S_ISLNK(st.st_mode));
	CHECK_EQ(st.st_size, 1);
	snprintf(path2, sizeof(path2), "%s/lnk", d);
	SYS(lstat(path2, &st));
	CHECK(S_ISLNK(st.st_mode));
	SYS(stat(path2, &st));
	CHECK(S_ISREG(st.st_mode));
	CHECK_EQ(st.st_size, 5);
	memset(buf, 0, sizeof(buf));
	CHECK_EQ(readlink(path2, buf, sizeof(buf)), 1);
	CHECK_STR(buf, "b");
	CHECK_ERR(readlink(path, buf, sizeof(buf)), EINVAL);
	CHECK_ERR(symlinkat("x", dfd, "lnk"), EEXIST);
	/* A dangling symlink: lstat works, stat is ENOENT. */
	SYS(symlinkat("gone", dfd, "dangle"));
	snprintf(path2, sizeof(path2), "%s/dangle", d);
	SYS(lstat(path2, &st));
	CHECK_ERR(stat(path2, &st), ENOENT);
	CHECK_ERR(open(path2, O_RDONLY | O_NOFOLLOW), ELOOP);

	/* Hard links share the inode. */
	SYS(linkat(dfd, "b", dfd, "b2", 0));
	SYS(fstatat(dfd, "b2", &st, 0));
	CHECK_EQ(st.st_nlink, 2);
	SYS(unlinkat(dfd, "b2", 0));
	SYS(fstatat(dfd, "b", &st, 0));
	CHECK_EQ(st.st_nlink, 1);

	/* access / faccessat. */
	SYS(access(path, F_OK));
	SYS(access(path, R_OK | W_OK));
	SYS(faccessat(dfd, "b", R_OK, 0));
	CHECK_ERR(faccessat(dfd, "nope", F_OK, 0), ENOENT);
	CHECK_ERR(access(path, X_OK), EACCES);

	/* rename: replaces the target atomically; the old name is gone. */
	SYS(renameat(dfd, "b", dfd, "c"));
	CHECK_ERR(faccessat(dfd, "b", F_OK, 0), ENOENT);
	SYS(fstatat(dfd, "c", &st, 0));
	CHECK_EQ(st.st_size, 5);
	SYS(renameat(dfd, "c", dfd, "a"));
	SYS(stat(path, &st));
	CHECK_EQ(st.st_size, 5);
	CHECK_ERR(renameat(dfd, "c", dfd, "z"), ENOENT);

	/* Directories: mkdir, readdir, ENOTEMPTY, rmdir. */
	SYS(mkdirat(dfd, "sub", 0755));
	SYS(fstatat(dfd, "sub", &st, 0));
	CHECK(S_ISDIR(st.st_mode));
	CHECK_ERR(mkdirat(dfd, "sub", 0755), EEXIST);
	fd = SYS(openat(dfd, "sub/f1", O_CREAT | O_WRONLY, 0644));
	SYS(close(fd));
	SYS(mkdirat(dfd, "sub/d1", 0755));
	int sfd = SYS(openat(dfd, "sub", O_RDONLY | O_DIRECTORY));
	static const char *const names[] = {".", "..", "f1", "d1", "zz"};
	CHECK_EQ(getdents_find(sfd, names, 5), 0xf);
	SYS(close(sfd));
	snprintf(path2, sizeof(path2), "%s/sub", d);
	DIR *dir = opendir(path2);
	CHECK(dir != NULL);
	int n = 0, seen = 0;
	struct dirent *de;
	while ((de = readdir(dir)) != NULL) {
		n++;
		if (strcmp(de->d_name, "f1") == 0) {
			seen |= 1;
			CHECK_EQ(de->d_type, DT_REG);
		}
		if (strcmp(de->d_name, "d1") == 0) {
			seen |= 2;
			CHECK_EQ(de->d_type, DT_DIR);
		}
	}
	closedir(dir);
	CHECK_EQ(n, 4);
	CHECK_EQ(seen, 3);
	CHECK_ERR(rmdir(path2), ENOTEMPTY);
	CHECK_ERR(unlinkat(dfd, "sub", 0), EISDIR);
	SYS(unlinkat(dfd, "sub/f1", 0));
	SYS(unlinkat(dfd, "sub/d1", AT_REMOVEDIR));
	SYS(rmdir(path2));
	CHECK_ERR(rmdir(path2), ENOENT);

	/* A file unlinked while open stays readable. */
	fd = SYS(open(path, O_RDONLY));
	SYS(unlink(path));
	CHECK_ERR(access(path, F_OK), ENOENT);
	CHECK_EQ(read(fd, buf, 5), 5);
	SYS(fstat(fd, &st));
	CHECK_EQ(st.st_nlink, 0);
	SYS(close(fd));

	/* cwd: chdir, getcwd, relative opens, fchdir back. */
	char old[PATH_MAX], cwd[PATH_MAX];
	CHECK(getcwd(old, sizeof(old)) != NULL);
	int oldfd = SYS(open(".", O_RDONLY | O_DIRECTORY));
	SYS(chdir(d));
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_STR(cwd, d);
	fd = SYS(open("rel", O_CREAT | O_WRONLY, 0644));
	SYS(close(fd));
	SYS(faccessat(dfd, "rel", F_OK, 0));
	SYS(mkdir("cd", 0755));
	SYS(chdir("cd"));
	SYS(chdir(".."));
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_STR(cwd, d);
	SYS(fchdir(oldfd));
	CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
	CHECK_STR(cwd, old);
	CHECK_ERR(fchdir(999), EBADF);
	CHECK_ERR(chdir(path), ENOENT);
	SYS(close(oldfd));

	/* Large reads (on systrap they go from the host file straight into
	 * guest memory): whole, at EOF, positioned, and the file position. */
	enum { BIG = 300 * 1024 + 123 };
	unsigned char *w = malloc(BIG), *r = malloc(BIG + 16);
	CHECK(w && r);
	for (int i = 0; i < BIG; i++)
		w[i] = (unsigned char)(i * 7 + i / 251);
	snprintf(path, sizeof(path), "%s/big", d);
	fd = SYS(open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644));
	CHECK_EQ(write(fd, w, BIG), BIG);
	SYS(close(fd));
	fd = SYS(open(path, O_RDONLY));
	memset(r, 0, BIG + 16);
	CHECK_EQ(read(fd, r, BIG + 16), BIG);
	CHECK(memcmp(r, w, BIG) == 0);
	CHECK_EQ(read(fd, r, BIG), 0);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), BIG);
	CHECK_EQ(pread(fd, r, BIG, 200000), BIG - 200000);
	CHECK(memcmp(r, w + 200000, BIG - 200000) == 0);
	CHECK_EQ(lseek(fd, 70000, SEEK_SET), 70000);
	CHECK_EQ(read(fd, r, 65536), 65536);
	CHECK(memcmp(r, w + 70000, 65536) == 0);
	CHECK_EQ(lseek(fd, 0, SEEK_CUR), 70000 + 65536);
	SYS(close(fd));
	SYS(unlink(path));
	free(w);
	free(r);

	/* Clean up so the directory can go. */
	SYS(unlinkat(dfd, "rel", 0));
	SYS(unlinkat(dfd, "cd", AT_REMOVEDIR));
	SYS(unlinkat(dfd, "lnk", 0));
	SYS(unlinkat(dfd, "dangle", 0));
	SYS(close(dfd));
	SYS(rmdir(d));
}

int main(void)
{
	umask(022);
	test_dir("/tmp");
	test_dir("/var/tmp");
	pass("files");
	return 0;
}
