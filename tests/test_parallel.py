"""Memory-bounded execution gives the same tables: pair chunks of any size, texts as Arrow
buffers or Python objects, and the large arrays released between stages."""

import os

import numpy as np
import pandas as pd
import pytest

from dedup import api, parallel
from dedup.params import Params
from dedup.read import documents_table, read_documents
from dedup.verify import SentenceIndex
from tests.synthetic import NEAR_COPY, SAME_TOPIC, STORY, TRIMMED

TABLES = ("documents", "segments", "candidates", "pairs", "matches", "passages", "facts", "clusters", "groups")


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    """The demo articles and a story with its near copy, trimmed copy and a same-topic text."""
    demo = read_documents(["demo/articles"], metadata="demo/metadata.csv")
    extra = documents_table({"doc_id": name, "text": text} for name, text in
                            (("story", STORY), ("near", NEAR_COPY), ("trimmed", TRIMMED), ("topic", SAME_TOPIC)))
    return pd.concat([demo, extra], ignore_index=True)


@pytest.fixture(scope="module")
def reference(corpus):
    return api.analyse(corpus, jobs=1)


def _assert_same_tables(result: api.ScanResult, reference: api.ScanResult) -> None:
    assert len(reference.pairs) >= 4  # several pairs, so chunks of one pair are several chunks
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(result, name), getattr(reference, name), obj=name)


def test_pair_chunks_of_one_pair_on_two_workers_give_the_same_tables(corpus, reference, monkeypatch):
    monkeypatch.setattr(parallel, "PAIRS_PER_CHUNK", 1)
    _assert_same_tables(api.analyse(corpus, jobs=2), reference)


def test_texts_held_as_python_objects_without_pyarrow_give_the_same_tables(corpus, reference, monkeypatch):
    monkeypatch.setattr(parallel, "pa", None)
    _assert_same_tables(api.analyse(corpus, jobs=2), reference)


def test_sentence_index_refuses_segments_not_grouped_by_document(corpus):
    _, segments, unit_hashes, _ = api.prepare(corpus, Params())
    first, second = segments.doc_id.unique()[:2]
    a, b = np.flatnonzero(segments.doc_id == first), np.flatnonzero(segments.doc_id == second)
    rest = np.flatnonzero(~segments.doc_id.isin([first, second]))
    interleaved = segments.iloc[np.r_[a[:1], b, a[1:], rest]].reset_index(drop=True)
    with pytest.raises(ValueError, match="each document's sentences together"):
        SentenceIndex.build(interleaved, unit_hashes, Params())


def test_a_scan_keeps_document_signatures_and_releases_the_rest(corpus, reference):
    _, _, _, fingerprints = api.prepare(corpus, Params())
    np.testing.assert_array_equal(reference.fingerprints.doc_sigs, fingerprints.doc_sigs)
    assert list(reference.fingerprints.doc_ids) == list(fingerprints.doc_ids)
    for kept, released in ((fingerprints.without_sentences(), "sent_sigs"),
                           (fingerprints.signatures_only(), "doc_values")):
        assert len(getattr(kept, released)) == 0
        assert getattr(kept, released).base is None  # a new array, not a view keeping the old one alive


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
