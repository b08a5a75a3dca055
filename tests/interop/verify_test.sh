#!/usr/bin/env bash
# Interoperability: gmsim verify against a real Express receiver writing to SQLite
# (better-sqlite3). Every request is answered 200, yet the store rounds 2^53 + 1, cuts a
# long string, drops one of two identical rule firings through its dedup key and turns
# created_at into a string: verify must name each, from an export made with the queries
# of docs/verify.md (read from the doc, so that the doc's one-liners are the tested ones).
# Usage: verify_test.sh GMSIM_BINARY SOURCE_DIR WORK_DIR
set -euo pipefail
gmsim=$1
doc="$2/docs/verify.md"
work=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$here/node_workdir.sh"
node_workdir "$work" "$here/sqlite" express better-sqlite3
rm -f store.db
node sqlite_receiver.js store.db >port.txt 2>receiver.log &
receiver=$!
trap 'kill $receiver 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do [ -s port.txt ] && break; sleep 0.1; done
port=$(head -1 port.txt)
[ -n "$port" ] || { echo "FAIL: the SQLite receiver did not start"; cat receiver.log; exit 1; }

"$gmsim" run quickstart --target "http://127.0.0.1:$port/webhook" --no-auth --duration 30s \
  --max-delay 5s --time-scale 10 --workers 1 --quiet --edge-case number-big-int \
  --edge-case repeat-rule-twice --edge-case value-long-string \
  --record run.ndjson --summary-json run.json >run.txt

# The export: each query of the doc's SQLite block, through the receiver's own database.
grep -E '^SELECT json_object' "$doc" >queries.sql
[ "$(wc -l <queries.sql)" -eq 3 ] || { echo "FAIL: expected 3 export queries in $doc"; exit 1; }
: >export.ndjson
while IFS= read -r sql; do
  curl -sf --get "http://127.0.0.1:$port/export" --data-urlencode "sql=${sql%;}" >>export.ndjson
done <queries.sql

set +e
"$gmsim" verify run.ndjson export.ndjson --json verify.json --examples 20 >verify.txt 2>verify.err
code=$?
set -e
cat verify.txt
[ $code -eq 1 ] || { echo "FAIL: verify exited $code, expected 1"; cat verify.err; exit 1; }
node - <<'JS'
const fs = require('fs');
const v = JSON.parse(fs.readFileSync('verify.json'));
const s = JSON.parse(fs.readFileSync('run.json'));
const fail = (m) => { console.log('FAIL: ' + m); process.exit(1); };
if (s.rows.lost !== 0) fail(`the run lost ${s.rows.lost} rows: the store answered 200 to every request`);
const a = v.alterations;
// number-big-int sends 2^53 + 1, 2^63 - 1 and 2^64 - 1: JSON.parse rounds each.
if (a['number rounded'] !== 3) fail(`${a['number rounded']} numbers found rounded, expected 3`);
if (!v.examples.some((e) => e.detail === 'number rounded: sent 9007199254740993, stored 9007199254740992')) {
  fail('2^53 + 1 not shown rounded to 2^53');
}
if (a['string truncated'] !== 1) fail('the long string not found truncated');
if (v.by_type.rules.missing !== 1) fail(`rules missing ${v.by_type.rules.missing}, expected the one dedup dropped`);
if (v.by_type.session.altered !== v.by_type.session.expected || a['type changed'] !== v.by_type.session.expected) {
  fail('every session should have created_at changed to a string');
}
for (const t of ['variables', 'rules', 'session']) {
  if (v.by_type[t].unexpected !== 0 || v.by_type[t].duplicated !== 0) fail(`${t}: unexpected or duplicated`);
}
console.log(`verify vs Express + SQLite: ${s.rows.delivered} rows delivered (all 200), ` +
            `store: ${a['number rounded']} number rounded, ${a['string truncated']} string truncated, ` +
            `${v.by_type.rules.missing} firing missing, ${a['type changed']} created_at type changed`);
JS
echo "PASS"
