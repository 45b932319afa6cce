GOFER_SRCS := $(wildcard gofer/*.c)
GOFER_OBJS := $(GOFER_SRCS:%.c=$(BUILD)/%.o)
# Only the lib objects the gofer uses: it must stay small, and must not pull
# in config.o (jansson) or the client.
GOFER_LIB_OBJS := $(BUILD)/lib/log.o $(BUILD)/lib/gofer_proto.o \
	$(BUILD)/lib/fdpass.o

$(BUILD)/libgofer.a: $(filter-out %/main.o,$(GOFER_OBJS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN)/bulkhead-gofer: $(GOFER_OBJS) $(GOFER_LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lseccomp -lcap
