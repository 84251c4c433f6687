"""The prepare stage: segment a block of documents and fingerprint it.

A document with fewer text units than a shingle needs (`Params.shingle_units`)
cannot be fingerprinted: it becomes ``rejected``, with the reason, and its
sentences are dropped, so that every record stays accounted for.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dedup.fingerprint import Fingerprints, fingerprint
from dedup.params import Params
from dedup.segment import segment


def prepare(documents: pd.DataFrame, params: Params,
            keep_short: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, Fingerprints]:
    """(documents with status and reason, segments, unit hashes, fingerprints) of a documents
    table; documents too short to fingerprint become rejected; with keep_short only those
    without a word (two texts compared alone need no fingerprint to be verified)."""
    segments, unit_hashes = segment(documents, params)
    minimum = 1 if keep_short else params.shingle_units
    documents, segments, unit_hashes = _reject_unfingerprintable(documents, segments, unit_hashes, minimum)
    return documents, segments, unit_hashes, fingerprint(segments, unit_hashes, params)


def _reject_unfingerprintable(documents: pd.DataFrame, segments: pd.DataFrame, unit_hashes: np.ndarray,
                              minimum: int) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray]:
    """Mark ok documents with fewer than minimum text units as rejected, and drop their sentences."""
    units = documents.doc_id.map(segments.groupby("doc_id", sort=False).n_units.sum()).fillna(0).astype(int)
    too_short = (documents.status == "ok") & (units < minimum)
    documents = documents.copy()
    documents.loc[too_short, "status"] = "rejected"
    documents.loc[too_short, "reason"] = [
        f"too short to fingerprint ({n} text units; need {minimum})" if minimum > 1 else "no words to compare"
        for n in units[too_short]]
    kept = ~segments.doc_id.isin(documents.doc_id[too_short]).to_numpy()
    unit_hashes = unit_hashes[np.repeat(kept, segments.n_units.to_numpy())]
    return documents, segments[kept].reset_index(drop=True), unit_hashes
