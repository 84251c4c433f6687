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

`features` is computed for a whole m x n matrix of sentence pairs at once, or
elementwise for n pairs, by the same code: each sentence's item sets are sorted
arrays of 64-bit hashes (`SentenceItems`, built once per corpus), intersected by a
compiled merge (`dedup.fused.sentence_features`), beside ``rapidfuzz.process.cdist``
(or ``cpdist``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz, process

from dedup import fused
from dedup.fingerprint import unique_per_set
from dedup.params import Params
from dedup.segment import sentence_units
from dedup.text import FOLD_MULTIPLIER

FEATURES = ("unit_jaccard", "bigram_contained", "word_contained", "char_ratio", "numbers_differ")
# Fit on all MSRP train pairs: python bench/msrp.py ../shared/benchmarks --fit
WEIGHTS = np.array([4.9489, -3.6006, 3.4651, 4.7277, -0.7103])
BIAS = -5.2112


KINDS = ("unit", "bigram", "word", "number")


@dataclass(frozen=True)
class SentenceItems:
    """Each sentence's item sets U, G, W, N (see above) as sorted distinct 64-bit hashes.

    values[k], offsets[k]: the sets of kind KINDS[k] in CSR form; sentence i's set is
    values[k][offsets[k][i]:offsets[k][i + 1]].
    """

    values: tuple[np.ndarray, ...]
    offsets: tuple[np.ndarray, ...]
    counts: tuple[np.ndarray, ...]  # each set's size

    @classmethod
    def of(cls, norm_texts: Sequence[str], params: Params,
           unit_hashes: tuple[np.ndarray, np.ndarray] | None = None) -> SentenceItems:
        """The item sets of normalised sentences; unit_hashes: their (hashes, units per
        sentence) when already computed (`dedup.segment.sentence_units`)."""
        if unit_hashes is None:
            hashes, _, n_units = sentence_units(norm_texts, params)
        else:
            hashes, n_units = unit_hashes
        words, digit, n_words = sentence_units(norm_texts, _word_params(params))
        owner = np.repeat(np.arange(len(n_words)), n_words)
        runs = [(hashes, n_units), _bigrams(hashes, n_units), (words, n_words),
                (words[digit], np.bincount(owner[digit], minlength=len(n_words)))]
        distinct = [unique_per_set(values, np.concatenate([[0], np.cumsum(counts)]).astype(np.int64))
                    for values, counts in runs]
        return cls(tuple(v for v, _ in distinct), tuple(o for _, o in distinct),
                   tuple(np.diff(o) for _, o in distinct))

    @classmethod
    def concat(cls, parts: Sequence[SentenceItems]) -> SentenceItems:
        """The items of consecutive runs of sentences, as one."""
        kinds = range(len(KINDS))
        counts = tuple(np.concatenate([p.counts[k] for p in parts]) for k in kinds)
        return cls(tuple(np.concatenate([p.values[k] for p in parts]) for k in kinds),
                   tuple(np.concatenate([[0], np.cumsum(c)]).astype(np.int64) for c in counts), counts)

    def sizes(self, kind: str, rows: np.ndarray) -> np.ndarray:
        return self.counts[KINDS.index(kind)][rows]

    def sets(self, kind: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The sets of these sentences, in CSR form of their own: (values, offsets)."""
        k = KINDS.index(kind)
        starts, sizes = self.offsets[k][rows], self.counts[k][rows]
        at = np.repeat(starts - np.cumsum(np.r_[0, sizes[:-1]]), sizes) + np.arange(sizes.sum())
        return self.values[k][at], np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


def _bigrams(hashes: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of consecutive unit pairs inside each sentence, and their count per sentence."""
    ends = np.cumsum(counts)
    same_run = np.ones(max(len(hashes) - 1, 0), dtype=bool)
    same_run[ends[(ends > 0) & (ends < len(hashes))] - 1] = False  # a pair may not cross a sentence end
    folded = hashes[:-1] * FOLD_MULTIPLIER + hashes[1:] if len(hashes) > 1 else hashes[:0]
    return folded[same_run], np.maximum(np.asarray(counts) - 1, 0)


def features(texts_a: Sequence[str], texts_b: Sequence[str], params: Params,
             pairwise: bool = False) -> np.ndarray:
    """Feature array (see FEATURES) of every a against every b, shape (m, n, 5);
    with ``pairwise``, of a[i] against b[i] only, shape (n, 5)."""
    texts_a, texts_b = list(texts_a), list(texts_b)
    if pairwise and len(texts_a) != len(texts_b):
        raise ValueError(f"pairwise needs as many texts on each side, got {len(texts_a)} and {len(texts_b)}")
    items = SentenceItems.of(texts_a + texts_b, params)
    rows_a, rows_b = np.arange(len(texts_a)), np.arange(len(texts_a), len(texts_a) + len(texts_b))
    return item_features(items, rows_a, rows_b, texts_a, texts_b, pairwise)[0]


def item_features(items: SentenceItems, rows_a: np.ndarray, rows_b: np.ndarray, texts_a: Sequence[str],
                  texts_b: Sequence[str], pairwise: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """`features` of sentences whose item sets are already built (rows of items; their texts),
    and the number of units each pair shares (|Ua ∩ Ub|, shape (m, n) or (n,))."""
    shape = (len(rows_a),) if pairwise else (len(rows_a), len(rows_b))
    if not len(rows_a) or not len(rows_b):
        return np.zeros((*shape, len(FEATURES))), np.zeros(shape, dtype=np.int32)
    cdist = process.cpdist if pairwise else process.cdist
    ratio = cdist(texts_a, texts_b, scorer=fuzz.ratio, dtype=np.float32, workers=1) / np.float32(100)
    rows_a, rows_b = np.asarray(rows_a, np.int64), np.asarray(rows_b, np.int64)
    cells = (rows_a, rows_b) if pairwise else (np.repeat(rows_a, len(rows_b)), np.tile(rows_b, len(rows_a)))
    f, shared_units = fused.sentence_features(items.values, items.offsets, items.counts, *cells, ratio.ravel())
    return f.reshape(*shape, len(FEATURES)), shared_units.reshape(shape)


def reworded_probability(texts_a: Sequence[str], texts_b: Sequence[str], params: Params) -> np.ndarray:
    """m x n matrix: probability that sentence a[i] and sentence b[j] are the same passage reworded."""
    return probability(features(texts_a, texts_b, params))


def reworded_probability_pairs(texts_a: Sequence[str], texts_b: Sequence[str], params: Params) -> np.ndarray:
    """Length-n vector: the same probability for each pair (a[i], b[i])."""
    return probability(features(texts_a, texts_b, params, pairwise=True))


@lru_cache(maxsize=8)
def _word_params(params: Params) -> Params:
    """params with every word as a unit (building Params validates LSH banding: slow, so once)."""
    return replace(params, units="words")


def probability(f: np.ndarray) -> np.ndarray:
    """The model's probability for a feature array (last axis in FEATURES order)."""
    return 1.0 / (1.0 + np.exp(-(f @ WEIGHTS + BIAS)))
