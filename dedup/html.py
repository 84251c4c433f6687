"""Write the static HTML report: tables → ``index.html`` and one page per related pair.

The report is read offline and archived beside the CSVs, so it needs nothing
from elsewhere: no server, no scripts, no fonts or stylesheets to fetch (the CSS
is inlined). Like `dedup.report` it only reads tables, and the same tables give
byte-identical pages: no timestamps, fixed number formats, table order kept.

Document text, titles, sources, ids and urls are untrusted input. The Jinja2
environment escapes every value; a url becomes a link only when it is http(s);
file names are pair numbers, never ids or text; and each page carries a
Content-Security-Policy that forbids scripts, in case an escape is ever missed.
Every element holding such a value has ``dir="auto"``, so text in a
right-to-left script reads and aligns right to left, whatever the page's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined

from dedup.align import word_diff
from dedup.candidates import capped_note
from dedup.facts import FACTS
from dedup.outlets import outlets
from dedup.parallel import chunks, map_chunks
from dedup.relate import LINKED, MATCH_LEVELS, shown_reason
from dedup.store import Tables, records_by_pair

PAIR_DIR = "pairs"
PAIR_PAGES = 2_000  # related pairs a report shows and gives a page by default, and the rows of any other list
PAGE_TEXT_CHARS = 500_000  # document text a pair page shows at most; the rest is in passages.csv
INDEX = "index.html"
# What each passage kind means, for the legend.
KINDS = {"same": "verbatim", "reworded": "other wording", "moved": "out of order",
         "added": "only on the right", "dropped": "only on the left"}
FLAGS = {**FACTS, "merged": "merged sentences"}  # passage flags besides boilerplate
DOC_FIELDS = ("doc_id", "title", "source", "date", "url", "origin", "status", "reason", "warning")

_ENV = Environment(loader=PackageLoader("dedup", "templates"), autoescape=True, undefined=StrictUndefined,
                   trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)

Parts = list[tuple[str, bool]] | None  # a passage side as (text, changed) runs; None where absent


def write_html(tables: Tables, out: Path, shown: pd.DataFrame | None = None, limit: int = PAIR_PAGES,
               jobs: int = 1, outlet_table: pd.DataFrame | None = None,
               plots: Mapping[str, str] | None = None) -> list[Path]:
    """Write ``out/index.html`` and ``out/pairs/pair-NNNN.html`` per shown pair; return the paths.

    shown: the related pairs given a page (default all; see `dedup.report.telling_pairs`), in
    the order of their numbers; limit: the most rows of any other list on the index; jobs:
    worker processes rendering the pair pages; outlet_table: the scan's outlets table
    (`dedup.outlets`), when already made; plots: the href of each plot drawn (`dedup.plots`,
    by name), shown in their sections. Reads the
    documents, pairs, groups and clusters tables, and the shown pairs' passages and facts.
    `dedup.report.write` writes into a new folder and removes an earlier run's pages when it
    moves these into place.
    """
    records, pairs = tables.table("documents"), tables.table("pairs")
    related = _related(pairs)
    shown = related if shown is None else shown.reset_index(drop=True)
    names = pair_file_names(len(shown))
    pair_dir = out / PAIR_DIR
    pair_dir.mkdir(parents=True, exist_ok=True)
    documents = _ok_documents(records, set(shown.doc_a) | set(shown.doc_b))
    passages, facts = (records_by_pair(tables.pair_rows(name, shown)) for name in ("passages", "facts"))
    if outlet_table is None:
        outlet_table = outlets(records, pairs)
    index = _index_page(tables, records, related, shown, [f"{PAIR_DIR}/{name}" for name in names], limit,
                        outlet_table, plots or {})
    pages = [(pair_dir / name, pair) for name, pair in zip(names, shown.to_dict("records"))]
    state = (pages, documents, passages, facts)
    written = map_chunks(_write_pages, state, chunks(len(pages), jobs), jobs)
    return [_write(out / INDEX, index), *(path for part in written for path in part)]


def _write_pages(state: tuple[list[tuple[Path, dict[str, Any]]], Mapping[str, Mapping[str, Any]],
                              Mapping[frozenset[str], list[dict[str, Any]]],
                              Mapping[frozenset[str], list[dict[str, Any]]]], part: slice) -> list[Path]:
    """Render and write some of the pair pages (in a worker); return their paths."""
    pages, documents, passages, facts = state
    written = []
    for path, pair in pages[part]:
        key = frozenset((pair["doc_a"], pair["doc_b"]))
        written.append(_write(path, _page(pair, documents[pair["doc_a"]], documents[pair["doc_b"]],
                                          passages.get(key, []), facts.get(key, []), index_href=f"../{INDEX}")))
    return written


def pair_file_names(n: int) -> list[str]:
    """pair-0001.html … for n related pairs: numbers only, as ids and text are untrusted."""
    width = max(4, len(str(n)))
    return [f"pair-{number:0{width}d}.html" for number in range(1, n + 1)]


def pair_page(pair: Mapping[str, Any], doc_a: Mapping[str, Any], doc_b: Mapping[str, Any],
              passages: pd.DataFrame, facts: pd.DataFrame, index_href: str | None = None) -> str:
    """One pair's page: both documents, the evidence, the fact drift and the aligned passages.

    pair: its row of the pairs table; doc_a, doc_b: the documents rows of
    pair's doc_a and doc_b; passages, facts: the pair's rows of those tables
    (see `dedup.align`); index_href: a link back to the index, if there is one.
    The side the passages are read from (their doc_a: the source, or the text
    `dedup.relate.orient_pair` reads first) is shown on the left.
    """
    return _page(pair, doc_a, doc_b, passages.to_dict("records"), facts.to_dict("records"), index_href)


def _page(pair: Mapping[str, Any], doc_a: Mapping[str, Any], doc_b: Mapping[str, Any],
          passages: list[dict[str, Any]], facts: list[dict[str, Any]], index_href: str | None) -> str:
    """`pair_page` from the pair's passages and facts rows as records (a report converts its
    tables once, not a frame per page)."""
    known = _text(pair.get("direction")) not in ("", "unknown")
    source_id = (_text(passages[0]["doc_a"]) if passages
                 else _text(pair.get("source_doc")) or _text(pair["doc_a"]))
    source, copy = (doc_a, doc_b) if _text(doc_a["doc_id"]) == source_id else (doc_b, doc_a)
    roles = ("source", "copy") if known else ("text A", "text B")
    rows = sorted(passages, key=lambda row: int(row["passage_no"]))
    shown = _within_budget(rows)
    return _ENV.get_template("pair.html").render(
        evidence=_evidence(pair, _document(source), _document(copy), roles),
        source=_document(source), copy=_document(copy), roles=roles,
        passages=[_passage(row) for row in rows[:shown]],
        hidden={"passages": len(rows) - shown, "chars": sum(len(_text(row["a_text"])) + len(_text(row["b_text"]))
                                                               for row in rows[shown:])},
        facts=_facts(facts), kinds=KINDS, index_href=index_href)


def _within_budget(rows: Sequence[Mapping[str, Any]]) -> int:
    """How many passages (in order) a page shows: as many as fit in PAGE_TEXT_CHARS characters of
    text, so a pair of very long texts gives a page a browser opens, not one of tens of MB."""
    spent = 0
    for shown, row in enumerate(rows):
        spent += len(_text(row["a_text"])) + len(_text(row["b_text"]))
        if spent > PAGE_TEXT_CHARS:
            return shown
    return len(rows)


def _index_page(tables: Tables, records: pd.DataFrame, related: pd.DataFrame, shown: pd.DataFrame,
                pair_hrefs: Sequence[str], limit: int, outlet_table: pd.DataFrame, plots: Mapping[str, str]) -> str:
    """index.html: counts, story groups, duplicate clusters, timeline, sources, pairs, documents.
    Each list shows at most limit rows and says how many more there are; the documents list
    holds every document the page names, and the first limit others."""
    groups = tables.table("groups")
    stories, clusters = (groups[groups.kind == kind] for kind in ("story", "duplicate_cluster"))
    ok_rows = (records.status == "ok").to_numpy()
    scanned = records[ok_rows]
    dates = scanned.date.map(_text)
    dated = scanned.assign(_date=dates)[(dates != "").to_numpy()].sort_values("_date", kind="stable")
    named = (set(shown.doc_a) | set(shown.doc_b) | set(dated.doc_id[:limit])
             | {member for group in pd.concat([stories[:limit], clusters[:limit]]).to_dict("records")
                for member in _members(group)})
    listed = scanned[scanned.doc_id.isin(named).to_numpy() | (np.arange(len(scanned)) < limit)]
    anchors = {doc_id: f"d{number + 1}" for doc_id, number in zip(listed.doc_id, np.flatnonzero(ok_rows)[
        scanned.index.get_indexer(listed.index)])}
    ok = {row["doc_id"]: _document(row) | {"anchor": anchors[row["doc_id"]]} for row in listed.to_dict("records")}
    rejected = [_document(row) | {"anchor": f"d{number + 1}"}
                for number, row in zip(np.flatnonzero(~ok_rows)[:limit], records[~ok_rows][:limit].to_dict("records"))]
    placed = {row["doc_id"]: row for row in tables.table("clusters").to_dict("records") if row["doc_id"] in ok}
    pairs = [_pair_link(number, row, href, ok)
             for number, (row, href) in enumerate(zip(shown.to_dict("records"), pair_hrefs), start=1)]
    sources = _sources(scanned, related, outlet_table)
    more = {"pairs": len(related) - len(shown), "stories": len(stories) - limit, "clusters": len(clusters) - limit,
            "timeline": len(dated) - limit, "sources": len(sources) - limit, "documents": len(scanned) - len(ok),
            "rejected": int((~ok_rows).sum()) - limit}
    return _ENV.get_template("index.html").render(
        counts=tables.manifest["counts"], capped=capped_note(tables.manifest), relations=LINKED, pairs=pairs,
        stories=_stories(stories[:limit], ok, pairs), clusters=_clusters(clusters[:limit], ok),
        timeline=[ok[doc_id] for doc_id in dated.doc_id[:limit]], dated=len(dated),
        undated=len(scanned) - len(dated), sources=sources[:limit],
        documents=[doc | {key: _text(placed.get(doc["doc_id"], {}).get(key)) for key in ("cluster_id", "story_id")}
                   for doc in ok.values()],
        rejected=rejected, more={name: max(0, count) for name, count in more.items()}, plots=plots)


def safe_href(url: str) -> str:
    """url if it may become a link (http or https with a host), else "": javascript:, data: … stay text."""
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else ""


def _write(path: Path, page: str) -> Path:
    path.write_text(page, encoding="utf-8", newline="\n")
    return path


def _text(value: object) -> str:
    """A table cell as text; missing values (None, NaN, pd.NA) become ""."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)


def _pct(value: Any) -> str:
    return "–" if _text(value) == "" else f"{round(100 * float(value))}%"


def _number(value: Any) -> str:
    return "–" if _text(value) == "" else f"{float(value):.2f}"


def _related(pairs: pd.DataFrame) -> pd.DataFrame:
    return pairs[pairs.relation.isin(LINKED)].reset_index(drop=True)


def _ok_documents(documents: pd.DataFrame, ids: set[str]) -> dict[str, dict[str, Any]]:
    """These scanned documents by id (rejected records may share or lack ids, and are in no pair)."""
    chosen = documents[(documents.status == "ok") & documents.doc_id.isin(ids)]
    return {row["doc_id"]: row for row in chosen.to_dict("records")}


def _document(row: Mapping[str, Any]) -> dict[str, str]:
    doc = {name: _text(row.get(name)) for name in DOC_FIELDS}
    return doc | {"href": safe_href(doc["url"])}


def reappears(pair: Mapping[str, Any], side: str) -> float:
    """The share of side's text ("a" or "b" of the pairs row) in sentences matched in the other
    text, at any level (`MATCH_LEVELS`): the headline figure of how much of it was reused."""
    return min(1.0, sum(float(pair[f"{side}_{level}"]) for level in MATCH_LEVELS))


def _evidence(pair: Mapping[str, Any], source: dict[str, str], copy: dict[str, str],
              roles: tuple[str, str]) -> dict[str, Any]:
    """The pair's scores as display strings; per text (source first), its role, document, the
    other document, and its shares."""
    first = "a" if _text(pair["doc_a"]) == source["doc_id"] else "b"
    second = "b" if first == "a" else "a"
    sides = [{"role": role, "doc": doc, "other": other, "reappears": _pct(reappears(pair, this)),
              "contained": _pct(pair[f"contained_{this}_in_{that}"]),
              "sentences": _text(pair[f"sentences_matched_{this}"]),
              **{level: _pct(pair[f"{this}_{level}"]) for level in MATCH_LEVELS}}
             for role, doc, other, this, that in ((roles[0], source, copy, first, second),
                                                 (roles[1], copy, source, second, first))]
    return {"relation": _text(pair["relation"]), "reason": _text(pair["reason"]), "via": _text(pair["via"]),
            "jaccard": _number(pair["jaccard"]), "estimate": _number(pair["estimate"]),
            "order": _pct(pair["order"]), "direction": _text(pair.get("direction")) or "unknown",
            "direction_reason": _text(pair.get("direction_reason")), "sides": sides}


def _passage(row: Mapping[str, Any]) -> dict[str, Any]:
    flags = [flag for flag in _text(row["flags"]).split(";") if flag]
    left, right = _sides(_text(row["a_text"]), _text(row["b_text"]))
    return {"no": int(row["passage_no"]), "kind": _text(row["kind"]), "left": left, "right": right,
            "boilerplate": "boilerplate" in flags,
            "flags": [FLAGS.get(flag, flag) for flag in flags if flag != "boilerplate"],
            "paras": (_para(row["a_para"]), _para(row["b_para"])), "score": _number(row["score"])}


def _para(value: Any) -> str:
    """Paragraph number as people count them (from 1), "" where the side is absent."""
    return "" if _text(value) == "" else str(int(value) + 1)


def _sides(a_text: str, b_text: str) -> tuple[Parts, Parts]:
    """Both sides as runs of text; where the texts differ, the changed words are marked (word diff)."""
    if not (a_text and b_text) or a_text == b_text:
        return ([(a_text, False)] if a_text else None), ([(b_text, False)] if b_text else None)
    left: list[tuple[str, bool]] = []
    right: list[tuple[str, bool]] = []
    for op, a_part, b_part in word_diff(a_text, b_text):
        if a_part:
            left.append((a_part, op != "equal"))
        if b_part:
            right.append((b_part, op != "equal"))
    return left, right


def _facts(facts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fact rows in panel order (FACTS), each in reading order."""
    rank = {fact: number for number, fact in enumerate(FACTS)}
    rows = sorted(facts, key=lambda row: (rank.get(row["fact"], len(rank)), int(row["passage_no"])))
    return [{"fact": _text(row["fact"]), "label": FACTS.get(row["fact"], _text(row["fact"])),
             "a_value": _text(row["a_value"]), "b_value": _text(row["b_value"]), "passage": int(row["passage_no"])}
            for row in rows]


def _pair_link(number: int, pair: Mapping[str, Any], href: str, ok: Mapping[str, dict[str, str]]) -> dict[str, Any]:
    return {"number": number, "href": href,
            "relation": _text(pair["relation"]), "reason": _text(shown_reason(pair)),
            "a": ok[pair["doc_a"]], "b": ok[pair["doc_b"]], "jaccard": _number(pair["jaccard"])}


def _members(group: Mapping[str, Any]) -> list[str]:
    return _text(group["members"]).split(";")


def _stories(groups: pd.DataFrame, ok: Mapping[str, dict[str, str]],
             pairs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Story groups with their members and the related pairs inside each."""
    stories = groups[groups.kind == "story"].to_dict("records")
    story_of = {member: group["group_id"] for group in stories for member in _members(group)}
    inside: dict[str, list[dict[str, Any]]] = {}
    for pair in pairs:
        story = story_of.get(pair["a"]["doc_id"])
        if story is not None and story == story_of.get(pair["b"]["doc_id"]):
            inside.setdefault(story, []).append(pair)
    return [{"group_id": _text(group["group_id"]), "members": [ok[m] for m in _members(group)],
             "pairs": inside.get(group["group_id"], []), "weakest_link": _text(group["weakest_link"]),
             "weakest_strength": _pct(group["weakest_strength"])} for group in stories]


def _clusters(groups: pd.DataFrame, ok: Mapping[str, dict[str, str]]) -> list[dict[str, Any]]:
    """Duplicate clusters: the copy kept, why, and the copies to fold."""
    return [{"group_id": _text(group["group_id"]), "keep": ok[group["canonical"]],
             "keep_reason": _text(group["keep_reason"]),
             "fold": [ok[m] for m in _members(group) if m != group["canonical"]],
             "weakest_link": _text(group["weakest_link"]), "weakest_strength": _pct(group["weakest_strength"])}
            for group in groups[groups.kind == "duplicate_cluster"].to_dict("records")]


def _sources(scanned: pd.DataFrame, related: pd.DataFrame, outlet_table: pd.DataFrame) -> list[dict[str, Any]]:
    """Per source, most documents first: its documents, the related pairs with a text from it,
    by relation (a pair counts once for each source in it), and its row of the outlets table."""
    source_of = pd.Series(scanned.source.map(_text).to_numpy(), index=scanned.doc_id.to_numpy())
    sides = pd.DataFrame({"a": related.doc_a.map(source_of).to_numpy(), "b": related.doc_b.map(source_of).to_numpy(),
                          "relation": related.relation.to_numpy()})
    both = pd.concat([sides[["a", "relation"]].set_axis(["source", "relation"], axis=1),
                      sides[sides.b != sides.a][["b", "relation"]].set_axis(["source", "relation"], axis=1)])
    by_relation = both.groupby(["source", "relation"]).size().unstack(fill_value=0)
    table = pd.DataFrame({"documents": source_of.value_counts()}).join(
        by_relation.reindex(columns=list(LINKED), fill_value=0)).fillna(0).astype(int)
    table = table.rename_axis("source").reset_index().sort_values(["documents", "source"], ascending=[False, True])
    flows = outlet_table.set_index("source")
    return [row | {"originality": _pct(flows.originality.get(row["source"])),
                   "takes_from": _text(flows.takes_from.get(row["source"])),
                   "gives_to": _text(flows.gives_to.get(row["source"])),
                   "delay": _days(flows.median_delay_days.get(row["source"]))}
            for row in table.to_dict("records")]


def _days(value: Any) -> str:
    return "–" if _text(value) == "" else f"{float(value):g} d"
