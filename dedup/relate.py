"""Name the relation of each verified pair: evidence → pairs.

With ``kept`` = the share of a text's characters matched verbatim or nearly
verbatim in the other, and ``shared`` = kept plus the share matched as reworded
(see `dedup.verify`), the first rule that holds names the pair:

==========  ==========================================================================
duplicate   both texts kept ≥ ``duplicate_share``: the same article up to headline,
            byline, furniture and small edits
copy        one text kept ≥ ``copy_share`` in the other, and the shared part is at
            least ``cover_share`` of the other: a trimmed wire copy, or a
            republication with a new lede and comments
rewrite     one text shared ≥ ``rewrite_share``, the shared part ≥ ``cover_share``
            of the other, ≥ ``rewrite_order`` of the matches in the same order, in
            at least ``min_shared_sentences`` sentences: the same passages in the
            same order, reworded (one reworded sentence is a template, not a rewrite)
partial     one text shared ≥ ``partial_share``, in at least ``min_shared_sentences``
            sentences: an excerpt, or a summary quoting the original
rejected    anything less; the reason says what was missing. Also, first of all,
            one template filled with other facts: a pair whose matched sentences
            holding numbers mostly (more than ``max_numbers_changed``) hold other
            numbers, and whose sentences with conflicting numbers outweigh the text
            the two share word for word (a_numbers_differ + b_numbers_differ >
            a_verbatim + b_verbatim): the same frame, other facts, nothing else
            repeated. A copy that edits a figure repeats the rest verbatim.
==========  ==========================================================================

A related pair whose aligned statements carry conflicting numbers (``figures_changed``
> 0) says so in its reason, and is not folded into a duplicate cluster
(`dedup.cluster`): a copy that changed a figure is what a researcher wants shown,
and an archive that folded it would lose the variant.

All shares are of characters, so a headline or a one-line byline weighs what it
is: little.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from dedup.params import Params

RELATIONS = ("duplicate", "copy", "rewrite", "partial", "rejected")
LINKED = ("duplicate", "copy", "rewrite", "partial")
FOLDED = ("duplicate", "copy")  # the relations a duplicate cluster folds, when figures agree


def _pct(x: float) -> str:
    return f"{round(100 * x)}%"


def link_strength(pairs: pd.DataFrame) -> pd.Series:
    """Share of the more-contained text of each pair that is found in the other."""
    shared_a = pairs.a_verbatim + pairs.a_near + pairs.a_reworded
    shared_b = pairs.b_verbatim + pairs.b_near + pairs.b_reworded
    # Three shares of one whole, summed in floating point, can pass 1 by a hair (9/28 + 18/28
    # + 1/28), which made a distance 1 - strength negative for the story grouping's linkage.
    return shared_a.where(shared_a >= shared_b, shared_b).clip(upper=1.0)


def relate_pair(row: Any, params: Params) -> tuple[str, str]:
    """(relation, reason) for one row (a Series or a named tuple) holding doc_a, doc_b and the evidence columns."""
    matched = min(row.sentences_matched_a, row.sentences_matched_b)
    if _is_template(row, params) and matched >= params.min_shared_sentences:
        return "rejected", (f"one template with other facts: the numbers differ in {_pct(row.numbers_changed)} of the "
                            f"matched sentences that hold numbers, which outweigh the text repeated word for word")
    relation, reason = _relation(row, matched, params)
    if relation in LINKED and row.figures_changed > 0:
        reason += (f"; figures differ in {row.figures_changed} matched sentence{'s' if row.figures_changed > 1 else ''}"
                   + (", so it is not folded" if relation in FOLDED else ""))
    if row.bounded:
        reason += "; texts this long were matched only where sentences share their text or a rare word"
    return relation, reason


def _is_template(row: Any, params: Params) -> bool:
    """Most matched sentences holding numbers hold other numbers, and those sentences outweigh
    the text both share word for word."""
    return (row.numbers_changed > params.max_numbers_changed
            and row.a_numbers_differ + row.b_numbers_differ > row.a_verbatim + row.b_verbatim)


def _relation(row: Any, matched: int, params: Params) -> tuple[str, str]:
    """The first relation rule that holds (see the module docstring), and its reason;
    matched: the sentences matched in the text with fewer."""
    kept = {"a": row.a_verbatim + row.a_near, "b": row.b_verbatim + row.b_near}
    shared = {side: kept[side] + getattr(row, f"{side}_reworded") for side in kept}
    name = {"a": row.doc_a, "b": row.doc_b}
    # The text more contained in the other leads the explanation.
    inner, outer = ("a", "b") if shared["a"] >= shared["b"] else ("b", "a")
    if kept["a"] >= params.duplicate_share and kept["b"] >= params.duplicate_share:
        return "duplicate", (f"the same text: {_pct(kept['a'])} of {row.doc_a} and "
                             f"{_pct(kept['b'])} of {row.doc_b} match nearly verbatim")
    copier, source = ("a", "b") if kept["a"] >= kept["b"] else ("b", "a")
    if kept[copier] >= params.copy_share and kept[source] >= params.cover_share:
        return "copy", (f"{_pct(kept[copier])} of {name[copier]} is nearly verbatim in {name[source]}, "
                        f"covering {_pct(kept[source])} of it; the rest was added or dropped")
    if (shared[inner] >= params.rewrite_share and shared[outer] >= params.cover_share
            and row.order >= params.rewrite_order and matched >= params.min_shared_sentences):
        reworded = getattr(row, f"{inner}_reworded") / max(shared[inner], 1e-9)
        return "rewrite", (f"{_pct(shared[inner])} of {name[inner]} reappears in {name[outer]} "
                           f"({_pct(reworded)} of it reworded), {_pct(row.order)} in the same order")
    if shared[inner] >= params.partial_share and matched >= params.min_shared_sentences:
        return "partial", (f"{_pct(shared[inner])} of {name[inner]} ({getattr(row, f'sentences_matched_{inner}')} "
                           f"sentences) is shared with {name[outer]}, which is {_pct(shared[outer])} of it")
    if matched < params.min_shared_sentences:
        return "rejected", (f"{matched} matching sentence{'s' if matched != 1 else ''} "
                            f"(need {params.min_shared_sentences})")
    return "rejected", (f"only {_pct(shared[inner])} of {name[inner]} is shared "
                        f"(need {_pct(params.partial_share)} for partial)")


def relate(candidates: pd.DataFrame, evidence: pd.DataFrame, params: Params) -> pd.DataFrame:
    """The `pairs` table: candidates joined with their evidence, relation and reason."""
    pairs = pd.concat([candidates.reset_index(drop=True), evidence.reset_index(drop=True)], axis=1)
    named = [relate_pair(row, params) for row in pairs.itertuples(index=False)]
    pairs.insert(2, "relation", [relation for relation, _ in named])
    pairs["reason"] = [reason for _, reason in named]
    return pairs


ORIENT_COLUMNS = ["source_doc", "direction", "direction_reason"]


def orient_pair(row, dates: dict[str, pd.Timestamp], params: Params,
                inserted: set[str]) -> tuple[str, str, str, str]:
    """(read_first, source_doc or "", direction, reason): which text of a pair came first.

    * ``dated``: both texts have a date and they differ; the earlier is the source.
    * ``contained``: one text reappears nearly whole (≥ copy_share) in the other,
      makes up most of it (≥ cover_share), and the other has editorial text
      inserted *before or between* the shared passages (``inserted`` names such
      texts). News is trimmed from the bottom, so extra text only at the end
      could as well be a cut; inserted text cannot.
    * ``unknown`` otherwise. The pair is still read in one direction: from the
      fuller text when one is an excerpt or summary (``partial``), else from
      the text that reappears, so the other's additions show as added.
    """
    date_a, date_b = dates.get(row.doc_a, pd.NaT), dates.get(row.doc_b, pd.NaT)
    if pd.notna(date_a) and pd.notna(date_b) and date_a != date_b:
        first, then = (row.doc_a, row.doc_b) if date_a < date_b else (row.doc_b, row.doc_a)
        return first, first, "dated", (f"{first} is dated {min(date_a, date_b):%Y-%m-%d}, "
                                       f"{then} {max(date_a, date_b):%Y-%m-%d}")
    shared = {row.doc_a: row.a_verbatim + row.a_near + row.a_reworded,
              row.doc_b: row.b_verbatim + row.b_near + row.b_reworded}
    inner, outer = sorted(shared, key=shared.get, reverse=True)
    nearly_whole = shared[inner] >= params.copy_share and shared[outer] >= params.cover_share
    if nearly_whole and outer in inserted:
        return inner, inner, "contained", (
            f"{_pct(shared[inner])} of {inner} reappears in {outer}, which inserts text of its own before "
            f"or between the shared passages: {outer} is {inner} with additions")
    first = outer if row.relation == "partial" else inner
    dating = "no dates to tell" if pd.isna(date_a) or pd.isna(date_b) else "both have the same date"
    if shared[outer] >= params.duplicate_share:  # each nearly whole in the other: no extra text to read
        return first, "", "unknown", (f"the two texts are the same, each nearly whole in the other, and {dating}: "
                                      f"nothing tells which came first")
    if nearly_whole:
        return first, "", "unknown", (f"{inner} reappears nearly whole in {outer}, whose extra text all follows "
                                      f"it: {outer} extended or {inner} trimmed, and {dating}")
    return first, "", "unknown", f"neither text is nearly whole inside the other, and {dating}"


def document_dates(documents: pd.DataFrame) -> dict[str, pd.Timestamp]:
    return dict(zip(documents.doc_id, pd.to_datetime(documents.date, format="%Y-%m-%d", errors="coerce")))
