/* linux.resources and linux.cgroupsPath: parsed, bounded and checked; a
 * field the runtime cannot honour is refused here with one line, so that
 * no limit a caller asked for is silently dropped. */
#include "bulkhead/resources.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bulkhead/config.h"

static int rfail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int rfail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (err && errlen) {
		int n = snprintf(err, errlen, "config.json: ");
		va_list ap;
		va_start(ap, fmt);
		if (n >= 0 && (size_t)n < errlen)
			vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* An optional integer >= -1 (-1: unlimited/unset, as OCI spells it). */
static int get_i64(json_t *o, const char *key, const char *what, int64_t *out,
		   char *err, size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return rfail(err, errlen, -EINVAL, "%s.%s must be an integer",
			     what, key);
	json_int_t i = json_integer_value(v);
	if (i < -1)
		return rfail(err, errlen, -ERANGE, "%s.%s is negative", what,
			     key);
	*out = i;
	return 0;
}

/* Keys of o that are set to something other than null, 0, false, "" or
 * an empty array/object: what "set" means for a field we refuse. */
static bool is_set(json_t *v)
{
	if (!v || json_is_null(v) || json_is_false(v))
		return false;
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	if (json_is_string(v))
		return json_string_length(v) != 0;
	if (json_is_array(v))
		return json_array_size(v) != 0;
	if (json_is_object(v))
		return json_object_size(v) != 0;
	return true;
}

/* Every key of o must be in known (NULL-terminated); refused ones, when
 * set, fail with why. */
static int check_keys(json_t *o, const char *what, const char *const *known,
		      const char *const *refused, const char *why, char *err,
		      size_t errlen)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v)
	{
		bool ok = false;
		for (size_t i = 0; known[i]; i++)
			ok |= !strcmp(k, known[i]);
		for (size_t i = 0; refused && refused[i]; i++)
			if (!strcmp(k, refused[i])) {
				if (is_set(v))
					return rfail(err, errlen, -EINVAL,
						     "%s.%s is not supported "
						     "(%s)",
						     what, k, why);
				ok = true;
			}
		if (!ok)
			return rfail(err, errlen, -EINVAL,
				     "%s: unknown field \"%.64s\"", what, k);
	}
	return 0;
}

/* A cpuset list ("0-3,8,10-11"): digits, commas and ranges only. */
static int get_cpuset(json_t *o, const char *key, char **out, char *err,
		      size_t errlen)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v) ||
	    (json_is_string(v) && !*json_string_value(v)))
		return 0;
	if (!json_is_string(v) || json_string_length(v) > 1024)
		return rfail(err, errlen, -EINVAL,
			     "linux.resources.cpu.%s must be a cpu list", key);
	const char *s = json_string_value(v);
	for (const char *p = s; *p;) {
		if (*p < '0' || *p > '9')
			goto bad;
		unsigned long a = strtoul(p, (char **)&p, 10), b = a;
		if (*p == '-') {
			p++;
			if (*p < '0' || *p > '9')
				goto bad;
			b = strtoul(p, (char **)&p, 10);
		}
		if (b < a || b > 4095)
			goto bad;
		if (*p == ',')
			p++;
		else if (*p)
			goto bad;
	}
	if (!(*out = strdup(s)))
		return rfail(err, errlen, -ENOMEM, "out of memory");
	return 0;
bad:
	return rfail(err, errlen, -EINVAL,
		     "linux.resources.cpu.%s: bad cpu list \"%.64s\"", key, s);
}

static int parse_memory(json_t *m, struct bh_resources *r, char *err,
			size_t errlen)
{
	static const char *const known[] = {
	    "limit",	    "reservation",	 "swap", "disableOOMKiller",
	    "useHierarchy", "checkBeforeUpdate", NULL};
	static const char *const refused[] = {"kernel", "kernelTCP",
					      "swappiness", NULL};
	const char *w = "linux.resources.memory";
	int rc = check_keys(m, w, known, refused,
			    "kernel memory and swappiness are not limited "
			    "per container here",
			    err, errlen);
	if (rc < 0 ||
	    (rc = get_i64(m, "limit", w, &r->mem_limit, err, errlen)) < 0 ||
	    (rc = get_i64(m, "reservation", w, &r->mem_reservation, err,
			  errlen)) < 0 ||
	    (rc = get_i64(m, "swap", w, &r->mem_swap, err, errlen)) < 0)
		return rc;
	if (r->mem_limit == 0)
		r->mem_limit = -1;
	if (r->mem_reservation == 0)
		r->mem_reservation = -1;
	if (r->mem_swap == 0)
		r->mem_swap = -1;
	/* As runc: memory + swap can only be limited along with memory,
	 * and not below it. */
	if (r->mem_swap > 0 && r->mem_limit > 0 && r->mem_swap < r->mem_limit)
		return rfail(err, errlen, -EINVAL,
			     "%s.swap (%lld) is below %s.limit (%lld): swap "
			     "is memory + swap",
			     w, (long long)r->mem_swap, w,
			     (long long)r->mem_limit);
	if (r->mem_swap > 0 && r->mem_limit <= 0)
		return rfail(err, errlen, -EINVAL, "%s.swap needs %s.limit", w,
			     w);
	if (r->mem_limit > 0 && r->mem_limit < 4 * 1024 * 1024)
		return rfail(err, errlen, -EINVAL,
			     "%s.limit %lld is below the 4 MiB a sandbox "
			     "needs to start",
			     w, (long long)r->mem_limit);
	json_t *d = json_object_get(m, "disableOOMKiller");
	if (d && !json_is_boolean(d) && !json_is_null(d))
		return rfail(err, errlen, -EINVAL,
			     "%s.disableOOMKiller must be a boolean", w);
	r->mem_disable_oom = json_is_true(d);
	return 0;
}

static int parse_cpu(json_t *c, struct bh_resources *r, char *err,
		     size_t errlen)
{
	static const char *const known[] = {"shares", "quota", "period",
					    "cpus",   "mems",  NULL};
	static const char *const refused[] = {
	    "realtimeRuntime", "realtimePeriod", "idle", "burst", NULL};
	const char *w = "linux.resources.cpu";
	int rc = check_keys(c, w, known, refused,
			    "no realtime, idle or burst scheduling for "
			    "sandboxes",
			    err, errlen);
	int64_t shares = -1, period = -1;
	if (rc < 0 ||
	    (rc = get_i64(c, "shares", w, &shares, err, errlen)) < 0 ||
	    (rc = get_i64(c, "quota", w, &r->cpu_quota, err, errlen)) < 0 ||
	    (rc = get_i64(c, "period", w, &period, err, errlen)) < 0 ||
	    (rc = get_cpuset(c, "cpus", &r->cpus, err, errlen)) < 0 ||
	    (rc = get_cpuset(c, "mems", &r->mems, err, errlen)) < 0)
		return rc;
	if (shares > 0 && (shares < 2 || shares > 262144))
		return rfail(err, errlen, -ERANGE,
			     "%s.shares %lld is outside 2..262144", w,
			     (long long)shares);
	r->cpu_shares = shares > 0 ? (uint64_t)shares : 0;
	if (period > 0 && (period < 1000 || period > 1000000))
		return rfail(err, errlen, -ERANGE,
			     "%s.period %lld us is outside 1000..1000000", w,
			     (long long)period);
	r->cpu_period = period > 0 ? (uint64_t)period : 0;
	if (r->cpu_quota == 0)
		r->cpu_quota = -1;
	if (r->cpu_quota > 0 && r->cpu_quota < 1000)
		return rfail(err, errlen, -ERANGE,
			     "%s.quota %lld us is below 1000", w,
			     (long long)r->cpu_quota);
	return 0;
}

static int parse_pids(json_t *p, struct bh_resources *r, char *err,
		      size_t errlen)
{
	static const char *const known[] = {"limit", NULL};
	int rc = check_keys(p, "linux.resources.pids", known, NULL, NULL, err,
			    errlen);
	if (rc < 0)
		return rc;
	json_t *v = json_object_get(p, "limit");
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return rfail(err, errlen, -EINVAL,
			     "linux.resources.pids.limit must be an integer");
	json_int_t l = json_integer_value(v);
	r->pids_limit = l > 0 ? l : -1; /* OCI: <= 0 is unlimited */
	return 0;
}

static int parse_blkio(json_t *b, struct bh_resources *r, char *err,
		       size_t errlen)
{
	static const char *const known[] = {"weight", NULL};
	static const char *const refused[] = {"leafWeight",
					      "weightDevice",
					      "throttleReadBpsDevice",
					      "throttleWriteBpsDevice",
					      "throttleReadIOPSDevice",
					      "throttleWriteIOPSDevice",
					      NULL};
	const char *w = "linux.resources.blockIO";
	int rc = check_keys(b, w, known, refused,
			    "the sandbox reaches no host block device: only "
			    "weight applies",
			    err, errlen);
	int64_t weight = -1;
	if (rc < 0 || (rc = get_i64(b, "weight", w, &weight, err, errlen)) < 0)
		return rc;
	if (weight > 0 && (weight < 10 || weight > 1000))
		return rfail(err, errlen, -ERANGE,
			     "%s.weight %lld is outside 10..1000", w,
			     (long long)weight);
	r->blkio_weight = weight > 0 ? (uint16_t)weight : 0;
	return 0;
}

/* Device rules are accepted as a bound: the guest's devfs is a fixed set
 * (null, zero, full, random, urandom, tty) no rule widens, and the sandbox
 * opens no host device. Checked for shape only. */
static int parse_devices(json_t *d, char *err, size_t errlen)
{
	if (!json_is_array(d))
		return rfail(err, errlen, -EINVAL,
			     "linux.resources.devices must be an array");
	if (json_array_size(d) > 1024)
		return rfail(err, errlen, -E2BIG,
			     "linux.resources.devices has too many entries");
	size_t i;
	json_t *e;
	json_array_foreach(d, i, e)
	{
		if (!json_is_object(e) ||
		    !json_is_boolean(json_object_get(e, "allow")))
			return rfail(err, errlen, -EINVAL,
				     "linux.resources.devices[%zu] needs a "
				     "boolean \"allow\"",
				     i);
	}
	return 0;
}

int bh_resources_parse(void *root_json, struct bh_resources *r, char *err,
		       size_t errlen)
{
	json_t *root = root_json;
	memset(r, 0, sizeof(*r));
	r->mem_limit = r->mem_reservation = r->mem_swap = -1;
	r->pids_limit = r->cpu_quota = -1;
	json_t *lx = json_object_get(root, "linux");
	if (!json_is_object(lx))
		return 0;
	json_t *cp = json_object_get(lx, "cgroupsPath");
	if (cp && !json_is_null(cp)) {
		if (!json_is_string(cp) || json_string_length(cp) > 4096)
			return rfail(err, errlen, -EINVAL,
				     "linux.cgroupsPath must be a string");
		const char *s = json_string_value(cp);
		/* No way out of the hierarchy it names. */
		for (const char *p = s; *p; p++)
			if ((p == s || p[-1] == '/') && p[0] == '.' &&
			    p[1] == '.' && (p[2] == '/' || !p[2]))
				return rfail(err, errlen, -EINVAL,
					     "linux.cgroupsPath \"%.64s\" has "
					     "a \"..\" component",
					     s);
		if (*s && !(r->cgroups_path = strdup(s)))
			return rfail(err, errlen, -ENOMEM, "out of memory");
	}
	json_t *res = json_object_get(lx, "resources");
	if (!res || json_is_null(res))
		return 0;
	if (!json_is_object(res))
		return rfail(err, errlen, -EINVAL,
			     "linux.resources must be an object");
	static const char *const known[] = {"memory",  "cpu",	  "pids",
					    "blockIO", "devices", NULL};
	static const char *const refused[] = {"hugepageLimits", "network",
					      "rdma", "unified", NULL};
	int rc = check_keys(res, "linux.resources", known, refused,
			    "not limited per container by this runtime yet",
			    err, errlen);
	if (rc < 0)
		return rc;
	struct {
		const char *key;
		int (*fn)(json_t *, struct bh_resources *, char *, size_t);
	} parts[] = {{"memory", parse_memory},
		     {"cpu", parse_cpu},
		     {"pids", parse_pids},
		     {"blockIO", parse_blkio}};
	for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		json_t *o = json_object_get(res, parts[i].key);
		if (!o || json_is_null(o))
			continue;
		if (!json_is_object(o))
			return rfail(err, errlen, -EINVAL,
				     "linux.resources.%s must be an object",
				     parts[i].key);
		if ((rc = parts[i].fn(o, r, err, errlen)) < 0)
			return rc;
	}
	json_t *d = json_object_get(res, "devices");
	if (d && !json_is_null(d) && (rc = parse_devices(d, err, errlen)) < 0)
		return rc;
	return 0;
}

void bh_resources_free(struct bh_resources *r)
{
	free(r->cgroups_path);
	free(r->cpus);
	free(r->mems);
	memset(r, 0, sizeof(*r));
}

bool bh_resources_any(const struct bh_resources *r)
{
	return r->mem_limit > 0 || r->mem_reservation > 0 || r->mem_swap > 0 ||
	       r->mem_disable_oom || r->pids_limit > 0 || r->cpu_shares ||
	       r->cpu_quota > 0 || r->cpu_period || r->cpus || r->mems ||
	       r->blkio_weight;
}
