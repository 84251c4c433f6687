"""The folded corpus: every record but the copies a duplicate cluster folds.

An archivist collapsing duplicates wants the corpus itself without them. `fold` keeps
each record except the non-canonical members of duplicate clusters (`dedup.cluster`:
copies safe to fold, with the copy kept by the keep policy); records that were not
compared (rejected ones) are kept, since nothing says they repeat another. The
folded table says what went into what: doc_id, folded_into, cluster_id, keep_reason
(why the kept copy was kept).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

RECORD_COLUMNS = ["doc_id", "text", "source", "date", "title", "author", "url"]  # a record as it was read
FOLDED_COLUMNS = ["doc_id", "folded_into", "cluster_id", "keep_reason"]


def fold(documents: pd.DataFrame, clusters: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the records kept, the folded table) of a documents table with texts and its clusters table."""
    kept_of = clusters[clusters.canonical].set_index("cluster_id").doc_id
    folded = clusters[~clusters.canonical].assign(folded_into=lambda c: c.cluster_id.map(kept_of))
    reasons = clusters[clusters.canonical].set_index("doc_id").keep_reason
    folded = folded.assign(keep_reason=folded.folded_into.map(reasons))[FOLDED_COLUMNS]
    gone = (documents.status == "ok") & documents.doc_id.isin(folded.doc_id)
    return documents.loc[~gone, RECORD_COLUMNS].reset_index(drop=True), folded.reset_index(drop=True)


def write_folded(documents: pd.DataFrame, clusters: pd.DataFrame, out: Path, parquet: bool = False) -> list[Path]:
    """The folded corpus in out: documents.jsonl (and with parquet documents.parquet), its
    records' fields named as dedup reads them by default (the id as ``id``), and folded.csv;
    their paths."""
    kept, folded = fold(documents, clusters)
    kept = kept.rename(columns={"doc_id": "id"})
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "documents.jsonl", out / "folded.csv"]
    kept.to_json(written[0], orient="records", lines=True, force_ascii=False)
    folded.to_csv(written[1], index=False)
    if parquet:
        kept.to_parquet(out / "documents.parquet", index=False)
        written.append(out / "documents.parquet")
    return written
