"""Web pages into document fields: HTML and WARC/ARC records → main text and page metadata.

Needs the ``web`` extra (``pip install 'dedup[web]'``); without it, reading a page is an
`InputError` of one line saying so.

A page's fields (`Page`):

``text``
    The main text as trafilatura extracts it: navigation, share buttons, comments, cookie
    banners and the rest of the page's chrome left out. Its blocks (paragraphs, headings, list
    items) are separated by blank lines, so each is a paragraph to `dedup.segment`.
``title``, ``author``, ``date``, ``site``
    From the page's metadata (``<title>``, OpenGraph, schema.org, ``<meta name="author">`` …)
    as trafilatura reads it; ``date`` is the publication date, else the capture date (the
    WARC record's ``WARC-Date``), as ``YYYY-MM-DD``.
``url``
    The page's canonical URL (``<link rel="canonical">``, ``og:url``), else the WARC record's
    target URI.
``source``
    The registered domain of ``url`` (``abqjournal.com`` for ``https://www.abqjournal.com/…``,
    ``bbc.co.uk`` for ``news.bbc.co.uk``), from tldextract's bundled public suffix list,
    never the network; else the site name; else "".
``encoding``
    As a browser decides it (w3lib): a byte order mark, the HTTP ``Content-Type`` charset, the
    page's ``<meta>`` declaration, else detection (`detect`, passed in).

A WARC or ARC file gives one `WarcEntry` per record, in file order: a `Page` for a
``response`` (or ``resource``) record holding an HTML page fetched with HTTP 200, and for
every other record the reason it is no page: ``warcinfo``, ``request``, ``metadata`` and
``revisit`` records, payloads that are not HTML (``image/png``), redirects (with their
target), other HTTP statuses, pages without main text. A record cut short (its block ends
before its ``Content-Length``) is a problem, and so is a file that cannot be read on from some
record: the entry names the record, and the file ends there.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

MISSING_EXTRA = "needs the web extra: pip install 'dedup[web]'"
NO_MAIN_TEXT = "no main text in the page (a section front, a form …)"
HTML_TYPES = ("text/html", "application/xhtml+xml")
PAGE_RECORDS = ("response", "resource")  # the WARC record types that carry a fetched document
# A payload without a Content-Type is taken for HTML if it opens as HTML does.
HTML_START = re.compile(rb"^\s*(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b", re.IGNORECASE | re.DOTALL)
SNIFF_BYTES = 1024
BLOCK_BREAKS = re.compile(r"\s*\n\s*")
# The publication date from the page's metadata and markup only: htmldate's extensive search guesses
# from any date-like string in the text ("in 2001" becomes 2001-01-01), and a wrong date orients pairs.
DATES = {"extensive_search": False, "original_date": True}

Detect = Callable[[bytes], "str | None"]


class MissingExtra(ImportError):
    """The web extra is not installed; the message says how to install it."""


@dataclass(frozen=True)
class Page:
    """One page's main text and metadata, as the module docstring describes them."""

    text: str
    title: str
    author: str
    date: str
    site: str
    url: str
    source: str
    encoding: str


@dataclass(frozen=True)
class WarcEntry:
    """One record of a WARC/ARC file: its page, or why it is none (``skipped``: not a page;
    ``problem``: a page that could not be read). ``number`` counts records from 1."""

    number: int
    page: Page | None = None
    skipped: str = ""
    problem: str = ""
    warning: str = ""


def require() -> None:
    """Raise MissingExtra unless the web extra's libraries import."""
    try:
        import tldextract  # noqa: F401
        import trafilatura  # noqa: F401
        import w3lib  # noqa: F401
        import warcio  # noqa: F401
    except ImportError as error:
        raise MissingExtra(f"{MISSING_EXTRA} ({error.name} is missing)") from error


def page(html: bytes, detect: Detect, content_type: str = "", url: str = "", captured: str = "") -> Page | None:
    """The page in ``html``'s bytes, or None when it holds no main text.

    content_type: the HTTP Content-Type header, if any; url: where it was fetched from, the
    fallback for a page without a canonical URL; captured: the capture date, the fallback
    for a page without a publication date."""
    from w3lib.encoding import html_to_unicode

    encoding, markup = html_to_unicode(content_type or None, html, auto_detect_fun=detect)
    return page_of_text(markup, url, captured, encoding)


def page_of_text(markup: str, url: str = "", captured: str = "", encoding: str = "") -> Page | None:
    """`page` for markup already decoded (an HTML column of a record file)."""
    import trafilatura

    found: Any = trafilatura.bare_extraction(markup, url=url or None, with_metadata=True, include_comments=False,
                                        include_tables=True, deduplicate=False, date_extraction_params=DATES)
    if found is None or not (found.text or "").strip():
        return None
    canonical = found.url or url
    site = _str(found.sitename)
    return Page(text="\n\n".join(BLOCK_BREAKS.split(found.text.strip())), title=_str(found.title),
                author=_str(found.author), date=_str(found.date) or captured[:10], site=site, url=canonical,
                source=registered_domain(canonical) or site, encoding=encoding)


def _str(value: Any) -> str:
    return str(value).strip() if value else ""


def registered_domain(url: str) -> str:
    """The domain under the public suffix that url's host belongs to, "" for none (an IP address, no URL)."""
    return _extractor()(url).top_domain_under_public_suffix if url else ""


@cache
def _extractor() -> Any:
    import tldextract

    # No suffix list URLs and no cache: the snapshot bundled with tldextract, never the network.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def warc_entries(path: Path, detect: Detect) -> Iterator[WarcEntry]:
    """The entries of a WARC or ARC file (plain or gzip), as the module docstring says."""
    from warcio.archiveiterator import ArchiveIterator

    # trafilatura and warcio log what they skip; the entries already say it.
    logging.getLogger("trafilatura").setLevel(logging.ERROR)
    number = 0
    with path.open("rb") as stream:
        records = iter(ArchiveIterator(stream, arc2warc=True))
        while True:
            number += 1
            try:
                record = next(records)
            except StopIteration:
                return
            # warcio reads untrusted bytes and fails on a cut-short or garbled header in more ways than
            # it declares (AttributeError on a missing URI, among others): any failure ends the file here.
            except Exception as error:  # noqa: BLE001
                why = f"cut short or garbled: {type(error).__name__}"
                yield WarcEntry(number, problem=f"unreadable WARC record ({why}), the file is read no further")
                return
            try:
                yield _entry(number, record, detect)
            except (EOFError, OSError, ValueError) as error:  # a gzip member or chunked body cut short
                yield WarcEntry(number, problem=f"truncated record ({_first_line(error)}), the file is read no further")
                return


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _entry(number: int, record: Any, detect: Detect) -> WarcEntry:
    kind = record.rec_type
    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
    if kind not in PAGE_RECORDS:
        return WarcEntry(number, skipped=f"WARC {kind} record: not a page" + (f" ({uri})" if uri else ""))
    status = record.http_headers.get_statuscode() if record.http_headers else "200"
    headers = record.http_headers or record.rec_headers
    content_type = headers.get_header("Content-Type") or ""
    if status != "200":
        location = headers.get_header("Location")
        why = f"redirect (HTTP {status} to {location})" if location else f"HTTP {status}"
        return WarcEntry(number, skipped=f"{why}: not a page ({uri})")
    payload = record.content_stream().read()
    if record.raw_stream.limit > 0:  # the file ended inside the record's block
        missing = record.raw_stream.limit
        return WarcEntry(number, problem=f"truncated record: {missing} bytes of its block missing ({uri})")
    mime = content_type.split(";")[0].strip().lower()
    if mime not in HTML_TYPES and (mime or not HTML_START.match(payload[:SNIFF_BYTES])):
        return WarcEntry(number, skipped=f"not HTML ({mime or 'no Content-Type'}): not a page ({uri})")
    found = page(payload, detect, content_type, uri, record.rec_headers.get_header("WARC-Date") or "")
    if found is None:
        return WarcEntry(number, skipped=f"{NO_MAIN_TEXT} ({uri})")
    declared = record.rec_headers.get_header("WARC-Truncated")
    return WarcEntry(number, page=found, warning=f"the crawler truncated the record ({declared})" if declared else "")
