# Language server (engineer F): editor set-up for the Neovim end-to-end test, focused targets.
.PHONY: server-setup server-test lsp-bench

# Debian's Neovim (0.7.2) for tests/server/test_e2e_neovim.py; the test skips itself when nvim is
# absent. CI runs as root on Debian; elsewhere nothing is installed.
server-setup:
	@if command -v nvim >/dev/null 2>&1; then \
	  echo "server-setup: $$(nvim --version | head -1)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends neovim) \
	    || echo "server-setup: could not install neovim; the Neovim test will be skipped"; \
	else \
	  echo "server-setup: nvim is missing and cannot be installed here; the Neovim test will be skipped"; \
	fi

# `make test` runs `unit`, which needs the editor in place first.
unit: server-setup

server-test: $(STAMP) server-setup
	$(VPY) -m pytest -q tests/server

lsp-bench: $(STAMP)
	$(VPY) bench/lsp/run.py
