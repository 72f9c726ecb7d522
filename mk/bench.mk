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
