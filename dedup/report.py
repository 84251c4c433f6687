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
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from dedup.align import shares
from dedup.candidates import capped_note, skipped_note
from dedup.facts import FACTS
from dedup.html import INDEX, PAIR_DIR, PAIR_PAGES, pair_page, reappears, write_html
from dedup.outlets import outlets
from dedup.parallel import chunks, map_chunks
from dedup.plots import PLOT_DIR, PLOTS, write_plots
from dedup.relate import LINKED, shown_reason
from dedup.schema import STORE
from dedup.store import TABLES, Frames, StoredScan, StoreError, Tables, records_by_pair

FLOAT_DIGITS = 4
CSV_ROWS = 100_000  # rows of a table one worker writes at a time
EXCERPT_CHARS = 160
MARKER = "dedup-complete.json"  # written last: the folder holds one whole run
PLOT_FILES = tuple(f"{PLOT_DIR}/{name}.svg" for name in PLOTS)
REPORT_FILES = ("summary.md", "outlets.csv", INDEX, *PLOT_FILES)  # and pairs/pair-NNNN.html
TEXTS = "texts.parquet"  # the documents' texts (doc_id, text), a row per documents row, beside the tables
RUN_FILES = (*(f"{name}.{ext}" for name in TABLES for ext in ("csv", "parquet")), TEXTS,
             "manifest.json", "timings.json", *REPORT_FILES)
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


def write(frames: Mapping[str, pd.DataFrame], manifest: dict[str, Any], timings: dict[str, Any], out: Path,
          parquet: bool | None = None, tables_only: bool = False, jobs: int = 1, csv_raw: bool = False,
          pair_pages: int = PAIR_PAGES) -> list[Path]:
    """Write every table (frames: `TABLES` by name), the manifest, the summary and the HTML
    report into out (with tables_only, the tables and the manifest alone), in place of the
    previous run's files (see the module docstring); return the paths, the marker's last.
    jobs: worker processes writing the CSV files; csv_raw: CSV cells as they are, formulas too;
    pair_pages: see `write_report`."""
    started = time.perf_counter()
    if parquet is None:
        parquet = importlib.util.find_spec("pyarrow") is not None
    with staging(out) as folder:
        tables = {name: _table_for_disk(name, frames[name]) for name in TABLES}
        written = _write_csv(tables, folder, jobs, csv_raw)
        for name, table in tables.items() if parquet else ():
            STORE[name].to_parquet(table, folder / f"{name}.parquet")
            written.append(folder / f"{name}.parquet")
        if parquet and "text" in frames["documents"]:
            STORE["texts"].to_parquet(frames["documents"], folder / TEXTS)
            written.append(folder / TEXTS)
        if not tables_only:  # from the tables as written, so that every engine renders the same report
            written += write_report(Frames(tables, manifest), folder, pair_pages, jobs, csv_raw)
        seconds = {**timings.get("seconds", {}), "write": round(time.perf_counter() - started, 3)}
        written += write_manifest(folder, manifest, {**timings, "seconds": seconds})
        return publish(folder, out, written, manifest["input_sha256"])


def write_report(tables: Tables, out: Path, pair_pages: int = PAIR_PAGES, jobs: int = 1,
                 csv_raw: bool = False) -> list[Path]:
    """summary.md and the HTML report of the tables, into out; return their paths.

    pair_pages: how many related pairs the report shows, each with its page, and the most rows
    of any other list; the pairs shown are the most telling (`telling_pairs`). Memory grows with
    the pairs shown, not with the corpus (`dedup.store`). jobs: worker processes rendering pages;
    csv_raw: outlets.csv's cells as they are (see the module docstring)."""
    check_pair_pages(pair_pages)
    tables = Frames.read_once(tables)
    shown = telling_pairs(tables.table("pairs"), pair_pages)
    (out / "summary.md").write_text(summary(tables, shown, pair_pages), encoding="utf-8")
    table = outlets(tables.table("documents"), tables.table("pairs")).round(FLOAT_DIGITS)
    (table if csv_raw else csv_safe(table)).to_csv(out / "outlets.csv", index=False, lineterminator="\n")
    plots = write_plots(tables.table("documents"), tables.table("pairs"), tables.table("clusters"), out)
    html = write_html(tables, out, shown, pair_pages, jobs, table, {name: f"{PLOT_DIR}/{path.name}"
                                                                    for name, path in plots.items()})
    return [out / "summary.md", out / "outlets.csv", *plots.values(), *html]


def check_pair_pages(pair_pages: int) -> None:
    """ValueError unless pair_pages is a count: a scan checks it before reading anything."""
    if isinstance(pair_pages, bool) or not isinstance(pair_pages, int) or pair_pages < 0:
        raise ValueError(f"pair_pages must be a whole number, 0 or more; got {pair_pages!r}")


def telling_pairs(pairs: pd.DataFrame, limit: int) -> pd.DataFrame:
    """The related pairs a report shows, at most limit, in table order: those whose figures
    changed first (a reader must check them before folding anything), then the most confident."""
    related = pairs[pairs.relation.isin(LINKED)]
    if len(related) <= limit:
        return related
    ranked = related.assign(_changed=related.figures_changed > 0).sort_values(
        ["_changed", "confidence"], ascending=False, kind="stable")
    return related.loc[sorted(ranked.index[:limit], key=related.index.get_loc)]


def rerender(out: str | Path, pair_pages: int = PAIR_PAGES, jobs: int = 1) -> list[Path]:
    """Write the summary and HTML report of the finished run in out anew, from its stored
    tables (after --tables-only, or to show more pairs), in place of its old report (jobs:
    worker processes rendering pages); return the run's files, the marker's last.
    `dedup.store.StoreError` if out holds no finished run."""
    out = Path(out)
    stored = _stored_tables(out)
    kept = [name for name in (path.relative_to(out) for path in stored.files) if _is_table_file(name)]
    with staging(out) as folder:
        written = write_report(stored, folder, pair_pages, jobs)
        return publish(folder, out, written, stored.manifest["input_sha256"], kept)


def pair_report(out: str | Path, doc_a: str, doc_b: str) -> str:
    """The page (`dedup.html.pair_page`) of the candidate pair doc_a ~ doc_b (either order) of the
    finished run in out, whether or not its report gave it one. StoreError if there is no such pair."""
    out = Path(out)
    stored = _stored_tables(out)
    pairs = stored.table("pairs")
    pair = pairs[((pairs.doc_a == doc_a) & (pairs.doc_b == doc_b)) | ((pairs.doc_a == doc_b) & (pairs.doc_b == doc_a))]
    if pair.empty:
        raise StoreError(f"{out}: {doc_a!r} and {doc_b!r} are not a candidate pair of this scan (pairs.csv lists "
                         "every candidate; `dedup compare` compares any two texts)")
    documents = stored.table("documents")
    scanned = documents[documents.status == "ok"].set_index("doc_id", drop=False)
    row = pair.iloc[0]
    return pair_page(row.to_dict(), scanned.loc[row.doc_a].to_dict(), scanned.loc[row.doc_b].to_dict(),
                     stored.pair_rows("passages", pair), stored.pair_rows("facts", pair))


def _stored_tables(out: Path) -> StoredScan:
    """The finished run in out, for its report: the report reads the Parquet tables, typed as written."""
    stored = StoredScan.open(out, MARKER)
    missing = [name for name in TABLES if not (out / f"{name}.parquet").is_file()]
    if missing:
        raise StoreError(f"{out} has no {missing[0]}.parquet: the report is read from the Parquet tables, which "
                         "this scan did not write (scan again with --parquet; pip install 'dedup[parquet]')")
    return stored


def _is_table_file(name: Path) -> bool:
    """Whether a file of a run (its name in the run's folder) is one of its tables or manifests."""
    return name.name != MARKER and name.as_posix() not in REPORT_FILES and name.parent.name != PAIR_DIR


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
    folder = out / f"{STAGING}{host()}-{os.getpid()}-{secrets.token_hex(4)}"
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


def publish(folder: Path, out: Path, written: Sequence[Path], input_sha256: str,
            kept: Sequence[Path] = ()) -> list[Path]:
    """Move the files written into the staging folder into out, in place of the previous run's
    (the marker removed first, written last); kept: the previous run's files (names in out) that
    stay, as part of this run. Return the run's paths in out, the marker's last."""
    names = [path.relative_to(folder) for path in written]
    marker = out / MARKER
    marker.unlink(missing_ok=True)
    _remove_run(out, {name.as_posix() for name in kept})
    for name in names:
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        os.replace(folder / name, out / name)
    files = sorted([*kept, *names], key=Path.as_posix)
    listing = {"input_sha256": input_sha256, "files": [name.as_posix() for name in files]}
    (folder / MARKER).write_text(json.dumps(listing, indent=2) + "\n", encoding="utf-8")
    os.replace(folder / MARKER, marker)
    return [out / name for name in [*kept, *names]] + [marker]


def _remove_run(out: Path, kept: set[str]) -> None:
    """Remove the files a run writes (`RUN_FILES`, the pair pages) but those kept, and pairs/ once empty."""
    for name in RUN_FILES:
        if name not in kept:
            (out / name).unlink(missing_ok=True)
    pages = out / PAIR_DIR
    for page in pages.glob("pair-*.html"):
        page.unlink()
    if pages.is_dir() and not any(pages.iterdir()):
        pages.rmdir()
    if (out / PLOT_DIR).is_dir() and not any((out / PLOT_DIR).iterdir()):
        (out / PLOT_DIR).rmdir()


def host() -> str:
    """This machine's name as it may stand in a folder name: an output folder may be shared."""
    return re.sub(r"[^A-Za-z0-9.]+", "_", socket.gethostname()) or "host"


def _remove_abandoned(out: Path) -> None:
    """Remove the staging folders in out of runs on this machine whose process is gone."""
    for folder in out.glob(f"{STAGING}*"):
        name = _STAGING_NAME.fullmatch(folder.name)
        if name and name["host"] == host() and not alive(int(name["pid"])):
            shutil.rmtree(folder, ignore_errors=True)


def alive(pid: int, started: str | None = None) -> bool:
    """Whether process pid exists (where that cannot be asked safely, it is taken to); with
    started (`started_at` of the process meant), whether it is still that process and not a
    later one given its pid, as after a crash and a reboot."""
    if os.name != "posix":  # os.kill(pid, 0) would end the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        pass
    now = started_at(pid) if started is not None else None
    return now is None or now == started


def started_at(pid: int) -> str | None:
    """When process pid started: this boot's id and the start in clock ticks since boot (Linux's
    /proc), which with the pid name one process; None where that cannot be read."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # Field 2, the command name, is in parentheses and may hold spaces and parentheses itself;
    # the fields after its last ")" are numbered from 3, so the start (field 22) is the 20th.
    return f"{boot}:{stat.rsplit(')', 1)[1].split()[19]}"


@dataclass(frozen=True)
class TableParts:
    """One table of the store (`dedup.schema.STORE`) written as numbered parts, by any process,
    for tables too big to hold: `join` gives, from the parts in order, the CSV file `write`
    gives for the whole table and a Parquet file of the same rows, of the declared types.
    Call `start` once before the first part."""

    out: Path
    name: str
    parquet: bool
    csv_raw: bool = False  # CSV cells as they are, formulas too (see the module docstring)
    work: Path | None = None  # where the parts are written, when not in out (a resumable run's, `dedup.resume`)

    @property
    def folder(self) -> Path:
        return (self.work or self.out) / f".{self.name}.parts"

    def start(self) -> TableParts:
        """Make the parts' folder; the parts an earlier, killed run wrote there stay."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return self

    def write(self, number: int, table: pd.DataFrame) -> None:
        """Part number of the table (parts may come in any order)."""
        table = _table_for_disk(self.name, table)
        (table if self.csv_raw else csv_safe(table)).to_csv(self.folder / f"{number:06d}.csv", index=False,
                                                             lineterminator="\n")
        if self.parquet:
            STORE[self.name].to_parquet(table, self.folder / f"{number:06d}.parquet")

    def join(self) -> list[Path]:
        """Join the parts into the table's files (no part gives the header alone); return their paths."""
        if not any(self.folder.glob("*.csv")):
            self.write(0, pd.DataFrame(columns=STORE[self.name].names))
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
            join_parquet(sorted(self.folder.glob("*.parquet")), written[-1])
        shutil.rmtree(self.folder)
        return written


def join_parquet(parts: list[Path], path: Path) -> None:
    """One Parquet file of the parts' rows, in order (the parts share their table's declared schema)."""
    import pyarrow.parquet as pq

    with pq.ParquetWriter(path, pq.read_schema(parts[0])) as writer:
        for part in parts:
            writer.write_table(pq.read_table(part))


def csv_safe(table: pd.DataFrame) -> pd.DataFrame:
    """The table with a ' before every string cell a spreadsheet would read as a formula
    (`FORMULA_START`); other cells as they are."""
    escaped = {}
    for column in table.select_dtypes(include=["object", "string"]).columns:
        values = table[column]
        if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "mixed", "mixed-integer"):
            continue  # no strings to escape (the .str accessor needs some)
        formulas = values.str.startswith(FORMULA_START, na=False).astype(bool)
        if formulas.any():
            escaped[column] = values.copy()
            escaped[column][formulas] = "'" + values[formulas]
    return table.assign(**escaped) if escaped else table


def _write_csv(tables: dict[str, pd.DataFrame], out: Path, jobs: int, csv_raw: bool) -> list[Path]:
    """Each table as CSV, written in parts of CSV_ROWS rows on up to jobs processes, then joined."""
    parts = {name: TableParts(out, name, parquet=False, csv_raw=csv_raw).start()
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


def _more(shown: int, total: int, what: str, file: str) -> str:
    """The line under a list cut to its first rows: how many more, and where they all are."""
    return f"\n… and {total - shown} more: all {total} {what} are in {file}.\n" if total > shown else ""


def summary(tables: Tables, shown: pd.DataFrame | None = None, limit: int = PAIR_PAGES) -> str:
    """summary.md: what was found, why, and what to fold, for a person to read. A document is
    named by its id, and its title beside it when it has one. shown: the related pairs listed
    and read in full (`telling_pairs`; default all); limit: the most rows of any other list."""
    docs, pairs, groups = tables.table("documents"), tables.table("pairs"), tables.table("groups")
    counts = tables.manifest["counts"]
    related = pairs[pairs.relation.isin(LINKED)]
    shown = related if shown is None else shown
    titles = {doc: title for doc, title in zip(docs.doc_id, docs.title) if title}

    def label(doc: str) -> str:
        return f"`{doc}`" + (f" ({_md_cell(titles[doc])})" if doc in titles else "")

    out = ["# dedup report\n",
           f"{counts['records']} records read: {counts['ok']} documents scanned, "
           f"{counts['rejected']} rejected" + (f", {counts['skipped']} skipped as no documents (WARC requests, "
                                               "images, redirects …)" if counts.get("skipped") else "") +
           f". {counts['candidates']} candidate pairs verified; "
           f"{counts['related']} related." + (f" {note}" if (note := skipped_note(counts)) else "") + "\n"]

    out.append("## Related pairs\n")
    if len(shown):
        if len(related) > len(shown):
            out.append(f"The {len(shown)} most telling of {len(related)}: those whose figures changed first, then "
                       "the most confident. `dedup report OUT --pair A B` renders the page of any other.\n")
        rows = [[r["relation"], label(r["doc_a"]), label(r["doc_b"]), f"{r['jaccard']:.2f}",
                 f"{_pct(reappears(r, 'a'))} / {_pct(reappears(r, 'b'))}", shown_reason(r)]
                for r in shown.to_dict("records")]
        out.append(_md_table(["relation", "text A", "text B", "Jaccard", "A in B / B in A", "why"], rows))
        out.append(_more(len(shown), len(related), "related pairs", "pairs.csv"))
        out.append("\n" + REAPPEARS_NOTE)
    else:
        out.append("None found.\n")

    clusters = groups[groups.kind == "duplicate_cluster"]
    out.append("\n## Duplicate clusters\n\nSafe to collapse: keep one copy, fold the rest.\n")
    out.append(_md_table(["cluster", "size", "keep", "why", "fold", "weakest link"],
                         [[g.group_id, g.size, label(g.canonical), g.keep_reason,
                           ", ".join(label(m) for m in g.members.split(";") if m != g.canonical),
                           f"{g.weakest_link}, {_pct(g.weakest_strength)}"] for g in clusters.head(limit).itertuples()])
               + _more(limit, len(clusters), "duplicate clusters", "groups.csv")
               if len(clusters) else "None: no two documents are duplicates or copies of each other.\n")
    out.append(_figures_changed(tables, shown, label))
    stories = groups[groups.kind == "story"]
    out.append("\n## Story groups\n\nTexts telling the same story: for tracing, not for folding.\n")
    out.append(_md_table(["story", "size", "members", "weakest link"],
                         [[g.group_id, g.size, ", ".join(label(m) for m in g.members.split(";")),
                           f"{g.weakest_link}, {_pct(g.weakest_strength)}"] for g in stories.head(limit).itertuples()])
               + _more(limit, len(stories), "story groups", "groups.csv")
               if len(stories) else "None.\n")
    out.append("\n## Documents\n")
    placed = docs.head(limit).merge(tables.table("clusters"), on="doc_id", how="left")
    out.append(_md_table(["document", "source", "title", "status", "cluster", "story"],
                         [[f"`{r.doc_id}`", r.source, r.title, r.status if r.status == "ok" else r.reason,
                           "" if pd.isna(r.cluster_id) else r.cluster_id, "" if pd.isna(r.story_id) else r.story_id]
                          for r in placed.itertuples()]))
    out.append(_more(limit, len(docs), "records", "documents.csv"))

    rejected_pairs = pairs[pairs.relation == "rejected"]
    if len(rejected_pairs):
        out.append("\n## Candidates rejected on verification\n")
        out.append(_md_table(["text A", "text B", "found by", "why not"],
                             [[label(r.doc_a), label(r.doc_b), r.via, r.reason]
                              for r in rejected_pairs.head(limit).itertuples()]))
        out.append(_more(limit, len(rejected_pairs), "rejected candidates", "pairs.csv"))
    out.append(_changes(tables, shown, label))
    out.append(_candidate_stage(tables.manifest))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out))


def _figures_changed(tables: Tables, shown: pd.DataFrame, label: Callable[[str], str]) -> str:
    """The shown pairs whose figures differ: duplicates and copies kept out of the fold."""
    changed = shown[shown.figures_changed > 0]
    if changed.empty:
        return ""
    facts = tables.pair_rows("facts", changed)
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


def _largest(passages: pd.DataFrame, kind: str, side: str, n: int = 3) -> dict[tuple[str, str], list[str]]:
    """Per pair (doc_a, doc_b), its n longest editorial passages of this kind, longest first
    (of equal lengths, the first), as summary lines: one pass over every pair's passages."""
    chosen = passages[(passages.kind == kind) & ~passages["flags"].str.contains("boilerplate")]
    chosen = chosen.assign(chars=chosen[f"{side}_end"] - chosen[f"{side}_start"])
    top = chosen.sort_values("chars", ascending=False, kind="stable").groupby(["doc_a", "doc_b"], sort=False).head(n)
    lines: dict[tuple[str, str], list[str]] = {}
    for doc_a, doc_b, text in zip(top.doc_a, top.doc_b, top[f"{side}_text"]):
        lines.setdefault((doc_a, doc_b), []).append(f"  - {_excerpt(text)}")
    return lines


def _drift_line(fact: str, a_value: str, b_value: str) -> str:
    a, b = _excerpt(a_value), _excerpt(b_value)
    if fact == "number_changed":
        return f"{FACTS[fact]}: {a or '(none)'} → {b or '(none)'}"
    if fact == "quote_added":
        return f"{FACTS[fact]}: “{b}” (in the source, but not as a quotation)"
    if fact == "quote_cut" and not b:
        return f"{FACTS[fact]}: “{a}” is gone from a passage the copy kept"
    if fact == "credit_dropped":
        return f"{FACTS[fact]}: “{a}” is named nowhere in the copy"
    if fact == "dateline_dropped":
        return f"{FACTS[fact]}: “{a}”; the copy's dateline: " + (f"“{b}”" if b else "none")
    return f"{FACTS[fact]}: “{a}” → “{b}”"


def _drift_lines(facts: list[dict]) -> list[str]:
    lines = [f"  - {_drift_line(f['fact'], f['a_value'], f['b_value'])}" for f in facts if f["fact"] != "quote_kept"]
    kept = sum(f["fact"] == "quote_kept" for f in facts)
    return lines + ([f"  - {kept} quotation{'s' if kept != 1 else ''} kept verbatim"] if kept else [])


def _changes(tables: Tables, shown: pd.DataFrame, label: Callable[[str], str]) -> str:
    """Per shown pair: how much of each text reappears in the other, what the copy kept,
    added and dropped, and which facts drifted; label names a document."""
    all_passages, all_facts = tables.pair_rows("passages", shown), tables.pair_rows("facts", shown)
    if all_passages.empty:
        return ""
    out = ["\n## What each copy changed\n",
           "Read from the source to the other; when the direction is unknown, from the fuller text if one "
           "is an excerpt or summary of the other, else from the text that reappears. "
           "The first line gives how much of each text reappears in the other (as under Related pairs); "
           "the second reads the passages: the share of the source's text outside dropped passages, "
           "and the copy's added text, site furniture (mastheads, bylines, comments) left out.\n"]
    pairs = {frozenset(key): row for key, row in zip(zip(shown.doc_a, shown.doc_b), shown.to_dict("records"))}
    added, dropped = _largest(all_passages, "added", "b"), _largest(all_passages, "dropped", "a")
    facts_of = records_by_pair(all_facts)
    for s in shares(all_passages).itertuples():
        pair = pairs[frozenset((s.doc_a, s.doc_b))]
        key = (s.doc_a, s.doc_b)
        facts = facts_of.get(frozenset(key), [])
        first, second = ("a", "b") if pair["doc_a"] == s.doc_a else ("b", "a")
        roles = ("the first text", "the second") if pair["direction"] == "unknown" else ("the source", "the copy")
        out.append(f"\n### {label(s.doc_a)} → {label(s.doc_b)} ({pair['relation']})\n")
        out.append(f"Direction: {pair['direction']} — {_md_cell(pair['direction_reason'])}.\n")
        out.append(f"- {_pct(reappears(pair, first))} of {roles[0]} reappears in {roles[1]}; "
                   f"{_pct(reappears(pair, second))} of {roles[1]} in {roles[0]}.")
        out.append(f"- Passages: {_pct(s.source_kept)} of the source kept; {_pct(s.copy_new)} of the copy is new.")
        for title, lines in (("Largest additions", added.get(key, [])), ("Largest drops", dropped.get(key, [])),
                             ("Facts that drifted", _drift_lines(facts))):
            if lines:
                out += [f"- {title}:", *lines]
        out.append("")
    return "\n".join(out)
