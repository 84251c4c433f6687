"""Sentence-level benchmark: is a pair "the same passage reworded"? MSRP, 10-fold CV.

    python bench/msrp.py [DATA_DIR] [--json results.json] [--fit]

DATA_DIR defaults to ../shared/benchmarks and must hold msrp/msr_paraphrase_train.txt
(the Microsoft Research Paraphrase Corpus training split, 4,076 pairs; research-only,
never committed here). Only the training split is used: every number is a 10-fold
stratified cross-validation inside it (fixed seed), except the row for the shipped
coefficients, which were fit on all of it and are shown for reference only.

Rows: the majority class; the rule dedup used before (unit Jaccard ≥ t, t chosen on
the training folds); the model of `dedup.paraphrase` refit on each training fold;
the shipped coefficients. ``--fit`` prints coefficients fit on all pairs, to paste
into dedup/paraphrase.py.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dedup import paraphrase  # noqa: E402
from dedup.params import Params  # noqa: E402
from dedup.text import normalize, units  # noqa: E402
from dedup.verify import trimmed_share  # noqa: E402

FOLDS, SEED = 10, 0


def load(data_dir: Path) -> pd.DataFrame:
    """MSRP train pairs: label (1 = paraphrase), id_a, id_b (sentence ids), text_a, text_b (raw strings).

    UTF-8 with a BOM, tab separated, split on plain tabs (strings contain quotes)."""
    path = data_dir / "msrp" / "msr_paraphrase_train.txt"
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    header, rows = lines[0].split("\t"), [line.split("\t") for line in lines[1:] if line]
    assert header[0] == "Quality" and all(len(r) == 5 for r in rows), f"unexpected format in {path}"
    return pd.DataFrame({"label": [int(r[0]) for r in rows], "id_a": [r[1] for r in rows], "id_b": [r[2] for r in rows],
                         "text_a": [r[3] for r in rows], "text_b": [r[4] for r in rows]})


def _model() -> LogisticRegression:
    return LogisticRegression(C=1.0, max_iter=1000)


def _best_threshold(score: np.ndarray, y: np.ndarray) -> float:
    """The threshold on score maximising training accuracy."""
    candidates = np.unique(score)
    accuracy = [((score >= t) == y).mean() for t in candidates]
    return float(candidates[int(np.argmax(accuracy))])


def _row(name: str, accuracy: list[float], f1: list[float]) -> dict[str, object]:
    return {"method": name, "accuracy": round(float(np.mean(accuracy)), 4),
            "accuracy_sd": round(float(np.std(accuracy)), 4),
            "f1": round(float(np.mean(f1)), 4), "f1_sd": round(float(np.std(f1)), 4)}


def run(data_dir: Path) -> dict[str, object]:
    """Metrics of the baselines and of dedup.paraphrase on MSRP train (10-fold CV)."""
    started = time.perf_counter()
    pairs = load(data_dir)
    params = Params()
    y = pairs.label.to_numpy()
    a = [normalize(t) for t in pairs.text_a]
    b = [normalize(t) for t in pairs.text_b]
    f = paraphrase.features(a, b, params, pairwise=True)
    jaccard = f[:, paraphrase.FEATURES.index("unit_jaccard")]
    scores: dict[str, tuple[list[float], list[float]]] = {
        "majority class": ([], []), "unit Jaccard ≥ t (t fit per fold)": ([], []),
        "dedup.paraphrase, refit per fold": ([], [])}
    thresholds = []
    for train, test in StratifiedKFold(FOLDS, shuffle=True, random_state=SEED).split(f, y):
        majority = int(y[train].mean() >= 0.5)
        t = _best_threshold(jaccard[train], y[train])
        thresholds.append(t)
        predictions = [np.full(len(test), majority), (jaccard[test] >= t).astype(int),
                       _model().fit(f[train], y[train]).predict(f[test])]
        for (acc, f1), pred in zip(scores.values(), predictions):
            acc.append(accuracy_score(y[test], pred))
            f1.append(f1_score(y[test], pred, zero_division=0.0))
    shipped = (paraphrase.reworded_probability_pairs(a, b, params) >= params.reworded).astype(int)
    rows = [_row(name, acc, f1) for name, (acc, f1) in scores.items()]
    rows.append({"method": f"shipped coefficients, p ≥ {params.reworded} (fit on all; not CV)",
                 "accuracy": round(float(accuracy_score(y, shipped)), 4), "accuracy_sd": None,
                 "f1": round(float(f1_score(y, shipped)), 4), "f1_sd": None})
    aligner = (shipped == 1) | (_trimmed_shares(a, b, params) >= params.trimmed)
    rows.append({"method": f"aligner's match rule: p ≥ {params.reworded}, or the shorter sentence "
                           f"≥ {params.trimmed:.0%} inside the longer (nothing fit)",
                 "accuracy": round(float(accuracy_score(y, aligner)), 4), "accuracy_sd": None,
                 "f1": round(float(f1_score(y, aligner)), 4), "f1_sd": None})
    return {"pairs": len(y), "positive_share": round(float(y.mean()), 4), "folds": FOLDS, "seed": SEED,
            "features": list(paraphrase.FEATURES), "jaccard_thresholds": thresholds,
            "rows": rows, "seconds": round(time.perf_counter() - started, 1)}


def _trimmed_shares(a: list[str], b: list[str], params: Params) -> np.ndarray:
    """`dedup.verify.trimmed_share` of each pair (a[i], b[i])."""
    sets = [(set(units(x, params)), set(units(y, params))) for x, y in zip(a, b)]
    return np.array([trimmed_share(np.array([[len(x & y)]]), np.array([len(x)]), np.array([len(y)]), params)[0, 0]
                     for x, y in sets])


def fit(data_dir: Path) -> tuple[np.ndarray, float]:
    """Coefficients of the model on all MSRP train pairs."""
    pairs = load(data_dir)
    f = paraphrase.features([normalize(t) for t in pairs.text_a], [normalize(t) for t in pairs.text_b],
                            Params(), pairwise=True)
    model = _model().fit(f, pairs.label.to_numpy())
    return model.coef_[0], float(model.intercept_[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--fit", action="store_true", help="print coefficients fit on all pairs")
    args = parser.parse_args()
    results = run(args.data)
    print(f"\n## MSRP train ({results['pairs']} pairs, {results['positive_share']:.1%} paraphrases), "
          f"{FOLDS}-fold stratified CV, seed {SEED}\n")
    print(pd.DataFrame(results["rows"]).to_markdown(index=False))
    print(f"\nfeatures: {', '.join(results['features'])}; {results['seconds']} s")
    if args.fit:
        weights, bias = fit(args.data)
        print(f"\nWEIGHTS = np.array([{', '.join(f'{w:.4f}' for w in weights)}])\nBIAS = {bias:.4f}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
