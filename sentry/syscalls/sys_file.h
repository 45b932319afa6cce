/* Helpers shared by the file syscall files (sys_file.c, sys_stat.c,
 * sys_dir.c, sys_pipe.c, sys_poll.c). Not used outside sentry/syscalls/. */
#ifndef BULKHEAD_SYS_FILE_H
#define BULKHEAD_SYS_FILE_H

#include <stdint.h>

#include "sentry/vfs/fs.h"

#define MAX_RW_COUNT 0x7ffff000L /* INT_MAX & PAGE_MASK, as Linux */

struct task;

/* Linux's access_ok: does [addr, addr + n) lie in the user half? Checked
 * before any I/O, so a length that runs off the end of the address space
 * fails with EFAULT even when only its first bytes would be used. */
static inline bool user_range_ok(uint64_t addr, uint64_t n)
{
	const uint64_t task_size = 0x7ffffffff000ULL; /* GUEST_TASK_SIZE */
	return n <= task_size && addr <= task_size - n;
}

/* The file at fd with a reference, or NULL. */
struct file *fget(struct task *t, int fd);
/* Copy a path argument into buf (VFS_PATH_MAX); allow_empty keeps "" for
 * AT_EMPTY_PATH. 0 or -errno. */
int get_path(struct task *t, uint64_t uaddr, char *buf, bool allow_empty);
/* A new socket node at kpath (bind of a unix socket, mknod) relative to
 * dirfd, mode perm less the umask: the inode with a reference in *out;
 * -EADDRINUSE when the name exists (sys_dir.c). */
struct inode;
int vfs_mknod_sock(struct task *t, int dirfd, const char *kpath, mode_t perm,
		   struct inode **out);
/* Install f at the lowest free fd; drops the caller's reference. */
long install_file(struct task *t, struct file *f, bool cloexec);

/* Copy in and check a guest iovec array as Linux's import_iovec: more
 * than IOV_MAX or a negative length EINVAL, a range outside the user half
 * EFAULT, all before any I/O. *out is fast (UIO_FASTIOV entries) or
 * malloc'd: the caller frees it when it is not fast, on error too. */
struct iovec;
long import_iovec(struct task *t, uint64_t uiov, uint64_t cnt,
		  struct iovec *fast, struct iovec **out);

/* Handlers, by file. */
#define H(name) long name(struct task *t, const uint64_t a[6])
/* sys_stat.c */
H(sys_stat);
H(sys_lstat);
H(sys_fstat);
H(sys_newfstatat);
H(sys_statx);
H(sys_access);
H(sys_faccessat);
H(sys_faccessat2);
H(sys_readlink);
H(sys_readlinkat);
H(sys_statfs);
H(sys_fstatfs);
H(sys_chmod);
H(sys_fchmod);
H(sys_fchmodat);
H(sys_chown);
H(sys_fchown);
H(sys_lchown);
H(sys_fchownat);
H(sys_truncate);
H(sys_ftruncate);
H(sys_utimensat);
H(sys_utimes);
H(sys_futimesat);
H(sys_utime);
H(sys_umask);
/* sys_dir.c */
H(sys_getdents64);
H(sys_getdents);
H(sys_getcwd);
H(sys_chdir);
H(sys_fchdir);
H(sys_mkdir);
H(sys_mkdirat);
H(sys_rmdir);
H(sys_unlink);
H(sys_unlinkat);
H(sys_rename);
H(sys_renameat);
H(sys_renameat2);
H(sys_link);
H(sys_linkat);
H(sys_symlink);
H(sys_symlinkat);
H(sys_mknod);
H(sys_mknodat);
/* sys_pipe.c */
H(sys_pipe);
H(sys_pipe2);
/* sys_poll.c */
H(sys_poll);
H(sys_ppoll);
H(sys_select);
H(sys_pselect6);
#undef H

#endif
