#!/usr/bin/env bash
# Creates the project's virtual environment (.venv/ by default) from the pinned requirements/dev.txt
# and installs MalHug into it (editable). Idempotent: pip only checks what is already installed.
#
#   tools/setup-python.sh              uses python3.11 (PY=... to choose another interpreter)
#
# Make calls it through the stamp .venv/.installed, so it runs again only when requirements/dev.txt,
# pyproject.toml or setup.py change.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PY:-python3.11}
VENV=${VENV:-$ROOT/.venv}

log() { printf 'setup-python: %s\n' "$*" >&2; }

cd "$ROOT"
# PostgreSQL's server binaries for the monitor store's tests (tests/monitor/postgres.py starts its own).
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && command -v apt-get >/dev/null; then
    log "installing the Debian package postgresql (monitor store tests)"
    SUDO=$([[ $(id -u) -eq 0 ]] && echo "" || echo "sudo")
    { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q --no-install-recommends postgresql >/dev/null; } \
        || log "could not install postgresql: the PostgreSQL store tests will skip (or fail under CI)"
fi
if [[ ! -x $VENV/bin/python ]]; then
    log "creating $VENV with $PY"
    "$PY" -m venv "$VENV"
fi
log "installing requirements/dev.txt and MalHug (editable) into $VENV"
"$VENV/bin/python" -m pip install -q -r requirements/dev.txt
"$VENV/bin/python" -m pip install -q --no-deps --no-build-isolation -e .
touch "$VENV/.installed"
