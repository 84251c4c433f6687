"""Corpus word frequencies counted in blocks sum to those of the whole corpus."""

from __future__ import annotations

import numpy as np
import pytest

from dedup.params import Params
from dedup.prepare import prepare
from dedup.read import documents_table
from dedup.weights import DocumentFrequencies
from tests.synthetic import syndication_corpus


@pytest.mark.parametrize("ranges", [1, 3, 64])
def test_frequencies_of_blocks_summed_a_range_at_a_time_are_the_whole_corpus(ranges):
    corpus = syndication_corpus(300)
    records = [{"doc_id": str(record["id"]), "text": record["text"]} for record in corpus.to_dict("records")]
    _, segments, _, _ = prepare(documents_table(records), Params())
    whole = DocumentFrequencies.of(segments).common()
    documents = segments.doc_id.unique()
    blocks = [segments[segments.doc_id.isin(part)] for part in np.array_split(documents, 7)]
    summed = DocumentFrequencies.common_of([DocumentFrequencies.of(block) for block in blocks], ranges)
    assert summed.documents == whole.documents == len(documents)
    assert np.array_equal(summed.hashes, whole.hashes) and np.array_equal(summed.counts, whole.counts)
    assert len(whole.hashes) > 100 and (whole.counts >= 2).all()  # words shared across blocks were summed
