"""Read the inputs into the ``documents`` table: one row per input record, accepted or not.

Inputs are folders of ``.txt``/``.md`` and ``.html``/``.htm`` files (one document per file),
single such files, and record files: ``.jsonl``/``.ndjson``, ``.csv``, ``.tsv``, ``.parquet``,
and web archives, ``.warc``/``.warc.gz``/``.arc``/``.arc.gz`` (one record per WARC record).
A page (an HTML file, a WARC response, a record's ``Fields.html`` column) gives its main text
and its metadata as `dedup.web` extracts them, with the ``web`` extra installed.
A metadata CSV can add ids, sources, titles, authors, dates and urls to the document files.
Folders are read recursively; names starting with "." (files and folders: ``.git``,
``.DS_Store``) are skipped; any other file in a folder becomes a rejected row naming its type
(its id keeps its extension), so the table accounts for it.
Inputs that hold no record at all (an empty folder, an empty JSONL file, a CSV with a header
alone, a Parquet file without rows) are an InputError naming each path and why.

Columns of the documents table, all strings, in this order:

``doc_id``
    The id field, else the file's path relative to the common folder of all the inputs
    (`id_root`), POSIX, without its extension: ``business/001`` for ``bbc/business/001.txt``
    when ``bbc/`` is scanned, ``001`` when a lone ``001.txt`` is; in record files
    ``<that path>:<N>``. Ids from folders are so unique by construction.
``text``
    The text as decoded, a leading BOM and control characters removed (below); "" when
    nothing could be read. Character offsets in other tables (passages) count in this text.
``source``, ``date``, ``title``, ``author``, ``url``
    "" when absent, but for a ``.txt``/``.md`` file that no metadata titles, ``title`` is its
    text's first non-empty line (stripped, a Markdown heading's ``#`` marks removed), cut to
    200 characters with "…"; records in record files get no title but their own.
    ``date`` is normalised to ``YYYY-MM-DD``: ISO 8601 first, else pandas' parser. A numeric
    date whose first two numbers could each be the day or the month (``02/03/2005``, both at
    most 12 and different) is read month first unless ``dayfirst`` says otherwise; read month
    first by default, it gets a warning.
``origin``
    The path as given/joined (POSIX), plus ``:N`` (line, or Parquet row, 1-based) in record files.
``encoding``
    The Python codec that decoded the file: ``utf-8``, else the one its byte order mark
    names (``utf-16-le``, ``utf-32-be``...), else the one chardet detects (``cp1252``,
    ``gb18030``, ``cp932``, ``utf-16-le`` without a BOM...); "" for a file that is not text.
``status``
    ``ok``, ``rejected`` (a record that should have been a document and cannot be one: empty,
    undecodable, a duplicate id, a truncated WARC record), or ``skipped`` (a record that is no
    document: a WARC request or ``revisit`` record, an image, a redirect, a page without main
    text; ``--strict`` does not stop at one).
``reason``
    Why the record was rejected or skipped ("" when ok).
``warning``
    Non-fatal notes joined by "; " ("" when none).

Decoding: a byte order mark decides the encoding; else the bytes are UTF-8 if they decode as
UTF-8 (strictly); else chardet's detection among the encodings of the modern web and Windows
(UTF-16/32, the Windows code pages, KOI8, the CJK encodings; a detected subset such as
ISO-8859-1 is read as its superset, Windows-1252) decides, and a file it finds no encoding for
is rejected as "not text". A NUL byte in the first 8 KB marks a binary file unless the file is
UTF-16 or UTF-32. Texts not in UTF-8 are flagged ``decoded as <encoding>`` in ``warning``.

Control characters: every string field (ids, text, title, source, date, url, origin) loses its
terminal escape sequences (ECMA-48 CSI, OSC and other ESC sequences, each removed whole) and
every other C0 or C1 control character but tab, line feed and carriage return (NUL included),
so none reaches a table, a page or a terminal; ``warning`` says how many characters went.

Rows come in a deterministic order: paths in the order given, folder files sorted by their
relative POSIX path, records in file order. Nothing is dropped: unusable records are kept as
``rejected`` rows, so the table accounts for every record in the inputs.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import os
import re
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from itertools import islice
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

import chardet
import pandas as pd
from chardet.enums import EncodingEra

COLUMNS = ("doc_id", "text", "source", "date", "title", "author", "url",
           "origin", "encoding", "status", "reason", "warning")

DOCUMENT_SUFFIXES = (".txt", ".md")
HTML_SUFFIXES = (".html", ".htm")
WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
DELIMITERS = {".csv": ",", ".tsv": "\t"}
PARQUET_SUFFIX = ".parquet"
Paths = str | Path | Sequence[str | Path]  # one input path, or several
TITLE_CHARS = 200  # a title taken from a document's first line is cut to this, "…" included
PARQUET_BATCH_ROWS = 10_000  # rows decoded at a time: a big file is read as it is needed
BINARY_SNIFF_BYTES = 8192
# Longest first: UTF-32 LE's mark begins with UTF-16 LE's.
BYTE_ORDER_MARKS = ((codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
                    (codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
NOT_TEXT = "not text: no character encoding decodes it (binary?)"
# Terminal escape sequences removed whole (ECMA-48): CSI with its parameters and final byte; OSC,
# DCS, SOS, PM and APC strings to their terminator (BEL or ST; else the line's end, so a stray one
# costs at most a line); other ESC sequences; then any C0/C1 control but tab, LF and CR. 8-bit C1
# introducers are removed as single characters: mojibake holds them, and a terminal in UTF-8 mode
# does not start a sequence with one.
CONTROLS = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]"
                      r"|\x1b[\]PX^_][^\x07\x1b\n]*(?:\x07|\x1b\\)?"
                      r"|\x1b[ -/]*[0-~]"
                      r"|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# A numeric date with the day and month in either order before the year: 02/03/2005, 2.3.05.
DAY_AND_MONTH = re.compile(r"\b(\d{1,2})([/.-])(\d{1,2})\2\d{2,4}\b")
LINE = re.compile(r"[^\r\n]+")
HEADING_MARKS = re.compile(r"^#+\s*|\s+#+$")  # a Markdown ATX heading's opening and closing marks
# Long article texts exceed the csv module's default 128 KiB field limit; 2**31 - 1 fits a C long everywhere.
CSV_FIELD_SIZE_LIMIT = 2**31 - 1


@dataclass(frozen=True)
class Fields:
    """Which input columns/keys hold each document field (JSONL keys, CSV/TSV/Parquet columns, metadata CSV columns)."""

    id: str = "id"
    text: str = "text"
    date: str = "date"
    source: str = "source"
    title: str = "title"
    author: str = "author"
    url: str = "url"
    html: str = ""  # a column of HTML pages to take the text and metadata from ("": none)


class InputError(ValueError):
    """Bad arguments or paths, or (with strict=True) the first rejected record; the message is one line."""


class _NotText(ValueError):
    """Bytes that no encoding tried decodes; the message is the reason."""


@dataclass
class _Record:
    """One input record before validation: its fields as found in the input, keyed by input name."""

    origin: str
    fallback_id: str
    values: dict[str, object]
    encoding: str
    problem: str = ""
    # Path relative to its folder (or the file name) for .txt/.md/.html documents, which metadata may name.
    file: str | None = None
    skipped: str = ""  # why the record is no document (a WARC request, an image): counted, not scanned
    warning: str = ""


def documents_table(records: Iterable[Mapping[str, str]]) -> pd.DataFrame:
    """A documents table from records built in code (each needs doc_id and text), all ``ok``."""
    return pd.DataFrame([{**dict.fromkeys(COLUMNS, ""), "status": "ok", **record} for record in records],
                        columns=list(COLUMNS), dtype=str)


def read_documents(
    paths: Paths,
    fields: Fields = Fields(),
    metadata: str | Path | None = None,
    strict: bool = False,
    min_chars: int = 1,
    dayfirst: bool | None = None,
) -> pd.DataFrame:
    """Read every record of ``paths`` into the documents table described in the module docstring.

    dayfirst: how numeric dates that could be read either way (02/03/2005) are read: True day
    first, False month first, None month first with a warning in the record's ``warning``."""
    return pd.concat(iter_documents(paths, fields, metadata, strict, min_chars, dayfirst=dayfirst),
                     ignore_index=True)


def iter_documents(
    paths: Paths,
    fields: Fields = Fields(),
    metadata: str | Path | None = None,
    strict: bool = False,
    min_chars: int = 1,
    batch_size: int = 10_000,
    dayfirst: bool | None = None,
) -> Iterator[pd.DataFrame]:
    """`read_documents` in consecutive batches of at most batch_size rows, read as they are
    needed, so a corpus need not fit in memory. With a metadata CSV, which may name any
    document file, the records are collected first."""
    if min_chars < 0:
        raise InputError(f"min_chars must be 0 or more, got {min_chars}")
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}")
    paths = _input_paths(paths)
    root = id_root(paths)
    records: Iterable[_Record] = (record for path in paths for record in _read_path(path, fields, root))
    if metadata is not None:
        records = list(records)
        if records:  # else the inputs' emptiness is the error to report
            _apply_metadata(records, Path(metadata), fields)
    read_any = False
    for batch in _batches(records, fields, strict, min_chars, batch_size, dayfirst):
        read_any = True
        yield batch
    if not read_any:
        raise no_records(paths)


def frame_documents(frame: pd.DataFrame, fields: Fields = Fields(), strict: bool = False, batch_size: int = 10_000,
                    dayfirst: bool | None = None) -> Iterator[pd.DataFrame]:
    """A DataFrame as documents tables of at most batch_size rows: a documents table (every
    column of `COLUMNS`, as `documents_table` makes) as it is; else records whose columns
    fields names, read as a Parquet file's rows are (record n's origin is ``row n``)."""
    if batch_size < 1:
        raise InputError(f"batch_size must be at least 1, got {batch_size}")
    if not len(frame):
        raise InputError("the DataFrame has no rows to scan")
    if set(COLUMNS) <= set(frame.columns):
        documents = frame[list(COLUMNS)].reset_index(drop=True)
        for start in range(0, len(documents), batch_size):
            yield documents.iloc[start:start + batch_size]
        return
    records = (_Record(f"row {number}", str(number), values, "utf-8")
               for number, values in enumerate(frame.to_dict("records"), 1))
    yield from _batches(records, fields, strict, 1, batch_size, dayfirst)


def _batches(records: Iterable[_Record], fields: Fields, strict: bool, min_chars: int, batch_size: int,
             dayfirst: bool | None) -> Iterator[pd.DataFrame]:
    """The records as validated documents tables of at most batch_size rows."""
    first_origin: dict[str, str] = {}  # doc_id -> origin, for accepted records only
    records = iter(records)
    while batch := list(islice(records, batch_size)):
        rows = [_to_row(record, fields, dayfirst) for record in batch]
        _validate(rows, min_chars, strict, first_origin)
        yield pd.DataFrame(rows, columns=list(COLUMNS), dtype=str)


def no_records(paths: Sequence[str | Path]) -> InputError:
    """The error for inputs that hold no record at all, naming each path and why (a string,
    such as a URI, as given)."""
    named = (path.as_posix() if isinstance(path, Path) else path for path in paths)
    return InputError("no records in " + "; ".join(f"{name}: {_why_empty(Path(path))}"
                                                   for name, path in zip(named, paths)))


def _why_empty(path: Path) -> str:
    """Why a path that gave no record gave none."""
    if path.is_dir():
        return "the folder holds no files (names starting with '.' are skipped)"
    if not path.is_file():  # a URI, read by Spark
        return "it holds no records"
    if path.stat().st_size == 0:
        return "the file is empty"
    suffix = path.suffix.lower()
    if suffix in DELIMITERS:
        return "the file has no rows below its header"
    return "the file has no rows" if suffix == PARQUET_SUFFIX else "the file holds only blank lines"


def _input_paths(paths: Paths) -> list[Path]:
    if isinstance(paths, (str, Path)):  # a lone path, not a sequence of one-character paths
        paths = [paths]
    if not paths:
        raise InputError("no input paths given")
    return [Path(path) for path in paths]


def input_files(paths: Paths) -> list[Path]:
    """Every file a scan of paths reads: the files given, and the files under the folders given
    (as `read_documents` finds them). Paths that do not exist are left for reading to report."""
    files = []
    for path in _input_paths(paths):
        if path.is_dir():
            files += [path / name for name in _folder_files(path)]
        elif path.exists():
            files.append(path)
    return files


def id_root(paths: Iterable[str | Path]) -> Path:
    """The folder fallback ids are relative to: the deepest folder holding every input (a folder
    input counts as its own folder, a file as its parent's). Paths are made absolute without
    resolving links, so ids keep the names as given."""
    folders = [path if path.is_dir() else path.parent for path in map(_absolute, paths)]
    return Path(os.path.commonpath(folders))


def file_id(path: Path, root: Path) -> str:
    """A file's fallback id: its path relative to root (see `id_root`), POSIX, without its extension."""
    return _relative(path, root).with_suffix("").as_posix()


def _relative(path: Path, root: Path) -> PurePosixPath:
    return PurePosixPath(_absolute(path).relative_to(root).as_posix())


def _absolute(path: str | Path) -> Path:
    return Path(os.path.abspath(path))


def _read_path(path: Path, fields: Fields, root: Path) -> Iterator[_Record]:
    """The records of one input path; fallback ids relative to root (`id_root`)."""
    suffix = path.suffix.lower()
    if path.is_dir():
        for relative in _folder_files(path):
            if relative.lower().endswith(DOCUMENT_SUFFIXES):
                yield _read_document(path / relative, relative, fields, root)
            elif relative.lower().endswith(HTML_SUFFIXES):
                yield _read_html_file(path / relative, relative, fields, root)
            else:
                yield _unsupported_file(path / relative, root)
    elif not path.exists():
        raise InputError(f"no such file or folder: {path.as_posix()}")
    elif suffix in DOCUMENT_SUFFIXES:
        yield _read_document(path, path.name, fields, root)
    elif suffix in HTML_SUFFIXES:
        yield _read_html_file(path, path.name, fields, root)
    elif path.name.lower().endswith(WARC_SUFFIXES):
        yield from _read_warc(path, fields, root)
    elif suffix in JSONL_SUFFIXES:
        yield from _read_jsonl(path, file_id(path, root))
    elif suffix in DELIMITERS:
        yield from _read_delimited(path, DELIMITERS[suffix], file_id(path, root))
    elif suffix == PARQUET_SUFFIX:
        yield from _read_parquet(path, file_id(path, root))
    else:
        raise InputError(f"unsupported input '{path.as_posix()}': expected a folder, .txt, .md, .html, .htm, "
                         ".jsonl, .ndjson, .csv, .tsv, .parquet, .warc, .warc.gz, .arc or .arc.gz")


def _folder_files(folder: Path) -> list[str]:
    """Relative POSIX paths of the files under ``folder``, hidden files and folders skipped, sorted."""
    found = []
    for root, folders, files in os.walk(folder):
        folders[:] = [name for name in folders if not name.startswith(".")]  # prune: never descend into .git etc.
        found += [(Path(root) / name).relative_to(folder).as_posix() for name in files if not name.startswith(".")]
    return sorted(found)


def _unsupported_file(path: Path, root: Path) -> _Record:
    """A rejected record for a file in a folder that is not .txt/.md; its id keeps the extension,
    so it cannot take a document's id (notes.json beside notes.txt)."""
    kind = f"file type '{path.suffix.lower()}'" if path.suffix else "file without an extension"
    return _Record(path.as_posix(), _relative(path, root).as_posix(), {}, "",
                   f"unsupported {kind} in a folder (folders are read for .txt, .md, .html and .htm files; "
                   "pass record files by path)")


def _read_document(path: Path, relative: str, fields: Fields, root: Path) -> _Record:
    fallback_id = file_id(path, root)
    try:
        text, encoding = _decode(_read_bytes(path))
    except _NotText as error:
        return _Record(path.as_posix(), fallback_id, {}, "", str(error), relative)
    return _Record(path.as_posix(), fallback_id, {fields.text: text}, encoding, file=relative)


def _read_html_file(path: Path, relative: str, fields: Fields, root: Path) -> _Record:
    """An .html/.htm file as a document: its main text and the page's metadata (`dedup.web`)."""
    web = _web()
    found = web.page(_read_bytes(path), _detected_encoding)
    if found is None:
        return _Record(path.as_posix(), file_id(path, root), {}, "", file=relative, skipped=web.NO_MAIN_TEXT)
    return _Record(path.as_posix(), file_id(path, root), _page_values(found, fields), found.encoding, file=relative)


def _read_warc(path: Path, fields: Fields, root: Path) -> Iterator[_Record]:
    """Each record of a WARC/ARC file, in file order, numbered from 1 (`dedup.web.warc_entries`);
    the fallback id base is the file's without ``.warc``/``.arc`` and ``.gz``."""
    web = _web()
    base_id = file_id(path, root)
    base_id = base_id.removesuffix(".warc").removesuffix(".arc")
    try:
        for entry in web.warc_entries(path, _detected_encoding):
            values, encoding = ({}, "") if entry.page is None else (_page_values(entry.page, fields),
                                                                   entry.page.encoding)
            yield _Record(f"{path.as_posix()}:{entry.number}", f"{base_id}:{entry.number}", values, encoding,
                          entry.problem, skipped=entry.skipped, warning=entry.warning)
    except OSError as error:
        raise InputError(f"cannot read {path.as_posix()}: {error.strerror or error}") from error


def _web() -> ModuleType:
    """dedup.web, once its libraries are known to import (an InputError of one line if not)."""
    from dedup import web

    try:
        web.require()
    except web.MissingExtra as error:
        raise InputError(f"reading web pages {error}") from error
    return web


def _page_values(page: Any, fields: Fields) -> dict[str, object]:
    """A `dedup.web.Page` as a record's values, keyed by the input names of fields."""
    return {fields.text: page.text, fields.title: page.title, fields.author: page.author, fields.date: page.date,
            fields.url: page.url, fields.source: page.source}


def _read_jsonl(path: Path, base_id: str) -> Iterator[_Record]:
    text, encoding = _read_text(path)
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            yield _record_in_file(path, base_id, number, encoding, *_parse_json_object(line))


def _parse_json_object(line: str) -> tuple[dict[str, object], str]:
    """The line's object and "", or {} and the reason it is not a JSON object."""
    try:
        value = json.loads(line)
    except json.JSONDecodeError as error:
        return {}, f"invalid JSON: {error.msg} at column {error.colno}"
    if not isinstance(value, dict):
        return {}, "not a JSON object"
    return value, ""


def _read_delimited(path: Path, delimiter: str, base_id: str) -> Iterator[_Record]:
    csv.field_size_limit(CSV_FIELD_SIZE_LIMIT)
    text, encoding = _read_text(path)
    kind = path.suffix[1:].upper()
    # newline="" leaves line ends to the csv module, so quoted texts keep theirs exactly.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    next_line = 1
    for row in reader:
        # line_num is the last line read; a row starts on the line after the previous one ended.
        line, next_line = next_line, reader.line_num + 1
        if not row:  # blank line
            continue
        if header is None:
            header = [name.strip() for name in row]
            continue
        problem = "" if len(row) == len(header) else \
            f"{kind} row has {len(row)} fields, header has {len(header)}"
        yield _record_in_file(path, base_id, line, encoding, dict(zip(header, row)), problem)


def _read_parquet(path: Path, base_id: str) -> Iterator[_Record]:
    try:
        import pyarrow.parquet as pq
    except ImportError as error:
        raise InputError(f"reading {path.as_posix()} needs pyarrow: pip install pyarrow") from error
    number = 0
    try:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH_ROWS):
            for values in batch.to_pandas().to_dict("records"):
                number += 1
                yield _record_in_file(path, base_id, number, "utf-8", values)
    except (OSError, ValueError) as error:  # pyarrow's errors for corrupt files derive from these
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise InputError(f"cannot read {path.as_posix()}: {first_line}") from error


def _record_in_file(path: Path, base_id: str, number: int, encoding: str,
                    values: dict[str, object], problem: str = "") -> _Record:
    """Record number of a record file; base_id: the file's fallback id (`file_id`)."""
    return _Record(f"{path.as_posix()}:{number}", f"{base_id}:{number}", values, encoding, problem)


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as error:
        raise InputError(f"cannot read {path.as_posix()}: {error.strerror or error}") from error


def _read_text(path: Path) -> tuple[str, str]:
    """A record or metadata file's text and encoding; one that is not text cannot be split into records."""
    try:
        return _decode(_read_bytes(path))
    except _NotText as error:
        raise InputError(f"cannot read {path.as_posix()}: {error}") from error


def _decode(data: bytes) -> tuple[str, str]:
    """Text (without its BOM) and the encoding that decoded it, as the module docstring says;
    raises _NotText with the reason."""
    for mark, marked in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            return _decoded(data[len(mark):], marked), marked
    nul = b"\0" in data[:BINARY_SNIFF_BYTES]
    if not nul:  # UTF-16 text of ASCII letters is valid UTF-8 too, NULs and all
        try:
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    encoding = _chardet(data)
    if nul and not (encoding or "").startswith(("utf-16", "utf-32")):
        raise _NotText("binary file (NUL byte)")
    if encoding is None:
        raise _NotText(NOT_TEXT)
    return _decoded(data, encoding), encoding


def _chardet(data: bytes) -> str | None:
    """The encoding chardet detects among those of the modern web and Windows, a subset read as its superset."""
    found: str | None = chardet.detect(data, encoding_era=EncodingEra.MODERN_WEB, prefer_superset=True,
                                       compat_names=False)["encoding"]
    return found


def _detected_encoding(data: bytes) -> str | None:
    """An undeclared page's encoding, as `_decode` finds a file's: UTF-8 when it decodes, else chardet's."""
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        return _chardet(data)


def _decoded(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:  # chardet judges the first 200 KB; the rest may disagree
        raise _NotText(f"not text: byte {error.start} is not {encoding}") from error


def _apply_metadata(records: list[_Record], path: Path, fields: Fields) -> None:
    """Let metadata rows override the fields of the document files they name."""
    find = _document_finder(records)
    named_at: dict[int, str] = {}
    for where, file, overrides in _read_metadata(path, fields):
        record = find(file, where)
        if id(record) in named_at:
            raise InputError(f"{where}: '{file}' was already described at {named_at[id(record)]}")
        named_at[id(record)] = where
        record.values.update(overrides)


def _document_finder(records: list[_Record]) -> Callable[[str, str], _Record]:
    """A function mapping a metadata ``file`` value to the one document file it names."""
    by_path: dict[str, list[_Record]] = {}
    by_name: dict[str, list[_Record]] = {}
    for record in records:
        if record.file is not None:
            for key in {record.origin, record.file}:
                by_path.setdefault(key, []).append(record)
            by_name.setdefault(PurePosixPath(record.file).name, []).append(record)

    def find(file: str, where: str) -> _Record:
        # A path match wins over a bare file name, which must be unique to count.
        matches = by_path.get(file) or by_name.get(file, [])
        if not matches:
            raise InputError(f"{where}: file '{file}' is not among the input .txt/.md files")
        if len(matches) > 1:
            origins = ", ".join(match.origin for match in matches)
            raise InputError(f"{where}: file '{file}' matches several input files ({origins}); give its path")
        return matches[0]

    return find


def _read_metadata(path: Path, fields: Fields) -> Iterator[tuple[str, str, dict[str, str]]]:
    """(where, file, overrides) for each metadata row; empty cells override nothing."""
    if not path.is_file():
        raise InputError(f"no such metadata file: {path.as_posix()}")
    text, _ = _read_text(path)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    reader.fieldnames = [name.strip() for name in reader.fieldnames or []]
    if "file" not in reader.fieldnames:
        raise InputError(f"metadata {path.as_posix()} has no 'file' column")
    overridable = (fields.id, fields.source, fields.title, fields.author, fields.date, fields.url)
    for row in reader:
        where = f"{path.as_posix()}:{reader.line_num}"
        file = _as_str(row.get("file"))
        if not file:
            raise InputError(f"{where}: empty 'file'")
        overrides = {name: value for name in overridable if (value := _as_str(row.get(name)))}
        yield where, PurePosixPath(file.replace("\\", "/")).as_posix(), overrides


def _to_row(record: _Record, fields: Fields, dayfirst: bool | None = None) -> dict[str, str]:
    """The documents-table row for a record from any input format, its control characters
    removed (validation comes later); dayfirst: as in `read_documents`."""
    if fields.html:
        record = _with_page(record, fields)
    values = record.values
    clean = _Cleaner()
    text, text_problem = _text_of(values, fields.text)
    text = clean(text)
    day, date_warning = _normalise_date(clean(_as_str(values.get(fields.date))), dayfirst)
    row = {
        "doc_id": clean(_as_str(values.get(fields.id)) or record.fallback_id),
        "text": text,
        "source": clean(_as_str(values.get(fields.source))),
        "date": day,
        "title": clean(_as_str(values.get(fields.title))) or _title_of(record, text),
        "author": clean(_as_str(values.get(fields.author))),
        "url": clean(_as_str(values.get(fields.url))),
        "origin": clean(record.origin),
        "encoding": record.encoding,
        "status": "skipped" if record.skipped else "",
        "reason": record.skipped or record.problem or text_problem,
    }
    encoding_warning = f"decoded as {record.encoding}" if record.encoding not in ("utf-8", "") else ""
    control_warning = f"removed {clean.removed} control characters" if clean.removed else ""
    notes = (record.warning, encoding_warning, control_warning, date_warning)
    row["warning"] = "; ".join(note for note in notes if note)
    return row


def _with_page(record: _Record, fields: Fields) -> _Record:
    """A record whose fields.html column holds a page: its text and metadata from the page, the
    record's own fields winning; skipped when the page has no main text."""
    markup = record.values.get(fields.html)
    if _is_missing(markup) or record.problem:
        return record
    if not isinstance(markup, str):
        return replace(record, problem=f"'{fields.html}' is not a string")
    web = _web()
    found = web.page_of_text(markup, _as_str(record.values.get(fields.url)))
    if found is None:
        return replace(record, skipped=web.NO_MAIN_TEXT)
    own = {name: value for name, value in record.values.items()
           if name not in (fields.html, fields.text) and _as_str(value)}
    return replace(record, values={**_page_values(found, fields), **own})


def _title_of(record: _Record, text: str) -> str:
    """A document file's title when nothing else gives one: its text's first non-empty line,
    stripped (and a Markdown heading's marks), cut to TITLE_CHARS; "" for a record in a record file."""
    if record.file is None:
        return ""
    markdown = record.file.lower().endswith(".md")
    for line in LINE.finditer(text):  # lazily: the first line is all that is needed
        title = line[0].strip()
        title = HEADING_MARKS.sub("", title) if markdown else title
        if title:
            return title if len(title) <= TITLE_CHARS else title[:TITLE_CHARS - 1] + "…"
    return ""


class _Cleaner:
    """Removes terminal escape sequences and control characters (`CONTROLS`), counting what it removed."""

    def __init__(self) -> None:
        self.removed = 0

    def __call__(self, value: str) -> str:
        # Most texts hold no control at all, and isprintable is some times faster than the regex;
        # it also fails on no-break spaces and the like, which only send a text the slow way.
        if value.replace("\t", " ").replace("\n", " ").replace("\r", " ").isprintable():
            return value
        cleaned = CONTROLS.sub("", value)
        self.removed += len(value) - len(cleaned)
        return cleaned


def _text_of(values: dict[str, object], name: str) -> tuple[str, str]:
    """The text and "", or "" and why there is none; a null text counts as empty."""
    if name not in values:
        return "", f"no '{name}' field"
    text = values[name]
    if _is_missing(text):
        return "", ""
    if not isinstance(text, str):
        return "", f"'{name}' is not a string"
    return text, ""


def _normalise_date(text: str, dayfirst: bool | None) -> tuple[str, str]:
    """``YYYY-MM-DD`` and "", or with a warning: "" when the date cannot be parsed, the date read
    month first when it could be read either way and dayfirst is None."""
    if not text:
        return "", ""
    try:
        return datetime.fromisoformat(text).date().isoformat(), ""
    except ValueError:
        pass
    numeric = DAY_AND_MONTH.search(text)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pandas' day-first guesses are noise here
        # Only a day-and-month date is read day first: pandas would read 2005/02/03 as 2 March too.
        parsed = pd.to_datetime(text, errors="coerce", utc=False, dayfirst=bool(dayfirst and numeric))
    if pd.isna(parsed):
        return "", f"unparseable date '{text}' ignored"
    day = parsed.date().isoformat()
    if dayfirst is None and numeric and _either_way(int(numeric[1]), int(numeric[3])):
        return day, f"ambiguous date '{text}' read as {day}, month first; --dayfirst reads it day first"
    return day, ""


def _either_way(first: int, second: int) -> bool:
    """Whether two numbers of a date could each be its day or its month."""
    return first != second and max(first, second) <= 12


def _as_str(value: object) -> str:
    """A field value as a stripped string, "" when missing."""
    if _is_missing(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # integer ids read as floats (a Parquet column with gaps) print as 12, not 12.0
    return str(value).strip()


def _is_missing(value: object) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _validate(rows: list[dict[str, str]], min_chars: int, strict: bool, first_origin: dict[str, str]) -> None:
    """Reject empty, short and duplicate-id records, and set every row's status;
    first_origin: doc_id -> origin of the records accepted so far, updated."""
    for row in rows:
        if row["status"] == "skipped":  # no document, so no document's rules
            continue
        row["reason"] = (row["reason"] or _length_problem(row["text"], min_chars)
                         or _duplicate_problem(row, first_origin))
        row["status"] = "rejected" if row["reason"] else "ok"
        if strict and row["reason"]:
            raise InputError(f"{row['origin']}: {row['reason']}")


def _length_problem(text: str, min_chars: int) -> str:
    length = len(text.strip())
    if length == 0:
        return "empty text"
    return f"too short ({length} characters)" if length < min_chars else ""


def _duplicate_problem(row: dict[str, str], first_origin: dict[str, str]) -> str:
    if row["doc_id"] in first_origin:
        return f"duplicate id (first seen at {first_origin[row['doc_id']]})"
    first_origin[row["doc_id"]] = row["origin"]
    return ""
