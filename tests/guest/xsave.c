/* Signal frames and FPU state, as Linux gives them on x86-64: the frame's
 * fpstate is a full XSAVE area (FP_XSTATE_MAGIC1 in sw_reserved,
 * extended_size = xstate_size + 4, FP_XSTATE_MAGIC2 right after the area),
 * a handler starts with the default MXCSR (0x1f80) and x87 control word
 * (0x37f) whatever the interrupted code had, and sigreturn puts back the
 * interrupted code's MXCSR, FCW and vector registers exactly: xmm, the
 * upper halves of ymm with AVX, zmm0-31 and the opmasks with AVX-512, as
 * far as the CPU has them and the OS enabled them (cpuid, xgetbv). A
 * handler that changes xmm0 in the frame sees the change in the
 * interrupted code. The registers are loaded, the signal raised and the
 * registers stored in one asm block, so that no compiled code runs
 * between them. */
#include <cpuid.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include "check.h"

#define MAGIC1	   0x46505853U
#define MAGIC2	   0x46505845U
#define MXCSR_DEF  0x1f80
#define FCW_DEF	   0x37f
#define MXCSR_MINE 0x7f80 /* round toward zero */
#define FCW_MINE   0x0e7f /* truncating, double precision */

enum level { SSE, AVX, AVX512 };
static enum level level;
static const char *const level_name[] = {"sse", "avx", "avx512"};
/* XSAVE component offsets in the standard format (cpuid 0xd). */
static uint32_t off_avx, off_k, off_zmm_hi256, off_hi16_zmm;

/* What the asm block loads and what it finds after the signal. A zmm
 * register takes 64 bytes; with less, the first 16 or 32 of each. */
struct regs {
	uint8_t v[32][64];
	uint64_t k[8];
	uint32_t mxcsr;
	uint16_t fcw;
} __attribute__((aligned(64)));

static struct regs in, out, garbage;

/* The handler's findings, checked by main. */
static volatile uint32_t h_mxcsr, h_fcw, h_runs;
static volatile int h_frame_ok, h_regs_ok, h_uc_flags_ok;
static volatile int h_change_xmm0;
static const uint8_t new_xmm0[16] = {0xde, 0xad, 0xbe, 0xef, 1, 2,  3,	4,
				     5,	   6,	 7,    8,    9, 10, 11, 12};

static int nvec(void)
{
	return level == AVX512 ? 32 : 16;
}

static int vlen(void)
{
	return level == AVX512 ? 64 : level == AVX ? 32 : 16;
}

/* Load every register of the level from r, the MXCSR and FCW too. Used
 * inside the asm blocks below as a string; r is in r12. */
#define L_SSE(i) "movdqu " #i "*64(%%r12), %%xmm" #i "\n\t"
#define L_AVX(i) "vmovdqu " #i "*64(%%r12), %%ymm" #i "\n\t"
#define L_512(i) "vmovdqu64 " #i "*64(%%r12), %%zmm" #i "\n\t"
#define S_SSE(i) "movdqu %%xmm" #i ", " #i "*64(%%r13)\n\t"
#define S_AVX(i) "vmovdqu %%ymm" #i ", " #i "*64(%%r13)\n\t"
#define S_512(i) "vmovdqu64 %%zmm" #i ", " #i "*64(%%r13)\n\t"
#define L_K(i)	 "kmovw " #i "*8+2048(%%r12), %%k" #i "\n\t"
#define S_K(i)	 "kmovw %%k" #i ", " #i "*8+2048(%%r13)\n\t"
/* Register lists, as clang-format does not settle on a layout for them. */
/* clang-format off */
#define R16(M)                                                                 \
	M(0) M(1) M(2) M(3) M(4) M(5) M(6) M(7)                                \
	M(8) M(9) M(10) M(11) M(12) M(13) M(14) M(15)
#define R32(M)                                                                 \
	R16(M)                                                                 \
	M(16) M(17) M(18) M(19) M(20) M(21) M(22) M(23)                        \
	M(24) M(25) M(26) M(27) M(28) M(29) M(30) M(31)
/* clang-format on */
#define R_K(M) M(1) M(2) M(3) M(4) M(5) M(6) M(7)

_Static_assert(offsetof(struct regs, k) == 2048, "asm offsets");
_Static_assert(offsetof(struct regs, mxcsr) == 2112, "asm offsets");
_Static_assert(offsetof(struct regs, fcw) == 2116, "asm offsets");

#define CLOBBERS                                                               \
	"rcx", "r11", "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",        \
	    "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", \
	    "xmm13", "xmm14", "xmm15"

/* Load *src, raise sig at this thread (tgkill), store into *dst; MXCSR
 * and FCW go back to the defaults after. */
#define RAISE_BLOCK(LOAD, STORE)                                               \
	do {                                                                   \
		register const struct regs *r12 asm("r12") = src;              \
		register struct regs *r13 asm("r13") = dst;                    \
		long rax = SYS_tgkill;                                         \
		__asm__ volatile(                                              \
		    "ldmxcsr 2112(%%r12)\n\t"                                  \
		    "fldcw 2116(%%r12)\n\t" LOAD "syscall\n\t" STORE           \
		    "stmxcsr 2112(%%r13)\n\t"                                  \
		    "fnstcw 2116(%%r13)\n\t"                                   \
		    "ldmxcsr %[mxd]\n\t"                                       \
		    "fldcw %[fcwd]\n\t"                                        \
		    : "+a"(rax)                                                \
		    : "r"(r12), "r"(r13), "D"(pid), "S"(tid),                  \
		      "d"(sig), [mxd] "m"(mxcsr_def), [fcwd] "m"(fcw_def)      \
		    : CLOBBERS);                                               \
		ret = rax;                                                     \
	} while (0)

static const uint32_t mxcsr_def = MXCSR_DEF;
static const uint16_t fcw_def = FCW_DEF;

static long raise_with(const struct regs *src, struct regs *dst, int sig)
{
	long pid = getpid(), tid = syscall(SYS_gettid), ret;
	if (level == AVX512)
		RAISE_BLOCK(R32(L_512) R_K(L_K), R32(S_512) R_K(S_K));
	else if (level == AVX)
		RAISE_BLOCK(R16(L_AVX), R16(S_AVX));
	else
		RAISE_BLOCK(R16(L_SSE), R16(S_SSE));
	return ret;
}

/* Load *src into every register (the handler's clobbering). */
static void clobber_all(const struct regs *src)
{
	register const struct regs *r12 asm("r12") = src;
	if (level == AVX512)
		__asm__ volatile("ldmxcsr 2112(%%r12)\n\t"
				 "fldcw 2116(%%r12)\n\t" R32(L_512) R_K(L_K)
				 :
				 : "r"(r12)
				 : CLOBBERS);
	else if (level == AVX)
		__asm__ volatile("ldmxcsr 2112(%%r12)\n\t"
				 "fldcw 2116(%%r12)\n\t" R16(L_AVX)
				 :
				 : "r"(r12)
				 : CLOBBERS);
	else
		__asm__ volatile("ldmxcsr 2112(%%r12)\n\t"
				 "fldcw 2116(%%r12)\n\t" R16(L_SSE)
				 :
				 : "r"(r12)
				 : CLOBBERS);
}

/* The frame's copy of the interrupted registers, by the XSAVE layout. */
static int frame_matches(const uint8_t *fx)
{
	int ok = 1;
	uint32_t mx;
	uint16_t cw;
	memcpy(&cw, fx, 2);
	memcpy(&mx, fx + 24, 4);
	ok &= cw == in.fcw && mx == in.mxcsr;
	for (int i = 0; i < 16; i++)
		ok &= memcmp(fx + 160 + 16 * i, in.v[i], 16) == 0;
	if (level >= AVX)
		for (int i = 0; i < 16; i++)
			ok &= memcmp(fx + off_avx + 16 * i, in.v[i] + 16, 16) ==
			      0;
	if (level == AVX512) {
		for (int i = 1; i < 8; i++) {
			uint64_t k;
			memcpy(&k, fx + off_k + 8 * i, 8);
			ok &= (uint16_t)k == (uint16_t)in.k[i];
		}
		for (int i = 0; i < 16; i++)
			ok &= memcmp(fx + off_zmm_hi256 + 32 * i, in.v[i] + 32,
				     32) == 0;
		for (int i = 16; i < 32; i++)
			ok &= memcmp(fx + off_hi16_zmm + 64 * (i - 16), in.v[i],
				     64) == 0;
	}
	return ok;
}

static void handler(int sig, siginfo_t *si, void *ucv)
{
	(void)sig;
	(void)si;
	uint32_t mx;
	uint16_t cw;
	__asm__ volatile("stmxcsr %0\n\tfnstcw %1" : "=m"(mx), "=m"(cw));
	h_mxcsr = mx;
	h_fcw = cw;
	h_runs++;
	ucontext_t *uc = ucv;
	const uint8_t *fx = (const uint8_t *)uc->uc_mcontext.fpregs;
	h_uc_flags_ok = (uc->uc_flags & 1) != 0; /* UC_FP_XSTATE */
	int ok = fx != NULL && ((uintptr_t)fx & 63) == 0;
	if (ok) {
		uint32_t sw[4]; /* magic1, extended_size, xfeatures lo/hi */
		uint32_t xstate_size, magic2;
		memcpy(sw, fx + 464, sizeof(sw));
		memcpy(&xstate_size, fx + 464 + 16, 4);
		ok = sw[0] == MAGIC1 && sw[1] == xstate_size + 4 &&
		     xstate_size >= 512 + 64 && (sw[2] & 3) == 3;
		if (ok) {
			memcpy(&magic2, fx + sw[1] - 4, 4);
			ok = magic2 == MAGIC2;
		}
	}
	h_frame_ok = ok;
	h_regs_ok = ok && frame_matches(fx);
	if (ok && h_change_xmm0)
		memcpy((uint8_t *)fx + 160, new_xmm0, 16);
	/* Everything the interrupted code had, wrecked: sigreturn must
	 * bring it back. */
	clobber_all(&garbage);
}

static void detect(void)
{
	unsigned a, b, c, d;
	level = SSE;
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) ||
	    !(c & bit_AVX))
		return;
	uint32_t lo, hi;
	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	if ((lo & 6) != 6)
		return;
	level = AVX;
	__cpuid_count(0xd, 2, a, b, c, d);
	off_avx = b;
	if (__get_cpuid_max(0, NULL) < 7)
		return;
	__cpuid_count(7, 0, a, b, c, d);
	if (!(b & bit_AVX512F) || (lo & 0xe6) != 0xe6)
		return;
	level = AVX512;
	__cpuid_count(0xd, 5, a, b, c, d);
	off_k = b;
	__cpuid_count(0xd, 6, a, b, c, d);
	off_zmm_hi256 = b;
	__cpuid_count(0xd, 7, a, b, c, d);
	off_hi16_zmm = b;
}

static void fill(struct regs *r, uint8_t seed, uint32_t mxcsr, uint16_t fcw)
{
	memset(r, 0, sizeof(*r));
	for (int i = 0; i < 32; i++)
		for (int j = 0; j < 64; j++)
			r->v[i][j] = (uint8_t)(seed + i * 67 + j * 13 + 1);
	for (int i = 0; i < 8; i++)
		r->k[i] = (uint16_t)(seed * 257 + i * 4099 + 1);
	r->mxcsr = mxcsr;
	r->fcw = fcw;
}

/* The registers after the signal, against those before. */
static void check_back(const char *what)
{
	CHECK_EQ(out.mxcsr, in.mxcsr);
	CHECK_EQ(out.fcw, in.fcw);
	for (int i = 0; i < nvec(); i++) {
		const uint8_t *want = in.v[i];
		if (i == 0 && h_change_xmm0) {
			if (memcmp(out.v[0], new_xmm0, 16) != 0)
				FAIL_AT("%s: xmm0 is not the handler's", what);
			if (memcmp(out.v[0] + 16, want + 16, vlen() - 16) != 0)
				FAIL_AT("%s: upper part of register 0 changed",
					what);
			continue;
		}
		if (memcmp(out.v[i], want, vlen()) != 0)
			FAIL_AT("%s: %s register %d not restored", what,
				level_name[level], i);
		checks++;
	}
	if (level == AVX512)
		for (int i = 1; i < 8; i++)
			CHECK_EQ((uint16_t)out.k[i], (uint16_t)in.k[i]);
}

int main(void)
{
	detect();
	printf("-- level %s\n", level_name[level]);
	fflush(stdout);
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	SYS(sigaction(SIGUSR1, &sa, NULL));
	fill(&garbage, 0x55, 0x3f80 /* round down */, 0x7f /* single */);

	/* 1. The handler's FPU is the default one; the interrupted code's
	 * comes back whole. */
	fill(&in, 1, MXCSR_MINE, FCW_MINE);
	h_change_xmm0 = 0;
	CHECK_EQ(raise_with(&in, &out, SIGUSR1), 0);
	CHECK_EQ(h_runs, 1);
	CHECK_EQ(h_mxcsr, MXCSR_DEF);
	CHECK_EQ(h_fcw, FCW_DEF);
	CHECK(h_frame_ok);
	CHECK(h_uc_flags_ok);
	CHECK(h_regs_ok);
	check_back("plain");

	/* 2. Defaults in the interrupted code too, other values. */
	fill(&in, 77, MXCSR_DEF, FCW_DEF);
	CHECK_EQ(raise_with(&in, &out, SIGUSR1), 0);
	CHECK_EQ(h_runs, 2);
	CHECK_EQ(h_mxcsr, MXCSR_DEF);
	CHECK_EQ(h_fcw, FCW_DEF);
	CHECK(h_regs_ok);
	check_back("defaults");

	/* 3. A handler's change to the saved xmm0 is what the interrupted
	 * code finds. */
	fill(&in, 200, MXCSR_MINE, FCW_MINE);
	h_change_xmm0 = 1;
	CHECK_EQ(raise_with(&in, &out, SIGUSR1), 0);
	CHECK_EQ(h_runs, 3);
	CHECK(h_frame_ok);
	check_back("changed xmm0");
	h_change_xmm0 = 0;

	/* 4. Again, after all that: nothing stuck. */
	fill(&in, 9, MXCSR_MINE, FCW_MINE);
	CHECK_EQ(raise_with(&in, &out, SIGUSR1), 0);
	CHECK_EQ(h_mxcsr, MXCSR_DEF);
	CHECK_EQ(h_fcw, FCW_DEF);
	CHECK(h_regs_ok);
	check_back("again");

	pass("xsave");
	return 0;
}
