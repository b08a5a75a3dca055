#!/usr/bin/env bash
# Builds the Debian package with CPack, unpacks it, and runs the packaged binary: its
# built-in profiles must work wherever it is installed (they are embedded).
# Usage: deb_test.sh BUILD_DIR
set -euo pipefail
build=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$build" && cpack -G DEB -B "$work/out" >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; exit 1; }
deb=$(ls "$work"/out/gmsim_*.deb)
info=$(dpkg-deb -I "$deb")  # (not piped into grep -q: with pipefail, SIGPIPE would fail it)
grep -q 'Depends:.*libssl3' <<<"$info" || { echo "FAIL: no Depends on libssl3"; echo "$info"; exit 1; }
dpkg-deb -x "$deb" "$work/root"
bin="$work/root/usr/bin/gmsim"
grep -q '^gmsim ' <<<"$("$bin" --version)" || { echo "FAIL: --version"; exit 1; }
grep -q '^quickstart' <<<"$("$bin" profiles)" || { echo "FAIL: the packaged binary lists no quickstart"; exit 1; }
(cd "$work" && "$bin" run --dry-run --summary-json s.json >/dev/null)
grep -q '"profile": "quickstart"' "$work/s.json" || { echo "FAIL: dry run summary"; exit 1; }
[ -f "$work/root/usr/share/gmsim/profiles/quickstart.json" ] || { echo "FAIL: profiles not installed"; exit 1; }
echo "PASS: $(basename "$deb"), $(du -h "$bin" | cut -f1) binary"
