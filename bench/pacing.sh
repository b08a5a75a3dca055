#!/usr/bin/env bash
# The pacing benchmark of gmsim's live run: a profile that keeps every stream in backlog
# (so each one sends exactly every min_gap), sent to a private nginx on 127.0.0.1, under
# /usr/bin/time. bench/pacing_report.py then checks the recording and nginx's log:
# gaps per stream never under min_gap, p99 of actual minus intended send time, CPU, RSS,
# and the requests nginx counted. A benchmark, not a test: never registered with ctest.
#
# Exit: 0 every target met; 1 a target missed; 2 bad usage or the setup failed.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/pacing.sh [options]
  --gmsim PATH          the binary (default: build-rel/gmsim in the repository)
  --deployments N       deployments of 3 streams each (default 334: 1,002 streams)
  --workers "1 2"       the --workers values to run, one run each (default "1 2")
  --repeat N            runs per --workers value (default 1)
  --duration S          seconds of traffic (default 60)
  --batch-rows N        rows per page (default 20)
  --max-delay S         seconds between a stream's flush ticks (default 5)
  --overload X          rows generated per row the pacing can send (default 1.1; must be
                        more than 1, so that every tick cuts more pages than fit before the next)
  --rate R              sessions per second, instead of what --overload computes: a rate
                        below it measures streams that are not in backlog (memory, CPU)
  --nginx-workers N|auto  nginx worker_processes (default 1)
  --max-late-ms X       target: p99 of the sender's lateness (default 2)
  --late-measure M      what --max-late-ms bounds: "allowed" (the default: sent_us - the
                        earliest start the rules allowed: t_ms, the previous start +
                        min_gap, the previous answer; the summary's start_delay_ms) or
                        "intended" (sent_us - t_ms: the summary's send_delay_ms). Under
                        backlog the second adds up along a stream; the first is per request.
  --max-rss-mib N       target: max RSS of gmsim (default: none)
  --json FILE           also write every figure as JSON
  --keep                keep the temporary directory (recordings, logs) and say where
  --pin                 nginx on the last CPU, gmsim on the others (taskset): on one machine
                        the receiver otherwise preempts the sender on its core, which a
                        receiver on its own machine never does
  --wrap "CMD"          run gmsim under CMD, e.g. "perf record -g -o /tmp/perf.data"
                        (its CPU and RSS then count in the figures)
  --no-record           run gmsim without --record: its CPU is then the sending alone, as
                        wrk's is (the recording writes and merges every body: a quarter of
                        the CPU at 1,002 streams). The lateness comes from the summary's
                        start_delay_ms; the gaps per stream, which only the recording
                        shows, are not checked
  --metrics             each run twice, interleaved: as given, then with --metrics-listen and
                        a scraper reading /metrics every second (Prometheus scrapes every 15 s
                        by default: this is 15 times harsher); prints gmsim's CPU with the
                        endpoint against without it (issue 21's target: under 5% more)
  --no-baseline         skip the baseline. By default, after the gmsim runs, wrk -t1 with one
                        connection per stream posts a body of the first run's median size to
                        the same nginx, as fast as it can, for min(--duration, 10) s: the
                        requests/s this machine and receiver carry at all, against the
                        streams x 1000 / min_gap that the cadence needs
EOF
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/nginx_common.sh
source "$root/bench/nginx_common.sh"
gmsim="$root/build-rel/gmsim"
deployments=334
workers_list="1 2"
repeat=1
duration_s=60
batch_rows=20
max_delay_s=5
min_gap_ms=200 # GMetri's; the profile's default
overload=1.1
rate=""
nginx_workers=1
max_late_ms=2
late_measure=allowed
max_rss_mib=""
json_out=""
keep=0
wrap=""
pin=0
baseline=1
record=1
metrics=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --gmsim) gmsim=$2; shift 2 ;;
    --deployments) deployments=$2; shift 2 ;;
    --workers) workers_list=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --duration) duration_s=$2; shift 2 ;;
    --batch-rows) batch_rows=$2; shift 2 ;;
    --max-delay) max_delay_s=$2; shift 2 ;;
    --overload) overload=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --nginx-workers) nginx_workers=$2; shift 2 ;;
    --max-late-ms) max_late_ms=$2; shift 2 ;;
    --late-measure) late_measure=$2; shift 2 ;;
    --max-rss-mib) max_rss_mib=$2; shift 2 ;;
    --json) json_out=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --wrap) wrap=$2; shift 2 ;;
    --pin) pin=1; shift ;;
    --no-baseline) baseline=0; shift ;;
    --no-record) record=0; shift ;;
    --metrics) metrics=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "pacing.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

fail_setup() {
  echo "pacing.sh: $*" >&2
  exit 2
}
[[ -x "$gmsim" ]] || fail_setup "no gmsim binary at $gmsim (build: cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DGMSIM_BUILD_TESTS=OFF && ninja -C build-rel gmsim)"
nginx_check || fail_setup "no nginx"
[[ -x /usr/bin/time ]] || fail_setup "no /usr/bin/time (apt-get install time)"
[[ $baseline -eq 0 ]] || command -v wrk >/dev/null || fail_setup "no wrk (apt-get install wrk), or pass --no-baseline"
command -v python3 >/dev/null || fail_setup "no python3"
for n in "$deployments" "$repeat" "$duration_s" "$batch_rows" "$max_delay_s"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || fail_setup "'$n' is not a positive integer"
done
python3 -c "import sys; sys.exit(0 if float('$overload') > 1 else 1)" 2>/dev/null ||
  fail_setup "--overload must be a number above 1"

read -r -a wrap_cmd <<<"$wrap"
cpus=$(nproc)
if [[ $pin -eq 1 ]]; then
  command -v taskset >/dev/null || fail_setup "--pin needs taskset (util-linux)"
  [[ $cpus -ge 2 ]] || fail_setup "--pin needs 2 CPUs or more"
  wrap_cmd=(taskset -c "0-$((cpus - 2))" "${wrap_cmd[@]}")
fi
streams=$((deployments * 3))
# Every stream must always have a page waiting: a stream sends 1000/min_gap pages a
# second, batch_rows rows each, and every session gives each stream one row.
[[ -n "$rate" ]] || rate=$(python3 -c "print(round($overload * $deployments * $batch_rows * 1000 / $min_gap_ms, 3))")
python3 -c "import sys; sys.exit(0 if float('$rate') > 0 else 1)" 2>/dev/null ||
  fail_setup "--rate must be a number above 0"

tmp=$(mktemp -d /tmp/gmsim-pacing.XXXXXX)
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  nginx_stop
  if [[ $keep -eq 1 ]]; then
    echo "pacing.sh: kept $tmp" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

nginx_start "$tmp/nginx" $((streams * 2 + 256)) "$nginx_workers" || fail_setup "nginx setup failed"
port=$nginx_port
if [[ $pin -eq 1 ]]; then
  for pid in $nginx_pid $(nginx_worker_pids); do taskset -a -p -c "$((cpus - 1))" "$pid" >/dev/null; done
fi
url=$nginx_url
rotate_access_log "$tmp/probe.access.log"

profile="$tmp/pacing.json"
cat >"$profile" <<EOF
{
  "name": "pacing-bench",
  "description": "Every stream in backlog: $streams streams, one page every ${min_gap_ms}ms each",
  "seed": 7,
  "duration": "${duration_s}s",
  // Every stream its own queue: the sender's cost at $streams paced queues (one org's
  // webhook would be one queue, 5 requests/s).
  "delivery": { "max_delay": "${max_delay_s}s", "batch_rows": $batch_rows, "min_gap": "${min_gap_ms}ms",
                "timeout": "10s", "pacing_scope": "stream" },
  "orgs": { "count": 1, "pattern": "bench",
            "deployments": { "count": $deployments, "pattern": "dep-{n}" } },
  // Viewers so many that rows hardly ever merge: one row per session in each stream.
  "viewers": { "count": 1000000000, "identifier": "uuid" },
  "arrival": { "process": "constant", "rate": $rate },
  "session": {
    "length": "1s",
    "variables": [ { "name": "score", "type": "int", "min": 0, "max": 100, "when": "start" } ],
    "rules": [ { "cid": 1, "name": "Scene Entered", "scenes": ["scene 1", "scene 2"] } ]
  }
}
EOF

echo "pacing.sh: $streams streams ($deployments deployments x 3), ${duration_s}s, batch_rows $batch_rows," \
  "max_delay ${max_delay_s}s, $rate sessions/s; nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*\///')" \
  "($nginx_workers worker) on 127.0.0.1:$port" >&2

# gmsim's CPU (user + system) of a run, from /usr/bin/time -v.
run_cpu() {
  python3 - "$1/time.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
print(sum(float(re.search(p + r":\s*([0-9.]+)", t).group(1)) for p in ("User time \\(seconds\\)", "System time \\(seconds\\)")))
PY
}
variants="plain"
[[ $metrics -eq 1 ]] && variants="plain metrics"
run_dirs=()
metrics_pairs=()
for workers in $workers_list; do
  for i in $(seq "$repeat"); do
  for variant in $variants; do
    label="w$workers"
    [[ $repeat -gt 1 ]] && label="$label#$i"
    [[ $variant == metrics ]] && label="$label+metrics"
    dir="$tmp/run-$workers-$i-$variant"
    mkdir -p "$dir"
    load_before=$(cut -d' ' -f1-3 /proc/loadavg)
    nginx_cpu_before=$(nginx_cpu)
    steal_before=$(machine_steal)
    echo "pacing.sh: run $label: gmsim --workers $workers ... (load $load_before)" >&2
    record_args=()
    [[ $record -eq 1 ]] && record_args=(--record "$dir/record.ndjson")
    scraper=""
    if [[ $variant == metrics ]]; then
      metrics_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
      record_args+=(--metrics-listen "127.0.0.1:$metrics_port")
      (while :; do curl -s -o /dev/null "http://127.0.0.1:$metrics_port/metrics" || true; sleep 1; done) &
      scraper=$!
    fi
    set +e
    /usr/bin/time -v -o "$dir/time.txt" "${wrap_cmd[@]}" "$gmsim" run "$profile" --target "$url" --no-auth \
      --workers "$workers" --quiet "${record_args[@]}" \
      --summary-json "$dir/summary.json" >"$dir/stdout.txt" 2>"$dir/stderr.txt"
    rc=$?
    set -e
    if [[ -n $scraper ]]; then
      kill "$scraper" 2>/dev/null || true
      wait "$scraper" 2>/dev/null || true
      metrics_pairs+=("$label $(run_cpu "${run_dirs[-1]}") $(run_cpu "$dir")")
    fi
    nginx_cpu_after=$(nginx_cpu)
    steal_after=$(machine_steal)
    load_after=$(cut -d' ' -f1-3 /proc/loadavg)
    rotate_access_log "$dir/access.log"
    cat >"$dir/meta.json" <<EOF
{ "label": "$label", "workers": $workers, "exit_code": $rc, "streams": $streams,
  "batch_rows": $batch_rows, "min_gap_ms": $min_gap_ms, "duration_s": $duration_s,
  "max_delay_s": $max_delay_s,
  "nginx_workers": "$nginx_workers",
  "nginx_cpu_s": $(python3 -c "print(round($nginx_cpu_after - $nginx_cpu_before, 2))"),
  "steal_s": $(python3 -c "print(round($steal_after - $steal_before, 2))"),
  "load_before": "$load_before", "load_after": "$load_after" }
EOF
    if [[ $rc -ne 0 ]]; then
      echo "pacing.sh: gmsim exited $rc:" >&2
      tail -5 "$dir/stderr.txt" >&2
    fi
    run_dirs+=("$dir")
  done
  done
done

# The baseline: what this machine and this nginx carry at all with one connection per
# stream, wrk posting as fast as it can a body of the first run's median size. Under the
# streams x 1000 / min_gap requests/s that the cadence needs, no sender keeps the pace
# here: the receiver and the sender share the machine's cores. A baseline that cannot
# be measured is said and skipped: the runs' figures are still reported.
skip_baseline() {
  echo "pacing.sh: no baseline: $*" >&2
  baseline=0
}
# Without a recording, a short dry run of the same profile gives the same bodies.
body_source="${run_dirs[0]}/record.ndjson"
if [[ $baseline -eq 1 ]] && [[ $record -eq 0 ]]; then
  body_source="$tmp/dry-run.ndjson"
  "$gmsim" run "$profile" --dry-run --quiet --duration "$((2 * max_delay_s + 2))s" \
    --record "$body_source" >/dev/null 2>"$tmp/dry-run.err" ||
    skip_baseline "the dry run for the body failed: $(tail -1 "$tmp/dry-run.err")"
fi
if [[ $baseline -eq 1 ]] && ! python3 - "$body_source" "$tmp/body.json" 2>"$tmp/body.err" <<'PY'; then
import json, sys
# Two passes: a recording of 10,000 streams holds gigabytes of bodies. The median by
# the length of the recorded line, which the body's length dominates.
with open(sys.argv[1], "rb") as f:
    f.readline()  # the recording's header
    sizes = sorted((len(line), i) for i, line in enumerate(f))
if not sizes:
    sys.exit("the first run's recording has no request")
median = sizes[len(sizes) // 2][1]
with open(sys.argv[1], "rb") as f:
    f.readline()
    for i, line in enumerate(f):
        if i == median:
            open(sys.argv[2], "wb").write(json.loads(line)["body"].encode())
            break
PY
  skip_baseline "no body from the first run's recording: $(tail -1 "$tmp/body.err")"
fi
# wrk does not raise its own open-file limit, as gmsim does: a connection it cannot open
# is a connect error, not a failure, and the rate would be that of fewer connections.
if [[ $baseline -eq 1 ]] && [[ "$(ulimit -Hn)" != unlimited ]] && (($(ulimit -Hn) < streams + 64)); then
  skip_baseline "wrk needs $((streams + 64)) open files for $streams connections; the hard limit is $(ulimit -Hn)"
fi
if [[ $baseline -eq 1 ]]; then
  wrk_post_script "$tmp/body.json" "$tmp/post.lua"
  baseline_s=$((duration_s < 10 ? duration_s : 10))
  body_bytes=$(wc -c <"$tmp/body.json")
  echo "pacing.sh: baseline: wrk -t1 -c$streams -d${baseline_s}s, a $body_bytes-byte body" \
    "(load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  nginx_cpu_before=$(nginx_cpu)
  steal_before=$(machine_steal)
  set +e
  (
    ulimit -n "$(ulimit -Hn)"
    exec /usr/bin/time -f "%U %S" -o "$tmp/wrk.time" wrk -t1 -c"$streams" -d"${baseline_s}s" \
      -s "$tmp/post.lua" "$url"
  ) >"$tmp/wrk.txt" 2>&1
  rc=$?
  set -e
  nginx_cpu_after=$(nginx_cpu)
  steal_after=$(machine_steal)
  if [[ $rc -ne 0 ]]; then
    skip_baseline "wrk exited $rc: $(tail -3 "$tmp/wrk.txt")"
  elif ! python3 - "$tmp/wrk.txt" "$tmp/wrk.time" "$tmp/baseline.json" "$streams" "$baseline_s" \
    "$body_bytes" "$nginx_cpu_before" "$nginx_cpu_after" "$steal_before" "$steal_after" <<'PY'; then
import json, re, sys
text = open(sys.argv[1]).read()
rate = float(re.search(r"Requests/sec:\s*([0-9.]+)", text).group(1))
non_2xx = re.search(r"Non-2xx or 3xx responses:\s*([0-9]+)", text)
errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
user, system = (float(v) for v in open(sys.argv[2]).read().split()[-2:])
json.dump({"tool": f"wrk -t1 -c{sys.argv[4]} -d{sys.argv[5]}s",
           "connections": int(sys.argv[4]), "duration_s": int(sys.argv[5]),
           "body_bytes": int(sys.argv[6]), "requests_per_s": rate,
           "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
           "socket_errors": dict(zip(("connect", "read", "write", "timeout"),
                                     (int(v) for v in errors.groups()))) if errors else {},
           "wrk_cpu_s": round(user + system, 2),
           "nginx_cpu_s": round(float(sys.argv[8]) - float(sys.argv[7]), 2),
           "steal_s": round(float(sys.argv[10]) - float(sys.argv[9]), 2)},
          open(sys.argv[3], "w"))
PY
    skip_baseline "cannot read wrk's figures: $(tail -5 "$tmp/wrk.txt")"
  fi
  rotate_access_log "$tmp/baseline.access.log"
fi

report_args=(--min-gap-ms "$min_gap_ms" --max-late-ms "$max_late_ms" --late-measure "$late_measure")
[[ $baseline -eq 1 ]] && report_args+=(--baseline "$tmp/baseline.json")
[[ -n "$max_rss_mib" ]] && report_args+=(--max-rss-mib "$max_rss_mib")
[[ -n "$json_out" ]] && report_args+=(--json "$json_out")
set +e
python3 "$root/bench/pacing_report.py" "${report_args[@]}" "${run_dirs[@]}"
status=$?
set -e
for pair in "${metrics_pairs[@]}"; do
  read -r label without with <<<"$pair"
  python3 -c "print(f'metrics: $label: gmsim CPU {$with:.2f} s with --metrics-listen and a scrape a second, {$without:.2f} s without: {100 * ($with / $without - 1):+.1f}%')"
done
echo "machine: $(uptime)"
exit $status
