"""Loaders for the labelled benchmark sets in ../shared/benchmarks (never committed here).

Each returns a documents table in dedup's format (see `dedup.read`) plus the truth.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from dedup.read import documents_table

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
