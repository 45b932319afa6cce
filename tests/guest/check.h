/* Checks shared by the guest tests. A guest test is the spec of one area of
 * the guest kernel: it passes on the host kernel and, unchanged, inside
 * Bulkhead. Failures print "FAIL file:line: what" so the runner's log points
 * at the exact expectation that broke. */
#ifndef BH_GUEST_CHECK_H
#define BH_GUEST_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int checks;

/* _exit, not exit: a failing forked child must not run the parent's atexit
 * handlers or flush its copy of the parent's stdio buffers. */
#define FAIL_AT(fmt, ...)                                                      \
	do {                                                                   \
		fprintf(stderr, "FAIL %s:%d: " fmt "\n", __FILE__, __LINE__,   \
			##__VA_ARGS__);                                        \
		fflush(stdout);                                                \
		_exit(1);                                                      \
	} while (0)

#define CHECK(cond)                                                            \
	do {                                                                   \
		checks++;                                                      \
		if (!(cond))                                                   \
			FAIL_AT("%s (errno %d %s)", #cond, errno,              \
				strerror(errno));                              \
	} while (0)

/* A syscall that must succeed; evaluates to its result. */
#define SYS(expr)                                                              \
	({                                                                     \
		checks++;                                                      \
		errno = 0;                                                     \
		long long _r = (long long)(expr);                              \
		if (_r < 0)                                                    \
			FAIL_AT("%s = %lld, errno %d %s", #expr, _r, errno,    \
				strerror(errno));                              \
		_r;                                                            \
	})

/* A syscall that must fail with exactly errno E. */
#define CHECK_ERR(expr, E)                                                     \
	do {                                                                   \
		checks++;                                                      \
		errno = 0;                                                     \
		long long _r = (long long)(expr);                              \
		if (_r != -1 || errno != (E))                                  \
			FAIL_AT("%s = %lld errno %d (%s), want -1 errno %s",   \
				#expr, _r, errno, strerror(errno), #E);        \
	} while (0)

#define CHECK_EQ(a, b)                                                         \
	do {                                                                   \
		checks++;                                                      \
		long long _a = (long long)(a), _b = (long long)(b);            \
		if (_a != _b)                                                  \
			FAIL_AT("%s == %s: %lld != %lld", #a, #b, _a, _b);     \
	} while (0)

#define CHECK_STR(a, b)                                                        \
	do {                                                                   \
		checks++;                                                      \
		const char *_a = (a), *_b = (b);                               \
		if (!_a || strcmp(_a, _b) != 0)                                \
			FAIL_AT("%s == \"%s\": got \"%s\"", #a, _b,            \
				_a ? _a : "(null)");                           \
	} while (0)

static inline void pass(const char *name)
{
	printf("PASS %s: %d checks\n", name, checks);
	fflush(stdout);
}

/* Reads exactly n bytes unless EOF comes first; returns bytes read. */
static inline ssize_t read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t r = read(fd, (char *)buf + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		got += r;
	}
	return got;
}

static inline ssize_t write_full(int fd, const void *buf, size_t n)
{
	size_t put = 0;
	while (put < n) {
		ssize_t r = write(fd, (const char *)buf + put, n - put);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		put += r;
	}
	return put;
}

/* The exit status a child reported, or 1000+signal for a signal death, so a
 * single CHECK_EQ shows both cases. */
static inline int child_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 1000 + WTERMSIG(st);
	return -1;
}

#endif
