"""manifest.json: what a scan was run with and what it found, the same for every executor.

The input hash is SHA-256 over each document's id and text, in input order, each
prefixed by its length, so that no two corpora give the same bytes.
"""

from __future__ import annotations

import hashlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import pandas as pd

from dedup.candidates import SKIPPED, CandidateStats
from dedup.params import Params
from dedup.relate import LINKED, RELATIONS

# What the output depends on: the scan's libraries, matplotlib for the plots, the web extra's for pages.
LIBRARIES = ("dedup", "datasketch", "rapidfuzz", "pandas", "numpy", "scipy", "numba", "matplotlib", "pyarrow",
             "trafilatura", "warcio", "w3lib", "tldextract")


def hash_documents(digest: Any, documents: pd.DataFrame) -> None:
    """Add the documents' ids and texts to the manifest's input_sha256 (a block at a time, in input order)."""
    for doc_id, text in documents[["doc_id", "text"]].itertuples(index=False):
        digest.update(f"{len(doc_id)}:{doc_id}{len(text)}:".encode() + text.encode("utf-8", "surrogatepass"))


def input_hash(documents: pd.DataFrame) -> str:
    """The input_sha256 of a whole documents table (`hash_documents`)."""
    digest = hashlib.sha256()
    hash_documents(digest, documents)
    return digest.hexdigest()


def versions() -> dict[str, str]:
    """The installed version of each of `LIBRARIES`."""
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def counts(column: pd.Series) -> dict[str, int]:
    """How many rows hold each value of a column."""
    return {str(k): int(v) for k, v in column.value_counts().items()}


def build_manifest(params: Params, input_sha256: str, *, statuses: dict[str, int], sentences: int,
                   fingerprinted: int, by_path: dict[str, int], relations: dict[str, int], kinds: dict[str, int],
                   stats: CandidateStats, skipped: dict[str, int] | None = None) -> dict[str, Any]:
    """manifest.json from a scan's counts: parameters, library versions, input hash, counts, and
    each LSH path's banding, S-curve and capped buckets (paired through representatives, see
    `dedup.candidates`); skipped: the candidates each pair filter removed
    (`dedup.candidates.filter_pairs`; none by default)."""
    return {
        "params": params.to_dict(),
        "versions": versions(),
        "input_sha256": input_sha256,
        "counts": {
            "records": sum(statuses.values()),
            "ok": statuses.get("ok", 0),
            "rejected": statuses.get("rejected", 0),
            "skipped": statuses.get("skipped", 0),  # records that are no documents (WARC requests, images)
            "sentences": sentences,
            "fingerprinted_sentences": fingerprinted,
            "candidates": sum(by_path.values()),
            "candidates_by_path": dict(sorted(by_path.items())),
            "candidates_skipped": {reason: (skipped or {}).get(reason, 0) for reason in SKIPPED},
            "related": sum(relations.get(r, 0) for r in LINKED),
            "relations": {r: relations.get(r, 0) for r in RELATIONS},
            "duplicate_clusters": kinds.get("duplicate_cluster", 0),
            "story_groups": kinds.get("story", 0),
        },
        "lsh": {name: {"threshold": b.threshold, "num_perm": b.num_perm, "bands": b.bands, "rows": b.rows,
                       "s_curve": b.s_curve(), "capped_buckets": stats.capped_buckets[name]}
                for name, b in (("document", stats.document), ("sentence", stats.sentence))},
    }
