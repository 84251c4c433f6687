"""Cross-validate the relation thresholds on Clough–Stevenson 4-class accuracy, and check the
chosen values on BBC.

    python bench/tune_relations.py [DATA_DIR] [--json tuning.json]

The evidence of a pair (sentence-match shares, order) does not depend on the relation
thresholds (checked here on the Clough–Stevenson corpus), so each answer~source pair is
verified once with `dedup.compare` and re-related with `dedup.relate.relate_pair` for every
point of a small grid. Stratified 5-fold CV: on four folds the grid point with the best
4-class accuracy is chosen (ties go to the point that changes the fewest defaults, then the
smallest total change), and it is scored on the fifth. The thresholds chosen on all 95 pairs
are then applied to the stored BBC pairs to check summary recall, precision and the twin
groups.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dedup  # noqa: E402
from dedup.cluster import group  # noqa: E402
from dedup.relate import LINKED, relate_pair  # noqa: E402
from dedup.verify import EVIDENCE_COLUMNS  # noqa: E402

import loaders  # noqa: E402
import metrics  # noqa: E402
import quality  # noqa: E402

DEFAULTS = dedup.Params()
GRID = {
    "duplicate_share": (0.8, 0.9),
    "copy_share": (0.5, 0.6, 0.7, 0.8),
    "cover_share": (0.1, 0.2, 0.3, 0.5),
    "rewrite_share": (0.4, 0.5, 0.6, 0.7),
    "rewrite_order": (0.5, 0.7, 0.9),
    "partial_share": (0.15, 0.25, 0.35),
}
FOLDS, SEED = 5, 0


def grid() -> list[dedup.Params]:
    """Every grid point as Params (the other parameters at their defaults)."""
    return [replace(DEFAULTS, **dict(zip(GRID, values))) for values in itertools.product(*GRID.values())]


def changes(params: dedup.Params) -> dict[str, float]:
    """The tuned thresholds that differ from the defaults."""
    return {name: getattr(params, name) for name in GRID if getattr(params, name) != getattr(DEFAULTS, name)}


def distance(params: dedup.Params) -> tuple[int, float]:
    """How far from the defaults: thresholds changed, then total change (the tie-break)."""
    moved = changes(params)
    return len(moved), sum(abs(value - getattr(DEFAULTS, name)) for name, value in moved.items())


def check_evidence_is_threshold_free(docs: pd.DataFrame) -> None:
    """The pairs' evidence is the same under the defaults and under the far end of the grid."""
    far = replace(DEFAULTS, **{name: values[0] for name, values in GRID.items()})
    a, b = (dedup.scan(docs, params).pairs for params in (DEFAULTS, far))
    if not a[["doc_a", "doc_b", *EVIDENCE_COLUMNS]].equals(b[["doc_a", "doc_b", *EVIDENCE_COLUMNS]]):
        raise AssertionError("the evidence depends on the relation thresholds: re-relating is not valid")


def evidence_rows(docs: pd.DataFrame, truth: pd.DataFrame) -> list[pd.Series]:
    """One evidence row (doc_a, doc_b and the evidence columns) per answer~source pair."""
    text = dict(zip(docs.doc_id, docs.text))
    return [pd.Series({"doc_a": a, "doc_b": s, **dedup.compare(text[a], text[s], names=(a, s)).scores})
            for a, s in zip(truth.answer, truth.source)]


def cross_validate(labels: list[str], relations: list[list[str]], points: list[dedup.Params]) -> pd.DataFrame:
    """One row per fold: the grid point chosen on the other folds and its held-out accuracy.

    relations[i][j] is the relation of pair j under points[i].
    """
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=SEED).split(labels, labels)
    default = points.index(DEFAULTS)
    rows = []
    for fold, (train, test) in enumerate(folds, 1):
        def score(i: int, on: Any) -> float:
            return metrics.allowed_accuracy([labels[j] for j in on], [relations[i][j] for j in on])
        best = min(range(len(points)), key=lambda i: (-score(i, train), distance(points[i]), i))
        rows.append({"fold": fold, "chosen": changes(points[best]) or "defaults",
                     "train": round(score(best, train), 4), "held-out": round(score(best, test), 4),
                     "held-out, defaults": round(score(default, test), 4)})
    return pd.DataFrame(rows)


def bbc_check(root: Path, candidates: list[dedup.Params]) -> pd.DataFrame:
    """BBC scores of each parameter set, re-relating one scan's pairs."""
    docs, truth = quality.BbcTruth.load(root)
    result = dedup.scan(docs)
    own = metrics.pairs_of(truth.pairs.summary, truth.pairs.article)
    rows = []
    for params in candidates:
        relations = [relate_pair(row, params)[0] for _, row in result.pairs.iterrows()]
        pairs = result.pairs.assign(relation=relations)
        clusters, _ = group(result.documents, pairs, params)
        linked = pairs[pairs.relation.isin(LINKED)]
        spread = pd.Series([r for *p, r in zip(pairs.doc_a, pairs.doc_b, relations) if frozenset(p) in own])
        rows.append({"params": changes(params) or "defaults",
                     **quality.bbc_scores(metrics.pairs_of(linked.doc_a, linked.doc_b),
                                          dict(zip(clusters.doc_id, clusters.cluster_id)), truth),
                     **{f"own:{r}": int((spread == r).sum()) for r in LINKED}})
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    docs, truth = loaders.clough_stevenson(args.data)
    check_evidence_is_threshold_free(docs)
    rows, points, labels = evidence_rows(docs, truth), grid(), list(truth.label)
    relations = [[relate_pair(row, params)[0] for row in rows] for params in points]
    folds = cross_validate(labels, relations, points)
    overall = min(range(len(points)), key=lambda i: (-metrics.allowed_accuracy(labels, relations[i]),
                                                    distance(points[i]), i))
    tuned = points[overall]
    summary = pd.DataFrame([{"params": name, **changes(p), "4-class (all 95)": round(
        metrics.allowed_accuracy(labels, relations[points.index(p)]), 4),
        "binary (all 95)": round(metrics.accuracy(metrics.derived(labels),
                                                  [r in LINKED for r in relations[points.index(p)]]), 4)}
        for name, p in (("defaults", DEFAULTS), ("chosen on all 95", tuned))])
    confusion = metrics.confusion(labels, relations[overall], list(metrics.ALLOWED), dedup.relate.RELATIONS)
    bbc = bbc_check(args.data, [DEFAULTS, tuned])
    print(f"\n## {FOLDS}-fold CV of the relation thresholds (Clough–Stevenson 4-class)\n")
    print(folds.to_markdown(index=False))
    print(f"\nmean held-out: chosen {folds['held-out'].mean():.4f}, defaults {folds['held-out, defaults'].mean():.4f}")
    print("\n## Chosen on all 95 pairs\n")
    print(summary.to_markdown(index=False))
    print("\n### confusion, chosen thresholds\n")
    print(confusion.to_markdown())
    print("\n## BBC with those thresholds\n")
    print(bbc.to_markdown(index=False))
    if args.json:
        args.json.write_text(json.dumps({
            "grid": GRID, "folds": json.loads(folds.to_json(orient="records")),
            "summary": json.loads(summary.to_json(orient="records")),
            "bbc": json.loads(bbc.to_json(orient="records"))}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
