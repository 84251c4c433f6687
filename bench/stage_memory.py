"""Memory of a scan, stage by stage: the parent, its largest worker, the process tree.

    python bench/stage_memory.py CORPUS.parquet [--jobs 2] [--json memory.json]

CORPUS is a bench corpus (`bench/corpus.py`: `corpus.write_from(load_bases(root), n, path)`).
The scan (`dedup.pipeline.scan`, tables only) runs in this process, a thread sampling every 0.5 s
the parent's RSS, the largest worker's RSS and the tree's PSS (Linux smaps_rollup: pages
shared by forked workers counted once), and the peak of each is printed per stage. Stage
boundaries are taken where the scan names its next stage (its progress display, wrapped here:
the scan has no other hook). Read time is inside ``prepare``: the parent reads while the
workers prepare.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import psutil
from tabulate import tabulate

from dedup import pipeline

MB = 2**20


def _sample(process: psutil.Process) -> tuple[int, int, int]:
    """(parent RSS, largest worker RSS, tree PSS), in MB."""
    workers = process.children(recursive=True)
    try:
        largest = max((worker.memory_info().rss for worker in workers), default=0)
        tree = process.memory_full_info().pss + sum(worker.memory_full_info().pss for worker in workers)
    except psutil.Error:  # a worker ended between listing and reading
        largest, tree = 0, 0
    return process.memory_info().rss // MB, largest // MB, tree // MB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    samples: list[tuple[float, tuple[int, int, int]]] = []
    marks: list[tuple[float, str]] = []
    done = threading.Event()

    def sampler() -> None:
        process = psutil.Process()
        while not done.wait(0.5):
            samples.append((time.time(), _sample(process)))

    name_stage = pipeline._Stages.__call__

    def marked(stages: pipeline._Stages, name: str, description: str) -> None:
        marks.append((time.time(), name))
        name_stage(stages, name, description)

    pipeline._Stages.__call__ = marked  # type: ignore[method-assign]
    threading.Thread(target=sampler, daemon=True).start()
    with tempfile.TemporaryDirectory() as out:
        pipeline.scan(args.corpus, out=out, jobs=args.jobs, tables_only=True, progress=False)
    marks.append((time.time(), "end"))
    done.set()
    rows = []
    for (start, name), (end, _) in zip(marks, marks[1:]):
        inside = [sample for at, sample in samples if start <= at < end] or [(0, 0, 0)]
        rows.append({"stage": name, "seconds": round(end - start, 1), "parent_rss_mb": max(s[0] for s in inside),
                     "largest_worker_rss_mb": max(s[1] for s in inside), "tree_pss_mb": max(s[2] for s in inside)})
    print(tabulate(rows, headers="keys"))
    if args.json:
        Path(args.json).write_text(json.dumps({"corpus": str(args.corpus), "jobs": args.jobs, "stages": rows},
                                              indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
