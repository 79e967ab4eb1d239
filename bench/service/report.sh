#!/usr/bin/env bash
# Writes the service benchmark's report (Markdown) from run.sh's results.tsv.
#
#   report.sh RESULTS.tsv OUT.md key=value...
#
# Keys: started, load_start, load_end, busy_overall, duration, warmup, quick, command, postgresql, wrk, dotnet.
set -euo pipefail

results="$1"
out="$2"
shift 2
declare -A info
for kv in "$@"; do info["${kv%%=*}"]="${kv#*=}"; done

cpus="$(nproc)"
cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
memory="$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)"
load1="${info[load_start]%% *}"

way_name() {
  case "$1" in
    threadpool-inline) echo "ThreadPool inline" ;;
    threadpool-tuned) echo "ThreadPool tuned (SetMinThreads 256)" ;;
    umcg-blocking) echo "Umcg + Blocking()" ;;
    umcg-detector) echo "Umcg, detector only" ;;
    *) echo "$1" ;;
  esac
}

# The worker bound the Umcg runs of SECTION reported (GET /umcg/stats), as the sample's configuration set it, else
# FALLBACK.
umcg_bound() {
  local bound
  bound="$(awk -F'\t' -v s="$1" '$1 == s && $13 ~ /^[0-9]+$/ { print $13; exit }' "$results")"
  echo "${bound:-$2}"
}

# steady_table SECTION: the runs of one section, by concurrency then way.
steady_table() {
  echo "| c | way | req/s | p50 ms | p99 ms | non-2xx | socket errors c/r/w/t | threads (process, max) | umcg* threads (max) | Umcg worker peak / bound | sample / PostgreSQL CPU µs per request | others' CPU |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  while IFS=$'\t' read -r section way pool c rps p50 p99 non2xx socket threads umcg peak bound servers others sample_us pg_us; do
    [[ "$section" == "$1" ]] || continue
    local workers="—" own="—"
    [[ "$peak" != "-" ]] && workers="$peak / $bound"
    [[ "$way" == umcg-* ]] && own="$umcg"
    echo "| $c | $(way_name "$way") | ${rps:-—} | ${p50:-—} | ${p99:-—} | $non2xx | $socket | $threads | $own | $workers | ${sample_us:-—} / ${pg_us:-—} | $others % |"
  done <"$results"
}

steady_rate() { awk -F'\t' -v w="$1" '$1 == "steady" && $2 == w && $4 == 256 { print $5 }' "$results"; }

burst_table() {
  echo "| way | responses in wrk's first second | of them 2xx | first response ms | req/s over 3 s | p99 ms | non-2xx | socket errors c/r/w/t | threads (process, max) | first second ÷ steady c=256 req/s |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  while IFS=$'\t' read -r section way first first_ok first_ms rps p99 non2xx socket threads; do
    [[ "$section" == burst ]] || continue
    local steady ratio="— (no c=256 run)"
    steady="$(steady_rate "$way")"
    [[ -n "$steady" && "$steady" != 0 ]] && ratio="$(awk -v f="$first" -v s="$steady" 'BEGIN { printf "%.2f", f / s }')"
    echo "| $(way_name "$way") | $first | $first_ok | $first_ms | ${rps:-—} | ${p99:-—} | $non2xx | $socket | $threads | $ratio |"
  done <"$results"
}

probe_table() {
  echo "| way | /health req/s | /health p50 ms | /health p99 ms | /health non-2xx | /health socket errors c/r/w/t | /orders req/s meanwhile | /orders p99 ms |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|"
  while IFS=$'\t' read -r section way rps p50 p99 non2xx socket orders_rps orders_p99; do
    [[ "$section" == probe ]] || continue
    echo "| $(way_name "$way") | ${rps:-—} | ${p50:-—} | ${p99:-—} | $non2xx | $socket | ${orders_rps:-—} | ${orders_p99:-—} |"
  done <"$results"
}

# Loaded or quiet by what other processes took during the measured runs (the "others' CPU" column): loaded when they
# took more than 10 % of the CPUs in any steady or capped run. The load average alone cannot tell: PostgreSQL's backends, the benchmark's own, keep it high. Without steady runs (--only burst or
# probe), by the load average.
others_max="$(awk -F'\t' '($1 == "steady" || $1 == "capped") && $15 ~ /^[0-9]+$/ { if ($15 + 0 > m) m = $15 + 0; n++ }
  END { if (n) print m }' "$results")"
status=""
loaded=false
if [[ -n "$others_max" ]]; then
  ((others_max > 10)) && loaded=true
else
  awk -v l="$load1" -v n="$cpus" 'BEGIN { exit !(l + 0 > n / 2) }' && loaded=true
fi
load_said="load average $load1 at the start on $cpus CPUs"
[[ -n "$others_max" ]] && load_said="other processes took up to $others_max % of the CPUs in a measured run; $load_said"
if [[ "${info[quick]}" == true ]] && $loaded; then
  status="**Smoke run on a loaded machine, not the figures.** It shows the benchmark works end to end (\`--quick\`: c = 16 and 64, ${info[duration]} s each); the figures to quote come from a full run on a quiet machine."
elif [[ "${info[quick]}" == true ]]; then
  status="**Smoke run (\`--quick\`), not the figures.** The figures to quote come from a full run."
elif $loaded; then
  status="**Loaded machine** ($load_said): report these beside a quiet machine's, not instead of them."
elif [[ -n "$others_max" ]]; then
  status="**Quiet machine**: $load_said (the load average counts PostgreSQL's backends, the benchmark's own)."
fi

{
  cat <<EOF
# The service benchmark

The Orders sample ([samples/Orders](../samples/Orders/README.md): ASP.NET Core, one PostgreSQL query through Npgsql's
synchronous API that waits 4 ms in the database, then about 300 µs of CPU) under \`wrk\` on 127.0.0.1, four ways, each
run in a fresh process and the ways interleaved (all four at one concurrency, then the next).

${status}

| | |
|---|---|
| machine | $cpu_model, $cpus CPUs, $memory, Linux $(uname -r) |
| software | .NET ${info[dotnet]}, ${info[postgresql]}, ${info[wrk]} |
| date | ${info[started]} |
| load average | ${info[load_start]} at the start, ${info[load_end]} at the end (1, 5, 15 min) |
| CPUs busy over the whole benchmark | ${info[busy_overall]} % (all processes, ours included) |
| durations | ${info[warmup]} s warm-up then ${info[duration]} s measured per run; burst 3 s; probe ${info[duration]} s |
| reproduce | \`${info[command]}\` (as root on Debian; installs \`postgresql\` and \`wrk\` if missing) |

The ways: **ThreadPool inline** (the handler on the request's thread-pool thread, as ASP.NET Core ships), **ThreadPool
tuned** (the same with \`ThreadPool.SetMinThreads(256, 256)\`), **Umcg + Blocking()** (\`RunOnUmcg\`, the query in a
\`Worker.Blocking()\` region; \`Umcg:MaxWorkers\` $(umcg_bound steady "as in samples/Orders/appsettings.json"), $(umcg_bound capped "the pool's size") behind the capped pool, queue 4096, admission waits), **Umcg, detector only** (the same
without the region: the blocking detector notices the worker asleep in the kernel).

## Steady load, Npgsql pool 320 (PostgreSQL \`max_connections\` 400)

$(steady_table steady)

## Steady load, Npgsql pool capped at 32 (\`Maximum Pool Size=32\`)

$(steady_table capped)

## Cold burst: a fresh process, 256 connections at once

$(burst_table)

## Priority probe: \`/health\` at c = 4 while \`/orders\` saturates at c = 256

$(probe_table)

## How each figure is taken

- **req/s, p50, p99**: wrk's (\`-t2 --timeout 2s --latency\`, the customer drawn at random from 5,000 by
  [orders.lua](../bench/service/orders.lua), so each request reads another row set), after a warm-up at the same
  concurrency in the same process. wrk's latencies are those of the requests it sent; a request that timed out
  (2 s) counts as a socket error, not a latency.
- **non-2xx** and **socket errors** (connect / read / write / timeout): wrk's counts.
- **threads (process, max)**: the \`Threads:\` line of \`/proc/<pid>/status\`, sampled every 0.5 s during the measured
  run; the maximum. **umcg\* threads**: the process's threads named \`umcg…\` (servers, workers, the blocking
  detector, the exit watcher, the \`umcg contention\` sampler of \`OsTimeSliceMode.WhenContended\` and the
  scheduler's \`umcg grace alarm\`), sampled the same way. **Umcg worker peak / bound**: the scheduler's own
  \`Stats.PeakWorkerThreads\` since the process started against \`Umcg:MaxWorkers\`, read from the sample's
  \`GET /umcg/stats\` after the run.
- **sample / PostgreSQL CPU µs per request**: the CPU time the sample's process (\`/proc/<pid>/stat\`, all its
  threads) and PostgreSQL (as below) spent during the measured run, over the requests wrk completed in it.
- **others' CPU**: during the measured run, the ticks all CPUs were busy (\`/proc/stat\`) minus the sample's
  (\`/proc/<pid>/stat\`), PostgreSQL's (the postmaster, its live children and those it reaped) and wrk's own
  (\`times\`), as a share of all CPUs' ticks: what the rest of the machine took.
- **burst**: a fresh process, ready when it accepts a TCP connection (no request before the burst: the request
  path, the JIT and the Npgsql pool are cold), then \`wrk -t2 -c256 -d3s\` with [burst.lua](../bench/service/burst.lua),
  which counts in wrk itself each response that arrives within one second of wrk's start (a monotonic clock read as
  wrk loads the script, before any connection opens). That is the client's view, which includes connecting and the
  cold start; the sample's own counters would start later and miss both. Compared with the same way's steady
  c = 256 req/s when the run has one.
- **probe**: after a warm-up, \`/orders\` at c = 256 for ${info[duration]} + 2 s, and one second into it \`/health\` at c = 4
  (\`-t1\`) for ${info[duration]} s. Under Umcg \`/health\` runs at priority 31 and \`/orders\` at 10 (\`PriorityPolicy\`).
- PostgreSQL runs from a temporary directory as the \`postgres\` user, on a Unix socket in that directory (no TCP
  port), \`fsync=off\`; the sample listens on 127.0.0.1 only; everything is stopped when the script ends.
EOF
} >"$out"
