"""The archive index: a lasting corpus that grows by adds, asked about one text at a time.

    dedup.Index("news.dedup").add("today/")              # which of today's are copies, and of what
    dedup.Index("news.dedup").query(text)                # where did this text come from
    dedup.Index("news.dedup").export("out/", folded=True)

An index is one SQLite database in WAL mode (`dedup.indexdb`): the embedded database of
the standard library, one file to copy, readers that go on reading while a writer adds,
and a transaction that a killed process leaves undone. It holds every record added
(each once), the fingerprinted documents' signatures and LSH band keys, the corpus's
word frequencies, the related pairs with their evidence, and the duplicate clusters and
story groups under stable ids (`dedup.stable`) with the history of their merges, splits
and keep decisions.

An add is the scan's stage sequence on the new documents alone:

    read → prepare (only the new are fingerprinted) → store signatures and band keys →
    candidates of the new against each other and what the index holds → verify → relate →
    align (`dedup.pairwise`, the archive's word frequencies, new ones counted) → group
    everything → carry the ids over → commit

An add's candidates are found once, as a scan's are: `dedup.candidates.candidates_of` on
all its documents' signatures (kept in block files while it runs) and the held documents
that share a band key with one of them (looked up once from its staged band keys: all of a
bucket's held documents, or its first ``bucket_representatives`` when it holds more than
``max_bucket`` with the new ones). So an add pairs its documents as a scan of the held and
the new ones pairs them, however many blocks it reads; except that the new documents of a
bucket that was over ``max_bucket`` before them are also paired with each other when they
are fewer than ``max_bucket`` less its representatives. The whole
add is one transaction: a killed add leaves the index as it was, and the same add run again
gives what an add that was not killed gives.

A query is the same on one text: its candidates among the held documents, verified,
related and aligned, nothing written. An export is a scan of every record the index
holds, its groups named with the index's stable ids.
"""

from __future__ import annotations

import glob
import hashlib
import json
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from dedup import indexdb
from dedup.candidates import Banding, SignatureBlocks, candidates_of, filter_pairs
from dedup.cluster import group, word_counts
from dedup.fold import write_folded
from dedup.indexdb import ArchiveError
from dedup.pairwise import Examined, examine
from dedup.parallel import Workers, release_freed_memory
from dedup.params import Params
from dedup.pipeline import BLOCK_DOCS, PAIR_BLOCK, scan
from dedup.prepare import prepare
from dedup.read import COLUMNS, Fields, Paths, documents_table, frame_documents, iter_documents
from dedup.relate import LINKED
from dedup.schema import STORE
from dedup.segment import segment
from dedup.stable import EVENT_COLUMNS, carry
from dedup.weights import DocumentFrequencies

SENTENCE_KEYS = np.uint64(0x9E3779B97F4A7C15)  # sentence-path band keys are xor-ed with this: one key column for both
HELD_READ = 20_000  # held documents whose signatures are read from the index at a time
RECORD_OUTCOMES = ("added", "held", "conflict")  # an added record is stored with its status (ok or rejected)


@dataclass(frozen=True)
class Added:
    """What an add did. records: every input record, with doc_id, origin, status (as read and
    prepared), outcome (``added``; ``held``, the same id and text were already held;
    ``conflict``, the id is held with another text, so the record was not added) and reason.
    pairs: the related pairs found (`dedup.relate` columns). clusters: the new documents'
    rows of the clusters table (stable ids). events: merges, splits and keep changes."""

    batch: int
    records: pd.DataFrame
    pairs: pd.DataFrame
    clusters: pd.DataFrame
    events: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Query:
    """One text against the index. related: the held documents related to it, most confident
    first (doc_id, relation, confidence, direction, source_doc, reason, title, source, date,
    cluster_id, story_id); closest: the first of them, or "" when none is; passages, facts:
    the text's alignment against closest (`dedup.align`); pair: closest's pairs row (or None);
    documents: the text's and closest's documents rows."""

    related: pd.DataFrame
    closest: str
    pair: pd.Series | None
    passages: pd.DataFrame
    facts: pd.DataFrame
    documents: pd.DataFrame
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {"related": json.loads(self.related.to_json(orient="records")), "closest": self.closest,
                "passages": json.loads(self.passages.to_json(orient="records")),
                "facts": json.loads(self.facts.to_json(orient="records")), "seconds": round(self.seconds, 4)}


class Index:
    """An archive index (see the module docstring) at path, made when missing with params
    (default `Params()`); an index keeps the parameters it was made with."""

    def __init__(self, path: str | Path, params: Params | None = None) -> None:
        self.path = Path(path)
        self.db = indexdb.open_index(self.path, params or Params())
        self.params = indexdb.stored_params(self.db)
        if params is not None and params != self.params:
            raise ArchiveError(f"{self.path}: the index was made with other parameters; an index keeps its own")
        self.doc_banding = Banding.for_threshold(self.params.doc_threshold, self.params.num_perm)
        self.sent_banding = Banding.for_threshold(self.params.sentence_threshold, self.params.sentence_num_perm)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def __len__(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM documents").fetchone()[0])

    # -- add ---------------------------------------------------------------------------------

    def add(self, source: Paths | pd.DataFrame, fields: Fields = Fields(), metadata: str | Path | None = None,
            strict: bool = False, dayfirst: bool | None = None, jobs: int = 1) -> Added:
        """Add the records of source (paths, as `dedup.scan` reads them, or a DataFrame of records)
        in one transaction; see `Added`. jobs: worker processes preparing blocks and verifying
        pairs (the index is written by this process alone; the result does not depend on jobs)."""
        started = time.perf_counter()
        blocks = (frame_documents(source, fields, strict, BLOCK_DOCS, dayfirst) if isinstance(source, pd.DataFrame)
                  else iter_documents(source, fields, metadata, strict, batch_size=BLOCK_DOCS, dayfirst=dayfirst))
        with indexdb.writing(self.db, self.path), self._work_directory() as work:
            batch = indexdb.new_batch(self.db)
            first = indexdb.next_key(self.db)
            new = _Fingerprinted(self.params, Path(work))
            with Workers(jobs) as workers:  # gone before regrouping, which holds the whole archive's rows
                records = self._store_blocks(blocks, batch, workers, new)
                held = indexdb.staged_bucket_members(self.db, first, self.params.max_bucket,
                                                     self.params.bucket_representatives)
                indexdb.merge_staged(self.db)
                seconds = {"prepare": time.perf_counter() - started}
                found = self._relate_new(held, new, workers)
            seconds["pairs"] = time.perf_counter() - started - seconds["prepare"]
            clusters, events = self._regroup(batch)
            table = pd.concat(records, ignore_index=True) if records else pd.DataFrame(
                columns=["doc_id", "origin", "status", "outcome", "reason"])
            indexdb.finish_batch(self.db, batch, table.outcome.value_counts().to_dict())
        seconds["total"] = time.perf_counter() - started
        new = clusters[clusters.doc_id.isin(table.doc_id[table.outcome == "added"])].reset_index(drop=True)
        return Added(batch, table, found, new, events, {k: round(v, 3) for k, v in seconds.items()})

    def _work_directory(self) -> tempfile.TemporaryDirectory[str]:
        """A directory beside the index for an add's signature files. One left by an add that was
        killed is removed first: the caller holds the write lock, so no other add is running."""
        prefix = f".{self.path.name}-add-"
        for stale in self.path.parent.glob(glob.escape(prefix) + "*"):
            shutil.rmtree(stale, ignore_errors=True)
        return tempfile.TemporaryDirectory(prefix=prefix, dir=self.path.parent)

    def _store_blocks(self, blocks: Iterable[pd.DataFrame], batch: int, workers: Workers,
                      new: _Fingerprinted) -> list[pd.DataFrame]:
        """Store the blocks of records, the new ones prepared by the workers (their band keys and
        word counts staged, their signatures also kept in new); their outcomes."""
        indexdb.staging(self.db)
        judged: deque[tuple[pd.DataFrame, np.ndarray]] = deque()  # the blocks out with the workers, in order

        def tasks() -> Iterator[tuple[pd.DataFrame, Params]]:
            for block in blocks:
                block, outcome = self._outcomes(block)
                judged.append((block, outcome))
                yield block[outcome == "added"].drop(columns="sha256"), self.params

        return [self._store_block(*judged.popleft(), prepared, batch, new)
                for prepared in workers.imap(_prepare_new, tasks())]

    def _outcomes(self, block: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
        """The block with each record's sha256, and each record's outcome (see `Added`)."""
        block = block.assign(sha256=[hashlib.sha256(text.encode()).hexdigest() for text in block.text])
        held = indexdb.held(self.db, block.doc_id)
        same = pd.MultiIndex.from_frame(block[["doc_id", "sha256"]]).isin(
            pd.MultiIndex.from_frame(held[["doc_id", "sha256"]]))
        other = ~same & (block.status == "ok").to_numpy() & block.doc_id.isin(held.doc_id[held.status == "ok"])
        return block, np.where(same, "held", np.where(other, "conflict", "added"))

    def _store_block(self, block: pd.DataFrame, outcome: np.ndarray, prepared: _PreparedNew,
                     batch: int, new: _Fingerprinted) -> pd.DataFrame:
        """Store a block's new records as prepared; every record's outcome."""
        documents = prepared.documents.assign(sha256=block.sha256[outcome == "added"].to_numpy(),
                                              key=indexdb.next_key(self.db) + np.arange(len(prepared.documents)))
        indexdb.insert_documents(self.db, documents, batch)
        keys = documents.key.to_numpy()[(documents.status == "ok").to_numpy()]
        sentences = np.split(prepared.sent_sigs, np.cumsum(np.bincount(prepared.sent_docs, minlength=len(keys)))[:-1])
        indexdb.insert_signatures(self.db, keys, prepared.doc_sigs, sentences)
        new.append(keys, prepared.doc_sigs, prepared.sent_sigs, prepared.sent_docs)
        indexdb.stage_bands(self.db, *self._band_keys(keys, prepared.doc_sigs, prepared.sent_sigs,
                                                       prepared.sent_docs))
        indexdb.stage_words(self.db, prepared.frequencies)
        status = block.status.to_numpy().copy()
        status[outcome == "added"] = documents.status.to_numpy()
        reasons = np.where(outcome == "conflict", "the index holds this id with another text", "").astype(object)
        reasons[outcome == "added"] = documents.reason.to_numpy()
        return pd.DataFrame({"doc_id": block.doc_id.to_numpy(), "origin": block.origin.to_numpy(), "status": status,
                             "outcome": outcome, "reason": reasons})

    def _band_keys(self, keys: np.ndarray, doc_sigs: np.ndarray, sent_sigs: np.ndarray,
                   sent_docs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(band key, document key) of both LSH paths' bands, each pair once."""
        by_doc = self.doc_banding.keys(doc_sigs) if len(keys) else np.empty((0, self.doc_banding.bands), np.uint64)
        by_sentence = self.sent_banding.keys(sent_sigs) ^ SENTENCE_KEYS if len(sent_sigs) else \
            np.empty((0, self.sent_banding.bands), np.uint64)
        band = np.concatenate([by_doc.ravel(), by_sentence.ravel()])
        owner = np.concatenate([np.repeat(keys, by_doc.shape[1]), np.repeat(keys[sent_docs], by_sentence.shape[1])])
        band, owner = band.view(np.int64), owner.astype(np.int64)
        order = np.lexsort((owner, band))  # np.unique(axis=0) sorts rows as opaque bytes, ten times slower
        band, owner = band[order], owner[order]
        first = np.ones(len(band), bool)
        first[1:] = (band[1:] != band[:-1]) | (owner[1:] != owner[:-1])
        return band[first], owner[first]

    def _relate_new(self, held: np.ndarray, new: _Fingerprinted, workers: Workers) -> pd.DataFrame:
        """The related pairs of the new documents with each other and with the held documents
        that share a bucket with them (keys held), verified by the workers and stored."""
        candidates = self._candidates(held, new, indexdb.documents(self.db, keys=new.keys(), text=False))
        examinations = (self._examination(candidates.iloc[start:start + PAIR_BLOCK])
                        for start in range(0, len(candidates), PAIR_BLOCK))
        related = []
        for found in workers.imap(_related_pairs, examinations):
            indexdb.insert_pairs(self.db, found)
            related.append(found)
            release_freed_memory()  # each examination's documents, read and sent
        return pd.concat(related, ignore_index=True) if related else _no_pairs()

    def _candidates(self, held: np.ndarray, new: _Fingerprinted, new_rows: pd.DataFrame) -> pd.DataFrame:
        """Candidate pairs (`dedup.candidates`) of the new documents (new_rows: their documents
        rows without texts) with each other and with the held documents of these keys, filtered
        by the pair filters; doc_a is the one held longer. As a scan of both finds them: the held
        come first, so a capped bucket's representatives are its earliest held documents."""
        every = _Fingerprinted(self.params, new.directory, "held")
        for start in range(0, len(held), HELD_READ):  # held signatures in memory a chunk at a time
            keys, doc_sigs, sentences = indexdb.signatures(self.db, held[start:start + HELD_READ], self.params)
            every.append(keys, doc_sigs, _joined(sentences, self.params.sentence_num_perm),
                         np.repeat(np.arange(len(keys)), [len(s) for s in sentences]))
        held_count = every.documents()
        every.extend(new)
        rows = pd.concat([indexdb.documents(self.db, keys=held, text=False), new_rows], ignore_index=True)
        found, _ = candidates_of(rows.doc_id.to_numpy(object), every.doc_sigs, every.sent_sigs, every.sent_docs(),
                                 self.params, new_from=held_count)
        found, _ = filter_pairs(found, rows, self.params)
        return found

    def _examination(self, candidates: pd.DataFrame, extra: pd.DataFrame | None = None) -> _Examination:
        """What `dedup.pairwise.examine` needs for candidates among held documents (and extra, not
        held), weighted by the index's word frequencies (extra's counted in)."""
        documents = indexdb.documents(self.db, ids=pd.unique(candidates[["doc_a", "doc_b"]].to_numpy().ravel()))
        if extra is not None:
            documents = pd.concat([documents, extra], ignore_index=True)
        segments, unit_hashes = segment(documents, self.params)
        extra_words = DocumentFrequencies.of(segments[segments.doc_id.isin(extra.doc_id)]) if extra is not None \
            else None
        frequencies = indexdb.frequencies(self.db, DocumentFrequencies.of(segments).hashes, extra_words)
        return _Examination(candidates, documents[list(COLUMNS)], segments, unit_hashes, self.params, frequencies)

    def _regroup(self, batch: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Group every held document anew and carry the stable ids over; store the clusters,
        groups and events; return the clusters and this add's events."""
        documents = indexdb.documents(self.db, text=False)
        pairs = indexdb.pairs(self.db)
        clusters, groups = group(documents, pairs, self.params)
        earlier = indexdb.clusters(self.db)
        clusters, groups, events, counters = _carry_names(clusters, groups, earlier, indexdb.counters(self.db))
        indexdb.set_counters(self.db, counters)
        events = _with_links(events, earlier, clusters, pairs)
        events_table = pd.concat([events, _keep_changes(earlier, clusters)], ignore_index=True)
        indexdb.replace_groups(self.db, clusters, groups, events_table, batch)
        return clusters, events_table

    # -- query -------------------------------------------------------------------------------

    def query(self, text: str, doc_id: str = "query", source: str = "", date: str = "", title: str = "") -> Query:
        """The held documents related to one text, and its alignment against the closest (see
        `Query`); nothing is written. date: YYYY-MM-DD or ""; a text with no date reads as the
        later of each pair only where the other's date says so (`dedup.relate.orient_pair`)."""
        started = time.perf_counter()
        if not indexdb.held(self.db, pd.Series([doc_id])).empty:
            raise ArchiveError(f"the index holds a document {doc_id!r}: give the query another name (--name)")
        record = documents_table([{"doc_id": doc_id, "text": text, "source": source, "date": date, "title": title}])
        prepared, _, _, fp = prepare(record, self.params)
        if (prepared.status != "ok").any():
            raise ArchiveError(f"the text cannot be looked up: {prepared.reason.iat[0]}")
        key = indexdb.next_key(self.db)  # after every held document: each of them is held before it
        new = _Fingerprinted(self.params)
        new.append(np.array([key]), fp.doc_sigs, fp.sent_sigs, fp.sent_docs)
        probe, counts = np.unique(self._band_keys(new.keys(), fp.doc_sigs, fp.sent_sigs, fp.sent_docs)[0],
                                  return_counts=True)
        held = indexdb.bucket_members(self.db, probe, counts, key, self.params.max_bucket,
                                      self.params.bucket_representatives)
        candidates = self._candidates(held, new, record)
        found = self._examination(candidates, extra=prepared).examined() if len(candidates) else None
        related = _related(found.pairs, doc_id, indexdb.documents(self.db, ids=candidates.doc_a, text=False),
                           indexdb.clusters(self.db, candidates.doc_a)) if found is not None else _related_columns()
        closest = related.doc_id.iat[0] if len(related) else ""
        pair, passages, facts = None, pd.DataFrame(), pd.DataFrame()
        if found is not None and closest:
            pair = found.pairs[(found.pairs.doc_a == closest) | (found.pairs.doc_b == closest)].iloc[0]
            passages = found.passages[(found.passages.doc_a == closest) | (found.passages.doc_b == closest)]
            facts = found.facts[(found.facts.doc_a == closest) | (found.facts.doc_b == closest)]
        documents = pd.concat([prepared, indexdb.documents(self.db, ids=[closest])], ignore_index=True) \
            if closest else prepared
        return Query(related, closest, pair, passages.reset_index(drop=True), facts.reset_index(drop=True),
                     documents[list(COLUMNS)], time.perf_counter() - started)

    # -- export ------------------------------------------------------------------------------

    def documents(self) -> pd.DataFrame:
        """Every record held, with its text, as a documents table (`dedup.read`), in the order added."""
        return indexdb.documents(self.db)[list(COLUMNS)]

    def export(self, out: str | Path, folded: bool = False, jobs: int = 1, parquet: bool | None = None,
               tables_only: bool = False) -> list[Path]:
        """Write what a scan of every record held writes (`dedup.scan`), its clusters and story
        groups named with the index's stable ids; with folded, also the folded corpus in
        out/folded (`dedup.fold`). Returns the paths written."""
        if not len(self):
            raise ArchiveError(f"{self.path}: the index holds no documents to export")
        documents = self.documents()
        result = scan(documents, self.params, jobs=jobs)
        # New ids are numbered on but not stored: an export changes nothing in the index.
        clusters, groups, _, _ = _carry_names(result.clusters, result.groups, indexdb.clusters(self.db),
                                              indexdb.counters(self.db))
        result.hold("clusters", clusters)
        result.hold("groups", groups)
        written = result.write(out, parquet, tables_only, jobs)
        if folded:
            written += write_folded(documents, clusters, Path(out) / "folded", parquet is not False)
        return written


@dataclass(frozen=True)
class _PreparedNew:
    """A block's new records as a worker prepared them (`dedup.prepare`): the documents with
    status, reason and word count, their signatures and their words' document counts."""

    documents: pd.DataFrame
    doc_sigs: np.ndarray
    sent_sigs: np.ndarray
    sent_docs: np.ndarray
    frequencies: DocumentFrequencies


class _Fingerprinted:
    """Fingerprinted documents as candidate generation reads them, gathered block by block:
    their keys, document and sentence signatures (`dedup.candidates.SignatureBlocks`, in files
    under directory when one is given: an add's do not fit in memory) and each sentence's
    document (its row among these)."""

    def __init__(self, params: Params, directory: Path | None = None, name: str = "new") -> None:
        self.directory = directory
        self.doc_sigs = SignatureBlocks(params.num_perm, directory, f"{name}-documents")
        self.sent_sigs = SignatureBlocks(params.sentence_num_perm, directory, f"{name}-sentences")
        self._keys: list[np.ndarray] = []
        self._sent_docs: list[np.ndarray] = []

    def append(self, keys: np.ndarray, doc_sigs: np.ndarray, sent_sigs: np.ndarray, sent_docs: np.ndarray) -> None:
        """A block of documents (keys ascending, after those before) with their signatures;
        sent_docs numbers their rows in this block."""
        self._sent_docs.append(sent_docs + self.documents())
        self._keys.append(keys)
        self.doc_sigs.append(doc_sigs)
        self.sent_sigs.append(sent_sigs)

    def extend(self, other: _Fingerprinted) -> None:
        """other's documents after these."""
        self._sent_docs += [sent_docs + self.documents() for sent_docs in other._sent_docs]
        self._keys += other._keys
        self.doc_sigs.extend(other.doc_sigs)
        self.sent_sigs.extend(other.sent_sigs)

    def documents(self) -> int:
        return len(self.doc_sigs)

    def keys(self) -> np.ndarray:
        return np.concatenate([np.empty(0, np.int64), *self._keys])

    def sent_docs(self) -> np.ndarray:
        return np.concatenate([np.empty(0, np.int64), *self._sent_docs])


def _joined(sentences: list[np.ndarray], width: int) -> np.ndarray:
    """The documents' sentence signatures, end to end."""
    return np.concatenate([np.empty((0, width), np.uint32), *sentences])


def _prepare_new(task: tuple[pd.DataFrame, Params]) -> _PreparedNew:
    records, params = task
    documents, segments, _, fp = prepare(records, params)
    ok = (documents.status == "ok").to_numpy()
    documents["words"] = 0
    documents.loc[ok, "words"] = word_counts(documents.text[ok])
    return _PreparedNew(documents, fp.doc_sigs, fp.sent_sigs, fp.sent_docs, DocumentFrequencies.of(segments))


@dataclass(frozen=True)
class _Examination:
    """The arguments of `dedup.pairwise.examine` for some candidates, gathered from the index by
    the process that holds it, for a worker to examine."""

    candidates: pd.DataFrame
    documents: pd.DataFrame
    segments: pd.DataFrame
    unit_hashes: np.ndarray
    params: Params
    frequencies: DocumentFrequencies

    def examined(self) -> Examined:
        return examine(self.candidates, self.documents, self.segments, self.unit_hashes, self.params,
                       self.frequencies)


def _related_pairs(examination: _Examination) -> pd.DataFrame:
    """The related pairs of an examination, as the pairs table declares them (in a worker)."""
    pairs = examination.examined().pairs
    found = STORE["pairs"].typed(pairs[pairs.relation.isin(LINKED)])
    del pairs
    release_freed_memory()  # a worker's heap otherwise keeps its largest examination's pages
    return found


def _no_pairs() -> pd.DataFrame:
    return STORE["pairs"].typed(pd.DataFrame(columns=STORE["pairs"].names))


def _with_links(events: pd.DataFrame, earlier: pd.DataFrame, clusters: pd.DataFrame,
                pairs: pd.DataFrame) -> pd.DataFrame:
    """Merge events with their reason: the most confident related pair that joins a document of
    the merged group to one of the group it joined."""
    reasons = []
    for event in events.itertuples():
        column = "cluster_id" if event.group_id.startswith("dup-") else "story_id"
        merged = set(earlier.doc_id[earlier[column] == event.other_id])
        joined = set(clusters.doc_id[(clusters[column] == event.group_id)]) - merged
        links = pairs[(pairs.doc_a.isin(merged) & pairs.doc_b.isin(joined))
                      | (pairs.doc_b.isin(merged) & pairs.doc_a.isin(joined))]
        link = links.sort_values("confidence", ascending=False, kind="stable").head(1)
        reasons.append(event.reason if event.kind != "merge" or link.empty else
                       f"{event.reason}; linked by {link.doc_a.item()} ~ {link.doc_b.item()} "
                       f"({link.relation.item()}, confidence {link.confidence.item():.2f})")
    return events.assign(reason=reasons) if len(events) else events


def _keep_changes(earlier: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """Events for the clusters whose kept copy changed: kind ``keep``, the cluster, the copy
    kept before, and why the new one is kept."""
    before = earlier[earlier.canonical.astype(bool)].set_index("cluster_id").doc_id
    now = clusters[clusters.canonical & clusters.keep_reason.ne("single copy")]
    changed = now[now.cluster_id.isin(before.index) & (now.cluster_id.map(before) != now.doc_id)]
    return pd.DataFrame({"kind": "keep", "group_id": changed.cluster_id, "other_id": changed.cluster_id.map(before),
                         "reason": [f"keeps {doc} ({reason})" for doc, reason in zip(changed.doc_id,
                                                                                       changed.keep_reason)]},
                        columns=EVENT_COLUMNS)


def _related_columns() -> pd.DataFrame:
    return pd.DataFrame(columns=["doc_id", "relation", "confidence", "direction", "source_doc", "reason", "title",
                                 "source", "date", "cluster_id", "story_id"])


def _related(pairs: pd.DataFrame, query_id: str, held: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """The query's related pairs as rows of the held documents they relate it to."""
    linked = pairs[pairs.relation.isin(LINKED)]
    other = np.where(linked.doc_a == query_id, linked.doc_b, linked.doc_a)
    table = linked.assign(doc_id=other)[["doc_id", "relation", "confidence", "direction", "source_doc", "reason"]]
    table = table.merge(held[["doc_id", "title", "source", "date"]].drop_duplicates("doc_id"), on="doc_id", how="left")
    table = table.merge(clusters[["doc_id", "cluster_id", "story_id"]], on="doc_id", how="left")
    return table.sort_values("confidence", ascending=False, kind="stable").reset_index(drop=True)


def _carry_names(clusters: pd.DataFrame, groups: pd.DataFrame, earlier: pd.DataFrame, counters: dict[str, int]
                 ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """A grouping's clusters and groups named with the stable ids of the earlier clusters table
    (`dedup.stable.carry`); the merges and splits, and the counters of new ids moved on."""
    clusters, groups, events, counters = clusters.copy(), groups.copy(), [], dict(counters)
    for column, prefix, kind in (("cluster_id", "dup", "duplicate_cluster"), ("story_id", "story", "story")):
        carried = carry(earlier.set_index("doc_id")[column], clusters.set_index("doc_id")[column], prefix,
                        counters[prefix])
        clusters[column] = clusters[column].map(carried.ids)
        is_kind = groups.kind == kind
        groups.loc[is_kind, "group_id"] = groups.group_id[is_kind].map(carried.ids)
        counters[prefix] = carried.next_number
        events.append(carried.events)
    return clusters, groups, pd.concat(events, ignore_index=True), counters
