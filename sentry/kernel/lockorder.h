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
	LR_FPOS = 4,   /* file.pos_lock: a shared offset across I/O */
	LR_RENAME = 8, /* vfs rename_lock: cross-directory renames */
	LR_DIR = 10,   /* inode.dir_lock, +0/+1 in a rename; for a
			* regular file its write lock */
	LR_PIPE =
	    16,	    /* a pipe's buffer, across the copy to or from the guest */
	LR_MM = 20, /* mm.lock: VMAs; spans its own stub's calls */
	LR_STUB_CHAN = 24,  /* a stub process's fd channel, per send+recv */
	LR_SPAWN = 25,	    /* the stub master's request socket */
	LR_GOFER = 26,	    /* a gofer connection, per request */
	LR_FUTEX_PI = 28,   /* PI futex word changes (each a stub op) */
	LR_EPOLL_NEST = 30, /* changes to the graph of nested epolls */

	LR_SPIN_MIN = 32,
	/* ---- spin locks ---- */
	LR_EPOLL_MTX = 32,   /* eventpoll.mtx, +depth (<= EP_MAX_NESTS) */
	LR_EPOLL_FILE = 40,  /* file.ep_lock: epoll items watching a file */
	LR_FDTABLE = 44,     /* fdtable.lock */
	LR_FS = 46,	     /* fs_struct.lock: cwd, root, umask */
	LR_MOUNT = 48,	     /* the mount table */
	LR_DCACHE = 50,	     /* the dentry tree, its hash and LRU */
	LR_INODE = 52,	     /* inode.lock, +1 for a child under its dir */
	LR_GOFERFS = 56,     /* goferfs caches (read-only fds, closes) */
	LR_TMPFS_SB = 57,    /* a tmpfs's space accounting */
	LR_TASKLIST = 60,    /* process tree, pids, signals, job control */
	LR_FUTEX = 62,	     /* one futex hash bucket, +1 for a second */
	LR_TIMERFD = 64,     /* a timerfd; arms the timer heap under it */
	LR_CLOCKSET = 65,    /* the wall-clock-set hooks, while they run */
	LR_TIMER = 66,	     /* the timer heap */
	LR_NOTIFIER = 68,    /* host-fd notifier: wakes under it */
	LR_WAITQ = 70,	     /* waitq.lock, +2*depth */
	LR_EPOLL_READY = 71, /* eventpoll.lock (ready list), +2*depth */
	LR_LEAF = 90,	     /* small leaf locks: pools, counters, uts */
};

#endif
