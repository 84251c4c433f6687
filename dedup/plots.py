"""The report's plots, drawn offline to SVG with matplotlib: who copies whom, and how stories spread.

* ``copying.svg`` — a matrix of the sources that copy most: a cell counts the texts of the
  column's source that took text from the row's, as related pairs with a known direction
  tell (`dedup.outlets.copying`); drawn when there is at least one such pair.
* ``spread.svg`` — the story groups whose documents are dated, the largest first: per
  group a line from its first dated text to its last, a dot per text, the first one
  named by its source; drawn when a story group has two dated texts.

Text in the plots (source names, titles) is drawn as glyph outlines, not as SVG text,
and math notation is off, so a name cannot become markup or a formula; the pages show
the files through ``<img>``, which runs no script. The files hold no date and use a
fixed id salt: the same tables draw the same bytes (with the same matplotlib).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib import rc_context
from matplotlib.dates import AutoDateLocator, DateFormatter, DayLocator
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from dedup.outlets import copying

PLOT_DIR = "plots"
PLOTS = ("copying", "spread")  # the plots a report may hold, each PLOT_DIR/<name>.svg
MOST_SOURCES = 12  # sources in the copying matrix: those in most directed pairs
MOST_STORIES = 15  # story groups in the spread plot: those with most dated texts
LABEL_CHARS = 40
DAILY_TICKS = 14  # a spread over at most this many days gets a tick a day, not hours
STYLE: dict[Any, Any] = {"svg.hashsalt": "dedup", "svg.fonttype": "path", "text.parse_math": False, "font.size": 8,
         "axes.spines.top": False, "axes.spines.right": False}


def write_plots(documents: pd.DataFrame, pairs: pd.DataFrame, clusters: pd.DataFrame, out: Path) -> dict[str, Path]:
    """Draw the plots the tables hold data for into out/plots/; name → path of each drawn."""
    drawn: dict[str, Path] = {}
    matrix = copying(documents, pairs)
    spread = dated_stories(documents, clusters)
    figures = {"copying": _copying_figure(matrix) if matrix.size else None,
               "spread": _spread_figure(spread) if len(spread) else None}
    for name in PLOTS:
        figure = figures[name]
        if figure is not None:
            path = out / PLOT_DIR / f"{name}.svg"
            path.parent.mkdir(parents=True, exist_ok=True)
            with rc_context(STYLE):
                figure.savefig(path, format="svg", metadata={"Date": None}, bbox_inches="tight")
            drawn[name] = path
    return drawn


def _copying_figure(matrix: pd.DataFrame) -> Figure:
    busiest = (matrix.sum(axis=1).add(matrix.sum(axis=0), fill_value=0)).sort_values(ascending=False, kind="stable")
    names = list(busiest.index[:MOST_SOURCES])
    shown = matrix.reindex(index=names, columns=names, fill_value=0)
    with rc_context(STYLE):
        figure = Figure(figsize=(1.6 + 0.45 * len(names), 1.2 + 0.45 * len(names)))
        axes = figure.subplots()
        image = axes.imshow(shown.to_numpy(), cmap="Blues", vmin=0)
        labels = [_label(name or "(no source)") for name in names]
        axes.set_xticks(range(len(names)), labels, rotation=45, ha="right")
        axes.set_yticks(range(len(names)), labels)
        axes.set_xlabel("copy's source (takes)")
        axes.set_ylabel("origin's source (gives)")
        peak = max(int(shown.to_numpy().max()), 1)
        for (row, column), count in np.ndenumerate(shown.to_numpy()):
            if count:
                axes.text(column, row, str(count), ha="center", va="center",
                          color="white" if count > peak / 2 else "black")
        figure.colorbar(image, ax=axes, label="copies", shrink=0.8, ticks=MaxNLocator(integer=True))
        axes.set_title("Who copies whom: copies across sources, from pairs with a known direction")
    return figure


def dated_stories(documents: pd.DataFrame, clusters: pd.DataFrame) -> pd.DataFrame:
    """The dated texts of the story groups holding two or more, the MOST_STORIES groups with most
    such texts (then the earliest): story_id, doc_id, source, date (Timestamp), in date order."""
    scanned = documents[documents.status == "ok"][["doc_id", "source", "date"]]
    texts = clusters[["doc_id", "story_id"]].merge(scanned, on="doc_id")
    texts = texts.assign(date=pd.to_datetime(texts.date, format="%Y-%m-%d", errors="coerce")).dropna(subset=["date"])
    sizes = texts.groupby("story_id").agg(n=("doc_id", "size"), first=("date", "min"))
    sizes = sizes[sizes.n >= 2].sort_values(["n", "first"], ascending=[False, True], kind="stable")
    chosen = sizes.index[:MOST_STORIES]
    texts = texts[texts.story_id.isin(chosen)]
    return texts.sort_values(["date", "doc_id"], kind="stable").reset_index(drop=True)


def _spread_figure(texts: pd.DataFrame) -> Figure:
    order = list(texts.groupby("story_id", sort=False).date.min().sort_values(kind="stable").index)
    with rc_context(STYLE):
        figure = Figure(figsize=(8, 1.0 + 0.35 * len(order)))
        axes = figure.subplots()
        for row, story in enumerate(order):
            story_texts = texts[texts.story_id == story]
            axes.plot([story_texts.date.min(), story_texts.date.max()], [row, row], color="0.7", linewidth=1)
            axes.scatter(story_texts.date, [row] * len(story_texts), s=18, color="tab:blue", zorder=3)
            first = story_texts.iloc[0]
            axes.annotate(_label(first.source or first.doc_id), (first.date, row), textcoords="offset points",
                          xytext=(0, 5), fontsize=7)
        sizes = texts.story_id.value_counts()
        axes.set_yticks(range(len(order)), [f"{_label(story)} ({sizes[story]})" for story in order])
        axes.set_ylim(len(order) - 0.5, -0.8)  # first story on top, room above it for its label
        span = (texts.date.max() - texts.date.min()).days
        axes.xaxis.set_major_locator(DayLocator() if span <= DAILY_TICKS else AutoDateLocator(maxticks=10))
        axes.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))
        axes.set_xlabel("date")
        axes.set_title("How stories spread: each story group's dated texts, the first named by its source", pad=12)
        figure.autofmt_xdate()
    return figure


def _label(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= LABEL_CHARS else text[:LABEL_CHARS - 1] + "…"
