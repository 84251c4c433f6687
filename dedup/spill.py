"""Scan a corpus larger than memory: the local stages on blocks, texts and large tables on disk.

    read a block → prepare it → … → candidates, a band at a time → verify a block of pairs →
    furniture → align a block of related pairs → group → write

`scan` gives the tables `dedup.api.scan` writes, byte for byte in the CSV files
(tests/test_spill.py), with memory that grows by about 2–3 KB per document
instead of about 20 KB (the README's Performance section). What stays in memory: the documents table without
its texts, each fingerprinted document's id and sentence count, per fingerprinted
sentence its document, per sentence a 64-bit hash of its (source, text) line, and
the candidate pairs with their evidence. What goes to disk, in a work folder inside
the output folder that is removed at the end:

* the texts, in an Arrow file read back by row (`pyarrow` is needed);
* the document and sentence signatures, column-major in one ``.npy`` file per block,
  so that LSH reads them a band at a time (`dedup.candidates.Signatures`);
* the matches, passages and facts, a block of pairs at a time, appended to the output.

Verification and alignment read back the texts of a block of ``PAIR_BLOCK`` pairs and
segment and fingerprint those documents again, as the Spark engine does: each pair's
results depend on its two texts only. The one corpus-wide part of alignment, the
repeated site furniture (`dedup.boilerplate.repeated_lines`), is found from the line
hashes; two different lines of one source share a hash with probability about
lines² / 2⁶⁴. The cost is time: the documents of candidate pairs are prepared three
times, and aligned pairs matched twice.
"""

from __future__ import annotations

import ctypes
import hashlib
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dedup import report
from dedup.align import PASSAGE_COLUMNS, align
from dedup.api import _counts, _stages, build_manifest, hash_documents, prepare
from dedup.boilerplate import repeated_lines
from dedup.candidates import SignatureArray, candidates_of
from dedup.cluster import group, word_counts
from dedup.facts import FACT_COLUMNS
from dedup.params import Params
from dedup.read import COLUMNS, Fields, InputError, iter_documents
from dedup.relate import LINKED, ORIENT_COLUMNS, relate
from dedup.verify import EVIDENCE_COLUMNS, MATCH_COLUMNS, verify

try:
    import pyarrow as pa
except ImportError:  # an optional dependency; scan says so when called without it
    pa = None

try:  # glibc keeps the freed heap pages of a block's tables; malloc_trim gives them back
    _malloc_trim = ctypes.CDLL(None).malloc_trim
except (OSError, AttributeError):  # not glibc: nothing to do
    _malloc_trim = None

BLOCK_DOCS = 20_000  # documents read and prepared at a time
PAIR_BLOCK = 10_000  # pairs verified or aligned at a time: their documents are read back and prepared
AGREEMENT_COLUMNS = 4  # signature columns read at a time for MinHash estimates


def _release_freed_memory() -> None:
    """Give freed heap memory back to the system after a block, so blocks do not stack up."""
    if _malloc_trim is not None:
        _malloc_trim(0)


class _SignatureFiles:
    """`dedup.candidates.Signatures` on disk: appended a block of rows at a time, each block
    stored column-major, so a band's columns are read without the others."""

    def __init__(self, folder: Path, name: str, width: int) -> None:
        self.folder, self.name, self.width = folder, name, width
        self.files: list[Path] = []
        self.rows = 0

    def append(self, signatures: np.ndarray) -> None:
        path = self.folder / f"{self.name}-{len(self.files):05d}.npy"
        np.save(path, np.ascontiguousarray(signatures.T))
        self.files.append(path)
        self.rows += len(signatures)

    def __len__(self) -> int:
        return self.rows

    def columns(self, start: int, stop: int) -> np.ndarray:
        if not self.files:
            return np.empty((0, stop - start), dtype=np.uint32)
        # Memory-mapped only while copying the rows asked for: the pages read do not stay mapped.
        return np.concatenate([np.load(path, mmap_mode="r")[start:stop] for path in self.files], axis=1).T

    def agreement(self, pairs: np.ndarray) -> np.ndarray:
        equal = np.zeros(len(pairs))
        for start in range(0, self.width, AGREEMENT_COLUMNS):  # a few columns of every item in memory at a time
            stop = min(start + AGREEMENT_COLUMNS, self.width)
            equal += SignatureArray(np.ascontiguousarray(self.columns(start, stop))).agreement(pairs) * (stop - start)
        return np.rint(equal) / self.width  # equal values counted exactly, as in memory


class _TextFile:
    """The fingerprinted documents' texts in an Arrow file, one record batch per block, read back by row."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.writer = pa.ipc.new_file(str(path), pa.schema([("text", pa.large_string())]))
        self.starts = [0]  # first row of each batch; one more at the end

    def append(self, texts: pd.Series) -> None:
        self.writer.write_batch(pa.record_batch([pa.array(texts.to_numpy(object), pa.large_string())],
                                                names=["text"]))
        self.starts.append(self.starts[-1] + len(texts))

    def close(self) -> None:
        self.writer.close()

    def take(self, rows: np.ndarray) -> pd.Series:
        """The texts of these rows (in this order), as a pandas string column."""
        texts = np.empty(len(rows), dtype=object)
        batch_of = np.searchsorted(self.starts, rows, side="right") - 1
        with pa.memory_map(str(self.path)) as source:
            reader = pa.ipc.open_file(source)
            # Batch by batch: Arrow's take on the whole (chunked) column first joins every chunk into one array.
            for batch in np.unique(batch_of):
                here = batch_of == batch
                local = pa.array(rows[here] - self.starts[batch])
                texts[here] = reader.get_batch(int(batch)).column(0).take(local).to_pylist()
        return pd.Series(texts, dtype=str)


@dataclass
class _Corpus:
    """What the blocks leave in memory (see the module docstring) and the files on disk."""

    documents: pd.DataFrame          # every record, without its text
    doc_ids: np.ndarray              # the fingerprinted documents' ids, in input order
    doc_rows: np.ndarray             # each fingerprinted document's row in documents
    segment_starts: np.ndarray       # its first row in the (virtual) segments table; one more at the end
    line_hashes: np.ndarray          # per segment: hash of (its document's source, its text)
    has_source: np.ndarray           # per segment: its document has a source
    sent_docs: np.ndarray            # per fingerprinted sentence: its document
    doc_sigs: _SignatureFiles
    sent_sigs: _SignatureFiles
    texts: _TextFile
    input_sha256: str
    seconds: dict[str, float] = field(default_factory=dict)


def _timed(items: Iterable[Any], seconds: dict[str, float], name: str) -> Iterator[Any]:
    """The items, adding the time spent producing each to seconds[name]."""
    iterator = iter(items)
    while True:
        started = time.perf_counter()
        try:
            item = next(iterator)
        except StopIteration:
            return
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - started
        yield item


def _prepare_blocks(blocks: Iterable[pd.DataFrame], params: Params, jobs: int, work: Path) -> _Corpus:
    """Segment and fingerprint each block of documents; keep what later stages need (see `_Corpus`)."""
    digest, seconds = hashlib.sha256(), {}
    doc_sigs = _SignatureFiles(work, "documents", params.num_perm)
    sent_sigs = _SignatureFiles(work, "sentences", params.sentence_num_perm)
    texts = _TextFile(work / "texts.arrow")
    kept: dict[str, list[np.ndarray]] = {name: [] for name in ("doc_rows", "segments", "lines", "has_source",
                                                                 "sent_docs")}
    tables, records, fingerprinted = [], 0, 0
    for documents in _timed(blocks, seconds, "read"):
        started = time.perf_counter()
        hash_documents(digest, documents)
        documents, segments, _, fp = prepare(documents, params, jobs)
        ok = (documents.status == "ok").to_numpy()
        texts.append(documents.text[ok])
        doc_sigs.append(fp.doc_sigs)
        sent_sigs.append(fp.sent_sigs)
        for name, values in _block_arrays(documents[ok], segments, fp).items():
            kept[name].append(values)
        kept["doc_rows"].append(records + np.flatnonzero(ok))
        kept["sent_docs"].append(fp.sent_docs + fingerprinted)
        tables.append(documents.drop(columns="text"))
        records += len(documents)
        fingerprinted += len(fp.doc_ids)
        del documents, segments, fp
        _release_freed_memory()
        seconds["prepare"] = seconds.get("prepare", 0.0) + time.perf_counter() - started
    texts.close()
    joined = {name: np.concatenate(parts) if parts else np.empty(0, dtype=np.int64) for name, parts in kept.items()}
    documents = pd.concat(tables, ignore_index=True) if tables else \
        pd.DataFrame(columns=[c for c in COLUMNS if c != "text"], dtype=str)
    # The ids as Python strings made at once, not a block at a time between short-lived objects
    # (whose freed heap pages they would pin).
    doc_ids = documents.doc_id.to_numpy(object)[joined["doc_rows"]]
    return _Corpus(documents, doc_ids, joined["doc_rows"],
                   np.concatenate([[0], np.cumsum(joined["segments"])]).astype(np.int64),
                   joined["lines"].astype(np.uint64), joined["has_source"].astype(bool), joined["sent_docs"],
                   doc_sigs, sent_sigs, texts, digest.hexdigest(), seconds)


def _block_arrays(fingerprinted: pd.DataFrame, segments: pd.DataFrame, fp: Any) -> dict[str, np.ndarray]:
    """Of a prepared block: each fingerprinted document's sentence count, and each sentence's
    line hash and whether its document has a source (see `_Corpus`)."""
    sources = fingerprinted.source.set_axis(fingerprinted.doc_id)
    segment_sources = segments.doc_id.map(sources).fillna("")
    line = pd.DataFrame({"source": segment_sources, "text": segments.text})
    return {"segments": segments.groupby("doc_id", sort=False).size().reindex(fp.doc_ids).to_numpy(),
            "lines": pd.util.hash_pandas_object(line, index=False).to_numpy(),
            "has_source": (segment_sources != "").to_numpy()}


def _pair_blocks(pairs: pd.DataFrame, corpus: _Corpus, number: pd.Index, params: Params,
                 jobs: int) -> Iterator[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, np.ndarray, Any, np.ndarray]]:
    """Blocks of PAIR_BLOCK pairs, each with its documents read back and prepared again:
    (pairs, documents, segments, unit hashes, fingerprints, the segments' rows in the corpus)."""
    for start in range(0, len(pairs), PAIR_BLOCK):
        block = pairs.iloc[start:start + PAIR_BLOCK]
        docs = np.unique(number.get_indexer(pd.concat([block.doc_a, block.doc_b])))
        documents = corpus.documents.iloc[corpus.doc_rows[docs]].reset_index(drop=True)
        documents.insert(1, "text", corpus.texts.take(docs))
        documents, segments, unit_hashes, fp = prepare(documents, params, jobs)
        starts, ends = corpus.segment_starts[docs], corpus.segment_starts[docs + 1]
        if len(segments) != (ends - starts).sum():
            raise RuntimeError("documents read back were segmented otherwise than the first time")
        rows = np.repeat(starts - np.cumsum(np.r_[0, (ends - starts)[:-1]]), ends - starts) + np.arange(len(segments))
        yield block, documents, segments, unit_hashes, fp, rows
        del documents, segments, unit_hashes, fp
        _release_freed_memory()


def _verify_blocks(candidates: pd.DataFrame, corpus: _Corpus, number: pd.Index, params: Params, jobs: int,
                   tables: _TableParts) -> pd.DataFrame:
    """The pairs table (`dedup.relate.relate`) of the candidates, verified a block at a time;
    their matches are written as each block is done."""
    verified = []
    for block, _, segments, unit_hashes, fp, _ in _pair_blocks(candidates, corpus, number, params, jobs):
        evidence, matches = verify(block, segments, unit_hashes, fp, params, jobs=jobs)
        verified.append(relate(block, evidence, params))
        tables.append("matches", matches)
    if not verified:
        return relate(candidates, pd.DataFrame(columns=EVIDENCE_COLUMNS), params)
    return pd.concat(verified, ignore_index=True)


def _align_blocks(pairs: pd.DataFrame, corpus: _Corpus, number: pd.Index, params: Params, jobs: int,
                  tables: _TableParts) -> pd.DataFrame:
    """The pairs with their direction (`dedup.align.align`), the related ones aligned a block at
    a time; their passages and facts are written as each block is done."""
    related = pairs[pairs.relation.isin(LINKED)]
    repeated = _repeated_furniture(corpus, related, number)
    oriented = [pd.DataFrame(columns=ORIENT_COLUMNS, index=related.index[:0], dtype=object)]
    for block, documents, segments, unit_hashes, _, rows in _pair_blocks(related, corpus, number, params, jobs):
        orientation, passages, facts = align(block, documents, segments, unit_hashes, params,
                                             repeated_furniture=repeated[rows], jobs=jobs)
        oriented.append(orientation)
        tables.append("passages", passages)
        tables.append("facts", facts)
    return pairs.join(pd.concat(oriented)).fillna({column: "" for column in ORIENT_COLUMNS})


class _PairKeys:
    """Membership of unordered document pairs (numbers) in a sorted int64 array, for
    `dedup.boilerplate.repeated_lines`: a few bytes per pair where frozensets take hundreds."""

    def __init__(self, a: np.ndarray, b: np.ndarray, n: int) -> None:
        self.n = n
        self.keys = np.unique(np.minimum(a, b) * n + np.maximum(a, b))

    def __contains__(self, pair: object) -> bool:
        a, b = sorted(pair)  # type: ignore[call-overload]
        key = a * self.n + b
        at = int(np.searchsorted(self.keys, key))
        return at < len(self.keys) and self.keys[at] == key


def _repeated_furniture(corpus: _Corpus, related: pd.DataFrame, number: pd.Index) -> np.ndarray:
    """`dedup.boilerplate`'s repeated furniture over the whole corpus, a boolean per segment."""
    doc_of_segment = np.repeat(np.arange(len(corpus.doc_ids)), np.diff(corpus.segment_starts))
    pairs = _PairKeys(number.get_indexer(related.doc_a), number.get_indexer(related.doc_b), len(corpus.doc_ids))
    return repeated_lines(corpus.line_hashes, corpus.has_source, doc_of_segment, pairs)


def _words(corpus: _Corpus, pairs: pd.DataFrame, number: pd.Index) -> pd.Series:
    """Word counts of the documents in duplicate or copy pairs (the ones grouping may fold), 0 for the rest."""
    archival = pairs[pairs.relation.isin(("duplicate", "copy"))]
    docs = np.unique(number.get_indexer(pd.concat([archival.doc_a, archival.doc_b])))
    words = np.zeros(len(corpus.documents), dtype=np.int64)
    for start in range(0, len(docs), PAIR_BLOCK):
        block = docs[start:start + PAIR_BLOCK]
        words[corpus.doc_rows[block]] = word_counts(corpus.texts.take(block))
    return pd.Series(words, index=corpus.documents.index)


class _TableParts:
    """The report's tables written a part at a time (`dedup.report.TableWriter`)."""

    COLUMNS = {"documents": [c for c in COLUMNS if c != "text"], "matches": MATCH_COLUMNS,
               "passages": PASSAGE_COLUMNS, "facts": FACT_COLUMNS}

    def __init__(self, out: Path, parquet: bool) -> None:
        self.writers = {name: report.TableWriter(out, name, self.COLUMNS.get(name, []), parquet)
                        for name in report.TABLES}

    def append(self, name: str, table: pd.DataFrame) -> None:
        self.writers[name].append(table)

    def close(self) -> list[Path]:
        return [path for writer in self.writers.values() for path in writer.close()]


@dataclass
class StoredScan:
    """A scan written to disk by `scan`: its folder, manifest and timings; tables read on demand."""

    out: Path
    manifest: dict[str, Any]
    timings: dict[str, Any]
    files: list[Path]

    def table(self, name: str) -> pd.DataFrame:
        """One of the tables (`dedup.report.TABLES`), read from its Parquet file, else its CSV file."""
        if name not in report.TABLES:
            raise ValueError(f"no table {name!r}; the tables are {', '.join(report.TABLES)}")
        parquet = self.out / f"{name}.parquet"
        if parquet.exists():
            return pd.read_parquet(parquet)
        return pd.read_csv(self.out / f"{name}.csv", keep_default_na=False, dtype=str)


def scan(paths: str | Path | Sequence[str | Path], out: str | Path, params: Params | None = None, *,
         fields: Fields = Fields(), metadata: str | Path | None = None, strict: bool = False,
         progress: bool | None = None, jobs: int = 1, parquet: bool | None = None) -> StoredScan:
    """`dedup.api.scan` for corpora larger than memory: the tables and manifest.json written to
    out (no summary or HTML pages), a block at a time; returns where they are.

    paths, fields, metadata, strict, progress, jobs: as in `dedup.api.scan`.
    parquet: also write each table as Parquet (default: yes; pyarrow is needed anyway).
    """
    if pa is None:
        raise InputError("a low-memory scan keeps texts in an Arrow file: pip install pyarrow")
    params = params or Params()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    show = sys.stderr.isatty() if progress is None else progress
    with tempfile.TemporaryDirectory(prefix=".dedup-work-", dir=out) as work, _stages(show) as stage:
        stage("prepare", "reading, segmenting and fingerprinting")
        corpus = _prepare_blocks(iter_documents(paths, fields, metadata, strict, batch_size=BLOCK_DOCS),
                                 params, jobs, Path(work))
        number = pd.Index(corpus.doc_ids)
        stage("candidates", "finding candidates")
        candidates, stats = candidates_of(corpus.doc_ids, corpus.doc_sigs, corpus.sent_sigs, corpus.sent_docs, params)
        _release_freed_memory()
        tables = _TableParts(out, parquet is not False)
        stage("verify", f"verifying {len(candidates)} candidate pairs")
        pairs = _verify_blocks(candidates, corpus, number, params, jobs, tables)
        stage("align", "aligning related pairs")
        pairs = _align_blocks(pairs, corpus, number, params, jobs, tables)
        stage("group", "grouping")
        clusters, groups = group(corpus.documents.assign(words=_words(corpus, pairs, number)), pairs, params)
        stage("write", "writing the tables")  # matches, passages and facts were written as they came
        for name, table in (("documents", corpus.documents), ("pairs", pairs), ("clusters", clusters),
                            ("groups", groups)):
            tables.append(name, table)
        files = tables.close()
    manifest = build_manifest(
        params, corpus.input_sha256, statuses=_counts(corpus.documents.status),
        sentences=int(corpus.segment_starts[-1]), fingerprinted=len(corpus.sent_docs),
        by_path=_counts(candidates.via), relations=_counts(pairs.relation), kinds=_counts(groups.kind),
        bandings={"document": stats.document, "sentence": stats.sentence}, skipped=stats.skipped_buckets)
    seconds = {**{name: round(value, 3) for name, value in corpus.seconds.items()},
               **{name: value for name, value in stage.timings.items() if name != "prepare"}}
    timings = {"jobs": jobs, "engine": "low-memory", "seconds": seconds}
    return StoredScan(out, manifest, timings, files + report.write_manifest(out, manifest, timings))
