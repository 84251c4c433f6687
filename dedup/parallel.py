"""Worker processes, in two shapes.

`Workers` runs the scan (`dedup.pipeline`): one pool, forked once while the parent is
small, takes tasks that carry their inputs (a block of documents or of pairs) and
returns each result in task order, so the tables are the same for any ``jobs``.
`map_chunks` runs the report's work (CSV pieces, pair pages) over consecutive chunks
of its rows on forked workers, which read the inputs from the parent's memory
(copy-on-write) instead of receiving a pickled copy; only results travel back.
Where fork is unavailable (Windows), the work runs in this process. dedup starts no
thread pools of its own (numba code is not ``parallel``), which is what makes forking
safe.

Workers die with their parent: on Linux each asks the kernel for SIGKILL when
the process that forked it dies (a parent killed with SIGKILL cannot stop its
workers, which would wait for tasks forever), and when the parent stops on an
error or a signal turned into an exit (``dedup scan`` turns SIGTERM into one)
it kills its workers instead of waiting for their tasks.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, TypeVar

import pandas as pd
import pyarrow as pa

try:  # Linux: a worker asks to be killed when its parent dies (prctl(2))
    _prctl = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # elsewhere nothing asks for it
    _prctl = None  # type: ignore[assignment]
PR_SET_PDEATHSIG = 1
try:  # glibc keeps the freed heap pages of a block's tables; malloc_trim gives them back
    _malloc_trim = ctypes.CDLL(None).malloc_trim
except (OSError, AttributeError):  # not glibc: nothing to do
    _malloc_trim = None  # type: ignore[assignment]

Result = TypeVar("Result")
Task = TypeVar("Task")
CHUNKS_PER_JOB = 4  # several chunks per worker even out uneven pairs

_state: Any = None  # the stage's inputs, set in the parent just before forking


def release_freed_memory() -> None:
    """Give freed heap memory back to the system after a block, so blocks do not stack up
    (Arrow's allocator, mimalloc or jemalloc, keeps its own)."""
    if _malloc_trim is not None:
        _malloc_trim(0)
    pa.default_memory_pool().release_unused()


def cores() -> int:
    """The processors this process may run on (its CPU affinity, as a batch scheduler or
    container sets it), the default number of jobs of `dedup scan`."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


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
    pool = _pool(min(jobs, len(parts)))
    try:
        results = list(pool.map(_run, [work] * len(parts), parts))
    except BaseException:
        _stop(pool)
        raise
    finally:
        _state = None
    pool.shutdown()
    return results


def _pool(jobs: int) -> ProcessPoolExecutor:
    """jobs forked worker processes that die with this process (`_die_with_parent`).
    ProcessPoolExecutor forks them in the thread that submits the first task."""
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"),
                               initializer=_die_with_parent, initargs=(os.getpid(),))


def _die_with_parent(parent: int) -> None:
    """In a new worker: ask the kernel to kill it when the thread that forked it ends (Linux),
    then stop if the parent died before the request was made. SIGTERM stops a worker: the
    handler it inherits from ``dedup scan`` would only end the task it runs."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if _prctl is not None:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Kill the pool's workers now, their tasks unfinished: for an error or an exit in the
    parent, where shutting the pool down would wait for the tasks running."""
    workers = list(pool._processes.values())  # private, but the pool's only handle on them before Python 3.14
    pool.shutdown(wait=False, cancel_futures=True)
    for worker in workers:
        worker.kill()


def shared_strings(column: pd.Series) -> Any:
    """A string column as one Arrow array, which `strings_at` reads: one buffer instead of a
    Python object per string, which a forked worker can read without copying its pages
    (reading a Python str bumps its reference count, which copies the page holding it)."""
    strings = pa.array(column)
    return strings.combine_chunks() if isinstance(strings, pa.ChunkedArray) else strings


def strings_at(strings: Any, start: int, stop: int) -> list[str]:
    """Rows start to stop of a `shared_strings` array, as Python strs."""
    return strings[start:stop].tolist()


class Workers:
    """Worker processes that take tasks one by one, for an engine that streams blocks through
    its stages (`dedup.pipeline`): unlike `map_chunks`, the tasks carry their inputs (pickled),
    so one pool, forked once while the parent is small, serves every stage.

    ``with Workers(jobs) as workers: for result in workers.imap(work, tasks): ...``
    With jobs == 1, or where fork is unavailable, the tasks run in this process.
    """

    TASKS_PER_JOB = 2  # queued tasks per worker: keeps both busy, and bounds what waits in memory

    def __init__(self, jobs: int) -> None:
        if jobs < 1:
            raise ValueError(f"jobs must be at least 1, got {jobs}")
        self.jobs = jobs
        self.pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Workers:
        if self.jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
            self.pool = _pool(self.jobs)
        return self

    def __exit__(self, error: type[BaseException] | None, *exc: object) -> None:
        if self.pool is None:
            return
        if error is not None:
            _stop(self.pool)
        else:
            self.pool.shutdown(cancel_futures=True)

    def imap(self, work: Callable[[Task], Result], tasks: Iterable[Task]) -> Iterator[Result]:
        """work(task) for each task, in order; at most TASKS_PER_JOB tasks per worker wait at a time."""
        if self.pool is None:
            yield from map(work, tasks)
            return
        pending: deque[Future] = deque()
        for task in tasks:
            pending.append(self.pool.submit(work, task))
            if len(pending) > self.jobs * self.TASKS_PER_JOB:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _run(work: Callable[[Any, slice], Result], part: slice) -> Result:
    return work(_state, part)
