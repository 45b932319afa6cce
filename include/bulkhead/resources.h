/* linux.resources and linux.cgroupsPath of config.json: what the cgroup
 * manager (runsc-shim/cgroup.h) applies to the whole sandbox and what the
 * sentry enforces on the guest (the pids limit, as guest tasks). Fields the
 * runtime cannot honour are refused by the parser with one line. */
#ifndef BULKHEAD_RESOURCES_H
#define BULKHEAD_RESOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* -1: not set (the host's default stays) for every signed field; 0 for
 * the unsigned ones. */
struct bh_resources {
	char *cgroups_path; /* as written; NULL: the runtime's default */
	int64_t mem_limit;  /* bytes; -1 also for "unlimited" */
	int64_t mem_reservation;
	int64_t mem_swap; /* memory + swap, as OCI and v1's memsw */
	bool mem_disable_oom;
	int64_t pids_limit;  /* > 0 only: OCI's <= 0 means unlimited */
	uint64_t cpu_shares; /* v1 shares (v2: converted to a weight) */
	int64_t cpu_quota;   /* us per period; -1: none */
	uint64_t cpu_period; /* us */
	char *cpus, *mems;   /* cpuset lists, validated shape */
	uint16_t blkio_weight;
};

struct json_t;
/* Parse root's linux.resources and linux.cgroupsPath into r (zeroed and
 * defaulted first). 0 or a negative errno with one line in err. */
int bh_resources_parse(void *root_json, struct bh_resources *r, char *err,
		       size_t errlen);
void bh_resources_free(struct bh_resources *r);
/* Whether any limit is set (a cgroup is made for the sandbox anyway). */
bool bh_resources_any(const struct bh_resources *r);

#endif
