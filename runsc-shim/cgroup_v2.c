/* cgroup v2: one directory in the unified hierarchy; the controllers the
 * limits need are enabled in every parent's cgroup.subtree_control. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runsc-shim/cgroup.h"

static int put(const char *dir, const char *file, const char *val,
	       const char *field, char *err, size_t errlen)
{
	int rc = cg_write(dir, file, val);
	if (rc < 0)
		snprintf(err, errlen, "cgroups: %s = %s (%s/%s): %s", field,
			 val, dir, file, strerror(-rc));
	return rc;
}

static int put_i64(const char *dir, const char *file, int64_t v,
		   const char *field, char *err, size_t errlen)
{
	char b[32];
	snprintf(b, sizeof(b), "%" PRId64, v);
	return put(dir, file, b, field, err, errlen);
}

/* Enable each controller of want that the parent offers, in every level
 * from the hierarchy's root down to the leaf's parent. */
static int enable_controllers(const char *mnt, const char *leaf, char *err,
			      size_t errlen)
{
	static const char *const want[] = {"cpu",    "cpuset", "io",
					   "memory", "pids",   NULL};
	char path[4096];
	snprintf(path, sizeof(path), "%s", leaf);
	size_t base = strlen(mnt);
	/* Walk down: cut path at each '/' after the mount point. */
	for (size_t i = base; i <= strlen(leaf); i++) {
		if (leaf[i] != '/' && leaf[i] != '\0')
			continue;
		if (leaf[i] == '\0')
			break; /* the leaf's own subtree stays empty */
		char dir[4096];
		snprintf(dir, sizeof(dir), "%.*s", (int)i, leaf);
		char have[1024];
		if (cg_read(dir, "cgroup.controllers", have, sizeof(have)) < 0)
			continue;
		for (size_t k = 0; want[k]; k++) {
			bool offered = false;
			size_t n = strlen(want[k]);
			for (char *p = have; *p;) {
				char *sp = strchr(p, ' ');
				size_t l = sp ? (size_t)(sp - p) : strlen(p);
				offered |= l == n && !strncmp(p, want[k], n);
				p += l + (sp ? 1 : 0);
			}
			if (!offered)
				continue;
			char op[32];
			snprintf(op, sizeof(op), "+%s", want[k]);
			int rc = cg_write(dir, "cgroup.subtree_control", op);
			if (rc < 0) {
				snprintf(err, errlen,
					 "cgroups: enable %s in %s: %s%s",
					 want[k], dir, strerror(-rc),
					 rc == -EBUSY
					     ? " (it has processes of its own: "
					       "give linux.cgroupsPath a "
					       "place without them)"
					     : "");
				return rc;
			}
		}
	}
	(void)path;
	return 0;
}

static int v2_create(struct cgroup *cg, const struct bh_resources *r, char *err,
		     size_t errlen)
{
	if (r->mem_disable_oom) {
		snprintf(err, errlen,
			 "config.json: linux.resources.memory."
			 "disableOOMKiller is not supported on cgroup v2");
		return -EINVAL;
	}
	const char *d = cg->leaf[0];
	int rc = cg_mkdirs(cg, cg->mnt[0], d, NULL);
	if (rc < 0) {
		snprintf(err, errlen, "cgroups: mkdir %s: %s", d,
			 strerror(-rc));
		return rc;
	}
	if (bh_resources_any(r) &&
	    (rc = enable_controllers(cg->mnt[0], d, err, errlen)) < 0)
		return rc;
	if (r->mem_limit > 0 && (rc = put_i64(d, "memory.max", r->mem_limit,
					      "memory.limit", err, errlen)) < 0)
		return rc;
	if (r->mem_reservation > 0 &&
	    (rc = put_i64(d, "memory.low", r->mem_reservation,
			  "memory.reservation", err, errlen)) < 0)
		return rc;
	/* OCI's swap is memory + swap; v2's swap.max is swap alone. */
	if (r->mem_swap > 0 &&
	    (rc = put_i64(d, "memory.swap.max", r->mem_swap - r->mem_limit,
			  "memory.swap", err, errlen)) < 0)
		return rc;
	if (r->pids_limit > 0 &&
	    (rc = put_i64(d, "pids.max", 2 * r->pids_limit + 64, "pids.limit",
			  err, errlen)) < 0)
		return rc;
	if (r->cpu_shares) {
		/* runc's conversion of shares [2, 262144] to [1, 10000]. */
		uint64_t w = 1 + ((r->cpu_shares - 2) * 9999) / 262142;
		if ((rc = put_i64(d, "cpu.weight", (int64_t)w, "cpu.shares",
				  err, errlen)) < 0)
			return rc;
	}
	if (r->cpu_quota > 0 || r->cpu_period) {
		char b[64];
		uint64_t period = r->cpu_period ? r->cpu_period : 100000;
		if (r->cpu_quota > 0)
			snprintf(b, sizeof(b), "%" PRId64 " %" PRIu64,
				 r->cpu_quota, period);
		else
			snprintf(b, sizeof(b), "max %" PRIu64, period);
		if ((rc = put(d, "cpu.max", b, "cpu.quota", err, errlen)) < 0)
			return rc;
	}
	if (r->cpus &&
	    (rc = put(d, "cpuset.cpus", r->cpus, "cpu.cpus", err, errlen)) < 0)
		return rc;
	if (r->mems &&
	    (rc = put(d, "cpuset.mems", r->mems, "cpu.mems", err, errlen)) < 0)
		return rc;
	if (r->blkio_weight) {
		/* blkio's [10, 1000] onto io.weight's [1, 10000]. */
		uint64_t w =
		    1 + ((uint64_t)(r->blkio_weight - 10) * 9999) / 990;
		char b[32];
		snprintf(b, sizeof(b), "default %" PRIu64, w);
		if ((rc = put(d, "io.weight", b, "blockIO.weight", err,
			      errlen)) < 0)
			return rc;
	}
	return 0;
}

const struct cgroup_ops cgroup_v2_ops = {.name = "v2", .create = v2_create};
