"""MinHash fingerprints of documents and sentences: segments → signatures.

MinHash estimates the Jaccard similarity |A ∩ B| / |A ∪ B| of two shingle sets:
with ``num_perm`` random permutations π_i, P[min π_i(A) = min π_i(B)] = J(A, B),
so the share of equal signature values estimates J with standard error
sqrt(J(1-J)/num_perm).

The signatures are datasketch's "affine32" scheme, computed for many sets at
once in numpy: each shingle hash h (see `dedup.text.shingle_hash`) is mixed by
the MurmurHash3 finaliser and permuted as ``a_i * h + b_i mod 2**32``, with
(a_i, b_i) taken from ``datasketch.MinHash(num_perm, seed, scheme="affine32")``.
The result equals ``datasketch.MinHash(..., hashfunc=shingle_hash).update(...)``
value for value, so the signatures load into datasketch's LSH classes and
storage backends unchanged (`to_datasketch`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
import pandas as pd
from datasketch import LeanMinHash, MinHash

from dedup import fused
from dedup.params import Params
from dedup.text import FOLD_MULTIPLIER, fold, fold_to_32, hash_units, units

Engine = Literal["auto", "numba", "numpy"]

EMPTY = np.uint32(0xFFFFFFFF)
_CHUNK_VALUES = 1 << 22  # shingles x permutations per numpy step: ~16 MB of uint32


@cache
def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutation parameters (a, b) for this size and seed."""
    a, b = MinHash(num_perm=num_perm, seed=seed, scheme="affine32").permutations
    return a, b


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser, as datasketch applies it before permuting."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def minhash(values: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int,
            engine: Engine = "auto") -> np.ndarray:
    """Signatures of many sets at once.

    values: uint32 shingle hashes of all sets, concatenated.
    offsets: int64 array of len(sets) + 1; set i is values[offsets[i]:offsets[i+1]].
    engine: ``"numba"`` (compiled loop), ``"numpy"``, or ``"auto"`` (numba when installed);
        both give the same signatures.
    Returns a (len(sets), num_perm) uint32 array; an empty set gets all 0xFFFFFFFF,
    as in datasketch.
    """
    a, b = permutations(num_perm, seed)
    if _compiled(engine):
        return fused.minhash(values.astype(np.uint32, copy=False), offsets.astype(np.int64, copy=False), a, b)
    n_sets = len(offsets) - 1
    out = np.full((n_sets, num_perm), EMPTY, dtype=np.uint32)
    mixed = _fmix32(values.astype(np.uint32, copy=False))
    sizes = np.diff(offsets)
    step = max(1, _CHUNK_VALUES // num_perm)
    first = 0
    while first < n_sets:
        # Take whole sets until the chunk holds about `step` shingles.
        last = int(np.searchsorted(offsets, offsets[first] + step, side="right")) - 1
        last = min(max(last, first + 1), n_sets)
        nonempty = np.flatnonzero(sizes[first:last]) + first
        if len(nonempty):
            lo, hi = offsets[first], offsets[last]
            permuted = mixed[lo:hi, None] * a[None, :] + b[None, :]
            out[nonempty] = np.minimum.reduceat(permuted, offsets[nonempty] - lo, axis=0)
        first = last
    return out


def _compiled(engine: Engine, params: Params | None = None) -> bool:
    if engine not in ("auto", "numba", "numpy"):
        raise ValueError(f"engine must be auto, numba or numpy; got {engine!r}")
    can = fused.numba is not None and (params is None or fused.available(params))
    if engine == "numba" and not can:
        raise ValueError("engine='numba' needs numba installed and units 'content' or 'words'")
    return can and engine != "numpy"


def document_signatures(texts: Sequence[str], params: Params = Params(), engine: Engine = "auto") -> np.ndarray:
    """(len(texts), num_perm) uint32 signatures of raw texts: the fingerprint stage on its own.

    The same signatures as a scan's documents get (shingles of ``shingle_k``
    units across sentence breaks), computed in one compiled pass per text with
    ``engine="numba"``, or with the Python tokeniser and numpy.
    """
    norm = [fold(t) for t in texts]
    if _compiled(engine, params):
        return fused.document_signatures(norm, params, *permutations(params.num_perm, params.seed))
    unit_lists = [units(t, params) for t in norm]
    offsets = np.concatenate([[0], np.cumsum([len(u) for u in unit_lists])]).astype(np.int64)
    shingles, shingle_offsets = kgram_hashes(hash_units(unit_lists), offsets, params.shingle_units)
    return minhash(shingles, shingle_offsets, params.num_perm, params.seed, engine="numpy")


def to_datasketch(signature: np.ndarray, seed: int) -> LeanMinHash:
    """A datasketch LeanMinHash holding one of our signatures."""
    return LeanMinHash(hashvalues=signature, seed=seed, scheme="affine32")


def kgram_hashes(unit_hashes: np.ndarray, offsets: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the k-unit shingles inside each run of units (no shingle spans two runs).

    Returns (uint32 shingle hashes, their int64 offsets per run).
    """
    n = len(unit_hashes)
    lengths = np.diff(offsets)
    counts = np.maximum(lengths - k + 1, 0)
    if n < k:
        return np.empty(0, dtype=np.uint32), np.zeros(len(lengths) + 1, dtype=np.int64)
    folded = np.zeros(n - k + 1, dtype=np.uint64)
    for j in range(k):  # loop over the k positions only, never over shingles
        folded = folded * FOLD_MULTIPLIER + unit_hashes[j:n - k + 1 + j]
    starts = np.repeat(offsets[:-1], counts) + _ranks(counts)
    return fold_to_32(folded[starts]), np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def _ranks(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., c-1 for every c in counts, concatenated."""
    total = int(counts.sum())
    return np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)


def unique_per_set(values: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort each set and drop repeats: the exact sets, CSR style (values of any integer dtype).

    offsets: int64 array of len(sets) + 1; returns the distinct values and their offsets.
    """
    if fused.numba is not None:  # a sort per set instead of one lexsort of everything
        return fused.unique_per_set(values, offsets)
    owner = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    order = np.lexsort((values, owner))
    values, owner = values[order], owner[order]
    keep = np.ones(len(values), dtype=bool)
    keep[1:] = (values[1:] != values[:-1]) | (owner[1:] != owner[:-1])
    new_offsets = np.zeros(len(offsets), dtype=np.int64)
    np.cumsum(np.bincount(owner[keep], minlength=len(offsets) - 1), out=new_offsets[1:])
    return values[keep], new_offsets


@dataclass
class Fingerprints:
    """MinHash signatures of documents and of their sentences.

    doc_ids: ids of the fingerprinted documents (row i of every doc array).
    doc_values, doc_offsets: each document's exact shingle set (sorted uint32, CSR).
    doc_sigs: (n_docs, num_perm) uint32 document signatures.
    sent_rows: row numbers in the segments table of the fingerprinted sentences.
    sent_docs: document index of each fingerprinted sentence.
    sent_sigs: (n_sentences, sentence_num_perm) uint32 sentence signatures.
    """

    doc_ids: np.ndarray
    doc_values: np.ndarray
    doc_offsets: np.ndarray
    doc_sigs: np.ndarray
    sent_rows: np.ndarray
    sent_docs: np.ndarray
    sent_sigs: np.ndarray

    def doc_set(self, i: int) -> np.ndarray:
        return self.doc_values[self.doc_offsets[i]:self.doc_offsets[i + 1]]

    def positions(self) -> dict[str, int]:
        """doc_id -> its row in the doc arrays."""
        return {doc: i for i, doc in enumerate(self.doc_ids)}

    @classmethod
    def of_sets(cls, doc_ids: np.ndarray, doc_values: np.ndarray, doc_offsets: np.ndarray) -> Fingerprints:
        """Document ids and exact shingle sets alone (what verification reads), every other array empty."""
        empty = np.empty(0, dtype=np.int64)
        return cls(doc_ids, doc_values, doc_offsets, np.empty((len(doc_ids), 0), np.uint32), empty, empty,
                   np.empty((0, 0), np.uint32))

    def signatures_table(self) -> pd.DataFrame:
        """The `signatures` table: doc_id and its signature as a list of uint32."""
        return pd.DataFrame({"doc_id": self.doc_ids, "signature": list(self.doc_sigs)})


def shingle_sets(segments: pd.DataFrame, unit_hashes: np.ndarray,
                 params: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each segmented document's exact shingle set: (doc_ids, its first row in segments (one
    more at the end), the sorted distinct uint32 shingle hashes, their CSR offsets).

    Document shingles are ``shingle_k`` consecutive units (across sentence
    breaks); in ``units="chars"`` mode the units are already character k-grams
    and are the shingles.
    """
    unit_offsets = np.concatenate([[0], np.cumsum(segments.n_units.to_numpy(np.int64))])
    first_of_doc = ~segments.doc_id.duplicated().to_numpy()  # segments come grouped by document
    doc_ids = segments.doc_id.to_numpy(object)[first_of_doc]
    doc_seg_offsets = np.append(np.flatnonzero(first_of_doc), len(segments))
    shingles, shingle_offsets = kgram_hashes(unit_hashes, unit_offsets[doc_seg_offsets], params.shingle_units)
    return doc_ids, doc_seg_offsets, *unique_per_set(shingles, shingle_offsets)


def fingerprint(segments: pd.DataFrame, unit_hashes: np.ndarray, params: Params) -> Fingerprints:
    """Document and sentence signatures of segmented documents.

    Documents are their `shingle_sets`. A sentence is the set of its units; sentences with
    fewer than ``min_sentence_units`` units are left out of the sentence path.
    """
    doc_ids, doc_seg_offsets, doc_values, doc_offsets = shingle_sets(segments, unit_hashes, params)
    doc_sigs = minhash(doc_values, doc_offsets, params.num_perm, params.seed)

    n_units = segments.n_units.to_numpy(np.int64)
    long_enough = n_units >= params.min_sentence_units
    sent_rows = np.flatnonzero(long_enough)
    seg_doc = np.repeat(np.arange(len(doc_ids)), np.diff(doc_seg_offsets))
    sent_units = unit_hashes[np.repeat(long_enough, n_units)]
    sent_values, sent_offsets = unique_per_set(fold_to_32(sent_units),
                                               np.concatenate([[0], np.cumsum(n_units[sent_rows])]))
    sent_sigs = minhash(sent_values, sent_offsets, params.sentence_num_perm, params.seed)
    return Fingerprints(doc_ids, doc_values, doc_offsets, doc_sigs,
                        sent_rows, seg_doc[sent_rows], sent_sigs)
