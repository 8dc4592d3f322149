#!/usr/bin/env bash
# slurm-down.sh - stop the single-node Slurm cluster started by ci/slurm-up.sh.
#
# Cancels all jobs, waits for them to end, then stops slurmd, slurmctld and munged by the
# PIDs in their pid files, checking that each PID still runs the expected program (never
# by name: other people's processes on this machine are left alone). Idempotent: skips
# daemons that are not running. Run as root.
#
# Usage: slurm-down.sh [--purge] [--keep-munge]
#   --purge       also delete Slurm state, spool, logs and the jobcomp file:
#                 the next start begins at job id 1
#   --keep-munge  leave munged running
set -uo pipefail

PURGE=0
KEEP_MUNGE=0
for a in "$@"; do
  case "$a" in
    --purge) PURGE=1 ;;
    --keep-munge) KEEP_MUNGE=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "slurm-down: unknown argument: $a" >&2; exit 2 ;;
  esac
done

CONF=/etc/slurm/slurm.conf
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_PID=/run/munge/munged.pid
rc=0
T_START=$(date +%s.%N)

log() { echo "slurm-down: [$(awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')s] $*" >&2; }
[ "$(id -u)" -eq 0 ] || { log "ERROR: must run as root"; exit 1; }

# running PID: the process exists and is not a zombie (PID 1 here reaps slowly)
running() { [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
pid_alive() {
  local pid
  [ -s "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null) || return 1
  [ -n "$pid" ] && running "$pid" && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]
}
# stop_pidfile PIDFILE NAME: SIGTERM, wait up to 10 s, then SIGKILL
stop_pidfile() {
  local pid
  pid_alive "$1" "$2" || return 0
  pid=$(cat "$1")
  log "stopping $2 (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do running "$pid" || { log "$2 stopped"; return 0; }; sleep 0.1; done
  log "$2 (pid $pid) ignored SIGTERM; sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.5
  running "$pid" && { log "ERROR: $2 (pid $pid) still alive"; rc=1; }
  return 0
}

# 1. cancel every job while slurmctld is still up, and wait until none is left
if [ -f "$CONF" ] && pid_alive "$CTLD_PID" slurmctld && [[ "$(scontrol ping 2>/dev/null)" == *'is UP'* ]]; then
  jobs=$(squeue -h -o '%A' 2>/dev/null | tr '\n' ' ')
  if [ -n "${jobs// /}" ]; then
    log "cancelling jobs: $jobs"
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null || true
    for _ in $(seq 1 150); do
      [ -z "$(squeue -h -t PD,R,CG,S,CF -o '%A' 2>/dev/null)" ] && break
      sleep 0.2
    done
    left=$(squeue -h -t PD,R,CG,S,CF -o '%A %T' 2>/dev/null | tr '\n' ' ')
    [ -n "$left" ] && log "WARNING: jobs still present after 30s: $left"
  fi
fi

# 2. daemons, compute side first
stop_pidfile "$SLURMD_PID" slurmd
stop_pidfile "$CTLD_PID" slurmctld
[ "$KEEP_MUNGE" = 1 ] || stop_pidfile "$MUNGE_PID" munged

# job step daemons outlive slurmd; after the scancel above there should be none
for p in /proc/[0-9]*; do
  [ "$(cat "$p/comm" 2>/dev/null)" = slurmstepd ] && running "${p#/proc/}" \
    && log "WARNING: slurmstepd still running: pid ${p#/proc/}"
done

# 3. optional purge of all state
if [ "$PURGE" = 1 ]; then
  log "purging Slurm state, spool and logs"
  rm -rf /var/spool/slurmctld/* /var/spool/slurmd/*
  rm -f /var/log/slurm/slurmctld.log* /var/log/slurm/slurmd.log* /var/log/slurm/jobcomp.log*
  rm -f "$CTLD_PID" "$SLURMD_PID"
fi
log "done"
exit $rc
