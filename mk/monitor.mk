# Monitor: focused target. The monitor tests (SQLite and a PostgreSQL server they start, the fake Hub,
# a Dask LocalCluster) also run in `make unit` with everything else.
.PHONY: monitor-test

monitor-test: $(STAMP)
	$(VPY) -m pytest -q tests/monitor
