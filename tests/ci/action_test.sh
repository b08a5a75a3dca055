#!/usr/bin/env bash
# The GitHub Action (action.yml), its steps run the way the Actions runner runs a
# composite action's: each `run:` step under `bash --noprofile --norc -eo pipefail` with
# its `env:` and `${{ }}` expressions filled in from the inputs (their defaults, and the
# test's), GITHUB_ACTION_PATH set, outputs through $GITHUB_OUTPUT, $GITHUB_ENV and
# $GITHUB_PATH carried to the next steps, `if:` conditions evaluated (the forms the action
# uses; GitHub compares strings without case, this test with it); the upload step (a
# `uses:`) is checked to name the reports that were written. Not emulated: containers,
# other shells. Against gmsim's own receiver: a healthy one passes (the job succeeds), one
# answering 500 fails the job with exit 99 after the reports are written, the second time
# with a gmsim given by the input `gmsim` under another name and none on PATH; the auth
# string never leaks.
# Loopback only. Usage: action_test.sh GMSIM_BINARY SOURCE_DIR
set -euo pipefail
gmsim=$1
source_dir=$(realpath "$2")
work=$(mktemp -d)
receiver=""
cleanup() { [ -n "$receiver" ] && kill "$receiver" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
mkdir "$work/bin" && ln -s "$(realpath "$gmsim")" "$work/bin/gmsim"
export PATH="$work/bin:$PATH"
python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: python3-yaml is needed (scripts/bootstrap installs it)"; exit 77; }

secret="action-secret-$(date +%s)-abcdefgh"
start_receiver() {
  gmsim receive --listen 127.0.0.1:0 --auth-string "$secret" --quiet "$@" 2>"$work/receiver.err" &
  receiver=$!
  for _ in $(seq 1 100); do grep -q listening "$work/receiver.err" 2>/dev/null && break; sleep 0.1; done
  port=$(sed -n 's/.*127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/receiver.err" | head -1)
  [ -n "$port" ] || { echo "FAIL: gmsim receive did not start"; cat "$work/receiver.err"; exit 1; }
}

# Runs the action's steps in $2 (a job's workspace) with the inputs given as JSON ($1);
# prints the job's result: "success" or "failure <code>".
run_action() {
  python3 - "$source_dir/action.yml" "$1" "$2" "$source_dir" <<'PY'
import json, os, re, subprocess, sys, yaml
action = yaml.safe_load(open(sys.argv[1]))
given, workspace, action_path = json.loads(sys.argv[2]), sys.argv[3], sys.argv[4]
declared = action["inputs"]
for name in given:
    assert name in declared, f"input {name} is not declared"
inputs = {k: str(given.get(k, v.get("default", ""))) for k, v in declared.items()}
for k, v in declared.items():
    assert not v.get("required") or inputs[k], f"required input {k} missing"
steps_out = {}
def value(expr):
    expr = expr.strip()
    m = re.fullmatch(r"inputs\.([\w-]+)", expr)
    if m:
        assert m.group(1) in declared, f"${{{{ {expr} }}}}: no such input"
        return inputs[m.group(1)]
    m = re.fullmatch(r"steps\.(\w+)\.outputs\.([\w-]+)", expr)
    if m:
        return steps_out.get(m.group(1), {}).get(m.group(2), "")
    if expr == "github.action_path":
        return action_path
    m = re.fullmatch(r"'([^']*)'", expr)
    if m:
        return m.group(1)
    sys.exit(f"FAIL: the test does not know the expression {expr!r}: teach it, or keep the action simple")
def fill(text):
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: value(m.group(1)), str(text))
def condition(text):
    # The forms the action uses: always(), A == B, A != B, joined by &&.
    result = True
    for part in [p.strip() for p in text.split("&&")]:
        if part in ("always()", "success()"):
            continue
        m = re.fullmatch(r"(.+?)\s*(==|!=)\s*(.+)", part)
        if not m:
            sys.exit(f"FAIL: the test does not know the condition {part!r}")
        a, b = value(m.group(1)), value(m.group(3))
        result = result and ((a == b) == (m.group(2) == "=="))
    return result
failed, code = False, 0
assert action["runs"]["using"] == "composite"
carried_env, carried_path = {}, []
for step in action["runs"]["steps"]:
    name = step["name"]
    cond = step.get("if", "success()")
    # A step runs after a failure only when its condition says always().
    if (failed and "always()" not in cond) or not condition(cond):
        print(f"  skipped: {name}", file=sys.stderr)
        continue
    if "uses" in step:
        assert step["uses"].startswith("actions/upload-artifact@"), step["uses"]
        path = os.path.join(workspace, fill(step["with"]["path"]))
        for f in ("gmsim-summary.json", "gmsim-junit.xml", "gmsim-report.html", "gmsim-console.txt"):
            assert os.path.getsize(os.path.join(path, f)) > 0, f"the upload would miss {f}"
        print(f"  upload: {fill(step['with']['name'])} <- {sorted(os.listdir(path))}", file=sys.stderr)
        continue
    assert step.get("shell") == "bash", f"{name}: a run step needs shell: bash"
    output = os.path.join(workspace, f".output-{len(steps_out)}")
    open(output, "w").close()
    env_file, path_file = os.path.join(workspace, ".env"), os.path.join(workspace, ".path")
    open(env_file, "w").close()
    open(path_file, "w").close()
    env = dict(os.environ, GITHUB_OUTPUT=output, GITHUB_STEP_SUMMARY=os.path.join(workspace, ".step-summary"),
               GITHUB_ENV=env_file, GITHUB_PATH=path_file, GITHUB_WORKSPACE=workspace,
               GITHUB_ACTION_PATH=action_path, **carried_env)
    env["PATH"] = ":".join(carried_path + [env["PATH"]])
    env.pop("GMSIM_AUTH_STRING", None)
    for k, v in step.get("env", {}).items():
        env[k] = fill(v)
    r = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", fill(step["run"])],
                       cwd=workspace, env=env, stdout=sys.stderr)
    carried_env.update(line.split("=", 1) for line in open(env_file).read().splitlines() if "=" in line)
    carried_path = [line for line in open(path_file).read().splitlines() if line] + carried_path
    with open(os.path.join(workspace, ".paths-added"), "a") as f:
        f.write(open(path_file).read())
    if "id" in step:
        steps_out[step["id"]] = dict(line.split("=", 1) for line in open(output).read().splitlines() if "=" in line)
    print(f"  {name}: exit {r.returncode}", file=sys.stderr)
    if r.returncode != 0:
        failed, code = True, r.returncode
print("success" if not failed else f"failure {code}")
PY
}

start_receiver
mkdir "$work/healthy"
inputs=$(printf '{"target": "http://127.0.0.1:%s/hook", "duration": "20s", "time-scale": "10", "auth-string": "%s", "args": "--final-flush at_duration\\n--workers 1"}' "$port" "$secret")
result=$(run_action "$inputs" "$work/healthy" 2>"$work/healthy.log") || { cat "$work/healthy.log"; exit 1; }
kill "$receiver"; wait "$receiver" 2>/dev/null || true; receiver=""
[ "$result" = success ] || { echo "FAIL: against a healthy receiver the job ended: $result"; cat "$work/healthy.log"; exit 1; }
grep -q "passed" "$work/healthy/.step-summary" || { echo "FAIL: no step summary"; exit 1; }
grep -q '`lost_rows==0` | pass' "$work/healthy/.step-summary" || { echo "FAIL: the default thresholds were not given"; cat "$work/healthy/.step-summary"; exit 1; }
grep -qx "$work/bin" "$work/healthy/.paths-added" || { echo "FAIL: the install step put no gmsim on PATH"; exit 1; }
# Both lines of args were given: one worker, and the final flush at the duration.
grep -q "1 worker" "$work/healthy/gmsim-reports/gmsim-console.txt" || { echo "FAIL: the second line of args was lost"; exit 1; }
grep -q "final_flush at_duration" "$work/healthy/gmsim-reports/gmsim-console.txt" || { echo "FAIL: args lost"; exit 1; }

start_receiver --status 500
mkdir "$work/failing" "$work/tools"
ln -s "$(realpath "$gmsim")" "$work/tools/gmsim-linux-x64"
inputs=$(printf '{"target": "http://127.0.0.1:%s/hook", "duration": "20s", "time-scale": "10", "auth-string": "%s", "args": "--final-flush at_duration", "gmsim": "%s"}' "$port" "$secret" "$work/tools/gmsim-linux-x64")
result=$(PATH=${PATH#"$work/bin:"} run_action "$inputs" "$work/failing" 2>"$work/failing.log") || { cat "$work/failing.log"; exit 1; }
kill "$receiver"; wait "$receiver" 2>/dev/null || true; receiver=""
[ "$result" = "failure 99" ] || { echo "FAIL: against a receiver answering 500 the job ended: $result"; cat "$work/failing.log"; exit 1; }
grep -q "upload: gmsim-reports" "$work/failing.log" || { echo "FAIL: the reports were not uploaded when gmsim failed"; cat "$work/failing.log"; exit 1; }

if grep -rqa "$secret" "$work/healthy" "$work/failing" "$work/healthy.log" "$work/failing.log"; then
  echo "FAIL: the auth string leaked"; exit 1
fi
echo "healthy receiver: $(head -1 "$work/healthy/.step-summary"), job success; answering 500: job failure 99, reports uploaded"
echo "PASS"
