"""Writing a report folder: CSV cells a spreadsheet would run stay text, a folder never mixes two
runs (staging, publishing, the completion marker), an unwritable folder fails before the scan,
and the summary names each document by id and title."""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from contextlib import chdir
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import dedup
from dedup import pipeline, report
from dedup.cli import app
from dedup.read import documents_table
from tests.synthetic import DEMO, NEAR_COPY, STORY, TRIMMED

ROOT = Path(__file__).resolve().parent.parent
HYPERLINK = '=HYPERLINK("http://example.org/x","click")'
BYLINE = "- BY DANA WHITFIELD"
runner = CliRunner()


def _spreadsheet_corpus() -> pd.DataFrame:
    """A story and its trimmed copy whose id, title, source and first line a spreadsheet would run."""
    story = STORY.replace("By Dana Whitfield", BYLINE)
    return documents_table([
        {"doc_id": "+wire", "text": story, "title": HYPERLINK, "source": "@wire", "date": "2024-03-02"},
        {"doc_id": "trimmed", "text": TRIMMED.replace("By Dana Whitfield", BYLINE), "title": "-5 degrees",
         "date": "2024-03-03"},
    ])


@pytest.fixture(scope="module")
def spreadsheet_result() -> dedup.ScanResult:
    return dedup.scan(_spreadsheet_corpus())


def _cells(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as rows:
        return list(csv.DictReader(rows))


def test_csv_safe_quotes_cells_a_spreadsheet_would_run_and_nothing_else():
    table = pd.DataFrame({"text": ["=1+2", "+3", "-4", "@SUM(A1)", "\tx", "\ry", "plain", "a=b", None],
                          "number": [-1.5, 2.0, -3.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0]})
    safe = report.csv_safe(table)
    assert safe.text[:6].tolist() == ["'=1+2", "'+3", "'-4", "'@SUM(A1)", "'\tx", "'\ry"]
    pd.testing.assert_series_equal(safe.text[6:], table.text[6:])  # text, a missing value, and the type
    pd.testing.assert_series_equal(safe.number, table.number)  # numbers are not formulas
    assert table.text[0] == "=1+2"  # the caller's table is left as it was


def test_csv_cells_that_would_run_as_formulas_get_a_quote_and_parquet_keeps_them_exact(spreadsheet_result, tmp_path):
    spreadsheet_result.write(tmp_path, tables_only=True)
    documents = {row["doc_id"]: row for row in _cells(tmp_path / "documents.csv")}
    assert documents["'+wire"]["title"] == "'" + HYPERLINK and documents["'+wire"]["source"] == "'@wire"
    assert documents["trimmed"]["title"] == "'-5 degrees"
    passages = _cells(tmp_path / "passages.csv")
    assert "'" + BYLINE in [row["a_text"] for row in passages]
    pairs = _cells(tmp_path / "pairs.csv")
    assert float(pairs[0]["jaccard"]) == pytest.approx(spreadsheet_result.pairs.jaccard[0], abs=1e-4)
    exact = pd.read_parquet(tmp_path / "documents.parquet").set_index("doc_id")
    assert exact.loc["+wire", "title"] == HYPERLINK and exact.loc["trimmed", "title"] == "-5 degrees"
    assert BYLINE in pd.read_parquet(tmp_path / "passages.parquet").a_text.tolist()


def test_csv_raw_writes_the_cells_as_they_are_from_python_and_the_command_line(spreadsheet_result, tmp_path):
    spreadsheet_result.write(tmp_path / "api", tables_only=True, csv_raw=True)
    corpus = tmp_path / "corpus.parquet"
    _spreadsheet_corpus().rename(columns={"doc_id": "id"}).to_parquet(corpus, index=False)
    assert runner.invoke(app, ["scan", str(corpus), "--out", str(tmp_path / "cli"), "--csv-raw",
                               "--tables-only"]).exit_code == 0
    dedup.scan(corpus, out=tmp_path / "scan", csv_raw=True)
    for out in ("api", "cli", "scan"):
        titles = {row["doc_id"]: row["title"] for row in _cells(tmp_path / out / "documents.csv")}
        assert titles["+wire"] == HYPERLINK, out
    assert "@wire" in {row["source"] for row in _cells(tmp_path / "scan" / "outlets.csv")}  # the report too
    spreadsheet_result.write(tmp_path / "safe")
    assert "'@wire" in {row["source"] for row in _cells(tmp_path / "safe" / "outlets.csv")}


def _files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file()}


@pytest.fixture(scope="module")
def demo() -> dedup.ScanResult:
    with chdir(ROOT):
        return dedup.scan("demo/articles", metadata="demo/metadata.csv", progress=False)


@pytest.fixture(scope="module")
def one_pair() -> dedup.ScanResult:
    return dedup.scan(documents_table([{"doc_id": "story", "text": STORY, "date": "2024-03-02"},
                                          {"doc_id": "near", "text": NEAR_COPY, "date": "2024-03-03"}]))


def test_a_crash_while_writing_the_html_leaves_the_previous_run_whole(demo, one_pair, tmp_path, monkeypatch):
    demo.write(tmp_path)
    before = _files(tmp_path)

    def crash(*args, **kwargs):
        raise RuntimeError("disk gone")

    monkeypatch.setattr(report, "write_html", crash)
    with pytest.raises(RuntimeError, match="disk gone"):
        one_pair.write(tmp_path)
    assert _files(tmp_path) == before  # no new table beside the old pages, and no staging folder


def test_a_run_replaces_the_previous_runs_files_and_leaves_the_users(demo, one_pair, tmp_path):
    demo.write(tmp_path)
    assert (tmp_path / "pairs" / "pair-0002.html").exists()
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    one_pair.write(tmp_path)
    assert (tmp_path / "pairs" / "pair-0001.html").exists() and not (tmp_path / "pairs" / "pair-0002.html").exists()
    assert (tmp_path / "notes.txt").read_text(encoding="utf-8") == "mine"


def test_tables_only_into_an_old_report_folder_removes_the_stale_report(demo, tmp_path):
    demo.write(tmp_path)
    written = demo.write(tmp_path, tables_only=True)
    names = {path.name for path in tmp_path.iterdir()}
    assert not names & {"index.html", "summary.md", "pairs"}
    assert names == {path.name for path in written}


def test_the_completion_marker_is_written_last_and_lists_the_runs_files(demo, tmp_path):
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    written = demo.write(tmp_path)
    assert written[-1] == tmp_path / report.MARKER
    marker = json.loads(written[-1].read_text(encoding="utf-8"))
    assert marker["input_sha256"] == demo.manifest["input_sha256"]
    assert marker["files"] == sorted(set(_files(tmp_path)) - {report.MARKER, "notes.txt"})


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_run_removes_the_staging_folders_of_runs_that_died_on_this_machine(one_pair, tmp_path):
    host = report.host()
    dead = tmp_path / f"{report.STAGING}{host}-{_dead_pid()}-0123abcd"
    running = tmp_path / f"{report.STAGING}{host}-{os.getpid()}-0123abcd"
    elsewhere = tmp_path / f"{report.STAGING}other-host-{_dead_pid()}-0123abcd"
    for folder in (dead, running, elsewhere):
        (folder / "work").mkdir(parents=True)
    one_pair.write(tmp_path)
    assert not dead.exists() and running.exists() and elsewhere.exists()
    assert len(list(tmp_path.glob(f"{report.STAGING}*"))) == 2  # this run's own is gone too


def _never_read(*args, **kwargs):
    raise AssertionError("the input was read before the output folder was checked")


@pytest.mark.parametrize("blocker", ["file", "under a file"])
def test_an_unwritable_out_fails_before_reading_with_a_one_line_error(tmp_path, monkeypatch, blocker):
    (tmp_path / "file").write_text("not a folder", encoding="utf-8")
    out = tmp_path / "file" if blocker == "file" else tmp_path / "file" / "report"
    monkeypatch.setattr(pipeline, "iter_documents", _never_read)
    for extra in ([], ["--low-memory"], ["--tables-only"]):
        run = runner.invoke(app, ["scan", str(DEMO / "articles"), "--out", str(out), *extra])
        assert run.exit_code == 2, run.output
        assert run.output.startswith(f"dedup: error: cannot write the output to {out}: ")
        assert run.output.count("\n") == 1
    with pytest.raises(dedup.OutputError, match="cannot write the output"):
        dedup.scan(DEMO / "articles", out=out)


def test_the_summary_names_every_document_by_id_and_title(demo):
    text = report.summary(demo)
    titles = dict(zip(demo.documents.doc_id, demo.documents.title))
    body = text[:text.index("## Documents")] + text[text.index("## Candidates rejected"):]
    named = re.findall(r"`([^`]+)`( \(([^)]*)\))?", body)
    assert len(named) > 10
    for doc_id, _, title in named:
        assert title == titles[doc_id], doc_id


def test_the_summary_gives_how_much_of_each_text_reappears_with_the_other_measures_explained(demo):
    text = report.summary(demo)
    pair = demo.related().iloc[0]
    shares = [round(100 * min(1, sum(pair[f"{side}_{level}"] for level in ("verbatim", "near", "reworded"))))
              for side in "ab"]
    assert f"| {shares[0]}% / {shares[1]}% |" in text
    assert "Jaccard containment" in text and "of the source reappears in the copy" in text
