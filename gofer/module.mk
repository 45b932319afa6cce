GOFER_SRCS := $(wildcard gofer/*.c)
GOFER_OBJS := $(GOFER_SRCS:%.c=$(BUILD)/%.o)

$(BUILD)/libgofer.a: $(filter-out %/main.o,$(GOFER_OBJS))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN)/bulkhead-gofer: $(GOFER_OBJS) $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lseccomp -lcap
