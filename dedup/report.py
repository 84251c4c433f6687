"""Write a scan's tables and its summary: tables → files.

The report layer only reads tables; it never recomputes detection. Files:
``documents.csv``, ``pairs.csv``, ``clusters.csv``, ``groups.csv``,
``matches.csv``, ``passages.csv``, ``facts.csv``, ``manifest.json``,
``timings.json``, ``summary.md``, the HTML report (``index.html``,
``pairs/pair-NNNN.html``, see `dedup.html`), a ``.parquet`` beside each CSV
when pyarrow is installed, and the completion marker ``dedup-complete.json``.
Writing is deterministic: the same input gives byte-identical files (no
timestamps, fixed float precision), timings.json aside.

An output folder never mixes two runs. A run writes into a staging folder
inside it (``.dedup-staging-<host>-<pid>-<random>``), and once every file is
there `publish` removes the previous run's marker, then the previous run's
files (only the names above: a user's other files stay), moves the new files
in, and writes the marker last: a folder without ``dedup-complete.json`` holds
a run that did not finish. The marker gives the input hash and every file of
the run. A run killed before publishing leaves its staging folder, which the
next run into the folder removes (`staging`).

CSV cells are for spreadsheets too, which run a cell beginning with ``=``,
``+``, ``-`` or ``@`` as a formula (``=HYPERLINK(...)``, ``=cmd|...``), and
document text may begin that way. So a string cell beginning with one of
those, a tab or a carriage return gets a ``'`` in front in the CSV files
(OWASP's advice for CSV injection; a spreadsheet shows the text without it);
numbers are written as they are, and the Parquet files keep every value
exactly. ``csv_raw`` writes the CSV cells unchanged.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from dedup.align import shares
from dedup.candidates import capped_note
from dedup.facts import FACTS
from dedup.html import INDEX, PAIR_DIR, reappears, write_html
from dedup.parallel import chunks, map_chunks
from dedup.relate import LINKED

if TYPE_CHECKING:
    from dedup.api import ScanResult

FLOAT_DIGITS = 4
CSV_ROWS = 100_000  # rows of a table one worker writes at a time
TABLES = ("documents", "pairs", "clusters", "groups", "matches", "passages", "facts")
EXCERPT_CHARS = 160
MARKER = "dedup-complete.json"  # written last: the folder holds one whole run
RUN_FILES = (*(f"{name}.{ext}" for name in TABLES for ext in ("csv", "parquet")),
             "manifest.json", "timings.json", "summary.md", INDEX)  # and pairs/pair-NNNN.html
STAGING = ".dedup-staging-"
_STAGING_NAME = re.compile(re.escape(STAGING) + r"(?P<host>.+)-(?P<pid>\d+)-[0-9a-f]{8}")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula
REAPPEARS_NOTE = (
    "*A in B*: the share of text A's characters in sentences matched in text B (verbatim, nearly "
    "verbatim or reworded; pairs.csv: a_verbatim + a_near + a_reworded), the figure the relation rests on. "
    "pairs.csv's contained_a_in_b (Jaccard containment) counts A's shingles, by default pairs of content "
    "words, found anywhere in B: lower for a rewrite, which keeps the facts but few of the word pairs.\n")


class OutputError(ValueError):
    """The output folder cannot be written; raised before a scan reads its input."""


def _table_for_disk(name: str, table: pd.DataFrame) -> pd.DataFrame:
    if name == "documents":  # texts stay in the inputs; the table records what happened to them
        table = table.drop(columns=["text"], errors="ignore")
    return table.round(FLOAT_DIGITS)


def write(result: ScanResult, out: Path, parquet: bool | None = None, tables_only: bool = False,
          jobs: int = 1, csv_raw: bool = False) -> list[Path]:
    """Write every table, the manifest, the summary and the HTML report into out (with
    tables_only, the tables and the manifest alone, for big runs), in place of the previous
    run's files (see the module docstring); return the paths, the marker's last.
    jobs: worker processes writing the CSV files; csv_raw: CSV cells as they are, formulas too."""
    started = time.perf_counter()
    if parquet is None:
        parquet = importlib.util.find_spec("pyarrow") is not None
    with staging(out) as folder:
        tables = {name: _table_for_disk(name, getattr(result, name)) for name in TABLES}
        written = _write_csv(tables, folder, jobs, csv_raw)
        for name, table in tables.items() if parquet else ():
            table.to_parquet(folder / f"{name}.parquet", index=False)
            written.append(folder / f"{name}.parquet")
        if not tables_only:
            (folder / "summary.md").write_text(summary(result), encoding="utf-8")
            written += [folder / "summary.md", *write_html(result, folder)]
        seconds = {**result.timings.get("seconds", {}), "write": round(time.perf_counter() - started, 3)}
        written += write_manifest(folder, result.manifest, {**result.timings, "seconds": seconds})
        return publish(folder, out, written, result.manifest["input_sha256"])


def write_manifest(out: Path, manifest: dict, timings: dict) -> list[Path]:
    """manifest.json and timings.json. Apart from timings.json, the output depends on nothing
    but the input and the parameters."""
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    (out / "timings.json").write_text(json.dumps(timings, indent=2) + "\n", encoding="utf-8")
    return [out / "manifest.json", out / "timings.json"]


def check_writable(out: Path) -> None:
    """Raise OutputError now if a run cannot write into the folder out (created if missing):
    a scan checks before reading, not after hours of work."""
    with staging(out):
        pass


@contextmanager
def staging(out: Path) -> Iterator[Path]:
    """A new staging folder inside out (created if missing) to write a run into, removed on
    leaving, whatever happens; staging folders that runs killed on this machine left behind
    are removed first. OutputError when out is a file or cannot be written."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"cannot write the output to {out}: it is a file, not a folder")
    folder = out / f"{STAGING}{_host()}-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        out.mkdir(parents=True, exist_ok=True)
        folder.mkdir()
    except OSError as err:
        raise OutputError(f"cannot write the output to {out}: {err.strerror or err}") from err
    _remove_abandoned(out)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def publish(folder: Path, out: Path, written: Sequence[Path], input_sha256: str) -> list[Path]:
    """Move the files written into the staging folder into out, in place of the previous run's
    (the marker removed first, written last); return their paths in out, the marker's last."""
    names = [path.relative_to(folder) for path in written]
    marker = out / MARKER
    marker.unlink(missing_ok=True)
    _remove_run(out)
    for name in names:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(folder / name, out / name)
    listing = {"input_sha256": input_sha256, "files": sorted(name.as_posix() for name in names)}
    (folder / MARKER).write_text(json.dumps(listing, indent=2) + "\n", encoding="utf-8")
    os.replace(folder / MARKER, marker)
    return [out / name for name in names] + [marker]


def _remove_run(out: Path) -> None:
    """Remove the files a run writes (`RUN_FILES`, the pair pages), and pairs/ once empty."""
    for name in RUN_FILES:
        (out / name).unlink(missing_ok=True)
    pages = out / PAIR_DIR
    for page in pages.glob("pair-*.html"):
        page.unlink()
    if pages.is_dir() and not any(pages.iterdir()):
        pages.rmdir()


def _host() -> str:
    """This machine's name as it may stand in a folder name: an output folder may be shared."""
    return re.sub(r"[^A-Za-z0-9.]+", "_", socket.gethostname()) or "host"


def _remove_abandoned(out: Path) -> None:
    """Remove the staging folders in out of runs on this machine whose process is gone."""
    for folder in out.glob(f"{STAGING}*"):
        name = _STAGING_NAME.fullmatch(folder.name)
        if name and name["host"] == _host() and not _alive(int(name["pid"])):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    """Whether process pid exists (where that cannot be asked safely, it is taken to)."""
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


@dataclass(frozen=True)
class TableParts:
    """One table written as numbered parts, by any process, for tables too big to hold: `join`
    gives, from the parts in order, the CSV file `write` gives for the whole table and a Parquet
    file of the same rows. Call `start` once before the first part."""

    out: Path
    name: str
    columns: tuple[str, ...]
    parquet: bool
    csv_raw: bool = False  # CSV cells as they are, formulas too (see the module docstring)

    @property
    def folder(self) -> Path:
        return self.out / f".{self.name}.parts"

    def start(self) -> TableParts:
        self.folder.mkdir(parents=True)
        return self

    def write(self, number: int, table: pd.DataFrame) -> None:
        """Part number of the table (parts may come in any order)."""
        table = _table_for_disk(self.name, table)
        (table if self.csv_raw else csv_safe(table)).to_csv(self.folder / f"{number:06d}.csv", index=False,
                                                             lineterminator="\n")
        if self.parquet:
            table.to_parquet(self.folder / f"{number:06d}.parquet", index=False)

    def join(self) -> list[Path]:
        """Join the parts into the table's files (no part gives the header alone); return their paths."""
        if not any(self.folder.glob("*.csv")):
            self.write(0, pd.DataFrame(columns=list(self.columns)))
        csv = self.out / f"{self.name}.csv"
        with csv.open("wb") as joined:
            for number, part in enumerate(sorted(self.folder.glob("*.csv"))):
                with part.open("rb") as rows:
                    if number:
                        rows.readline()  # each part has the header; the file keeps the first
                    shutil.copyfileobj(rows, joined)
        written = [csv]
        if self.parquet:
            written.append(self.out / f"{self.name}.parquet")
            _join_parquet(sorted(self.folder.glob("*.parquet")), written[-1])
        shutil.rmtree(self.folder)
        return written


def _join_parquet(parts: list[Path], path: Path) -> None:
    """One Parquet file of the parts' rows, in order; a column all null in some parts takes the type the
    others give it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.unify_schemas([pq.read_schema(part) for part in parts], promote_options="permissive")
    with pq.ParquetWriter(path, schema) as writer:  # the first part's pandas metadata: dtypes read back as written
        for part in parts:
            writer.write_table(pq.read_table(part).cast(schema))


def csv_safe(table: pd.DataFrame) -> pd.DataFrame:
    """The table with a ' before every string cell a spreadsheet would read as a formula
    (`FORMULA_START`); other cells as they are."""
    escaped = {}
    for column in table.select_dtypes(include=["object", "string"]).columns:
        values = table[column]
        formulas = values.map(lambda value: isinstance(value, str) and value.startswith(FORMULA_START)).astype(bool)
        if formulas.any():
            escaped[column] = values.copy()
            escaped[column][formulas] = "'" + values[formulas]
    return table.assign(**escaped) if escaped else table


def _write_csv(tables: dict[str, pd.DataFrame], out: Path, jobs: int, csv_raw: bool) -> list[Path]:
    """Each table as CSV, written in parts of CSV_ROWS rows on up to jobs processes, then joined."""
    parts = {name: TableParts(out, name, tuple(table.columns), parquet=False, csv_raw=csv_raw).start()
             for name, table in tables.items()}
    pieces = [(name, start) for name, table in tables.items() for start in range(0, max(len(table), 1), CSV_ROWS)]
    map_chunks(_write_pieces, (tables, parts, pieces), chunks(len(pieces), jobs, max_rows=1), jobs)
    return [path for table in parts.values() for path in table.join()]


def _write_pieces(state: tuple[dict[str, pd.DataFrame], dict[str, TableParts], list[tuple[str, int]]],
                  part: slice) -> None:
    tables, parts, pieces = state
    for name, start in pieces[part]:
        parts[name].write(start // CSV_ROWS, tables[name].iloc[start:start + CSV_ROWS])


def _md_cell(value: object) -> str:
    """Table cell text: document text is untrusted, so no pipes or line breaks get through."""
    return str(value).replace("|", "\\|").replace("\n", " ")


def _md_table(header: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _pct(x: float) -> str:
    return f"{round(100 * x)}%"


def summary(result: ScanResult) -> str:
    """summary.md: what was found, why, and what to fold, for a person to read. A document is
    named by its id, and its title beside it when it has one."""
    docs, pairs, groups = result.documents, result.pairs, result.groups
    counts = result.manifest["counts"]
    titles = {doc: title for doc, title in zip(docs.doc_id, docs.title) if title}

    def label(doc: str) -> str:
        return f"`{doc}`" + (f" ({_md_cell(titles[doc])})" if doc in titles else "")

    out = ["# dedup report\n",
           f"{counts['records']} records read: {counts['ok']} documents scanned, "
           f"{counts['rejected']} rejected. {counts['candidates']} candidate pairs verified; "
           f"{counts['related']} related.\n"]

    related = pairs[pairs.relation != "rejected"]
    out.append("## Related pairs\n")
    if len(related):
        rows = [[r["relation"], label(r["doc_a"]), label(r["doc_b"]), f"{r['jaccard']:.2f}",
                 f"{_pct(reappears(r, 'a'))} / {_pct(reappears(r, 'b'))}", r["reason"]]
                for r in related.to_dict("records")]
        out.append(_md_table(["relation", "text A", "text B", "Jaccard", "A in B / B in A", "why"], rows))
        out.append("\n" + REAPPEARS_NOTE)
    else:
        out.append("None found.\n")

    clusters = groups[groups.kind == "duplicate_cluster"]
    out.append("\n## Duplicate clusters\n\nSafe to collapse: keep one copy, fold the rest.\n")
    out.append(_md_table(["cluster", "size", "keep", "why", "fold", "weakest link"],
                         [[g.group_id, g.size, label(g.canonical), g.keep_reason,
                           ", ".join(label(m) for m in g.members.split(";") if m != g.canonical),
                           f"{g.weakest_link}, {_pct(g.weakest_strength)}"] for g in clusters.itertuples()])
               if len(clusters) else "None: no two documents are duplicates or copies of each other.\n")
    out.append(_figures_changed(pairs, result.facts, label))
    stories = groups[groups.kind == "story"]
    out.append("\n## Story groups\n\nTexts telling the same story: for tracing, not for folding.\n")
    out.append(_md_table(["story", "size", "members", "weakest link"],
                         [[g.group_id, g.size, ", ".join(label(m) for m in g.members.split(";")),
                           f"{g.weakest_link}, {_pct(g.weakest_strength)}"] for g in stories.itertuples()])
               if len(stories) else "None.\n")
    out.append("\n## Documents\n")
    placed = docs.merge(result.clusters, on="doc_id", how="left")
    out.append(_md_table(["document", "source", "title", "status", "cluster", "story"],
                         [[f"`{r.doc_id}`", r.source, r.title, r.status if r.status == "ok" else r.reason,
                           "" if pd.isna(r.cluster_id) else r.cluster_id, "" if pd.isna(r.story_id) else r.story_id]
                          for r in placed.itertuples()]))

    rejected_pairs = pairs[pairs.relation == "rejected"]
    if len(rejected_pairs):
        out.append("\n## Candidates rejected on verification\n")
        out.append(_md_table(["text A", "text B", "found by", "why not"],
                             [[label(r.doc_a), label(r.doc_b), r.via, r.reason]
                              for r in rejected_pairs.itertuples()]))
    out.append(_changes(result, label))
    out.append(_candidate_stage(result.manifest))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out))


def _figures_changed(pairs: pd.DataFrame, facts: pd.DataFrame, label: Callable[[str], str]) -> str:
    """The related pairs whose figures differ: duplicates and copies kept out of the fold."""
    changed = pairs[pairs.relation.isin(LINKED) & (pairs.figures_changed > 0)]
    if changed.empty:
        return ""
    numbers = facts[facts.fact == "number_changed"]
    read_as = {frozenset(key): (key, "; ".join(f"{_excerpt(a) or '(none)'} → {_excerpt(b) or '(none)'}"
                                              for a, b in zip(rows.a_value, rows.b_value)))
               for key, rows in numbers.groupby(["doc_a", "doc_b"], sort=False)}
    rows = []
    for r in changed.itertuples():
        (source, copy), drift = read_as.get(frozenset((r.doc_a, r.doc_b)), ((r.doc_a, r.doc_b), ""))
        rows.append([r.relation, label(source), label(copy), drift])
    return ("\n## Copies whose figures differ\n\nThe same text with other numbers: shown, not folded "
            "(a duplicate or copy whose figures differ stays out of its source's cluster). Read from the "
            "source, or the text read first.\n\n"
            + _md_table(["relation", "read from", "other text", "numbers (from → other)"], rows))


def _candidate_stage(manifest: dict) -> str:
    lsh = manifest["lsh"]
    header = ["path", "threshold", "bands × rows"] + list(lsh["document"]["s_curve"])[:9]
    rows = [[path, info["threshold"], f"{info['bands']} × {info['rows']}"]
            + [f"{p:.2f}" for p in list(info["s_curve"].values())[:9]]
            for path, info in lsh.items()]
    note = capped_note(manifest)
    return ("\n## How candidates were found\n\n"
            "MinHash LSH on two paths: whole documents (copies) and sentences (rewrites, "
            "summaries, excerpts). The S-curve gives the probability that two items with the "
            "Jaccard similarity in the column header become candidates.\n\n"
            + _md_table(header, rows) + (f"\n{note}\n" if note else ""))


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return _md_cell(text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 1] + "…")


def _largest(passages: pd.DataFrame, kind: str, side: str, n: int = 3) -> list[str]:
    chosen = passages[(passages.kind == kind) & ~passages["flags"].str.contains("boilerplate")]
    chosen = chosen.assign(chars=chosen[f"{side}_end"] - chosen[f"{side}_start"]).nlargest(n, "chars")
    return [f"  - {_excerpt(text)}" for text in chosen[f"{side}_text"]]


def _drift_line(fact: str, a_value: str, b_value: str) -> str:
    a, b = _excerpt(a_value), _excerpt(b_value)
    if fact == "number_changed":
        return f"{FACTS[fact]}: {a or '(none)'} → {b or '(none)'}"
    if fact == "quote_added":
        return f"{FACTS[fact]}: “{b}” (in the source, but not as a quotation)"
    if fact == "quote_cut" and not b:
        return f"{FACTS[fact]}: “{a}” is gone from a passage the copy kept"
    return f"{FACTS[fact]}: “{a}” → “{b}”"


def _drift_lines(facts: pd.DataFrame) -> list[str]:
    lines = [f"  - {_drift_line(f.fact, f.a_value, f.b_value)}" for f in facts.itertuples() if f.fact != "quote_kept"]
    kept = int((facts.fact == "quote_kept").sum())
    return lines + ([f"  - {kept} quotation{'s' if kept != 1 else ''} kept verbatim"] if kept else [])


def _changes(result: ScanResult, label: Callable[[str], str]) -> str:
    """Per related pair: how much of each text reappears in the other, what the copy kept,
    added and dropped, and which facts drifted; label names a document."""
    if result.passages.empty:
        return ""
    out = ["\n## What each copy changed\n",
           "Read from the source to the other; when the direction is unknown, from the fuller text if one "
           "is an excerpt or summary of the other, else from the text that reappears. "
           "The first line gives how much of each text reappears in the other (as under Related pairs); "
           "the second reads the passages: the share of the source's text outside dropped passages, "
           "and the copy's added text, site furniture (mastheads, bylines, comments) left out.\n"]
    pairs = {frozenset(key): row for key, row in zip(zip(result.pairs.doc_a, result.pairs.doc_b),
                                                       result.pairs.to_dict("records"))}
    passages_of = dict(list(result.passages.groupby(["doc_a", "doc_b"], sort=False)))
    facts_of = dict(list(result.facts.groupby(["doc_a", "doc_b"], sort=False)))
    for s in shares(result.passages).itertuples():
        pair = pairs[frozenset((s.doc_a, s.doc_b))]
        passages = passages_of[(s.doc_a, s.doc_b)]
        facts = facts_of.get((s.doc_a, s.doc_b), result.facts.iloc[:0])
        first, second = ("a", "b") if pair["doc_a"] == s.doc_a else ("b", "a")
        roles = ("the first text", "the second") if pair["direction"] == "unknown" else ("the source", "the copy")
        out.append(f"\n### {label(s.doc_a)} → {label(s.doc_b)} ({pair['relation']})\n")
        out.append(f"Direction: {pair['direction']} — {_md_cell(pair['direction_reason'])}.\n")
        out.append(f"- {_pct(reappears(pair, first))} of {roles[0]} reappears in {roles[1]}; "
                   f"{_pct(reappears(pair, second))} of {roles[1]} in {roles[0]}.")
        out.append(f"- Passages: {_pct(s.source_kept)} of the source kept; {_pct(s.copy_new)} of the copy is new.")
        for title, lines in (("Largest additions", _largest(passages, "added", "b")),
                             ("Largest drops", _largest(passages, "dropped", "a")),
                             ("Facts that drifted", _drift_lines(facts))):
            if lines:
                out += [f"- {title}:", *lines]
        out.append("")
    return "\n".join(out)
