#include "runsc-shim/state.h"

#include "bulkhead/log.h"
#include "runsc-shim/cgroup.h"
#include "runsc-shim/fsutil.h"
#include "runsc-shim/id.h"
#include "runsc-shim/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Annotations come from config.json (<= 4 MiB); leave room for the rest. */
#define STATE_MAX_BYTES (8u << 20)

static int state_init(const char *root, const char *id, struct state *st)
{
	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
	if (id_validate(id) < 0)
		return -EINVAL;
	st->id = strdup(id);
	if (!st->id || asprintf(&st->dir, "%s/%s", root, id) < 0) {
		st->dir = NULL;
		return -ENOMEM;
	}
	if (strlen(st->dir) + sizeof("/" STATE_FILE ".tmp.4294967295") >=
	    PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

int state_path(const struct state *st, const char *name, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/%s", st->dir, name) >= len)
		return -ENAMETOOLONG;
	return 0;
}

static int state_lock(struct state *st)
{
	char path[PATH_MAX];
	int rc = state_path(st, STATE_LOCK, path, sizeof(path));
	if (rc < 0)
		return rc;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			int e = errno;
			close(fd);
			return -e;
		}
	}
	st->lock_fd = fd;
	return 0;
}

/* mkdir -p for the root only: its parents get 0755 like any system dir. */
static int mkdir_root(const char *root)
{
	if (mkdir(root, 0711) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	char *copy = strdup(root);
	if (!copy)
		return -ENOMEM;
	char *slash = strrchr(copy, '/');
	int rc = 0;
	if (slash && slash != copy) {
		*slash = '\0';
		rc = mkdir_root(copy);
		if (rc == 0 && chmod(copy, 0755) < 0)
			rc = 0; /* the parent existed with its own mode */
	}
	free(copy);
	if (rc < 0)
		return rc;
	if (mkdir(root, 0711) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int state_create(const char *root, const char *id, struct state *st)
{
	int rc = state_init(root, id, st);
	if (rc < 0)
		return rc;
	if ((rc = mkdir_root(root)) < 0)
		return rc;
	if (mkdir(st->dir, 0700) < 0)
		return -errno;
	if ((rc = state_lock(st)) < 0) {
		rmdir(st->dir);
		return rc;
	}
	strcpy(st->status, "created");
	return 0;
}

static int get_pid(json_t *o, const char *key, pid_t *out)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > INT32_MAX)
		return -EINVAL;
	*out = (pid_t)json_integer_value(v);
	return 0;
}

static int get_ull(json_t *o, const char *key, unsigned long long *out)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -EINVAL;
	*out = (unsigned long long)json_integer_value(v);
	return 0;
}

static int get_str(json_t *o, const char *key, char **out)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (!json_is_string(v) || json_string_length(v) >= PATH_MAX ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return -EINVAL;
	*out = strdup(json_string_value(v));
	return *out ? 0 : -ENOMEM;
}

static int state_parse(struct state *st, const char *buf, size_t len)
{
	json_t *o = json_loadb(buf, len, 0, NULL);
	if (!o)
		return -EINVAL;
	int rc = -EINVAL;
	if (!json_is_object(o))
		goto out;
	json_t *id = json_object_get(o, "id");
	if (!json_is_string(id) || strcmp(json_string_value(id), st->id))
		goto out;
	if (get_pid(o, "pid", &st->pid) < 0 ||
	    get_ull(o, "pid_start", &st->pid_start) < 0 ||
	    get_pid(o, "gofer_pid", &st->gofer_pid) < 0 ||
	    get_ull(o, "gofer_start", &st->gofer_start) < 0 ||
	    get_str(o, "bundle", &st->bundle) < 0 ||
	    get_str(o, "rootfs", &st->rootfs) < 0 ||
	    get_str(o, "created", &st->created) < 0 ||
	    get_str(o, "platform", &st->platform) < 0)
		goto out;
	json_t *s = json_object_get(o, "status");
	if (!json_is_string(s))
		goto out;
	if (!strcmp(json_string_value(s), "running"))
		strcpy(st->status, "running");
	else if (!strcmp(json_string_value(s), "creating"))
		strcpy(st->status, "creating");
	else
		strcpy(st->status, "created");
	json_t *an = json_object_get(o, "annotations");
	if (an) {
		if (!json_is_object(an))
			goto out;
		json_t *v;
		const char *k;
		json_object_foreach(an, k, v) if (!json_is_string(v)) goto out;
		st->annotations = json_incref(an);
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

int state_open(const char *root, const char *id, bool allow_partial,
	       struct state *st)
{
	int rc = state_init(root, id, st);
	if (rc < 0)
		return rc;
	struct stat sb;
	if (lstat(st->dir, &sb) < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	if (!S_ISDIR(sb.st_mode))
		return -ENOENT;
	if ((rc = state_lock(st)) < 0)
		return rc;
	char path[PATH_MAX];
	if ((rc = state_path(st, STATE_FILE, path, sizeof(path))) < 0)
		return rc;
	char *buf;
	size_t len;
	rc = fsutil_read_file(path, STATE_MAX_BYTES, &buf, &len);
	if (rc == -ENOENT && allow_partial) {
		/* A create that died before recording anything: there is
		 * nothing to kill, only the directory to remove. */
		if (access(st->dir, F_OK) < 0)
			return -ENOENT;
		strcpy(st->status, "created");
		return 0;
	}
	if (rc < 0)
		return rc;
	rc = state_parse(st, buf, len);
	free(buf);
	return rc;
}

int state_save(const struct state *st)
{
	json_t *o = json_pack(
	    "{s:s, s:s, s:i, s:I, s:i, s:I, s:s, s:s, s:s, s:s, s:s}",
	    "ociVersion", STATE_OCI_VERSION, "id", st->id, "pid", (int)st->pid,
	    "pid_start", (json_int_t)st->pid_start, "gofer_pid",
	    (int)st->gofer_pid, "gofer_start", (json_int_t)st->gofer_start,
	    "bundle", st->bundle ? st->bundle : "", "rootfs",
	    st->rootfs ? st->rootfs : "", "created",
	    st->created ? st->created : "", "status", st->status, "platform",
	    st->platform ? st->platform : "");
	if (!o)
		return -ENOMEM;
	if (st->annotations)
		json_object_set(o, "annotations", st->annotations);
	char *text = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	char path[PATH_MAX];
	int rc = state_path(st, STATE_FILE, path, sizeof(path));
	if (rc == 0)
		rc = fsutil_write_atomic(path, text, strlen(text), 0600);
	free(text);
	return rc;
}

const char *state_status(const struct state *st)
{
	if (!proc_alive(st->pid, st->pid_start))
		return "stopped";
	return st->status;
}

json_t *state_oci_json(const struct state *st)
{
	const char *status = state_status(st);
	bool stopped = !strcmp(status, "stopped");
	json_t *o = json_pack("{s:s, s:s, s:s, s:i, s:s, s:s}", "ociVersion",
			      STATE_OCI_VERSION, "id", st->id, "status", status,
			      "pid", stopped ? 0 : (int)st->pid, "bundle",
			      st->bundle ? st->bundle : "", "created",
			      st->created ? st->created : "");
	if (o && st->rootfs)
		json_object_set_new(o, "rootfs", json_string(st->rootfs));
	if (o && st->annotations && json_object_size(st->annotations))
		json_object_set(o, "annotations", st->annotations);
	return o;
}

int state_destroy(struct state *st)
{
	/* The sandbox's cgroup first, while its record is there; one that
	 * still holds a live process (a state removed without killing) stays
	 * with a log line. */
	char rec[PATH_MAX];
	snprintf(rec, sizeof(rec), "%s/%s", st->dir, STATE_CGROUPS_FILE);
	int rc = cgroup_remove_recorded(rec);
	if (rc < 0)
		bh_warn("container %s: removing its cgroup: %s", st->id,
			strerror(-rc));
	return fsutil_remove_flat_dir(st->dir);
}

void state_close(struct state *st)
{
	if (st->lock_fd >= 0)
		close(st->lock_fd);
	free(st->id);
	free(st->dir);
	free(st->bundle);
	free(st->rootfs);
	free(st->created);
	free(st->platform);
	json_decref(st->annotations);
	memset(st, 0, sizeof(*st));
	st->lock_fd = -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int state_list(const char *root, char ***ids, size_t *n)
{
	*ids = NULL;
	*n = 0;
	DIR *d = opendir(root);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	size_t cap = 0;
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d))) {
		if (id_validate(de->d_name) < 0)
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_UNKNOWN)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nv = realloc(*ids, cap * sizeof(char *));
			if (!nv) {
				rc = -ENOMEM;
				break;
			}
			*ids = nv;
		}
		if (!((*ids)[*n] = strdup(de->d_name))) {
			rc = -ENOMEM;
			break;
		}
		(*n)++;
	}
	closedir(d);
	if (*n)
		qsort(*ids, *n, sizeof(char *), cmp_str);
	return rc;
}
