/* Boot: the mount tree from config.json. The root is gofer export 0; then
 * each config mount in file order. A mountpoint missing from the rootfs is
 * created when the rootfs is writable; otherwise a synthetic empty
 * directory (or file) is pinned into the dentry cache of its parent, as
 * runsc does, so the path resolves without touching the container's files.
 * /dev always gets the device nodes. The root's source is "none", as in
 * runsc: tools like df skip a "rootfs" entry. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkhead/log.h"
#include "sentry/fs/dev/devfs.h"
#include "sentry/fs/devpts/devpts.h"
#include "sentry/fs/gofer/goferfs.h"
#include "sentry/fs/proc/procfs.h"
#include "sentry/fs/tmpfs/tmpfs.h"
#include "sentry/vfs/fs.h"
#include "sentry/vfs/fstype.h"

static struct super_block *synth_sb;
static struct dentry *synth_root;

/* An empty directory (or file) pinned under parent as name. */
static int synth_child(const struct path *parent, const char *name, bool dir,
		       struct path *out)
{
	int r;
	if (!synth_sb) {
		r = tmpfs_new(4096, 0755, 0, 0, &synth_sb, &synth_root);
		if (r)
			return r;
	}
	struct inode *inode;
	static unsigned seq;
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "m%u", seq++);
	if (dir) {
		r = tmpfs_mkdir_k(synth_root->inode, tmp, 0755, &inode);
	} else {
		r = tmpfs_mknod_k(synth_root->inode, tmp, S_IFREG | 0644, 0);
		if (!r)
			r = synth_root->inode->iops->lookup(synth_root->inode,
							    tmp, &inode);
	}
	if (r)
		return r;
	struct dentry *d =
	    dentry_new(parent->dentry, name, strlen(name), inode);
	inode_put(inode);
	if (!d)
		return -ENOMEM;
	/* Never released: the dentry must outlive every cache prune. */
	dentry_get(d);
	*out = (struct path){parent->mnt, d};
	return 0;
}

/* Resolve dest (absolute, normalised), creating what is missing. */
static int make_mountpoint(const char *dest, bool dir, struct path *out)
{
	struct mount *rm = mount_root();
	struct path cur = {rm, rm->root};
	path_get(&cur);
	char comp[VFS_NAME_MAX + 1];
	const char *s = dest;
	while (*s == '/')
		s++;
	while (*s) {
		size_t len = strcspn(s, "/");
		if (len > VFS_NAME_MAX) {
			path_put(&cur);
			return -ENAMETOOLONG;
		}
		memcpy(comp, s, len);
		comp[len] = 0;
		s += len;
		while (*s == '/')
			s++;
		bool last = !*s;
		struct path next;
		int r = vfs_lookup_one(NULL, &cur, comp, &next);
		if (r == 0 && S_ISLNK(next.dentry->inode->mode)) {
			/* Resolve the link within the container's root. */
			path_put(&next);
			char *prefix = strndup(dest, (size_t)(s - dest));
			if (!prefix) {
				path_put(&cur);
				return -ENOMEM;
			}
			r = vfs_lookup(NULL, AT_FDCWD, prefix, LOOKUP_FOLLOW,
				       &next);
			free(prefix);
		}
		if (r == -ENOENT) {
			struct inode *di = cur.dentry->inode;
			bool want_dir = dir || !last;
			struct inode *ni = NULL;
			r = -EROFS;
			if (!mnt_want_write(&cur) && di->iops) {
				if (want_dir && di->iops->mkdir)
					r = di->iops->mkdir(di, comp, 0755, 0,
							    0, &ni);
				else if (!want_dir && di->iops->create)
					r = di->iops->create(di, comp, 0644, 0,
							     0, O_RDONLY, &ni);
			}
			if (r == 0) {
				struct dentry *d =
				    dentry_new(cur.dentry, comp, len, ni);
				inode_put(ni);
				r = d ? 0 : -ENOMEM;
				if (d)
					next = (struct path){cur.mnt, d};
			} else {
				r = synth_child(&cur, comp, want_dir, &next);
			}
		}
		path_put(&cur);
		if (r)
			return r;
		cur = next;
	}
	*out = cur;
	return 0;
}

static int mount_at(const char *dest, struct super_block *sb,
		    struct dentry *root, const char *source, bool ro)
{
	struct path mp;
	int r = make_mountpoint(dest, S_ISDIR(root->inode->mode), &mp);
	if (r)
		return r;
	struct mount *m = mount_new(sb, root, source, ro);
	if (!m) {
		path_put(&mp);
		return -ENOMEM;
	}
	mount_attach(m, &mp);
	path_put(&mp);
	return 0;
}

static int mount_one(const struct bh_mount *bm, bool *have_dev)
{
	struct super_block *sb;
	struct dentry *root;
	int r;
	const char *src = bm->source ? bm->source : bm->type_name;
	const struct fs_type *ft = fs_type_find(bm->type);
	if (ft) {
		const char *s = NULL;
		r = ft->get_sb(bm, &sb, &root, &s);
		if (s)
			src = s;
		if (!r && bm->type == BH_MOUNT_TMPFS &&
		    strcmp(bm->destination, "/dev") == 0) {
			r = devfs_populate(root->inode);
			*have_dev = true;
		}
	} else if (bm->type == BH_MOUNT_OTHER) {
		bh_warn("mount %s: type %s not supported, skipped",
			bm->destination, bm->type_name);
		return 0;
	} else {
		/* sysfs, mqueue, cgroup: not implemented yet. An
		 * empty read-only directory keeps the path valid for
		 * programs that only look. */
		bh_info("mount %s (%s): not supported, empty read-only dir",
			bm->destination, bm->type_name);
		r = tmpfs_new(4096, 0555, 0, 0, &sb, &root);
		if (!r)
			sb->flags |= SB_RDONLY;
	}
	if (r)
		return r;
	return mount_at(bm->destination, sb, root, src, bm->readonly);
}

/* The filesystems and devices this sentry has (Linux's initcalls). */
static int vfs_register_all(void)
{
	static const struct fs_type *const all[] = {
	    &procfs_type,
	    &tmpfs_type,
	    &goferfs_bind_type,
	    &devpts_type,
	};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		int r = fs_type_register(all[i]);
		if (r && r != -EBUSY)
			return r;
	}
	int r = devfs_init();
	if (!r)
		r = devpts_init();
	return r == -EBUSY ? 0 : r;
}

/* /dev/pts when the config mounts none there: runc's usual options. */
static int mount_default_devpts(void)
{
	struct path p;
	int r = vfs_lookup(NULL, AT_FDCWD, "/dev/pts", LOOKUP_FOLLOW, &p);
	if (r == 0) {
		bool mounted =
		    dentry_mounted(p.dentry) || p.dentry == p.mnt->root;
		bool devpts =
		    p.mnt->sb->fstype && !strcmp(p.mnt->sb->fstype, "devpts");
		path_put(&p);
		if (mounted && devpts)
			return 0;
	}
	struct bh_mount bm = {
	    .destination = "/dev/pts",
	    .source = "devpts",
	    .type = BH_MOUNT_DEVPTS,
	    .type_name = "devpts",
	    .pts_mode = 0620,
	    .pts_ptmxmode = 0666,
	    .pts_uid = -1,
	    .pts_gid = 5,
	};
	bool have_dev = true;
	return mount_one(&bm, &have_dev);
}

int vfs_init(const struct bh_config *cfg, int gofer_fd, char *err,
	     size_t errlen)
{
	int r = vfs_register_all();
	if (r) {
		snprintf(err, errlen, "filesystem types: %s", strerror(-r));
		return r;
	}
	r = goferfs_init(gofer_fd);
	if (r) {
		snprintf(err, errlen, "gofer connection: %s", strerror(-r));
		return r;
	}
	struct super_block *sb;
	struct dentry *root;
	r = goferfs_mount(0, cfg->root_readonly, &sb, &root);
	if (r) {
		snprintf(err, errlen, "attach rootfs through the gofer: %s",
			 strerror(-r));
		return r;
	}
	if (!S_ISDIR(root->inode->mode)) {
		snprintf(err, errlen, "rootfs is not a directory");
		return -ENOTDIR;
	}
	struct mount *m = mount_new(sb, root, "none", cfg->root_readonly);
	if (!m) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	mount_set_root(m);

	/* Without a /dev in the config, ours goes first so that later
	 * mounts under /dev (shm, pts) land on it. */
	bool have_dev = false;
	for (size_t i = 0; i < cfg->nmounts; i++)
		if (strcmp(cfg->mounts[i].destination, "/dev") == 0)
			have_dev = true;
	if (!have_dev) {
		r = tmpfs_new(0, 0755, 0, 0, &sb, &root);
		if (!r)
			r = devfs_populate(root->inode);
		if (!r)
			r = mount_at("/dev", sb, root, "tmpfs", false);
		if (r) {
			snprintf(err, errlen, "mount /dev: %s", strerror(-r));
			return r;
		}
	}
	for (size_t i = 0; i < cfg->nmounts; i++) {
		const struct bh_mount *bm = &cfg->mounts[i];
		r = mount_one(bm, &have_dev);
		if (r) {
			snprintf(err, errlen, "mount %s (%s): %s",
				 bm->destination, bm->type_name, strerror(-r));
			return r;
		}
	}
	r = mount_default_devpts();
	if (r) {
		snprintf(err, errlen, "mount /dev/pts (devpts): %s",
			 strerror(-r));
		return r;
	}
	return 0;
}
