"""Align related pairs passage by passage: pairs → passages and facts.

For each related pair, read from its source side ``a`` to its copy side ``b``
(see `dedup.relate.orient_pair`), every sentence of both texts lands in one passage:

==========  ===========================================================================
same        aligned, verbatim after normalisation
reworded    aligned, other wording (near-verbatim or reworded, see `dedup.verify`);
            flag ``merged`` when one sentence of one side holds most of the units
            of a neighbouring sentence of the other (two sentences joined or split)
moved       the same passage (any level) outside the order-keeping alignment
dropped     only in a; consecutive sentences of one paragraph form one passage
added       only in b; likewise
==========  ===========================================================================

Sentences are matched as in `dedup.verify`, and two sentences holding the same
quotation word for word match at least as reworded, however trimmed. The
backbone is `dedup.verify.monotone_alignment` (order-keeping, one to one,
maximum summed similarity); moves are the remaining matched sentences, paired
greedily by similarity. Passages come in reading order: each aligned pair
after the source's drops and the copy's additions that precede it.
Site furniture (`dedup.boilerplate`) is flagged ``boilerplate`` and never merged
with editorial text. Fact drift (`dedup.facts`) is measured inside aligned
passages.

The `passages` table: doc_a, doc_b, passage_no, kind, a_start, a_end, b_start,
b_end (offsets into the original texts; missing on the absent side), a_para,
b_para, a_text, b_text, score, flags (``;``-joined).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from rapidfuzz.distance import Levenshtein

from dedup.boilerplate import furniture
from dedup.credits import attribution_drift
from dedup.facts import FACT_COLUMNS, number_drift, quotation_drift, shared_quotations
from dedup.parallel import shared_strings, strings_at
from dedup.params import Params
from dedup.relate import LINKED, ORIENT_COLUMNS, document_dates, document_pages, orient_pair
from dedup.verify import (
    LOOSE,
    MERGED_SHARE,
    PairSimilarities,
    SentenceIndex,
    Similarity,
    monotone_alignment,
    pair_documents,
    sentence_similarity,
    statements,
)

PASSAGE_COLUMNS = ["doc_a", "doc_b", "passage_no", "kind", "a_start", "a_end", "b_start", "b_end",
                   "a_para", "b_para", "a_text", "b_text", "score", "flags"]
_ROW_COLUMNS = ["doc_a", "doc_b", "passage_no", "kind", "a_start", "a_end", "a_para", "a_text",
                "b_start", "b_end", "b_para", "b_text", "score", "flags"]

_WORD = re.compile(r"\S+")
_EDGE_PUNCTUATION = re.compile(r"^\W+|\W+$")


def _word_key(word: str) -> str:
    """Compare words without case or surrounding punctuation ("Taliban," == "taliban")."""
    return _EDGE_PUNCTUATION.sub("", word).casefold() or word


def word_diff(a: str, b: str) -> list[tuple[str, str, str]]:
    """Word-level edit script from a to b: (op, a_part, b_part) with op in
    ``equal``, ``replace``, ``delete``, ``insert``.

    rapidfuzz's Levenshtein opcodes over word sequences; words compare without
    case and surrounding punctuation, the parts keep the original spelling.
    """
    words_a, words_b = _WORD.findall(a), _WORD.findall(b)
    ops = Levenshtein.opcodes([_word_key(w) for w in words_a], [_word_key(w) for w in words_b])
    return [(op.tag, " ".join(words_a[op.src_start:op.src_end]), " ".join(words_b[op.dest_start:op.dest_end]))
            for op in ops]


@dataclass
class _Side:
    """One text of a pair: its sentences' positions in the sentence index, offsets, paragraphs,
    furniture flags, and which sentences are statements (`dedup.verify.statements`)."""

    doc: str
    text: str
    rows: np.ndarray
    start: np.ndarray
    end: np.ndarray
    para: np.ndarray
    furniture: np.ndarray
    stated: np.ndarray


@dataclass
class _Passage:
    kind: str
    a: list[int] = field(default_factory=list)   # sentence numbers in a
    b: list[int] = field(default_factory=list)
    score: float = float("nan")
    flags: set[str] = field(default_factory=set)


def _sentence_links(similarity: Similarity, size_a: np.ndarray,
                    size_b: np.ndarray) -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[tuple[int, int]]]:
    """(aligned, moved, merged) sentence pairs (i in a, j in b); size_a, size_b: units per sentence."""
    aligned = [(i, j) for i, j in monotone_alignment(similarity).tolist()]
    used_a, used_b = {i for i, _ in aligned}, {j for _, j in aligned}
    moved = []
    linked = similarity.linked()
    ranked = np.argsort(-linked.score, kind="stable")  # best first; of equals, in (i, j) order
    for i, j in zip(linked.i[ranked].tolist(), linked.j[ranked].tolist()):
        if i not in used_a and j not in used_b:
            moved.append((i, j))
            used_a.add(i)
            used_b.add(j)
    shared = dict(zip(zip(similarity.i.tolist(), similarity.j.tolist()),
                      zip(similarity.shared_units.tolist(), similarity.shared.tolist())))

    def holds_most(i: int, j: int, units: int) -> bool:  # a sentence without units is held by any
        held_units, held_information = shared.get((i, j), (0, 0.0))
        return held_units >= MERGED_SHARE * units or held_information >= LOOSE

    partner_of_a, partner_of_b = dict(aligned), {j: i for i, j in aligned}
    merged = []
    for i in sorted(set(range(similarity.shape[0])) - used_a):  # joined into a neighbour's counterpart
        j = _neighbour_partner(partner_of_a, i, lambda j: holds_most(i, j, size_a[i]))  # noqa: B023 (called now)
        if j is not None:
            merged.append((i, j))
    for j in sorted(set(range(similarity.shape[1])) - used_b):  # split off a neighbour's counterpart
        i = _neighbour_partner(partner_of_b, j, lambda i: holds_most(i, j, size_b[j]))  # noqa: B023 (called now)
        if i is not None:
            merged.append((i, j))
    return aligned, moved, merged


def _neighbour_partner(partner: dict[int, int], k: int, holds) -> int | None:
    for neighbour in (k - 1, k + 1):
        if neighbour in partner and holds(partner[neighbour]):
            return partner[neighbour]
    return None


def _passages(similarity: Similarity, size_a: np.ndarray, size_b: np.ndarray) -> list[_Passage]:
    """Every sentence of both sides in one passage, in reading order (before merging runs)."""
    aligned, moved, merged = _sentence_links(similarity, size_a, size_b)
    linked = similarity.linked()
    cell = {(i, j): (level, score) for i, j, level, score in
            zip(linked.i.tolist(), linked.j.tolist(), linked.level.tolist(), linked.score.tolist())}
    anchors = [_Passage("same" if cell[i, j][0] == 3 else "reworded", [i], [j], cell[i, j][1]) for i, j in aligned]
    anchor_of_a = {i: k for k, (i, _) in enumerate(aligned)}
    anchor_of_b = {j: k for k, (_, j) in enumerate(aligned)}
    for i, j in merged:
        grown = anchors[anchor_of_b[j]] if j in anchor_of_b else anchors[anchor_of_a[i]]
        grown.a, grown.b = sorted({*grown.a, i}), sorted({*grown.b, j})
        grown.kind = "reworded"
        grown.flags.add("merged")
    moved_at_b = {j: i for i, j in moved}
    placed_a = {i for p in anchors for i in p.a} | {i for i, _ in moved}
    placed_b = {j for p in anchors for j in p.b}
    out: list[_Passage] = []
    next_a = next_b = 0
    for (i_anchor, j_anchor), anchor in [*zip(aligned, anchors), (similarity.shape, None)]:
        out += [_Passage("dropped", [i]) for i in range(next_a, i_anchor) if i not in placed_a]
        for j in range(next_b, j_anchor):
            if j in moved_at_b:
                i = moved_at_b[j]
                out.append(_Passage("moved", [i], [j], cell[i, j][1]))
            elif j not in placed_b:
                out.append(_Passage("added", b=[j]))
        if anchor is not None:
            out.append(anchor)
            next_a, next_b = max(anchor.a) + 1, max(anchor.b) + 1
    return out


def _runs(passages: list[_Passage], a: _Side, b: _Side) -> list[_Passage]:
    """Flag furniture; join consecutive drops (or additions) of one paragraph and one kind of text."""
    out: list[_Passage] = []
    for p in passages:
        if p.kind in ("dropped", "added"):
            side, sentences = (a, p.a) if p.kind == "dropped" else (b, p.b)
            if side.furniture[sentences].all():
                p.flags.add("boilerplate")
            last = out[-1] if out else None
            if (last is not None and last.kind == p.kind and last.flags == p.flags
                    and side.para[(last.a if p.kind == "dropped" else last.b)[-1]] == side.para[sentences[0]]):
                last.a += p.a
                last.b += p.b
                continue
        elif a.furniture[p.a].all() and b.furniture[p.b].all():
            p.flags.add("boilerplate")
        out.append(p)
    return out


def _side(doc: str, text: str, rows: np.ndarray, columns: dict[str, np.ndarray]) -> _Side:
    """rows: the side's sentences in the index; columns: start, end, para_no and furniture of every indexed sentence."""
    return _Side(doc, text, rows, *(columns[c][rows] for c in ("start", "end", "para_no", "furniture", "stated")))


def _span(side: _Side, sentences: list[int]) -> tuple[object, object, object, str]:
    """start, end, paragraph and text of some sentences of a side (missing when there are none)."""
    if not sentences:
        return pd.NA, pd.NA, pd.NA, ""
    # A passage's sentences are in reading order, and so are their offsets.
    start, end = int(side.start[sentences[0]]), int(side.end[sentences[-1]])
    return start, end, int(side.para[sentences[0]]), side.text[start:end]


def _quotation_anchors(a: _Side, b: _Side, similarity: Similarity, params: Params) -> Similarity:
    """Sentences holding the same quotation word for word are the same passage, at least reworded."""
    m, n = similarity.shape
    anchors = {(int(np.searchsorted(a.end, a_offset, side="right")),
                int(np.searchsorted(b.end, b_offset, side="right")))
               for a_offset, b_offset in shared_quotations(a.text, b.text)}
    anchors = {(i, j) for i, j in anchors if i < m and j < n}
    return similarity.raised(np.array(sorted(i * n + j for i, j in anchors), dtype=np.int64), 1, params.reworded)


LOOSE_WEIGHT = 0.5  # a loose link counts for this much of its shared information in the order-keeping chain


def _with_loose_links(similarity: Similarity) -> Similarity:
    """In a pair known to be derived, two sentences sharing at least LOOSE of each one's
    information are one passage, reworded: an LLM or an editor restyled, merged or split it.
    They weigh less in the chain than sentences matched on their own (LOOSE_WEIGHT)."""
    loose = (similarity.level == 0) & (similarity.shared >= LOOSE)
    return replace(similarity, level=np.where(loose, 1, similarity.level).astype(np.int8),
                   score=np.where(loose, LOOSE_WEIGHT * similarity.shared, similarity.score))


def _without_furniture(a: _Side, b: _Side, similarity: Similarity) -> Similarity:
    """Furniture matches only the same furniture: never a sentence of the story."""
    furniture_a, furniture_b = a.furniture[similarity.i], b.furniture[similarity.j]
    mismatched = (furniture_a | furniture_b) & ~(furniture_a & furniture_b & (similarity.level == 3))
    return replace(similarity, level=np.where(mismatched, 0, similarity.level).astype(np.int8),
                   score=np.where(mismatched, 0.0, similarity.score))


def align_pair(a: _Side, b: _Side, index: SentenceIndex, params: Params, related: bool,
               verified: Similarity | None = None) -> list[_Passage]:
    """The passages of one pair, read from a to b; related: the pair was found derived, so its
    loosely linked sentences are the same passage restructured (`_with_loose_links`);
    verified: the pair's sentence similarity as verification found it, if it was kept."""
    similarity = verified or sentence_similarity(index, a.rows, b.rows, params)
    if related:
        similarity = _with_loose_links(similarity)
    similarity = _without_furniture(a, b, _quotation_anchors(a, b, similarity, params))
    units_a, units_b = index.items.sizes("unit", a.rows), index.items.sizes("unit", b.rows)
    return _runs(_passages(similarity, units_a, units_b), a, b)


def _inserts(passages: list[_Passage], kind: str) -> bool:
    """Editorial text of one kind (added: b's, dropped: a's) before or between the aligned passages."""
    aligned = [k for k, p in enumerate(passages) if p.kind in ("same", "reworded")]
    return bool(aligned) and any(p.kind == kind and "boilerplate" not in p.flags for p in passages[:aligned[-1]])


def _flipped(p: _Passage) -> _Passage:
    kind = {"added": "dropped", "dropped": "added"}.get(p.kind, p.kind)
    return _Passage(kind, p.b, p.a, p.score, p.flags)


def _rows(passages: list[_Passage], a: _Side, b: _Side, params: Params) -> tuple[list[list], list[list]]:
    """The passages and facts rows of one pair (plain lists: a table per pair would cost more than the work)."""
    rows = []
    for no, p in enumerate(passages):
        rows.append([a.doc, b.doc, no, p.kind, *_span(a, p.a), *_span(b, p.b), round(p.score, 4), set(p.flags)])
    stated = [bool(a.stated[p.a].any() and b.stated[p.b].any()) for p in passages]
    facts = _facts(rows, stated, a, b, params)
    for fact in facts:
        rows[fact[2]][-1].add(fact[3])
    for row in rows:
        row[-1] = ";".join(sorted(row[-1]))  # type: ignore[call-overload]
    return rows, sorted(facts, key=lambda f: (f[2], f[3]))


# Positions in a passage row: [doc_a, doc_b, passage_no, kind, a_start, a_end, a_para, a_text, b_start, ...]
_A, _B = 4, 8


KEEPS_SOURCE = 0.5  # the share of the source a copy keeps from which it owes the source's credits (`dedup.credits`)


def _facts(rows: list[list], stated: list[bool], a: _Side, b: _Side, params: Params) -> list[list]:
    """Numbers changed in aligned passages that make statements on both sides (see
    `dedup.verify.number_conflicts`), quotations kept, changed, added or cut, and, when the
    copy keeps at least KEEPS_SOURCE of the source, the agency credits, dateline and byline
    it dropped or changed."""
    kept = [row[3] in ("same", "reworded", "moved") and "boilerplate" not in row[-1] for row in rows]
    facts = []
    # Verbatim passages hold the same numbers; joined sentences carry extra ones.
    for row in (r for r, k, s in zip(rows, kept, stated) if k and s and r[3] != "same" and "merged" not in r[-1]):
        drift = number_drift(row[_A + 3], row[_B + 3])
        if drift is not None:
            facts.append([a.doc, b.doc, row[2], "number_changed", *drift])
    passage_at = {side: _PassageFinder(rows, side) for side in (_A, _B)}
    for fact, a_offset, b_offset, a_value, b_value in quotation_drift(a.text, b.text, params):
        no = passage_at[_B](b_offset) if b_offset is not None else passage_at[_A](a_offset)  # type: ignore[arg-type]
        # a quotation lost counts where the copy kept the passage
        if no is not None and (b_offset is not None or kept[no]):
            facts.append([a.doc, b.doc, no, fact, a_value, b_value])
    if _source_kept(rows, kept) >= KEEPS_SOURCE:
        for fact, offset, a_value, b_value in attribution_drift(a.text, b.text, params.credits):
            no = passage_at[_A](offset)
            facts.append([a.doc, b.doc, 0 if no is None else no, fact, a_value, b_value])  # between passages: the first
    return facts


def _source_kept(rows: list[list], kept: list[bool]) -> float:
    """The share of the source's editorial text (furniture left out) in passages the copy kept:
    `shares`' source_kept, from one pair's rows while they are built (not a table per pair)."""
    editorial = [(len(row[_A + 3]), k) for row, k in zip(rows, kept) if "boilerplate" not in row[-1]]
    total = sum(chars for chars, _ in editorial)
    return sum(chars for chars, k in editorial if k) / total if total else 0.0


class _PassageFinder:
    """The passage whose span on one side (_A or _B) of a pair's passage rows holds an offset
    (spans on one side never overlap; moved passages are out of the side's order, so sorted)."""

    def __init__(self, rows: list[list], side: int) -> None:
        spans = sorted((row[side], row[side + 1], row[2]) for row in rows if row[side] is not pd.NA)
        self.starts = [start for start, _, _ in spans]
        self.spans = spans

    def __call__(self, offset: int) -> int | None:
        at = bisect.bisect_right(self.starts, offset) - 1
        if at >= 0 and offset < self.spans[at][1]:
            return self.spans[at][2]
        return None


@dataclass
class _Corpus:
    """What aligning any pair needs: the pairs, texts, dates, sentence index, and columns per indexed sentence."""

    pairs: pd.DataFrame
    texts: Any                      # the documents' texts (`dedup.parallel.shared_strings`)
    position: dict[str, int]        # doc_id -> its row in texts
    dates: dict[str, pd.Timestamp]
    pages: dict[str, str]           # doc_id -> `dedup.relate.page_key` of its url, for telling re-captures
    columns: dict[str, np.ndarray]
    index: SentenceIndex
    verified: PairSimilarities  # the pairs' similarities verification kept
    params: Params

    def text_of(self, doc: str) -> str:
        return strings_at(self.texts, self.position[doc], self.position[doc] + 1)[0]


def align(pairs: pd.DataFrame, documents: pd.DataFrame, segments: pd.DataFrame, unit_hashes: np.ndarray | None,
          params: Params, repeated_furniture: np.ndarray | None = None, index: SentenceIndex | None = None,
          verified: PairSimilarities | None = None) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Direction, passages and facts of every pair given (the related ones, in a scan).

    repeated_furniture: optional, a boolean per segment: the sentences the corpus repeats
    as site furniture (see `dedup.boilerplate.furniture`), when the segments hold only part
    of the corpus; by default it is learned from these segments and pairs.
    index: the segments' `SentenceIndex`, when already built (unit_hashes, the segments' unit
    hashes, only build it, so they may then be None). verified: the
    pairs' sentence similarities as `dedup.verify.verify` gave them (an index built from the
    same segments), reused instead of matching their sentences again.

    Returns the orientation (source_doc, direction, direction_reason; same index
    as pairs, see `dedup.relate.orient_pair`), and the passages and facts
    tables, each pair read from its source, or the text `orient_pair` reads first.
    """
    if pairs.empty:
        return (pd.DataFrame(columns=ORIENT_COLUMNS, index=pairs.index, dtype=object),
                pd.DataFrame(columns=PASSAGE_COLUMNS), pd.DataFrame(columns=FACT_COLUMNS))
    # A rejected record may repeat an ok document's id: only ok documents were segmented and paired.
    documents = documents[documents.status == "ok"]
    paired = pair_documents(pairs)
    if index is None:
        assert unit_hashes is not None, "align builds the sentence index from the unit hashes"
        index = SentenceIndex.build(segments, unit_hashes, params, paired)
    columns = {c: segments[c].to_numpy() for c in ("start", "end", "para_no")}
    columns["furniture"] = furniture(segments, documents, {frozenset(p) for p in zip(pairs.doc_a, pairs.doc_b)},
                                     repeated_furniture)
    columns = {c: values[index.segment_rows] for c, values in columns.items()}  # rows as the index numbers them
    columns["stated"] = statements(index, np.arange(len(index.segment_rows)), params)
    corpus = _Corpus(pairs, shared_strings(documents.text), {doc: i for i, doc in enumerate(documents.doc_id)},
                     document_dates(documents), document_pages(documents[documents.doc_id.isin(paired)]), columns,
                     index, verified or {}, params)
    orientations, passages, facts = _align_rows(corpus)
    return pd.DataFrame(orientations, columns=ORIENT_COLUMNS, index=pairs.index, dtype=object), passages, facts


def _passages_table(rows: list[list]) -> pd.DataFrame:
    table = pd.DataFrame(rows, columns=_ROW_COLUMNS)[PASSAGE_COLUMNS]
    for column in ("a_start", "a_end", "b_start", "b_end", "a_para", "b_para"):
        table[column] = table[column].astype("Int64")
    return table


def _align_rows(corpus: _Corpus) -> tuple[list[list], pd.DataFrame, pd.DataFrame]:
    """Orientation rows, and the passages and facts tables, of the corpus's pairs."""
    orientation: list[list] = []
    passages: list[list] = []
    facts: list[list] = []
    for pair in corpus.pairs.itertuples():
        a, b = (_side(doc, corpus.text_of(doc), corpus.index.rows[doc], corpus.columns)
                for doc in (pair.doc_a, pair.doc_b))
        pair_passages = align_pair(a, b, corpus.index, corpus.params, pair.relation in LINKED,
                                   corpus.verified.get((a.doc, b.doc)))
        inserted = {side.doc for side, kind in ((a, "dropped"), (b, "added")) if _inserts(pair_passages, kind)}
        first, *oriented = orient_pair(pair, corpus.dates, corpus.params, inserted, corpus.pages)
        orientation.append(oriented)
        if first == b.doc:
            a, b, pair_passages = b, a, [_flipped(p) for p in pair_passages]
        pair_rows, pair_facts = _rows(pair_passages, a, b, corpus.params)
        passages += pair_rows
        facts += pair_facts
    return orientation, _passages_table(passages), pd.DataFrame(facts, columns=FACT_COLUMNS)


def shares(passages: pd.DataFrame) -> pd.DataFrame:
    """Per pair, of the editorial text (furniture left out): the share of the source
    the copy kept (``source_kept``) and the share of the copy that is new (``copy_new``)."""
    editorial = passages[~passages["flags"].str.contains("boilerplate")]
    a_chars = (editorial.a_end - editorial.a_start).fillna(0).astype(int)
    b_chars = (editorial.b_end - editorial.b_start).fillna(0).astype(int)
    frame = pd.DataFrame({"doc_a": editorial.doc_a, "doc_b": editorial.doc_b,
                          "kept": a_chars.where(editorial.kind != "dropped", 0), "a": a_chars,
                          "new": b_chars.where(editorial.kind == "added", 0), "b": b_chars})
    sums = frame.groupby(["doc_a", "doc_b"], sort=False).sum()
    return pd.DataFrame({"source_kept": (sums.kept / sums.a.clip(lower=1)).clip(upper=1),
                         "copy_new": (sums.new / sums.b.clip(lower=1)).clip(upper=1)}).reset_index()
