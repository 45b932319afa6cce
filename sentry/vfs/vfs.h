/* The VFS surface that the rest of the sentry uses. The internals (dentries,
 * inodes, mounts, filesystems) live in sentry/vfs/ and sentry/fs/. */
#ifndef BULKHEAD_VFS_H
#define BULKHEAD_VFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "bulkhead/config.h"

struct task;
struct file;
struct fdtable;
struct fs_struct;

#define FD_MAX_DEFAULT 1024 /* RLIMIT_NOFILE soft default */

/* Boot: mount the gofer-backed root (export 0) and the mounts of the
 * config (proc, tmpfs, bind → gofer exports, dev); gofer_fd is the
 * SEQPACKET socket to the gofer. Returns 0 or a negative errno with a
 * message in err. */
int vfs_init(const struct bh_config *cfg, int gofer_fd, char *err,
	     size_t errlen);

/* fd tables (per task; shared with CLONE_FILES). */
struct fdtable *fdtable_new(void);
struct fdtable *fdtable_dup(struct fdtable *fdt); /* fork */
void fdtable_get(struct fdtable *fdt);
void fdtable_put(struct fdtable *fdt); /* last put closes every file */
void fdtable_close_on_exec(struct fdtable *fdt);
/* Give the calling task a table of its own if it shares one (exec,
 * close_range CLOSE_RANGE_UNSHARE): 0 or -ENOMEM. */
int fdtable_unshare(struct task *t);
/* Install file at fd (>= 0: exactly there, closing what was there) or at
 * the lowest free fd >= minfd when fd < 0 (pass minfd via -1 - minfd... use
 * fd_alloc). Takes a new reference. Returns the fd or -EMFILE/-EBADF. */
int fd_install_at(struct fdtable *fdt, int fd, struct file *f, bool cloexec);
int fd_alloc(struct fdtable *fdt, int minfd, struct file *f, bool cloexec);
/* The file at fd with a new reference, or NULL (-> -EBADF). */
struct file *fd_get(struct fdtable *fdt, int fd);
int fd_close(struct fdtable *fdt, int fd);

void file_get(struct file *f);
void file_put(struct file *f);

/* cwd/root/umask (per task; shared with CLONE_FS). */
struct fs_struct *fs_new_root(void);
struct fs_struct *fs_dup(struct fs_struct *fs);
void fs_get(struct fs_struct *fs);
void fs_put(struct fs_struct *fs);
/* chdir to an absolute path at boot (config cwd); -errno. */
int fs_chdir_path(struct task *t, const char *path);

/* A file that forwards I/O to one of the sentry's own host fds (the guest's
 * stdio at boot: fds 0,1,2 of the sentry). */
struct file *file_new_host(int hostfd, int oflags);

/* Open path relative to dirfd (AT_FDCWD ok) as the task t would with
 * openat(2); used by execve. */
int vfs_open(struct task *t, int dirfd, const char *path, int flags,
	     mode_t mode, struct file **out);
/* Kernel-side read at offset (ELF loader); bytes or -errno. */
ssize_t file_kread(struct file *f, void *buf, size_t n, uint64_t off);
/* Host fd whose pages back the file (gofer regular files, memfds), for
 * mmap; -ENODEV if the file cannot be mmapped. Not a new fd: valid while f
 * is referenced. */
int file_host_fd(struct file *f);
/* stat of the open file; 0 or -errno. */
int file_stat(struct file *f, struct stat *st);
/* Absolute guest path of the file as best known ("/bin/sh"); for
 * /proc/pid/exe, /proc/pid/fd/N and maps. Returns length or -errno. */
int file_path(struct file *f, char *buf, size_t cap);
/* Check that t may execute f (regular file, an x bit); 0 or -EACCES. */
int file_may_exec(struct task *t, struct file *f);
/* The mode's file type bits (S_IFMT) of f. */
mode_t file_type(struct file *f);

#endif
