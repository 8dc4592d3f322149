#!/usr/bin/env bash
# Build the FireWorks baseline's own virtualenv (bench/.venv-fireworks).
# FireWorks and its embedded store live apart from starshell's deps so the
# two sides never share (or fight over) installed packages. Idempotent and
# quiet: prints the venv's python path on success, the pip log on failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv-fireworks"
py="$venv/bin/python"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

if ! "$py" -c 'import fireworks, mongomock_persistence' 2>/dev/null; then
    if ! { python3 -m venv "$venv" \
           && "$py" -m pip install -q --upgrade pip \
           && "$py" -m pip install -q 'fireworks>=2.1,<2.2' mongomock-persistence; } >"$log" 2>&1; then
        cat "$log" >&2
        echo "setup_fireworks.sh: could not build $venv (log above)" >&2
        exit 1
    fi
fi
echo "$py"
