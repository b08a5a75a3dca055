# Sourced by the interop tests: node_workdir WORK SOURCE_DIR MODULE... copies SOURCE_DIR's
# package.json and receiver into WORK, cds there, and installs its npm packages unless
# every MODULE is there already. No node, npm or registry: the test is skipped (exit 77).
node_workdir() {
  local work=$1 from=$2
  shift 2
  if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "SKIP: node and npm are needed (scripts/bootstrap installs them)"
    exit 77
  fi
  mkdir -p "$work"
  cp "$from"/package.json "$from"/*_receiver.js "$work/"
  cd "$work"
  local module
  for module in "$@"; do
    [ -d "node_modules/$module" ] && continue
    # better-sqlite3 builds its native part here when no prebuilt one can be fetched (a
    # minute or two; node-gyp, python3, make and g++ are Debian packages).
    if ! npm install --no-audit --no-fund --silent >npm.log 2>&1; then
      echo "SKIP: npm install $* failed (no registry, or no toolchain?):"
      tail -5 npm.log
      exit 77
    fi
    break
  done
}
