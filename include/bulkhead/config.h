/* The parts of an OCI config.json that Bulkhead uses, parsed and validated
 * once (lib/config.c, jansson) by the CLI and again by the sentry from the
 * same bytes. Everything here is bounded and checked; nothing points back
 * into the JSON. */
#ifndef BULKHEAD_CONFIG_H
#define BULKHEAD_CONFIG_H

#include <stdbool.h>

#include "bulkhead/resources.h"
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BH_CFG_MAX_ARGS	  4096
#define BH_CFG_MAX_ENV	  4096
#define BH_CFG_MAX_MOUNTS 128
#define BH_CFG_MAX_STR	  4096
#define BH_CFG_MAX_BYTES  (4u << 20) /* refuse larger config.json files */

enum bh_mount_type {
	BH_MOUNT_BIND =
	    1, /* type "bind" or "none"/absent with "bind"/"rbind" option */
	BH_MOUNT_TMPFS,
	BH_MOUNT_PROC,
	BH_MOUNT_SYSFS,
	BH_MOUNT_DEVPTS,
	BH_MOUNT_MQUEUE,
	BH_MOUNT_CGROUP,
	BH_MOUNT_OTHER, /* accepted and skipped by the sentry, with a log line
			 */
};

struct bh_mount {
	char *destination; /* absolute, normalised (no "." / ".." / "//") */
	char *source;	   /* bind: absolute host path (relative: to bundle) */
	enum bh_mount_type type;
	char *type_name; /* as written, for messages */
	bool readonly;	 /* "ro" option */
	unsigned long
	    tmpfs_size;		 /* "size=" option for tmpfs, bytes; 0 = none */
	unsigned int tmpfs_mode; /* "mode=" option, default 01777 */
	int export_idx; /* bind mounts: gofer export index (1..), else 0 */
	/* devpts options: "mode=" of the slaves (default 0600),
	 * "ptmxmode=" (default 0000), "uid="/"gid=" of the slaves (-1: the
	 * opener's), "max=" ptys (0: the sentry's own bound). Every devpts
	 * mount is a new instance ("newinstance" is accepted). */
	unsigned int pts_mode, pts_ptmxmode;
	long pts_uid, pts_gid;
	unsigned long pts_max;
};

struct bh_rlimit {
	int resource; /* RLIMIT_* */
	unsigned long long soft, hard;
};

struct bh_config {
	char *oci_version;
	/* process */
	char **args; /* NULL-terminated, nargs >= 1, args[0] non-empty */
	size_t nargs;
	char **env; /* NULL-terminated "K=V" strings */
	size_t nenv;
	char *cwd; /* absolute, default "/" */
	uid_t uid;
	gid_t gid;
	gid_t *additional_gids;
	size_t nadditional_gids;
	bool terminal;
	bool no_new_privileges;
	/* process.capabilities as bit masks (bit n = capability n); without
	 * the object has_caps is false and the runtime picks its default. */
	bool has_caps;
	uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable,
	    cap_ambient;
	struct bh_rlimit *rlimits;
	size_t nrlimits;
	/* root */
	char *root_path; /* as written; resolve against the bundle */
	bool root_readonly;
	char *hostname; /* may be NULL */
	struct bh_mount *mounts;
	size_t nmounts;
	/* linux.namespaces: which types were requested (validated names). */
	unsigned int ns_flags; /* CLONE_NEW* bits */
	/* The "network" entry's path (a netns to join), or NULL: none given
	 * (a fresh namespace) or no "network" entry at all. */
	char *netns_path;
	char **annotations;  /* key, value, key, value, ..., NULL */
	size_t nannotations; /* number of pairs */
	/* linux.resources and linux.cgroupsPath (bulkhead/resources.h). */
	struct bh_resources res;
};

/* Parse config.json text. On failure returns a negative errno and writes one
 * human-readable line (no newline) to err, e.g.
 * "config.json: process.args[0] must be an absolute path or a name to find in
 * PATH". */
int bh_config_parse(const char *json, size_t len, struct bh_config *cfg,
		    char *err, size_t errlen);
/* Read <bundle>/config.json into a malloc'd, NUL-terminated buffer (size-
 * bounded, regular files only) without parsing it: the CLI keeps the exact
 * bytes to hand to the sentry. */
int bh_config_read(const char *bundle, char **json, size_t *len, char *err,
		   size_t errlen);
/* Read and parse <bundle>/config.json (size-bounded). */
int bh_config_load(const char *bundle, struct bh_config *cfg, char *err,
		   size_t errlen);
/* Read and parse from an open fd (the sentry gets the CLI's copy). */
int bh_config_load_fd(int fd, struct bh_config *cfg, char *err, size_t errlen);
void bh_config_free(struct bh_config *cfg);

/* Value of NAME in cfg->env, or NULL. */
const char *bh_config_getenv(const struct bh_config *cfg, const char *name);

#endif
