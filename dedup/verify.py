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
  numbers on both sides whose numbers conflict (neither side's all in the other). A copy keeps its numbers but for
  a correction; one template filled with other figures (dividend notices, bond
  issues, market reports) changes most of them.

Outputs: the evidence columns of the `pairs` table, and the `matches` table,
one row per aligned sentence pair: doc_a, doc_b, seg_a, seg_b (seg_no in each
document), level, score, in_order (part of the monotone alignment).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd

from dedup import fused
from dedup.fingerprint import Fingerprints
from dedup.paraphrase import FEATURES, SentenceItems, item_features, probability
from dedup.parallel import chunks, concat_parts, map_chunks, pair_chunks, shared_strings, strings_at
from dedup.params import Params
from dedup.relate import LINKED, relate_pair

LEVELS = ("none", "reworded", "near", "verbatim")  # index = strength
MATCH_COLUMNS = ["doc_a", "doc_b", "seg_a", "seg_b", "level", "score", "in_order"]
EVIDENCE_COLUMNS = ["jaccard", "contained_a_in_b", "contained_b_in_a",
                    "a_verbatim", "a_near", "a_reworded", "b_verbatim", "b_near", "b_reworded",
                    "order", "sentences_matched_a", "sentences_matched_b", "numbers_changed"]


MERGED_SHARE = 0.5  # a sentence holding most of another's units: the two may be one, joined or split


@dataclass(frozen=True)
class PairLevels:
    """One verified pair's `similarity_levels`, kept sparse for `dedup.align` to reuse: the
    cells with a level, or where one sentence holds at least MERGED_SHARE of the other's
    units; every other cell has level 0, score 0 and no shared units that matter."""

    shape: tuple[int, int]
    cells: np.ndarray         # flat indices into the (m, n) matrices
    level: np.ndarray
    score: np.ndarray
    shared_units: np.ndarray

    @classmethod
    def of(cls, level: np.ndarray, score: np.ndarray, shared_units: np.ndarray, units_a: np.ndarray,
           units_b: np.ndarray) -> PairLevels:
        kept = ((level > 0) | (shared_units >= MERGED_SHARE * units_a[:, None])
                | (shared_units >= MERGED_SHARE * units_b[None, :])).ravel()
        cells = np.flatnonzero(kept).astype(np.int32)
        return cls(level.shape, cells, level.ravel()[cells], score.ravel()[cells], shared_units.ravel()[cells])

    def dense(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(level, score, shared units) as `similarity_levels` gives them (cells align reads)."""
        out = np.zeros(self.shape, np.int8), np.zeros(self.shape), np.zeros(self.shape, np.int32)
        for matrix, values in zip(out, (self.level, self.score, self.shared_units)):
            matrix.ravel()[self.cells] = values
        return out


@dataclass
class SentenceIndex:
    """Per-document sentence data for fast pair verification.

    ``verified`` is filled by `verify`: each related pair's `PairLevels`, which `dedup.align`
    reuses instead of matching the pair's sentences again.
    """

    rows: dict[str, np.ndarray]      # doc_id -> its sentences' positions in this index, consecutive
    segment_rows: np.ndarray         # each indexed sentence's row in the segments table
    texts: Any                       # normalised sentence texts (`dedup.parallel.shared_strings`)
    lengths: np.ndarray              # characters of each sentence in the original text
    items: SentenceItems             # each sentence's unit, bigram, word and number sets
    verified: dict[tuple[str, str], PairLevels] = field(default_factory=dict)

    @classmethod
    def build(cls, segments: pd.DataFrame, unit_hashes: np.ndarray, params: Params, jobs: int = 1,
              docs: Collection[str] | None = None) -> SentenceIndex:
        """The index of a segments table and its unit hashes; jobs: worker processes.

        docs: index only these documents' sentences (default: all). Verification and
        alignment read only the documents of candidate pairs, and the index holds each
        sentence's hash sets, so a corpus whose documents are mostly unique keeps little.
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
        unit_offsets = np.concatenate([[0], np.cumsum(n_units)])
        items = SentenceItems.concat(map_chunks(_items, (texts, unit_hashes, n_units, unit_offsets, params),
                                                chunks(len(segments), jobs), jobs) or [SentenceItems.of([], params)])
        return cls(rows, segment_rows, texts, (segments.end - segments.start).to_numpy(np.int64), items)

    def texts_of(self, rows: np.ndarray) -> list[str]:
        """The normalised texts of one document's sentences (rows as in ``rows``)."""
        return strings_at(self.texts, int(rows[0]), int(rows[-1]) + 1) if len(rows) else []


def _items(state: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Params], part: slice) -> SentenceItems:
    texts, unit_hashes, n_units, unit_offsets, params = state
    units = unit_hashes[unit_offsets[part.start]:unit_offsets[part.stop]]
    return SentenceItems.of(strings_at(texts, part.start, part.stop), params, (units, n_units[part]))


def similarity_levels(index: SentenceIndex, rows_a: np.ndarray, rows_b: np.ndarray,
                      params: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(level, score, shared units) matrices for every sentence of A against every sentence of B."""
    f, shared_units = item_features(index.items, rows_a, rows_b, index.texts_of(rows_a), index.texts_of(rows_b))
    ratio = f[..., FEATURES.index("char_ratio")].astype(np.float32)  # fuzz.ratio / 100, computed once
    reworded = probability(f)
    trimmed = trimmed_share(shared_units, index.items.sizes("unit", rows_a), index.items.sizes("unit", rows_b),
                            params)
    level = np.zeros(ratio.shape, dtype=np.int8)
    level[(reworded >= params.reworded) | (trimmed >= params.trimmed)] = 1
    level[ratio >= params.near_verbatim] = 2
    level[ratio >= 1.0] = 3
    score = np.where(level >= 2, ratio, np.where(level == 1, np.maximum(reworded, trimmed), 0.0))
    return level, score, shared_units


def trimmed_share(inter: np.ndarray, size_a: np.ndarray, size_b: np.ndarray, params: Params) -> np.ndarray:
    """Share of the shorter sentence's units found in the longer, for sentences of at
    least ``min_sentence_units`` units (0 otherwise): a sentence cut down, or padded
    with a clause, is still the same passage in a copy, though not a paraphrase."""
    shorter = np.minimum(size_a[:, None], size_b[None, :])
    return np.divide(inter, shorter, out=np.zeros(inter.shape), where=shorter >= params.min_sentence_units)


def monotone_alignment(score: np.ndarray) -> np.ndarray:
    """Order-keeping one-to-one alignment maximising the summed score: the aligned (i, j)
    as a (k, 2) int64 array, in order.

    D[i, j] = max(D[i-1, j], D[i, j-1], D[i-1, j-1] + score[i, j]), then a walk back
    from D[m, n] preferring to skip a row, then a column, then to align (compiled:
    `dedup.fused.monotone_alignment`).
    """
    return fused.monotone_alignment(score)


def _shares(best_level: np.ndarray, lengths: np.ndarray) -> list[float]:
    total = max(int(lengths.sum()), 1)
    chars = np.bincount(best_level, weights=lengths, minlength=len(LEVELS))  # characters at each best level
    return [float(chars[lv] / total) for lv in (3, 2, 1)]


def verify_pair(doc_a: str, doc_b: str, index: SentenceIndex, set_a: np.ndarray, set_b: np.ndarray,
                params: Params) -> tuple[dict[str, float], list[tuple], tuple[np.ndarray, ...]]:
    """Evidence for one pair, its sentence matches (seg_a, seg_b, level, score, in_order),
    and its `similarity_levels`."""
    shared = len(np.intersect1d(set_a, set_b, assume_unique=True))
    rows_a, rows_b = index.rows[doc_a], index.rows[doc_b]
    similarity = level, score, _ = similarity_levels(index, rows_a, rows_b, params)
    len_a, len_b = index.lengths[rows_a], index.lengths[rows_b]
    best_a, best_b = level.max(axis=1), level.max(axis=0)
    aligned = monotone_alignment(score)
    aligned = aligned[level[aligned[:, 0], aligned[:, 1]] > 0]  # only cells with a level count as matches
    matched_chars = len_a[best_a > 0].sum() + len_b[best_b > 0].sum()
    ordered_chars = len_a[aligned[:, 0]].sum() + len_b[aligned[:, 1]].sum()
    evidence = {
        "jaccard": shared / max(len(set_a) + len(set_b) - shared, 1),
        "contained_a_in_b": shared / max(len(set_a), 1),
        "contained_b_in_a": shared / max(len(set_b), 1),
        **dict(zip(("a_verbatim", "a_near", "a_reworded"), _shares(best_a, len_a))),
        **dict(zip(("b_verbatim", "b_near", "b_reworded"), _shares(best_b, len_b))),
        "order": float(ordered_chars / matched_chars) if matched_chars else 0.0,
        "sentences_matched_a": int((best_a > 0).sum()),
        "sentences_matched_b": int((best_b > 0).sum()),
        "numbers_changed": numbers_changed(index.texts_of(rows_a), index.texts_of(rows_b), aligned.tolist()),
    }
    return evidence, _matches(level, score, aligned), similarity


_DIGITS = re.compile(r"\d+(?:[.,]\d+)*")


def numbers_changed(texts_a: list[str], texts_b: list[str], aligned: list[tuple[int, int]]) -> float:
    """Of the aligned sentence pairs where both sentences hold numbers, the share whose
    numbers conflict — neither sentence's numbers all in the other, so a sentence
    trimmed of a figure does not count (0 when none hold numbers): high for one
    template filled with other facts."""
    both, changed = 0, 0
    for i, j in aligned:
        numbers_a, numbers_b = _numbers_in(texts_a[i]), _numbers_in(texts_b[j])
        if numbers_a and numbers_b:
            both += 1
            changed += not (numbers_a <= numbers_b or numbers_b <= numbers_a)
    return changed / both if both else 0.0


@lru_cache(maxsize=65536)
def _numbers_in(text: str) -> frozenset[str]:
    """Cached: a sentence is compared once per candidate its document is in."""
    return frozenset(_DIGITS.findall(text))


def _matches(level: np.ndarray, score: np.ndarray, aligned: np.ndarray) -> list[tuple]:
    """Each sentence's best counterpart (both directions), plus the aligned (i, j):
    (seg_a, seg_b, level, score, in_order) rows, in (seg_a, seg_b) order."""
    m, n = level.shape
    in_order = aligned[:, 0] * n + aligned[:, 1]
    cells = np.unique(np.concatenate([np.arange(m) * n + score.argmax(axis=1),
                                      score.argmax(axis=0) * n + np.arange(n), in_order]))
    cells = cells[level.ravel()[cells] > 0]
    ordered = set(in_order.tolist())
    return [(cell // n, cell % n, LEVELS[lv], round(value, 4), cell in ordered)
            for cell, lv, value in zip(cells.tolist(), level.ravel()[cells].tolist(), score.ravel()[cells].tolist())]


def pair_documents(pairs: pd.DataFrame) -> np.ndarray:
    """The distinct documents of a table of pairs (doc_a, doc_b)."""
    return pd.unique(pairs[["doc_a", "doc_b"]].to_numpy().ravel())


def verify(candidates: pd.DataFrame, segments: pd.DataFrame, unit_hashes: np.ndarray | None,
           fp: Fingerprints, params: Params, index: SentenceIndex | None = None,
           jobs: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Evidence columns for every candidate (same row order), and all sentence matches.

    index: the segments' `SentenceIndex`, when already built (unit_hashes, the segments' unit
    hashes, only build it, so they may then be None); each pair's similarity is
    recorded in its ``verified`` when the pair is related. jobs: worker processes.
    """
    index = index or SentenceIndex.build(segments, unit_hashes, params, jobs, pair_documents(candidates))
    parts = map_chunks(_verify_rows, (candidates, index, fp, fp.positions(), params),
                       pair_chunks(len(candidates), jobs), jobs)
    for part in parts:
        index.verified.update(part[2])
    return (concat_parts([part[0] for part in parts], EVIDENCE_COLUMNS),
            concat_parts([part[1] for part in parts], MATCH_COLUMNS))


def _verify_rows(state: tuple[pd.DataFrame, SentenceIndex, Fingerprints, dict[str, int], Params],
                 part: slice) -> tuple[pd.DataFrame, pd.DataFrame, dict[tuple[str, str], PairLevels]]:
    """The evidence and matches tables of some pairs, and the similarity of the pairs that
    will be aligned (related ones)."""
    candidates, index, fp, position, params = state
    rows, matches, levels = [], [], {}
    for doc_a, doc_b in candidates[["doc_a", "doc_b"]].iloc[part].itertuples(index=False):
        evidence, pair_matches, similarity = verify_pair(doc_a, doc_b, index, fp.doc_set(position[doc_a]),
                                                         fp.doc_set(position[doc_b]), params)
        rows.append(evidence)
        matches += [(doc_a, doc_b, *match) for match in pair_matches]
        if relate_pair(SimpleNamespace(doc_a=doc_a, doc_b=doc_b, **evidence), params)[0] in LINKED:
            levels[doc_a, doc_b] = PairLevels.of(*similarity, index.items.sizes("unit", index.rows[doc_a]),
                                                 index.items.sizes("unit", index.rows[doc_b]))
    return pd.DataFrame(rows, columns=EVIDENCE_COLUMNS), pd.DataFrame(matches, columns=MATCH_COLUMNS), levels
