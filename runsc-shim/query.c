#include "runsc-shim/query.h"

#include "runsc-shim/id.h"
#include "runsc-shim/state.h"

#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int get_id(const struct cli_globals *g, const char *cmd, int argc,
		  char **argv, const char **id)
{
	if (optind >= argc)
		return cli_fail(g, "%s: missing container id", cmd);
	if (argc - optind > 1)
		return cli_fail(g, "%s: unexpected argument \"%.64s\"", cmd,
				argv[optind + 1]);
	if (id_validate(argv[optind]) < 0)
		return cli_fail(g, "invalid container id \"%.64s\"",
				argv[optind]);
	*id = argv[optind];
	return 0;
}

static int load(const struct cli_globals *g, const char *id, struct state *st)
{
	int rc = state_open(g->root, id, false, st);
	if (rc == 0)
		return 0;
	state_close(st);
	if (rc == -ENOENT)
		return cli_fail(g, "container \"%s\" does not exist", id);
	return cli_fail(g, "container \"%s\": cannot read state: %s", id,
			strerror(-rc));
}

static int print_json(json_t *o, size_t flags)
{
	if (!o)
		return cli_fail(NULL, "out of memory");
	int rc = json_dumpf(o, stdout, flags);
	json_decref(o);
	putchar('\n');
	return rc < 0 || fflush(stdout) ? 1 : 0;
}

int cmd_state(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {{0, 0, 0, 0}};
	optind = 0;
	opterr = 0;
	if (getopt_long(argc, argv, ":", opts, NULL) != -1)
		return cli_bad_flag(g, "state", '?', argv);
	const char *id;
	struct state st;
	if (get_id(g, "state", argc, argv, &id) || load(g, id, &st))
		return 1;
	int rc = print_json(state_oci_json(&st), JSON_INDENT(2));
	state_close(&st);
	return rc;
}

static int parse_format(const struct cli_globals *g, const char *cmd,
			const char *v, bool *json)
{
	if (!strcmp(v, "json"))
		*json = true;
	else if (!strcmp(v, "table"))
		*json = false;
	else
		return cli_fail(g, "%s: invalid format \"%.32s\"", cmd, v);
	return 0;
}

static const char *owner_of(const char *dir, char *buf, size_t len)
{
	struct stat sb;
	if (stat(dir, &sb) < 0)
		return "";
	struct passwd *pw = getpwuid(sb.st_uid);
	if (pw)
		return pw->pw_name;
	snprintf(buf, len, "#%u", (unsigned)sb.st_uid);
	return buf;
}

int cmd_list(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {"quiet", no_argument, NULL, 'q'},
	    {0, 0, 0, 0},
	};
	bool json = false, quiet = false;
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":f:q", opts, NULL)) != -1) {
		if (c == 'f') {
			if (parse_format(g, "list", optarg, &json))
				return 1;
		} else if (c == 'q') {
			quiet = true;
		} else {
			return cli_bad_flag(g, "list", c, argv);
		}
	}
	if (optind < argc)
		return cli_fail(g, "list: unexpected argument \"%.64s\"",
				argv[optind]);
	char **ids;
	size_t n;
	int rc = state_list(g->root, &ids, &n);
	if (rc < 0)
		return cli_fail(g, "list %s: %s", g->root, strerror(-rc));
	json_t *arr = json ? json_array() : NULL;
	if (!json && !quiet)
		printf("%-12s %-10s %-10s %-40s %-30s %s\n", "ID", "PID",
		       "STATUS", "BUNDLE", "CREATED", "OWNER");
	for (size_t i = 0; i < n; i++) {
		struct state st;
		/* A container deleted or half-created meanwhile is skipped,
		 * not an error. */
		if (state_open(g->root, ids[i], false, &st) < 0) {
			state_close(&st);
			free(ids[i]);
			continue;
		}
		char ob[32];
		const char *owner = owner_of(st.dir, ob, sizeof(ob));
		if (quiet) {
			printf("%s\n", st.id);
		} else if (json) {
			json_t *o = state_oci_json(&st);
			if (o) {
				json_object_set_new(o, "owner",
						    json_string(owner));
				json_array_append_new(arr, o);
			}
		} else {
			json_t *o = state_oci_json(&st);
			printf("%-12s %-10lld %-10s %-40s %-30s %s\n", st.id,
			       (long long)json_integer_value(
				   json_object_get(o, "pid")),
			       state_status(&st), st.bundle ? st.bundle : "",
			       st.created ? st.created : "", owner);
			json_decref(o);
		}
		state_close(&st);
		free(ids[i]);
	}
	free(ids);
	if (json && !quiet)
		return print_json(arr, JSON_COMPACT);
	json_decref(arr);
	return fflush(stdout) ? 1 : 0;
}

int cmd_ps(struct cli_globals *g, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"format", required_argument, NULL, 'f'},
	    {0, 0, 0, 0},
	};
	bool json = false;
	optind = 0;
	opterr = 0;
	int c;
	while ((c = getopt_long(argc, argv, ":f:", opts, NULL)) != -1) {
		if (c != 'f')
			return cli_bad_flag(g, "ps", c, argv);
		if (parse_format(g, "ps", optarg, &json))
			return 1;
	}
	const char *id;
	struct state st;
	if (get_id(g, "ps", argc, argv, &id) || load(g, id, &st))
		return 1;
	/* Only the sentry is a host process; guest pids are the sentry's own
	 * to report (later, over the control socket). */
	bool alive = strcmp(state_status(&st), "stopped") != 0;
	int rc = 0;
	if (json) {
		json_t *arr = json_array();
		if (arr && alive)
			json_array_append_new(arr, json_integer(st.pid));
		rc = print_json(arr, JSON_COMPACT);
	} else {
		printf("PID\n");
		if (alive)
			printf("%d\n", (int)st.pid);
	}
	state_close(&st);
	return rc;
}
