# Language server: the Neovim end-to-end test's editor, focused targets.
.PHONY: server-setup server-test lsp-bench

# Debian's Neovim (0.7.2) for tests/server/test_e2e_neovim.py, installed by tools/setup-editor.sh
# where it can be (root and apt); elsewhere the test skips itself.
server-setup:
	bash tools/setup-editor.sh neovim

# `make test` runs `unit`, which needs the editor in place first.
unit: server-setup

server-test: $(STAMP) server-setup
	$(VPY) -m pytest -q tests/server

lsp-bench: $(STAMP)
	$(VPY) bench/lsp/run.py
