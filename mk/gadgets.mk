# Gadget table: mine the standard library and the packages pinned in requirements/gadgets.txt
# (installed into .venv-gadgets, never into .venv) for functions that reach code or command execution,
# name resolution, deserialization, the network or file writes. Writes analyzers/knowledge/gadgets.jsonl;
# tests/knowledge/test_gadget_table.py fails when it is stale. See analyzers/knowledge/GADGETS.md.
.PHONY: gadgets

GADGETS_VENV := .venv-gadgets
GADGETS_STAMP := $(GADGETS_VENV)/.installed

$(GADGETS_STAMP): requirements/gadgets.txt
	python3 -m venv $(GADGETS_VENV)
	$(GADGETS_VENV)/bin/pip install -q -r requirements/gadgets.txt
	touch $@

gadgets: $(GADGETS_STAMP)
	$(GADGETS_VENV)/bin/python -m tools.gadgets
