/* Gofer-backed inodes. An inode owns one gofer node id (released with
 * gofer_close when the inode dies). Attributes are cached in the inode and
 * refreshed from the gofer's answers after every change the sentry makes,
 * or with fstat on an open host fd (no round trip). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "bulkhead/gofer_client.h"
#include "bulkhead/htable.h"
#include "sentry/vfs/chrdev.h"
#include "sentry/fs/gofer/goferfs.h"
#include "sentry/kernel/lock.h"
#include "sentry/mm/uio.h"

/* A host fd shared by an open file and its inode (which uses it to
 * refresh attributes): closed when both let go, so an fstat never reaches
 * an fd number already reused for something else. */
struct gofer_hfd {
	_Atomic int refs;
	int fd;
};

static struct gofer_hfd *hfd_new(int fd)
{
	struct gofer_hfd *h = malloc(sizeof(*h));
	if (h) {
		h->refs = 1;
		h->fd = fd;
	}
	return h;
}

static void hfd_get(struct gofer_hfd *h)
{
	atomic_fetch_add(&h->refs, 1);
}

static void hfd_put(struct gofer_hfd *h)
{
	if (h && atomic_fetch_sub(&h->refs, 1) == 1) {
		close(h->fd);
		free(h);
	}
}

/* Gofer nodes one inode keeps: one per name it was reached by (hard links
 * share the inode). Beyond this the oldest extra one is let go. */
#define GI_NODES_MAX 8

struct goferfs_inode {
	/* Under the inode's lock: the gofer nodes that name this inode, the
	 * first one used for every request. A node whose name was unlinked
	 * answers -ESTALE: it is dropped and the next one used (gi_stale). */
	uint64_t nodes[GI_NODES_MAX];
	unsigned nnodes;
	/* Identity on the host, immutable; in ino_table while hashed
	 * (ino_lock), so every name of a host file gives one inode. */
	uint64_t hdev, hino;
	struct hnode hn;
	bool hashed;
	struct inode *inode; /* back pointer, no reference */
	int create_fd;	     /* donated by CREATE, for the open that follows */
	int create_acc;
	struct gofer_hfd *attr; /* an open file's host fd, for refreshes */
	char *link;		/* symlink target, cached (immutable) */
	/* Under ro_lock: a read-only host fd kept from an O_RDONLY open:
	 * later ones (every exec of a program, every read of a library or a
	 * config file) dup it instead of asking the gofer again. All I/O is
	 * pread/pwrite at explicit offsets, so sharing the host file
	 * description is harmless. In ro_lru while set. */
	int ro_fd;
	struct list_head ro_node;
};

struct goferfs_file {
	struct gofer_hfd *h;
};

static struct gofer_conn conn;

/* The inodes holding a ro_fd, least recently opened first. An open costs a
 * round trip to the gofer (~12 us here) where a dup costs ~1 us; the bound
 * keeps a guest that reads many files once from holding as many host fds. */
#define RO_CACHE_MAX 256
static struct kmutex ro_lock = KMUTEX_INITIALIZER("goferfs_ro", LR_GOFERFS);
static struct list_head ro_lru = LIST_HEAD_INIT(ro_lru);
static int ro_count;

/* ro_lock held. */
static void ro_drop(struct goferfs_inode *gi)
{
	if (gi->ro_fd < 0)
		return;
	close(gi->ro_fd);
	gi->ro_fd = -1;
	list_del(&gi->ro_node);
	ro_count--;
}

static void ro_keep(struct goferfs_inode *gi, int hostfd)
{
	int fd = fcntl(hostfd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return;
	kmutex_lock(&ro_lock);
	if (gi->ro_fd >= 0) {
		kmutex_unlock(&ro_lock);
		close(fd); /* another open kept one meanwhile */
		return;
	}
	if (ro_count >= RO_CACHE_MAX)
		ro_drop(list_entry(ro_lru.next, struct goferfs_inode, ro_node));
	gi->ro_fd = fd;
	list_add_tail(&gi->ro_node, &ro_lru);
	ro_count++;
	kmutex_unlock(&ro_lock);
}

/* A dup of gi's kept read-only fd, or -1. */
static int ro_take(struct goferfs_inode *gi)
{
	kmutex_lock(&ro_lock);
	int fd = gi->ro_fd >= 0 ? fcntl(gi->ro_fd, F_DUPFD_CLOEXEC, 0) : -1;
	if (fd >= 0) {
		list_del(&gi->ro_node);
		list_add_tail(&gi->ro_node, &ro_lru);
	}
	kmutex_unlock(&ro_lock);
	return fd;
}

/* (super block, host dev, host ino) -> the live inode. */
static struct kmutex ino_lock = KMUTEX_INITIALIZER("goferfs_ino", LR_GOFERFS);
static struct htable ino_table; /* ino_lock */
static bool ino_table_ready;	/* ino_lock */

static bool conn_ready;
static _Atomic uint64_t gofer_devs = 0x200;

static const struct inode_ops gofer_iops;
static const struct file_ops gofer_reg_fops;

#define GI(inode) ((struct goferfs_inode *)(inode)->priv)

/* The node to use for a request about inode. */
static uint64_t gi_node(struct inode *inode)
{
	inode_lock(inode);
	uint64_t n = GI(inode)->nodes[0];
	inode_unlock(inode);
	return n;
}

/* node answered -ESTALE (its name is gone): drop it if inode has another
 * one. True: try again with gi_node(). */
static bool gi_stale(struct inode *inode, uint64_t node)
{
	struct goferfs_inode *gi = GI(inode);
	bool retry = false, drop = false;
	inode_lock(inode);
	for (unsigned i = 0; i < gi->nnodes; i++) {
		if (gi->nodes[i] != node)
			continue;
		if (gi->nnodes > 1) {
			memmove(&gi->nodes[i], &gi->nodes[i + 1],
				(gi->nnodes - i - 1) * sizeof(gi->nodes[0]));
			gi->nnodes--;
			drop = retry = true;
		}
		break;
	}
	/* Not there: another request dropped it already. */
	if (!drop && gi->nnodes && gi->nodes[0] != node)
		retry = true;
	inode_unlock(inode);
	if (drop)
		gofer_close(&conn, node);
	return retry;
}

/* One more node naming inode (a hard link, a second lookup). */
static void gi_add_node(struct inode *inode, uint64_t node)
{
	struct goferfs_inode *gi = GI(inode);
	uint64_t drop = 0;
	bool dropping = false;
	inode_lock(inode);
	if (gi->nnodes == GI_NODES_MAX) {
		/* Keep the first (in use) and the new one: let the
		 * oldest of the others go. */
		drop = gi->nodes[1];
		dropping = true;
		memmove(&gi->nodes[1], &gi->nodes[2],
			(gi->nnodes - 2) * sizeof(gi->nodes[0]));
		gi->nnodes--;
	}
	gi->nodes[gi->nnodes++] = node;
	inode_unlock(inode);
	if (dropping)
		gofer_close(&conn, drop);
}

/* call, made with node n of inode, again with the next node while a stale
 * one is dropped. */
#define WITH_NODE(inode, n, call)                                              \
	({                                                                     \
		long _r;                                                       \
		for (;;) {                                                     \
			uint64_t n = gi_node(inode);                           \
			_r = (call);                                           \
			if (_r != -ESTALE || !gi_stale(inode, n))              \
				break;                                         \
		}                                                              \
		_r;                                                            \
	})

static uint64_t ino_hash(struct super_block *sb, uint64_t dev, uint64_t ino)
{
	return hash_u64(ino ^ hash_u64(dev ^ (uint64_t)(uintptr_t)sb));
}

/* The live inode of sb with this host identity and type, with a new
 * reference, or NULL. */
static struct inode *ino_find(struct super_block *sb, const struct gp_attr *a)
{
	struct inode *found = NULL;
	uint64_t h = ino_hash(sb, a->dev, a->ino);
	kmutex_lock(&ino_lock);
	if (!ino_table_ready) {
		kmutex_unlock(&ino_lock);
		return NULL;
	}
	for (struct hnode *n = htable_first(&ino_table, h); n;
	     n = htable_next(&ino_table, n)) {
		struct goferfs_inode *gi =
		    htable_entry(n, struct goferfs_inode, hn);
		struct inode *inode = gi->inode;
		if (inode->sb != sb || gi->hdev != a->dev ||
		    gi->hino != a->ino ||
		    (inode->mode & S_IFMT) != (a->mode & S_IFMT))
			continue;
		/* A reference unless it is already on its way out. */
		int refs = atomic_load(&inode->refs);
		while (refs > 0 && !atomic_compare_exchange_weak(
				       &inode->refs, &refs, refs + 1))
			;
		if (refs > 0) {
			found = inode;
			break;
		}
	}
	kmutex_unlock(&ino_lock);
	return found;
}

static void ino_insert(struct goferfs_inode *gi, struct super_block *sb)
{
	kmutex_lock(&ino_lock);
	if (!ino_table_ready && htable_init(&ino_table, 8) == 0)
		ino_table_ready = true;
	if (ino_table_ready) {
		htable_insert(&ino_table, &gi->hn,
			      ino_hash(sb, gi->hdev, gi->hino));
		gi->hashed = true;
	}
	kmutex_unlock(&ino_lock);
}

/* The host file is gone (its last name unlinked): its number may be
 * reused, so it no longer names this inode. */
static void ino_unhash(struct goferfs_inode *gi)
{
	kmutex_lock(&ino_lock);
	if (gi->hashed)
		htable_remove(&ino_table, &gi->hn);
	gi->hashed = false;
	kmutex_unlock(&ino_lock);
}

/* Every gofer RPC is a round trip: never under a spin lock. */
static void gofer_rpc_check(void)
{
	lock_might_block("a gofer RPC");
}

int goferfs_init(int gofer_fd)
{
	if (conn_ready)
		return -EBUSY;
	int r = gofer_conn_init(&conn, gofer_fd);
	if (r)
		return r;
	conn.before_call = gofer_rpc_check;
	conn_ready = true;
	return 0;
}

/* inode locked. The file type never changes: only the permission bits are
 * taken from the gofer's answer. */
static void attr_apply_locked(struct inode *inode, const struct gp_attr *a)
{
	inode->ino = a->ino;
	inode->mode = (inode->mode & S_IFMT) | (a->mode & 07777);
	inode->nlink = a->nlink;
	inode->uid = a->uid;
	inode->gid = a->gid;
	inode->size = a->size;
	inode->blocks = a->blocks;
	inode->rdev = makedev(a->rdev_major, a->rdev_minor);
	inode->atime = (struct timespec){a->atime_sec, a->atime_nsec};
	inode->mtime = (struct timespec){a->mtime_sec, a->mtime_nsec};
	inode->ctime = (struct timespec){a->ctime_sec, a->ctime_nsec};
}

static void attr_apply(struct inode *inode, const struct gp_attr *a)
{
	inode_lock(inode);
	attr_apply_locked(inode, a);
	inode_unlock(inode);
}

static void stat_apply(struct inode *inode, const struct stat *st)
{
	inode_lock(inode);
	inode->nlink = st->st_nlink;
	inode->size = (uint64_t)st->st_size;
	inode->blocks = (uint64_t)st->st_blocks;
	inode->atime = st->st_atim;
	inode->mtime = st->st_mtim;
	inode->ctime = st->st_ctim;
	inode->mode = (inode->mode & S_IFMT) | (st->st_mode & 07777);
	inode->uid = st->st_uid;
	inode->gid = st->st_gid;
	inode_unlock(inode);
}

static struct inode *gofer_inode_alloc(struct super_block *sb, uint64_t node,
				       const struct gp_attr *a)
{
	struct goferfs_inode *gi = calloc(1, sizeof(*gi));
	struct inode *inode = gi ? inode_new(sb, a->mode) : NULL;
	if (!inode) {
		free(gi);
		gofer_close(&conn, node);
		return NULL;
	}
	gi->nodes[0] = node;
	gi->nnodes = 1;
	gi->hdev = a->dev;
	gi->hino = a->ino;
	gi->inode = inode;
	gi->create_fd = -1;
	gi->ro_fd = -1;
	list_init(&gi->ro_node);
	inode->priv = gi;
	inode->iops = &gofer_iops;
	attr_apply_locked(inode, a);
	return inode;
}

/* The inode for node (a new name of a host file): the live one with the
 * same host identity if there is one (node then joins its nodes), else a
 * new one. Consumes node either way. */
static struct inode *gofer_inode_new(struct super_block *sb, uint64_t node,
				     const struct gp_attr *a)
{
	/* Directories have one name: sharing their inode would make
	 * directory aliases, which the dcache does not expect (a host bind
	 * mount inside the rootfs can show one directory twice). */
	bool dir = S_ISDIR(a->mode);
	struct inode *inode = dir ? NULL : ino_find(sb, a);
	if (inode) {
		gi_add_node(inode, node);
		attr_apply(inode, a);
		return inode;
	}
	inode = gofer_inode_alloc(sb, node, a);
	if (inode && !dir)
		ino_insert(GI(inode), sb);
	return inode;
}

static void gofer_evict(struct inode *inode)
{
	struct goferfs_inode *gi = GI(inode);
	if (!gi)
		return;
	ino_unhash(gi);
	for (unsigned i = 0; i < gi->nnodes; i++)
		gofer_close(&conn, gi->nodes[i]);
	if (gi->create_fd >= 0)
		close(gi->create_fd);
	hfd_put(gi->attr);
	kmutex_lock(&ro_lock);
	ro_drop(gi);
	kmutex_unlock(&ro_lock);
	free(gi->link);
	free(gi);
}

static int gofer_statfs_op(struct super_block *sb, struct statfs *st)
{
	struct gp_statfs_resp s;
	int r = gofer_statfs(&conn, (uint64_t)(uintptr_t)sb->priv, &s);
	if (r)
		return r;
	memset(st, 0, sizeof(*st));
	st->f_type = (__fsword_t)s.type;
	st->f_bsize = (__fsword_t)s.bsize;
	st->f_blocks = s.blocks;
	st->f_bfree = s.bfree;
	st->f_bavail = s.bavail;
	st->f_files = s.files;
	st->f_ffree = s.ffree;
	st->f_namelen = (__fsword_t)s.namelen;
	st->f_frsize = (__fsword_t)s.frsize;
	return 0;
}

static const struct super_ops gofer_sops = {
    .statfs = gofer_statfs_op,
    .evict = gofer_evict,
};

static int gofer_lookup(struct inode *dir, const char *name, struct inode **out)
{
	const char *names[1] = {name};
	struct gp_walk_ent ent;
	unsigned n = 0;
	int r =
	    (int)WITH_NODE(dir, dn, gofer_walk(&conn, dn, names, 1, &ent, &n));
	if (r) {
		if (n)
			gofer_close(&conn, ent.node);
		return r;
	}
	if (n != 1)
		return -EIO;
	*out = gofer_inode_new(dir->sb, ent.node, &ent.attr);
	return *out ? 0 : -ENOMEM;
}

static int gofer_create_op(struct inode *dir, const char *name, mode_t mode,
			   uid_t uid, gid_t gid, int oflags, struct inode **out)
{
	uint64_t node;
	struct gp_attr a;
	int fd = -1;
	int acc = oflags & O_ACCMODE;
	if (acc == O_ACCMODE)
		acc = O_RDWR;
	int r = (int)WITH_NODE(
	    dir, dn,
	    gofer_create(&conn, dn, name, (uint32_t)(acc | O_EXCL),
			 mode & 07777, uid, gid, &node, &a, &fd));
	if (r)
		return r;
	struct inode *inode = gofer_inode_new(dir->sb, node, &a);
	if (!inode) {
		close(fd);
		return -ENOMEM;
	}
	/* Not yet visible to anyone else: no lock needed. */
	GI(inode)->create_fd = fd;
	GI(inode)->create_acc = acc;
	inode_touch(dir, false, true, true);
	*out = inode;
	return 0;
}

static int gofer_mkdir_op(struct inode *dir, const char *name, mode_t mode,
			  uid_t uid, gid_t gid, struct inode **out)
{
	uint64_t node;
	struct gp_attr a;
	int r = (int)WITH_NODE(
	    dir, dn,
	    gofer_mkdir(&conn, dn, name, mode & 07777, uid, gid, &node, &a));
	if (r)
		return r;
	*out = gofer_inode_new(dir->sb, node, &a);
	inode_lock(dir);
	dir->nlink++;
	inode_unlock(dir);
	inode_touch(dir, false, true, true);
	return *out ? 0 : -ENOMEM;
}

/* FIFOs (mkfifo) and socket nodes (bind of a unix socket) only: devices
 * are not made on the host. */
static int gofer_mknod_op(struct inode *dir, const char *name, mode_t mode,
			  dev_t rdev, uid_t uid, gid_t gid, struct inode **out)
{
	mode_t type = mode & S_IFMT;
	if ((type != S_IFIFO && type != S_IFSOCK) || rdev)
		return -EPERM;
	uint64_t node;
	struct gp_attr a;
	int r =
	    (int)WITH_NODE(dir, dn,
			   gofer_mknod(&conn, dn, name, type | (mode & 07777),
				       uid, gid, &node, &a));
	if (r)
		return r;
	*out = gofer_inode_new(dir->sb, node, &a);
	inode_touch(dir, false, true, true);
	return *out ? 0 : -ENOMEM;
}

static int gofer_symlink_op(struct inode *dir, const char *name,
			    const char *target, uid_t uid, gid_t gid,
			    struct inode **out)
{
	uint64_t node;
	struct gp_attr a;
	int r = (int)WITH_NODE(
	    dir, dn,
	    gofer_symlink(&conn, dn, name, target, uid, gid, &node, &a));
	if (r)
		return r;
	*out = gofer_inode_new(dir->sb, node, &a);
	inode_touch(dir, false, true, true);
	return *out ? 0 : -ENOMEM;
}

static int gofer_link_op(struct inode *dir, const char *name,
			 struct inode *target)
{
	if (target->sb != dir->sb)
		return -EXDEV;
	uint64_t node;
	struct gp_attr a;
	uint64_t dn = gi_node(dir);
	int r = (int)WITH_NODE(target, tn,
			       gofer_link(&conn, dn, name, tn, &node, &a));
	if (r)
		return r;
	/* The new name's node joins the inode: it keeps the file reachable
	 * once the other names are gone. */
	gi_add_node(target, node);
	attr_apply(target, &a);
	inode_touch(dir, false, true, true);
	return 0;
}

static int gofer_unlink_op(struct inode *dir, const char *name,
			   struct inode *victim)
{
	int r = (int)WITH_NODE(dir, dn, gofer_unlink(&conn, dn, name, 0));
	if (r)
		return r;
	inode_lock(victim);
	if (victim->nlink)
		victim->nlink--;
	bool gone = victim->nlink == 0;
	victim->ctime = vfs_now();
	inode_unlock(victim);
	if (gone)
		ino_unhash(GI(victim));
	inode_touch(dir, false, true, true);
	return 0;
}

static int gofer_rmdir_op(struct inode *dir, const char *name,
			  struct inode *victim)
{
	int r = (int)WITH_NODE(dir, dn,
			       gofer_unlink(&conn, dn, name, AT_REMOVEDIR));
	if (r)
		return r;
	inode_lock(victim);
	victim->nlink = 0;
	inode_unlock(victim);
	ino_unhash(GI(victim));
	inode_lock(dir);
	if (dir->nlink > 2)
		dir->nlink--;
	inode_unlock(dir);
	inode_touch(dir, false, true, true);
	return 0;
}

static int gofer_rename_op(struct inode *odir, const char *oname,
			   struct inode *ndir, const char *nname,
			   unsigned flags)
{
	if (odir->sb != ndir->sb)
		return -EXDEV;
	uint64_t on = gi_node(odir), nn = gi_node(ndir);
	int r = gofer_rename(&conn, on, oname, nn, nname, flags);
	if (r)
		return r;
	inode_touch(odir, false, true, true);
	inode_touch(ndir, false, true, true);
	return 0;
}

static long gofer_readlink_op(struct inode *inode, char *buf, size_t cap)
{
	struct goferfs_inode *gi = GI(inode);
	if (!S_ISLNK(inode->mode))
		return -EINVAL;
	inode_lock(inode);
	char *link = gi->link;
	inode_unlock(inode);
	if (!link) {
		char *t = malloc(GP_PATH_MAX + 1);
		if (!t)
			return -ENOMEM;
		long n = WITH_NODE(
		    inode, ln, gofer_readlink(&conn, ln, t, GP_PATH_MAX + 1));
		if (n < 0) {
			free(t);
			return n;
		}
		inode_lock(inode);
		if (!gi->link)
			gi->link = t;
		else
			free(t); /* another reader cached it first */
		link = gi->link;
		inode_unlock(inode);
	}
	size_t n = strlen(link);
	if (n + 1 > cap)
		return -ENAMETOOLONG;
	memcpy(buf, link, n + 1);
	return (long)n;
}

static int gofer_getattr(struct inode *inode)
{
	struct goferfs_inode *gi = GI(inode);
	inode_lock(inode);
	struct gofer_hfd *h = gi->attr;
	if (h)
		hfd_get(h);
	inode_unlock(inode);
	if (!h)
		return 0; /* the cache is current: every change is ours */
	struct stat st;
	if (fstat(h->fd, &st) == 0)
		stat_apply(inode, &st);
	hfd_put(h);
	return 0;
}

static int gofer_setattr_op(struct inode *inode, const struct iattr *ia)
{
	struct gp_setattr_req q = {0};
	if (ia->valid & ATTR_MODE) {
		q.mask |= GP_SET_MODE;
		q.mode = ia->mode & 07777;
	}
	if (ia->valid & ATTR_SIZE) {
		q.mask |= GP_SET_SIZE;
		q.size = ia->size;
	}
	if (ia->valid & ATTR_UID) {
		q.mask |= GP_SET_UID;
		q.uid = ia->uid;
	}
	if (ia->valid & ATTR_GID) {
		q.mask |= GP_SET_GID;
		q.gid = ia->gid;
	}
	if (ia->valid & ATTR_ATIME) {
		q.mask |= GP_SET_ATIME;
		q.atime_sec = ia->atime.tv_sec;
		q.atime_nsec = (uint32_t)ia->atime.tv_nsec;
	}
	if (ia->valid & ATTR_MTIME) {
		q.mask |= GP_SET_MTIME;
		q.mtime_sec = ia->mtime.tv_sec;
		q.mtime_nsec = (uint32_t)ia->mtime.tv_nsec;
	}
	struct gp_attr a;
	int r = (int)WITH_NODE(inode, sn,
			       (q.node = sn, gofer_setattr(&conn, &q, &a)));
	if (r)
		return r;
	attr_apply(inode, &a);
	return 0;
}

static ssize_t gofer_read(struct file *f, struct uio *u, uint64_t *pos)
{
	struct goferfs_file *gf = f->priv;
	return uio_pread_fd(u, gf->h->fd, pos);
}

static ssize_t gofer_write(struct file *f, struct uio *u, uint64_t *pos)
{
	struct goferfs_file *gf = f->priv;
	int fd = gf->h->fd;
	if ((f->flags & O_APPEND) || (u->flags & UIO_APPEND)) {
		struct stat st;
		if (fstat(fd, &st) < 0)
			return -errno;
		*pos = (uint64_t)st.st_size;
	}
	ssize_t r = uio_pwrite_fd(u, fd, pos);
	if (r > 0) {
		struct inode *inode = f->inode;
		struct timespec now = vfs_now();
		inode_lock(inode);
		if (*pos > inode->size)
			inode->size = *pos;
		inode->mtime = inode->ctime = now;
		inode_unlock(inode);
		if (u->flags & UIO_DSYNC)
			fdatasync(fd);
	}
	return r;
}

static int gofer_fsync(struct file *f)
{
	struct goferfs_file *gf = f->priv;
	lock_might_block("fsync");
	return fsync(gf->h->fd) < 0 ? -errno : 0;
}

static int gofer_host_fd(struct file *f)
{
	return ((struct goferfs_file *)f->priv)->h->fd;
}

static void gofer_release(struct file *f)
{
	struct goferfs_file *gf = f->priv;
	struct goferfs_inode *gi = GI(f->inode);
	inode_lock(f->inode);
	struct gofer_hfd *drop = NULL;
	if (gi->attr == gf->h) {
		drop = gi->attr;
		gi->attr = NULL;
	}
	inode_unlock(f->inode);
	hfd_put(drop);
	hfd_put(gf->h);
	free(gf);
}

static const struct file_ops gofer_reg_fops = {
    .read = gofer_read,
    .write = gofer_write,
    .llseek = generic_llseek,
    .fsync = gofer_fsync,
    .host_fd = gofer_host_fd,
    .release = gofer_release,
};

static int gofer_open_op(struct inode *inode, struct file *f)
{
	struct goferfs_inode *gi = GI(inode);
	if (S_ISDIR(inode->mode))
		return 0;
	if (S_ISCHR(inode->mode))
		return chrdev_open(inode, f);
	if (!S_ISREG(inode->mode))
		return -ENXIO;
	int acc = f->flags & O_ACCMODE;
	if (acc == O_ACCMODE)
		acc = O_RDWR;
	struct goferfs_file *gf = malloc(sizeof(*gf));
	if (!gf)
		return -ENOMEM;
	int fd = -1, stale = -1;
	inode_lock(inode);
	if (gi->create_fd >= 0 && gi->create_acc == acc) {
		fd = gi->create_fd;
		gi->create_fd = -1;
	} else if (gi->create_fd >= 0) {
		stale = gi->create_fd;
		gi->create_fd = -1;
	}
	inode_unlock(inode);
	if (stale >= 0)
		close(stale);
	if (fd < 0 && acc == O_RDONLY)
		fd = ro_take(gi); /* cached: no round trip to the gofer */
	if (fd < 0) {
		/* O_APPEND and O_TRUNC are the VFS's job; the host fd only
		 * carries the access mode. */
		struct gp_attr a;
		int r = (int)WITH_NODE(inode, on,
				       gofer_open(&conn, on,
						  (uint32_t)(acc | O_LARGEFILE),
						  &fd, &a));
		if (r) {
			free(gf);
			return r;
		}
		attr_apply(inode, &a);
		if (acc == O_RDONLY)
			ro_keep(gi, fd);
	}
	gf->h = hfd_new(fd);
	if (!gf->h) {
		close(fd);
		free(gf);
		return -ENOMEM;
	}
	hfd_get(gf->h);
	inode_lock(inode);
	struct gofer_hfd *old = gi->attr;
	gi->attr = gf->h;
	inode_unlock(inode);
	hfd_put(old);
	f->priv = gf;
	f->fops = &gofer_reg_fops;
	return 0;
}

struct readdir_arg {
	dir_emit_fn emit;
	void *arg;
	uint64_t cookie; /* after the last entry taken */
	int stop;	 /* emit's stop (> 0) or error (< 0) */
};

/* Runs with the gofer connection locked: emit must only fill the caller's
 * sentry buffer (getdents copies it out after). */
static int readdir_one(void *arg, const struct gofer_dirent *d)
{
	struct readdir_arg *ra = arg;
	int r = ra->emit(ra->arg, d->name, d->namelen, d->ino, d->type,
			 d->next_cookie);
	if (r)
		ra->stop = r;
	else
		ra->cookie = d->next_cookie;
	return r;
}

/* The gofer's cookies are the host directory's offsets, which resume a
 * host readdir exactly. */
static int gofer_readdir(struct inode *dir, uint64_t cookie, dir_emit_fn emit,
			 void *arg)
{
	struct readdir_arg ra = {.emit = emit, .arg = arg, .cookie = cookie};
	for (;;) {
		int r = gofer_getdents(&conn, gi_node(dir), ra.cookie,
				       readdir_one, &ra);
		if (ra.stop)
			return ra.stop < 0 ? ra.stop : 0;
		if (r <= 0)
			return r;
	}
}

static const struct inode_ops gofer_iops = {
    .lookup = gofer_lookup,
    .create = gofer_create_op,
    .mkdir = gofer_mkdir_op,
    .mknod = gofer_mknod_op,
    .symlink = gofer_symlink_op,
    .link = gofer_link_op,
    .unlink = gofer_unlink_op,
    .rmdir = gofer_rmdir_op,
    .rename = gofer_rename_op,
    .readlink = gofer_readlink_op,
    .getattr = gofer_getattr,
    .setattr = gofer_setattr_op,
    .open = gofer_open_op,
    .readdir = gofer_readdir,
};

int goferfs_mount(unsigned export_idx, bool readonly, struct super_block **sbp,
		  struct dentry **rootp)
{
	if (!conn_ready)
		return -ENOTCONN;
	uint64_t node;
	struct gp_attr a;
	bool ro = false;
	int r = gofer_attach(&conn, export_idx, &node, &a, &ro);
	if (r)
		return r;
	struct super_block *sb = calloc(1, sizeof(*sb));
	if (!sb) {
		gofer_close(&conn, node);
		return -ENOMEM;
	}
	sb->fstype = "9p";
	sb->ops = &gofer_sops;
	sb->dev = atomic_fetch_add(&gofer_devs, 1);
	sb->flags = (readonly || ro) ? SB_RDONLY : 0;
	sb->priv = (void *)(uintptr_t)node;
	struct inode *root = gofer_inode_new(sb, node, &a);
	if (!root)
		return -ENOMEM;
	struct dentry *d = dentry_new(NULL, "/", 1, root);
	inode_put(root);
	if (!d)
		return -ENOMEM;
	*sbp = sb;
	*rootp = d;
	return 0;
}

/* A bind mount: a directory or file the gofer exports. */
static int goferfs_get_sb(const struct bh_mount *bm, struct super_block **sb,
			  struct dentry **root, const char **source)
{
	(void)source;
	return goferfs_mount((unsigned)bm->export_idx, bm->readonly, sb, root);
}

const struct fs_type goferfs_bind_type = {
    .name = "bind",
    .type = BH_MOUNT_BIND,
    .get_sb = goferfs_get_sb,
};
