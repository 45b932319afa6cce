#include "sentry/platform/platform.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <ucontext.h>

#include "bulkhead/log.h"

const struct plat_ops *platform;
struct plat_fp_info plat_fp = {
    .size = 512, .mxcsr_mask = 0xffbf, .features = 3};

static volatile sig_atomic_t fp_probed;

/* The kernel's own frame says what it saves for a process: the frames
 * the sentry builds for guests say the same, and the stubs (which, like
 * the sentry, never ask for dynamically enabled state such as AMX) get
 * the same from the kernel. */
static void fp_probe_handler(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	const ucontext_t *uc = ucv;
	const uint8_t *fx = (const uint8_t *)uc->uc_mcontext.fpregs;
	if (!fx)
		return;
	uint32_t mask, magic1, ext, size, magic2;
	uint64_t features;
	memcpy(&mask, fx + PLAT_FP_MXCSR_MASK, 4);
	if (mask)
		plat_fp.mxcsr_mask = mask;
	memcpy(&magic1, fx + PLAT_FP_SW, 4);
	memcpy(&ext, fx + PLAT_FP_SW + 4, 4);
	memcpy(&features, fx + PLAT_FP_SW + 8, 8);
	memcpy(&size, fx + PLAT_FP_SW + 16, 4);
	fp_probed = 1;
	if (!(uc->uc_flags & 1 /* UC_FP_XSTATE */) ||
	    magic1 != PLAT_FP_MAGIC1 || size < PLAT_FP_HDR + PLAT_FP_HDR_SIZE ||
	    ext != size + 4 || size > PLAT_FP_MAX - 4)
		return;
	memcpy(&magic2, fx + size, 4);
	if (magic2 != PLAT_FP_MAGIC2)
		return;
	plat_fp.size = size;
	plat_fp.features = features;
}

static void fp_probe(void)
{
	struct sigaction sa = {.sa_sigaction = fp_probe_handler,
			       .sa_flags = SA_SIGINFO},
			 old;
	sigset_t one, was;
	sigemptyset(&sa.sa_mask);
	sigemptyset(&one);
	sigaddset(&one, SIGURG);
	if (sigaction(SIGURG, &sa, &old) < 0)
		return;
	pthread_sigmask(SIG_UNBLOCK, &one, &was);
	raise(SIGURG);
	pthread_sigmask(SIG_SETMASK, &was, NULL);
	sigaction(SIGURG, &old, NULL);
	if (!fp_probed)
		bh_warn(
		    "platform: no signal frame to learn the FPU state from");
	bh_info("platform: FPU state in signal frames: %u bytes, features "
		"%#llx",
		plat_fp.size, (unsigned long long)plat_fp.features);
}

void plat_fp_default(plat_fpregs *fp)
{
	memset(fp->b, 0, plat_fp.size);
	const uint16_t fcw = 0x37f;
	const uint32_t mxcsr = 0x1f80;
	memcpy(fp->b + PLAT_FP_FCW, &fcw, 2);
	memcpy(fp->b + PLAT_FP_MXCSR, &mxcsr, 4);
	memcpy(fp->b + PLAT_FP_MXCSR_MASK, &plat_fp.mxcsr_mask, 4);
	if (plat_fp.size > PLAT_FP_HDR) {
		/* x87 and SSE from the legacy area (so that MXCSR is loaded
		 * from it); the rest in its init state. */
		const uint64_t bv = 3;
		memcpy(fp->b + PLAT_FP_HDR, &bv, 8);
	}
}

void plat_fp_sanitize(plat_fpregs *fp)
{
	uint32_t mxcsr;
	memcpy(&mxcsr, fp->b + PLAT_FP_MXCSR, 4);
	mxcsr &= plat_fp.mxcsr_mask;
	memcpy(fp->b + PLAT_FP_MXCSR, &mxcsr, 4);
	memset(fp->b + PLAT_FP_SW, 0, PLAT_FP_HDR - PLAT_FP_SW);
	if (plat_fp.size <= PLAT_FP_HDR)
		return;
	uint64_t bv;
	memcpy(&bv, fp->b + PLAT_FP_HDR, 8);
	bv &= plat_fp.features;
	memset(fp->b + PLAT_FP_HDR, 0, PLAT_FP_HDR_SIZE);
	memcpy(fp->b + PLAT_FP_HDR, &bv, 8);
}

int platform_select(const char *name)
{
	static bool probed;
	if (!probed) {
		probed = true;
		fp_probe();
	}
	if (!name || strcmp(name, "systrap") == 0) {
		platform = &plat_systrap_ops;
		return 0;
	}
	if (strcmp(name, "ptrace") == 0) {
		platform = &plat_ptrace_ops;
		return 0;
	}
	return -EINVAL;
}
