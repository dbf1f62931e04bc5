#!/usr/bin/env bash
# Runs bin/flotilla chaos over a matrix of workloads and nemeses and prints one table row per
# run (workload, nemesis, seconds, operations, ok/fail/info, verdict, faults). Usage:
#   test-cluster/chaos-matrix.sh [seconds per run, default 20] [output dir, default chaos-runs/matrix]
set -uo pipefail
home="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
secs="${1:-20}"
out="${2:-$home/chaos-runs/matrix}"
mkdir -p "$out"
runs=(
  "register kill-leader" "register kill-random" "register pause" "register partition-leader"
  "register partition-halves" "register kill-majority" "register admin" "register clock"
  "set kill-leader" "set pause" "set partition-halves" "set kill-all" "set admin"
  "counter kill-all" "counter partition-leader" "counter pause"
  "bank kill-random" "bank clock" "bank partition-halves" "bank admin"
  "stale admin" "stale kill-leader" "register kill-leader,pause,partition-leader,admin,clock"
  "register kill-pd-leader" "set partition-bridge" "bank kill-pd-leader,partition-bridge"
)
printf '| workload | nemesis | s | ops | ok | fail | info | verdict | faults |\n|---|---|---|---|---|---|---|---|---|\n'
seed=100
for run in "${runs[@]}"; do
  set -- $run
  seed=$((seed + 1))
  dir="$out/$1-${2//,/+}-$seed"
  "$home/bin/flotilla" chaos --workload "$1" --nemesis "$2" --time "$secs" --seed "$seed" --fault-every 4 \
    --out "$dir" > "$dir.log" 2>&1
  v="$dir/verdict.txt"
  if [ -f "$v" ]; then
    verdict=$(head -1 "$v" | cut -d: -f1)
    read -r ok fail info < <(sed -n 's/^operations: \([0-9]*\) ok, \([0-9]*\) fail, \([0-9]*\) info/\1 \2 \3/p' "$v")
    faults=$(sed -n 's/^faults: //p' "$v" | cut -c1-120)
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$secs" "$((ok + fail + info))" "$ok" "$fail" \
      "$info" "$verdict" "$faults"
  else
    printf '| %s | %s | %s | - | - | - | - | ERROR (see %s.log) | - |\n' "$1" "$2" "$secs" "$dir"
  fi
done
