"""The public API: `scan` a corpus (`dedup.pipeline`), `compare` two texts.

`compare` runs the scan's stages on one pair: prepare, then verify → relate → align
(`dedup.pairwise`), the pair verified whether or not LSH would have paired its texts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from dedup.candidates import CANDIDATE_COLUMNS
from dedup.pairwise import examine
from dedup.params import Params
from dedup.pipeline import ScanResult, scan
from dedup.prepare import prepare
from dedup.read import documents_table

__all__ = ["Comparison", "ScanResult", "compare", "scan"]

DEFAULT_PARAMS = Params()  # built once: a Params checks its LSH banding, which takes tens of milliseconds


@dataclass
class Comparison:
    """The verdict on two texts: relation, reason, scores, direction and the passage alignment.

    documents: the two texts' rows; pair: the pair's row of a `pairs` table;
    passages, facts: as in a scan (see `dedup.align`), aligned whatever the relation.
    """

    relation: str
    reason: str
    scores: dict[str, float]
    matches: pd.DataFrame
    documents: pd.DataFrame
    pair: pd.Series
    passages: pd.DataFrame
    facts: pd.DataFrame

    def to_dict(self) -> dict[str, Any]:
        return {"relation": self.relation, "reason": self.reason, **self.scores,
                "source": self.pair.source_doc, "direction": self.pair.direction,
                "direction_reason": self.pair.direction_reason,
                "passages": self.passages.kind.value_counts().to_dict(),
                "facts": self.facts[["fact", "a_value", "b_value"]].to_dict("records")}


def _score(value: Any) -> bool | int | float:
    """An evidence value as a plain number for `Comparison.scores` (counts stay whole)."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    return round(float(value), 4)


def compare(text_a: str, text_b: str, params: Params | None = None,
            names: tuple[str, str] = ("A", "B"), dates: tuple[str, str] = ("", "")) -> Comparison:
    """Verify, explain and align one pair of texts, whether or not LSH would pair them: any two
    texts with something to read, a headline or a sentence as well as an article.

    names: the two texts' ids in the result's tables; they must differ.
    dates: ``YYYY-MM-DD`` (or "") of each text; the earlier is read as the source.
    """
    if names[0] == names[1]:
        raise ValueError(f"compare needs two different names, got {names[0]!r} twice")
    params = params or DEFAULT_PARAMS
    documents = documents_table({"doc_id": name, "text": text, "date": date}
                                for name, text, date in zip(names, (text_a, text_b), dates))
    documents, segments, unit_hashes, fp = prepare(documents, params, keep_short=True)
    rejected = documents[documents.status == "rejected"]
    if len(rejected):
        raise ValueError("; ".join(f"text {r.doc_id}: {r.reason}" for r in rejected.itertuples()))
    estimate = float((fp.doc_sigs[0] == fp.doc_sigs[1]).mean())
    candidate = pd.DataFrame([[names[0], names[1], "compare", estimate, 0, 0]], columns=CANDIDATE_COLUMNS)
    found = examine(candidate, documents, segments, unit_hashes, params, align_all=True)
    pair = found.pairs.iloc[0]
    scores = {"estimate": round(estimate, 4), **{k: _score(found.evidence[k].iat[0]) for k in found.evidence.columns}}
    return Comparison(pair.relation, pair.reason, scores, found.matches, documents, pair, found.passages, found.facts)
