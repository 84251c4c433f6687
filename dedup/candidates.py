"""Candidate pairs from MinHash LSH banding: signatures → candidates.

A signature of b·r values is cut into b bands of r rows; two items whose values
agree on every row of at least one band collide. For Jaccard similarity J,

    P(candidate) = 1 - (1 - J**r)**b                      (the S-curve)

(b, r) come from datasketch's `MinHashLSH`, which picks them to minimise the
false-positive plus false-negative probability mass around the threshold.
Collisions are found by sorting band keys, not with hash tables of Python
lists, so memory stays a few arrays.

A bucket holding more than ``max_bucket`` items (a story syndicated to hundreds of sites collides in every band) is
not paired all with all: each of its items is paired with its first ``bucket_representatives``
items, so the work grows with the bucket's size, and the copies still reach one cluster
through the representatives (`dedup.cluster`).

Two LSH paths feed the candidates table:

* ``document``: document signatures at ``doc_threshold`` — copies and duplicates;
* ``sentence``: sentence signatures at ``sentence_threshold``; a document pair is
  a candidate when at least ``min_shared_sentences`` sentences of each collide.
  This is the containment path: a summary, an excerpt or a rewrite shares
  sentences (or their facts) with its source even when its whole-document
  Jaccard is tiny.

The `candidates` table: doc_a, doc_b (doc_a first in input order), via
(``document``, ``sentence`` or ``document+sentence``), estimate (MinHash
estimate of the documents' Jaccard), lsh_sentences_a, lsh_sentences_b (sentences of
each document that collided with the other; 0 when found by the document path
only).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd
from datasketch import MinHashLSH

from dedup import fused
from dedup.fingerprint import Fingerprints
from dedup.params import Params
from dedup.text import FOLD_MULTIPLIER

AGREEMENT_COLUMNS = 4  # signature columns read at a time for MinHash estimates from blocks
MERGE_PAIRS = 1 << 20  # pair keys gathered from bands before repeats are dropped (at least)
CANDIDATE_COLUMNS = ["doc_a", "doc_b", "via", "estimate", "lsh_sentences_a", "lsh_sentences_b"]
VIA = ["document+sentence", "document", "sentence"]  # found by both paths, by one, by the other


@dataclass(frozen=True)
class Banding:
    """LSH banding for one path: b bands of r rows, at a Jaccard threshold."""

    threshold: float
    num_perm: int
    bands: int
    rows: int

    @classmethod
    def for_threshold(cls, threshold: float, num_perm: int) -> Banding:
        bands, rows = _optimal_banding(threshold, num_perm)
        return cls(threshold, num_perm, bands, rows)

    def probability(self, jaccard: float | np.ndarray) -> float | np.ndarray:
        """P(two sets with this Jaccard similarity become candidates)."""
        return 1.0 - (1.0 - np.asarray(jaccard, dtype=float) ** self.rows) ** self.bands

    def s_curve(self) -> dict[str, float]:
        """Candidate probability at J = 0.1, 0.2, ..., 0.9 and at the threshold."""
        points = {f"{j:.1f}": round(float(self.probability(j)), 4) for j in np.arange(1, 10) / 10}
        points[f"threshold {self.threshold}"] = round(float(self.probability(self.threshold)), 4)
        return points

    def keys(self, signatures: np.ndarray) -> np.ndarray:
        """(n, bands) uint64 keys: each band's r values folded into one hash."""
        if fused.numba is not None:  # without (n, bands * rows) uint64 temporaries
            return fused.band_keys(signatures, self.bands, self.rows)
        used = signatures[:, :self.bands * self.rows].astype(np.uint64)
        bands = used.reshape(len(signatures), self.bands, self.rows)
        keys = np.arange(self.bands, dtype=np.uint64)[None, :].repeat(len(signatures), 0)
        for row in range(self.rows):
            keys = keys * FOLD_MULTIPLIER + bands[:, :, row]
        return keys

    def band_keys(self, columns: np.ndarray) -> np.ndarray:
        """uint64 keys of one band, from its r signature columns ((n, rows) uint32)."""
        return replace(self, num_perm=self.rows, bands=1).keys(np.ascontiguousarray(columns))[:, 0]


@cache
def _optimal_banding(threshold: float, num_perm: int) -> tuple[int, int]:
    """datasketch's (b, r), computed once per threshold: it integrates the S-curve (~16 ms),
    and the archive index bands every query (`dedup.index`)."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


class Signatures(Protocol):
    """MinHash signatures of n items, however stored: what candidate generation reads of them."""

    def __len__(self) -> int: ...

    def columns(self, start: int, stop: int) -> np.ndarray:
        """Signature values start..stop-1 of every item, an (n, stop - start) uint32 array."""

    def agreement(self, pairs: np.ndarray) -> np.ndarray:
        """The MinHash Jaccard estimate of each pair of items (rows of an (m, 2) array)."""


@dataclass
class SignatureArray:
    """`Signatures` held in memory: an (n, num_perm) uint32 array."""

    values: np.ndarray

    def __len__(self) -> int:
        return len(self.values)

    def columns(self, start: int, stop: int) -> np.ndarray:
        return self.values[:, start:stop]

    def agreement(self, pairs: np.ndarray) -> np.ndarray:
        if fused.numba is not None:  # without gathering two signature rows per pair
            return fused.agreement(self.values, pairs)
        return estimates(self.values[pairs[:, 0]], self.values[pairs[:, 1]])


def save_columns(path: Path, signatures: np.ndarray) -> None:
    """Signatures stored column-major, so that a band's columns are read without the others."""
    np.save(path, np.ascontiguousarray(signatures.T))


class SignatureBlocks:
    """`Signatures` as blocks of rows, in order, each held column-major: in memory, or in a
    `save_columns` file that is memory-mapped only while the columns asked for are copied
    (so the pages read do not stay mapped). Appended blocks are saved as directory/NAME-NUMBER.npy
    when a directory is given."""

    def __init__(self, width: int, directory: Path | None = None, name: str = "signatures") -> None:
        self.width = width
        self.directory = directory
        self.name = name
        self.blocks: list[Path | np.ndarray] = []
        self.rows = 0

    def add_file(self, path: Path, rows: int) -> None:
        """A block that was saved (`save_columns`) elsewhere, of this many rows."""
        self.blocks.append(path)
        self.rows += rows

    def append(self, signatures: np.ndarray) -> None:
        """A block of (rows, width) signatures, stored as this object stores them."""
        if self.directory is None:
            self.blocks.append(np.ascontiguousarray(signatures.T))
            self.rows += len(signatures)
        else:
            path = self.directory / f"{self.name}-{len(self.blocks):05d}.npy"
            save_columns(path, signatures)
            self.add_file(path, len(signatures))

    def extend(self, other: SignatureBlocks) -> None:
        """other's blocks after these."""
        self.blocks += other.blocks
        self.rows += other.rows

    def __len__(self) -> int:
        return self.rows

    def columns(self, start: int, stop: int) -> np.ndarray:
        if not self.blocks:
            return np.empty((0, stop - start), dtype=np.uint32)
        return np.concatenate([(np.load(block, mmap_mode="r") if isinstance(block, Path) else block)[start:stop]
                               for block in self.blocks], axis=1).T

    def agreement(self, pairs: np.ndarray) -> np.ndarray:
        equal = np.zeros(len(pairs))
        for start in range(0, self.width, AGREEMENT_COLUMNS):  # a few columns of every item in memory at a time
            stop = min(start + AGREEMENT_COLUMNS, self.width)
            equal += SignatureArray(np.ascontiguousarray(self.columns(start, stop))).agreement(pairs) * (stop - start)
        return np.rint(equal) / self.width  # equal values counted exactly, as in memory


def colliding_pairs(keys: np.ndarray, max_bucket: int, representatives: int) -> tuple[np.ndarray, int]:
    """Unique item pairs (i < j) that share a key in some band of keys ((n, bands) uint64).

    A bucket of at most max_bucket items gives all its pairs; a larger one gives only the
    pairs with one of its first ``representatives`` items (the lowest item numbers, i.e.
    the first in input order), so its cost grows with its size, not with its square.
    Returns the pairs as an (m, 2) int64 array and the number of such capped buckets.
    """
    return band_collisions(keys.T, len(keys), max_bucket, representatives)


def banded_pairs(signatures: Signatures, banding: Banding, max_bucket: int,
                 representatives: int, new_from: int = 0) -> tuple[np.ndarray, int]:
    """`colliding_pairs` of the signatures' band keys, computed a band at a time (n keys in memory);
    only the pairs with an item numbered new_from or above (`band_collisions`)."""
    bands = (banding.band_keys(signatures.columns(band * banding.rows, (band + 1) * banding.rows))
             for band in range(banding.bands))
    return band_collisions(bands, len(signatures), max_bucket, representatives, new_from)


def band_collisions(bands: Iterable[np.ndarray], n: int, max_bucket: int,
                    representatives: int, new_from: int = 0) -> tuple[np.ndarray, int]:
    """`colliding_pairs` of n items whose keys come one band (an array of n keys) at a time, of
    which only the pairs with an item numbered new_from or above (items new to an index; buckets
    are counted and capped with all their items)."""
    unique, pending, capped = np.empty(0, dtype=np.int64), [], 0
    for band in bands:
        order = np.argsort(band)  # any order inside a bucket of all pairs: its pairs are min, max
        sorted_keys = band[order]
        starts = np.flatnonzero(np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1])))
        sizes = np.diff(starts, append=n)
        large = np.flatnonzero(sizes > max_bucket)
        capped += len(large)
        for start, size in zip(starts[large], sizes[large]):  # few: a capped bucket leads with its first items
            order[start:start + size].sort()
        leads = np.where(sizes > max_bucket, np.minimum(sizes, representatives), sizes)
        paired = sizes >= 2
        # One int64 per pair, so that pairs met in several bands are dropped by a 1-d sort;
        # dropped as they come, since a copied sentence collides in every band.
        pending.append(fused.bucket_pair_keys(order, starts[paired], sizes[paired], leads[paired], n, new_from))
        if sum(map(len, pending)) > max(len(unique), MERGE_PAIRS):
            unique, pending = _sorted_unique(np.concatenate([unique, *pending])), []
    unique = _sorted_unique(np.concatenate([unique, *pending]))
    return np.stack([unique // n, unique % n], axis=1), capped


def _sorted_unique(keys: np.ndarray) -> np.ndarray:
    """np.unique by sorting (numpy's hash-based unique is several times slower on int64 keys)."""
    keys.sort()
    return keys[np.r_[True, keys[1:] != keys[:-1]]] if len(keys) else keys


def estimates(sigs_a: np.ndarray, sigs_b: np.ndarray) -> np.ndarray:
    """MinHash estimate of the Jaccard similarity of each row of sigs_a with the same row of sigs_b."""
    return (sigs_a == sigs_b).mean(axis=1) if len(sigs_a) else np.empty(0)


@dataclass
class CandidateStats:
    """What the candidate stage did, for the manifest: each path's banding and its capped buckets
    (more than ``max_bucket`` items, paired through representatives)."""

    document: Banding
    sentence: Banding
    capped_buckets: dict[str, int]
    sentence_collisions: int


def _sentence_path(sent_sigs: Signatures, sent_docs: np.ndarray, n_docs: int, banding: Banding,
                   params: Params, new_from: int) -> tuple[np.ndarray, np.ndarray, int, int]:
    """The document pairs (a < b, sorted) the sentence path keeps, each side's count of colliding
    sentences ((m, 2) each), the capped buckets and the sentence collisions counted."""
    pairs, capped = banded_pairs(sent_sigs, banding, params.max_bucket, params.bucket_representatives,
                                 _first_sentence_of(sent_docs, new_from))
    # Banding lets through pairs below the threshold (the S-curve's left foot);
    # the signatures' own estimate removes most of them before counting.
    pairs = pairs[sent_sigs.agreement(pairs) >= params.sentence_threshold]
    docs = sent_docs[pairs]
    pairs, docs = pairs[docs[:, 0] != docs[:, 1]], docs[docs[:, 0] != docs[:, 1]]
    flip = docs[:, 0] > docs[:, 1]
    docs[flip], pairs[flip] = docs[flip][:, ::-1], pairs[flip][:, ::-1]
    joined, colliding_a, colliding_b = _colliding_sentences(docs, pairs)
    sentences_per_doc = np.bincount(sent_docs, minlength=n_docs)
    keep = shared_enough(colliding_a, colliding_b, sentences_per_doc[joined[:, 0]], sentences_per_doc[joined[:, 1]],
                         params)
    return joined[keep], np.stack([colliding_a[keep], colliding_b[keep]], axis=1), capped, len(pairs)


def _colliding_sentences(docs: np.ndarray, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The document pairs (docs: (m, 2), a < b) that colliding sentence pairs (pairs: (m, 2))
    join, sorted, and for each how many distinct sentences of a and of b collide: a groupby's
    nunique in numpy, since pandas' per-call overhead was a fifth of an index query."""
    if not len(docs):
        return np.empty((0, 2), np.int64), np.empty(0, np.int64), np.empty(0, np.int64)
    order = np.lexsort((docs[:, 1], docs[:, 0]))
    docs, pairs = docs[order], pairs[order]
    starts = np.r_[True, (docs[1:] != docs[:-1]).any(axis=1)]
    group = np.cumsum(starts) - 1
    counts = [_distinct_per_group(group, pairs[:, side], int(starts.sum())) for side in (0, 1)]
    return docs[starts], counts[0], counts[1]


def _distinct_per_group(group: np.ndarray, values: np.ndarray, groups: int) -> np.ndarray:
    """How many distinct values each group (numbered 0..groups-1, ascending) holds."""
    order = np.lexsort((values, group))
    group, values = group[order], values[order]
    first = np.r_[True, (group[1:] != group[:-1]) | (values[1:] != values[:-1])]
    return np.bincount(group[first], minlength=groups).astype(np.int64)


def _first_sentence_of(sent_docs: np.ndarray, new_from: int) -> int:
    """The first sentence of the documents numbered new_from or above, which follow all others'."""
    first = int(np.searchsorted(sent_docs, new_from)) if new_from else 0
    if new_from and ((sent_docs[:first] >= new_from).any() or (sent_docs[first:] < new_from).any()):
        raise ValueError("the new documents' sentences must come after the others'")
    return first


def shared_enough(colliding_a: np.ndarray, colliding_b: np.ndarray, sentences_a: np.ndarray,
                  sentences_b: np.ndarray, params: Params) -> np.ndarray:
    """Which document pairs the sentence path keeps: at least ``min_shared_sentences``
    colliding sentences on each side (colliding_a/b), where sentences_a/b count each
    document's fingerprinted sentences. A text with fewer sentences needs all of them."""
    need = np.minimum(params.min_shared_sentences, np.minimum(sentences_a, sentences_b))
    return (colliding_a >= need) & (colliding_b >= need)


SKIPPED = ("same_source", "days_apart")  # why the pair filters removed a candidate, as the manifest counts them


def filter_pairs(candidates: pd.DataFrame, documents: pd.DataFrame,
                 params: Params) -> tuple[pd.DataFrame, dict[str, int]]:
    """The candidates the pair filters keep (`Params.skip_same_source`, `Params.within_days`),
    and how many each removed (a pair both would remove counts as same_source).
    documents: the scanned documents' doc_id, source and date (YYYY-MM-DD or "")."""
    skipped = dict.fromkeys(SKIPPED, 0)
    if candidates.empty or not params.filters_pairs:
        return candidates, skipped
    by_id = documents.set_index("doc_id")
    sides = [by_id.reindex(candidates[column]) for column in ("doc_a", "doc_b")]
    sources = [side.source.fillna("").astype(str).to_numpy() for side in sides]
    same_source = np.zeros(len(candidates), bool)
    if params.skip_same_source:
        same_source = (sources[0] == sources[1]) & (sources[0] != "")
    apart = np.zeros(len(candidates), bool)
    if params.within_days is not None:
        dates = [pd.to_datetime(side.date.fillna("").astype(str), format="%Y-%m-%d", errors="coerce").to_numpy()
                 for side in sides]  # "" (undated) and unknown ids: NaT
        gap = np.abs(dates[0] - dates[1])
        apart = ~same_source & ~np.isnat(gap) & (gap > np.timedelta64(params.within_days, "D"))
    skipped.update(same_source=int(same_source.sum()), days_apart=int(apart.sum()))
    return candidates[~(same_source | apart)].reset_index(drop=True), skipped


def skipped_note(counts: dict) -> str:
    """A sentence on the candidates the pair filters removed (a manifest's counts), or ""."""
    skipped = counts.get("candidates_skipped", {})
    if not sum(skipped.values()):
        return ""
    return (f"{sum(skipped.values())} candidate pairs not verified, by the pair filters: {skipped['same_source']} "
            f"of one source, {skipped['days_apart']} dated too far apart.")


def find_candidates(fp: Fingerprints, params: Params) -> tuple[pd.DataFrame, CandidateStats]:
    """Candidate document pairs from both LSH paths, with the stage's statistics."""
    return candidates_of(fp.doc_ids, SignatureArray(fp.doc_sigs), SignatureArray(fp.sent_sigs), fp.sent_docs, params)


def candidates_of(doc_ids: np.ndarray, doc_sigs: Signatures, sent_sigs: Signatures, sent_docs: np.ndarray,
                  params: Params, new_from: int = 0) -> tuple[pd.DataFrame, CandidateStats]:
    """`find_candidates` from signatures however stored; sent_docs: each sentence's document
    (its row in doc_sigs). With new_from > 0, the documents from row new_from on are new (to an
    index) and only their pairs are found; their sentences must come after the others'."""
    doc_banding = Banding.for_threshold(params.doc_threshold, params.num_perm)
    sent_banding = Banding.for_threshold(params.sentence_threshold, params.sentence_num_perm)
    doc_pairs, doc_capped = banded_pairs(doc_sigs, doc_banding, params.max_bucket, params.bucket_representatives,
                                         new_from)
    sent_pairs, sent_counts, sent_capped, collisions = _sentence_path(sent_sigs, sent_docs, len(doc_ids),
                                                                      sent_banding, params, new_from)
    # Each pair as one int64 a * n + b, as banding makes them: the union of the two paths, sorted.
    doc_keys, sent_keys = (found[:, 0] * len(doc_ids) + found[:, 1] for found in (doc_pairs, sent_pairs))
    keys = np.union1d(doc_keys, sent_keys)
    pairs = np.stack([keys // max(len(doc_ids), 1), keys % max(len(doc_ids), 1)], axis=1)
    by_document, by_sentence = np.isin(keys, doc_keys), np.isin(keys, sent_keys)
    counts = np.zeros((len(keys), 2), np.int64)
    counts[np.searchsorted(keys, sent_keys)] = sent_counts
    via = np.select([by_document & by_sentence, by_document, by_sentence], VIA, "")
    table = pd.DataFrame({
        "doc_a": doc_ids[pairs[:, 0]] if len(pairs) else [],
        "doc_b": doc_ids[pairs[:, 1]] if len(pairs) else [],
        "via": via,
        "estimate": doc_sigs.agreement(pairs).round(4),
        "lsh_sentences_a": counts[:, 0],
        "lsh_sentences_b": counts[:, 1],
    }, columns=CANDIDATE_COLUMNS)
    stats = CandidateStats(doc_banding, sent_banding, {"document": doc_capped, "sentence": sent_capped}, collisions)
    return table, stats


def capped_note(manifest: dict) -> str:
    """One sentence saying which LSH buckets were capped (compared through representatives),
    for the terminal, summary.md and the HTML report; "" when none was."""
    capped = {path: info["capped_buckets"] for path, info in manifest.get("lsh", {}).items() if info["capped_buckets"]}
    if not capped:
        return ""
    params = manifest["params"]
    paths = " and ".join(f"{count} {path}" for path, count in capped.items())
    return (f"{paths} LSH bucket{'s' if sum(capped.values()) != 1 else ''} held more than "
            f"{params['max_bucket']} items (a story or a line printed that widely): their items were compared "
            f"with each bucket's first {params['bucket_representatives']} instead of with each other, so "
            f"copies found through them are paired with those and not all with all.")
