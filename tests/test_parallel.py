"""Worker processes return results in task order, and the sentence index checks its input."""

import os

import numpy as np
import pandas as pd
import pytest

from dedup import parallel
from dedup.params import Params
from dedup.prepare import prepare
from dedup.read import documents_table, read_documents
from dedup.verify import SentenceIndex
from tests.synthetic import NEAR_COPY, SAME_TOPIC, STORY, TRIMMED


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    """The demo articles and a story with its near copy, trimmed copy and a same-topic text."""
    demo = read_documents(["demo/articles"], metadata="demo/metadata.csv")
    extra = documents_table({"doc_id": name, "text": text} for name, text in
                            (("story", STORY), ("near", NEAR_COPY), ("trimmed", TRIMMED), ("topic", SAME_TOPIC)))
    return pd.concat([demo, extra], ignore_index=True)


def test_sentence_index_refuses_segments_not_grouped_by_document(corpus):
    _, segments, unit_hashes, _ = prepare(corpus, Params())
    first, second = segments.doc_id.unique()[:2]
    a, b = np.flatnonzero(segments.doc_id == first), np.flatnonzero(segments.doc_id == second)
    rest = np.flatnonzero(~segments.doc_id.isin([first, second]))
    interleaved = segments.iloc[np.r_[a[:1], b, a[1:], rest]].reset_index(drop=True)
    with pytest.raises(ValueError, match="each document's sentences together"):
        SentenceIndex.build(interleaved, unit_hashes, Params())


def _pid_and_square(n: int) -> tuple[int, int]:
    if n < 0:
        raise ValueError(f"task {n} failed")
    return os.getpid(), n * n


@pytest.mark.parametrize("jobs", [1, 2])
def test_workers_give_results_in_task_order_with_more_tasks_than_they_queue(jobs):
    with parallel.Workers(jobs) as workers:
        results = list(workers.imap(_pid_and_square, range(20)))  # 20 > 2 per worker queued
    assert [square for _, square in results] == [n * n for n in range(20)]
    in_parent = {pid for pid, _ in results} == {os.getpid()}
    assert in_parent == (jobs == 1)


def test_a_worker_error_reaches_the_caller_and_jobs_are_validated():
    with parallel.Workers(2) as workers, pytest.raises(ValueError, match="task -1 failed"):
        list(workers.imap(_pid_and_square, [1, 2, -1, 3]))
    with pytest.raises(ValueError, match="jobs must be at least 1"):
        parallel.Workers(0)
