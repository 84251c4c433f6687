"""Candidate-stage benchmark: recall of known related pairs and candidate volume,
dedup's two LSH paths against the classic word 5-gram MinHash LSH at 0.7.

    pip install -e ".[bench]"
    python bench/candidates.py [DATA_DIR] [--json results.json]

DATA_DIR defaults to ../shared/benchmarks. Prints a table; --json writes it too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dedup.candidates import find_candidates  # noqa: E402
from dedup.params import Params  # noqa: E402
from dedup.prepare import prepare  # noqa: E402

import loaders  # noqa: E402

SETTINGS = {
    "dedup (document + sentence paths)": (Params(), None),
    "dedup, document path only": (Params(), "document"),
    "classic: word 5-grams, J ≥ 0.7": (Params(units="words", shingle_k=5, doc_threshold=0.7), "document"),
}


def _pairs(candidates: pd.DataFrame, path: str | None) -> set[frozenset[str]]:
    if path is not None:
        candidates = candidates[candidates.via.str.contains(path)]
    return {frozenset(p) for p in zip(candidates.doc_a, candidates.doc_b)}


def run(documents: pd.DataFrame, truth: list[tuple[str, str, str]]) -> list[dict[str, object]]:
    """truth: (doc, doc, label) triples that should be candidates."""
    rows = []
    for name, (params, path) in SETTINGS.items():
        started = time.perf_counter()
        _, _, _, fp = prepare(documents, params)
        candidates, _ = find_candidates(fp, params)
        found = _pairs(candidates, path)
        seconds = time.perf_counter() - started
        labels = sorted({label for _, _, label in truth})
        recall = {label: sum(frozenset((a, b)) in found for a, b, lab in truth if lab == label)
                  / sum(lab == label for _, _, lab in truth) for label in labels}
        rows.append({"setting": name, "candidates": len(found),
                     "candidates_per_doc": round(2 * len(found) / len(documents), 2),
                     **{f"recall[{k}]": round(v, 4) for k, v in recall.items()},
                     "seconds": round(seconds, 1)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = {}
    docs, truth = loaders.clough_stevenson(args.data)
    results["clough-stevenson (100 texts)"] = run(
        docs, [(r.answer, r.source, r.label) for r in truth.itertuples()])
    docs, truth = loaders.bbc(args.data)
    results["bbc-news (4,450 texts)"] = run(
        docs, [(r.summary, r.article, "summary") for r in truth.itertuples()])
    for task, rows in results.items():
        print(f"\n## {task}\n")
        print(pd.DataFrame(rows).to_markdown(index=False))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
