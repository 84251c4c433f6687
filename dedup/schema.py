"""The store's tables, declared once: each table's columns (as its stage names them) and dtypes.

Every table a scan writes is cast to its declaration before it reaches a Parquet file,
whichever executor made it and however many parts it was written in, so that a table
read back has the same columns and types whatever produced it. The README's table of
tables is this module's `markdown` (tests/test_pipeline.py checks that it is).

dtypes: ``str`` (text; may be null where a stage leaves it unset), ``int64``, ``Int64``
(a whole number that may be missing), ``float64``, ``bool``; Spark's internal tables
(`dedup.spark`) also use ``int32``, ``object``, ``binary``, ``longs`` and ``ints``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from dedup.align import PASSAGE_COLUMNS
from dedup.candidates import CANDIDATE_COLUMNS
from dedup.cluster import CLUSTER_COLUMNS, GROUP_COLUMNS
from dedup.facts import FACT_COLUMNS
from dedup.read import COLUMNS
from dedup.relate import ORIENT_COLUMNS
from dedup.verify import EVIDENCE_COLUMNS, EVIDENCE_DTYPES, MATCH_COLUMNS

_ARROW_TYPES = {"str": pa.large_string(), "object": pa.large_string(), "int64": pa.int64(), "Int64": pa.int64(),
                "int32": pa.int32(), "float64": pa.float64(), "bool": pa.bool_()}


@dataclass(frozen=True)
class Table:
    """A table's name and its columns, each with its pandas dtype."""

    name: str
    columns: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, name: str, columns: Sequence[str], keys: Sequence[str] = (), **dtypes: str) -> Table:
        """Columns default to strings; keys are int64 columns put first (internal order keys)."""
        return cls(name, tuple((c, "int64") for c in keys) + tuple((c, dtypes.get(c, "str")) for c in columns))

    @property
    def names(self) -> list[str]:
        return [c for c, _ in self.columns]

    def public(self, keys: Sequence[str]) -> Table:
        """The table without these (internal) columns."""
        return Table(self.name, tuple((c, d) for c, d in self.columns if c not in keys))

    def typed(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The frame's columns of this table, in order, with their dtypes."""
        frame = frame[self.names].reset_index(drop=True)
        return frame.astype({c: (object if d == "object" else d) for c, d in self.columns
                             if d not in ("binary", "longs", "ints")})

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([pa.field(c, _ARROW_TYPES[d]) for c, d in self.columns])

    def to_parquet(self, frame: pd.DataFrame, path: object) -> None:
        """The frame written as a Parquet file of this table's columns and types."""
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pandas(frame[self.names], schema=self.arrow_schema(), preserve_index=False),
                       path)


_COUNTS = {"lsh_sentences_a": "int64", "lsh_sentences_b": "int64"}
PAIR_COLUMNS = [*CANDIDATE_COLUMNS[:2], "relation", "confidence", *CANDIDATE_COLUMNS[2:], *EVIDENCE_COLUMNS, "reason",
                *ORIENT_COLUMNS]
STORE = {table.name: table for table in (
    Table.of("documents", [c for c in COLUMNS if c != "text"]),
    Table.of("pairs", PAIR_COLUMNS, estimate="float64", confidence="float64", **_COUNTS, **EVIDENCE_DTYPES),
    Table.of("clusters", CLUSTER_COLUMNS, canonical="bool"),
    Table.of("groups", GROUP_COLUMNS, size="int64", weakest_strength="float64"),
    Table.of("matches", MATCH_COLUMNS, seg_a="int64", seg_b="int64", score="float64", in_order="bool"),
    Table.of("passages", PASSAGE_COLUMNS, passage_no="int64", score="float64",
             **dict.fromkeys(("a_start", "a_end", "b_start", "b_end", "a_para", "b_para"), "Int64")),
    Table.of("facts", FACT_COLUMNS, passage_no="int64"),
    Table.of("texts", ["doc_id", "text"]),
)}


def markdown() -> str:
    """The store's tables as a Markdown table: each table's columns and their dtypes."""
    rows = [f"| `{table.name}` | {', '.join(f'{c} ({d})' for c, d in table.columns)} |" for table in STORE.values()]
    return "\n".join(["| table | columns (dtype) |", "|---|---|", *rows]) + "\n"
