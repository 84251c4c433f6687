"""A scan stopped the way a scheduler stops a job (SIGTERM, or SIGKILL) takes its worker processes
with it, and the same command run again resumes it: it reuses the blocks the stopped run finished,
writes the tables an uninterrupted run writes, and leaves no staging or work folder.

Each test runs ``dedup scan --jobs 2`` as a real process on a corpus that keeps its workers busy
for a few seconds, and stops it once they exist (children of its pid, from /proc), or once it
has finished some blocks of a stage (their checkpoints, `dedup.resume`)."""

from __future__ import annotations

import filecmp
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import dedup
from dedup import report, resume
from dedup.read import InputError
from tests import synthetic

if not Path("/proc/self/stat").exists():
    pytest.skip("needs Linux's /proc to find a process's children", allow_module_level=True)
pytest.importorskip("pyarrow")

ROOT = Path(__file__).resolve().parent.parent
# Small blocks, so that every stage has many: the scan as `dedup scan` runs it, block sizes aside.
SMALL_BLOCKS = ("import sys; from dedup import cli, pipeline; pipeline.BLOCK_DOCS = 97; pipeline.PAIR_BLOCK = 41; "
                "pipeline.MIN_PAIR_BLOCK = 1; cli.main()")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("killed") / "corpus.parquet"
    synthetic.syndication_corpus(2000).to_parquet(path, index=False)
    return path


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/pid/stat after the command name (state first), or None when pid is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return stat[stat.rindex(")") + 2:].split()


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat(int(entry.name))
            if fields is not None and fields[1] == str(pid):
                found.append(int(entry.name))
    return found


def _running(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"  # a zombie has exited, waiting to be reaped


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def _scan(corpus: Path, out: Path, small_blocks: bool = False) -> subprocess.Popen:
    start = ["-c", SMALL_BLOCKS] if small_blocks else ["-m", "dedup"]
    return subprocess.Popen([sys.executable, *start, "scan", str(corpus), "--out", str(out), "--jobs", "2",
                             "--tables-only"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)


def _stop_once_workers_run(scan: subprocess.Popen, stop: signal.Signals) -> list[int]:
    """Send stop to the scan once it has two workers; return the workers' pids."""
    try:
        assert _wait_for(lambda: len(_children(scan.pid)) >= 2, 120), "the scan started no workers"
        workers = _children(scan.pid)
        scan.send_signal(stop)
        scan.wait(60)
    finally:
        if scan.poll() is None:
            scan.kill()
            scan.wait()
    return workers


@pytest.fixture()
def workers() -> Iterator[list[int]]:
    """The pids of the workers of the scans a test stops; any still running at its end are killed,
    so that a failing test leaves nothing behind on the machine."""
    pids: list[int] = []
    yield pids
    for pid in filter(_running, pids):
        os.kill(pid, signal.SIGKILL)


def _staging(out: Path) -> list[Path]:
    return list(out.glob(f"{report.STAGING}*"))


def _work(out: Path) -> list[Path]:
    return list(out.glob(f"{resume.WORK}*"))


@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_workers_die_with_a_stopped_scan(corpus, tmp_path, workers, stop):
    scan = _scan(corpus, tmp_path / "out")
    workers += _stop_once_workers_run(scan, stop)
    assert _wait_for(lambda: not any(map(_running, workers)), 5), "workers outlived their parent"
    if stop == signal.SIGTERM:  # an exit like any other: cleaned up on the way out, finished blocks kept to resume
        assert scan.returncode == 128 + signal.SIGTERM, scan.stderr.read().decode()
        assert not _staging(tmp_path / "out")
        assert all(resume.finished(work, "") for work in _work(tmp_path / "out"))


def test_a_rerun_after_a_killed_scan_completes_and_leaves_no_staging_or_work_folder(corpus, tmp_path, workers):
    out = tmp_path / "out"
    workers += _stop_once_workers_run(_scan(corpus, out), signal.SIGKILL)
    assert _staging(out), "the killed run left nothing to clean up"
    rerun = _scan(corpus, out)
    assert rerun.wait(300) == 0, rerun.stderr.read().decode()
    assert not _staging(out) and not list(out.glob(".*"))
    assert (out / report.MARKER).exists() and (out / "pairs.csv").exists()


@pytest.fixture(scope="module")
def uninterrupted(corpus, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("uninterrupted")
    scan = _scan(corpus, out, small_blocks=True)
    assert scan.wait(300) == 0, scan.stderr.read().decode()
    return out


@pytest.mark.parametrize("stage", ["prepared", "verified", "aligned"])
def test_a_scan_killed_in_a_stage_resumes_from_its_finished_blocks(corpus, uninterrupted, tmp_path, stage):
    out = tmp_path / "out"
    scan = _scan(corpus, out, small_blocks=True)
    try:
        assert _wait_for(lambda: resume.finished(_work(out)[0], stage) >= 2 if _work(out) else False, 120), \
            f"the scan finished no {stage} block"
        assert scan.poll() is None, "the scan ended before it could be killed"
        os.killpg(scan.pid, signal.SIGKILL)  # the scan and its workers at once, as kill -9 of a job
        scan.wait(60)
    finally:
        if scan.poll() is None:
            os.killpg(scan.pid, signal.SIGKILL)
    rerun = _scan(corpus, out, small_blocks=True)
    assert rerun.wait(300) == 0, rerun.stderr.read().decode()
    assert "reused its finished blocks" in rerun.stdout.read().decode()
    timings = json.loads((out / "timings.json").read_text())
    assert timings["resumed"][stage] >= 2
    for name in report.TABLES:
        assert filecmp.cmp(out / f"{name}.csv", uninterrupted / f"{name}.csv", shallow=False), name
    assert json.loads((out / "manifest.json").read_text()) == json.loads((uninterrupted / "manifest.json").read_text())
    assert not _staging(out) and not _work(out)


def test_a_run_with_other_inputs_removes_a_stopped_runs_work_and_a_live_runs_work_stops_it(tmp_path):
    stopped, live = tmp_path / f"{resume.WORK}stopped", tmp_path / f"{resume.WORK}live"
    for folder, pid in ((stopped, 2**22 + 1), (live, os.getpid())):  # no pid is above 2**22 on Linux
        folder.mkdir()
        (folder / resume.OWNER).write_text(json.dumps({"host": report.host(), "pid": pid}))
    with resume.work_folder(tmp_path, "other") as work:
        assert work.is_dir() and not stopped.exists() and live.exists()
    assert not work.exists()  # the run ended well: its work is done
    (live / resume.OWNER).write_text(json.dumps({"host": report.host(), "pid": os.getppid()}))
    with pytest.raises(report.OutputError, match="another run"), resume.work_folder(tmp_path, "live"):
        pass


@pytest.mark.skipif(report.started_at(os.getpid()) is None, reason="no /proc to tell a process's start")
def test_a_work_folder_whose_pid_now_names_another_process_is_not_a_live_run(tmp_path):
    """After a crash and a reboot the pid a run recorded may be given to another process: that
    process does not keep the folder, and does not stop a rerun of the same command."""
    parent = os.getppid()
    other_start = "an-earlier-boot:1"  # what a run killed before the reboot recorded
    reused, live = tmp_path / f"{resume.WORK}reused", tmp_path / f"{resume.WORK}live"
    for folder, started in ((reused, other_start), (live, report.started_at(parent))):
        folder.mkdir()
        (folder / resume.OWNER).write_text(json.dumps({"host": report.host(), "pid": parent, "started": started}))
    with resume.work_folder(tmp_path, "other"):
        assert not reused.exists() and live.exists()
    reused.mkdir()
    (reused / resume.OWNER).write_text(json.dumps({"host": report.host(), "pid": parent, "started": other_start}))
    with resume.work_folder(tmp_path, "reused") as work:  # the same command run again goes on
        assert work == reused
    with pytest.raises(report.OutputError, match="another run"), resume.work_folder(tmp_path, "live"):
        pass


def test_a_scan_that_fails_before_finishing_a_block_leaves_no_work_folder(tmp_path):
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="no records"):
        dedup.scan(tmp_path / "empty.jsonl", out=tmp_path / "out")
    assert not _work(tmp_path / "out") and not _staging(tmp_path / "out")
