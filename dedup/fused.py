"""Compiled loops: the fused fingerprint pass (text bytes → units → shingles → MinHash),
and the inner loops of banding (band keys, bucket pairs, signature agreement) and of
sentence matching (set intersections and features, the monotone alignment), compiled
with numba; without numba they run as plain Python.

One pass over each text's UTF-8 bytes does what `dedup.text.units`,
`dedup.text.hash_units`, `dedup.fingerprint.kgram_hashes` and
`dedup.fingerprint.minhash` do with Python and numpy, and gives the same
numbers value for value (tests/test_fused.py proves it on text in many scripts):

* tokens follow `dedup.text._TOKEN` — numbers ``\\d+([.,]\\d+)*``, one character
  of a script written without spaces, words ``[^\\W_]+('[^\\W_]+)*`` — read
  through a table of each code point's class, built once from the same regex
  classes so the two paths cannot drift apart;
* each unit is hashed with xxHash64 (XXH64, seed 0) straight from its bytes;
* a shingle folds k unit hashes, ``h = h * M + u mod 2**64``, then 32 bits;
* each shingle is mixed by MurmurHash3's finaliser and permuted as
  ``a_i * h + b_i mod 2**32``, keeping the minimum per permutation.

Only ``units="content"`` and ``"words"`` are compiled; ``"chars"`` and
machines without numba use the Python/numpy path (`dedup.fingerprint`).
Texts must be normalised (`dedup.text.normalize`) before they are encoded.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

import numpy as np
import xxhash

from dedup.params import Params
from dedup.text import _UNSPACED, FOLD_MULTIPLIER

try:
    import numba
except ImportError:  # pragma: no cover - exercised on machines without numba
    numba = None  # type: ignore[assignment]

# Code point classes, as bit flags (a code point may have several).
WORD, DECIMAL, UNSPACED, DIGIT = 1, 2, 4, 8
_P1, _P2, _P3 = np.uint64(0x9E3779B185EBCA87), np.uint64(0xC2B2AE3D27D4EB4F), np.uint64(0x165667B19E3779F9)
_P4, _P5 = np.uint64(0x85EBCA77C2B2AE63), np.uint64(0x27D4EB2F165667C5)


def available(params: Params) -> bool:
    """Whether the compiled loop can fingerprint with these parameters."""
    return numba is not None and params.units in ("content", "words")


@cache
def code_point_classes() -> np.ndarray:
    """uint8 flags for every code point: WORD ``[^\\W_]``, DECIMAL ``\\d``, UNSPACED, DIGIT (str.isdigit)."""
    everything = "".join(map(chr, range(0x110000)))
    classes = np.zeros(0x110000, dtype=np.uint8)
    for flag, pattern in ((WORD, r"[^\W_]"), (DECIMAL, r"\d"), (UNSPACED, f"[{_UNSPACED}]")):
        hits = [m.start() for m in re.finditer(pattern, everything)]
        classes[hits] |= flag
    classes[[i for i, ch in enumerate(everything) if ch.isdigit()]] |= DIGIT
    return classes


def encode(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """UTF-8 bytes of all texts, concatenated, and the int64 byte offsets of each."""
    encoded = [t.encode("utf-8", "surrogatepass") for t in texts]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(e) for e in encoded], out=offsets[1:])
    return np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets


def stopword_hashes(params: Params) -> np.ndarray:
    """Sorted xxh64 of the stop words (a token is dropped when its hash is among them)."""
    return np.array(sorted({xxhash.xxh64_intdigest(w.encode("utf-8")) for w in params.stopwords}),
                    dtype=np.uint64)


def unit_hashes(texts: Sequence[str], params: Params) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """xxh64 of every unit of every normalised text, flattened; whether each unit holds a
    digit (str.isdigit); and the number of units per text."""
    data, offsets = encode(texts)
    return _units_of_runs(data, offsets, code_point_classes(), stopword_hashes(params),
                          params.units == "words", params.min_word_len, params.stem_len)


def document_signatures(texts: Sequence[str], params: Params, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(texts), len(a)) uint32 MinHash signatures of normalised texts, in one compiled pass;
    a, b: the permutations (`dedup.fingerprint.permutations`)."""
    data, offsets = encode(texts)
    return _document_signatures(data, offsets, code_point_classes(), stopword_hashes(params),
                                params.units == "words", params.min_word_len, params.stem_len,
                                params.shingle_k, a, b)


def minhash(values: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Compiled twin of `dedup.fingerprint.minhash` over CSR sets of uint32 values."""
    out = np.full((len(offsets) - 1, len(a)), 0xFFFFFFFF, dtype=np.uint32)
    _minhash_sets(values, offsets, a, b, out)
    return out


def _jit(function, inline: str = "never"):
    if numba is None:
        return function
    return numba.njit(cache=True, nogil=True, inline=inline)(function)  # type: ignore[call-overload]


def _inlined(function):
    """For helpers of the hot loops: numba pastes them into their callers, because an ordinary
    call passes each array as a dozen scalars, which cost more than the helper's work."""
    return _jit(function, inline="always")


@_jit
def _rotl(x, r):
    return (x << np.uint64(r)) | (x >> np.uint64(64 - r))


@_jit
def _read64(data, i):
    v = np.uint64(0)
    for j in range(8):
        v |= np.uint64(data[i + j]) << np.uint64(8 * j)
    return v


@_jit
def _round(acc, lane):
    return _rotl(acc + lane * _P2, 31) * _P1


@_jit
def _merge(h, v):
    return (h ^ _round(np.uint64(0), v)) * _P1 + _P4


@_inlined
def xxh64(data, start, end):
    """XXH64 with seed 0 of data[start:end] (the reference algorithm, step by step)."""
    n = end - start
    i = start
    if n >= 32:
        v1, v2, v3, v4 = _P1 + _P2, _P2, np.uint64(0), np.uint64(0) - _P1
        while i + 32 <= end:
            v1 = _round(v1, _read64(data, i))
            v2 = _round(v2, _read64(data, i + 8))
            v3 = _round(v3, _read64(data, i + 16))
            v4 = _round(v4, _read64(data, i + 24))
            i += 32
        h = _rotl(v1, 1) + _rotl(v2, 7) + _rotl(v3, 12) + _rotl(v4, 18)
        h = _merge(_merge(_merge(_merge(h, v1), v2), v3), v4)
    else:
        h = _P5
    h += np.uint64(n)
    while i + 8 <= end:
        h = _rotl(h ^ _round(np.uint64(0), _read64(data, i)), 27) * _P1 + _P4
        i += 8
    if i + 4 <= end:
        word = np.uint64(0)
        for j in range(4):
            word |= np.uint64(data[i + j]) << np.uint64(8 * j)
        h = _rotl(h ^ (word * _P1), 23) * _P2 + _P3
        i += 4
    while i < end:
        h = _rotl(h ^ (np.uint64(data[i]) * _P5), 11) * _P1
        i += 1
    h ^= h >> np.uint64(33)
    h *= _P2
    h ^= h >> np.uint64(29)
    h *= _P3
    return h ^ (h >> np.uint64(32))


@_jit
def _code_point(data, i):
    """(code point, its length in bytes) of the UTF-8 sequence at data[i]."""
    lead = np.int64(data[i])
    if lead < 0x80:
        return lead, 1
    if lead < 0xE0:
        return ((lead & 0x1F) << 6) | (np.int64(data[i + 1]) & 0x3F), 2
    if lead < 0xF0:
        return ((lead & 0x0F) << 12) | ((np.int64(data[i + 1]) & 0x3F) << 6) | (np.int64(data[i + 2]) & 0x3F), 3
    return (((lead & 0x07) << 18) | ((np.int64(data[i + 1]) & 0x3F) << 12)
            | ((np.int64(data[i + 2]) & 0x3F) << 6) | (np.int64(data[i + 3]) & 0x3F)), 4


@_jit
def _class_at(data, i, end, classes):
    if i >= end:
        return 0, 1
    cp, size = _code_point(data, i)
    return classes[cp], size


@_inlined
def _scan_number(data, i, end, classes):
    """End of the number token starting at i: \\d+ ([.,] \\d+)*."""
    while True:
        c, size = _class_at(data, i, end, classes)
        while c & DECIMAL:
            i += size
            c, size = _class_at(data, i, end, classes)
        if i < end and (data[i] == 46 or data[i] == 44):  # "." or ","
            c, _ = _class_at(data, i + 1, end, classes)
            if c & DECIMAL:
                i += 1
                continue
        return i


@_jit
def _is_word_char(c):
    return (c & WORD) != 0 and (c & UNSPACED) == 0


@_inlined
def _scan_word(data, i, end, classes, stem_len):
    """(end, code points, holds a digit, end of the first stem_len code points) of the word
    token starting at i: [^\\W_]+ ('[^\\W_]+)*."""
    chars, digit, stem_end = 0, False, -1
    while True:
        c, size = _class_at(data, i, end, classes)
        while _is_word_char(c):
            digit |= (c & DIGIT) != 0
            chars += 1
            i += size
            if chars == stem_len:
                stem_end = i
            c, size = _class_at(data, i, end, classes)
        if i < end and data[i] == 39:  # "'"
            c, _ = _class_at(data, i + 1, end, classes)
            if _is_word_char(c):
                chars += 1
                i += 1
                if chars == stem_len:
                    stem_end = i
                continue
        return i, chars, digit, stem_end if stem_end >= 0 else i


@_inlined
def _is_stopword(data, start, end, stopwords):
    if len(stopwords) == 0:
        return False
    h = xxh64(data, start, end)
    k = np.searchsorted(stopwords, h)
    return k < len(stopwords) and stopwords[k] == h


@_jit
def _units(data, start, end, classes, stopwords, whole_words, min_len, stem_len, out, digits, n):
    """Append the unit hashes of data[start:end] to out (and to digits whether each holds
    a digit) from position n; return the new n.

    Mirrors `dedup.text.units`: characters of unspaced scripts make bigrams with
    the character right before them; numbers, words with a digit (and every word
    when whole_words) are kept whole; other words need min_len characters and
    are cut to stem_len.
    """
    i, unspaced_end = start, -1
    while i < end:
        c, size = _class_at(data, i, end, classes)
        if c & DECIMAL:
            stop = _scan_number(data, i, end, classes)
            if not _is_stopword(data, i, stop, stopwords):
                out[n], digits[n] = xxh64(data, i, stop), True
                n += 1
        elif c & UNSPACED:
            stop = i + size
            if unspaced_end == i:
                out[n], digits[n] = xxh64(data, _previous_code_point(data, i), stop), False
                n += 1
            unspaced_end = stop
        elif c & WORD:
            stop, chars, digit, stem_end = _scan_word(data, i, end, classes, stem_len)
            if not _is_stopword(data, i, stop, stopwords):
                if whole_words or digit:
                    out[n], digits[n] = xxh64(data, i, stop), digit
                    n += 1
                elif chars >= min_len:
                    out[n], digits[n] = xxh64(data, i, stem_end), False
                    n += 1
        else:
            stop = i + size
        i = stop
    return n


@_jit
def _previous_code_point(data, i):
    """Start of the code point that ends right before byte i."""
    j = i - 1
    while (data[j] & 0xC0) == 0x80:  # continuation bytes
        j -= 1
    return j


@_jit
def _units_of_runs(data, offsets, classes, stopwords, whole_words, min_len, stem_len):
    out = np.empty(len(data), dtype=np.uint64)  # at most one unit per byte
    digits = np.empty(len(data), dtype=np.bool_)
    counts = np.zeros(len(offsets) - 1, dtype=np.int64)
    n = 0
    for r in range(len(offsets) - 1):
        before = n
        n = _units(data, offsets[r], offsets[r + 1], classes, stopwords, whole_words, min_len, stem_len,
                   out, digits, n)
        counts[r] = n - before
    return out[:n].copy(), digits[:n].copy(), counts


@_inlined
def _mix(h):
    """MurmurHash3's 32-bit finaliser (as datasketch applies it before permuting)."""
    h ^= h >> np.uint32(16)
    h = np.uint32(h * np.uint32(0x85EBCA6B))
    h ^= h >> np.uint32(13)
    h = np.uint32(h * np.uint32(0xC2B2AE35))
    return h ^ (h >> np.uint32(16))


@_inlined
def _permute_min(h, a, b, signature):
    mixed = _mix(np.uint32(h))
    for p in range(len(a)):
        # min() rather than a branch lets LLVM vectorise the permutations
        signature[p] = min(signature[p], np.uint32(a[p] * mixed + b[p]))


@_jit
def _minhash_sets(values, offsets, a, b, out):
    signature = np.empty(len(a), dtype=np.uint32)
    for s in range(len(offsets) - 1):
        if offsets[s + 1] == offsets[s]:
            continue
        signature[:] = 0xFFFFFFFF
        for i in range(offsets[s], offsets[s + 1]):
            _permute_min(values[i], a, b, signature)
        out[s, :] = signature


@_jit
def _document_signatures(data, offsets, classes, stopwords, whole_words, min_len, stem_len, k, a, b):
    out = np.full((len(offsets) - 1, len(a)), 0xFFFFFFFF, dtype=np.uint32)
    units = np.empty(len(data), dtype=np.uint64)
    digits = np.empty(len(data), dtype=np.bool_)
    signature = np.empty(len(a), dtype=np.uint32)
    for d in range(len(offsets) - 1):
        n = _units(data, offsets[d], offsets[d + 1], classes, stopwords, whole_words, min_len, stem_len,
                   units, digits, 0)
        if n < k:
            continue
        signature[:] = 0xFFFFFFFF
        for i in range(n - k + 1):
            h = np.uint64(0)
            for j in range(k):
                h = h * FOLD_MULTIPLIER + units[i + j]
            _permute_min((h ^ (h >> np.uint64(32))) & np.uint64(0xFFFFFFFF), a, b, signature)
        out[d, :] = signature
    return out


@_jit
def _intersection(values, a0, a1, b0, b1):
    """Size of the intersection of two sorted distinct runs (a merge)."""
    count = 0
    while a0 < a1 and b0 < b1:
        if values[a0] < values[b0]:
            a0 += 1
        elif values[a0] > values[b0]:
            b0 += 1
        else:
            count += 1
            a0 += 1
            b0 += 1
    return count


def sentence_features(values: tuple[np.ndarray, ...], offsets: tuple[np.ndarray, ...],
                      counts: tuple[np.ndarray, ...], cells_a: np.ndarray, cells_b: np.ndarray,
                      ratio: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The features of `dedup.paraphrase` for sentence pairs (cells_a[k], cells_b[k]), in one pass.

    values, offsets, counts: the unit, bigram, word and number sets (`dedup.paraphrase.SentenceItems`);
    ratio: float32 fuzz.ratio / 100 of each pair. Returns the (K, 5) float64 features and the
    int32 count of shared units of each pair.
    """
    features = np.empty((len(cells_a), 5), dtype=np.float64)
    shared_units = np.empty(len(cells_a), dtype=np.int32)
    _sentence_features(values, offsets, counts, np.asarray(cells_a, np.int64), np.asarray(cells_b, np.int64),
                       ratio, features, shared_units)
    return features, shared_units


@_jit
def _shared_of(values, offsets, kind, a, b):
    return _intersection(values[kind], offsets[kind][a], offsets[kind][a + 1], offsets[kind][b], offsets[kind][b + 1])


@_jit
def _ratio(num, den):
    return num / den if den > 0 else 0.0


@_jit
def _sentence_features(values, offsets, counts, cells_a, cells_b, ratio, features, shared_units):
    unit, bigram, word, number = counts
    for k in range(len(cells_a)):
        a, b = cells_a[k], cells_b[k]
        shared = _shared_of(values, offsets, 0, a, b)
        shared_units[k] = shared
        features[k, 0] = _ratio(shared, unit[a] + unit[b] - shared)
        features[k, 1] = _ratio(_shared_of(values, offsets, 1, a, b), min(bigram[a], bigram[b]))
        features[k, 2] = _ratio(_shared_of(values, offsets, 2, a, b), max(word[a], word[b]))
        features[k, 3] = ratio[k]
        differ = False
        if number[a] > 0 and number[b] > 0:  # both hold numbers, and they are not the same set
            numbers = _shared_of(values, offsets, 3, a, b)
            differ = numbers < number[a] or numbers < number[b]
        features[k, 4] = 1.0 if differ else 0.0


def monotone_alignment(rows: np.ndarray, columns: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Compiled `dedup.verify.monotone_alignment` over sparse cells sorted by (row, column):
    the positions of the aligned cells, in order, as an int64 array."""
    chain = np.empty(len(rows), dtype=np.int64)
    found = _monotone_alignment(np.asarray(rows, np.int64), np.asarray(columns, np.int64),
                                np.asarray(score, np.float64), chain)
    return chain[:found][::-1].copy()


@_inlined
def _before(value, row, column, best_value, best_row, best_column):
    """The chain order: a higher value first; of equal values, the earlier row, then column."""
    return value > best_value or (value == best_value
                                  and (row < best_row or (row == best_row and column < best_column)))


@_jit
def _monotone_alignment(rows, columns, score, chain):
    n = columns.max() + 1 if len(columns) else 0
    # A Fenwick tree over columns of the best chain end seen so far (value, row, column, cell).
    tree_value, tree_row = np.full(n + 1, -1.0), np.zeros(n + 1, np.int64)
    tree_column, tree_cell = np.zeros(n + 1, np.int64), np.full(n + 1, -1, np.int64)
    value, before = np.empty(len(rows)), np.full(len(rows), -1, np.int64)
    start = 0
    while start < len(rows):
        stop = start
        while stop < len(rows) and rows[stop] == rows[start]:
            stop += 1
        for k in range(start, stop):  # the best chain ending up and left of the cell: rows before, columns before
            best, best_row, best_column, best_cell = -1.0, 0, 0, -1
            x = columns[k]
            while x > 0:
                if tree_cell[x] >= 0 and (best_cell < 0 or _before(tree_value[x], tree_row[x], tree_column[x],
                                                                   best, best_row, best_column)):
                    best, best_row, best_column, best_cell = tree_value[x], tree_row[x], tree_column[x], tree_cell[x]
                x -= x & -x
            value[k] = (best if best_cell >= 0 else 0.0) + score[k]
            before[k] = best_cell
        for k in range(start, stop):  # only now: a row's cells may not chain with each other
            x = columns[k] + 1
            while x <= n:
                if tree_cell[x] < 0 or _before(value[k], rows[k], columns[k], tree_value[x], tree_row[x],
                                               tree_column[x]):
                    tree_value[x], tree_row[x], tree_column[x], tree_cell[x] = value[k], rows[k], columns[k], k
                x += x & -x
        start = stop
    last = -1
    for k in range(len(rows)):  # cells come in (row, column) order: the first of the highest value
        if last < 0 or value[k] > value[last]:
            last = k
    found = 0
    while last >= 0:
        chain[found] = last
        found += 1
        last = before[last]
    return found


def unique_per_set(values: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Compiled `dedup.fingerprint.unique_per_set`: each CSR set sorted, repeats dropped."""
    out = np.empty_like(values)
    new_offsets = np.zeros(len(offsets), dtype=np.int64)
    _unique_per_set(values, np.asarray(offsets, np.int64), out, new_offsets)
    return out[:new_offsets[-1]].copy(), new_offsets


@_jit
def _unique_per_set(values, offsets, out, new_offsets):
    written = 0
    for s in range(len(offsets) - 1):
        run = np.sort(values[offsets[s]:offsets[s + 1]])
        for i in range(len(run)):
            if i == 0 or run[i] != run[i - 1]:
                out[written] = run[i]
                written += 1
        new_offsets[s + 1] = written


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """Compiled `dedup.candidates.Banding.keys`: (n, bands) uint64, each band's values folded
    into its number; laid out band by band (each column contiguous) for sorting."""
    out = np.empty((bands, len(signatures)), dtype=np.uint64)
    _band_keys(signatures, bands, rows, out)
    return out.T


@_jit
def _band_keys(signatures, bands, rows, out):
    for i in range(signatures.shape[0]):
        for band in range(bands):
            key = np.uint64(band)
            for row in range(rows):
                key = key * FOLD_MULTIPLIER + np.uint64(signatures[i, band * rows + row])
            out[band, i] = key


def bucket_pair_keys(order: np.ndarray, starts: np.ndarray, sizes: np.ndarray, leads: np.ndarray,
                     n: int, new_from: int = 0) -> np.ndarray:
    """The pairs of items inside each bucket that involve one of its first ``leads`` items and
    an item numbered ``new_from`` or above, as one int64 ``min * n + max`` each: every pair when
    a bucket's lead is its size and new_from is 0.

    order: item numbers sorted by key; bucket k is order[starts[k]:starts[k] + sizes[k]], its
    items ascending where its lead is below its size (a capped bucket). With new_from > 0 an
    uncapped bucket's slice of order is reordered, items below new_from first. An index adds
    a few new documents beside many held ones: the pairs among the held, known already, are
    not made at all (their number grew with the square of the held neighbours of a block).
    """
    order, starts = np.asarray(order, np.int64), np.asarray(starts, np.int64)
    sizes, leads = np.asarray(sizes, np.int64), np.asarray(leads, np.int64)
    out = np.empty(_bucket_pair_keys(order, starts, sizes, leads, n, new_from, np.empty(0, np.int64), False),
                   dtype=np.int64)
    _bucket_pair_keys(order, starts, sizes, leads, n, new_from, out, True)
    return out


@_jit
def _bucket_pair_keys(order, starts, sizes, leads, n, new_from, out, write):
    """Counts the pairs, and writes them to out when write is set (one loop for both passes)."""
    written = 0
    for k in range(len(starts)):
        start, end = starts[k], starts[k] + sizes[k]
        held_end = start  # the bucket's items below new_from are order[start:held_end]
        if new_from:  # none in a scan
            for p in range(start, end):
                if order[p] < new_from:
                    order[held_end], order[p] = order[p], order[held_end]  # a capped bucket's ascending items stay so
                    held_end += 1
        for p in range(start, start + leads[k]):
            first = held_end if p < held_end else p + 1  # a held item pairs only with the new ones
            if not write:
                written += end - first
                continue
            for q in range(first, end):
                i, j = order[p], order[q]
                out[written] = min(i, j) * n + max(i, j)
                written += 1
    return written


def agreement(signatures: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Share of equal values in the signatures of each pair of rows (the MinHash Jaccard estimate)."""
    out = np.empty(len(pairs), dtype=np.float64)
    _agreement(signatures, pairs, out)
    return out


@_jit
def _agreement(signatures, pairs, out):
    width = signatures.shape[1]
    for k in range(len(pairs)):
        a, b = signatures[pairs[k, 0]], signatures[pairs[k, 1]]
        equal = 0
        for p in range(width):
            equal += a[p] == b[p]
        out[k] = equal / width


def weighted_overlap(hashes_a: np.ndarray, info_a: np.ndarray, rarity_a: np.ndarray, first_a: np.ndarray,
                     hashes_b: np.ndarray, info_b: np.ndarray, rarity_b: np.ndarray, first_b: np.ndarray,
                     anchor: float) -> tuple[float, float, int, int]:
    """Of two documents' distinct words (sorted hashes, information, rarity outside the pair, first
    sentence), in one merge: the share of a's information among shared words, the same for b, how
    many shared words are anchors (rarity ≥ anchor in both), and how many of those keep their
    order: the longest chain of anchors whose first sentences rise (or stay) in both texts."""
    return _weighted_overlap(hashes_a, info_a, rarity_a, first_a, hashes_b, info_b, rarity_b, first_b, anchor)


@_jit
def _weighted_overlap(hashes_a, info_a, rarity_a, first_a, hashes_b, info_b, rarity_b, first_b, anchor):
    i, j, shared_a, shared_b = 0, 0, 0.0, 0.0
    found = np.empty((min(len(hashes_a), len(hashes_b)), 2), dtype=np.int64)
    anchors = 0
    while i < len(hashes_a) and j < len(hashes_b):
        if hashes_a[i] < hashes_b[j]:
            i += 1
        elif hashes_a[i] > hashes_b[j]:
            j += 1
        else:
            shared_a += info_a[i]
            shared_b += info_b[j]
            if rarity_a[i] >= anchor and rarity_b[j] >= anchor:
                found[anchors, 0], found[anchors, 1] = first_a[i], first_b[j]
                anchors += 1
            i += 1
            j += 1
    total_a, total_b = info_a.sum(), info_b.sum()
    return (shared_a / total_a if total_a > 0 else 0.0, shared_b / total_b if total_b > 0 else 0.0,
            anchors, _longest_rising(found[:anchors]))


@_inlined
def _longest_rising(points):
    """The longest chain of points ordered by (first, second) whose second coordinates never fall
    (patience sorting: tails[k] is the smallest last value of a chain of k + 1)."""
    if len(points) == 0:
        return 0
    order = np.argsort(points[:, 0] * (points[:, 1].max() + 1) + points[:, 1])
    tails = np.empty(len(points), dtype=np.int64)
    length = 0
    for k in order:
        value = points[k, 1]
        low, high = 0, length
        while low < high:  # the first tail greater than value
            middle = (low + high) // 2
            if tails[middle] <= value:
                low = middle + 1
            else:
                high = middle
        tails[low] = value
        if low == length:
            length += 1
    return length


def weighted_shared(values: np.ndarray, offsets: np.ndarray, info: np.ndarray, cells_a: np.ndarray,
                    cells_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For sentence pairs (cells_a[k], cells_b[k]) of CSR word sets (sorted values, offsets) whose
    words carry information (info, parallel to values): the information the two share, counted
    in the first sentence's words and in the second's."""
    shared_a = np.zeros(len(cells_a))
    shared_b = np.zeros(len(cells_a))
    _weighted_shared(values, offsets, info, np.asarray(cells_a, np.int64), np.asarray(cells_b, np.int64),
                     shared_a, shared_b)
    return shared_a, shared_b


@_jit
def _weighted_shared(values, offsets, info, cells_a, cells_b, shared_a, shared_b):
    for k in range(len(cells_a)):
        i, i_end = offsets[cells_a[k]], offsets[cells_a[k] + 1]
        j, j_end = offsets[cells_b[k]], offsets[cells_b[k] + 1]
        while i < i_end and j < j_end:
            if values[i] < values[j]:
                i += 1
            elif values[i] > values[j]:
                j += 1
            else:
                shared_a[k] += info[i]
                shared_b[k] += info[j]
                i += 1
                j += 1
