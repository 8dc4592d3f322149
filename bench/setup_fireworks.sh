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
# FireWorks 2.1.x calls monty's zopen(path) without a mode in its offline mode
# (rlaunch singleshot --offline); monty removed that default in 2026.2.18, so
# the offline rocket crashes with any later monty. 2025.3.3 is the last monty
# that still accepts it (with a FutureWarning); the rest of FireWorks works with it.
monty_pin="monty==2025.3.3"

if ! "$py" -c 'import fireworks, mongomock_persistence' 2>/dev/null; then
    if ! { python3 -m venv "$venv" \
           && "$py" -m pip install -q --upgrade pip \
           && "$py" -m pip install -q 'fireworks>=2.1,<2.2' mongomock-persistence "$monty_pin"; } >"$log" 2>&1; then
        cat "$log" >&2
        echo "setup_fireworks.sh: could not build $venv (log above)" >&2
        exit 1
    fi
fi
if [ "$("$py" -c 'import importlib.metadata as m; print(m.version("monty"))')" != "${monty_pin#monty==}" ]; then
    if ! "$py" -m pip install -q "$monty_pin" >"$log" 2>&1; then
        cat "$log" >&2
        echo "setup_fireworks.sh: could not install $monty_pin into $venv (log above)" >&2
        exit 1
    fi
fi
echo "$py"
