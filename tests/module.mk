# Tests: unit tests (cmocka), guest-behaviour programs built static and
# dynamic, busybox shell scripts and the CLI script, all run by tests/run.sh.
# `make test` builds everything and runs all of it; `make test-native` only
# builds the guest programs and runs them (and the busybox scripts) on the
# host kernel, which needs none of the runtime.

# lib/*.o as an archive, for tests that link the other modules' libraries.
$(BUILD)/libbh.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/unit/%)
UNIT_LIBS := $(BUILD)/libsentry.a $(BUILD)/libgofer.a $(BUILD)/libshim.a \
	$(BUILD)/libbh.a

$(BUILD)/tests/unit/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(UNIT_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(UNIT_LIBS) $(LDFLAGS) \
		-lcmocka -ljansson -lseccomp -lcap -pthread

GUEST_SRCS := $(wildcard tests/guest/*.c)
GUEST_NAMES := $(GUEST_SRCS:tests/guest/%.c=%)
GUEST_BINS := $(GUEST_NAMES:%=$(BUILD)/tests/guest/static/%) \
	$(GUEST_NAMES:%=$(BUILD)/tests/guest/dynamic/%)
# Their own flags: no sanitizers or project includes, since they must run
# unchanged as ordinary programs inside the sandbox. -pthread for all of them
# (threads.c and scribble.c use pthreads; glibc needs it for a static link).
GUEST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -D_GNU_SOURCE -pthread

$(BUILD)/tests/guest/static/%: tests/guest/%.c tests/guest/check.h
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -static -o $@ $<

$(BUILD)/tests/guest/dynamic/%: tests/guest/%.c tests/guest/check.h
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -o $@ $<

# The CLI tests' terminal (tests/cli/ptyrun.c), an ordinary host program.
$(BUILD)/tests/cli/ptyrun: tests/cli/ptyrun.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) -o $@ $<

# The bundle's rootfs copies busybox: rebuild it when the package changes.
$(BUILD)/bundle/config.json: $(wildcard /bin/busybox)

.PHONY: test test-one test-native unit-tests guest-tests
unit-tests: $(UNIT_BINS)
guest-tests: $(GUEST_BINS) $(BUILD)/tests/cli/ptyrun

# The README's test command: the whole suite on the release build, then the
# same suite on the ASan/UBSan build (a sanitizer report fails its run). The
# release pass also runs systrap with its ptrace clone path, which this
# machine's kernel (6.13+) would not otherwise take.
test:
	BH_PLATFORMS="$${BH_PLATFORMS:-systrap ptrace systrap-ptclone}" \
	    $(MAKE) --no-print-directory test-one
	$(MAKE) --no-print-directory BUILD=build/debug SAN=1 test-one

test-one: all unit-tests guest-tests bundle
	BUILD=$(BUILD) tests/run.sh

test-native: deps-check guest-tests bundle
	BUILD=$(BUILD) tests/run.sh --native
