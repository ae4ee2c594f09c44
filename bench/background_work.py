#!/usr/bin/env python3
"""Prints, from the server's /metrics, how long the background work that shares the database took since start:
audit flushes, audit sealer passes (SQLite: the access-log index, on the single writer) and SQLite's checkpoint
steps (passive: beside the writer; writer: the writer's own step). Count, total and mean of each.

    bench/background_work.py http://127.0.0.1:8098/metrics
"""
import re
import sys
import urllib.request

NAMES = ["ehr_audit_flush_duration_seconds", "ehr_audit_seal_pass_duration_seconds", "ehr_sqlite_checkpoint_duration_seconds"]


def main() -> None:
    text = urllib.request.urlopen(sys.argv[1], timeout=10).read().decode()
    found = {}
    for line in text.splitlines():
        m = re.match(r"^(\w+)_(sum|count)(\{[^}]*\})?\s+([0-9.eE+-]+)$", line)
        if m and m.group(1) in NAMES:
            found.setdefault((m.group(1), m.group(3) or ""), {})[m.group(2)] = float(m.group(4))
    for (name, labels), v in sorted(found.items()):
        count, total = int(v.get("count", 0)), v.get("sum", 0.0)
        mean = f"{1000 * total / count:.2f} ms" if count else "-"
        print(f"{name}{labels}: {count} times, {total:.2f} s in all, mean {mean}")


if __name__ == "__main__":
    main()
