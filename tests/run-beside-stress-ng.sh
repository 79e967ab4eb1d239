#!/usr/bin/env bash
# The robustness check: the whole suite N times in a row beside `stress-ng --cpu 4`, then once pinned to one CPU
# (`taskset -c 0`). Prints one line per run and, for a failed run, each failed test with its message.
#   tests/run-beside-stress-ng.sh [runs=3]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
command -v stress-ng >/dev/null || apt-get install -y stress-ng >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y stress-ng >/dev/null; }
dotnet build Umcg.sln -c Release >/dev/null || { echo "build failed"; exit 1; }
out=$(mktemp -d)
echo "commit $(git rev-parse --short HEAD), results in $out"

run() { # name, command prefix...
  local name=$1; shift
  local start=$SECONDS
  "$@" dotnet test Umcg.sln -c Release --no-build --logger "trx;LogFilePrefix=r" --results-directory "$out/$name" >"$out/$name.log" 2>&1
  local totals
  totals=$(grep -ho '<Counters [^>]*>' "$out/$name"/*.trx | sed -n 's/.* passed="\([0-9]*\)".* failed="\([0-9]*\)".*/\1 \2/p' |
    awk '{p+=$1; f+=$2} END {print p" passed, "f" failed"}')
  echo "$name: $totals, $(( (SECONDS-start)/60 ))m$(( (SECONDS-start)%60 ))s, load $(cut -d' ' -f1-3 /proc/loadavg)"
  for trx in "$out/$name"/*.trx; do awk -f .ci/failures.awk "$trx"; done
}

stress-ng --cpu 4 --timeout 0 >/dev/null 2>&1 &
hog=$!
trap 'kill $hog 2>/dev/null' EXIT
for i in $(seq 1 "$runs"); do run "beside-stress-ng-$i"; done
kill $hog; wait $hog 2>/dev/null
run "taskset-c0" taskset -c 0
