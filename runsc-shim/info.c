#include "runsc-shim/info.h"

#include <jansson.h>
#include <stdio.h>

/* What containerd and others read to learn what the runtime accepts (the
 * runtime-spec "features" document). Keep it to what is actually honoured. */
static const char features_json[] =
    "{"
    "\"ociVersionMin\":\"1.0.0\","
    "\"ociVersionMax\":\"1.1.0\","
    "\"hooks\":[],"
    "\"mountOptions\":[\"ro\",\"rw\",\"bind\",\"rbind\",\"size\",\"mode\","
    "\"nosuid\",\"nodev\",\"noexec\",\"strictatime\",\"relatime\"],"
    "\"linux\":{"
    "\"namespaces\":[\"pid\",\"network\",\"ipc\",\"uts\",\"mount\","
    "\"user\",\"cgroup\"],"
    "\"capabilities\":[],"
    "\"cgroup\":{\"v1\":false,\"v2\":false,\"systemd\":false,"
    "\"systemdUser\":false},"
    "\"seccomp\":{\"enabled\":false},"
    "\"apparmor\":{\"enabled\":false},"
    "\"selinux\":{\"enabled\":false}"
    "},"
    "\"annotations\":{"
    "\"org.bulkhead.version\":\"" BULKHEAD_VERSION "\""
    "}"
    "}";

int cmd_features(struct cli_globals *g, int argc, char **argv)
{
	(void)argv;
	if (argc > 1)
		return cli_fail(g, "features: unexpected argument \"%.64s\"",
				argv[1]);
	json_t *o = json_loads(features_json, 0, NULL);
	if (!o)
		return cli_fail(g, "features: internal error");
	json_dumpf(o, stdout, JSON_INDENT(4));
	json_decref(o);
	putchar('\n');
	return fflush(stdout) ? 1 : 0;
}

int cmd_version(struct cli_globals *g, int argc, char **argv)
{
	(void)g;
	(void)argc;
	(void)argv;
	printf("bulkhead version %s\nspec: %s\n", BULKHEAD_VERSION,
	       BULKHEAD_OCI_SPEC);
	return fflush(stdout) ? 1 : 0;
}
