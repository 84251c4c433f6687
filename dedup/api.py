"""The public API: `scan` a corpus, `compare` two texts.

    read → segment → fingerprint → candidates → verify → relate → group → report

Each stage is a function from table(s) to table; `scan` runs them in order and
returns every table in a `ScanResult`.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from dedup import report
from dedup.align import align
from dedup.candidates import CANDIDATE_COLUMNS, SKIPPED, CandidateStats, filter_pairs, find_candidates
from dedup.cluster import group
from dedup.fingerprint import Fingerprints, fingerprint
from dedup.parallel import chunks, map_chunks
from dedup.params import Params
from dedup.read import Fields, documents_table, read_documents
from dedup.relate import LINKED, RELATIONS, oriented, relate
from dedup.segment import segment
from dedup.store import TABLES, of_pairs
from dedup.verify import SentenceIndex, pair_documents, verify
from dedup.weights import DocumentFrequencies

# What the output depends on: the scan's libraries, matplotlib for the plots, the web extra's for pages.
LIBRARIES = ("dedup", "datasketch", "rapidfuzz", "pandas", "numpy", "scipy", "numba", "matplotlib",
             "trafilatura", "warcio", "w3lib", "tldextract")
PREPARE_BATCH = 10_000  # documents segmented at a time: bounds a worker's memory
DEFAULT_PARAMS = Params()  # built once: a Params checks its LSH banding, which takes tens of milliseconds


@dataclass
class ScanResult:
    """Every table of a scan (see each stage's module for its columns) and its manifest."""

    documents: pd.DataFrame
    segments: pd.DataFrame
    candidates: pd.DataFrame
    pairs: pd.DataFrame
    matches: pd.DataFrame
    passages: pd.DataFrame
    facts: pd.DataFrame
    clusters: pd.DataFrame
    groups: pd.DataFrame
    manifest: dict[str, Any]
    params: Params
    fingerprints: Fingerprints = field(repr=False)
    timings: dict[str, Any] = field(default_factory=dict)  # wall seconds per stage, and jobs

    def related(self) -> pd.DataFrame:
        """The pairs with a relation (rejected candidates left out)."""
        return self.pairs[self.pairs.relation.isin(LINKED)].reset_index(drop=True)

    def table(self, name: str) -> pd.DataFrame:
        """One of the tables by name (`dedup.store.Tables`, which the report reads)."""
        if name not in TABLES:
            raise ValueError(f"no table {name!r}; the tables are {', '.join(TABLES)}")
        return getattr(self, name)

    def pair_rows(self, name: str, pairs: pd.DataFrame) -> pd.DataFrame:
        """The rows of a per-pair table (matches, passages, facts) of these pairs."""
        return of_pairs(self.table(name), pairs)

    def write(self, out: str | Path, parquet: bool | None = None, tables_only: bool = False,
              jobs: int = 1, csv_raw: bool = False, pair_pages: int = report.PAIR_PAGES) -> list[Path]:
        """Write the tables, manifest.json, summary.md and the HTML report into the folder out
        (with tables_only, the tables and manifest.json alone), in place of an earlier run's, the
        completion marker last (`dedup.report`); return their paths. jobs: worker processes;
        csv_raw: CSV cells as they are, without the ' that keeps spreadsheets from running formulas;
        pair_pages: the related pairs the report shows, each with a page (`dedup.report.write_report`)."""
        frames = {name: getattr(self, name) for name in TABLES}
        return report.write(frames, self.manifest, self.timings, Path(out), parquet, tables_only, jobs, csv_raw,
                            pair_pages)


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


def prepare(documents: pd.DataFrame, params: Params, jobs: int = 1,
            keep_short: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, np.ndarray, Fingerprints]:
    """Segment and fingerprint, in batches of PREPARE_BATCH documents on up to jobs processes;
    documents too short to fingerprint become rejected; with keep_short only those without a
    word (two texts compared alone need no fingerprint to be verified)."""
    parts = map_chunks(_prepare_batch, (documents, params, keep_short), chunks(len(documents), jobs, PREPARE_BATCH),
                       jobs)
    documents = documents.copy()
    documents["status"] = [status for part in parts for status in part[0]]
    documents["reason"] = [reason for part in parts for reason in part[1]]
    segments = pd.concat([part[2] for part in parts], ignore_index=True)
    fingerprints = Fingerprints.concat([part[4] for part in parts], [len(part[2]) for part in parts])
    return documents, segments, np.concatenate([part[3] for part in parts]), fingerprints


def _prepare_batch(state: tuple[pd.DataFrame, Params, bool], part: slice) -> tuple:
    """(status, reason, segments, unit hashes, fingerprints) of one batch of documents."""
    documents, params, keep_short = state
    segments, unit_hashes = segment(documents.iloc[part], params)
    documents = documents.iloc[part]
    minimum = 1 if keep_short else params.shingle_units
    documents, segments, unit_hashes = _reject_unfingerprintable(documents, segments, unit_hashes, minimum)
    return (documents.status.tolist(), documents.reason.tolist(), segments, unit_hashes,
            fingerprint(segments, unit_hashes, params))


def _input_hash(documents: pd.DataFrame) -> str:
    digest = hashlib.sha256()
    hash_documents(digest, documents)
    return digest.hexdigest()


def hash_documents(digest: Any, documents: pd.DataFrame) -> None:
    """Add the documents' ids and texts to the manifest's input_sha256 (a block at a time, in input order)."""
    for doc_id, text in documents[["doc_id", "text"]].itertuples(index=False):
        digest.update(f"{len(doc_id)}:{doc_id}{len(text)}:".encode() + text.encode("utf-8", "surrogatepass"))


def _versions() -> dict[str, str]:
    found = {}
    for name in LIBRARIES:
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _counts(column: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in column.value_counts().items()}


def build_manifest(params: Params, input_sha256: str, *, statuses: dict[str, int], sentences: int,
                   fingerprinted: int, by_path: dict[str, int], relations: dict[str, int], kinds: dict[str, int],
                   stats: CandidateStats, skipped: dict[str, int] | None = None) -> dict[str, Any]:
    """manifest.json from a scan's counts (the same for every engine): parameters, library
    versions, input hash, counts, and each LSH path's banding, S-curve and capped buckets
    (paired through representatives, see `dedup.candidates`); skipped: the candidates each pair
    filter removed (`dedup.candidates.filter_pairs`; none by default)."""
    return {
        "params": params.to_dict(),
        "versions": _versions(),
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


def analyse(documents: pd.DataFrame, params: Params = Params(), progress: bool = False,
            jobs: int = 1) -> ScanResult:
    """Run every stage after reading on a documents table (see `dedup.read`).

    jobs: worker processes for the per-document and per-pair stages (the tables
    do not depend on it). ``timings`` holds each stage's wall time in seconds.
    ``fingerprints`` keeps the document signatures only: the shingle sets, sentence
    signatures, unit hashes and sentence index are released once their last stage is done.
    """
    with _stages(progress) as stage:
        stage("prepare", "segmenting and fingerprinting")
        documents, segments, unit_hashes, fp = prepare(documents, params, jobs)
        stage("candidates", "finding candidates")
        candidates, stats = find_candidates(fp, params)
        candidates, skipped = filter_pairs(candidates, documents[documents.status == "ok"], params)
        fingerprinted = len(fp.sent_rows)
        fp = fp.without_sentences()  # the sentence signatures' last reader is done: 250 MB at 100k documents
        stage("verify", f"verifying {len(candidates)} candidate pairs")
        frequencies = DocumentFrequencies.of(segments).common()  # how informative each word is in this corpus
        index = SentenceIndex.build(segments, unit_hashes, params, jobs, pair_documents(candidates), frequencies)
        del unit_hashes  # the index holds all that verify and align read of them
        evidence, matches, verified = verify(candidates, segments, None, fp, params, index=index, jobs=jobs)
        fp = fp.signatures_only()  # and the shingle sets'
        pairs = relate(candidates, evidence, params)
        stage("align", "aligning related pairs")
        orientation, passages, facts = align(pairs[pairs.relation.isin(LINKED)], documents, segments,
                                             None, params, index=index, jobs=jobs, verified=verified)
        del index, verified  # the largest arrays left; grouping does not read them
        pairs = oriented(pairs, orientation)
        stage("group", "grouping")
        clusters, groups = group(documents, pairs, params)
    manifest = build_manifest(
        params, _input_hash(documents), statuses=_counts(documents.status), sentences=len(segments),
        fingerprinted=fingerprinted, by_path=_counts(candidates.via), skipped=skipped,
        relations=_counts(pairs.relation),
        kinds=_counts(groups.kind), stats=stats)
    return ScanResult(documents, segments, candidates, pairs, matches, passages, facts, clusters, groups, manifest,
                      params, fp, {"jobs": jobs, "seconds": stage.timings})


def scan(paths: str | Path | Sequence[str | Path], params: Params | None = None, *,
         fields: Fields = Fields(), metadata: str | Path | None = None, strict: bool = False,
         out: str | Path | None = None, progress: bool | None = None, jobs: int = 1,
         tables_only: bool = False, csv_raw: bool = False, dayfirst: bool | None = None,
         pair_pages: int = report.PAIR_PAGES) -> ScanResult:
    """Find every copy of a story in a corpus.

    paths: folders of .txt/.md files, JSONL, CSV/TSV or Parquet files.
    fields: which input columns hold id, text, date, source, title, url.
    metadata: a CSV adding id/source/title/date/url to document files (column ``file``).
    strict: stop at the first rejected record instead of reporting it.
    out: if given, write the report there (with tables_only, the tables and manifest alone;
        with csv_raw, CSV cells as they are; pair_pages: the related pairs the report shows, each
        with a page: see `ScanResult.write`). A folder that cannot be written raises
        `dedup.report.OutputError` before anything is read.
    progress: show stage progress; default only on a terminal.
    jobs: worker processes for the per-document and per-pair stages.
    dayfirst: numeric dates that read either way (02/03/2005): True day first, False month
        first, None month first with a warning per record.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if out is not None:
        report.check_pair_pages(pair_pages)
        report.check_writable(Path(out))
    started = time.perf_counter()
    documents = read_documents(paths, fields=fields, metadata=metadata, strict=strict, dayfirst=dayfirst)
    read_seconds = round(time.perf_counter() - started, 3)
    show = sys.stderr.isatty() if progress is None else progress
    result = analyse(documents, params or Params(), progress=show, jobs=jobs)
    result.timings["seconds"] = {"read": read_seconds, **result.timings["seconds"]}
    if out is not None:
        result.write(out, tables_only=tables_only, jobs=jobs, csv_raw=csv_raw, pair_pages=pair_pages)
    return result


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
    index = SentenceIndex.build(segments, unit_hashes, params)  # one index for verify and align
    evidence, matches, verified = verify(candidate, segments, None, fp, params, index=index)
    pairs = relate(candidate, evidence, params)
    orientation, passages, facts = align(pairs, documents, segments, None, params, index=index, verified=verified)
    pairs = oriented(pairs, orientation)
    pair = pairs.iloc[0]
    scores = {"estimate": round(estimate, 4), **{k: _score(evidence[k].iat[0]) for k in evidence.columns}}
    return Comparison(pair.relation, pair.reason, scores, matches, documents, pair, passages, facts)
