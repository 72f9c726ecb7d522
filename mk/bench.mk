# Model-scanner benchmark. Not part of `make test`: it builds multi-GiB sparse files and
# runs four scanners on the same files (a process per file, each tool's folder mode, each tool's API in
# one process). See bench/models/README.md.
.PHONY: bench-models bench-models-quick

bench-models: $(STAMP)
	$(VPY) -m bench.models.run --write-results

bench-models-quick: $(STAMP)
	$(VPY) -m bench.models.run --quick --skip-large

# CLI start-up: `malhug --version` and a benign pickle scan against `python -c pass` (median of N
# fresh processes). See bench/startup/run.py; writes bench/startup/RESULTS.md.
.PHONY: bench-startup

bench-startup: $(STAMP)
	$(VPY) -m bench.startup.run --write-results

# `malhug monitor` on a generated fake hub of 10,000 models + 2,000 datasets with the 100 real-world cases:
# backfill, 2,000-repo backfill (RSS), incremental, rescan, dask-local, peers on 200 repos. Not part of
# `make test`. See bench/monitor/run.py; writes bench/monitor/RESULTS.md and RESULTS.json.
.PHONY: bench-monitor

bench-monitor: $(STAMP)
	$(VPY) -m bench.monitor.run --write-results
