/* /proc. Nodes are described by (kind, pid, tid, fd); inodes are made on
 * lookup and never cached past their last use (SB_NOCACHE), and a held
 * dentry of a dead process is revalidated away. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sentry/fs/proc/procfs.h"
#include "sentry/kernel/cputime.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/pid.h"
#include "sentry/kernel/process.h"
#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"
#include "sentry/mm/uio.h"
#include "sentry/mm/usercopy.h"
#include "sentry/net/netns.h"
#include "sentry/vfs/fdtable.h"
#include "sentry/vfs/fs_struct.h"
#include "sentry/vfs/locks.h"

#define PROC_SUPER_MAGIC 0x9fa0
#define PROC_FILE_MAX	 (1u << 20)

enum pkind {
	PK_ROOT,
	PK_SELF,
	PK_THREAD_SELF,
	PK_GLOBAL, /* idx: global_files */
	PK_SYS,
	PK_SYS_KERNEL,
	PK_SYS_KERNEL_FILE, /* idx: sysk_files */
	PK_NET_REG,	    /* idx: reg_files (tables families registered) */
	PK_PID,		    /* pid dir (tid == 0) or task/<tid> dir */
	PK_TASKDIR,
	PK_PID_FILE, /* idx: pid_files */
	PK_PID_LINK, /* idx: pid_links */
	PK_FDDIR,
	PK_FD,
	PK_FDINFODIR,
	PK_FDINFO,	 /* fd */
	PK_NET,		 /* /proc/net */
	PK_NET_FILE,	 /* idx: enum netns_file */
	PK_SYS_NET,	 /* /proc/sys/net */
	PK_SYS_NET_DIR,	 /* idx: sysnet_dirs */
	PK_SYS_NET_FILE, /* idx: enum netns_file */
};

struct pnode {
	enum pkind kind;
	int idx;
	int pid, tid, fd;
};

struct sbuf {
	char *p;
	size_t len, cap;
	int err;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	if (b->err)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->p ? b->p + b->len : NULL,
				  b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->err = -EINVAL;
			return;
		}
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 1024;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		if (cap > PROC_FILE_MAX) {
			b->err = -EFBIG;
			return;
		}
		char *np = realloc(b->p, cap);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

static void sb_put(struct sbuf *b, const void *data, size_t n)
{
	if (b->err)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		if (cap > PROC_FILE_MAX) {
			b->err = -EFBIG;
			return;
		}
		char *np = realloc(b->p, cap);
		if (!np) {
			b->err = -ENOMEM;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static long sb_finish(struct sbuf *b, char **out)
{
	if (b->err) {
		free(b->p);
		return b->err;
	}
	if (!b->p)
		sb_put(b, "", 0);
	if (b->err)
		return b->err;
	*out = b->p;
	return (long)b->len;
}

static int host_ncpu = 1;

/* A process held across one /proc operation: a reference on it and, as
 * asked, on its address space, fd table and fs_struct, all taken under
 * tasklist so that none can go away meanwhile. The renderers then take
 * tasklist again only for the fields it guards, and read the rest (fd
 * counts, mappings) under those objects' own locks. */
struct proc_hold {
	struct process *p;
	struct mm *mm;
	struct fdtable *files;
	struct fs_struct *fs;
};
#define PH_MM	 1
#define PH_FILES 2
#define PH_FS	 4

/* tasklist held. */
static struct task *task_of(struct process *p, int tid)
{
	struct list_head *pos;
	list_for_each(pos, &p->threads)
	{
		struct task *t = list_entry(pos, struct task, thread_node);
		if (t->tid == tid)
			return t;
	}
	return NULL;
}

/* tasklist held: the thread a node names (its tid, or the leader's
 * stand-in for a process node), or NULL once it is gone. */
static struct task *node_task(struct process *p, int tid)
{
	if (tid)
		return task_of(p, tid);
	struct task *t = task_of(p, p->pid);
	if (!t && !list_empty(&p->threads))
		t = list_entry(p->threads.next, struct task, thread_node);
	return t;
}

/* tasklist held. */
static struct process *proc_of_locked(int pid, int tid)
{
	struct process *p = kernel_find_process(pid);
	if (!p || p->state == PROC_DEAD || (tid && !task_of(p, tid)))
		return NULL;
	return p;
}

static bool proc_exists(int pid, int tid)
{
	tasklist_lock_take();
	bool r = proc_of_locked(pid, tid) != NULL;
	tasklist_unlock();
	return r;
}

static int proc_hold(int pid, int tid, int what, struct proc_hold *h)
{
	memset(h, 0, sizeof(*h));
	tasklist_lock_take();
	struct process *p = proc_of_locked(pid, tid);
	if (!p) {
		tasklist_unlock();
		return -ENOENT;
	}
	process_get(p);
	h->p = p;
	if ((what & PH_MM) && p->mm) {
		mm_get(p->mm);
		h->mm = p->mm;
	}
	/* The fd table and fs_struct are per thread: the node's thread's. */
	struct task *t = node_task(p, tid);
	if ((what & PH_FILES) && t && t->files) {
		fdtable_get(t->files);
		h->files = t->files;
	}
	if ((what & PH_FS) && t && t->fs) {
		fs_get(t->fs);
		h->fs = t->fs;
	}
	tasklist_unlock();
	return 0;
}

static void proc_unhold(struct proc_hold *h)
{
	if (h->files)
		fdtable_put(h->files);
	if (h->fs)
		fs_put(h->fs);
	if (h->mm)
		mm_put(h->mm);
	if (h->p)
		process_put(h->p);
	memset(h, 0, sizeof(*h));
}

/* The open file at fd of a process, with a reference, or NULL. */
static struct file *proc_fd_get(int pid, int tid, int fd)
{
	struct proc_hold h;
	if (proc_hold(pid, tid, PH_FILES, &h))
		return NULL;
	struct file *f = h.files ? fd_get(h.files, fd) : NULL;
	proc_unhold(&h);
	return f;
}

/* ---- renderers ---- */

static uint64_t ticks(uint64_t ns)
{
	return ns / 10000000ull; /* USER_HZ = 100 */
}

/* tasklist held. */
static char state_char(struct process *p, struct task *tk)
{
	if (p->state == PROC_ZOMBIE || !tk)
		return 'Z';
	if (p->stopped)
		return 'T';
	return atomic_load(&tk->sleeping) ? 'S' : 'R';
}

static uint64_t mm_pages(struct mm *mm)
{
	return mm ? __atomic_load_n(&mm->total_pages, __ATOMIC_RELAXED) : 0;
}

long procfs_render_status(struct process *p, int tid, char **out)
{
	struct proc_hold h;
	int r = proc_hold(p->pid, tid, PH_MM | PH_FILES | PH_FS, &h);
	if (r)
		return -ESRCH;
	int fdsize = 64;
	if (h.files) {
		int last;
		fdtable_count(h.files, &last);
		while (fdsize <= last)
			fdsize *= 2;
	}
	uint64_t vm_kb = mm_pages(h.mm) * 4;
	unsigned umask = h.fs ? (unsigned)atomic_load(&h.fs->umask) : 022;

	struct sbuf b = {0};
	tasklist_lock_take();
	struct task *tk = node_task(p, tid);
	const struct cred *pc = tk ? &tk->cred : process_cred(p);
	struct cred c = {0};
	if (pc)
		c = *pc;
	else
		c.uid = c.euid = c.suid = c.fsuid = p->exit_uid;
	char st = state_char(p, tk);
	const char *stname = st == 'Z'	 ? "zombie"
			     : st == 'R' ? "running"
			     : st == 'T' ? "stopped"
					 : "sleeping";
	sb_printf(&b, "Name:\t%.16s\n", p->comm);
	sb_printf(&b, "Umask:\t%04o\n", umask);
	sb_printf(&b, "State:\t%c (%s)\n", st, stname);
	sb_printf(&b, "Tgid:\t%d\nNgid:\t0\nPid:\t%d\nPPid:\t%d\n", p->pid,
		  tk ? tk->tid : p->pid, p->parent ? p->parent->pid : 0);
	sb_printf(&b, "TracerPid:\t0\n");
	sb_printf(&b, "Uid:\t%u\t%u\t%u\t%u\n", c.uid, c.euid, c.suid, c.fsuid);
	sb_printf(&b, "Gid:\t%u\t%u\t%u\t%u\n", c.gid, c.egid, c.sgid, c.fsgid);
	sb_printf(&b, "FDSize:\t%d\nGroups:\t", fdsize);
	for (uint32_t i = 0; i < c.ngroups && i < 32; i++)
		sb_printf(&b, "%u ", c.groups[i]);
	sb_printf(&b, "\n");
	sb_printf(&b, "VmPeak:\t%8llu kB\nVmSize:\t%8llu kB\n",
		  (unsigned long long)vm_kb, (unsigned long long)vm_kb);
	/* Resident memory lives in the stub; the mapped size is an upper
	 * bound that tools accept. */
	sb_printf(&b, "VmRSS:\t%8llu kB\n", (unsigned long long)vm_kb);
	sb_printf(&b, "Threads:\t%d\n", p->nthreads);
	sb_printf(&b, "SigQ:\t%d/%llu\n", p->shared_pending.nqueued,
		  (unsigned long long)process_rlimit(p, RLIMIT_SIGPENDING));
	uint64_t ign = 0, cgt = 0;
	for (int s = 1; s <= BH_NSIG; s++) {
		uint64_t hd = p->sigactions[s - 1].handler;
		if (hd == 1)
			ign |= 1ull << (s - 1);
		else if (hd > 1)
			cgt |= 1ull << (s - 1);
	}
	sb_printf(&b, "SigPnd:\t%016llx\nShdPnd:\t%016llx\n",
		  (unsigned long long)(tk ? tk->pending.set : 0),
		  (unsigned long long)p->shared_pending.set);
	sb_printf(&b, "SigBlk:\t%016llx\nSigIgn:\t%016llx\nSigCgt:\t%016llx\n",
		  (unsigned long long)(tk ? tk->blocked : 0),
		  (unsigned long long)ign, (unsigned long long)cgt);
	tasklist_unlock();
	sb_printf(&b, "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"
		      "CapEff:\t0000000000000000\nCapBnd:\t0000000000000000\n"
		      "CapAmb:\t0000000000000000\n");
	sb_printf(&b, "NoNewPrivs:\t1\n");
	sb_printf(&b, "Cpus_allowed_list:\t0-%d\n", host_ncpu - 1);
	proc_unhold(&h);
	return sb_finish(&b, out);
}

long procfs_render_stat(struct process *p, int tid, char **out)
{
	struct proc_hold h;
	if (proc_hold(p->pid, tid, PH_MM, &h))
		return -ESRCH;
	uint64_t vsize = mm_pages(h.mm) * 4096;
	uint64_t start = p->start_ns > kernel.boot_ns
			     ? ticks(p->start_ns - kernel.boot_ns)
			     : 0;
	struct sbuf b = {0};
	/* A thread reading its own line refreshes its sample first: under
	 * tasklist only the samples can be read. */
	if (tid && current && current->tid == tid && current->proc == p) {
		uint64_t ns;
		cputime_thread_self(current, &ns);
	}
	tasklist_lock_take();
	struct task *tk = node_task(p, tid);
	struct cputimes ct = {0};
	if (tid && tk) {
		/* A thread's own line: its last sampled time, as user. */
		ct.utime = atomic_load(&tk->cpu_sample);
	} else {
		cputime_process(p, &ct);
	}
	sb_printf(&b, "%d (%.16s) %c %d %d %d 0 -1 4194304 0 0 0 0 ",
		  tk ? tk->tid : p->pid, p->comm, state_char(p, tk),
		  p->parent ? p->parent->pid : 0, p->pgid, p->sid);
	sb_printf(&b, "%llu %llu %llu %llu 20 0 %d 0 %llu %llu %llu ",
		  (unsigned long long)ticks(ct.utime),
		  (unsigned long long)ticks(ct.stime),
		  (unsigned long long)ticks(p->cutime_ns),
		  (unsigned long long)ticks(p->cstime_ns), p->nthreads,
		  (unsigned long long)start, (unsigned long long)vsize,
		  (unsigned long long)(vsize / 4096));
	sb_printf(&b,
		  "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 %d 0 0 0 "
		  "0 0 0 0 0 0 0 0 0 %d\n",
		  p->exit_signal, p->state == PROC_ZOMBIE ? p->exit_status : 0);
	tasklist_unlock();
	proc_unhold(&h);
	return sb_finish(&b, out);
}

struct mounts_ctx {
	struct sbuf *b;
	struct path root;
	char *path;
};

/* Under the mount lock: the rendering takes only the dcache lock. */
static void render_mount(struct mount *m, void *arg)
{
	struct mounts_ctx *mc = arg;
	struct path p = {m, m->root};
	if (path_render(&p, mc->root.dentry ? &mc->root : NULL, mc->path,
			VFS_PATH_MAX) < 0)
		return;
	sb_printf(mc->b, "%s %s %s %s,relatime 0 0\n", m->source, mc->path,
		  m->sb->fstype, m->readonly ? "ro" : "rw");
}

static void render_mounts(struct sbuf *b)
{
	struct mounts_ctx mc = {.b = b};
	struct fs_struct *fs = task_fs(current);
	if (fs)
		fs_get_root(fs, &mc.root);
	mc.path = malloc(VFS_PATH_MAX);
	if (!mc.path)
		b->err = -ENOMEM;
	else
		mount_for_each(render_mount, &mc);
	free(mc.path);
	if (mc.root.dentry)
		path_put(&mc.root);
}

/* /proc/net: the tables the network families registered at boot. */
#define N_MAX 16
static const char *reg_files[N_MAX];
static long (*net_render[N_MAX])(char **out);
static int n_net; /* written only at boot, before any guest runs */

int proc_net_register(const char *name, long (*render)(char **out))
{
	if (n_net >= N_MAX)
		return -ENOSPC;
	reg_files[n_net] = name;
	net_render[n_net] = render;
	n_net++;
	return 0;
}

enum {
	G_MOUNTS,
	G_UPTIME,
	G_MEMINFO,
	G_CPUINFO,
	G_LOADAVG,
	G_FILESYSTEMS,
	G_VERSION,
	G_STAT,
	G_LOCKS,
	G_NR
};
static const char *const global_files[G_NR] = {
    "mounts",	   "uptime",  "meminfo", "cpuinfo", "loadavg",
    "filesystems", "version", "stat",	 "locks"};

static long render_global(int idx, char **out)
{
	struct sbuf b = {0};
	uint64_t up = kernel_now_ns(CLOCK_MONOTONIC) - kernel.boot_ns;
	switch (idx) {
	case G_MOUNTS:
		render_mounts(&b);
		break;
	case G_UPTIME:
		sb_printf(&b, "%llu.%02llu 0.00\n",
			  (unsigned long long)(up / 1000000000ull),
			  (unsigned long long)(up / 10000000ull % 100));
		break;
	case G_MEMINFO: {
		/* A fixed machine: the host's numbers are not the guest's. */
		const unsigned long total = 4ul << 20; /* kB */
		sb_printf(
		    &b,
		    "MemTotal:       %8lu kB\nMemFree:        %8lu kB\n"
		    "MemAvailable:   %8lu kB\nBuffers:               0 "
		    "kB\nCached:                0 kB\nSwapTotal:           "
		    "  0 kB\nSwapFree:              0 kB\n",
		    total, total / 2, total / 2);
		break;
	}
	case G_CPUINFO:
		for (int i = 0; i < host_ncpu; i++)
			sb_printf(
			    &b,
			    "processor\t: %d\nvendor_id\t: GenuineIntel\n"
			    "model name\t: Bulkhead virtual CPU\n"
			    "cpu MHz\t\t: 2000.000\ncpu cores\t: %d\n"
			    "flags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2\n"
			    "\n",
			    i, host_ncpu);
		break;
	case G_LOADAVG: {
		tasklist_lock_take();
		int n = kernel.nprocs, last = pid_last();
		tasklist_unlock();
		sb_printf(&b, "0.00 0.00 0.00 1/%d %d\n", n, last);
		break;
	}
	case G_FILESYSTEMS:
		sb_printf(&b, "nodev\tsysfs\nnodev\ttmpfs\nnodev\tproc\n"
			      "nodev\tdevtmpfs\nnodev\tpipefs\nnodev\t9p\n");
		break;
	case G_VERSION:
		sb_printf(&b, "Linux version " BH_UTS_RELEASE
			      " (bulkhead) #1 SMP\n");
		break;
	case G_STAT:
		sb_printf(
		    &b, "cpu  0 0 0 0 0 0 0 0 0 0\nbtime %llu\n",
		    (unsigned long long)(time(NULL) - up / 1000000000ull));
		break;
	case G_LOCKS: {
		/* Sized by a first pass; locks taken meanwhile may be cut. */
		size_t n = locks_show(NULL, 0) + 1024;
		char *t = malloc(n);
		if (!t) {
			b.err = -ENOMEM;
			break;
		}
		size_t got = locks_show(t, n);
		sb_printf(&b, "%.*s", (int)(got < n ? got : n - 1), t);
		free(t);
		break;
	}
	}
	return sb_finish(&b, out);
}

enum { K_HOSTNAME, K_OSRELEASE, K_OSTYPE, K_PIDMAX, K_NR };
static const char *const sysk_files[K_NR] = {"hostname", "osrelease", "ostype",
					     "pid_max"};

static long render_sysk(int idx, char **out)
{
	struct sbuf b = {0};
	switch (idx) {
	case K_HOSTNAME:
		sb_printf(&b, "%s\n", kernel.hostname);
		break;
	case K_OSRELEASE:
		sb_printf(&b, "%s\n", BH_UTS_RELEASE);
		break;
	case K_OSTYPE:
		sb_printf(&b, "Linux\n");
		break;
	case K_PIDMAX:
		sb_printf(&b, "%d\n", PID_MAX);
		break;
	}
	return sb_finish(&b, out);
}

/* The network namespace's own files (sentry/net/netns.h): the host's, of
 * the container's namespace, re-read through the fds kept from boot. */
static const struct {
	const char *name;
	enum netns_file which;
} net_files[] = {
    {"dev", NETNS_DEV},		  {"tcp", NETNS_TCP},	{"tcp6", NETNS_TCP6},
    {"udp", NETNS_UDP},		  {"udp6", NETNS_UDP6}, {"route", NETNS_ROUTE},
    {"if_inet6", NETNS_IF_INET6}, {"snmp", NETNS_SNMP},
};
#define NET_NR ((int)(sizeof(net_files) / sizeof(net_files[0])))
static const char *const sysnet_dirs[] = {"core", "ipv4"};
static const struct {
	int dir; /* in sysnet_dirs */
	const char *name;
	enum netns_file which;
} sysnet_files[] = {
    {0, "somaxconn", NETNS_SOMAXCONN},
    {1, "ip_local_port_range", NETNS_PORT_RANGE},
    {1, "ping_group_range", NETNS_PING_GROUP},
};
#define SYSNET_NR ((int)(sizeof(sysnet_files) / sizeof(sysnet_files[0])))

static long render_netns(enum netns_file which, char **out)
{
	for (size_t cap = 64u << 10;; cap *= 2) {
		char *buf = malloc(cap);
		if (!buf)
			return -ENOMEM;
		ssize_t n = netns_read(which, buf, cap);
		if (n < 0) {
			free(buf);
			return n;
		}
		if ((size_t)n < cap || cap >= PROC_FILE_MAX) {
			*out = buf;
			return n;
		}
		free(buf);
	}
}

enum { F_STAT, F_STATUS, F_CMDLINE, F_COMM, F_MAPS, F_ENVIRON, F_MOUNTS, F_NR };
static const char *const pid_files[F_NR] = {
    "stat", "status", "cmdline", "comm", "maps", "environ", "mounts"};
enum { L_EXE, L_CWD, L_ROOT, L_NR };
static const char *const pid_links[L_NR] = {"exe", "cwd", "root"};

static long render_pid_file(const struct pnode *n, char **out)
{
	struct proc_hold h;
	if (proc_hold(n->pid, n->tid, PH_MM, &h))
		return -ESRCH;
	struct process *p = h.p;
	struct sbuf b = {0};
	long r = 0;
	bool done = false;
	switch (n->idx) {
	case F_STAT:
		r = procfs_render_stat(p, n->tid, out);
		done = true;
		break;
	case F_STATUS:
		r = procfs_render_status(p, n->tid, out);
		done = true;
		break;
	case F_CMDLINE:
		/* cmdline and comm change only at exec, under tasklist. */
		tasklist_lock_take();
		if (p->cmdline && p->state != PROC_ZOMBIE)
			sb_put(&b, p->cmdline, p->cmdline_len);
		tasklist_unlock();
		break;
	case F_COMM:
		tasklist_lock_take();
		sb_printf(&b, "%.16s\n", p->comm);
		tasklist_unlock();
		break;
	case F_MAPS:
		break; /* rendered as it is read: proc_maps_fill */
	case F_ENVIRON:
		if (h.mm) {
			uint64_t s0 =
			    __atomic_load_n(&h.mm->env_start, __ATOMIC_RELAXED);
			uint64_t e0 =
			    __atomic_load_n(&h.mm->env_end, __ATOMIC_RELAXED);
			uint64_t len = e0 > s0 ? e0 - s0 : 0;
			if (len > 65536)
				len = 65536;
			char *buf = len ? malloc(len) : NULL;
			if (len && !buf) {
				r = -ENOMEM;
				done = true;
				break;
			}
			ssize_t got =
			    len ? copy_from_process(p, h.mm, buf, s0, len) : 0;
			if (got > 0)
				sb_put(&b, buf, (size_t)got);
			free(buf);
		}
		break;
	case F_MOUNTS:
		render_mounts(&b);
		break;
	}
	proc_unhold(&h);
	if (done) {
		free(b.p);
		return r;
	}
	return sb_finish(&b, out);
}

/* /proc/pid/fdinfo/N: the generic lines, then the file kind's own
 * (eventfd counts, epoll items...). */
static long render_fdinfo(const struct pnode *n, char **out)
{
	struct proc_hold h;
	if (proc_hold(n->pid, n->tid, PH_FILES, &h))
		return -ESRCH;
	struct file *f = h.files ? fd_get(h.files, n->fd) : NULL;
	int cloexec = f ? fd_get_cloexec(h.files, n->fd) : 0;
	proc_unhold(&h);
	if (!f)
		return -ENOENT;
	struct sbuf b = {0};
	int flags = atomic_load(&f->flags) | (cloexec > 0 ? O_CLOEXEC : 0);
	sb_printf(
	    &b, "pos:\t%llu\nflags:\t0%o\nmnt_id:\t%d\nino:\t%llu\n",
	    (unsigned long long)__atomic_load_n(&f->pos, __ATOMIC_RELAXED),
	    (unsigned)flags, f->path.mnt ? f->path.mnt->id : 0,
	    (unsigned long long)f->inode->ino);
	if (f->fops && f->fops->show_fdinfo) {
		char extra[1024];
		int k = f->fops->show_fdinfo(f, extra, sizeof(extra));
		if (k > 0)
			sb_put(&b, extra,
			       (size_t)k < sizeof(extra) ? (size_t)k
							 : sizeof(extra) - 1);
	}
	file_put(f);
	return sb_finish(&b, out);
}

/* ---- inodes ---- */

static const struct inode_ops proc_iops;
static const struct file_ops proc_file_fops;
static struct super_block *proc_sb;

static struct inode *pnode_inode(const struct pnode *n)
{
	mode_t mode;
	switch (n->kind) {
	case PK_ROOT:
	case PK_SYS:
	case PK_SYS_KERNEL:
	case PK_PID:
	case PK_TASKDIR:
	case PK_NET:
	case PK_SYS_NET:
	case PK_SYS_NET_DIR:
		mode = S_IFDIR | 0555;
		break;
	case PK_FDDIR:
	case PK_FDINFODIR:
		mode = S_IFDIR | 0500;
		break;
	case PK_SELF:
	case PK_THREAD_SELF:
	case PK_PID_LINK:
		mode = S_IFLNK | 0777;
		break;
	case PK_FD:
		mode = S_IFLNK | 0700;
		break;
	case PK_SYS_KERNEL_FILE:
		mode = S_IFREG | 0444;
		break;
	default:
		mode = S_IFREG | 0444;
		if (n->kind == PK_PID_FILE && n->idx == F_ENVIRON)
			mode = S_IFREG | 0400;
	}
	struct inode *inode = inode_new(proc_sb, mode);
	struct pnode *pn = malloc(sizeof(*pn));
	if (!inode || !pn) {
		free(pn);
		inode_put(inode);
		return NULL;
	}
	*pn = *n;
	inode->priv = pn;
	inode->iops = &proc_iops;
	inode->ino = ((uint64_t)n->kind << 56) ^ ((uint64_t)n->idx << 48) ^
		     ((uint64_t)(unsigned)n->pid << 24) ^
		     ((uint64_t)(unsigned)n->tid << 8) ^ (uint64_t)n->fd ^ 1;
	inode->nlink = S_ISDIR(mode) ? 2 : 1;
	if (n->pid) {
		uint64_t start = 0;
		bool found = false;
		tasklist_lock_take();
		struct process *p = proc_of_locked(n->pid, 0);
		if (p) {
			struct task *tk = node_task(p, n->tid);
			const struct cred *c = tk ? &tk->cred : NULL;
			inode->uid = c ? c->euid : p->exit_uid;
			inode->gid = c ? c->egid : 0;
			start = p->start_ns;
			found = true;
		}
		tasklist_unlock();
		if (found) {
			/* start_ns is monotonic: place it on the wall clock. */
			uint64_t mono = kernel_now_ns(CLOCK_MONOTONIC);
			uint64_t real = kernel_now_ns(CLOCK_REALTIME);
			uint64_t age = mono > start ? mono - start : 0;
			uint64_t s = real > age ? real - age : real;
			inode->ctime = inode->mtime = inode->atime =
			    (struct timespec){(time_t)(s / 1000000000ull),
					      (long)(s % 1000000000ull)};
		}
	}
	return inode;
}

static int parse_num(const char *s)
{
	if (!*s || *s == '0' || strlen(s) > 9)
		return -1;
	int v = 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

static int find_name(const char *const *names, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(names[i], name) == 0)
			return i;
	return -1;
}

static int proc_lookup(struct inode *dir, const char *name, struct inode **out)
{
	const struct pnode *d = dir->priv;
	struct pnode n = {.pid = d->pid, .tid = d->tid};
	int i;
	switch (d->kind) {
	case PK_ROOT:
		if (strcmp(name, "self") == 0) {
			n.kind = PK_SELF;
		} else if (strcmp(name, "thread-self") == 0) {
			n.kind = PK_THREAD_SELF;
		} else if (strcmp(name, "sys") == 0) {
			n.kind = PK_SYS;
		} else if (strcmp(name, "net") == 0) {
			n.kind = PK_NET;
		} else if ((i = find_name(global_files, G_NR, name)) >= 0) {
			n.kind = PK_GLOBAL;
			n.idx = i;
		} else if ((i = parse_num(name)) > 0 && proc_exists(i, 0)) {
			n.kind = PK_PID;
			n.pid = i;
		} else {
			return -ENOENT;
		}
		break;
	case PK_SYS:
		if (strcmp(name, "net") == 0) {
			n.kind = PK_SYS_NET;
			break;
		}
		if (strcmp(name, "kernel"))
			return -ENOENT;
		n.kind = PK_SYS_KERNEL;
		break;
	case PK_NET:
		for (i = 0; i < NET_NR; i++)
			if (!strcmp(name, net_files[i].name) &&
			    netns_has(net_files[i].which))
				break;
		if (i < NET_NR) {
			n.kind = PK_NET_FILE;
			n.idx = (int)net_files[i].which;
		} else if ((i = find_name(reg_files, n_net, name)) >= 0) {
			n.kind = PK_NET_REG;
			n.idx = i;
		} else {
			return -ENOENT;
		}
		break;
	case PK_SYS_NET:
		if ((i = find_name(sysnet_dirs, 2, name)) < 0)
			return -ENOENT;
		n.kind = PK_SYS_NET_DIR;
		n.idx = i;
		break;
	case PK_SYS_NET_DIR:
		for (i = 0; i < SYSNET_NR; i++)
			if (sysnet_files[i].dir == d->idx &&
			    !strcmp(name, sysnet_files[i].name) &&
			    netns_has(sysnet_files[i].which))
				break;
		if (i == SYSNET_NR)
			return -ENOENT;
		n.kind = PK_SYS_NET_FILE;
		n.idx = (int)sysnet_files[i].which;
		break;
	case PK_SYS_KERNEL:
		if ((i = find_name(sysk_files, K_NR, name)) < 0)
			return -ENOENT;
		n.kind = PK_SYS_KERNEL_FILE;
		n.idx = i;
		break;
	case PK_PID: {
		if ((i = find_name(pid_files, F_NR, name)) >= 0) {
			n.kind = PK_PID_FILE;
			n.idx = i;
		} else if ((i = find_name(pid_links, L_NR, name)) >= 0) {
			n.kind = PK_PID_LINK;
			n.idx = i;
		} else if (strcmp(name, "fd") == 0) {
			n.kind = PK_FDDIR;
		} else if (strcmp(name, "fdinfo") == 0) {
			n.kind = PK_FDINFODIR;
		} else if (strcmp(name, "task") == 0 && !d->tid) {
			n.kind = PK_TASKDIR;
		} else {
			return -ENOENT;
		}
		break;
	}
	case PK_TASKDIR: {
		i = parse_num(name);
		if (i <= 0 || !proc_exists(d->pid, i))
			return -ENOENT;
		n.kind = PK_PID;
		n.tid = i;
		break;
	}
	case PK_FDDIR:
	case PK_FDINFODIR: {
		i = name[0] == '0' && !name[1] ? 0 : parse_num(name);
		struct file *f = i < 0 ? NULL : proc_fd_get(d->pid, d->tid, i);
		if (!f)
			return -ENOENT;
		file_put(f);
		n.kind = d->kind == PK_FDDIR ? PK_FD : PK_FDINFO;
		n.fd = i;
		break;
	}
	default:
		return -ENOTDIR;
	}
	*out = pnode_inode(&n);
	return *out ? 0 : -ENOMEM;
}

static bool proc_revalidate(struct inode *dir, const char *name,
			    struct inode *inode)
{
	(void)dir, (void)name;
	const struct pnode *n = inode->priv;
	if (!n->pid)
		return true;
	if (n->kind == PK_FD || n->kind == PK_FDINFO) {
		struct file *f = proc_fd_get(n->pid, n->tid, n->fd);
		if (!f)
			return false;
		file_put(f);
		return true;
	}
	return proc_exists(n->pid, n->tid);
}

/* d_ino must be nonzero (glibc's readdir skips 0 as a deleted entry);
 * it need not equal st_ino, which /proc does not promise either. */
static uint64_t name_ino(const char *name)
{
	uint64_t h = 1469598103934665603ull;
	for (; *name; name++)
		h = (h ^ (unsigned char)*name) * 1099511628211ull;
	return h | 1;
}

/* Cookies: the fixed entries of a directory are 0..n-1 in order; numbered
 * ones (pids, tids, fds) are NUM_BASE + number, listed in increasing order,
 * so a reader resumes after the last number it saw whatever came or went. */
#define NUM_BASE (1ull << 32)

struct proc_emit {
	dir_emit_fn emit;
	void *arg;
	uint64_t cookie; /* resume from here */
	int stop;	 /* emit said stop (> 0) or failed (< 0) */
};

/* Emit the fixed entry with cookie idx, if not yet read. */
static bool emit_fixed(struct proc_emit *pe, uint64_t idx, const char *name,
		       unsigned char type)
{
	if (pe->stop)
		return false;
	if (idx < pe->cookie)
		return true;
	pe->stop = pe->emit(pe->arg, name, strlen(name), name_ino(name), type,
			    idx + 1);
	return !pe->stop;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* Emit numbers nums[0..n) (sorted here) not yet read. */
static void emit_nums(struct proc_emit *pe, int *nums, size_t n,
		      unsigned char type)
{
	qsort(nums, n, sizeof(*nums), cmp_int);
	char num[16];
	for (size_t i = 0; i < n && !pe->stop; i++) {
		uint64_t c = NUM_BASE + (uint64_t)nums[i];
		if (c < pe->cookie)
			continue;
		snprintf(num, sizeof(num), "%d", nums[i]);
		pe->stop = pe->emit(pe->arg, num, strlen(num), name_ino(num),
				    type, c + 1);
	}
}

static int proc_readdir(struct inode *dir, uint64_t cookie, dir_emit_fn emit,
			void *arg)
{
	const struct pnode *d = dir->priv;
	struct proc_emit pe = {emit, arg, cookie, 0};
	struct list_head *pos;
	int *nums = NULL;
	size_t n = 0;
	uint64_t k = 0;
	switch (d->kind) {
	case PK_ROOT:
		emit_fixed(&pe, k++, "self", DT_LNK);
		emit_fixed(&pe, k++, "thread-self", DT_LNK);
		emit_fixed(&pe, k++, "sys", DT_DIR);
		emit_fixed(&pe, k++, "net", DT_DIR);
		for (int i = 0; i < G_NR; i++)
			emit_fixed(&pe, k++, global_files[i], DT_REG);
		if (pe.stop)
			break;
		/* Zombies are not counted in nprocs: allow as many again,
		 * and a retry if more appeared while the array was made. */
		for (size_t cap = 0;;) {
			tasklist_lock_take();
			size_t want = (size_t)(kernel.nprocs + 1) * 2;
			if (want <= cap) {
				list_for_each(pos, &kernel.processes)
				{
					struct process *p = list_entry(
					    pos, struct process, all_node);
					if (p->state != PROC_DEAD && n < cap)
						nums[n++] = p->pid;
				}
				tasklist_unlock();
				break;
			}
			tasklist_unlock();
			free(nums);
			cap = want + 16;
			nums = malloc(cap * sizeof(int));
			if (!nums)
				return -ENOMEM;
		}
		emit_nums(&pe, nums, n, DT_DIR);
		break;
	case PK_SYS:
		emit_fixed(&pe, 0, "kernel", DT_DIR);
		emit_fixed(&pe, 1, "net", DT_DIR);
		break;
	case PK_NET:
		for (int i = 0; i < NET_NR; i++)
			if (netns_has(net_files[i].which))
				emit_fixed(&pe, (uint64_t)i, net_files[i].name,
					   DT_REG);
		for (int i = 0; i < n_net; i++)
			emit_fixed(&pe, (uint64_t)(NET_NR + i), reg_files[i],
				   DT_REG);
		break;
	case PK_SYS_NET:
		emit_fixed(&pe, 0, sysnet_dirs[0], DT_DIR);
		emit_fixed(&pe, 1, sysnet_dirs[1], DT_DIR);
		break;
	case PK_SYS_NET_DIR:
		for (int i = 0; i < SYSNET_NR; i++)
			if (sysnet_files[i].dir == d->idx &&
			    netns_has(sysnet_files[i].which))
				emit_fixed(&pe, (uint64_t)i,
					   sysnet_files[i].name, DT_REG);
		break;
	case PK_SYS_KERNEL:
		for (int i = 0; i < K_NR; i++)
			emit_fixed(&pe, k++, sysk_files[i], DT_REG);
		break;
	case PK_PID:
		for (int i = 0; i < F_NR; i++)
			emit_fixed(&pe, k++, pid_files[i], DT_REG);
		for (int i = 0; i < L_NR; i++)
			emit_fixed(&pe, k++, pid_links[i], DT_LNK);
		emit_fixed(&pe, k++, "fd", DT_DIR);
		emit_fixed(&pe, k++, "fdinfo", DT_DIR);
		if (!d->tid)
			emit_fixed(&pe, k++, "task", DT_DIR);
		break;
	case PK_TASKDIR: {
		struct proc_hold h;
		if (proc_hold(d->pid, 0, 0, &h))
			return 0;
		for (size_t cap = 0;;) {
			tasklist_lock_take();
			size_t want = (size_t)h.p->nthreads + 1;
			if (want <= cap) {
				list_for_each(pos, &h.p->threads)
				{
					if (n < cap)
						nums[n++] =
						    list_entry(pos, struct task,
							       thread_node)
							->tid;
				}
				tasklist_unlock();
				break;
			}
			tasklist_unlock();
			free(nums);
			cap = want + 16;
			nums = malloc(cap * sizeof(int));
			if (!nums) {
				proc_unhold(&h);
				return -ENOMEM;
			}
		}
		proc_unhold(&h);
		emit_nums(&pe, nums, n, DT_DIR);
		break;
	}
	case PK_FDDIR:
	case PK_FDINFODIR: {
		unsigned char type = d->kind == PK_FDDIR ? DT_LNK : DT_REG;
		struct proc_hold h;
		if (proc_hold(d->pid, d->tid, PH_FILES, &h))
			return 0;
		char num[16];
		int from = cookie > NUM_BASE ? (int)(cookie - NUM_BASE) : 0;
		for (int fd = h.files ? fdtable_next(h.files, from) : -1;
		     fd >= 0 && !pe.stop; fd = fdtable_next(h.files, fd + 1)) {
			snprintf(num, sizeof(num), "%d", fd);
			pe.stop = emit(arg, num, strlen(num), name_ino(num),
				       type, NUM_BASE + (uint64_t)fd + 1);
		}
		proc_unhold(&h);
		break;
	}
	default:
		return -ENOTDIR;
	}
	free(nums);
	return pe.stop < 0 ? pe.stop : 0;
}

static long copy_link(const char *s, size_t n, char *buf, size_t cap)
{
	if (n + 1 > cap)
		return -ENAMETOOLONG;
	memcpy(buf, s, n);
	buf[n] = 0;
	return (long)n;
}

static int link_target(const struct pnode *n, struct path *out)
{
	if (n->kind == PK_FD) {
		struct file *f = proc_fd_get(n->pid, n->tid, n->fd);
		if (!f)
			return -ENOENT;
		int r = -ENOENT;
		if (f->path.dentry) {
			*out = f->path;
			path_get(out);
			r = 0;
		}
		file_put(f);
		return r;
	}
	if (n->kind != PK_PID_LINK || n->idx == L_EXE)
		return -ENOENT;
	struct proc_hold h;
	if (proc_hold(n->pid, n->tid, PH_FS, &h))
		return -ENOENT;
	int r = -ENOENT;
	if (h.fs) {
		if (n->idx == L_CWD)
			fs_get_cwd(h.fs, out);
		else
			fs_get_root(h.fs, out);
		r = 0;
	}
	proc_unhold(&h);
	return r;
}

static long proc_readlink(struct inode *inode, char *buf, size_t cap)
{
	const struct pnode *n = inode->priv;
	char tmp[64];
	struct task *t = current;
	switch (n->kind) {
	case PK_SELF:
		if (!t || !t->proc)
			return -ENOENT;
		snprintf(tmp, sizeof(tmp), "%d", t->proc->pid);
		return copy_link(tmp, strlen(tmp), buf, cap);
	case PK_THREAD_SELF:
		if (!t || !t->proc)
			return -ENOENT;
		snprintf(tmp, sizeof(tmp), "%d/task/%d", t->proc->pid, t->tid);
		return copy_link(tmp, strlen(tmp), buf, cap);
	case PK_PID_LINK:
		if (n->idx == L_EXE) {
			long r = -ENOENT;
			tasklist_lock_take();
			struct process *p = proc_of_locked(n->pid, n->tid);
			if (p && p->exe_path[0])
				r = copy_link(
				    p->exe_path,
				    strnlen(p->exe_path, sizeof(p->exe_path)),
				    buf, cap);
			tasklist_unlock();
			return r;
		}
		/* fallthrough */
	case PK_FD: {
		struct path target;
		int r = link_target(n, &target);
		if (r)
			return r;
		struct fs_struct *fs = task_fs(t);
		struct path root = {0};
		if (fs)
			fs_get_root(fs, &root);
		r = path_render(&target, root.dentry ? &root : NULL, buf, cap);
		if (root.dentry)
			path_put(&root);
		path_put(&target);
		return r;
	}
	default:
		return -EINVAL;
	}
}

static int proc_get_link(struct inode *inode, struct task *t, struct path *out)
{
	(void)t;
	const struct pnode *n = inode->priv;
	if (n->kind != PK_FD && n->kind != PK_PID_LINK)
		return -ENOENT;
	return link_target(n, out);
}

/* An open /proc file. Most are rendered whole at open, so one read
 * sequence sees one snapshot. maps is rendered as it is read, a window of
 * whole lines at a time (Linux's seq_file), so it has no size cap and costs
 * memory for one window, however many mappings there are. */
#define MAPS_WINDOW (64u << 10)
struct proc_data {
	char *buf;
	size_t len;    /* bytes in buf */
	struct mm *mm; /* maps: a reference, or NULL */
	uint64_t off;  /* maps: file offset of buf[0] */
	uint64_t next; /* maps: address to render from after buf */
	bool eof;      /* maps: nothing after buf */
};

/* Make the window hold the byte at pos (or reach the end). */
static int proc_maps_fill(struct proc_data *d, uint64_t pos)
{
	if (pos < d->off) {
		d->off = 0;
		d->len = 0;
		d->next = 0;
		d->eof = false;
	}
	while (pos >= d->off + d->len && !d->eof) {
		d->off += d->len;
		uint64_t from = d->next;
		d->len = mm_render_maps(d->mm, &from, d->buf, MAPS_WINDOW);
		d->eof = d->len == 0;
		d->next = from;
	}
	return 0;
}

static int proc_open(struct inode *inode, struct file *f)
{
	const struct pnode *n = inode->priv;
	if (S_ISDIR(inode->mode))
		return 0;
	if (f->fmode & FMODE_WRITE)
		return -EACCES;
	char *buf = NULL;
	long len;
	if (n->kind == PK_PID_FILE && n->idx == F_MAPS) {
		struct proc_hold h;
		if (proc_hold(n->pid, n->tid, PH_MM, &h))
			return -ESRCH;
		struct proc_data *d = calloc(1, sizeof(*d));
		if (!d || !(d->buf = malloc(MAPS_WINDOW))) {
			free(d);
			proc_unhold(&h);
			return -ENOMEM;
		}
		d->mm = h.mm; /* the hold's reference moves to the file */
		h.mm = NULL;
		proc_unhold(&h);
		d->eof = !d->mm;
		f->priv = d;
		f->fops = &proc_file_fops;
		return 0;
	}
	if (n->kind == PK_GLOBAL)
		len = render_global(n->idx, &buf);
	else if (n->kind == PK_SYS_KERNEL_FILE)
		len = render_sysk(n->idx, &buf);
	else if (n->kind == PK_NET_REG)
		len = net_render[n->idx](&buf);
	else if (n->kind == PK_PID_FILE)
		len = render_pid_file(n, &buf);
	else if (n->kind == PK_FDINFO)
		len = render_fdinfo(n, &buf);
	else if (n->kind == PK_NET_FILE || n->kind == PK_SYS_NET_FILE)
		len = render_netns((enum netns_file)n->idx, &buf);
	else
		return -ENXIO;
	if (len < 0)
		return (int)len;
	struct proc_data *d = calloc(1, sizeof(*d));
	if (!d) {
		free(buf);
		return -ENOMEM;
	}
	d->buf = buf;
	d->len = (size_t)len;
	f->priv = d;
	f->fops = &proc_file_fops;
	return 0;
}

static ssize_t proc_read(struct file *f, struct uio *u, uint64_t *pos)
{
	struct proc_data *d = f->priv;
	if (!d->mm) {
		if (*pos >= d->len)
			return 0;
		ssize_t r = uio_copy_out(u, d->buf + *pos, d->len - *pos);
		if (r > 0)
			*pos += (uint64_t)r;
		return r;
	}
	size_t done = 0;
	while (uio_resid(u) > 0) {
		proc_maps_fill(d, *pos);
		if (*pos >= d->off + d->len)
			break;
		size_t at = (size_t)(*pos - d->off);
		ssize_t r = uio_copy_out(u, d->buf + at, d->len - at);
		if (r < 0)
			return done ? (ssize_t)done : r;
		*pos += (uint64_t)r;
		done += (size_t)r;
		if ((size_t)r < d->len - at)
			break;
	}
	return (ssize_t)done;
}

static int64_t proc_llseek(struct file *f, int64_t off, int whence)
{
	struct proc_data *d = f->priv;
	if (whence == SEEK_END && d->mm)
		return -EINVAL; /* as seq_file: its length is not known */
	int64_t base = whence == SEEK_SET   ? 0
		       : whence == SEEK_CUR ? (int64_t)f->pos
		       : whence == SEEK_END ? (int64_t)d->len
					    : -1;
	if (base < 0 || off > INT64_MAX - base || base + off < 0)
		return -EINVAL;
	f->pos = (uint64_t)(base + off);
	return (int64_t)f->pos;
}

static void proc_release(struct file *f)
{
	struct proc_data *d = f->priv;
	if (d) {
		if (d->mm)
			mm_put(d->mm);
		free(d->buf);
		free(d);
	}
}

static const struct file_ops proc_file_fops = {
    .read = proc_read,
    .llseek = proc_llseek,
    .release = proc_release,
};

static int proc_setattr(struct inode *inode, const struct iattr *ia)
{
	(void)inode, (void)ia;
	return -EPERM;
}

static const struct inode_ops proc_iops = {
    .lookup = proc_lookup,
    .readlink = proc_readlink,
    .get_link = proc_get_link,
    .setattr = proc_setattr,
    .open = proc_open,
    .readdir = proc_readdir,
    .revalidate = proc_revalidate,
};

static void proc_evict(struct inode *inode)
{
	free(inode->priv);
}

static int proc_statfs(struct super_block *sb, struct statfs *st)
{
	(void)sb;
	memset(st, 0, sizeof(*st));
	st->f_type = PROC_SUPER_MAGIC;
	st->f_bsize = 4096;
	st->f_namelen = VFS_NAME_MAX;
	return 0;
}

static const struct super_ops proc_sops = {
    .statfs = proc_statfs,
    .evict = proc_evict,
};

int procfs_new(struct super_block **sbp, struct dentry **rootp)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	host_ncpu = n > 0 && n < 4096 ? (int)n : 1;
	struct super_block *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	sb->fstype = "proc";
	sb->ops = &proc_sops;
	sb->dev = 0x4;
	sb->flags = SB_NOCACHE;
	proc_sb = sb;
	struct pnode root = {.kind = PK_ROOT};
	struct inode *inode = pnode_inode(&root);
	if (!inode)
		return -ENOMEM;
	struct dentry *d = dentry_new(NULL, "/", 1, inode);
	inode_put(inode);
	if (!d)
		return -ENOMEM;
	*sbp = sb;
	*rootp = d;
	return 0;
}

static int procfs_get_sb(const struct bh_mount *bm, struct super_block **sb,
			 struct dentry **root, const char **source)
{
	(void)bm;
	*source = "proc";
	return procfs_new(sb, root);
}

const struct fs_type procfs_type = {
    .name = "proc",
    .type = BH_MOUNT_PROC,
    .get_sb = procfs_get_sb,
};
