# MalHug: every set-up step lives here, so a fresh clone needs only `make demo` or `make test`.
PY ?= python3.11
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo demo-text test check lint typecheck layers layout unit venv rules-doc clean

$(STAMP): requirements/dev.txt pyproject.toml setup.py
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q -r requirements/dev.txt
	$(VPY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

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

# docs/RULES.md: the catalog, where each rule fires and the tests marked fires/quiet for it.
rules-doc: $(STAMP)
	$(VPY) tools/rules_doc.py

# Each area may add its own targets in mk/<area>.mk and append to TEST_TARGETS (run after unit).
TEST_TARGETS :=
-include mk/*.mk

# The one test command (README, .ci/run): lint, types, layer contract, every test.
test: lint typecheck layers unit $(TEST_TARGETS)

demo-text: $(STAMP)
	$(VPY) demo/run.py --text

demo: $(STAMP)
	$(VPY) demo/run.py

clean:
	rm -rf $(VENV) build dist *.egg-info

# The lists the VS Code client shares with Python (model-file suffixes, server commands, settings):
# tools/gen_lists.py writes client-vscode/src/generated/ and package.json's activation event;
# tests/lists fails when they are stale. The .vsix is rebuilt when a generated file changes.
.PHONY: lists
lists: $(STAMP)
	$(VPY) tools/gen_lists.py

$(VSIX): $(wildcard $(CLIENT)/src/generated/*.ts)
