"""Label site furniture: segments → a boolean per sentence.

Furniture is text a site adds to every page — mastheads, bylines, photo
credits, publish stamps, share prompts, reader comments — not an editorial
change. The aligner still shows it, labelled, so a reader sees the editorial
additions and cuts first. Two sources of evidence:

* **repetition** (learned, any language): a sentence printed by one source in
  two or more documents that are not related to each other — the same words
  under different stories are the site's, not the story's;
* **recognisable patterns** (English-language sites): a comment section from
  its heading ("2 Comments", "Leave a Reply", "Give Your Comments") to the end
  of the document, and lines such as "Newspapers in English", "Photo / AP",
  "Publish : 2021-09-02", "Source: ...", "Follow him on Twitter", or the
  document's own source name standing alone.
"""

from __future__ import annotations

import re
from collections.abc import Container
from itertools import combinations

import numpy as np
import pandas as pd

from dedup.text import normalize

# A heading that opens the reader comments; everything after it is theirs.
_COMMENTS_HEADING = re.compile(
    r"^\d+\s+(?:comments?|responses?|replies)\b"
    r"|^(?:\d+\.\s*)?[\w.-]+ says$"  # a commenter's signature line, "1. itchyvet says"
    r"|^(?:comments?|leave a (?:reply|comment)|give your comments?|add a comment"
    r"|join the (?:discussion|conversation)|show comments?)\W*$")
# A photo credit, "Photo / AP" or "(AFP)"; the caption it closes is furniture too. Sentences are
# normalised (one line), so a credit ending a sentence is found by a search, run only when a
# credit word is there: a leading ``.*`` would make every sentence backtrack.
_AGENCY_CREDIT = re.compile(r"^\(?(?:ap|afp|reuters|getty images?|epa)(?: photo)?(?:/[\w .]+)?\)?\W*$")
_CREDIT_AT_END = re.compile(r"\b(?:photo|image|picture)\s*[/:|]\s*[\w .]+\W*$")
_CREDIT_WORDS = ("photo", "image", "picture")
# Whole sentences that are furniture, matched against normalised text; plus, searched, a
# "follow him on ..." anywhere in one.
_FURNITURE = re.compile(
    r"^(?:newspapers (?:in|from) \w+(?: \w+)?"
    r"|(?:publish(?:ed)?|updated?|posted)\s*:.*"
    r"|(?:source|author|photo|image|credit|via|filed under|tags?|related|read more|see also)\s*[:/].*"
    r"|(?:share|tweet|email|print)(?: (?:this|on \w+))*"
    r"|(?:sign up|subscribe|click here|advertisement|all rights reserved|copyright\b).*"
    r"|your email address will not be published.*"
    r"|[-•]?\s*by [a-z .'-]+(?: and [a-z .'-]+)?"
    r")\W*$")
_FOLLOW = re.compile(r"\bfollow (?:him|her|them|us|me) on \w")


def is_furniture_line(text: str) -> bool:
    """Whether a normalised sentence is a furniture line by its own words: a stamp, a byline,
    a credit, a share prompt (the patterns above)."""
    return bool(_FURNITURE.match(text)) or ("follow " in text and bool(_FOLLOW.search(text)))


def _is_photo_credit(text: str) -> bool:
    return bool(_AGENCY_CREDIT.match(text)) or (any(word in text for word in _CREDIT_WORDS)
                                                 and bool(_CREDIT_AT_END.search(text)))


# A repeated line is furniture when any two of the first this many documents printing it are unrelated.
REPEATS_CHECKED = 50


def _pattern_furniture(segments: pd.DataFrame, sources: dict[str, str]) -> np.ndarray:
    """Sentences matching a furniture pattern, photo captions, the source's name alone, and comment sections."""
    names = {doc: normalize(source) for doc, source in sources.items()}
    matched = _line_patterns(segments.doc_id.tolist(), segments.text.tolist(), names)
    own_name, pattern, heading, credit = matched.T
    doc, para = segments.doc_id.to_numpy(), segments.para_no.to_numpy()
    caption = pd.Series(credit).groupby([doc, para]).transform("any").to_numpy()
    # A comment section runs from its heading to the end of the document.
    in_comments = pd.Series(heading).groupby(doc).cummax().to_numpy()
    return own_name | pattern | caption | in_comments


def _line_patterns(docs: list[str], texts: list[str], names: dict[str, str]) -> np.ndarray:
    """(own name, furniture pattern, comments heading, photo credit) of each sentence, a bool per column."""
    return np.array([(names.get(doc, "") == t, is_furniture_line(t), bool(_COMMENTS_HEADING.match(t)),
                      _is_photo_credit(t)) for doc, t in zip(docs, texts)], dtype=bool).reshape(-1, 4)


def _repeated_furniture(segments: pd.DataFrame, sources: dict[str, str],
                        related: Container[frozenset[str]]) -> np.ndarray:
    """Sentences a source prints in two or more documents that are not related to each other."""
    source = segments.doc_id.map(sources).fillna("").to_numpy(object)
    # One number per (source, sentence) line. The columns stay as they are (Arrow strings
    # in pandas 3), not a Python str per sentence.
    line = pd.DataFrame({"source": source, "text": segments.text.array}).groupby(
        ["source", "text"], sort=False).ngroup().to_numpy()
    return repeated_lines(line, source != "", segments.doc_id.to_numpy(object), related)


def repeated_lines(line: np.ndarray, has_source: np.ndarray, doc: np.ndarray,
                   related: Container[frozenset]) -> np.ndarray:
    """Which sentences are repeated furniture, given per sentence (in reading order) its line
    (a number per distinct source and text), whether its document has a source (lines without
    one never count) and its document; related holds the related document pairs."""
    printed = pd.DataFrame({"line": line, "doc": doc})[has_source].drop_duplicates()
    printed = printed[printed.line.duplicated(keep=False)]  # lines in two or more documents: few
    printed = printed.iloc[np.argsort(printed.line.to_numpy(), kind="stable")]  # documents keep reading order
    lines, starts = np.unique(printed.line.to_numpy(), return_index=True)
    furniture = [ln for ln, docs in zip(lines, np.split(printed.doc.to_numpy(object), starts[1:]))
                 if any(frozenset(p) not in related for p in combinations(docs[:REPEATS_CHECKED], 2))]
    return np.isin(line, furniture)


def furniture(segments: pd.DataFrame, documents: pd.DataFrame, related: set[frozenset[str]],
              repeated: np.ndarray | None = None) -> np.ndarray:
    """True for each segment (row of the segments table) that is site furniture.

    related: the document pairs found related, whose shared sentences are story, not furniture.
    repeated: the repetition part already computed over the whole corpus (a boolean per
    segment), for engines that align a few documents at a time (`dedup.spark`); when
    given, related is not used.
    """
    if segments.empty:
        return np.zeros(0, dtype=bool)
    sources = dict(zip(documents.doc_id, documents.source.fillna("").astype(str)))
    if repeated is None:
        repeated = _repeated_furniture(segments, sources, related)
    return _pattern_furniture(segments, sources) | repeated
