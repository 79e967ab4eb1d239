#!/usr/bin/env bash
# Model-checks the UMCG protocol (umcg.pml) and the scheduler's park word (park.pml) with Spin.
#
# Every check is: spin -a (generate pan.c), gcc (compile the verifier), run pan, read its report. A check
# that must hold passes only with "errors: 0" and a complete search (no depth truncation, no memory bound
# reached, no "search not completed"). A broken twin passes only if pan reports errors >= 1 and writes a
# trail. One line per check; the last line is "model: N passed, N failed"; exit status 1 on any failure.
#
# Usage: model/check.sh [name-filter]     (e.g. model/check.sh broken)
# Environment: MODEL_OUT (where to build and keep trails; default a fresh temporary directory),
#              MODEL_FULL=1 (also the 2 servers x 3 workers run, far past CI's budget),
#              MODEL_MEMLIM (MB per pan run, default 6000), MODEL_TIMEOUT (seconds per check, default 900).
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
out="${MODEL_OUT:-$(mktemp -d -t umcg-model.XXXXXX)}"
memlim="${MODEL_MEMLIM:-6000}"
limit="${MODEL_TIMEOUT:-900}"
filter="${1:-}"

for tool in spin gcc; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "FAIL model: $tool not found (apt-get install -y spin gcc)"
    echo "model: 0 passed, 1 failed"
    exit 1
  fi
done

passed=0
failed=0

# check NAME EXPECT MODEL "SPIN_FLAGS" "GCC_FLAGS" "PAN_FLAGS"
#   EXPECT: hold (errors: 0, complete search) or reject (errors >= 1 and a trail)
check() {
  local name="$1" expect="$2" model="$3" spin_flags="$4" gcc_flags="$5" pan_flags="$6"
  if [ -n "$filter" ] && [[ "$name" != *"$filter"* ]]; then
    return
  fi

  local dir="$out/$name"
  rm -rf "$dir" && mkdir -p "$dir" && cp "$here/$model" "$dir/"
  local log="$dir/pan.out"
  local started=$SECONDS
  # shellcheck disable=SC2086 # the flag strings are word lists on purpose
  if ! (cd "$dir" && spin $spin_flags -a "$model" >spin.out 2>&1); then
    echo "FAIL $name: spin -a failed (see $dir/spin.out)"
    failed=$((failed + 1))
    return
  fi
  # shellcheck disable=SC2086
  if ! (cd "$dir" && gcc -O2 -DMEMLIM="$memlim" $gcc_flags -o pan pan.c >gcc.out 2>&1); then
    echo "FAIL $name: gcc failed (see $dir/gcc.out)"
    failed=$((failed + 1))
    return
  fi
  # shellcheck disable=SC2086
  (cd "$dir" && timeout "$limit" ./pan $pan_flags >pan.out 2>&1)
  local rc=$?
  local secs=$((SECONDS - started))

  local errors states memory depth
  errors=$(sed -n 's/.*errors: \([0-9]*\).*/\1/p' "$log" | tail -n 1)
  states=$(sed -n 's/^ *\([0-9e.+]*\) states, stored.*/\1/p' "$log" | tail -n 1)
  memory=$(sed -n 's/^ *\([0-9.]*\)\s*total actual memory usage.*/\1/p' "$log" | tail -n 1)
  depth=$(sed -n 's/.*depth reached \([0-9]*\).*/\1/p' "$log" | tail -n 1)
  local figures="${states:-?} states, depth ${depth:-?}, ${memory:-?} MB, ${secs} s"

  if [ "$rc" -eq 124 ]; then
    echo "FAIL $name: no verdict within ${limit} s ($figures)"
    failed=$((failed + 1))
    return
  fi
  if [ -z "$errors" ]; then
    echo "FAIL $name: pan printed no 'errors:' line (exit $rc; see $log)"
    failed=$((failed + 1))
    return
  fi

  if [ "$expect" = hold ]; then
    local incomplete=""
    grep -qi "max search depth too small" "$log" && incomplete="max search depth too small"
    grep -qi "search not completed\|search was incomplete" "$log" && incomplete="search not completed"
    grep -qi "out of memory\|reached -DMEMLIM\|memory limit" "$log" && incomplete="memory bound reached"
    if [ "$errors" -ne 0 ]; then
      local why
      why=$(cd "$dir" && spin $spin_flags -t "$model" 2>/dev/null | grep -m 1 -i "violated\|invalid end\|acceptance" || true)
      echo "FAIL $name: errors: $errors ${why:+($why) }($figures; trail in $dir)"
      failed=$((failed + 1))
    elif [ -n "$incomplete" ]; then
      echo "FAIL $name: incomplete search: $incomplete ($figures)"
      failed=$((failed + 1))
    else
      echo "PASS $name: errors: 0, exhaustive ($figures)"
      passed=$((passed + 1))
    fi
  else
    local trail
    trail=$(ls "$dir"/*.trail 2>/dev/null | head -n 1)
    if [ "$errors" -ge 1 ] && [ -n "$trail" ]; then
      local what steps
      what=$(grep -m 1 -o "pan:[0-9]*: .*(at depth [0-9]*)" "$log" || true)
      # An assertion over a macro prints the whole expansion: keep the kind of error and its depth.
      [ "${#what}" -gt 120 ] && what="$(cut -c1-60 <<<"$what") … $(grep -o '(at depth [0-9]*)' <<<"$what")"
      steps=$(wc -l <"$trail")
      echo "PASS $name: rejected as it must be: ${what:-errors: $errors}; trail of $steps steps ($figures)"
      passed=$((passed + 1))
    else
      echo "FAIL $name: the broken variant was not rejected (errors: $errors, trail: ${trail:-none}; $figures)"
      failed=$((failed + 1))
    fi
  fi
}

safety="-DSAFETY -DCOLLAPSE"

# Two servers that steal from each other, two workers that may move between them, every interleaving
# (about 21 M states, 1.1 GB).
check protocol-2x2-steal hold umcg.pml "-DNS=2 -DNW=2 -DOPS=1 -DSTEAL=1" "$safety" "-m200000"
# Two servers x three workers does not fit the CI budget (docs/model.md: billions of states). Run it by hand
# with MODEL_FULL=1 on a machine with the memory and the time (MODEL_MEMLIM, MODEL_TIMEOUT).
if [ "${MODEL_FULL:-0}" = 1 ]; then
  check protocol-2x3-steal hold umcg.pml "-DNS=2 -DNW=3 -DOPS=1 -DSTEAL=1" "$safety" "-m200000"
fi
# Longer scripts on one server: two workers sharing the slot and the list, two operations each.
check protocol-1x2-long hold umcg.pml "-DNS=1 -DNW=2 -DOPS=2 -DMAXPRE=2" "$safety" "-m200000"
# Liveness: a RUNNABLE worker eventually runs, under weak fairness, with scripts that loop for ever.
check liveness-1x2 hold umcg.pml "-DLIVE -DNS=1 -DNW=2" "-DNFAIR=3 -DCOLLAPSE" "-a -f -m200000"

# The direct successor and quiet arrivals (docs/model.md): yields, blocks and finished bodies hand the CPU to the
# run queue's next worker; arrivals that need nobody stay quiet. Ranks 0 and 1, longer scripts (about 12 M states).
check handoff-quiet-1x2-long hold umcg.pml "-DNS=1 -DNW=2 -DOPS=2 -DMAXPRE=2 -DHANDOFF=1 -DQUIET=1 -DMARGIN1" "$safety" "-m200000"
# Three workers on one server, ranks 0, 0 and 1: an arrival racing a switch between two others (Q3). Lean scripts
# (about 14 M states): worker 0 yields or blocks once, the others only register and finish their body.
check handoff-quiet-1x3 hold umcg.pml "-DNS=1 -DNW=3 -DOPS=0 -DOPS0=1 -DMAXPRE=0 -DLEAN -DHANDOFF=1 -DQUIET=1 -DRANKED=4" "$safety" "-m200000"
# The workers' own drains and successor picks against two servers that steal from each other (about 6 M states).
check handoff-2x2-steal hold umcg.pml "-DNS=2 -DNW=2 -DOPS=1 -DSTEAL=1 -DHANDOFF=1" "$safety" "-m200000"
# Liveness with both: every RUNNABLE worker eventually runs (a quiet arrival is not left behind for good).
check liveness-handoff-quiet-1x2 hold umcg.pml "-DLIVE -DNS=1 -DNW=2 -DHANDOFF=1 -DQUIET=1 -DMARGIN1" "-DNFAIR=3 -DCOLLAPSE" "-a -f -m3000000"

# Demotion (-DDEMOTE=1, docs/model.md): a server demotes a worker that overstays its request to give way and runs
# another (K9), adopts it back when its record is empty (K10); a background worker blocks, waits, gives way at its
# safepoint and exits holding no record. Raw switches and a second demotion of the same worker (about 5 M states):
check demote-1x2-raw hold umcg.pml "-DNS=1 -DNW=2 -DOPS=1 -DMAXPRE=2 -DMAXDEM=2 -DDEMOTE_K=2 -DDEMOTE=1" "$safety" "-m200000"
# With the direct successor and quiet arrivals, one demotion (about 3 M states).
check demote-handoff-quiet-1x2 hold umcg.pml "-DNS=1 -DNW=2 -DOPS=1 -DDEMOTE=1 -DHANDOFF=1 -DQUIET=1 -DMARGIN1" "$safety" "-m200000"
# Three workers, at most one in the background (DEMOTE_K=1): the bound bites (about 8 M states).
check demote-bound-1x3 hold umcg.pml "-DNS=1 -DNW=3 -DOPS=0 -DMAXPRE=2 -DMAXDEM=2 -DLEAN -DHANDOFF=1 -DDEMOTE=1" "$safety" "-m200000"
# Two servers that steal, with the successor; scripts of no operation (register, then unregister, exit or finish:
# demotion still meets steals, about 1.6 M states). With one operation each (11 M states) by hand, MODEL_FULL=1.
check demote-handoff-2x2-steal hold umcg.pml "-DNS=2 -DNW=2 -DOPS=0 -DSTEAL=1 -DHANDOFF=1 -DDEMOTE=1" "$safety" "-m200000"
if [ "${MODEL_FULL:-0}" = 1 ]; then
  check demote-handoff-2x2-steal-long hold umcg.pml "-DNS=2 -DNW=2 -DOPS=1 -DSTEAL=1 -DHANDOFF=1 -DDEMOTE=1" "$safety" "-m200000"
fi
# Liveness: worker 0 may spin without a safepoint for ever; every RUNNABLE worker still runs, and a background
# worker is eventually adopted or leaves. Without demotion (DEMOTE_K=0) the spinner starves the other: rejected.
check liveness-demote-1x2 hold umcg.pml "-DLIVE -DNS=1 -DNW=2 -DDEMOTE=1" "-DNFAIR=3 -DCOLLAPSE" "-a -f -m3000000"
# With the direct successor and quiet arrivals too (10 M states, 3.8e7 visited: some 2 minutes; by hand).
if [ "${MODEL_FULL:-0}" = 1 ]; then
  check liveness-demote-handoff-quiet-1x2 hold umcg.pml "-DLIVE -DNS=1 -DNW=2 -DDEMOTE=1 -DHANDOFF=1 -DQUIET=1 -DMARGIN1" "-DNFAIR=3 -DCOLLAPSE" "-a -f -m3000000"
fi
check liveness-demote-off-spinner-starves reject umcg.pml "-DLIVE -DNS=1 -DNW=2 -DDEMOTE=1 -DDEMOTE_K=0" "-DNFAIR=3 -O0" "-a -f -m3000000"

# The broken twins: each must be rejected with a trail. Their searches are short, so their verifiers are built
# without optimisation (-O0 after -O2 wins): compiling pan.c at -O2 costs more than the search.
twin="-DSAFETY -O0"
check broken-slot-before-state reject umcg.pml "-DBROKEN=1 -DNS=1 -DNW=2 -DOPS=1" "$twin" "-m200000"
check broken-no-cond-wait reject umcg.pml "-DBROKEN=2 -DNS=1 -DNW=2 -DOPS=1" "$twin" "-m200000"
check broken-mark-ignored reject umcg.pml "-DBROKEN=3 -DNS=1 -DNW=2 -DOPS=2" "$twin" "-m200000"
check broken-server-reread reject umcg.pml "-DBROKEN=4 -DSTEAL=1 -DNS=2 -DNW=2 -DOPS=1" "$twin" "-m200000"
check broken-successor-before-record reject umcg.pml "-DBROKEN=5 -DHANDOFF=1 -DNS=1 -DNW=2 -DOPS=1" "$twin" "-m200000"
check broken-quiet-empty-record reject umcg.pml "-DBROKEN=6 -DHANDOFF=1 -DQUIET=1 -DNS=1 -DNW=2 -DOPS=1" "$twin" "-m200000"
check broken-no-look-after-switch reject umcg.pml "-DBROKEN=7 -DHANDOFF=1 -DQUIET=1 -DNS=1 -DNW=3 -DOPS=0 -DOPS0=1 -DMAXPRE=0 -DLEAN -DRANKED=4" "$twin" "-m200000"
check broken-successor-rank-reversed reject umcg.pml "-DBROKEN=18 -DHANDOFF=1 -DQUIET=1 -DNS=1 -DNW=3 -DOPS=0 -DOPS0=1 -DMAXPRE=0 -DLEAN -DRANKED=4" "$twin" "-m200000"
check broken-no-look-after-margin reject umcg.pml "-DBROKEN=8 -DHANDOFF=1 -DQUIET=1 -DNS=1 -DNW=2 -DOPS=2 -DRANKED=0" "$twin" "-m200000"
check broken-quiet-value-per-worker reject umcg.pml "-DBROKEN=9 -DHANDOFF=1 -DQUIET=1 -DNS=1 -DNW=2 -DOPS=2" "$twin" "-m200000"
demote="-DDEMOTE=1 -DNS=1 -DNW=2 -DOPS=1"
check broken-demote-record-first reject umcg.pml "-DBROKEN=10 $demote" "$twin" "-m200000"
check broken-demote-adopt-flag-first reject umcg.pml "-DBROKEN=11 $demote" "$twin" "-m200000"
check broken-demote-stored-mark reject umcg.pml "-DBROKEN=12 $demote -DMAXPRE=2 -DMAXDEM=2 -DDEMOTE_K=2" "$twin" "-m200000"
check broken-demote-block-releases reject umcg.pml "-DBROKEN=13 $demote" "$twin" "-m200000"
check broken-demote-drain-unseen reject umcg.pml "-DBROKEN=14 $demote -DHANDOFF=1" "$twin" "-m200000"
check broken-demote-adopt-no-new-turn reject umcg.pml "-DBROKEN=15 $demote -DHANDOFF=1 -DQUIET=1 -DMARGIN1" "$twin" "-m200000"
check broken-demote-adopt-optional reject umcg.pml "-DBROKEN=16 -DLIVE -DDEMOTE=1 -DNS=1 -DNW=2" "-DNFAIR=3 -O0" "-a -f -m3000000"
check broken-demote-bound reject umcg.pml "-DBROKEN=17 -DDEMOTE=1 -DNS=1 -DNW=3 -DOPS=0 -DMAXPRE=2 -DMAXDEM=2 -DLEAN -DHANDOFF=1" "$twin" "-m200000"

# Idle workers queued by another thread (-DIDLE=1, K11): a worker that finished its body offers itself and sleeps;
# a releaser takes the offer and does its unblock without waking it (about 11 M states). The twins: the releaser
# that does not wake the server, and the one that pushes before the state is RUNNABLE: each loses the worker.
idle="-DNS=1 -DNW=2 -DOPS=1 -DHANDOFF=1 -DQUIET=1 -DMARGIN1 -DIDLE=1"
check idle-handoff-quiet-1x2 hold umcg.pml "$idle" "$safety" "-m200000"
# Two servers that steal, the releaser moving the worker to either before its release: more than 117 M states
# (6 GB were not enough); by hand, MODEL_FULL=1 MODEL_MEMLIM=16000.
if [ "${MODEL_FULL:-0}" = 1 ]; then
  check idle-handoff-2x2-steal hold umcg.pml "-DNS=2 -DNW=2 -DOPS=0 -DSTEAL=1 -DHANDOFF=1 -DIDLE=1" "$safety" "-m200000"
fi
check broken-idle-unblock-without-wake reject umcg.pml "-DBROKEN=19 $idle" "$twin" "-m200000"
check broken-idle-push-before-runnable reject umcg.pml "-DBROKEN=20 $idle" "$twin" "-m200000"

# Open servers (-DOPEN=1, K12): a server with nothing to run sleeps open and an arriving worker claims it and runs at
# once, with the successor and quiet arrivals (about 7.5 M states); with idle workers whose releaser may claim for them
# (about 21 M states, 1.1 GB); liveness. The twins: a claim of any slot that names no running worker, not only the
# offer; a block that leaves its server open without looking at its list and run queue afterwards; one that looks at
# them but not at the mirror after its release, while a server awake between its two steps picked and started nobody.
open="-DNS=1 -DNW=2 -DHANDOFF=1 -DQUIET=1 -DMARGIN1 -DOPEN=1"
check open-handoff-quiet-1x2-long hold umcg.pml "$open -DOPS=2 -DMAXPRE=2" "$safety" "-m200000"
check open-idle-1x2 hold umcg.pml "$open -DOPS=1 -DIDLE=1" "$safety" "-m200000"
check liveness-open-1x2 hold umcg.pml "-DLIVE $open" "-DNFAIR=3 -DCOLLAPSE" "-a -f -m3000000"
check broken-open-claims-any reject umcg.pml "-DBROKEN=21 $open -DOPS=1" "$twin" "-m200000"
check broken-open-block-no-look reject umcg.pml "-DBROKEN=22 $open -DOPS=2 -DMAXPRE=2" "$twin" "-m200000"
check broken-open-release-no-mirror-look reject umcg.pml "-DBROKEN=23 $open -DOPS=2 -DMAXPRE=2" "$twin" "-m200000"

if [ -f "$here/park.pml" ]; then
  check park-word hold park.pml "" "$safety" "-m200000"
  check broken-park-word reject park.pml "-DBROKEN=1" "$twin" "-m200000"
fi

echo "model: $passed passed, $failed failed (work in $out)"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
