"""Web pages and archives in: WARC records accounted for, main text without the page's chrome,
page metadata, declared encodings, re-captures told from syndication, and the report's plots."""

from __future__ import annotations

import gzip
import io
import json
from contextlib import chdir
from pathlib import Path
from xml.etree import ElementTree

import pandas as pd
import pytest
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

import dedup
from dedup import plots, web
from dedup.cli import app
from dedup.outlets import outlets
from dedup.read import Fields, InputError, read_documents
from dedup.relate import LINKED, page_key
from tests.reports import assert_current
from tests.synthetic import NEAR_COPY, STORY

ROOT = Path(__file__).resolve().parent.parent
CRAWL = ROOT / "demo" / "web" / "crawl.warc.gz"
# Phrases of the page chrome demo/web/build.py wraps every article in.
CHROME = ("cookies", "Accept all", "Share this story", "Most read", "patriot1776", "All rights reserved",
          "Privacy policy", "Sign in")
runner = CliRunner()


@pytest.fixture(scope="module")
def crawl() -> dedup.ScanResult:
    with chdir(ROOT):  # the relative path `make demo` gives, which the report records
        return dedup.scan("demo/web/crawl.warc.gz", progress=False)


@pytest.fixture(scope="module")
def plain() -> dedup.ScanResult:
    with chdir(ROOT):
        return dedup.scan("demo/articles", metadata="demo/metadata.csv", progress=False)


def _warc(responses: list[tuple[str, str, str, bytes]], compress: bool = True) -> bytes:
    """A WARC of (uri, HTTP status line, Content-Type, body) responses."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=compress)
    for uri, status, content_type, body in responses:
        headers = StatusAndHeaders(status, [("Content-Type", content_type)], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(uri, "response", payload=io.BytesIO(body), http_headers=headers))
    return out.getvalue()


def _page(text: str, charset: str = "utf-8", canonical: str = "") -> str:
    link = f'<link rel="canonical" href="{canonical}">' if canonical else ""
    paragraphs = "".join(f"<p>{paragraph}</p>" for paragraph in text.split("\n\n"))
    return (f'<html><head><meta charset="{charset}"><title>A story</title>{link}</head><body>'
            f'<nav><a href="/">Home</a> <a href="/news">News</a></nav><article>{paragraphs}</article>'
            '<footer>All rights reserved.</footer></body></html>')


def test_every_record_of_a_crawl_is_accounted_for(crawl):
    with CRAWL.open("rb") as stream:
        kinds = [record.rec_type for record in ArchiveIterator(stream)]
    documents = crawl.documents
    assert len(documents) == len(kinds)  # one row per WARC record, none dropped
    assert (documents.status == "ok").sum() == 6  # five articles, one of them captured twice
    skipped = documents[documents.status == "skipped"].reason
    assert skipped.str.startswith("WARC request record").sum() == kinds.count("request")
    for why in ("WARC warcinfo record", "not HTML (text/css)", "not HTML (image/jpeg)", "redirect (HTTP 301 to https://",
                "WARC revisit record"):
        assert skipped.str.startswith(why).sum() == 1, why
    assert crawl.manifest["counts"]["skipped"] == len(skipped)


def test_the_crawl_scans_to_the_relations_of_the_plain_text_demo(crawl, plain):
    def linked(result: dedup.ScanResult) -> set[tuple[frozenset[str], str]]:
        title = dict(zip(result.documents.doc_id, result.documents.title))
        pairs = result.pairs[result.pairs.relation.isin(LINKED) & (result.pairs.get("direction") != "recapture")]
        return {(frozenset((title[a], title[b])), relation) for a, b, relation in zip(pairs.doc_a, pairs.doc_b,
                                                                                      pairs.relation)}

    assert linked(crawl) == linked(plain)
    assert len(linked(plain)) == 2  # the AP rewrite and the Post summary


def test_page_chrome_reaches_no_document_and_no_passage(crawl):
    texts = [*crawl.documents[crawl.documents.status == "ok"].text, *crawl.passages.a_text.dropna(),
             *crawl.passages.b_text.dropna()]
    for phrase in CHROME:
        assert not any(phrase in text for text in texts), phrase


def test_page_metadata_fills_the_document_fields(crawl):
    ok = crawl.documents[crawl.documents.status == "ok"].set_index("title")
    ap = ok.loc["Milley: US may work with Taliban to hit ISIS"].iloc[0]
    assert (ap.source, ap.date) == ("abqjournal.com", "2021-09-02")  # registered domain; published, not crawled
    assert ap.url == "https://www.abqjournal.com/news/nation/milley-us-may-work-with-taliban-to-hit-isis/"
    assert "Burns" in ap.author and "Baldor" in ap.author
    assert ok.loc["The US is Covertly Helping the Taliban Fight ISIS in Afghanistan"].source == "antiwar.com"
    paraphrase = ok.loc["US considers an unorthodox alliance with the Taliban against ISIS"]
    assert paraphrase.encoding == "cp1252"  # declared in its <meta> only
    assert "it's \"possible\"" in paraphrase.text


def test_a_recapture_of_one_page_is_folded_and_not_counted_as_syndication(crawl):
    ok = crawl.documents[crawl.documents.status == "ok"]
    captures = ok[ok.source == "abqjournal.com"].doc_id.tolist()
    assert len(captures) == 2
    pair = crawl.pairs[(crawl.pairs.doc_a == captures[0]) & (crawl.pairs.doc_b == captures[1])].iloc[0]
    assert (pair.relation, pair.direction) == ("duplicate", "recapture")
    assert "re-capture" in pair.direction_reason
    clusters = crawl.clusters.set_index("doc_id").cluster_id
    assert clusters[captures[0]] == clusters[captures[1]]
    by_source = outlets(crawl.documents, crawl.pairs).set_index("source")
    # one copy, though it matched both captures of its origin
    assert by_source.loc["breaknlinks.com", "takes_from"] == "abqjournal.com (1)"


def test_page_key_tells_one_page_from_another():
    same = ["https://www.example.com/a/story/", "http://example.com/a/story", "https://example.com/a/story#top",
            "https://example.com:443/a/story?utm_source=twitter&utm_medium=social"]
    assert len({page_key(url) for url in same}) == 1
    assert page_key("https://example.com/a/story?id=2") != page_key("https://example.com/a/story?id=3")
    assert page_key("https://example.com/a/other") != page_key(same[0])
    assert page_key("") == page_key("not a url") == ""


def test_a_truncated_gzip_record_is_rejected_and_the_records_before_it_kept(tmp_path):
    data = _warc([("https://a.example/1", "200 OK", "text/html", _page(STORY).encode()),
                  ("https://b.example/2", "200 OK", "text/html", _page(NEAR_COPY).encode())])
    (tmp_path / "cut.warc.gz").write_bytes(data[:-150])
    documents = read_documents(tmp_path / "cut.warc.gz")
    assert documents.status.tolist() == ["ok", "rejected"]
    assert documents.reason[1].startswith(("unreadable WARC record", "truncated record"))
    assert documents.origin[1].endswith("cut.warc.gz:2")


def test_a_record_cut_short_in_a_plain_warc_is_rejected(tmp_path):
    data = _warc([("https://a.example/1", "200 OK", "text/html", _page(STORY).encode()),
                  ("https://b.example/2", "200 OK", "text/html", _page(NEAR_COPY).encode())], compress=False)
    (tmp_path / "cut.warc").write_bytes(data[:-400])
    documents = read_documents(tmp_path / "cut.warc")
    assert documents.status.tolist() == ["ok", "rejected"]
    assert documents.reason[1].startswith("truncated record: ") and "https://b.example/2" in documents.reason[1]


def test_non_html_records_are_skipped_and_strict_does_not_stop_at_them(tmp_path):
    data = _warc([("https://a.example/logo.png", "200 OK", "image/png", b"\x89PNG\r\n\x1a\n...."),
                  ("https://a.example/1", "200 OK", "text/html; charset=utf-8", _page(STORY).encode()),
                  ("https://a.example/gone", "404 Not Found", "text/html", b"<html>gone</html>")])
    (tmp_path / "mixed.warc.gz").write_bytes(data)
    documents = read_documents(tmp_path / "mixed.warc.gz", strict=True)
    assert documents.status.tolist() == ["skipped", "ok", "skipped"]
    assert documents.reason[0] == "not HTML (image/png): not a page (https://a.example/logo.png)"
    assert documents.reason[2] == "HTTP 404: not a page (https://a.example/gone)"
    assert documents.doc_id.tolist() == ["mixed:1", "mixed:2", "mixed:3"]


def test_an_arc_file_is_read_as_its_records(tmp_path):
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + _page(STORY).encode()
    version = b"1 0 Test crawler\nURL IP-address Archive-date Content-type Archive-length\n"
    (tmp_path / "old.arc").write_bytes(
        b"filedesc://old.arc 0.0.0.0 20010911120000 text/plain %d\n%b\n" % (len(version), version)
        + b"http://example.com/story 192.0.2.1 20010911120000 text/html %d\n%b\n" % (len(http), http))
    documents = read_documents(tmp_path / "old.arc")
    assert documents.status.tolist() == ["skipped", "ok"]  # the ARC's file header is no page
    assert (documents.url[1], documents.date[1], documents.source[1]) == (
        "http://example.com/story", "2001-09-11", "example.com")  # the capture date: the page has none
    assert documents.text[1].startswith(STORY[:40])


def test_a_legacy_encoding_declared_in_a_meta_tag_decodes_the_page(tmp_path):
    russian = ("Правительство объявило о новых мерах поддержки экономики в среду.\n\n"
               "Министр финансов заявил журналистам, что программа обойдётся в три миллиарда рублей.")
    (tmp_path / "story.html").write_bytes(_page(russian, charset="windows-1251").encode("cp1251"))
    documents = read_documents(tmp_path / "story.html")
    assert documents.encoding[0] == "cp1251"
    assert "три миллиарда рублей" in documents.text[0]
    assert documents.status[0] == "ok"


def test_html_files_in_a_folder_take_metadata_and_a_page_without_text_is_skipped(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "story.html").write_text(_page(STORY, canonical="https://news.bbc.co.uk/1/story.stm"), encoding="utf-8")
    (folder / "front.htm").write_text("<html><head><title>Front</title></head><body></body></html>", encoding="utf-8")
    (tmp_path / "meta.csv").write_text("file,title\nstory.html,The story as filed\n", encoding="utf-8")
    documents = read_documents(folder, metadata=tmp_path / "meta.csv").set_index("doc_id")
    assert documents.status.to_dict() == {"front": "skipped", "story": "ok"}
    assert documents.loc["front", "reason"].startswith("no main text in the page")
    assert documents.loc["story", "title"] == "The story as filed"  # the metadata wins over the page
    assert documents.loc["story", "source"] == "bbc.co.uk"
    assert "All rights reserved" not in documents.loc["story", "text"]


def test_an_html_column_gives_the_text_and_the_records_own_fields_win(tmp_path):
    records = [{"id": "one", "html": _page(STORY), "source": "Wire"},
               {"id": "two", "html": _page(NEAR_COPY, canonical="https://www.example.com/two")}]
    path = tmp_path / "pages.jsonl"
    path.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    out = tmp_path / "out"
    run = runner.invoke(app, ["scan", str(path), "--html-field", "html", "--out", str(out), "-q"])
    assert run.exit_code == 0, run.output
    documents = pd.read_csv(out / "documents.csv", keep_default_na=False).set_index("doc_id")
    assert documents.source.to_dict() == {"one": "Wire", "two": "example.com"}
    texts = read_documents(path, Fields(html="html")).set_index("doc_id").text
    assert texts["one"].startswith(STORY[:40]) and "Home" not in texts["one"]
    pairs = pd.read_csv(out / "pairs.csv")
    assert pairs.relation.isin(LINKED).any()  # the copy is found from the pages' text


def test_without_the_web_extra_a_page_is_a_one_line_error(tmp_path, monkeypatch):
    def missing() -> None:
        raise web.MissingExtra(f"{web.MISSING_EXTRA} (trafilatura is missing)")

    monkeypatch.setattr(web, "require", missing)
    (tmp_path / "story.html").write_text(_page(STORY), encoding="utf-8")
    with pytest.raises(InputError, match=r"pip install 'dedup\[web\]'"):
        read_documents(tmp_path / "story.html")
    run = runner.invoke(app, ["scan", str(tmp_path / "story.html"), "--out", str(tmp_path / "out")])
    assert run.exit_code != 0
    assert "pip install 'dedup[web]'" in run.output and len(run.output.strip().splitlines()) == 1


def test_plots_are_drawn_from_the_tables_and_names_stay_outlines(crawl, tmp_path):
    hostile = crawl.documents.assign(source=crawl.documents.source.map(
        lambda source: f"<script>alert(1)</script>$\\frac{{1}}{{2}}$ {source}" if source else source))
    drawn = plots.write_plots(hostile, crawl.pairs, crawl.clusters, tmp_path)
    assert set(drawn) == {"copying", "spread"}
    for path in drawn.values():
        root = ElementTree.parse(path).getroot()  # comments (matplotlib's, escaped) are dropped
        assert root.tag.endswith("svg")
        elements = list(root.iter())
        assert not [e for e in elements if e.tag.endswith("script") or any(a.startswith("on") for a in e.attrib)]
        assert not any("alert" in (e.text or "") + (e.tail or "") for e in elements)  # names are outlines
    undated = crawl.documents.assign(date="")
    unrelated = crawl.pairs.assign(relation="rejected")
    assert plots.write_plots(undated, unrelated, crawl.clusters, tmp_path / "none") == {}


def test_committed_crawl_is_what_its_build_script_writes(tmp_path):
    import runpy

    build = runpy.run_path(str(ROOT / "demo" / "web" / "build.py"))["build"]
    build(tmp_path / "crawl.warc.gz")
    # Compared decompressed: zlib's bytes may differ between versions, the records may not.
    assert gzip.decompress((tmp_path / "crawl.warc.gz").read_bytes()) == gzip.decompress(CRAWL.read_bytes()), \
        "demo/web/crawl.warc.gz is stale: run make demo"


def test_committed_web_demo_report_is_current(crawl, tmp_path):
    crawl.write(tmp_path, parquet=False)
    assert_current(ROOT / "reports" / "demo-web", tmp_path)
