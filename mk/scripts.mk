# Script analysis (engineer C). The benchmark is not part of `make test`: it installs Bandit and
# GuardDog into .venv-bench-scripts and runs them once per file. See bench/scripts/README.md.
.PHONY: bench-scripts

bench-scripts: $(STAMP)
	$(VPY) -m bench.scripts.run --write-results
