#!/usr/bin/env bash
# slurm-up.sh - bring up a real single-node Slurm cluster on localhost for the test suite
# (munged + slurmctld + slurmd on this machine), without systemd and without cgroups.
#
# Idempotent: installs Debian's packages if they are missing, (re)writes
# /etc/slurm/slurm.conf, starts whatever daemon is not running, restarts the Slurm
# daemons if the config changed, and waits until the node accepts jobs. Run as root.
# Tested on Debian 12 (slurm-wlm 22.05.8, munge 0.5.15).
#
# Usage: slurm-up.sh [--clean] [--no-install] [--cpus N] [--timeout S]
#   --clean        stop everything and wipe Slurm state (job ids restart at 1) first
#   --no-install   fail instead of running apt-get when a package is missing
#   --cpus N       CPUs the node advertises (default: 4, or the real count if larger).
#                  More than the real count lets several 1-CPU pilot jobs run at once
#                  (SlurmdParameters=config_overrides)
#   --timeout S    seconds to wait for each daemon and for the node to become idle (default 60)
# Environment: SLURM_UP_TIMEOUT, SLURM_NODE_CPUS, SLURM_MIN_JOB_AGE (default 300),
#   SLURM_KILL_WAIT (default 5), SLURM_PARTITION (default debug).
# Exit status: 0 = node idle and ready; non-zero = failed (reason + log tails on stderr).
set -euo pipefail

TIMEOUT=${SLURM_UP_TIMEOUT:-60}
NODE_CPUS=${SLURM_NODE_CPUS:-}
MIN_JOB_AGE=${SLURM_MIN_JOB_AGE:-300}
KILL_WAIT=${SLURM_KILL_WAIT:-5}
PARTITION=${SLURM_PARTITION:-debug}
CLEAN=0
INSTALL=1

while [ $# -gt 0 ]; do
  case "$1" in
    --clean) CLEAN=1 ;;
    --no-install) INSTALL=0 ;;
    --cpus) NODE_CPUS=${2:?--cpus needs a value}; shift ;;
    --cpus=*) NODE_CPUS=${1#*=} ;;
    --timeout) TIMEOUT=${2:?--timeout needs a value}; shift ;;
    --timeout=*) TIMEOUT=${1#*=} ;;
    -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
    *) echo "slurm-up: unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONF_DIR=/etc/slurm
CONF=$CONF_DIR/slurm.conf
STATE_DIR=/var/spool/slurmctld
SPOOL_DIR=/var/spool/slurmd
LOG_DIR=/var/log/slurm
CTLD_PID=/run/slurmctld.pid
SLURMD_PID=/run/slurmd.pid
MUNGE_RUN=/run/munge
MUNGE_PID=$MUNGE_RUN/munged.pid
MUNGE_KEY=/etc/munge/munge.key
T_START=$(date +%s.%N)
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

log() { echo "slurm-up: $*" >&2; }
elapsed() { awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }
die() {
  echo "slurm-up: ERROR: $*" >&2
  for f in /var/log/munge/munged.log "$LOG_DIR/slurmctld.log" "$LOG_DIR/slurmd.log"; do
    [ -f "$f" ] && { echo "----- last lines of $f -----" >&2; tail -n 15 "$f" >&2; }
  done
  exit 1
}
# running PID: the process exists and is not a zombie (PID 1 here reaps slowly)
running() { [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
# pid_alive PIDFILE NAME: PIDFILE names a running process whose comm is NAME
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
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do running "$pid" || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
# wait_for SECONDS DESCRIPTION COMMAND...: poll COMMAND every 0.2 s until it succeeds
wait_for() {
  local secs=$1 what=$2; shift 2
  local end=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.2
  done
  log "$what ($(elapsed)s)"
}

[ "$(id -u)" -eq 0 ] || die "must run as root"
[[ "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "--timeout must be a positive integer"
[ -z "$NODE_CPUS" ] || [[ "$NODE_CPUS" =~ ^[1-9][0-9]*$ ]] || die "--cpus must be a positive integer"

# ---------------------------------------------------------------- 0. clean start
if [ "$CLEAN" = 1 ]; then
  log "--clean: stopping daemons and wiping Slurm state"
  bash "$HERE/slurm-down.sh" --purge || die "slurm-down.sh --purge failed"
fi

# ---------------------------------------------------------------- 1. packages
PKGS="munge slurmctld slurmd slurm-client"
NEED="/usr/sbin/munged /usr/bin/munge /usr/sbin/slurmctld /usr/sbin/slurmd /usr/bin/sbatch /usr/bin/sacct"
missing=""
for f in $NEED; do [ -x "$f" ] || missing="$missing $f"; done
if [ -n "$missing" ]; then
  [ "$INSTALL" = 1 ] || die "missing:$missing (and --no-install given)"
  log "installing Debian packages: $PKGS (missing:$missing)"
  export DEBIAN_FRONTEND=noninteractive
  # Debian's maintainer scripts cannot start the daemons here (no systemd, policy-rc.d
  # says no); they are started below. The package lists are refreshed only when the
  # install fails, e.g. on a fresh image without lists or with stale ones.
  # shellcheck disable=SC2086
  if ! apt-get install -y -qq --no-install-recommends $PKGS >/dev/null 2>"$SCRATCH/apt.err"; then
    log "apt-get install failed ($(tail -n 1 "$SCRATCH/apt.err")); running apt-get update"
    apt-get update -qq >/dev/null || die "apt-get update failed"
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $PKGS >/dev/null \
      || die "apt-get install $PKGS failed"
  fi
  log "packages installed ($(elapsed)s)"
fi

# ---------------------------------------------------------------- 2. host name
NODE=$(hostname -s)
[ -n "$NODE" ] || die "hostname -s is empty"
if ! getent hosts "$NODE" >/dev/null; then
  log "'$NODE' does not resolve; adding '127.0.0.1 $NODE' to /etc/hosts"
  echo "127.0.0.1 $NODE" >> /etc/hosts
fi

# ---------------------------------------------------------------- 3. munge key + dirs
if [ ! -s "$MUNGE_KEY" ]; then
  log "creating $MUNGE_KEY"
  install -d -o munge -g munge -m 0700 /etc/munge
  mungekey --create --keyfile="$MUNGE_KEY" || die "mungekey failed"
fi
chown munge:munge "$MUNGE_KEY"; chmod 0400 "$MUNGE_KEY"
install -d -o munge -g munge -m 0755 "$MUNGE_RUN"
install -d -o munge -g munge -m 0700 /var/log/munge /var/lib/munge
install -d -m 0755 "$STATE_DIR" "$SPOOL_DIR" "$LOG_DIR" "$CONF_DIR"

# ---------------------------------------------------------------- 4. slurm.conf
# Hardware as slurmd sees it, e.g. "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1
# CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105" (runs locally, needs no daemon).
# Without a slurm.conf every Slurm *client* does a DNS SRV lookup, so write it first.
HW=$(slurmd -C 2>/dev/null | head -n 1) || true
REAL_CPUS=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$HW")
REAL_MEM=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$HW")
[ -n "$REAL_CPUS" ] || REAL_CPUS=$(nproc)
[ -n "$REAL_MEM" ] || REAL_MEM=$(awk '/MemTotal/{print int($2/1024)}' /proc/meminfo)
MEM=$(( REAL_MEM * 90 / 100 ))        # headroom: slurmd drains the node if RealMemory > actual
[ -n "$NODE_CPUS" ] || NODE_CPUS=$(( REAL_CPUS > 4 ? REAL_CPUS : 4 ))
OVERRIDES=""
if [ "$NODE_CPUS" = "$REAL_CPUS" ]; then
  HWLINE=$(sed -e 's/^NodeName=[^ ]* //' -e 's/ *RealMemory=[0-9]*//' -e 's/ *UpTime=.*//' <<<"$HW")
  [ -n "$HWLINE" ] || HWLINE="CPUs=$NODE_CPUS"
else
  OVERRIDES="SlurmdParameters=config_overrides"
  HWLINE="CPUs=$NODE_CPUS Boards=1 SocketsPerBoard=1 CoresPerSocket=$NODE_CPUS ThreadsPerCore=1"
fi

TMP_CONF=$SCRATCH/slurm.conf
cat > "$TMP_CONF" <<EOF
# Generated by ci/slurm-up.sh - single-node test cluster on localhost. Edits are overwritten.
ClusterName=localcluster
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
MailProg=/bin/true
# no cgroups: track job processes via /proc, no task binding
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SwitchType=switch/none
# no slurmdbd: plain 'sacct' is disabled; 'sacct -c' reads the jobcomp file below
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$LOG_DIR/jobcomp.log
ReturnToService=2
SlurmctldPidFile=$CTLD_PID
SlurmdPidFile=$SLURMD_PID
StateSaveLocation=$STATE_DIR
SlurmdSpoolDir=$SPOOL_DIR
SlurmctldLogFile=$LOG_DIR/slurmctld.log
SlurmdLogFile=$LOG_DIR/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SchedulerType=sched/backfill
# default batch_sched_delay=3 makes each queued job wait ~3 s after a slot frees; 0 -> ~1 s
SchedulerParameters=batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# finished jobs stay visible to squeue -t all / scontrol show job for >= MinJobAge s
MinJobAge=$MIN_JOB_AGE
# seconds between SIGTERM and SIGKILL at the time limit / on scancel
KillWait=$KILL_WAIT
$OVERRIDES
NodeName=$NODE NodeAddr=127.0.0.1 $HWLINE RealMemory=$MEM State=UNKNOWN
PartitionName=$PARTITION Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

CONF_CHANGED=0
if ! cmp -s "$TMP_CONF" "$CONF"; then
  CONF_CHANGED=1
  install -m 0644 "$TMP_CONF" "$CONF"
  log "wrote $CONF (node $NODE, CPUs=$NODE_CPUS, RealMemory=$MEM)"
fi

# ---------------------------------------------------------------- 5. munged
munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }
if pid_alive "$MUNGE_PID" munged && munge_ok; then
  log "munged already running (pid $(cat "$MUNGE_PID"))"
else
  stop_pidfile "$MUNGE_PID" munged
  log "starting munged"
  runuser -u munge -- /usr/sbin/munged --force || die "munged failed to start"
  wait_for "$TIMEOUT" "munged up" munge_ok || die "munge credential round-trip failed after ${TIMEOUT}s"
fi

# ---------------------------------------------------------------- 6. slurmctld / slurmd
ctld_ok() { [[ "$(scontrol ping 2>/dev/null)" == *'is UP'* ]]; }
if [ "$CONF_CHANGED" = 1 ] && { pid_alive "$CTLD_PID" slurmctld || pid_alive "$SLURMD_PID" slurmd; }; then
  log "config changed: restarting slurmctld and slurmd"
  stop_pidfile "$SLURMD_PID" slurmd
  stop_pidfile "$CTLD_PID" slurmctld
fi

if pid_alive "$CTLD_PID" slurmctld; then
  log "slurmctld already running (pid $(cat "$CTLD_PID"))"
else
  log "starting slurmctld"
  slurmctld || die "slurmctld failed to start"
fi
wait_for "$TIMEOUT" "slurmctld answers" ctld_ok \
  || die "slurmctld not answering 'scontrol ping' after ${TIMEOUT}s$(pid_alive "$CTLD_PID" slurmctld || echo ' (slurmctld is not running)')"

if pid_alive "$SLURMD_PID" slurmd; then
  log "slurmd already running (pid $(cat "$SLURMD_PID"))"
else
  log "starting slurmd"
  slurmd || die "slurmd failed to start"
fi

# ---------------------------------------------------------------- 7. wait for the node
node_state() { sinfo -h -n "$NODE" -o '%T' 2>/dev/null | head -n 1; }
node_ready() {
  case "$(node_state)" in
    idle|mixed|allocated|completing) return 0 ;;
    *) return 1 ;;
  esac
}
t_slurmd=$(date +%s)
end=$(( t_slurmd + TIMEOUT ))
until node_ready; do
  st=$(node_state)
  case "$st" in
    # drained/down left over from an earlier run or a bad shutdown: put it back in service
    *drain*|down*|fail*)
      scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true ;;
  esac
  # slurmd daemonizes and writes its own pid file; after a grace period a missing
  # process means it died (port in use, bad config, ...): fail now, not at the timeout
  if [ $(( $(date +%s) - t_slurmd )) -ge 3 ] && ! pid_alive "$SLURMD_PID" slurmd; then
    die "slurmd is not running (it exited; see its log below)"
  fi
  [ "$(date +%s)" -lt "$end" ] || die "node $NODE not ready after ${TIMEOUT}s (state: '${st:-none}'; $(scontrol show node "$NODE" 2>/dev/null | grep -o 'Reason=.*' || true))"
  sleep 0.2
done
log "node $NODE is $(node_state); cluster ready in $(elapsed)s"
sinfo -N -o '%N %P %T %c %m' >&2
