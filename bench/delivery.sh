#!/usr/bin/env bash
# Delivery throughput of gmsim against wrk, in the same run against the same private
# nginx on 127.0.0.1 (which reads every body and answers 200): first
# `wrk -t1 -c16 -d<N>s` posting one fixed 500-row body taken from gmsim's own stress
# dry run, then `gmsim run stress --workers 1` for the same N seconds: a closed loop (a
# freed request slot gets a fresh full page at once, as wrk's connections do; issue 18),
# or with --loop open the profile's arrivals sped up by --time-scale so that pages stay
# queued, once per time scale asked. bench/delivery_report.py prints the figures. Bytes are counted at nginx ($request_length: request line, headers and
# body) over the first N seconds of each tool's requests; the figure is gmsim's
# bytes/s over wrk's (issue 6: at least 0.5). A benchmark, not a test.
#
# Exit: 0 target met; 1 missed; 2 bad usage or the setup failed.
set -euo pipefail

usage() {
  cat <<'EOF'
usage: bench/delivery.sh [options]
  --gmsim PATH          the binary (default: build-rel/gmsim in the repository)
  --duration S          seconds each tool sends (default 20)
  --loop open|closed    gmsim's --loop (default closed: the stress profile's)
  --time-scale "X ..."  gmsim's --time-scale, one run each (default "1"; with --loop
                        open, e.g. "10 20 40": the profile's ~14,500 rows/s become
                        145,000 to 580,000, and rows still queued at the end show that
                        gmsim could not send them all); the best run is gmsim's figure
  --in-flight N         gmsim's --in-flight (default: the stress profile's 4; 24 streams)
  --connections N       wrk's -c (default 16)
  --nginx-workers N     nginx worker_processes (default 1)
  --workers "1 2"       gmsim's --workers, one run each (default "1"); with 2, both cores
                        send (issue 22: at least 1.5x the bytes/s of 1 against nginx with 2
                        workers, or the figures show what nginx takes of the 2 cores)
  --min-ratio X         target: gmsim bytes/s over wrk's (default 0.5)
  --wrap "CMD"          run gmsim under CMD, e.g. "perf record -g -o /tmp/perf.data"
  --keep                keep the temporary directory (logs, body, summaries) and say where
EOF
}

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=bench/nginx_common.sh
source "$root/bench/nginx_common.sh"
gmsim="$root/build-rel/gmsim"
duration_s=20
time_scales="1"
loop=closed
in_flight=""
connections=16
nginx_workers=1
workers_list=1
min_ratio=0.5
wrap=""
keep=0

while [[ $# -gt 0 ]]; do
  case "$1" in
    --gmsim) gmsim=$2; shift 2 ;;
    --duration) duration_s=$2; shift 2 ;;
    --time-scale) time_scales=$2; shift 2 ;;
    --loop) loop=$2; shift 2 ;;
    --in-flight) in_flight=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --nginx-workers) nginx_workers=$2; shift 2 ;;
    --workers) workers_list=$2; shift 2 ;;
    --min-ratio) min_ratio=$2; shift 2 ;;
    --wrap) wrap=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "delivery.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
  esac
done

fail_setup() {
  echo "delivery.sh: $*" >&2
  exit 2
}
[[ "$loop" == open || "$loop" == closed ]] || fail_setup "--loop: open or closed, got '$loop'"
[[ -x "$gmsim" ]] || fail_setup "no gmsim binary at $gmsim (build: cmake -S . -B build-rel -G Ninja -DCMAKE_BUILD_TYPE=Release -DGMSIM_BUILD_TESTS=OFF && ninja -C build-rel gmsim)"
nginx_check || fail_setup "no nginx"
command -v wrk >/dev/null || fail_setup "no wrk (apt-get install wrk)"
command -v python3 >/dev/null || fail_setup "no python3"
[[ -x /usr/bin/time ]] || fail_setup "no /usr/bin/time (apt-get install time)"
for n in "$duration_s" "$connections" ${in_flight:+"$in_flight"}; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || fail_setup "'$n' is not a positive integer"
done
read -r -a wrap_cmd <<<"$wrap"

tmp=$(mktemp -d /tmp/gmsim-delivery.XXXXXX)
# shellcheck disable=SC2317  # called by the trap
cleanup() {
  nginx_stop
  if [[ $keep -eq 1 ]]; then
    echo "delivery.sh: kept $tmp" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The body wrk posts: the first 500-row request of the stress profile's dry run.
"$gmsim" run stress --dry-run --workers 1 --duration 20s --quiet --record "$tmp/stress.ndjson" \
  >/dev/null || fail_setup "the stress dry run failed"
python3 - "$tmp/stress.ndjson" "$tmp/body.json" <<'EOF' || fail_setup "no 500-row request in the stress dry run"
import json, sys
with open(sys.argv[1]) as f:
    f.readline()  # the recording's header
    for line in f:
        request = json.loads(line)
        if request["rows"] == 500:
            open(sys.argv[2], "w").write(request["body"])
            sys.exit(0)
sys.exit(1)
EOF
rm "$tmp/stress.ndjson"
wrk_post_script "$tmp/body.json" "$tmp/post.lua"

nginx_start "$tmp/nginx" $((connections + 4096)) "$nginx_workers" || fail_setup "nginx setup failed"
rotate_access_log "$tmp/probe.access.log"
echo "delivery.sh: nginx $(/usr/sbin/nginx -v 2>&1 | sed 's/.*\///') ($nginx_workers worker) on" \
  "127.0.0.1:$nginx_port; ${duration_s}s each; body $(wc -c <"$tmp/body.json") bytes, 500 rows" >&2

# measure NAME CMD...: runs CMD under /usr/bin/time, then moves nginx's log of it aside;
# NAME.meta holds the load average before and after, nginx's CPU seconds meanwhile, and
# the machine's CPU steal meanwhile (machine_steal).
measure() {
  local name=$1 load_before cpu_before steal_before rc
  shift
  load_before=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "delivery.sh: $name: $* (load $load_before)" >&2
  cpu_before=$(nginx_cpu)
  steal_before=$(machine_steal)
  set +e
  /usr/bin/time -v -o "$tmp/$name.time.txt" "$@" >"$tmp/$name.txt" 2>&1
  rc=$?
  set -e
  [[ $rc -eq 0 ]] || echo "delivery.sh: $name exited $rc: $(tail -3 "$tmp/$name.txt")" >&2
  printf '%s\n%s\n%s\n%s\n' "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" \
    "$(python3 -c "print(round($(nginx_cpu) - $cpu_before, 2))")" \
    "$(python3 -c "print(round($(machine_steal) - $steal_before, 2))")" >"$tmp/$name.meta"
  rotate_access_log "$tmp/$name.access.log"
}

measure wrk wrk -t1 -c"$connections" -d"${duration_s}s" -s "$tmp/post.lua" "$nginx_url"

# gmsim: the stress profile (24 streams, min gap 0, 4 in flight each) for duration_s of
# real time at each time scale (a closed loop's pace is the receiver's whatever the
# scale); a short drain, since only the first duration_s count.
names=(wrk)
for workers in $workers_list; do
  for scale in $time_scales; do
    # The name of gmsim's run: gmsim-xSCALE with 1 worker, as before; gmsim-wN-xSCALE else.
    name="gmsim-x$scale"
    [[ "$workers" == 1 ]] || name="gmsim-w$workers-x$scale"
    args=(run stress --workers "$workers" --target "$nginx_url" --no-auth --loop "$loop" --time-scale "$scale"
      --duration "$(python3 -c "print(round($duration_s * $scale * 1000))")ms" --drain-timeout 2s
      --quiet --summary-json "$tmp/$name.summary.json")
    [[ -n "$in_flight" ]] && args+=(--in-flight "$in_flight")
    measure "$name" "${wrap_cmd[@]}" "$gmsim" "${args[@]}"
    names+=("$name")
  done
done

set +e
python3 "$root/bench/delivery_report.py" "$tmp" "$duration_s" "$min_ratio" "${names[@]}"
status=$?
set -e
echo "machine: $(uptime)"
exit $status
