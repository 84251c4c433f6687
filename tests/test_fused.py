"""The compiled fingerprint loop gives the numbers the Python/numpy path gives, and datasketch agrees."""

import random

import numpy as np
import pytest
import xxhash
from datasketch import LeanMinHash, MinHash, MinHashLSH

import dedup
from dedup import fused
from dedup.candidates import Banding
from dedup.fingerprint import document_signatures, minhash, to_datasketch, unique_per_set
from dedup.params import Params
from dedup.prepare import prepare
from dedup.read import documents_table
from dedup.text import fold, hash_units, shingle_hash, units

pytestmark = pytest.mark.skipif(fused.numba is None, reason="numba is not installed")

# Words from several scripts, numbers in several forms, apostrophes, typographic quotes and
# dashes, soft hyphens, scripts without spaces, digits of other scripts, superscripts.
PIECES = ["Flood", "barriers", "held", "the", "río", "Ñandú", "ÉCOLE", "naïve", "Straße", "Привет", "мир",
          "λόγος", "don't", "l’état", "co\u00adoperate", "“quoted”", "—", "3.5", "1,000.50", "2,", "g20",
          "x²", "٣٤٥", "๑๒๓", "ภาษาไทย", "中文字", "東京", "テスト", "한국어", "a", "I", "'", "...", "e-mail",
          "O'Neill's", "_under_", "ﬁnance", "Ⅻ", "\t", "\n\n", "¿Qué?", "naïve"]


def random_text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(PIECES) + rng.choice([" ", " ", "", ", ", ". "]) for _ in range(n))


TEXTS = [random_text(random.Random(seed), random.Random(seed).randint(0, 120)) for seed in range(150)]
PARAMS = [Params(), Params(units="words"), Params(shingle_k=3, stem_len=3, min_word_len=2),
          Params(shingle_k=1, stopwords=("the", "don't", "3.5", "мир"))]


@pytest.mark.parametrize("params", PARAMS)
def test_compiled_units_equal_the_python_tokeniser(params):
    norm = [fold(t) for t in TEXTS]
    hashes, _, counts = fused.unit_hashes(norm, params)
    unit_lists = [units(t, params) for t in norm]
    assert counts.tolist() == [len(u) for u in unit_lists]
    np.testing.assert_array_equal(hashes, hash_units(unit_lists))


@pytest.mark.parametrize("params", PARAMS)
def test_compiled_signatures_equal_the_numpy_fallback(params):
    compiled = document_signatures(TEXTS, params, engine="numba")
    assert compiled.shape == (len(TEXTS), params.num_perm) and compiled.dtype == np.uint32
    np.testing.assert_array_equal(compiled, document_signatures(TEXTS, params, engine="numpy"))


def test_compiled_minhash_equals_numpy_minhash():
    rng = np.random.default_rng(3)
    sizes = rng.integers(0, 30, size=300)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    values = rng.integers(0, 2**32, size=offsets[-1], dtype=np.uint64).astype(np.uint32)
    np.testing.assert_array_equal(minhash(values, offsets, 64, 5, engine="numba"),
                                  minhash(values, offsets, 64, 5, engine="numpy"))


def test_xxh64_equals_the_xxhash_library_for_every_length():
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, size=300, dtype=np.uint8)
    for start, end in [(0, 0), *[(i, i + n) for n in range(1, 80) for i in (0, 7)], (0, 300)]:
        assert fused.xxh64(data, start, end) == xxhash.xxh64_intdigest(data[start:end].tobytes())


def test_signatures_load_into_datasketch_as_if_it_had_computed_them():
    params = Params()
    text_a, text_b = TEXTS[10], TEXTS[10] + " " + TEXTS[11]
    ours = document_signatures([text_a, text_b], params, engine="numba")
    theirs = []
    for text in (text_a, text_b):
        run = units(fold(text), params)
        m = MinHash(num_perm=params.num_perm, seed=params.seed, scheme="affine32", hashfunc=shingle_hash)
        for i in range(len(run) - params.shingle_k + 1):
            m.update(tuple(run[i:i + params.shingle_k]))
        theirs.append(LeanMinHash(m))
    lean = [to_datasketch(sig, params.seed) for sig in ours]
    for mine, reference in zip(lean, theirs):
        assert mine == reference
    assert lean[0].jaccard(lean[1]) == theirs[0].jaccard(theirs[1])
    lsh = MinHashLSH(threshold=0.3, num_perm=params.num_perm)
    lsh.insert("b", theirs[1])
    assert lsh.query(lean[1]) == ["b"]


def test_standalone_signatures_equal_the_signatures_a_scan_gives():
    """Tokens never span a sentence break, so fingerprinting the whole text gives the scan's signatures."""
    texts = [" ".join(TEXTS[i:i + 3]) for i in range(0, 60, 3)]
    documents = documents_table({"doc_id": f"d{i}", "text": t} for i, t in enumerate(texts))
    documents, _, _, fp = prepare(documents, Params())
    ok = documents.status.eq("ok").to_numpy()
    np.testing.assert_array_equal(fp.doc_sigs, document_signatures([t for t, o in zip(texts, ok) if o]))


def test_scan_tables_are_the_same_with_or_without_the_compiled_loop(monkeypatch):
    texts = [" ".join(TEXTS[i:i + 4]) for i in range(0, 40, 2)]
    documents = documents_table({"doc_id": f"d{i}", "text": t} for i, t in enumerate(texts))
    compiled, compiled_fp = dedup.scan(documents), prepare(documents, Params())
    monkeypatch.setattr(fused, "numba", None)
    fallback, fallback_fp = dedup.scan(documents), prepare(documents, Params())
    np.testing.assert_array_equal(compiled_fp[3].sent_sigs, fallback_fp[3].sent_sigs)
    np.testing.assert_array_equal(compiled_fp[3].doc_sigs, fallback_fp[3].doc_sigs)
    assert compiled_fp[1].equals(fallback_fp[1])  # the segments
    assert compiled.pairs.equals(fallback.pairs)


def _reference_alignment(score: np.ndarray) -> list[tuple[int, int]]:
    """The monotone alignment's recurrence and walk back, cell by cell in plain Python."""
    m, n = score.shape
    best = [[0.0] * (n + 1) for _ in range(m + 1)]
    for i in range(1, m + 1):
        for j in range(1, n + 1):
            best[i][j] = max(best[i - 1][j], best[i][j - 1], best[i - 1][j - 1] + score[i - 1, j - 1])
    pairs, i, j = [], m, n
    while i > 0 and j > 0:
        if best[i][j] == best[i - 1][j]:
            i -= 1
        elif best[i][j] == best[i][j - 1]:
            j -= 1
        else:
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
    return pairs[::-1]


@pytest.mark.parametrize("seed", range(30))
def test_compiled_monotone_alignment_over_cells_equals_the_dense_recurrence(seed):
    rng = np.random.default_rng(seed)
    m, n = rng.integers(0, 25, size=2)
    # Few distinct values, many zeros: ties decide the walk back, so they must be broken alike.
    score = rng.choice([0.0, 0.0, 0.0, 0.5, 0.75, 1.0], size=(m, n))
    rows, columns = np.nonzero(score)  # the compiled chain reads the cells that score, in (row, column) order
    found = fused.monotone_alignment(rows, columns, score[rows, columns])
    assert list(zip(rows[found].tolist(), columns[found].tolist())) == _reference_alignment(score)


@pytest.mark.parametrize("dtype", [np.uint32, np.uint64])
def test_compiled_unique_per_set_equals_the_lexsort(monkeypatch, dtype):
    rng = np.random.default_rng(1)
    sizes = rng.integers(0, 30, size=500)  # empty sets included
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    values = rng.integers(0, 40, size=offsets[-1]).astype(dtype)  # many repeats inside a set
    compiled = unique_per_set(values, offsets)
    monkeypatch.setattr(fused, "numba", None)
    expected = unique_per_set(values, offsets)
    np.testing.assert_array_equal(compiled[0], expected[0])
    np.testing.assert_array_equal(compiled[1], expected[1])
    assert compiled[0].dtype == dtype


def test_compiled_band_keys_equal_the_numpy_fold(monkeypatch):
    signatures = np.random.default_rng(2).integers(0, 2**32, size=(300, 64), dtype=np.uint64).astype(np.uint32)
    banding = Banding(threshold=0.3, num_perm=64, bands=21, rows=3)  # 63 of 64 values used
    compiled = banding.keys(signatures)
    monkeypatch.setattr(fused, "numba", None)
    np.testing.assert_array_equal(compiled, banding.keys(signatures))
