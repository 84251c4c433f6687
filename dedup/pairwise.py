"""The stages after candidates, on a few documents held in memory: verify → relate → align.

`dedup.compare` runs them on one pair, and the archive index (`dedup.index`) on the
candidates of the documents it adds or is asked about; a scan runs the same stage
functions a block of pairs at a time (`dedup.pipeline`). ``frequencies`` are the
corpus's document frequencies of the documents' words (`dedup.weights`): none for two
texts compared alone, the archive's for a text compared with what it holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from dedup.align import align
from dedup.fingerprint import Fingerprints, shingle_sets
from dedup.params import Params
from dedup.relate import LINKED, oriented, relate
from dedup.verify import SentenceIndex, pair_documents, verify
from dedup.weights import DocumentFrequencies


@dataclass(frozen=True)
class Examined:
    """What the stages made of some candidate pairs: evidence (one row per candidate), the pairs
    table (`dedup.relate`, oriented), sentence matches, and the passages and facts of the pairs
    aligned (`dedup.align`)."""

    evidence: pd.DataFrame
    pairs: pd.DataFrame
    matches: pd.DataFrame
    passages: pd.DataFrame
    facts: pd.DataFrame


def examine(candidates: pd.DataFrame, documents: pd.DataFrame, segments: pd.DataFrame, unit_hashes: np.ndarray,
            params: Params, frequencies: DocumentFrequencies | None = None, align_all: bool = False) -> Examined:
    """Verify and relate the candidates (`dedup.candidates` columns) among these documents (with
    their texts), their segments and unit hashes (`dedup.segment`); align the related pairs, or
    with align_all every pair (two texts compared alone are explained whatever their relation)."""
    index = SentenceIndex.build(segments, unit_hashes, params, pair_documents(candidates),
                                frequencies=frequencies)  # one index for verify and align
    doc_ids, _, shingles, offsets = shingle_sets(segments, unit_hashes, params)
    evidence, matches, verified = verify(candidates, segments, None, Fingerprints.of_sets(doc_ids, shingles, offsets),
                                         params, index=index)
    pairs = relate(candidates, evidence, params)
    aligned = pairs if align_all else pairs[pairs.relation.isin(LINKED)]
    orientation, passages, facts = align(aligned, documents, segments, None, params, index=index, verified=verified)
    return Examined(evidence, oriented(pairs, orientation), matches, passages, facts)
