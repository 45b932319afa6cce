.PHONY: bench
bench: all bundle
	@echo "bench: not yet written"
