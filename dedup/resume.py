"""Resuming a killed scan: its work folder, kept in the output folder, and the blocks it finished.

A scan writes what its blocks make into a work folder ``OUT/.dedup-work-KEY``, where KEY
names the run: the inputs (each file's path, size and modification time), the parameters,
the reading options and dedup's own code (`run_key`). Each finished block leaves a
checkpoint, a pickle written whole or not at all (to a temporary name, then renamed),
after every file the block writes; a block without one is done again. A run that was
killed or interrupted leaves its folder behind, and the same command run again takes each
finished block's checkpoint instead of doing the block again, so it gives the tables an
uninterrupted run gives. The folder goes once the run's files are published. A run finding
the folder of another run (another KEY) whose process has ended removes it; one whose
process still runs on this machine stops the new run with an error, since two runs
cannot share a folder. A process is known by its pid and, where Linux tells it, when it
started (`dedup.report.started_at`), so a pid given again after a reboot is not the run.

A scan of a DataFrame has no KEY (its rows are not files to compare): its work folder is
removed whatever happens.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dedup import report
from dedup.params import Params
from dedup.read import Fields, Paths, input_files

WORK = ".dedup-work-"
OWNER = "owner.json"


def run_key(paths: Paths, params: Params, fields: Fields, metadata: str | Path | None, strict: bool,
            dayfirst: bool | None, block_docs: int) -> str:
    """What a scan's tables depend on, as a hex digest: each input file's resolved path, size and
    modification time (a file changed since gives another key), the parameters, the reading
    options, the block size and the source of dedup's own modules."""
    digest = hashlib.sha256()
    files = [*input_files(paths), *([Path(metadata)] if metadata is not None else [])]
    for path in (path for path in files if path.is_file()):  # a missing file is for reading to report
        stat = path.stat()
        digest.update(f"{path.resolve()}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    options = {"params": params.to_dict(), "fields": asdict(fields), "strict": strict, "dayfirst": dayfirst,
               "block_docs": block_docs}
    digest.update(json.dumps(options, sort_keys=True, default=str).encode())
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.read_bytes())
    return digest.hexdigest()[:16]


@contextmanager
def work_folder(out: Path, key: str | None) -> Iterator[Path]:
    """The run's work folder in out, made or found again (see the module docstring); removed when
    the block ends without an error, or with one when key is None or no block was finished."""
    _remove_ended(out, key)
    folder = out / f"{WORK}{key or secrets.token_hex(8)}"
    owner = _owner(folder)
    if owner is not None and owner != _me() and _running(owner):
        raise report.OutputError(f"another run (process {owner['pid']}) is writing into {out}: wait for it to end")
    folder.mkdir(exist_ok=True)
    (folder / OWNER).write_text(json.dumps(_me()), encoding="utf-8")
    try:
        yield folder
    except BaseException:
        if key is None or not finished(folder, ""):  # nothing to resume from
            shutil.rmtree(folder, ignore_errors=True)
        raise
    shutil.rmtree(folder, ignore_errors=True)


def _me() -> dict[str, Any]:
    return {"host": report.host(), "pid": os.getpid(), "started": report.started_at(os.getpid())}


def _owner(folder: Path) -> dict[str, Any] | None:
    try:
        return json.loads((folder / OWNER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _running(owner: dict[str, Any]) -> bool:
    """Whether the owner still runs: on another machine sharing the folder, it is taken to. A
    process that now has its pid is not it (a run killed with its machine, and the pid given
    again after the reboot, would otherwise keep its folder and stop every run after it)."""
    return owner.get("host") != report.host() or report.alive(int(owner.get("pid", 0)), owner.get("started"))


def _remove_ended(out: Path, key: str | None) -> None:
    """Remove the work folders of other runs whose process has ended."""
    for folder in out.glob(f"{WORK}*"):
        owner = _owner(folder)
        if folder.name != f"{WORK}{key}" and (owner is None or not _running(owner)):
            shutil.rmtree(folder, ignore_errors=True)


def checkpoint(work: Path, stage: str, block: int | None = None) -> Path:
    """The checkpoint file of a stage's block (or of the whole stage)."""
    return work / (f"{stage}.done" if block is None else f"{stage}-{block:05d}.done")


def finished(work: Path, stage: str) -> int:
    """How many of a stage's blocks have a checkpoint (an earlier run finished them)."""
    return sum(1 for _ in work.glob(f"{stage}*.done"))


def kept(path: Path) -> Any:
    """The value a checkpoint holds."""
    with path.open("rb") as file:
        return pickle.load(file)


def keep(path: Path, value: Any) -> Any:
    """Write value to the checkpoint path, whole or not at all; return it."""
    partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
    with partial.open("wb") as file:
        pickle.dump(value, file, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(partial, path)
    return value
