"""Web input benchmark: the same articles scanned from a WARC of news pages and from plain text.

    python bench/web.py [ROOT] [--articles 1000] [--rounds 3] [--jobs 2] [--json web.json]

ROOT is the benchmarks folder (default ../shared/benchmarks). The first --articles BBC articles
and their extractive summaries (bench/loaders.py) are written twice under a temporary folder:
as plain text (JSONL), and as a gzipped WARC in which each text is a news page wrapped in the web
demo's chrome (`demo/web/build.py`: navigation, cookie banner, share buttons, a "most read" list
of other headlines, comments), each response after its request record, as a crawl stores them.
Then `dedup scan FILE --tables-only -q --jobs J` runs on each, alternating, --rounds times; the
median wall time of each and their ratio are printed, with what the two scans found: documents
scanned, records skipped, related pairs, summaries related to their own article, and whether
how many passages of the related pairs (their texts) hold a chrome phrase.
"""

from __future__ import annotations

import argparse
import io
import json
import runpy
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
from tabulate import tabulate
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from loaders import bbc

ROOT = Path(__file__).resolve().parent.parent
BUILD = runpy.run_path(str(ROOT / "demo" / "web" / "build.py"))
CHROME = ("cookies", "Share this story", "Most read", "patriot1776", "All rights reserved")


def write_corpora(documents: pd.DataFrame, folder: Path) -> tuple[Path, Path]:
    """The documents as JSONL and as a WARC of pages; doc ids travel as the pages' URLs."""
    text = folder / "articles.jsonl"
    documents[["doc_id", "text"]].rename(columns={"doc_id": "id"}).to_json(text, orient="records", lines=True)
    warc = folder / "articles.warc.gz"
    titles = [line.strip() for line in documents.text.str.split("\n", n=1).str[0]]
    with warc.open("wb") as stream:
        writer = WARCWriter(stream, gzip=True)
        for number, (doc_id, body) in enumerate(zip(documents.doc_id, documents.text)):
            site = BUILD["Site"]("news.example.com", f"/{doc_id}", "Example News", "2005-01-01")
            others = titles[number + 1:number + 6]  # a "most read" list of other headlines
            html = BUILD["page"](titles[number], body, site, others).encode()
            uri = f"https://{site.host}{site.path}"
            request = StatusAndHeaders(f"GET {site.path} HTTP/1.1", [("Host", site.host)], is_http_request=True)
            writer.write_record(writer.create_warc_record(uri, "request", payload=io.BytesIO(b""),
                                                          http_headers=request))
            response = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(uri, "response", payload=io.BytesIO(html),
                                                          http_headers=response))
    return text, warc


def scan(path: Path, out: Path, jobs: int) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "dedup", "scan", str(path), "--out", str(out), "--tables-only", "-q",
                    "--jobs", str(jobs)], check=True, cwd=ROOT)
    return time.perf_counter() - started


def findings(out: Path, truth: pd.DataFrame, ids: dict[str, str]) -> dict[str, object]:
    """What a scan found; ids maps the scan's doc ids to the corpus's (the WARC's come from URLs)."""
    documents = pd.read_parquet(out / "documents.parquet")
    pairs = pd.read_parquet(out / "pairs.parquet")
    related = pairs[pairs.relation.isin(["duplicate", "copy", "rewrite", "partial"])]
    found = {frozenset((ids.get(a, a), ids.get(b, b))) for a, b in zip(related.doc_a, related.doc_b)}
    passages = pd.read_parquet(out / "passages.parquet", columns=["a_text", "b_text"])
    texts = [*passages.a_text.dropna(), *passages.b_text.dropna()]
    return {"scanned": int((documents.status == "ok").sum()), "skipped": int((documents.status == "skipped").sum()),
            "related": len(related),
            "summaries_found": sum(frozenset(pair) in found for pair in zip(truth.summary, truth.article)),
            "chrome_passages": sum(any(phrase in text for phrase in CHROME) for text in texts)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("root", nargs="?", default=str(ROOT.parent / "shared" / "benchmarks"))
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json")
    args = parser.parse_args()
    documents, truth = bbc(Path(args.root))
    truth = truth.head(args.articles)
    documents = documents[documents.doc_id.isin(set(truth.summary) | set(truth.article))].reset_index(drop=True)
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        corpora = dict(zip(("text", "warc"), write_corpora(documents, folder)))
        seconds: dict[str, list[float]] = {name: [] for name in corpora}
        for _ in range(args.rounds):
            for name, path in corpora.items():
                seconds[name].append(scan(path, folder / name, args.jobs))
        warc_ids = pd.read_parquet(folder / "warc" / "documents.parquet")
        ids = dict(zip(warc_ids.doc_id, warc_ids.url.str.removeprefix("https://news.example.com/")))
        found = {"text": findings(folder / "text", truth, {}), "warc": findings(folder / "warc", truth, ids)}
    median = {name: statistics.median(times) for name, times in seconds.items()}
    rows = [[name, len(documents), f"{median[name]:.1f}", f"{median[name] / median['text']:.2f}",
             *found[name].values(), " ".join(f"{s:.1f}" for s in seconds[name])] for name in corpora]
    print(tabulate(rows, headers=["input", "texts", "median s", "× text", *found["text"].keys(), "rounds s"]))
    if args.json:
        Path(args.json).write_text(json.dumps({"articles": args.articles, "jobs": args.jobs, "seconds": seconds,
                                               "found": found}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
