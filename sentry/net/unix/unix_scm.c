/* AF_UNIX control messages and the collector of in-flight cycles (Linux's
 * net/core/scm.c, net/unix/scm.c and net/unix/garbage.c).
 *
 * SCM_RIGHTS: the sender's files travel as references in the message; the
 * receiver installs them in its own fd table. A socket whose file is in
 * flight may be unreachable from every fd table (a socket sent over
 * itself, two sockets sent to each other, then closed): unix_gc finds
 * them as Linux's mark and sweep does. Candidates are sockets whose every
 * file reference is an in-flight one; a candidate referenced from outside
 * the candidates (its count of in-flight references not all from candidate
 * queues) is reachable, and so is everything in its queue, transitively;
 * the rest is garbage, and freeing their queues breaks the cycles. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>

#include "sentry/kernel/pid.h"
#include "sentry/kernel/task.h"
#include "sentry/net/unix/unix.h"
#include "sentry/syscalls/sys_file.h"

struct kmutex unix_gc_lock = KMUTEX_INITIALIZER("unix_gc", LR_UNIX_GC);
/* unix_gc_lock: every unix socket, files in flight (all, and sockets). */
static struct list_head all_socks = LIST_HEAD_INIT(all_socks);
static long inflight_files;
static _Atomic long inflight_socks;
/* inflight_socks when the collector last ran: it runs again from a send
 * once UNIX_GC_BATCH more are in flight (amortized: a pass is linear in
 * the number of sockets), as Linux's sendmsg does past a threshold. */
static _Atomic long gc_last;
#define UNIX_GC_BATCH	 256
#define UNIX_GC_RELEASES 64
static _Atomic long releases_since_gc;

struct list_head *unix_all_socks(void)
{
	return &all_socks;
}

void unix_gc_register(struct unix_sock *u)
{
	kmutex_lock(&unix_gc_lock);
	list_add_tail(&u->all_node, &all_socks);
	kmutex_unlock(&unix_gc_lock);
}

void unix_gc_unregister(struct unix_sock *u)
{
	kmutex_lock(&unix_gc_lock);
	if (u->all_node.next) {
		list_del(&u->all_node);
		u->all_node.next = NULL;
	}
	kmutex_unlock(&unix_gc_lock);
}

static bool over_limit(struct task *t)
{
	kmutex_lock(&unix_gc_lock);
	long n = inflight_files;
	kmutex_unlock(&unix_gc_lock);
	if (n >= UNIX_INFLIGHT_LIMIT)
		return true; /* the sentry's own bound, whatever the caps */
	if ((rlim_t)n <= process_rlimit(t->proc, RLIMIT_NOFILE))
		return false;
	return !cred_capable(&t->cred, CAP_SYS_RESOURCE) &&
	       !cred_capable(&t->cred, CAP_SYS_ADMIN);
}

bool unix_too_many_fds(struct task *t)
{
	if (atomic_load(&inflight_socks) - atomic_load(&gc_last) >=
	    UNIX_GC_BATCH)
		unix_gc();
	if (!over_limit(t))
		return false;
	/* Garbage may be what holds the count up. */
	unix_gc();
	return over_limit(t);
}

/* Linux's scm_check_creds: a process may claim only its own ids. */
static int check_creds(struct task *t, const struct ucred *uc)
{
	const struct cred *c = &t->cred;
	bool pid_ok = uc->pid == t->proc->pid || cred_capable(c, CAP_SYS_ADMIN);
	bool uid_ok = uc->uid == c->uid || uc->uid == c->euid ||
		      uc->uid == c->suid || cred_capable(c, CAP_SETUID);
	bool gid_ok = uc->gid == c->gid || uc->gid == c->egid ||
		      uc->gid == c->sgid || cred_capable(c, CAP_SETGID);
	if (!pid_ok || !uid_ok || !gid_ok)
		return -EPERM;
	if (uc->pid != t->proc->pid) {
		kmutex_lock(&tasklist_lock);
		bool there = pid_process(uc->pid) != NULL;
		kmutex_unlock(&tasklist_lock);
		if (!there)
			return -ESRCH;
	}
	return 0;
}

int unix_scm_parse(struct task *t, struct unix_sock *u, struct sock_msg *m,
		   struct unix_scm *scm)
{
	(void)u;
	memset(scm, 0, sizeof(*scm));
	/* As Linux: every message carries its sender's credentials (the
	 * real ids), unless it names others. */
	scm->has_cred = true;
	scm->cred.pid = t->proc->pid;
	scm->cred.uid = t->cred.uid;
	scm->cred.gid = t->cred.gid;
	if (!m->controllen)
		return 0;
	struct msghdr h = sock_msg_hdr(m);
	int r = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(&h, c)) {
		size_t off = (size_t)((char *)c - (char *)m->control);
		/* CMSG_OK */
		if (c->cmsg_len < sizeof(struct cmsghdr) ||
		    c->cmsg_len > m->controllen - off) {
			r = -EINVAL;
			goto fail;
		}
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		if (c->cmsg_type == SCM_RIGHTS) {
			size_t num = (c->cmsg_len - sizeof(struct cmsghdr)) /
				     sizeof(int);
			if (num == 0)
				continue;
			if (num > UNIX_SCM_MAX_FD ||
			    scm->nfp + num > UNIX_SCM_MAX_FD) {
				r = -EINVAL;
				goto fail;
			}
			struct file **nf =
			    realloc(scm->fps, (scm->nfp + num) * sizeof(*nf));
			if (!nf) {
				r = -ENOMEM;
				goto fail;
			}
			scm->fps = nf;
			const int *fds = (const int *)CMSG_DATA(c);
			for (size_t i = 0; i < num; i++) {
				int fd;
				memcpy(&fd, fds + i, sizeof(fd));
				struct file *f = fget(t, fd);
				if (!f) {
					r = -EBADF;
					goto fail;
				}
				scm->fps[scm->nfp++] = f;
			}
		} else if (c->cmsg_type == SCM_CREDENTIALS) {
			if (c->cmsg_len != CMSG_LEN(sizeof(struct ucred))) {
				r = -EINVAL;
				goto fail;
			}
			struct ucred uc;
			memcpy(&uc, CMSG_DATA(c), sizeof(uc));
			r = check_creds(t, &uc);
			if (r)
				goto fail;
			scm->cred.pid = uc.pid;
			scm->cred.uid = uc.uid;
			scm->cred.gid = uc.gid;
		} else {
			r = -EINVAL;
			goto fail;
		}
	}
	if (scm->nfp && unix_too_many_fds(t)) {
		r = -ETOOMANYREFS;
		goto fail;
	}
	return 0;
fail:
	unix_scm_destroy(scm, false);
	return r;
}

void unix_scm_inflight(struct unix_scm *scm)
{
	if (!scm->nfp)
		return;
	kmutex_lock(&unix_gc_lock);
	for (int i = 0; i < scm->nfp; i++) {
		struct unix_sock *v = unix_sock_of_file(scm->fps[i]);
		if (v) {
			v->inflight++;
			atomic_fetch_add(&inflight_socks, 1);
		}
	}
	inflight_files += scm->nfp;
	kmutex_unlock(&unix_gc_lock);
}

/* The files of scm leave the flight (received, or dropped). */
static void not_inflight(struct unix_scm *scm)
{
	kmutex_lock(&unix_gc_lock);
	for (int i = 0; i < scm->nfp; i++) {
		struct unix_sock *v = unix_sock_of_file(scm->fps[i]);
		if (v) {
			v->inflight--;
			atomic_fetch_sub(&inflight_socks, 1);
		}
	}
	inflight_files -= scm->nfp;
	kmutex_unlock(&unix_gc_lock);
}

void unix_scm_destroy(struct unix_scm *scm, bool inflight)
{
	if (scm->nfp && inflight)
		not_inflight(scm);
	for (int i = 0; i < scm->nfp; i++)
		file_put(scm->fps[i]);
	free(scm->fps);
	scm->fps = NULL;
	scm->nfp = 0;
}

void unix_scm_recv(struct task *t, struct unix_sock *u, struct unix_scm *scm,
		   struct sock_msg *m, bool peek, bool creds)
{
	if (creds && atomic_load(&u->passcred) && m->controllen) {
		struct ucred uc = {.pid = 0, .uid = 65534, .gid = 65534};
		if (scm->has_cred) {
			uc.pid = scm->cred.pid;
			uc.uid = scm->cred.uid;
			uc.gid = scm->cred.gid;
		}
		sock_put_cmsg(m, SOL_SOCKET, SCM_CREDENTIALS, &uc, sizeof(uc));
	}
	if (!scm->nfp)
		return;
	int n = scm->nfp;
	/* Linux's scm_detach_fds: as many as the buffer takes. */
	size_t room = m->controllen - m->controlused;
	int fdmax = room > sizeof(struct cmsghdr)
			? (int)((room - sizeof(struct cmsghdr)) / sizeof(int))
			: 0;
	if (fdmax > n)
		fdmax = n;
	bool cloexec = m->flags & MSG_CMSG_CLOEXEC;
	int fds[UNIX_SCM_MAX_FD];
	int i = 0;
	for (; i < fdmax; i++) {
		int fd = fd_alloc(t->files, 0, scm->fps[i], cloexec);
		if (fd < 0)
			break;
		fds[i] = fd;
	}
	if (i > 0)
		sock_put_cmsg(m, SOL_SOCKET, SCM_RIGHTS, fds,
			      (size_t)i * sizeof(int));
	if (i < n)
		m->out_flags |= MSG_CTRUNC;
	if (peek)
		return; /* the message keeps its files; we installed copies */
	/* The message's references go: the installed files hold their own,
	 * the ones that did not fit are closed. */
	unix_scm_destroy(scm, true);
}

/* ---- the collector ---- */

static __thread bool in_gc;

/* Each unix socket in the files of u's queue (and its embryos' queues):
 * fn(child) under unix_gc_lock and u's lock. */
static void scan_queue(struct list_head *rq,
		       void (*fn)(struct unix_sock *v, void *arg), void *arg)
{
	struct list_head *p;
	list_for_each(p, rq)
	{
		struct unix_skb *skb = list_entry(p, struct unix_skb, node);
		for (int i = 0; i < skb->scm.nfp; i++) {
			struct unix_sock *v =
			    unix_sock_of_file(skb->scm.fps[i]);
			if (v && v->gc_candidate)
				fn(v, arg);
		}
	}
}

static void scan_children(struct unix_sock *u,
			  void (*fn)(struct unix_sock *v, void *arg), void *arg)
{
	kmutex_lock(&u->lock);
	scan_queue(&u->rq, fn, arg);
	struct list_head *p;
	list_for_each(p, &u->pending)
	{
		struct unix_sock *e =
		    list_entry(p, struct unix_sock, embryo_node);
		kmutex_lock_nested(&e->lock, 1);
		scan_queue(&e->rq, fn, arg);
		kmutex_unlock(&e->lock);
	}
	kmutex_unlock(&u->lock);
}

static void dec_count(struct unix_sock *v, void *arg)
{
	(void)arg;
	v->gc_count--;
}

static void mark_reachable(struct unix_sock *v, void *arg)
{
	struct list_head *work = arg;
	if (v->gc_reachable)
		return;
	v->gc_reachable = true;
	list_del(&v->gc_node);
	list_add_tail(&v->gc_node, work);
}

void unix_gc_on_release(void)
{
	long n = atomic_load(&inflight_socks);
	if (n == 0)
		return;
	if (n != atomic_load(&gc_last) ||
	    atomic_fetch_add(&releases_since_gc, 1) + 1 >= UNIX_GC_RELEASES)
		unix_gc();
}

void unix_gc(void)
{
	if (in_gc || atomic_load(&inflight_socks) == 0)
		return;
	in_gc = true;
	struct list_head cand, work, done, hit;
	list_init(&cand);
	list_init(&work);
	list_init(&done);
	list_init(&hit);
	kmutex_lock(&unix_gc_lock);
	struct list_head *p, *n;
	list_for_each(p, &all_socks)
	{
		struct unix_sock *u = list_entry(p, struct unix_sock, all_node);
		u->gc_candidate = false;
		u->gc_reachable = false;
		if (!u->inflight || !u->sock)
			continue;
		struct file *f =
		    __atomic_load_n(&u->sock->file, __ATOMIC_ACQUIRE);
		if (!f)
			continue;
		long refs = atomic_load(&f->refs);
		if (refs != u->inflight)
			continue;
		u->gc_candidate = true;
		u->gc_count = u->inflight;
		list_add_tail(&u->gc_node, &cand);
	}
	/* The in-flight references from candidates' queues. */
	list_for_each(p, &cand)
	{
		scan_children(list_entry(p, struct unix_sock, gc_node),
			      dec_count, NULL);
	}
	/* Referenced from outside: reachable, with what they hold. */
	list_for_each_safe(p, n, &cand)
	{
		struct unix_sock *u = list_entry(p, struct unix_sock, gc_node);
		if (u->gc_count > 0 && !u->gc_reachable) {
			u->gc_reachable = true;
			list_del(&u->gc_node);
			list_add_tail(&u->gc_node, &work);
		}
	}
	while (!list_empty(&work)) {
		struct unix_sock *u =
		    list_entry(work.next, struct unix_sock, gc_node);
		list_del(&u->gc_node);
		list_add_tail(&u->gc_node, &done);
		scan_children(u, mark_reachable, &work);
	}
	/* What is left in cand is garbage: empty its queues. */
	list_for_each(p, &cand)
	{
		struct unix_sock *u = list_entry(p, struct unix_sock, gc_node);
		kmutex_lock(&u->lock);
		unix_rq_splice(u, &hit);
		struct list_head *q;
		list_for_each(q, &u->pending)
		{
			struct unix_sock *e =
			    list_entry(q, struct unix_sock, embryo_node);
			kmutex_lock_nested(&e->lock, 1);
			unix_rq_splice(e, &hit);
			kmutex_unlock(&e->lock);
		}
		kmutex_unlock(&u->lock);
	}
	list_for_each_safe(p, n, &cand)
	{
		struct unix_sock *u = list_entry(p, struct unix_sock, gc_node);
		u->gc_candidate = false;
		list_del(&u->gc_node);
	}
	list_for_each_safe(p, n, &done)
	{
		struct unix_sock *u = list_entry(p, struct unix_sock, gc_node);
		u->gc_candidate = false;
		u->gc_reachable = false;
		list_del(&u->gc_node);
	}
	kmutex_unlock(&unix_gc_lock);
	atomic_store(&gc_last, atomic_load(&inflight_socks));
	atomic_store(&releases_since_gc, 0);
	/* Freeing the messages drops the last references of the garbage;
	 * their releases come back here and return at once (in_gc). */
	unix_skb_list_free(&hit);
	in_gc = false;
}
