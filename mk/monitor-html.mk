# The monitor's HTML report in Debian's chromium through playwright-core (tests/monitor/test_html_browser.py,
# marked e2e): the tooling of tests/e2e_vscode, installed before `make unit` runs the test; the focused
# target below fails instead of skipping when the tooling is missing.
.PHONY: monitor-html-setup e2e-monitor-html

monitor-html-setup:
	bash tools/setup-editor.sh apt
	bash tools/setup-editor.sh playwright

unit: monitor-html-setup

e2e-monitor-html: $(STAMP) monitor-html-setup
	MALHUG_REQUIRE_BROWSER=1 $(VPY) -m pytest -q tests/monitor/test_html_browser.py

TEST_TARGETS += e2e-monitor-html
