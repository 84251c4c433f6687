"""Build demo/web/crawl.warc.gz: the plain-text demo's articles as a crawler saw them.

Each article is wrapped in the chrome of a real news page (navigation, a cookie banner, share
buttons, a "most read" list naming the other stories, reader comments, a footer) and stored as
a WARC response with its request, beside what a crawl also holds: the warcinfo record, a
stylesheet, an image, a redirect, a second capture of one article a day later (through a
link with a tracking parameter) and a third two days later, stored as a revisit record. One
page is served in Windows-1252 and says so only in its <meta> tag.

Deterministic: fixed dates and record ids, gzip without timestamps; `make demo` rebuilds it and
tests/test_web.py checks the committed file is what this script writes.

    python demo/web/build.py [OUT]
"""

from __future__ import annotations

import csv
import gzip
import html
import io
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

HERE = Path(__file__).resolve().parent
ARTICLES = HERE.parent / "articles"
METADATA = HERE.parent / "metadata.csv"
OUT = HERE / "crawl.warc.gz"
NAMESPACE = uuid.UUID("6f1c2a52-1b8e-4c55-9a57-0c2f3a7f4e10")  # record ids are uuid5 of this and a name


@dataclass(frozen=True)
class Site:
    """How one outlet's pages look and when it published the article."""

    host: str
    path: str
    name: str
    published: str  # ISO date of the article
    author: str = ""
    charset: str = "utf-8"


SITES = {  # by article file; the outlet names are the metadata's
    "ap-milley-taliban_albuquerque-journal.txt": Site(
        "www.abqjournal.com", "/news/nation/milley-us-may-work-with-taliban-to-hit-isis/", "Albuquerque Journal",
        "2021-09-02", "Robert Burns, Lolita C. Baldor"),
    "ap-milley-taliban_sentence-paraphrase.txt": Site(
        "breaknlinks.com", "/world/us-considers-unorthodox-alliance-taliban-isis", "BreaknLinks", "2021-09-03",
        charset="windows-1252"),
    "commentary_milley-and-taliban-air-force.txt": Site(
        "www.commentary.example.org", "/2021/09/us-could-coordinate-with-taliban", "Commentary Weekly",
        "2021-09-05"),
    "wapo-taliban-air-support_republished-with-comments.txt": Site(
        "anti-empire.com", "/us-is-secretly-providing-air-support-for-the-taliban-against-isis/", "Anti-Empire",
        "2021-09-04"),
    "wapo-taliban-air-support_summary-with-quotes.txt": Site(
        "news.antiwar.com", "/2021/09/02/the-us-is-covertly-helping-the-taliban-fight-isis/", "Antiwar.com",
        "2021-09-02"),
}
RECAPTURED = "ap-milley-taliban_albuquerque-journal.txt"  # fetched again the next day


def page(title: str, text: str, site: Site, others: list[str]) -> str:
    """An article page: the text's lines as paragraphs inside <article>, wrapped in page chrome."""
    paragraphs = "\n".join(f"<p>{html.escape(line.strip())}</p>" for line in text.splitlines() if line.strip())
    most_read = "\n".join(f'<li><a href="/story/{n}">{html.escape(other)}</a></li>' for n, other in enumerate(others))
    author = f'<meta name="author" content="{html.escape(site.author)}">' if site.author else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head>
<meta charset="{site.charset}">
<title>{html.escape(title)} | {html.escape(site.name)}</title>
<link rel="canonical" href="https://{site.host}{site.path}">
<meta property="og:site_name" content="{html.escape(site.name)}">
<meta property="og:title" content="{html.escape(title)}">
<meta property="article:published_time" content="{site.published}T08:00:00Z">
{author}
<link rel="stylesheet" href="/static/site.css">
</head><body>
<div class="cookie-banner" role="dialog">We and our 842 partners use cookies to personalise content and ads.
<button>Accept all</button> <button>Manage preferences</button></div>
<header><a href="/">{html.escape(site.name)}</a>
<nav><a href="/news">News</a> <a href="/politics">Politics</a> <a href="/world">World</a> <a href="/opinion">Opinion</a>
<a href="/subscribe">Subscribe</a> <a href="/login">Sign in</a></nav></header>
<main>
<article>
<h1>{html.escape(title)}</h1>
{paragraphs}
</article>
<div class="share">Share this story: <a href="#">Facebook</a> <a href="#">Twitter</a> <a href="#">Email</a>
<a href="#">Copy link</a></div>
<aside class="most-read"><h2>Most read</h2><ol>
{most_read}
</ol></aside>
<section class="comments"><h2>Comments (3)</h2>
<div class="comment"><b>patriot1776</b> Unbelievable. Who signed off on this?</div>
<div class="comment"><b>J. Reyes</b> Read the whole thing before you comment, people.</div>
<div class="comment"><b>oldsoldier</b> We have seen this movie before.</div>
</section>
</main>
<footer>© 2021 {html.escape(site.name)}. All rights reserved. <a href="/privacy">Privacy policy</a>
<a href="/terms">Terms of use</a> <a href="/contact">Contact us</a></footer>
</body></html>
"""


def build(out: Path) -> None:
    titles = {row["file"]: row["title"] for row in csv.DictReader(METADATA.open(encoding="utf-8"))}
    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=False)  # compressed below, member by member, without timestamps
    records = []

    def record(uri: str, kind: str, payload: bytes, headers: StatusAndHeaders | None, date: str) -> None:
        name = f"{kind} {uri} {date}"
        warc_headers = {"WARC-Date": f"{date}T12:00:00Z",
                        "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(NAMESPACE, name)}>"}
        made = writer.create_warc_record(uri, kind, payload=io.BytesIO(payload), http_headers=headers,
                                         warc_headers_dict=warc_headers)
        records.append(made)

    def fetch(uri: str, status: str, headers: list[tuple[str, str]], body: bytes, date: str) -> None:
        host = uri.split("/")[2]
        record(uri, "request", b"", StatusAndHeaders(f"GET /{uri.split('/', 3)[3]} HTTP/1.1",
                                                     [("Host", host), ("User-Agent", "dedup-demo-crawler/1.0")],
                                                     is_http_request=True), date)
        record(uri, "response", body, StatusAndHeaders(status, headers, protocol="HTTP/1.1"), date)

    info = writer.create_warcinfo_record("crawl.warc.gz", {"software": "demo/web/build.py",
                                                           "description": "the dedup demo articles as crawled"})
    info.rec_headers.replace_header("WARC-Date", "2021-09-06T00:00:00Z")
    info.rec_headers.replace_header("WARC-Record-ID", f"<urn:uuid:{uuid.uuid5(NAMESPACE, 'warcinfo')}>")
    records.append(info)
    crawled = "2021-09-06"
    for file, site in SITES.items():
        text = (ARTICLES / file).read_text(encoding="utf-8")
        others = [title for other, title in titles.items() if other != file]
        body = page(titles[file], text, site, others).encode(site.charset, "xmlcharrefreplace")
        uri = f"https://{site.host}{site.path}"
        fetch(uri, "200 OK", [("Content-Type", "text/html")], body, crawled)
        if file == RECAPTURED:
            fetch(uri + "?utm_source=twitter", "200 OK", [("Content-Type", "text/html; charset=utf-8")], body,
                  "2021-09-07")
    fetch("https://breaknlinks.com/static/site.css", "200 OK", [("Content-Type", "text/css")],
          b"body { font-family: serif; }\n", crawled)
    fetch("https://breaknlinks.com/img/evacuees.jpg", "200 OK", [("Content-Type", "image/jpeg")],
          b"\xff\xd8\xff\xe0 not really a photo", crawled)
    fetch("http://abqjournal.com/milley", "301 Moved Permanently",
          [("Location", f"https://www.abqjournal.com{SITES[RECAPTURED].path}")], b"", crawled)
    revisited = next(made for made in records if made.rec_type == "response"
                     and made.rec_headers.get_header("WARC-Target-URI").endswith("?utm_source=twitter"))
    revisit = writer.create_revisit_record(
        revisited.rec_headers.get_header("WARC-Target-URI"), revisited.rec_headers.get_header("WARC-Payload-Digest"),
        revisited.rec_headers.get_header("WARC-Target-URI"), revisited.rec_headers.get_header("WARC-Date"),
        warc_headers_dict={"WARC-Date": "2021-09-08T12:00:00Z",
                           "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(NAMESPACE, 'revisit')}>"})
    records.append(revisit)
    with out.open("wb") as stream:
        for made in records:
            member = io.BytesIO()
            WARCWriter(member, gzip=False).write_record(made)
            stream.write(gzip.compress(member.getvalue(), mtime=0))  # one gzip member per record, as WARCs are


if __name__ == "__main__":
    build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
