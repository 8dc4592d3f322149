#!/usr/bin/env bash
# slurm-smoke.sh - check that the local Slurm started by ci/slurm-up.sh really runs jobs,
# before the Python tests rely on it (a failure here points at the cluster, not our code).
# Usage: slurm-smoke.sh [--slow]     (--slow adds the walltime/signal test, ~80-100 s)
# Prints one line per check and ends with "N passed, M failed"; exit 1 if any failed.
# ok/bad always succeed, so "check && ok ... || bad ..." is a safe if-then-else here:
# shellcheck disable=SC2015
set -uo pipefail
SLOW=0; [ "${1:-}" = --slow ] && SLOW=1
PASS=0; FAIL=0
ok()   { PASS=$((PASS+1)); echo "ok   - $*"; }
bad()  { FAIL=$((FAIL+1)); echo "FAIL - $*"; }
W=$(mktemp -d /tmp/slurm-smoke.XXXXXX); cd "$W" || exit 1
trap 'cd / && rm -rf "$W"' EXIT
T0=$(date +%s.%N)
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}'; }

# job_state ID: state from slurmctld memory, else from the jobcomp file (sacct -c)
job_state() {
  local s
  s=$(scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2)
  [ -n "$s" ] || s=$(sacct -c -j "$1" -n -P -o State 2>/dev/null | head -n 1)
  echo "$s"
}
# wait_state ID SECONDS STATE...: wait until the job is in one of STATEs
wait_state() {
  local id=$1 end=$(( $(date +%s) + $2 )) s; shift 2
  while [ "$(date +%s)" -le "$end" ]; do
    s=$(job_state "$id")
    for want in "$@"; do [ "$s" = "$want" ] && return 0; done
    sleep 0.2
  done
  echo "    job $id is '$s', wanted: $*" >&2; return 1
}

NODE=$(sinfo -h -N -o '%N' | head -n 1)
CPUS=$(sinfo -h -N -o '%c' | head -n 1)
[ "$(sinfo -h -N -o '%T' | head -n 1)" = idle ] && ok "sinfo: node $NODE idle, $CPUS CPUs" \
  || bad "sinfo: node not idle: $(sinfo -h -N -o '%T')"

# 1. plain batch job, --parsable, output file
t=$(date +%s.%N)
J=$(sbatch --parsable --wrap 'hostname; sleep 2') && [[ "$J" =~ ^[0-9]+$ ]] \
  && ok "sbatch --parsable -> job id $J" || bad "sbatch --parsable printed '$J'"
wait_state "$J" 30 COMPLETED && ok "job $J COMPLETED ($(since "$t") s from sbatch, includes sleep 2)" \
  || bad "job $J did not complete"
grep -qx "$(hostname -s)" "slurm-$J.out" 2>/dev/null && ok "slurm-$J.out contains the host name" \
  || bad "slurm-$J.out missing or wrong: $(cat "slurm-$J.out" 2>&1)"

# 2. failing job -> FAILED with exit code
J=$(sbatch --parsable -o /dev/null --wrap 'exit 3')
wait_state "$J" 30 FAILED && [ "$(sacct -c -j "$J" -n -P -o ExitCode | head -n 1)" = 3:0 ] \
  && ok "exit 3 -> FAILED, sacct -c ExitCode 3:0" || bad "failing job $J: $(job_state "$J")"

# 3. more jobs than CPUs: CPUS run, the rest pend; squeue -u root; scancel
IDS=()
for i in $(seq 0 "$CPUS"); do IDS+=("$(sbatch --parsable -J "hold$i" -o /dev/null --wrap 'sleep 60')"); done
sleep 2.5
R=$(squeue -h -u root -t R -o %i | wc -l); P=$(squeue -h -u root -t PD -o %i | wc -l)
[ "$R" -eq "$CPUS" ] && [ "$P" -eq 1 ] && ok "squeue -u root: $R running, $P pending ($(squeue -h -u root -t PD -o %r))" \
  || bad "expected $CPUS running + 1 pending, got $R running + $P pending"
scancel "${IDS[@]}"
wait_state "${IDS[0]}" 20 CANCELLED && wait_state "${IDS[$CPUS]}" 20 CANCELLED \
  && ok "scancel: running and pending jobs CANCELLED" || bad "scancel did not cancel"
for i in $(seq 1 50); do [ -z "$(squeue -h -u root)" ] && break; sleep 0.2; done
[ -z "$(squeue -h -u root)" ] && ok "queue empty after scancel" || bad "queue not empty: $(squeue -h -u root)"

# 4. job array
# shellcheck disable=SC2016  # $SLURM_ARRAY_TASK_ID is for the job's shell
A=$(sbatch --parsable --array=0-3 -o 'arr_%A_%a.out' --wrap 'echo task=$SLURM_ARRAY_TASK_ID')
for i in $(seq 1 100); do [ "$(cat arr_"${A}"_*.out 2>/dev/null | wc -l)" -eq 4 ] && [ -z "$(squeue -h -j "$A" 2>/dev/null)" ] && break; sleep 0.2; done
[ "$(cat arr_"${A}"_*.out 2>/dev/null | sort | tr '\n' ' ')" = "task=0 task=1 task=2 task=3 " ] \
  && ok "job array $A: 4 tasks ran" || bad "job array $A output: $(cat arr_"${A}"_* 2>&1)"

# 5. sacct: plain sacct needs slurmdbd (not configured); sacct -c reads the jobcomp file
sacct -n -j 1 >/dev/null 2>&1 && bad "plain sacct unexpectedly works (accounting is off)" \
  || ok "plain sacct refuses (accounting storage disabled), as expected"
[ -n "$(sacct -c -n -P -o JobID,State 2>/dev/null | head -n 1)" ] && ok "sacct -c reads job history from the jobcomp file" \
  || bad "sacct -c printed nothing"

# 6. walltime + pre-termination signal (slow: Slurm checks limits every ~30 s, minimum --time is 1 min)
if [ "$SLOW" = 1 ]; then
  cat > sig.sh <<'EOF'
#!/bin/bash
trap 'echo "$(date +%s) USR1"' USR1
trap 'echo "$(date +%s) TERM"' TERM
echo "$(date +%s) start"
while true; do sleep 1; done
EOF
  t=$(date +%s.%N)
  J=$(sbatch --parsable --time=1 --signal=B:USR1@30 -o sig.out sig.sh)
  wait_state "$J" 150 TIMEOUT && ok "--time=1: job $J TIMEOUT after $(since "$t") s" || bad "job $J not TIMEOUT"
  grep -q USR1 sig.out && ok "--signal=B:USR1@30 delivered: $(tr '\n' ' ' < sig.out | cut -c1-120)" \
    || bad "no USR1 in sig.out: $(cat sig.out)"
  grep -q TERM sig.out && ok "SIGTERM delivered at the time limit" || bad "no TERM in sig.out"
fi

echo "# total $(since "$T0") s"
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
