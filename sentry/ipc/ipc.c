/* System V IPC ids, keys and permissions (Linux's ipc/util.c). */
#include "sentry/ipc/ipc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sentry/kernel/cred.h"
#include "sentry/kernel/lockorder.h"
#include "sentry/kernel/task.h"
#include "sentry/vfs/fs.h"

#define CAP_IPC_OWNER 15
#define CAP_SYS_ADMIN 21

void ipc_ids_init(struct ipc_ids *ids, const char *name)
{
	memset(ids, 0, sizeof(*ids));
	kmutex_init(&ids->lock, name, LR_IPC);
	ids->max_idx = -1;
	htable_init(&ids->by_key, 4);
}

static uint64_t key_hash(key_t key)
{
	return (uint64_t)(uint32_t)key * 0x9e3779b97f4a7c15ull;
}

struct ipc_obj *ipc_find_key(struct ipc_ids *ids, key_t key)
{
	uint64_t h = key_hash(key);
	for (struct hnode *n = htable_first(&ids->by_key, h); n;
	     n = htable_next(&ids->by_key, n)) {
		struct ipc_obj *o = htable_entry(n, struct ipc_obj, hn);
		if (o->key == key)
			return o;
	}
	return NULL;
}

struct ipc_obj *ipc_find_idx(struct ipc_ids *ids, int idx)
{
	if (!ids->entries || idx < 0 || idx >= IPC_IDX_MAX)
		return NULL;
	return ids->entries[idx];
}

struct ipc_obj *ipc_find_id(struct ipc_ids *ids, int id)
{
	if (id < 0)
		return NULL;
	struct ipc_obj *o = ipc_find_idx(ids, id % IPC_IDX_MAX);
	return o && o->id == id ? o : NULL;
}

int ipc_add(struct ipc_ids *ids, struct ipc_obj *o, struct task *t, int limit)
{
	if (ids->in_use >= limit)
		return -ENOSPC;
	if (!ids->entries &&
	    !(ids->entries = calloc(IPC_IDX_MAX, sizeof(*ids->entries))))
		return -ENOMEM;
	int idx = 0;
	while (idx < IPC_IDX_MAX && ids->entries[idx])
		idx++;
	if (idx >= IPC_IDX_MAX)
		return -ENOSPC;
	/* A new sequence number for each object: an old id never names a
	 * new object of the same index (Linux's ipc_idr_alloc). */
	ids->seq = (ids->seq + 1) % (0x7fffffff / IPC_IDX_MAX);
	o->id = (int)(ids->seq * IPC_IDX_MAX + (unsigned)idx);
	o->uid = o->cuid = t->cred.euid;
	o->gid = o->cgid = t->cred.egid;
	o->deleted = false;
	ids->entries[idx] = o;
	ids->in_use++;
	if (idx > ids->max_idx)
		ids->max_idx = idx;
	if (o->key != IPC_PRIVATE)
		htable_insert(&ids->by_key, &o->hn, key_hash(o->key));
	return o->id;
}

void ipc_remove(struct ipc_ids *ids, struct ipc_obj *o)
{
	int idx = o->id % IPC_IDX_MAX;
	ids->entries[idx] = NULL;
	ids->in_use--;
	while (ids->max_idx >= 0 && !ids->entries[ids->max_idx])
		ids->max_idx--;
	if (o->key != IPC_PRIVATE)
		htable_remove(&ids->by_key, &o->hn);
	o->deleted = true;
}

int ipc_perms(struct task *t, const struct ipc_obj *o, int flag)
{
	const struct cred *c = &t->cred;
	int requested = (flag >> 6) | (flag >> 3) | flag;
	int granted = (int)o->mode;
	if (c->euid == o->cuid || c->euid == o->uid)
		granted >>= 6;
	else if (cred_in_group(t, o->cgid) || cred_in_group(t, o->gid))
		granted >>= 3;
	if ((requested & ~granted & 0007) && !cred_capable(c, CAP_IPC_OWNER))
		return -EACCES;
	return 0;
}

int ipc_owner_check(struct task *t, const struct ipc_obj *o)
{
	const struct cred *c = &t->cred;
	if (c->euid == o->cuid || c->euid == o->uid ||
	    cred_capable(c, CAP_SYS_ADMIN))
		return 0;
	return -EPERM;
}

void ipc_fill_perm(const struct ipc_obj *o, struct ipc_perm *p)
{
	memset(p, 0, sizeof(*p));
	p->__key = o->key;
	p->uid = o->uid;
	p->gid = o->gid;
	p->cuid = o->cuid;
	p->cgid = o->cgid;
	p->mode = (unsigned short)o->mode;
	p->__seq = (unsigned short)(o->id / IPC_IDX_MAX);
}

void ipc_set_perm(struct ipc_obj *o, const struct ipc_perm *p)
{
	o->uid = p->uid;
	o->gid = p->gid;
	o->mode = (o->mode & ~0777u) | (p->mode & 0777u);
}
