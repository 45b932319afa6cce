/* System V IPC, the common part (Linux's ipc/util.c): the id registry of
 * one kind of object (message queues, semaphore sets), keys, permissions.
 * One IPC namespace per sandbox (the guest cannot unshare another yet).
 *
 * Locking: each kind has one spin lock (LR_IPC) over its registry and the
 * state of all its objects; nothing guest-facing is copied under it (data
 * is copied in before, out after), and waiters sleep with no lock held, on
 * the object's wait queue, rechecking under the lock when woken. */
#ifndef BULKHEAD_IPC_H
#define BULKHEAD_IPC_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/types.h>

#include "bulkhead/htable.h"
#include "sentry/kernel/lock.h"

struct task;

#define IPC_IDX_MAX 32768 /* Linux's IPCMNI: id = seq << 15 | index */

struct ipc_obj {
	int id;
	key_t key;
	uint32_t uid, gid, cuid, cgid;
	uint32_t mode;	 /* low 9 bits: permissions */
	bool deleted;	 /* removed: waiters get EIDRM */
	struct hnode hn; /* in ipc_ids.by_key, unless IPC_PRIVATE */
};

struct ipc_ids {
	struct kmutex lock;
	int in_use;		  /* lock */
	int max_idx;		  /* lock: highest index in use, -1 none */
	unsigned seq;		  /* lock */
	struct ipc_obj **entries; /* lock: IPC_IDX_MAX slots, lazily */
	struct htable by_key;	  /* lock */
};

void ipc_ids_init(struct ipc_ids *ids, const char *name);
/* Under ids->lock: the object with key / id, or NULL. */
struct ipc_obj *ipc_find_key(struct ipc_ids *ids, key_t key);
struct ipc_obj *ipc_find_id(struct ipc_ids *ids, int id);
struct ipc_obj *ipc_find_idx(struct ipc_ids *ids, int idx);
/* Under ids->lock: register o (its key and mode set) as t's, up to limit
 * objects: its id, or -ENOSPC / -ENOMEM. */
int ipc_add(struct ipc_ids *ids, struct ipc_obj *o, struct task *t, int limit);
/* Under ids->lock: take o out (marks it deleted). */
void ipc_remove(struct ipc_ids *ids, struct ipc_obj *o);
/* Linux's ipcperms: may t access o for flag's S_IRUGO / S_IWUGO bits?
 * 0 or -EACCES. */
int ipc_perms(struct task *t, const struct ipc_obj *o, int flag);
/* IPC_SET / IPC_RMID: the owner, the creator or CAP_SYS_ADMIN; 0 or
 * -EPERM. */
int ipc_owner_check(struct task *t, const struct ipc_obj *o);
/* struct ipc_perm as the guest sees it. */
void ipc_fill_perm(const struct ipc_obj *o, struct ipc_perm *p);
/* IPC_SET's fields from p: uid, gid and the mode's low 9 bits. */
void ipc_set_perm(struct ipc_obj *o, const struct ipc_perm *p);

#endif
