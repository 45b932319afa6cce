/* The systrap platform: guest syscalls trap with seccomp (SECCOMP_RET_TRAP)
 * into the stub's SIGSYS handler, which hands the registers to the sentry
 * through a shared page and waits for the answer. No context switch to a
 * tracer, no ptrace on the syscall path: when the sentry and the stub run on
 * two CPUs, a round trip is a few hundred nanoseconds of spinning.
 *
 * Wake-up policy (measured on the project's 2-vCPU machines): a futex round
 * trip between two processes costs ~9.5 us, a shared-memory spin round trip
 * ~85 ns across two CPUs, waking a thread whose vCPU went idle ~20 us, and
 * spinning on the CPU the peer needs only delays it. Both sides wait at
 * most SPIN_NS (35 us): the first tenth spinning with pause (a whole round
 * trip across CPUs fits in it), the rest spinning with sched_yield, so that
 * a peer that shares this CPU runs at once (measured: pure pause spinning
 * gave getpid 2 us across CPUs but 15-50 us when the scheduler put both on
 * one CPU; a waiter whose peer last waited on its own CPU, by rdtscp, skips
 * the pause part). Then they sleep on the slot's futex; the waker calls
 * FUTEX_WAKE only when the other side said it sleeps. With a single usable CPU
 * nobody spins, nor for a while after a waiter found its CPU taken by other
 * work (struct sysmsg_backoff: spinning then costs a time slice per wait). An
 * idle or blocked guest thread costs no CPU after 35 us. Tuned on the bench:
 * against 20 us, 35 us took fork+exec from 552 to 510 us and a pipe round trip
 * from 36 to 22 us; 2 us made getpid ~8 us; 70 and 100 us were worse than 35
 * (the spinner then takes the CPU its guest needs).
 *
 * ptrace is used only to set up a fresh stub (map the shared region, point
 * it at its entry) and, on kernels without PIDFD_GET_INFO, to clone one
 * (to learn the child's host pid); never per syscall. */
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "bulkhead/log.h"
#include "sentry/kernel/lock.h"
#include "sentry/platform/platform.h"
#include "sentry/platform/ptrace/ptrace_util.h"
#include "sentry/platform/stubmaster.h"
#include "sentry/platform/systrap/sysmsg.h"
#include "sentry/stub/stub.h"

#define SPIN_NS 35000
/* The first 1/10 of the budget (3.5 us: a whole round trip across CPUs) is
 * a pure spin; after that each turn yields. */
#define SPIN_PURE_FRACTION 10
#define INTR_SIGNAL	   SIGUSR2
#define FILTER_MAX	   256
#define CMD_TIMEOUT_NS	   3000000000ull  /* a host call or a copy */
#define START_TIMEOUT_NS   10000000000ull /* a new stub thread says READY */

/* Slots below this keep their pages when their thread exits, ready for the
 * next one (at most 256 KiB a process: a used slot holds about four
 * pages); above it, an exiting thread's pages go back to the host, so that
 * a burst of threads costs memory only while it lasts. That costs a punch
 * (a TLB shootdown) per exit, which processes with few threads never pay. */
#define SLOTS_HOT  16
#define SLOT_WORDS (SYSMSG_SLOTS_MAX / 64)
_Static_assert(SYSMSG_SLOTS_MAX % 64 == 0, "slot bitmap words");
_Static_assert(SYSMSG_BASE + SYSMSG_REGION_SIZE <= STUB_END &&
		   SYSMSG_BASE >= STUB_SCRATCH + STUB_SCRATCH_SIZE,
	       "the shared region lies in the stub's reserved range");
_Static_assert(sizeof(struct sysmsg) <= SYSMSG_DATA_OFF,
	       "a slot's header fits below its data area");
_Static_assert(SYSMSG_DATA_OFF + SYSMSG_DATA_SIZE <= SYSMSG_XSTATE_OFF &&
		   SYSMSG_XSTATE_OFF + SYSMSG_XSTATE_SIZE <= SYSMSG_STACK_OFF &&
		   SYSMSG_XSTATE_SIZE == PLAT_FP_MAX,
	       "a slot's FPU image has its own page");
_Static_assert(SYSMSG_SLOT_SIZE == 0x10000UL && SYSMSG_BASE == 0x7e0001000000UL,
	       "stub.S computes a slot's stack from these");

/* One stub process: its shared region and which slots are in use. */
struct st_as {
	pid_t pid;
	int memfd;
	int pidfd; /* the stub process, when known: tells it is gone */
	struct stub_chan *chan; /* its fd channel (stubmaster.h) */
	uint8_t *map;
	/* Under as_lock: */
	uint64_t slots[SLOT_WORDS]; /* bitmap of slots in use */
	int hiwat;		    /* one past the highest slot ever used:
				     * [0, hiwat) is cleared before reuse */
	int refs;		    /* threads */
	bool full_logged;	    /* "out of slots" was said once */
	bool vm_shared;		    /* a vfork child shares its memory */
};

struct plat_thread {
	pid_t tid;
	struct st_as *as;
	int slot;
	struct sysmsg *m;
	bool fresh; /* from spawn: still to be set up through ptrace */
	bool ready; /* its SM_EV_READY was already seen */
	/* An interrupt the stub has not answered: since when (0: none
	 * unanswered) and its process's CPU time then (see stub_lost). */
	uint64_t intr_since, intr_cpu;
	bool intr_slow_said; /* logged that it is slow, this interrupt */
	bool exited;
	bool entered; /* it ran guest code (or faulted trying) */
	atomic_bool pending_intr;
	/* In-arguments read at this syscall's trap, copied once. */
	uint8_t pf_ok; /* bit i: pf[i] holds pf_buf[i] */
	struct sysmsg_pf pf[2];
	uint8_t pf_buf[2][SYSMSG_PF_MAX];
};

#define SYSCALL_URETPROBE 335 /* x86-64 */

static uint64_t spin_iters; /* TSC ticks in SPIN_NS, 0 on one CPU */
static struct sysmsg_backoff spin_backoff; /* all sentry threads' waits */
static uint8_t pf_table[SYSMSG_PF_NR];	   /* sysmsg.h: what to prefetch */

/* PIDFD_GET_INFO (Linux 6.13): the host pid behind a pidfd, in the
 * caller's pid namespace. With it a stub clones itself and hands the
 * sentry a pidfd; without it, clone goes through ptrace. */
struct bh_pidfd_info {
	uint64_t mask, cgroupid;
	uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid,
	    fsgid, spare0;
};
#define BH_PIDFD_INFO_PID 1ull
#define BH_PIDFD_GET_INFO _IOWR(0xFF, 11, struct bh_pidfd_info)
_Static_assert(BH_PIDFD_GET_INFO == 0xc040ff0bUL,
	       "sentry/confine.c allows this ioctl by number");
static bool pidfd_clone;
/* Threads per address space: SYSMSG_SLOTS_MAX, or fewer for tests of the
 * limit (BH_SYSTRAP_THREADS). Set once at init. */
static int slots_max = SYSMSG_SLOTS_MAX;
/* Guards st_as.slots, .hiwat, .refs, .full_logged and the pool: threads
 * are released without any kernel lock, from their own sentry threads.
 * Held for a few instructions only, never across a host call. */
static pthread_mutex_t as_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sock_filter stub_filter[FILTER_MAX];
static unsigned stub_filter_len;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The spin budget in TSC ticks (both sides read the TSC, no syscall). */
static void calibrate_spin(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 &&
	    CPU_COUNT(&set) < 2) {
		spin_iters = 0;
		return;
	}
	uint64_t t0 = now_ns(), c0 = __builtin_ia32_rdtsc();
	while (now_ns() - t0 < 2000000)
		__builtin_ia32_pause();
	uint64_t dt = now_ns() - t0, dc = __builtin_ia32_rdtsc() - c0;
	spin_iters = dc / (dt ? dt : 1) * SPIN_NS;
}

/* The stub's filter: syscalls from anywhere but the stub's gate trap
 * (SIGSYS to the stub, which asks the sentry); from the gate only this list
 * runs on the host, each confined to the calling process:
 *   rt_sigreturn         return from the stub's handler into the guest
 *   futex                wait/wake on the thread's own shared page
 *   mmap munmap mprotect mremap madvise msync
 *                        the sentry's changes to this address space
 *   arch_prctl(SET_FS)   the guest's TLS base, this thread only
 *   sigaltstack rt_sigaction  the stub's own handlers, at thread start
 *   recvmsg(fd 3) close  receiving a file fd the sentry donates for mmap,
 *                        on this process's own fd channel
 *   pread64              a large read of such a file straight into guest
 *                        memory (the stub holds no other file)
 *   clone (fixed flags)  fork/thread of this stub, for the sentry
 *   sendmsg(fd 3)        handing the sentry the pidfd of such a clone
 *   dup3(x, 3, 0)        a fork child making its own channel its fd 3
 *   exit exit_group      the stub's own end
 *   sched_yield          spinning politely while it waits for the sentry
 *   set_tid_address      a word in its own slot cleared when it exits
 *   clock_gettime(CLOCK_THREAD_CPUTIME_ID)
 *                        the thread's own CPU time, for the sentry
 * Anything else from the gate kills the stub process. The list part is
 * built with libseccomp; the instruction-pointer test in front of it is
 * ours (libseccomp cannot express it). */
static int build_filter(void)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx)
		return -ENOMEM;
	const int plain[] = {
	    SCMP_SYS(rt_sigreturn), SCMP_SYS(futex),
	    SCMP_SYS(mmap),	    SCMP_SYS(munmap),
	    SCMP_SYS(mprotect),	    SCMP_SYS(mremap),
	    SCMP_SYS(madvise),	    SCMP_SYS(msync),
	    SCMP_SYS(sigaltstack),  SCMP_SYS(rt_sigaction),
	    SCMP_SYS(close),	    SCMP_SYS(pread64),
	    SCMP_SYS(exit),	    SCMP_SYS(exit_group),
	    SCMP_SYS(sched_yield),  SCMP_SYS(set_tid_address),
	};
	/* clock_gettime(CLOCK_THREAD_CPUTIME_ID): a thread's own CPU time,
	 * read for the sentry (it reveals nothing but this thread's). */
	int r = 0;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]) && !r; i++)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, plain[i], 0);
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(arch_prctl),
				     1, SCMP_A0(SCMP_CMP_EQ, 0x1002));
	if (!r)
		r = seccomp_rule_add(
		    ctx, SCMP_ACT_ALLOW, SCMP_SYS(clock_gettime), 1,
		    SCMP_A0(SCMP_CMP_EQ, CLOCK_THREAD_CPUTIME_ID));
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(recvmsg), 1,
				     SCMP_A0(SCMP_CMP_EQ, STUB_FD_SOCK));
	const uint64_t clones[] = {CLONE_PARENT | SIGCHLD,
				   CLONE_PARENT | SIGCHLD | CLONE_VM,
				   CLONE_VM | CLONE_THREAD | CLONE_SIGHAND |
				       CLONE_FILES | CLONE_FS | CLONE_SYSVSEM};
	for (size_t i = 0; i < 3 && !r; i++) {
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
				     SCMP_A0(SCMP_CMP_EQ, clones[i]));
		if (!r)
			r = seccomp_rule_add(
			    ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
			    SCMP_A0(SCMP_CMP_EQ, clones[i] | CLONE_PIDFD));
	}
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(sendmsg), 1,
				     SCMP_A0(SCMP_CMP_EQ, STUB_FD_SOCK));
	if (!r)
		r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(dup3), 2,
				     SCMP_A1(SCMP_CMP_EQ, STUB_FD_SOCK),
				     SCMP_A2(SCMP_CMP_EQ, 0));
	int fd = r ? -1 : memfd_create("bulkhead-filter", MFD_CLOEXEC);
	if (!r && fd < 0)
		r = -errno;
	if (!r)
		r = seccomp_export_bpf(ctx, fd);
	seccomp_release(ctx);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	off_t len = lseek(fd, 0, SEEK_END);
	const unsigned pre = 5;
	if (len <= 0 || len % sizeof(struct sock_filter) ||
	    (size_t)len / sizeof(struct sock_filter) + pre > FILTER_MAX) {
		close(fd);
		return -E2BIG;
	}
	size_t n = (size_t)len / sizeof(struct sock_filter);
	ssize_t got = pread(fd, stub_filter + pre, (size_t)len, 0);
	close(fd);
	if (got != len)
		return -EIO;
	const uint64_t gate_ret = STUB_SYS_GATE + 2;
	stub_filter[0] = (struct sock_filter)BPF_STMT(
	    BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, instruction_pointer));
	stub_filter[1] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						      (uint32_t)gate_ret, 0, 2);
	stub_filter[2] = (struct sock_filter)BPF_STMT(
	    BPF_LD | BPF_W | BPF_ABS,
	    offsetof(struct seccomp_data, instruction_pointer) + 4);
	stub_filter[3] = (struct sock_filter)BPF_JUMP(
	    BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)(gate_ret >> 32), 1, 0);
	stub_filter[4] =
	    (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP);
	stub_filter_len = (unsigned)(n + pre);
	return 0;
}

static int st_init(int stub_memfd)
{
	calibrate_spin();
	int r = build_filter();
	if (r < 0) {
		bh_error("systrap: building the stub filter: %s", strerror(-r));
		return r;
	}
	bh_info("systrap: spin budget %d ns = %lu TSC ticks", SPIN_NS,
		(unsigned long)spin_iters);
	r = stubmaster_init(stub_memfd);
	if (r < 0)
		return r;
	int pfd = (int)syscall(SYS_pidfd_open, stubmaster_pid(), 0);
	if (pfd >= 0) {
		struct bh_pidfd_info info = {.mask = BH_PIDFD_INFO_PID};
		pidfd_clone = ioctl(pfd, BH_PIDFD_GET_INFO, &info) == 0 &&
			      (pid_t)info.pid == stubmaster_pid();
		close(pfd);
	}
	/* A knob for tests and older-kernel comparisons. */
	const char *how = getenv("BH_SYSTRAP_CLONE");
	if (how && strcmp(how, "ptrace") == 0)
		pidfd_clone = false;
	bh_info("systrap: clone through %s",
		pidfd_clone ? "the stub (pidfd)" : "ptrace");
	/* Another knob for tests: a low thread limit, to see it hit. */
	const char *lim = getenv("BH_SYSTRAP_THREADS");
	if (lim) {
		long n = strtol(lim, NULL, 10);
		slots_max = n < 2		   ? 2
			    : n > SYSMSG_SLOTS_MAX ? SYSMSG_SLOTS_MAX
						   : (int)n;
		bh_info("systrap: at most %d threads per address space",
			slots_max);
	}
	return 0;
}

/* Zero [off, off + len) of the region where the memfd has pages: a hole
 * reads as zeros already, and writing one would only commit memory. */
static void region_zero(struct st_as *as, uint64_t off, uint64_t len)
{
	const uint64_t end = off + len;
	while (off < end) {
		off_t d = lseek(as->memfd, (off_t)off, SEEK_DATA);
		if (d < 0 && errno == ENXIO)
			return; /* no data from off on */
		if (d < 0) {
			memset(as->map + off, 0, end - off);
			return;
		}
		if ((uint64_t)d >= end)
			return;
		off_t h = lseek(as->memfd, d, SEEK_HOLE);
		uint64_t e = h < 0 || (uint64_t)h > end ? end : (uint64_t)h;
		memset(as->map + d, 0, e - (uint64_t)d);
		off = e;
	}
}

/* Give [off, off + len) of the region back to the host; it reads as zeros
 * after. Costs a TLB shootdown where it was mapped: for the cold part. */
static void region_release(struct st_as *as, uint64_t off, uint64_t len)
{
	if (fallocate(as->memfd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) < 0)
		region_zero(as, off, len);
}

/* Regions of stub processes that are gone, kept for the next fork: making
 * one (memfd, ftruncate, mmap) and unmapping it (a TLB shootdown across
 * the sentry's threads) cost ~20 us of every fork+exit. One is reused only
 * once its pidfd says the process exited, so no stub can still write it,
 * and the slots it used are cleared first, so no process sees another's
 * data: the hot ones zeroed in place, the rest given back. */
#define AS_POOL_MAX 8
static struct st_as *as_pool[AS_POOL_MAX];
static int as_pool_n;

static struct st_as *as_recycle(void)
{
	struct st_as *as = NULL;
	pthread_mutex_lock(&as_lock);
	for (int i = 0; i < as_pool_n; i++) {
		struct pollfd p = {.fd = as_pool[i]->pidfd, .events = POLLIN};
		if (poll(&p, 1, 0) == 1) {
			as = as_pool[i];
			as_pool[i] = as_pool[--as_pool_n];
			break;
		}
	}
	pthread_mutex_unlock(&as_lock);
	if (!as)
		return NULL;
	close(as->pidfd);
	/* Nobody else holds it now: no lock needed. */
	int hot = as->hiwat < SLOTS_HOT ? as->hiwat : SLOTS_HOT;
	region_zero(as, 0, (uint64_t)hot * SYSMSG_SLOT_SIZE);
	if (as->hiwat > hot)
		region_release(as, (uint64_t)hot * SYSMSG_SLOT_SIZE,
			       (uint64_t)(as->hiwat - hot) * SYSMSG_SLOT_SIZE);
	stubmaster_flush_fd(as->chan); /* nothing of the last process */
	as->pidfd = -1;
	memset(as->slots, 0, sizeof(as->slots));
	as->hiwat = 0;
	as->refs = 0;
	as->full_logged = false;
	as->vm_shared = false;
	return as;
}

static struct st_as *as_new(pid_t pid)
{
	struct st_as *as = as_recycle();
	if (as) {
		as->pid = pid;
		return as;
	}
	as = calloc(1, sizeof(*as));
	if (!as)
		return NULL;
	as->pid = pid;
	as->pidfd = -1;
	as->chan = stub_chan_new();
	as->memfd = memfd_create("bulkhead-sysmsg", MFD_CLOEXEC);
	if (!as->chan || as->memfd < 0 ||
	    ftruncate(as->memfd, SYSMSG_REGION_SIZE) < 0)
		goto fail;
	as->map = mmap(NULL, SYSMSG_REGION_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, as->memfd, 0);
	if (as->map == MAP_FAILED)
		goto fail;
	return as;
fail:
	if (as->memfd >= 0)
		close(as->memfd);
	stub_chan_put(as->chan);
	free(as);
	return NULL;
}

static void as_put(struct st_as *as)
{
	pthread_mutex_lock(&as_lock);
	bool last = --as->refs <= 0;
	bool pool =
	    last && as->pidfd >= 0 && !as->vm_shared && as_pool_n < AS_POOL_MAX;
	if (pool)
		as_pool[as_pool_n++] = as;
	pthread_mutex_unlock(&as_lock);
	if (!last || pool)
		return;
	if (as->pidfd >= 0)
		close(as->pidfd);
	munmap(as->map, SYSMSG_REGION_SIZE);
	close(as->memfd);
	stub_chan_put(as->chan);
	free(as);
}

/* The lowest free slot, so that a process reuses the pages it already
 * touched; -EAGAIN (logged once per address space) when all are taken. */
static int slot_alloc(struct st_as *as)
{
	int r = -EAGAIN;
	bool say = false;
	pthread_mutex_lock(&as_lock);
	for (int w = 0; w < SLOT_WORDS && w * 64 < slots_max; w++) {
		if (as->slots[w] == ~0ull)
			continue;
		int i = w * 64 + __builtin_ctzll(~as->slots[w]);
		if (i < slots_max) {
			as->slots[w] |= 1ull << (i % 64);
			r = i;
		}
		break;
	}
	if (r < 0 && !as->full_logged)
		say = as->full_logged = true;
	pthread_mutex_unlock(&as_lock);
	if (say)
		bh_error("systrap: stub %d: all %d thread slots of its address "
			 "space are in use; clone fails with EAGAIN (not "
			 "logged again for it)",
			 as->pid, slots_max);
	return r;
}

static void slot_mark(struct st_as *as, int slot)
{
	pthread_mutex_lock(&as_lock);
	as->slots[slot / 64] |= 1ull << (slot % 64);
	pthread_mutex_unlock(&as_lock);
}

/* The slot's thread is gone (or never ran): a cold slot's pages go back
 * first, while the slot is still ours. */
static void slot_free(struct st_as *as, int slot)
{
	if (slot >= SLOTS_HOT)
		region_release(as, (uint64_t)slot * SYSMSG_SLOT_SIZE,
			       SYSMSG_SLOT_SIZE);
	pthread_mutex_lock(&as_lock);
	as->slots[slot / 64] &= ~(1ull << (slot % 64));
	pthread_mutex_unlock(&as_lock);
}

/* A thread in slot of as, its slot cleared for a start. */
static struct plat_thread *thread_new(struct st_as *as, pid_t tid, int slot)
{
	struct plat_thread *pt = calloc(1, sizeof(*pt));
	if (!pt)
		return NULL;
	pt->tid = tid;
	pt->as = as;
	pt->slot = slot;
	pt->m = (struct sysmsg *)(as->map + (size_t)slot * SYSMSG_SLOT_SIZE);
	memset(pt->m, 0, sizeof(*pt->m));
	pt->m->spin_iters = spin_iters;
	memcpy(pt->m->pf_table, pf_table, sizeof(pf_table));
	pt->m->alive = 1;
	pthread_mutex_lock(&as_lock);
	as->refs++;
	if (slot >= as->hiwat)
		as->hiwat = slot + 1;
	pthread_mutex_unlock(&as_lock);
	return pt;
}

static uint64_t slot_stack_top(int slot)
{
	return SYSMSG_BASE + (uint64_t)(slot + 1) * SYSMSG_SLOT_SIZE;
}

static bool is_event(uint32_t s)
{
	return s >= SM_EV_READY && s <= SM_EV_DONE;
}

/* A stub that ended itself on a fault while serving left its signal in
 * the slot: log it, so that no stub dies unexplained. */
static void stub_last_words(struct plat_thread *pt)
{
	struct sysmsg *m = pt->m;
	uint32_t sig = atomic_load((_Atomic uint32_t *)&m->died_sig);
	if (sig)
		bh_warn("systrap: stub %d (thread %d, slot %d) says it died of "
			"signal %u at %#lx (address %#lx) while serving",
			pt->as->pid, pt->tid, pt->slot, sig,
			(unsigned long)m->died_rip,
			(unsigned long)m->died_addr);
}

static bool stub_alive(struct plat_thread *pt)
{
	return syscall(SYS_tgkill, pt->as->pid, pt->tid, 0) == 0 ||
	       errno != ESRCH;
}

/* The stub process's CPU time (its process CPU clock, which the host lets
 * anyone read for a group leader), 0 if it cannot be read. */
static uint64_t stub_cpu_ns(struct plat_thread *pt)
{
	clockid_t c = (clockid_t)((~(unsigned)pt->as->pid) << 3) | 2;
	struct timespec ts;
	if (clock_gettime(c, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Whether a stub that has not answered an interrupt is lost: its handler
 * waits, its slot wrecked by the guest, for a command we will never send.
 * Silence alone does not tell: on a loaded host a healthy stub may not run
 * for seconds (it was killed after 400 ms, under load, as if lost). The
 * host does: a stub process that got no CPU at all through a whole window
 * of INTR_LOST_NS while unanswered sleeps for good; one that ran is slow,
 * and is waited for, with one log line. Killing a lost stub loses only
 * its guest process. Called about every 200 ms while waiting. */
#define INTR_LOST_NS 2000000000ull
static bool stub_lost(struct plat_thread *pt, uint64_t now)
{
	if (!atomic_load(&pt->pending_intr)) {
		pt->intr_since = 0;
		return false;
	}
	if (!pt->intr_since) {
		pt->intr_since = now;
		pt->intr_cpu = stub_cpu_ns(pt);
		pt->intr_slow_said = false;
		return false;
	}
	if (now - pt->intr_since < INTR_LOST_NS)
		return false;
	uint64_t cpu = stub_cpu_ns(pt);
	if (cpu && cpu == pt->intr_cpu)
		return true;
	if (!pt->intr_slow_said) {
		pt->intr_slow_said = true;
		bh_info("systrap: stub %d has not answered an interrupt for "
			"%llu ms but runs: waiting (a busy host?)",
			pt->tid,
			(unsigned long long)((now - pt->intr_since) / 1000000));
	}
	pt->intr_since = now;
	pt->intr_cpu = cpu;
	return false;
}

/* Wait for the stub's next event: spin, then sleep on the futex. A slot
 * the guest scribbled on only delays its own thread. */
static int wait_event(struct plat_thread *pt, uint32_t *ev, uint64_t deadline)
{
	struct sysmsg *m = pt->m;
	/* Spin with yields: the stub may share this CPU (then it runs at
	 * once) or not (then the yield costs ~nothing). Not while the CPUs
	 * are contended (struct sysmsg_backoff). */
	const uint64_t c0 = __builtin_ia32_rdtsc();
	uint64_t prev = c0;
	uint32_t me = sysmsg_cpu();
	atomic_store_explicit((_Atomic uint32_t *)&m->sentry_cpu, me,
			      memory_order_relaxed);
	while (spin_iters && sysmsg_may_spin(&spin_backoff, c0)) {
		uint64_t now = __builtin_ia32_rdtsc(), dc = now - c0;
		uint32_t s = atomic_load_explicit((_Atomic uint32_t *)&m->state,
						  memory_order_acquire);
		bool answered = is_event(s);
		if (sysmsg_held_off(
			prev, now, spin_iters, answered,
			atomic_load_explicit((_Atomic uint64_t *)&m->post_tsc,
					     memory_order_relaxed))) {
			sysmsg_contended(&spin_backoff, now, spin_iters);
			if (answered) {
				*ev = s;
				return 0;
			}
			break;
		}
		prev = now;
		if (answered) {
			sysmsg_uncontended(&spin_backoff);
			*ev = s;
			return 0;
		}
		if (dc >= spin_iters)
			break;
		/* A stub on this CPU runs only if we yield: no pure spin. */
		if (dc < spin_iters / SPIN_PURE_FRACTION &&
		    atomic_load_explicit((_Atomic uint32_t *)&m->stub_cpu,
					 memory_order_relaxed) != me) {
			__builtin_ia32_pause();
			continue;
		}
		sched_yield();
		me = sysmsg_cpu();
		atomic_store_explicit((_Atomic uint32_t *)&m->sentry_cpu, me,
				      memory_order_relaxed);
	}
	uint64_t last_check = now_ns();
	uint64_t cmd_cpu = 0; /* the stub's CPU time at the last deadline */
	for (;;) {
		atomic_store((_Atomic uint32_t *)&m->sentry_sleeping, 1);
		uint32_t s = atomic_load((_Atomic uint32_t *)&m->state);
		if (is_event(s)) {
			atomic_store((_Atomic uint32_t *)&m->sentry_sleeping,
				     0);
			*ev = s;
			return 0;
		}
		struct timespec to = {0, 200 * 1000 * 1000};
		syscall(SYS_futex, &m->state, FUTEX_WAIT, s, &to, NULL, 0);
		/* Every 200 ms (by the clock: a guest scribbling on its slot
		 * makes the futex return at once, forever): is the stub
		 * alive, and is it lost (stub_lost)? */
		uint64_t now = now_ns();
		if (now - last_check < 200000000ull)
			continue;
		last_check = now;
		if (!stub_alive(pt)) {
			stub_last_words(pt);
			pt->exited = true;
			return -ESRCH;
		}
		/* A command that a stub never answers would stall its
		 * process (its mm lock may be held): bounded too, by the same
		 * rule as interrupts. Past the deadline, a stub that still
		 * gets CPU is slow, not lost: another window, one log line. */
		if (deadline && now > deadline) {
			uint64_t cpu = stub_cpu_ns(pt);
			if (!cpu || cpu == cmd_cpu) {
				bh_warn("systrap: stub %d does not answer a "
					"command and got no CPU: lost, killed",
					pt->tid);
				kill(pt->as->pid, SIGKILL);
				pt->exited = true;
				return -ESRCH;
			}
			if (!cmd_cpu)
				bh_info("systrap: stub %d is slow to answer a "
					"command but runs: waiting (a busy "
					"host?)",
					pt->tid);
			cmd_cpu = cpu;
			deadline = now + INTR_LOST_NS;
		}
		if (stub_lost(pt, now)) {
			bh_warn("systrap: stub %d has not answered an "
				"interrupt for %llu ms and got no CPU: lost, "
				"killed",
				pt->tid,
				(unsigned long long)((now - pt->intr_since) /
						     1000000));
			kill(pt->as->pid, SIGKILL);
			pt->exited = true;
			return -ESRCH;
		}
	}
}

static void post_cmd(struct plat_thread *pt, uint32_t cmd)
{
	struct sysmsg *m = pt->m;
	atomic_store_explicit((_Atomic uint64_t *)&m->post_tsc,
			      __builtin_ia32_rdtsc(), memory_order_relaxed);
	atomic_store((_Atomic uint32_t *)&m->state, cmd);
	if (atomic_load((_Atomic uint32_t *)&m->stub_sleeping))
		syscall(SYS_futex, &m->state, FUTEX_WAKE, 1, NULL, NULL, 0);
}

/* A command that ends in SM_EV_DONE; returns the stub's ret. */
static long command(struct plat_thread *pt, uint32_t cmd)
{
	lock_might_block("a stub command");
	if (pt->exited)
		return -ESRCH;
	if (cmd != SM_CMD_COPYIN)
		pt->pf_ok = 0; /* host calls and writes may change memory */
	post_cmd(pt, cmd);
	uint64_t t0 = now_ns();
	for (;;) {
		uint32_t ev;
		int r = wait_event(pt, &ev, t0 + CMD_TIMEOUT_NS);
		if (r < 0)
			return r;
		if (ev == SM_EV_DONE)
			return (long)pt->m->ret;
		/* A forged or stale event: ask again, for a while. A stub
		 * whose slot is wrecked for good never answers; it only
		 * loses itself. */
		if (now_ns() - t0 > CMD_TIMEOUT_NS) {
			bh_warn("systrap: stub %d does not answer a command: "
				"killed",
				pt->tid);
			kill(pt->as->pid, SIGKILL);
			pt->exited = true;
			return -ESRCH;
		}
		post_cmd(pt, cmd);
	}
}

static int st_spawn(struct plat_thread **out)
{
	struct st_as *as = as_new(0);
	if (!as)
		return -ENOMEM;
	pid_t pid = stubmaster_spawn(as->chan);
	if (pid < 0) {
		as_put(as);
		return pid;
	}
	as->pid = pid;
	slot_mark(as, 0);
	struct plat_thread *pt = thread_new(as, pid, 0);
	if (!pt) {
		kill(pid, SIGKILL);
		as_put(as);
		return -ENOMEM;
	}
	pt->fresh = true;
	*out = pt;
	return 0;
}

static void write_filter(struct sysmsg *m)
{
	memcpy((uint8_t *)m + SYSMSG_DATA_OFF, stub_filter,
	       stub_filter_len * sizeof(struct sock_filter));
	m->filter_len = stub_filter_len;
}

/* Map the region of as at SYSMSG_BASE inside the stopped thread tid. */
static int map_region(pid_t tid, struct st_as *as)
{
	int r = stubmaster_send_fd(as->chan, as->memfd);
	if (r < 0)
		return r;
	/* recvmsg through the gate, msghdr in the stub's scratch page. */
	struct stub_fd_msg s;
	const uint64_t base = STUB_SCRATCH;
	stub_fd_msg_init(&s, base, -1);
	struct iovec l = {&s, sizeof(s)}, rm = {(void *)base, sizeof(s)};
	if (process_vm_writev(as->pid, &l, 1, &rm, 1, 0) != (ssize_t)sizeof(s))
		return -EFAULT;
	long n = ptu_sys_gate_call(tid, as->pid, __NR_recvmsg, STUB_FD_SOCK,
				   (long)base, MSG_CMSG_CLOEXEC | MSG_DONTWAIT,
				   0, 0, 0, NULL);
	if (n != 1) {
		stubmaster_flush_fd(as->chan);
		return n < 0 ? (int)n : -EIO;
	}
	if (process_vm_readv(as->pid, &l, 1, &rm, 1, 0) != (ssize_t)sizeof(s))
		return -EFAULT;
	int sfd = stub_fd_msg_fd(&s);
	if (sfd < 0)
		return sfd;
	long a = ptu_sys_gate_call(tid, as->pid, __NR_mmap, (long)SYSMSG_BASE,
				   SYSMSG_REGION_SIZE, PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_FIXED, sfd, 0, NULL);
	ptu_sys_gate_call(tid, as->pid, __NR_close, sfd, 0, 0, 0, 0, 0, NULL);
	if (a != (long)SYSMSG_BASE)
		return a < 0 ? (int)a : -EIO;
	return 0;
}

/* Point the stopped thread tid at the stub's entry on its slot's stack and
 * let it go. */
static int start_thread(pid_t tid, int slot)
{
	plat_regs regs;
	int r = ptu_getregs(tid, &regs);
	if (r < 0)
		return r;
	regs.rip = STUB_SYSTRAP_ENTRY;
	regs.rsp = slot_stack_top(slot);
	r = ptu_setregs(tid, &regs);
	if (r < 0)
		return r;
	return ptu_detach(tid);
}

/* A fork child: start at the fork entry on the stub's private scratch
 * stack, slot number in rdi. */
static int start_fork_child(pid_t tid, int slot)
{
	plat_regs regs;
	int r = ptu_getregs(tid, &regs);
	if (r < 0)
		return r;
	regs.rip = STUB_SYSTRAP_FORK_ENTRY;
	regs.rsp = STUB_SCRATCH + STUB_SCRATCH_SIZE - 256;
	regs.rdi = (unsigned long)slot;
	regs.rsi = (unsigned long)-1; /* its region and channel fds: */
	regs.rdx = (unsigned long)-1; /* on the parent's channel */
	r = ptu_setregs(tid, &regs);
	if (r < 0)
		return r;
	return ptu_detach(tid);
}

static int st_adopt(struct plat_thread *pt)
{
	if (pt->ready)
		return 0; /* a clone child, already checked in st_clone */
	if (pt->fresh) {
		int r = ptu_attach_in_stub(pt->tid);
		bh_debug("systrap: attached to stub %d: %d", pt->tid, r);
		if (r < 0)
			return r;
		r = map_region(pt->tid, pt->as);
		if (r < 0) {
			bh_error("systrap: mapping the shared region: %s",
				 strerror(-r));
			return r;
		}
		pt->m->init_flags = SM_INIT_FULL;
		write_filter(pt->m);
		r = start_thread(pt->tid, pt->slot);
		bh_debug("systrap: stub %d started: %d", pt->tid, r);
		if (r < 0)
			return r;
		pt->fresh = false;
	}
	uint32_t ev;
	int r = wait_event(pt, &ev, now_ns() + START_TIMEOUT_NS);
	if (r < 0)
		return r;
	if (ev != SM_EV_READY) {
		bh_error("systrap: thread %d started with event %u (rip %#lx, "
			 "nr %ld, signo %d)",
			 pt->tid, ev, (unsigned long)pt->m->regs[SM_RIP],
			 (long)pt->m->regs[SM_ORIG_RAX], pt->m->signo);
		return -EPROTO;
	}
	return 0;
}

static void regs_to_slot(struct sysmsg *m, const plat_regs *r)
{
	memcpy(m->regs, r, sizeof(m->regs));
}

/* Keep what the stub read at the trap, where it read it from what the
 * table asks and the registers (our copy) say: the slot only supplies the
 * bytes, which are the guest's to choose anyway. */
static void pf_collect(struct plat_thread *pt, const plat_regs *r)
{
	struct sysmsg *m = pt->m;
	const uint64_t a[6] = {r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9};
	pt->pf_ok = 0;
	if (r->orig_rax >= SYSMSG_PF_NR)
		return;
	uint32_t valid = atomic_load((_Atomic uint32_t *)&m->pf_valid);
	for (int i = 0; i < 2; i++) {
		uint64_t addr, len;
		if (!(valid & (1u << i)) ||
		    !sysmsg_pf_range(pf_table[r->orig_rax], i, a, &addr,
				     &len) ||
		    m->pf[i].addr != addr || m->pf[i].len != len)
			continue;
		memcpy(pt->pf_buf[i],
		       (uint8_t *)m + SYSMSG_DATA_OFF + i * SYSMSG_PF_MAX, len);
		pt->pf[i].addr = addr;
		pt->pf[i].len = len;
		pt->pf_ok |= 1u << i;
	}
}

static int st_prefetched(struct plat_thread *pt, void *dst, uint64_t src,
			 size_t n)
{
	for (int i = 0; i < 2; i++) {
		const struct sysmsg_pf *p = &pt->pf[i];
		if ((pt->pf_ok & (1u << i)) && src >= p->addr && n <= p->len &&
		    src - p->addr <= p->len - n) {
			memcpy(dst, pt->pf_buf[i] + (src - p->addr), n);
			return 0;
		}
	}
	return -ENOENT;
}

static void st_prefetch_drop(struct plat_thread *pt)
{
	pt->pf_ok = 0;
}

static void st_set_prefetch(const uint8_t *table, size_t n)
{
	memset(pf_table, 0, sizeof(pf_table));
	memcpy(pf_table, table, n < sizeof(pf_table) ? n : sizeof(pf_table));
}

static int st_run(struct plat_thread *pt, plat_regs *regs,
		  struct plat_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	pt->pf_ok = 0;
	if (atomic_exchange(&pt->pending_intr, false)) {
		ev->kind = PLAT_EV_INTERRUPT;
		return 0;
	}
	if (pt->exited) {
		ev->kind = PLAT_EV_EXITED;
		return 0;
	}
	struct sysmsg *m = pt->m;
	pt->intr_since = 0;
	regs_to_slot(m, regs);
	post_cmd(pt, SM_CMD_RESUME);
	uint64_t last_check = now_ns();
	for (;;) {
		uint32_t e;
		if (wait_event(pt, &e, 0) < 0) {
			ev->kind = PLAT_EV_EXITED;
			return 0;
		}
		if (e == SM_EV_DONE || e == SM_EV_READY) {
			/* Stale or forged (the guest wrote its slot): say
			 * resume again, and check now and then that the stub
			 * lives and answers interrupts, as wait_event does. */
			uint64_t now = now_ns();
			if (now - last_check >= 200000000ull) {
				last_check = now;
				if (!stub_alive(pt) || stub_lost(pt, now)) {
					bh_warn("systrap: stub %d is silent: "
						"killed",
						pt->tid);
					kill(pt->as->pid, SIGKILL);
					pt->exited = true;
					ev->kind = PLAT_EV_EXITED;
					return 0;
				}
			}
			post_cmd(pt, SM_CMD_RESUME);
			continue;
		}
		/* Copy once; everything below reads the copy. */
		memcpy(regs, m->regs, sizeof(*regs));
		bool first = !pt->entered;
		pt->entered = true;
		if (e == SM_EV_SYSCALL) {
			ev->kind = PLAT_EV_SYSCALL;
			pf_collect(pt, regs);
		} else if (e == SM_EV_FAULT) {
			int signo = m->signo;
			/* uretprobe (335) passes every seccomp filter since
			 * Linux 6.11, and outside a uretprobe trampoline the
			 * host answers it with a forced SIGILL (SI_KERNEL, no
			 * other x86 trap sends that) just after the syscall
			 * instruction. It is not the guest's fault and not a
			 * syscall we let through: make it the syscall it was,
			 * so it gets ENOSYS as on ptrace (DESIGN rule 1).
			 * uprobe (336, exempt since 6.16) returns ENXIO from
			 * the host with no trap at all: nothing to catch. */
			if (signo == SIGILL && m->code == SI_KERNEL) {
				regs->orig_rax = regs->rax = SYSCALL_URETPROBE;
				ev->kind = PLAT_EV_SYSCALL;
				return 0;
			}
			if (signo != SIGSEGV && signo != SIGBUS &&
			    signo != SIGFPE && signo != SIGILL &&
			    signo != SIGTRAP) {
				ev->kind = PLAT_EV_INTERRUPT;
				return 0;
			}
			ev->kind = PLAT_EV_FAULT;
			/* The kernel's own SIGSEGV (SI_KERNEL) before the
			 * thread ran any guest code: it refused the stub's
			 * entry frame. Not the guest's doing: say so. */
			if (first && signo == SIGSEGV && m->code == SI_KERNEL)
				bh_error(
				    "systrap: thread %d (slot %d): the "
				    "host refused its first entry into the "
				    "guest (SIGSEGV at rt_sigreturn)",
				    pt->tid, pt->slot);
			ev->si.si_signo = signo;
			ev->si.si_code = m->code;
			ev->si.si_addr = (void *)(uintptr_t)m->fault_addr;
		} else {
			ev->kind = PLAT_EV_INTERRUPT;
		}
		return 0;
	}
}

static long st_syscall(struct plat_thread *pt, long nr, long a0, long a1,
		       long a2, long a3, long a4, long a5)
{
	struct sysmsg *m = pt->m;
	m->nr = (uint64_t)nr;
	m->args[0] = (uint64_t)a0, m->args[1] = (uint64_t)a1;
	m->args[2] = (uint64_t)a2, m->args[3] = (uint64_t)a3;
	m->args[4] = (uint64_t)a4, m->args[5] = (uint64_t)a5;
	return command(pt, SM_CMD_HOSTCALL);
}

/* Clone without ptrace: the stub runs clone(CLONE_PIDFD) at its gate, with
 * the child's first stack ready (a fork child starts on the private
 * scratch stack and maps its own region; a thread on its slot's stack),
 * then sends the pidfd over its fd socket; the pidfd tells the host pid. */
static int clone_by_stub(struct plat_thread *pt, unsigned long hflags,
			 bool share, struct st_as *cas, int slot, pid_t *child)
{
	uint64_t sp;
	if (!share) {
		const uint64_t S = STUB_SCRATCH + STUB_SCRATCH_SIZE - 512;
		/* Return address, slot, and the fds of the child's region
		 * and channel, which the stub fills in. */
		uint64_t w[4] = {STUB_SYSTRAP_FORK_ENTRY2, (uint64_t)slot,
				 (uint64_t)-1, (uint64_t)-1};
		struct iovec l = {w, sizeof(w)}, rm = {(void *)S, sizeof(w)};
		if (process_vm_writev(pt->tid, &l, 1, &rm, 1, 0) != sizeof(w))
			return -EFAULT;
		const int fds[2] = {cas->memfd, cas->chan->peer};
		int r = stubmaster_send_fds(pt->as->chan, fds, 2);
		if (r < 0)
			return r;
		sp = S;
	} else {
		uint64_t entry = STUB_SYSTRAP_ENTRY;
		memcpy(cas->map + (size_t)(slot + 1) * SYSMSG_SLOT_SIZE - 8,
		       &entry, 8);
		sp = slot_stack_top(slot) - 8;
	}
	/* One round trip: the stub clones and sends the pidfd itself. */
	struct sysmsg *pm = pt->m;
	pm->args[0] = hflags | CLONE_PIDFD;
	pm->args[1] = sp;
	pm->args[2] = !share;
	long r = command(pt, SM_CMD_CLONE);
	if (r <= 0) {
		if (!share)
			stubmaster_flush_fd(pt->as->chan);
		return r < 0 ? (int)r : -EAGAIN;
	}
	int pfd = stubmaster_recv_fd(pt->as->chan);
	if (pfd < 0)
		return pfd;
	struct bh_pidfd_info info = {.mask = BH_PIDFD_INFO_PID};
	int ir = ioctl(pfd, BH_PIDFD_GET_INFO, &info);
	if (ir < 0 || (int32_t)info.pid <= 0) {
		close(pfd);
		return -EIO;
	}
	if (!share && cas->pidfd < 0)
		cas->pidfd = pfd; /* tells as_recycle() when it is gone */
	else
		close(pfd);
	*child = (pid_t)info.pid;
	return 0;
}

static int st_get_fpregs(struct plat_thread *pt, plat_fpregs *fp);
static int st_set_fpregs(struct plat_thread *pt, const plat_fpregs *fp);

static int st_clone(struct plat_thread *pt, unsigned long flags,
		    struct plat_thread **out)
{
	bool thread = flags & CLONE_THREAD;
	bool share = thread || (flags & CLONE_VM);
	unsigned long hflags =
	    thread ? (CLONE_VM | CLONE_THREAD | CLONE_SIGHAND | CLONE_FILES |
		      CLONE_FS | CLONE_SYSVSEM)
		   : (CLONE_PARENT | SIGCHLD | (flags & CLONE_VM));
	struct st_as *cas = share ? pt->as : as_new(0);
	if (!cas)
		return -EAGAIN; /* mostly the sentry's fd limit: like fork's */
	if (share && !thread)
		cas->vm_shared = true; /* another process maps it: not pooled */
	int slot = share ? slot_alloc(cas) : 0;
	if (slot < 0)
		return slot;
	if (!share)
		slot_mark(cas, 0);
	struct plat_thread *c = thread_new(cas, 0, slot);
	if (!c) {
		if (share)
			slot_free(cas, slot);
		else
			as_put(cas);
		return -ENOMEM;
	}
	/* The child starts with the parent's FPU state, all of it. */
	plat_fpregs fp;
	int fr = st_get_fpregs(pt, &fp);
	if (fr == 0)
		st_set_fpregs(c, &fp);

	pid_t child = 0;
	int r;
	/* The parent's channel carries the child's fds (and the pidfd back):
	 * one exchange, until the child took them. */
	struct stub_chan *ch = pt->as->chan;
	kmutex_lock(&ch->lock);
	if (pidfd_clone) {
		r = clone_by_stub(pt, hflags, share, cas, slot, &child);
		if (r == 0 && !share)
			cas->pid = child;
		goto started;
	}
	/* The parent thread waits inside its stub for commands: stop it,
	 * run clone at the gate, put it back exactly where it was. */
	plat_regs saved;
	r = ptu_attach(pt->tid);
	if (r == 0)
		r = ptu_getregs(pt->tid, &saved);
	if (r == 0) {
		long cr =
		    ptu_sys_gate_call(pt->tid, pt->tid, __NR_clone,
				      (long)hflags, 0, 0, 0, 0, 0, &child);
		if (cr < 0)
			r = (int)cr;
		plat_regs back = saved;
		ptu_setregs(pt->tid, &back);
		ptu_detach(pt->tid);
	}
	if (r == 0 && child <= 0)
		r = -EAGAIN;
	if (r == 0)
		r = ptu_wait_new_child(child);
	if (r == 0 && !share) {
		/* Its own shared region and fd channel, so that no process
		 * sees another's slots or fds: the child takes them itself,
		 * first thing, from the parent's channel, which it shares
		 * until then (stub_systrap_remap). */
		cas->pid = child;
		const int fds[2] = {cas->memfd, cas->chan->peer};
		r = stubmaster_send_fds(pt->as->chan, fds, 2);
		if (r == 0)
			r = start_fork_child(child, slot);
	} else if (r == 0) {
		r = start_thread(child, slot);
	}
started:
	/* A child cloned through ptrace takes its region fd from the socket:
	 * wait for it here, under the kernel lock, so that nobody queues
	 * another fd first. A child of the stub's own clone holds its fd
	 * already; the sentry thread that adopts it waits for it, while this
	 * one goes back to the parent. */
	uint32_t ev = 0;
	if (r == 0)
		c->tid = child;
	if (r == 0 && !pidfd_clone) {
		r = wait_event(c, &ev, now_ns() + START_TIMEOUT_NS);
		if (r == 0 && ev != SM_EV_READY)
			r = -EPROTO;
		if (r < 0 && !share)
			stubmaster_flush_fd(pt->as->chan);
	}
	kmutex_unlock(&ch->lock);
	if (r < 0) {
		if (child > 0)
			kill(child, SIGKILL);
		slot_free(cas, slot);
		as_put(cas);
		free(c);
		return r == -ENOMEM ? r : -EAGAIN;
	}
	c->ready = !pidfd_clone;
	*out = c;
	return 0;
}

static int st_get_fpregs(struct plat_thread *pt, plat_fpregs *fp)
{
	/* The stub copies its trap frame's state into the slot first. */
	long n = command(pt, SM_CMD_GETFP);
	if (n < 0)
		return (int)n;
	const uint8_t *img = (const uint8_t *)pt->m + SYSMSG_XSTATE_OFF;
	uint32_t have = (uint32_t)n; /* guest-writable: bounded, read once */
	if (have > plat_fp.size)
		have = plat_fp.size;
	if (have < PLAT_FP_HDR + PLAT_FP_HDR_SIZE)
		have = 512;
	memcpy(fp->b, img, have);
	if (have < plat_fp.size) {
		/* The legacy part only: the rest reads as its init state. */
		memset(fp->b + PLAT_FP_HDR, 0, plat_fp.size - PLAT_FP_HDR);
		if (plat_fp.size > PLAT_FP_HDR) {
			const uint64_t bv = 3;
			memcpy(fp->b + PLAT_FP_HDR, &bv, 8);
		}
	}
	return 0;
}

static int st_set_fpregs(struct plat_thread *pt, const plat_fpregs *fp)
{
	struct sysmsg *m = pt->m;
	memcpy((uint8_t *)m + SYSMSG_XSTATE_OFF, fp->b, plat_fp.size);
	m->fp_size = plat_fp.size;
	m->fp_features = plat_fp.features;
	m->fp_dirty = 1;
	return 0;
}

static void st_interrupt(struct plat_thread *pt)
{
	atomic_store(&pt->pending_intr, true);
	syscall(SYS_tgkill, pt->as->pid, pt->tid, INTR_SIGNAL);
}

static bool wait_thread_gone(struct plat_thread *pt)
{
	_Atomic uint32_t *alive = (_Atomic uint32_t *)&pt->m->alive;
	uint64_t t0 = now_ns();
	while (atomic_load(alive) != 0) {
		if (now_ns() - t0 > 1000000000ull)
			return false;
		struct timespec to = {0, 50 * 1000 * 1000};
		syscall(SYS_futex, alive, FUTEX_WAIT, 1, &to, NULL, 0);
	}
	return true;
}

static void st_release(struct plat_thread *pt)
{
	struct st_as *as = pt->as;
	pthread_mutex_lock(&as_lock);
	bool last = as->refs <= 1;
	pthread_mutex_unlock(&as_lock);
	if (!pt->exited && pt->tid > 0) {
		if (last) {
			kill(as->pid, SIGKILL);
		} else {
			/* One thread of several: it leaves by itself. Its slot
			 * (and the stack on it) is free once the kernel has
			 * cleared alive; one that does not go in a second is
			 * killed, and a slot never seen free stays taken. */
			pt->m->nr = __NR_exit;
			memset(pt->m->args, 0, sizeof(pt->m->args));
			post_cmd(pt, SM_CMD_HOSTCALL);
			if (!wait_thread_gone(pt)) {
				syscall(SYS_tgkill, as->pid, pt->tid, SIGKILL);
				as_put(as);
				free(pt);
				return;
			}
		}
	}
	slot_free(as, pt->slot);
	as_put(as);
	free(pt);
}

/* The thread's own tid: it shares the process's memory and, unlike the
 * leader, is alive for as long as this thread is served. */
static pid_t st_host_pid(struct plat_thread *pt)
{
	return pt->tid > 0 ? pt->tid : pt->as->pid;
}

static int st_install_fd(struct plat_thread *pt, int fd)
{
	/* The msghdr lives in the slot's data area, which the sentry writes
	 * directly; the stub runs recvmsg at its gate. */
	struct stub_fd_msg *s =
	    (struct stub_fd_msg *)((uint8_t *)pt->m + SYSMSG_DATA_OFF);
	const uint64_t base = SYSMSG_BASE +
			      (uint64_t)pt->slot * SYSMSG_SLOT_SIZE +
			      SYSMSG_DATA_OFF;
	stub_fd_msg_init(s, base, -1);
	struct stub_chan *ch = pt->as->chan;
	kmutex_lock(&ch->lock);
	int r = stubmaster_send_fd(ch, fd);
	if (r < 0) {
		kmutex_unlock(&ch->lock);
		return r;
	}
	long n = st_syscall(pt, __NR_recvmsg, STUB_FD_SOCK, (long)base,
			    MSG_CMSG_CLOEXEC | MSG_DONTWAIT, 0, 0, 0);
	if (n != 1)
		stubmaster_flush_fd(ch);
	kmutex_unlock(&ch->lock);
	if (n != 1)
		return n < 0 ? (int)n : -EIO;
	struct stub_fd_msg copy;
	memcpy(&copy, s, sizeof(copy)); /* guest-writable: read once */
	return stub_fd_msg_fd(&copy);
}

/* One round trip where install_fd, each call and close would take one
 * each: the stub takes the queued fd, runs the calls with it, closes it. */
static int st_syscalls_fd(struct plat_thread *pt, int fd, int fd_arg, int n,
			  const struct plat_call *calls, long *rets)
{
	struct sysmsg *m = pt->m;
	struct sysmsg_call *c =
	    (struct sysmsg_call *)((uint8_t *)m + SYSMSG_DATA_OFF);
	if (n <= 0 || n > SYSMSG_CALLS_MAX || fd_arg < 0 || fd_arg >= 6)
		return -EINVAL;
	struct stub_chan *ch = pt->as->chan;
	kmutex_lock(&ch->lock);
	int r = stubmaster_send_fd(ch, fd);
	if (r < 0) {
		kmutex_unlock(&ch->lock);
		return r;
	}
	for (int i = 0; i < n; i++) {
		c[i].nr = (uint64_t)calls[i].nr;
		for (int k = 0; k < 6; k++)
			c[i].a[k] = (uint64_t)calls[i].a[k];
	}
	m->copy_len = (uint64_t)n;
	m->fd_arg = (uint32_t)fd_arg;
	long done = command(pt, SM_CMD_HOSTCALLS_FD);
	if (done < 0)
		stubmaster_flush_fd(ch); /* maybe not taken: never leave it */
	kmutex_unlock(&ch->lock);
	if (done < 0)
		return (int)done;
	if (done > n)
		return -EIO; /* a forged answer */
	for (int i = 0; i < done; i++)
		rets[i] = (long)c[i].ret; /* each read once */
	return (int)done;
}

/* Guest memory through the stub: a memcpy inside the guest's own address
 * space instead of a process_vm_* call (~2 us each here). The caller
 * (mm/usercopy) checked the range against the guest's mappings. */
static int st_copy_in(struct plat_thread *pt, void *dst, uint64_t src, size_t n)
{
	struct sysmsg *m = pt->m;
	while (n) {
		size_t k = n < SYSMSG_DATA_SIZE ? n : SYSMSG_DATA_SIZE;
		m->copy_addr = src;
		m->copy_len = k;
		long r = command(pt, SM_CMD_COPYIN);
		if (r != (long)k)
			return -EFAULT;
		memcpy(dst, (uint8_t *)m + SYSMSG_DATA_OFF, k);
		dst = (uint8_t *)dst + k;
		src += k;
		n -= k;
	}
	return 0;
}

static int st_copy_out(struct plat_thread *pt, uint64_t dst, const void *src,
		       size_t n)
{
	struct sysmsg *m = pt->m;
	while (n) {
		size_t k = n < SYSMSG_DATA_SIZE ? n : SYSMSG_DATA_SIZE;
		memcpy((uint8_t *)m + SYSMSG_DATA_OFF, src, k);
		m->copy_addr = dst;
		m->copy_len = k;
		long r = command(pt, SM_CMD_COPYOUT);
		if (r != (long)k)
			return -EFAULT;
		src = (const uint8_t *)src + k;
		dst += k;
		n -= k;
	}
	return 0;
}

static int st_atomic32(struct plat_thread *pt, uint64_t addr, int op,
		       uint32_t arg, uint32_t cmp, uint32_t *old)
{
	struct sysmsg *m = pt->m;
	m->args[0] = addr;
	m->args[1] = (uint64_t)op;
	m->args[2] = arg;
	m->args[3] = cmp;
	long r = command(pt, SM_CMD_ATOMIC);
	if (r < 0)
		return r == -22 ? -EINVAL : -EFAULT;
	*old = (uint32_t)r;
	return 0;
}

static int st_thread_cputime(struct plat_thread *pt, uint64_t *ns)
{
	const uint64_t at = SYSMSG_BASE +
			    (uint64_t)pt->slot * SYSMSG_SLOT_SIZE +
			    SYSMSG_DATA_OFF;
	long r = st_syscall(pt, __NR_clock_gettime, CLOCK_THREAD_CPUTIME_ID,
			    (long)at, 0, 0, 0, 0);
	if (r < 0)
		return (int)r;
	struct timespec ts; /* guest-writable: read once, then check */
	memcpy(&ts, (uint8_t *)pt->m + SYSMSG_DATA_OFF, sizeof(ts));
	if (ts.tv_sec < 0 || ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000L)
		return -EIO;
	*ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	return 0;
}

const struct plat_ops plat_systrap_ops = {
    .name = "systrap",
    .init = st_init,
    .spawn = st_spawn,
    .adopt = st_adopt,
    .run = st_run,
    .syscall = st_syscall,
    .clone = st_clone,
    .get_fpregs = st_get_fpregs,
    .set_fpregs = st_set_fpregs,
    .interrupt = st_interrupt,
    .release = st_release,
    .host_pid = st_host_pid,
    .install_fd = st_install_fd,
    .set_prefetch = st_set_prefetch,
    .prefetched = st_prefetched,
    .prefetch_drop = st_prefetch_drop,
    .syscalls_fd = st_syscalls_fd,
    .copy_in = st_copy_in,
    .copy_out = st_copy_out,
    .atomic32 = st_atomic32,
    .thread_cputime = st_thread_cputime,
};
