/* Unit tests of lib/config.c: what config.json the CLI and the sentry accept,
 * what they refuse (and say), and how accepted values are normalised. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bulkhead/config.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define MINIMAL                                                                \
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"args\":[\"/bin/sh\"]},"      \
	"\"root\":{\"path\":\"rootfs\"}}"

static char err[1024];

static int parse(const char *json, struct bh_config *cfg)
{
	err[0] = '\0';
	return bh_config_parse(json, strlen(json), cfg, err, sizeof(err));
}

/* A config with the given process object and everything else minimal. */
static int parse_process(const char *process, struct bh_config *cfg)
{
	char buf[8192];
	snprintf(buf, sizeof(buf),
		 "{\"process\":%s,\"root\":{\"path\":\"rootfs\"}}", process);
	return parse(buf, cfg);
}

/* A config with the given mounts array. */
static int parse_mounts(const char *mounts, struct bh_config *cfg)
{
	char buf[8192];
	snprintf(buf, sizeof(buf),
		 "{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"r\"},"
		 "\"mounts\":%s}",
		 mounts);
	return parse(buf, cfg);
}

/* Parsing must fail with rc and an error naming `needle`. */
static void expect_reject(int rc, const char *needle)
{
	assert_true(rc < 0);
	assert_non_null(strstr(err, "config.json"));
	if (needle && !strstr(err, needle)) {
		print_error("error \"%s\" does not mention \"%s\"\n", err,
			    needle);
		fail();
	}
}

static void test_minimal(void **state)
{
	(void)state;
	struct bh_config cfg;
	assert_int_equal(parse(MINIMAL, &cfg), 0);
	assert_int_equal(cfg.nargs, 1);
	assert_string_equal(cfg.args[0], "/bin/sh");
	assert_null(cfg.args[1]);
	assert_int_equal(cfg.nenv, 0);
	assert_non_null(cfg.env);
	assert_null(cfg.env[0]);
	assert_string_equal(cfg.cwd, "/");
	assert_string_equal(cfg.root_path, "rootfs");
	assert_false(cfg.root_readonly);
	assert_false(cfg.terminal);
	assert_int_equal(cfg.nmounts, 0);
	assert_int_equal(cfg.ns_flags, 0);
	assert_null(cfg.hostname);
	assert_int_equal(cfg.uid, 0);
	assert_string_equal(cfg.oci_version, "1.0.2");
	bh_config_free(&cfg);
}

static const char full_config[] =
    "{\"ociVersion\":\"1.0.2\","
    "\"process\":{\"terminal\":false,\"user\":{\"uid\":1000,\"gid\":100,"
    "\"additionalGids\":[10,20]},"
    "\"args\":[\"sh\",\"-c\",\"echo hi\"],"
    "\"env\":[\"PATH=/bin:/usr/bin\",\"HOME=/root\",\"EMPTY=\",\"A=b=c\"],"
    "\"cwd\":\"/home//user/./\","
    "\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":1024,\"hard\":4096}],"
    "\"noNewPrivileges\":true,"
    "\"capabilities\":{\"bounding\":[\"CAP_KILL\"]}},"
    "\"root\":{\"path\":\"/abs/rootfs\",\"readonly\":true},"
    "\"hostname\":\"box\","
    "\"mounts\":["
    "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
    "{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv/data\","
    "\"options\":[\"rbind\",\"ro\"]},"
    "{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
    "\"options\":[\"nosuid\",\"size=64m\",\"mode=1777\"]},"
    "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\"},"
    "{\"destination\":\"/dev/pts\",\"type\":\"devpts\"},"
    "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\"},"
    "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\"},"
    "{\"destination\":\"/work\",\"source\":\"work\",\"options\":[\"bind\"]}"
    "],"
    "\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},"
    "{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"},"
    "{\"type\":\"cgroup\",\"path\":\"/proc/1/ns/cgroup\"}],"
    "\"maskedPaths\":[\"/proc/kcore\"]},"
    "\"annotations\":{\"io.kubernetes.cri.container-type\":\"container\","
    "\"k\":\"v\"},"
    "\"hooks\":{}}";

static void test_full(void **state)
{
	(void)state;
	struct bh_config cfg;
	assert_int_equal(parse(full_config, &cfg), 0);
	assert_int_equal(cfg.nargs, 3);
	assert_string_equal(cfg.args[2], "echo hi");
	assert_int_equal(cfg.nenv, 4);
	assert_string_equal(bh_config_getenv(&cfg, "PATH"), "/bin:/usr/bin");
	assert_string_equal(bh_config_getenv(&cfg, "EMPTY"), "");
	assert_string_equal(bh_config_getenv(&cfg, "A"), "b=c");
	assert_null(bh_config_getenv(&cfg, "PAT"));
	assert_null(bh_config_getenv(&cfg, "NOPE"));
	assert_string_equal(cfg.cwd, "/home/user");
	assert_int_equal(cfg.uid, 1000);
	assert_int_equal(cfg.gid, 100);
	assert_int_equal(cfg.nadditional_gids, 2);
	assert_int_equal(cfg.additional_gids[1], 20);
	assert_true(cfg.no_new_privileges);
	assert_int_equal(cfg.nrlimits, 1);
	assert_int_equal(cfg.rlimits[0].resource, RLIMIT_NOFILE);
	assert_int_equal(cfg.rlimits[0].soft, 1024);
	assert_int_equal(cfg.rlimits[0].hard, 4096);
	assert_string_equal(cfg.root_path, "/abs/rootfs");
	assert_true(cfg.root_readonly);
	assert_string_equal(cfg.hostname, "box");
	assert_int_equal(cfg.nmounts, 8);
	assert_int_equal(cfg.mounts[0].type, BH_MOUNT_PROC);
	assert_int_equal(cfg.mounts[1].type, BH_MOUNT_BIND);
	assert_true(cfg.mounts[1].readonly);
	assert_string_equal(cfg.mounts[1].source, "/srv/data");
	assert_int_equal(cfg.mounts[2].type, BH_MOUNT_TMPFS);
	assert_int_equal(cfg.mounts[2].tmpfs_size, 64ul << 20);
	assert_int_equal(cfg.mounts[2].tmpfs_mode, 01777);
	assert_int_equal(cfg.mounts[3].type, BH_MOUNT_SYSFS);
	assert_int_equal(cfg.mounts[4].type, BH_MOUNT_DEVPTS);
	assert_int_equal(cfg.mounts[5].type, BH_MOUNT_MQUEUE);
	assert_int_equal(cfg.mounts[6].type, BH_MOUNT_CGROUP);
	assert_int_equal(cfg.mounts[7].type, BH_MOUNT_BIND);
	assert_string_equal(cfg.mounts[7].source, "work");
	assert_string_equal(cfg.mounts[7].type_name, "bind");
	assert_int_equal(cfg.ns_flags, CLONE_NEWPID | CLONE_NEWNET |
					   CLONE_NEWIPC | CLONE_NEWUTS |
					   CLONE_NEWNS | CLONE_NEWCGROUP);
	assert_int_equal(cfg.nannotations, 2);
	bool found = false;
	for (size_t i = 0; i < cfg.nannotations; i++)
		if (!strcmp(cfg.annotations[2 * i], "k"))
			found = !strcmp(cfg.annotations[2 * i + 1], "v");
	assert_true(found);
	assert_null(cfg.annotations[4]);
	bh_config_free(&cfg);
}

static void test_export_idx(void **state)
{
	(void)state;
	struct bh_config cfg;
	assert_int_equal(parse(full_config, &cfg), 0);
	int want[] = {0, 1, 0, 0, 0, 0, 0, 2, 0};
	for (size_t i = 0; i < cfg.nmounts; i++)
		assert_int_equal(cfg.mounts[i].export_idx, want[i]);
	bh_config_free(&cfg);

	assert_int_equal(
	    parse_mounts("[{\"destination\":\"/a\",\"type\":\"bind\","
			 "\"source\":\"/x\"},"
			 "{\"destination\":\"/t\",\"type\":\"tmpfs\"},"
			 "{\"destination\":\"/b\",\"type\":\"none\","
			 "\"source\":\"/y\",\"options\":[\"rbind\"]},"
			 "{\"destination\":\"/c\",\"source\":\"z\","
			 "\"options\":[\"ro\",\"bind\"]}]",
			 &cfg),
	    0);
	assert_int_equal(cfg.mounts[0].export_idx, 1);
	assert_int_equal(cfg.mounts[1].export_idx, 0);
	assert_int_equal(cfg.mounts[2].export_idx, 2);
	assert_int_equal(cfg.mounts[3].export_idx, 3);
	assert_true(cfg.mounts[3].readonly);
	bh_config_free(&cfg);
}

static void test_bare_name_allowed(void **state)
{
	(void)state;
	struct bh_config cfg;
	assert_int_equal(
	    parse_process("{\"args\":[\"sh\",\"-c\",\"x\"]}", &cfg), 0);
	assert_string_equal(cfg.args[0], "sh");
	bh_config_free(&cfg);
}

static void test_reject_args(void **state)
{
	(void)state;
	struct bh_config cfg;
	expect_reject(parse_process("{}", &cfg), "process.args is missing");
	expect_reject(parse_process("{\"args\":[]}", &cfg),
		      "process.args is empty");
	expect_reject(parse_process("{\"args\":[\"\"]}", &cfg),
		      "process.args[0] is empty");
	expect_reject(parse_process("{\"args\":[\"bin/sh\"]}", &cfg),
		      "absolute");
	expect_reject(parse_process("{\"args\":[\"./x\"]}", &cfg), "absolute");
	expect_reject(parse_process("{\"args\":[\"../x\"]}", &cfg), "absolute");
	expect_reject(parse_process("{\"args\":[\"/bin/sh\",1]}", &cfg),
		      "process.args[1] must be a string");
	expect_reject(parse_process("{\"args\":[null]}", &cfg),
		      "process.args[0] must be a string");
	expect_reject(parse_process("{\"args\":\"/bin/sh\"}", &cfg),
		      "process.args must be an array");
	expect_reject(parse_process("{\"args\":{\"0\":\"/bin/sh\"}}", &cfg),
		      "process.args must be an array");
	expect_reject(parse_process("{\"args\":[\"/bin/sh\\u0000x\"]}", &cfg),
		      NULL);
}

static void test_reject_process(void **state)
{
	(void)state;
	struct bh_config cfg;
	expect_reject(parse("{\"root\":{\"path\":\"r\"}}", &cfg),
		      "process is missing");
	expect_reject(parse("{\"process\":[],\"root\":{\"path\":\"r\"}}", &cfg),
		      "process must be an object");
	expect_reject(
	    parse_process("{\"args\":[\"sh\"],\"cwd\":\"rel\"}", &cfg),
	    "absolute");
	expect_reject(
	    parse_process("{\"args\":[\"sh\"],\"cwd\":\"/a/../b\"}", &cfg),
	    "..");
	expect_reject(parse_process("{\"args\":[\"sh\"],\"cwd\":5}", &cfg),
		      "process.cwd must be a string");
	expect_reject(
	    parse_process("{\"args\":[\"sh\"],\"terminal\":\"yes\"}", &cfg),
	    "process.terminal must be a boolean");
	expect_reject(
	    parse_process("{\"args\":[\"sh\"],\"user\":{\"uid\":-1}}", &cfg),
	    "process.user.uid");
	expect_reject(
	    parse_process("{\"args\":[\"sh\"],\"user\":{\"uid\":4294967295}}",
			  &cfg),
	    "process.user.uid");
	expect_reject(
	    parse_process("{\"args\":[\"sh\"],\"user\":{\"gid\":\"0\"}}", &cfg),
	    "process.user.gid");
	expect_reject(parse_process("{\"args\":[\"sh\"],\"user\":7}", &cfg),
		      "process.user must be an object");
	expect_reject(parse_process("{\"args\":[\"sh\"],\"rlimits\":[{\"type\":"
				    "\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]}",
				    &cfg),
		      "RLIMIT_BOGUS");
	expect_reject(
	    parse_process("{\"args\":[\"sh\"],\"rlimits\":[{\"type\":"
			  "\"RLIMIT_NOFILE\",\"soft\":9,\"hard\":1}]}",
			  &cfg),
	    "soft");
}

static void test_reject_env(void **state)
{
	(void)state;
	struct bh_config cfg;
	expect_reject(
	    parse_process("{\"args\":[\"sh\"],\"env\":[\"NOEQUALS\"]}", &cfg),
	    "process.env[0]");
	expect_reject(
	    parse_process("{\"args\":[\"sh\"],\"env\":[\"A=1\",\"=x\"]}", &cfg),
	    "process.env[1]");
	expect_reject(parse_process("{\"args\":[\"sh\"],\"env\":[1]}", &cfg),
		      "process.env[0] must be a string");
	expect_reject(
	    parse_process("{\"args\":[\"sh\"],\"env\":\"A=1\"}", &cfg),
	    "process.env must be an array");
}

static void test_reject_root(void **state)
{
	(void)state;
	struct bh_config cfg;
	expect_reject(parse("{\"process\":{\"args\":[\"sh\"]}}", &cfg),
		      "root is missing");
	expect_reject(
	    parse("{\"process\":{\"args\":[\"sh\"]},\"root\":{}}", &cfg),
	    "root.path is missing");
	expect_reject(
	    parse("{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"\"}}",
		  &cfg),
	    "root.path is empty");
	expect_reject(
	    parse("{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":3}}",
		  &cfg),
	    "root.path must be a string");
	expect_reject(
	    parse("{\"process\":{\"args\":[\"sh\"]},\"root\":\"rootfs\"}",
		  &cfg),
	    "root must be an object");
	expect_reject(parse("{\"process\":{\"args\":[\"sh\"]},\"root\":{"
			    "\"path\":\"r\",\"readonly\":1}}",
			    &cfg),
		      "root.readonly must be a boolean");
}

static void test_reject_mounts(void **state)
{
	(void)state;
	struct bh_config cfg;
	expect_reject(parse_mounts("[{\"destination\":\"rel\",\"type\":"
				   "\"tmpfs\"}]",
				   &cfg),
		      "absolute");
	expect_reject(parse_mounts("[{\"destination\":\"/a/../../etc\","
				   "\"type\":\"tmpfs\"}]",
				   &cfg),
		      "..");
	expect_reject(parse_mounts("[{\"destination\":\"/..\",\"type\":"
				   "\"tmpfs\"}]",
				   &cfg),
		      "..");
	expect_reject(parse_mounts("[{\"type\":\"tmpfs\"}]", &cfg),
		      "mounts[0].destination is missing");
	expect_reject(parse_mounts("[{\"destination\":7}]", &cfg),
		      "mounts[0].destination must be a string");
	expect_reject(parse_mounts("[{\"destination\":\"/x\",\"type\":"
				   "\"bind\"}]",
				   &cfg),
		      "source");
	expect_reject(parse_mounts("[{\"destination\":\"/x\",\"type\":"
				   "\"tmpfs\",\"options\":\"ro\"}]",
				   &cfg),
		      "mounts[0].options must be an array");
	expect_reject(parse_mounts("[{\"destination\":\"/x\",\"type\":"
				   "\"tmpfs\",\"options\":[1]}]",
				   &cfg),
		      "mounts[0].options[0]");
	expect_reject(parse_mounts("[{\"destination\":\"/x\",\"type\":"
				   "\"tmpfs\",\"options\":[\"size=lots\"]}]",
				   &cfg),
		      "size=lots");
	expect_reject(parse_mounts("[{\"destination\":\"/x\",\"type\":"
				   "\"tmpfs\",\"options\":[\"mode=999\"]}]",
				   &cfg),
		      "mode=999");
	expect_reject(parse_mounts("[{\"destination\":\"/x\",\"type\":"
				   "\"tmpfs\",\"options\":[\"size=99999999999"
				   "999999999g\"]}]",
				   &cfg),
		      "size=");
	expect_reject(parse_mounts("{}", &cfg), "mounts must be an array");
	/* What the sandbox cannot mount is refused, not skipped. */
	expect_reject(parse_mounts("[{\"destination\":\"/w\",\"type\":"
				   "\"fuse.sshfs\",\"source\":\"x\"}]",
				   &cfg),
		      "not supported");
	expect_reject(parse_mounts("[{\"destination\":\"/./\",\"type\":"
				   "\"tmpfs\"}]",
				   &cfg),
		      "mount on /");
	expect_reject(parse_mounts("[\"/x\"]", &cfg),
		      "mounts[0] must be an object");
}

static void test_mount_normalise(void **state)
{
	(void)state;
	struct bh_config cfg;
	assert_int_equal(
	    parse_mounts(
		"[{\"destination\":\"//a//b/./c/\",\"type\":"
		"\"tmpfs\"},{\"destination\":\"/m/\",\"type\":\"tmpfs\"},"
		"{\"destination\":\"/./n/.\",\"type\":\"tmpfs\"},"
		"{\"destination\":\"/x/..y/y..\",\"type\":\"tmpfs\"}]",
		&cfg),
	    0);
	assert_string_equal(cfg.mounts[0].destination, "/a/b/c");
	assert_string_equal(cfg.mounts[1].destination, "/m");
	assert_string_equal(cfg.mounts[2].destination, "/n");
	assert_string_equal(cfg.mounts[3].destination, "/x/..y/y..");
	bh_config_free(&cfg);
}

static void test_mount_options(void **state)
{
	(void)state;
	struct bh_config cfg;
	assert_int_equal(
	    parse_mounts("[{\"destination\":\"/a\",\"type\":\"tmpfs\","
			 "\"options\":[\"ro\",\"size=65536k\",\"mode=755\"]},"
			 "{\"destination\":\"/b\",\"type\":\"tmpfs\","
			 "\"options\":[\"ro\",\"rw\",\"size=1g\"]},"
			 "{\"destination\":\"/c\",\"type\":\"tmpfs\","
			 "\"options\":[\"size=4096\",\"mode=0700\"]},"
			 "{\"destination\":\"/d\",\"type\":\"tmpfs\"},"
			 "{\"destination\":\"/e\",\"type\":\"bind\","
			 "\"source\":\"/s\",\"options\":[\"size=junk\","
			 "\"mode=junk\",\"nosuid\"]}]",
			 &cfg),
	    0);
	assert_true(cfg.mounts[0].readonly);
	assert_int_equal(cfg.mounts[0].tmpfs_size, 65536ul << 10);
	assert_int_equal(cfg.mounts[0].tmpfs_mode, 0755);
	assert_false(cfg.mounts[1].readonly);
	assert_int_equal(cfg.mounts[1].tmpfs_size, 1ul << 30);
	assert_int_equal(cfg.mounts[2].tmpfs_size, 4096);
	assert_int_equal(cfg.mounts[2].tmpfs_mode, 0700);
	assert_false(cfg.mounts[3].readonly);
	assert_int_equal(cfg.mounts[3].tmpfs_size, 0);
	assert_int_equal(cfg.mounts[3].tmpfs_mode, 01777);
	/* tmpfs options on a bind mount mean nothing and are ignored. */
	assert_int_equal(cfg.mounts[4].type, BH_MOUNT_BIND);
	assert_int_equal(cfg.mounts[4].export_idx, 1);
	bh_config_free(&cfg);
}

static void test_devpts_options(void **state)
{
	(void)state;
	struct bh_config cfg;
	assert_int_equal(
	    parse_mounts("[{\"destination\":\"/dev/pts\",\"type\":\"devpts\","
			 "\"options\":[\"nosuid\",\"noexec\",\"newinstance\","
			 "\"ptmxmode=0666\",\"mode=0620\",\"gid=5\","
			 "\"uid=7\",\"max=64\"]},"
			 "{\"destination\":\"/p2\",\"type\":\"devpts\"}]",
			 &cfg),
	    0);
	assert_int_equal(cfg.mounts[0].type, BH_MOUNT_DEVPTS);
	assert_int_equal(cfg.mounts[0].pts_ptmxmode, 0666);
	assert_int_equal(cfg.mounts[0].pts_mode, 0620);
	assert_int_equal(cfg.mounts[0].pts_gid, 5);
	assert_int_equal(cfg.mounts[0].pts_uid, 7);
	assert_int_equal(cfg.mounts[0].pts_max, 64);
	/* Linux's defaults. */
	assert_int_equal(cfg.mounts[1].pts_mode, 0600);
	assert_int_equal(cfg.mounts[1].pts_ptmxmode, 0);
	assert_int_equal(cfg.mounts[1].pts_gid, -1);
	assert_int_equal(cfg.mounts[1].pts_uid, -1);
	bh_config_free(&cfg);
	expect_reject(parse_mounts("[{\"destination\":\"/dev/pts\","
				   "\"type\":\"devpts\",\"options\":"
				   "[\"newinstance\",\"fancy=1\"]}]",
				   &cfg),
		      "devpts option \"fancy=1\" is not supported");
	expect_reject(parse_mounts("[{\"destination\":\"/dev/pts\","
				   "\"type\":\"devpts\",\"options\":"
				   "[\"gid=tty\"]}]",
				   &cfg),
		      "bad option \"gid=tty\"");
	expect_reject(parse_mounts("[{\"destination\":\"/dev/pts\","
				   "\"type\":\"devpts\",\"options\":"
				   "[\"mode=999\"]}]",
				   &cfg),
		      "bad option");
}

static void test_namespaces(void **state)
{
	(void)state;
	struct bh_config cfg;
	const char *base = "{\"process\":{\"args\":[\"sh\"]},\"root\":{"
			   "\"path\":\"r\"},\"linux\":{\"namespaces\":%s}}";
	char buf[1024];
	snprintf(buf, sizeof(buf), base,
		 "[{\"type\":\"user\"},{\"type\":\"time\"}]");
	assert_int_equal(parse(buf, &cfg), 0);
	assert_int_equal(cfg.ns_flags, CLONE_NEWUSER | 0x80);
	assert_null(cfg.netns_path);
	bh_config_free(&cfg);

	/* A network namespace to join, by absolute path only. */
	snprintf(buf, sizeof(buf), base,
		 "[{\"type\":\"network\",\"path\":\"/run/netns/x\"}]");
	assert_int_equal(parse(buf, &cfg), 0);
	assert_int_equal(cfg.ns_flags, CLONE_NEWNET);
	assert_string_equal(cfg.netns_path, "/run/netns/x");
	bh_config_free(&cfg);
	snprintf(buf, sizeof(buf), base,
		 "[{\"type\":\"network\",\"path\":\"netns/x\"}]");
	expect_reject(parse(buf, &cfg), "absolute");
	snprintf(buf, sizeof(buf), base,
		 "[{\"type\":\"network\"},{\"type\":\"ipc\",\"path\":\"/p\"}]");
	assert_int_equal(parse(buf, &cfg), 0);
	assert_null(cfg.netns_path);
	bh_config_free(&cfg);

	snprintf(buf, sizeof(buf), base, "[{\"type\":\"bogus\"}]");
	expect_reject(parse(buf, &cfg), "bogus");
	snprintf(buf, sizeof(buf), base,
		 "[{\"type\":\"pid\"},{\"type\":\"net\"}]");
	expect_reject(parse(buf, &cfg), "\"net\"");
	snprintf(buf, sizeof(buf), base,
		 "[{\"type\":\"pid\"},{\"type\":\"ipc\"},{\"type\":\"pid\"}]");
	expect_reject(parse(buf, &cfg), "duplicate");
	snprintf(buf, sizeof(buf), base, "[{}]");
	expect_reject(parse(buf, &cfg), "type must be a string");
	snprintf(buf, sizeof(buf), base, "[\"pid\"]");
	expect_reject(parse(buf, &cfg), "must be an object");
	snprintf(buf, sizeof(buf), base, "{\"pid\":{}}");
	expect_reject(parse(buf, &cfg), "linux.namespaces must be an array");
	expect_reject(parse("{\"process\":{\"args\":[\"sh\"]},\"root\":{"
			    "\"path\":\"r\"},\"linux\":[]}",
			    &cfg),
		      "linux must be an object");
}

static void test_wrong_json(void **state)
{
	(void)state;
	struct bh_config cfg;
	expect_reject(parse("", &cfg), NULL);
	expect_reject(parse("{", &cfg), NULL);
	expect_reject(parse("[]", &cfg), "top level must be an object");
	expect_reject(parse("\"str\"", &cfg), NULL);
	expect_reject(parse("null", &cfg), NULL);
	expect_reject(parse(MINIMAL "garbage", &cfg), NULL);
	expect_reject(parse("{\"process\":{\"args\":[\"sh\"]},\"process\":{"
			    "\"args\":[\"sh\"]},\"root\":{\"path\":\"r\"}}",
			    &cfg),
		      "duplicate");
	expect_reject(parse("{\"ociVersion\":1,\"process\":{\"args\":[\"sh\"]},"
			    "\"root\":{\"path\":\"r\"}}",
			    &cfg),
		      "ociVersion");
	expect_reject(parse("{\"process\":{\"args\":[\"sh\"]},\"root\":{"
			    "\"path\":\"r\"},\"hostname\":[]}",
			    &cfg),
		      "hostname");
	expect_reject(parse("{\"process\":{\"args\":[\"sh\"]},\"root\":{"
			    "\"path\":\"r\"},\"annotations\":{\"a\":1}}",
			    &cfg),
		      "annotations");
	expect_reject(parse("{\"process\":{\"args\":[\"sh\"]},\"root\":{"
			    "\"path\":\"r\"},\"annotations\":[]}",
			    &cfg),
		      "annotations must be an object");
	/* Length given explicitly: an embedded NUL ends nothing. */
	const char nul[] = "{\"process\":{\"args\":[\"sh\"]}}\0{}";
	expect_reject(
	    bh_config_parse(nul, sizeof(nul) - 1, &cfg, err, sizeof(err)),
	    NULL);
}

/* Deep nesting must be refused, not recursed into until the stack ends. */
static void test_deep_nesting(void **state)
{
	(void)state;
	size_t depth = 100000;
	char *buf = malloc(2 * depth + 64);
	assert_non_null(buf);
	size_t o = (size_t)sprintf(buf, "{\"x\":");
	for (size_t i = 0; i < depth; i++)
		buf[o++] = '[';
	for (size_t i = 0; i < depth; i++)
		buf[o++] = ']';
	buf[o++] = '}';
	buf[o] = '\0';
	struct bh_config cfg;
	expect_reject(parse(buf, &cfg), NULL);
	free(buf);
}

static char *repeat_json_array(const char *elem, size_t n)
{
	size_t el = strlen(elem);
	char *buf = malloc(n * (el + 1) + 3);
	assert_non_null(buf);
	size_t o = 0;
	buf[o++] = '[';
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf[o++] = ',';
		memcpy(buf + o, elem, el);
		o += el;
	}
	buf[o++] = ']';
	buf[o] = '\0';
	return buf;
}

static void test_huge(void **state)
{
	(void)state;
	struct bh_config cfg;
	/* Over the byte limit. */
	size_t big = BH_CFG_MAX_BYTES + 16;
	char *buf = malloc(big + 1);
	assert_non_null(buf);
	memset(buf, ' ', big);
	memcpy(buf, MINIMAL, strlen(MINIMAL));
	buf[big] = '\0';
	expect_reject(bh_config_parse(buf, big, &cfg, err, sizeof(err)),
		      "too large");
	free(buf);

	/* Too many args. */
	char *arr = repeat_json_array("\"a\"", BH_CFG_MAX_ARGS + 1);
	buf = malloc(strlen(arr) + 128);
	sprintf(buf, "{\"process\":{\"args\":%s},\"root\":{\"path\":\"r\"}}",
		arr);
	expect_reject(parse(buf, &cfg), "too many");
	free(buf);
	free(arr);

	/* Exactly the maximum is fine. */
	arr = repeat_json_array("\"a\"", BH_CFG_MAX_ARGS);
	buf = malloc(strlen(arr) + 128);
	sprintf(buf, "{\"process\":{\"args\":%s},\"root\":{\"path\":\"r\"}}",
		arr);
	assert_int_equal(parse(buf, &cfg), 0);
	assert_int_equal(cfg.nargs, BH_CFG_MAX_ARGS);
	bh_config_free(&cfg);
	free(buf);
	free(arr);

	/* Too many env entries. */
	arr = repeat_json_array("\"A=1\"", BH_CFG_MAX_ENV + 1);
	buf = malloc(strlen(arr) + 128);
	sprintf(buf,
		"{\"process\":{\"args\":[\"sh\"],\"env\":%s},\"root\":{"
		"\"path\":\"r\"}}",
		arr);
	expect_reject(parse(buf, &cfg), "too many");
	free(buf);
	free(arr);

	/* Too many mounts. */
	arr = repeat_json_array("{\"destination\":\"/t\",\"type\":\"tmpfs\"}",
				BH_CFG_MAX_MOUNTS + 1);
	buf = malloc(strlen(arr) + 128);
	sprintf(buf,
		"{\"process\":{\"args\":[\"sh\"]},\"root\":{\"path\":\"r\"},"
		"\"mounts\":%s}",
		arr);
	expect_reject(parse(buf, &cfg), "too many");
	free(buf);
	free(arr);

	/* A string over the limit. */
	size_t sl = BH_CFG_MAX_STR + 1;
	buf = malloc(sl + 128);
	size_t o = (size_t)sprintf(buf, "{\"process\":{\"args\":[\"/");
	memset(buf + o, 'x', sl);
	o += sl;
	sprintf(buf + o, "\"]},\"root\":{\"path\":\"r\"}}");
	expect_reject(parse(buf, &cfg), "too long");
	free(buf);
}

static void write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void test_load_files(void **state)
{
	(void)state;
	char dir[] = "/tmp/bh-test-config-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[512];
	snprintf(path, sizeof(path), "%s/config.json", dir);
	struct bh_config cfg;

	/* Missing file. */
	err[0] = '\0';
	assert_int_equal(bh_config_load(dir, &cfg, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "config.json"));

	/* A directory in its place. */
	assert_int_equal(mkdir(path, 0755), 0);
	assert_true(bh_config_load(dir, &cfg, err, sizeof(err)) < 0);
	rmdir(path);

	/* Good file; bh_config_read returns the exact bytes. */
	write_file(path, MINIMAL);
	assert_int_equal(bh_config_load(dir, &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.args[0], "/bin/sh");
	bh_config_free(&cfg);
	char *json;
	size_t len;
	assert_int_equal(bh_config_read(dir, &json, &len, err, sizeof(err)), 0);
	assert_int_equal(len, strlen(MINIMAL));
	assert_memory_equal(json, MINIMAL, len);
	free(json);

	/* Malformed file. */
	write_file(path, "{\"process\":");
	assert_true(bh_config_load(dir, &cfg, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "config.json"));

	unlink(path);
	rmdir(dir);
}

static void test_load_fd(void **state)
{
	(void)state;
	struct bh_config cfg;
	int fd = memfd_create("cfg", 0);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, full_config, strlen(full_config)),
			 (ssize_t)strlen(full_config));
	/* The offset is at the end, as the CLI may leave it: still read from
	 * the start. */
	assert_int_equal(bh_config_load_fd(fd, &cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg.nmounts, 8);
	bh_config_free(&cfg);
	close(fd);

	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], MINIMAL, strlen(MINIMAL)),
			 (ssize_t)strlen(MINIMAL));
	close(p[1]);
	assert_int_equal(bh_config_load_fd(p[0], &cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg.root_path, "rootfs");
	bh_config_free(&cfg);
	close(p[0]);
}

static void test_free_twice_safe(void **state)
{
	(void)state;
	struct bh_config cfg;
	assert_int_equal(parse(MINIMAL, &cfg), 0);
	bh_config_free(&cfg);
	bh_config_free(&cfg);
	/* A failed parse leaves nothing to free, and free is still safe. */
	assert_true(parse("{}", &cfg) < 0);
	bh_config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_minimal),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_export_idx),
	    cmocka_unit_test(test_bare_name_allowed),
	    cmocka_unit_test(test_reject_args),
	    cmocka_unit_test(test_reject_process),
	    cmocka_unit_test(test_reject_env),
	    cmocka_unit_test(test_reject_root),
	    cmocka_unit_test(test_reject_mounts),
	    cmocka_unit_test(test_mount_normalise),
	    cmocka_unit_test(test_mount_options),
	    cmocka_unit_test(test_namespaces),
	    cmocka_unit_test(test_wrong_json),
	    cmocka_unit_test(test_deep_nesting),
	    cmocka_unit_test(test_huge),
	    cmocka_unit_test(test_load_files),
	    cmocka_unit_test(test_load_fd),
	    cmocka_unit_test(test_free_twice_safe),
	    cmocka_unit_test(test_devpts_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
