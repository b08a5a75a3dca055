#!/usr/bin/env bash
# Runs the gmsim command lines of docs/ci.md, as written, against gmsim's own receiver:
# a healthy receiver passes (exit 0, JUnit and HTML written); one that answers 500
# fails the thresholds (exit 99, reports still written); one that does not check the
# auth string passes every recipe but the wrong-auth one (exit 99). Loopback only.
# Usage: recipes_test.sh GMSIM_BINARY SOURCE_DIR
set -euo pipefail
gmsim=$1
doc="$2/docs/ci.md"
work=$(mktemp -d)
receiver=""
cleanup() { [ -n "$receiver" ] && kill "$receiver" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir "$work/bin" && ln -s "$(realpath "$gmsim")" "$work/bin/gmsim"
export PATH="$work/bin:$PATH"

# Every "gmsim run" command of the doc, with its continuation lines (a trailing
# backslash in shell, deeper indentation in GitLab's YAML), as one line.
python3 - "$doc" >"$work/commands.txt" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split("\n")
i = 0
while i < len(lines):
    line = lines[i]
    if "gmsim run " in line and not line.lstrip().startswith("#"):
        indent = len(line) - len(line.lstrip(" -"))
        cmd = line.strip().lstrip("- ").strip()
        i += 1
        while i < len(lines) and lines[i].strip() and (len(lines[i]) - len(lines[i].lstrip()) > indent):
            cmd += " " + lines[i].strip()
            i += 1
        print(re.sub(r"\s*\\\s*", " ", cmd))
        continue
    i += 1
PY
count=$(wc -l <"$work/commands.txt")
[ "$count" -ge 2 ] || { echo "FAIL: found $count gmsim commands in docs/ci.md"; exit 1; }

# healthy: checks the auth string, answers 200; failing: answers 500; open: answers 200
# without checking the auth string (a wrong-auth recipe must fail against it).
start_receiver() {
  # (receive reads GMSIM_AUTH_STRING too: the open one runs without it)
  if [ "${1:-}" = --open ]; then
    shift
    env -u GMSIM_AUTH_STRING gmsim receive --listen 127.0.0.1:0 "$@" 2>"$work/receiver.err" &
  else
    gmsim receive --listen 127.0.0.1:0 --auth-string "$GMSIM_AUTH_STRING" "$@" 2>"$work/receiver.err" &
  fi
  receiver=$!
  for _ in $(seq 1 100); do grep -q listening "$work/receiver.err" 2>/dev/null && break; sleep 0.1; done
  port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/receiver.err" | head -1)
  export RECEIVER_URL="http://127.0.0.1:$port/gmetri-webhook"
}

export GMSIM_AUTH_STRING="ci-secret-$(date +%s)-abcdefgh"
n=0
while IFS= read -r cmd; do
  n=$((n + 1))
  for mode in healthy failing open; do
    dir="$work/$n-$mode" && mkdir -p "$dir"
    case $mode in
      healthy) start_receiver ;;
      failing) start_receiver --status 500 ;;
      open) start_receiver --open ;;
    esac
    set +e
    (cd "$dir" && eval "$cmd" >stdout.txt 2>stderr.txt)
    code=$?
    set -e
    kill "$receiver" && wait "$receiver" 2>/dev/null || true
    receiver=""
    want=0; [ $mode = failing ] && want=99
    # Against an open receiver only the auth recipe fails: its probes are accepted.
    [ $mode = open ] && [[ $cmd == *wrong-auth* ]] && want=99
    if [ $code -ne $want ]; then
      echo "FAIL: recipe $n against a $mode receiver exited $code, expected $want: $cmd"
      cat "$dir/stderr.txt"; exit 1
    fi
    for f in gmsim-junit.xml gmsim-report.html gmsim-summary.json; do
      [ -s "$dir/$f" ] || { echo "FAIL: recipe $n ($mode) wrote no $f"; exit 1; }
    done
    if grep -rq "$GMSIM_AUTH_STRING" "$dir"; then echo "FAIL: the auth string leaked into $dir"; exit 1; fi
    echo "recipe $n, $mode receiver: exit $code, $(grep -o '<testsuite [^>]*' "$dir/gmsim-junit.xml" | grep -o 'failures="[0-9]*"')"
  done
done <"$work/commands.txt"
echo "PASS: $n recipes"
