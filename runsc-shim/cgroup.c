/* The cgroup manager's common part: finding the hierarchies, resolving
 * the container's path in each, the file helpers, joining and removal. */
#include "runsc-shim/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bulkhead/log.h"

/* A fake tree (tests: a sysroot other than ""): control files do not
 * appear by themselves in a plain directory, so writes create them. */
static bool cg_fake;

static const char *const v1_controllers[] = {
    "cpu",	  "cpuacct", "cpuset", "memory",  "devices",
    "freezer",	  "blkio",   "pids",   "net_cls", "net_prio",
    "perf_event", "hugetlb", "rdma",   "misc",	  NULL};

static bool is_v1_controller(const char *s, size_t n)
{
	for (size_t i = 0; v1_controllers[i]; i++)
		if (strlen(v1_controllers[i]) == n &&
		    !strncmp(v1_controllers[i], s, n))
			return true;
	return false;
}

/* "rw,nosuid,cpu,cpuacct" -> "cpu,cpuacct" (controllers only, in order). */
static char *controllers_of(const char *opts)
{
	char *out = calloc(1, strlen(opts) + 1);
	if (!out)
		return NULL;
	for (const char *p = opts; *p;) {
		const char *e = strchr(p, ',');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (is_v1_controller(p, n)) {
			if (*out)
				strcat(out, ",");
			strncat(out, p, n);
		}
		p += n + (e ? 1 : 0);
	}
	return out;
}

/* mountinfo's octal escapes (\040 for a space) in place. */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] &&
		    r[3]) {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 +
				      (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = '\0';
}

static int join_path(char **out, const char *a, const char *b)
{
	size_t la = strlen(a);
	while (la && a[la - 1] == '/')
		la--;
	while (*b == '/')
		b++;
	if (asprintf(out, "%.*s%s%s", (int)la, a, *b ? "/" : "", b) < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The caller's own cgroup in the hierarchy with these controllers (v1) or
 * the unified one (ctrl NULL), from sysroot/proc/self/cgroup. */
static int current_path(const char *sysroot, const char *ctrl, char **out)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/proc/self/cgroup", sysroot);
	FILE *f = fopen(path, "re");
	if (!f)
		return -errno;
	char line[4096];
	int rc = -ENOENT;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		char *c1 = strchr(line, ':');
		char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
		if (!c2)
			continue;
		*c1 = *c2 = '\0';
		const char *list = c1 + 1;
		bool match;
		if (!ctrl) {
			match = !strcmp(line, "0") && !*list;
		} else {
			/* The same set, in any order. */
			char *mine = controllers_of(list);
			match = mine && strlen(mine) == strlen(ctrl);
			for (const char *p = ctrl; match && *p;) {
				const char *e = strchr(p, ',');
				size_t n = e ? (size_t)(e - p) : strlen(p);
				char want[64];
				snprintf(want, sizeof(want), "%.*s", (int)n, p);
				bool found = false;
				for (char *q = mine; q && *q;) {
					char *qe = strchr(q, ',');
					size_t qn =
					    qe ? (size_t)(qe - q) : strlen(q);
					found |= qn == n && !strncmp(q, p, n);
					q += qn + (qe ? 1 : 0);
				}
				match = found;
				p += n + (e ? 1 : 0);
			}
			free(mine);
		}
		if (match) {
			*out = strdup(c2 + 1);
			rc = *out ? 0 : -ENOMEM;
			break;
		}
	}
	fclose(f);
	return rc;
}

/* systemd's "slice:prefix:name" as its cgroupfs path: a-b.slice is
 * a.slice/a-b.slice, the unit prefix-name.scope. */
static int systemd_path(const char *spec, char **out)
{
	const char *c1 = strchr(spec, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c2 || strchr(c2 + 1, ':'))
		return -EINVAL;
	char slice[512], prefix[256], name[512];
	snprintf(slice, sizeof(slice), "%.*s", (int)(c1 - spec), spec);
	snprintf(prefix, sizeof(prefix), "%.*s", (int)(c2 - c1 - 1), c1 + 1);
	snprintf(name, sizeof(name), "%s", c2 + 1);
	if (!*name || strchr(slice, '/') || strchr(prefix, '/') ||
	    strchr(name, '/'))
		return -EINVAL;
	char dirs[2048] = "";
	if (*slice && strcmp(slice, "-.slice")) {
		size_t n = strlen(slice);
		if (n < 7 || strcmp(slice + n - 6, ".slice"))
			return -EINVAL;
		/* Each dash-separated prefix is a parent slice. */
		for (size_t i = 0; i < n - 6; i++)
			if (slice[i] == '-') {
				if (i == 0 || slice[i - 1] == '-')
					return -EINVAL;
				size_t l = strlen(dirs);
				snprintf(dirs + l, sizeof(dirs) - l,
					 "/%.*s.slice", (int)i, slice);
			}
		size_t l = strlen(dirs);
		snprintf(dirs + l, sizeof(dirs) - l, "/%s", slice);
	}
	int r = *prefix ? asprintf(out, "%s/%s-%s.scope", dirs, prefix, name)
			: asprintf(out, "%s/%s.scope", dirs, name);
	if (r < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

/* The container's path relative to the hierarchy's root, given the
 * caller's own (cur). */
static int leaf_rel(const struct bh_resources *r, const char *id,
		    const char *cur, char **out)
{
	const char *p = r->cgroups_path;
	if (!p) {
		char tail[1100];
		snprintf(tail, sizeof(tail), "bulkhead/%s", id);
		return join_path(out, cur, tail);
	}
	if (p[0] == '/')
		return (*out = strdup(p)) ? 0 : -ENOMEM;
	if (strchr(p, ':'))
		return systemd_path(p, out);
	return join_path(out, cur, p);
}

static void hier_add(struct cgroup *cg, const char *mnt, const char *ctrl)
{
	if (cg->nhier >= CG_MAX_DIRS)
		return;
	/* A hierarchy mounted twice counts once. */
	for (int i = 0; i < cg->nhier; i++)
		if ((!ctrl && !cg->ctrl[i]) ||
		    (ctrl && cg->ctrl[i] && !strcmp(ctrl, cg->ctrl[i])))
			return;
	cg->mnt[cg->nhier] = strdup(mnt);
	cg->ctrl[cg->nhier] = ctrl ? strdup(ctrl) : NULL;
	cg->nhier++;
}

int cgroup_open(const char *sysroot, const struct bh_resources *r,
		const char *id, struct cgroup *cg, char *err, size_t errlen)
{
	memset(cg, 0, sizeof(*cg));
	for (int i = 0; i < CG_MAX_DIRS; i++)
		cg->procs_fd[i] = -1;
	cg->sysroot = sysroot;
	cg_fake = sysroot[0] != '\0';
	char path[4096];
	snprintf(path, sizeof(path), "%s/proc/self/mountinfo", sysroot);
	FILE *f = fopen(path, "re");
	if (!f) {
		snprintf(err, errlen, "cgroups: %s: %s", path, strerror(errno));
		return -errno;
	}
	char line[8192], v2mnt[8192] = "";
	bool pure_v2 = false;
	char top[4096];
	snprintf(top, sizeof(top), "%s/sys/fs/cgroup", sysroot);
	while (fgets(line, sizeof(line), f)) {
		char *sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		char mnt[4096], fstype[64], source[256], opts[2048];
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s %255s %2047s", fstype, source,
			   opts) != 3)
			continue;
		unescape(mnt);
		char full[8192];
		snprintf(full, sizeof(full), "%s%s", sysroot, mnt);
		if (!strcmp(fstype, "cgroup2")) {
			if (!strcmp(full, top))
				pure_v2 = true;
			snprintf(v2mnt, sizeof(v2mnt), "%s", full);
		} else if (!strcmp(fstype, "cgroup")) {
			char *ctrl = controllers_of(opts);
			if (ctrl && *ctrl)
				hier_add(cg, full, ctrl);
			free(ctrl);
		}
	}
	fclose(f);
	if (pure_v2 || (!cg->nhier && *v2mnt)) {
		for (int i = 0; i < cg->nhier; i++) {
			free(cg->mnt[i]);
			free(cg->ctrl[i]);
			cg->mnt[i] = cg->ctrl[i] = NULL;
		}
		cg->nhier = 0;
		hier_add(cg, v2mnt, NULL);
		cg->ops = &cgroup_v2_ops;
	} else if (cg->nhier) {
		cg->ops = &cgroup_v1_ops;
	} else {
		snprintf(err, errlen,
			 "cgroups: no cgroup hierarchy is mounted on this "
			 "host");
		return -ENOENT;
	}
	for (int i = 0; i < cg->nhier; i++) {
		if (!cg->mnt[i]) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		int rc = current_path(sysroot, cg->ctrl[i], &cg->cur[i]);
		if (rc == -ENOENT)
			rc = (cg->cur[i] = strdup("/")) ? 0 : -ENOMEM;
		char *rel = NULL;
		if (!rc)
			rc = leaf_rel(r, id, cg->cur[i], &rel);
		if (!rc)
			rc = join_path(&cg->leaf[i], cg->mnt[i], rel);
		free(rel);
		if (rc == -EINVAL) {
			snprintf(err, errlen,
				 "config.json: linux.cgroupsPath \"%.64s\" is "
				 "neither a path nor slice:prefix:name",
				 r->cgroups_path ? r->cgroups_path : "");
			return rc;
		}
		if (rc) {
			snprintf(err, errlen, "cgroups: %s", strerror(-rc));
			return rc;
		}
	}
	return 0;
}

int cg_write(const char *dir, const char *file, const char *s)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int fd =
	    open(path, O_WRONLY | O_CLOEXEC | O_TRUNC | (cg_fake ? O_CREAT : 0),
		 0644);
	if (fd < 0)
		return -errno;
	size_t n = strlen(s);
	ssize_t w = write(fd, s, n);
	int rc = w == (ssize_t)n ? 0 : w < 0 ? -errno : -EIO;
	close(fd);
	return rc;
}

int cg_read(const char *dir, const char *file, char *buf, size_t cap)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ssize_t n = read(fd, buf, cap - 1);
	int e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

bool cg_exists(const char *dir, const char *file)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return access(path, F_OK) == 0;
}

int cg_mkdirs(struct cgroup *cg, const char *mnt, const char *leaf,
	      int (*init)(const char *dir, const char *parent))
{
	size_t base = strlen(mnt);
	if (strncmp(leaf, mnt, base))
		return -EINVAL;
	char *path = strdup(leaf);
	if (!path)
		return -ENOMEM;
	int rc = 0;
	for (char *p = path + base + 1; rc == 0;) {
		char *slash = strchr(p, '/');
		if (slash)
			*slash = '\0';
		if (mkdir(path, 0755) == 0) {
			if (cg->nmade <
				(int)(sizeof(cg->made) / sizeof(cg->made[0])) &&
			    !(cg->made[cg->nmade++] = strdup(path)))
				rc = -ENOMEM;
			if (!rc && init) {
				char *parent = strdup(path);
				if (!parent)
					rc = -ENOMEM;
				else {
					*strrchr(parent, '/') = '\0';
					rc = init(path, parent);
					free(parent);
				}
			}
		} else if (errno != EEXIST) {
			rc = -errno;
		}
		if (!slash)
			break;
		*slash = '/';
		p = slash + 1;
	}
	free(path);
	return rc;
}

static void remove_made(struct cgroup *cg)
{
	for (int i = cg->nmade - 1; i >= 0; i--) {
		rmdir(cg->made[i]);
		free(cg->made[i]);
	}
	cg->nmade = 0;
}

int cgroup_create(struct cgroup *cg, const struct bh_resources *r, char *err,
		  size_t errlen)
{
	int rc = cg->ops->create(cg, r, err, errlen);
	for (int i = 0; rc == 0 && i < cg->nhier; i++) {
		char path[4200];
		snprintf(path, sizeof(path), "%s/%s", cg->leaf[i],
			 cg->ops == &cgroup_v2_ops ||
				 cg_exists(cg->leaf[i], "cgroup.procs")
			     ? "cgroup.procs"
			     : "tasks");
		cg->procs_fd[i] = open(
		    path, O_WRONLY | O_CLOEXEC | (cg_fake ? O_CREAT : 0), 0644);
		if (cg->procs_fd[i] < 0) {
			rc = -errno;
			snprintf(err, errlen, "cgroups: %s: %s", path,
				 strerror(-rc));
		}
	}
	if (rc) {
		for (int i = 0; i < cg->nhier; i++)
			if (cg->procs_fd[i] >= 0) {
				close(cg->procs_fd[i]);
				cg->procs_fd[i] = -1;
			}
		remove_made(cg);
		return rc;
	}
	bh_debug("cgroups (%s): %s", cg->ops->name,
		 cg->nhier ? cg->leaf[0] : "");
	return 0;
}

int cgroup_join_self(const int *procs_fds, int n)
{
	for (int i = 0; i < n; i++)
		if (procs_fds[i] >= 0 && write(procs_fds[i], "0", 1) != 1)
			return -1;
	return 0;
}

int cgroup_record(const struct cgroup *cg, const char *path)
{
	FILE *f = fopen(path, "we");
	if (!f)
		return -errno;
	for (int i = 0; i < cg->nmade; i++)
		fprintf(f, "%s\n", cg->made[i]);
	int rc = ferror(f) ? -EIO : 0;
	if (fclose(f) != 0 && !rc)
		rc = -errno;
	return rc;
}

int cgroup_remove_recorded(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	char *dirs[CG_MAX_DIRS * 4];
	int n = 0;
	char line[4200];
	while (n < (int)(sizeof(dirs) / sizeof(dirs[0])) &&
	       fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		/* Only what create wrote: absolute cgroupfs dirs. */
		if (line[0] == '/' && !strstr(line, "/../"))
			dirs[n++] = strdup(line);
	}
	fclose(f);
	/* A leaf: no other listed directory below it. A parent made for
	 * it (bulkhead/) that another container still uses stays. */
	bool leaves[CG_MAX_DIRS * 4];
	for (int i = 0; i < n; i++) {
		leaves[i] = dirs[i] != NULL;
		size_t l = dirs[i] ? strlen(dirs[i]) : 0;
		for (int j = 0; j < n && leaves[i]; j++)
			if (j != i && dirs[j] &&
			    !strncmp(dirs[j], dirs[i], l) && dirs[j][l] == '/')
				leaves[i] = false;
	}
	int rc = 0;
	for (int i = n - 1; i >= 0; i--) {
		if (!dirs[i])
			continue;
		bool leaf = leaves[i];
		/* The tasks are dead, but the kernel may take a moment to let
		 * go of a leaf: a few tries (1 s). */
		int e = 0;
		for (int k = 0; k < (leaf ? 50 : 1); k++) {
			if (rmdir(dirs[i]) == 0 || errno == ENOENT) {
				e = 0;
				break;
			}
			e = errno;
			if (e != EBUSY)
				break;
			usleep(20000);
		}
		if (e && leaf && !rc)
			rc = -e;
	}
	for (int i = 0; i < n; i++)
		free(dirs[i]);
	return rc;
}

void cgroup_close(struct cgroup *cg)
{
	for (int i = 0; i < CG_MAX_DIRS; i++) {
		if (cg->procs_fd[i] >= 0)
			close(cg->procs_fd[i]);
		cg->procs_fd[i] = -1;
	}
	for (int i = 0; i < cg->nhier; i++) {
		free(cg->mnt[i]);
		free(cg->cur[i]);
		free(cg->ctrl[i]);
		free(cg->leaf[i]);
	}
	for (int i = 0; i < cg->nmade; i++)
		free(cg->made[i]);
	cg->nhier = cg->nmade = 0;
}
