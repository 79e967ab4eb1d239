#!/usr/bin/env bash
# The service benchmark: the Orders sample (samples/Orders) against a PostgreSQL of its own, loaded with wrk on
# 127.0.0.1, each way in a fresh process, the ways interleaved. Writes docs/service.md.
#
#   bench/service/run.sh [--seconds N] [--warmup N] [--quick] [--only PARTS] [--out FILE] [--keep]
#
#   --seconds N  measured seconds per run (default 20)
#   --warmup N   seconds of load before each measured run (default 5); a process that saturates both CPUs may still be
#                running instrumented (tier-0 PGO) code after 5 s on a slow host: docs/service.md says when it matters
#   --quick      a smoke run: c = 16 and 64 only, 3 s measured after a 2 s warm-up (not figures to quote)
#   --out FILE   where the report goes (default docs/service.md in the repository)
#   --keep       keep the working directory (wrk outputs, the sample's logs, PostgreSQL's log) and say where
#   --only PARTS a comma-separated subset of steady, capped, burst, probe (default: all four); the report's other
#                tables are then empty. For A/B runs of one part (e.g. the probe against an older build's run.sh).
#
# What it measures, per way (ThreadPool inline, ThreadPool tuned, Umcg + Blocking(), Umcg detector only):
#   - c = 16, 64, 256 (quick: 16, 64) with the Npgsql pool at 320, then the same with the pool capped at 32 (and
#     Umcg's worker bound set to 32 with it, unless Umcg__MaxWorkers is set):
#     req/s, p50, p99, errors (non-2xx and socket errors), the process's live threads (max of /proc samples),
#     the threads named umcg* (servers, workers, detector; max of /proc samples) and the scheduler's own peak of
#     worker threads against its bound (GET /umcg/stats), and the others' CPU share during the run;
#   - a cold burst: a fresh process, wrk at c = 256 for 3 s, responses counted within the first second of wrk's
#     start by wrk itself (burst.lua);
#   - a priority probe: GET /health at c = 4 while GET /orders saturates at c = 256.
#
# Needs root to install what is missing (Debian: postgresql, wrk) and to run PostgreSQL as the postgres user.
# Listens only on 127.0.0.1 (the sample) and on a Unix socket in its own directory (PostgreSQL); stops all it
# started on exit.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

duration=20
warmup=5
quick=false
keep=false
only=steady,capped,burst,probe
out="$repo/docs/service.md"
while (($#)); do
  case "$1" in
    --seconds) duration="${2:?--seconds needs a number}"; shift 2 ;;
    --seconds=*) duration="${1#*=}"; shift ;;
    --warmup) warmup="${2:?--warmup needs a number}"; shift 2 ;;
    --warmup=*) warmup="${1#*=}"; shift ;;
    --quick) quick=true; shift ;;
    --out) out="${2:?--out needs a file}"; shift 2 ;;
    --out=*) out="${1#*=}"; shift ;;
    --keep) keep=true; shift ;;
    --only) only="${2:?--only needs a list}"; shift 2 ;;
    --only=*) only="${1#*=}"; shift ;;
    -h|--help) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$duration" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --seconds wants a positive whole number, not '$duration'" >&2; exit 2; }
[[ "$warmup" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: --warmup wants a positive whole number, not '$warmup'" >&2; exit 2; }
for part in ${only//,/ }; do
  [[ "$part" =~ ^(steady|capped|burst|probe)$ ]] || { echo "run.sh: --only takes steady, capped, burst, probe, not '$part'" >&2; exit 2; }
done
wants() { [[ ",$only," == *",$1,"* ]]; }

concurrencies=(16 64 256)
if $quick; then
  concurrencies=(16 64)
  duration=3
  warmup=2
fi
readonly burst_connections=256 burst_seconds=3 probe_connections=4 saturating_connections=256
readonly pool_uncapped=320 pool_capped=32

# The ways: a label, Orders:Mode, Orders:Blocking.
ways=("threadpool-inline Inline true" "threadpool-tuned Tuned true" "umcg-blocking Umcg true" "umcg-detector Umcg false")

log() { printf '[%(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------------------------

apt_install() {
  [[ $(id -u) -eq 0 ]] || die "missing $*; install it (Debian: apt-get install -y $*) or run as root"
  log "installing $*"
  apt-get install -y "$@" >/dev/null || { apt-get update >/dev/null && apt-get install -y "$@" >/dev/null; }
}

pg_bin() {
  local newest
  newest="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -n | tail -1)"
  if [[ -n "$newest" && -x "$newest/initdb" ]]; then echo "$newest"; return; fi
  command -v initdb >/dev/null && dirname "$(command -v initdb)"
}

command -v wrk >/dev/null || apt_install wrk
[[ -n "$(pg_bin)" ]] || apt_install postgresql
command -v curl >/dev/null || apt_install curl
command -v dotnet >/dev/null || die "dotnet is not on PATH"
pgbin="$(pg_bin)"
[[ -n "$pgbin" ]] || die "PostgreSQL's initdb was not found after installing postgresql"

# ---------------------------------------------------------------------------------------------------------------
# What runs, and stopping it all on exit
# ---------------------------------------------------------------------------------------------------------------

work="$(mktemp -d /tmp/umcg-svcbench.XXXXXX)"
pgdir="$(mktemp -d /tmp/umcg-svcbench-pg.XXXXXX)"
pgport=5432 # names the socket file only: PostgreSQL listens on no TCP address here
as_postgres=()
if [[ $(id -u) -eq 0 ]]; then
  chown postgres:postgres "$pgdir"
  as_postgres=(runuser -u postgres --)
fi
sample_pid=""
sampler_pid=""
background_pids=()
pg_started=false

stop_sample() {
  [[ -n "$sample_pid" ]] || return 0
  kill -TERM "$sample_pid" 2>/dev/null || true
  local i
  for ((i = 0; i < 300; i++)); do kill -0 "$sample_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$sample_pid" 2>/dev/null || true
  wait "$sample_pid" 2>/dev/null || true
  sample_pid=""
}

stop_sampler() {
  [[ -n "$sampler_pid" ]] || return 0
  kill "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" 2>/dev/null || true
  sampler_pid=""
}

cleanup() {
  local status=$?
  set +e
  stop_sampler
  for pid in "${background_pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  stop_sample
  if $pg_started; then
    (cd / && "${as_postgres[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -m fast -w -t 60 stop >/dev/null 2>&1 ||
      "${as_postgres[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -m immediate -w stop >/dev/null 2>&1)
  fi
  if $keep; then
    cp -f "$pgdir/server.log" "$work/postgresql.log" 2>/dev/null
    log "kept the working directory: $work"
  else
    rm -rf "$work"
  fi
  rm -rf "$pgdir"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL and the sample
# ---------------------------------------------------------------------------------------------------------------

log "PostgreSQL ($pgbin) in $pgdir"
(cd / && "${as_postgres[@]}" "$pgbin/initdb" -D "$pgdir/data" -U postgres -A trust -E UTF8 --no-sync >"$work/initdb.log" 2>&1) ||
  die "initdb failed: $(tail -5 "$work/initdb.log")"
(cd / && "${as_postgres[@]}" "$pgbin/pg_ctl" -D "$pgdir/data" -l "$pgdir/server.log" -w -t 120 \
  -o "-p $pgport -k $pgdir -c listen_addresses='' -c fsync=off -c max_connections=400" start >"$work/pg_ctl.log" 2>&1) ||
  die "PostgreSQL did not start: $(tail -5 "$pgdir/server.log" 2>/dev/null)"
pg_started=true
postmaster_pid="$(head -1 "$pgdir/data/postmaster.pid")"

log "publishing samples/Orders (Release)"
dotnet publish "$repo/samples/Orders/Orders.csproj" -c Release -o "$work/orders" --nologo -v q >"$work/publish.log" 2>&1 ||
  die "publishing the sample failed: $(tail -20 "$work/publish.log")"

connection_string() { echo "Host=$pgdir;Port=$pgport;Username=postgres;Database=postgres;Maximum Pool Size=$1"; }

tcp_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port nobody listens on, below the ephemeral range (where wrk's and others' outgoing connections take theirs).
free_port() {
  local port low
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range
  while :; do
    port=$((10000 + RANDOM % (low - 10000)))
    tcp_open "$port" || { echo "$port"; return; }
  done
}

# start_sample LOG MODE BLOCKING POOL: a fresh process of the sample, listening when this returns (a bare TCP
# connect, no request: the burst needs the request path cold). Sets sample_pid and port.
# Tries another port when the one chosen was taken between the check and the bind.
start_sample() {
  local logfile="$1" mode="$2" blocking="$3" pool="$4" i attempt
  # Behind the capped pool the worker bound is the pool's size, as docs/aspnetcore.md ("Sizing the bounds") tells a
  # user to set it: more workers than connections only move the queue into the pool. Umcg__MaxWorkers overrides.
  local bound=()
  [[ "$pool" == "$pool_capped" && -z "${Umcg__MaxWorkers:-}" ]] && bound=(--Umcg:MaxWorkers="$pool")
  for ((attempt = 1; attempt <= 5; attempt++)); do
    port="$(free_port)"
    (cd "$work/orders" && exec dotnet Orders.dll --urls "http://127.0.0.1:$port" --Orders:Mode="$mode" \
      --Orders:Blocking="$blocking" --ConnectionStrings:Orders="$(connection_string "$pool")" "${bound[@]}") >"$logfile" 2>&1 &
    sample_pid=$!
    for ((i = 0; i < 1200; i++)); do
      tcp_open "$port" && return 0
      kill -0 "$sample_pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$sample_pid" 2>/dev/null; then
      die "the sample did not listen on 127.0.0.1:$port within 120 s: $(tail -20 "$logfile")"
    fi
    wait "$sample_pid" 2>/dev/null || true
    sample_pid=""
    grep -q "address already in use" "$logfile" || die "the sample exited at start: $(tail -20 "$logfile")"
    log "port $port was taken meanwhile; another"
  done
  die "no free port on 127.0.0.1 after 5 tries"
}

# ---------------------------------------------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------------------------------------------

# The CPU time (clock ticks) of a process, its threads included.
proc_ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# PostgreSQL's CPU (clock ticks): the postmaster and its live children, and the children it has reaped.
pg_ticks() {
  local total pid
  total="$(awk '{ sub(/.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$postmaster_pid/stat")"
  for pid in $(ps -o pid= --ppid "$postmaster_pid"); do total=$((total + $(proc_ticks "$pid"))); done
  echo "$total"
}

# All CPUs' ticks since boot: "total busy".
stat_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print t, t - $5 - $6; exit }' /proc/stat; }

# cpu_snapshot: "total busy sample postgres" now.
cpu_snapshot() { echo "$(stat_ticks) $(proc_ticks "$sample_pid") $(pg_ticks)"; }

# start_sampler FILE: every 0.5 s, the sample's live threads and those named umcg*, as "threads umcg" lines.
start_sampler() {
  local file="$1" pid="$sample_pid"
  (
    while kill -0 "$pid" 2>/dev/null; do
      threads="$(awk '/^Threads:/ { print $2 }' "/proc/$pid/status" 2>/dev/null)"
      umcg="$(cat "/proc/$pid/task/"*/comm 2>/dev/null | grep -c '^umcg' || true)"
      echo "${threads:-0} ${umcg:-0}"
      sleep 0.5
    done
  ) >"$file" 2>/dev/null &
  sampler_pid=$!
}

# run_wrk OUT ARGS...: wrk, with its own CPU time (the subshell's children's, from `times`) in OUT.times.
run_wrk() {
  local outfile="$1"
  shift
  (
    wrk "$@" || echo "wrk_failed $?"
    # Not in a pipeline: a pipeline's element is a new process, whose children have no time yet.
    times >"$outfile.times"
  ) >"$outfile" 2>&1
}

# Latency as wrk prints it ("812.00us", "4.31ms", "1.20s") in milliseconds.
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /ms$/) n += 0; else if (v ~ /s$/) n *= 1000; else if (v ~ /m$/) n *= 60000; printf "%.1f", n }'; }

# wrk_field OUT NAME: one figure of a wrk output.
wrk_field() {
  local f="$1"
  case "$2" in
    rps) awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$f" ;;
    p50) to_ms "$(awk '$1 == "50%" { print $2 }' "$f")" ;;
    p99) to_ms "$(awk '$1 == "99%" { print $2 }' "$f")" ;;
    non2xx) awk '/Non-2xx or 3xx responses:/ { n = $NF } END { print n + 0 }' "$f" ;;
    socket) awk '/Socket errors:/ { gsub(/,/, ""); printf "%d/%d/%d/%d", $4, $6, $8, $10; found = 1 } END { if (!found) print "0/0/0/0" }' "$f" ;;
    requests) awk '/requests in/ { print $1 }' "$f" ;;
    cpu) awk 'NR == 2 { split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.3f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' "$f.times" ;;
  esac
}

umcg_stat() { grep -o "\"$2\":[0-9a-z]*" "$1" 2>/dev/null | cut -d: -f2 || true; }

results="$work/results.tsv"
: >"$results"
ticks_per_s="$(getconf CLK_TCK)"

# measure SECTION WAY MODE BLOCKING POOL C: one run in a fresh process; appends a line to results.tsv.
measure() {
  local section="$1" way="$2" mode="$3" blocking="$4" pool="$5" c="$6"
  local base="$work/$section-$way-pool$pool-c$c"
  log "$section: $way, pool $pool, c=$c"
  start_sample "$base.sample.log" "$mode" "$blocking" "$pool"
  run_wrk "$base.warmup.txt" -t2 -c"$c" -d"${warmup}s" --timeout 2s -s "$here/orders.lua" "http://127.0.0.1:$port"
  start_sampler "$base.threads.txt"
  local before after
  before="$(cpu_snapshot)"
  run_wrk "$base.wrk.txt" -t2 -c"$c" -d"${duration}s" --timeout 2s --latency -s "$here/orders.lua" "http://127.0.0.1:$port"
  after="$(cpu_snapshot)"
  stop_sampler
  if [[ "$mode" == Umcg ]]; then curl -fsS "http://127.0.0.1:$port/umcg/stats" >"$base.umcg.json" 2>&1 || true; fi
  stop_sample
  record "$section" "$way" "$pool" "$c" "$base" "$before" "$after"
}

# record SECTION WAY POOL C BASE BEFORE AFTER: the figures of one run as a results.tsv line.
record() {
  local section="$1" way="$2" pool="$3" c="$4" base="$5" before="$6" after="$7"
  local others cost threads umcg_threads peak bound servers
  others="$(awk -v b="$before" -v a="$after" -v wrk="$(wrk_field "$base.wrk.txt" cpu)" -v hz="$ticks_per_s" 'BEGIN {
      split(b, x, " "); split(a, y, " ")
      total = y[1] - x[1]; busy = y[2] - x[2]; ours = (y[3] - x[3]) + (y[4] - x[4]) + wrk * hz
      o = busy - ours; if (o < 0) o = 0
      printf "%.0f", (total > 0 ? 100 * o / total : 0) }')"
  # CPU per request, µs: the sample's and PostgreSQL's ticks over the requests wrk counted in the measured run.
  cost="$(awk -v b="$before" -v a="$after" -v rps="$(wrk_field "$base.wrk.txt" rps)" -v s="$duration" -v hz="$ticks_per_s" 'BEGIN {
      split(b, x, " "); split(a, y, " "); n = rps * s
      if (n > 0) printf "%.0f\t%.0f", 1e6 * (y[3] - x[3]) / hz / n, 1e6 * (y[4] - x[4]) / hz / n; else printf "-\t-" }')"
  threads="$(awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { print m }' "$base.threads.txt")"
  umcg_threads="$(awk 'BEGIN { m = 0 } $2 > m { m = $2 } END { print m }' "$base.threads.txt")"
  peak="$(umcg_stat "$base.umcg.json" peakWorkerThreads)"
  bound="$(umcg_stat "$base.umcg.json" maxWorkers)"
  servers="$(umcg_stat "$base.umcg.json" servers)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$section" "$way" "$pool" "$c" \
    "$(wrk_field "$base.wrk.txt" rps)" "$(wrk_field "$base.wrk.txt" p50)" "$(wrk_field "$base.wrk.txt" p99)" \
    "$(wrk_field "$base.wrk.txt" non2xx)" "$(wrk_field "$base.wrk.txt" socket)" "$threads" "$umcg_threads" \
    "${peak:--}" "${bound:--}" "${servers:--}" "$others" "$cost" >>"$results"
}

# burst WAY MODE BLOCKING: a cold process hit by 256 connections; responses within wrk's first second.
burst() {
  local way="$1" mode="$2" blocking="$3"
  local base="$work/burst-$way"
  log "burst: $way, c=$burst_connections for ${burst_seconds}s"
  start_sample "$base.sample.log" "$mode" "$blocking" "$pool_uncapped"
  start_sampler "$base.threads.txt"
  run_wrk "$base.wrk.txt" -t2 -c"$burst_connections" -d"${burst_seconds}s" --timeout 2s --latency -s "$here/burst.lua" "http://127.0.0.1:$port"
  stop_sampler
  stop_sample
  printf 'burst\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$way" \
    "$(awk '/^first_second_completions/ { print $2 }' "$base.wrk.txt")" "$(awk '/^first_second_2xx/ { print $2 }' "$base.wrk.txt")" \
    "$(awk '/^first_response_s/ { printf "%.0f", $2 * 1000 }' "$base.wrk.txt")" \
    "$(wrk_field "$base.wrk.txt" rps)" "$(wrk_field "$base.wrk.txt" p99)" "$(wrk_field "$base.wrk.txt" non2xx)" \
    "$(wrk_field "$base.wrk.txt" socket)" "$(awk 'BEGIN { m = 0 } $1 > m { m = $1 } END { print m }' "$base.threads.txt")" >>"$results"
}

# probe WAY MODE BLOCKING: /health at c=4 while /orders runs at c=256 (warmed up first).
probe() {
  local way="$1" mode="$2" blocking="$3"
  local base="$work/probe-$way"
  log "probe: $way, /health c=$probe_connections under /orders c=$saturating_connections"
  start_sample "$base.sample.log" "$mode" "$blocking" "$pool_uncapped"
  run_wrk "$base.warmup.txt" -t2 -c"$saturating_connections" -d"${warmup}s" --timeout 2s -s "$here/orders.lua" "http://127.0.0.1:$port"
  # The saturating load starts first and ends last, so the probe sees it all along.
  run_wrk "$base.orders.txt" -t2 -c"$saturating_connections" -d"$((duration + 2))s" --timeout 2s --latency -s "$here/orders.lua" "http://127.0.0.1:$port" &
  background_pids+=($!)
  sleep 1 # only the load's head start, not synchronisation: the probe's figures hold for any overlap
  run_wrk "$base.health.txt" -t1 -c"$probe_connections" -d"${duration}s" --timeout 2s --latency "http://127.0.0.1:$port/health"
  wait "${background_pids[-1]}" || true
  unset 'background_pids[-1]'
  stop_sample
  printf 'probe\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$way" \
    "$(wrk_field "$base.health.txt" rps)" "$(wrk_field "$base.health.txt" p50)" "$(wrk_field "$base.health.txt" p99)" \
    "$(wrk_field "$base.health.txt" non2xx)" "$(wrk_field "$base.health.txt" socket)" \
    "$(wrk_field "$base.orders.txt" rps)" "$(wrk_field "$base.orders.txt" p99)" >>"$results"
}

# ---------------------------------------------------------------------------------------------------------------
# The runs
# ---------------------------------------------------------------------------------------------------------------

read -r load1 load5 load15 _ </proc/loadavg
started_at="$(date -u '+%Y-%m-%d %H:%M UTC')"
start_stat="$(stat_ticks)"

log "seeding the orders table"
start_sample "$work/seed.sample.log" Inline true "$pool_uncapped"
stop_sample

for pool in "$pool_uncapped" "$pool_capped"; do
  section=steady
  [[ "$pool" == "$pool_capped" ]] && section=capped
  wants "$section" || continue
  for c in "${concurrencies[@]}"; do
    for way in "${ways[@]}"; do
      read -r label mode blocking <<<"$way"
      measure "$section" "$label" "$mode" "$blocking" "$pool" "$c"
    done
  done
done
for way in "${ways[@]}"; do
  wants burst || break
  read -r label mode blocking <<<"$way"
  burst "$label" "$mode" "$blocking"
done
for way in "${ways[@]}"; do
  wants probe || break
  read -r label mode blocking <<<"$way"
  probe "$label" "$mode" "$blocking"
done

end_stat="$(stat_ticks)"
overall_others="$(awk -v b="$start_stat" -v a="$end_stat" 'BEGIN { split(b, x, " "); split(a, y, " "); printf "%.0f", 100 * (y[2] - x[2]) / (y[1] - x[1]) }')"
read -r end1 end5 end15 _ </proc/loadavg

# ---------------------------------------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------------------------------------

log "writing $out"
args=()
$quick && args+=(--quick)
[[ "$only" != steady,capped,burst,probe ]] && args+=(--only "$only")
[[ "$duration" != 20 ]] && ! $quick && args+=(--seconds "$duration")
[[ "$warmup" != 5 ]] && ! $quick && args+=(--warmup "$warmup")
"$here/report.sh" "$results" "$out" \
  "started=$started_at" "load_start=$load1 $load5 $load15" "load_end=$end1 $end5 $end15" \
  "busy_overall=$overall_others" "duration=$duration" "warmup=$warmup" "quick=$quick" \
  "command=bench/service/run.sh${args[*]:+ ${args[*]}}" \
  "postgresql=$("$pgbin/postgres" --version)" "wrk=$(wrk -v 2>&1 | awk 'NR == 1 { print $1, $2 }')" "dotnet=$(dotnet --version)"
log "done: $out"
