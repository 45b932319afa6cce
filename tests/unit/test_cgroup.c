/* Unit tests of the cgroup manager (runsc-shim/cgroup*.c) against fake
 * cgroupfs trees: a hybrid host (v1 controllers, cpu and cpuacct
 * co-mounted, a cgroup2 mount beside them), a pure v2 host, and the
 * cgroupsPath forms; plus lib/resources.c's refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bulkhead/config.h"
#include "runsc-shim/cgroup.h"

static char root[256], err[1024];

static void put(const char *rel, const char *text)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	/* mkdir -p of the parent */
	for (char *s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void expect(const char *rel, const char *want)
{
	char p[512], buf[256] = "";
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	FILE *f = fopen(p, "r");
	if (!f)
		fail_msg("%s: missing", rel);
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	assert_string_equal(buf, want);
}

static int mkroot(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/bh-cgtest.XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int rmroot(void **state)
{
	(void)state;
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void hybrid_tree(void)
{
	char mi[2048];
	snprintf(
	    mi, sizeof(mi),
	    "31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n"
	    "32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup "
	    "rw,cpu,cpuacct\n"
	    "34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup "
	    "rw,cpuset\n"
	    "35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup "
	    "rw,memory\n"
	    "39 31 0:36 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids\n"
	    "40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup "
	    "rw,name=systemd\n"
	    "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n");
	put("proc/self/mountinfo", mi);
	put("proc/self/cgroup", "5:memory:/outer\n4:pids:/\n3:cpuacct,cpu:/\n"
				"2:cpuset:/\n1:name=systemd:/\n0::/\n");
	put("sys/fs/cgroup/cpuset/cpuset.cpus", "0-1\n");
	put("sys/fs/cgroup/cpuset/cpuset.mems", "0\n");
	put("sys/fs/cgroup/memory/outer/memory.limit_in_bytes", "max\n");
	put("sys/fs/cgroup/pids/pids.max", "max\n");
	put("sys/fs/cgroup/cpu,cpuacct/cpu.shares", "1024\n");
}

static struct bh_resources limits(void)
{
	struct bh_resources r;
	memset(&r, 0, sizeof(r));
	r.mem_limit = r.mem_reservation = r.mem_swap = -1;
	r.pids_limit = r.cpu_quota = -1;
	r.mem_limit = 64 << 20;
	r.pids_limit = 10;
	r.cpu_quota = 50000;
	r.cpu_period = 100000;
	r.cpu_shares = 512;
	r.cpus = "0";
	return r;
}

/* v1 through a hybrid host: every controller hierarchy gets the leaf,
 * under the caller's own cgroup (memory: /outer), limits in v1's files,
 * cpuset levels copying their parent's. */
static void test_hybrid_v1(void **state)
{
	(void)state;
	hybrid_tree();
	struct bh_resources r = limits();
	struct cgroup cg;
	assert_int_equal(cgroup_open(root, &r, "c1", &cg, err, sizeof(err)), 0);
	assert_string_equal(cg.ops->name, "v1");
	assert_int_equal(cg.nhier, 4);
	assert_int_equal(cgroup_create(&cg, &r, err, sizeof(err)), 0);
	expect("sys/fs/cgroup/memory/outer/bulkhead/c1/memory.limit_in_bytes",
	       "67108864");
	expect("sys/fs/cgroup/pids/bulkhead/c1/pids.max", "84");
	expect("sys/fs/cgroup/cpu,cpuacct/bulkhead/c1/cpu.shares", "512");
	expect("sys/fs/cgroup/cpu,cpuacct/bulkhead/c1/cpu.cfs_period_us",
	       "100000");
	expect("sys/fs/cgroup/cpu,cpuacct/bulkhead/c1/cpu.cfs_quota_us",
	       "50000");
	expect("sys/fs/cgroup/cpuset/bulkhead/cpuset.cpus", "0-1");
	expect("sys/fs/cgroup/cpuset/bulkhead/cpuset.mems", "0");
	expect("sys/fs/cgroup/cpuset/bulkhead/c1/cpuset.cpus", "0");
	/* Joining: "0" written to each leaf's procs file. */
	assert_int_equal(cgroup_join_self(cg.procs_fd, cg.nhier), 0);
	expect("sys/fs/cgroup/pids/bulkhead/c1/tasks", "0");
	/* The record lists what was made, parents first. */
	char rec[300];
	snprintf(rec, sizeof(rec), "%s/rec", root);
	assert_int_equal(cgroup_record(&cg, rec), 0);
	FILE *f = fopen(rec, "r");
	assert_non_null(f);
	char line[512];
	int n = 0, leaves = 0;
	while (fgets(line, sizeof(line), f)) {
		n++;
		leaves += strstr(line, "/bulkhead/c1\n") != NULL;
	}
	fclose(f);
	assert_int_equal(n, 8); /* bulkhead/ and bulkhead/c1 in 4 */
	assert_int_equal(leaves, 4);
	cgroup_close(&cg);
}

/* Swap needs memsw accounting: refused with a line when the host has
 * none; a leaf made before the refusal is removed again. */
static void test_v1_swap_refused(void **state)
{
	(void)state;
	hybrid_tree();
	struct bh_resources r = limits();
	r.mem_swap = 128 << 20;
	struct cgroup cg;
	assert_int_equal(cgroup_open(root, &r, "c2", &cg, err, sizeof(err)), 0);
	assert_int_equal(cgroup_create(&cg, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "swap"));
	cgroup_close(&cg);
}

static void test_v2_systemd_path(void **state)
{
	(void)state;
	put("proc/self/mountinfo",
	    "30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
	put("proc/self/cgroup", "0::/user.slice\n");
	put("sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
	put("sys/fs/cgroup/system.slice/cgroup.controllers",
	    "cpuset cpu io memory pids\n");
	struct bh_resources r = limits();
	r.cgroups_path = "system.slice:docker:abc";
	r.mem_swap = 96 << 20;
	struct cgroup cg;
	assert_int_equal(cgroup_open(root, &r, "c3", &cg, err, sizeof(err)), 0);
	assert_string_equal(cg.ops->name, "v2");
	assert_int_equal(cgroup_create(&cg, &r, err, sizeof(err)), 0);
	const char *d = "sys/fs/cgroup/system.slice/docker-abc.scope";
	char f[256];
	snprintf(f, sizeof(f), "%s/memory.max", d);
	expect(f, "67108864");
	snprintf(f, sizeof(f), "%s/memory.swap.max", d);
	expect(f, "33554432"); /* OCI's swap is memory + swap */
	snprintf(f, sizeof(f), "%s/pids.max", d);
	expect(f, "84");
	snprintf(f, sizeof(f), "%s/cpu.max", d);
	expect(f, "50000 100000");
	snprintf(f, sizeof(f), "%s/cpu.weight", d);
	expect(f, "20"); /* shares 512, runc's conversion */
	/* Controllers enabled in every parent (the last one written stays
	 * in a plain file). */
	expect("sys/fs/cgroup/cgroup.subtree_control", "+pids");
	expect("sys/fs/cgroup/system.slice/cgroup.subtree_control", "+pids");
	cgroup_close(&cg);
	r.mem_disable_oom = true;
	assert_int_equal(cgroup_open(root, &r, "c3", &cg, err, sizeof(err)), 0);
	assert_int_equal(cgroup_create(&cg, &r, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "disableOOMKiller"));
	cgroup_close(&cg);
}

static void test_paths(void **state)
{
	(void)state;
	put("proc/self/mountinfo",
	    "30 23 0:27 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n");
	put("proc/self/cgroup", "0::/me\n");
	struct {
		const char *spec, *leaf;
	} cases[] = {
	    {NULL, "/sys/fs/cgroup/me/bulkhead/id1"},
	    {"/abs/x", "/sys/fs/cgroup/abs/x"},
	    {"rel/y", "/sys/fs/cgroup/me/rel/y"},
	    {"a-b.slice:pre:nm",
	     "/sys/fs/cgroup/a.slice/a-b.slice/pre-nm.scope"},
	    {"-.slice:pre:nm", "/sys/fs/cgroup/pre-nm.scope"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bh_resources r;
		memset(&r, 0, sizeof(r));
		r.cgroups_path = (char *)cases[i].spec;
		struct cgroup cg;
		assert_int_equal(
		    cgroup_open(root, &r, "id1", &cg, err, sizeof(err)), 0);
		char want[512];
		snprintf(want, sizeof(want), "%s%s", root, cases[i].leaf);
		assert_string_equal(cg.leaf[0], want);
		cgroup_close(&cg);
	}
	struct bh_resources r;
	memset(&r, 0, sizeof(r));
	r.cgroups_path = "bad.slice:a:b:c";
	struct cgroup cg;
	assert_int_equal(cgroup_open(root, &r, "id1", &cg, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "cgroupsPath"));
	cgroup_close(&cg);
}

static int parse_res(const char *linux_json, struct bh_config *cfg)
{
	char json[2048];
	snprintf(json, sizeof(json),
		 "{\"process\":{\"args\":[\"/bin/sh\"]},\"root\":{\"path\":"
		 "\"rootfs\"},\"linux\":%s}",
		 linux_json);
	return bh_config_parse(json, strlen(json), cfg, err, sizeof(err));
}

static void test_resources_parse(void **state)
{
	(void)state;
	struct bh_config cfg;
	assert_int_equal(
	    parse_res("{\"resources\":{\"memory\":{\"limit\":67108864,"
		      "\"swap\":-1},\"pids\":{\"limit\":0},\"cpu\":{\"shares\":"
		      "1024,\"quota\":-1,\"cpus\":\"0-1,3\"},\"devices\":[{"
		      "\"allow\":false,\"access\":\"rwm\"}]}}",
		      &cfg),
	    0);
	assert_int_equal(cfg.res.mem_limit, 67108864);
	assert_int_equal(cfg.res.mem_swap, -1);
	assert_int_equal(cfg.res.pids_limit, -1); /* 0: unlimited */
	assert_int_equal(cfg.res.cpu_shares, 1024);
	assert_string_equal(cfg.res.cpus, "0-1,3");
	bh_config_free(&cfg);
	static const struct {
		const char *json, *msg;
	} bad[] = {
	    {"{\"resources\":{\"memory\":{\"limit\":-2}}}", "negative"},
	    {"{\"resources\":{\"memory\":{\"kernel\":1}}}", "not supported"},
	    {"{\"resources\":{\"memory\":{\"limit\":1000}}}", "4 MiB"},
	    {"{\"resources\":{\"memory\":{\"limit\":67108864,\"swap\":"
	     "1000}}}",
	     "below"},
	    {"{\"resources\":{\"cpu\":{\"cpus\":\"0-x\"}}}", "cpu list"},
	    {"{\"resources\":{\"cpu\":{\"shares\":1}}}", "2..262144"},
	    {"{\"resources\":{\"bogus\":{}}}", "unknown field"},
	    {"{\"resources\":{\"unified\":{\"memory.high\":\"1\"}}}",
	     "not supported"},
	    {"{\"cgroupsPath\":\"a/../b\"}", ".."},
	    {"{\"cgroupsPath\":5}", "string"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_true(parse_res(bad[i].json, &cfg) < 0);
		if (!strstr(err, bad[i].msg))
			fail_msg("%s: %s (want %s)", bad[i].json, err,
				 bad[i].msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_hybrid_v1, mkroot, rmroot),
	    cmocka_unit_test_setup_teardown(test_v1_swap_refused, mkroot,
					    rmroot),
	    cmocka_unit_test_setup_teardown(test_v2_systemd_path, mkroot,
					    rmroot),
	    cmocka_unit_test_setup_teardown(test_paths, mkroot, rmroot),
	    cmocka_unit_test(test_resources_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
