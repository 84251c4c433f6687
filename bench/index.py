"""The archive index: add throughput, query latency and size on disk, against a scan of everything.

    python bench/index.py [--root ../shared/benchmarks] [--sizes 10000,100000] [--day 0.1]
                          [--queries 200] [--skip-scan] [--json bench/index.json]

For each size N, one corpus of bench/corpus.py (real BBC and Reuters text with injected copies,
30% of the documents copies of a story) is cut in three, in corpus order: the N documents the
index holds at first, a day of round(day · N) documents (new stories, and copies whose story
may be held), and the rest. The texts asked about are --queries: half of them the first two thirds
of held documents (a trimmed copy: something to find), half documents of the rest (new stories
and their copies, which the index mostly does not hold). Then, each a `dedup` command in its own
process (wall time, peak memory as bench/speed.py measures them):

    add N        dedup index add on an empty index
    add day      dedup index add of the day to the index of N
    scan N+day   dedup scan --tables-only of the N and the day together: what an archive
                 without an index runs each day to know the same; the ratio add day / scan N+day
                 is the index's saving (the same run, the same machine); --skip-scan leaves
                 it out where bench/speed.py has measured the scan at that size already

and in this process, on the index of N + day: each query text's `dedup.Index.query` (the first
three are run before, not counted: they load the word lists), timed one by one, p50 and p99;
and the index file's size over the documents it holds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from speed import machine, peak_mb, run_scan

import corpus

WARM_QUERIES = 3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--day", type=float, default=0.1, help="the day's documents, a share of N")
    parser.add_argument("--queries", type=int, default=200, help="an even number")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--skip-scan", action="store_true", help="do not run the scan N+day step")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    bases = corpus.load_bases(args.root)
    results: dict[str, Any] = {"machine": machine(), "runs": []}
    print(f"# dedup archive index benchmark\n\n{os.cpu_count()} CPUs, {results['machine']['ram_gb']} GB RAM\n")
    print("| N | add N s | add N docs/s | add day s | day docs/s | add day MB | scan N+day s | "
          "add day / scan | query p50 ms | query p99 ms | found | bytes/doc |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for n in (int(size) for size in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="dedup-index-bench-") as tmp:
            row = run_size(bases, n, round(args.day * n), args.queries, args.seed, Path(tmp), not args.skip_scan)
        results["runs"].append(row)
        scan = (f"{row['scan']['seconds']:.1f} | {row['add_day']['seconds'] / row['scan']['seconds']:.2f}"
                if row["scan"] else "— | —")
        print(f"| {n:,} | {row['add_n']['seconds']:.1f} | {n / row['add_n']['seconds']:,.0f} | "
              f"{row['add_day']['seconds']:.1f} | {row['day'] / row['add_day']['seconds']:,.0f} | "
              f"{peak_mb(row['add_day']):,.0f} | {scan} | {row['query_p50_ms']:.0f} | "
              f"{row['query_p99_ms']:.0f} | {row['found']}/{row['queries']} | {row['bytes_per_doc']:,.0f} |",
              flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")


def run_size(bases: list[str], n: int, day: int, queries: int, seed: int, workdir: Path,
             with_scan: bool) -> dict[str, Any]:
    import dedup

    documents, _ = corpus.build_from(bases, n + day + queries // 2, seed)
    held, today, rest = documents.iloc[:n], documents.iloc[n:n + day], documents.iloc[n + day:]
    trimmed = [text[:len(text) * 2 // 3] for text in held.text.sample(queries // 2, random_state=seed)]
    asked = [*trimmed, *rest.text[:queries // 2]]
    files = {name: workdir / f"{name}.parquet" for name in ("held", "today")}
    held.to_parquet(files["held"], index=False)
    today.to_parquet(files["today"], index=False)
    archive = workdir / "archive.dedup"
    dedup_command = [sys.executable, "-m", "dedup"]
    add_n = _step("add N", [*dedup_command, "index", "add", str(archive), str(files["held"]), "--json"],
                  workdir / "add-n.log")
    add_day = _step("add day", [*dedup_command, "index", "add", str(archive), str(files["today"]), "--json"],
                    workdir / "add-day.log")
    scan_command = [*dedup_command, "scan", str(files["held"]), str(files["today"]), "--out", str(workdir / "scan"),
                    "--tables-only", "-q"]
    scan = _step("scan N+day", scan_command, workdir / "scan.log") if with_scan else None
    with dedup.Index(archive) as index:
        for text in asked[:WARM_QUERIES]:
            index.query(text)
        seconds, found = [], 0
        for text in asked:
            started = time.perf_counter()
            answer = index.query(text)
            seconds.append(time.perf_counter() - started)
            found += not answer.related.empty
        held_now = len(index)
    size = sum(path.stat().st_size for path in workdir.glob("archive.dedup*"))
    return {"n": n, "day": day, "queries": len(asked), "add_n": add_n, "add_day": add_day, "scan": scan,
            "query_p50_ms": float(np.percentile(seconds, 50) * 1000),
            "query_p99_ms": float(np.percentile(seconds, 99) * 1000), "found": found, "held": held_now,
            "bytes": size, "bytes_per_doc": size / held_now}


def _step(name: str, command: list[str], log: Path) -> dict[str, Any]:
    """One command run and measured (`speed.run_scan`), reported on stderr as it ends: a long run
    tells what it has measured before it finishes."""
    step = run_scan(command, log)
    if step["returncode"]:
        raise SystemExit(f"{' '.join(command)} failed: see {log}")
    print(f"  {name}: {step['seconds']:.1f} s, peak {peak_mb(step):,.0f} MB", file=sys.stderr, flush=True)
    return step


if __name__ == "__main__":
    main()
