#!/usr/bin/env bash
# Interoperability: gmsim against a real Express receiver with express.json() defaults.
# Shows (1) body-limit's pages over 100 kB answered 413 and every one of their rows in
# the lost-rows ledger, (2) what JSON.parse does to 2^53 + 1, (3) a store that commits
# and then stalls: its rows are unacknowledged, not lost. Loopback only.
# Usage: express_test.sh GMSIM_BINARY WORK_DIR
set -euo pipefail
gmsim=$1
work=$2
here=$(cd "$(dirname "$0")" && pwd)
source "$here/node_workdir.sh"
node_workdir "$work" "$here" express

node express_receiver.js >port.txt 2>receiver.log &
receiver=$!
trap 'kill $receiver 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s port.txt ] && break; sleep 0.1; done
port=$(head -1 port.txt)
[ -n "$port" ] || { echo "FAIL: the Express receiver did not start"; cat receiver.log; exit 1; }
target="http://127.0.0.1:$port/gmetri-webhook"

# 1. body-limit: 413s, and the ledger lists every lost row.
"$gmsim" run body-limit --target "$target" --no-auth --time-scale 20 --workers 1 --quiet \
  --summary-json body.json --lost-rows lost.ndjson >body.txt
node - <<'JS'
const fs = require('fs');
const s = JSON.parse(fs.readFileSync('body.json'));
const lost = fs.readFileSync('lost.ndjson', 'utf8').split('\n').filter(Boolean).map(JSON.parse);
const fail = (m) => { console.log('FAIL: ' + m); process.exit(1); };
const r413 = s.requests.by_status['413'] || 0;
if (r413 === 0) fail('no 413 from Express for pages over 100 kB');
if (s.rows.generated !== s.rows.delivered + s.rows.rejected + s.rows.failed + s.rows.unacknowledged + s.rows.unsent) fail('accounting');
if (lost.length !== s.rows.rejected + s.rows.failed + s.rows.unacknowledged + s.rows.unsent) fail(`ledger has ${lost.length} lines`);
if (!lost.every((l) => l.reason === 'status 413' && l.identifier !== undefined)) fail('a lost row without reason 413');
console.log(`body-limit vs Express defaults: ${s.requests.attempted} requests, ${r413} answered 413, ` +
            `${s.rows.rejected} of ${s.rows.generated} rows lost (${(100 * s.rows.rejected / s.rows.generated).toFixed(1)}%), ` +
            `largest page ${s.page_bytes.max} bytes`);
JS

# 2. number-big-int: what JSON.parse makes of 9007199254740993.
"$gmsim" run quickstart --edge-case number-big-int --duration 30s --max-delay 5s --time-scale 10 \
  --workers 1 --quiet --target "$target" --no-auth --summary-json big.json >big.txt
curl -sf "http://127.0.0.1:$port/seen" >seen.json
node - <<'JS'
const fs = require('fs');
const seen = JSON.parse(fs.readFileSync('seen.json'));
if (seen.bigInts.length === 0) { console.log('FAIL: the big-integer row never reached Express'); process.exit(1); }
const got = seen.bigInts[0];
if (got !== '9007199254740992') { console.log(`FAIL: expected JSON.parse to round to 9007199254740992, saw ${got}`); process.exit(1); }
console.log(`number-big-int vs Express: gmsim sent 9007199254740993, the application saw ${got} (JSON.parse rounds above 2^53)`);
JS

# 3. A store that commits and then stalls: every timed-out request's rows were stored, and
# gmsim calls them unacknowledged (maybe stored), never lost.
"$gmsim" run quickstart --duration 30s --max-delay 5s --time-scale 10 --timeout 1s \
  --drain-timeout 10s --workers 1 --quiet --no-auth --target "http://127.0.0.1:$port/stall-webhook" \
  --summary-json stall.json --lost-rows stall.ndjson >stall.txt
curl -sf "http://127.0.0.1:$port/seen" >seen.json
node - <<'JS'
const fs = require('fs');
const s = JSON.parse(fs.readFileSync('stall.json'));
const seen = JSON.parse(fs.readFileSync('seen.json'));
const lost = fs.readFileSync('stall.ndjson', 'utf8').split('\n').filter(Boolean).map(JSON.parse);
const fail = (m) => { console.log('FAIL: ' + m + '\n' + fs.readFileSync('stall.txt', 'utf8')); process.exit(1); };
if (s.requests.attempted === 0) fail('nothing sent');
if (s.requests.unacknowledged !== s.requests.attempted) fail(`${s.requests.unacknowledged} of ${s.requests.attempted} requests unacknowledged`);
if (s.rows.unacknowledged !== seen.stalledRows) fail(`gmsim says ${s.rows.unacknowledged} rows unacknowledged, the store holds ${seen.stalledRows}`);
if (s.rows.lost !== s.rows.unsent) fail(`rows.lost ${s.rows.lost}: stored rows counted lost`);
const unack = lost.filter((l) => l.outcome === 'unacknowledged');
if (unack.length !== s.rows.unacknowledged || !unack.every((l) => l.reason === 'timeout')) fail('ledger');
if (!fs.readFileSync('stall.txt', 'utf8').includes('unacknowledged')) fail('the summary does not say unacknowledged');
console.log(`stalling store vs gmsim: ${s.requests.attempted} requests timed out, the store holds ` +
            `${seen.stalledRows} rows, gmsim: ${s.rows.unacknowledged} unacknowledged, ${s.rows.lost} lost (unsent ${s.rows.unsent})`);
JS
echo "PASS"
