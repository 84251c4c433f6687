"""Run a scan on Apache Spark: the local stage functions on pandas batches, Spark in between.

    read → validate → prepare → candidates → verify → furniture → align → group

Every stage that looks at text calls the local function (`dedup.api.prepare`,
`dedup.verify.verify`, `dedup.relate.relate`, `dedup.align.align`,
`dedup.cluster.group`, dedup.read's record rules) on the rows of one Arrow batch
(`mapInPandas`, `applyInPandas`); Spark only does what needs the whole corpus:
shuffles, joins and counts. So the two engines cannot drift apart, and a scan
gives the tables `dedup.scan` gives, row for row (tests/test_spark.py).

How each stage maps to Spark, and why it gives the local result:

* **read**: ``.parquet`` and ``.jsonl``/``.ndjson`` paths (files or folders, any
  file system Spark reads: local, ``hdfs://``, ``s3a://``; a URI folder without a
  suffix goes by the files in it) are read by Spark; each row becomes a record by
  dedup.read's own field mapping inside ``mapInPandas``. Every other local path
  (folders of .txt/.md, CSV/TSV) is read on the driver with
  dedup.read, metadata CSV included, and shipped to Spark: that keeps its
  encoding detection and file rules exactly, at the cost of the driver's memory.
  Each record gets an order key ``idx`` (path, file, row) so "input order" means
  what it means locally.
* **validate**: the length rule per batch; duplicate ids by counting ids, then
  running dedup.read's first-wins rule on the few ids seen twice, in input order.
* **prepare**: `dedup.api.prepare` per batch (segmenting and fingerprinting are per
  document), emitting documents, sentences, signatures and LSH band keys
  (`dedup.candidates.Banding.keys`).
* **candidates**: ``groupBy(band, key)``; buckets over ``max_bucket`` are counted and give the pairs with
  their first ``bucket_representatives`` items (a window's row number), the rest give
  all their pairs (smaller ``idx`` first, as locally). The
  sentence path filters colliding sentences by their signatures' estimate
  (`dedup.candidates.estimates`, on Arrow batches), counts distinct colliding
  sentences per document pair, and keeps pairs by `dedup.candidates.shared_enough`,
  the local rule; the document estimate is `dedup.candidates.estimates`, rounded
  as locally.
* **verify**: each candidate is joined with its two documents; a batch of pairs
  prepares its own documents and runs `verify` and `relate`. Per-pair results do
  not depend on the other documents of a batch (sentence matching, Jaccard and
  order are functions of the two texts).
* **furniture**: the one corpus-level part of alignment. A sentence is furniture
  when its source prints it in two documents that are not related; that is a
  ``groupBy(source, sentence)`` and an anti-join with the related pairs, as in
  `dedup.boilerplate`, handed to `align` as a flag per sentence.
* **align**: related pairs with their documents and furniture flags, `align` per batch.
* **group**: connected components of the related pairs by min-label propagation
  (joins until no label changes); batches of whole components are grouped by
  `dedup.cluster.group` in ``applyInPandas``. Its ids are numbered per batch, so each
  group is named by its first member's ``idx`` and numbered globally afterwards:
  the local numbering (`dedup.cluster._dense_ids`) counts groups in order of their
  first member, so ranking those keys (a window over the distinct keys) gives the
  same ids.

Each stage ends with a checkpoint of what it made (`_Stages.keep`), so stages are
timed separately (``ScanResult.timings``, timings.json) and plans stay small.

Where it differs from `dedup.pipeline.scan`:

* JSONL read by Spark is decoded as UTF-8 (bytes that are not become U+FFFD; dedup.read
  detects the whole file's encoding), and Hadoop's line reader also ends a line
  at a lone carriage return. Parquet columns reach dedup.read's field mapping through
  Spark's Arrow conversion, which may render timestamps and decimals otherwise than
  pandas does. A Parquet or JSONL folder is read as Spark reads it (its files in name
  order); dedup.read does not read folders of record files at all.
* `dedup.align.align` looks texts, dates and sources up by doc_id over every record,
  rejected ones included, so locally a rejected record repeating an ok document's id
  lends that document its text, date and source; here only ok documents are aligned.

Needs ``pyspark>=4`` and ``pyarrow``; worker processes run this Python
(``PYSPARK_PYTHON``, set by `session`), so they import the same dedup.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from importlib.metadata import version
from pathlib import Path, PurePosixPath
from typing import Any, cast
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pyarrow as pa
from pyspark import Broadcast
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from dedup import read, report
from dedup.align import PASSAGE_COLUMNS, align
from dedup.boilerplate import REPEATS_CHECKED
from dedup.candidates import CANDIDATE_COLUMNS, Banding, CandidateStats, estimates, shared_enough
from dedup.cluster import CLUSTER_COLUMNS, GROUP_COLUMNS, group
from dedup.facts import FACT_COLUMNS
from dedup.manifest import build_manifest, input_hash
from dedup.params import Params
from dedup.pipeline import ScanResult
from dedup.prepare import prepare
from dedup.read import COLUMNS, Fields, InputError
from dedup.relate import LINKED, ORIENT_COLUMNS, relate
from dedup.schema import PAIR_COLUMNS, STORE, Table
from dedup.segment import SEGMENT_COLUMNS
from dedup.store import StoredScan
from dedup.verify import EVIDENCE_DTYPES, MATCH_COLUMNS, SentenceIndex, pair_documents, verify
from dedup.weights import DocumentFrequencies

SPARK_FORMATS = {".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl"}
KEY = "idx"           # a record's place in the input: path, file, row (see `_order_key`)
PAIR_KEY = ["a_idx", "b_idx"]
ROW = "row"           # a row's place among the rows of its pair, as the local stage emitted them
_TABLE = "_table"     # which table a row of a packed batch belongs to
_FILE, _ROW_INDEX = "__dedup_file", "__dedup_row"
# An order key: up to 1,024 paths, 4M files under a path, 2G rows in a file (63 bits, a Spark long).
_PATH_BITS, _FILE_BITS, _ROW_BITS = 10, 22, 31
BATCH_ROWS = 5000  # rows (documents, pairs) per batch of a Python stage, about; a component is never split


# --- tables: columns, pandas dtypes (`dedup.schema`) and Spark types -------------

_SPARK_TYPES = {"str": T.StringType(), "object": T.StringType(), "int64": T.LongType(), "Int64": T.LongType(),
                "int32": T.IntegerType(), "float64": T.DoubleType(), "bool": T.BooleanType(),
                "binary": T.BinaryType(), "longs": T.ArrayType(T.LongType()), "ints": T.ArrayType(T.IntegerType())}
# Nullable forms used while packing several tables into one batch (see `_pack`).
_PACKED_DTYPES = {"int64": "Int64", "int32": "Int64", "bool": "boolean", "str": object}


def _spark_schema(table: Table) -> T.StructType:
    return T.StructType([T.StructField(c, _SPARK_TYPES[d], True) for c, d in table.columns])


_COUNTS = {"lsh_sentences_a": "int64", "lsh_sentences_b": "int64"}
RECORDS = Table.of("records", COLUMNS, keys=[KEY])
DOCUMENTS = Table.of("documents", [*COLUMNS, "n_sentences", "signature", "bands"], keys=[KEY],
                     n_sentences="Int64", signature="binary", bands="longs")
SEGMENTS = Table.of("segments", [*SEGMENT_COLUMNS, "signature", "bands"], keys=[KEY], seg_no="int32",
                    para_no="int32", start="int64", end="int64", n_units="int32", signature="ints", bands="longs")
WORDS = Table.of("words", ["hash", "documents"], hash="int64", documents="int64")  # a batch's document frequencies
CANDIDATES = Table.of("candidates", CANDIDATE_COLUMNS, keys=PAIR_KEY, estimate="float64", **_COUNTS)
PAIRS = Table.of("pairs", PAIR_COLUMNS, keys=PAIR_KEY, estimate="float64", confidence="float64", **_COUNTS,
                 **EVIDENCE_DTYPES, **{c: "object" for c in ORIENT_COLUMNS})
ORIENTATION = Table.of("orientation", ORIENT_COLUMNS, keys=PAIR_KEY, **{c: "object" for c in ORIENT_COLUMNS})
MATCHES = Table.of("matches", MATCH_COLUMNS, keys=[*PAIR_KEY, ROW], seg_a="int64", seg_b="int64",
                   score="float64", in_order="bool")
PASSAGES = Table.of("passages", PASSAGE_COLUMNS, keys=[*PAIR_KEY, ROW], passage_no="int64", score="float64",
                    **{c: "Int64" for c in ("a_start", "a_end", "b_start", "b_end", "a_para", "b_para")})
FACTS = Table.of("facts", FACT_COLUMNS, keys=[*PAIR_KEY, ROW], passage_no="int64")
CLUSTER_KEYS = Table.of("clusters", ["doc_id", "cluster_key", "story_key", "canonical", "keep_reason"], keys=[KEY],
                        cluster_key="int64", story_key="int64", canonical="bool")
GROUP_KEYS = Table.of("groups", ["kind", "key", *GROUP_COLUMNS[2:]], size="int64", key="int64",
                      weakest_strength="float64")
CLUSTERS, GROUPS = STORE["clusters"], STORE["groups"]


def _packed_schema(tables: Sequence[Table]) -> T.StructType:
    """One schema for batches carrying several tables: a ``_table`` column, then ``table__column``."""
    fields = [T.StructField(_TABLE, T.StringType(), False)]
    for table in tables:
        fields += [T.StructField(f"{table.name}__{f.name}", f.dataType, True) for f in _spark_schema(table).fields]
    return T.StructType(fields)


def _pack(tables: Sequence[Table], frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Several tables' rows in one pandas frame of `_packed_schema` (mapInPandas emits one schema).

    Integers become nullable first, so no id is carried through a float."""
    parts = []
    for table in tables:
        frame = frames.get(table.name)
        if frame is None or frame.empty:
            continue
        frame = frame[table.names].astype({c: _PACKED_DTYPES.get(d, d) for c, d in table.columns
                                           if d in _PACKED_DTYPES})
        parts.append(frame.rename(columns=lambda c, t=table.name: f"{t}__{c}").assign(**{_TABLE: table.name}))
    schema = _packed_schema(tables)
    if not parts:
        return pd.DataFrame({name: pd.Series([], dtype=object) for name in schema.names})
    packed = pd.concat(parts, ignore_index=True).reindex(columns=schema.names)
    for f in schema.fields:  # other tables' cells are missing: None, not NaN, for Spark's converters
        if isinstance(f.dataType, (T.StringType, T.BinaryType, T.ArrayType)):
            column = packed[f.name].astype(object)
            packed[f.name] = column.where(column.notna(), None)
    return packed


def _unpack(packed: DataFrame, table: Table) -> DataFrame:
    """One table's rows of a packed DataFrame, with its own column names."""
    return packed.filter(F.col(_TABLE) == table.name).select(
        [F.col(f"{table.name}__{c}").alias(c) for c in table.names])


# --- session, timing, partitioning ---------------------------------------------

def session(master: str | None = None, config: dict[str, str] | None = None) -> SparkSession:
    """The active SparkSession, or a new one whose Python workers run this interpreter.

    Workers must import the same dedup, numpy and pandas as the driver, so
    ``PYSPARK_PYTHON`` defaults to ``sys.executable`` (a virtualenv's python).
    A local master gets 2 shuffle partitions per core unless config says otherwise:
    Spark's default, 200, costs a local scan of a few thousand documents half its time.
    With an active session, master and config are ignored (one context per process).
    """
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    config = dict(config or {})
    local = re.fullmatch(r"local(?:\[(\d+|\*)(?:,\d+)?\])?", master or "")
    if local and "spark.sql.shuffle.partitions" not in config:
        threads = local.group(1)
        cores = 1 if threads is None else (os.cpu_count() or 1) if threads == "*" else int(threads)
        config["spark.sql.shuffle.partitions"] = str(2 * cores)
    builder = SparkSession.builder.appName("dedup").config("spark.sql.execution.arrow.pyspark.enabled", "true")
    for key, value in config.items():
        builder = builder.config(key, value)
    if master is not None:
        builder = builder.master(master)
    return builder.getOrCreate()


@dataclass
class _Stages:
    """Wall time of each stage. A stage ends by checkpointing what later stages read
    (`keep`); what it cached for itself (`hold`) is released when it ends."""

    seconds: dict[str, float] = field(default_factory=dict)
    held: list[DataFrame] = field(default_factory=list)
    kept: list[DataFrame] = field(default_factory=list)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.release()
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 3)

    def keep(self, frame: DataFrame) -> DataFrame:
        """Compute now and cut the lineage, so the next stages (and the timing) start from it.

        A checkpoint, not a cache: plans that join cached plans with cached plans
        grow with every stage (Spark prints each one when it caches it, and ran out
        of heap doing so). Reliable when the context has a checkpoint directory,
        else local (kept by the executors, lost with one)."""
        if frame.sparkSession.sparkContext.getCheckpointDir():
            frame = frame.checkpoint(eager=True)
        else:
            frame = frame.localCheckpoint(eager=True)
        self.kept.append(frame)
        return frame

    def hold(self, frame: DataFrame) -> DataFrame:
        """Cache for the rest of this stage: read more than once, computed once."""
        frame = frame.persist()
        self.held.append(frame)
        return frame

    def release(self) -> None:
        while self.held:
            self.held.pop().unpersist()

    def free(self) -> None:
        """Drop every checkpoint's blocks (the frames are unusable after). Spark frees a
        checkpoint only when the JVM collects its RDD, so a session running scan after
        scan would otherwise fill its storage with them."""
        while self.kept:
            plan = self.kept.pop()._jdf.queryExecution().logical()
            if plan.getClass().getSimpleName() == "LogicalRDD":
                plan.rdd().unpersist(False)


def _batch_count(rows: int, spark: SparkSession) -> int:
    """How many batches a Python stage gets: a few per core, and no more than ~BATCH_ROWS rows each."""
    cores = spark.sparkContext.defaultParallelism
    return max(1, min(max(rows, 1), max(3 * cores, math.ceil(rows / BATCH_ROWS))))


def _spread(frame: DataFrame, rows: int) -> DataFrame:
    """Round-robin partitions for a Python stage (see `_batch_count`).

    Python stages cost per row, not per byte, so Spark's size-based partitioning
    (one partition for a small Parquet file) would leave cores idle."""
    return frame.repartition(_batch_count(rows, frame.sparkSession))


# --- read and validate ---------------------------------------------------------

def _order_key(path_no: int, file_no: int, row: int) -> int:
    """The input-order key of a record: path given, then file (sorted by name), then row."""
    if path_no >= 1 << _PATH_BITS or file_no >= 1 << _FILE_BITS or row >= 1 << _ROW_BITS:
        raise InputError(f"too many paths, files or rows to order ({path_no}, {file_no}, {row})")
    return (path_no << (_FILE_BITS + _ROW_BITS)) | (file_no << _ROW_BITS) | row


def _spark_format(spark: SparkSession, path: str) -> str | None:
    """"parquet" or "jsonl" for a path Spark reads, by its suffix; a URI without one (a folder on
    hdfs:// or s3a://) by the first data file in it. None: dedup.read reads it on the driver."""
    found = SPARK_FORMATS.get(PurePosixPath(path.rstrip("/")).suffix.lower())
    if found is not None or not _is_uri(path):
        return found
    folder = spark.sparkContext._jvm.org.apache.hadoop.fs.Path(path)  # type: ignore[union-attr]
    system = folder.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    if not system.exists(folder):
        raise InputError(f"no such file or folder: {path}")
    files = system.listFiles(folder, True)
    while files.hasNext():
        name = files.next().getPath().getName()
        if not name.startswith(("_", ".")) and (found := SPARK_FORMATS.get(PurePosixPath(name).suffix.lower())):
            return found
    return None


def _is_uri(path: str) -> bool:
    return "://" in path or path.startswith("file:")


def _driver_records(paths: list[tuple[int, str]], fields: Fields, metadata: str | Path | None,
                    root: Path | None, others: bool, dayfirst: bool | None) -> pd.DataFrame:
    """Records of the paths read on the driver by dedup.read (folders, .txt/.md, CSV/TSV), unvalidated;
    root: the folder their fallback ids are relative to (`dedup.read.id_root`); others: whether
    Spark reads other paths. As in dedup.read, metadata applies unless the inputs hold no record
    (then that is the error), which others may hold. dayfirst: as in `dedup.read.read_documents`."""
    records, keys = [], []
    for path_no, path in paths:
        if _is_uri(path):
            raise InputError(f"unsupported input '{path}': only .parquet and .jsonl/.ndjson are read from URIs")
        assert root is not None, "a local path has a root (dedup.read.id_root)"
        for row, record in enumerate(read._read_path(Path(path), fields, root)):
            records.append(record)
            keys.append(_order_key(path_no, 0, row))
    if metadata is not None and (records or others):
        read._apply_metadata(records, Path(metadata), fields)
    frame = pd.DataFrame([read._to_row(record, fields, dayfirst) for record in records], columns=list(COLUMNS),
                         dtype=str)
    frame.insert(0, KEY, np.array(keys, dtype=np.int64))
    return frame


def _files_of(frame: DataFrame, path: str, root: Path | None) -> dict[str, tuple[int, str, str]]:
    """file URI → (file number by name, origin prefix, fallback-id base) for the files behind path.

    A path naming one file keeps its spelling in origins, as dedup.read writes them;
    files inside a folder are named path/file. A local file's id base is dedup.read's
    (`dedup.read.file_id`, relative to root), a URI's the file's stem."""
    files = sorted(row[0] for row in frame.select(_FILE).distinct().collect())
    given = path if _is_uri(path) else Path(path).as_posix()
    out = {}
    for number, uri in enumerate(files):
        name = PurePosixPath(unquote(uri)).name
        single = len(files) == 1 and name == PurePosixPath(given.rstrip("/")).name
        location = given if single else f"{given.rstrip('/')}/{name}"
        base_id = PurePosixPath(name).stem if root is None else read.file_id(Path(location), root)
        out[uri] = (number, location, base_id)
    return out


def _record_rows(batches: Iterator[pd.DataFrame], files: dict[str, tuple[int, str, str]], path_no: int,
                 fields: Fields, dayfirst: bool | None, jsonl: bool) -> Iterator[pd.DataFrame]:
    """dedup.read's field mapping (and, for JSONL, its line parsing) on rows Spark read."""
    for batch in batches:
        rows = []
        for values, uri, row in zip(batch.drop(columns=[_FILE, _ROW_INDEX]).to_dict("records"),
                                    batch[_FILE], batch[_ROW_INDEX]):
            file_no, location, base_id = files[uri]
            number, problem = int(row) + 1, ""
            if jsonl:
                line = values["value"].removeprefix("\ufeff") if number == 1 else values["value"]
                if not line.strip():
                    continue
                values, problem = read._parse_json_object(line)
            record = read._Record(f"{location}:{number}", f"{base_id}:{number}", values, "utf-8", problem)
            rows.append({KEY: _order_key(path_no, file_no, int(row)), **read._to_row(record, fields, dayfirst)})
        yield pd.DataFrame(rows, columns=RECORDS.names)


def _numbered_lines(spark: SparkSession, path: str, stages: _Stages) -> DataFrame:
    """Lines of text files with their 0-based line number in their file, computed without a single task.

    A text scan reads each file split in order inside one partition, and the
    splits of a file land in partitions in file order, so a line's number is the
    lines in earlier (file, partition) blocks plus its position in its own."""
    lines = spark.read.text(path).select(F.col("_metadata.file_path").alias(_FILE), "value",
                                         F.monotonically_increasing_id().alias("id"))
    lines = stages.hold(lines.withColumn("block", F.shiftright("id", 33)))
    blocks = lines.groupBy(_FILE, "block").agg(F.min("id").alias("first"), F.count("*").alias("n"))
    earlier = Window.partitionBy(_FILE).orderBy("first").rowsBetween(Window.unboundedPreceding, -1)
    blocks = blocks.withColumn("before", F.coalesce(F.sum("n").over(earlier), F.lit(0)))
    return lines.join(blocks, [_FILE, "block"]).select(
        _FILE, "value", (F.col("before") + F.col("id") - F.col("first")).alias(_ROW_INDEX))


def _spark_records(spark: SparkSession, path_no: int, path: str, kind: str, fields: Fields,
                   dayfirst: bool | None, root: Path | None, stages: _Stages) -> DataFrame:
    """Records of a Parquet or JSONL (kind) path read by Spark, unvalidated, with their order key;
    root: see `_files_of`."""
    if not _is_uri(path) and not Path(path).exists():
        raise InputError(f"no such file or folder: {Path(path).as_posix()}")
    jsonl = kind == "jsonl"
    if jsonl:
        frame = _numbered_lines(spark, path, stages)
    else:
        frame = spark.read.parquet(path).select("*", F.col("_metadata.file_path").alias(_FILE),
                                                F.col("_metadata.row_index").alias(_ROW_INDEX))
    rows = partial(_record_rows, files=_files_of(frame, path, None if _is_uri(path) else root), path_no=path_no,
                   fields=fields, dayfirst=dayfirst, jsonl=jsonl)
    return frame.mapInPandas(rows, _spark_schema(RECORDS))


def _with_length_rule(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """dedup.read's first checks: the reader's own problem, else the text's length."""
    for batch in batches:
        batch["reason"] = [reason or read._length_problem(text, 1) for reason, text in zip(batch.reason, batch.text)]
        yield batch


def _first_id_wins(records: pd.DataFrame) -> pd.DataFrame:
    """dedup.read's duplicate rule over the records sharing one id, in input order."""
    records = records.sort_values(KEY).reset_index(drop=True)
    first_origin: dict[str, str] = {}
    records["reason"] = [read._duplicate_problem(row, first_origin) for row in records.to_dict("records")]
    return records


def validate(records: DataFrame, stages: _Stages, strict: bool = False) -> DataFrame:
    """Status and reason of every record as dedup.read sets them (min_chars=1, as a scan does).

    Duplicate ids are found by counting; only the records of ids seen twice go
    through the first-wins rule, grouped by id."""
    records = stages.hold(records.mapInPandas(_with_length_rule, _spark_schema(RECORDS)))
    candidates = records.filter(F.col("reason") == "")
    repeated = candidates.groupBy("doc_id").count().filter("count > 1").select("doc_id")
    twice = candidates.join(repeated, "doc_id", "left_semi")
    checked = twice.groupBy("doc_id").applyInPandas(_first_id_wins, _spark_schema(RECORDS))
    rest = records.join(twice.select(KEY), KEY, "left_anti")
    validated = rest.select(RECORDS.names).unionByName(checked.select(RECORDS.names)).withColumn(
        "status", F.when(F.col("status") == "skipped", "skipped")  # no document (dedup.read): no rule applies
        .when(F.col("reason") == "", "ok").otherwise("rejected"))
    if strict:
        first = validated.filter(F.col("status") == "rejected").orderBy(KEY).select("origin", "reason").first()
        if first is not None:
            raise InputError(f"{first.origin}: {first.reason}")
    return validated


def read_records(spark: SparkSession, paths: read.Paths, stages: _Stages, fields: Fields = Fields(),
                 metadata: str | Path | None = None, dayfirst: bool | None = None) -> DataFrame:
    """Every record of the paths, before validation: Parquet/JSONL by Spark, the rest on the driver;
    dayfirst: as in `dedup.read.read_documents`."""
    read._input_paths(paths)  # dedup.read's checks on the argument itself
    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    kinds = [(number, str(path), _spark_format(spark, str(path))) for number, path in enumerate(paths)]
    local_paths = [path for _, path, _ in kinds if not _is_uri(path)]
    root = read.id_root(local_paths) if local_paths else None  # as dedup.read's, when no path is a URI
    on_driver = [(n, p) for n, p, kind in kinds if kind is None]
    parts = [_spark_records(spark, n, p, kind, fields, dayfirst, root, stages) for n, p, kind in kinds
             if kind is not None]
    if on_driver or metadata is not None or not parts:
        local = _driver_records(on_driver, fields, metadata, root, others=bool(parts), dayfirst=dayfirst)
        parts.insert(0, spark.createDataFrame(local, _spark_schema(RECORDS)))
    frame = parts[0]
    for part in parts[1:]:
        frame = frame.unionByName(part)
    return frame


# --- prepare: segment, fingerprint, band keys ---------------------------------

def _bandings(params: Params) -> tuple[Banding, Banding]:
    return (Banding.for_threshold(params.doc_threshold, params.num_perm),
            Banding.for_threshold(params.sentence_threshold, params.sentence_num_perm))


def _keys(banding: Banding, signatures: np.ndarray) -> list[np.ndarray]:
    """Band keys per row, as int64 (Spark has no unsigned longs; equality is all that matters)."""
    return list(banding.keys(signatures).view(np.int64))


def _prepare_batches(batches: Iterator[pd.DataFrame], params: Params) -> Iterator[pd.DataFrame]:
    """`dedup.api.prepare` on each batch: documents (status, signature, band keys) and sentences."""
    doc_banding, sent_banding = _bandings(params)
    for batch in batches:
        batch = batch.reset_index(drop=True)
        documents, segments, _, fp = prepare(batch[list(COLUMNS)], params)
        position = {doc: i for i, doc in enumerate(fp.doc_ids)}
        at = [position[doc] if status == "ok" else None for doc, status in zip(documents.doc_id, documents.status)]
        sentences = np.bincount(fp.sent_docs, minlength=len(fp.doc_ids))
        doc_keys = _keys(doc_banding, fp.doc_sigs)
        documents = documents.assign(**{
            KEY: batch[KEY].to_numpy(),
            "n_sentences": pd.array([None if i is None else sentences[i] for i in at], dtype="Int64"),
            "signature": [None if i is None else fp.doc_sigs[i].tobytes() for i in at],
            "bands": [None if i is None else doc_keys[i] for i in at]})
        ok = documents.status.eq("ok")
        idx_of = dict(zip(documents.doc_id[ok], documents[KEY][ok]))
        signatures, keys = [None] * len(segments), [None] * len(segments)
        for row, signature, key in zip(fp.sent_rows, fp.sent_sigs.view(np.int32), _keys(sent_banding, fp.sent_sigs)):
            signatures[row], keys[row] = signature, key
        segments = segments.assign(**{KEY: segments.doc_id.map(idx_of).to_numpy(np.int64),
                                      "signature": signatures, "bands": keys})
        counted = DocumentFrequencies.of(segments)
        words = pd.DataFrame({"hash": counted.hashes.view(np.int64), "documents": counted.counts})
        yield _pack([DOCUMENTS, SEGMENTS, WORDS], {"documents": documents, "segments": segments, "words": words})


def corpus_frequencies(words: DataFrame, documents: DataFrame) -> DocumentFrequencies:
    """The corpus's `DocumentFrequencies` from the batches' counts (a batch holds whole documents),
    the words two or more documents hold, on the driver to be shipped with the pair batches."""
    common = words.groupBy("hash").agg(F.sum("documents").alias("documents")).filter(F.col("documents") >= 2)
    counted = cast(pd.DataFrame, common.toPandas())
    hashes = counted.hash.to_numpy(np.int64).view(np.uint64)
    order = np.argsort(hashes)
    return DocumentFrequencies(hashes[order], counted.documents.to_numpy(np.int64)[order],
                               documents.filter(F.col("status") == "ok").count())


# --- candidates ----------------------------------------------------------------

# Every pair (items[i], items[j]), i < j, of a sorted bucket, in Spark SQL (no Python per bucket).
_BUCKET_PAIRS = ("explode(flatten(transform(sequence(0, size(items) - 2), i -> "
                 "transform(slice(items, i + 2, size(items)), x -> named_struct('a', items[i], 'b', x)))))")


def bucket_pairs(keys: DataFrame, item: Column, params: Params, stages: _Stages) -> tuple[DataFrame, int]:
    """LSH collisions by ``groupBy(band, key)``: (item pairs a < b, how many buckets were capped).

    keys has columns band, key; item is what a bucket holds (a document's idx, a
    sentence's (idx, seg_no, signature)). As `dedup.candidates.colliding_pairs`: a bucket
    of at most max_bucket items gives all its pairs, a larger one only the pairs with one
    of its first bucket_representatives items (ranked by item, as the local engine ranks
    them by input order); a pair colliding in several bands comes once per band (the
    caller drops repeats). Bucket sizes are counted first, so only the buckets of two or
    more items collect their items, and only the small ones as arrays."""
    sizes = stages.hold(keys.groupBy("band", "key").count())
    capped = sizes.filter(F.col("count") > params.max_bucket).count()
    shared = sizes.filter((F.col("count") >= 2) & (F.col("count") <= params.max_bucket)).select("band", "key")
    buckets = keys.join(shared, ["band", "key"], "left_semi").groupBy("band", "key").agg(
        F.array_sort(F.collect_list(item)).alias("items"))
    small = buckets.select(F.expr(_BUCKET_PAIRS).alias("pair")).select("pair.a", "pair.b")
    if not capped:
        return small, 0
    large = keys.join(sizes.filter(F.col("count") > params.max_bucket).select("band", "key"), ["band", "key"],
                      "left_semi").select("band", "key", item.alias("item"))
    ranked = large.withColumn("rank", F.row_number().over(Window.partitionBy("band", "key").orderBy("item")))
    leads = ranked.filter(F.col("rank") <= params.bucket_representatives).select(
        "band", "key", F.col("item").alias("a"), F.col("rank").alias("lead_rank"))
    led = leads.join(ranked.select("band", "key", F.col("item").alias("b"), "rank"), ["band", "key"]) \
        .filter(F.col("lead_rank") < F.col("rank")).select("a", "b")
    return small.unionByName(led), capped


def _exploded_keys(frame: DataFrame, *items: str) -> DataFrame:
    return frame.filter(F.col("bands").isNotNull()).select(*items, F.posexplode("bands").alias("band", "key"))


def _unpacked_signatures(values: pd.Series) -> np.ndarray:
    """A column of signature bytes as a (rows, permutations) uint32 array."""
    return np.stack([np.frombuffer(v, dtype=np.uint32) for v in values]) if len(values) else np.empty((0, 0))


def _sentences_above(batches: Iterator[pa.RecordBatch], params: Params) -> Iterator[pa.RecordBatch]:
    """Colliding sentence pairs whose signatures' estimate (`dedup.candidates.estimates`)
    reaches the sentence threshold, as in `_sentence_path`.

    Arrow batches, not pandas: every signature has sentence_num_perm values, so a
    column of them is one (rows, permutations) array without a copy, and most
    colliding pairs (a pair collides once per band it agrees on) cost next to nothing."""
    for batch in batches:
        a, b = (batch.column(c).flatten().to_numpy().reshape(-1, params.sentence_num_perm)
                for c in ("sig_a", "sig_b"))
        keep = estimates(a, b) >= params.sentence_threshold
        yield batch.select(["a_idx", "a_seg", "b_idx", "b_seg"]).filter(pa.array(keep, type=pa.bool_()))


def _shared_enough(batches: Iterator[pd.DataFrame], params: Params) -> Iterator[pd.DataFrame]:
    for batch in batches:
        keep = shared_enough(batch.lsh_sentences_a.to_numpy(), batch.lsh_sentences_b.to_numpy(),
                             batch.n_a.to_numpy(), batch.n_b.to_numpy(), params)
        yield batch.loc[keep, [*PAIR_KEY, "lsh_sentences_a", "lsh_sentences_b"]]


def _sentence_candidates(segments: DataFrame, documents: DataFrame, params: Params,
                         stages: _Stages) -> tuple[DataFrame, int]:
    """The sentence path: document pairs with enough colliding sentences on each side.

    A bucket's sentences carry their signatures (as int32: equality is all that
    matters), so a colliding pair is filtered by its estimate where it is found."""
    sentence = F.struct(F.col(KEY).alias("idx"), F.col("seg_no").cast("long").alias("seg"), "signature")
    keyed = _exploded_keys(segments.withColumn("sentence", sentence), "sentence")
    pairs, capped = bucket_pairs(keyed, F.col("sentence"), params, stages)
    hits = pairs.filter(F.col("a.idx") != F.col("b.idx")).select(
        F.col("a.idx").alias("a_idx"), F.col("a.seg").alias("a_seg"), F.col("a.signature").alias("sig_a"),
        F.col("b.idx").alias("b_idx"), F.col("b.seg").alias("b_seg"), F.col("b.signature").alias("sig_b"))
    hits = hits.mapInArrow(partial(_sentences_above, params=params),
                           "a_idx long, a_seg long, b_idx long, b_seg long").distinct()
    per_pair = hits.groupBy(*PAIR_KEY).agg(F.size(F.collect_set("a_seg")).cast("long").alias("lsh_sentences_a"),
                                           F.size(F.collect_set("b_seg")).cast("long").alias("lsh_sentences_b"))
    counts = documents.select(KEY, "n_sentences")
    for side in ("a", "b"):
        per_pair = per_pair.join(counts.toDF(f"{side}_idx", f"n_{side}"), f"{side}_idx")
    kept = per_pair.mapInPandas(partial(_shared_enough, params=params),
                                "a_idx long, b_idx long, lsh_sentences_a long, lsh_sentences_b long")
    return kept, capped


def _with_estimates(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """The documents' MinHash estimate, rounded as `find_candidates` rounds it."""
    for batch in batches:
        batch["estimate"] = estimates(_unpacked_signatures(batch.sig_a), _unpacked_signatures(batch.sig_b)).round(4)
        yield batch[CANDIDATES.names]


def find_candidates(documents: DataFrame, segments: DataFrame, params: Params,
                    stages: _Stages) -> tuple[DataFrame, dict[str, int]]:
    """The candidates table of both LSH paths (with a_idx, b_idx), and the capped buckets per path."""
    ok = documents.filter(F.col("status") == "ok")
    doc_pairs, doc_capped = bucket_pairs(_exploded_keys(ok, KEY), F.col(KEY), params, stages)
    sentence_pairs, sent_capped = _sentence_candidates(segments, ok, params, stages)
    merged = doc_pairs.distinct().select(F.col("a").alias("a_idx"), F.col("b").alias("b_idx"),
                                         F.lit(True).alias("document")) \
        .join(sentence_pairs.withColumn("sentence", F.lit(True)), PAIR_KEY, "full_outer")
    via = F.concat_ws("+", F.when(F.col("document"), F.lit("document")), F.when(F.col("sentence"), F.lit("sentence")))
    merged = merged.select(*PAIR_KEY, via.alias("via"),
                           *(F.coalesce(c, F.lit(0)).alias(c) for c in ("lsh_sentences_a", "lsh_sentences_b")))
    sigs = ok.select(KEY, "doc_id", "signature")
    for side in ("a", "b"):
        merged = merged.join(sigs.toDF(f"{side}_idx", f"doc_{side}", f"sig_{side}"), f"{side}_idx")
    capped = {"document": doc_capped, "sentence": sent_capped}
    return stages.keep(merged.mapInPandas(_with_estimates, _spark_schema(CANDIDATES))), capped


# --- verify and align: pairs shipped with their documents ----------------------

_DOC_FIELDS = ["doc_id", "text", "source", "date", "url"]  # what verify and align read of a document (url: re-captures)


def _with_documents(pairs: DataFrame, documents: DataFrame, extra: Sequence[str] = ()) -> DataFrame:
    """Each pair with both of its documents' fields (a_text, b_source, ...)."""
    fields = documents.select(KEY, *(F.col(c).alias(f"doc_{c}") for c in [*_DOC_FIELDS, *extra]))
    for side in ("a", "b"):
        pairs = pairs.join(fields.toDF(*(f"{side}_{c}" for c in fields.columns)), f"{side}_idx")
    return pairs


def _batch_documents(batch: pd.DataFrame, extra: Sequence[str] = ()) -> pd.DataFrame:
    """The distinct documents of a batch of pairs, in input order, as a documents table (+ idx)."""
    sides = [batch[[f"{side}_idx", *(f"{side}_doc_{c}" for c in [*_DOC_FIELDS, *extra])]]
             .set_axis([KEY, *_DOC_FIELDS, *extra], axis=1) for side in ("a", "b")]
    docs = pd.concat(sides).drop_duplicates(KEY).sort_values(KEY).reset_index(drop=True)
    return docs.assign(**{**{c: "" for c in COLUMNS if c not in _DOC_FIELDS}, "status": "ok"})


def _keyed(rows: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Rows of per-pair output with their pair's a_idx, b_idx and their place among the pair's rows.

    A pair's rows may name its documents in either order (passages are read from the source)."""
    key = {frozenset(p): k for p, k in zip(zip(pairs.doc_a, pairs.doc_b), zip(pairs.a_idx, pairs.b_idx))}
    keys = [key[frozenset(p)] for p in zip(rows.doc_a, rows.doc_b)]
    rows = rows.assign(a_idx=[a for a, _ in keys], b_idx=[b for _, b in keys])
    return rows.assign(**{ROW: rows.groupby(PAIR_KEY).cumcount()})


def _verify_batches(batches: Iterator[pd.DataFrame], params: Params,
                    frequencies: Broadcast) -> Iterator[pd.DataFrame]:
    """`verify` and `relate` on a batch of candidates, with its own documents prepared."""
    for batch in batches:
        if batch.empty:
            continue
        docs = _batch_documents(batch)
        _, segments, unit_hashes, fp = prepare(docs[list(COLUMNS)], params)
        batch = batch.sort_values(PAIR_KEY).reset_index(drop=True)
        candidates = batch[CANDIDATE_COLUMNS]
        index = SentenceIndex.build(segments, unit_hashes, params, pair_documents(candidates), frequencies.value)
        evidence, matches, _ = verify(candidates, segments, unit_hashes, fp, params, index=index)
        pairs = relate(candidates, evidence, params).assign(a_idx=batch.a_idx, b_idx=batch.b_idx)
        pairs = pairs.assign(**{c: None for c in ORIENT_COLUMNS})
        yield _pack([PAIRS, MATCHES], {"pairs": pairs, "matches": _keyed(matches, batch)})


def _align_batches(batches: Iterator[pd.DataFrame], params: Params,
                   frequencies: Broadcast) -> Iterator[pd.DataFrame]:
    """`align` on a batch of related pairs, with the corpus's furniture flags for their sentences."""
    for batch in batches:
        if batch.empty:
            continue
        docs = _batch_documents(batch, extra=["furniture"])
        _, segments, unit_hashes, _ = prepare(docs[list(COLUMNS)], params)
        flagged = {(doc, int(seg)) for doc, segs in zip(docs.doc_id, docs.furniture) if segs is not None
                   for seg in segs}
        repeated = np.array([(doc, seg) in flagged for doc, seg in zip(segments.doc_id, segments.seg_no)],
                            dtype=bool)
        pairs = batch.sort_values(PAIR_KEY).reset_index(drop=True)
        index = SentenceIndex.build(segments, unit_hashes, params, pair_documents(pairs), frequencies.value)
        orientation, passages, facts = align(pairs[PAIRS.names], docs[list(COLUMNS)], segments, unit_hashes,
                                             params, repeated_furniture=repeated, index=index)
        yield _pack([ORIENTATION, PASSAGES, FACTS], {
            "orientation": orientation.assign(a_idx=pairs.a_idx, b_idx=pairs.b_idx),
            "passages": _keyed(passages, pairs), "facts": _keyed(facts, pairs)})


def repeated_furniture(segments: DataFrame, documents: DataFrame, related: DataFrame) -> DataFrame:
    """(idx, furniture: seg_nos) of the sentences a source repeats under unrelated documents.

    The corpus-level half of `dedup.boilerplate.furniture`: per (source, sentence),
    the documents printing it in input order; it is furniture when two of the first
    REPEATS_CHECKED of them are not a related pair."""
    sourced = segments.join(documents.filter(F.col("source") != "").select(KEY, "source"), KEY)
    lines = sourced.groupBy("source", "text").agg(F.array_sort(F.collect_set(KEY)).alias("docs")) \
        .filter(F.size("docs") >= 2).select("source", "text", F.slice("docs", 1, REPEATS_CHECKED).alias("items"))
    pairs = lines.select("source", "text", F.expr(_BUCKET_PAIRS).alias("pair")).select(
        "source", "text", F.col("pair.a").alias("a_idx"), F.col("pair.b").alias("b_idx"))
    unrelated = pairs.join(related.select(PAIR_KEY), PAIR_KEY, "left_anti").select("source", "text").distinct()
    return sourced.join(unrelated, ["source", "text"], "left_semi").groupBy(KEY).agg(
        F.collect_list(F.col("seg_no")).alias("furniture"))


# --- group: connected components, then dedup.cluster per component ------------

def components(edges: DataFrame, stages: _Stages) -> DataFrame:
    """(idx, component) for every node of the edges (a_idx, b_idx): the smallest idx it is connected to.

    Min-label propagation: each node takes the smallest label among its own and
    its neighbours', until no label changes (one round per step of the longest
    shortest path). A round is one job; its result is checkpointed, so the plan
    does not grow with the rounds."""
    both = edges.select(F.col("a_idx").alias("src"), F.col("b_idx").alias("dst")).unionByName(
        edges.select(F.col("b_idx").alias("src"), F.col("a_idx").alias("dst")))
    labels = both.groupBy(F.col("src").alias(KEY)).agg(F.least(F.min("dst"), F.col(KEY)).alias("component"))
    labels = stages.keep(labels)
    while True:
        offered = both.join(labels.toDF("src", "offered"), "src").groupBy(F.col("dst").alias(KEY)).agg(
            F.min("offered").alias("offered"))
        updated = labels.join(offered, KEY, "left").select(
            KEY, F.least("component", F.coalesce("offered", "component")).alias("component"),
            (F.col("offered") < F.col("component")).alias("changed"))
        updated = stages.keep(updated)
        if updated.filter(F.col("changed")).isEmpty():
            return updated.drop("changed")
        labels = updated.drop("changed")


def _group_component(docs: pd.DataFrame, pairs: pd.DataFrame, params: Params) -> pd.DataFrame:
    """`dedup.cluster.group` on a batch of whole connected components.

    Its cluster and story ids are local; each group is named instead by its first
    member's idx, which `_numbered` turns into the global ids."""
    docs = docs.sort_values(KEY).reset_index(drop=True)
    pairs = pairs.reindex(columns=PAIRS.names).sort_values(PAIR_KEY).reset_index(drop=True)
    clusters, groups = group(docs, pairs, params)
    first = {column: docs[KEY].groupby(clusters[column].to_numpy()).min() for column in ("cluster_id", "story_id")}
    clusters = clusters.assign(**{KEY: docs[KEY], "cluster_key": clusters.cluster_id.map(first["cluster_id"]),
                                  "story_key": clusters.story_id.map(first["story_id"])})
    column = np.where(groups.kind == "duplicate_cluster", "cluster_id", "story_id")
    groups = groups.assign(key=[first[c][g] for c, g in zip(column, groups.group_id)])
    return _pack([CLUSTER_KEYS, GROUP_KEYS], {"clusters": clusters, "groups": groups})


def _numbered(keys: DataFrame, prefix: str) -> DataFrame:
    """(key, id): group ids numbered by their first member, as `dedup.cluster._dense_ids` numbers them.

    Ranks the distinct keys in one partition (a long per group)."""
    distinct = keys.distinct()
    width = len(str(distinct.count()))
    rank = F.row_number().over(Window.orderBy("key"))
    return distinct.select("key", F.concat(F.lit(f"{prefix}-"), F.lpad(rank.cast("string"), width, "0")).alias("id"))


def group_documents(documents: DataFrame, pairs: DataFrame, params: Params,
                    stages: _Stages) -> tuple[DataFrame, DataFrame]:
    """The clusters and groups tables (clusters with idx), as `dedup.cluster.group` makes them.

    `group` runs once per batch of whole components (a document in no related pair
    is a component of its own): its results for a component do not depend on the
    others beside it, and one call per component would cost more than the work.
    Both sides are hash-partitioned by batch with an explicit partition count, so
    the grouping needs no further shuffle and adaptive execution cannot merge the
    batches into one task."""
    linked = pairs.filter(F.col("relation").isin(*LINKED))
    labels = components(linked.select(PAIR_KEY), stages)
    ok = documents.filter(F.col("status") == "ok").select(KEY, *COLUMNS)
    partitions = _batch_count(ok.count(), ok.sparkSession)
    # Several batches per partition: hashing batch numbers onto partitions would leave some empty.
    batches = 4 * partitions
    batch = F.pmod(F.xxhash64("component"), F.lit(batches)).alias("batch")
    ok = ok.join(labels, KEY, "left").withColumn("component", F.coalesce("component", KEY)).withColumn("batch", batch)
    edges = linked.select(*PAIRS.names).join(labels.withColumnRenamed(KEY, "a_idx"), "a_idx") \
        .withColumn("batch", batch)
    grouped = ok.repartition(partitions, "batch").groupBy("batch").cogroup(
        edges.repartition(partitions, "batch").groupBy("batch")).applyInPandas(
        partial(_group_component, params=params), _packed_schema([CLUSTER_KEYS, GROUP_KEYS]))
    grouped = stages.keep(grouped)
    keys, group_keys = _unpack(grouped, CLUSTER_KEYS), _unpack(grouped, GROUP_KEYS)
    cluster_ids = _numbered(keys.select(F.col("cluster_key").alias("key")), "dup")
    story_ids = _numbered(keys.select(F.col("story_key").alias("key")), "story")
    clusters = keys.join(cluster_ids.toDF("cluster_key", "cluster_id"), "cluster_key") \
        .join(story_ids.toDF("story_key", "story_id"), "story_key").select(KEY, *CLUSTER_COLUMNS)
    ids = cluster_ids.withColumn("kind", F.lit("duplicate_cluster")).unionByName(
        story_ids.withColumn("kind", F.lit("story")))
    groups = group_keys.join(ids.withColumnRenamed("id", "group_id"), ["kind", "key"]).withColumn(
        "kind_order", (F.col("kind") == "story").cast("int"))
    return stages.keep(clusters), stages.keep(groups.select("kind_order", "key", *GROUP_COLUMNS))


# --- the scan ------------------------------------------------------------------

@dataclass
class SparkScan:
    """A scan's tables as Spark DataFrames (internal order keys included) and its counts."""

    documents: DataFrame
    segments: DataFrame
    candidates: DataFrame
    pairs: DataFrame
    matches: DataFrame
    passages: DataFrame
    facts: DataFrame
    clusters: DataFrame
    groups: DataFrame
    capped: dict[str, int]
    stages: _Stages

    ORDER = {"documents": [KEY], "segments": [KEY, "seg_no"], "candidates": PAIR_KEY, "pairs": PAIR_KEY,
             "matches": [*PAIR_KEY, ROW], "passages": [*PAIR_KEY, ROW], "facts": [*PAIR_KEY, ROW],
             "clusters": [KEY], "groups": ["kind_order", "key"]}
    PUBLIC = {"documents": Table.of("documents", COLUMNS), "segments": SEGMENTS.public([KEY, "signature", "bands"]),
              "candidates": CANDIDATES.public(PAIR_KEY), "pairs": PAIRS.public(PAIR_KEY),
              "matches": MATCHES.public([*PAIR_KEY, ROW]), "passages": PASSAGES.public([*PAIR_KEY, ROW]),
              "facts": FACTS.public([*PAIR_KEY, ROW]), "clusters": CLUSTERS, "groups": GROUPS}

    def ordered(self, name: str) -> DataFrame:
        """A table in the local engine's row order, without the internal keys."""
        return getattr(self, name).orderBy(*self.ORDER[name]).select(self.PUBLIC[name].names)

    def collect(self, name: str) -> pd.DataFrame:
        """A table as the local engine gives it: collected, then put in order on the driver
        (cheaper than a distributed sort when the table fits the driver anyway)."""
        keys, names = self.ORDER[name], self.PUBLIC[name].names
        frame = getattr(self, name).select(*(k for k in keys if k not in names), *names).toPandas()
        return self.PUBLIC[name].typed(frame.sort_values(keys, kind="stable"))


def run(records: DataFrame, params: Params, stages: _Stages) -> SparkScan:
    """Every stage after reading, on validated records (idx + the documents columns)."""
    with stages.stage("prepare"):
        records = _spread(records, records.count())
        prepared = stages.keep(records.mapInPandas(partial(_prepare_batches, params=params),
                                                   _packed_schema([DOCUMENTS, SEGMENTS, WORDS])))
        documents, segments = _unpack(prepared, DOCUMENTS), _unpack(prepared, SEGMENTS)
        # Broadcast: at a million documents the table is tens of MB, shipped once per executor, not per task.
        frequencies = records.sparkSession.sparkContext.broadcast(
            corpus_frequencies(_unpack(prepared, WORDS), documents))
    with stages.stage("candidates"):
        candidates, capped = find_candidates(documents, segments, params, stages)
    with stages.stage("verify"):
        shipped = _with_documents(candidates, documents)
        verified = stages.keep(_spread(shipped, candidates.count()).mapInPandas(
            partial(_verify_batches, params=params, frequencies=frequencies), _packed_schema([PAIRS, MATCHES])))
        pairs, matches = _unpack(verified, PAIRS), _unpack(verified, MATCHES)
        related = pairs.filter(F.col("relation").isin(*LINKED))
    with stages.stage("furniture"):
        furniture = stages.keep(repeated_furniture(segments, documents, related))
    with stages.stage("align"):
        flagged = documents.join(furniture, KEY, "left")
        shipped = _with_documents(related, flagged, extra=["furniture"])
        aligned = stages.keep(_spread(shipped, related.count()).mapInPandas(
            partial(_align_batches, params=params, frequencies=frequencies),
            _packed_schema([ORIENTATION, PASSAGES, FACTS])))
        orientation = _unpack(aligned, ORIENTATION)
        pairs = stages.keep(pairs.drop(*ORIENT_COLUMNS).join(orientation, PAIR_KEY, "left")
                            .fillna("", subset=ORIENT_COLUMNS))
    with stages.stage("group"):
        clusters, groups = group_documents(documents, pairs, params, stages)
    return SparkScan(documents, segments, candidates, pairs, matches, _unpack(aligned, PASSAGES),
                     _unpack(aligned, FACTS), clusters, groups, capped, stages)


def _count_by(frame: DataFrame, column: str) -> dict[str, int]:
    return {row[0]: int(row[1]) for row in frame.groupBy(column).count().collect()}


class _StreamedDocuments:
    """Just enough of a documents DataFrame for `dedup.manifest.input_hash`: (doc_id, text) streamed
    from Spark in input order, a partition at a time, so the hash equals the local one."""

    def __init__(self, documents: DataFrame) -> None:
        self.documents = documents

    def __getitem__(self, columns: list[str]) -> _StreamedDocuments:
        return self

    def itertuples(self, index: bool = False) -> Iterable[tuple[str, str]]:
        return ((row.doc_id, row.text) for row in self.documents.toLocalIterator(prefetchPartitions=True))


def manifest(scan: SparkScan, params: Params, input_sha256: str) -> dict[str, Any]:
    """manifest.json as the local scan writes it (`dedup.manifest.build_manifest`), counted by Spark."""
    sentences = scan.segments.agg(F.count("*").alias("all"), F.count("signature").alias("fingerprinted")).first()
    assert sentences is not None  # an aggregate has one row
    doc_banding, sent_banding = _bandings(params)
    return build_manifest(
        params, input_sha256, statuses=_count_by(scan.documents, "status"), sentences=sentences["all"],
        fingerprinted=sentences["fingerprinted"], by_path=_count_by(scan.candidates, "via"),
        relations=_count_by(scan.pairs, "relation"), kinds=_count_by(scan.groups, "kind"),
        stats=CandidateStats(doc_banding, sent_banding, scan.capped, 0))


def timings(spark: SparkSession, stages: _Stages) -> dict[str, Any]:
    """timings.json: the engine, its master and cores, and each stage's wall seconds."""
    context = spark.sparkContext
    return {"engine": "spark", "master": context.master, "cores": context.defaultParallelism,
            "pyspark": version("pyspark"), "seconds": dict(stages.seconds)}


def _for_disk(batches: Iterator[pd.DataFrame], name: str) -> Iterator[pd.DataFrame]:
    for batch in batches:
        yield report._table_for_disk(name, batch)


def _write_table(frame: DataFrame, name: str, out: str) -> None:
    """One table as a Parquet folder of its declared columns (`dedup.schema.STORE`), each batch made
    ready for disk as `dedup.report` does (no texts, rounding)."""
    frame.mapInPandas(partial(_for_disk, name=name), _spark_schema(STORE[name])).write.mode("overwrite") \
        .parquet(f"{out}/{name}")


def _write_text(spark: SparkSession, uri: str, text: str) -> None:
    """A small file on any Hadoop file system (local, hdfs://, s3a://) from the driver."""
    jvm = spark.sparkContext._jvm
    target = jvm.org.apache.hadoop.fs.Path(uri)  # type: ignore[union-attr]
    stream = target.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()).create(target, True)
    stream.write(bytearray(text.encode("utf-8")))
    stream.close()


def scan(paths: str | Path | Sequence[str | Path], params: Params | None = None, *,
         fields: Fields = Fields(), metadata: str | Path | None = None, strict: bool = False,
         out: str | Path | None = None, master: str | None = None, spark: SparkSession | None = None,
         collect: bool = True, dayfirst: bool | None = None) -> ScanResult | None:
    """`dedup.api.scan` on Spark: the same tables from the same input.

    paths: Parquet and JSONL files or folders (any file system Spark reads), and
        whatever dedup.read reads, read on the driver (folders of .txt/.md, CSV/TSV).
    master: Spark master for a new session (ignored when spark is given or a session is active).
    out: if given, each table of the report (`dedup.report.TABLES`) is written as a
        Parquet folder from the executors, with manifest.json beside them; no CSV or HTML
        (collect the result and call ``result.write`` for those).
    collect: return the `dedup.pipeline.ScanResult` a local scan returns: the tables collected
        to the driver (which must hold them) and written to a temporary folder, whose
        ``write`` writes the report. Else return None.
    dayfirst: as in `dedup.api.scan`.
    """
    params = params or Params()
    if params.filters_pairs:
        raise ValueError("the pair filters (skip_same_source, within_days) are not on the Spark engine yet: "
                         "scan with the local engine, or filter pairs.parquet by source and date")
    spark = spark or session(master)
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "true")
    stages = _Stages()
    try:
        with stages.stage("read"):
            records = stages.keep(validate(read_records(spark, paths, stages, fields, metadata, dayfirst), stages,
                                           strict))
            if records.isEmpty():
                given = [paths] if isinstance(paths, (str, Path)) else paths
                raise read.no_records([p if _is_uri(str(p)) else Path(p) for p in given])
        result = run(records, params, stages)
        with stages.stage("collect"):
            tables = {name: result.collect(name) for name in report.TABLES} if collect else {}
            documents = tables.get("documents")
            digest = input_hash(documents if documents is not None
                                 else _StreamedDocuments(result.ordered("documents")))
        info = manifest(result, params, digest)
        if out is not None:
            _write(spark, result, info, stages, str(out).rstrip("/"))
    finally:
        stages.release()
        stages.free()
    if not collect:
        return None
    temporary = tempfile.TemporaryDirectory(prefix="dedup-spark-")
    report.write(tables, info, timings(spark, stages), Path(temporary.name), parquet=True, tables_only=True)
    return ScanResult(StoredScan.open(temporary.name, report.MARKER), temporary)


def _write(spark: SparkSession, result: SparkScan, info: dict[str, Any], stages: _Stages, out: str) -> None:
    """The report's tables as Parquet folders (written by the executors), manifest.json and timings.json."""
    with stages.stage("write"):
        for name in report.TABLES:
            _write_table(result.ordered(name), name, out)
        _write_text(spark, f"{out}/manifest.json", json.dumps(info, indent=2, sort_keys=True) + "\n")
    _write_text(spark, f"{out}/timings.json", json.dumps(timings(spark, stages), indent=2) + "\n")
