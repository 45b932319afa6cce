/* bulkhead-gofer: serves the container's files to the sentry.
 *
 *   bulkhead-gofer --sock FD --root ROOTFS [--root-ro] [--mount SRC:ro|rw]...
 *                  [--log-fd FD] [--log-format json] [--debug]
 *
 * Export 0 is ROOTFS, export i the i-th --mount. Every export is opened
 * before confinement; then the gofer pivots into ROOTFS, drops privileges
 * and serves until the sentry closes the socket. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bulkhead/log.h"
#include "gofer/confine.h"
#include "gofer/export.h"
#include "gofer/serve.h"

static int parse_fd(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end || v < 0 || v > INT_MAX)
		return -1;
	return (int)v;
}

static void usage(void)
{
	fprintf(stderr, "usage: bulkhead-gofer --sock FD --root ROOTFS "
			"[--root-ro] [--mount SRC:ro|rw]... [--log-fd FD] "
			"[--log-format json] [--debug]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"sock", required_argument, NULL, 's'},
	    {"root", required_argument, NULL, 'r'},
	    {"root-ro", no_argument, NULL, 'R'},
	    {"mount", required_argument, NULL, 'm'},
	    {"log-fd", required_argument, NULL, 'l'},
	    {"log-format", required_argument, NULL, 'f'},
	    {"debug", no_argument, NULL, 'd'},
	    {NULL, 0, NULL, 0},
	};
	int sock = -1, log_fd = -1;
	const char *root = NULL;
	bool root_ro = false, json = false, debug = false;
	static char *mounts[GOFER_EXPORT_MAX];
	unsigned nmounts = 0;
	int c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = parse_fd(optarg);
			break;
		case 'r':
			root = optarg;
			break;
		case 'R':
			root_ro = true;
			break;
		case 'm':
			if (nmounts + 1 >= GOFER_EXPORT_MAX)
				usage();
			mounts[nmounts++] = optarg;
			break;
		case 'l':
			log_fd = parse_fd(optarg);
			if (log_fd < 0)
				usage();
			break;
		case 'f':
			json = strcmp(optarg, "json") == 0;
			break;
		case 'd':
			debug = true;
			break;
		default:
			usage();
		}
	}
	if (sock < 0 || !root || optind != argc)
		usage();
	bh_log_init("bulkhead-gofer", log_fd, json, debug);

	int type = 0;
	socklen_t tl = sizeof(type);
	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &tl) < 0 ||
	    type != SOCK_SEQPACKET) {
		bh_error("gofer: --sock %d is not a SOCK_SEQPACKET socket",
			 sock);
		return 1;
	}

	static struct gofer_export exports[GOFER_EXPORT_MAX];
	unsigned nexp = 0;
	int r = gofer_export_open(&exports[nexp++], root, root_ro);
	if (r) {
		bh_error("gofer: open rootfs %s: %s", root, strerror(-r));
		return 1;
	}
	for (unsigned i = 0; i < nmounts; i++) {
		char *colon = strrchr(mounts[i], ':');
		if (!colon || (strcmp(colon, ":ro") && strcmp(colon, ":rw"))) {
			bh_error("gofer: bad --mount %s (want SRC:ro|rw)",
				 mounts[i]);
			return 1;
		}
		bool ro = strcmp(colon, ":ro") == 0;
		*colon = '\0';
		r = gofer_export_open(&exports[nexp++], mounts[i], ro);
		if (r) {
			bh_error("gofer: open mount %s: %s", mounts[i],
				 strerror(-r));
			return 1;
		}
	}

	static int keep[GOFER_EXPORT_MAX * 3 + 2];
	unsigned nkeep = 0;
	keep[nkeep++] = sock;
	keep[nkeep++] = log_fd;
	for (unsigned i = 0; i < nexp; i++) {
		keep[nkeep++] = exports[i].fd;
		keep[nkeep++] = exports[i].file_ro_fd;
		keep[nkeep++] = exports[i].file_rw_fd;
	}
	/* Everything that allocates up front, reads host files (the time
	 * zone, for log time stamps) or sets limits (gofer_server_init sizes
	 * its fd LRU from RLIMIT_NOFILE) happens before the seccomp filter. */
	tzset();
	struct gofer_server s;
	r = gofer_server_init(&s, exports, nexp);
	if (r) {
		bh_error("gofer: init: %s", strerror(-r));
		return 1;
	}
	if (gofer_confine(root, exports[0].fd, keep, nkeep))
		return 1;
	bh_debug("gofer: serving %u exports", nexp);

	r = gofer_serve(&s, sock);
	if (r)
		bh_error("gofer: serve: %s", strerror(-r));
	gofer_server_destroy(&s);
	/* _exit: atexit work such as the sanitizers' leak checker (which
	 * needs ptrace) must not run under the seccomp filter. */
	_exit(r ? 1 : 0);
}
