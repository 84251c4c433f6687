"""A synthetic syndication corpus built from real news text, for the speed, memory and scale runs.

    build(root, n_docs, seed)        -> (documents, truth) in memory, for small corpora
    write(root, n_docs, path, seed)  -> streams a Parquet file and its truth beside it (PATH.truth.parquet)

Real text keeps the statistics that decide how fast and how well dedup works (text lengths,
paragraphs, word frequencies, numbers); injected copies give a truth no labelled set has at
100k or 1M documents. Exactly how it is built:

Base texts (`load_bases`). The 2,225 BBC News articles (``bbc-news/bbc/*/*.txt``: title line,
then paragraphs) and the Reuters-21578 bodies as `loaders.reuters` reads them. A Reuters
paragraph starts at a line indented with blanks; its wrapped lines are joined with one space.
Every text becomes its paragraphs, stripped, joined with one blank line (``"\\n\\n"``). Texts
under 80 whitespace-separated words are skipped, and a text identical to an earlier one after
case folding and whitespace collapsing is skipped, so two base stories are never the same text
(edited re-filings of one Reuters story remain: real near-duplicates outside the truth).

Plan (`numpy.random.default_rng(seed)`). round(0.3 · n_docs) documents are copies, the other
n_stories = n_docs - copies are base stories. The real texts are shuffled once; story i uses
real text ``order[i % n_real]``, so real texts are used before any is reused. Each copy is
assigned to a story drawn uniformly at random, so a story gets 0, 1 or several copies (Poisson
with mean copies / n_stories: at 30% copies about 65% of the stories have none, 28% one, 7% more).

Stories (`random.Random(seed · 2**32 + i)` each, so a story does not depend on how the corpus
is cut into chunks). The first use of a real text is the text itself. Reuse r ≥ 1 (story
i ≥ n_real) is the text *enciphered*: every ASCII letter a–z is replaced through a random
derangement of the alphabet drawn for that story (upper case through the same derangement, so
case is kept; digits, punctuation, non-ASCII letters and whitespace are kept). Lengths,
paragraphs, word lengths and the word-frequency shape stay those of real text, but no word
maps onto itself, so a reuse shares no word of letters with its original except by coincidence
(another real word happening to be the image), and two reuses share a word only where their
two derangements agree on all its letters. Numbers are shared. A story is one document
(source ``wire-K``, K in 0–9; a date in 2020–2022) followed by its copies, each of one kind
chosen uniformly among the kinds its text allows (source ``site-K``, K in 0–199; the base's date
plus 0–3 days):

    verbatim     the text unchanged.
    trimmed      the first k of n paragraphs, 1 ≤ k < n, k drawn among those keeping ≥ 50% of
                 the words (needs such a k).
    padded       a new lede paragraph before the text and a reader-comments section after it
                 ("Reader comments", then 2–3 comments). Lede and comments are paragraphs of
                 *other* real texts, cut to 60 and 40 words, each enciphered with a fresh
                 derangement, so they relate to nothing in the corpus.
    dropped      one or two middle paragraphs (neither first nor last) removed, each chosen
                 among those holding ≤ 25% of the words, so ≥ 50% of the words remain (needs
                 one such paragraph).
    reordered    the paragraphs in another random order (needs two different paragraphs).
    substituted  round(10%) of the words (runs of a–z/A–Z) replaced, at random positions, by
                 other words drawn uniformly from the vocabulary of all base texts (distinct
                 lower-cased words), enciphered like the story and with the replaced word's case.

Documents have columns id (``d0000000``, in corpus order), text, source, date: what ``dedup
scan`` reads from a Parquet file by default. Truth has one row per copy: copy_id, base_id, kind.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

import loaders

MIN_WORDS = 80
COPY_SHARE = 0.3
KINDS = ("verbatim", "trimmed", "padded", "dropped", "reordered", "substituted")
KEEP_AT_LEAST = 0.5  # trimmed and dropped copies keep at least this share of the words
DROPPABLE = 0.25  # a dropped paragraph holds at most this share of the words
SUBSTITUTED = 0.10
LEDE_WORDS, COMMENT_WORDS = 60, 40
COMMENTS_HEADING = "Reader comments"
WIRES, SITES = 10, 200
FIRST_DAY, DAYS, MAX_DELAY = date(2020, 1, 1), 3 * 365, 3
BLOCK_STORIES = 5000  # stories per chunk: ~7,000 documents, ~15 MB of text
DOCUMENT_COLUMNS = ["id", "text", "source", "date"]
TRUTH_COLUMNS = ["copy_id", "base_id", "kind"]

_WORD = re.compile(r"[A-Za-z]+")
_REUTERS_PARAGRAPH = re.compile(r"\n[ \t]+")
_BLANK_LINE = re.compile(r"\n\s*\n")
_LINE_BREAK = re.compile(r"\s*\n\s*")

Cipher = Callable[[str], str]


def load_bases(root: Path) -> list[str]:
    """The real base texts under root (../shared/benchmarks), normalised as the module docstring says."""
    bbc, _ = loaders.bbc(root)
    reuters, _ = loaders.reuters(root)
    articles = [_paragraphs_joined(_BLANK_LINE.split(text))
                for text in bbc.text[bbc.doc_id.str.startswith("article:")]]
    bodies = [_paragraphs_joined(_REUTERS_PARAGRAPH.split(text)) for text in reuters.text]
    return _distinct(text for text in articles + bodies if len(text.split()) >= MIN_WORDS)


def _paragraphs_joined(paragraphs: Sequence[str]) -> str:
    return "\n\n".join(cleaned for p in paragraphs if (cleaned := _LINE_BREAK.sub(" ", p.strip())))


def _distinct(texts: Iterator[str]) -> list[str]:
    """Texts in order, each kept only if no earlier one is the same after case and whitespace folding."""
    seen, kept = set(), []
    for text in texts:
        key = " ".join(text.casefold().split())
        if key not in seen:
            seen.add(key)
            kept.append(text)
    return kept


def vocabulary(bases: Sequence[str]) -> list[str]:
    """Distinct lower-cased words of the base texts, sorted (so sampling is reproducible)."""
    return sorted({word.lower() for text in bases for word in _WORD.findall(text)})


def derangement(rng: random.Random) -> Cipher:
    """A letter cipher: a random permutation of a–z with no fixed point, applied to both cases."""
    letters = list(string.ascii_lowercase)
    image = letters[:]
    while any(a == b for a, b in zip(letters, image)):
        rng.shuffle(image)
    mapping = "".join(image)
    table = str.maketrans(string.ascii_lowercase + string.ascii_uppercase, mapping + mapping.upper())
    return lambda text: text.translate(table)


def _identity(text: str) -> str:
    return text


def _words(paragraphs: Sequence[str]) -> list[int]:
    return [len(p.split()) for p in paragraphs]


def _trimmed(paragraphs: list[str], rng: random.Random) -> list[str] | None:
    counts = np.cumsum(_words(paragraphs))
    cuts = [k for k in range(1, len(paragraphs)) if counts[k - 1] >= KEEP_AT_LEAST * counts[-1]]
    return paragraphs[:rng.choice(cuts)] if cuts else None


def _dropped(paragraphs: list[str], rng: random.Random) -> list[str] | None:
    words = _words(paragraphs)
    droppable = [i for i in range(1, len(paragraphs) - 1) if words[i] <= DROPPABLE * sum(words)]
    if not droppable:
        return None
    gone = set(rng.sample(droppable, min(rng.choice((1, 2)), len(droppable))))
    return [p for i, p in enumerate(paragraphs) if i not in gone]


def _reordered(paragraphs: list[str], rng: random.Random) -> list[str] | None:
    if len(set(paragraphs)) < 2:
        return None
    order = paragraphs[:]
    while order == paragraphs:
        rng.shuffle(order)
    return order


class _Story:
    """One base story: its text, how to encipher new words into it, and the corpus it draws padding from."""

    def __init__(self, text: str, cipher: Cipher, rng: random.Random, real: int,
                 bases: Sequence[str], vocab: Sequence[str]) -> None:
        self.text, self.cipher, self.rng, self.real = text, cipher, rng, real
        self.bases, self.vocab = bases, vocab
        self.paragraphs = text.split("\n\n")

    def copy(self) -> tuple[str, str]:
        """(kind, text) of one injected copy, its kind drawn among those this text allows."""
        candidates = {"verbatim": self.paragraphs, "padded": None, "substituted": None,
                      "trimmed": _trimmed(self.paragraphs, self.rng),
                      "dropped": _dropped(self.paragraphs, self.rng),
                      "reordered": _reordered(self.paragraphs, self.rng)}
        kind = self.rng.choice([k for k in KINDS if k in ("padded", "substituted") or candidates[k] is not None])
        if kind == "padded":
            return kind, self._padded()
        if kind == "substituted":
            return kind, self._substituted()
        return kind, "\n\n".join(candidates[kind])

    def _foreign(self, max_words: int) -> str:
        """A paragraph of another real text, cut to max_words words, enciphered afresh: unrelated to anything."""
        other = self.rng.randrange(len(self.bases) - 1)
        other += other >= self.real
        paragraph = self.rng.choice(self.bases[other].split("\n\n"))
        return derangement(self.rng)(" ".join(paragraph.split()[:max_words]))

    def _padded(self) -> str:
        comments = [self._foreign(COMMENT_WORDS) for _ in range(self.rng.randint(2, 3))]
        return "\n\n".join([self._foreign(LEDE_WORDS), self.text, COMMENTS_HEADING, *comments])

    def _substituted(self) -> str:
        matches = list(_WORD.finditer(self.text))
        chosen = sorted(self.rng.sample(range(len(matches)), max(1, round(SUBSTITUTED * len(matches)))))
        pieces, last = [], 0
        for i in chosen:
            match = matches[i]
            pieces += [self.text[last:match.start()], self._replacement(match.group())]
            last = match.end()
        return "".join(pieces) + self.text[last:]

    def _replacement(self, word: str) -> str:
        new = word.lower()
        while new == word.lower():
            new = self.cipher(self.rng.choice(self.vocab))
        if word.isupper() and len(word) > 1:
            return new.upper()
        return new.capitalize() if word[0].isupper() else new


def _plan(n_bases: int, n_docs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(real text index of each story, number of copies of each story)."""
    if n_bases < 2:
        raise ValueError("need at least two base texts (padding is taken from other texts)")
    rng = np.random.default_rng(seed)
    n_copies = round(COPY_SHARE * n_docs)
    n_stories = n_docs - n_copies
    order = rng.permutation(n_bases)
    copies = np.bincount(rng.integers(0, n_stories, n_copies), minlength=n_stories)
    return order[np.arange(n_stories) % n_bases], copies


def _story_rows(i: int, first_doc: int, n_copies: int, real: int, bases: Sequence[str],
                vocab: Sequence[str], seed: int) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str, str]]]:
    """Document rows (base first, then copies) and truth rows of story i."""
    rng = random.Random(seed * 2**32 + i)
    cipher = _identity if i < len(bases) else derangement(rng)
    story = _Story(cipher(bases[real]), cipher, rng, real, bases, vocab)
    day = FIRST_DAY + timedelta(days=rng.randrange(DAYS))
    base_id = f"d{first_doc:07d}"
    documents = [(base_id, story.text, f"wire-{rng.randrange(WIRES)}", day.isoformat())]
    truth = []
    for j in range(1, n_copies + 1):
        kind, text = story.copy()
        copy_id = f"d{first_doc + j:07d}"
        published = day + timedelta(days=rng.randint(0, MAX_DELAY))
        documents.append((copy_id, text, f"site-{rng.randrange(SITES)}", published.isoformat()))
        truth.append((copy_id, base_id, kind))
    return documents, truth


def chunks(bases: Sequence[str], n_docs: int, seed: int = 0) -> Iterator[tuple[pd.DataFrame, pd.DataFrame]]:
    """The corpus as (documents, truth) chunks of BLOCK_STORIES stories, in corpus order."""
    reals, copies = _plan(len(bases), n_docs, seed)
    first_docs = np.concatenate([[0], np.cumsum(copies + 1)])
    vocab = vocabulary(bases)
    for start in range(0, len(reals), BLOCK_STORIES):
        documents, truth = [], []
        for i in range(start, min(start + BLOCK_STORIES, len(reals))):
            rows, pairs = _story_rows(i, int(first_docs[i]), int(copies[i]), int(reals[i]), bases, vocab, seed)
            documents += rows
            truth += pairs
        yield pd.DataFrame(documents, columns=DOCUMENT_COLUMNS), pd.DataFrame(truth, columns=TRUTH_COLUMNS)


def build_from(bases: Sequence[str], n_docs: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The whole corpus in memory from the given base texts: (documents, truth)."""
    parts = list(chunks(bases, n_docs, seed))
    return (pd.concat([d for d, _ in parts], ignore_index=True),
            pd.concat([t for _, t in parts], ignore_index=True))


def build(root: Path, n_docs: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The whole corpus in memory from the real texts under root: (documents, truth)."""
    return build_from(load_bases(root), n_docs, seed)


def truth_path(path: Path) -> Path:
    """Where `write` puts the truth of the corpus at path: CORPUS.truth.parquet beside CORPUS.parquet."""
    return path.with_name(f"{path.stem}.truth.parquet")


def write_from(bases: Sequence[str], n_docs: int, path: Path, seed: int = 0) -> Path:
    """Stream the corpus to a Parquet file chunk by chunk (one row group each); returns the truth's path.

    Only one chunk is in memory at a time, so 1M documents (gigabytes of text) never sit in memory twice.
    """
    schemas = [pa.schema([(name, pa.string()) for name in columns]) for columns in (DOCUMENT_COLUMNS, TRUTH_COLUMNS)]
    with pq.ParquetWriter(path, schemas[0]) as documents, pq.ParquetWriter(truth_path(path), schemas[1]) as truth:
        for docs, pairs in chunks(bases, n_docs, seed):
            documents.write_table(pa.Table.from_pandas(docs, schemas[0], preserve_index=False))
            truth.write_table(pa.Table.from_pandas(pairs, schemas[1], preserve_index=False))
    return truth_path(path)


def write(root: Path, n_docs: int, path: Path, seed: int = 0) -> Path:
    """Stream the corpus built from the real texts under root to path; returns the truth's path."""
    return write_from(load_bases(root), n_docs, path, seed)
