"""Verify candidate pairs exactly: candidates → evidence and sentence matches.

For each candidate pair:

* exact Jaccard |A ∩ B| / |A ∪ B| of the documents' shingle sets, and
  containment both ways, |A ∩ B| / |A| and |A ∩ B| / |B|;
* a sentence match. Two sentences are ``verbatim`` when their normalised texts
  are equal, ``near`` when rapidfuzz's ``fuzz.ratio`` is at least
  ``near_verbatim`` (a few characters edited), ``reworded`` when
  `dedup.paraphrase.reworded_probability` (a logistic model over unit overlap,
  phrasing kept, character similarity and agreement of numbers, fit on MSRP) is
  at least ``reworded``: the same facts and content words, other phrasing — or
  when the shorter sentence's units reappear nearly whole (``trimmed``) in the
  longer: a sentence trimmed or padded with a clause, which MSRP counts as no
  paraphrase but a copy still reuses. The score of a reworded match is the larger
  of the two. Each sentence takes the best
  level any sentence of the other text reaches, in any order; the shares of each
  text's characters at each level are the evidence `dedup.relate` reads.
* the order: a monotone (order-keeping) alignment of the matched sentences,
  maximising the summed similarity by dynamic programming; ``order`` is the
  share of matched characters that this alignment keeps. Rewrites keep the
  order of their source; a patchwork of quotes does not.
* the facts: ``numbers_changed``, the share of aligned sentence pairs holding
  numbers on both sides whose numbers conflict (neither side's all in the other),
  and ``a_numbers_differ``/``b_numbers_differ``, the share of each text's characters
  in those conflicting sentences (a furniture line, `dedup.boilerplate.is_furniture_line`,
  holds no numbers here); ``figures_changed``, how many of those conflicting pairs are
  statements on both sides: at least ``min_sentence_units`` units besides their numbers
  (`statements`), so a stamp, a page number or a "(Site 17)" credit that differs is not a
  changed figure, while a dividend notice's "Pay 15 April" still counts for templates. A
  copy keeps its numbers but for an edit; one template filled with other figures
  (dividend notices, bond issues, market reports) changes most of them and shares
  little else word for word (`dedup.relate`).

Outputs: the evidence columns of the `pairs` table, and the `matches` table,
one row per aligned sentence pair: doc_a, doc_b, seg_a, seg_b (seg_no in each
document), level, score, in_order (part of the monotone alignment).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, replace
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from dedup import fused
from dedup.boilerplate import is_furniture_line
from dedup.confidence import probability as derived_probability
from dedup.fingerprint import Fingerprints
from dedup.parallel import shared_strings, strings_at
from dedup.params import Params
from dedup.paraphrase import FEATURES, KINDS, SentenceItems, item_features, probability
from dedup.relate import LINKED, relate_pair
from dedup.weights import DocumentFrequencies, DocumentWords

LEVELS = ("none", "reworded", "near", "verbatim")  # index = strength
MATCH_COLUMNS = ["doc_a", "doc_b", "seg_a", "seg_b", "level", "score", "in_order"]
# The evidence table's columns and dtypes, declared once (shares are float64, counts int64).
EVIDENCE_DTYPES = {
    **dict.fromkeys(["jaccard", "contained_a_in_b", "contained_b_in_a", "a_verbatim", "a_near", "a_reworded",
                     "b_verbatim", "b_near", "b_reworded", "order"], "float64"),
    "sentences_matched_a": "int64", "sentences_matched_b": "int64", "numbers_changed": "float64",
    "numbers_conflicting": "int64", "a_numbers_differ": "float64", "b_numbers_differ": "float64",
    "figures_changed": "int64", "a_information": "float64", "b_information": "float64", "anchors": "int64",
    "anchor_order": "float64", "a_aligned": "float64", "b_aligned": "float64", "longest_run": "int64",
    "bounded": "bool"}
EVIDENCE_COLUMNS = list(EVIDENCE_DTYPES)


@dataclass
class SentenceIndex:
    """Per-document sentence data for fast pair verification (and alignment)."""

    rows: dict[str, np.ndarray]      # doc_id -> its sentences' positions in this index, consecutive
    segment_rows: np.ndarray         # each indexed sentence's row in the segments table
    texts: Any                       # normalised sentence texts (`dedup.parallel.shared_strings`)
    lengths: np.ndarray              # characters of each sentence in the original text
    items: SentenceItems             # each sentence's unit, bigram, word and number sets
    words: DocumentWords             # each document's distinct words, weighted (`dedup.weights`)
    numbers: dict[str, int]          # doc_id -> its number in words (the order of rows)
    information: np.ndarray          # each sentence's information: its distinct words' summed

    @classmethod
    def build(cls, segments: pd.DataFrame, unit_hashes: np.ndarray, params: Params,
              docs: Collection[str] | None = None,
              frequencies: DocumentFrequencies | None = None) -> SentenceIndex:
        """The index of a segments table and its unit hashes.

        docs: index only these documents' sentences (default: all). Verification and
        alignment read only the documents of candidate pairs, and the index holds each
        sentence's hash sets, so a corpus whose documents are mostly unique keeps little.
        frequencies: the corpus's document frequencies of words, which weigh them with the
        language's (`dedup.weights`); none for two texts compared alone.
        """
        segment_rows = np.arange(len(segments))
        if docs is not None:
            kept = segments.doc_id.isin(docs).to_numpy()
            unit_hashes = unit_hashes[np.repeat(kept, segments.n_units.to_numpy())]
            segment_rows = np.flatnonzero(kept)
            segments = segments.iloc[segment_rows]
        rows = {doc: np.asarray(idx) for doc, idx in segments.groupby("doc_id", sort=False).indices.items()}
        if any(len(idx) != idx[-1] - idx[0] + 1 for idx in rows.values()):
            raise ValueError("the segments table must hold each document's sentences together")
        texts, n_units = shared_strings(segments.text), segments.n_units.to_numpy(np.int64)
        items = SentenceItems.of(strings_at(texts, 0, len(segments)), params, (unit_hashes, n_units))
        words = _document_words(items, [len(idx) for idx in rows.values()], frequencies or DocumentFrequencies.none(),
                                params.max_bucket)
        word_offsets = items.offsets[KINDS.index("word")]
        information = np.add.reduceat(np.append(words.token_info, 0.0), word_offsets[:-1]) if len(segments) else \
            np.empty(0)
        information[np.diff(word_offsets) == 0] = 0.0  # reduceat gives a sentence without words the next value
        return cls(rows, segment_rows, texts, (segments.end - segments.start).to_numpy(np.int64), items, words,
                   {doc: k for k, doc in enumerate(rows)}, information)

    def document(self, doc: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """One document's distinct words: (hashes, information, rarity, first sentence)."""
        k = self.numbers[doc]  # documents are numbered in the order of rows
        words = self.words
        start, stop = words.offsets[k], words.offsets[k + 1]
        return words.hashes[start:stop], words.info[start:stop], words.rarity[start:stop], words.first[start:stop]

    def texts_of(self, rows: np.ndarray) -> list[str]:
        """The normalised texts of one document's sentences (rows as in ``rows``)."""
        return strings_at(self.texts, int(rows[0]), int(rows[-1]) + 1) if len(rows) else []


def _document_words(items: SentenceItems, sentences: list[int], frequencies: DocumentFrequencies,
                    widest: int) -> DocumentWords:
    """The weighted distinct words of consecutive documents of these many sentences each
    (widest: see `dedup.weights.rarity_of`)."""
    values, offsets = items.values[KINDS.index("word")], items.offsets[KINDS.index("word")]
    sentence = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    document_of = np.repeat(np.arange(len(sentences)), sentences)
    first_sentence = np.concatenate([[0], np.cumsum(sentences)])[:-1]
    document = document_of[sentence]
    return DocumentWords.of(values, sentence - first_sentence[document], document, len(sentences), frequencies,
                            widest)


MERGED_SHARE = 0.5  # a sentence holding most of another's units: the two may be one, joined or split
# Sentence pairs a pair of texts compares with each other at most: beyond it (texts of
# thousands of sentences each), only sentences sharing a rare unit or their whole text are compared.
DENSE_CELLS = 1 << 20
RARE_UNIT = 32  # a unit in more sentences than this, on either side, does not make sentences comparable
LOOSE = 0.3  # two sentences sharing this much of each one's information may be one passage, restructured


@dataclass(frozen=True)
class Similarity:
    """The sentence similarity of one pair of texts (m and n sentences), sparse: the cells
    (i, j) with a level, where one sentence holds at least MERGED_SHARE of the other's
    units, or whose sentences share at least LOOSE of each one's information (``shared``:
    the smaller of the two shares), in (i, j) order; every other cell has level 0, score 0
    and nothing shared that matters. Verification keeps it for each related pair, and
    `dedup.align` reuses it.

    bounded: the texts were too long to compare every sentence with every other (more than
    DENSE_CELLS pairs): only sentences sharing their text or a unit found in at most
    RARE_UNIT sentences of each text were compared.
    """

    shape: tuple[int, int]
    i: np.ndarray             # int64 row (sentence of a) of each cell
    j: np.ndarray             # int64 column (sentence of b)
    level: np.ndarray         # int8 index into LEVELS
    score: np.ndarray         # float64
    shared_units: np.ndarray  # int32 |Ua ∩ Ub|
    shared: np.ndarray        # float64 the smaller share of either sentence's information the other holds
    bounded: bool

    def select(self, kept: np.ndarray) -> Similarity:
        """These cells only (a boolean per cell)."""
        return replace(self, i=self.i[kept], j=self.j[kept], level=self.level[kept], score=self.score[kept],
                       shared_units=self.shared_units[kept], shared=self.shared[kept])

    def raised(self, cells: np.ndarray, level: int, score: float) -> Similarity:
        """These cells (flat indices i * n + j, ascending) at the given level and score where they
        had no level; cells not held yet are added (without shared units)."""
        if not len(cells):
            return self
        n = self.shape[1]
        flat = self.i * n + self.j
        merged = np.union1d(flat, cells)
        at = np.searchsorted(merged, flat)
        levels, scores = np.zeros(len(merged), np.int8), np.zeros(len(merged))
        units, shared = np.zeros(len(merged), np.int32), np.zeros(len(merged))
        levels[at], scores[at], units[at], shared[at] = self.level, self.score, self.shared_units, self.shared
        raise_ = np.isin(merged, cells) & (levels == 0)
        levels[raise_], scores[raise_] = level, score
        return replace(self, i=merged // n, j=merged % n, level=levels, score=scores, shared_units=units,
                       shared=shared)

    def linked(self) -> Similarity:
        """The cells with a level: the sentence pairs that match."""
        return self.select(self.level > 0)

    def best_levels(self) -> tuple[np.ndarray, np.ndarray]:
        """The best level each sentence of a, and of b, reaches against the other text."""
        best_a, best_b = np.zeros(self.shape[0], np.int8), np.zeros(self.shape[1], np.int8)
        np.maximum.at(best_a, self.i, self.level)
        np.maximum.at(best_b, self.j, self.level)
        return best_a, best_b


PairSimilarities = dict[tuple[str, str], Similarity]  # (doc_a, doc_b) of a candidate -> its sentence similarity


def sentence_similarity(index: SentenceIndex, rows_a: np.ndarray, rows_b: np.ndarray, params: Params) -> Similarity:
    """The `Similarity` of the sentences rows_a (of one text) and rows_b (of the other)."""
    m, n = len(rows_a), len(rows_b)
    texts_a, texts_b = index.texts_of(rows_a), index.texts_of(rows_b)
    bounded = m * n > DENSE_CELLS
    if bounded:
        i, j = _comparable_cells(index, rows_a, rows_b, texts_a, texts_b)
        f, shared_units = item_features(index.items, rows_a[i], rows_b[j], [texts_a[k] for k in i.tolist()],
                                        [texts_b[k] for k in j.tolist()], pairwise=True)
    else:
        i, j = np.repeat(np.arange(m), n), np.tile(np.arange(n), m)
        f, shared_units = item_features(index.items, rows_a, rows_b, texts_a, texts_b)
        f, shared_units = f.reshape(m * n, len(FEATURES)), shared_units.ravel()
    units_a, units_b = index.items.sizes("unit", rows_a)[i], index.items.sizes("unit", rows_b)[j]
    ratio = f[:, FEATURES.index("char_ratio")].astype(np.float32)  # fuzz.ratio / 100, computed once
    reworded = probability(f)
    trimmed = trimmed_share(shared_units, units_a, units_b, params)
    level = np.zeros(len(i), dtype=np.int8)
    level[(reworded >= params.reworded) | (trimmed >= params.trimmed)] = 1
    level[ratio >= params.near_verbatim] = 2
    level[ratio >= 1.0] = 3
    score = np.where(level >= 2, ratio, np.where(level == 1, np.maximum(reworded, trimmed), 0.0))
    shared = _shared_information(index, rows_a[i], rows_b[j])
    kept = (level > 0) | _holds_most(shared_units, units_a, units_b) | (shared >= LOOSE)
    return Similarity((m, n), i, j, level, score, shared_units, shared, bounded).select(kept)


def _shared_information(index: SentenceIndex, rows_a: np.ndarray, rows_b: np.ndarray) -> np.ndarray:
    """For sentence pairs (rows_a[k], rows_b[k]) of the index: the smaller of the two shares of a
    sentence's information (`dedup.weights`) found among the other's words; 0 for a sentence
    without information."""
    word = KINDS.index("word")
    shared_a, shared_b = fused.weighted_shared(index.items.values[word], index.items.offsets[word],
                                               index.words.token_info, rows_a, rows_b)
    info_a, info_b = index.information[rows_a], index.information[rows_b]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((info_a > 0) & (info_b > 0), np.minimum(shared_a / info_a, shared_b / info_b), 0.0)


def _holds_most(shared_units: np.ndarray, units_a: np.ndarray, units_b: np.ndarray) -> np.ndarray:
    """Whether one sentence of each pair holds at least MERGED_SHARE of the other's units
    (a sentence without units holds nothing, and is handled where merging is decided)."""
    return (((shared_units >= MERGED_SHARE * units_a) & (units_a > 0))
            | ((shared_units >= MERGED_SHARE * units_b) & (units_b > 0)))


def _comparable_cells(index: SentenceIndex, rows_a: np.ndarray, rows_b: np.ndarray, texts_a: list[str],
                      texts_b: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The sentence pairs (i, j) of two long texts worth comparing, in (i, j) order: those
    sharing their whole normalised text or a unit that neither text holds in more than
    RARE_UNIT sentences. A unit common in both (a frequent word) would pair everything
    with everything; the cells are at most RARE_UNIT² per unit."""
    sides = []
    for rows, texts in ((rows_a, texts_a), (rows_b, texts_b)):
        values, offsets = index.items.sets("unit", rows)
        owner = np.repeat(np.arange(len(rows)), np.diff(offsets))
        whole = pd.util.hash_pandas_object(pd.Series(texts, dtype=object), index=False).to_numpy(np.uint64)
        keys = pd.DataFrame({"key": np.concatenate([values, whole]),
                             "sentence": np.concatenate([owner, np.arange(len(rows))])})
        counts = keys.key.map(keys.key.value_counts())
        sides.append(keys[(counts <= RARE_UNIT).to_numpy()])
    cells = sides[0].merge(sides[1], on="key", suffixes=("_a", "_b"))
    flat = np.sort(cells.sentence_a.to_numpy(np.int64) * len(rows_b) + cells.sentence_b.to_numpy(np.int64))
    flat = flat[np.r_[True, flat[1:] != flat[:-1]]] if len(flat) else flat  # unique by sorting: faster than hashing
    return flat // len(rows_b), flat % len(rows_b)


def trimmed_share(inter: np.ndarray, size_a: np.ndarray, size_b: np.ndarray, params: Params) -> np.ndarray:
    """Share of the shorter sentence's units found in the longer, for each pair of sentences
    with inter shared units and size_a, size_b units (elementwise), when the shorter has at
    least ``min_sentence_units`` units (0 otherwise): a sentence cut down, or padded with a
    clause, is still the same passage in a copy, though not a paraphrase."""
    shorter = np.minimum(size_a, size_b)
    return np.divide(inter, shorter, out=np.zeros(np.shape(inter)), where=shorter >= params.min_sentence_units)


def monotone_alignment(similarity: Similarity) -> np.ndarray:
    """Order-keeping one-to-one alignment of the matching cells maximising the summed score:
    the aligned (i, j) as a (k, 2) int64 array, in order.

    With D[i, j] the best sum using rows before i and columns before j,
    D[i, j] = max(D[i-1, j], D[i, j-1], D[i-1, j-1] + score[i-1, j-1]), walked back from
    D[m, n] preferring to skip a row, then a column, then to align. Computed over the
    matching cells only (compiled, `dedup.fused.monotone_alignment`): each cell's best chain
    is the best chain ending up and left of it plus its score, ties going to the earlier
    row, then column, which picks the alignment the walk back picks, in time and memory of
    the cells, not of m × n.
    """
    linked = similarity.linked()
    chain = fused.monotone_alignment(linked.i, linked.j, linked.score)
    return np.stack([linked.i[chain], linked.j[chain]], axis=1).reshape(-1, 2)


def _shares(best_level: np.ndarray, lengths: np.ndarray) -> list[float]:
    total = max(int(lengths.sum()), 1)
    chars = np.bincount(best_level, weights=lengths, minlength=len(LEVELS))  # characters at each best level
    return [float(chars[lv] / total) for lv in (3, 2, 1)]


def verify_pair(doc_a: str, doc_b: str, index: SentenceIndex, set_a: np.ndarray, set_b: np.ndarray,
                params: Params) -> tuple[dict[str, float], list[tuple], Similarity]:
    """Evidence for one pair, its sentence matches (seg_a, seg_b, level, score, in_order),
    and its `Similarity`."""
    shared = len(np.intersect1d(set_a, set_b, assume_unique=True))
    rows_a, rows_b = index.rows[doc_a], index.rows[doc_b]
    similarity = sentence_similarity(index, rows_a, rows_b, params)
    len_a, len_b = index.lengths[rows_a], index.lengths[rows_b]
    best_a, best_b = similarity.best_levels()
    aligned = monotone_alignment(similarity)
    matched_chars = len_a[best_a > 0].sum() + len_b[best_b > 0].sum()
    ordered_chars = len_a[aligned[:, 0]].sum() + len_b[aligned[:, 1]].sum()
    numbered, conflicting = number_conflicts(index.texts_of(rows_a), index.texts_of(rows_b), aligned)
    stated = statements(index, rows_a, params)[aligned[:, 0]] & statements(index, rows_b, params)[aligned[:, 1]]
    evidence = {
        "jaccard": shared / max(len(set_a) + len(set_b) - shared, 1),
        "contained_a_in_b": shared / max(len(set_a), 1),
        "contained_b_in_a": shared / max(len(set_b), 1),
        **dict(zip(("a_verbatim", "a_near", "a_reworded"), _shares(best_a, len_a))),
        **dict(zip(("b_verbatim", "b_near", "b_reworded"), _shares(best_b, len_b))),
        "order": float(ordered_chars / matched_chars) if matched_chars else 0.0,
        "sentences_matched_a": int((best_a > 0).sum()),
        "sentences_matched_b": int((best_b > 0).sum()),
        "numbers_changed": float(conflicting.sum() / numbered.sum()) if numbered.any() else 0.0,
        "numbers_conflicting": int(conflicting.sum()),
        "a_numbers_differ": float(len_a[aligned[conflicting, 0]].sum() / max(int(len_a.sum()), 1)),
        "b_numbers_differ": float(len_b[aligned[conflicting, 1]].sum() / max(int(len_b.sum()), 1)),
        "figures_changed": int((conflicting & stated).sum()),
        **_informative_overlap(index, doc_a, doc_b),
        **_aligned_information(similarity, index.information[rows_a], index.information[rows_b]),
        "longest_run": _longest_run(similarity, aligned, len_a, len_b),
        "bounded": similarity.bounded,
    }
    return evidence, _matches(similarity.linked(), aligned), similarity


def _longest_run(similarity: Similarity, aligned: np.ndarray, len_a: np.ndarray, len_b: np.ndarray) -> int:
    """The characters (of the shorter side) of the longest run of consecutive sentences both
    texts hold verbatim or nearly so, in the same order: a copied passage, however long the
    texts around it."""
    linked = similarity.linked()
    level = dict(zip(zip(linked.i.tolist(), linked.j.tolist()), linked.level.tolist()))
    best = run_a = run_b = 0
    previous = (-2, -2)
    for i, j in aligned.tolist():
        if level[i, j] < LEVELS.index("near"):
            run_a = run_b = 0
            previous = (-2, -2)
            continue
        if (i, j) != (previous[0] + 1, previous[1] + 1):
            run_a = run_b = 0
        run_a, run_b = run_a + int(len_a[i]), run_b + int(len_b[j])
        best = max(best, min(run_a, run_b))
        previous = (i, j)
    return best


def _aligned_information(similarity: Similarity, info_a: np.ndarray, info_b: np.ndarray) -> dict[str, float]:
    """The share of each text's information in sentences that an order-keeping chain of loosely
    linked sentence pairs (each sharing at least LOOSE of either's information) aligns: high
    when one text follows the other sentence by sentence, however reworded, merged or split;
    low for two texts on one event that share names in other places."""
    loose = similarity.select(similarity.shared >= LOOSE)
    chain = fused.monotone_alignment(loose.i, loose.j, loose.shared)
    rows_a, rows_b = np.unique(loose.i[chain]), np.unique(loose.j[chain])
    return {"a_aligned": float(info_a[rows_a].sum() / info_a.sum()) if info_a.sum() > 0 else 0.0,
            "b_aligned": float(info_b[rows_b].sum() / info_b.sum()) if info_b.sum() > 0 else 0.0}


ANCHOR_INFORMATION = float(np.log(1000))  # an anchor: a word fewer than one document in 1,000 of its language holds


def _informative_overlap(index: SentenceIndex, doc_a: str, doc_b: str) -> dict[str, float]:
    """The shares of each text's information (word by word, `dedup.weights`) among the words both
    hold, the shared anchors (words rare in their language and not a formula's: names, numbers,
    terms; `dedup.weights.rarity_of`), and the share of those in the same order in both texts
    (by the sentence each first appears in)."""
    info_a, info_b, anchors, in_order = fused.weighted_overlap(*index.document(doc_a), *index.document(doc_b),
                                                               ANCHOR_INFORMATION)
    return {"a_information": float(info_a), "b_information": float(info_b), "anchors": int(anchors),
            "anchor_order": in_order / anchors if anchors else 0.0}


# A number as written: 1,500.25; a fraction 1/2; a mixed one 27-1/2 (wire prices and dividends),
# one figure each, so "27-1/2 cts" against "2-1/2 cts" is a changed figure, not a subset.
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*(?:[- ]?\d+/\d+|/\d+)?")


def number_conflicts(texts_a: list[str], texts_b: list[str], aligned: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each aligned sentence pair (rows of aligned): whether both sentences hold numbers,
    and whether those numbers conflict — neither sentence's numbers all in the other's, so a
    sentence trimmed of a figure does not count. A furniture line holds no numbers here."""
    numbers = [(_numbers_in(texts_a[i]), _numbers_in(texts_b[j])) for i, j in aligned.tolist()]
    numbered = np.array([bool(a and b) for a, b in numbers], dtype=bool)
    conflicting = np.array([bool(a and b) and not (a <= b or b <= a) for a, b in numbers], dtype=bool)
    return numbered, conflicting


def statements(index: SentenceIndex, rows: np.ndarray, params: Params) -> np.ndarray:
    """Which sentences state something: at least ``min_sentence_units`` units that are not
    numbers (the sentence path's measure of a sentence long enough to carry a fact)."""
    return index.items.sizes("unit", rows) - index.items.sizes("number", rows) >= params.min_sentence_units


@lru_cache(maxsize=65536)
def _numbers_in(text: str) -> frozenset[str]:
    """Cached: a sentence is compared once per candidate its document is in."""
    return frozenset() if is_furniture_line(text) else frozenset(_NUMBER.findall(text))


def _matches(linked: Similarity, aligned: np.ndarray) -> list[tuple]:
    """Each sentence's best counterpart (both directions), plus the aligned (i, j):
    (seg_a, seg_b, level, score, in_order) rows, in (seg_a, seg_b) order.
    linked: the matching cells of a `Similarity`."""
    n = linked.shape[1]
    flat = linked.i * n + linked.j  # ascending: cells come in (i, j) order
    in_order = aligned[:, 0] * n + aligned[:, 1]
    cells = np.unique(np.concatenate([flat[_best_cells(linked.i, linked.j, linked.score)],
                                      flat[_best_cells(linked.j, linked.i, linked.score)], in_order]))
    at = np.searchsorted(flat, cells)
    ordered = set(in_order.tolist())
    return [(cell // n, cell % n, LEVELS[lv], round(value, 4), cell in ordered)
            for cell, lv, value in zip(cells.tolist(), linked.level[at].tolist(), linked.score[at].tolist())]


def _best_cells(own: np.ndarray, other: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Positions of each sentence's best-scoring cell, the sentences numbered by own: of equal
    scores the one with the lowest other number."""
    order = np.lexsort((other, -score, own))
    return order[np.r_[True, own[order][1:] != own[order][:-1]]] if len(order) else order


def pair_documents(pairs: pd.DataFrame) -> np.ndarray:
    """The distinct documents of a table of pairs (doc_a, doc_b)."""
    return pd.unique(pairs[["doc_a", "doc_b"]].to_numpy().ravel())


def verify(candidates: pd.DataFrame, segments: pd.DataFrame, unit_hashes: np.ndarray | None,
           fp: Fingerprints, params: Params,
           index: SentenceIndex | None = None) -> tuple[pd.DataFrame, pd.DataFrame, PairSimilarities]:
    """Evidence columns for every candidate (same row order), all sentence matches, and the
    sentence `Similarity` of each pair that will be related, for `dedup.align.align` to reuse
    instead of matching the pair's sentences again.

    index: the segments' `SentenceIndex`, when already built (unit_hashes, the segments' unit
    hashes, only build it, so they may then be None).
    """
    if index is None:
        assert unit_hashes is not None, "verify builds the sentence index from the unit hashes"
        index = SentenceIndex.build(segments, unit_hashes, params, pair_documents(candidates))
    position = fp.positions()
    pairs = list(candidates[["doc_a", "doc_b"]].itertuples(index=False, name=None))
    rows, matches, similarities = [], [], []
    for doc_a, doc_b in pairs:
        evidence, pair_matches, similarity = verify_pair(doc_a, doc_b, index, fp.doc_set(position[doc_a]),
                                                         fp.doc_set(position[doc_b]), params)
        rows.append(evidence)
        similarities.append(similarity)
        matches += [(doc_a, doc_b, *match) for match in pair_matches]
    evidence = pd.DataFrame(rows, columns=EVIDENCE_COLUMNS)
    # The model scores the pairs at once: per pair, building its one-row frame cost more than verifying it.
    confidence = derived_probability(evidence) if rows else np.empty(0)
    levels = {(doc_a, doc_b): similarity
              for (doc_a, doc_b), row, p, similarity in zip(pairs, rows, confidence.tolist(), similarities)
              if relate_pair(SimpleNamespace(doc_a=doc_a, doc_b=doc_b, **row), p, params)[0] in LINKED}
    return evidence, pd.DataFrame(matches, columns=MATCH_COLUMNS), levels
