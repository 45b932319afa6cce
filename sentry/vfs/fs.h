/* The VFS internals shared by sentry/vfs/ and the filesystems in sentry/fs/:
 * super blocks, inodes, dentries, mounts and open file descriptions, shaped
 * like Linux's include/linux/fs.h so that a Linux reader knows where to look.
 *
 * Each object has its own locks, named at its fields and ranked in
 * sentry/kernel/lockorder.h; lifetimes are reference counts (atomics, or
 * under the lock the field names).
 */
#ifndef BULKHEAD_VFS_FS_H
#define BULKHEAD_VFS_FS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <time.h>

#include "bulkhead/htable.h"
#include "bulkhead/list.h"
#include "sentry/kernel/lock.h"
#include "sentry/vfs/vfs.h"

#define VFS_PATH_MAX	4096
#define VFS_NAME_MAX	255
#define VFS_MAXSYMLINKS 40

struct inode;
struct dentry;
struct mount;
struct file;
struct super_block;
struct task;
struct flctx;
struct pipe;

/* Permission mask bits for inode_permission (Linux MAY_*). */
#define MAY_EXEC  1
#define MAY_WRITE 2
#define MAY_READ  4

/* Super-block flags. */
#define SB_RDONLY  1u
#define SB_NOCACHE 2u /* drop dentries at refcount 0 (procfs) */

struct super_ops {
	int (*statfs)(struct super_block *sb, struct statfs *st);
	/* The last reference to an inode is gone: free fs-private state. */
	void (*evict)(struct inode *inode);
};

struct super_block {
	const char *fstype; /* "tmpfs", "proc", "9p" (gofer) ... */
	const struct super_ops *ops;
	uint64_t dev; /* st_dev of every inode */
	unsigned flags;
	_Atomic uint64_t next_ino;
	void *priv;
};

/* One directory entry as a filesystem reports it (readdir), with the
 * cookie to resume after it. Returns 0 to take the entry, > 0 to stop
 * before it (the caller's buffer is full: the entry is not consumed), < 0
 * to stop with that error. */
typedef int (*dir_emit_fn)(void *arg, const char *name, size_t len,
			   uint64_t ino, unsigned char type, uint64_t next);

/* setattr request (Linux struct iattr). */
#define ATTR_MODE  (1u << 0)
#define ATTR_UID   (1u << 1)
#define ATTR_GID   (1u << 2)
#define ATTR_SIZE  (1u << 3)
#define ATTR_ATIME (1u << 4)
#define ATTR_MTIME (1u << 5)
struct iattr {
	unsigned valid;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	uint64_t size;
	struct timespec atime, mtime; /* already resolved (no UTIME_NOW) */
};

struct path {
	struct mount *mnt;
	struct dentry *dentry;
};

/* Inode operations. Missing ops answer -EPERM (namespace changes),
 * -EINVAL (readlink) or -ENOTDIR (lookup). All names are single, valid
 * components (not ".", ".."). Out inodes carry a new reference. */
struct inode_ops {
	int (*lookup)(struct inode *dir, const char *name, struct inode **out);
	/* Regular file; oflags are the open flags (the gofer opens it too). */
	int (*create)(struct inode *dir, const char *name, mode_t mode,
		      uid_t uid, gid_t gid, int oflags, struct inode **out);
	int (*mkdir)(struct inode *dir, const char *name, mode_t mode,
		     uid_t uid, gid_t gid, struct inode **out);
	int (*mknod)(struct inode *dir, const char *name, mode_t mode,
		     dev_t rdev, uid_t uid, gid_t gid, struct inode **out);
	int (*symlink)(struct inode *dir, const char *name, const char *target,
		       uid_t uid, gid_t gid, struct inode **out);
	int (*link)(struct inode *dir, const char *name, struct inode *target);
	int (*unlink)(struct inode *dir, const char *name,
		      struct inode *victim);
	int (*rmdir)(struct inode *dir, const char *name, struct inode *victim);
	int (*rename)(struct inode *odir, const char *oname, struct inode *ndir,
		      const char *nname, unsigned flags);
	/* Copies the target (NUL-terminated) into buf; returns its length. */
	long (*readlink)(struct inode *inode, char *buf, size_t cap);
	/* Magic links (/proc/pid/fd/N): jump straight to a path; returns 0
	 * with a reference in *out, or -ENOENT to use readlink's text. */
	int (*get_link)(struct inode *inode, struct task *t, struct path *out);
	/* Refresh cached attributes (gofer). */
	int (*getattr)(struct inode *inode);
	int (*setattr)(struct inode *inode, const struct iattr *ia);
	/* Fill f->fops/f->priv for an open of this inode. */
	int (*open)(struct inode *inode, struct file *f);
	/* Every entry except "." and "..", from the one cookie names (0: the
	 * first) until emit stops it. Cookies stay valid while entries come
	 * and go: an entry is reported at most once per pass, and every entry
	 * present for the whole pass is reported. Returns 0 or -errno. */
	int (*readdir)(struct inode *dir, uint64_t cookie, dir_emit_fn emit,
		       void *arg);
	/* A cached dentry child of this directory still names inode? */
	bool (*revalidate)(struct inode *dir, const char *name,
			   struct inode *inode);
	/* Extended attributes a filesystem keeps itself (tmpfs); missing:
	 * -EOPNOTSUPP, and listxattr no names. name is whole ("user.x"),
	 * checked by the VFS; buffers are sentry memory; size 0 asks for
	 * the length. */
	ssize_t (*getxattr)(struct inode *inode, const char *name, void *buf,
			    size_t size);
	int (*setxattr)(struct inode *inode, const char *name,
			const void *value, size_t size, int flags);
	int (*removexattr)(struct inode *inode, const char *name);
	ssize_t (*listxattr)(struct inode *inode, char *buf, size_t size);
};

struct inode {
	_Atomic int refs;
	/* Linux's i_writecount: > 0, regular-file opens for writing; < 0,
	 * address spaces running it (mm.exe_file), so that a running
	 * program cannot be written (ETXTBSY) nor its file written while
	 * exec takes it. Atomic: changed with compare-and-swap only. */
	_Atomic int writecount;
	struct super_block *sb;	      /* immutable */
	const struct inode_ops *iops; /* immutable */
	/* A spin lock: the attributes below, and the filesystem's own
	 * state in priv unless it says otherwise. */
	struct kmutex lock;
	/* A directory's namespace changes (create, unlink, rename...) hold
	 * it across the filesystem's op, gofer RPC included (Linux's
	 * i_rwsem): a sleep lock. */
	struct kmutex dir_lock;
	uint64_t ino;
	mode_t mode; /* includes S_IFMT, which never changes */
	uid_t uid;
	gid_t gid;
	nlink_t nlink;
	uint64_t size;
	uint64_t blocks;
	dev_t rdev;
	struct timespec atime, mtime, ctime;
	/* Advisory locks (vfs/locks.c), made at the first one; set once,
	 * freed with the inode. */
	struct flctx *_Atomic flctx;
	/* A FIFO's or pipe's buffer (fs/pipe), made at its first open, set
	 * once, freed with the inode. */
	struct pipe *_Atomic i_pipe;
	void *priv;
};

/* A name in the tree. Fields are under the dcache lock (but mounted);
 * inode never changes; the name and parent change only by dentry_move
 * (rename). */
struct dentry {
	int refs; /* users + one per child; 0: cached, on the LRU */
	char *name;
	size_t namelen;
	struct dentry *parent; /* NULL for a filesystem root / anon dentry */
	struct inode *inode;
	struct hnode hn; /* in the dcache hash by (parent, name) */
	struct list_head lru;
	int mounted;   /* mounts on this dentry; under the mount lock */
	bool in_hash;  /* in the hash (it has a parent and a live name) */
	bool unhashed; /* removed from its parent (deleted) */
};

struct mount {
	struct list_head node; /* in the mount table */
	struct mount *parent;  /* NULL for the root mount / pseudo mounts */
	struct dentry *mountpoint;
	struct dentry *root;
	struct super_block *sb;
	bool readonly;
	char *source; /* for /proc/mounts */
	int id;	      /* immutable: mnt_id in fdinfo and mountinfo */
};

/* Open-file modes beyond the O_* flags. */
#define FMODE_READ  1u
#define FMODE_WRITE 2u
#define FMODE_LSEEK 4u
#define FMODE_PREAD 8u /* pread/pwrite allowed (else ESPIPE) */
/* I/O on the shared offset holds pos_lock (regular files and directories,
 * as Linux's FMODE_ATOMIC_POS): never for files whose reads block. */
#define FMODE_ATOMIC_POS 16u
/* The open holds write access to the inode (inode_get_write_access). */
#define FMODE_WRITER 32u

/* Poll: a file's poll op reports its readiness and, for a caller that
 * will wait, names through poll_wait() each wait queue whose wake-ups
 * change it (a pipe: its reader and writer queues; a host fd: the queue the
 * notifier thread wakes). poll(), select() and epoll each register their
 * own entries on those queues. */
struct waitq;
struct poll_table;
typedef void (*poll_queue_fn)(struct poll_table *pt, struct waitq *q);
struct poll_table {
	poll_queue_fn qproc; /* NULL: only report readiness */
	uint32_t key;	     /* events the caller waits for */
};
static inline void poll_wait(struct poll_table *pt, struct waitq *q)
{
	if (pt && pt->qproc && q)
		pt->qproc(pt, q);
}

struct dir_ctx;

struct uio;
struct file_ops {
	/* Move data between the file and u (mm/uio.h), from *pos (&f->pos,
	 * or a pread offset) which they advance. Return the bytes moved, or
	 * -errno when none were; a fault part-way ends the transfer with the
	 * bytes moved so far. May block (task u->t); -ERESTARTSYS when
	 * interrupted. */
	ssize_t (*read)(struct file *f, struct uio *u, uint64_t *pos);
	ssize_t (*write)(struct file *f, struct uio *u, uint64_t *pos);
	int64_t (*llseek)(struct file *f, int64_t off, int whence);
	long (*ioctl)(struct file *f, struct task *t, unsigned cmd,
		      uint64_t arg);
	uint32_t (*poll)(struct file *f, struct poll_table *pt);
	/* The kind's own lines of /proc/pid/fdinfo/N into buf (snprintf's
	 * contract); may be NULL. */
	int (*show_fdinfo)(struct file *f, char *buf, size_t cap);
	int (*fsync)(struct file *f);
	int (*host_fd)(struct file *f);
	void (*release)(struct file *f);
};

struct file {
	_Atomic int refs;
	_Atomic int flags; /* O_* status flags and access mode */
	unsigned fmode;	   /* immutable */
	/* A sleep lock held across a read, write, lseek or getdents that
	 * uses pos, for files with FMODE_ATOMIC_POS, as Linux's
	 * f_pos_lock. */
	struct kmutex pos_lock;
	uint64_t pos;
	struct path path; /* references held */
	struct inode *inode;
	const struct file_ops *fops;
	void *priv;
	/* The epoll items watching this file (struct epitem.fllink), under
	 * ep_lock; emptied at the last reference (epoll_release_file). */
	struct kmutex ep_lock;
	struct list_head ep_links;
};

/* ---- inode.c ---- */
struct inode *inode_new(struct super_block *sb, mode_t mode);
static inline void inode_lock(struct inode *i)
{
	kmutex_lock(&i->lock);
}
static inline void inode_unlock(struct inode *i)
{
	kmutex_unlock(&i->lock);
}
/* The attributes, read together under the inode's lock. */
struct inode_attr {
	mode_t mode;
	uid_t uid;
	gid_t gid;
	uint64_t size;
};
void inode_get_attr(struct inode *inode, struct inode_attr *a);
uint64_t inode_size(struct inode *inode);
nlink_t dir_nlink(struct inode *inode);
void inode_get(struct inode *inode);
/* Write access against execution (writecount): -ETXTBSY while running /
 * while open for writing; every successful get/deny is undone by one
 * put/allow. */
int inode_get_write_access(struct inode *inode);
void inode_put_write_access(struct inode *inode);
int inode_deny_write_access(struct inode *inode);
void inode_allow_write_access(struct inode *inode);
void inode_put(struct inode *inode);
uint64_t sb_next_ino(struct super_block *sb);
void inode_fill_stat(struct inode *inode, struct stat *st);
struct timespec vfs_now(void);
void inode_touch(struct inode *inode, bool atime, bool mtime, bool ctime);
/* Apply ia to the generic fields (after the fs accepted it). */
void inode_apply_iattr(struct inode *inode, const struct iattr *ia);
int inode_setattr(struct inode *inode, const struct iattr *ia);

/* ---- perm.c ---- */
int inode_permission(struct task *t, struct inode *inode, int mask);
struct cred;
int inode_permission_cred(const struct cred *c, struct inode *inode, int mask);
bool cred_in_group(struct task *t, gid_t gid);
uid_t task_fsuid(struct task *t);
gid_t task_fsgid(struct task *t);
/* Sticky-directory rule for unlink/rename (Linux may_delete). */
int may_delete(struct task *t, struct inode *dir, struct inode *victim);
/* The owner or root? (chmod, utimes with explicit times) */
bool inode_owner_or_root(struct task *t, struct inode *inode);

/* ---- dentry.c ---- */
/* Unused dentries kept (each pins a gofer node, an fd in the gofer). Above
 * the size of a typical tree walk: an LRU smaller than the tree being
 * walked misses on every entry of every walk. */
#define DCACHE_UNUSED_MAX 32768
/* A dentry for inode under parent (NULL: a root or an anonymous one),
 * with a reference. Under a parent there is one dentry per name: if one
 * for name appeared meanwhile (a racing lookup), that one is returned. */
struct dentry *dentry_new(struct dentry *parent, const char *name, size_t len,
			  struct inode *inode);
void dentry_get(struct dentry *d);
void dentry_put(struct dentry *d);
extern struct kmutex dcache_lock;
/* Cached child, with a reference, or NULL. */
struct dentry *dentry_find_child(struct dentry *dir, const char *name,
				 size_t len);
/* d's parent with a reference (NULL for a root). */
struct dentry *dentry_get_parent(struct dentry *d);
/* Removed from its parent (unlinked)? */
bool dentry_deleted(struct dentry *d);
/* Is anc d or above it? */
bool dentry_is_ancestor(struct dentry *anc, struct dentry *d);
/* Cached or looked-up child; -ENOENT if absent. */
int dentry_lookup(struct dentry *dir, const char *name, size_t len,
		  struct dentry **out);
/* Drop from the parent (after unlink/rmdir/rename). */
void dentry_unhash(struct dentry *d);
/* Move d under newparent with newname (after a rename). */
void dentry_move(struct dentry *d, struct dentry *newparent,
		 const char *newname);
void dentry_prune(size_t keep);
size_t dentry_unused_count(void);

/* ---- mount.c ---- */
struct mount *mount_new(struct super_block *sb, struct dentry *root,
			const char *source, bool readonly);
/* Attach m on mountpoint (a path in the tree). */
void mount_attach(struct mount *m, const struct path *mountpoint);
struct mount *mount_lookup(struct mount *parent, struct dentry *mountpoint);
/* Is anything mounted on d? */
bool dentry_mounted(struct dentry *d);
struct mount *mount_root(void);
void mount_set_root(struct mount *m);
/* fn on every mount, in mount order, with no lock held. */
void mount_for_each(void (*fn)(struct mount *m, void *arg), void *arg);
/* Has path's mount -EROFS? */
int mnt_want_write(const struct path *p);
void path_get(const struct path *p);
void path_put(const struct path *p);
bool path_equal(const struct path *a, const struct path *b);
/* Absolute path from root, "/a/b"; appends " (deleted)" for unhashed
 * dentries. Returns length or -ENAMETOOLONG. */
int path_render(const struct path *p, const struct path *root, char *buf,
		size_t cap);

/* ---- namei.c ---- */
#define LOOKUP_FOLLOW	 1u /* follow a trailing symlink */
#define LOOKUP_DIRECTORY 2u /* the result must be a directory */
#define LOOKUP_EMPTY	 4u /* "" means dirfd itself (AT_EMPTY_PATH) */

struct nameidata;
/* Resolve path (already copied, NUL-terminated) relative to dirfd. */
int vfs_lookup(struct task *t, int dirfd, const char *path, unsigned flags,
	       struct path *out);
/* Resolve all but the last component: *parent (ref) and the last name
 * copied into last (NAME_MAX+1). -EINVAL-ish cases: last is "." / ".."
 * or the path is "/" -> *last_kind != 0. trailing_slash reports "a/". */
enum last_kind { LAST_NORM = 0, LAST_DOT, LAST_DOTDOT, LAST_ROOT };
int vfs_lookup_parent(struct task *t, int dirfd, const char *path,
		      struct path *parent, char *last, enum last_kind *kind,
		      bool *trailing_slash);
/* Look up one name under parent (permission checked), crossing mounts. */
int vfs_lookup_one(struct task *t, const struct path *parent, const char *name,
		   struct path *out);
/* The starting point for dirfd: cwd, or a directory fd's path. */
int vfs_dirfd_path(struct task *t, int dirfd, struct path *out);

/* ---- file.c ---- */
struct file *file_alloc(const struct path *p, struct inode *inode, int flags);
/* Around I/O at f->pos (pos NULL in vfs_read/vfs_write). */
void file_pos_lock(struct file *f);
void file_pos_unlock(struct file *f);
/* A read at *pos that the caller keeps (sendfile's own offset), for any
 * readable file: no FMODE_PREAD needed. */
ssize_t vfs_read_pos(struct file *f, struct uio *u, uint64_t *pos);
/* Replace the status flags in mask with val's, atomically (F_SETFL). */
void file_set_flags(struct file *f, int mask, int val);
/* Open p (resolved) with open(2) flags: permission, O_TRUNC, fs open. */
int vfs_open_path(struct task *t, const struct path *p, int flags,
		  struct file **out);
int64_t generic_llseek(struct file *f, int64_t off, int whence);
/* Read/write through the fops, modes checked. pos NULL: use and advance
 * f->pos. */
ssize_t vfs_read(struct file *f, struct uio *u, uint64_t *pos);
ssize_t vfs_write(struct file *f, struct uio *u, uint64_t *pos);

/* ---- readdir.c ---- */
struct dir_ctx {
	/* Returns 0 to accept the entry, > 0 when the buffer is full. off is
	 * the position after the entry (its d_off). */
	int (*actor)(struct dir_ctx *ctx, const char *name, size_t len,
		     uint64_t off, uint64_t ino, unsigned char type);
	bool full; /* set when an entry did not fit */
};
/* Emit entries of directory f starting at f->pos (advancing it). "." and
 * ".." are positions 0 and 1; after them a position is 2 + the
 * filesystem's cookie, so reading goes on where it stopped however the
 * directory changed meanwhile. */
int vfs_iterate_dir(struct file *f, struct dir_ctx *ctx);
unsigned char mode_to_dtype(mode_t mode);

/* ---- anon.c: inodes without a place in the tree (pipes, host fds) */
struct super_block *anon_sb(void);
/* A path on the anonymous mount named name ("pipe:[3]"), for inode. */
int anon_path(struct inode *inode, const char *name, struct path *out);
/* An open file of a new anonymous inode (eventfd, epoll, timerfd,
 * signalfd: "anon_inode:[eventfd]" in /proc/pid/fd), mode 0600 with no file
 * type as on Linux, with fops and priv set and flags (O_RDWR plus
 * O_NONBLOCK...). Its release op runs only once the file exists. */
int anon_file_new(const char *name, const struct file_ops *fops, void *priv,
		  int flags, struct file **out);
/* llseek of such files: Linux's noop_llseek (the position, unchanged). */
int64_t noop_llseek(struct file *f, int64_t off, int whence);

#endif
