"""Fit and check dedup's confidence model: is text b derived from text a?

    pip install -e ".[bench]"
    python bench/confidence.py [DATA_DIR] [--sets sheepdog,uppc,...] [--cache DIR] [--json out.json]

Every pair of the labelled pair sets (PAIR_SETS: LLM rewrites, Urdu paraphrases, teachers'
rewrites, same-event articles of other outlets, Clough–Stevenson answers, BBC summaries,
Indonesian plagiarism cases; built as bench/quality.py's tasks build them) goes through
`dedup.compare`; its evidence columns are the features of `dedup.confidence` (`FEATURES`).
ECB+ is sampled (its wire copies, 1,500 same and 1,000 cross sub-topic pairs, seeded). MSRP's
sentence pairs are not in the fit: its "not a paraphrase" pairs are mostly one sentence with a
fact added, which reuse counts as derived; bench/msrp.py and bench/quality.py measure it. Then:

* grouped 5-fold cross-validation over all sets pooled, folds by source article (so no
  article is on both sides), a logistic regression (L2, C=1) on the features whose
  coefficients may not be negative (`fit_monotone`);
* leave-one-dataset-out: fit on all sets but one, score the one left out, for every set;
* the coefficients fit on everything, printed as `dedup.confidence` holds them.

Each set counts as much as any other in the fit (sample weights inverse to the set's size), so the
large ones (MSRP, BBC, SheepDog) do not decide alone. Accuracy is at p ≥ 0.5, the calibrated
cut. --cache keeps each set's features in a Parquet file, recomputed when absent.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import minimize
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dedup  # noqa: E402
from dedup.confidence import FEATURES, features  # noqa: E402

import loaders  # noqa: E402
import metrics  # noqa: E402
import quality  # noqa: E402

ECB_SAMPLE = {"same sub-topic": 1500, "cross sub-topic": 1000}
SEED = 0
PAIR_COLUMNS = ["dataset", "group", "kind", "name_a", "name_b", "label"]


def _frame(dataset: str, group: Any, kind: Any, name_a: Any, name_b: Any, label: Any) -> pd.DataFrame:
    return pd.DataFrame({"dataset": dataset, "group": group, "kind": kind, "name_a": name_a, "name_b": name_b,
                         "label": label}, columns=PAIR_COLUMNS)


def sheepdog(root: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Originals against their rewrites (1) and, per style, against another story's rewrite (0),
    the negatives of bench/quality.py's sheepdog task; grouped by story."""
    docs, truth = loaders.sheepdog(root)
    text = dict(zip(docs.doc_id, docs.text))
    story = quality._stories(truth, text)
    negatives = quality.sheepdog_negatives(truth, story)
    group = {original: story[article] for original, article in zip(truth.original, truth.article_id)}
    return pd.concat([_frame("sheepdog", truth.original.map(group), truth["style"], truth.original, truth.rewrite, 1),
                      _frame("sheepdog", negatives.name_a.map(group), negatives["style"] + " negative",
                             negatives.name_a, negatives.name_b, 0)], ignore_index=True), text


def uppc(root: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    docs, truth = loaders.uppc(root)
    return (_frame("uppc", truth.source, truth.label, truth.source, truth.derived, (truth.label == "P").astype(int)),
            dict(zip(docs.doc_id, docs.text)))


def onestop(root: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    docs, truth = loaders.onestop(root)
    pairs = quality.onestop_pairs(truth)
    group = pairs.name_a.str.split(":", n=1).str[1]
    return (_frame("onestop", group, pairs.step, pairs.name_a, pairs.name_b,
                   (pairs.step != quality.ONESTOP_NEGATIVE).astype(int)), dict(zip(docs.doc_id, docs.text)))


def ecbplus(root: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Same-topic pairs: wire copies (1) and a seeded sample of same and cross sub-topic pairs
    (0: other outlets on the same or a similar event); grouped by topic."""
    docs, truth = loaders.ecbplus(root)
    text = dict(zip(docs.doc_id, docs.text))
    kinds, _ = quality.ecb_kinds(truth, text)
    pairs = pd.DataFrame([(*sorted(pair), kind) for pair, kind in kinds.items()], columns=["name_a", "name_b", "kind"])
    pairs = pairs.sort_values(["name_a", "name_b"]).reset_index(drop=True)
    sampled = [pairs[pairs.kind == "wire copy"]] + [pairs[pairs.kind == kind].sample(n, random_state=SEED)
                                                    for kind, n in ECB_SAMPLE.items()]
    pairs = pd.concat(sampled).sort_index()
    topic = dict(zip(truth.doc_id, truth.topic))
    return (_frame("ecbplus", pairs.name_a.map(topic), pairs.kind, pairs.name_a, pairs.name_b,
                   (pairs.kind == "wire copy").astype(int)), text)


def clough(root: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    docs, truth = loaders.clough_stevenson(root)
    return (_frame("clough", truth.source, truth.label, truth.source, truth.answer,
                   (truth.label != "non").astype(int)), dict(zip(docs.doc_id, docs.text)))


def bbc(root: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Each article against its own summary (1) and, per category, against another article's
    summary (0, a seeded `metrics.derangement` keeping identical articles apart)."""
    docs, truth = loaders.bbc(root)
    text = dict(zip(docs.doc_id, docs.text))
    label = {article: metrics.normalise_whitespace(text[article]) for article in truth.article}
    negatives = []
    for category, rows in truth.groupby(truth.article.str.split("/").str[0], sort=True):
        rows = rows.reset_index(drop=True)
        order = metrics.derangement([label[a] for a in rows.article], SEED + len(category))
        negatives.append(_frame("bbc", rows.article, "other summary", rows.article, rows.summary[order].to_numpy(), 0))
    return pd.concat([_frame("bbc", truth.article, "own summary", truth.article, truth.summary, 1), *negatives],
                     ignore_index=True), text


def indonesian(root: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """Each suspicious document against the sources its cases cite (1) and, without cases,
    against three sources (0), as bench/quality.py's indonesian task pairs them."""
    docs, cases = loaders.indonesian(root)
    pairs = quality.indonesian_pairs(docs, cases)
    return (_frame("indonesian", pairs.suspicious, np.where(pairs.has_case, "has a case", "no case"),
                   pairs.source, pairs.suspicious, pairs.has_case.astype(int)), dict(zip(docs.doc_id, docs.text)))


PAIR_SETS = {"sheepdog": sheepdog, "uppc": uppc, "onestop": onestop, "ecbplus": ecbplus, "clough": clough,
             "bbc": bbc, "indonesian": indonesian}


PARAMS = dedup.Params()  # one for all: building one checks its banding, which is slow


def _evidence(pair: tuple[str, str]) -> dict[str, Any]:
    """The comparison's scores and relation; a pair compare cannot take gets its error."""
    try:
        comparison = dedup.compare(*pair, PARAMS)
    except ValueError as error:
        return {"relation": "error", "error": str(error)}
    return {"relation": comparison.relation, **comparison.scores}


def evidence(pairs: pd.DataFrame, text: dict[str, str], jobs: int) -> pd.DataFrame:
    """The pairs with the evidence of `dedup.compare` for each (in input order)."""
    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        found = pool.map(_evidence, [(text[a], text[b]) for a, b in zip(pairs.name_a, pairs.name_b)], chunksize=8)
    return pd.concat([pairs.reset_index(drop=True), pd.DataFrame(found)], axis=1)


def _cached(root: Path, names: list[str], cache: Path | None, jobs: int) -> pd.DataFrame:
    frames = []
    for name in names:
        path = cache / f"features-{name}.parquet" if cache else None
        if path is not None and path.exists():
            frames.append(pd.read_parquet(path))
            continue
        started = time.perf_counter()
        frame = evidence(*PAIR_SETS[name](root), jobs)
        print(f"{name}: {len(frame)} pairs in {time.perf_counter() - started:.0f} s", flush=True)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            frame.to_parquet(path, index=False)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _weights(frame: pd.DataFrame) -> np.ndarray:
    """Each set weighs the same in a fit, and a pair 1 on average: len(frame) / (sets × its set's size)."""
    sizes = frame.groupby("dataset").dataset.transform("size").to_numpy()
    return len(frame) / (frame.dataset.nunique() * sizes)


def fit_monotone(x: np.ndarray, y: np.ndarray, weight: np.ndarray, c: float = 1.0) -> np.ndarray:
    """(bias, coefficients...) of the logistic regression minimising

        ½‖w‖² + c Σ_i weight_i · log(1 + exp(-s_i (w · x_i + b))),   s_i = ±1 (y_i = 1 or 0),

    scikit-learn's L2 objective, under w ≥ 0 (the bias is free): every feature is evidence of
    shared text, so more of it may never make a pair less likely derived. Unconstrained, the fit
    gave the smaller information share a negative weight, because BBC's summaries share one way
    and ECB+'s same-event articles (partly wire rewrites, labelled independent) both ways; that
    marked a whole-story rewrite down for sharing both ways. The constraint costs little in
    cross-validation and generalises better to the set left out (README, Results)."""
    signs = 2.0 * y - 1.0

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        margin = signs * (x @ theta[1:] + theta[0])
        loss = np.logaddexp(0.0, -margin)
        slope = -c * weight * signs / (1.0 + np.exp(margin))  # d loss / d score, weighted
        return (0.5 * theta[1:] @ theta[1:] + c * weight @ loss,
                np.concatenate([[slope.sum()], theta[1:] + x.T @ slope]))

    bounds = [(None, None)] + [(0.0, None)] * x.shape[1]
    found = minimize(objective, np.zeros(x.shape[1] + 1), jac=True, method="L-BFGS-B", bounds=bounds)
    if not found.success:
        raise RuntimeError(f"the confidence fit did not converge: {found.message}")
    return found.x


def _probability(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(x @ theta[1:] + theta[0])))


def _scores(frame: pd.DataFrame, p: np.ndarray) -> pd.DataFrame:
    """Accuracy per set (and per kind) at p ≥ 0.5."""
    judged = frame.assign(derived=p >= 0.5, correct=(p >= 0.5) == frame.label.astype(bool))
    return judged.groupby(["dataset", "kind"]).agg(pairs=("label", "size"), derived=("derived", "mean"),
                                                   accuracy=("correct", "mean")).round(4).reset_index()


def cross_validate(frame: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Grouped 5-fold CV over the pooled sets, and leave-one-dataset-out: each pair's held-out p."""
    x, y, w = features(frame), frame.label.to_numpy(), _weights(frame)
    groups = frame.dataset + ":" + frame.group.astype(str)
    pooled = np.zeros(len(frame))
    for train, test in GroupKFold(n_splits=5).split(x, y, groups):
        pooled[test] = _probability(fit_monotone(x[train], y[train], w[train]), x[test])
    left_out = np.zeros(len(frame))
    for name in frame.dataset.unique():
        test = (frame.dataset == name).to_numpy()
        left_out[test] = _probability(fit_monotone(x[~test], y[~test], w[~test]), x[test])
    return _scores(frame, pooled), _scores(frame, left_out)


def coefficients(frame: pd.DataFrame) -> dict[str, float]:
    theta = fit_monotone(features(frame), frame.label.to_numpy(), _weights(frame))
    return {"bias": round(float(theta[0]), 4), **{name: round(float(c), 4) for name, c in zip(FEATURES, theta[1:])}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--sets", default=",".join(PAIR_SETS))
    parser.add_argument("--cache", type=Path, help="keep each set's features here")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    frame = _cached(args.data, args.sets.split(","), args.cache, args.jobs)
    errors = frame[frame.relation == "error"]
    frame = frame[frame.relation != "error"].reset_index(drop=True)
    pooled, left_out = cross_validate(frame)
    fitted = coefficients(frame)
    print(f"{len(errors)} pairs dedup.compare refused" + (f": {errors.error.iloc[0]}" if len(errors) else ""))
    print("\n## grouped 5-fold CV, all sets pooled\n")
    print(pooled.to_markdown(index=False))
    print("\n## leave one dataset out\n")
    print(left_out.to_markdown(index=False))
    print("\n## coefficients fit on all sets\n")
    print(json.dumps(fitted, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"pooled": pooled.to_dict("records"), "left_out": left_out.to_dict("records"),
                                         "coefficients": fitted}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
