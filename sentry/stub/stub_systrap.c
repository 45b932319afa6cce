/* The systrap stub: runs inside every guest address space, without libc.
 *
 * Guest syscalls hit the seccomp filter (SECCOMP_RET_TRAP) and arrive in
 * stub_systrap_handler() as SIGSYS, on the thread's slot stack (sigaltstack),
 * with every signal blocked. The handler copies the guest registers into the
 * thread's slot, tells the sentry, and serves the sentry's commands (host
 * syscalls, guest memory copies) until it is told to resume; then it loads
 * the (possibly changed) registers into the signal frame and returns, and
 * rt_sigreturn puts the guest back where the sentry wants it. Faults and the
 * sentry's interrupt signal take the same path. */
#include <stddef.h>
#include <stdint.h>

#include "sentry/platform/systrap/sysmsg.h"

#define NR_RT_SIGACTION	   13
#define NR_SIGALTSTACK	   131
#define NR_ARCH_PRCTL	   158
#define NR_FUTEX	   202
#define NR_SECCOMP	   317
#define NR_EXIT		   60
#define NR_SET_TID_ADDRESS 218
#define NR_SCHED_YIELD	   24
#define NR_RECVMSG	   47
#define NR_SENDMSG	   46
#define NR_CLONE	   56
#define NR_DUP3		   292
#define NR_MMAP		   9
#define NR_CLOSE	   3
#define STUB_FD_SOCK	   3
#define FUTEX_WAIT	   0
#define FUTEX_WAKE	   1
#define ARCH_SET_FS	   0x1002
#define SA_SIGINFO	   0x4
#define SA_ONSTACK	   0x08000000
#define SA_RESTORER	   0x04000000
#define SIGILL		   4
#define SIGTRAP		   5
#define SIGBUS		   7
#define SIGFPE		   8
#define SIGUSR2		   12
#define SIGSEGV		   11
#define SIGSYS		   31
#define SPIN_MAX                                                               \
	10000000u /* TSC ticks; the slot's budget is guest-writable            \
		   */

long stub_syscall6(long nr, long a0, long a1, long a2, long a3, long a4,
		   long a5);
void stub_restorer(void);
__attribute__((noreturn)) void stub_enter_guest(void *frame);
void stub_systrap_main(void);
void stub_systrap_remap(long fd, long sock);
void stub_systrap_handler(int sig, void *si, void *uc);
long stub_pf_copy(void *dst, const void *src, uint64_t n);
long stub_atomic32_c(uint64_t addr, long op, long arg, long cmp);
extern const char stub_atomic_begin[] __attribute__((visibility("hidden")));
extern const char stub_atomic_end[] __attribute__((visibility("hidden")));
extern const char stub_atomic_fixup[] __attribute__((visibility("hidden")));
/* Labels inside stub_pf_copy (stub.S). */
extern const char stub_pf_fault[] __attribute__((visibility("hidden")));
extern const char stub_pf_fixup[] __attribute__((visibility("hidden")));
#define NR_EXIT_GROUP 231

struct k_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2;
	uint64_t fpstate;
	uint64_t reserved1[8];
};

struct k_ucontext {
	uint64_t uc_flags;
	uint64_t uc_link;
	uint64_t ss_sp;
	int32_t ss_flags;
	int32_t pad;
	uint64_t ss_size;
	struct k_sigcontext mc;
	uint64_t sigmask;
};

struct k_sigframe {
	uint64_t pretcode;
	struct k_ucontext uc;
	uint8_t info[128];
};

struct k_sigaction {
	void *handler;
	uint64_t flags;
	void *restorer;
	uint64_t mask;
};

/* The compiler may call these for struct copies. */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
/* rep movsb/stosb: fast for the KiB of an FPU image as for a word. */
void *memcpy(void *d, const void *s, size_t n)
{
	void *dp = d;
	__asm__ volatile("rep movsb" : "+D"(dp), "+S"(s), "+c"(n) : : "memory");
	return d;
}
void *memset(void *d, int c, size_t n)
{
	void *dp = d;
	__asm__ volatile("rep stosb" : "+D"(dp), "+c"(n) : "a"(c) : "memory");
	return d;
}

static inline struct sysmsg *my_slot(void)
{
	uintptr_t sp;
	__asm__ volatile("mov %%rsp, %0" : "=r"(sp));
	return (struct sysmsg *)(sp & ~(SYSMSG_SLOT_SIZE - 1));
}

static void post(struct sysmsg *m, uint32_t ev)
{
	__atomic_store_n(&m->post_tsc, __builtin_ia32_rdtsc(),
			 __ATOMIC_RELAXED);
	__atomic_store_n(&m->state, ev, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&m->sentry_sleeping, __ATOMIC_SEQ_CST))
		stub_syscall6(NR_FUTEX, (long)&m->state, FUTEX_WAKE, 1, 0, 0,
			      0);
}

/* Spin for a bounded time, then sleep on the futex: never burn a CPU
 * while the sentry is slow or the guest thread is blocked. */
static uint32_t wait_cmd(struct sysmsg *m)
{
	uint64_t spin = m->spin_iters;
	if (spin > SPIN_MAX)
		spin = SPIN_MAX;
	/* Yield while spinning: if the sentry thread shares our CPU it runs
	 * at once; if not, the yield returns at once. Not while the CPUs are
	 * contended (struct sysmsg_backoff). */
	struct sysmsg_backoff *bo =
	    &((struct sysmsg *)SYSMSG_BASE)->stub_backoff;
	const uint64_t t0 = __builtin_ia32_rdtsc();
	uint64_t prev = t0;
	uint32_t me = sysmsg_cpu();
	__atomic_store_n(&m->stub_cpu, me, __ATOMIC_RELAXED);
	while (spin && sysmsg_may_spin(bo, t0)) {
		uint64_t now = __builtin_ia32_rdtsc(), dt = now - t0;
		uint32_t s = __atomic_load_n(&m->state, __ATOMIC_ACQUIRE);
		int answered = s >= SM_CMD_RESUME;
		if (sysmsg_held_off(
			prev, now, spin, answered,
			__atomic_load_n(&m->post_tsc, __ATOMIC_RELAXED))) {
			sysmsg_contended(bo, now, spin);
			if (answered)
				return s;
			break;
		}
		prev = now;
		if (answered) {
			sysmsg_uncontended(bo);
			return s;
		}
		if (dt >= spin)
			break;
		/* A sentry thread on this CPU runs only if we yield: no pure
		 * spin then. */
		if (dt < spin / 10 &&
		    __atomic_load_n(&m->sentry_cpu, __ATOMIC_RELAXED) != me) {
			__builtin_ia32_pause();
			continue;
		}
		stub_syscall6(NR_SCHED_YIELD, 0, 0, 0, 0, 0, 0);
		me = sysmsg_cpu();
		__atomic_store_n(&m->stub_cpu, me, __ATOMIC_RELAXED);
	}
	for (;;) {
		__atomic_store_n(&m->stub_sleeping, 1, __ATOMIC_SEQ_CST);
		uint32_t s = __atomic_load_n(&m->state, __ATOMIC_SEQ_CST);
		if (s >= SM_CMD_RESUME) {
			__atomic_store_n(&m->stub_sleeping, 0,
					 __ATOMIC_RELAXED);
			return s;
		}
		stub_syscall6(NR_FUTEX, (long)&m->state, FUTEX_WAIT, s, 0, 0,
			      0);
	}
}

/* A one-byte message on the fd socket, with room for one SCM_RIGHTS fd:
 * the stub's side of lib/fdpass and struct stub_fd_msg. */
struct fd_msg {
	struct {
		uint64_t base, len;
	} iov;
	union {
		char buf[24]; /* CMSG_SPACE(sizeof(int)) */
		uint64_t align;
	} cm;
	struct {
		uint64_t name;
		uint32_t namelen, pad0;
		uint64_t iov, iovlen, control, controllen;
		int32_t flags, pad1;
	} msg;
	char byte;
};

static void fd_msg_init(struct fd_msg *f)
{
	memset(f, 0, sizeof(*f));
	f->iov.base = (uint64_t)&f->byte;
	f->iov.len = 1;
	f->msg.iov = (uint64_t)&f->iov;
	f->msg.iovlen = 1;
	f->msg.control = (uint64_t)&f->cm;
	f->msg.controllen = sizeof(f->cm);
}

/* Up to n (1 or 2) fds the sentry queued in one message on the channel:
 * how many came, or a negative errno. */
static int recv_fds(int *fds, int n, long flags)
{
	struct fd_msg f;
	fd_msg_init(&f);
	long r =
	    stub_syscall6(NR_RECVMSG, STUB_FD_SOCK, (long)&f.msg,
			  0x40000000 /* MSG_CMSG_CLOEXEC */ | flags, 0, 0, 0);
	if (r < 0)
		return (int)r;
	uint64_t len = *(uint64_t *)f.cm.buf;
	if (r != 1 || f.msg.controllen < 20 || len < 20 ||
	    *(int32_t *)(f.cm.buf + 8) != 1 /* SOL_SOCKET */ ||
	    *(int32_t *)(f.cm.buf + 12) != 1 /* SCM_RIGHTS */)
		return -5; /* EIO */
	int got = (int)((len - 16) / 4);
	if (got > 2)
		got = 2;
	for (int i = 0; i < got; i++) {
		int fd = *(int32_t *)(f.cm.buf + 16 + 4 * i);
		if (i < n)
			fds[i] = fd;
		else
			stub_syscall6(NR_CLOSE, fd, 0, 0, 0, 0, 0);
	}
	return got < n ? got : n;
}

static int recv_fd(long flags)
{
	int fd;
	int n = recv_fds(&fd, 1, flags);
	return n == 1 ? fd : n < 0 ? n : -5;
}

static long send_fd(int fd)
{
	struct fd_msg f;
	fd_msg_init(&f);
	*(uint64_t *)(f.cm.buf + 0) = 20; /* CMSG_LEN(sizeof(int)) */
	*(int32_t *)(f.cm.buf + 8) = 1;	  /* SOL_SOCKET */
	*(int32_t *)(f.cm.buf + 12) = 1;  /* SCM_RIGHTS */
	*(int32_t *)(f.cm.buf + 16) = fd;
	return stub_syscall6(NR_SENDMSG, STUB_FD_SOCK, (long)&f.msg, 0, 0, 0,
			     0);
}

static long hostcall(const struct sysmsg *m, const uint64_t *a)
{
	return stub_syscall6((long)m->nr, (long)a[0], (long)a[1], (long)a[2],
			     (long)a[3], (long)a[4], (long)a[5]);
}

#define FP_SW	  464 /* sw_reserved in an FXSAVE/XSAVE image */
#define FP_HDR	  512 /* the XSAVE header */
#define FP_MAGIC1 0x46505853U
#define FP_MAGIC2 0x46505845U

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

/* The bytes of state in the kernel's frame fpstate fx: its XSAVE area's
 * size when sw_reserved says it has one (and it fits the slot's image),
 * else the legacy 512. The kernel wrote them; the stub reads them before
 * the guest runs again. */
static uint32_t frame_fp_size(const uint8_t *fx)
{
	uint32_t n = rd32(fx + FP_SW + 16);
	if (rd32(fx + FP_SW) != FP_MAGIC1 || n < FP_HDR + 64 ||
	    n > SYSMSG_XSTATE_SIZE - 4)
		return 512;
	return n;
}

/* Copy src to dst (n bytes of FPU image) but their sw_reserved parts,
 * which say what each buffer is rather than hold state. */
static void fp_copy_state(uint8_t *dst, const uint8_t *src, uint32_t n)
{
	memcpy(dst, src, FP_SW);
	if (n > FP_HDR)
		memcpy(dst + FP_HDR, src + FP_HDR, n - FP_HDR);
}

/* Host syscalls and memory copies for the sentry, until it says resume.
 * The sentry checked copy ranges against the guest's mappings; a guest that
 * unmapped them behind its back only faults itself. fx: the trap frame's
 * FPU state, NULL on a thread's first entry. */
static void serve(struct sysmsg *m, uint8_t *fx)
{
	for (;;) {
		uint32_t cmd = wait_cmd(m);
		uint8_t *data = (uint8_t *)m + SYSMSG_DATA_OFF;
		uint64_t len = m->copy_len;
		if (len > SYSMSG_DATA_SIZE)
			len = SYSMSG_DATA_SIZE;
		switch (cmd) {
		case SM_CMD_RESUME:
			return;
		case SM_CMD_HOSTCALL:
			m->ret = hostcall(m, m->args);
			break;
		case SM_CMD_HOSTCALLS_FD: {
			/* The fd the sentry queued stands in for argument
			 * fd_arg of each call; it is closed after them. */
			int fd = recv_fd(0x40 /* MSG_DONTWAIT */);
			if (fd < 0) {
				m->ret = fd;
				break;
			}
			struct sysmsg_call *c = (struct sysmsg_call *)data;
			uint64_t n = m->copy_len;
			if (n > SYSMSG_CALLS_MAX)
				n = SYSMSG_CALLS_MAX;
			uint64_t i;
			for (i = 0; i < n; i++) {
				c[i].a[m->fd_arg % 6] = (uint64_t)fd;
				c[i].ret = stub_syscall6(
				    (long)c[i].nr, (long)c[i].a[0],
				    (long)c[i].a[1], (long)c[i].a[2],
				    (long)c[i].a[3], (long)c[i].a[4],
				    (long)c[i].a[5]);
				if (c[i].ret < 0 && c[i].ret > -4096) {
					i++;
					break;
				}
			}
			stub_syscall6(NR_CLOSE, fd, 0, 0, 0, 0, 0);
			m->ret = (int64_t)i;
			break;
		}
		case SM_CMD_CLONE: {
			/* clone(CLONE_PIDFD) and hand the pidfd to the sentry
			 * at once. A child returns from the syscall on the
			 * stack the sentry prepared, never here. A fork child
			 * (args[2]) inherits the fd of its own region, taken
			 * from the socket first and named on its stack, so
			 * the sentry need not wait for it to take its own. */
			int cfd[2] = {-1, -1};
			if (m->args[2]) {
				int n = recv_fds(cfd, 2, 0x40 /* DONTWAIT */);
				if (n != 2) {
					if (n == 1)
						stub_syscall6(NR_CLOSE, cfd[0],
							      0, 0, 0, 0, 0);
					m->ret = n < 0 ? n : -5;
					break;
				}
				*(int64_t *)(m->args[1] + 16) = cfd[0];
				*(int64_t *)(m->args[1] + 24) = cfd[1];
			}
			m->pidfd_out = -1;
			long r = stub_syscall6(NR_CLONE, (long)m->args[0],
					       (long)m->args[1],
					       (long)&m->pidfd_out, 0, 0, 0);
			for (int i = 0; i < 2; i++)
				if (cfd[i] >= 0)
					stub_syscall6(NR_CLOSE, cfd[i], 0, 0, 0,
						      0, 0);
			int pfd = m->pidfd_out;
			if (r > 0 && pfd >= 0) {
				if (send_fd(pfd) != 1)
					r = -5; /* EIO */
				stub_syscall6(NR_CLOSE, pfd, 0, 0, 0, 0, 0);
			} else if (r > 0) {
				r = -5;
			}
			m->ret = r;
			break;
		}
		case SM_CMD_GETFP: {
			/* Read on demand: no trap pays for copying 2.5 KiB of
			 * FPU state the sentry rarely wants. */
			uint8_t *img = (uint8_t *)m + SYSMSG_XSTATE_OFF;
			if (fx && !m->fp_dirty) {
				uint32_t n = frame_fp_size(fx);
				memcpy(img, fx, n);
				m->fp_size = n;
			}
			m->ret = m->fp_size;
			break;
		}
		case SM_CMD_ATOMIC:
			/* A fault ends it with -EFAULT (see the handler). */
			m->pf_active = 1;
			m->ret =
			    stub_atomic32_c(m->args[0], (long)m->args[1],
					    (long)m->args[2], (long)m->args[3]);
			m->pf_active = 0;
			break;
		case SM_CMD_COPYIN:
		case SM_CMD_COPYOUT:
			/* A fault (memory the guest unmapped behind the
			 * sentry's back, a file page past its end) only
			 * shortens the copy: the sentry then takes the slow
			 * path, which finds the exact end. */
			m->pf_active = 1;
			m->ret =
			    cmd == SM_CMD_COPYIN
				? stub_pf_copy(data, (const void *)m->copy_addr,
					       len)
				: stub_pf_copy((void *)m->copy_addr, data, len);
			m->pf_active = 0;
			break;
		default:
			m->ret = -22; /* EINVAL */
			break;
		}
		post(m, SM_EV_DONE);
	}
}

static void set_fs(struct sysmsg *m)
{
	uint64_t fs = m->regs[SM_FS_BASE];
	if (fs != m->cur_fs_base) {
		stub_syscall6(NR_ARCH_PRCTL, ARCH_SET_FS, (long)fs, 0, 0, 0, 0);
		m->cur_fs_base = fs;
	}
}

static void regs_to_mc(const struct sysmsg *m, struct k_sigcontext *mc)
{
	const uint64_t *r = m->regs;
	mc->r8 = r[SM_R8], mc->r9 = r[SM_R9], mc->r10 = r[SM_R10];
	mc->r11 = r[SM_R11], mc->r12 = r[SM_R12], mc->r13 = r[SM_R13];
	mc->r14 = r[SM_R14], mc->r15 = r[SM_R15], mc->rdi = r[SM_RDI];
	mc->rsi = r[SM_RSI], mc->rbp = r[SM_RBP], mc->rbx = r[SM_RBX];
	mc->rdx = r[SM_RDX], mc->rax = r[SM_RAX], mc->rcx = r[SM_RCX];
	mc->rsp = r[SM_RSP], mc->rip = r[SM_RIP], mc->eflags = r[SM_EFLAGS];
}

static void mc_to_regs(const struct k_sigcontext *mc, struct sysmsg *m)
{
	uint64_t *r = m->regs;
	r[SM_R8] = mc->r8, r[SM_R9] = mc->r9, r[SM_R10] = mc->r10;
	r[SM_R11] = mc->r11, r[SM_R12] = mc->r12, r[SM_R13] = mc->r13;
	r[SM_R14] = mc->r14, r[SM_R15] = mc->r15, r[SM_RDI] = mc->rdi;
	r[SM_RSI] = mc->rsi, r[SM_RBP] = mc->rbp, r[SM_RBX] = mc->rbx;
	r[SM_RDX] = mc->rdx, r[SM_RAX] = mc->rax, r[SM_RCX] = mc->rcx;
	r[SM_RSP] = mc->rsp, r[SM_RIP] = mc->rip, r[SM_EFLAGS] = mc->eflags;
	r[SM_CS] = 0x33, r[SM_SS] = 0x2b;
	r[SM_FS_BASE] = m->cur_fs_base;
}

/* Read the syscall's in-arguments the table names into the data area. A
 * bad pointer faults in stub_pf_copy and only drops that argument: the
 * sentry then reads it itself and answers EFAULT as Linux does. */
static void prefetch(struct sysmsg *m)
{
	const uint64_t *r = m->regs;
	const uint64_t a[6] = {r[SM_RDI], r[SM_RSI], r[SM_RDX],
			       r[SM_R10], r[SM_R8],  r[SM_R9]};
	uint8_t *data = (uint8_t *)m + SYSMSG_DATA_OFF;
	uint64_t nr = r[SM_ORIG_RAX];
	m->pf_valid = 0;
	if (nr >= SYSMSG_PF_NR)
		return;
	for (int i = 0; i < 2; i++) {
		uint64_t addr, len;
		if (!sysmsg_pf_range(m->pf_table[nr], i, a, &addr, &len))
			continue;
		m->pf_active = 1;
		long got = stub_pf_copy(data + i * SYSMSG_PF_MAX,
					(const void *)addr, len);
		m->pf_active = 0;
		if (got != (long)len)
			continue;
		m->pf[i].addr = addr;
		m->pf[i].len = len;
		m->pf_valid |= 1u << i;
	}
}

void stub_systrap_handler(int sig, void *si, void *ucv)
{
	struct sysmsg *m = my_slot();
	struct k_ucontext *uc = ucv;
	if (sig == SIGSEGV || sig == SIGBUS) {
		/* Faults are not blocked while the stub serves, for this:
		 * a prefetch that read a bad pointer gives up that one. */
		if (m->pf_active && uc->mc.rip == (uint64_t)stub_pf_fault) {
			uc->mc.rip = (uint64_t)stub_pf_fixup;
			return;
		}
		if (m->pf_active && uc->mc.rip >= (uint64_t)stub_atomic_begin &&
		    uc->mc.rip < (uint64_t)stub_atomic_end) {
			uc->mc.rip = (uint64_t)stub_atomic_fixup;
			return;
		}
		/* Any other fault while serving (a copy into memory the
		 * guest unmapped behind the sentry's back) ends this process,
		 * as a blocked fault signal would. */
		if (m->in_handler) {
			/* Last words, for the sentry's log. */
			m->died_rip = uc->mc.rip;
			m->died_addr = *(uint64_t *)((char *)si + 16);
			__atomic_store_n(&m->died_sig, (uint32_t)sig,
					 __ATOMIC_RELEASE);
			stub_syscall6(NR_EXIT_GROUP, 128 + sig, 0, 0, 0, 0, 0);
		}
	}
	m->in_handler = 1;
	mc_to_regs(&uc->mc, m);
	uint8_t *fx = (uint8_t *)uc->mc.fpstate;
	uint32_t ev;
	int32_t code = *(int32_t *)((char *)si + 8);
	if (sig == SIGSYS) {
		m->regs[SM_ORIG_RAX] =
		    (uint64_t)(int64_t) * (int32_t *)((char *)si + 24);
		ev = SM_EV_SYSCALL;
		prefetch(m);
	} else if (sig == SIGUSR2 || code <= 0) {
		/* The sentry's kick, or a signal someone sent the stub. */
		m->regs[SM_ORIG_RAX] = (uint64_t)-1;
		ev = SM_EV_INTR;
	} else {
		m->regs[SM_ORIG_RAX] = (uint64_t)-1;
		m->signo = sig;
		m->code = code;
		m->fault_addr = *(uint64_t *)((char *)si + 16);
		ev = SM_EV_FAULT;
	}
	post(m, ev);
	serve(m, fx);
	regs_to_mc(m, &uc->mc);
	set_fs(m);
	if (m->fp_dirty && fx) {
		/* The sentry's image into the kernel's frame, which keeps its
		 * own sw_reserved and MAGIC2: rt_sigreturn loads it all. An
		 * image of the legacy part only leaves the rest in its init
		 * state, as Linux does for a legacy frame. */
		const uint8_t *img = (const uint8_t *)m + SYSMSG_XSTATE_OFF;
		uint32_t n = frame_fp_size(fx), have = m->fp_size;
		if (have < n)
			n = have < FP_HDR + 64 ? 512 : have;
		fp_copy_state(fx, img, n);
		if (n == 512 && frame_fp_size(fx) > 512)
			*(uint64_t *)(fx + FP_HDR) &= 3;
		m->fp_dirty = 0;
	}
	m->in_handler = 0;
}

static void setup_thread(struct sysmsg *m)
{
	stub_syscall6(NR_SET_TID_ADDRESS, (long)&m->alive, 0, 0, 0, 0, 0);
	struct {
		uint64_t sp;
		int32_t flags;
		int32_t pad;
		uint64_t size;
	} ss = {(uint64_t)m + SYSMSG_STACK_OFF, 0, 0,
		SYSMSG_SLOT_SIZE - SYSMSG_STACK_OFF};
	stub_syscall6(NR_SIGALTSTACK, (long)&ss, 0, 0, 0, 0, 0);
	if (!(m->init_flags & SM_INIT_FULL))
		return;
	static const int sigs[] = {SIGSYS, SIGSEGV, SIGBUS, SIGFPE,
				   SIGILL, SIGTRAP, SIGUSR2};
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		/* Everything blocked while serving but faults (see the
		 * handler). */
		struct k_sigaction sa = {(void *)stub_systrap_handler,
					 SA_SIGINFO | SA_ONSTACK | SA_RESTORER,
					 (void *)stub_restorer,
					 ~0ULL & ~((1ULL << (SIGSEGV - 1)) |
						   (1ULL << (SIGBUS - 1)))};
		stub_syscall6(NR_RT_SIGACTION, sigs[i], (long)&sa, 0, 8, 0, 0);
	}
	/* Last: from here on every syscall but the gate's traps. */
	struct {
		uint16_t len;
		uint16_t pad[3];
		uint64_t filter;
	} prog = {
	    (uint16_t)m->filter_len, {0, 0, 0}, (uint64_t)m + SYSMSG_DATA_OFF};
	long r = stub_syscall6(NR_SECCOMP, 1 /* SET_MODE_FILTER */, 0,
			       (long)&prog, 0, 0, 0);
	if (r < 0)
		stub_syscall6(NR_EXIT, 1, 0, 0, 0, 0, 0);
}

/* A new thread, on its slot's stack: set up, then serve the sentry until it
 * resumes us into the guest through a hand-made signal frame. */
void stub_systrap_main(void)
{
	struct sysmsg *m = my_slot();
	setup_thread(m);
	m->cur_fs_base = ~0ULL;
	m->in_handler = 1;
	post(m, SM_EV_READY);
	serve(m, NULL);
	m->in_handler = 0;
	struct k_sigframe f;
	memset(&f, 0, sizeof(f));
	regs_to_mc(m, &f.uc.mc);
	f.uc.mc.cs = 0x33;
	f.uc.mc.ss = 0x2b;
	if (m->fp_dirty) {
		/* rt_sigreturn loads the sentry's image in place, in its own
		 * page below the handler stack: when the load takes a page
		 * fault the kernel faults in a whole XSAVE area's size from
		 * it before it retries, and fails the sigreturn if any of that
		 * is unmapped (from the top of the slot, where the image once
		 * was, that went past the end of the region for the last slot:
		 * the process died at its 64th thread). sw_reserved and MAGIC2
		 * say what it is; with less than an XSAVE area it is a legacy
		 * image, whose MAGIC1 would make the kernel look for one. */
		uint8_t *fp = (uint8_t *)m + SYSMSG_XSTATE_OFF;
		uint32_t n = m->fp_size;
		memset(fp + FP_SW, 0, FP_HDR - FP_SW);
		if (n >= FP_HDR + 64 && n <= SYSMSG_XSTATE_SIZE - 4) {
			const uint32_t sw[5] = {
			    FP_MAGIC1, n + 4, (uint32_t)m->fp_features,
			    (uint32_t)(m->fp_features >> 32), n};
			memcpy(fp + FP_SW, sw, sizeof(sw));
			const uint32_t magic2 = FP_MAGIC2;
			memcpy(fp + n, &magic2, 4);
			f.uc.uc_flags = 1; /* UC_FP_XSTATE */
		}
		/* MXCSR bits the CPU does not have make the load fault (a
		 * failed sigreturn): keep those the image's MXCSR_MASK has
		 * (0: the default). */
		uint32_t mask = rd32(fp + 28);
		*(uint32_t *)(fp + 24) &= mask ? mask : 0xffbf;
		f.uc.mc.fpstate = (uint64_t)fp;
		m->fp_dirty = 0;
	}
	f.uc.ss_sp = (uint64_t)m + SYSMSG_STACK_OFF;
	f.uc.ss_size = SYSMSG_SLOT_SIZE - SYSMSG_STACK_OFF;
	set_fs(m);
	stub_enter_guest(&f);
}

/* A fork child's first act: map its own shared region (fd) over the
 * parent's, so that no process can see another's slots, and make its own
 * fd channel (sock) its STUB_FD_SOCK, so that none can take another's fds.
 * Both come inherited from the parent's clone or, when -1, queued in one
 * message on the parent's channel (which the child shares until here).
 * Runs on the private scratch stack. */
void stub_systrap_remap(long fd, long sock)
{
	if (fd < 0) {
		int fds[2];
		if (recv_fds(fds, 2, 0) != 2)
			stub_syscall6(NR_EXIT, 1, 0, 0, 0, 0, 0);
		fd = fds[0];
		sock = fds[1];
	}
	long a =
	    stub_syscall6(NR_MMAP, (long)SYSMSG_BASE, (long)SYSMSG_REGION_SIZE,
			  3 /* RW */, 0x11 /* MAP_SHARED|MAP_FIXED */, fd, 0);
	stub_syscall6(NR_CLOSE, fd, 0, 0, 0, 0, 0);
	if (a != (long)SYSMSG_BASE)
		stub_syscall6(NR_EXIT, 1, 0, 0, 0, 0, 0);
	if (sock < 0 ||
	    stub_syscall6(NR_DUP3, sock, STUB_FD_SOCK, 0, 0, 0, 0) < 0)
		stub_syscall6(NR_EXIT, 1, 0, 0, 0, 0, 0);
	stub_syscall6(NR_CLOSE, sock, 0, 0, 0, 0, 0);
}
