"""The HTML report: hostile text stays text, file names are numbers, output is reproducible,
and every related pair, passage, fact and rejected record is on a page."""

from __future__ import annotations

from contextlib import chdir
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import dedup
from dedup.html import pair_file_names, pair_page, safe_href, write_html
from dedup.read import documents_table
from dedup.relate import LINKED
from dedup.store import Frames
from tests.synthetic import NEAR_COPY, STORY, in_hebrew_letters

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
JS_URL = "javascript:alert(1)"
WIRE_TEXT = ("Flood barriers hold in Marlow Bend.\n\nThe river reached 6.2 metres on Tuesday. "
             f"Mayor Celia Ortmann said the town was \"one sandbag away from disaster\". {SCRIPT}\n\n"
             "Subscribe to our newsletter")
COPY_TEXT = (f"Barriers hold in Marlow Bend {IMG}.\n\nThe river reached 6.5 metres on Tuesday night. "
             "Mayor Celia Ortmann said the town was \"one sandbag away from disaster\".\n\n"
             "Farmers lost 1,200 hectares.\n\nSubscribe to our newsletter")


def _documents() -> pd.DataFrame:
    rows = [
        {"doc_id": "wire", "text": WIRE_TEXT, "source": "Wire", "date": "2024-03-02",
         "title": f"Flood {SCRIPT}", "url": "https://example.org/flood?a=1&b=2"},
        {"doc_id": f"../../{IMG}", "text": COPY_TEXT, "source": f"Site {IMG}", "date": "2024-03-01",
         "title": JS_URL, "url": JS_URL},
        {"doc_id": "other", "text": "Something else entirely.", "source": "", "date": "", "title": "", "url": ""},
        {"doc_id": "empty", "text": "", "status": "rejected", "reason": f"empty text {SCRIPT}",
         "origin": "in.jsonl:4"},
    ]
    return dedup.read.documents_table(rows)


def _pairs() -> pd.DataFrame:
    copy_id = f"../../{IMG}"
    evidence = {"via": "sentence", "estimate": 0.3, "lsh_sentences_a": 2, "lsh_sentences_b": 2, "jaccard": 0.41,
                "contained_a_in_b": 0.7, "contained_b_in_a": 0.5, "a_verbatim": 0.4, "a_near": 0.2,
                "a_reworded": 0.3, "b_verbatim": 0.3, "b_near": 0.1, "b_reworded": 0.2, "order": 1.0,
                "sentences_matched_a": 3, "sentences_matched_b": 3}
    return pd.DataFrame([
        {"doc_a": copy_id, "doc_b": "wire", "relation": "copy", **evidence, "reason": f"copied {SCRIPT}",
         "source_doc": "wire", "direction": "contained", "direction_reason": f"the copy adds {IMG}"},
        {"doc_a": "wire", "doc_b": "other", "relation": "rejected", **evidence, "reason": "1 matching sentence",
         "source_doc": "", "direction": "unknown", "direction_reason": ""},
    ])


def _slice(text: str, part: str) -> tuple[int, int, str]:
    start = text.index(part)
    return start, start + len(part), part


def _passages() -> pd.DataFrame:
    """The copy pair aligned by hand: source = wire (a), copy = the hostile id (b)."""
    copy_id = f"../../{IMG}"
    spans = [  # kind, a part, b part, score, flags
        ("reworded", "Flood barriers hold in Marlow Bend.", f"Barriers hold in Marlow Bend {IMG}.", 0.8, ""),
        ("reworded", "The river reached 6.2 metres on Tuesday.", "The river reached 6.5 metres on Tuesday night.",
         0.85, "number_changed"),
        ("same", "Mayor Celia Ortmann said the town was \"one sandbag away from disaster\".",
         "Mayor Celia Ortmann said the town was \"one sandbag away from disaster\".", 1.0, "quote_kept"),
        ("dropped", SCRIPT, None, float("nan"), ""),
        ("added", None, "Farmers lost 1,200 hectares.", float("nan"), ""),
        ("same", "Subscribe to our newsletter", "Subscribe to our newsletter", 1.0, "boilerplate"),
    ]
    rows = []
    for number, (kind, a_part, b_part, score, flags) in enumerate(spans):
        a_start, a_end, a_text = _slice(WIRE_TEXT, a_part) if a_part else (pd.NA, pd.NA, "")
        b_start, b_end, b_text = _slice(COPY_TEXT, b_part) if b_part else (pd.NA, pd.NA, "")
        rows.append({"doc_a": "wire", "doc_b": copy_id, "passage_no": number, "kind": kind,
                     "a_start": a_start, "a_end": a_end, "b_start": b_start, "b_end": b_end,
                     "a_para": pd.NA if not a_part else WIRE_TEXT[:a_start].count("\n\n"),
                     "b_para": pd.NA if not b_part else COPY_TEXT[:b_start].count("\n\n"),
                     "a_text": a_text, "b_text": b_text, "score": score, "flags": flags})
    table = pd.DataFrame(rows)
    return table.astype({c: "Int64" for c in ("a_start", "a_end", "b_start", "b_end", "a_para", "b_para")})


def _facts() -> pd.DataFrame:
    copy_id = f"../../{IMG}"
    return pd.DataFrame([
        {"doc_a": "wire", "doc_b": copy_id, "passage_no": 2, "fact": "quote_kept",
         "a_value": "one sandbag away from disaster", "b_value": "one sandbag away from disaster"},
        {"doc_a": "wire", "doc_b": copy_id, "passage_no": 1, "fact": "number_changed",
         "a_value": "6.2", "b_value": f"6.5 {SCRIPT}"},
    ])


def sample_result() -> Frames:
    """The tables write_html reads, made by hand: one related pair holding hostile text."""
    copy_id = f"../../{IMG}"
    documents = _documents()
    pairs = _pairs()
    clusters = pd.DataFrame({"doc_id": ["wire", copy_id, "other"], "cluster_id": ["c-1", "c-1", "c-2"],
                             "story_id": ["story-1", "story-1", "story-2"], "canonical": [True, False, True],
                             "keep_reason": ["earliest date", "", ""]})
    groups = pd.DataFrame([
        {"group_id": "cluster-1", "kind": "duplicate_cluster", "size": 2, "members": f"wire;{copy_id}",
         "canonical": "wire", "keep_reason": f"earliest {SCRIPT}", "weakest_link": f"wire ~ {copy_id} (copy)",
         "weakest_strength": 0.7},
        {"group_id": "story-1", "kind": "story", "size": 2, "members": f"wire;{copy_id}", "canonical": "",
         "keep_reason": "", "weakest_link": f"wire ~ {copy_id} (copy)", "weakest_strength": 0.7},
    ])
    counts = {"records": 4, "ok": 3, "rejected": 1, "candidates": 2, "related": 1,
              "relations": {r: int((pairs.relation == r).sum()) for r in (*LINKED, "rejected")},
              "duplicate_clusters": 1, "story_groups": 1}
    return Frames({"documents": documents, "pairs": pairs, "passages": _passages(), "facts": _facts(),
                   "clusters": clusters, "groups": groups}, {"counts": counts})


VOID = {"meta", "br", "input", "col", "link", "img", "hr"}


class Page(HTMLParser):
    """A parsed page: its elements with attributes, its visible text, and each run of text
    with the elements it stands in, innermost last."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.runs: list[tuple[str, list[tuple[str, dict[str, str | None]]]]] = []
        self.open: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        self.runs.append((data, list(self.open)))

    def tags(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.elements if name == tag]

    def ids(self) -> set[str]:
        return {attrs["id"] for _, attrs in self.elements if attrs.get("id")}

    def rows(self, cls: str) -> list[dict[str, str | None]]:
        return [attrs for attrs in self.tags("tr") if cls in (attrs.get("class") or "").split()]


@pytest.fixture()
def report(tmp_path: Path) -> Path:
    write_html(sample_result(), tmp_path / "html")
    return tmp_path / "html"


def _pages(out: Path) -> dict[str, Page]:
    return {str(path.relative_to(out)): Page(path.read_text(encoding="utf-8")) for path in sorted(out.rglob("*.html"))}


def test_hostile_text_is_shown_as_text_never_as_markup(report):
    for name, page in _pages(report).items():
        assert not page.tags("script") and not page.tags("img"), name
        attributes = [(key, value) for _, attrs in page.elements for key, value in attrs.items()]
        assert not [key for key, _ in attributes if key.startswith("on")], name
        assert not [value for key, value in attributes if key == "href" and "javascript" in (value or "")], name
    index, pair = (report / "index.html").read_text(encoding="utf-8"), (report / "pairs/pair-0001.html").read_text(
        encoding="utf-8")
    for html in (index, pair):
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html
        assert JS_URL in "".join(Page(html).text)


def test_only_http_urls_become_links(report):
    index = _pages(report)["index.html"]
    assert "https://example.org/flood?a=1&b=2" in [a["href"] for a in index.tags("a")]


@pytest.mark.parametrize("url, href", [
    ("https://example.org/a", "https://example.org/a"), (" http://example.org ", "http://example.org"),
    ("javascript:alert(1)", ""), ("JavaScript:alert(1)", ""), ("java\nscript:alert(1)", ""),
    ("data:text/html,<script>", ""), ("//example.org/x", ""), ("http:///nohost", ""), ("", ""),
    ("http://[::1", ""),
])
def test_safe_href(url, href):
    assert safe_href(url) == href


def test_file_names_are_pair_numbers_never_ids_or_text(report):
    written = sorted(str(path.relative_to(report)) for path in report.rglob("*") if path.is_file())
    assert written == ["index.html", "pairs/pair-0001.html"]  # one related pair; the rejected one has no page


def test_write_returns_the_paths(tmp_path):
    out = tmp_path / "html"
    written = write_html(sample_result(), out)
    assert written == [out / "index.html", out / "pairs" / "pair-0001.html"]


def test_output_is_byte_identical_across_writes(tmp_path):
    first, second = write_html(sample_result(), tmp_path / "one"), write_html(sample_result(), tmp_path / "two")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_index_accounts_for_every_record_and_links_every_related_pair(report):
    index = _pages(report)["index.html"]
    text = "".join(index.text)
    for doc_id in sample_result().table("documents").doc_id:
        assert doc_id in text
    assert "empty text <script>alert(1)</script>" in text  # the rejected record and its reason
    hrefs = [a["href"] for a in index.tags("a")]
    assert "pairs/pair-0001.html" in hrefs
    assert all((report / href).exists() for href in hrefs if href.startswith("pairs/"))
    anchors = index.ids()
    assert all(href[1:] in anchors for href in hrefs if href.startswith("#"))  # no dangling in-page link
    assert "2024-03-01" in text and "Wire" in text  # timeline and sources


def test_pair_page_aligns_passages_with_kinds_diffs_furniture_and_facts(report):
    html = (report / "pairs/pair-0001.html").read_text(encoding="utf-8")
    page = Page(html)
    rows = {attrs["id"]: attrs["class"].split() for attrs in page.tags("tr") if (attrs.get("id") or "").startswith("p")}
    assert rows == {"p0": ["reworded"], "p1": ["reworded"], "p2": ["same"], "p3": ["dropped"], "p4": ["added"],
                    "p5": ["same", "boilerplate"]}
    assert "<del>6.2</del>" in html and "<ins>6.5</ins>" in html  # the word diff
    assert "site furniture" in "".join(page.text)
    facts = [a["href"] for a in page.tags("a") if (a.get("href") or "").startswith("#p")]
    assert "#p1" in facts and "#p2" in facts
    assert set(h[1:] for h in facts) <= page.ids()
    text = "".join(page.text)
    assert "number changed" in text and "quotation kept verbatim" in text
    # The source (wire) is on the left though it is the pair's doc_b, and the direction is explained.
    assert text.index("Flood <script>alert(1)</script>") < text.index(JS_URL)
    assert "the copy adds <img src=x onerror=alert(1)>" in text
    assert page.tags("a")[0]["href"] == "../index.html"


def test_pair_page_for_compare_names_sides_a_and_b_when_direction_is_unknown():
    result = sample_result()
    pair = result.table("pairs").iloc[0].to_dict() | {"source_doc": "", "direction": "unknown", "direction_reason": ""}
    docs = result.table("documents").set_index("doc_id", drop=False)
    html = pair_page(pair, docs.loc[pair["doc_a"]], docs.loc[pair["doc_b"]], result.table("passages").iloc[:0],
                     result.table("facts").iloc[:0])
    text = "".join(Page(html).text)
    assert "text A" in text and "text B" in text and "No numbers or quotations" in text
    assert "../index.html" not in html


@pytest.fixture(scope="module")
def demo() -> dedup.ScanResult:
    with chdir(ROOT):
        return dedup.scan("demo/articles", metadata="demo/metadata.csv", progress=False)


def test_demo_report_shows_every_passage_and_fact_of_every_related_pair(demo, tmp_path):
    written = write_html(demo, tmp_path)
    related = demo.pairs[demo.pairs.relation.isin(LINKED)].reset_index(drop=True)
    assert written[1:] == [tmp_path / "pairs" / name for name in pair_file_names(len(related))]
    index = Page((tmp_path / "index.html").read_text(encoding="utf-8"))
    assert {f"pairs/{path.name}" for path in written[1:]} <= {a["href"] for a in index.tags("a")}
    assert all(doc_id in "".join(index.text) for doc_id in demo.documents.doc_id)
    for pair, path in zip(related.itertuples(), written[1:]):
        page = Page(path.read_text(encoding="utf-8"))
        ours = {pair.doc_a, pair.doc_b}
        passages = demo.passages[demo.passages.doc_a.isin(ours) & demo.passages.doc_b.isin(ours)]
        facts = demo.facts[demo.facts.doc_a.isin(ours) & demo.facts.doc_b.isin(ours)]
        rows = [attrs["id"] for attrs in page.tags("tr") if (attrs.get("id") or "").startswith("p")]
        assert rows == [f"p{n}" for n in passages.passage_no], path.name
        links = [a["href"] for a in page.tags("a") if (a.get("href") or "").startswith("#p")]
        assert {f"#p{n}" for n in facts.passage_no} <= set(links) and set(h[1:] for h in links) <= set(rows)


def test_demo_report_is_reproducible(demo, tmp_path):
    first, second = write_html(demo, tmp_path / "one"), write_html(demo, tmp_path / "two")
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_pair_page_heads_its_evidence_with_how_much_of_each_text_reappears_in_the_other(report):
    page = Page((report / "pairs/pair-0001.html").read_text(encoding="utf-8"))
    headlines = [" ".join("".join(run).split()) for run in _texts_of(page, "p", "headline")]
    # The source (wire, the pairs row's doc_b) first: its verbatim, near and reworded shares added up.
    assert headlines == [
        f"60% of Flood {SCRIPT} (wire) reappears in {JS_URL} (../../{IMG}).",
        f"90% of {JS_URL} (../../{IMG}) reappears in Flood {SCRIPT} (wire).",
    ]
    note = "".join(page.text)
    assert "Jaccard containment" in note and "kept" in note  # the other measures, explained


def _texts_of(page: Page, tag: str, cls: str) -> list[list[str]]:
    """The text runs inside each element tag of class cls, in page order."""
    found: dict[int, list[str]] = {}
    for text, ancestors in page.runs:
        for name, attrs in ancestors:
            if name == tag and cls in (attrs.get("class") or "").split():
                found.setdefault(id(attrs), []).append(text)
    return list(found.values())


HEBREW = set("אבגדהוזחטיכלמנסעפצקרשתךםןף")


@pytest.fixture(scope="module")
def hebrew_report(tmp_path_factory) -> Path:
    """A report of a duplicate pair whose ids, titles, sources, origins and texts are all in Hebrew letters."""
    documents = documents_table([
        {"doc_id": in_hebrew_letters("wire story"), "text": in_hebrew_letters(STORY),
         "title": in_hebrew_letters("Flood barriers hold"), "source": in_hebrew_letters("Wire"),
         "date": "2024-03-02", "origin": in_hebrew_letters("wire.txt")},
        {"doc_id": in_hebrew_letters("copy"), "text": in_hebrew_letters(NEAR_COPY),
         "title": in_hebrew_letters("Barriers withstand"), "source": in_hebrew_letters("Site"), "date": "2024-03-03"},
        {"doc_id": in_hebrew_letters("short one"), "text": in_hebrew_letters("Too short.")},
    ])
    result = dedup.scan(documents)
    assert result.pairs.relation.isin(LINKED).sum() == 1
    out = tmp_path_factory.mktemp("hebrew")
    write_html(result, out)
    return out


@pytest.mark.parametrize("name", ["index.html", "pairs/pair-0001.html"])
def test_every_element_holding_right_to_left_text_reads_in_its_own_direction(hebrew_report, name):
    page = Page((hebrew_report / name).read_text(encoding="utf-8"))
    shown = [(text, ancestors) for text, ancestors in page.runs
             if HEBREW & set(text) and "title" not in [tag for tag, _ in ancestors]]
    assert len(shown) > 5
    for text, ancestors in shown:
        holder = [attrs for tag, attrs in ancestors if tag not in ("del", "ins", "code")][-1]  # which inherit it
        assert holder.get("dir") == "auto", text


def test_a_pair_of_very_long_texts_gets_a_page_of_bounded_size():
    from dedup.html import PAGE_TEXT_CHARS, pair_page

    paragraph = "The river rose again overnight and the council opened the sports hall to families. "
    long_text = "\n\n".join(f"Day {day}: {paragraph * 3}" for day in range(6000))  # 1.5 MB
    excerpt = "\n\n".join(long_text.split("\n\n")[3000:3005])
    result = dedup.compare(long_text, excerpt)
    documents = result.documents
    page = pair_page(result.pair, documents.iloc[0], documents.iloc[1], result.passages, result.facts)
    assert len(page) < 3 * PAGE_TEXT_CHARS
    assert "more passages" in page and "passages.csv" in page
