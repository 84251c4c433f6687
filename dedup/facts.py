"""Fact drift between a source and its copy: aligned passages → facts.

The quiet changes that matter most when a story is copied:

* **numbers** — the digits (any script) and English quantity words ("scores",
  "hundreds", "dozen", "twice") of two aligned passages, compared as
  multisets: what the source says and the copy does not, and the reverse;
* **quotations** — spans inside quotation marks (“…”, "…", «…», „…“, 「…」).
  A copy's quotation is ``quote_kept`` when its words equal one of the
  source's quotations, ``quote_cut`` when it is an excerpt of one,
  ``quote_changed`` when it is close to one but worded differently (or
  longer), ``quote_added`` when its words are in the source but not presented
  there as a quotation. A source quotation in a passage the copy kept, with no
  counterpart among the copy's quotations, is ``quote_cut`` too (b_value "").

The `facts` table: doc_a, doc_b (source side, copy side), passage_no, fact,
a_value, b_value.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz

from dedup.params import Params
from dedup.segment import sentence_units
from dedup.text import normalize

FACT_COLUMNS = ["doc_a", "doc_b", "passage_no", "fact", "a_value", "b_value"]
# Each fact and how a reader sees it named, drift first and surviving quotations last.
FACTS = {"number_changed": "number changed", "quote_changed": "quotation changed",
         "quote_added": "quotation added", "quote_cut": "quotation cut",
         "credit_dropped": "agency credit dropped", "dateline_dropped": "dateline dropped",
         "byline_changed": "byline changed", "quote_kept": "quotation kept verbatim"}

_QUOTATION = re.compile(r"“([^”“\n]+)”|\"([^\"\n]+)\"|«([^»\n]+)»|„([^“”\n]+)[“”]|「([^」\n]+)」|『([^』\n]+)』")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# English quantity words: a copy turning "scores" into "hundreds" changes the facts.
_QUANTITY_WORDS = re.compile(
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|fifty"
    r"|hundred|thousand|million|billion|trillion|dozen|score|half|twice|double|triple)s?\b")
CLOSE_QUOTATION = 80  # fuzz.ratio from which two quotations are one, reworded


@dataclass(frozen=True)
class Quotation:
    start: int       # offsets into the original text
    end: int
    norm: str        # normalised words, for comparison


@lru_cache(maxsize=16384)
def quotations(text: str, min_words: int = 2) -> tuple[Quotation, ...]:
    """Quoted spans of at least min_words words (single quoted words are mostly scare quotes).

    Cached: a document meets several others, and both its quotation facts and its
    quotation anchors need them."""
    found = []
    for m in _QUOTATION.finditer(text):
        group = next(g for g in range(1, 7) if m.group(g) is not None)
        norm = _comparable(m.group(group))
        if len(norm.split()) >= min_words:
            found.append(Quotation(m.start(group), m.end(group), norm))
    return tuple(found)


def _comparable(text: str) -> str:
    """Normalised words only: quotations differ in punctuation across outlets."""
    return " ".join(re.sub(r"[^\w' ]+", " ", normalize(text)).split())


@lru_cache(maxsize=4096)
def numbers(text: str) -> Counter[str]:
    """Multiset of the numbers and quantity words of a text (thousands separators dropped).

    Cached: a source's passage meets each of its copies; callers must not change the result."""
    norm = normalize(text)
    found = Counter(re.sub(r"(?<=\d),(?=\d{3}\b)", "", n) for n in _NUMBER.findall(norm))
    found.update(_QUANTITY_WORDS.findall(norm))
    return found


def number_drift(a_text: str, b_text: str) -> tuple[str, str] | None:
    """(numbers only in a, numbers only in b), or None when both say the same."""
    a, b = numbers(a_text), numbers(b_text)
    if a == b:
        return None
    return ", ".join(sorted((a - b).elements())), ", ".join(sorted((b - a).elements()))


def quotation_drift(a_text: str, b_text: str, params: Params) -> list[tuple[str, int | None, int | None, str, str]]:
    """Quotation facts of a pair of whole texts: (fact, a_offset, b_offset, a_value, b_value).

    Offsets are the quotations' starts, for placing each fact in its passage.
    """
    quotes_a, quotes_b = quotations(a_text), quotations(b_text)
    index = _QuotationIndex(quotes_a, quotes_b)
    out: list[tuple[str, int | None, int | None, str, str]] = []
    used_a: set[Quotation] = set()
    for qb in quotes_b:
        match = _best_quotation(qb, index.candidates(qb))
        if match is not None:
            qa, fact = match
            used_a.add(qa)
            out.append((fact, qa.start, qb.start, a_text[qa.start:qa.end], b_text[qb.start:qb.end]))
            continue
        words = _text_units(qb.norm, params)
        if len(words) and _held(words, _text_units(a_text, params)) >= 0.8 * len(words):  # only now: costly
            out.append(("quote_added", None, qb.start, "", b_text[qb.start:qb.end]))
    out += [("quote_cut", qa.start, None, a_text[qa.start:qa.end], "") for qa in quotes_a if qa not in used_a]
    return out


def shared_quotations(a_text: str, b_text: str, min_words: int = 3) -> list[tuple[int, int]]:
    """(offset in a, offset in b) of every quotation of at least min_words words that both texts
    hold word for word: the sentences around it are the same passage, however trimmed."""
    starts_a: dict[str, list[int]] = {}
    for q in quotations(a_text, min_words):
        starts_a.setdefault(q.norm, []).append(q.start)
    return [(start, q.start) for q in quotations(b_text, min_words) for start in starts_a.get(q.norm, [])]


@lru_cache(maxsize=16384)
def _text_units(text: str, params: Params) -> np.ndarray:
    """The distinct hashes of a text's units, sorted and read-only (cached like `quotations`: a
    document meets many others). An array, not a set of ints: a set took 18 KB for a 2 KB text,
    which the cache's 16,384 entries made 300 MB in every worker of a large scan."""
    units = np.unique(sentence_units([normalize(text)], params)[0])
    units.flags.writeable = False
    return units


def _held(values: np.ndarray, sorted_values: np.ndarray) -> int:
    """How many of values (distinct) are in sorted_values."""
    at = np.searchsorted(sorted_values, values)
    return int((sorted_values[np.minimum(at, len(sorted_values) - 1)] == values).sum()) if len(sorted_values) else 0


class _QuotationIndex:
    """The source quotations a copy's quotation may reproduce, found through rare words, so that
    two long texts with thousands of quotations each are not compared all with all.

    A word is rarer the fewer quotations of either text hold it. A source quotation is a
    candidate for a copy's quotation when it holds one of that quotation's RAREST_WORDS
    rarest words (so every source quotation the copy's contains, or that closely matches it,
    is one), or when one of its own rarest words is among the copy quotation's words (so
    every source quotation inside the copy's is one).
    """

    RAREST_WORDS = 2

    def __init__(self, quotes_a: tuple[Quotation, ...], quotes_b: tuple[Quotation, ...]) -> None:
        self.quotes_a = quotes_a
        self.frequency = Counter(word for q in (*quotes_a, *quotes_b) for word in set(q.norm.split()))
        self.holding: dict[str, list[int]] = {}
        self.led_by: dict[str, list[int]] = {}
        for number, qa in enumerate(quotes_a):
            for word in set(qa.norm.split()):
                self.holding.setdefault(word, []).append(number)
            for word in self._rarest(qa):
                self.led_by.setdefault(word, []).append(number)

    def _rarest(self, quotation: Quotation) -> list[str]:
        return sorted(set(quotation.norm.split()), key=lambda word: (self.frequency[word], word))[:self.RAREST_WORDS]

    def candidates(self, qb: Quotation) -> list[Quotation]:
        """The source quotations to compare with qb, in the source's order."""
        found = {number for word in self._rarest(qb) for number in self.holding.get(word, ())}
        found.update(number for word in set(qb.norm.split()) for number in self.led_by.get(word, ()))
        return [self.quotes_a[number] for number in sorted(found)]


def _best_quotation(qb: Quotation, quotes_a: list[Quotation]) -> tuple[Quotation, str] | None:
    """The source quotation (of quotes_a, in the source's order) this copy quotation reproduces, and how."""
    for qa in quotes_a:
        if qb.norm == qa.norm:
            return qa, "quote_kept"
    for qa in quotes_a:
        if qb.norm in qa.norm:
            return qa, "quote_cut"  # an excerpt: the copy quotes part of it
        if qa.norm in qb.norm:
            return qa, "quote_changed"  # the copy put more words inside the quotation marks
    if not quotes_a:
        return None
    score, best = max(((fuzz.ratio(qb.norm, qa.norm), qa) for qa in quotes_a), key=lambda s: s[0])
    return (best, "quote_changed") if score >= CLOSE_QUOTATION else None
