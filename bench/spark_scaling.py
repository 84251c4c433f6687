"""Throughput of the Spark engine (dedup.spark) on one machine: local[1] against local[2].

    pip install -e ".[bench]" pyspark pyarrow
    python bench/spark_scaling.py [ROOT] [--docs 3000] [--masters local[1],local[2]] [--repeat 2]
                                  [--shuffle-partitions N] [--no-local] [--json PATH]

The corpus is the first --docs documents of BBC News as `loaders.bbc` reads it from ROOT
(default ../shared/benchmarks): articles and their extractive summaries, interleaved, so each
summary sits beside its article (summary/article pairs are `partial`), written to one Parquet
file in a temporary folder, which every run reads.

Each master runs in its own Python process, so in its own JVM: "session start" is the time
from nothing to a SparkSession that has run a job (JVM start included). Then the scan runs
--repeat times:
``dedup.spark.scan(corpus.parquet, out=DIR, collect=False)``, which reads, runs every stage,
writes each table as Parquet and streams the documents once to the driver for the input hash.
A run's seconds are wall time around that call; docs/s divides the documents read by them; the
per-stage seconds are the engine's own (timings.json): a stage ends by checkpointing what it
made, so its time includes the Spark jobs it starts. The first run of a session also starts
the Python workers (imports, numba's cached compilation); later runs show the steady state.
For reference, the local engine (`dedup.scan`, jobs=1, tables only) runs once on the same file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dedup  # noqa: E402

import loaders  # noqa: E402

STAGES = ("read", "prepare", "candidates", "verify", "furniture", "align", "group", "collect", "write")


def corpus(root: Path, docs: int, folder: Path) -> Path:
    """The first docs documents of BBC News (article, summary, article, ...) as one Parquet file."""
    documents, _ = loaders.bbc(root)
    path = folder / f"bbc-{docs}.parquet"
    documents.head(docs).rename(columns={"doc_id": "id"})[["id", "text"]].to_parquet(path, index=False)
    return path


def local_run(path: Path, folder: Path) -> dict[str, Any]:
    started = time.perf_counter()
    result = dedup.scan(path, out=folder / "local", tables_only=True, jobs=1)
    seconds = time.perf_counter() - started
    return {"engine": "local", "master": "jobs=1", "run": 1, "seconds": round(seconds, 2),
            "docs": result.manifest["counts"]["records"], "stages": result.timings.get("seconds", {}),
            "related": result.manifest["counts"]["related"]}


def spark_runs(path: Path, folder: Path, master: str, repeat: int, partitions: int) -> list[dict[str, Any]]:
    """Start a session on master, scan repeat times, stop it."""
    from dedup import spark

    started = time.perf_counter()
    config = {"spark.ui.enabled": "false", "spark.ui.showConsoleProgress": "false"}
    if partitions:
        config["spark.sql.shuffle.partitions"] = str(partitions)
    session = spark.session(master, config)
    session.range(1).count()
    start_seconds = time.perf_counter() - started
    runs = []
    for run in range(1, repeat + 1):
        out = folder / f"spark-{master}-{run}"
        started = time.perf_counter()
        spark.scan(path, out=str(out), spark=session, collect=False)
        seconds = time.perf_counter() - started
        manifest = json.loads((out / "manifest.json").read_text())
        timings = json.loads((out / "timings.json").read_text())
        runs.append({"engine": "spark", "master": master, "run": run, "seconds": round(seconds, 2),
                     "docs": manifest["counts"]["records"], "stages": timings["seconds"],
                     "related": manifest["counts"]["related"], "session_start": round(start_seconds, 2),
                     "shuffle_partitions": session.conf.get("spark.sql.shuffle.partitions")})
    session.stop()
    return runs


def spark_process(path: Path, folder: Path, master: str, repeat: int, partitions: int) -> list[dict[str, Any]]:
    """`spark_runs` in a child process of its own (a fresh JVM per master)."""
    result = folder / f"runs-{master}.json"
    subprocess.run([sys.executable, __file__, "--child", master, "--corpus", str(path), "--repeat", str(repeat),
                    "--shuffle-partitions", str(partitions), "--json", str(result)], check=True)
    return json.loads(result.read_text())


def table(runs: list[dict[str, Any]]) -> str:
    header = ["engine", "master", "run", "seconds", "docs/s", "related", *STAGES]
    rows = [[r["engine"], r["master"], r["run"], f"{r['seconds']:.1f}", f"{r['docs'] / r['seconds']:.1f}",
             r["related"], *(f"{r['stages'][s]:.1f}" if s in r["stages"] else "" for s in STAGES)] for r in runs]
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows)]
    return "\n".join("  ".join(str(x).rjust(w) for x, w in zip(row, widths)) for row in [header, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", nargs="?", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--docs", type=int, default=3000)
    parser.add_argument("--masters", default="local[1],local[2]")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--shuffle-partitions", type=int, default=0,
                        help="spark.sql.shuffle.partitions [default: dedup.spark.session's, 2 per core]")
    parser.add_argument("--no-local", action="store_true", help="skip the local engine's reference run")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--child", help=argparse.SUPPRESS)  # run one master on --corpus, write its runs to --json
    parser.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        runs = spark_runs(args.corpus, args.corpus.parent, args.child, args.repeat, args.shuffle_partitions)
        args.json.write_text(json.dumps(runs))
        return
    folder = Path(tempfile.mkdtemp(prefix="dedup-spark-scaling-"))
    try:
        path = corpus(args.root, args.docs, folder)
        runs = [] if args.no_local else [local_run(path, folder)]
        for master in args.masters.split(","):
            runs += spark_process(path, folder, master, args.repeat, args.shuffle_partitions)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(table(runs))
    for master in args.masters.split(","):
        first = next(r for r in runs if r["master"] == master)
        print(f"{master}: session start {first['session_start']:.1f} s, "
              f"spark.sql.shuffle.partitions {first['shuffle_partitions']}")
    if args.json:
        args.json.write_text(json.dumps({"docs": args.docs, "runs": runs}, indent=2) + "\n")


if __name__ == "__main__":
    main()
