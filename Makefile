# Bulkhead: one non-recursive Makefile; each folder adds its rules in a
# module.mk. `make` builds build/bin/{bulkhead,bulkhead-sentry,bulkhead-gofer};
# `make debug` builds the same with ASan/UBSan into build/debug/bin.
BUILD ?= build
BIN := $(BUILD)/bin
CC ?= gcc
SAN ?= 0

CFLAGS := -std=gnu11 -Wall -Wextra -Werror -g -Iinclude -I. -D_GNU_SOURCE \
	-fno-strict-aliasing -pthread
ifeq ($(SAN),1)
CFLAGS += -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined -DBH_DEBUG=1
LDFLAGS += -fsanitize=address,undefined
else
CFLAGS += -O2
endif
LDFLAGS += -pthread

.PHONY: all debug test bench deps bundle demo clean format
all: deps-check $(BIN)/bulkhead $(BIN)/bulkhead-sentry $(BIN)/bulkhead-gofer

# Installs what a fresh Debian 12 machine lacks (root, apt); a no-op when
# everything is present.
deps deps-check:
	@scripts/deps.sh

debug:
	$(MAKE) BUILD=build/debug SAN=1 all

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

LIB_SRCS := $(wildcard lib/*.c)
LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/%.o)

include runsc-shim/module.mk
include gofer/module.mk
include sentry/module.mk
include tests/module.mk
include bench/module.mk

# The default bundle: busybox-static in a fresh rootfs, and a config.json.
bundle: $(BUILD)/bundle/config.json
$(BUILD)/bundle/config.json: scripts/mkbundle.sh
	scripts/mkbundle.sh $(BUILD)/bundle

# The README's first command: build, then run a real container.
demo: all bundle
	$(BIN)/bulkhead --root $(BUILD)/run run --bundle $(BUILD)/bundle demo-$$$$

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
