#!/usr/bin/env bash
# Interoperability: a real Prometheus scrapes gmsim's --metrics-listen during a live run,
# and a real Pushgateway takes --metrics-push. Prometheus' own API then says what it
# stored: the run seen unfinished and finished, its rows growing while it ran, and at the
# end every counter equal to the summary's. Loopback only.
# Usage: prometheus_test.sh GMSIM_BINARY WORK_DIR
set -euo pipefail
gmsim=$1
work=$2
for tool in prometheus prometheus-pushgateway curl python3; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIP: $tool is needed (scripts/bootstrap installs it)"
    exit 77
  fi
done
rm -rf "$work"
mkdir -p "$work"
cd "$work"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_ready() {  # URL WHAT LOG
  for _ in $(seq 1 150); do curl -sf "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done
  echo "FAIL: $2 did not start"; tail -20 "$3"; exit 1
}
# Prometheus' answer to an instant query, as one number (the sum over its series).
query() {
  curl -sfG "http://127.0.0.1:$prom_port/api/v1/query" --data-urlencode "query=$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
print(sum(float(x["value"][1]) for x in r) if r else "none")'
}

metrics_port=$(free_port)
prom_port=$(free_port)
push_port=$(free_port)
cat >prometheus.yml <<YAML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: gmsim
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
YAML
prometheus --config.file=prometheus.yml --storage.tsdb.path=data \
  --web.listen-address="127.0.0.1:$prom_port" >prometheus.log 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$prom_port/-/ready" Prometheus prometheus.log

# 1. Scraped while it runs: 60 s of quickstart at 6x (about 10 s), its receiver failing
# a fifth of the requests, held after the end until Prometheus has scraped it once more.
"$gmsim" receive --listen 127.0.0.1:0 --fail-ratio 0.2 --duration 300s --quiet 2>receiver.log &
pids+=($!)
for _ in $(seq 1 100); do grep -q "listening on" receiver.log && break; sleep 0.1; done
receiver_port=$(grep -o '127\.0\.0\.1:[0-9]*' receiver.log | head -1 | cut -d: -f2)
[ -n "$receiver_port" ] || { echo "FAIL: gmsim receive did not start"; cat receiver.log; exit 1; }
"$gmsim" run quickstart --duration 60s --time-scale 6 --final-flush at_duration --workers 1 \
  --no-auth --target "http://127.0.0.1:$receiver_port/hook" --metrics-listen "127.0.0.1:$metrics_port" \
  --metrics-hold 60s --summary-json run.json --quiet >run.txt 2>run.err
sleep 2  # Prometheus appends a scrape a moment after it
# gmsim has exited: its target is down and its series are stale, so each query takes the
# last value scraped (last_over_time), as a dashboard of a finished run does.
python3 - run.json >expected.txt <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(s["rows"]["delivered"], s["rows"]["rejected"], s["rows"]["generated"], s["requests"]["attempted"],
      s["requests"]["rejected"])
PY
read -r delivered rejected generated attempted rejected_requests <expected.txt
fail() { echo "FAIL: $1"; echo "--- gmsim stderr"; cat run.err; exit 1; }
[ "$rejected" -gt 0 ] || fail "the receiver failed nothing: the test proves less than it says"
got() { local v; v=$(query "$1"); printf '%.0f' "${v/none/-1}"; }
[ "$(got 'sum(last_over_time(gmsim_rows_total{outcome="delivered"}[5m]))')" = "$delivered" ] ||
  fail "Prometheus has $(query 'sum(last_over_time(gmsim_rows_total{outcome="delivered"}[5m]))') rows delivered, the summary $delivered"
[ "$(got 'sum(last_over_time(gmsim_rows_total{outcome="rejected"}[5m]))')" = "$rejected" ] || fail "rows rejected differ"
[ "$(got 'sum(last_over_time(gmsim_rows_generated_total[5m]))')" = "$generated" ] || fail "rows generated differ"
[ "$(got 'sum(last_over_time(gmsim_requests_total{outcome!="unsent"}[5m]))')" = "$attempted" ] || fail "requests attempted differ"
[ "$(got 'sum(last_over_time(gmsim_responses_total{status="500"}[5m]))')" = "$rejected_requests" ] || fail "500s differ"
[ "$(got 'last_over_time(gmsim_request_latency_seconds_count[5m])')" = "$attempted" ] || fail "latency count differs"
# Seen while it ran, then finished; and its rows grew between scrapes.
[ "$(got 'min_over_time(gmsim_run_finished[5m])')" = "0" ] || fail "no scrape saw the run unfinished"
[ "$(got 'max_over_time(gmsim_run_finished[5m])')" = "1" ] || fail "no scrape saw the run's end"
changes=$(got 'changes(gmsim_rows_generated_total{type="variables"}[5m])')
[ "$changes" -ge 2 ] || fail "the rows did not grow from scrape to scrape ($changes changes)"
[ "$(got 'count(last_over_time(gmsim_info{profile="quickstart",command="run",scope="webhook"}[5m]))')" = "1" ] || fail "gmsim_info"
p99=$(query 'histogram_quantile(0.99, sum by (le) (last_over_time(gmsim_request_latency_seconds_bucket[5m])))')
# deploy/grafana's dashboard: every query is PromQL this Prometheus takes, and every series
# it reads is one that gmsim served.
python3 - "$(dirname "$0")/../../deploy/grafana/gmsim-dashboard.json" "$prom_port" <<'PY' || fail "the Grafana dashboard"
import json, re, sys, urllib.parse, urllib.request
dashboard = json.load(open(sys.argv[1]))
def ask(query):
    url = f"http://127.0.0.1:{sys.argv[2]}/api/v1/query?" + urllib.parse.urlencode({"query": query})
    try:
        return json.load(urllib.request.urlopen(url))
    except urllib.error.HTTPError as e:
        return json.load(e)
names = set()
for panel in dashboard["panels"]:
    for target in panel["targets"]:
        query = target["expr"].replace("$__rate_interval", "1m").replace("$job", ".*")
        answer = ask(query)
        if answer["status"] != "success":
            sys.exit(f"panel '{panel['title']}': {query}: {answer.get('error')}")
        names.update(re.findall(r"\bgmsim_[a-z_]+", query))
for name in sorted(names):
    found = ask(f"count(last_over_time({name}[10m]))")["data"]["result"]
    if not found:
        sys.exit(f"the dashboard reads {name}, which gmsim did not serve")
print(f"Grafana dashboard: {sum(len(p['targets']) for p in dashboard['panels'])} queries accepted, "
      f"{len(names)} series read, each served")
PY
echo "Prometheus: $delivered rows delivered, $rejected rejected of $generated, $attempted requests," \
  "seen unfinished and finished, $changes changes of the variables rows, latency p99 ${p99}s: as the summary"

# 2. Pushed: a dry run's final numbers, then a second shard's to a group of its own.
prometheus-pushgateway --web.listen-address="127.0.0.1:$push_port" >pushgateway.log 2>&1 &
pids+=($!)
wait_ready "http://127.0.0.1:$push_port/-/ready" Pushgateway pushgateway.log
"$gmsim" run quickstart --dry-run --duration 10m --metrics-push "http://127.0.0.1:$push_port" \
  --summary-json dry.json >dry.txt 2>dry.err || { echo "FAIL: the push"; cat dry.err; exit 1; }
"$gmsim" run quickstart --dry-run --duration 10m --pacing-scope deployment --shard 2/2 --start-time 2026-01-01T00:00:00Z \
  --metrics-push "http://127.0.0.1:$push_port" --summary-json shard.json >shard.txt 2>shard.err ||
  { echo "FAIL: the shard's push"; cat shard.err; exit 1; }
curl -sf "http://127.0.0.1:$push_port/metrics" >pushed.txt
python3 - dry.json shard.json pushed.txt <<'PY'
import json, re, sys
whole, shard = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
text = open(sys.argv[3]).read()
def rows(instance):
    total = 0
    for m in re.finditer(r'^gmsim_rows_total\{([^}]*)\} (\S+)$', text, re.M):
        labels = m.group(1)
        if 'job="gmsim"' in labels and f'instance="{instance}"' in labels and 'outcome="delivered"' in labels:
            total += float(m.group(2))
    return total
if rows("") != whole["rows"]["delivered"]:
    sys.exit(f"FAIL: the Pushgateway holds {rows('')} rows delivered, the summary {whole['rows']['delivered']}")
if shard["rows"]["delivered"] == 0 or rows("shard-2-of-2") != shard["rows"]["delivered"]:
    sys.exit(f"FAIL: shard 2/2's group holds {rows('shard-2-of-2')}, its summary {shard['rows']['delivered']}")
if 'gmsim_run_finished{instance="",job="gmsim"} 1' not in text:
    sys.exit("FAIL: the pushed numbers are not marked final")
print(f"Pushgateway: {whole['rows']['delivered']:.0f} rows (job gmsim) and {shard['rows']['delivered']:.0f} "
      "(instance shard-2-of-2), as their summaries")
PY
echo "PASS"
