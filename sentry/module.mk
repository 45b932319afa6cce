# The sentry: every .c under sentry/ except the stub, which is built on its
# own (no libc, fixed address) and embedded in the sentry binary.
SENTRY_SRCS := $(shell find sentry -name '*.c' -not -path 'sentry/stub/*')
SENTRY_OBJS := $(SENTRY_SRCS:%.c=$(BUILD)/%.o)

STUB_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -Os -g -Iinclude -I. \
	-ffreestanding -fno-stack-protector -fno-builtin -fpie \
	-fcf-protection=none -mno-red-zone -nostdlib -static -mgeneral-regs-only
$(BUILD)/stub/stub.elf: sentry/stub/stub.S sentry/stub/stub_systrap.c sentry/stub/stub.ld sentry/platform/systrap/sysmsg.h
	@mkdir -p $(dir $@)
	$(CC) $(STUB_CFLAGS) -no-pie -Wl,-T,sentry/stub/stub.ld -Wl,--build-id=none \
		-o $@ sentry/stub/stub.S sentry/stub/stub_systrap.c

$(BUILD)/sentry/stub_blob.o: sentry/stub/stub_blob.S $(BUILD)/stub/stub.elf
	@mkdir -p $(dir $@)
	$(CC) -c -DSTUB_ELF='"$(BUILD)/stub/stub.elf"' -o $@ $<

$(BUILD)/libsentry.a: $(filter-out %/sentry/main.o,$(SENTRY_OBJS)) $(BUILD)/sentry/stub_blob.o
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN)/bulkhead-sentry: $(SENTRY_OBJS) $(BUILD)/sentry/stub_blob.o $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -ljansson -lseccomp -lcap
