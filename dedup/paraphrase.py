"""Are two sentences the same passage reworded? A small logistic model over lexical overlap.

Each sentence is a normalised text (`dedup.text.normalize`, as in ``segments.text``).
From it: U, its set of units (`dedup.text.units`: content words cut to five
characters, numbers whole); G, its set of unit bigrams (consecutive units, so
word order counts); W, its set of words (every word uncut, ``units="words"``);
N, the words of W holding a digit (numbers, codes). For sentences a and b:

    unit_jaccard      |Ua ∩ Ub| / |Ua ∪ Ub|                 shared content
    bigram_contained  |Ga ∩ Gb| / min(|Ga|, |Gb|)           the shorter one's phrasing kept
    word_contained    |Wa ∩ Wb| / max(|Wa|, |Wb|)           the longer one covered, function words too
    char_ratio        rapidfuzz fuzz.ratio / 100             character edit similarity
    numbers_differ    1 if Na, Nb are both non-empty and Na ≠ Nb, else 0   (a changed fact)

(a ratio with an empty denominator is 0). The model is logistic,

    p = sigmoid(w · f + b),

the probability that a and b are the same passage reworded (a paraphrase in the
sense of MSRP: same facts, other wording; a sentence adding or changing a fact is not).
Nothing depends on a vocabulary: no word list, no per-word weight; every feature is
a set overlap or an edit ratio, so it carries over to other languages and outlets.

The coefficients were fit (scikit-learn ``LogisticRegression``, L2, C=1, on the raw
features) on all 4,076 pairs of the MSRP training split (Dolan & Brockett 2005;
research-only data, not in this repository), with the default unit settings.
10-fold stratified cross-validation of this model structure (seed 0) gives accuracy
0.761 ± 0.015 and F1 0.833 ± 0.010, against 0.675 for the majority class and
0.730 ± 0.016 for a unit-Jaccard threshold fit on the training folds (the rule this
replaces). The weights (in FEATURES order) say: shared content, covered words and
character similarity raise p; a changed number lowers it; and, at equal content
overlap, a shorter sentence whose unit bigrams all reappear in the longer one lowers
it: the longer one is the same words plus a clause, i.e. it adds a fact. Reproduce, and print new coefficients:

    python bench/msrp.py ../shared/benchmarks --fit

`features` is computed for a whole m x n matrix of sentence pairs at once (sparse
incidence products and ``rapidfuzz.process.cdist``), or elementwise for n pairs
(row-wise products and ``process.cpdist``), by the same code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process
from scipy import sparse

from dedup.params import Params
from dedup.text import units

FEATURES = ("unit_jaccard", "bigram_contained", "word_contained", "char_ratio", "numbers_differ")
# Fit on all MSRP train pairs: python bench/msrp.py ../shared/benchmarks --fit
WEIGHTS = np.array([4.9489, -3.6006, 3.4651, 4.7277, -0.7103])
BIAS = -5.2112


def features(texts_a: Sequence[str], texts_b: Sequence[str], params: Params,
             pairwise: bool = False) -> np.ndarray:
    """Feature array (see FEATURES) of every a against every b, shape (m, n, 5);
    with ``pairwise``, of a[i] against b[i] only, shape (n, 5)."""
    texts_a, texts_b = list(texts_a), list(texts_b)
    if pairwise and len(texts_a) != len(texts_b):
        raise ValueError(f"pairwise needs as many texts on each side, got {len(texts_a)} and {len(texts_b)}")
    shape = (len(texts_a),) if pairwise else (len(texts_a), len(texts_b))
    if not texts_a or not texts_b:
        return np.zeros((*shape, len(FEATURES)))
    per_text = [_items(text, params) for text in texts_a + texts_b]
    inter, size_a, size_b = {}, {}, {}
    for k, kind in enumerate(("unit", "bigram", "word", "number")):
        incidence = _incidence([items[k] for items in per_text])
        a, b = incidence[:len(texts_a)], incidence[len(texts_a):]
        if pairwise:
            inter[kind] = np.asarray(a.multiply(b).sum(axis=1)).ravel()
            size_a[kind] = np.asarray(a.sum(axis=1)).ravel()
            size_b[kind] = np.asarray(b.sum(axis=1)).ravel()
        else:
            inter[kind] = (a @ b.T).toarray()
            size_a[kind] = np.asarray(a.sum(axis=1)).ravel()[:, None]
            size_b[kind] = np.asarray(b.sum(axis=1)).ravel()[None, :]
    cdist = process.cpdist if pairwise else process.cdist
    ratio = cdist(texts_a, texts_b, scorer=fuzz.ratio, dtype=np.float32, workers=1) / 100.0
    n_a, n_b, n_shared = size_a["number"], size_b["number"], inter["number"]
    numbers_differ = (n_a > 0) & (n_b > 0) & ((n_shared < n_a) | (n_shared < n_b))
    columns = [
        _divide(inter["unit"], size_a["unit"] + size_b["unit"] - inter["unit"]),
        _divide(inter["bigram"], np.minimum(size_a["bigram"], size_b["bigram"])),
        _divide(inter["word"], np.maximum(size_a["word"], size_b["word"])),
        ratio,
        numbers_differ,
    ]
    return np.stack([np.broadcast_to(c, shape).astype(np.float64) for c in columns], axis=-1)


def reworded_probability(texts_a: Sequence[str], texts_b: Sequence[str], params: Params) -> np.ndarray:
    """m x n matrix: probability that sentence a[i] and sentence b[j] are the same passage reworded."""
    return probability(features(texts_a, texts_b, params))


def reworded_probability_pairs(texts_a: Sequence[str], texts_b: Sequence[str], params: Params) -> np.ndarray:
    """Length-n vector: the same probability for each pair (a[i], b[i])."""
    return probability(features(texts_a, texts_b, params, pairwise=True))


@lru_cache(maxsize=1 << 16)
def _items(text: str, params: Params) -> tuple[list[str], list[str], list[str], list[str]]:
    """Units, unit bigrams, words and numbers of a sentence (cached: a sentence meets many others)."""
    unit_list, word_list = units(text, params), units(text, _word_params(params))
    return (unit_list, [f"{x} {y}" for x, y in zip(unit_list, unit_list[1:])], word_list,
            [w for w in word_list if any(ch.isdigit() for ch in w)])


@lru_cache(maxsize=8)
def _word_params(params: Params) -> Params:
    """params with every word as a unit (building Params validates LSH banding: slow, so once)."""
    return replace(params, units="words")


def probability(f: np.ndarray) -> np.ndarray:
    """The model's probability for a feature array (last axis in FEATURES order)."""
    return 1.0 / (1.0 + np.exp(-(f @ WEIGHTS + BIAS)))


def _incidence(lists: list[list[str]]) -> sparse.csr_matrix:
    """Texts x distinct items, 1 where the item occurs (repeats count once)."""
    vocabulary: dict[str, int] = {}
    columns = [vocabulary.setdefault(item, len(vocabulary)) for items in lists for item in items]
    owner = np.repeat(np.arange(len(lists)), [len(items) for items in lists])
    matrix = sparse.csr_matrix((np.ones(len(columns), dtype=np.float32), (owner, columns)),
                               shape=(len(lists), max(len(vocabulary), 1)))
    matrix.data[:] = 1.0
    return matrix


def _divide(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    num, den = np.broadcast_arrays(np.asarray(num, np.float64), np.asarray(den, np.float64))
    return np.divide(num, den, out=np.zeros(num.shape), where=den > 0)
