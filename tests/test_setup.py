"""Set-up as a new user meets it: `make demo` installs the core and pyarrow only, `make test` adds
the test extras (once, whichever came first), and the test run says why it skipped a test."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

if shutil.which("make") is None:
    pytest.skip("make not installed", allow_module_level=True)


@pytest.fixture()
def clone(tmp_path: Path) -> Path:
    """A folder with the project's Makefile and pyproject.toml and no .venv yet."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def _commands(folder: Path, *arguments: str) -> str:
    """What make would run (-n) or, with -t, marks as done without running it."""
    return subprocess.run(["make", *arguments], cwd=folder, capture_output=True, text=True, check=True).stdout


def test_make_demo_installs_the_core_pyarrow_and_the_web_extra_but_not_the_test_extras(clone):
    commands = _commands(clone, "-n", "demo")
    assert "-m venv" in commands and "'.[parquet,web]'" in commands and "dedup scan demo/articles" in commands
    assert "dedup scan demo/web/crawl.warc.gz" in commands
    assert ".[test]" not in commands


def test_make_test_installs_the_test_extras_on_a_fresh_clone_and_once_after_make_demo(clone):
    fresh = _commands(clone, "-n", "test")
    assert "-m venv" in fresh and "'.[test]'" in fresh and "-m pytest" in fresh
    (clone / ".venv").mkdir()
    _commands(clone, "-t", "demo")  # as if make demo had run
    after_demo = _commands(clone, "-n", "test")
    assert "-m venv" not in after_demo and "'.[test]'" in after_demo
    _commands(clone, "-t", "test")  # as if make test had run
    again = _commands(clone, "-n", "test")
    assert "pip install" not in again and "-m pytest" in again


def test_the_test_run_says_why_it_skipped_a_test(tmp_path):
    (tmp_path / "test_skipping.py").write_text(
        "import pytest\n\n\ndef test_in_a_browser():\n    pytest.skip('chromium not installed here')\n",
        encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"), "--rootdir",
                          str(tmp_path), "-p", "no:cacheprovider", str(tmp_path / "test_skipping.py")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout
    assert "SKIPPED" in run.stdout and "chromium not installed here" in run.stdout
