/* bulkhead-sentry: the guest kernel of one container. Started by the
 * bulkhead CLI (runsc-shim/launch.c), which passes every fd it needs; it
 * opens no host path after boot. Its exit status is the container's. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bulkhead/config.h"
#include "bulkhead/htable.h"
#include "bulkhead/log.h"
#include "sentry/boot.h"
#include "sentry/confine.h"
#include "sentry/tty/console.h"
#include "sentry/control.h"
#include "sentry/kernel/exit_notify.h"
#include "sentry/kernel/notifier.h"
#include "sentry/kernel/signal.h"
#include "sentry/kernel/task.h"
#include "sentry/kernel/timer.h"
#include "sentry/net/netns.h"
#include "sentry/platform/platform.h"
#include "sentry/stub/stub.h"
#include "sentry/vfs/vfs.h"

#ifdef BH_DEBUG
#include <dlfcn.h>
#include <sanitizer/common_interface_defs.h>

/* LeakSanitizer cannot run in the confined sentry (no /proc, seccomp). */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

/* A UBSan report without a stack names only the line that failed. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "print_stacktrace=1";
}

/* A sanitizer report is written after confinement, when the sentry can no
 * longer open its own binary or /proc/self/maps: without help its stacks
 * would be bare addresses. Cache the mappings and warm the symbolizer (it
 * keeps the binary's debug info open) while files can still be read, and
 * send reports to the text log, where the test runner shows them, rather
 * than to stderr, which the guest shares. GCC links ASan and UBSan as two
 * libraries, each with its own copy of these settings: prepare both. */
static void sanitizer_prepare(int log_fd, bool json)
{
	void *ubsan = dlopen("libubsan.so.1", RTLD_NOW | RTLD_NOLOAD);
	for (int i = 0; i < 2; i++) {
		void *h = i == 0 ? RTLD_DEFAULT : ubsan;
		if (!h)
			continue;
		void (*on_notify)(__sanitizer_sandbox_arguments *) =
		    (void (*)(__sanitizer_sandbox_arguments *))dlsym(
			h, "__sanitizer_sandbox_on_notify");
		void (*set_fd)(void *) =
		    (void (*)(void *))dlsym(h, "__sanitizer_set_report_fd");
		void (*symbolize)(void *, const char *, char *, size_t) =
		    (void (*)(void *, const char *, char *, size_t))dlsym(
			h, "__sanitizer_symbolize_pc");
		char buf[256];
		if (symbolize)
			symbolize(__builtin_return_address(0), "%p %F %L", buf,
				  sizeof(buf));
		__sanitizer_sandbox_arguments args = {0};
		if (on_notify)
			on_notify(&args);
		if (set_fd && log_fd >= 0 && !json)
			set_fd((void *)(long)log_fd);
	}
}
#else
static void sanitizer_prepare(int log_fd, bool json)
{
	(void)log_fd;
	(void)json;
}
#endif

struct opts {
	const char *id, *bundle, *platform, *log_format, *network;
	int config_fd, gofer_fd, control_fd, ready_fd, log_fd, netns_fd;
	bool strace, debug;
	bool terminal; /* --terminal: process.terminal, whatever the config */
};

static int ready_fd = -1;

/* Tell the CLI how create went: "ok" or "error: <msg>", then exit on error.
 * Whether the line reached a reader: not when the CLI died during create. */
static bool report(const char *msg)
{
	if (ready_fd < 0)
		return false;
	char line[1024];
	int n = msg ? snprintf(line, sizeof(line), "error: %s\n", msg)
		    : snprintf(line, sizeof(line), "ok\n");
	if (n > (int)sizeof(line))
		n = sizeof(line);
	ssize_t w = write(ready_fd, line, (size_t)n);
	close(ready_fd);
	ready_fd = -1;
	return w == (ssize_t)n;
}

__attribute__((noreturn)) static void fail(const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	bh_error("%s", msg);
	report(msg);
	_exit(1);
}

static int parse_fd(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < 0 || v > 65535)
		return -1;
	return (int)v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum {
		O_ID = 1,
		O_BUNDLE,
		O_CONFIG,
		O_GOFER,
		O_CONTROL,
		O_READY,
		O_LOG,
		O_LOGFMT,
		O_PLATFORM,
		O_STRACE,
		O_TERMINAL,
		O_DEBUG,
		O_NETWORK,
		O_NETNS
	};
	static const struct option lo[] = {
	    {"id", required_argument, NULL, O_ID},
	    {"bundle", required_argument, NULL, O_BUNDLE},
	    {"config-fd", required_argument, NULL, O_CONFIG},
	    {"gofer-fd", required_argument, NULL, O_GOFER},
	    {"control-fd", required_argument, NULL, O_CONTROL},
	    {"ready-fd", required_argument, NULL, O_READY},
	    {"log-fd", required_argument, NULL, O_LOG},
	    {"log-format", required_argument, NULL, O_LOGFMT},
	    {"platform", required_argument, NULL, O_PLATFORM},
	    {"strace", no_argument, NULL, O_STRACE},
	    {"terminal", no_argument, NULL, O_TERMINAL},
	    {"debug", no_argument, NULL, O_DEBUG},
	    {"network", required_argument, NULL, O_NETWORK},
	    {"netns-fd", required_argument, NULL, O_NETNS},
	    {NULL, 0, NULL, 0},
	};
	memset(o, 0, sizeof(*o));
	o->config_fd = o->gofer_fd = o->control_fd = o->ready_fd = o->log_fd =
	    o->netns_fd = -1;
	o->platform = "systrap";
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_ID:
			o->id = optarg;
			break;
		case O_BUNDLE:
			o->bundle = optarg;
			break;
		case O_CONFIG:
			o->config_fd = parse_fd(optarg);
			break;
		case O_GOFER:
			o->gofer_fd = parse_fd(optarg);
			break;
		case O_CONTROL:
			o->control_fd = parse_fd(optarg);
			break;
		case O_READY:
			o->ready_fd = parse_fd(optarg);
			break;
		case O_LOG:
			o->log_fd = parse_fd(optarg);
			break;
		case O_LOGFMT:
			o->log_format = optarg;
			break;
		case O_PLATFORM:
			o->platform = optarg;
			break;
		case O_TERMINAL:
			o->terminal = true;
			break;
		case O_STRACE:
			o->strace = true;
			break;
		case O_DEBUG:
			o->debug = true;
			break;
		case O_NETWORK:
			o->network = optarg;
			break;
		case O_NETNS:
			o->netns_fd = parse_fd(optarg);
			break;
		default:
			fprintf(stderr, "bulkhead-sentry: bad arguments (this "
					"program is started by bulkhead)\n");
			exit(2);
		}
	}
	ready_fd = o->ready_fd;
	if (o->config_fd < 0 || o->gofer_fd < 0 || o->control_fd < 0) {
		fprintf(stderr, "bulkhead-sentry: --config-fd, --gofer-fd and "
				"--control-fd are required\n");
		report("sentry started without its fds");
		exit(2);
	}
}

static int make_stub_memfd(void)
{
	int fd = memfd_create("bulkhead-stub", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return -errno;
	size_t len = (size_t)(stub_elf_end - stub_elf_start);
	if (write(fd, stub_elf_start, len) != (ssize_t)len ||
	    fchmod(fd, 0555) < 0 ||
	    fcntl(fd, F_ADD_SEALS,
		  F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL) <
		0) {
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

/* Signals sent to the sentry itself (a container's pid) go to its init,
 * as they would to runc's container process. */
static const int forwarded[] = {SIGTERM,  SIGINT,  SIGHUP,  SIGQUIT, SIGUSR1,
				SIGWINCH, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU};

static void *signal_forwarder(void *arg)
{
	sigset_t *set = arg;
	for (;;) {
		int sig;
		if (sigwait(set, &sig) != 0)
			continue;
		/* With a console the window size is the terminal's news. */
		if (sig == SIGWINCH && console_active()) {
			console_winch();
			continue;
		}
		signal_kill(NULL, 1, sig);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	/* First, before any table is filled: guest names must not be able to
	 * choose their hash buckets. */
	uint8_t key[16];
	if (getrandom(key, sizeof(key), 0) == sizeof(key))
		hash_set_key(key);
	struct opts o;
	parse_args(argc, argv, &o);
	bool json = o.log_format && strcmp(o.log_format, "json") == 0;
	bh_log_init("bulkhead-sentry", o.log_fd, json, o.debug);
	/* First, while this is the only thread: setns and unshare change only
	 * the calling thread's namespace, and every thread made later must
	 * inherit the container's. */
	{
		enum netns_mode nm;
		char nerr[256];
		if (netns_parse_mode(o.network, &nm) < 0)
			fail("unknown --network mode \"%.32s\"", o.network);
		if (netns_setup(nm, o.netns_fd, nerr, sizeof(nerr)) < 0)
			fail("%s", nerr);
	}
	signal(SIGPIPE, SIG_IGN);
	static sigset_t fwd;
	sigemptyset(&fwd);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaddset(&fwd, forwarded[i]);
	pthread_sigmask(SIG_BLOCK, &fwd, NULL);
	/* Each guest process holds a few host fds here (its stub's region,
	 * pidfd and fd channel, an eventfd per thread, its open files), and
	 * every process of the sandbox shares this one limit: take all the
	 * hard limit allows (the CLI raised it to fs.nr_open), as runsc does.
	 * Past it, opens fail with ENFILE. */
	struct rlimit nf;
	if (getrlimit(RLIMIT_NOFILE, &nf) == 0 && nf.rlim_cur < nf.rlim_max) {
		nf.rlim_cur = nf.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nf);
	}
	if (getrlimit(RLIMIT_NOFILE, &nf) == 0)
		bh_info("sentry: %llu host fds for the whole sandbox",
			(unsigned long long)nf.rlim_cur);

	char err[512];
	struct bh_config cfg;
	int r = bh_config_load_fd(o.config_fd, &cfg, err, sizeof(err));
	if (r < 0)
		fail("%s", err);
	close(o.config_fd);
	if (o.terminal)
		cfg.terminal = true;
	if (platform_select(o.platform) < 0)
		fail("platform \"%s\" is not available", o.platform);

	int memfd = make_stub_memfd();
	if (memfd < 0)
		fail("creating the stub memfd: %s", strerror(-memfd));
	r = platform->init(memfd);
	if (r < 0)
		fail("starting the %s platform: %s", platform->name,
		     strerror(-r));
	close(memfd);
	r = notifier_init();
	if (r < 0)
		fail("starting the host-fd notifier: %s", strerror(-r));
	r = timer_init();
	if (r < 0)
		fail("starting the timer thread: %s", strerror(-r));
	r = vfs_init(&cfg, o.gofer_fd, err, sizeof(err));
	if (r < 0)
		fail("%s", err);
	sanitizer_prepare(o.log_fd, json);
	r = sentry_confine();
	if (r < 0)
		fail("confining the sentry: %s", strerror(-r));
	bh_info("container %s: platform %s, %zu args, root %s",
		o.id ? o.id : "?", platform->name, cfg.nargs, cfg.root_path);

	pthread_t th;
	if (pthread_create(&th, NULL, signal_forwarder, &fwd) != 0)
		fail("starting the signal thread");
	struct boot_args ba = {.id = o.id,
			       .cfg = &cfg,
			       .gofer_fd = o.gofer_fd,
			       .strace = o.strace};
	r = boot_create(&ba, err, sizeof(err));
	if (r < 0)
		fail("%s", err);
	r = control_start(o.control_fd);
	if (r < 0)
		fail("starting the control socket: %s", strerror(-r));
	/* A CLI killed during create never records the container: nobody
	 * could find, start or delete it, so it must not outlive create. */
	if (!report(NULL)) {
		bh_warn("container %s: the CLI went away during create: "
			"exiting",
			o.id ? o.id : "?");
		_exit(1);
	}

	int status = exit_wait_init();
	int code =
	    WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	bh_info("container %s: init exited, status %d", o.id ? o.id : "?",
		code);
	control_quiesce();
	console_drain();
	_exit(code);
}
