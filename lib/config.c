/* config.json parsing and validation (jansson). The CLI and the sentry parse
 * the same bytes with this code, so both agree on what is valid. Every value
 * is treated as hostile: types, lengths and counts are checked before use. */
#include "bulkhead/config.h"
#include "bulkhead/log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Annotations are free-form; bound them like any other list. */
#define CFG_MAX_ANNOTATIONS 4096
#define CFG_MAX_GIDS	    4096
#define CFG_MAX_RLIMITS	    64

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

struct bh_config;
static int parse_caps(json_t *proc, struct bh_config *cfg, char *err,
		      size_t errlen);

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	if (err && errlen) {
		int n = snprintf(err, errlen, "config.json: ");
		if (n < 0 || (size_t)n >= errlen)
			n = 0;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* A JSON string that is a valid C string of bounded length, copied. jansson
 * rejects \u0000 by default, but check the length anyway so that a change of
 * decode flags cannot smuggle a truncated string through. */
static int get_str(json_t *v, const char *what, char **out, char *err,
		   size_t errlen)
{
	if (!json_is_string(v))
		return fail(err, errlen, -EINVAL, "%s must be a string", what);
	size_t n = json_string_length(v);
	const char *s = json_string_value(v);
	if (n > BH_CFG_MAX_STR)
		return fail(err, errlen, -E2BIG, "%s is too long (%zu > %d)",
			    what, n, BH_CFG_MAX_STR);
	if (strlen(s) != n)
		return fail(err, errlen, -EINVAL, "%s contains a NUL byte",
			    what);
	*out = strdup(s);
	if (!*out)
		return fail(err, errlen, -ENOMEM, "out of memory");
	return 0;
}

static int get_bool(json_t *v, const char *what, bool *out, char *err,
		    size_t errlen)
{
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return fail(err, errlen, -EINVAL, "%s must be a boolean", what);
	*out = json_is_true(v);
	return 0;
}

static int get_u32(json_t *v, const char *what, unsigned int *out, char *err,
		   size_t errlen)
{
	if (!json_is_integer(v))
		return fail(err, errlen, -EINVAL, "%s must be an integer",
			    what);
	json_int_t i = json_integer_value(v);
	/* (uid_t)-1 means "no change" to the kernel: never a valid id. */
	if (i < 0 || i >= (json_int_t)UINT32_MAX)
		return fail(err, errlen, -ERANGE, "%s is out of range", what);
	*out = (unsigned int)i;
	return 0;
}

/* A NULL-terminated vector of strings from an optional JSON array. */
static int get_strv(json_t *arr, const char *what, size_t max, char ***outv,
		    size_t *outn, char *err, size_t errlen)
{
	if (!json_is_array(arr))
		return fail(err, errlen, -EINVAL, "%s must be an array", what);
	size_t n = json_array_size(arr);
	if (n > max)
		return fail(err, errlen, -E2BIG,
			    "%s has too many entries (%zu > %zu)", what, n,
			    max);
	char **v = calloc(n + 1, sizeof(*v));
	if (!v)
		return fail(err, errlen, -ENOMEM, "out of memory");
	*outv = v;
	*outn = 0;
	for (size_t i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof(name), "%s[%zu]", what, i);
		int rc =
		    get_str(json_array_get(arr, i), name, &v[i], err, errlen);
		if (rc < 0)
			return rc;
		*outn = i + 1;
	}
	return 0;
}

static void free_strv(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

/* Normalise an absolute path: collapse "//" and ".", refuse "..". A ".." is
 * refused rather than resolved because its meaning depends on symlinks in the
 * container, which only the sentry can see. */
static int normalize_abs(const char *in, const char *what, char **out,
			 char *err, size_t errlen)
{
	if (in[0] != '/')
		return fail(err, errlen, -EINVAL,
			    "%s \"%s\" must be an absolute path", what, in);
	size_t len = strlen(in);
	char *res = malloc(len + 2);
	if (!res)
		return fail(err, errlen, -ENOMEM, "out of memory");
	size_t o = 0;
	const char *p = in;
	while (*p) {
		while (*p == '/')
			p++;
		const char *start = p;
		while (*p && *p != '/')
			p++;
		size_t clen = (size_t)(p - start);
		if (clen == 0 || (clen == 1 && start[0] == '.'))
			continue;
		if (clen == 2 && start[0] == '.' && start[1] == '.') {
			free(res);
			return fail(err, errlen, -EINVAL,
				    "%s \"%s\" must not contain \"..\"", what,
				    in);
		}
		if (clen > NAME_MAX) {
			free(res);
			return fail(err, errlen, -ENAMETOOLONG,
				    "%s has a component longer than %d bytes",
				    what, NAME_MAX);
		}
		res[o++] = '/';
		memcpy(res + o, start, clen);
		o += clen;
	}
	if (o == 0)
		res[o++] = '/';
	res[o] = '\0';
	*out = res;
	return 0;
}

static int parse_args(json_t *proc, struct bh_config *cfg, char *err,
		      size_t errlen)
{
	json_t *args = json_object_get(proc, "args");
	if (!args)
		return fail(err, errlen, -EINVAL, "process.args is missing");
	int rc = get_strv(args, "process.args", BH_CFG_MAX_ARGS, &cfg->args,
			  &cfg->nargs, err, errlen);
	if (rc < 0)
		return rc;
	if (cfg->nargs == 0)
		return fail(err, errlen, -EINVAL, "process.args is empty");
	const char *a0 = cfg->args[0];
	if (a0[0] == '\0')
		return fail(err, errlen, -EINVAL, "process.args[0] is empty");
	/* A bare name is looked up in PATH later; anything with a slash must be
	 * absolute, since the guest's cwd is not known to mean anything here.
	 */
	if (strchr(a0, '/') && a0[0] != '/')
		return fail(err, errlen, -EINVAL,
			    "process.args[0] \"%s\" must be an absolute path "
			    "or a name to find in PATH",
			    a0);
	return 0;
}

static int parse_env(json_t *proc, struct bh_config *cfg, char *err,
		     size_t errlen)
{
	json_t *env = json_object_get(proc, "env");
	if (!env) {
		cfg->env = calloc(1, sizeof(*cfg->env));
		return cfg->env ? 0 : fail(err, errlen, -ENOMEM, "no memory");
	}
	int rc = get_strv(env, "process.env", BH_CFG_MAX_ENV, &cfg->env,
			  &cfg->nenv, err, errlen);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < cfg->nenv; i++) {
		const char *eq = strchr(cfg->env[i], '=');
		if (!eq || eq == cfg->env[i])
			return fail(err, errlen, -EINVAL,
				    "process.env[%zu] \"%.64s\" is not "
				    "NAME=VALUE",
				    i, cfg->env[i]);
	}
	return 0;
}

static int parse_user(json_t *proc, struct bh_config *cfg, char *err,
		      size_t errlen)
{
	json_t *user = json_object_get(proc, "user");
	if (!user)
		return 0;
	if (!json_is_object(user))
		return fail(err, errlen, -EINVAL,
			    "process.user must be an object");
	json_t *v;
	unsigned int id;
	int rc;
	if ((v = json_object_get(user, "uid"))) {
		if ((rc = get_u32(v, "process.user.uid", &id, err, errlen)) < 0)
			return rc;
		cfg->uid = id;
	}
	if ((v = json_object_get(user, "gid"))) {
		if ((rc = get_u32(v, "process.user.gid", &id, err, errlen)) < 0)
			return rc;
		cfg->gid = id;
	}
	if ((v = json_object_get(user, "additionalGids"))) {
		if (!json_is_array(v))
			return fail(err, errlen, -EINVAL,
				    "process.user.additionalGids must be an "
				    "array");
		size_t n = json_array_size(v);
		if (n > CFG_MAX_GIDS)
			return fail(err, errlen, -E2BIG,
				    "process.user.additionalGids has too many "
				    "entries");
		cfg->additional_gids = calloc(n ? n : 1, sizeof(gid_t));
		if (!cfg->additional_gids)
			return fail(err, errlen, -ENOMEM, "out of memory");
		for (size_t i = 0; i < n; i++) {
			rc = get_u32(json_array_get(v, i),
				     "process.user.additionalGids[]", &id, err,
				     errlen);
			if (rc < 0)
				return rc;
			cfg->additional_gids[i] = id;
			cfg->nadditional_gids = i + 1;
		}
	}
	return 0;
}

static const struct {
	const char *name;
	int res;
} rlimit_names[] = {
    {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_CORE", RLIMIT_CORE},
    {"RLIMIT_CPU", RLIMIT_CPU},
    {"RLIMIT_DATA", RLIMIT_DATA},
    {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
    {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_NPROC", RLIMIT_NPROC},
    {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
    {"RLIMIT_RTTIME", RLIMIT_RTTIME},
    {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_STACK", RLIMIT_STACK},
};

static int get_u64(json_t *v, const char *what, unsigned long long *out,
		   char *err, size_t errlen)
{
	if (!json_is_integer(v))
		return fail(err, errlen, -EINVAL, "%s must be an integer",
			    what);
	/* jansson's integers are signed 64-bit; RLIM_INFINITY (2^64-1) does
	 * not fit, so -1 is accepted as its spelling as well. */
	json_int_t i = json_integer_value(v);
	if (i < -1)
		return fail(err, errlen, -ERANGE, "%s is out of range", what);
	*out =
	    i == -1 ? (unsigned long long)RLIM_INFINITY : (unsigned long long)i;
	return 0;
}

#define BH_NR_OPEN 1048576u /* Linux's default fs.nr_open */

static int parse_rlimits(json_t *proc, struct bh_config *cfg, char *err,
			 size_t errlen)
{
	json_t *rl = json_object_get(proc, "rlimits");
	if (!rl)
		return 0;
	if (!json_is_array(rl))
		return fail(err, errlen, -EINVAL,
			    "process.rlimits must be an array");
	size_t n = json_array_size(rl);
	if (n > CFG_MAX_RLIMITS)
		return fail(err, errlen, -E2BIG,
			    "process.rlimits has too many entries");
	cfg->rlimits = calloc(n ? n : 1, sizeof(*cfg->rlimits));
	if (!cfg->rlimits)
		return fail(err, errlen, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		json_t *e = json_array_get(rl, i);
		if (!json_is_object(e))
			return fail(err, errlen, -EINVAL,
				    "process.rlimits[%zu] must be an object",
				    i);
		json_t *t = json_object_get(e, "type");
		if (!json_is_string(t))
			return fail(err, errlen, -EINVAL,
				    "process.rlimits[%zu].type must be a "
				    "string",
				    i);
		int res = -1;
		for (size_t k = 0;
		     k < sizeof(rlimit_names) / sizeof(rlimit_names[0]); k++)
			if (!strcmp(json_string_value(t), rlimit_names[k].name))
				res = rlimit_names[k].res;
		if (res < 0)
			return fail(err, errlen, -EINVAL,
				    "process.rlimits[%zu]: unknown type "
				    "\"%.64s\"",
				    i, json_string_value(t));
		for (size_t k = 0; k < cfg->nrlimits; k++)
			if (cfg->rlimits[k].resource == res)
				return fail(err, errlen, -EINVAL,
					    "process.rlimits: duplicate %s",
					    json_string_value(t));
		struct bh_rlimit *r = &cfg->rlimits[i];
		int rc;
		if ((rc = get_u64(json_object_get(e, "soft"),
				  "process.rlimits[].soft", &r->soft, err,
				  errlen)) < 0)
			return rc;
		if ((rc = get_u64(json_object_get(e, "hard"),
				  "process.rlimits[].hard", &r->hard, err,
				  errlen)) < 0)
			return rc;
		if (r->soft > r->hard)
			return fail(err, errlen, -EINVAL,
				    "process.rlimits[%zu]: soft limit above "
				    "hard limit",
				    i);
		/* As Linux's setrlimit (EPERM past fs.nr_open), which makes
		 * runc fail the same config: the guest must not be told of
		 * a limit no kernel would grant. */
		if (res == RLIMIT_NOFILE && r->hard > BH_NR_OPEN)
			return fail(err, errlen, -EINVAL,
				    "process.rlimits[%zu]: RLIMIT_NOFILE %llu "
				    "is above fs.nr_open (%u)",
				    i, (unsigned long long)r->hard, BH_NR_OPEN);
		r->resource = res;
		cfg->nrlimits = i + 1;
	}
	return 0;
}

static int parse_process(json_t *root, struct bh_config *cfg, char *err,
			 size_t errlen)
{
	json_t *proc = json_object_get(root, "process");
	if (!proc)
		return fail(err, errlen, -EINVAL, "process is missing");
	if (!json_is_object(proc))
		return fail(err, errlen, -EINVAL, "process must be an object");
	int rc;
	if ((rc = parse_args(proc, cfg, err, errlen)) < 0 ||
	    (rc = parse_env(proc, cfg, err, errlen)) < 0 ||
	    (rc = parse_user(proc, cfg, err, errlen)) < 0 ||
	    (rc = parse_rlimits(proc, cfg, err, errlen)) < 0 ||
	    (rc = parse_caps(proc, cfg, err, errlen)) < 0)
		return rc;
	json_t *cwd = json_object_get(proc, "cwd");
	if (cwd) {
		char *s;
		if ((rc = get_str(cwd, "process.cwd", &s, err, errlen)) < 0)
			return rc;
		rc = normalize_abs(s, "process.cwd", &cfg->cwd, err, errlen);
		free(s);
		if (rc < 0)
			return rc;
	} else if (!(cfg->cwd = strdup("/"))) {
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	if ((rc = get_bool(json_object_get(proc, "terminal"),
			   "process.terminal", &cfg->terminal, err, errlen)) <
		0 ||
	    (rc = get_bool(json_object_get(proc, "noNewPrivileges"),
			   "process.noNewPrivileges", &cfg->no_new_privileges,
			   err, errlen)) < 0)
		return rc;
	return 0;
}

static const char *const cap_names[] = {
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

/* One capability list; unknown names are skipped with a warning, as runc
 * does ("ignoring unknown or unavailable capabilities"), so a newer spec
 * still runs. */
static int parse_cap_list(json_t *caps, const char *key, uint64_t *out,
			  char *err, size_t errlen)
{
	*out = 0;
	json_t *a = json_object_get(caps, key);
	if (!a)
		return 0;
	if (!json_is_array(a))
		return fail(err, errlen, -EINVAL,
			    "process.capabilities.%s must be an array", key);
	if (json_array_size(a) > 256)
		return fail(err, errlen, -E2BIG,
			    "process.capabilities.%s is too long", key);
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v)
	{
		const char *n = json_string_value(v);
		if (!n)
			return fail(err, errlen, -EINVAL,
				    "process.capabilities.%s[%zu] must be a "
				    "string",
				    key, i);
		bool known = false;
		for (size_t c = 0; c < sizeof(cap_names) / sizeof(*cap_names);
		     c++)
			if (strcasecmp(n, cap_names[c]) == 0) {
				*out |= 1ull << c;
				known = true;
			}
		if (!known)
			bh_warn("process.capabilities.%s: ignoring unknown "
				"capability \"%.64s\"",
				key, n);
	}
	return 0;
}

static int parse_caps(json_t *proc, struct bh_config *cfg, char *err,
		      size_t errlen)
{
	json_t *caps = json_object_get(proc, "capabilities");
	if (!caps || json_is_null(caps))
		return 0;
	if (!json_is_object(caps))
		return fail(err, errlen, -EINVAL,
			    "process.capabilities must be an object");
	cfg->has_caps = true;
	int rc;
	if ((rc = parse_cap_list(caps, "bounding", &cfg->cap_bounding, err,
				 errlen)) < 0 ||
	    (rc = parse_cap_list(caps, "effective", &cfg->cap_effective, err,
				 errlen)) < 0 ||
	    (rc = parse_cap_list(caps, "permitted", &cfg->cap_permitted, err,
				 errlen)) < 0 ||
	    (rc = parse_cap_list(caps, "inheritable", &cfg->cap_inheritable,
				 err, errlen)) < 0 ||
	    (rc = parse_cap_list(caps, "ambient", &cfg->cap_ambient, err,
				 errlen)) < 0)
		return rc;
	return 0;
}

static int parse_root(json_t *root, struct bh_config *cfg, char *err,
		      size_t errlen)
{
	json_t *r = json_object_get(root, "root");
	if (!r)
		return fail(err, errlen, -EINVAL, "root is missing");
	if (!json_is_object(r))
		return fail(err, errlen, -EINVAL, "root must be an object");
	json_t *p = json_object_get(r, "path");
	if (!p)
		return fail(err, errlen, -EINVAL, "root.path is missing");
	int rc = get_str(p, "root.path", &cfg->root_path, err, errlen);
	if (rc < 0)
		return rc;
	if (cfg->root_path[0] == '\0')
		return fail(err, errlen, -EINVAL, "root.path is empty");
	return get_bool(json_object_get(r, "readonly"), "root.readonly",
			&cfg->root_readonly, err, errlen);
}

/* "size=" for tmpfs: bytes with an optional k/m/g suffix, as mount(8). */
static int parse_size(const char *s, unsigned long *out)
{
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	unsigned int shift = 0;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1])
		return -EINVAL;
	if (v > (ULONG_MAX >> shift))
		return -ERANGE;
	*out = (unsigned long)(v << shift);
	return 0;
}

static int parse_mode(const char *s, unsigned int *out)
{
	if (*s < '0' || *s > '7')
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 8);
	if (errno || *end || v > 07777)
		return -EINVAL;
	*out = (unsigned int)v;
	return 0;
}

static int parse_id(const char *s, unsigned long max, unsigned long *out)
{
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Generic mount flags (mount(8)'s), accepted for any type: the sentry
 * applies its own. */
static bool generic_mount_flag(const char *o)
{
	static const char *const flags[] = {
	    "defaults",	     "nosuid",	    "suid",	   "noexec",
	    "exec",	     "nodev",	    "dev",	   "relatime",
	    "norelatime",    "noatime",	    "atime",	   "strictatime",
	    "nostrictatime", "nodiratime",  "diratime",	   "sync",
	    "async",	     "dirsync",	    "lazytime",	   "nolazytime",
	    "silent",	     "loud",	    "private",	   "rprivate",
	    "shared",	     "rshared",	    "slave",	   "rslave",
	    "unbindable",    "runbindable", "nosymfollow", "mand",
	    "nomand",	     "iversion",    "noiversion",
	};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (!strcmp(o, flags[i]))
			return true;
	return false;
}

/* One devpts option: 0, or a message for an unknown or bad one. */
static int devpts_option(struct bh_mount *m, const char *os)
{
	unsigned long v;
	if (!strcmp(os, "newinstance") || generic_mount_flag(os))
		return 0;
	if (!strncmp(os, "mode=", 5))
		return parse_mode(os + 5, &m->pts_mode);
	if (!strncmp(os, "ptmxmode=", 9))
		return parse_mode(os + 9, &m->pts_ptmxmode);
	if (!strncmp(os, "uid=", 4) || !strncmp(os, "gid=", 4)) {
		if (parse_id(os + 4, 0xfffffffeUL, &v) < 0)
			return -EINVAL;
		if (os[0] == 'u')
			m->pts_uid = (long)v;
		else
			m->pts_gid = (long)v;
		return 0;
	}
	if (!strncmp(os, "max=", 4)) {
		if (parse_id(os + 4, 1UL << 20, &v) < 0)
			return -EINVAL;
		m->pts_max = v;
		return 0;
	}
	return -ENOTSUP;
}

static enum bh_mount_type mount_type_of(const char *t, bool bind_opt)
{
	if (!t || !strcmp(t, "none") || !strcmp(t, "bind"))
		return bind_opt || (t && !strcmp(t, "bind")) ? BH_MOUNT_BIND
							     : BH_MOUNT_OTHER;
	if (bind_opt)
		return BH_MOUNT_BIND;
	if (!strcmp(t, "tmpfs"))
		return BH_MOUNT_TMPFS;
	if (!strcmp(t, "proc"))
		return BH_MOUNT_PROC;
	if (!strcmp(t, "sysfs"))
		return BH_MOUNT_SYSFS;
	if (!strcmp(t, "devpts"))
		return BH_MOUNT_DEVPTS;
	if (!strcmp(t, "mqueue"))
		return BH_MOUNT_MQUEUE;
	if (!strcmp(t, "cgroup") || !strcmp(t, "cgroup2"))
		return BH_MOUNT_CGROUP;
	return BH_MOUNT_OTHER;
}

static int parse_mount(json_t *m, size_t i, struct bh_mount *out,
		       int *next_export, char *err, size_t errlen)
{
	char what[64];
	int rc;
	out->tmpfs_mode = 01777;
	out->pts_mode = 0600;
	out->pts_ptmxmode = 0;
	out->pts_uid = out->pts_gid = -1;
	if (!json_is_object(m))
		return fail(err, errlen, -EINVAL,
			    "mounts[%zu] must be an object", i);
	json_t *d = json_object_get(m, "destination");
	if (!d)
		return fail(err, errlen, -EINVAL,
			    "mounts[%zu].destination is missing", i);
	char *dest;
	snprintf(what, sizeof(what), "mounts[%zu].destination", i);
	if ((rc = get_str(d, what, &dest, err, errlen)) < 0)
		return rc;
	rc = normalize_abs(dest, what, &out->destination, err, errlen);
	free(dest);
	if (rc < 0)
		return rc;

	json_t *t = json_object_get(m, "type");
	if (t) {
		snprintf(what, sizeof(what), "mounts[%zu].type", i);
		if ((rc = get_str(t, what, &out->type_name, err, errlen)) < 0)
			return rc;
	}
	json_t *s = json_object_get(m, "source");
	if (s) {
		snprintf(what, sizeof(what), "mounts[%zu].source", i);
		if ((rc = get_str(s, what, &out->source, err, errlen)) < 0)
			return rc;
	}

	bool bind_opt = false;
	json_t *opts = json_object_get(m, "options");
	if (opts) {
		if (!json_is_array(opts))
			return fail(err, errlen, -EINVAL,
				    "mounts[%zu].options must be an array", i);
		if (json_array_size(opts) > 256)
			return fail(err, errlen, -E2BIG,
				    "mounts[%zu].options has too many entries",
				    i);
		size_t k;
		json_t *o;
		/* Two passes: "bind" decides what the other options mean. */
		json_array_foreach(opts, k, o)
		{
			if (!json_is_string(o))
				return fail(err, errlen, -EINVAL,
					    "mounts[%zu].options[%zu] must be "
					    "a string",
					    i, k);
			const char *os = json_string_value(o);
			if (!strcmp(os, "bind") || !strcmp(os, "rbind"))
				bind_opt = true;
		}
		out->type = mount_type_of(out->type_name, bind_opt);
		json_array_foreach(opts, k, o)
		{
			const char *os = json_string_value(o);
			if (!strcmp(os, "ro"))
				out->readonly = true;
			else if (!strcmp(os, "rw"))
				out->readonly = false;
			else if (out->type == BH_MOUNT_TMPFS &&
				 !strncmp(os, "size=", 5)) {
				if (parse_size(os + 5, &out->tmpfs_size) < 0)
					return fail(err, errlen, -EINVAL,
						    "mounts[%zu]: bad option "
						    "\"%.64s\"",
						    i, os);
			} else if (out->type == BH_MOUNT_TMPFS &&
				   !strncmp(os, "mode=", 5)) {
				if (parse_mode(os + 5, &out->tmpfs_mode) < 0)
					return fail(err, errlen, -EINVAL,
						    "mounts[%zu]: bad option "
						    "\"%.64s\"",
						    i, os);
			} else if (out->type == BH_MOUNT_DEVPTS) {
				int dr = devpts_option(out, os);
				if (dr == -ENOTSUP)
					return fail(
					    err, errlen, -EINVAL,
					    "mounts[%zu]: devpts option "
					    "\"%.64s\" is not supported",
					    i, os);
				if (dr < 0)
					return fail(err, errlen, -EINVAL,
						    "mounts[%zu]: bad option "
						    "\"%.64s\"",
						    i, os);
			}
			/* Other options (nosuid, nodev, …) are ignored: the
			 * sentry enforces its own defaults. */
		}
	} else {
		out->type = mount_type_of(out->type_name, false);
	}
	if (!out->type_name && !(out->type_name = strdup(
				     out->type == BH_MOUNT_BIND ? "bind" : "")))
		return fail(err, errlen, -ENOMEM, "out of memory");
	/* Refused, not skipped: a program would find the path missing or
	 * empty with nothing saying why. */
	if (out->type == BH_MOUNT_OTHER)
		return fail(err, errlen, -EINVAL,
			    "mounts[%zu]: type \"%.64s\" at %s is not "
			    "supported (the sandbox has no block devices or "
			    "host filesystems: use a bind mount, tmpfs, proc, "
			    "sysfs, devpts, mqueue or cgroup)",
			    i, out->type_name, out->destination);
	if (!strcmp(out->destination, "/"))
		return fail(err, errlen, -EINVAL,
			    "mounts[%zu]: a mount on / is not supported (the "
			    "root is root.path)",
			    i);

	if (out->type == BH_MOUNT_BIND) {
		if (!out->source || !out->source[0])
			return fail(err, errlen, -EINVAL,
				    "mounts[%zu]: bind mount of \"%s\" needs a "
				    "source",
				    i, out->destination);
		out->export_idx = (*next_export)++;
	}
	return 0;
}

static int parse_mounts(json_t *root, struct bh_config *cfg, char *err,
			size_t errlen)
{
	json_t *ms = json_object_get(root, "mounts");
	if (!ms)
		return 0;
	if (!json_is_array(ms))
		return fail(err, errlen, -EINVAL, "mounts must be an array");
	size_t n = json_array_size(ms);
	if (n > BH_CFG_MAX_MOUNTS)
		return fail(err, errlen, -E2BIG,
			    "mounts has too many entries (%zu > %d)", n,
			    BH_CFG_MAX_MOUNTS);
	cfg->mounts = calloc(n ? n : 1, sizeof(*cfg->mounts));
	if (!cfg->mounts)
		return fail(err, errlen, -ENOMEM, "out of memory");
	int next_export = 1;
	for (size_t i = 0; i < n; i++) {
		cfg->nmounts = i + 1;
		int rc = parse_mount(json_array_get(ms, i), i, &cfg->mounts[i],
				     &next_export, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static const struct {
	const char *name;
	unsigned int flag;
} ns_names[] = {
    {"pid", CLONE_NEWPID},	 {"network", CLONE_NEWNET},
    {"ipc", CLONE_NEWIPC},	 {"uts", CLONE_NEWUTS},
    {"mount", CLONE_NEWNS},	 {"user", CLONE_NEWUSER},
    {"cgroup", CLONE_NEWCGROUP}, {"time", CLONE_NEWTIME},
};

static int parse_linux(json_t *root, struct bh_config *cfg, char *err,
		       size_t errlen)
{
	json_t *lx = json_object_get(root, "linux");
	if (!lx)
		return 0;
	if (!json_is_object(lx))
		return fail(err, errlen, -EINVAL, "linux must be an object");
	json_t *nss = json_object_get(lx, "namespaces");
	if (!nss)
		return 0;
	if (!json_is_array(nss))
		return fail(err, errlen, -EINVAL,
			    "linux.namespaces must be an array");
	size_t i;
	json_t *ns;
	json_array_foreach(nss, i, ns)
	{
		if (!json_is_object(ns))
			return fail(err, errlen, -EINVAL,
				    "linux.namespaces[%zu] must be an object",
				    i);
		json_t *t = json_object_get(ns, "type");
		if (!json_is_string(t))
			return fail(err, errlen, -EINVAL,
				    "linux.namespaces[%zu].type must be a "
				    "string",
				    i);
		const char *tn = json_string_value(t);
		unsigned int flag = 0;
		for (size_t k = 0; k < sizeof(ns_names) / sizeof(ns_names[0]);
		     k++)
			if (!strcmp(tn, ns_names[k].name))
				flag = ns_names[k].flag;
		if (!flag)
			return fail(err, errlen, -EINVAL,
				    "linux.namespaces[%zu]: unknown type "
				    "\"%.64s\"",
				    i, tn);
		if (cfg->ns_flags & flag)
			return fail(err, errlen, -EINVAL,
				    "linux.namespaces: duplicate type \"%s\"",
				    tn);
		json_t *p = json_object_get(ns, "path");
		if (p && !json_is_string(p))
			return fail(err, errlen, -EINVAL,
				    "linux.namespaces[%zu].path must be a "
				    "string",
				    i);
		if (p && flag == CLONE_NEWNET) {
			const char *ps = json_string_value(p);
			if (ps[0] != '/' || strlen(ps) >= PATH_MAX)
				return fail(
				    err, errlen, -EINVAL,
				    "linux.namespaces[%zu].path must be "
				    "an absolute path",
				    i);
			if (!(cfg->netns_path = strdup(ps)))
				return fail(err, errlen, -ENOMEM,
					    "out of memory");
		}
		cfg->ns_flags |= flag;
	}
	return 0;
}

static int parse_annotations(json_t *root, struct bh_config *cfg, char *err,
			     size_t errlen)
{
	json_t *an = json_object_get(root, "annotations");
	if (!an)
		return 0;
	if (!json_is_object(an))
		return fail(err, errlen, -EINVAL,
			    "annotations must be an object");
	size_t n = json_object_size(an);
	if (n > CFG_MAX_ANNOTATIONS)
		return fail(err, errlen, -E2BIG,
			    "annotations has too many entries");
	cfg->annotations = calloc(2 * n + 1, sizeof(char *));
	if (!cfg->annotations)
		return fail(err, errlen, -ENOMEM, "out of memory");
	const char *key;
	json_t *v;
	size_t k = 0;
	json_object_foreach(an, key, v)
	{
		if (strlen(key) > BH_CFG_MAX_STR)
			return fail(err, errlen, -E2BIG,
				    "annotation key is too long");
		if (!(cfg->annotations[k] = strdup(key)))
			return fail(err, errlen, -ENOMEM, "out of memory");
		k++;
		char what[96];
		snprintf(what, sizeof(what), "annotations[\"%.48s\"]", key);
		int rc = get_str(v, what, &cfg->annotations[k], err, errlen);
		if (rc < 0)
			return rc;
		k++;
		cfg->nannotations++;
	}
	return 0;
}

int bh_config_parse(const char *json, size_t len, struct bh_config *cfg,
		    char *err, size_t errlen)
{
	memset(cfg, 0, sizeof(*cfg));
	if (err && errlen)
		err[0] = '\0';
	if (len > BH_CFG_MAX_BYTES)
		return fail(err, errlen, -EFBIG,
			    "file is too large (%zu bytes, limit %u)", len,
			    BH_CFG_MAX_BYTES);
	json_error_t je;
	json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return fail(err, errlen, -EINVAL, "line %d column %d: %s",
			    je.line, je.column, je.text);
	int rc;
	if (!json_is_object(root)) {
		rc = fail(err, errlen, -EINVAL, "top level must be an object");
		goto out;
	}
	json_t *v = json_object_get(root, "ociVersion");
	if (v &&
	    (rc = get_str(v, "ociVersion", &cfg->oci_version, err, errlen)) < 0)
		goto out;
	if ((rc = parse_process(root, cfg, err, errlen)) < 0 ||
	    (rc = parse_root(root, cfg, err, errlen)) < 0 ||
	    (rc = parse_mounts(root, cfg, err, errlen)) < 0 ||
	    (rc = parse_linux(root, cfg, err, errlen)) < 0 ||
	    (rc = bh_resources_parse(root, &cfg->res, err, errlen)) < 0 ||
	    (rc = parse_annotations(root, cfg, err, errlen)) < 0)
		goto out;
	v = json_object_get(root, "hostname");
	if (v && (rc = get_str(v, "hostname", &cfg->hostname, err, errlen)) < 0)
		goto out;
	if (cfg->hostname && strlen(cfg->hostname) > 64) {
		rc = fail(err, errlen, -EINVAL,
			  "hostname is longer than 64 bytes");
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	if (rc < 0)
		bh_config_free(cfg);
	return rc;
}

/* Read an fd to EOF, bounded. pread from 0 when the fd is seekable so a
 * shared file offset (the CLI's memfd) does not matter. */
static int read_bounded(int fd, char **out, size_t *outlen, char *err,
			size_t errlen)
{
	size_t cap = 65536, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		return fail(err, errlen, -ENOMEM, "out of memory");
	bool seekable = lseek(fd, 0, SEEK_CUR) >= 0;
	for (;;) {
		if (len == cap) {
			if (cap > BH_CFG_MAX_BYTES) {
				free(buf);
				return fail(err, errlen, -EFBIG,
					    "file is larger than %u bytes",
					    BH_CFG_MAX_BYTES);
			}
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb) {
				free(buf);
				return fail(err, errlen, -ENOMEM,
					    "out of memory");
			}
			buf = nb;
		}
		ssize_t n = seekable
				? pread(fd, buf + len, cap - len, (off_t)len)
				: read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			return fail(err, errlen, -e, "read: %s", strerror(e));
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > BH_CFG_MAX_BYTES) {
		free(buf);
		return fail(err, errlen, -EFBIG, "file is larger than %u bytes",
			    BH_CFG_MAX_BYTES);
	}
	buf[len] = '\0';
	*out = buf;
	*outlen = len;
	return 0;
}

int bh_config_read(const char *bundle, char **json, size_t *len, char *err,
		   size_t errlen)
{
	char path[PATH_MAX];
	if ((size_t)snprintf(path, sizeof(path), "%s/config.json", bundle) >=
	    sizeof(path))
		return fail(err, errlen, -ENAMETOOLONG,
			    "bundle path is too long");
	/* O_NONBLOCK so a FIFO planted as config.json cannot hang us. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		int e = errno;
		if (err && errlen)
			snprintf(err, errlen, "cannot open %s: %s", path,
				 strerror(e));
		return -e;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		if (err && errlen)
			snprintf(err, errlen, "%s is not a regular file", path);
		return -EINVAL;
	}
	if (st.st_size > (off_t)BH_CFG_MAX_BYTES) {
		close(fd);
		return fail(err, errlen, -EFBIG,
			    "file is too large (%lld bytes, limit %u)",
			    (long long)st.st_size, BH_CFG_MAX_BYTES);
	}
	int rc = read_bounded(fd, json, len, err, errlen);
	close(fd);
	return rc;
}

int bh_config_load(const char *bundle, struct bh_config *cfg, char *err,
		   size_t errlen)
{
	char *json;
	size_t len;
	memset(cfg, 0, sizeof(*cfg));
	int rc = bh_config_read(bundle, &json, &len, err, errlen);
	if (rc < 0)
		return rc;
	rc = bh_config_parse(json, len, cfg, err, errlen);
	free(json);
	return rc;
}

int bh_config_load_fd(int fd, struct bh_config *cfg, char *err, size_t errlen)
{
	char *json;
	size_t len;
	memset(cfg, 0, sizeof(*cfg));
	int rc = read_bounded(fd, &json, &len, err, errlen);
	if (rc < 0)
		return rc;
	rc = bh_config_parse(json, len, cfg, err, errlen);
	free(json);
	return rc;
}

void bh_config_free(struct bh_config *cfg)
{
	free(cfg->oci_version);
	free_strv(cfg->args);
	free_strv(cfg->env);
	free(cfg->cwd);
	free(cfg->additional_gids);
	free(cfg->rlimits);
	free(cfg->root_path);
	free(cfg->hostname);
	free(cfg->netns_path);
	for (size_t i = 0; i < cfg->nmounts; i++) {
		free(cfg->mounts[i].destination);
		free(cfg->mounts[i].source);
		free(cfg->mounts[i].type_name);
	}
	free(cfg->mounts);
	free_strv(cfg->annotations);
	bh_resources_free(&cfg->res);
	memset(cfg, 0, sizeof(*cfg));
}

const char *bh_config_getenv(const struct bh_config *cfg, const char *name)
{
	size_t n = strlen(name);
	/* The last definition wins, as with execve's environment in practice
	 * (getenv of most libcs returns the first; OCI runtimes dedupe to the
	 * last). */
	const char *found = NULL;
	for (size_t i = 0; i < cfg->nenv; i++)
		if (!strncmp(cfg->env[i], name, n) && cfg->env[i][n] == '=')
			found = cfg->env[i] + n + 1;
	return found;
}
