#!/usr/bin/env python3
"""Prints, from the server's /metrics, how long the background work that shares the database took: audit
flushes, audit sealer passes (SQLite: the access-log index, on the single writer) and SQLite's checkpoint steps
(passive: beside the writer; writer: the writer's own step). Count, total and mean of each, and how many took
longer than 10 ms.

    bench/background_work.py URL --save FILE     # keep a snapshot (before the measured load)
    bench/background_work.py URL --since FILE    # print what happened since that snapshot
    bench/background_work.py URL                 # print everything since the server started
"""
import json
import re
import sys
import urllib.request

NAMES = ["ehr_audit_flush_duration_seconds", "ehr_audit_seal_pass_duration_seconds", "ehr_sqlite_checkpoint_duration_seconds"]


def snapshot(url: str) -> dict:
    text = urllib.request.urlopen(url, timeout=10).read().decode()
    found: dict = {}
    for line in text.splitlines():
        m = re.match(r"^(\w+)_(sum|count|bucket)(\{[^}]*\})?\s+([0-9.eE+-]+)$", line)
        if not m or m.group(1) not in NAMES:
            continue
        labels = m.group(3) or ""
        if m.group(2) == "bucket":
            le = re.search(r'le="([^"]+)"', labels)
            rest = re.sub(r',?le="[^"]+"', "", labels).replace("{,", "{")
            rest = "" if rest == "{}" else rest
            found.setdefault(f"{m.group(1)}{rest}", {}).setdefault("buckets", {})[le.group(1) if le else "?"] = float(m.group(4))
        else:
            found.setdefault(f"{m.group(1)}{labels}", {})[m.group(2)] = float(m.group(4))
    return found


def over(buckets: dict, seconds: float) -> float:
    """Observations above `seconds`: all of them minus those in the first bucket at or above it."""
    total = buckets.get("+Inf", 0.0)
    bounds = sorted((float(b), n) for b, n in buckets.items() if b not in ("+Inf", "?"))
    for bound, count in bounds:
        if bound >= seconds:
            return total - count
    return 0.0


def main() -> None:
    url, args = sys.argv[1], sys.argv[2:]
    now = snapshot(url)
    if args[:1] == ["--save"]:
        json.dump(now, open(args[1], "w"))
        return
    before = json.load(open(args[1])) if args[:1] == ["--since"] else {}
    for name in sorted(now):
        v, b = now[name], before.get(name, {})
        count = int(v.get("count", 0) - b.get("count", 0))
        total = v.get("sum", 0.0) - b.get("sum", 0.0)
        buckets = {k: n - b.get("buckets", {}).get(k, 0.0) for k, n in v.get("buckets", {}).items()}
        mean = f"{1000 * total / count:.2f} ms" if count else "-"
        slow = f", {int(over(buckets, 0.01))} over 10 ms" if buckets else ""
        print(f"{name}: {count} times, {total:.2f} s in all, mean {mean}{slow}")


if __name__ == "__main__":
    main()
