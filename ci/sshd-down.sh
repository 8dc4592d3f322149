#!/usr/bin/env bash
# sshd-down.sh - stop the test sshd that ci/sshd-up.sh started in DIR and delete DIR.
#
# Stops it by the PID in DIR/sshd.pid, after checking that this PID still runs sshd
# with DIR's own sshd_config (never by name: the system's sshd and other people's are
# left alone). Idempotent. Usage: sshd-down.sh DIR [--keep]   (--keep: leave DIR)
set -uo pipefail

DIR="${1:-}"
KEEP=0
[ "${2:-}" = "--keep" ] && KEEP=1
if [ -z "$DIR" ] || [ ! -d "$DIR" ]; then
  echo "sshd-down: no such directory: ${DIR:-(none given)}" >&2
  exit 0
fi
PIDFILE="$DIR/sshd.pid"
if [ -s "$PIDFILE" ]; then
  pid="$(cat "$PIDFILE")"
  if tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$DIR/sshd_config"; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
fi
# Only a directory sshd-up.sh made (it has its config) is deleted.
if [ "$KEEP" = 0 ] && [ -f "$DIR/sshd_config" ]; then
  rm -rf "$DIR"
fi
