#!/usr/bin/env python3
"""(bench/open_loop runs the C version of this generator, bench/open_loop.c; BENCH_OPEN_LOOP=python runs this one.)
An open-loop load at a constant mean rate: requests arrive as a Poisson process (independent clients), each on
an idle keep-alive connection (a new one when none is idle), and its latency counts from the moment it was due, so
a slow answer cannot hide the queue behind it. hey -q ticks all its workers at once, which sends bursts of
-c requests; this does not. Prints a summary in hey's format (bench/figures.py reads it).

    open_loop.py --rate 300 --duration 20 --header 'Authorization: Bearer ...' [--method POST --body FILE] URL

--warmup S sends the same load for S seconds first and leaves those requests out of every figure (the server's
and the generator's connections are open and warm when the measured part starts).
"""
import argparse
import asyncio
import random
import time
import urllib.parse
from collections import Counter


async def request(pool, host, port, raw):
    reader, writer = pool.pop() if pool else await asyncio.open_connection(host, port)
    writer.write(raw)
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    pool.append((reader, writer))
    return int(status_line.split()[1])


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, required=True)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--warmup", type=float, default=0, help="seconds of the same load before the measured part")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--method", default="GET")
    parser.add_argument("--body")
    parser.add_argument("--trace", help="write each request's due time (s from start), latency (s) and status here")
    parser.add_argument("url")
    args = parser.parse_args()
    url = urllib.parse.urlsplit(args.url)
    body = open(args.body, "rb").read() if args.body else b""
    head = f"{args.method} {url.path}{'?' + url.query if url.query else ''} HTTP/1.1\r\nHost: {url.netloc}\r\n"
    head += "".join(h + "\r\n" for h in args.header)
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    raw = head.encode() + b"\r\n" + body
    pool, latencies, codes, errors, tasks, trace = [], [], Counter(), Counter(), [], []
    rng = random.Random(7)

    async def one(due):
        try:
            status = await request(pool, url.hostname, url.port, raw)
            if due < start:
                return  # a warm-up request
            codes[status] += 1
            latencies.append(time.monotonic() - due)
            trace.append((due - start, latencies[-1], status))
        except Exception as error:  # a refused or broken connection is an error, not a latency
            if due >= start:
                errors[type(error).__name__] += 1

    start = time.monotonic() + args.warmup
    due = start - args.warmup
    while due - start < args.duration:
        due += rng.expovariate(args.rate)
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(one(due)))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - start
    latencies.sort()
    if args.trace:
        with open(args.trace, "w") as out:
            out.writelines(f"{d:.6f} {l:.6f} {s}\n" for d, l, s in sorted(trace))
    pick = lambda p: latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] if latencies else float("nan")
    print(f"Summary:\n  Total:\t{elapsed:.4f} secs\n  Requests/sec:\t{len(latencies) / elapsed:.4f}\n")
    print(f"Open loop: Poisson arrivals at {args.rate}/s, {len(pool)} connections at the end\n")
    print("Latency distribution:")
    for p in (10, 25, 50, 75, 90, 95, 99):
        print(f"  {p}% in {pick(p):.4f} secs")
    print("\nStatus code distribution:")
    for code, n in sorted(codes.items()):
        print(f"  [{code}]\t{n} responses")
    if errors:
        print("\nError distribution:")
        for name, n in errors.items():
            print(f"  [{n}]\t{name}")


asyncio.run(main())
