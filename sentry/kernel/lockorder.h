/* The sentry's lock order, in one place. A thread may take a lock only if
 * its rank is higher than the rank of every lock it already holds; the
 * debug build checks this on every acquisition (sentry/kernel/lock.c) and
 * aborts with both locks named. Ranks leave gaps for nesting: a lock of a
 * class that nests in itself (two directories in a rename, an epoll inside
 * an epoll, the wait queue of an epoll woken from another queue's wake-up)
 * is taken with a depth that adds to its rank.
 *
 * Two kinds of lock:
 *  - sleep locks (rank < LR_SPIN_MIN) serialize the operations on one
 *    object and may be held across that object's own host round trip: a
 *    directory's namespace changes across its gofer RPC, an address space's
 *    mapping changes across its own stub's mmap, a gofer connection across
 *    its request. They are never held across another object's round trip.
 *  - spin locks (rank >= LR_SPIN_MIN) guard in-memory state for a few
 *    hundred instructions and are never held across any host round trip:
 *    a stub command, a gofer RPC, process_vm_*, host file I/O. Everything
 *    that makes a round trip calls lock_might_block(), which the debug
 *    build checks.
 *
 * No lock at all is held while a task sleeps (task_sleep()).
 */
#ifndef BULKHEAD_LOCKORDER_H
#define BULKHEAD_LOCKORDER_H

enum lock_rank {
	/* ---- sleep locks ---- */
	LR_EXEC = 4,	   /* process.exec_lock: one execve/de_thread */
	LR_RENAME = 8,	   /* vfs rename_lock: cross-directory renames */
	LR_DIR = 10,	   /* inode.dir_lock, +0/+1 in a rename */
	LR_MM = 20,	   /* mm.lock: VMAs; spans its own stub's calls */
	LR_CLOCK_SET = 22, /* clock_settime emulation (none yet) */
	LR_STUB_CHAN = 24, /* a stub process's fd channel, per send+recv */
	LR_SPAWN = 25,	   /* the stub master's request socket */
	LR_GOFER = 26,	   /* a gofer connection, per request */

	LR_SPIN_MIN = 32,
	/* ---- spin locks ---- */
	LR_EPOLL_MTX = 32,   /* eventpoll.mtx, +depth (<= EP_MAX_NESTS) */
	LR_EPOLL_FILE = 40,  /* file.ep_lock: epoll items watching a file */
	LR_FDTABLE = 44,     /* fdtable.lock */
	LR_FS = 45,	     /* fs_struct.lock: cwd, root, umask */
	LR_MOUNT = 46,	     /* the mount table */
	LR_DCACHE = 47,	     /* the dentry tree, its hash and LRU */
	LR_INODE = 48,	     /* inode.lock: attributes, fs-private data */
	LR_GOFERFS = 49,     /* goferfs caches (read-only fds, closes) */
	LR_TASKLIST = 52,    /* process tree, pids, signals, job control */
	LR_FUTEX = 54,	     /* one futex hash bucket */
	LR_TIMER = 56,	     /* the timer heap */
	LR_WAITQ = 60,	     /* waitq.lock, +2*depth */
	LR_EPOLL_READY = 61, /* eventpoll.lock (ready list), +2*depth */
	LR_NOTIFIER = 58,    /* host-fd notifier: wakes under it */
	LR_LEAF = 80,	     /* small leaf locks: pools, counters */
};

#endif
