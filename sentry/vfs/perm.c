/* Permission checks (Linux generic_permission) against the task's
 * filesystem credentials: its own, which only it changes, so they are read
 * without a lock; the inode's mode and owner are read under its lock. */
#include <linux/capability.h>
#include <errno.h>

#include "sentry/kernel/task.h"
#include "sentry/vfs/fs.h"

uid_t task_fsuid(struct task *t)
{
	return t ? t->cred.fsuid : 0;
}

gid_t task_fsgid(struct task *t)
{
	return t ? t->cred.fsgid : 0;
}

bool cred_in_group(struct task *t, gid_t gid)
{
	if (!t)
		return gid == 0;
	const struct cred *c = &t->cred;
	if (c->fsgid == gid)
		return true;
	uint32_t n =
	    c->ngroups < CRED_NGROUPS_MAX ? c->ngroups : CRED_NGROUPS_MAX;
	for (uint32_t i = 0; i < n; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

static uint64_t task_caps(struct task *t)
{
	return t ? t->cred.cap_eff : ~0ull;
}

static bool cred_has_group(const struct cred *c, gid_t gid)
{
	if (c->fsgid == gid)
		return true;
	uint32_t n =
	    c->ngroups < CRED_NGROUPS_MAX ? c->ngroups : CRED_NGROUPS_MAX;
	for (uint32_t i = 0; i < n; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

int inode_permission(struct task *t, struct inode *inode, int mask)
{
	/* Kernel context (boot): everything. */
	static const struct cred kcred = {.cap_eff = ~0ull};
	return inode_permission_cred(t ? &t->cred : &kcred, inode, mask);
}

/* Mode bits first, then the capabilities that override them, as Linux's
 * generic_permission. */
int inode_permission_cred(const struct cred *c, struct inode *inode, int mask)
{
	struct inode_attr a;
	inode_get_attr(inode, &a);
	mode_t mode = a.mode;
	unsigned bits;
	if (c->fsuid == a.uid)
		bits = (mode >> 6) & 7;
	else if (cred_has_group(c, a.gid))
		bits = (mode >> 3) & 7;
	else
		bits = mode & 7;
	int want = mask & (MAY_READ | MAY_WRITE | MAY_EXEC);
	if (!(want & ~bits))
		return 0;
	uint64_t caps = c->cap_eff;
	if (caps & (1ull << CAP_DAC_OVERRIDE)) {
		/* Exec of a non-directory still needs some x bit. */
		if (!(mask & MAY_EXEC) || S_ISDIR(mode) || (mode & 0111))
			return 0;
	}
	if ((caps & (1ull << CAP_DAC_READ_SEARCH)) && !(mask & MAY_WRITE) &&
	    (!(mask & MAY_EXEC) || S_ISDIR(mode)))
		return 0;
	return -EACCES;
}

bool inode_owner_or_root(struct task *t, struct inode *inode)
{
	struct inode_attr a;
	inode_get_attr(inode, &a);
	return task_fsuid(t) == a.uid || (task_caps(t) & (1ull << CAP_FOWNER));
}

int may_delete(struct task *t, struct inode *dir, struct inode *victim)
{
	int r = inode_permission(t, dir, MAY_WRITE | MAY_EXEC);
	if (r)
		return r;
	struct inode_attr d, v;
	inode_get_attr(dir, &d);
	inode_get_attr(victim, &v);
	if ((d.mode & S_ISVTX) && task_fsuid(t) != 0 &&
	    task_fsuid(t) != v.uid && task_fsuid(t) != d.uid)
		return -EPERM;
	return 0;
}
