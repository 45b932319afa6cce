#include "sentry/boot.h"

#include <errno.h>
#include <linux/capability.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bulkhead/log.h"
#include "sentry/loader/exec.h"
#include "sentry/kernel/pid.h"
#include "sentry/kernel/task.h"
#include "sentry/tty/console.h"
#include "sentry/mm/mm.h"
#include "sentry/ipc/msg.h"
#include "sentry/ipc/sem.h"
#include "sentry/net/socket.h"
#include "sentry/syscalls/syscalls.h"
#include "sentry/vfs/vfs.h"

#define BH_DEFAULT_CAPS                                                        \
	((1ull << CAP_CHOWN) | (1ull << CAP_DAC_OVERRIDE) |                    \
	 (1ull << CAP_FSETID) | (1ull << CAP_FOWNER) | (1ull << CAP_MKNOD) |   \
	 (1ull << CAP_NET_RAW) | (1ull << CAP_SETGID) | (1ull << CAP_SETUID) | \
	 (1ull << CAP_SETFCAP) | (1ull << CAP_SETPCAP) |                       \
	 (1ull << CAP_NET_BIND_SERVICE) | (1ull << CAP_SYS_CHROOT) |           \
	 (1ull << CAP_KILL) | (1ull << CAP_AUDIT_WRITE))
#define DEFAULT_PATH                                                           \
	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Under boot_lock: */
static struct kmutex boot_lock = KMUTEX_INITIALIZER("boot", LR_LEAF);
static pthread_cond_t boot_cond = PTHREAD_COND_INITIALIZER;
static int boot_state; /* 0 loading, 1 loaded, < 0 failed */
static bool boot_started;
static char boot_err[512];
static const struct bh_config *boot_cfg;

static int exec_one(struct task *t, const char *path)
{
	return kernel_execve(t, path, boot_cfg->args, boot_cfg->env);
}

/* args[0] as runc resolves it: a path, or a name looked up in the
 * container's PATH. */
static int exec_init(struct task *t)
{
	const char *name = boot_cfg->args[0];
	if (strchr(name, '/')) {
		int r = exec_one(t, name);
		if (r < 0 && r != -EXEC_FATAL)
			snprintf(boot_err, sizeof(boot_err), "exec: \"%s\": %s",
				 name, strerror(-r));
		return r;
	}
	const char *path = bh_config_getenv(boot_cfg, "PATH");
	if (!path)
		path = DEFAULT_PATH;
	int last = -ENOENT;
	while (*path) {
		const char *end = strchr(path, ':');
		size_t dl = end ? (size_t)(end - path) : strlen(path);
		char cand[PATH_MAX];
		if (dl && dl + 1 + strlen(name) < sizeof(cand)) {
			snprintf(cand, sizeof(cand), "%.*s/%s", (int)dl, path,
				 name);
			int r = exec_one(t, cand);
			if (r == 0 || r == -EXEC_FATAL)
				return r;
			if (r != -ENOENT && r != -ENOTDIR && r != -EACCES)
				last = r;
			else if (last == -ENOENT && r == -EACCES)
				last = r;
		}
		if (!end)
			break;
		path = end + 1;
	}
	if (last == -ENOENT)
		snprintf(boot_err, sizeof(boot_err),
			 "exec: \"%s\": executable file not found in $PATH",
			 name);
	else
		snprintf(boot_err, sizeof(boot_err), "exec: \"%s\": %s", name,
			 strerror(-last));
	return last;
}

static void init_hook(struct task *t)
{
	int r = fs_chdir_path(t, boot_cfg->cwd ? boot_cfg->cwd : "/");
	if (r < 0)
		snprintf(boot_err, sizeof(boot_err), "cwd \"%s\": %s",
			 boot_cfg->cwd, strerror(-r));
	else
		r = exec_init(t);
	if (r < 0) {
		if (!boot_err[0])
			snprintf(boot_err, sizeof(boot_err),
				 "loading the init process failed");
		kmutex_lock(&boot_lock);
		boot_state = r == -EXEC_FATAL ? -EIO : r;
		pthread_cond_broadcast(&boot_cond);
		kmutex_unlock(&boot_lock);
		process_exit_group(t, 127 << 8);
	}
	kmutex_lock(&boot_lock);
	boot_state = 1;
	pthread_cond_broadcast(&boot_cond);
	while (!boot_started)
		kcond_wait(&boot_cond, &boot_lock);
	kmutex_unlock(&boot_lock);
}

int boot_start(void)
{
	kmutex_lock(&boot_lock);
	int r = 0;
	if (boot_started)
		r = -EALREADY;
	else if (boot_state != 1)
		r = -ESRCH;
	else
		boot_started = true;
	pthread_cond_broadcast(&boot_cond);
	kmutex_unlock(&boot_lock);
	return r;
}

static void init_stdio(struct task *t, const struct bh_config *cfg)
{
	if (cfg->terminal) {
		int r = console_setup(t);
		if (r == 0)
			return;
		bh_warn("process.terminal: no console (%s); init gets the "
			"sentry's stdio",
			strerror(-r));
	}
	for (int fd = 0; fd < 3; fd++) {
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0)
			continue;
		struct file *f = file_new_host(fd, fl);
		if (!f)
			continue;
		fd_install_at(t->files, fd, f, false);
		file_put(f);
	}
}

static void init_limits(struct process *p, const struct bh_config *cfg)
{
	for (int i = 0; i < RLIM_NLIMITS; i++)
		getrlimit(i, &p->rlimits[i]);
	/* The guest's fd table is the sentry's own, bounded, not the host's. */
	p->rlimits[RLIMIT_NOFILE].rlim_cur = FD_MAX_DEFAULT;
	if (p->rlimits[RLIMIT_NOFILE].rlim_max > 1048576)
		p->rlimits[RLIMIT_NOFILE].rlim_max = 1048576;
	p->rlimits[RLIMIT_CORE].rlim_cur = 0;
	for (size_t i = 0; i < cfg->nrlimits; i++) {
		int res = cfg->rlimits[i].resource;
		if (res < 0 || res >= RLIM_NLIMITS)
			continue;
		p->rlimits[res].rlim_cur = cfg->rlimits[i].soft;
		p->rlimits[res].rlim_max = cfg->rlimits[i].hard;
	}
}

int boot_create(const struct boot_args *a, char *err, size_t errlen)
{
	const struct bh_config *cfg = a->cfg;
	boot_cfg = cfg;
	kernel.cfg = a->cfg;
	kernel.pids_limit = cfg->res.pids_limit;
	kernel.strace = a->strace;
	kernel.boot_ns = kernel_now_ns(CLOCK_MONOTONIC);
	if (cfg->hostname)
		snprintf(kernel.hostname, sizeof(kernel.hostname), "%s",
			 cfg->hostname);
	else if (gethostname(kernel.hostname, sizeof(kernel.hostname)) < 0)
		strcpy(kernel.hostname, "localhost");
	syscall_init();
	net_init();
	msg_init();
	sem_init();
	if (platform->set_prefetch) {
		uint8_t pf[SYSCALL_MAX];
		syscall_prefetch_table(pf, sizeof(pf));
		platform->set_prefetch(pf, sizeof(pf));
	}

	int pr = pid_init();
	if (pr < 0) {
		snprintf(err, errlen, "out of memory");
		return pr;
	}
	tasklist_lock_take();
	struct process *p = process_alloc(1);
	if (!p) {
		tasklist_unlock();
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	kernel.init = p;
	pid_set_pgid(p, 1);
	pid_set_sid(p, 1);
	struct task *t = task_alloc(p, 1);
	tasklist_unlock();
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	struct cred *c = &t->cred;
	c->uid = c->euid = c->suid = c->fsuid = cfg->uid;
	c->gid = c->egid = c->sgid = c->fsgid = cfg->gid;
	for (size_t i = 0; i < cfg->nadditional_gids && i < 32; i++)
		c->groups[c->ngroups++] = cfg->additional_gids[i];
	if (cfg->has_caps) {
		c->cap_bnd = cfg->cap_bounding;
		c->cap_eff = cfg->cap_effective;
		c->cap_prm = cfg->cap_permitted;
		c->cap_inh = cfg->cap_inheritable;
	} else {
		/* runc's default set when the spec names none. */
		c->cap_bnd = BH_DEFAULT_CAPS;
		c->cap_eff = c->cap_prm = cfg->uid == 0 ? BH_DEFAULT_CAPS : 0;
	}
	init_limits(p, cfg);
	snprintf(p->comm, sizeof(p->comm), "init");
	p->mm = mm_new();
	t->files = fdtable_new();
	t->fs = fs_new_root();
	if (!p->mm || !t->files || !t->fs) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	init_stdio(t, cfg);
	int r = platform->spawn(&t->pt);
	if (r < 0) {
		snprintf(err, errlen, "starting the first stub process: %s",
			 strerror(-r));
		return r;
	}
	t->start_hook = init_hook;
	r = task_start(t);
	if (r < 0) {
		snprintf(err, errlen, "starting the init task: %s",
			 strerror(-r));
		return r;
	}
	kmutex_lock(&boot_lock);
	while (boot_state == 0)
		kcond_wait(&boot_cond, &boot_lock);
	r = boot_state < 0 ? boot_state : 0;
	kmutex_unlock(&boot_lock);
	if (r < 0)
		snprintf(err, errlen, "%s", boot_err);
	return r;
}
