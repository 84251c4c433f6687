"""A scan's tables as the report layer reads them: held in memory, or read back from a run's folder.

The report (`dedup.report`, `dedup.html`) reads every table through `Tables`, so
that one renderer serves a scan held in memory and a scan of any size written to
disk. It asks for the small tables whole (documents without texts, pairs,
clusters, groups) and for the passages and facts of chosen pairs only
(`Tables.pair_rows`), which a stored run reads a batch at a time: its memory is
bounded by the pairs it shows, not by the corpus.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

TABLES = ("documents", "pairs", "clusters", "groups", "matches", "passages", "facts")  # a run's tables
WHOLE_TABLES = ("documents", "pairs", "clusters", "groups")  # the tables the report reads whole
PAIR_TABLES = ("matches", "passages", "facts")  # the tables with rows per pair, read a pair at a time
READ_BATCH = 200_000  # rows of a stored per-pair table read at a time


class Tables(Protocol):
    """What the report reads of a scan."""

    manifest: dict[str, Any]

    def table(self, name: str) -> pd.DataFrame:
        """A whole table (`dedup.report.TABLES`); documents without their texts."""
        ...

    def pair_rows(self, name: str, pairs: pd.DataFrame) -> pd.DataFrame:
        """The rows of a per-pair table (`PAIR_TABLES`) of these pairs (columns doc_a, doc_b, in
        either order), in table order."""
        ...


def of_pairs(rows: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """The rows whose (doc_a, doc_b) is one of the pairs, either way round."""
    keys = pd.MultiIndex.from_arrays([pd.concat([pairs.doc_a, pairs.doc_b]), pd.concat([pairs.doc_b, pairs.doc_a])])
    return rows[pd.MultiIndex.from_arrays([rows.doc_a, rows.doc_b]).isin(keys)]


def records_by_pair(table: pd.DataFrame) -> dict[frozenset[str], list[dict[str, Any]]]:
    """A per-pair table's rows as records, by pair (keyed either way round), in table order:
    one conversion for a report's pages, not a frame per pair."""
    grouped: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in table.to_dict("records"):
        grouped.setdefault(frozenset((row["doc_a"], row["doc_b"])), []).append(row)
    return grouped


@dataclass
class Frames:
    """Tables held in memory as DataFrames; rows_of: the tables to read the per-pair rows of the
    tables not held from, if any."""

    frames: Mapping[str, pd.DataFrame]
    manifest: dict[str, Any]
    rows_of: Tables | None = None

    @classmethod
    def read_once(cls, tables: Tables) -> Frames:
        """The tables with those read whole (`WHOLE_TABLES`) in memory, the per-pair rows read
        where they are: a report asks for the whole tables many times, and a stored scan would
        read each from disk every time."""
        return cls({name: tables.table(name) for name in WHOLE_TABLES}, tables.manifest, tables)

    def table(self, name: str) -> pd.DataFrame:
        return self.frames[name]

    def pair_rows(self, name: str, pairs: pd.DataFrame) -> pd.DataFrame:
        if self.rows_of is None or name in self.frames:
            return of_pairs(self.frames[name], pairs)
        return self.rows_of.pair_rows(name, pairs)


class StoreError(ValueError):
    """A folder that does not hold a finished run's tables."""


@dataclass
class StoredScan:
    """A scan written to a folder: its manifest and timings, the files it wrote, and its tables,
    read on demand (from the Parquet files, else the CSV files as text)."""

    out: Path
    manifest: dict[str, Any]
    timings: dict[str, Any]
    files: list[Path]

    @classmethod
    def open(cls, out: str | Path, marker: str) -> StoredScan:
        """The finished run in the folder out (marker: the completion marker's name); StoreError,
        naming what is missing, if there is none."""
        out = Path(out)
        if not (out / marker).is_file():
            raise StoreError(f"{out} holds no finished scan (no {marker}; a run that did not finish leaves none)")
        listing = json.loads((out / marker).read_text(encoding="utf-8"))
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        timings_file = out / "timings.json"
        timings = json.loads(timings_file.read_text(encoding="utf-8")) if timings_file.is_file() else {}
        return cls(out, manifest, timings, [out / name for name in listing["files"]] + [out / marker])

    def table(self, name: str) -> pd.DataFrame:
        """One of the tables, read from its Parquet file, else its CSV file (every cell as text)."""
        parquet = self._file(name, "parquet")
        if parquet.exists():
            return pd.read_parquet(parquet)
        return pd.read_csv(self._file(name, "csv"), keep_default_na=False, dtype=str)

    def pair_rows(self, name: str, pairs: pd.DataFrame) -> pd.DataFrame:
        """The rows of these pairs, from the Parquet file, a batch at a time."""
        import pyarrow.parquet as pq

        path = self._file(name, "parquet")
        if not path.exists():
            raise StoreError(f"{self.out} has no {path.name}: the report reads the Parquet tables (needs pyarrow)")
        found = [of_pairs(batch, pairs) for batch in _batches(pq.ParquetFile(path))]
        return pd.concat(found, ignore_index=True) if found else pq.read_schema(path).empty_table().to_pandas()

    def _file(self, name: str, ext: str) -> Path:
        if name not in TABLES:
            raise ValueError(f"no table {name!r}; the tables are {', '.join(TABLES)}")
        return self.out / f"{name}.{ext}"


def _batches(file: Any) -> Iterator[pd.DataFrame]:
    for batch in file.iter_batches(batch_size=READ_BATCH):
        yield batch.to_pandas()
