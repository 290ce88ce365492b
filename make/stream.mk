# Near-real-time mode and the benchmark report.
STREAM_RATE ?= 1000

.PHONY: stream bench

stream: setup ## near-real-time mode: producer + 5 s micro-batches + incremental dbt loop (Ctrl-C stops)
	@$(STEP) "stream: producer ($(STREAM_RATE)/s) + 5 s micro-batches + incremental dbt loop (Ctrl-C stops)" bash -c '$(ENV) python local_stack/stream.py --rate $(STREAM_RATE)'

bench: setup-tests ## every benchmark, one table (artifacts/bench.md); BENCH_QUICK=1, BENCH_PARTS=...
	@$(STEP) "bench: every benchmark, one table (artifacts/bench.md)" bash -c '$(ENV) python benchmarks/run_all.py'
