/* Advisory file locks (Linux fs/locks.c): flock(2) locks, owned by an open
 * file description; POSIX record locks (fcntl F_SETLK...), owned by the
 * process and dropped when it closes any fd of the inode or exits; and OFD
 * record locks (F_OFD_*), owned by the open file description. flock locks
 * and record locks never conflict with each other, as on Linux.
 *
 * All lock state of every inode is under one spin lock, flk_lock
 * (LR_FILELOCK): the deadlock check walks waiters across inodes and
 * processes, and lock calls are short. Waiters sleep on their inode's
 * wait queue with no lock held. Bounded: FLK_MAX_INODE locks per inode,
 * FLK_MAX_TOTAL in the sandbox, -ENOLCK beyond. */
#ifndef BULKHEAD_VFS_LOCKS_H
#define BULKHEAD_VFS_LOCKS_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>

struct file;
struct inode;
struct process;
struct task;

#define FLK_MAX_INODE 4096
#define FLK_MAX_TOTAL 65536

/* flock(2): op is LOCK_SH/LOCK_EX/LOCK_UN, optionally | LOCK_NB. */
int flock_file(struct task *t, struct file *f, int op);
/* fcntl record locks: cmd is F_GETLK/F_SETLK/F_SETLKW or an F_OFD_* one;
 * fl already copied in (and, for the GETLKs, filled for copy-out). */
int fcntl_getlk(struct task *t, struct file *f, int cmd, struct flock *fl);
int fcntl_setlk(struct task *t, struct file *f, int cmd,
		const struct flock *fl);

/* p closes an fd of f: its POSIX locks on f's inode go (Linux's
 * locks_remove_posix from filp_close). Cheap when the inode has none. */
void locks_remove_posix(struct file *f, struct process *p);
/* f's last reference: its flock and OFD locks go. */
void locks_remove_file(struct file *f);
/* The process is gone: every POSIX lock it still holds goes. */
void locks_exit_process(struct process *p);
/* The inode is freed: drop its lock state (no file refers to it). */
void locks_evict_inode(struct inode *inode);

/* /proc/locks in buf (snprintf's contract): one line per lock. */
size_t locks_show(char *buf, size_t cap);

#endif
