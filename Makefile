# MalHug: every set-up step lives here, so a fresh clone needs only `make demo` or `make test`.
PY ?= python3.11
VENV := .venv
VPY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo demo-text test check lint typecheck layers unit venv rules-doc clean

$(STAMP): requirements/dev.txt pyproject.toml setup.py
	test -x $(VPY) || $(PY) -m venv $(VENV)
	$(VPY) -m pip install -q -r requirements/dev.txt
	$(VPY) -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

venv: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# mypy cannot follow setuptools' folder mapping through a lenient editable install, so it checks a
# tree of symlinks laid out as the installed package is.
typecheck: $(STAMP)
	rm -rf build/mypy && mkdir -p build/mypy && cp -rs $(CURDIR)/src/malhug build/mypy/malhug
	ln -s $(CURDIR)/analyzers build/mypy/malhug/analyzers && ln -s $(CURDIR)/server build/mypy/malhug/server
	MYPYPATH=build/mypy $(VENV)/bin/mypy -p malhug

layers: $(STAMP)
	$(VENV)/bin/lint-imports

unit: $(STAMP)
	$(VPY) -m pytest -q

rules-doc: $(STAMP)
	$(VENV)/bin/malhug rules --markdown > docs/RULES.md

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
