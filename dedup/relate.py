"""Name the relation of each verified pair: evidence → pairs.

With ``kept`` = the share of a text's characters matched verbatim or nearly
verbatim in the other, ``shared`` = kept plus the share matched as reworded (see
`dedup.verify`), ``covered`` = the larger of ``shared`` (when its matches keep
``rewrite_order`` of their order) and ``aligned`` (the share of the text's
information in sentences aligned in order with loosely matching ones: a sentence
reworded, merged or split still counts), and ``confidence`` = the probability that
one text derives from the other (`dedup.confidence`), the first rule that holds
names the pair:

==========  ==========================================================================
rejected    one template filled with other facts: a pair whose matched sentences
            holding numbers mostly (more than ``max_numbers_changed``) hold other
            numbers, and whose sentences with conflicting numbers outweigh all the
            other text the two share (differ > shared - differ, summed over both
            texts): the same frame, other facts, nothing else repeated. A copy that
            edits a figure repeats the rest, verbatim or reworded; a one-sentence
            dividend notice of another company with other dates repeats nothing.
duplicate   both texts kept ≥ ``duplicate_share``: the same article up to headline,
            byline, furniture and small edits
copy        one text kept ≥ ``copy_share`` in the other, and the shared part is at
            least ``cover_share`` of the other: a trimmed wire copy, or a
            republication with a new lede and comments
rejected    no rare word shared (``anchors`` = 0: no word that fewer than one document
            in 1,000 of its language holds and that at most ``max_bucket`` other
            documents of the corpus print, `dedup.weights.rarity_of`): common words
            only, as dividend notices or price postings written from one formula share
            them; a rewrite keeps its source's names, numbers and terms
rejected    confidence below ``confidence``: independent writing on one topic or
            event, however many names it shares; the reason gives the evidence
rewrite     one text covered ≥ ``rewrite_share``, the other ≥ ``cover_share``: the
            whole story told again in its order, reworded, restyled or condensed
partial     one text covered or shared ≥ ``partial_share``: a summary or an excerpt
rejected    anything less
==========  ==========================================================================

No rule counts sentences, so two headlines or two posts of one sentence each are
judged as two articles are. A related pair whose aligned statements carry
conflicting numbers (``figures_changed`` > 0) says so in its reason, and is not
folded into a duplicate cluster (`dedup.cluster`): a copy that changed a figure is
what a researcher wants shown, and an archive that folded it would lose the variant.

All shares are of characters or of information, so a headline or a one-line byline
weighs what it is: little.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np
import pandas as pd

from dedup.confidence import probability
from dedup.params import Params

RELATIONS = ("duplicate", "copy", "rewrite", "partial", "rejected")
LINKED = ("duplicate", "copy", "rewrite", "partial")
FOLDED = ("duplicate", "copy")  # the relations a duplicate cluster folds, when figures agree


def _pct(x: float) -> str:
    return f"{round(100 * x)}%"


def _shared(frame: Any, side: str) -> Any:
    return getattr(frame, f"{side}_verbatim") + getattr(frame, f"{side}_near") + getattr(frame, f"{side}_reworded")


def link_strength(pairs: pd.DataFrame) -> pd.Series:
    """How much of the more-covered text of each pair is found in the other: the larger of
    its shared and aligned shares."""
    covered = [np.maximum(_shared(pairs, side), getattr(pairs, f"{side}_aligned")) for side in ("a", "b")]
    # Three shares of one whole, summed in floating point, can pass 1 by a hair (9/28 + 18/28
    # + 1/28), which made a distance 1 - strength negative for the story grouping's linkage.
    return pd.Series(np.maximum(*covered), index=pairs.index).clip(upper=1.0)


def relate_pair(row: Any, confidence: float, params: Params) -> tuple[str, str]:
    """(relation, reason) for one row (a Series or a named tuple) holding doc_a, doc_b and the
    evidence columns; confidence: the pair's probability of being derived."""
    if _is_template(row, params):
        return "rejected", (f"one template with other facts: the numbers differ in {_pct(row.numbers_changed)} of the "
                            f"matched sentences that hold numbers, which outweigh the rest of the text the two share")
    relation, reason = _relation(row, confidence, params)
    if relation in LINKED and row.figures_changed > 0:
        reason += (f"; figures differ in {row.figures_changed} matched sentence{'s' if row.figures_changed > 1 else ''}"
                   + (", so it is not folded" if relation in FOLDED else ""))
    if row.bounded:
        reason += "; texts this long were matched only where sentences share their text or a rare word"
    return relation, reason


def _is_template(row: Any, params: Params) -> bool:
    """Most matched sentences holding numbers hold other numbers, and those sentences outweigh
    the rest of the text both share (at any level: a rewrite that changed one figure still
    shares its other sentences)."""
    differ = row.a_numbers_differ + row.b_numbers_differ
    return (row.numbers_changed > params.max_numbers_changed
            and differ > _shared(row, "a") + _shared(row, "b") - differ)


def _relation(row: Any, confidence: float, params: Params) -> tuple[str, str]:
    """The first relation rule that holds (see the module docstring), and its reason."""
    kept = {"a": row.a_verbatim + row.a_near, "b": row.b_verbatim + row.b_near}
    shared = {side: kept[side] + getattr(row, f"{side}_reworded") for side in kept}
    name = {"a": row.doc_a, "b": row.doc_b}
    sure = f"confidence {confidence:.2f}"
    if kept["a"] >= params.duplicate_share and kept["b"] >= params.duplicate_share:
        return "duplicate", (f"the same text: {_pct(kept['a'])} of {row.doc_a} and "
                             f"{_pct(kept['b'])} of {row.doc_b} match nearly verbatim")
    copier, source = ("a", "b") if kept["a"] >= kept["b"] else ("b", "a")
    if kept[copier] >= params.copy_share and kept[source] >= params.cover_share:
        return "copy", (f"{_pct(kept[copier])} of {name[copier]} is nearly verbatim in {name[source]}, "
                        f"covering {_pct(kept[source])} of it; the rest was added or dropped")
    if row.anchors == 0:
        return "rejected", (f"no rare word shared ({sure}): the two share common words only, as texts written "
                            f"from one formula do, and nothing that shows one was made from the other")
    if confidence < params.confidence:
        return "rejected", f"not derived ({sure}): {_evidence(row)}"
    in_order = row.order >= params.rewrite_order
    covered = {side: max(shared[side] if in_order else 0.0, getattr(row, f"{side}_aligned")) for side in kept}
    inner, outer = ("a", "b") if covered["a"] >= covered["b"] else ("b", "a")
    if covered[inner] >= params.rewrite_share and covered[outer] >= params.cover_share:
        return "rewrite", (f"{_pct(covered[inner])} of {name[inner]} reappears in {name[outer]} in the same order, "
                           f"{_pct(covered[outer])} of {name[outer]} in {name[inner]} "
                           f"({_reworded(row, inner)}; {sure})")
    widest = max(covered[inner], shared["a"], shared["b"])
    if widest >= params.partial_share:
        part = inner if covered[inner] >= max(shared.values()) else max(shared, key=lambda side: shared[side])
        other = "b" if part == "a" else "a"
        return "partial", (f"{_pct(widest)} of {name[part]} is shared with {name[other]}, which is "
                           f"{_pct(max(covered[other], shared[other]))} of it ({sure})")
    return "rejected", f"only {_pct(widest)} of either text is shared (need {_pct(params.partial_share)}; {sure})"


def _reworded(row: Any, side: str) -> str:
    """How the covered text came across: the share of its matched sentences reworded."""
    shared = _shared(row, side)
    return f"{_pct(getattr(row, f'{side}_reworded') / shared)} of the matched text reworded" if shared > 0 \
        else "reworded throughout"


def _evidence(row: Any) -> str:
    """A rejected pair's evidence in words: information shared, rare words, order."""
    return (f"{_pct(max(row.a_information, row.b_information))} of a text's information is among the other's words, "
            f"{row.anchors} rare word{'s' if row.anchors != 1 else ''} shared, "
            f"{_pct(max(row.a_aligned, row.b_aligned))} of a text aligned in order")


def relate(candidates: pd.DataFrame, evidence: pd.DataFrame, params: Params) -> pd.DataFrame:
    """The `pairs` table: candidates joined with their evidence, relation, confidence and reason."""
    pairs = pd.concat([candidates.reset_index(drop=True), evidence.reset_index(drop=True)], axis=1)
    confidence = probability(pairs) if len(pairs) else np.empty(0)
    named = [relate_pair(row, p, params) for row, p in zip(pairs.itertuples(index=False), confidence)]
    pairs.insert(2, "relation", [relation for relation, _ in named])
    pairs.insert(3, "confidence", np.round(confidence, 4))
    pairs["reason"] = [reason for _, reason in named]
    return pairs


ORIENT_COLUMNS = ["source_doc", "direction", "direction_reason"]
MATCH_LEVELS = ("verbatim", "near", "reworded")  # a pair's shares of each text, by sentence match level


def oriented(pairs: pd.DataFrame, orientation: pd.DataFrame) -> pd.DataFrame:
    """The pairs table finished: each pair with its orientation (`dedup.align.align`, indexed
    as pairs; rows it lacks, the pairs not aligned, get "" in ORIENT_COLUMNS)."""
    return pairs.join(orientation).fillna({column: "" for column in ORIENT_COLUMNS})


def orient_pair(row, dates: dict[str, pd.Timestamp], params: Params, inserted: set[str],
                pages: dict[str, str]) -> tuple[str, str, str, str]:
    """(read_first, source_doc or "", direction, reason): which text of a pair came first.

    * ``recapture``: both texts are captures of one page (the same `page_key` of their
      url; pages: doc_id → page key, `document_pages`): the page fetched twice, or updated
      in place, not syndication. The earlier capture, if the dates tell, is the source.
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
    page = pages.get(row.doc_a)
    if page and page == pages.get(row.doc_b):
        return _recapture(row.doc_a, row.doc_b, date_a, date_b, page)
    if dated := _earlier(row.doc_a, row.doc_b, date_a, date_b):
        first, why = dated
        return first, first, "dated", why
    shared = {row.doc_a: row.a_verbatim + row.a_near + row.a_reworded,
              row.doc_b: row.b_verbatim + row.b_near + row.b_reworded}
    inner, outer = sorted(shared, key=lambda doc: shared[doc], reverse=True)
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


def _earlier(doc_a: str, doc_b: str, date_a: pd.Timestamp, date_b: pd.Timestamp) -> tuple[str, str] | None:
    """(the earlier document, "A is dated …, B …") when both are dated and the dates differ, else None."""
    if pd.isna(date_a) or pd.isna(date_b) or date_a == date_b:
        return None
    first, then = (doc_a, doc_b) if date_a < date_b else (doc_b, doc_a)
    return first, f"{first} is dated {min(date_a, date_b):%Y-%m-%d}, {then} {max(date_a, date_b):%Y-%m-%d}"


def _recapture(doc_a: str, doc_b: str, date_a: pd.Timestamp, date_b: pd.Timestamp,
               page: str) -> tuple[str, str, str, str]:
    why = f"both are captures of one page ({page}): a re-capture, not syndication"
    if dated := _earlier(doc_a, doc_b, date_a, date_b):
        first, when = dated
        return first, first, "recapture", f"{why}; {when}"
    return doc_a, "", "recapture", f"{why}; the dates do not tell which came first"


# Query parameters that track a visit, not name a page: a page fetched from two links keeps one key.
TRACKING = re.compile(r"^(?:utm_\w+|fbclid|gclid|mc_cid|mc_eid|ref|cmpid|ocid)$", re.IGNORECASE)


def page_key(url: str) -> str:
    """The page a URL names, for telling captures of one page: scheme (http or https alike),
    ``www.``, port 80/443, fragment, trailing slash and tracking parameters aside; "" for no URL."""
    parts = urlsplit(url.strip())
    if not parts.netloc:
        return ""
    host = (parts.hostname or "").removeprefix("www.")
    port = f":{parts.port}" if parts.port not in (None, 80, 443) else ""
    query = urlencode(sorted((k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                             if not TRACKING.match(k)))
    return f"{host}{port}{parts.path.rstrip('/') or '/'}" + (f"?{query}" if query else "")


def shown_reason(pair: Any) -> str:
    """A pair's reason as the reports list it: a re-capture of one page says so."""
    recaptured = str(pair.get("direction") or "") == "recapture"
    return str(pair["reason"]) + ("; a re-capture of one page, not syndication" if recaptured else "")


def document_pages(documents: pd.DataFrame) -> dict[str, str]:
    """doc_id → `page_key` of its url, for the documents that have one."""
    return {doc: key for doc, url in zip(documents.doc_id, documents.url.fillna("").astype(str))
            if (key := page_key(url))}


def document_dates(documents: pd.DataFrame) -> dict[str, pd.Timestamp]:
    return dict(zip(documents.doc_id, pd.to_datetime(documents.date, format="%Y-%m-%d", errors="coerce")))
