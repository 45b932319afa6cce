/* A guest that scribbles over the systrap platform's shared pages. They
 * live at SYSMSG_BASE in every guest address space (up to 4,096 slots of
 * 64 KiB, one per thread; this scribbles over the first 64, the ones in
 * use and their free neighbours), and the guest can write them by design: the
 * guest kernel must treat everything in them as untrusted. A child writes
 * random bytes over the whole region from one thread while another makes
 * syscalls; the child may die in any way, but the parent, and the sandbox, must
 * survive: its own syscalls work, it can fork and exec again. Natively (and on
 * the ptrace platform) the region is unmapped and the scribbler only faults.
 * Three rounds, each a fresh child. */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include "check.h"

#define REGION	    0x7e0001000000UL
#define REGION_SIZE 0x400000UL
#define SLOT_SIZE   0x10000UL
#define RUN_MS	    300

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

/* --- the child ---------------------------------------------------------- */
static __thread sigjmp_buf fault_jb;
static __thread int fault_armed;
static atomic_int done;

static void on_fault(int sig)
{
	if (fault_armed)
		siglongjmp(fault_jb, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static void *scribbler(void *arg)
{
	uint64_t seed = (uint64_t)(uintptr_t)arg | 1;
	volatile long faults = 0;
	fault_armed = 1;
	while (!atomic_load(&done)) {
		if (sigsetjmp(fault_jb, 1)) {
			/* Unmapped here (natively, or ptrace): nothing to
			 * scribble on, so stop soon. */
			if (++faults > 64)
				break;
			continue;
		}
		for (int i = 0; i < 4096 && !atomic_load(&done); i++) {
			uint64_t r = rnd(&seed);
			uint64_t slot = (r >> 8) % (REGION_SIZE / SLOT_SIZE);
			/* Mostly the slot headers (state words, registers,
			 * syscall numbers and arguments), sometimes anywhere
			 * in a slot, its data and handler stack included. */
			uint64_t off = (r & 3)
					   ? (rnd(&seed) % 0x400) & ~7UL
					   : (rnd(&seed) % SLOT_SIZE) & ~7UL;
			*(volatile uint64_t *)(REGION + slot * SLOT_SIZE +
					       off) = rnd(&seed);
		}
	}
	fault_armed = 0;
	return NULL;
}

static void *caller(void *arg)
{
	(void)arg;
	char buf[256];
	memset(buf, 'z', sizeof(buf));
	while (!atomic_load(&done)) {
		(void)getpid();
		(void)syscall(SYS_gettid);
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0) {
			(void)!write(fd, buf, sizeof(buf));
			close(fd);
		}
		struct timespec ts = {0, 1000};
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static void child(int round)
{
	struct sigaction sa = {0};
	sa.sa_handler = on_fault;
	sa.sa_flags = SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	pthread_t s, c[2];
	pthread_create(&c[0], NULL, caller, NULL);
	pthread_create(&c[1], NULL, caller, NULL);
	pthread_create(
	    &s, NULL, scribbler,
	    (void *)(uintptr_t)(0x9e3779b97f4a7c15ULL * (round + 1)));
	long end = now_ms() + RUN_MS;
	while (now_ms() < end) {
		(void)getppid();
		usleep(1000);
	}
	atomic_store(&done, 1);
	/* No joins: a thread the scribbling wedged must not keep us. */
	_exit(0);
}

/* --- the parent --------------------------------------------------------- */
static volatile pid_t victim;
static volatile sig_atomic_t timed_out;

static void on_alarm(int sig)
{
	(void)sig;
	timed_out++;
	if (victim > 0)
		kill(victim, SIGKILL);
}

static void still_works(const char *self)
{
	pid_t me = getpid();
	CHECK(me > 0);
	if (getenv("BH_EXPECT_PID1") &&
	    strcmp(getenv("BH_EXPECT_PID1"), "1") == 0)
		CHECK_EQ(me, 1);
	CHECK_EQ(syscall(SYS_getpid), me);
	int fd = SYS(open("/dev/null", O_WRONLY));
	CHECK_EQ(write(fd, "ok", 2), 2);
	SYS(close(fd));
	int p[2];
	SYS(pipe(p));
	CHECK_EQ(write(p[1], "abc", 3), 3);
	char buf[4] = {0};
	CHECK_EQ(read(p[0], buf, 3), 3);
	CHECK_STR(buf, "abc");
	close(p[0]);
	close(p[1]);
	/* fork and exec ourselves again. */
	pid_t pid = SYS(fork());
	if (pid == 0) {
		execl(self, self, "--noop", (char *)NULL);
		_exit(127);
	}
	int st;
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	CHECK_EQ(child_status(st), 0);
	/* No child is left behind. */
	CHECK_ERR(waitpid(-1, &st, WNOHANG), ECHILD);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--noop") == 0)
		return getpid() > 0 ? 0 : 1;
	static char self[4096];
	ssize_t n = SYS(readlink("/proc/self/exe", self, sizeof(self) - 1));
	self[n] = 0;

	struct sigaction sa = {0};
	sa.sa_handler = on_alarm;
	sigemptyset(&sa.sa_mask);
	SYS(sigaction(SIGALRM, &sa, NULL));
	for (int round = 0; round < 3; round++) {
		fflush(stdout);
		timed_out = 0;
		pid_t pid = SYS(fork());
		if (pid == 0)
			child(round);
		victim = pid;
		alarm(10);
		int st;
		pid_t r;
		int rearmed = 0;
		while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR) {
			/* After the alarm's SIGKILL, give it 5 s more. */
			if (timed_out == 1 && !rearmed) {
				rearmed = 1;
				alarm(5);
			} else if (timed_out >= 2) {
				FAIL_AT("round %d: child %d survives SIGKILL",
					round, pid);
			}
		}
		alarm(0);
		victim = 0;
		CHECK_EQ(r, pid);
		printf("round %d: child %s %d%s\n", round,
		       WIFSIGNALED(st) ? "killed by signal" : "exited",
		       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
		       timed_out ? " (hung: killed after 10 s)" : "");
		still_works(self);
	}
	pass("scribble");
	return 0;
}
