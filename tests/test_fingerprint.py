"""Tests for dedup.fingerprint: MinHash signatures compatible with datasketch."""

import math
import random

import numpy as np
import pandas as pd
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH

import dedup.fingerprint as fingerprint_module
from dedup.fingerprint import EMPTY, fingerprint, kgram_hashes, minhash, to_datasketch, unique_per_set
from dedup.params import Params
from dedup.segment import segment
from dedup.text import hash_units, shingle_hash, units

ALPHABET = "abcdefghijklmnopqrstuvwxyzéüжзλπ中文"


def random_words(rng: random.Random, n: int, vocabulary: int = 60) -> list[str]:
    vocab = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 8))) for _ in range(vocabulary)]
    return [rng.choice(vocab) for _ in range(n)]


def datasketch_signature(shingles, num_perm: int, seed: int) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed, scheme="affine32", hashfunc=shingle_hash)
    for shingle in shingles:
        m.update(tuple(shingle))
    return m.hashvalues


def kgrams(run: list[str], k: int) -> list[tuple[str, ...]]:
    return [tuple(run[i:i + k]) for i in range(len(run) - k + 1)]


def vectorised_signatures(runs: list[list[str]], k: int, num_perm: int, seed: int) -> np.ndarray:
    unit_hashes = hash_units(runs)
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in runs])]).astype(np.int64)
    values, value_offsets = kgram_hashes(unit_hashes, offsets, k)
    values, value_offsets = unique_per_set(values, value_offsets)
    return minhash(values, value_offsets, num_perm, seed)


# --- datasketch compatibility -------------------------------------------------


@pytest.mark.parametrize("num_perm, seed, k", [(128, 1, 2), (64, 7, 2), (32, 12345, 1), (16, 0, 3)])
def test_signatures_equal_datasketch_minhash_with_shingle_hash(num_perm, seed, k):
    rng = random.Random(seed * 1000 + num_perm + k)
    runs = [random_words(rng, rng.randint(0, 40)) for _ in range(25)]
    runs[3] = []  # an empty document among the others
    ours = vectorised_signatures(runs, k, num_perm, seed)
    assert ours.shape == (len(runs), num_perm) and ours.dtype == np.uint32
    for i, run in enumerate(runs):
        np.testing.assert_array_equal(ours[i], datasketch_signature(kgrams(run, k), num_perm, seed))


@pytest.mark.parametrize("chunk_values", [16, 50, 97])
def test_signatures_equal_datasketch_when_sets_span_several_chunks(monkeypatch, chunk_values):
    num_perm, seed = 8, 3
    # with num_perm 8, each chunk holds only a few shingles, so the chunking loop
    # runs many times and sets larger than a chunk occur too
    monkeypatch.setattr(fingerprint_module, "_CHUNK_VALUES", chunk_values)
    rng = random.Random(chunk_values)
    runs = [random_words(rng, rng.choice([0, 1, 2, 3, 5, 9, 30])) for _ in range(60)]
    runs.append([])  # trailing empty set
    ours = vectorised_signatures(runs, 2, num_perm, seed)
    for i, run in enumerate(runs):
        np.testing.assert_array_equal(ours[i], datasketch_signature(kgrams(run, 2), num_perm, seed))


def test_chunking_does_not_change_signatures(monkeypatch):
    rng = np.random.default_rng(5)
    sizes = rng.integers(0, 20, size=200)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    values = rng.integers(0, 2**32, size=offsets[-1], dtype=np.uint64).astype(np.uint32)
    whole = minhash(values, offsets, 32, 9)
    monkeypatch.setattr(fingerprint_module, "_CHUNK_VALUES", 40)
    np.testing.assert_array_equal(minhash(values, offsets, 32, 9), whole)


def test_fingerprint_of_segmented_documents_equals_datasketch():
    params = Params(num_perm=64, sentence_num_perm=32, seed=11, min_sentence_units=3)
    docs = pd.DataFrame({
        "doc_id": ["flood", "rejected", "vote"],
        "text": [
            "Heavy rain flooded the lower town of Marrowby overnight. Rescue crews evacuated "
            "nearly 400 residents from riverside streets. It rained.",
            "This document was rejected by the reader and carries no fingerprint.",
            "The regional assembly approved the harbour budget after a long debate. "
            "Opposition members walked out in protest.",
        ],
        "status": ["ok", "rejected", "ok"],
    })
    segments, hashes = segment(docs, params)
    fp = fingerprint(segments, hashes, params)

    assert list(fp.doc_ids) == ["flood", "vote"]
    # each sentence's units, recomputed from its normalised text
    sentence_units = [units(text, params) for text in segments.text]

    for i, doc_id in enumerate(fp.doc_ids):
        doc_units = [u for d, us in zip(segments.doc_id, sentence_units) if d == doc_id for u in us]
        shingles = kgrams(doc_units, params.shingle_k)  # document shingles run across sentence breaks
        np.testing.assert_array_equal(fp.doc_sigs[i], datasketch_signature(shingles, 64, 11))
        assert fp.doc_set(i).tolist() == sorted({shingle_hash(s) for s in shingles})

    long_enough = [i for i, us in enumerate(sentence_units) if len(us) >= params.min_sentence_units]
    assert fp.sent_rows.tolist() == long_enough
    assert len(long_enough) < len(segments)  # the short last sentence of "flood" is left out
    doc_index = {d: i for i, d in enumerate(fp.doc_ids)}
    assert fp.sent_docs.tolist() == [doc_index[segments.doc_id.iloc[r]] for r in long_enough]
    for row, sig in zip(fp.sent_rows, fp.sent_sigs):
        # a sentence is the set of its units, i.e. of its 1-unit shingles
        expected = datasketch_signature([(u,) for u in sentence_units[row]], 32, 11)
        np.testing.assert_array_equal(sig, expected)

    table = fp.signatures_table()
    assert list(table.doc_id) == ["flood", "vote"]
    np.testing.assert_array_equal(np.stack(table.signature.to_list()), fp.doc_sigs)


def test_empty_sets_give_all_max_values_like_datasketch():
    sigs = minhash(np.empty(0, dtype=np.uint32), np.array([0, 0, 0], dtype=np.int64), 16, 1)
    empty = MinHash(num_perm=16, seed=1, scheme="affine32").hashvalues
    assert (sigs == EMPTY).all() and (empty == 0xFFFFFFFF).all()
    np.testing.assert_array_equal(sigs[0], empty)

    sigs = minhash(np.array([5, 6], dtype=np.uint32), np.array([0, 0, 2, 2], dtype=np.int64), 16, 1)
    assert (sigs[0] == EMPTY).all() and (sigs[2] == EMPTY).all()
    assert not (sigs[1] == EMPTY).all()


# --- to_datasketch and LSH ----------------------------------------------------


def test_to_datasketch_jaccard_is_share_of_equal_values():
    rng = random.Random(2)
    words = random_words(rng, 300, vocabulary=400)
    runs = [words[:200], words[100:]]
    sigs = vectorised_signatures(runs, 2, 128, 1)
    a, b = to_datasketch(sigs[0], 1), to_datasketch(sigs[1], 1)
    assert isinstance(a, LeanMinHash)
    share = float(np.mean(sigs[0] == sigs[1]))
    assert 0.0 < share < 1.0
    assert a.jaccard(b) == pytest.approx(share)
    # and equals the estimate datasketch gives for its own sketches of the same sets
    native = [MinHash(num_perm=128, seed=1, scheme="affine32", hashfunc=shingle_hash) for _ in runs]
    for m, run in zip(native, runs):
        m.update_batch(kgrams(run, 2))
    assert native[0].jaccard(native[1]) == pytest.approx(share)


def test_to_datasketch_signatures_work_in_minhash_lsh():
    rng = random.Random(4)
    story = random_words(rng, 200, vocabulary=1000)
    near_copy = list(story)
    for i in range(0, 200, 40):
        near_copy[i] = "edited"  # a handful of edits: shingle Jaccard stays high
    unrelated = random_words(random.Random(99), 200, vocabulary=1000)
    sigs = vectorised_signatures([story, near_copy, unrelated], 2, 128, 1)

    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    lsh.insert("story", to_datasketch(sigs[0], 1))
    assert lsh.query(to_datasketch(sigs[1], 1)) == ["story"]
    assert lsh.query(to_datasketch(sigs[2], 1)) == []

    # a natively built datasketch MinHash finds our signature, too
    native = MinHash(num_perm=128, seed=1, scheme="affine32", hashfunc=shingle_hash)
    native.update_batch(kgrams(near_copy, 2))
    assert lsh.query(native) == ["story"]


# --- estimate accuracy -------------------------------------------------------


@pytest.mark.parametrize("jaccard", [0.2, 0.5, 0.8])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_minhash_estimate_tracks_true_jaccard(jaccard, seed):
    union, num_perm = 1000, 256
    shared = round(jaccard * union)
    size = (union + shared) // 2
    a = np.arange(0, size, dtype=np.uint32)
    b = np.arange(size - shared, size - shared + size, dtype=np.uint32)
    assert len(np.intersect1d(a, b)) / len(np.union1d(a, b)) == pytest.approx(jaccard)

    sigs = minhash(np.concatenate([a, b]), np.array([0, size, 2 * size], dtype=np.int64), num_perm, seed)
    estimate = np.mean(sigs[0] == sigs[1])
    standard_error = math.sqrt(jaccard * (1 - jaccard) / num_perm)
    assert abs(estimate - jaccard) < 4 * standard_error


def test_identical_sets_have_identical_signatures_regardless_of_order_and_repeats():
    values = np.array([10, 20, 30, 40], dtype=np.uint32)
    shuffled = np.array([40, 10, 10, 30, 20, 40], dtype=np.uint32)
    sigs = minhash(np.concatenate([values, shuffled]), np.array([0, 4, 10], dtype=np.int64), 64, 1)
    np.testing.assert_array_equal(sigs[0], sigs[1])


def test_different_seeds_give_different_signatures():
    values = np.arange(50, dtype=np.uint32)
    offsets = np.array([0, 50], dtype=np.int64)
    assert not np.array_equal(minhash(values, offsets, 64, 1), minhash(values, offsets, 64, 2))


# --- kgram_hashes and unique_per_set -----------------------------------------


@pytest.mark.parametrize("k", [1, 2, 3])
def test_kgram_hashes_stay_inside_runs_and_equal_shingle_hash(k):
    runs = [["storm", "hits", "coast"], ["alone"], [], ["river", "rose", "two", "metres"], ["ab", "cd"]]
    unit_hashes = hash_units(runs)
    offsets = np.concatenate([[0], np.cumsum([len(r) for r in runs])]).astype(np.int64)
    values, value_offsets = kgram_hashes(unit_hashes, offsets, k)

    assert values.dtype == np.uint32 and value_offsets.dtype == np.int64
    assert len(value_offsets) == len(runs) + 1
    for i, run in enumerate(runs):
        got = values[value_offsets[i]:value_offsets[i + 1]].tolist()
        assert got == [shingle_hash(s) for s in kgrams(run, k)]
    # no shingle made of the end of one run and the start of the next
    spanning = shingle_hash(("coast", "alone")) if k == 2 else shingle_hash(("hits", "coast", "alone"))
    if k > 1:
        assert spanning not in values.tolist()


def test_kgram_hashes_with_fewer_units_than_k():
    unit_hashes = hash_units([["one"], ["two"]])
    values, offsets = kgram_hashes(unit_hashes, np.array([0, 1, 2], dtype=np.int64), 3)
    assert len(values) == 0
    assert offsets.tolist() == [0, 0, 0]


def test_shingle_hash_depends_on_order_and_content():
    assert shingle_hash(("storm", "coast")) != shingle_hash(("coast", "storm"))
    assert shingle_hash(("storm",)) != shingle_hash(("storm", "storm"))
    assert 0 <= shingle_hash(("storm", "coast")) < 2**32


def test_unique_per_set_sorts_dedups_and_keeps_empty_sets():
    values = np.array([7, 3, 7, 1, 9, 9, 9, 2, 0xFFFFFFFF, 2], dtype=np.uint32)
    offsets = np.array([0, 4, 4, 7, 10, 10], dtype=np.int64)  # sets 1 and 4 empty
    unique, new_offsets = unique_per_set(values, offsets)
    sets = [unique[new_offsets[i]:new_offsets[i + 1]].tolist() for i in range(len(offsets) - 1)]
    assert sets == [[1, 3, 7], [], [9], [2, 0xFFFFFFFF], []]
    assert unique.dtype == np.uint32
    assert new_offsets.tolist() == [0, 3, 3, 4, 6, 6]
