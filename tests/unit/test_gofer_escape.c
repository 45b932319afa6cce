/* A real gofer serve loop (in a forked child, unconfined) over a socketpair
 * against a temporary tree, driven by the sentry's client: escape attempts
 * must fail and ordinary file operations must behave. When run as root with
 * the built binary present, the confined bulkhead-gofer is checked too. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

#include "bulkhead/gofer_client.h"
#include "gofer/export.h"
#include "gofer/serve.h"

enum { EXP_ROOT, EXP_RO, EXP_OTHER, EXP_FILE, NEXP };

struct env {
	char base[PATH_MAX];
	char path[NEXP][PATH_MAX + 16];
	pid_t pid;
	struct gofer_conn c;
	uint64_t root[NEXP];
};

static void xwrite(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static void xsymlink(const char *target, const char *base, const char *name)
{
	char p[PATH_MAX + 64];
	snprintf(p, sizeof(p), "%s/%s", base, name);
	assert_int_equal(symlink(target, p), 0);
}

static char *at(struct env *e, const char *rel)
{
	static char p[4][PATH_MAX + 128];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", e->base, rel);
	return p[i];
}

/* nofile > 0: the gofer runs with RLIMIT_NOFILE nofile, so that a few
 * hundred nodes evict every older fd. */
static int setup_nofile(void **state, rlim_t nofile)
{
	struct env *e = calloc(1, sizeof(*e));
	strcpy(e->base, "/tmp/gofer-escape-XXXXXX");
	assert_non_null(mkdtemp(e->base));
	const char *dirs[] = {"root",	"root/dir", "root/big", "ro",
			      "ro/sub", "other",    "outside"};
	for (unsigned i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		assert_int_equal(mkdir(at(e, dirs[i]), 0755), 0);
	xwrite(at(e, "root/dir/f"), "hello");
	xwrite(at(e, "root/g"), "gee");
	xwrite(at(e, "ro/r"), "readonly");
	xwrite(at(e, "other/o"), "other");
	xwrite(at(e, "outside/secret"), "SECRET");
	xwrite(at(e, "outside/f"), "SECRET-F");
	xwrite(at(e, "single"), "single-file");
	xsymlink("/", at(e, "root"), "abs");
	xsymlink("../../..", at(e, "root"), "up");
	xsymlink("../outside/secret", at(e, "root"), "esc");
	xsymlink("loop2", at(e, "root"), "loop1");
	xsymlink("loop1", at(e, "root"), "loop2");
	assert_int_equal(mkfifo(at(e, "root/fifo"), 0644), 0);
	if (geteuid() == 0)
		assert_int_equal(
		    mknod(at(e, "root/null"), S_IFCHR | 0666, makedev(1, 3)),
		    0);
	snprintf(e->path[EXP_ROOT], sizeof(e->path[0]), "%s/root", e->base);
	snprintf(e->path[EXP_RO], sizeof(e->path[0]), "%s/ro", e->base);
	snprintf(e->path[EXP_OTHER], sizeof(e->path[0]), "%s/other", e->base);
	snprintf(e->path[EXP_FILE], sizeof(e->path[0]), "%s/single", e->base);

	int sv[2];
	assert_int_equal(
	    socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	e->pid = fork();
	assert_true(e->pid >= 0);
	if (e->pid == 0) {
		close(sv[0]);
		struct rlimit rl = {nofile, nofile};
		if (nofile && setrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(2);
		struct gofer_export ex[NEXP];
		for (int i = 0; i < NEXP; i++)
			if (gofer_export_open(&ex[i], e->path[i], i == EXP_RO))
				_exit(3);
		free(e); /* the parent's; the child only serves */
		struct gofer_server s;
		if (gofer_server_init(&s, ex, NEXP))
			_exit(4);
		int r = gofer_serve(&s, sv[1]);
		gofer_server_destroy(&s);
		for (int i = 0; i < NEXP; i++)
			gofer_export_close(&ex[i]);
#ifdef __SANITIZE_ADDRESS__
		/* _exit skips the leak check: run it on the serve loop. */
		if (__lsan_do_recoverable_leak_check())
			_exit(5);
#endif
		_exit(r ? 1 : 0);
	}
	close(sv[1]);
	assert_int_equal(gofer_conn_init(&e->c, sv[0]), 0);
	for (int i = 0; i < NEXP; i++) {
		struct gp_attr a;
		bool ro;
		assert_int_equal(
		    gofer_attach(&e->c, (uint32_t)i, &e->root[i], &a, &ro), 0);
		assert_int_equal(ro, i == EXP_RO);
	}
	*state = e;
	return 0;
}

static int setup(void **state)
{
	return setup_nofile(state, 0);
}

#define SMALL_NOFILE 128

static int setup_small(void **state)
{
	return setup_nofile(state, SMALL_NOFILE);
}

static int teardown(void **state)
{
	struct env *e = *state;
	gofer_conn_destroy(&e->c); /* EOF: the gofer must exit cleanly */
	int st;
	assert_int_equal(waitpid(e->pid, &st, 0), e->pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	char cmd[PATH_MAX + 32];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->base);
	assert_int_equal(system(cmd), 0);
	free(e);
	return 0;
}

/* Walks a '/'-separated relative path; returns the last node or a
 * negative errno; asserts full walk unless allow_short. */
static int64_t walk(struct env *e, uint64_t from, const char *path)
{
	char copy[PATH_MAX];
	const char *names[GP_WALK_MAX];
	unsigned n = 0;
	snprintf(copy, sizeof(copy), "%s", path);
	for (char *t = strtok(copy, "/"); t; t = strtok(NULL, "/"))
		names[n++] = t;
	struct gp_walk_ent ents[GP_WALK_MAX];
	unsigned got;
	int r = gofer_walk(&e->c, from, names, n, ents, &got);
	for (unsigned i = 0; i + 1 < got; i++)
		gofer_close(&e->c, ents[i].node);
	if (r)
		return r;
	if (got != n) {
		gofer_close(&e->c, ents[got - 1].node);
		return -EXDEV; /* marker: stopped early */
	}
	return (int64_t)ents[got - 1].node;
}

static void read_fd(int fd, char *buf, size_t cap)
{
	ssize_t n = pread(fd, buf, cap - 1, 0);
	assert_true(n >= 0);
	buf[n] = '\0';
}

static void test_bad_names(void **state)
{
	struct env *e = *state;
	const char *bad[] = {"..", ".", "", "a/b", "/", "../outside"};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *names[1] = {bad[i]};
		struct gp_walk_ent ent;
		unsigned got = 9;
		assert_int_equal(
		    gofer_walk(&e->c, e->root[EXP_ROOT], names, 1, &ent, &got),
		    -EINVAL);
		assert_int_equal(got, 0);
		uint64_t node;
		struct gp_attr a;
		assert_int_equal(gofer_mkdir(&e->c, e->root[EXP_ROOT], bad[i],
					     0755, 0, 0, &node, &a),
				 -EINVAL);
		assert_int_equal(gofer_mknod(&e->c, e->root[EXP_ROOT], bad[i],
					     S_IFIFO | 0600, 0, 0, &node, &a),
				 -EINVAL);
		assert_int_equal(
		    gofer_unlink(&e->c, e->root[EXP_ROOT], bad[i], 0), -EINVAL);
		assert_int_equal(gofer_rename(&e->c, e->root[EXP_ROOT], "g",
					      e->root[EXP_ROOT], bad[i], 0),
				 -EINVAL);
	}
	char longname[GP_NAME_MAX + 2];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[GP_NAME_MAX + 1] = '\0';
	const char *names[1] = {longname};
	struct gp_walk_ent ent;
	unsigned got;
	assert_int_equal(
	    gofer_walk(&e->c, e->root[EXP_ROOT], names, 1, &ent, &got),
	    -ENAMETOOLONG);
	/* A valid name after a bad one still fails the whole walk. */
	const char *mixed[2] = {"dir", ".."};
	struct gp_walk_ent ents[2];
	assert_int_equal(
	    gofer_walk(&e->c, e->root[EXP_ROOT], mixed, 2, ents, &got),
	    -EINVAL);
	assert_int_equal(got, 0);
}

static void test_symlinks_not_followed(void **state)
{
	struct env *e = *state;
	const char *links[] = {"abs", "up", "esc", "loop1"};
	const char *targets[] = {"/", "../../..", "../outside/secret", "loop2"};
	for (unsigned i = 0; i < 4; i++) {
		const char *names[2] = {links[i], "etc"};
		struct gp_walk_ent ents[2];
		unsigned got;
		/* The walk stops right after the link, without error. */
		assert_int_equal(
		    gofer_walk(&e->c, e->root[EXP_ROOT], names, 2, ents, &got),
		    0);
		assert_int_equal(got, 1);
		assert_true(S_ISLNK(ents[0].attr.mode));
		char buf[GP_PATH_MAX + 1];
		assert_int_equal(
		    gofer_readlink(&e->c, ents[0].node, buf, sizeof(buf)),
		    (long)strlen(targets[i]));
		assert_string_equal(buf, targets[i]);
		/* A symlink node is not a directory to walk from... */
		const char *next[1] = {"secret"};
		assert_int_equal(
		    gofer_walk(&e->c, ents[0].node, next, 1, ents + 1, &got),
		    -ENOTDIR);
		/* ...nor a file to open. */
		int fd = -1;
		assert_int_equal(
		    gofer_open(&e->c, ents[0].node, O_RDONLY, &fd, NULL),
		    -ELOOP);
		assert_int_equal(fd, -1);
		assert_int_equal(gofer_close(&e->c, ents[0].node), 0);
	}
	/* readlink of a too-small buffer and of a non-link. */
	int64_t l = walk(e, e->root[EXP_ROOT], "up");
	assert_true(l > 0);
	char small[4];
	assert_int_equal(gofer_readlink(&e->c, (uint64_t)l, small, 4),
			 -ENAMETOOLONG);
	char buf[64];
	assert_int_equal(gofer_readlink(&e->c, e->root[EXP_ROOT], buf, 64),
			 -EINVAL);
	gofer_close(&e->c, (uint64_t)l);
}

static void test_swap_file_for_symlink(void **state)
{
	struct env *e = *state;
	int64_t f = walk(e, e->root[EXP_ROOT], "dir/f");
	assert_true(f > 0);
	/* Replace the file by a link out of the export: reopening by name
	 * must not follow it. */
	assert_int_equal(rename(at(e, "root/dir/f"), at(e, "root/dir/f.old")),
			 0);
	assert_int_equal(symlink(at(e, "outside/secret"), at(e, "root/dir/f")),
			 0);
	int fd = -1;
	assert_int_equal(gofer_open(&e->c, (uint64_t)f, O_RDONLY, &fd, NULL),
			 -ESTALE);
	assert_int_equal(fd, -1);
	/* Another regular file under the same name: also stale. */
	unlink(at(e, "root/dir/f"));
	xwrite(at(e, "root/dir/f"), "impostor");
	assert_int_equal(
	    gofer_open(&e->c, (uint64_t)f, O_RDWR | O_TRUNC, &fd, NULL),
	    -ESTALE);
	char buf[32];
	int hfd = open(at(e, "root/dir/f"), O_RDONLY);
	read_fd(hfd, buf, sizeof(buf));
	close(hfd);
	assert_string_equal(buf, "impostor"); /* not truncated */
	gofer_close(&e->c, (uint64_t)f);
	unlink(at(e, "root/dir/f"));
	rename(at(e, "root/dir/f.old"), at(e, "root/dir/f"));
}

static void test_swap_dir_for_symlink(void **state)
{
	struct env *e = *state;
	int64_t f = walk(e, e->root[EXP_ROOT], "dir/f");
	assert_true(f > 0);
	/* The parent directory becomes a link to outside/, which holds an
	 * "f" too: the node still reaches the original directory's file. */
	assert_int_equal(rename(at(e, "root/dir"), at(e, "root/dir.old")), 0);
	assert_int_equal(symlink(at(e, "outside"), at(e, "root/dir")), 0);
	int fd = -1;
	assert_int_equal(gofer_open(&e->c, (uint64_t)f, O_RDONLY, &fd, NULL),
			 0);
	char buf[32];
	read_fd(fd, buf, sizeof(buf));
	close(fd);
	assert_string_equal(buf, "hello");
	/* A new walk stops at the link. */
	assert_int_equal(walk(e, e->root[EXP_ROOT], "dir/f"), -EXDEV);
	gofer_close(&e->c, (uint64_t)f);
	unlink(at(e, "root/dir"));
	rename(at(e, "root/dir.old"), at(e, "root/dir"));
}

static void test_cross_export(void **state)
{
	struct env *e = *state;
	int64_t g = walk(e, e->root[EXP_ROOT], "g");
	assert_true(g > 0);
	uint64_t node;
	struct gp_attr a;
	assert_int_equal(
	    gofer_link(&e->c, e->root[EXP_OTHER], "g2", (uint64_t)g, &node, &a),
	    -EXDEV);
	assert_int_equal(gofer_rename(&e->c, e->root[EXP_ROOT], "g",
				      e->root[EXP_OTHER], "g", 0),
			 -EXDEV);
	assert_int_equal(access(at(e, "other/g2"), F_OK), -1);
	assert_int_equal(access(at(e, "other/g"), F_OK), -1);
	/* Same export works. */
	assert_int_equal(gofer_link(&e->c, e->root[EXP_ROOT], "g-link",
				    (uint64_t)g, &node, &a),
			 0);
	assert_int_equal(a.nlink, 2);
	assert_int_equal(gofer_unlink(&e->c, e->root[EXP_ROOT], "g-link", 0),
			 0);
	gofer_close(&e->c, node);
	/* Directories cannot be hard-linked. */
	int64_t d = walk(e, e->root[EXP_ROOT], "dir");
	assert_int_equal(
	    gofer_link(&e->c, e->root[EXP_ROOT], "d2", (uint64_t)d, &node, &a),
	    -EPERM);
	gofer_close(&e->c, (uint64_t)d);
	gofer_close(&e->c, (uint64_t)g);
}

static void test_read_only_export(void **state)
{
	struct env *e = *state;
	uint64_t ro = e->root[EXP_RO];
	int64_t r = walk(e, ro, "r");
	int64_t sub = walk(e, ro, "sub");
	assert_true(r > 0 && sub > 0);
	uint64_t node;
	struct gp_attr a;
	int fd = -1;
	assert_int_equal(
	    gofer_create(&e->c, ro, "n", O_RDWR, 0644, 0, 0, &node, &a, &fd),
	    -EROFS);
	assert_int_equal(gofer_mkdir(&e->c, ro, "n", 0755, 0, 0, &node, &a),
			 -EROFS);
	assert_int_equal(
	    gofer_mknod(&e->c, ro, "n", S_IFIFO | 0644, 0, 0, &node, &a),
	    -EROFS);
	assert_int_equal(gofer_symlink(&e->c, ro, "n", "r", 0, 0, &node, &a),
			 -EROFS);
	assert_int_equal(gofer_link(&e->c, ro, "n", (uint64_t)r, &node, &a),
			 -EROFS);
	assert_int_equal(gofer_unlink(&e->c, ro, "r", 0), -EROFS);
	assert_int_equal(gofer_unlink(&e->c, ro, "sub", AT_REMOVEDIR), -EROFS);
	assert_int_equal(gofer_rename(&e->c, ro, "r", ro, "r2", 0), -EROFS);
	const uint32_t masks[] = {GP_SET_MODE,	GP_SET_SIZE, GP_SET_ATIME,
				  GP_SET_MTIME, GP_SET_UID,  GP_SET_GID};
	for (unsigned i = 0; i < 6; i++) {
		struct gp_setattr_req q = {
		    .node = (uint64_t)r, .mask = masks[i], .mode = 0777};
		assert_int_equal(gofer_setattr(&e->c, &q, &a), -EROFS);
	}
	assert_int_equal(gofer_open(&e->c, (uint64_t)r, O_WRONLY, &fd, NULL),
			 -EROFS);
	assert_int_equal(gofer_open(&e->c, (uint64_t)r, O_RDWR, &fd, NULL),
			 -EROFS);
	assert_int_equal(
	    gofer_open(&e->c, (uint64_t)r, O_RDONLY | O_TRUNC, &fd, NULL),
	    -EROFS);
	assert_int_equal(fd, -1);
	/* Reading is fine, and the donated fd cannot write. */
	assert_int_equal(gofer_open(&e->c, (uint64_t)r, O_RDONLY, &fd, NULL),
			 0);
	char buf[32];
	read_fd(fd, buf, sizeof(buf));
	assert_string_equal(buf, "readonly");
	assert_int_equal(write(fd, "x", 1), -1);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	struct stat st;
	assert_int_equal(stat(at(e, "ro/r"), &st), 0);
	assert_int_equal(st.st_size, 8);
	assert_int_equal(st.st_mode & 0777, 0644);
	gofer_close(&e->c, (uint64_t)r);
	gofer_close(&e->c, (uint64_t)sub);
}

static void test_special_files(void **state)
{
	struct env *e = *state;
	const char *names[] = {"fifo", "null"};
	for (unsigned i = 0; i < 2; i++) {
		if (i == 1 && geteuid() != 0)
			continue;
		int64_t n = walk(e, e->root[EXP_ROOT], names[i]);
		assert_true(n > 0);
		int fd = -1;
		/* Must neither hang (fifo) nor hand out a device. */
		assert_int_equal(
		    gofer_open(&e->c, (uint64_t)n, O_RDONLY, &fd, NULL),
		    -EPERM);
		assert_int_equal(
		    gofer_open(&e->c, (uint64_t)n, O_RDWR, &fd, NULL), -EPERM);
		assert_int_equal(fd, -1);
		struct gp_attr a;
		assert_int_equal(gofer_stat(&e->c, (uint64_t)n, &a), 0);
		assert_true(i == 0 ? S_ISFIFO(a.mode) : S_ISCHR(a.mode));
		gofer_close(&e->c, (uint64_t)n);
	}
	/* O_CREAT over an existing fifo does not open it either. */
	uint64_t node;
	struct gp_attr a;
	int fd = -1;
	assert_int_equal(gofer_create(&e->c, e->root[EXP_ROOT], "fifo", O_RDWR,
				      0644, 0, 0, &node, &a, &fd),
			 -EPERM);
	/* Directories open read-only only. */
	int64_t d = walk(e, e->root[EXP_ROOT], "dir");
	assert_int_equal(gofer_open(&e->c, (uint64_t)d, O_RDWR, &fd, NULL),
			 -EISDIR);
	assert_int_equal(
	    gofer_open(&e->c, (uint64_t)d, O_RDONLY | O_DIRECTORY, &fd, NULL),
	    0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	close(fd);
	int64_t g = walk(e, e->root[EXP_ROOT], "g");
	assert_int_equal(
	    gofer_open(&e->c, (uint64_t)g, O_RDONLY | O_DIRECTORY, &fd, NULL),
	    -ENOTDIR);
	assert_int_equal(
	    gofer_open(&e->c, (uint64_t)g, O_RDONLY | O_CREAT, &fd, NULL),
	    -EINVAL);
	gofer_close(&e->c, (uint64_t)g);
	gofer_close(&e->c, (uint64_t)d);
}

static void test_bad_node_ids(void **state)
{
	struct env *e = *state;
	struct gp_attr a;
	assert_int_equal(gofer_stat(&e->c, 0, &a), -EBADF);
	assert_int_equal(gofer_stat(&e->c, 1u << 30, &a), -EBADF);
	assert_int_equal(gofer_stat(&e->c, UINT64_MAX, &a), -EBADF);
	int64_t g = walk(e, e->root[EXP_ROOT], "g");
	assert_true(g > 0);
	assert_int_equal(gofer_close(&e->c, (uint64_t)g), 0);
	assert_int_equal(gofer_stat(&e->c, (uint64_t)g, &a), -EBADF);
	assert_int_equal(gofer_close(&e->c, (uint64_t)g), -EBADF);
	/* Ids are not reused. */
	int64_t g2 = walk(e, e->root[EXP_ROOT], "g");
	assert_true(g2 > g);
	int fd;
	assert_int_equal(gofer_open(&e->c, (uint64_t)g, O_RDONLY, &fd, NULL),
			 -EBADF);
	gofer_close(&e->c, (uint64_t)g2);
	/* A walk from a file node. */
	const char *names[1] = {"x"};
	struct gp_walk_ent ent;
	unsigned got;
	int64_t f = walk(e, e->root[EXP_ROOT], "g");
	assert_int_equal(gofer_walk(&e->c, (uint64_t)f, names, 1, &ent, &got),
			 -ENOTDIR);
	gofer_close(&e->c, (uint64_t)f);
	/* Missing export. */
	uint64_t node;
	bool ro;
	assert_int_equal(gofer_attach(&e->c, NEXP, &node, &a, &ro), -ENOENT);
}

struct collect {
	char (*names)[32];
	unsigned n, cap;
	unsigned limit; /* accept at most this many per batch */
	unsigned batch;
	uint64_t cookie;
};

static int collect_fn(void *arg, const struct gofer_dirent *d)
{
	struct collect *c = arg;
	if (c->batch == c->limit)
		return 1;
	assert_true(c->n < c->cap);
	assert_true(d->namelen < 32);
	memcpy(c->names[c->n++], d->name, d->namelen + 1u);
	assert_int_equal(strlen(d->name), d->namelen);
	c->cookie = d->next_cookie;
	c->batch++;
	return 0;
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void read_all(struct env *e, uint64_t dir, struct collect *c)
{
	c->cookie = 0;
	c->n = 0;
	for (int rounds = 0;; rounds++) {
		assert_true(rounds < 100000);
		c->batch = 0;
		int r = gofer_getdents(&e->c, dir, c->cookie, collect_fn, c);
		assert_true(r >= 0);
		assert_int_equal((unsigned)r, c->batch);
		if (r == 0)
			break;
	}
}

static void test_getdents_huge(void **state)
{
	struct env *e = *state;
	enum { N = 3000 };
	for (int i = 0; i < N; i++) {
		char p[PATH_MAX + 64];
		snprintf(p, sizeof(p), "%s/root/big/entry-%05d-xxxxxxxxx",
			 e->base, i);
		int fd = open(p, O_CREAT | O_WRONLY, 0644);
		assert_true(fd >= 0);
		close(fd);
	}
	int64_t big = walk(e, e->root[EXP_ROOT], "big");
	assert_true(big > 0);
	struct collect c = {.names = calloc(N + 1, 32), .cap = N + 1};
	for (unsigned limit = 7; limit <= UINT_MAX / 2; limit = UINT_MAX) {
		c.limit = limit;
		read_all(e, (uint64_t)big, &c);
		assert_int_equal(c.n, N);
		qsort(c.names, c.n, 32, cmp_name);
		for (int i = 0; i < N; i++) {
			char want[32];
			snprintf(want, sizeof(want), "entry-%05d-xxxxxxxxx", i);
			assert_string_equal(c.names[i], want);
		}
	}
	/* A getdents on a non-directory. */
	int64_t g = walk(e, e->root[EXP_ROOT], "g");
	c.limit = UINT_MAX;
	c.batch = 0;
	assert_int_equal(gofer_getdents(&e->c, (uint64_t)g, 0, collect_fn, &c),
			 -ENOTDIR);
	gofer_close(&e->c, (uint64_t)g);
	gofer_close(&e->c, (uint64_t)big);
	free(c.names);
}

static void test_normal_ops(void **state)
{
	struct env *e = *state;
	uint64_t root = e->root[EXP_ROOT];
	uint64_t node;
	struct gp_attr a;
	int fd = -1;
	/* Foreign owners need CAP_CHOWN; unprivileged runs use their own. */
	bool priv = geteuid() == 0;
	uint32_t uid = priv ? 1234 : geteuid(), gid = priv ? 5678 : getegid();
	assert_int_equal(gofer_create(&e->c, root, "new", O_RDWR | O_EXCL, 0640,
				      uid, gid, &node, &a, &fd),
			 0);
	assert_true(fd >= 0);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_true(S_ISREG(a.mode));
	assert_int_equal(a.mode & 07777, 0640);
	if (geteuid() == 0) {
		assert_int_equal(a.uid, 1234);
		assert_int_equal(a.gid, 5678);
	}
	assert_int_equal(write(fd, "data!", 5), 5);
	close(fd);
	uint64_t n2;
	assert_int_equal(gofer_create(&e->c, root, "new", O_RDWR | O_EXCL, 0640,
				      0, 0, &n2, &a, &fd),
			 -EEXIST);
	/* Without O_EXCL an existing file opens (and may be truncated). */
	assert_int_equal(gofer_create(&e->c, root, "new", O_RDONLY, 0600, 0, 0,
				      &n2, &a, &fd),
			 0);
	assert_int_equal(a.size, 5);
	assert_int_equal(a.mode & 07777, 0640);
	close(fd);
	gofer_close(&e->c, n2);

	/* Rename keeps the node usable under its new name. */
	assert_int_equal(gofer_rename(&e->c, root, "new", root, "new2", 0), 0);
	assert_int_equal(gofer_open(&e->c, node, O_RDONLY, &fd, &a), 0);
	char buf[32];
	read_fd(fd, buf, sizeof(buf));
	close(fd);
	assert_string_equal(buf, "data!");
	/* Into another directory too. */
	int64_t dir = walk(e, root, "dir");
	assert_int_equal(gofer_rename(&e->c, root, "new2", (uint64_t)dir,
				      "moved", RENAME_NOREPLACE),
			 0);
	assert_int_equal(access(at(e, "root/dir/moved"), F_OK), 0);
	assert_int_equal(gofer_open(&e->c, node, O_RDWR | O_APPEND, &fd, &a),
			 0);
	assert_int_equal(write(fd, "+", 1), 1);
	close(fd);
	assert_int_equal(gofer_rename(&e->c, (uint64_t)dir, "moved", root, "g",
				      RENAME_NOREPLACE),
			 -EEXIST);

	/* setattr: size, mode, times. */
	struct gp_setattr_req q = {
	    .node = node,
	    .mask = GP_SET_SIZE | GP_SET_MODE | GP_SET_ATIME | GP_SET_MTIME,
	    .size = 3,
	    .mode = priv ? 04711 : 0711, /* set-id survives truncation only with
					    CAP_FSETID */
	    .atime_sec = 1000,
	    .atime_nsec = 5,
	    .mtime_sec = 2000,
	    .mtime_nsec = 7};
	assert_int_equal(gofer_setattr(&e->c, &q, &a), 0);
	assert_int_equal(a.size, 3);
	assert_int_equal(a.mode & 07777, priv ? 04711 : 0711);
	assert_int_equal(a.atime_sec, 1000);
	assert_int_equal(a.atime_nsec, 5);
	assert_int_equal(a.mtime_sec, 2000);
	assert_int_equal(a.mtime_nsec, 7);
	struct stat st;
	assert_int_equal(stat(at(e, "root/dir/moved"), &st), 0);
	assert_int_equal(st.st_size, 3);
	assert_int_equal(st.st_mtim.tv_sec, 2000);
	q.mask = GP_SET_MODE;
	q.mode = 010000; /* not a permission bit */
	assert_int_equal(gofer_setattr(&e->c, &q, &a), -EINVAL);
	q.mask = GP_SET_ATIME;
	q.atime_nsec = 1000000000;
	assert_int_equal(gofer_setattr(&e->c, &q, &a), -EINVAL);
	q.mask = 1u << 20;
	assert_int_equal(gofer_setattr(&e->c, &q, &a), -EINVAL);
	q.mask = GP_SET_SIZE;
	q.node = (uint64_t)dir;
	assert_int_equal(gofer_setattr(&e->c, &q, &a), -EISDIR);

	/* Unlink: the node goes stale, the id stays valid until closed. */
	assert_int_equal(gofer_unlink(&e->c, (uint64_t)dir, "moved", 0), 0);
	assert_int_equal(gofer_open(&e->c, node, O_RDONLY, &fd, NULL), -ESTALE);
	assert_int_equal(gofer_unlink(&e->c, (uint64_t)dir, "moved", 0),
			 -ENOENT);
	assert_int_equal(gofer_close(&e->c, node), 0);

	/* mkdir / rmdir */
	uint64_t d2;
	assert_int_equal(gofer_mkdir(&e->c, root, "sub", 0751, priv ? 42 : uid,
				     gid, &d2, &a),
			 0);
	assert_true(S_ISDIR(a.mode));
	assert_int_equal(a.mode & 07777, 0751);
	if (geteuid() == 0)
		assert_int_equal(a.uid, 42);
	assert_int_equal(
	    gofer_mkdir(&e->c, root, "sub", 0751, 42, 43, &node, &a), -EEXIST);
	uint64_t inner;
	assert_int_equal(gofer_create(&e->c, d2, "x", O_WRONLY, 0644, uid, gid,
				      &inner, &a, &fd),
			 0);
	close(fd);
	assert_int_equal(gofer_unlink(&e->c, root, "sub", AT_REMOVEDIR),
			 -ENOTEMPTY);
	assert_int_equal(gofer_unlink(&e->c, d2, "x", 0), 0);
	assert_int_equal(gofer_unlink(&e->c, root, "sub", AT_REMOVEDIR), 0);
	assert_int_equal(access(at(e, "root/sub"), F_OK), -1);
	gofer_close(&e->c, inner);
	gofer_close(&e->c, d2);

	/* symlink + readlink */
	uint64_t ln;
	assert_int_equal(
	    gofer_symlink(&e->c, root, "ln", "/etc/passwd", uid, gid, &ln, &a),
	    0);
	assert_true(S_ISLNK(a.mode));
	long len = gofer_readlink(&e->c, ln, buf, sizeof(buf));
	assert_int_equal(len, 11);
	assert_string_equal(buf, "/etc/passwd");
	assert_int_equal(gofer_unlink(&e->c, root, "ln", 0), 0);
	gofer_close(&e->c, ln);

	/* statfs */
	struct gp_statfs_resp sf;
	assert_int_equal(gofer_statfs(&e->c, root, &sf), 0);
	assert_true(sf.bsize > 0);
	assert_true(sf.namelen >= 255);

	/* rename with exchange keeps both nodes right. */
	int64_t g = walk(e, root, "g");
	int64_t f = walk(e, (uint64_t)dir, "f");
	assert_int_equal(
	    gofer_rename(&e->c, root, "g", (uint64_t)dir, "f", RENAME_EXCHANGE),
	    0);
	assert_int_equal(gofer_open(&e->c, (uint64_t)g, O_RDONLY, &fd, NULL),
			 0);
	read_fd(fd, buf, sizeof(buf));
	close(fd);
	assert_string_equal(buf, "gee");
	assert_int_equal(gofer_open(&e->c, (uint64_t)f, O_RDONLY, &fd, NULL),
			 0);
	read_fd(fd, buf, sizeof(buf));
	close(fd);
	assert_string_equal(buf, "hello");
	assert_int_equal(
	    gofer_rename(&e->c, root, "g", (uint64_t)dir, "f", RENAME_EXCHANGE),
	    0);
	gofer_close(&e->c, (uint64_t)g);
	gofer_close(&e->c, (uint64_t)f);
	/* Renaming a directory keeps nodes below it working. */
	int64_t f2 = walk(e, (uint64_t)dir, "f");
	gofer_close(&e->c, (uint64_t)dir); /* parent closed, child lives */
	assert_int_equal(gofer_rename(&e->c, root, "dir", root, "dir2", 0), 0);
	assert_int_equal(gofer_open(&e->c, (uint64_t)f2, O_RDONLY, &fd, NULL),
			 0);
	read_fd(fd, buf, sizeof(buf));
	close(fd);
	assert_string_equal(buf, "hello");
	assert_int_equal(gofer_rename(&e->c, root, "dir2", root, "dir", 0), 0);
	gofer_close(&e->c, (uint64_t)f2);
}

static void test_single_file_export(void **state)
{
	struct env *e = *state;
	uint64_t fnode = e->root[EXP_FILE];
	struct gp_attr a;
	assert_int_equal(gofer_stat(&e->c, fnode, &a), 0);
	assert_true(S_ISREG(a.mode));
	int fd;
	assert_int_equal(gofer_open(&e->c, fnode, O_RDWR, &fd, &a), 0);
	assert_int_equal(pwrite(fd, "S", 1, 0), 1);
	close(fd);
	char buf[32];
	int hfd = open(at(e, "single"), O_RDONLY);
	read_fd(hfd, buf, sizeof(buf));
	close(hfd);
	assert_string_equal(buf, "Single-file");
	const char *names[1] = {"x"};
	struct gp_walk_ent ent;
	unsigned got;
	assert_int_equal(gofer_walk(&e->c, fnode, names, 1, &ent, &got),
			 -ENOTDIR);
	struct gp_setattr_req q = {
	    .node = fnode, .mask = GP_SET_SIZE, .size = 6};
	assert_int_equal(gofer_setattr(&e->c, &q, &a), 0);
	assert_int_equal(a.size, 6);
}

/* Raw messages the client would never send. */
static void test_raw_protocol(void **state)
{
	struct env *e = *state;
	int s = e->c.fd;
	uint8_t msg[64], resp[GP_MSG_MAX];
	struct gp_hdr h = {.len = sizeof(h) + 8 + 3, .op = GP_STAT, .tag = 9};
	memcpy(msg, &h, sizeof(h));
	memcpy(msg + sizeof(h), &e->root[EXP_ROOT], 8);
	memcpy(msg + sizeof(h) + 8, "xyz", 3); /* trailing garbage */
	assert_int_equal(send(s, msg, h.len, 0), (ssize_t)h.len);
	ssize_t n = recv(s, resp, sizeof(resp), 0);
	assert_int_equal(n, sizeof(struct gp_hdr));
	struct gp_hdr rh;
	memcpy(&rh, resp, sizeof(rh));
	assert_int_equal(rh.tag, 9);
	assert_int_equal(rh.op, GP_STAT);
	assert_int_equal(rh.err, -EPROTO);
	/* An empty datagram is not the end of the stream: the gofer ignores
	 * it and still answers the next request (it used to exit). */
	assert_int_equal(send(s, msg, 0, 0), 0);
	h.len = sizeof(h) + 8;
	memcpy(msg, &h, sizeof(h));
	assert_int_equal(send(s, msg, h.len, 0), (ssize_t)h.len);
	n = recv(s, resp, sizeof(resp), 0);
	assert_true(n >= (ssize_t)sizeof(struct gp_hdr));
	memcpy(&rh, resp, sizeof(rh));
	assert_int_equal(rh.tag, 9);
	assert_int_equal(rh.err, 0);
	/* A header whose len disagrees with the datagram. */
	h.len = 200;
	memcpy(msg, &h, sizeof(h));
	assert_int_equal(send(s, msg, sizeof(h) + 8, 0),
			 (ssize_t)sizeof(h) + 8);
	n = recv(s, resp, sizeof(resp), 0);
	memcpy(&rh, resp, sizeof(rh));
	assert_int_equal(rh.err, -EPROTO);
	/* Fds sent to the gofer are dropped; it still answers. */
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	h.len = sizeof(h) + 8;
	memcpy(msg, &h, sizeof(h));
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr al;
	} cb;
	struct iovec iov = {.iov_base = msg, .iov_len = h.len};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = cb.b,
			    .msg_controllen = sizeof(cb.b)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &pfd[1], sizeof(int));
	assert_int_equal(sendmsg(s, &mh, 0), (ssize_t)h.len);
	close(pfd[1]);
	n = recv(s, resp, sizeof(resp), 0);
	memcpy(&rh, resp, sizeof(rh));
	assert_int_equal(rh.err, 0);
	/* The gofer closed its copy: the pipe sees EOF. */
	char c;
	assert_int_equal(read(pfd[0], &c, 1), 0);
	close(pfd[0]);
	/* The client still works afterwards. */
	struct gp_attr a;
	assert_int_equal(gofer_stat(&e->c, e->root[EXP_ROOT], &a), 0);
}

/* ---- The reopen path: nodes whose fds the LRU evicted ---------------- */

/* How many of the gofer's fds point at a path containing sub. */
static unsigned gofer_fds_at(struct env *e, const char *sub)
{
	char dir[64];
	snprintf(dir, sizeof(dir), "/proc/%d/fd", e->pid);
	DIR *d = opendir(dir);
	assert_non_null(d);
	unsigned n = 0;
	for (struct dirent *de; (de = readdir(d));) {
		char p[400], target[PATH_MAX + 1];
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		ssize_t l = readlink(p, target, sizeof(target) - 1);
		if (l < 0)
			continue;
		target[l] = '\0';
		n += strstr(target, sub) != NULL;
	}
	closedir(d);
	return n;
}

/* Holds 2 * SMALL_NOFILE fresh nodes (walks of "g"), which pushes every
 * older node fd out of the gofer's LRU; returns them for evict_done. */
static uint64_t *evict_all(struct env *e)
{
	uint64_t *nodes = calloc(2 * SMALL_NOFILE, sizeof(*nodes));
	for (unsigned i = 0; i < 2 * SMALL_NOFILE; i++) {
		int64_t g = walk(e, e->root[EXP_ROOT], "g");
		assert_true(g > 0);
		nodes[i] = (uint64_t)g;
	}
	return nodes;
}

static void evict_done(struct env *e, uint64_t *nodes)
{
	for (unsigned i = 0; i < 2 * SMALL_NOFILE; i++)
		assert_int_equal(gofer_close(&e->c, nodes[i]), 0);
	free(nodes);
}

/* Everything that needs dir's or f's fd back must fail, and nothing may
 * reach, create in, or change outside/. */
static void assert_all_stale(struct env *e, uint64_t dir, uint64_t f)
{
	struct gp_attr a;
	int fd = -1;
	assert_int_equal(gofer_open(&e->c, f, O_RDONLY, &fd, NULL), -ESTALE);
	assert_int_equal(fd, -1);
	assert_int_equal(gofer_stat(&e->c, f, &a), -ESTALE);
	struct gp_setattr_req q = {
	    .node = f, .mask = GP_SET_MODE, .mode = 0777};
	assert_int_equal(gofer_setattr(&e->c, &q, &a), -ESTALE);
	q.mask = GP_SET_SIZE;
	q.size = 0;
	assert_int_equal(gofer_setattr(&e->c, &q, &a), -ESTALE);
	const char *names[1] = {"f"};
	struct gp_walk_ent ent;
	unsigned got;
	assert_int_equal(gofer_walk(&e->c, dir, names, 1, &ent, &got), -ESTALE);
	struct collect c = {.names = calloc(8, 32), .cap = 8, .limit = 8};
	assert_int_equal(gofer_getdents(&e->c, dir, 0, collect_fn, &c),
			 -ESTALE);
	assert_int_equal(c.n, 0);
	free(c.names);
	uint64_t node;
	assert_int_equal(gofer_create(&e->c, dir, "planted", O_RDWR, 0644,
				      geteuid(), getegid(), &node, &a, &fd),
			 -ESTALE);
	assert_int_equal(fd, -1);
	assert_int_equal(
	    gofer_mkdir(&e->c, dir, "planted-d", 0755, 0, 0, &node, &a),
	    -ESTALE);
	assert_int_equal(
	    gofer_symlink(&e->c, dir, "planted-l", "x", 0, 0, &node, &a),
	    -ESTALE);
	assert_int_equal(gofer_unlink(&e->c, dir, "f", 0), -ESTALE);
	assert_int_equal(
	    gofer_rename(&e->c, dir, "f", e->root[EXP_ROOT], "stolen", 0),
	    -ESTALE);
	assert_int_equal(
	    gofer_link(&e->c, e->root[EXP_ROOT], "stolen", f, &node, &a),
	    -ESTALE);
	const char *never[] = {"outside/planted", "outside/planted-d",
			       "outside/planted-l", "root/stolen"};
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(access(at(e, never[i]), F_OK), -1);
	struct stat st;
	assert_int_equal(stat(at(e, "outside/f"), &st), 0);
	assert_int_equal(st.st_size, 8); /* "SECRET-F", not truncated */
	assert_int_equal(st.st_mode & 07777, 0644);
}

static void test_evicted_dir_swapped_for_symlink(void **state)
{
	struct env *e = *state;
	int64_t d = walk(e, e->root[EXP_ROOT], "dir");
	int64_t f = walk(e, (uint64_t)d, "f");
	assert_true(d > 0 && f > 0);
	uint64_t *fill = evict_all(e);
	assert_int_equal(gofer_fds_at(e, "/root/dir"), 0);
	/* outside/ holds an "f" too: a reopen that followed the link would
	 * find it. */
	assert_int_equal(rename(at(e, "root/dir"), at(e, "root/dir.old")), 0);
	assert_int_equal(symlink(at(e, "outside"), at(e, "root/dir")), 0);
	assert_all_stale(e, (uint64_t)d, (uint64_t)f);
	/* A relative link, and a link to a directory inside the export with
	 * an "f" of its own: the same. */
	unlink(at(e, "root/dir"));
	assert_int_equal(symlink("../outside", at(e, "root/dir")), 0);
	assert_all_stale(e, (uint64_t)d, (uint64_t)f);
	unlink(at(e, "root/dir"));
	assert_int_equal(mkdir(at(e, "root/dir2"), 0755), 0);
	xwrite(at(e, "root/dir2/f"), "IMPOSTOR");
	assert_int_equal(symlink("dir2", at(e, "root/dir")), 0);
	assert_all_stale(e, (uint64_t)d, (uint64_t)f);
	/* The same directory back under its name: the same inodes, so the
	 * nodes work again. */
	unlink(at(e, "root/dir"));
	assert_int_equal(rename(at(e, "root/dir.old"), at(e, "root/dir")), 0);
	int fd = -1;
	assert_int_equal(gofer_open(&e->c, (uint64_t)f, O_RDONLY, &fd, NULL),
			 0);
	char buf[32];
	read_fd(fd, buf, sizeof(buf));
	close(fd);
	assert_string_equal(buf, "hello");
	evict_done(e, fill);
	gofer_close(&e->c, (uint64_t)f);
	gofer_close(&e->c, (uint64_t)d);
}

static void test_evicted_dir_moved_outside(void **state)
{
	struct env *e = *state;
	int64_t d = walk(e, e->root[EXP_ROOT], "dir");
	int64_t f = walk(e, (uint64_t)d, "f");
	uint64_t *fill = evict_all(e);
	assert_int_equal(gofer_fds_at(e, "/root/dir"), 0);
	/* Moved out of the export while nothing held it: it is gone for the
	 * gofer, though its inode lives on outside. */
	assert_int_equal(rename(at(e, "root/dir"), at(e, "outside/dir")), 0);
	int fd = -1;
	assert_int_equal(gofer_open(&e->c, (uint64_t)f, O_RDONLY, &fd, NULL),
			 -ESTALE);
	struct gp_attr a;
	assert_int_equal(gofer_stat(&e->c, (uint64_t)d, &a), -ESTALE);
	uint64_t node;
	assert_int_equal(gofer_create(&e->c, (uint64_t)d, "planted", O_RDWR,
				      0644, geteuid(), getegid(), &node, &a,
				      &fd),
			 -ESTALE);
	assert_int_equal(access(at(e, "outside/dir/planted"), F_OK), -1);
	assert_int_equal(rename(at(e, "outside/dir"), at(e, "root/dir")), 0);
	evict_done(e, fill);
	gofer_close(&e->c, (uint64_t)f);
	gofer_close(&e->c, (uint64_t)d);
}

static void test_evicted_file_swapped(void **state)
{
	struct env *e = *state;
	int64_t g = walk(e, e->root[EXP_ROOT], "dir/f");
	uint64_t *fill = evict_all(e);
	assert_int_equal(gofer_fds_at(e, "/root/dir/f"), 0);
	/* A fifo: no hang, no open of it. A symlink out: not followed. */
	assert_int_equal(rename(at(e, "root/dir/f"), at(e, "root/dir/f.old")),
			 0);
	assert_int_equal(mkfifo(at(e, "root/dir/f"), 0666), 0);
	struct gp_attr a;
	int fd = -1;
	assert_int_equal(gofer_stat(&e->c, (uint64_t)g, &a), -ESTALE);
	assert_int_equal(gofer_open(&e->c, (uint64_t)g, O_RDWR, &fd, NULL),
			 -ESTALE);
	unlink(at(e, "root/dir/f"));
	assert_int_equal(symlink(at(e, "outside/f"), at(e, "root/dir/f")), 0);
	assert_int_equal(gofer_stat(&e->c, (uint64_t)g, &a), -ESTALE);
	assert_int_equal(gofer_open(&e->c, (uint64_t)g, O_RDONLY, &fd, NULL),
			 -ESTALE);
	char buf[GP_PATH_MAX + 1];
	assert_int_equal(gofer_readlink(&e->c, (uint64_t)g, buf, sizeof(buf)),
			 -EINVAL); /* still a file node, never the link */
	assert_int_equal(fd, -1);
	unlink(at(e, "root/dir/f"));
	rename(at(e, "root/dir/f.old"), at(e, "root/dir/f"));
	evict_done(e, fill);
	gofer_close(&e->c, (uint64_t)g);
}

static void test_evicted_read_only(void **state)
{
	struct env *e = *state;
	uint64_t ro = e->root[EXP_RO];
	int64_t sub = walk(e, ro, "sub");
	int64_t r = walk(e, ro, "r");
	uint64_t *fill = evict_all(e);
	assert_int_equal(gofer_fds_at(e, "/ro/"), 0);
	/* Reopened nodes of a read-only export stay read-only. */
	int fd = -1;
	assert_int_equal(gofer_open(&e->c, (uint64_t)r, O_RDWR, &fd, NULL),
			 -EROFS);
	assert_int_equal(
	    gofer_open(&e->c, (uint64_t)r, O_RDONLY | O_TRUNC, &fd, NULL),
	    -EROFS);
	struct gp_attr a;
	struct gp_setattr_req q = {
	    .node = (uint64_t)r, .mask = GP_SET_SIZE, .size = 0};
	assert_int_equal(gofer_setattr(&e->c, &q, &a), -EROFS);
	uint64_t node;
	assert_int_equal(gofer_create(&e->c, (uint64_t)sub, "n", O_RDWR, 0644,
				      0, 0, &node, &a, &fd),
			 -EROFS);
	assert_int_equal(gofer_unlink(&e->c, ro, "r", 0), -EROFS);
	assert_int_equal(fd, -1);
	assert_int_equal(gofer_open(&e->c, (uint64_t)r, O_RDONLY, &fd, NULL),
			 0);
	char buf[32];
	read_fd(fd, buf, sizeof(buf));
	assert_int_equal(write(fd, "x", 1), -1);
	close(fd);
	assert_string_equal(buf, "readonly");
	evict_done(e, fill);
	gofer_close(&e->c, (uint64_t)r);
	gofer_close(&e->c, (uint64_t)sub);
}

/* Host renames behind the gofer's back, then a RENAME through a stale
 * node, can make two nodes each other's parent. Reopening them must fail,
 * not loop. */
static void test_evicted_parent_cycle(void **state)
{
	struct env *e = *state;
	uint64_t root = e->root[EXP_ROOT];
	assert_int_equal(mkdir(at(e, "root/cyc"), 0755), 0);
	assert_int_equal(mkdir(at(e, "root/cyc/b"), 0755), 0);
	int64_t x = walk(e, root, "cyc");
	int64_t y = walk(e, (uint64_t)x, "b");
	assert_true(x > 0 && y > 0);
	/* y's inode leaves x on the host; then x is renamed into y. */
	assert_int_equal(rename(at(e, "root/cyc/b"), at(e, "root/yb")), 0);
	assert_int_equal(gofer_rename(&e->c, root, "cyc", (uint64_t)y, "a", 0),
			 0);
	assert_int_equal(access(at(e, "root/yb/a"), F_OK), 0);
	uint64_t *fill = evict_all(e);
	assert_int_equal(gofer_fds_at(e, "/root/yb"), 0);
	struct gp_attr a;
	assert_int_equal(gofer_stat(&e->c, (uint64_t)x, &a), -ESTALE);
	assert_int_equal(gofer_stat(&e->c, (uint64_t)y, &a), -ESTALE);
	evict_done(e, fill);
	gofer_close(&e->c, (uint64_t)x);
	gofer_close(&e->c, (uint64_t)y);
}

/* The real binary, confined, as the CLI starts it. */
static void test_confined_binary(void **state)
{
	struct env *e = *state;
	char defbin[PATH_MAX];
	const char *bin = getenv("BULKHEAD_GOFER");
	if (!bin) {
		const char *build = getenv("BUILD");
		snprintf(defbin, sizeof(defbin), "%s/bin/bulkhead-gofer",
			 build ? build : "build");
		bin = defbin;
	}
	if (geteuid() != 0 || access(bin, X_OK) != 0) {
		skip();
		return;
	}
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(sv[0]);
		char sock[16], mnt[PATH_MAX + 32];
		snprintf(sock, sizeof(sock), "%d", sv[1]);
		snprintf(mnt, sizeof(mnt), "%s:ro", e->path[EXP_RO]);
		execl(bin, bin, "--sock", sock, "--root", e->path[EXP_ROOT],
		      "--mount", mnt, (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	struct gofer_conn c;
	assert_int_equal(gofer_conn_init(&c, sv[0]), 0);
	uint64_t root, ro;
	struct gp_attr a;
	bool isro;
	assert_int_equal(gofer_attach(&c, 0, &root, &a, &isro), 0);
	assert_int_equal(gofer_attach(&c, 1, &ro, &a, &isro), 0);
	assert_true(isro);
	const char *up[1] = {".."};
	struct gp_walk_ent ent[2];
	unsigned got;
	assert_int_equal(gofer_walk(&c, root, up, 1, ent, &got), -EINVAL);
	const char *path[2] = {"dir", "f"};
	assert_int_equal(gofer_walk(&c, root, path, 2, ent, &got), 0);
	int fd;
	assert_int_equal(gofer_open(&c, ent[1].node, O_RDONLY, &fd, NULL), 0);
	char buf[32];
	read_fd(fd, buf, sizeof(buf));
	close(fd);
	assert_string_equal(buf, "hello");
	uint64_t n;
	assert_int_equal(
	    gofer_create(&c, root, "confined", O_RDWR, 0600, 0, 0, &n, &a, &fd),
	    0);
	close(fd);
	assert_int_equal(gofer_unlink(&c, root, "confined", 0), 0);
	/* FIFOs pass the filter; devices are refused before it. */
	assert_int_equal(
	    gofer_mknod(&c, root, "newfifo", S_IFIFO | 0600, 0, 0, &n, &a), 0);
	assert_true(S_ISFIFO(a.mode));
	assert_int_equal(gofer_close(&c, n), 0);
	assert_int_equal(gofer_unlink(&c, root, "newfifo", 0), 0);
	assert_int_equal(
	    gofer_mknod(&c, root, "dev", S_IFCHR | 0600, 0, 0, &n, &a), -EPERM);
	assert_int_equal(gofer_mkdir(&c, ro, "x", 0755, 0, 0, &n, &a), -EROFS);
	struct gp_setattr_req q = {.node = ent[1].node,
				   .mask = GP_SET_MODE | GP_SET_MTIME,
				   .mode = 0600,
				   .mtime_nsec = UTIME_NOW};
	assert_int_equal(gofer_setattr(&c, &q, &a), 0);
	struct gp_statfs_resp sf;
	assert_int_equal(gofer_statfs(&c, root, &sf), 0);

	/* Confinement as seen from outside. */
	char p[64], line[256];
	snprintf(p, sizeof(p), "/proc/%d/status", pid);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	int seccomp = -1, nnp = -1;
	unsigned long long capeff = ~0ull;
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "Seccomp: %d", &seccomp);
		sscanf(line, "NoNewPrivs: %d", &nnp);
		sscanf(line, "CapEff: %llx", &capeff);
	}
	fclose(f);
	assert_int_equal(seccomp, 2);
	assert_int_equal(nnp, 1);
	assert_int_equal(capeff,
			 (1ull << 0) | (1ull << 1) | (1ull << 3) | (1ull << 4));
	/* Only the socket and the exports are open. */
	snprintf(p, sizeof(p), "/proc/%d/fd", pid);
	DIR *dd = opendir(p);
	assert_non_null(dd);
	int nfds = 0;
	for (struct dirent *de; (de = readdir(dd));)
		nfds += de->d_name[0] != '.';
	closedir(dd);
	assert_true(nfds <= 3 + 1 + 2 + 6); /* stdio, sock, exports, nodes */

	gofer_conn_destroy(&c);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_symlinks_not_followed, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_swap_file_for_symlink, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_swap_dir_for_symlink, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_cross_export, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_read_only_export, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_special_files, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_bad_node_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_getdents_huge, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_normal_ops, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_single_file_export, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_raw_protocol, setup, teardown),
	    cmocka_unit_test_setup_teardown(
		test_evicted_dir_swapped_for_symlink, setup_small, teardown),
	    cmocka_unit_test_setup_teardown(test_evicted_dir_moved_outside,
					    setup_small, teardown),
	    cmocka_unit_test_setup_teardown(test_evicted_file_swapped,
					    setup_small, teardown),
	    cmocka_unit_test_setup_teardown(test_evicted_read_only, setup_small,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_evicted_parent_cycle,
					    setup_small, teardown),
	    cmocka_unit_test_setup_teardown(test_confined_binary, setup,
					    teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
