"""The `dedup` command: a thin layer over `dedup.scan` and `dedup.compare`."""

from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from types import FrameType
from typing import Annotated, NoReturn

import pandas as pd
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from dedup import report
from dedup.align import word_diff
from dedup.api import compare as compare_texts
from dedup.api import scan as scan_corpus
from dedup.candidates import capped_note, skipped_note
from dedup.fold import write_folded as write_folded_corpus
from dedup.html import pair_page
from dedup.index import Index, Query
from dedup.parallel import cores
from dedup.params import Params
from dedup.pipeline import Spark, spark_engine
from dedup.read import Fields, InputError, read_documents
from dedup.store import StoreError

app = typer.Typer(
    help="Find every copy of a news story: verbatim syndication, trimmed wire copies, rewrites, "
         "summaries and excerpts — each pair verified, explained and grouped.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    rich_markup_mode=None)  # help text as written: rich markup would eat [spark] and [default: …]


def _fail(message: str) -> NoReturn:
    typer.echo(f"dedup: error: {message}", err=True)
    raise typer.Exit(2)


def _default_out(first_path: Path) -> Path:
    """reports/<corpus name>/, the name cut to safe characters."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", first_path.resolve().name).strip(".-") or "corpus"
    return Path("reports") / name


def _params(**values: object) -> Params:
    try:
        return Params(**{k: v for k, v in values.items() if v is not None})  # type: ignore[arg-type]
    except ValueError as err:
        _fail(str(err))


IdField = Annotated[str, typer.Option(help="Input column/key holding the document id.")]
TextField = Annotated[str, typer.Option(help="Input column/key holding the text.")]
DateField = Annotated[str, typer.Option(help="Input column/key holding the date.")]
SourceField = Annotated[str, typer.Option(help="Input column/key holding the outlet/source.")]
TitleField = Annotated[str, typer.Option(help="Input column/key holding the title.")]
UrlField = Annotated[str, typer.Option(help="Input column/key holding the URL.")]
AuthorField = Annotated[str, typer.Option(help="Input column/key holding the author (byline).")]
HtmlField = Annotated[str, typer.Option(help="Input column/key holding an HTML page to take the main text and metadata from (the record's own fields win; needs pip install 'dedup[web]').")]
Metadata = Annotated[Path | None, typer.Option(help="CSV with a 'file' column adding id/source/title/date/url to document files.")]
Strict = Annotated[bool, typer.Option(help="Stop at the first bad record instead of reporting it.")]
DayFirst = Annotated[bool | None, typer.Option("--dayfirst/--monthfirst", help="Read numeric dates that could be either (02/03/2005) day first or month first [default: month first, with a warning].")]


@app.command()
def scan(
    paths: Annotated[list[Path], typer.Argument(help="Folders of .txt/.md/.html files, or .jsonl, .csv, .tsv, .parquet files, or web archives (.warc, .warc.gz, .arc).")],
    out: Annotated[Path | None, typer.Option(help="Output folder; a run replaces the files an earlier run wrote there.", show_default="reports/<first path's name>")] = None,
    metadata: Metadata = None,
    id_field: IdField = "id",
    text_field: TextField = "text",
    date_field: DateField = "date",
    source_field: SourceField = "source",
    title_field: TitleField = "title",
    url_field: UrlField = "url",
    author_field: AuthorField = "author",
    html_field: HtmlField = "",
    strict: Strict = False,
    dayfirst: DayFirst = None,
    keep: Annotated[str, typer.Option(help="Which copy a duplicate cluster keeps: earliest, longest or sources.")] = Params.keep,
    prefer: Annotated[list[str] | None, typer.Option(help="Preferred source for --keep sources (repeat, best first).")] = None,
    units: Annotated[str, typer.Option(help="Shingle units: content, words or chars.")] = Params.units,
    stopwords: Annotated[Path | None, typer.Option(help="File of extra words to ignore, one per line (any language).")] = None,
    skip_same_source: Annotated[bool, typer.Option("--skip-same-source", help="Do not compare two texts of one source: a site's furniture and own republications are not syndication.")] = False,
    within_days: Annotated[int | None, typer.Option(min=0, help="Do not compare two dated texts more than N days apart (undated texts are always compared).", show_default="any")] = None,
    credit: Annotated[list[str] | None, typer.Option(help="An agency name to look for besides the known ones (repeat), whose loss from a copy facts.csv reports as credit_dropped.")] = None,
    doc_threshold: Annotated[float, typer.Option(help="Jaccard threshold of the document LSH path.")] = Params.doc_threshold,
    sentence_threshold: Annotated[float, typer.Option(help="Jaccard threshold of the sentence LSH path.")] = Params.sentence_threshold,
    max_bucket: Annotated[int, typer.Option(help="LSH buckets with more items are compared through their first few items, not all with all.")] = Params.max_bucket,
    parquet: Annotated[bool | None, typer.Option(help="Also write Parquet tables (exact values; needs pyarrow: pip install 'dedup[parquet]').", show_default="when pyarrow is installed")] = None,
    csv_raw: Annotated[bool, typer.Option("--csv-raw", help="Write CSV cells as they are: no ' before a cell a spreadsheet would run as a formula (=, +, -, @).")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes for the per-document and per-pair stages and the CSV writing; the tables are the same for any number.", show_default=f"the processors this process may use, {cores()} here")] = None,
    engine: Annotated[str, typer.Option(help="local (this machine) or spark (Apache Spark; pip install 'dedup[spark]').")] = "local",
    master: Annotated[str | None, typer.Option(help="Spark master for --engine spark, e.g. local[4] or spark://host:7077.", show_default="the session's")] = None,
    tables_only: Annotated[bool, typer.Option("--tables-only", help="Write the tables and manifest only: no summary.md, no HTML pages (dedup report OUT writes them later).")] = False,
    pair_pages: Annotated[int, typer.Option(min=0, help="Related pairs the report shows, each with its page (those whose figures changed first, then the most confident), and the most rows of any other list; every pair is in the tables.")] = report.PAIR_PAGES,
    low_memory: Annotated[bool, typer.Option("--low-memory", help="Kept for one release; changes nothing: every local scan now keeps texts and the big tables on disk.")] = False,
    write_folded: Annotated[Path | None, typer.Option(help="Also write the corpus without the copies duplicate clusters fold (documents.jsonl) and what was folded into what (folded.csv) into this folder.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Scan a corpus; write documents, pairs, clusters, groups, manifest, summary.md and the HTML report."""
    words = tuple(stopwords.read_text(encoding="utf-8").split()) if stopwords else None
    params = _params(keep=keep, preferred_sources=tuple(prefer) if prefer else None, units=units,
                     stopwords=words, doc_threshold=doc_threshold, sentence_threshold=sentence_threshold,
                     max_bucket=max_bucket, credits=tuple(credit) if credit else None,
                     skip_same_source=skip_same_source, within_days=within_days)
    fields = Fields(id=id_field, text=text_field, date=date_field, source=source_field,
                    title=title_field, author=author_field, url=url_field, html=html_field)
    out = out or _default_out(paths[0])
    jobs = jobs or cores()
    if engine not in ("local", "spark"):
        _fail(f"--engine must be local or spark, got {engine!r}")
    if low_memory and engine != "local":
        _fail("--low-memory is for the local engine; Spark keeps what does not fit in memory on disk itself")
    if write_folded is not None and (tables_only and engine == "spark" or parquet is False):
        _fail("--write-folded needs the texts a scan keeps with its Parquet tables: leave out --no-parquet "
              "(and, on Spark, --tables-only)")
    if engine == "spark" and params.filters_pairs:
        _fail("--skip-same-source and --within-days are not on the Spark engine yet")
    try:
        if engine == "spark" and tables_only:  # Spark writes its Parquet folders itself, to any URI
            _spark_tables(paths, params, fields, metadata, strict, dayfirst, out, master)
            if not quiet:
                typer.echo(f"Tables written by Spark to {out} (one Parquet folder per table).")
            return
        result = scan_corpus(paths, params, out=out, fields=fields, metadata=metadata, strict=strict,
                             progress=None if not quiet else False, jobs=jobs, parquet=parquet,
                             csv_raw=csv_raw, dayfirst=dayfirst, tables_only=tables_only, pair_pages=pair_pages,
                             spark=Spark(master) if engine == "spark" else None)
        written = result.files
        if write_folded is not None:
            written += write_folded_corpus(result.documents, result.clusters, write_folded)
    except (InputError, report.OutputError) as err:
        _fail(str(err))
    if not quiet:
        _print_counts(result.manifest)
        _print_resumed(result.timings)
        _print_written(out, written, tables_only)


def _print_resumed(timings: dict) -> None:
    if resumed := {stage: n for stage, n in timings.get("resumed", {}).items() if n}:
        typer.echo("Resumed a run that was stopped: reused its finished blocks ("
                   + ", ".join(f"{n} {stage}" for stage, n in resumed.items()) + ").")


def _print_written(out: Path, written: list[Path], tables_only: bool) -> None:
    summary = f"Tables in {out}" if tables_only else f"Report: {out / 'index.html'} and {out / 'summary.md'}"
    typer.echo(f"{summary}  ({len(written)} files in {out})")


def _print_counts(manifest: dict) -> None:
    counts = manifest["counts"]
    relations = ", ".join(f"{n} {r}" for r, n in counts["relations"].items() if n and r != "rejected")
    skipped = f", {counts['skipped']} skipped as no documents" if counts.get("skipped") else ""
    typer.echo(f"{counts['ok']} documents scanned ({counts['rejected']} rejected{skipped}), "
               f"{counts['candidates']} candidate pairs, {relations or 'no relations'}.")
    if note := skipped_note(counts):
        typer.echo(note)
    if note := capped_note(manifest):
        typer.echo(note)
    if not counts["ok"]:
        typer.echo(f"No document was accepted: all {counts['records']} records were rejected or skipped "
                   "(documents.csv gives each one's reason).")


def _spark_tables(paths: list[Path], params: Params, fields: Fields, metadata: Path | None, strict: bool,
                  dayfirst: bool | None, out: Path, master: str | None) -> None:
    """--engine spark --tables-only: Spark writes each table as a Parquet folder from its executors."""
    spark_engine().scan([str(p) for p in paths], params, fields=fields, metadata=metadata, strict=strict,
                        out=str(out), master=master, collect=False, dayfirst=dayfirst)


def _read_one(path: Path) -> str:
    documents = read_documents([path])
    if len(documents) != 1:
        _fail(f"{path}: expected one document, found {len(documents)} records")
    row = documents.iloc[0]
    if row.status != "ok":
        _fail(f"{row.origin}: {row.reason}")
    return row.text


def _names(file_a: Path, file_b: Path) -> tuple[str, str]:
    """The two files' names in the comparison: their stems, or their paths as given when the stems are the same."""
    return (file_a.stem, file_b.stem) if file_a.stem != file_b.stem else (str(file_a), str(file_b))


@app.command("report")
def report_command(
    out: Annotated[Path, typer.Argument(help="The output folder of a finished scan.")],
    pair: Annotated[tuple[str, str] | None, typer.Option(help="Render only the page of this candidate pair (two document ids), whether or not the report shows it.", show_default=False)] = None,
    html: Annotated[Path | None, typer.Option(help="With --pair: write the page to this file instead of printing it.")] = None,
    pair_pages: Annotated[int, typer.Option(min=0, help="As for dedup scan: related pairs shown, each with its page.")] = report.PAIR_PAGES,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes rendering the pair pages.", show_default=f"the processors this process may use, {cores()} here")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
) -> None:
    """Write a scan's summary.md and HTML report anew from its stored tables (after --tables-only, or to show more pairs), or render one pair's page."""
    if html is not None and pair is None:
        _fail("--html goes with --pair; the whole report is written into OUT")
    try:
        if pair is not None:
            page = report.pair_report(out, *pair)
            if html is None:
                typer.echo(page, nl=False)
            else:
                html.write_text(page, encoding="utf-8")
            return
        written = report.rerender(out, pair_pages, jobs or cores())
    except (StoreError, report.OutputError) as err:
        _fail(str(err))
    if not quiet:
        _print_written(out, written, tables_only=False)


@app.command()
def compare(
    file_a: Annotated[Path, typer.Argument(help="First text file.")],
    file_b: Annotated[Path, typer.Argument(help="Second text file.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print relation, scores and reason as one JSON object.")] = False,
    html: Annotated[Path | None, typer.Option(help="Also write the pair's side-by-side page to this HTML file.")] = None,
) -> None:
    """Verify, explain and align one pair of texts."""
    try:
        text_a, text_b = _read_one(file_a), _read_one(file_b)
        result = compare_texts(text_a, text_b, names=_names(file_a, file_b))
    except (InputError, ValueError) as err:
        _fail(str(err))
    if html is not None:
        documents = result.documents
        html.write_text(pair_page(result.pair, documents.iloc[0], documents.iloc[1], result.passages, result.facts),
                        encoding="utf-8")
    if as_json:
        typer.echo(json.dumps({"a": str(file_a), "b": str(file_b), **result.to_dict()}))
        return
    typer.echo(f"{result.relation}: {result.reason}")
    for name, value in result.scores.items():
        typer.echo(f"  {name:22} {value:g}")
    _print_alignment(result.pair, result.passages, result.facts)


KIND_STYLES = {"same": "dim", "reworded": "yellow", "moved": "magenta", "dropped": "red", "added": "green"}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # document text must not drive the terminal


def _safe(text: str) -> str:
    return _CONTROL.sub("", text)


def _diff_texts(a: str, b: str) -> tuple[Text, Text]:
    """Both sides of a reworded passage with the changed words marked."""
    left, right = Text(), Text()
    for op, a_part, b_part in word_diff(_safe(a), _safe(b)):
        if a_part:
            left.append(a_part + " ", style=None if op == "equal" else "red strike")
        if b_part:
            right.append(b_part + " ", style=None if op == "equal" else "bold green")
    return left, right


def _print_alignment(pair: pd.Series, passages: pd.DataFrame, facts: pd.DataFrame) -> None:
    """A pair's passages side by side, then the facts that drifted."""
    a, b = passages.doc_a.iat[0], passages.doc_b.iat[0]
    table = Table(title=f"{a} → {b}  ({pair.direction}: {_safe(pair.direction_reason)})",
                  show_lines=True, expand=True)
    table.add_column("", no_wrap=True)
    table.add_column(_safe(a), ratio=1)
    table.add_column(_safe(b), ratio=1)
    for p in passages.itertuples():
        label = p.kind + ("\n(furniture)" if "boilerplate" in p.flags else "")
        if p.kind == "reworded":
            left, right = _diff_texts(p.a_text, p.b_text)
        else:
            left, right = Text(_safe(p.a_text)), Text(_safe(p.b_text))
        table.add_row(Text(label, style=KIND_STYLES[p.kind]), left, right)
    console = Console()
    console.print(table)
    for f in facts.itertuples():
        console.print(Text(f"{f.fact} (passage {f.passage_no}): ", style="bold")
                      + Text(f"{_safe(f.a_value)!r} → {_safe(f.b_value)!r}"))


index_app = typer.Typer(help="Keep an archive: add each day's articles to a lasting index, ask where one text came "
                             "from, and export the tables or the folded corpus.", no_args_is_help=True,
                        rich_markup_mode=None)
app.add_typer(index_app, name="index")
Archive = Annotated[Path, typer.Argument(help="The index file (made by the first add).")]


@index_app.command("add")
def index_add(
    archive: Archive,
    paths: Annotated[list[Path], typer.Argument(help="As for dedup scan: folders, record files or web archives.")],
    metadata: Metadata = None,
    id_field: IdField = "id",
    text_field: TextField = "text",
    date_field: DateField = "date",
    source_field: SourceField = "source",
    title_field: TitleField = "title",
    url_field: UrlField = "url",
    author_field: AuthorField = "author",
    html_field: HtmlField = "",
    strict: Strict = False,
    dayfirst: DayFirst = None,
    keep: Annotated[str | None, typer.Option(help="For a new index: which copy a duplicate cluster keeps (earliest, longest or sources); an index keeps the policy it was made with.", show_default="earliest")] = None,
    prefer: Annotated[list[str] | None, typer.Option(help="For a new index: a preferred source for --keep sources (repeat, best first).")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes preparing the records and verifying pairs; the index is the same for any number.", show_default=f"the processors this process may use, {cores()} here")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print what the add did as one JSON object.")] = False,
) -> None:
    """Add records to the index in one transaction: the new ones are fingerprinted and compared with everything held; clusters keep their ids."""
    fields = Fields(id=id_field, text=text_field, date=date_field, source=source_field,
                    title=title_field, author=author_field, url=url_field, html=html_field)
    params = _params(keep=keep, preferred_sources=tuple(prefer) if prefer else None) if keep or prefer else None
    try:
        with Index(archive, params) as index:
            added = index.add(paths, fields=fields, metadata=metadata, strict=strict, dayfirst=dayfirst,
                              jobs=jobs or cores())
            held = len(index)
    except InputError as err:
        _fail(str(err))
    outcomes = added.records.outcome.value_counts().to_dict()
    relations = added.pairs.relation.value_counts().to_dict()
    if as_json:
        typer.echo(json.dumps({"batch": added.batch, "records": outcomes, "relations": relations,
                               "events": added.events.to_dict("records"), "held": held, "seconds": added.seconds}))
        return
    rejected = int((added.records.outcome.eq("added") & added.records.status.ne("ok")).sum())
    typer.echo(f"Add {added.batch}: {outcomes.get('added', 0)} records added ({rejected} rejected), "
               f"{outcomes.get('held', 0)} already held, {outcomes.get('conflict', 0)} held with another text; "
               f"{held} records in {archive}.")
    joined = added.clusters[~added.clusters.keep_reason.eq("single copy")]
    typer.echo(", ".join(f"{n} {r}" for r, n in relations.items()) + " found;" if relations else "No relations found;",
               nl=False)
    typer.echo(f" {len(joined)} new documents are in duplicate clusters.")
    for event in added.events.itertuples():
        typer.echo(f"  {event.kind}: {event.group_id} ← {event.other_id}: {_safe(event.reason)}")
    for conflict in added.records[added.records.outcome == "conflict"].itertuples():
        typer.echo(f"  {_safe(conflict.origin)}: {conflict.reason}")


@index_app.command("query")
def index_query(
    archive: Archive,
    file: Annotated[Path, typer.Argument(help="A text file (or a one-record file) to look up.")],
    date: Annotated[str, typer.Option(help="The text's date, YYYY-MM-DD, to tell which of a pair came first.")] = "",
    name: Annotated[str | None, typer.Option(help="The text's id in the answer; one the index does not hold.", show_default="FILE's name")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the related documents and the alignment as JSON.")] = False,
    html: Annotated[Path | None, typer.Option(help="Also write the text's page against the closest source to this HTML file.")] = None,
) -> None:
    """Where did this text come from: the held documents related to it, and its alignment against the closest."""
    if not archive.is_file():
        _fail(f"{archive}: no such index")
    try:
        with Index(archive) as index:
            found = index.query(_read_one(file), doc_id=name or file.stem, date=date)
    except InputError as err:
        _fail(str(err))
    if html is not None and found.pair is not None:
        html.write_text(pair_page(found.pair, *_sides(found), found.passages, found.facts), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(found.to_dict()))
        return
    _print_query(found)


def _sides(found: Query) -> tuple[pd.Series, pd.Series]:
    assert found.pair is not None
    by_id = found.documents.set_index("doc_id", drop=False)
    return by_id.loc[found.pair.doc_a], by_id.loc[found.pair.doc_b]


def _print_query(found: Query) -> None:
    if found.related.empty:
        typer.echo(f"Nothing held is related to this text ({found.seconds * 1000:.0f} ms).")
        return
    table = Table(title=f"Related documents held ({found.seconds * 1000:.0f} ms)")
    columns = ("doc_id", "relation", "confidence", "direction", "source", "date", "cluster_id")
    for column in columns:
        table.add_column(column)
    for row in found.related.itertuples():
        table.add_row(*(_safe(str(getattr(row, column))) for column in columns))
    Console().print(table)
    closest = found.related.iloc[0]
    typer.echo(f"Closest: {_safe(closest.doc_id)}, {closest.relation}: {_safe(closest.reason)}")
    if found.pair is not None and len(found.passages):
        _print_alignment(found.pair, found.passages, found.facts)


@index_app.command("export")
def index_export(
    archive: Archive,
    out: Annotated[Path, typer.Option(help="Output folder; an export replaces the files an earlier one wrote there.")],
    folded: Annotated[bool, typer.Option("--folded", help="Also write the corpus without the folded copies, and what was folded into what, into OUT/folded.")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes.", show_default=f"{cores()} here")] = None,
    tables_only: Annotated[bool, typer.Option("--tables-only", help="The tables and manifest only.")] = False,
) -> None:
    """Write what a scan of everything held writes, its groups under the index's stable ids."""
    if not archive.is_file():
        _fail(f"{archive}: no such index")
    try:
        with Index(archive) as index:
            written = index.export(out, folded=folded, jobs=jobs or cores(), tables_only=tables_only)
    except (InputError, report.OutputError) as err:
        _fail(str(err))
    _print_written(out, written, tables_only)


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    raise SystemExit(128 + signum)


def main() -> None:
    # SIGTERM (a scheduler stopping the job) becomes an exit like any other, so the run's workers
    # are killed and its staging folder removed on the way out, as after an error.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    app(prog_name="dedup")


if __name__ == "__main__":
    main()
