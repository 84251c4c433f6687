"""Writing a report folder: a folder never mixes two runs (staging, publishing, the completion
marker), and an unwritable folder fails before the scan."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from contextlib import chdir
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import dedup
from dedup import api, report, spill
from dedup.cli import app
from dedup.read import documents_table
from tests.synthetic import DEMO, NEAR_COPY, STORY, TRIMMED

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def _files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*"))
            if path.is_file()}


@pytest.fixture(scope="module")
def demo() -> dedup.ScanResult:
    with chdir(ROOT):
        return dedup.scan("demo/articles", metadata="demo/metadata.csv", progress=False)


@pytest.fixture(scope="module")
def one_pair() -> dedup.ScanResult:
    return dedup.analyse(documents_table([{"doc_id": "story", "text": STORY, "date": "2024-03-02"},
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
    host = report._host()
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
    monkeypatch.setattr(api, "read_documents", _never_read)
    monkeypatch.setattr(spill, "iter_documents", _never_read)
    for extra in ([], ["--low-memory"], ["--tables-only"]):
        run = runner.invoke(app, ["scan", str(DEMO / "articles"), "--out", str(out), *extra])
        assert run.exit_code == 2, run.output
        assert run.output.startswith(f"dedup: error: cannot write the output to {out}: ")
        assert run.output.count("\n") == 1
    with pytest.raises(dedup.OutputError, match="cannot write the output"):
        dedup.scan(DEMO / "articles", out=out)
    with pytest.raises(dedup.OutputError, match="cannot write the output"):
        dedup.scan_to_disk(DEMO / "articles", out)
