# The standing fuzz campaign (tests/fuzz/). The short, derandomized run (hypothesis profile `ci`) is
# part of the ordinary pytest run, so `make test` runs it; `make fuzz` is the long run.
#   make fuzz                                  every target, FUZZ_MINUTES in total (default 60)
#   make fuzz FUZZ_MINUTES=45 FUZZ_TARGETS=gguf,onnx
# Targets run one after the other, niced; failing inputs are saved under tests/fuzz/regressions/
# (replayed by tests/fuzz/test_regressions.py), logs and the summary go to build/fuzz/.
FUZZ_MINUTES ?= 60
FUZZ_TARGETS ?=

.PHONY: fuzz fuzz-ci

fuzz: $(STAMP)
	FUZZ_MINUTES=$(FUZZ_MINUTES) FUZZ_TARGETS=$(FUZZ_TARGETS) $(VPY) -m tests.fuzz.campaign

# Only the short run of every target and the replay of the saved inputs.
fuzz-ci: $(STAMP)
	$(VPY) -m pytest -q tests/fuzz
