"""Unit tests of bench/corpus.py on a few in-test texts (no benchmark data needed)."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import corpus  # noqa: E402

BASES = [
    "Council approves new harbour bridge\n\n"
    "The city council voted on Monday to build a second bridge across the harbour, ending a debate "
    "that has lasted more than ten years.\n\n"
    "The bridge will cost 240 million pounds and carry two lanes of traffic, a tram line and a "
    "cycle path. Work is expected to start next spring.\n\n"
    "Opponents said the money would be better spent on ferries.\n\n"
    "Engineers said the structure would be designed to withstand storms stronger than any "
    "recorded in the region, and that shipping would not be interrupted during construction.",

    "Strike closes three factories\n\n"
    "Workers at three textile factories walked out on Thursday after talks over wages collapsed, "
    "the union said.\n\n"
    "Management offered a rise of 3 percent; the union asked for 7 percent.\n\n"
    "Production of cotton cloth across the province fell by about a third, according to an "
    "industry association, which warned that export orders could be lost if the dispute "
    "continued into next month.\n\n"
    "Both sides said they were willing to meet again.",

    "Museum returns stolen paintings\n\n"
    "Four paintings stolen from a private collection in 1994 were handed back to their owners "
    "on Wednesday after being found in a warehouse.\n\n"
    "Police traced the works through an auction catalogue.\n\n"
    "The paintings, landscapes by a little-known northern painter, were undamaged apart from "
    "some scratches on one frame. Detectives said nobody had yet been charged and that the "
    "investigation into how they reached the warehouse was continuing.",
]
N_DOCS = 100


def paragraphs(text: str) -> list[str]:
    return text.split("\n\n")


def long_words(text: str) -> set[str]:
    return {word.casefold() for word in re.findall(r"[A-Za-z]{4,}", text)}


def skeleton(text: str) -> str:
    """The text with every ASCII letter replaced by 'x': what enciphering keeps."""
    return re.sub(r"[A-Za-z]", "x", text)


@pytest.fixture(scope="module")
def built() -> tuple[pd.DataFrame, pd.DataFrame]:
    return corpus.build_from(BASES, N_DOCS, seed=7)


def test_truth_covers_every_injected_copy(built: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    documents, truth = built
    assert len(documents) == N_DOCS and documents.id.is_unique
    assert len(truth) == round(corpus.COPY_SHARE * N_DOCS) and truth.copy_id.is_unique
    bases = set(documents.id) - set(truth.copy_id)
    assert set(truth.base_id) <= bases
    assert set(truth.kind) == set(corpus.KINDS)


def test_copy_kinds_do_what_they_say(built: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    documents, truth = built
    text = dict(zip(documents.id, documents.text))
    for row in truth.itertuples():
        base, copy = paragraphs(text[row.base_id]), paragraphs(text[row.copy_id])
        if row.kind == "verbatim":
            assert copy == base
        elif row.kind == "trimmed":
            assert len(copy) < len(base) and copy == base[:len(copy)]
            assert len(" ".join(copy).split()) >= corpus.KEEP_AT_LEAST * len(" ".join(base).split())
        elif row.kind == "padded":
            n = len(base)
            assert copy[1:1 + n] == base and copy[1 + n] == corpus.COMMENTS_HEADING and len(copy) >= n + 4
        elif row.kind == "dropped":
            assert len(base) - 2 <= len(copy) < len(base)
            assert copy[0] == base[0] and copy[-1] == base[-1] and all(p in base for p in copy)
        elif row.kind == "reordered":
            assert sorted(copy) == sorted(base) and copy != base
        else:
            words_base, words_copy = (re.findall(r"[A-Za-z]+", text[i]) for i in (row.base_id, row.copy_id))
            changed = sum(a != b for a, b in zip(words_base, words_copy))
            assert len(words_copy) == len(words_base) and changed == round(corpus.SUBSTITUTED * len(words_base))


def test_reuses_are_enciphered_real_texts_sharing_no_words(built: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    documents, truth = built
    bases = documents[~documents.id.isin(truth.copy_id)]
    reuses = [t for t in bases.text if t not in BASES]
    assert len(reuses) == len(bases) - len(BASES)
    assert all(t in set(bases.text) for t in BASES)
    assert len(set(reuses)) == len(reuses)  # each reuse has its own cipher
    originals = {skeleton(t): t for t in BASES}
    for reuse in reuses:
        original = originals[skeleton(reuse)]  # same lengths, digits, punctuation, paragraphs
        assert not long_words(reuse) & long_words(original)


def test_a_seed_gives_one_corpus_however_it_is_chunked(built: tuple[pd.DataFrame, pd.DataFrame], tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    documents, truth = built
    again = corpus.build_from(BASES, N_DOCS, seed=7)
    pd.testing.assert_frame_equal(again[0], documents)
    pd.testing.assert_frame_equal(again[1], truth)
    assert not corpus.build_from(BASES, N_DOCS, seed=8)[0].text.equals(documents.text)
    monkeypatch.setattr(corpus, "BLOCK_STORIES", 9)  # several row groups
    truth_file = corpus.write_from(BASES, N_DOCS, tmp_path / "corpus.parquet", seed=7)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "corpus.parquet"), documents, check_dtype=False)
    pd.testing.assert_frame_equal(pd.read_parquet(truth_file), truth, check_dtype=False)
