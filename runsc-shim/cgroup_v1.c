/* cgroup v1 (and hybrid hosts, through their v1 controllers): the
 * container's directory in every controller hierarchy, the limits in
 * the files of the controllers that hold them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runsc-shim/cgroup.h"

/* A new cpuset cgroup starts with no cpus and no mems, and no task may
 * join it: each level made copies its parent's. */
static int cpuset_init(const char *dir, const char *parent)
{
	char buf[4096];
	int rc;
	if ((rc = cg_read(parent, "cpuset.cpus", buf, sizeof(buf))) < 0 ||
	    (rc = cg_write(dir, "cpuset.cpus", buf)) < 0 ||
	    (rc = cg_read(parent, "cpuset.mems", buf, sizeof(buf))) < 0 ||
	    (rc = cg_write(dir, "cpuset.mems", buf)) < 0)
		return rc;
	return 0;
}

static bool has_ctrl(const char *list, const char *c)
{
	size_t n = strlen(c);
	for (const char *p = list; p && *p;) {
		const char *e = strchr(p, ',');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == n && !strncmp(p, c, n))
			return true;
		p += l + (e ? 1 : 0);
	}
	return false;
}

/* Write one limit, with the field it came from in the message. */
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

/* The host's pids.max for a guest limit: each guest task is a stub thread
 * and a sentry thread, and the sentry and gofer have their own; the
 * sentry enforces the guest's limit exactly (EAGAIN at fork). */
static int64_t host_pids(int64_t guest)
{
	return 2 * guest + 64;
}

static int v1_create(struct cgroup *cg, const struct bh_resources *r, char *err,
		     size_t errlen)
{
	for (int i = 0; i < cg->nhier; i++) {
		const char *c = cg->ctrl[i], *d = cg->leaf[i];
		bool cpuset = has_ctrl(c, "cpuset");
		int rc =
		    cg_mkdirs(cg, cg->mnt[i], d, cpuset ? cpuset_init : NULL);
		if (rc < 0) {
			snprintf(err, errlen, "cgroups: mkdir %s: %s", d,
				 strerror(-rc));
			return rc;
		}
		if (has_ctrl(c, "memory")) {
			if (r->mem_limit > 0 &&
			    (rc = put_i64(d, "memory.limit_in_bytes",
					  r->mem_limit, "memory.limit", err,
					  errlen)) < 0)
				return rc;
			if (r->mem_swap > 0) {
				if (!cg_exists(d,
					       "memory.memsw.limit_in_bytes")) {
					snprintf(
					    err, errlen,
					    "config.json: "
					    "linux.resources.memory.swap: "
					    "this host does not account "
					    "swap (no memsw in cgroup v1)");
					return -EINVAL;
				}
				if ((rc = put_i64(d,
						  "memory.memsw.limit_in_bytes",
						  r->mem_swap, "memory.swap",
						  err, errlen)) < 0)
					return rc;
			}
			if (r->mem_reservation > 0 &&
			    (rc = put_i64(d, "memory.soft_limit_in_bytes",
					  r->mem_reservation,
					  "memory.reservation", err, errlen)) <
				0)
				return rc;
			if (r->mem_disable_oom &&
			    (rc = put(d, "memory.oom_control", "1",
				      "memory.disableOOMKiller", err, errlen)) <
				0)
				return rc;
		}
		if (has_ctrl(c, "pids") && r->pids_limit > 0 &&
		    (rc = put_i64(d, "pids.max", host_pids(r->pids_limit),
				  "pids.limit", err, errlen)) < 0)
			return rc;
		if (has_ctrl(c, "cpu")) {
			if (r->cpu_shares &&
			    (rc = put_i64(d, "cpu.shares",
					  (int64_t)r->cpu_shares, "cpu.shares",
					  err, errlen)) < 0)
				return rc;
			/* The period first: a quota is checked against it. */
			if (r->cpu_period &&
			    (rc = put_i64(d, "cpu.cfs_period_us",
					  (int64_t)r->cpu_period, "cpu.period",
					  err, errlen)) < 0)
				return rc;
			if (r->cpu_quota > 0 &&
			    (rc = put_i64(d, "cpu.cfs_quota_us", r->cpu_quota,
					  "cpu.quota", err, errlen)) < 0)
				return rc;
		}
		if (cpuset) {
			if (r->cpus && (rc = put(d, "cpuset.cpus", r->cpus,
						 "cpu.cpus", err, errlen)) < 0)
				return rc;
			if (r->mems && (rc = put(d, "cpuset.mems", r->mems,
						 "cpu.mems", err, errlen)) < 0)
				return rc;
		}
		if (has_ctrl(c, "blkio") && r->blkio_weight) {
			const char *f = cg_exists(d, "blkio.weight")
					    ? "blkio.weight"
					    : "blkio.bfq.weight";
			if (!cg_exists(d, f)) {
				snprintf(err, errlen,
					 "config.json: "
					 "linux.resources.blockIO.weight: this "
					 "host's I/O scheduler has no weights");
				return -EINVAL;
			}
			if ((rc = put_i64(d, f, r->blkio_weight,
					  "blockIO.weight", err, errlen)) < 0)
				return rc;
		}
	}
	return 0;
}

const struct cgroup_ops cgroup_v1_ops = {.name = "v1", .create = v1_create};
