"""A scan stopped the way a scheduler stops a job (SIGTERM, or SIGKILL) takes its worker processes
with it, and the next run into the same folder completes and leaves no staging or work folder.

Each test runs ``dedup scan --jobs 2`` as a real process on a corpus that keeps its workers busy
for a few seconds, and stops it once they exist (children of its pid, from /proc)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dedup import report
from tests import synthetic

if not Path("/proc/self/stat").exists():
    pytest.skip("needs Linux's /proc to find a process's children", allow_module_level=True)
pytest.importorskip("pyarrow")

ROOT = Path(__file__).resolve().parent.parent
ENGINES = {"memory": ["--tables-only"], "low-memory": ["--low-memory"]}


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


def _scan(corpus: Path, out: Path, engine: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dedup", "scan", str(corpus), "--out", str(out), "--jobs", "2",
                             "--quiet", *ENGINES[engine]], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


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


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
def test_workers_die_with_a_stopped_scan(corpus, tmp_path, workers, engine, stop):
    scan = _scan(corpus, tmp_path / "out", engine)
    workers += _stop_once_workers_run(scan, stop)
    assert _wait_for(lambda: not any(map(_running, workers)), 5), "workers outlived their parent"
    if stop == signal.SIGTERM:  # an exit like any other: cleaned up on the way out
        assert scan.returncode == 128 + signal.SIGTERM, scan.stderr.read().decode()
        assert not _staging(tmp_path / "out")


def test_a_rerun_after_a_killed_scan_completes_and_leaves_no_staging_or_work_folder(corpus, tmp_path, workers):
    out = tmp_path / "out"
    workers += _stop_once_workers_run(_scan(corpus, out, "low-memory"), signal.SIGKILL)
    assert _staging(out), "the killed run left nothing to clean up"
    rerun = _scan(corpus, out, "low-memory")
    assert rerun.wait(300) == 0, rerun.stderr.read().decode()
    assert not _staging(out) and not list(out.glob(".*"))
    assert (out / report.MARKER).exists() and (out / "pairs.csv").exists()
