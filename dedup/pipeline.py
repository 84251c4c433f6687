"""The scan: one sequence of stages, each a function from tables to tables, run on blocks.

    read a block → prepare it → candidates, a band at a time → verify a block of pairs →
    relate → furniture → align a block of related pairs → group → write → report

Every way of scanning runs this sequence: `scan` on this machine, with ``jobs``
worker processes (`dedup.parallel.Workers`; the tables are the same for any
number), and `dedup.compare` runs its stages on one pair. Its memory grows by a
few KB per document (the README's Performance section), so one path serves a
demo and a million documents.

The parent reads the input a block of ``BLOCK_DOCS`` documents at a time and sends
each block to a worker, which segments and fingerprints it (`dedup.prepare`) and
writes what later stages read into the run's work folder in the output folder
(`dedup.resume.work_folder`, removed once the run is published): the texts and the
segments table, each in an Arrow file read back by row; the unit hashes; the
document and sentence signatures, column-major, so that LSH reads them a band at a
time (`dedup.candidates.Signatures`); its words' document frequencies, which the
parent sums over the blocks a range of hash values at a time into the corpus's
(`dedup.weights`), and which the pair blocks' workers memory-map, sharing its pages.
Workers verify, then align, up to ``PAIR_BLOCK`` candidate pairs at a time, reading back
their documents' segments, unit hashes and texts; alignment reuses the sentence
similarities verification kept for each related pair (`dedup.verify.PairSimilarities`,
on disk), and each block's matches, passages and facts are written as numbered parts
(`dedup.report.TableParts`). The report is rendered from the tables as stored, so
its memory grows with the pairs it shows, not with the corpus.

What stays in the parent's memory: the documents table without its texts (with
each document's word count, for grouping), each fingerprinted document's id and
where its sentences and units lie, per fingerprinted sentence its document, per
sentence a 64-bit hash of its (source, text) line, and the pairs table. The one
corpus-wide part of alignment, the repeated site furniture
(`dedup.boilerplate.repeated_lines`), is found from those line hashes; two
different lines of one source share a hash with probability about lines² / 2⁶⁴.

Each block leaves a checkpoint in the work folder, so that a killed run resumes
(`dedup.resume`). A scan returns a `ScanResult`: the folder it wrote (a temporary one
when no ``out`` is given), whose tables are read when first asked for.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from dedup import report, resume
from dedup.align import align
from dedup.boilerplate import repeated_lines
from dedup.candidates import CandidateStats, SignatureBlocks, candidates_of, filter_pairs, save_columns
from dedup.cluster import group, word_counts
from dedup.fingerprint import Fingerprints, shingle_sets
from dedup.manifest import build_manifest, counts, hash_documents
from dedup.parallel import Workers, release_freed_memory
from dedup.params import Params
from dedup.prepare import prepare
from dedup.read import COLUMNS, Fields, InputError, Paths, frame_documents, iter_documents
from dedup.relate import LINKED, ORIENT_COLUMNS, oriented, relate
from dedup.schema import STORE
from dedup.store import StoredScan
from dedup.verify import EVIDENCE_COLUMNS, SentenceIndex, verify
from dedup.weights import DocumentFrequencies

BLOCK_DOCS = 2_500  # documents a worker prepares at a time: small enough that a few thousand keep every job busy
# Pairs a worker verifies or aligns at a time at most, reading back their documents. A block's
# working memory grows with its pairs (blocks of 5,000 at 40k documents: about 400 MB more RSS in
# align), and the per-block reads cost little: 1,000 took the time 5,000 took, with 500 MB less
# tree PSS at 100k (README, Performance).
PAIR_BLOCK = 1_000
MIN_PAIR_BLOCK = 200  # and at least, unless there are fewer: each block reads its documents back
BLOCKS_PER_JOB = 4  # pair blocks per job at least, while they hold MIN_PAIR_BLOCK: uneven blocks even out


def _block_file(work: Path, kind: str, block: int) -> Path:
    suffix = {"units": ".npy", "documents": ".npy", "sentences": ".npy", "frequencies": "",
              "records": ".parquet"}.get(kind, ".arrow")
    return work / f"{kind}-{block:05d}{suffix}"  # frequencies: the stem of `_save_frequencies`'s files


def _write_arrow(path: Path, table: pd.DataFrame) -> None:
    """A table as an Arrow file, for `_take_arrow`."""
    # One chunk per column: taking rows from a chunked column first joins its chunks.
    table = pa.Table.from_pandas(table, preserve_index=False).combine_chunks()
    with pa.ipc.new_file(str(path), table.schema) as writer:
        writer.write_table(table)


def _take_arrow(path: Path, rows: np.ndarray) -> pa.Table:
    """These rows (in this order) of a `_write_arrow` file, copied out of the memory-mapped file."""
    with pa.memory_map(str(path)) as source:
        return pa.Table.from_batches([pa.ipc.open_file(source).get_batch(0).take(pa.array(rows, pa.int64()))])


def _ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """The positions start..stop-1 of every range, concatenated."""
    lengths = stops - starts
    return np.repeat(starts - np.cumsum(np.r_[0, lengths[:-1]]), lengths) + np.arange(lengths.sum())


@dataclass(frozen=True)
class _Prepared:
    """What a worker returns of a prepared block; the rest it wrote to disk (`_block_file`)."""

    status: list[str]
    reason: list[str]
    words: np.ndarray        # per record: its word count (0 when not ok)
    segments: np.ndarray     # per fingerprinted document: its sentences
    units: np.ndarray        # per fingerprinted document: its text units
    lines: np.ndarray        # per sentence: hash of (its document's source, its text)
    has_source: np.ndarray   # per sentence: its document has a source
    sent_docs: np.ndarray    # per fingerprinted sentence: its document, numbered in the block


def _prepare_block(task: tuple[int, pd.DataFrame, Params, Path]) -> _Prepared:
    """Segment and fingerprint a block of documents (in a worker); write texts, segments,
    unit hashes and signatures to the work folder. A block an earlier run finished is read back
    (`dedup.resume`)."""
    block, documents, params, work = task
    done = resume.checkpoint(work, "prepared", block)
    if done.exists():
        return resume.kept(done)
    documents, segments, unit_hashes, fp = prepare(documents, params)
    ok = (documents.status == "ok").to_numpy()
    _write_arrow(_block_file(work, "texts", block), documents.loc[ok, ["text"]])
    STORE["texts"].to_parquet(documents, _block_file(work, "records", block))  # a part of texts.parquet
    _write_arrow(_block_file(work, "segments", block), segments.drop(columns="doc_id"))
    np.save(_block_file(work, "units", block), unit_hashes)
    save_columns(_block_file(work, "documents", block), fp.doc_sigs)
    save_columns(_block_file(work, "sentences", block), fp.sent_sigs)
    words = np.zeros(len(documents), dtype=np.int64)
    words[ok] = word_counts(documents.text[ok])
    per_doc = segments.groupby("doc_id", sort=False).n_units.agg(["size", "sum"]).reindex(fp.doc_ids)
    sources = documents.source[ok].set_axis(documents.doc_id[ok])
    segment_sources = segments.doc_id.map(sources).fillna("")
    lines = pd.util.hash_pandas_object(pd.DataFrame({"source": segment_sources, "text": segments.text}),
                                       index=False).to_numpy()
    prepared = _Prepared(documents.status.tolist(), documents.reason.tolist(), words,
                         per_doc["size"].to_numpy(np.int64), per_doc["sum"].to_numpy(np.int64), lines,
                         (segment_sources != "").to_numpy(), fp.sent_docs)
    _save_frequencies(_block_file(work, "frequencies", block), DocumentFrequencies.of(segments))
    release_freed_memory()
    return resume.keep(done, prepared)


@dataclass(frozen=True)
class _Located:
    """Some fingerprinted documents and where their prepared data lies on disk: what a
    pair block's worker reads back (small, so it travels with the task)."""

    work: Path
    doc_ids: np.ndarray
    blocks: np.ndarray                  # per document: its block
    text_rows: np.ndarray               # its row in the block's texts
    segments: tuple[np.ndarray, np.ndarray]  # its rows in the block's segments (start, stop)
    units: tuple[np.ndarray, np.ndarray]     # its positions in the block's unit hashes (start, stop)

    def texts(self) -> list[str]:
        return self._read("texts", self.text_rows, self.text_rows + 1).column(0).to_pylist()

    def segments_and_units(self) -> tuple[pd.DataFrame, np.ndarray]:
        """The documents' segments table and unit hashes, as `dedup.prepare.prepare` gave them."""
        table = self._read("segments", *self.segments).to_pandas()
        table.insert(0, "doc_id", np.repeat(self.doc_ids, self.segments[1] - self.segments[0]))
        units = [np.load(_block_file(self.work, "units", block), mmap_mode="r")[_ranges(start, stop)]
                 for block, start, stop in self._by_block(*self.units)]
        return table, np.concatenate(units)

    def _by_block(self, starts: np.ndarray, stops: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        for block in np.unique(self.blocks):  # documents come in order, so blocks do too
            here = self.blocks == block
            yield block, starts[here], stops[here]

    def _read(self, kind: str, starts: np.ndarray, stops: np.ndarray) -> pa.Table:
        """Rows start..stop-1 of each document, from the blocks' Arrow files of this kind, as one table."""
        return pa.concat_tables([_take_arrow(_block_file(self.work, kind, block), _ranges(start, stop))
                                 for block, start, stop in self._by_block(starts, stops)])


@dataclass
class _Corpus:
    """What the blocks leave in the parent's memory (see the module docstring)."""

    documents: pd.DataFrame          # every record, without its text
    words: np.ndarray                # per record: its word count (0 when not ok), for grouping
    doc_ids: np.ndarray              # the fingerprinted documents' ids, in input order
    block_starts: np.ndarray         # first fingerprinted document of each block; one more at the end
    segment_starts: np.ndarray       # per fingerprinted document: its first sentence in the corpus; one more
    unit_starts: np.ndarray          # per fingerprinted document: its first unit in the corpus; one more
    line_hashes: np.ndarray          # per sentence: hash of (its document's source, its text)
    has_source: np.ndarray           # per sentence: its document has a source
    sent_docs: np.ndarray            # per fingerprinted sentence: its document
    doc_sigs: SignatureBlocks
    sent_sigs: SignatureBlocks
    work: Path
    input_sha256: str
    seconds: dict[str, float] = field(default_factory=dict)

    def locate(self, docs: np.ndarray) -> _Located:
        """Where these fingerprinted documents (numbers, ascending) lie on disk."""
        blocks = np.searchsorted(self.block_starts, docs, side="right") - 1
        first = self.block_starts[blocks]
        return _Located(self.work, self.doc_ids[docs], blocks, docs - first,
                        *((starts[docs] - starts[first], starts[docs + 1] - starts[first])
                          for starts in (self.segment_starts, self.unit_starts)))

    def segment_rows(self, docs: np.ndarray) -> np.ndarray:
        """The corpus-wide rows of these documents' sentences, in order."""
        return _ranges(self.segment_starts[docs], self.segment_starts[docs + 1])


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


def _starts(counts: np.ndarray) -> np.ndarray:
    """Each item's first position when items of these counts are laid end to end; one more at the end."""
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def _joined(blocks: list[_Prepared], name: str, dtype: type = np.int64) -> np.ndarray:
    """One array of the prepared blocks, end to end."""
    return np.concatenate([getattr(block, name) for block in blocks]) if blocks else np.empty(0, dtype)


def _prepare(blocks: Iterable[pd.DataFrame], params: Params, workers: Workers, work: Path) -> _Corpus:
    """Prepare each block of documents in a worker while the parent reads the next; keep what
    later stages need (see `_Corpus`)."""
    digest, started = hashlib.sha256(), time.perf_counter()
    seconds: dict[str, float] = {}
    tables: list[pd.DataFrame] = []

    def tasks() -> Iterator[tuple[int, pd.DataFrame, Params, Path]]:
        for block, documents in enumerate(_timed(blocks, seconds, "read")):
            hash_documents(digest, documents)
            tables.append(documents.drop(columns="text"))
            yield block, documents, params, work

    prepared = list(workers.imap(_prepare_block, tasks()))
    _join_frequencies(work, len(prepared))
    block_starts = _starts(np.array([len(block.segments) for block in prepared], np.int64))
    doc_sigs, sent_sigs = SignatureBlocks(params.num_perm), SignatureBlocks(params.sentence_num_perm)
    for number, block in enumerate(prepared):
        doc_sigs.add_file(_block_file(work, "documents", number), len(block.segments))
        sent_sigs.add_file(_block_file(work, "sentences", number), len(block.sent_docs))
    documents = pd.concat(tables, ignore_index=True) if tables else \
        pd.DataFrame(columns=[c for c in COLUMNS if c != "text"], dtype=str)
    documents["status"] = [status for block in prepared for status in block.status]
    documents["reason"] = [reason for block in prepared for reason in block.reason]
    # The ids as Python strings made at once, not a block at a time between short-lived objects
    # (whose freed heap pages they would pin).
    doc_ids = documents.doc_id.to_numpy(object)[(documents.status == "ok").to_numpy()]
    sent_docs = np.concatenate([block.sent_docs + start for block, start in zip(prepared, block_starts)]) \
        if prepared else np.empty(0, np.int64)
    seconds["prepare"] = time.perf_counter() - started - seconds.get("read", 0.0)
    return _Corpus(documents, _joined(prepared, "words"), doc_ids, block_starts,
                   _starts(_joined(prepared, "segments")), _starts(_joined(prepared, "units")),
                   _joined(prepared, "lines", np.uint64), _joined(prepared, "has_source", bool), sent_docs,
                   doc_sigs, sent_sigs, work, digest.hexdigest(), seconds)


def _save_frequencies(path: Path, frequencies: DocumentFrequencies) -> None:
    """Word frequencies as .npy files side by side: PATH-hashes.npy, PATH-counts.npy and
    PATH-documents.npy (the documents counted), so that the arrays can be memory-mapped."""
    np.save(f"{path}-hashes.npy", frequencies.hashes)
    np.save(f"{path}-counts.npy", frequencies.counts)
    np.save(f"{path}-documents.npy", np.int64(frequencies.documents))


def _load_frequencies(path: Path) -> DocumentFrequencies:
    """`_save_frequencies`'s arrays memory-mapped: a lookup reads the pages it needs, and the
    workers of a run share them in the page cache instead of each holding a copy."""
    return DocumentFrequencies(np.load(f"{path}-hashes.npy", mmap_mode="r"),
                               np.load(f"{path}-counts.npy", mmap_mode="r"),
                               int(np.load(f"{path}-documents.npy")))


def _join_frequencies(work: Path, blocks: int) -> None:
    """The corpus's word frequencies (`dedup.weights`), from the blocks' (all counted), for the
    pair blocks to read back; summed a range of words at a time (`DocumentFrequencies.common_of`)."""
    frequencies = DocumentFrequencies.common_of([_load_frequencies(_block_file(work, "frequencies", block))
                                                 for block in range(blocks)])
    _save_frequencies(work / "frequencies", frequencies)


def pair_block_size(pairs: int, jobs: int) -> int:
    """Pairs per block: at most PAIR_BLOCK, and blocks enough to give each of the jobs a few."""
    return max(MIN_PAIR_BLOCK, min(PAIR_BLOCK, -(-pairs // (jobs * BLOCKS_PER_JOB))))


def _pair_blocks(pairs: pd.DataFrame, number: pd.Index,
                 size: int) -> Iterator[tuple[int, pd.DataFrame, np.ndarray]]:
    """(block number, its pairs, their documents' numbers, ascending), size pairs a block (the
    same blocks for verify as for align, which reads the similarities verify kept per block)."""
    for block, start in enumerate(range(0, len(pairs), size)):
        rows = pairs.iloc[start:start + size]
        yield block, rows, np.unique(number.get_indexer(pd.concat([rows.doc_a, rows.doc_b])))


def _levels_file(work: Path, block: int) -> Path:
    return work / f"levels-{block:05d}.pickle"


def _block_index(located: _Located, params: Params) -> tuple[pd.DataFrame, np.ndarray, SentenceIndex]:
    """A pair block's segments, unit hashes and `SentenceIndex`, weighted by the corpus's word
    frequencies."""
    segments, unit_hashes = located.segments_and_units()
    frequencies = _load_frequencies(located.work / "frequencies")
    return segments, unit_hashes, SentenceIndex.build(segments, unit_hashes, params, frequencies=frequencies)


def _verify_block(task: tuple[int, pd.DataFrame, _Located, Params, report.TableParts]) -> pd.DataFrame:
    """Verify and relate a block of candidate pairs (in a worker); write their matches, and keep
    the related pairs' sentence similarities for alignment. A block an earlier run finished is
    read back (`dedup.resume`)."""
    block, candidates, located, params, matches = task
    done = resume.checkpoint(located.work, "verified", block)
    if done.exists():
        return resume.kept(done)
    segments, unit_hashes, index = _block_index(located, params)
    doc_ids, _, shingles, offsets = shingle_sets(segments, unit_hashes, params)
    fp = Fingerprints.of_sets(doc_ids, shingles, offsets)
    evidence, found, verified = verify(candidates, segments, None, fp, params, index=index)
    matches.write(block, found)
    with _levels_file(located.work, block).open("wb") as levels:
        pickle.dump(verified, levels, protocol=pickle.HIGHEST_PROTOCOL)
    pairs = relate(candidates, evidence, params)
    release_freed_memory()
    return resume.keep(done, pairs)


def _verify(candidates: pd.DataFrame, corpus: _Corpus, number: pd.Index, params: Params, workers: Workers,
            matches: report.TableParts, block_size: int) -> pd.DataFrame:
    """The pairs table (`dedup.relate.relate`) of the candidates, verified a block at a time."""
    tasks = ((block, rows, corpus.locate(docs), params, matches)
             for block, rows, docs in _pair_blocks(candidates, number, block_size))
    verified = list(workers.imap(_verify_block, tasks))
    if not verified:
        return relate(candidates, pd.DataFrame(columns=EVIDENCE_COLUMNS), params)
    return pd.concat(verified, ignore_index=True)


def _align_block(task: tuple[int, pd.DataFrame, pd.DataFrame, _Located, np.ndarray, Params,
                             report.TableParts, report.TableParts]) -> pd.DataFrame:
    """Direction, passages and facts of a block's related pairs (in a worker), from the
    similarities verification kept; the passages and facts are written. A block an earlier run
    finished is read back (`dedup.resume`)."""
    block, pairs, documents, located, repeated, params, passages, facts = task
    done = resume.checkpoint(located.work, "aligned", block)
    if done.exists():
        return resume.kept(done)
    segments, _, index = _block_index(located, params)
    with _levels_file(located.work, block).open("rb") as levels:
        verified = pickle.load(levels)
    documents = documents.assign(text=located.texts())
    orientation, found, found_facts = align(pairs, documents, segments, None, params, repeated_furniture=repeated,
                                            index=index, verified=verified)
    passages.write(block, found)
    facts.write(block, found_facts)
    release_freed_memory()
    return resume.keep(done, orientation)


def _align(pairs: pd.DataFrame, corpus: _Corpus, number: pd.Index, params: Params, workers: Workers,
           tables: dict[str, report.TableParts], block_size: int) -> pd.DataFrame:
    """The pairs with their direction (`dedup.align.align`), the related ones aligned in the
    blocks verification used (whose similarities it kept)."""
    repeated = _repeated_furniture(corpus, pairs[pairs.relation.isin(LINKED)], number)
    release_freed_memory()
    record_of = np.flatnonzero((corpus.documents.status == "ok").to_numpy())  # of each document number

    def tasks() -> Iterator[tuple]:
        for block, rows, _ in _pair_blocks(pairs, number, block_size):
            rows = rows[rows.relation.isin(LINKED)]
            if len(rows):
                docs = np.unique(number.get_indexer(pd.concat([rows.doc_a, rows.doc_b])))
                yield (block, rows, corpus.documents.iloc[record_of[docs]], corpus.locate(docs),
                       repeated[corpus.segment_rows(docs)], params, tables["passages"], tables["facts"])

    blocks = [pd.DataFrame(columns=ORIENT_COLUMNS, index=pairs.index[:0], dtype=object),
              *workers.imap(_align_block, tasks())]
    return oriented(pairs, pd.concat(blocks))


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


def _table_parts(out: Path, work: Path, parquet: bool, csv_raw: bool) -> dict[str, report.TableParts]:
    """The report's tables, each written into out as numbered parts in the work folder
    (`dedup.report.TableParts`)."""
    return {name: report.TableParts(out, name, parquet, csv_raw, work).start() for name in report.TABLES}


class _Stages:
    """Names the current stage on a spinner, and times each stage (wall seconds)."""

    def __init__(self, progress: Progress) -> None:
        self.progress, self.task = progress, progress.add_task("starting")
        self.timings: dict[str, float] = {}
        self.current, self.started = "", time.perf_counter()

    def __call__(self, name: str, description: str) -> None:
        self.finish()
        self.current, self.started = name, time.perf_counter()
        self.progress.update(self.task, description=description)

    def finish(self) -> None:
        if self.current:
            self.timings[self.current] = round(time.perf_counter() - self.started, 3)
            self.current = ""


@contextmanager
def _stages(show: bool) -> Iterator[_Stages]:
    """A spinner naming the current stage (on a terminal only), and the stages' timings."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  transient=True, disable=not show) as progress:
        stages = _Stages(progress)
        yield stages
        stages.finish()


class ScanResult(StoredScan):
    """A finished scan: its manifest, its timings (wall seconds per stage, and jobs), the files
    it wrote into its folder ``out``, and its tables (`dedup.store.TABLES`; documents without
    their texts), each read from there when first asked for and then held."""

    def __init__(self, stored: StoredScan, temporary: tempfile.TemporaryDirectory | None = None) -> None:
        super().__init__(stored.out, stored.manifest, stored.timings, stored.files)
        self._held: dict[str, pd.DataFrame] = {}
        self._documents: pd.DataFrame | None = None  # with their texts, once asked for
        self._temporary = temporary  # a scan given no out: its folder lives as long as the result

    def table(self, name: str) -> pd.DataFrame:
        if name not in self._held:
            self._held[name] = super().table(name)
        return self._held[name]

    def hold(self, name: str, table: pd.DataFrame) -> None:
        """Use this table in place of the stored one from now on (in `table` and `write`): the
        archive index names a scan's groups with its own ids (`dedup.index`)."""
        self._held[name] = table

    @property
    def documents(self) -> pd.DataFrame:
        """The documents table (`dedup.read`), with each record's text (from texts.parquet; a
        scan without Parquet copies keeps no texts)."""
        if self._documents is None:
            documents = self.table("documents")
            if (self.out / report.TEXTS).is_file():
                text = pd.read_parquet(self.out / report.TEXTS, columns=["text"]).text
                documents = documents.assign(text=text.to_numpy())[list(COLUMNS)]
            self._documents = documents
        return self._documents

    pairs = property(lambda self: self.table("pairs"), doc="Every candidate pair, verified (`dedup.relate`).")
    matches = property(lambda self: self.table("matches"), doc="Matched sentences (`dedup.verify`).")
    passages = property(lambda self: self.table("passages"), doc="Aligned passages (`dedup.align`).")
    facts = property(lambda self: self.table("facts"), doc="Changed figures and credits (`dedup.facts`).")
    clusters = property(lambda self: self.table("clusters"), doc="Duplicate clusters (`dedup.cluster`).")
    groups = property(lambda self: self.table("groups"), doc="Clusters and story groups (`dedup.cluster`).")

    def related(self) -> pd.DataFrame:
        """The pairs with a relation (rejected candidates left out)."""
        return self.pairs[self.pairs.relation.isin(LINKED)].reset_index(drop=True)

    def write(self, out: str | Path, parquet: bool | None = None, tables_only: bool = False,
              jobs: int = 1, csv_raw: bool = False, pair_pages: int = report.PAIR_PAGES) -> list[Path]:
        """Write the tables, manifest.json, summary.md and the HTML report into the folder out
        (with tables_only, the tables and manifest.json alone), in place of an earlier run's, the
        completion marker last (`dedup.report`); return their paths. jobs: worker processes;
        csv_raw: CSV cells as they are, without the ' that keeps spreadsheets from running formulas;
        pair_pages: the related pairs the report shows, each with a page (`dedup.report.write_report`).
        Every table is read into memory: for a large corpus give `scan` its out instead."""
        frames = {name: self.documents if name == "documents" else self.table(name) for name in report.TABLES}
        return report.write(frames, self.manifest, self.timings, Path(out), parquet, tables_only, jobs, csv_raw,
                            pair_pages)


@dataclass(frozen=True)
class Spark:
    """Run a scan on Apache Spark (`dedup.spark`; pip install 'dedup[spark]'): a new session on
    master (default: the session's own), or the session given."""

    master: str | None = None
    session: Any = None


def scan(source: Paths | pd.DataFrame, params: Params | None = None, *, out: str | Path | None = None,
         fields: Fields = Fields(), metadata: str | Path | None = None, strict: bool = False,
         progress: bool | None = None, jobs: int = 1, parquet: bool | None = None, csv_raw: bool = False,
         dayfirst: bool | None = None, tables_only: bool = False, pair_pages: int = report.PAIR_PAGES,
         spark: Spark | None = None) -> ScanResult:
    """Find every copy of a story in a corpus.

    source: folders of .txt/.md/.html files, JSONL, CSV/TSV, Parquet or web archive files
        (`dedup.read`); or a pandas DataFrame: a documents table (`dedup.read.documents_table`)
        as it is, else records whose columns fields names.
    fields: which input columns hold id, text, date, source, title, author, url, html.
    metadata: a CSV adding id/source/title/date/url to document files (column ``file``).
    strict: stop at the first rejected record instead of reporting it.
    out: the folder to write the tables, manifest.json, summary.md and the HTML report into,
        in place of an earlier run's files, the completion marker last (`dedup.report`); with
        tables_only, the tables and the manifest alone; with csv_raw, CSV cells as they are;
        pair_pages: the related pairs the report shows, each with a page. A folder that cannot
        be written raises `dedup.report.OutputError` before anything is read. A run into out
        that was killed resumes from the blocks it finished when run again (`dedup.resume`).
        Without out, the tables go to a temporary folder that lives as long as the result,
        and no report.
    progress: show stage progress; default only on a terminal.
    jobs: worker processes on this machine (the tables do not depend on it).
    spark: run on Apache Spark instead (`Spark`): the same tables and result, collected to this
        machine; paths only (Parquet and JSONL read by Spark, the rest here).
    parquet: also write each table as Parquet (default: yes).
    dayfirst: numeric dates that read either way (02/03/2005): True day first, False month
        first, None month first with a warning per record.
    """
    report.check_pair_pages(pair_pages)
    params = params or Params()
    if spark is not None:
        return _on_spark(source, params, spark, out, fields, metadata, strict, dayfirst,
                         Output(parquet is not False, csv_raw, not tables_only, pair_pages))
    temporary = tempfile.TemporaryDirectory(prefix="dedup-scan-") if out is None else None
    folder = Path(temporary.name if temporary is not None else out)  # type: ignore[arg-type]
    report.check_writable(folder)
    blocks: Iterator[pd.DataFrame]
    key: str | None  # the run's, to resume it; a DataFrame's rows are no files to tell a rerun by
    if isinstance(source, pd.DataFrame):
        if metadata is not None:
            raise InputError("metadata adds fields to document files; a DataFrame has none: give it the columns")
        blocks, key = frame_documents(source, fields, strict, BLOCK_DOCS, dayfirst), None
    else:
        blocks = iter_documents(source, fields, metadata, strict, batch_size=BLOCK_DOCS, dayfirst=dayfirst)
        key = resume.run_key(source, params, fields, metadata, strict, dayfirst, BLOCK_DOCS)
    show = sys.stderr.isatty() if progress is None else progress
    stored = _run(blocks, params, folder, jobs, show, Output(
        parquet=parquet is not False or temporary is not None, csv_raw=csv_raw,
        with_report=not tables_only and temporary is None, pair_pages=pair_pages), key)
    return ScanResult(stored, temporary)


def _on_spark(source: Paths | pd.DataFrame, params: Params, executor: Spark, out: str | Path | None, fields: Fields,
              metadata: str | Path | None, strict: bool, dayfirst: bool | None, output: Output) -> ScanResult:
    """`scan` on Spark: its tables collected into a result, written into out if given."""
    if isinstance(source, pd.DataFrame):
        raise InputError("a DataFrame is scanned on this machine: give Spark paths, or leave spark out")
    if out is not None:
        report.check_writable(Path(out))
    paths = [source] if isinstance(source, (str, Path)) else list(source)
    result = spark_engine().scan([str(path) for path in paths], params, fields=fields, metadata=metadata, strict=strict,
                        master=executor.master, spark=executor.session, dayfirst=dayfirst)
    assert result is not None  # collected
    if out is None:
        return result
    result.write(out, output.parquet, not output.with_report, csv_raw=output.csv_raw, pair_pages=output.pair_pages)
    return ScanResult(StoredScan.open(out, report.MARKER))


def spark_engine() -> ModuleType:
    """`dedup.spark`, or an InputError saying how to install it (pyspark is optional)."""
    try:
        from dedup import spark
    except ImportError as err:
        raise InputError(f"scanning on Spark needs pyspark: pip install 'dedup[spark]' ({err})") from err
    return spark


def scan_to_disk(paths: Paths | pd.DataFrame, out: str | Path, params: Params | None = None,
                 **options: Any) -> ScanResult:
    """`scan(paths, params, out=out, ...)`: the name of the block engine before the engines became
    one; kept for one release."""
    return scan(paths, params, out=out, **options)


@dataclass(frozen=True)
class Output:
    """What a scan writes besides the tables' CSV files: Parquet copies, CSV cells as they are,
    and the report with this many pair pages."""

    parquet: bool = True
    csv_raw: bool = False
    with_report: bool = True
    pair_pages: int = report.PAIR_PAGES


def _run(blocks: Iterable[pd.DataFrame], params: Params, out: Path, jobs: int, show: bool,
         output: Output, key: str | None) -> StoredScan:
    """Every stage on the blocks of documents, into the folder out (see the module docstring);
    key: the run's, to resume it if it is killed (`dedup.resume`)."""
    with report.staging(out) as staging, resume.work_folder(out, key) as work:
        resumed = {stage: resume.finished(work, stage) for stage in ("prepared", "candidates", "verified", "aligned")}
        with _stages(show) as stage:
            with Workers(jobs) as workers:  # their memory is given back before grouping, the parent's largest stage
                stage("prepare", "reading, segmenting and fingerprinting")
                corpus = _prepare(blocks, params, workers, work)
                number = pd.Index(corpus.doc_ids)
                stage("candidates", "finding candidates")
                candidates, stats, found, block_size = _candidates(corpus, params, jobs)
                # The report reads the Parquet tables back, so they are written for it even when not kept.
                tables = _table_parts(staging, work, output.parquet or output.with_report, output.csv_raw)
                stage("verify", f"verifying {len(candidates)} candidate pairs")
                pairs = _verify(candidates, corpus, number, params, workers, tables["matches"], block_size)
                del candidates  # the pairs table holds its columns
                stage("align", "aligning related pairs")
                pairs = _align(pairs, corpus, number, params, workers, tables, block_size)
            words, documents, input_sha256, read_seconds = corpus.words, corpus.documents, corpus.input_sha256, \
                corpus.seconds
            del corpus, number  # the sentences' arrays
            release_freed_memory()
            stage("group", "grouping")
            clusters, groups = group(documents.assign(words=words), pairs, params)
            # matches, passages and facts were written as they came
            stage("write", "writing the tables and the report")
            for name, table in (("documents", documents), ("pairs", pairs), ("clusters", clusters),
                                ("groups", groups)):
                tables[name].write(0, table)
            files = [path for table in tables.values() for path in table.join()]
            if output.parquet:
                report.join_parquet(sorted(work.glob("records-*.parquet")), staging / report.TEXTS)
                files.append(staging / report.TEXTS)
            manifest = build_manifest(
                params, input_sha256, statuses=counts(documents.status), relations=counts(pairs.relation),
                kinds=counts(groups.kind), stats=stats, **found)
            del documents, pairs, clusters, groups  # the report reads them back, with what it shows of the rest
            if output.with_report:
                files += report.write_report(StoredScan(staging, manifest, {}, files), staging, output.pair_pages,
                                             jobs, output.csv_raw)
        seconds = {**{name: round(value, 3) for name, value in read_seconds.items()},
                   **{name: value for name, value in stage.timings.items() if name != "prepare"}}
        timings = {"jobs": jobs, "seconds": seconds,
                   **({"resumed": resumed} if any(resumed.values()) else {})}  # blocks an earlier run finished
        files += report.write_manifest(staging, manifest, timings)
        if not output.parquet:
            files = [path for path in files if path.suffix != ".parquet"]
        return StoredScan(out, manifest, timings, report.publish(staging, out, files, input_sha256))


def _candidates(corpus: _Corpus, params: Params, jobs: int) -> tuple[pd.DataFrame, CandidateStats, dict[str, Any],
                                                                      int]:
    """The candidate pairs (`dedup.candidates`, filtered), their statistics, the counts the
    manifest gives of them, and the pair block size; an earlier run's are read back
    (`dedup.resume`), so that its pair blocks are found again whatever the jobs now."""
    done = resume.checkpoint(corpus.work, "candidates")
    if done.exists():
        candidates, stats, found, block_size = resume.kept(done)
    else:
        candidates, stats = candidates_of(corpus.doc_ids, corpus.doc_sigs, corpus.sent_sigs, corpus.sent_docs,
                                          params)
        scanned = corpus.documents[(corpus.documents.status == "ok").to_numpy()]
        candidates, skipped = filter_pairs(candidates, scanned, params)
        found = {"sentences": int(corpus.segment_starts[-1]), "fingerprinted": len(corpus.sent_docs),
                 "skipped": skipped, "by_path": counts(candidates.via)}
        block_size = pair_block_size(len(candidates), jobs)
        resume.keep(done, (candidates, stats, found, block_size))
    corpus.sent_docs = np.empty(0, dtype=np.int64)  # read by candidates alone
    release_freed_memory()
    return candidates, stats, found, block_size
