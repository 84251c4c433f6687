"""How sure is it that one text derives from the other? A small logistic model over a pair's evidence.

From a pair's evidence (`dedup.verify`), with shared_x = x_verbatim + x_near + x_reworded
(the share of text x's characters in sentences matched in the other):

    information_low, information_high  the smaller and larger share of a text's information
                                      (`dedup.weights`) found among the other's words
    shared_high, shared_low           the larger and smaller shared_x
    order                             the share of matched text in the same order
    anchor_order                      the share of shared rare words in the same order
    anchors                           log(1 + shared rare words)
    verbatim_high                     the larger x_verbatim
    aligned_high, aligned_low         the larger and smaller share of a text's information in
                                      sentences aligned in order with loosely matching ones
    run                               log(1 + characters / 100) of the longest run of
                                      consecutive sentences copied (nearly) verbatim

    p = sigmoid(w · f + b)

is the probability that the pair is derived (a copy, a rewrite, a summary or an excerpt),
against independent writing on the same topic or event. Every feature is a share, an order
or a count of rare words: nothing names a language.

The coefficients (COEFFICIENTS) were fit by ``python bench/confidence.py``: scikit-learn's L2
logistic objective (C=1) with every coefficient held ≥ 0, since each feature is evidence of
shared text and more of it may never make a pair less likely derived (unconstrained, the fit
marked a whole-story rewrite down for sharing both ways, as summaries share one way); on the
labelled pair sets listed there (LLM rewrites, Urdu paraphrases, teachers' rewrites, same-event
articles of other outlets, Clough–Stevenson, BBC summaries, Indonesian plagiarism cases), each
set weighing alike. That script reports grouped cross-validation by source article and
leave-one-dataset-out results (README, Results). The fit leaves information_low and aligned_low
at 0: given the larger shares, the smaller adds nothing it can use.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

FEATURES = ("information_low", "information_high", "shared_high", "shared_low", "order", "anchor_order",
            "anchors", "verbatim_high", "aligned_high", "aligned_low", "run")
# Fit on all pair sets (10,971 pairs): python bench/confidence.py ../shared/benchmarks (2026-12-03)
COEFFICIENTS = {"bias": -4.0041, "information_low": 0.0, "information_high": 1.3494, "shared_high": 1.2307,
                "shared_low": 0.4354, "order": 2.0741, "anchor_order": 0.165, "anchors": 0.7102,
                "verbatim_high": 2.0275, "aligned_high": 0.9173, "aligned_low": 0.0, "run": 1.0057}


def features(evidence: pd.DataFrame | Mapping[str, Any]) -> np.ndarray:
    """The (pairs, FEATURES) matrix of an evidence table (or one pair's evidence, a row)."""
    frame = pd.DataFrame([evidence]) if isinstance(evidence, Mapping) else evidence
    get = {c: frame[c].to_numpy(dtype=float) for c in (
        "a_information", "b_information", "a_verbatim", "a_near", "a_reworded", "b_verbatim", "b_near",
        "b_reworded", "order", "anchor_order", "anchors", "a_aligned", "b_aligned",
        "longest_run")}
    shared_a = get["a_verbatim"] + get["a_near"] + get["a_reworded"]
    shared_b = get["b_verbatim"] + get["b_near"] + get["b_reworded"]
    columns = {
        "information_low": np.minimum(get["a_information"], get["b_information"]),
        "information_high": np.maximum(get["a_information"], get["b_information"]),
        "shared_high": np.maximum(shared_a, shared_b),
        "shared_low": np.minimum(shared_a, shared_b),
        "order": get["order"],
        "anchor_order": get["anchor_order"],
        "anchors": np.log1p(get["anchors"]),
        "verbatim_high": np.maximum(get["a_verbatim"], get["b_verbatim"]),
        "aligned_high": np.maximum(get["a_aligned"], get["b_aligned"]),
        "aligned_low": np.minimum(get["a_aligned"], get["b_aligned"]),
        "run": np.log1p(get["longest_run"] / 100),
    }
    return np.stack([columns[name] for name in FEATURES], axis=1)


def probability(evidence: pd.DataFrame | Mapping[str, Any]) -> np.ndarray:
    """The model's probability that each pair is derived."""
    weights = np.array([COEFFICIENTS[name] for name in FEATURES])
    return 1.0 / (1.0 + np.exp(-(features(evidence) @ weights + COEFFICIENTS["bias"])))
