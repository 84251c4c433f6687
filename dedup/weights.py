"""How informative a word is: the information -log p(w) of a document holding word w.

A rewrite keeps the names, numbers and rare words of its source and changes the
common ones, so overlap counted in information rather than in words separates a
rewrite from an independent text on the same topic. The probability blends what
the scanned corpus says with what the language says, as k pseudo-documents:

    p(w) = (df(w) + k · q(w)) / (N + k),     q(w) = 1 - exp(-f(w) · L)

df(w) is the number of the corpus's N documents holding w, the document at hand left
out (N - 1, df - 1: its own words say nothing of how common they are); f(w) is w's frequency
per word in the document's language (the ``wordfreq`` lists, 42 languages), so
q(w) is the chance that a document of L = TYPICAL_WORDS words holds w. A word a
list does not hold (a name, a number, a misspelling) takes f = RARE. In a scan
of many documents the corpus decides (a word every page of one site prints is
uninformative there, however rare in the language); for `dedup.compare` of two
texts, N = 0 and the language decides.

A word's *rarity* (`rarity_of`), which tells the anchors a pair shares (names, numbers,
terms), is its information in the language alone, -log q(w), set to 0 when more than
``max_bucket`` other documents of the corpus hold it. Not the blend above: a story
copied to twenty sites holds its names twenty times, and a rewrite of it still shares
them with its source; but a word that hundreds of documents print is a formula's
(dividend notices print "qtly div cts" by the thousand), however rare in the language.

The language of a document is the wordfreq language whose LANGUAGE_WORDS most
frequent words cover most of its words (at least MIN_COVERAGE of them); a
document in no listed language, or one too short to tell, weighs every word
alike (q = RARE), which is today's unweighted overlap.

Words are dedup's word tokens (`dedup.text.units` with ``units="words"``), hashed
as the sentence items hash them (`dedup.paraphrase.SentenceItems`), so a weight
is looked up by hash.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

import numpy as np
import pandas as pd
import wordfreq

from dedup.fingerprint import unique_per_set
from dedup.params import Params
from dedup.segment import sentence_units
from dedup.text import normalize

TYPICAL_WORDS = 400     # L: words in a typical news article
RARE = 1e-7             # f of a word no frequency list holds: rarer than almost every listed word
PSEUDO_DOCUMENTS = 20   # k: how many documents' worth of evidence the language's estimate counts as
LANGUAGE_WORDS = 300    # the most frequent words of each language that tell it (as many are shipped)
MIN_COVERAGE = 0.2      # share of a document's words among them, at least, to name its language


@cache
def _word_params() -> Params:
    return Params(units="words")  # built once: a Params checks its LSH banding, which is slow


@cache
def _language_list(language: str) -> tuple[np.ndarray, np.ndarray]:
    """A wordfreq language's words as hashes (sorted) and frequencies."""
    hashed = _hashed(wordfreq.get_frequency_dict(language))
    # wordfreq caches every language's list and dict it has read, for good: tens of MB per
    # language in each worker, of words this cache holds as arrays already.
    wordfreq.get_frequency_dict.cache_clear()
    wordfreq.get_frequency_list.cache_clear()
    return hashed


def _hashed(frequencies: dict[str, float]) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of the words that are one dedup word token, sorted, and their frequencies (the
    highest where several words normalise to one token)."""
    words = list(frequencies)
    hashes, _, counts = sentence_units([normalize(word) for word in words], _word_params())
    single = np.flatnonzero(counts == 1)
    values = np.array([frequencies[words[i]] for i in single.tolist()], dtype=np.float64)
    token_hashes = hashes[np.cumsum(counts)[single] - 1]
    order = np.lexsort((-values, token_hashes))
    token_hashes, values = token_hashes[order], values[order]
    first = np.r_[True, token_hashes[1:] != token_hashes[:-1]] if len(token_hashes) else np.empty(0, bool)
    return token_hashes[first], values[first]


@cache
def _telltale_words() -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """The languages, and the hashes of each one's most frequent words with the language's number
    (sorted by hash; one hash may stand for several languages). The words are shipped
    (``dedup/data/language_words.json``: wordfreq's ``top_n_list(lang, 300)`` for each of its
    languages), so telling a language loads no frequency list."""
    listed = json.loads(files("dedup").joinpath("data/language_words.json").read_text(encoding="utf-8"))
    languages = tuple(sorted(listed["languages"]))
    words = [(number, normalize(word)) for number, language in enumerate(languages)
             for word in listed["languages"][language][:LANGUAGE_WORDS]]
    values, _, counts = sentence_units([word for _, word in words], _word_params())
    single = counts == 1  # words that are one token
    hashes = values[np.cumsum(counts)[single] - 1]
    owners = np.array([number for number, _ in words])[single]
    distinct = np.unique(np.stack([hashes, owners.astype(np.uint64)], axis=1), axis=0)  # a word once per language
    return languages, distinct[:, 0], distinct[:, 1].astype(np.int64)


def guess_languages(words: np.ndarray, owner: np.ndarray, documents: int) -> list[str | None]:
    """The wordfreq language of each of several documents, or None: words, their word tokens
    (hashes, repeats counted), owner, each token's document (0 ... documents - 1)."""
    languages, telltale, owners = _telltale_words()
    left, right = np.searchsorted(telltale, words, side="left"), np.searchsorted(telltale, words, side="right")
    spans = right - left  # how many languages hold each token among their most frequent words
    hit_language = owners[np.repeat(left, spans) + _ranks(spans)]
    hit_document = np.repeat(owner, spans)
    counts = np.bincount(hit_document * len(languages) + hit_language,
                         minlength=documents * len(languages)).reshape(documents, len(languages))
    tokens = np.bincount(owner, minlength=documents)
    best = counts.argmax(axis=1)
    return [languages[b] if tokens[d] and counts[d, b] >= MIN_COVERAGE * tokens[d] else None
            for d, b in enumerate(best.tolist())]


def _ranks(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., c-1 for every c in counts, concatenated."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


SUM_RANGES = 64  # hash ranges `DocumentFrequencies.common_of` sums one at a time


@dataclass(frozen=True)
class DocumentFrequencies:
    """How many of a corpus's documents hold each word: hashes (sorted), counts, documents.
    Empty for `dedup.compare`, where the language alone decides. Once counted (`common`), only
    words two or more documents hold are kept: a word of the document at hand that is missing
    is held by that document alone."""

    hashes: np.ndarray
    counts: np.ndarray
    documents: int

    @classmethod
    def none(cls) -> DocumentFrequencies:
        return cls(np.empty(0, np.uint64), np.empty(0, np.int64), 0)

    @classmethod
    def of(cls, segments: pd.DataFrame) -> DocumentFrequencies:
        """The frequencies of the documents of a segments table (each document's rows together)."""
        if segments.empty:
            return cls.none()
        words, _, counts = sentence_units(segments.text.tolist(), _word_params())
        first = np.flatnonzero(~segments.doc_id.duplicated().to_numpy())
        token_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        distinct, _ = unique_per_set(words, np.append(token_offsets[first], token_offsets[-1]))
        hashes, per_word = np.unique(distinct, return_counts=True)
        return cls(hashes, per_word.astype(np.int64), len(first))

    def common(self) -> DocumentFrequencies:
        """Only the words two or more documents hold (see the class docstring)."""
        kept = self.counts >= 2
        return DocumentFrequencies(self.hashes[kept], self.counts[kept], self.documents)

    @classmethod
    def common_of(cls, parts: Sequence[DocumentFrequencies], ranges: int = SUM_RANGES) -> DocumentFrequencies:
        """`common` of the frequencies of several corpora together (blocks of one corpus, all
        counted), summed one range of hash values at a time: each part's hashes are sorted, so a
        range is a slice of each (memory-mapped parts are read a slice at a time), and memory
        holds the result and one range of every part, not every part's words at once."""
        edges = np.array([2**64 * k // ranges for k in range(1, ranges)], dtype=np.uint64)
        cuts = [np.concatenate([[0], np.searchsorted(part.hashes, edges), [len(part.hashes)]]) for part in parts]
        found: list[DocumentFrequencies] = []
        for number in range(ranges):
            slices = [slice(int(cut[number]), int(cut[number + 1])) for cut in cuts]
            hashes = np.concatenate([np.empty(0, np.uint64), *(part.hashes[at] for part, at in zip(parts, slices))])
            counts = np.concatenate([np.empty(0, np.int64), *(part.counts[at] for part, at in zip(parts, slices))])
            unique, inverse = np.unique(hashes, return_inverse=True)
            summed = np.bincount(inverse.ravel(), weights=counts, minlength=len(unique)).astype(np.int64)
            found.append(cls(unique, summed, 0).common())
        return cls(np.concatenate([range_.hashes for range_ in found]),
                   np.concatenate([range_.counts for range_ in found]), sum(part.documents for part in parts))

    def frequency(self, words: np.ndarray) -> np.ndarray:
        """df of each word hash of a document of the corpus (1, the document itself, for a word
        not counted; 0 for every word when there is no corpus)."""
        out = np.full(len(words), min(self.documents, 1), np.int64)
        if len(self.hashes):
            at = np.minimum(np.searchsorted(self.hashes, words), len(self.hashes) - 1)
            found = self.hashes[at] == words
            out[found] = self.counts[at[found]]
        return out


@dataclass(frozen=True)
class DocumentWords:
    """Each document's distinct words, CSR: hashes (sorted within a document), their information
    (`information`), their rarity (`rarity_of`), and
    the first sentence (numbered within the document) holding each; and token_info, the
    information of each word token given, in the order given."""

    hashes: np.ndarray
    info: np.ndarray
    rarity: np.ndarray
    first: np.ndarray
    offsets: np.ndarray
    token_info: np.ndarray

    @classmethod
    def of(cls, words: np.ndarray, sentence: np.ndarray, document: np.ndarray, documents: int,
           frequencies: DocumentFrequencies, widest: int) -> DocumentWords:
        """From word tokens (hashes), each one's sentence within its document, and its document
        (0 ... documents - 1, in order); widest: see `rarity_of`."""
        languages = guess_languages(words, document, documents)
        order = np.lexsort((sentence, words, document))
        first = np.r_[True, (words[order][1:] != words[order][:-1]) | (document[order][1:] != document[order][:-1])] \
            if len(words) else np.empty(0, bool)
        distinct = np.cumsum(first) - 1  # each sorted token's distinct word
        kept = order[first]
        words_kept, sentence_kept, document_kept = words[kept], sentence[kept], document[kept]
        background = np.empty(len(kept))
        named = sorted(set(languages), key=str)
        language_of = np.array([named.index(language) for language in languages], dtype=np.int64)[document_kept]
        for number, language in enumerate(named):
            mine = language_of == number
            background[mine] = _background(words_kept[mine], language)
        held = frequencies.frequency(words_kept)
        info = information(background, held, frequencies.documents)
        token_info = np.empty(len(words), np.float32)
        token_info[order] = info[distinct]
        offsets = np.concatenate([[0], np.cumsum(np.bincount(document_kept, minlength=documents))]).astype(np.int64)
        return cls(words_kept, info.astype(np.float32), rarity_of(background, held, widest).astype(np.float32),
                   sentence_kept.astype(np.int32), offsets, token_info)


def information(background: np.ndarray, held: np.ndarray, documents: int) -> np.ndarray:
    """-log p(w) of words of a document (see the module docstring) from their q(w) (background),
    how many of the corpus's documents hold each (held) and how many it has, counting the corpus
    without the document itself (its own words say nothing of how common they are)."""
    others = np.maximum(held - 1, 0)
    p = (others + PSEUDO_DOCUMENTS * background) / (max(documents - 1, 0) + PSEUDO_DOCUMENTS)
    return -np.log(np.clip(p, 1e-12, 1.0))


def rarity_of(background: np.ndarray, held: np.ndarray, widest: int) -> np.ndarray:
    """-log q(w) of words of a document, or 0 for a word that more than widest other documents
    of the corpus hold besides a pair's two (see the module docstring)."""
    rarity = -np.log(np.clip(background, 1e-12, 1.0))
    rarity[held - 2 > widest] = 0.0
    return rarity


def _background(words: np.ndarray, language: str | None) -> np.ndarray:
    """q(w): the chance that a document of TYPICAL_WORDS words in this language holds w."""
    f = np.full(len(words), RARE)
    if language is not None:
        values, known = _language_list(language)
        at = np.minimum(np.searchsorted(values, words), max(len(values) - 1, 0))
        listed = values[at] == words if len(values) else np.zeros(len(words), bool)
        f[listed] = known[at[listed]]
    return -np.expm1(-f * TYPICAL_WORDS)
