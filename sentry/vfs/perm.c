/* Permission checks (Linux generic_permission) against the task's
 * filesystem credentials. */
#include <linux/capability.h>
#include <errno.h>

#include "sentry/kernel/task.h"
#include "sentry/vfs/fs.h"

uid_t task_fsuid(struct task *t)
{
	return t && t->proc ? t->proc->cred.fsuid : 0;
}

gid_t task_fsgid(struct task *t)
{
	return t && t->proc ? t->proc->cred.fsgid : 0;
}

bool cred_in_group(struct task *t, gid_t gid)
{
	if (!t || !t->proc)
		return gid == 0;
	const struct cred *c = &t->proc->cred;
	if (c->fsgid == gid)
		return true;
	uint32_t n = c->ngroups < 32 ? c->ngroups : 32;
	for (uint32_t i = 0; i < n; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

static uint64_t task_caps(struct task *t)
{
	return t && t->proc ? t->proc->cred.cap_eff : ~0ull;
}

/* Mode bits first, then the capabilities that override them, as Linux's
 * generic_permission. */
int inode_permission(struct task *t, struct inode *inode, int mask)
{
	mode_t mode = inode->mode;
	uid_t uid = task_fsuid(t);
	unsigned bits;
	if (uid == inode->uid)
		bits = (mode >> 6) & 7;
	else if (cred_in_group(t, inode->gid))
		bits = (mode >> 3) & 7;
	else
		bits = mode & 7;
	int want = mask & (MAY_READ | MAY_WRITE | MAY_EXEC);
	if (!(want & ~bits))
		return 0;
	uint64_t caps = task_caps(t);
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
	return task_fsuid(t) == inode->uid ||
	       (task_caps(t) & (1ull << CAP_FOWNER));
}

int may_delete(struct task *t, struct inode *dir, struct inode *victim)
{
	int r = inode_permission(t, dir, MAY_WRITE | MAY_EXEC);
	if (r)
		return r;
	if ((dir->mode & S_ISVTX) && task_fsuid(t) != 0 &&
	    task_fsuid(t) != victim->uid && task_fsuid(t) != dir->uid)
		return -EPERM;
	return 0;
}
