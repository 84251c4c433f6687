"""Tests for dedup.candidates: LSH banding, collisions and the two candidate paths."""

import itertools

import numpy as np
import pandas as pd
import pytest

from dedup import candidates
from dedup.candidates import (
    CANDIDATE_COLUMNS,
    Banding,
    SignatureArray,
    SignatureBlocks,
    banded_pairs,
    colliding_pairs,
    find_candidates,
    save_columns,
)
from dedup.fingerprint import fingerprint, minhash
from dedup.params import Params
from dedup.segment import segment, sentence_spans
from dedup.text import normalize, units

# per-document counts of sentences that collided with the other document (lsh_sentences_a/b)
SENTENCES_A, SENTENCES_B = CANDIDATE_COLUMNS[4:6]

# --- Banding -------------------------------------------------------------------

SETTINGS = [(t, n) for n in (32, 64, 128, 256) for t in (0.3, 0.5, 0.7, 0.8)]


@pytest.mark.parametrize("threshold, num_perm", SETTINGS)
def test_banding_fits_in_the_signature(threshold, num_perm):
    banding = Banding.for_threshold(threshold, num_perm)
    assert banding.bands >= 2 and banding.rows >= 1
    assert banding.bands * banding.rows <= num_perm
    assert (banding.threshold, banding.num_perm) == (threshold, num_perm)


@pytest.mark.parametrize("threshold, num_perm", SETTINGS)
def test_s_curve_is_increasing_and_steps_up_around_the_threshold(threshold, num_perm):
    banding = Banding.for_threshold(threshold, num_perm)
    curve = banding.probability(np.linspace(0, 1, 101))
    assert curve[0] == 0.0 and curve[-1] == pytest.approx(1.0)
    assert np.all(np.diff(curve) >= 0)
    below, at, above = banding.probability([threshold - 0.2, threshold, threshold + 0.2])
    assert below < at < above
    assert below < 0.2 and 0.25 < at < 0.75 and above > 0.85


def test_probability_is_the_banding_formula():
    banding = Banding(threshold=0.5, num_perm=128, bands=25, rows=5)
    for j in (0.1, 0.35, 0.6, 0.9):
        assert banding.probability(j) == pytest.approx(1 - (1 - j ** 5) ** 25)
    curve = banding.s_curve()
    assert curve["0.6"] == pytest.approx(1 - (1 - 0.6 ** 5) ** 25, abs=1e-4)
    assert curve["threshold 0.5"] == pytest.approx(1 - (1 - 0.5 ** 5) ** 25, abs=1e-4)


def test_band_keys_agree_exactly_on_bands_with_equal_values():
    banding = Banding(threshold=0.5, num_perm=12, bands=3, rows=4)
    base = np.arange(12, dtype=np.uint32) * 1000 + 7
    in_band_1 = base.copy()
    in_band_1[5] += 1  # band 1 holds values 4..7
    in_band_2 = base.copy()
    in_band_2[11] += 1  # band 2 holds values 8..11
    keys = banding.keys(np.stack([base, in_band_1, in_band_2]))
    assert keys.shape == (3, 3) and keys.dtype == np.uint64
    assert (keys[0] == keys[1]).tolist() == [True, False, True]
    assert (keys[0] == keys[2]).tolist() == [True, True, False]


def test_values_beyond_bands_times_rows_are_ignored():
    banding = Banding(threshold=0.5, num_perm=10, bands=2, rows=4)  # uses values 0..7
    a = np.arange(10, dtype=np.uint32)
    b = a.copy()
    b[8:] = 99
    keys = banding.keys(np.stack([a, b]))
    assert keys[0].tolist() == keys[1].tolist()


def test_collision_rate_of_band_keys_follows_the_s_curve():
    # 300 independent set pairs of true Jaccard 0.5: the share that collide in
    # some band estimates P(0.5) of the banding.
    rng = np.random.default_rng(0)
    banding = Banding.for_threshold(0.5, 64)
    n_pairs, shared, own = 300, 40, 20  # |A ∩ B| = 40, |A ∪ B| = 80
    sets = []
    for _ in range(n_pairs):
        values = rng.choice(2**32, size=shared + 2 * own, replace=False).astype(np.uint32)
        sets += [values[:shared + own], np.concatenate([values[:shared], values[shared + own:]])]
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in sets])]).astype(np.int64)
    keys = banding.keys(minhash(np.concatenate(sets), offsets, 64, 1))
    collide = (keys[0::2] == keys[1::2]).any(axis=1)
    assert collide.mean() == pytest.approx(float(banding.probability(0.5)), abs=0.1)


# --- colliding_pairs ------------------------------------------------------------


def brute_force_pairs(keys: np.ndarray, max_bucket: int, representatives: int) -> tuple[set[tuple[int, int]], int]:
    pairs, capped = set(), 0
    for band in keys.T:
        buckets: dict[int, list[int]] = {}
        for item, key in enumerate(band.tolist()):
            buckets.setdefault(key, []).append(item)
        for members in buckets.values():
            if len(members) > max_bucket:
                capped += 1
                pairs.update((lead, other) for lead in members[:representatives] for other in members if other > lead)
                continue
            pairs.update(itertools.combinations(sorted(members), 2))
    return pairs, capped


def test_colliding_pairs_small_example():
    keys = np.array([[1, 5], [1, 6], [2, 6], [3, 7], [4, 5]], dtype=np.uint64)
    pairs, skipped = colliding_pairs(keys, max_bucket=10, representatives=3)
    # 0-1 share band 0; 1-2 share band 1; 0-4 share band 1; 3 shares nothing
    assert pairs.tolist() == [[0, 1], [0, 4], [1, 2]]
    assert pairs.dtype == np.int64
    assert skipped == 0


def test_pair_colliding_in_several_bands_is_listed_once():
    keys = np.array([[9, 9, 9], [9, 9, 9], [1, 2, 3]], dtype=np.uint64)
    pairs, _ = colliding_pairs(keys, max_bucket=10, representatives=3)
    assert pairs.tolist() == [[0, 1]]


def test_no_collisions_gives_an_empty_pair_array():
    keys = np.arange(20, dtype=np.uint64).reshape(10, 2)
    pairs, skipped = colliding_pairs(keys, max_bucket=5, representatives=3)
    assert pairs.shape == (0, 2) and skipped == 0
    pairs, skipped = colliding_pairs(np.empty((0, 3), dtype=np.uint64), max_bucket=5, representatives=3)
    assert pairs.shape == (0, 2) and skipped == 0


def test_buckets_larger_than_max_bucket_pair_their_items_with_the_first_ones():
    # band 0: one bucket of 5 items; band 1: a bucket of 3 (items 0-2) and two of 1
    keys = np.array([[7, 1], [7, 1], [7, 1], [7, 2], [7, 3]], dtype=np.uint64)
    pairs, capped = colliding_pairs(keys, max_bucket=3, representatives=1)
    # the bucket of 5 pairs everything with item 0 only; the bucket of exactly 3 gives all its pairs
    assert pairs.tolist() == [[0, 1], [0, 2], [0, 3], [0, 4], [1, 2]]
    assert capped == 1
    pairs, capped = colliding_pairs(keys, max_bucket=2, representatives=2)
    assert pairs.tolist() == [[0, 1], [0, 2], [0, 3], [0, 4], [1, 2], [1, 3], [1, 4]]
    assert capped == 2


def test_a_capped_bucket_costs_pairs_in_proportion_to_its_size():
    keys = np.full((10_000, 4), 5, dtype=np.uint64)  # one story in 10,000 copies: one bucket per band
    pairs, capped = colliding_pairs(keys, max_bucket=200, representatives=3)
    assert capped == 4
    assert len(pairs) == 3 * 10_000 - 6  # 3 + 2 + 1 ... each item paired with the first three
    assert set(pairs[:, 0].tolist()) == {0, 1, 2}


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("max_bucket", [1, 2, 5, 8, 1000])
@pytest.mark.parametrize("representatives", [1, 3])
def test_colliding_pairs_match_brute_force(seed, max_bucket, representatives):
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 30, size=(200, 4)).astype(np.uint64)
    keys[:, 1] += np.uint64(2**63)  # large key values must work as well
    pairs, capped = colliding_pairs(keys, max_bucket, representatives)
    expected, expected_capped = brute_force_pairs(keys, max_bucket, representatives)
    assert len(pairs) == len(expected)  # no repeats
    assert {tuple(p) for p in pairs.tolist()} == expected
    assert np.all(pairs[:, 0] < pairs[:, 1]) if len(pairs) else True
    assert capped == expected_capped


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("max_bucket", [2, 8, 1000])
@pytest.mark.parametrize("new_from", [1, 120, 199])
def test_pairs_of_new_items_are_the_pairs_with_one_of_them(seed, max_bucket, new_from):
    # an index adding items new_from.. to those it holds needs only the pairs that have a new item
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 20, size=(200, 4)).astype(np.uint64)
    pairs, capped = candidates.band_collisions(keys.T.copy(), len(keys), max_bucket, 3, new_from)
    expected, expected_capped = brute_force_pairs(keys, max_bucket, 3)
    with_new = {pair for pair in expected if pair[1] >= new_from}
    assert len(pairs) == len(with_new) > 0
    assert {tuple(p) for p in pairs.tolist()} == with_new
    assert capped == expected_capped  # buckets are capped by all their items, held and new


@pytest.mark.parametrize("merge_pairs", [1, 1 << 20])
def test_keys_a_band_at_a_time_give_the_pairs_of_all_keys(monkeypatch, merge_pairs):
    monkeypatch.setattr(candidates, "MERGE_PAIRS", merge_pairs)  # 1: repeats dropped after every band
    signatures = np.random.default_rng(4).integers(0, 3, size=(300, 12)).astype(np.uint32)
    banding = Banding(0.5, 12, 4, 3)
    pairs, skipped = banded_pairs(SignatureArray(signatures), banding, max_bucket=40, representatives=3)
    expected, expected_skipped = colliding_pairs(banding.keys(signatures), max_bucket=40, representatives=3)
    np.testing.assert_array_equal(pairs, expected)
    assert skipped == expected_skipped and len(pairs) > 100


# --- find_candidates on a small corpus ------------------------------------------

ORIGINAL = (
    "Heavy rain caused the Tarrow River to burst its banks in the town of Marrowby on Sunday night, "
    "flooding more than 300 homes. "
    "Emergency crews evacuated about 1,200 residents from the low-lying eastern districts before dawn. "
    "The regional fire service said two people were rescued from the roof of a stranded minibus "
    "near the old mill. "
    "No deaths have been reported, but four people were treated in hospital for hypothermia. "
    "Mayor Ellen Castwick described the flooding as the worst the town had seen in forty years. "
    "She said temporary shelters had been opened in three schools and the municipal sports hall.\n\n"
    "Forecasters expect a further 60 millimetres of rain to fall across the valley by Wednesday. "
    "The national railway operator suspended services between Marrowby and Dunhollow after a section "
    "of track was washed away. "
    "Engineers will inspect the Harlow Bridge once the water level drops, the council said. "
    "Residents have been urged to avoid driving through floodwater and to check on elderly neighbours."
)

COPY = ORIGINAL + "\n\n(Reporting by the Valley Courier)"

REWORDED = (
    "Torrential rain caused the Tarrow River to burst its banks in Marrowby on Sunday evening, "
    "flooding over 300 houses. "
    "Rescue teams evacuated around 1,200 people from the low-lying eastern districts before sunrise. "
    "The regional fire brigade said two people were pulled from the roof of a stranded minibus "
    "close to the old mill. "
    "Nobody has died, but four people received hospital treatment for hypothermia. "
    "Mayor Ellen Castwick called the flooding the worst in the town for forty years. "
    "Temporary shelters have been opened in three schools and the municipal sports hall, she added.\n\n"
    "Meteorologists expect another 60 millimetres of rain to fall over the valley by Wednesday. "
    "Trains between Marrowby and Dunhollow were suspended by the national railway operator after "
    "a stretch of track was washed away. "
    "Council engineers will inspect the Harlow Bridge when the water level falls. "
    "People have been told not to drive through floodwater and to look in on elderly neighbours."
)

CHESS = (
    "The sixteen-year-old Ilse Varanova won the Corvale Open chess tournament on Saturday, "
    "beating three grandmasters along the way. "
    "Varanova clinched first place with a quiet endgame victory over the veteran Tomasz Berek. "
    "Organisers said the event attracted a record 412 players from twenty-two countries. "
    "Her coach, a former schoolteacher, praised her calm preparation during the final rounds. "
    "Spectators crowded into the library reading room to watch the deciding game on a projector. "
    "The prize fund of 18,000 euros was the largest in the tournament's history. "
    "Varanova will now qualify for the continental championship in Lisbon next spring. "
    "Berek admitted afterwards that he had underestimated his young opponent's opening choice."
)

EARNINGS = (
    "Quillon Systems reported quarterly revenue of 2.4 billion dollars on Thursday, "
    "beating analyst expectations for its cloud storage business. "
    "The software company raised its full-year forecast and announced a share buyback programme. "
    "Chief executive Marta Oyelaran told investors that corporate customers were renewing contracts early. "
    "Operating margins widened to nineteen percent thanks to lower data centre energy costs. "
    "Shares rose sharply in after-hours trading on the technology exchange. "
    "The firm plans to hire about 900 engineers, mostly at its new campus outside Brenford. "
    "Analysts cautioned that competition from larger rivals could squeeze pricing later this year."
)


def documents(items: list[tuple[str, str]], status: dict[str, str] | None = None) -> pd.DataFrame:
    status = status or {}
    return pd.DataFrame({
        "doc_id": [doc_id for doc_id, _ in items],
        "text": [text for _, text in items],
        "status": [status.get(doc_id, "ok") for doc_id, _ in items],
    })


def candidates_of(docs: pd.DataFrame, params: Params = Params()):
    segments, hashes = segment(docs, params)
    return find_candidates(fingerprint(segments, hashes, params), params)


def test_candidates_of_new_documents_are_the_pairs_with_one_of_them():
    docs = documents([("original", ORIGINAL), ("copy", COPY), ("rewrite", REWORDED), ("chess", CHESS)])
    params = Params()
    fp = fingerprint(*segment(docs, params), params)
    found = [candidates.candidates_of(fp.doc_ids, SignatureArray(fp.doc_sigs), SignatureArray(fp.sent_sigs),
                                      fp.sent_docs, params, new_from=new_from)[0] for new_from in (0, 2)]
    assert {"original", "copy"} == set(found[0].iloc[0][["doc_a", "doc_b"]])  # a pair of the two held
    with_new = found[0][found[0].doc_b.isin(["rewrite", "chess"])].reset_index(drop=True)
    assert len(with_new) == 2  # the rewrite with the original and with the copy
    pd.testing.assert_frame_equal(found[1], with_new)
    with pytest.raises(ValueError, match="sentences must come after"):
        candidates.candidates_of(fp.doc_ids, SignatureArray(fp.doc_sigs), SignatureArray(fp.sent_sigs),
                                 fp.sent_docs[::-1].copy(), params, new_from=2)


def pair_rows(table: pd.DataFrame) -> dict[frozenset, dict]:
    return {frozenset((row["doc_a"], row["doc_b"])): row for row in table.to_dict("records")}


def unit_set(text: str) -> set[str]:
    return set(units(normalize(text), Params()))


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b)


def sentence_texts(text: str) -> list[str]:
    return [text[s:e] for _, s, e in sentence_spans(text)]


def test_corpus_preconditions():
    """The test texts are what the tests below claim they are."""
    original, reworded = sentence_texts(ORIGINAL), sentence_texts(REWORDED)
    assert len(original) == len(reworded) == 10
    # the rewrite keeps the facts: aligned sentences share many of their units ...
    similarities = [jaccard(unit_set(a), unit_set(b)) for a, b in zip(original, reworded)]
    assert sum(s >= 0.4 for s in similarities) >= 6
    # ... while unrelated stories share almost nothing
    assert jaccard(unit_set(ORIGINAL), unit_set(CHESS)) < 0.1
    assert jaccard(unit_set(ORIGINAL), unit_set(EARNINGS)) < 0.1
    assert jaccard(unit_set(CHESS), unit_set(EARNINGS)) < 0.1


def test_find_candidates_finds_copy_and_rewrite_but_not_unrelated_texts():
    docs = documents([("rewrite", REWORDED), ("chess", CHESS), ("original", ORIGINAL),
                      ("earnings", EARNINGS), ("copy", COPY)])
    table, stats = candidates_of(docs)
    assert list(table.columns) == CANDIDATE_COLUMNS
    rows = pair_rows(table)
    assert len(rows) == len(table)  # each pair once

    copy = rows[frozenset(("original", "copy"))]
    assert "document" in copy["via"]
    assert (copy["doc_a"], copy["doc_b"]) == ("original", "copy")  # input order
    assert copy["estimate"] > 0.8

    rewrite = rows[frozenset(("rewrite", "original"))]
    assert "sentence" in rewrite["via"]
    assert (rewrite["doc_a"], rewrite["doc_b"]) == ("rewrite", "original")
    assert rewrite[SENTENCES_A] >= 2 and rewrite[SENTENCES_B] >= 2
    assert "sentence" in rows[frozenset(("rewrite", "copy"))]["via"]

    for doc_id in ("chess", "earnings"):
        assert not any(doc_id in pair for pair in rows), f"{doc_id} should have no candidates"
    assert set(rows) == {frozenset(p) for p in [("original", "copy"), ("rewrite", "original"),
                                                 ("rewrite", "copy")]}
    assert set(table.via) <= {"document", "sentence", "document+sentence"}
    assert stats.capped_buckets == {"document": 0, "sentence": 0}


def test_identical_texts_are_found_by_both_paths_with_estimate_one():
    docs = documents([("original", ORIGINAL), ("copy", ORIGINAL)])
    table, _ = candidates_of(docs)
    assert len(table) == 1
    row = table.iloc[0]
    assert row["via"] == "document+sentence"
    assert row["estimate"] == 1.0  # identical texts have identical signatures
    assert row[SENTENCES_A] == row[SENTENCES_B] == 10  # every sentence collides with its twin


def test_document_path_only_pairs_report_zero_sentences():
    # no sentence is long enough for the sentence path, so only the document path runs
    params = Params(min_sentence_units=1000)
    table, stats = candidates_of(documents([("original", ORIGINAL), ("copy", COPY), ("chess", CHESS)]), params)
    assert table[["doc_a", "doc_b", "via", SENTENCES_A, SENTENCES_B]].values.tolist() == [
        ["original", "copy", "document", 0, 0]]
    assert stats.sentence_collisions == 0


def test_rejected_documents_never_become_candidates():
    docs = documents([("original", ORIGINAL), ("copy", COPY), ("chess", CHESS)], status={"copy": "rejected"})
    table, _ = candidates_of(docs)
    assert table.empty
    assert list(table.columns) == CANDIDATE_COLUMNS


def test_unrelated_corpus_gives_no_candidates():
    table, stats = candidates_of(documents([("chess", CHESS), ("earnings", EARNINGS), ("flood", ORIGINAL)]))
    assert table.empty
    assert stats.sentence_collisions == 0


def test_copies_in_buckets_over_max_bucket_are_paired_with_representatives():
    # four copies of one story, each with its own credit (no text unit: the same signatures),
    # not exact copies, so they are banded
    docs = documents([(f"copy{i}", ORIGINAL + f"\n\n({agency})")
                      for i, agency in enumerate(("AP", "UPI", "AFP", "DPA"))] + [("chess", CHESS)])
    table, stats = candidates_of(docs, Params(max_bucket=2, bucket_representatives=1))
    # every bucket holding the story has 4 > 2 items: all copies pair with the first, not with each other
    assert sorted(map(tuple, table[["doc_a", "doc_b"]].values.tolist())) == [
        ("copy0", "copy1"), ("copy0", "copy2"), ("copy0", "copy3")]
    assert stats.capped_buckets["document"] > 0 and stats.capped_buckets["sentence"] > 0

    table, stats = candidates_of(docs, Params(max_bucket=4))
    assert len(table) == 6 and stats.capped_buckets == {"document": 0, "sentence": 0}


@pytest.mark.parametrize("in_files", [False, True])
def test_signature_blocks_give_the_columns_and_estimates_of_the_array(tmp_path, in_files):
    values = np.random.default_rng(3).integers(0, 4, size=(50, 8)).astype(np.uint32)
    stored, later = SignatureBlocks(8, tmp_path if in_files else None, "a"), SignatureBlocks(8, tmp_path, "b")
    save_columns(tmp_path / "saved.npy", values[:7])  # as a scan's workers save their blocks
    stored.add_file(tmp_path / "saved.npy", 7)
    for block in (values[7:7], values[7:31]):
        stored.append(block)
    later.append(values[31:])
    stored.extend(later)
    in_memory, pairs = SignatureArray(values), np.array([[0, 1], [3, 49], [10, 10], [48, 2]])
    assert len(stored) == 50
    assert len(list(tmp_path.glob("a-*.npy"))) == (2 if in_files else 0)
    np.testing.assert_array_equal(stored.columns(2, 5), in_memory.columns(2, 5))
    np.testing.assert_array_equal(stored.agreement(pairs), in_memory.agreement(pairs))
