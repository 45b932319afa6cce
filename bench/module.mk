# `make bench`: static microbenchmarks, run natively, in Bulkhead on each
# platform and, when installed, in runc and runsc; see bench/run.sh.
BENCH_CFLAGS := -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -pthread -static

$(BUILD)/bench/%: bench/%.c
	@mkdir -p $(dir $@)
	$(CC) $(BENCH_CFLAGS) -o $@ $<

.PHONY: bench bench-programs
bench-programs: $(BUILD)/bench/bhbench $(BUILD)/bench/true

bench: all bundle bench-programs
	BUILD=$(BUILD) bench/run.sh
