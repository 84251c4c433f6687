"""Run a stage over consecutive chunks of its rows in worker processes (``jobs``).

The per-document stages (segment, fingerprint) and the per-pair stages (verify,
align) give each row's result independently of the others, so chunks can run
anywhere and be concatenated in order: the tables are the same for any ``jobs``.

Workers are forked, so they read the stage's inputs from the parent's memory
(copy-on-write) instead of receiving a pickled copy; only results travel back.
Where fork is unavailable (Windows), the chunks run in this process. dedup
starts no thread pools of its own (numba code is not ``parallel``), which is
what makes forking safe.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

Result = TypeVar("Result")
CHUNKS_PER_JOB = 4  # several chunks per worker even out uneven pairs

_state: Any = None  # the stage's inputs, set in the parent just before forking


def chunks(n: int, jobs: int, max_rows: int | None = None) -> list[slice]:
    """Consecutive slices covering range(n): about CHUNKS_PER_JOB per job, at most max_rows rows each."""
    size = max(1, -(-n // (max(jobs, 1) * CHUNKS_PER_JOB)))
    if max_rows is not None:
        size = min(size, max_rows)
    return [slice(start, min(start + size, n)) for start in range(0, n, size)]


def map_chunks(work: Callable[[Any, slice], Result], state: Any, parts: list[slice], jobs: int) -> list[Result]:
    """[work(state, part) for part in parts], on up to jobs processes; results in order."""
    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    if jobs == 1 or len(parts) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [work(state, part) for part in parts]
    global _state
    _state = state
    try:
        with ProcessPoolExecutor(min(jobs, len(parts)), mp_context=multiprocessing.get_context("fork")) as pool:
            return list(pool.map(_run, [work] * len(parts), parts))
    finally:
        _state = None


def _run(work: Callable[[Any, slice], Result], part: slice) -> Result:
    return work(_state, part)
