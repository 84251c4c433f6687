"""The HTML report in a real browser (headless Chromium): hostile text stays inert text,
right-to-left text reads right to left, and the demo's AP paraphrase page shows its passages,
furniture and fact drift."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import chdir
from pathlib import Path

import pytest

import dedup
from dedup.html import pair_file_names, write_html
from dedup.read import documents_table
from dedup.relate import LINKED
from tests.synthetic import NEAR_COPY, STORY, in_hebrew_letters

CHROMIUM = shutil.which("chromium")
if CHROMIUM is None:
    pytest.skip("chromium not installed (apt-get install chromium); browser tests skipped", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install -e '.[test]')")

ROOT = Path(__file__).resolve().parent.parent
AP, PARAPHRASE = "004_90b2515fab799f03", "002_3514be37b1a43906"
SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
JS_URL = "javascript:window.__pwned=1"
PAYLOADS = (SCRIPT, IMG, JS_URL)
LONG_WORD = "Breaking" * 60  # must wrap, not widen the page


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    """One Chromium for the module: starting it is the slow part."""
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run"])
        yield browser
        browser.close()


@pytest.fixture()
def dialogs() -> list[str]:
    """The messages of dialogs (alert, confirm, …) the page opened."""
    return []


@pytest.fixture()
def page(browser, dialogs) -> Iterator[sync_api.Page]:
    """A fresh page that records and dismisses every dialog a payload might open."""
    page = browser.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    yield page
    page.close()


def _hostile(text: str) -> str:
    """A news text with the payloads in its lede and in a paragraph of its own."""
    lede, rest = text.split("\n\n", 1)
    return f"{lede} {SCRIPT}\n\n{rest}\n\nShare this story: {IMG} or visit {JS_URL} for more.\n"


@pytest.fixture(scope="module")
def hostile_report(tmp_path_factory) -> Path:
    documents = documents_table([
        {"doc_id": "wire", "text": _hostile(STORY), "title": f"Flood {SCRIPT} {LONG_WORD}", "url": JS_URL,
         "source": IMG, "date": "2024-03-02"},
        {"doc_id": f"copy {IMG}", "text": _hostile(NEAR_COPY), "title": IMG, "url": JS_URL,
         "source": SCRIPT, "date": "2024-03-03"},
        {"doc_id": f"short {SCRIPT}", "text": SCRIPT},  # one sentence of the copy: an excerpt of it
    ])
    result = dedup.scan(documents)
    assert result.pairs.relation.isin(LINKED).sum() == 2, result.pairs.reason.tolist()
    out = tmp_path_factory.mktemp("hostile")
    write_html(result, out)
    return out


@pytest.mark.parametrize("name", ["index.html", "pairs/pair-0001.html"])
def test_hostile_payloads_render_as_text_and_never_run(hostile_report, page, dialogs, name):
    page.goto((hostile_report / name).as_uri())
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert dialogs == []
    assert page.locator("script, img, [onerror]").count() == 0
    assert page.locator("a[href^='javascript']").count() == 0
    text = page.inner_text("body")
    for payload in PAYLOADS:
        assert payload in text, payload
    page.set_viewport_size({"width": 420, "height": 900})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory) -> tuple[Path, str]:
    """The demo's HTML report and the page of the AP story and its paraphrase (numbered in pairs order)."""
    with chdir(ROOT):
        result = dedup.scan("demo/articles", metadata="demo/metadata.csv", progress=False)
    out = tmp_path_factory.mktemp("demo")
    write_html(result, out)
    related = result.pairs[result.pairs.relation.isin(LINKED)].reset_index(drop=True)
    number = related.index[related.doc_a.isin([AP, PARAPHRASE]) & related.doc_b.isin([AP, PARAPHRASE])][0]
    return out, f"pairs/{pair_file_names(len(related))[number]}"


@pytest.fixture(scope="module")
def demo_pair_url(demo_report) -> str:
    out, pair = demo_report
    return (out / pair).as_uri()


def test_demo_paraphrase_page_shows_reworded_and_added_passages(page, demo_pair_url):
    page.goto(demo_pair_url)
    assert page.locator("tr.reworded").count() > 5
    assert page.locator("tr.added", has_text="very pragmatic and very businesslike").count() == 1
    assert page.locator("tr.reworded del").count() > 0 and page.locator("tr.reworded ins").count() > 0
    # The AP story is the source, on the left.
    assert AP in page.locator(".card").first.inner_text()


def test_demo_paraphrase_page_mutes_site_furniture_and_can_hide_it(page, demo_pair_url):
    page.goto(demo_pair_url)
    furniture = page.locator("tr.boilerplate", has_text="Newspapers in English")
    assert furniture.count() == 1
    assert "site furniture" in furniture.inner_text()
    page.click("label[for=hide-furniture]")
    assert furniture.is_hidden()
    assert page.locator("tr.reworded").first.is_visible()


def test_demo_paraphrase_page_lists_the_fact_drift_with_links_to_passages(page, demo_pair_url):
    page.goto(demo_pair_url)
    facts = page.locator("#facts")
    assert "scores" in facts.inner_text() and "hundreds" in facts.inner_text()
    link = facts.locator("tr.number_changed a")
    target = link.get_attribute("href")
    assert page.locator(target).count() == 1
    link.click()
    assert page.evaluate("location.hash") == target


@pytest.mark.parametrize("width", [1280, 420])
@pytest.mark.parametrize("which", ["index", "pair"])
def test_demo_pages_fit_the_window_without_horizontal_scrolling(page, demo_report, which, width):
    out, pair = demo_report
    page.set_viewport_size({"width": width, "height": 900})
    page.goto((out / (pair if which == "pair" else "index.html")).as_uri())
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.fixture(scope="module")
def hebrew_pair_url(tmp_path_factory) -> str:
    """The pair page of a story and its copy written in Hebrew letters, English ids aside."""
    documents = documents_table([
        {"doc_id": "wire", "text": in_hebrew_letters(STORY), "title": in_hebrew_letters("Flood"), "date": "2024-03-02"},
        {"doc_id": "copy", "text": in_hebrew_letters(NEAR_COPY), "title": in_hebrew_letters("Barriers"),
         "date": "2024-03-03"},
    ])
    out = tmp_path_factory.mktemp("hebrew")
    write_html(dedup.scan(documents), out)
    return (out / "pairs" / "pair-0001.html").as_uri()


def _direction(locator: sync_api.Locator) -> list[str]:
    return locator.evaluate_all("elements => elements.map(e => getComputedStyle(e).direction)")


def test_right_to_left_text_reads_right_to_left_beside_left_to_right_text(page, hebrew_pair_url, demo_pair_url):
    page.goto(hebrew_pair_url)
    cells = page.locator("td.text:not(.absent)")
    assert cells.count() > 5 and set(_direction(cells)) == {"rtl"}
    assert set(_direction(page.locator(".card h2"))) == {"rtl"}  # the titles
    assert set(_direction(page.locator(".card code"))) == {"ltr"}  # the ids, in Latin letters
    assert cells.first.evaluate("e => getComputedStyle(e).textAlign") in ("start", "right")
    page.goto(demo_pair_url)
    assert set(_direction(page.locator("td.text:not(.absent)"))) == {"ltr"}


@pytest.fixture(scope="module")
def web_report(tmp_path_factory) -> Path:
    """The web demo's report, scanned from its WARC: it has sources copying each other, and dates."""
    out = tmp_path_factory.mktemp("web")
    with chdir(ROOT):
        dedup.scan("demo/web/crawl.warc.gz", progress=False).write(out, parquet=False)
    return out


@pytest.mark.parametrize("section, plot", [("sources", "copying.svg"), ("timeline", "spread.svg")])
def test_the_index_shows_its_plots(page, web_report, section, plot):
    page.goto((web_report / "index.html").as_uri())
    image = page.locator(f"#{section} figure.plot img")
    assert image.get_attribute("src") == f"plots/{plot}"
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete", arg=image.element_handle())
    size = image.evaluate("img => [img.naturalWidth, img.naturalHeight, img.getBoundingClientRect().width]")
    assert size[0] > 200 and size[1] > 100, f"{plot} did not load: {size}"  # the report's CSP lets it in
    assert 0 < size[2] <= page.evaluate("document.documentElement.clientWidth")  # scaled to fit


@pytest.fixture(scope="module")
def paged_report(tmp_path_factory) -> tuple[Path, dedup.ScanResult]:
    """A report cut to 3 pairs and 3 rows a list, as a big run's is cut to --pair-pages."""
    from tests.synthetic import syndication_corpus

    corpus = syndication_corpus(120)
    records = [{"doc_id": str(row["id"]), "text": row["text"], "source": row["source"]}
               for row in corpus.to_dict("records")]
    result = dedup.scan(documents_table(records))
    out = tmp_path_factory.mktemp("paged")
    result.write(out, parquet=False, pair_pages=3)
    return out, result


def test_a_paged_index_shows_the_pairs_it_pages_says_how_many_more_and_links_work(page, paged_report):
    out, result = paged_report
    related = int(result.pairs.relation.isin(LINKED).sum())
    assert related > 3
    page.goto((out / "index.html").as_uri())
    rows = page.locator("#pairs tbody tr")
    assert rows.count() == 3
    notes = page.locator("#pairs p.more").all_inner_texts()
    assert notes == [f"… and {related - 3} more: all related pairs are in pairs.csv."]
    assert page.locator("#documents p.more, #stories p.more, #clusters p.more").count() >= 1
    for number in range(3):  # every paged pair's link opens its page, which shows its passages
        page.goto((out / "index.html").as_uri())
        page.locator("#pairs tbody tr").nth(number).locator("a").first.click()
        assert page.locator(".kind").count() > 0, page.url  # a row per passage, with its kind
