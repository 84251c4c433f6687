"""The report rendered from a run's stored tables: after --tables-only, for the pairs it did not
show, and cut to the most telling pairs on a big run, saying how many more there are."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import dedup
from dedup import report, store
from dedup.cli import app
from tests.synthetic import DEMO

pytest.importorskip("pyarrow")
runner = CliRunner()
DEMO_ARGS = [str(DEMO / "articles"), "--metadata", str(DEMO / "metadata.csv"), "-q"]


def _scan(out: Path, *options: str) -> Path:
    run = runner.invoke(app, ["scan", *DEMO_ARGS, "--out", str(out), *options])
    assert run.exit_code == 0, run.output
    return out


@pytest.fixture(scope="module")
def full(tmp_path_factory) -> Path:
    return _scan(tmp_path_factory.mktemp("full"))


def _report_files(out: Path) -> list[str]:
    drawn = [name for name in report.REPORT_FILES if (out / name).exists()]  # a plot only with data to plot
    return [*drawn, *sorted(f"pairs/{page.name}" for page in (out / "pairs").iterdir())]


def test_report_after_tables_only_is_the_report_the_scan_writes(full, tmp_path):
    out = _scan(tmp_path / "later", "--tables-only")
    tables = {path.name: path.read_bytes() for path in out.glob("*.csv")}
    assert "outlets.csv" not in tables  # a report file
    run = runner.invoke(app, ["report", str(out)])
    assert run.exit_code == 0, run.output
    assert _report_files(out) == _report_files(full) and len(_report_files(out)) > 3
    for name in _report_files(full):
        assert filecmp.cmp(full / name, out / name, shallow=False), name
    assert {path.name: path.read_bytes() for path in out.glob("*.csv") if path.name != "outlets.csv"} == tables
    listed = json.loads((out / report.MARKER).read_text())["files"]
    assert listed == json.loads((full / report.MARKER).read_text())["files"]  # the run holds its report now


def test_pair_pages_shows_the_most_telling_pairs_says_how_many_more_and_renders_any_other(full, tmp_path):
    out = _scan(tmp_path / "one", "--pair-pages", "1")
    pairs = pd.read_parquet(out / "pairs.parquet")
    related = pairs[pairs.relation != "rejected"]
    assert len(related) == 2 and not (related.figures_changed > 0).any()
    strongest = related.loc[related.confidence.idxmax()]
    assert [page.name for page in (out / "pairs").iterdir()] == ["pair-0001.html"]
    assert strongest.doc_a in (out / "pairs" / "pair-0001.html").read_text(encoding="utf-8")
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "… and 1 more: all 2 related pairs are in pairs.csv." in summary
    assert "more: all 5 records are in documents.csv" in summary  # a list of 5 cut to 1 row, and said
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "… and 1 more: all related pairs are in <code>pairs.csv</code>." in index

    other = related.loc[related.confidence.idxmin()]
    page = tmp_path / "other.html"
    run = runner.invoke(app, ["report", str(out), "--pair", other.doc_b, other.doc_a, "--html", str(page)])
    assert run.exit_code == 0, run.output
    passages = pd.read_parquet(out / "passages.parquet")
    ours = passages[passages.doc_a.isin([other.doc_a, other.doc_b]) & passages.doc_b.isin([other.doc_a, other.doc_b])]
    html = page.read_text(encoding="utf-8")
    assert len(ours) > 3 and all(f'id="p{n}"' in html for n in ours.passage_no)
    # The same page the full report gives that pair, but for its link back to an index.
    pages = {f"pairs/{page.name}": page.read_text(encoding="utf-8") for page in (full / "pairs").iterdir()}
    in_full = [name for name, text in pages.items() if other.doc_a in text and other.doc_b in text]
    assert len(in_full) == 1
    assert (full / in_full[0]).read_text(encoding="utf-8").replace(
        '<nav><a href="../index.html">← report</a></nav>\n', "") == html


def test_telling_pairs_puts_changed_figures_first_then_confidence_and_keeps_table_order():
    pairs = pd.DataFrame({"doc_a": list("abcdef"), "doc_b": list("ghijkl"),
                          "relation": ["duplicate", "rejected", "rewrite", "copy", "partial", "copy"],
                          "confidence": [0.99, 0.2, 0.7, 0.95, 0.6, 0.8],
                          "figures_changed": [0, 0, 0, 0, 2, 0]})
    assert list(report.telling_pairs(pairs, 3).doc_a) == ["a", "d", "e"]  # e: its figures changed
    assert list(report.telling_pairs(pairs, 10).doc_a) == ["a", "c", "d", "e", "f"]  # all related
    assert report.telling_pairs(pairs, 0).empty


def test_report_pair_names_a_pair_the_scan_does_not_hold(full):
    run = runner.invoke(app, ["report", str(full), "--pair", "nobody", "001_7c40a52384c0c67a"])
    assert run.exit_code == 2
    assert "'nobody' and '001_7c40a52384c0c67a' are not a candidate pair" in run.output
    assert run.output.count("\n") == 1


def test_report_of_a_folder_without_a_finished_run_or_its_parquet_tables_fails_in_one_line(tmp_path):
    run = runner.invoke(app, ["report", str(tmp_path)])
    assert run.exit_code == 2 and "holds no finished scan" in run.output and run.output.count("\n") == 1
    out = _scan(tmp_path / "csv", "--tables-only", "--no-parquet")
    run = runner.invoke(app, ["report", str(out)])
    assert run.exit_code == 2 and "no documents.parquet" in run.output and run.output.count("\n") == 1


def test_pair_pages_is_checked_before_anything_is_read(tmp_path):
    with pytest.raises(ValueError, match="pair_pages must be a whole number"):
        dedup.scan(tmp_path / "no such input", out=tmp_path / "out", pair_pages=-1)
    assert runner.invoke(app, ["scan", *DEMO_ARGS, "--pair-pages", "-1"]).exit_code == 2


def test_a_stored_scan_reads_the_rows_of_chosen_pairs_batch_by_batch_as_the_whole_table_gives_them(
        full, monkeypatch):
    monkeypatch.setattr(store, "READ_BATCH", 3)  # every per-pair table in many batches
    stored = store.StoredScan.open(full, report.MARKER)
    pairs = stored.table("pairs")
    chosen = pairs[pairs.relation != "rejected"].iloc[[1]]
    flipped = chosen.rename(columns={"doc_a": "doc_b", "doc_b": "doc_a"})  # either order names the pair
    for name in store.PAIR_TABLES:
        whole = pd.read_parquet(full / f"{name}.parquet")
        expected = whole[(whole.doc_a.isin([chosen.doc_a.iat[0], chosen.doc_b.iat[0]]))
                         & (whole.doc_b.isin([chosen.doc_a.iat[0], chosen.doc_b.iat[0]]))].reset_index(drop=True)
        assert len(expected) > 3 or name != "passages"
        for asked in (chosen, flipped):
            pd.testing.assert_frame_equal(stored.pair_rows(name, asked), expected)
