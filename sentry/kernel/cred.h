/* Credentials: ids, supplementary groups and capability sets. */
#ifndef BULKHEAD_CRED_H
#define BULKHEAD_CRED_H

#include <stdbool.h>
#include <stdint.h>

#define CRED_NGROUPS_MAX 32

struct cred {
	uint32_t uid, euid, suid, fsuid;
	uint32_t gid, egid, sgid, fsgid;
	uint32_t ngroups;
	uint32_t groups[CRED_NGROUPS_MAX];
	uint64_t cap_eff, cap_prm, cap_inh, cap_bnd; /* bit n: capability n */
};

static inline bool cred_capable(const struct cred *c, int cap)
{
	return c->cap_eff & (1ull << cap);
}

#endif
