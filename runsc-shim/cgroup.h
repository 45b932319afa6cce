/* The sandbox's cgroup (DESIGN decision 8): made by create before any
 * process of the sandbox starts, with the config's linux.resources written
 * in; the gofer and the sentry join it before they exec (so every stub,
 * forked later by the sentry, is in it too), and delete removes what
 * create made, nothing else. One vtable per hierarchy kind: cgroup v2
 * (a cgroup2 mount at /sys/fs/cgroup), v1 (a hierarchy per controller set;
 * hybrid hosts, like this one, are driven through their v1 controllers),
 * chosen from /proc/self/mountinfo.
 *
 * linux.cgroupsPath: "/a/b" under each hierarchy's root; "a/b" under the
 * caller's own cgroup (/proc/self/cgroup); systemd's "slice:prefix:name"
 * mapped to its cgroupfs place (/slice.../prefix-name.scope) since no
 * systemd manages ours; none: "bulkhead/<id>" under the caller's own. */
#ifndef SHIM_CGROUP_H
#define SHIM_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "bulkhead/resources.h"

#define CG_MAX_DIRS 32 /* hierarchies (v1) times created levels */

struct cgroup;
struct cgroup_ops {
	const char *name; /* "v1", "v2" */
	/* Make cg's directories (recording each one made in cg) and write
	 * r's limits; -errno with one line in err. */
	int (*create)(struct cgroup *cg, const struct bh_resources *r,
		      char *err, size_t errlen);
};

struct cgroup {
	const struct cgroup_ops *ops;
	const char *sysroot; /* "" on a host; a fake tree's root in tests */
	/* The hierarchies: their mount points and the cgroup's directory
	 * in each (v2: one). */
	int nhier;
	char *mnt[CG_MAX_DIRS];
	char *cur[CG_MAX_DIRS];	 /* the caller's own cgroup, relative */
	char *ctrl[CG_MAX_DIRS]; /* v1: the hierarchy's controllers */
	char *leaf[CG_MAX_DIRS]; /* absolute */
	/* Every directory create made, parents first (what delete removes,
	 * leaves first). */
	int nmade;
	char *made[CG_MAX_DIRS * 4];
	/* cgroup.procs of each leaf, open for a child to join by writing 0
	 * before its exec (async-signal-safe). */
	int procs_fd[CG_MAX_DIRS];
};

/* Find the hierarchies under sysroot ("" for the host) and resolve the
 * container's cgroup from r->cgroups_path and id; nothing is made yet. */
int cgroup_open(const char *sysroot, const struct bh_resources *r,
		const char *id, struct cgroup *cg, char *err, size_t errlen);
/* Make it, write the limits, open the procs files. On failure what was
 * made is removed again. */
int cgroup_create(struct cgroup *cg, const struct bh_resources *r, char *err,
		  size_t errlen);
/* In a forked child before exec: move the calling process into every
 * leaf. Only write(2): async-signal-safe. 0 or -1. */
int cgroup_join_self(const int *procs_fds, int n);
/* Write the directories made, one per line, to path (for delete). */
int cgroup_record(const struct cgroup *cg, const char *path);
/* Remove the directories listed in path by cgroup_record (leaves first;
 * an intermediate still used by another container stays). 0 or -errno for
 * a leaf that could not be removed. A missing file is 0. */
int cgroup_remove_recorded(const char *path);
void cgroup_close(struct cgroup *cg);

/* For the managers (cgroup_v1.c, cgroup_v2.c). */
extern const struct cgroup_ops cgroup_v1_ops, cgroup_v2_ops;
/* Write s to dir/file; -errno. */
int cg_write(const char *dir, const char *file, const char *s);
/* Read dir/file's first line into buf (newline stripped); -errno. */
int cg_read(const char *dir, const char *file, char *buf, size_t cap);
bool cg_exists(const char *dir, const char *file);
/* mkdir -p of leaf below mnt, recording each directory made in cg; for
 * each new level, init (may be NULL) runs with the new and parent dirs
 * (v1 cpuset copies its parent's cpus and mems). */
int cg_mkdirs(struct cgroup *cg, const char *mnt, const char *leaf,
	      int (*init)(const char *dir, const char *parent));

#endif
