"""Loaders for the labelled benchmark sets in ../shared/benchmarks (never committed here).

Each returns a documents table in dedup's format (see `dedup.read`) plus the truth.
"""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from dedup.read import documents_table

# Reuters-21578 SGML (not XML): one <REUTERS ...> element per story, fields as regex groups.
_REUTERS = re.compile(r'<REUTERS[^>]*\bNEWID="(\d+)"[^>]*>(.*?)</REUTERS>', re.S)
_REUTERS_FIELD = {name: re.compile(rf"<{name}>(.*?)</{name}>", re.S) for name in ("DATE", "TITLE", "BODY")}
# The sign-off closing most bodies ("Reuter", "REUTER...", "reuter^M"), then the &#3; end-of-text code.
_REUTERS_SIGN_OFF = re.compile(r"\s*(?:reuters?(?:\.\.\.)?(?:\^M)?)?\s*&#3;\s*$", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# The BBC summaries join sentences without a space ("$10.9bn.For the year"): put it back.
_GLUED_SENTENCE = re.compile(r"(?<=[a-z0-9%)'\"][.!?])(?=[A-Z\"'])")


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")


def bbc(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """2,225 articles and their 2,225 extractive summaries as one corpus.

    Returns (documents, truth) where truth has summary, article columns.
    """
    rows, truth = [], []
    for path in sorted((root / "bbc-news" / "bbc").glob("*/*.txt")):
        name = f"{path.parent.name}/{path.stem}"
        summary = _decode((root / "bbc-news" / "summaries" / path.parent.name / path.name).read_bytes())
        rows.append({"doc_id": f"article:{name}", "text": _decode(path.read_bytes())})
        rows.append({"doc_id": f"summary:{name}", "text": _GLUED_SENTENCE.sub(" ", summary)})
        truth.append({"summary": f"summary:{name}", "article": f"article:{name}"})
    return documents_table(rows), pd.DataFrame(truth)


def clough_stevenson(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """95 answers and 5 sources; truth has answer, source, label (cut/light/heavy/non)."""
    folder = root / "clough-stevenson"
    labels = pd.read_excel(folder / "corpus-final09.xls", sheet_name="File list")
    rows = [{"doc_id": path.stem, "text": _decode(path.read_bytes())}
            for path in sorted((folder / "corpus-20090418").glob("*.txt"))]
    truth = pd.DataFrame({"answer": labels.File.str.replace(".txt", "", regex=False),
                          "source": "orig_task" + labels.Task.str.strip(),
                          "label": labels.Category.str.strip()})
    return documents_table(rows), truth


def _reuters_field(name: str, element: str) -> str:
    """One field of a <REUTERS> element as in the file; "" if absent."""
    found = _REUTERS_FIELD[name].search(element)
    return "" if found is None else found.group(1)


def _reuters_text(raw: str) -> str:
    """Entities decoded, control codes dropped, outer whitespace stripped."""
    return _CONTROL.sub("", html.unescape(raw)).strip()


def _reuters_date(raw: str) -> str:
    """``26-FEB-1987 15:01:01.79`` → ``1987-02-26``; "" when it does not parse."""
    try:
        return datetime.strptime(raw.split()[0], "%d-%b-%Y").date().isoformat()
    except (ValueError, IndexError):
        return ""


def reuters(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 19,043 Reuters-21578 stories that have a <BODY>: doc_id = NEWID, title, date, body text.

    The files are read as latin-1 (reut2-017.sgm is not UTF-8); the text is the body without its
    trailing "Reuter" sign-off and &#3; code. Returns (documents, truth) where truth has doc_id and
    body, the body exactly as in the file, on which SOURCE.md counts the identical bodies.
    """
    rows, truth = [], []
    for path in sorted((root / "reuters21578").glob("reut2-*.sgm")):
        for new_id, element in _REUTERS.findall(path.read_text(encoding="latin-1")):
            body = _reuters_field("BODY", element)
            if body:
                rows.append({"doc_id": new_id, "text": _reuters_text(_REUTERS_SIGN_OFF.sub("", body)),
                             "title": _reuters_text(_reuters_field("TITLE", element)),
                             "date": _reuters_date(_reuters_field("DATE", element))})
                truth.append({"doc_id": new_id, "body": body})
    return documents_table(rows), pd.DataFrame(truth)
