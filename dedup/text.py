"""Text normalisation, text units, and the project's shingle hash.

A *unit* is what shingles are made of (see `Params.units`). Units are hashed
once with xxHash64; a shingle of k units is hashed by folding its unit hashes,
so shingles of any length are hashed in numpy without touching strings again:

    h = 0;  for u in units: h = (h * M + xxh64(u)) mod 2**64      (M odd)
    shingle_hash(units) = (h XOR (h >> 32)) mod 2**32

`shingle_hash` is the reference implementation of that function, usable as a
datasketch ``hashfunc`` (see `dedup.fingerprint`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import pandas as pd
import xxhash

from dedup.params import Params

FOLD_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # odd, so the fold is a bijection per step

# Typographic quotes and dashes to ASCII, soft hyphens out (str.replace per character
# beats str.translate several times over on long texts).
_FOLDS = {"‘": "'", "’": "'", "‚": "'", "‛": "'", "“": '"', "”": '"', "„": '"', "‟": '"', "«": '"',
          "»": '"', "–": "-", "—": "-", "‒": "-", "―": "-", "−": "-", "\u00ad": ""}
# Scripts written without spaces between words: each character is a token.
_UNSPACED = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(
    rf"(?P<num>\d+(?:[.,]\d+)*)"
    rf"|(?P<cjk>[{_UNSPACED}])"
    rf"|(?P<word>[^\W_{_UNSPACED}]+(?:'[^\W_{_UNSPACED}]+)*)"
)


def normalize(text: str) -> str:
    """NFKC, straight quotes, ASCII hyphens, single spaces, case folded."""
    return " ".join(fold(text).split())


def fold(text: str) -> str:
    """`normalize` but for whitespace, which no unit depends on: the fingerprint's fast path."""
    if text.isascii():
        return text.lower()
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    for typographic, plain in _FOLDS.items():
        if typographic in text:
            text = text.replace(typographic, plain)
    return text.casefold()


def units(norm_text: str, params: Params) -> list[str]:
    """The text units of normalised text, in order (see `Params.units`)."""
    if params.units == "chars":
        joined = " ".join(m.group() for m in _TOKEN.finditer(norm_text))
        k = params.char_k
        return [joined[i:i + k] for i in range(len(joined) - k + 1)] or ([joined] if joined else [])
    out: list[str] = []
    unspaced_end = -1
    for m in _TOKEN.finditer(norm_text):
        kind, tok = m.lastgroup, m.group()
        if kind == "cjk":
            if m.start() == unspaced_end:
                out.append(norm_text[m.start() - 1:m.end()])  # bigram with the character right before
            unspaced_end = m.end()
            continue
        if tok in params.stopwords:
            continue
        if kind == "num" or params.units == "words" or any(ch.isdigit() for ch in tok):
            out.append(tok)  # numbers and codes like "g20" are facts: keep them whole
        elif len(tok) >= params.min_word_len:
            out.append(tok[:params.stem_len])
    return out


def hash_units(unit_lists: Sequence[Sequence[str]]) -> np.ndarray:
    """xxh64 of every unit, flattened in order; each distinct unit is hashed once."""
    flat = pd.Series([u for lst in unit_lists for u in lst], dtype=object)
    codes, vocabulary = pd.factorize(flat)
    vocab_hashes = np.fromiter((xxhash.xxh64_intdigest(u.encode("utf-8")) for u in vocabulary),
                               dtype=np.uint64, count=len(vocabulary))
    return vocab_hashes[codes] if len(codes) else np.empty(0, dtype=np.uint64)


def fold_to_32(h: np.ndarray) -> np.ndarray:
    """The final step of the shingle hash: 64-bit fold state to 32 bits."""
    return ((h ^ (h >> np.uint64(32))) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def shingle_hash(shingle: Sequence[str]) -> int:
    """Reference shingle hash (pure Python): pass it to datasketch as ``hashfunc``."""
    h = 0
    for unit in shingle:
        h = (h * int(FOLD_MULTIPLIER) + xxhash.xxh64_intdigest(unit.encode("utf-8"))) % 2**64
    return int(fold_to_32(np.array([h], dtype=np.uint64))[0])
