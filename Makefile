# MalHug. A fresh clone needs only `make demo` or `make test`: every set-up step lives in a script
# under tools/ (setup-python.sh, setup-editor.sh) that Make runs as a prerequisite (stamp files), so
# the recipes of the check and test targets only check and test.
#   make quick   lint, types, layers, unit tests: the everyday loop (no editor, browser or node)
#   make fmt     format and apply ruff's safe fixes (Python), prettier (client-vscode)
#   make test    everything, as CI runs it (.ci/run)
PY ?= python3.11
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo demo-text demo-hub demo-reset test quick fmt lint typecheck layers layout unit unit-quick venv rules-doc clean

$(STAMP): requirements/dev.txt pyproject.toml setup.py tools/setup-python.sh
	PY=$(PY) VENV=$(CURDIR)/$(VENV) bash tools/setup-python.sh

venv: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy and import-linter cannot follow setuptools' folder mapping through a lenient editable
# install, so they read a tree of symlinks laid out as the installed package is.
LAYOUT := build/layout
layout:
	rm -rf $(LAYOUT) && mkdir -p $(LAYOUT) && cp -rs $(CURDIR)/src/malhug $(LAYOUT)/malhug
	ln -s $(CURDIR)/analyzers $(LAYOUT)/malhug/analyzers && ln -s $(CURDIR)/server $(LAYOUT)/malhug/server

typecheck: $(STAMP) layout
	MYPYPATH=$(LAYOUT) $(VENV)/bin/mypy -p malhug

layers: $(STAMP) layout
	PYTHONPATH=$(LAYOUT) $(VENV)/bin/lint-imports --no-cache

unit: $(STAMP)
	$(VPY) -m pytest -q

# Unit tests: every pytest test except those marked `e2e` (real processes: a language server over
# stdio, the fake Hub's HTTP servers, Neovim, the demo), so no editor, browser or node is needed.
unit-quick: $(STAMP)
	$(VPY) -m pytest -q -m "not e2e"

# The everyday loop: about 65 s on the 2-core development machine when it is otherwise idle (some
# 15 s more on the first run, while mypy fills its cache).
quick: lint typecheck layers unit-quick

# Python: ruff's safe fixes only, then its formatter; client-vscode: prettier.
fmt: $(STAMP) client-fmt
	$(VENV)/bin/ruff check --fix --no-unsafe-fixes .
	$(VENV)/bin/ruff format .

# docs/RULES.md: the catalog, where each rule fires and the tests marked fires/quiet for it.
rules-doc: $(STAMP)
	$(VPY) tools/rules_doc.py

# Each area may add its own targets in mk/<area>.mk and append to TEST_TARGETS (run after unit).
TEST_TARGETS :=
-include mk/*.mk

# The one test command (README, .ci/run): lint, types, layer contract, every test, the client's
# lint and tests, the real-editor end-to-end test.
test: lint typecheck layers unit $(TEST_TARGETS)

demo-text: $(STAMP)
	$(VPY) demo/run.py --text

# The demo listens on fixed ports (editor 47110, Hub 47111; DEMO_PORT=… DEMO_HUB_PORT=… to choose) and
# keeps its workspace and editor profile with your edits between runs; demo-reset forgets both.
# demo-hub serves the demo Hub alone and prints the `HF_ENDPOINT=… .venv/bin/malhug scan hf:…` lines
# for the CLI.
DEMO_ARGS = $(if $(DEMO_PORT),--port $(DEMO_PORT)) $(if $(DEMO_HUB_PORT),--hub-port $(DEMO_HUB_PORT))

demo: $(STAMP)
	$(VPY) demo/run.py $(DEMO_ARGS)

demo-hub: $(STAMP)
	$(VPY) demo/run.py --hub-only $(DEMO_ARGS)

demo-reset: $(STAMP)
	$(VPY) demo/run.py --reset

clean:
	rm -rf $(VENV) build dist *.egg-info

# The lists the VS Code client shares with Python (model-file suffixes, server commands, settings):
# tools/gen_lists.py writes client-vscode/src/generated/ and package.json's activation event;
# tests/lists fails when they are stale. The .vsix is rebuilt when a generated file changes.
.PHONY: lists
lists: $(STAMP)
	$(VPY) tools/gen_lists.py

$(VSIX): $(wildcard $(CLIENT)/src/generated/*.ts)
