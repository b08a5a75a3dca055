#!/usr/bin/env python3
"""Figures of bench/pacing.sh's runs, one table, and whether the targets were met.

Each run directory holds: record.ndjson (gmsim --record), summary.json (--summary-json),
time.txt (/usr/bin/time -v), access.log (nginx: "$msec $connection $request_length
$status") and meta.json (written by pacing.sh). Exit 0 when every target is met, 1 when
one is missed, 2 when a run's files cannot be read.

nginx's $msec is when it logs a request (after the response, in ms), so its gaps per
connection only approximate the gaps between arrivals: the minimum is noisy when nginx
is busy; the 1st percentile is the steadier figure.
"""

import argparse
import json
import math
import os
import re
import sys


def percentile(sorted_values, p):
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def read_record(path):
    """Per stream, (actual start µs, intended ms, latency µs) of each request; and every
    actual - intended (µs)."""
    starts = {}
    late_us = []
    first = last = None
    with open(path, "rb") as f:
        header = f.readline()
        if b'"gmsim_record"' not in header:
            raise ValueError(f"{path}: not a gmsim recording")
        for line in f:
            # The body is the last field and by far the longest: parse what precedes it.
            cut = line.find(b',"body":')
            fields = json.loads(line[:cut] + b"}" if cut >= 0 else line)
            sent = fields["sent_us"]
            key = (fields["org"], fields["dep"], fields["type"])
            starts.setdefault(key, []).append((sent, fields["t_ms"], fields["latency_us"]))
            late_us.append(sent - fields["t_ms"] * 1000)
            first = sent if first is None else min(first, sent)
            last = sent if last is None else max(last, sent)
    return starts, late_us, first, last


def steady_rate(starts, first, duration_s, max_delay_s):
    """Requests started per second while every stream is in backlog: from 2 x max_delay
    after the first start to the end of the duration. A stream's first flush tick comes
    within max_delay and cuts only the rows made since the start, which it sends before
    its second tick; from that one on its pages wait. Afterwards the streams finish their
    backlogs one by one, and the rate over the whole run falls with them. None when the
    duration is not longer than 2 x max_delay, or max_delay is unknown (a run directory
    from before pacing.sh kept it)."""
    if first is None or max_delay_s is None or duration_s <= 2 * max_delay_s:
        return None  # shown as "-": no stretch where every stream was surely sending
    begin_s = 2 * max_delay_s
    begin, end = first + begin_s * 1e6, first + duration_s * 1e6
    started = sum(1 for series in starts.values() for r in series if begin <= r[0] < end)
    return started / (duration_s - begin_s)


def gaps_of(series_by_key):
    gaps = []
    for series in series_by_key.values():
        series.sort()
        gaps.extend(b - a for a, b in zip(series, series[1:]))
    gaps.sort()
    return gaps


def pacing_delays(requests_by_stream, min_gap_ms):
    """How long after the earliest moment the rules allowed each request started (µs):
    its intended time, min_gap after the previous start, and the previous answer (one
    request in flight per stream). Unlike actual - intended, this does not add up along
    a stream: a request that starts late moves the earliest start of every later one."""
    delays = []
    for requests in requests_by_stream.values():
        requests.sort()
        previous = None
        for sent, t_ms, latency in requests:
            earliest = t_ms * 1000
            if previous is not None:
                earliest = max(earliest, previous[0] + max(min_gap_ms * 1000, previous[2]))
            delays.append(sent - earliest)
            previous = (sent, t_ms, latency)
    delays.sort()
    return delays


def read_access_log(path):
    """Per nginx connection, the times (ms) its requests were logged; and the count."""
    by_connection = {}
    count = 0
    body_bytes = 0
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 4:
                continue
            count += 1
            body_bytes += int(parts[2])
            by_connection.setdefault(parts[1], []).append(round(float(parts[0]) * 1000))
    return by_connection, count, body_bytes


def read_time(path):
    text = open(path).read()

    def number(label):
        m = re.search(re.escape(label) + r":\s*([0-9.:]+)", text)
        if not m:
            raise ValueError(f"{path}: no '{label}'")
        return m.group(1)

    elapsed = 0.0
    for part in number("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"):
        elapsed = elapsed * 60 + float(part)
    return {
        "cpu_s": float(number("User time (seconds)")) + float(number("System time (seconds)")),
        "user_s": float(number("User time (seconds)")),
        "sys_s": float(number("System time (seconds)")),
        "wall_s": elapsed,
        "max_rss_mib": int(number("Maximum resident set size (kbytes)")) / 1024.0,
    }


def analyse(run_dir, min_gap_ms):
    meta = json.load(open(os.path.join(run_dir, "meta.json")))
    summary = json.load(open(os.path.join(run_dir, "summary.json")))
    record = os.path.join(run_dir, "record.ndjson")
    # pacing.sh --no-record: no recording; the lateness is the summary's own.
    recorded_run = os.path.exists(record)
    requests, late_us, first, last = read_record(record) if recorded_run else ({}, [], None, None)
    delays = pacing_delays(requests, min_gap_ms)
    gaps = gaps_of({k: [r[0] for r in v] for k, v in requests.items()})
    late_us.sort()
    by_connection, nginx_requests, nginx_bytes = read_access_log(os.path.join(run_dir, "access.log"))
    nginx_gaps = gaps_of(by_connection)
    t = read_time(os.path.join(run_dir, "time.txt"))
    req = summary["requests"]
    recorded = len(late_us)
    span_s = (last - first) / 1e6 if recorded > 1 else 0
    ms = lambda us: None if us is None else us / 1000.0
    return {
        "label": meta["label"],
        "workers": meta["workers"],
        "exit_code": meta["exit_code"],
        "streams": summary.get("streams", meta["streams"]),
        "requests": req["attempted"],
        "recorded": recorded if recorded_run else None,
        "not_delivered": req["attempted"] - req["delivered"],
        "unsent": req.get("unsent", 0),
        "requests_per_s": (recorded / span_s if span_s > 0 else 0) if recorded_run
                          else req["attempted"] / t["wall_s"] if t["wall_s"] > 0 else 0,
        "requests_per_s_steady": steady_rate(requests, first, meta["duration_s"],
                                             meta.get("max_delay_s")) if recorded_run else None,
        "gap_min_ms": ms(gaps[0] if gaps else None),
        "gap_p50_ms": ms(percentile(gaps, 50)),
        "gap_p99_ms": ms(percentile(gaps, 99)),
        "gap_max_ms": ms(gaps[-1] if gaps else None),
        "gap_violations": sum(1 for g in gaps if g < min_gap_ms * 1000) if recorded_run else None,
        "gaps": len(gaps),
        "late_p50_ms": ms(percentile(late_us, 50)),
        "late_p99_ms": ms(percentile(late_us, 99)),
        "late_max_ms": ms(late_us[-1] if late_us else None),
        "late_over_1ms": sum(1 for v in late_us if v > 1000),
        "delay_p50_ms": ms(percentile(delays, 50)),
        "delay_p99_ms": (ms(percentile(delays, 99)) if recorded_run
                         else summary.get("start_delay_ms", {}).get("p99")),
        "delay_max_ms": ms(delays[-1] if delays else None),
        "summary_send_delay_p99_ms": summary.get("send_delay_ms", {}).get("p99"),
        "summary_start_delay_p99_ms": summary.get("start_delay_ms", {}).get("p99"),
        "cpu_s": t["cpu_s"],
        "user_s": t["user_s"],
        "sys_s": t["sys_s"],
        "wall_s": t["wall_s"],
        "cpu_pct_of_core": 100.0 * t["cpu_s"] / t["wall_s"] if t["wall_s"] > 0 else 0,
        "cpu_us_per_request": 1e6 * t["cpu_s"] / req["attempted"] if req["attempted"] else None,
        "max_rss_mib": t["max_rss_mib"],
        "nginx_requests": nginx_requests,
        "nginx_connections": len(by_connection),
        "nginx_request_bytes": nginx_bytes,
        "body_bytes_sent": req.get("bytes", 0),
        "nginx_gap_min_ms": nginx_gaps[0] if nginx_gaps else None,
        "nginx_gap_p1_ms": percentile(nginx_gaps, 1),
        "nginx_cpu_s": meta.get("nginx_cpu_s"),
        "steal_s": meta.get("steal_s"),
        "steal_pct": (100.0 * meta["steal_s"] / (t["wall_s"] * (os.cpu_count() or 1))
                      if meta.get("steal_s") is not None and t["wall_s"] > 0 else None),
        "load_before": meta.get("load_before"),
        "load_after": meta.get("load_after"),
    }


def misses(r, args):
    out = []
    if r["exit_code"] != 0:
        out.append(f"gmsim exited {r['exit_code']}")
    if r["gap_violations"]:
        out.append(f"{r['gap_violations']} gaps under {args.min_gap_ms:g}ms")
    key, what = (("late_p99_ms", "actual - intended") if args.late_measure == "intended"
                 else ("delay_p99_ms", "delay after the earliest allowed start"))
    if r[key] is None or r[key] > args.max_late_ms:
        out.append(f"p99 of {what} {r[key]}ms > {args.max_late_ms:g}ms")
    if r["nginx_requests"] != r["requests"]:
        out.append(f"nginx counted {r['nginx_requests']} of {r['requests']} requests")
    if r["recorded"] is not None and r["recorded"] != r["requests"]:
        out.append(f"{r['recorded']} recorded of {r['requests']} requests")
    if r["not_delivered"] != 0:
        out.append(f"{r['not_delivered']} requests not delivered")
    if r["nginx_request_bytes"] < r["body_bytes_sent"]:
        out.append("nginx read fewer bytes than the bodies sent")
    if args.max_rss_mib is not None and r["max_rss_mib"] > args.max_rss_mib:
        out.append(f"max RSS {r['max_rss_mib']:.0f}MiB > {args.max_rss_mib:g}MiB")
    return out


def fmt(v, digits=2):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


ROWS = [
    ("streams", "streams", 0),
    ("requests (attempted)", "requests", 0),
    ("requests/s, whole run", "requests_per_s", 0),
    ("requests/s, all streams sending", "requests_per_s_steady", 0),
    ("not delivered / unsent", lambda r: f"{r['not_delivered']} / {r['unsent']}", 0),
    ("gap/stream min ms", "gap_min_ms", 3),
    ("gap/stream p50 ms", "gap_p50_ms", 3),
    ("gap/stream p99 ms", "gap_p99_ms", 3),
    ("gap/stream max ms", "gap_max_ms", 3),
    ("gaps < min_gap (must be 0)", "gap_violations", 0),
    ("late (sent-intended) p50 ms", "late_p50_ms", 3),
    ("late p99 ms", "late_p99_ms", 3),
    ("late max ms", "late_max_ms", 3),
    ("late > 1 ms (count)", "late_over_1ms", 0),
    ("delay after allowed p50 ms", "delay_p50_ms", 3),
    ("delay after allowed p99 ms (target)", "delay_p99_ms", 3),
    ("summary start_delay_ms p99", "summary_start_delay_p99_ms", 3),
    ("delay after allowed max ms", "delay_max_ms", 3),
    ("CPU user+sys s", lambda r: f"{r['cpu_s']:.2f} ({r['user_s']:.2f}+{r['sys_s']:.2f})", 0),
    ("CPU % of one core", "cpu_pct_of_core", 1),
    ("CPU µs per request (whole process)", "cpu_us_per_request", 1),
    ("wall s", "wall_s", 1),
    ("max RSS MiB", "max_rss_mib", 1),
    ("nginx requests", "nginx_requests", 0),
    ("nginx connections", "nginx_connections", 0),
    ("nginx gap/conn min ms", "nginx_gap_min_ms", 0),
    ("nginx gap/conn p1 ms", "nginx_gap_p1_ms", 0),
    ("nginx CPU s", "nginx_cpu_s", 2),
    ("machine CPU steal s", "steal_s", 2),
    ("steal % of cores x wall", "steal_pct", 1),
    ("load before", "load_before", 0),
    ("load after", "load_after", 0),
]


def print_table(results, args, out):
    cells = [["", *[r["label"] for r in results]]]
    for title, key, digits in ROWS:
        row = [title]
        for r in results:
            row.append(key(r) if callable(key) else fmt(r[key], digits))
        cells.append(row)
    cells.append(["targets", *["ok" if not r["misses"] else "MISSED" for r in results]])
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    for row in cells:
        out.write("  ".join(c.ljust(widths[0]) if i == 0 else c.rjust(widths[i])
                            for i, c in enumerate(row)).rstrip() + "\n")
    for r in results:
        for m in r["misses"]:
            out.write(f"{r['label']}: MISSED: {m}\n")
        if r.get("steal_pct") is not None and r["steal_pct"] >= 5:
            out.write(f"{r['label']}: the hypervisor took {r['steal_pct']:.0f}% of the machine's CPU "
                      "during the run (steal): its timing figures measure the host's load too\n")


def print_medians(results, args, out):
    """With several runs of one --workers value (--repeat), the median of the late p99:
    on a shared machine one run's p99 moves with the host's load, so the median of a few
    is the figure to quote (as hyperfine and k6's repeated runs do). Each run is still
    judged on its own above."""
    key = "late_p99_ms" if args.late_measure == "intended" else "delay_p99_ms"
    by_workers = {}
    for r in results:
        by_workers.setdefault(r["workers"], []).append(r)
    for workers, runs in sorted(by_workers.items()):
        values = sorted(r[key] for r in runs if r[key] is not None)
        if len(values) < 2:
            continue
        mid = len(values) // 2
        median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
        within = sum(1 for v in values if v <= args.max_late_ms)
        steals = [r["steal_s"] for r in runs if r.get("steal_s") is not None]
        steal = f"; steal {min(steals):.2f}-{max(steals):.2f} s per run" if steals else ""
        out.write(f"w{workers}: median p99 over {len(values)} runs {median:.3f}ms "
                  f"(target {args.max_late_ms:g}ms: {'met' if median <= args.max_late_ms else 'MISSED'}); "
                  f"{within} of {len(values)} runs within it{steal}\n")


def print_baseline(results, baseline, args, out):
    """The requests/s the cadence needs, what wrk carried through the same nginx with as
    many connections (the machine's and the receiver's ceiling), and each run against
    both: a pacing target the ceiling is under is out of any sender's reach here."""
    streams = baseline["connections"]
    needed = streams * 1000.0 / args.min_gap_ms
    rate = baseline["requests_per_s"]
    per_request = lambda cpu_s: 1e6 * cpu_s / (rate * baseline["duration_s"]) if rate else 0
    out.write(f"needed: {streams} streams x 1000 / {args.min_gap_ms:g}ms = {needed:,.0f} requests/s\n")
    out.write(f"baseline: {baseline['tool']}, the same nginx, a {baseline['body_bytes']}-byte gmsim body: "
              f"{rate:,.0f} requests/s ({rate / needed:.2f} of the need); "
              f"wrk {per_request(baseline['wrk_cpu_s']):.1f} µs CPU per request, "
              f"nginx {per_request(baseline['nginx_cpu_s']):.1f}; steal {baseline['steal_s']:.2f} s"
              + (f"; {baseline['non_2xx']} answers not 2xx" if baseline["non_2xx"] else "") + "\n")
    connect_errors = baseline.get("socket_errors", {}).get("connect", 0)
    if connect_errors:
        out.write(f"baseline: wrk could not open {connect_errors} of its connections: its rate is "
                  "that of fewer connections than streams\n")
    if rate < needed:
        out.write(f"baseline: this machine and receiver carry {rate / needed:.0%} of the requests/s "
                  "the cadence needs, with the cheapest sender: no sender keeps the pace here\n")
    for r in results:
        sent = r["requests_per_s_steady"]
        if sent is None:
            out.write(f"{r['label']}: " + ("no recording (--no-record): no steady rate\n"
                                            if r["recorded"] is None else
                                            "no stretch where every stream was surely in backlog "
                                            "(the duration must be over 2 x max_delay)\n"))
            continue
        out.write(f"{r['label']}: {sent:,.0f} requests/s while every stream was sending, "
                  f"{sent / needed:.2f} of the need, {sent / rate if rate else 0:.2f} of wrk's\n")
    # Issue 22's target 1: gmsim's CPU per request (whole process) against wrk's.
    wrk_us = per_request(baseline["wrk_cpu_s"])
    for r in results:
        if r["cpu_us_per_request"] is not None and wrk_us > 0:
            out.write(f"{r['label']}: CPU per request {r['cpu_us_per_request']:.1f} µs, "
                      f"{r['cpu_us_per_request'] / wrk_us:.1f}x wrk's"
                      + ("" if r["recorded"] is not None else " (without --record)") + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="run directories written by pacing.sh")
    parser.add_argument("--min-gap-ms", type=float, default=200)
    parser.add_argument("--max-late-ms", type=float, default=2)
    parser.add_argument("--max-rss-mib", type=float, default=None)
    parser.add_argument("--late-measure", choices=["intended", "allowed"], default="allowed",
                        help="what --max-late-ms bounds: actual - intended (t_ms), or the "
                             "delay after the earliest start the rules allowed")
    parser.add_argument("--json", help="write every figure here too")
    parser.add_argument("--baseline", help="wrk's figures (pacing.sh writes them): the "
                        "requests/s the same nginx carries at all")
    args = parser.parse_args()
    results = []
    for run_dir in args.runs:
        try:
            r = analyse(run_dir, args.min_gap_ms)
        except (OSError, ValueError, KeyError) as e:
            print(f"pacing_report.py: {run_dir}: {e}", file=sys.stderr)
            return 2
        r["misses"] = misses(r, args)
        results.append(r)
    print_table(results, args, sys.stdout)
    print_medians(results, args, sys.stdout)
    baseline = None
    baseline_failed = False
    if args.baseline:
        try:
            baseline = json.load(open(args.baseline))
            print_baseline(results, baseline, args, sys.stdout)
        except (OSError, ValueError, KeyError, ZeroDivisionError) as e:
            print(f"pacing_report.py: {args.baseline}: {e}", file=sys.stderr)
            baseline, baseline_failed = None, True
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"targets": {"min_gap_ms": args.min_gap_ms, "max_late_ms": args.max_late_ms,
                                   "late_measure": args.late_measure,
                                   "max_rss_mib": args.max_rss_mib},
                       "baseline": baseline, "runs": results}, f, indent=2)
    if baseline_failed:
        return 2
    return 1 if any(r["misses"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
