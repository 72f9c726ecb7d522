# Hub layer: focused targets. The hub tests also run in `make unit` with everything else.
.PHONY: hub-test bench-hub

hub-test: $(STAMP)
	$(VPY) -m pytest -q tests/hub

# The 4 GiB checkpoint benchmark on the fake Hub (writes bench/hub/RESULTS.md; about a minute, ~4 GiB of disk).
bench-hub: $(STAMP)
	$(VPY) bench/hub/run.py
