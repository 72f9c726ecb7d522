# Script analysis benchmark against Bandit and GuardDog. Not part of `make test`: it installs Bandit
# and GuardDog into .venv-bench-scripts and runs them once per file. See bench/scripts/README.md.
.PHONY: bench-scripts

bench-scripts: $(STAMP)
	$(VPY) -m bench.scripts.run --write-results

# Real loading scripts of huggingface/datasets, read from a local clone (never copied here):
#   make bench-scripts-real DATASETS_GIT=/path/to/clone/of/huggingface/datasets
.PHONY: bench-scripts-real
bench-scripts-real: $(STAMP)
	@test -n "$(DATASETS_GIT)" || { echo "usage: make bench-scripts-real DATASETS_GIT=PATH (a clone of https://github.com/huggingface/datasets)"; exit 2; }
	$(VPY) -m bench.scripts.real --datasets-git "$(DATASETS_GIT)" --write-results
