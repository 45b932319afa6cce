/* The state directory of one container, <root>/<id>/: state.json (what the
 * CLI recorded at create/start), the lock that serialises commands on the
 * container, and the sentry's control socket. */
#ifndef SHIM_STATE_H
#define SHIM_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#define STATE_OCI_VERSION "1.0.2"
#define STATE_FILE	  "state.json"
#define STATE_LOCK	  "lock"
#define STATE_CONTROL	  "control.sock"

/* In the state dir: the cgroup directories create made (cgroup.h). */
#define STATE_CGROUPS_FILE "cgroups"

struct state {
	char *id;
	char *dir; /* <root>/<id> */
	int lock_fd;
	pid_t pid; /* the sentry */
	unsigned long long pid_start;
	pid_t gofer_pid;
	unsigned long long gofer_start;
	char *bundle; /* absolute */
	char *rootfs; /* absolute */
	char *created;
	char *platform;
	char
	    status[16]; /* as last recorded: "creating", "created", "running" */
	json_t *annotations; /* object or NULL */
};

/* Make the root (0711) if missing and <root>/<id> (0700), and take its lock.
 * -EEXIST if the container exists. */
int state_create(const char *root, const char *id, struct state *st);
/* Lock <root>/<id> and load state.json. -ENOENT if there is no such
 * container. With allow_partial, a directory without state.json (a create
 * that died) opens with pid 0 so that delete can clean it. */
int state_open(const char *root, const char *id, bool allow_partial,
	       struct state *st);
/* Write state.json atomically. */
int state_save(const struct state *st);
/* "created", "running" or "stopped", from the recorded status and whether
 * the sentry (pid + start time) still runs. */
const char *state_status(const struct state *st);
/* The OCI state (runtime-spec "State") as printed by `bulkhead state`. */
json_t *state_oci_json(const struct state *st);
/* Remove the state directory; the lock stays held until state_close. */
int state_destroy(struct state *st);
/* Release the lock and free st. */
void state_close(struct state *st);
/* Path of a file in the state dir into buf; -ENAMETOOLONG if it does not
 * fit. */
int state_path(const struct state *st, const char *name, char *buf, size_t len);
/* The valid container ids under root, sorted; malloc'd vector. */
int state_list(const char *root, char ***ids, size_t *n);

#endif
