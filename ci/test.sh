#!/usr/bin/env bash
# Install everything the tests need, start what they talk to, run them all.
#   bash ci/test.sh [pytest args...]
# As root it also installs and starts a one-node Slurm, a test sshd on 127.0.0.1 (for
# qlaunch -rh), Debian's chromium and graphviz; as another user those tests skip (they fail
# instead when CI=true), except that the ssh tests start their own sshd if one is installed.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e '.[test,ssh]'

# Lint, layout and types before anything starts: a ruff finding, an unformatted file or a
# mypy error fails the run (the rules and the typed modules are in pyproject.toml;
# `ruff format .` fixes the layout).
python3 -m ruff check .
python3 -m ruff format --check .
python3 -m mypy

if [ "$(id -u)" = 0 ]; then
    bash ci/slurm-up.sh --clean --cpus 4 --timeout 120
    SSHD_DIR=""
    trap 'bash ci/slurm-down.sh --purge >/dev/null 2>&1 || true
          [ -z "$SSHD_DIR" ] || bash ci/sshd-down.sh "$SSHD_DIR" >/dev/null 2>&1 || true' EXIT
    # qlaunch -rh's tests log in here (openssh-server is installed if missing).
    SSHD_DIR="$(bash ci/sshd-up.sh)"
    export STARSHELL_SSHD_DIR="$SSHD_DIR"
    if [ -f ci/install-browser.sh ]; then
        bash ci/install-browser.sh
    fi
    # Graphviz's dot draws lpad check_wflow's pictures (their test skips without it).
    command -v dot >/dev/null || apt-get install -y -qq --no-install-recommends graphviz \
        || { apt-get update -qq && apt-get install -y -qq --no-install-recommends graphviz; }
else
    echo "ci/test.sh: not root; Slurm and browser tests will skip unless already set up" >&2
fi

# A private store for anything that falls back to ~/.starshell.
STARSHELL_HOME="$(mktemp -d)"
export STARSHELL_HOME
# The 25 slowest tests in the log, so a test that grew slow shows up in the next run.
# Two pytest-xdist workers: most tests wait on the commands they start, so a second worker
# uses the core the first leaves idle; tests of the one Slurm and the one sshd share a worker
# (tests/conftest.py). STARSHELL_TEST_WORKERS=0 runs everything in one process.
python3 -m pytest -q -ra -p no:cacheprovider --durations=25 \
    -n "${STARSHELL_TEST_WORKERS:-2}" --dist loadgroup "$@"
