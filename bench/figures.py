#!/usr/bin/env python3
"""Reads wrk, hey and pgbench output for bench/run, prints one line per measurement, keeps the figures in a
JSON file, and prints the final table of targets from it.

    figures.py wrk     RESULTS KEY FILE LABEL
    figures.py hey     RESULTS KEY FILE LABEL
    figures.py pgbench RESULTS KEY FILE LABEL [LOG_PREFIX]   # LOG_PREFIX: pgbench -l logs, for percentiles
    figures.py set     RESULTS KEY FIELD VALUE                # a number (or text) measured elsewhere
    figures.py get     RESULTS KEY FIELD                      # prints it, for the script
    figures.py ratio   RESULTS KEY REFERENCE_KEY FIELD        # the server's figure over pgbench's, one line
    figures.py table   RESULTS
"""
import glob
import json
import os
import re
import sys

command, results_path = sys.argv[1], sys.argv[2]
results = json.load(open(results_path)) if os.path.exists(results_path) else {}


def save():
    json.dump(results, open(results_path, "w"), indent=1)


def ms(value, unit):
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "secs": 1000}[unit]


def wrk(key, path, label):
    text = open(path).read()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    pct = {p: ms(*re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)" % p, text, re.M).groups()) for p in (50, 99)}
    requests = int(re.search(r"^\s+(\d+) requests in", text, re.M).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: (.*)", text)
    timeouts = re.search(r"Socket errors: .*timeout (\d+)", text)
    results[key] = {"rate": rate, "p50": pct[50], "p99": pct[99], "requests": requests,
                    "errors": (int(non2xx.group(1)) if non2xx else 0) + (int(timeouts.group(1)) if timeouts else 0)}
    print(f"{label}: {rate:.0f} req/s, p50 {pct[50]:.2f} ms, p99 {pct[99]:.2f} ms"
          + (f", NON-2xx {non2xx.group(1)}" if non2xx else "") + (f", socket errors {errors.group(1)}" if errors else ""))


def hey(key, path, label):
    text = open(path).read()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    pct = {}
    for p in (50, 99):
        m = re.search(r"^\s+%s%% in ([\d.]+) secs" % p, text, re.M)
        pct[p] = float(m.group(1)) * 1000 if m else float("nan")
    codes = dict((c, int(n)) for c, n in re.findall(r"\[(\d+)\]\s+(\d+) responses", text))
    errors = sum(n for c, n in codes.items() if not c.startswith("2"))
    error_lines = re.search(r"Error distribution:\n((?:\s+\[\d+\].*\n?)+)", text)
    if error_lines:
        errors += sum(int(n) for n in re.findall(r"\[(\d+)\]", error_lines.group(1)))
    results[key] = {"rate": rate, "p50": pct[50], "p99": pct[99], "errors": errors, "requests": sum(codes.values())}
    print(f"{label}: {rate:.0f} req/s, p50 {pct[50]:.2f} ms, p99 {pct[99]:.2f} ms"
          + ", status " + " ".join(f"{c}x{n}" for c, n in sorted(codes.items())) + (f", ERRORS {errors}" if errors else ""))


def pgbench(key, path, label, log_prefix=None):
    text = open(path).read()
    m = re.search(r"^tps = ([\d.]+)", text, re.M)
    if not m:
        print(f"{label}: pgbench FAILED: " + " | ".join(text.strip().splitlines()[-3:]))
        return
    rate = float(m.group(1))
    figure = {"rate": rate}
    line = f"{label}: {rate:.0f} transactions/s"
    average = re.search(r"^latency average = ([\d.]+) ms", text, re.M)
    if average:
        line += f", latency average {float(average.group(1)):.2f} ms"
    if log_prefix:
        # pgbench -l: "client transaction latency_us script epoch epoch_us [lag_us]", one line per transaction.
        latencies = sorted(int(fields[2]) for path in glob.glob(log_prefix + ".*")
                           for fields in (l.split() for l in open(path)) if len(fields) >= 3 and fields[2].isdigit())
        if latencies:
            at = lambda p: latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] / 1000
            figure.update(p50=at(50), p99=at(99))
            line += f", p50 {at(50):.2f} ms, p99 {at(99):.2f} ms"
    failed = re.search(r"^number of failed transactions: (\d+)", text, re.M)
    if failed and int(failed.group(1)):
        line += f", FAILED {failed.group(1)}"
        figure["errors"] = int(failed.group(1))
    results[key] = figure
    print(line)


def table():
    get = lambda key, field: (results.get(key) or {}).get(field)
    rows = []  # target, figure, reference, ratio, goal, holds (None: no figure)

    def number(x, digits=0):
        return f"{x:,.{digits}f}"

    def ratio_row(target, key, ref_key, ref_name, goal, unit="req/s"):
        value, ref = get(key, "rate"), get(ref_key, "rate")
        errors = (get(key, "errors") or 0) + (get(ref_key, "errors") or 0)
        if value is None or ref is None or ref == 0:
            rows.append((target, "n/a" if value is None else f"{number(value)} {unit}",
                         "n/a" if ref is None else f"{ref_name} {number(ref)}/s", "", f">={goal}", None))
            return
        r = value / ref
        empty = key.startswith("list") and get("list", "page") == 0  # an empty page proves nothing
        rows.append((target, f"{number(value)} {unit}" + (" (errors)" if errors else "") + (" (empty)" if empty else ""),
                     f"{ref_name} {number(ref)}/s", f"{r:.3f}", f">={goal:.2f}", r >= goal and not errors and not empty))

    ratio_row("list, fresh statistics", "list", "pg_list", "pgbench", 0.15)
    ratio_row("list, straight after load", "list_unanalyzed", "pg_list_unanalyzed", "pgbench", 0.15)
    ratio_row("create note", "note", "pg_note", "pgbench insert", 0.20)

    for name, key in (("list", "list"), ("note", "note")):
        p99, ref, rate, asked = get(f"{key}_half", "p99"), get(f"pg_{key}_half", "p99"), get(f"{key}_half", "rate"), get(f"{key}_half", "asked")
        errors = get(f"{key}_half", "errors") or 0
        target = f"{name} p99 at half peak" + (f" ({number(asked)}/s)" if asked else "")
        if p99 is None or p99 != p99:
            rows.append((target, "n/a", "", "", "<=10 ms", None))
            continue
        rows.append((target, f"p99 {p99:.2f} ms" + (" (errors)" if errors else ""),
                     f"pgbench p99 {ref:.2f} ms" if ref else "n/a", f"{p99 / ref:.2f}" if ref else "", "<=10 ms",
                     p99 <= 10 and not errors))

    # The large practice's two runs (mean) against the standard practice's run between them; without those, the
    # large practice's one run against the standard practice's first figure.
    large, again, standard = get("list_large", "p50"), get("list_large_again", "p50"), get("list_beside", "p50")
    standard_key = "list_beside"
    if again is None or standard is None:
        again, standard, standard_key = large, get("list", "p50"), "list"
    size = get("list_large", "size") or "large"
    if large is None or standard is None:
        rows.append((f"list p50, {size} vs standard", "n/a", "n/a", "", "<=1.2", None))
    else:
        large = (large + again) / 2
        errors = (get("list_large", "errors") or 0) + (get("list_large_again", "errors") or 0)
        rows.append((f"list p50, {size} vs standard",
                     f"{large:.2f} ms ({number(get('list_large', 'rate'))}/s)" + (" (errors)" if errors else ""),
                     f"{standard:.2f} ms ({number(get(standard_key, 'rate'))}/s)", f"{large / standard:.2f}", "<=1.2",
                     large / standard <= 1.2 and not errors))

    end, half, count = get("rss", "end"), get("rss", "half"), get("rss", "requests")
    label = f"server RSS after {number(count)} requests" if count else "server RSS after N requests"
    errors = get("rss", "errors") or 0
    # Judged on memory alone; errors (non-2xx answers, timeouts) are shown beside it.
    rows.append((label, f"{end:.0f} MiB" + (f" (errors: {errors})" if errors else "") if end else "n/a", "", "", "<=150 MiB",
                 end <= 150 if end else None))
    rows.append(("server RSS, second half vs first", f"{end:.0f} MiB" if end else "n/a",
                 f"halfway {half:.0f} MiB" if half else "n/a", f"{end / half:.3f}" if end and half else "",
                 "<=1.05", end <= half * 1.05 if end and half else None))

    on = [get(k, "rate") for k in ("list", "list_audit_on") if get(k, "rate")]
    off = get("list_audit_off", "rate")
    if on and off:
        mean = sum(on) / len(on)
        rows.append(("list, audit on vs off", f"{number(mean)} req/s", f"audit off {number(off)}/s", f"{mean / off:.3f}", ">=0.70",
                     mean / off >= 0.70))
    else:
        rows.append(("list, audit on vs off", "n/a", "n/a", "", ">=0.70", None))

    sqlite, pg_server = get("sqlite_list", "rate"), get("list", "rate")
    errors = get("sqlite_list", "errors") or 0
    rows.append(("list on embedded SQLite", f"{number(sqlite)} req/s" + (" (errors)" if errors else "") if sqlite else "n/a",
                 f"on PostgreSQL {number(pg_server)}/s" if pg_server else "", f"{sqlite / pg_server:.3f}" if sqlite and pg_server else "",
                 ">=3,000/s", (sqlite >= 3000 and not errors) if sqlite else None))
    ready = get("sqlite_ready", "median_ms")
    starts = get("sqlite_ready", "starts")
    rows.append(("serve ready, SQLite (median of 3)", f"{ready:.0f} ms" if ready else "n/a",
                 "starts " + ", ".join(f"{s:.0f}" for s in starts) + " ms" if starts else "", "", "<1,000 ms",
                 ready < 1000 if ready else None))

    print("== targets")
    widths = (40, 26, 26, 8, 11)
    header = ("target", "figure", "reference", "ratio", "goal", "result")
    fmt = lambda cells: "".join(c.ljust(w) for c, w in zip(cells, widths)) + cells[-1]
    print(fmt(header))
    for target, figure, reference, ratio, goal, holds in rows:
        print(fmt((target, figure, reference, ratio, goal, "PASS" if holds else "FAIL" if holds is False else "NO FIGURE")))
    print(f"targets: {sum(1 for r in rows if r[5])} of {len(rows)} hold")


if command == "wrk":
    wrk(*sys.argv[3:6])
elif command == "hey":
    hey(*sys.argv[3:6])
elif command == "pgbench":
    pgbench(*sys.argv[3:])
elif command == "set":
    key, field, value = sys.argv[3:6]
    try:
        value = json.loads(value)
    except ValueError:
        pass
    results.setdefault(key, {})[field] = value
elif command == "get":
    value = (results.get(sys.argv[3]) or {}).get(sys.argv[4])
    print("" if value is None else value)
elif command == "ratio":
    key, reference, field = sys.argv[3:6]
    value, ref = (results.get(key) or {}).get(field), (results.get(reference) or {}).get(field)
    if value is not None and ref:
        what = "req/s" if field == "rate" else field + ", ms"
        print(f"  server / pgbench, {what}: {value:,.{0 if field == 'rate' else 2}f} / {ref:,.{0 if field == 'rate' else 2}f} = {value / ref:.3f}")
elif command == "table":
    table()
else:
    sys.exit("unknown command " + command)
if command not in ("get", "ratio", "table"):
    save()
