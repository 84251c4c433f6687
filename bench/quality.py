"""Quality benchmark (issues 4 and 16): dedup end to end against the classic word 5-gram MinHash
LSH at Jaccard 0.7 (datasketch; the text-dedup / datatrove / NeMo Curator setting) and, in the
issue-16 tasks, a trivial stand-in, in one run.

    pip install -e ".[bench]"
    python bench/quality.py [DATA_DIR] [--json results.json] [--tasks clough,bbc,...]

DATA_DIR defaults to ../shared/benchmarks. Tasks:

clough   Clough–Stevenson: each answer against its task's source, (a) as a pair with
         `dedup.compare`, (b) inside one corpus of all 100 texts. Binary accuracy: derived
         (cut/light/heavy) iff the pair is related. 4-class accuracy: correct when the relation
         is in the label's allowed set, cut → duplicate/copy, light → copy/rewrite,
         heavy → rewrite/partial, non → rejected (a pair that is not even a candidate counts as
         rejected). Related pairs across tasks are false positives.
bbc      BBC News, 2,225 articles + 2,225 summaries in one corpus. Recall: each summary related
         to its own article. Precision: share of summaries related to no article other than
         their own and its identical twins; "near-twins allowed" also allows articles of which
         ≥ 80% of word 5-grams are in the own article or vice versa (edited re-filings). Twin
         groups: articles identical after whitespace normalisation, the 98 byte-identical groups
         of SOURCE.md plus 2 that differ in whitespace only. A group collapses when all its
         articles share one duplicate cluster (summaries may join it: the summaries of
         identical articles are identical too); "exact" when that cluster holds no other article.
reuters  Reuters-21578, the 19,043 bodies in one corpus. The 279 groups of bodies identical in
         the files collapse into one cluster each; further relations are those outside the
         groups of identical texts (which, without the "Reuter" sign-off, are 339).
msrp     The sentence benchmark of bench/msrp.py, when present.

For the classic peer a pair is related when it is an LSH candidate, and its clusters are the
connected components of the candidate pairs; it has no relation types.

Issue 16, rewrites in any language. Three systems in each task. dedup: a pair is related when
`dedup.compare` names a relation other than rejected, with one `Params` for all pairs, on JOBS
= 2 worker processes; a pair it refuses with ValueError (a text too short to fingerprint)
counts as rejected and under ValueErrors. Corpus tasks run `dedup.scan(documents, jobs=2)`.
The stand-in: rapidfuzz ``fuzz.token_set_ratio(a, b) ≥ 55`` on the raw texts; in a corpus, over
every pair (``process.cdist``). The classic peer on a pair: its two signatures collide in a
band of the LSH above (what a two-document corpus gives). Negatives are built with
`metrics.derangement` (seeded; never pairing an item with one of its own story or topic).
Shares are of the pairs of a group; "duplicate/copy/rewrite" is dedup's strong relations.

sheepdog      SheepDog PolitiFact train: 360 scraped originals, each rewritten by an LLM in 4
              styles (1,440 rewrites). (a) Pairs: each original against each of its rewrites;
              negatives, per style, each original against the same-style rewrite of another
              story's article (a derangement seeded SEED + the style's place: 360 per style,
              1,440 in all). Stories: articles whose originals are near-twins (word 5-gram
              containment ≥ 0.8: 8 groups of identical pages, 2 of one page with other names or
              cut short; 347 stories) count as one. (b) Corpus: all 1,800 texts. Precision =
              share of related pairs inside one story (an original and a rewrite, two rewrites,
              or two originals of it); recall = share of the 1,440 original ~ own rewrite pairs
              related. The stand-in over all 1.6M pairs.
uppc          UPPC Urdu: the 140 (source, derived) rows of all_files.txt (classes from the
              ``classification`` attribute, which the list matches). Accuracy of related against
              P (paraphrased from the source) vs NP (written on the same person without it).
              Nothing is fit, so nothing is split.
onestop       OneStopEnglish: per title adv→int, adv→ele, int→ele (Int from Int-Txt/Int-Txt; the
              3 Elementary files holding another article left out: 189, 186, 186 pairs).
              Negatives: each Adv against another title's Int (189; derangement seeded SEED,
              the same-topic titles of SOURCE.md never paired).
ecbplus       ECB+: all 982 articles in one corpus (one scan, not 43: faster, and relations
              across topics show). Text rebuilt from the tokens (`loaders.detokenise`), the URL
              sentence of ecbplus files dropped. Same-topic pairs are ``wire copy`` (word 5-gram
              Jaccard of lowercased \\w+ tokens > 0.5, computed here), else ``same sub-topic`` (one
              event told by other outlets) or ``cross sub-topic`` (a similar event: hard
              negatives); other pairs ``other topics``. dedup's relations by kind, the wire
              copies listed apart; stand-in over all 481,671 pairs.
msrp_compare  MSRP train (4,076 sentence pairs, read as bench/msrp.py reads them), each through
              `dedup.compare`: accuracy and F1 of related against the paraphrase label.
indonesian    Indonesian PAN-11 style: each suspicious document against every source its cases
              cite (76 pairs), and each of the 15 without cases against 3 sources drawn by
              random.Random(SEED) (45). Pair accuracy; document accuracy (a document is found
              when one of its pairs is related). Passage recall: share of the 94 cases some dedup
              passage of kind same/reworded/moved recovers: its suspicious side overlaps the
              case's suspicious span and its source side the case's source span (the passages'
              doc_a is whichever text dedup read as the source, so the sides are read per pair);
              passages are aligned whatever the relation, and "recovered in a related pair"
              also needs the pair related. By case type: simulated (human paraphrase), and
              artificial by obfuscation.
"""

from __future__ import annotations

import argparse
import functools
import itertools
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from datasketch import MinHash, MinHashLSH
from rapidfuzz import fuzz, process
from sklearn.metrics import f1_score

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dedup  # noqa: E402
from dedup.parallel import chunks, map_chunks  # noqa: E402
from dedup.relate import LINKED, RELATIONS  # noqa: E402

import loaders  # noqa: E402
import metrics  # noqa: E402

DEDUP, CLASSIC = "dedup", "classic 5-gram LSH J≥0.7"
STANDIN_CUTOFF = 55
STANDIN = f"stand-in token_set_ratio≥{STANDIN_CUTOFF}"
TASKS = ("clough", "bbc", "reuters", "msrp", "sheepdog", "uppc", "onestop", "ecbplus", "msrp_compare", "indonesian")
SAMPLE_SEED, SAMPLE_SIZE = 0, 20
SHOWN = 20  # rows of a long table printed (all are in the JSON)


def timed(run: Callable[[], Any]) -> tuple[Any, float]:
    """run()'s result and its wall time in seconds."""
    started = time.perf_counter()
    result = run()
    return result, round(time.perf_counter() - started, 1)


def classic_signature(text: str, k: int = 5, num_perm: int = 128) -> MinHash:
    """MinHash of the word k-gram shingles of the lowercased whitespace tokens."""
    tokens = text.lower().split()
    signature = MinHash(num_perm=num_perm)
    signature.update_batch(list({" ".join(tokens[i:i + k]).encode() for i in range(max(1, len(tokens) - k + 1))}))
    return signature


def classic_pairs(documents: pd.DataFrame, k: int = 5, threshold: float = 0.7,
                  num_perm: int = 128) -> set[metrics.Pair]:
    """LSH candidate pairs over word k-gram shingles of the lowercased whitespace tokens."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    signatures = {}
    for doc_id, text in zip(documents.doc_id, documents.text):
        signature = classic_signature(text, k, num_perm)
        lsh.insert(doc_id, signature)
        signatures[doc_id] = signature
    return {frozenset((doc_id, other)) for doc_id, signature in signatures.items()
            for other in lsh.query(signature) if other != doc_id}


@functools.cache
def _bands(threshold: float, num_perm: int) -> list[tuple[int, int]]:
    return MinHashLSH(threshold=threshold, num_perm=num_perm).hashranges


def classic_collide(a: MinHash, b: MinHash, threshold: float = 0.7) -> bool:
    """Whether `classic_pairs`' LSH pairs two signatures: equal in some band of datasketch's banding."""
    return any(np.array_equal(a.hashvalues[start:end], b.hashvalues[start:end])
               for start, end in _bands(threshold, len(a.hashvalues)))


def standin_related(text_a: str, text_b: str) -> bool:
    """The trivial stand-in: rapidfuzz's token_set_ratio of the raw texts ≥ STANDIN_CUTOFF."""
    return fuzz.token_set_ratio(text_a, text_b) >= STANDIN_CUTOFF


def standin_pairs(documents: pd.DataFrame, block: int = 200) -> set[metrics.Pair]:
    """Every pair of documents the stand-in relates: rapidfuzz's cdist over the upper triangle,
    a block of rows at a time, on every core. Each text goes in as its distinct whitespace
    tokens, sorted: token_set_ratio depends on nothing else (the same scores, checked on SheepDog
    pairs) and reads fewer characters, 1.5x faster on long texts."""
    ids, found = list(documents.doc_id), set()
    texts = [" ".join(sorted(set(text.split()))) for text in documents.text]
    for start in range(0, len(texts), block):
        scores = process.cdist(texts[start:start + block], texts[start:], scorer=fuzz.token_set_ratio,
                               score_cutoff=STANDIN_CUTOFF, workers=-1)
        rows, columns = np.nonzero(scores >= STANDIN_CUTOFF)
        found |= {frozenset((ids[start + r], ids[start + c])) for r, c in zip(rows, columns) if c > r}
    return found


def relation_of(pairs: pd.DataFrame) -> dict[metrics.Pair, str]:
    """Unordered pair → relation, from a `pairs` table."""
    return {frozenset(pair): relation for *pair, relation in zip(pairs.doc_a, pairs.doc_b, pairs.relation)}


def related(result: dedup.ScanResult) -> set[metrics.Pair]:
    """The related pairs of a scan."""
    linked = result.related()
    return metrics.pairs_of(linked.doc_a, linked.doc_b)


def _table(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records"))


# --- Clough–Stevenson -------------------------------------------------------------------------

def _task(doc_id: str) -> str:
    return doc_id[-1]  # g0pA_taska, orig_taska


def _clough_scores(truth: pd.DataFrame, relations: list[str]) -> dict[str, Any]:
    return {"binary": round(metrics.accuracy(metrics.derived(truth.label), [r in LINKED for r in relations]), 4),
            "4-class": round(metrics.allowed_accuracy(list(truth.label), relations), 4)}


def _cross_task(found: set[metrics.Pair]) -> list[str]:
    return sorted(" ~ ".join(sorted(pair)) for pair in found if len({_task(doc) for doc in pair}) > 1)


def clough(root: Path) -> dict[str, Any]:
    """Clough–Stevenson, pairs alone and in one corpus, dedup and classic."""
    docs, truth = loaders.clough_stevenson(root)
    text = dict(zip(docs.doc_id, docs.text))
    answer_pairs = [frozenset(p) for p in zip(truth.answer, truth.source)]
    alone, alone_s = timed(lambda: [dedup.compare(text[a], text[s], names=(a, s)).relation
                                    for a, s in zip(truth.answer, truth.source)])
    corpus, corpus_s = timed(lambda: dedup.scan(docs))
    found = relation_of(corpus.pairs)
    in_corpus = [found.get(pair, "rejected") for pair in answer_pairs]
    peer, peer_s = timed(lambda: classic_pairs(docs))
    peer_relations = ["duplicate" if pair in peer else "rejected" for pair in answer_pairs]
    rows = [{"system": DEDUP, "setting": "(a) pairs", **_clough_scores(truth, alone), "cross-task": "",
             "seconds": alone_s},
            {"system": DEDUP, "setting": "(b) corpus", **_clough_scores(truth, in_corpus),
             "cross-task": len(_cross_task(related(corpus))), "seconds": corpus_s},
            {"system": CLASSIC, "setting": "(a) = (b)", **_clough_scores(truth, peer_relations),
             "4-class": "n/a", "cross-task": len(_cross_task(peer)), "seconds": peer_s}]
    return {"summary": rows,
            "confusion (a) pairs": metrics.confusion(truth.label, alone, list(metrics.ALLOWED), RELATIONS),
            "confusion (b) corpus": metrics.confusion(truth.label, in_corpus, list(metrics.ALLOWED), RELATIONS),
            "misjudged (a)": _misjudged(truth, alone),
            "cross-task related (b)": pd.DataFrame({"pair": _cross_task(related(corpus))})}


def _misjudged(truth: pd.DataFrame, relations: list[str]) -> pd.DataFrame:
    wrong = [rel not in metrics.ALLOWED[label] for label, rel in zip(truth.label, relations)]
    return truth.assign(relation=relations)[wrong].reset_index(drop=True)


# --- BBC ----------------------------------------------------------------------------------------

NEAR_TWIN = 0.8  # word 5-gram containment from which another article counts as a near-twin of one's own


@dataclass
class BbcTruth:
    """The BBC truth: summary → own article, and the groups of identical articles and summaries."""

    pairs: pd.DataFrame
    text: dict[str, str]
    twins: list[list[str]]
    summary_twins: list[list[str]]

    @classmethod
    def load(cls, root: Path) -> tuple[pd.DataFrame, BbcTruth]:
        """(documents, truth) of the BBC set."""
        docs, pairs = loaders.bbc(root)
        text = dict(zip(docs.doc_id, docs.text))
        return docs, cls(pairs, text, *(metrics.identical_groups(list(pairs[c]), [text[d] for d in pairs[c]])
                                        for c in ("article", "summary")))

    def allowed(self) -> dict[str, set[str]]:
        """summary → its own article and that article's identical twins."""
        twins_of = {doc: set(group) for group in self.twins for doc in group}
        return {s: twins_of.get(a, {a}) for s, a in zip(self.pairs.summary, self.pairs.article)}

    def with_near_twins(self, found: set[metrics.Pair]) -> dict[str, set[str]]:
        """`allowed`, plus the found articles that are near-twins of the summary's own article."""
        allowed, own = self.allowed(), dict(zip(self.pairs.summary, self.pairs.article))
        for a, b in (sorted(pair, reverse=True) for pair in found):  # "summary:…" sorts after "article:…"
            if a in allowed and b.startswith("article:") and b not in allowed[a] \
                    and metrics.containment(self.text[own[a]], self.text[b]) >= NEAR_TWIN:
                allowed[a] = allowed[a] | {b}
        return allowed


def bbc_scores(found: set[metrics.Pair], cluster_of: dict[str, str], truth: BbcTruth) -> dict[str, Any]:
    """Recall, precision, twin groups and the related pairs beyond the expected ones, by kind."""
    articles, allowed = set(truth.pairs.article), truth.allowed()
    expected = (metrics.group_pairs(truth.twins) | metrics.group_pairs(truth.summary_twins)
                | {frozenset((s, a)) for s, own in allowed.items() for a in own})
    kinds = pd.Series([sum(doc in articles for doc in pair) for pair in found - expected], dtype=int)
    collapsed = metrics.collapse(truth.twins, {doc: cluster_of[doc] for doc in articles})
    return {"recall": round(metrics.recall(metrics.pairs_of(truth.pairs.summary, truth.pairs.article), found), 4),
            "precision": round(metrics.clean_share(allowed, found, articles), 4),
            "precision, near-twins allowed": round(metrics.clean_share(truth.with_near_twins(found), found,
                                                                       articles), 4),
            "twin groups collapsed": f"{collapsed['collapsed']}/{collapsed['groups']}",
            "exact": collapsed["exact"],
            "summary twins collapsed": metrics.collapse(truth.summary_twins, cluster_of)["collapsed"],
            **{f"further {kind}": int((kinds == n).sum())
               for n, kind in ((2, "article~article"), (1, "summary~article"), (0, "summary~summary"))}}


def bbc(root: Path) -> dict[str, Any]:
    """BBC News articles and summaries in one corpus, dedup and classic."""
    docs, truth = BbcTruth.load(root)
    result, result_s = timed(lambda: dedup.scan(docs))
    peer, peer_s = timed(lambda: classic_pairs(docs))
    dedup_clusters = dict(zip(result.clusters.doc_id, result.clusters.cluster_id))
    rows = [{"system": DEDUP, **bbc_scores(related(result), dedup_clusters, truth), "seconds": result_s},
            {"system": CLASSIC, **bbc_scores(peer, metrics.components(docs.doc_id, peer), truth), "seconds": peer_s}]
    own = relation_of(result.pairs)
    spread = pd.Series([own.get(p, "not a candidate")
                        for p in metrics.pairs_of(truth.pairs.summary, truth.pairs.article)])
    return {"summary": rows,
            "summary ~ own article relations (dedup)": spread.value_counts().rename_axis("relation")
            .reset_index(name="summaries"),
            "summaries related to a foreign article (dedup)": _foreign(result, truth)}


def _foreign(result: dedup.ScanResult, truth: BbcTruth) -> pd.DataFrame:
    """The related summary~article pairs that are not a summary and its own article (or twin)."""
    allowed, near = truth.allowed(), truth.with_near_twins(related(result))
    linked = result.related()
    first = linked.doc_a.str.startswith("summary:")
    summary, article = linked.doc_a.where(first, linked.doc_b), linked.doc_b.where(first, linked.doc_a)
    foreign = [s in allowed and a.startswith("article:") and a not in allowed[s] for s, a in zip(summary, article)]
    return (linked.assign(summary=summary, article=article,
                          near_twin=[s in near and a in near[s] for s, a in zip(summary, article)])[foreign]
            [["summary", "article", "near_twin", "relation", "reason"]].reset_index(drop=True))


# --- Reuters ------------------------------------------------------------------------------------

def _reuters_scores(found: set[metrics.Pair], cluster_of: dict[str, str], groups: list[list[str]],
                    identical: set[metrics.Pair]) -> dict[str, Any]:
    collapsed = metrics.collapse(groups, cluster_of)
    return {"279 groups collapsed": f"{collapsed['collapsed']}/{collapsed['groups']}",
            "exact": collapsed["exact"], "further related pairs": len(found - identical)}


def reuters(root: Path) -> dict[str, Any]:
    """Reuters-21578 bodies in one corpus, dedup and classic, with an audit sample."""
    docs, truth = loaders.reuters(root)
    groups = metrics.identical_groups(list(truth.doc_id), list(truth.body))
    identical = metrics.group_pairs(metrics.identical_groups(list(docs.doc_id), list(docs.text)))
    result, result_s = timed(lambda: dedup.scan(docs))
    peer, peer_s = timed(lambda: classic_pairs(docs))
    dedup_clusters = dict(zip(result.clusters.doc_id, result.clusters.cluster_id))
    linked = result.related()
    further = linked[[frozenset(pair) not in identical for pair in zip(linked.doc_a, linked.doc_b)]]
    rows = [{"system": DEDUP, **_reuters_scores(related(result), dedup_clusters, groups, identical),
             **{r: int((further.relation == r).sum()) for r in LINKED}, "seconds": result_s},
            {"system": CLASSIC, **_reuters_scores(peer, metrics.components(docs.doc_id, peer), groups, identical),
             **dict.fromkeys(LINKED, "n/a"), "seconds": peer_s}]
    return {"summary": rows, "audit sample (dedup, further duplicate/copy/rewrite)": _audit(docs, further)}


def _audit(docs: pd.DataFrame, further: pd.DataFrame) -> pd.DataFrame:
    title = dict(zip(docs.doc_id, docs.title))
    strong = further[further.relation.isin(("duplicate", "copy", "rewrite"))].reset_index(drop=True)
    sample = sorted(random.Random(SAMPLE_SEED).sample(range(len(strong)), min(SAMPLE_SIZE, len(strong))))
    picked = strong.iloc[sample]
    return pd.DataFrame({"doc_a": picked.doc_a, "title_a": picked.doc_a.map(title), "doc_b": picked.doc_b,
                         "title_b": picked.doc_b.map(title), "relation": picked.relation, "reason": picked.reason})


# --- Issue 16: rewrites in any language, pair by pair ---------------------------------------------

JOBS = 2  # worker processes of the issue-16 tasks (dedup.scan, dedup.compare); cdist uses every core
SEED = 0
STRONG = ("duplicate", "copy", "rewrite")
_MATCHED = ("same", "reworded", "moved")  # passage kinds that align text of both sides
_PASSAGE_SPANS = ["doc_a", "a_start", "a_end", "b_start", "b_end"]
_PAIR_TEXTS = ["name_a", "text_a", "name_b", "text_b"]


def _compared(name_a: str, text_a: str, name_b: str, text_b: str, passages: bool,
              params: dedup.Params) -> tuple[str, str, str, pd.DataFrame | None]:
    """(relation, reason, error, matched passages or None) of `dedup.compare`; a pair it refuses
    (ValueError: a text too short to fingerprint) is rejected, with the error kept."""
    try:
        comparison = dedup.compare(text_a, text_b, params, names=(name_a, name_b))
    except ValueError as err:
        return "rejected", "", str(err), None
    found = comparison.passages
    matched = found.loc[found.kind.isin(_MATCHED), _PASSAGE_SPANS].reset_index(drop=True) if passages else None
    return comparison.relation, comparison.reason, "", matched


def _compare_part(state: tuple[pd.DataFrame, bool, dedup.Params],
                  part: slice) -> list[tuple[str, str, str, pd.DataFrame | None]]:
    pairs, passages, params = state
    return [_compared(*row, passages, params) for row in pairs.iloc[part].itertuples(index=False)]


def _classic_related(texts_a: pd.Series, texts_b: pd.Series) -> list[bool]:
    signatures = {text: classic_signature(text) for text in {*texts_a, *texts_b}}
    return [classic_collide(signatures[a], signatures[b]) for a, b in zip(texts_a, texts_b)]


def judge(pairs: pd.DataFrame, passages: bool = False) -> tuple[pd.DataFrame, dict[str, float]]:
    """Each pair (columns name_a, text_a, name_b, text_b, and any others) judged by the three
    systems, with each system's wall seconds.

    Returns the pairs without their texts, plus relation, reason, error (`dedup.compare`'s
    ValueError, "" if none; such a pair is rejected), related (relation in LINKED), standin
    and classic (bools), and with passages, dedup's passages of kind same/reworded/moved
    (doc_a, a_start, a_end, b_start, b_end; doc_a is the side dedup reads as the source).
    """
    # One Params for all: compare() without one builds its own, whose banding check alone
    # (datasketch's optimal-parameter integration) took half of a sentence pair's time.
    state = (pairs[_PAIR_TEXTS].reset_index(drop=True), passages, dedup.Params())
    verdicts, dedup_s = timed(lambda: [verdict for part in map_chunks(_compare_part, state, chunks(len(pairs), JOBS),
                                                                      JOBS) for verdict in part])
    standin, standin_s = timed(lambda: [standin_related(a, b) for a, b in zip(pairs.text_a, pairs.text_b)])
    classic, classic_s = timed(lambda: _classic_related(pairs.text_a, pairs.text_b))
    relation, reason, error, matched = zip(*verdicts) if verdicts else ((),) * 4
    judged = pairs.drop(columns=["text_a", "text_b"]).reset_index(drop=True).assign(
        relation=list(relation), reason=list(reason), error=list(error), standin=standin, classic=classic)
    judged["related"] = judged.relation.isin(LINKED)
    if passages:
        judged["passages"] = list(matched)
    return judged, {DEDUP: dedup_s, STANDIN: standin_s, CLASSIC: classic_s}


def _share(flags: pd.Series) -> float:
    return round(float(flags.mean()), 4) if len(flags) else float("nan")


def _flags(judged: pd.DataFrame) -> dict[str, pd.Series]:
    """system → its related flag per pair."""
    return {DEDUP: judged.related, STANDIN: judged.standin, CLASSIC: judged.classic}


def _errors(judged: pd.DataFrame) -> int:
    return int((judged.error != "").sum())


def by_group(judged: pd.DataFrame, column: str, order: list[str]) -> pd.DataFrame:
    """One row per value of judged[column], in order: pairs, each system's share related,
    dedup's share duplicate/copy/rewrite and share rewrite, and its ValueErrors."""
    rows = []
    for value in order:
        part = judged[judged[column] == value]
        rows.append({column: value, "pairs": len(part),
                     **{f"{system} related": _share(flags) for system, flags in _flags(part).items()},
                     "dedup duplicate/copy/rewrite": _share(part.relation.isin(STRONG)),
                     "dedup rewrite": _share(part.relation == "rewrite"), "ValueErrors": _errors(part)})
    return pd.DataFrame(rows)


def system_rows(judged: pd.DataFrame, seconds: dict[str, float],
                scores: Callable[[str, pd.Series], dict[str, Any]]) -> list[dict[str, Any]]:
    """A summary row per system: scores(system, its related flags), dedup's ValueErrors, seconds."""
    return [{"system": system, **scores(system, flags), "ValueErrors": _errors(judged) if system == DEDUP else "n/a",
             "seconds": seconds[system]} for system, flags in _flags(judged).items()]


def _group_shares(groups: pd.Series, order: list[str]) -> Callable[[str, pd.Series], dict[str, float]]:
    """scores for `system_rows`: the share related in each group."""
    return lambda _, flags: {f"{group} related": _share(flags[groups == group]) for group in order}


def misjudged(judged: pd.DataFrame, mask: pd.Series, columns: list[str]) -> pd.DataFrame:
    """The pairs of mask with dedup's verdict and the other systems' flags."""
    return judged.loc[mask, [*columns, "relation", "reason", "error", "standin", "classic"]].reset_index(drop=True)


def _with_texts(pairs: pd.DataFrame, text: dict[str, str]) -> pd.DataFrame:
    return pairs.assign(text_a=pairs.name_a.map(text), text_b=pairs.name_b.map(text))


def corpus_runs(documents: pd.DataFrame) -> tuple[dedup.ScanResult, dict[str, set[metrics.Pair]], dict[str, float]]:
    """The documents as one corpus: dedup's scan, each system's related pairs (the stand-in's
    over every pair) and each system's wall seconds."""
    result, result_s = timed(lambda: dedup.scan(documents, jobs=JOBS))
    standin, standin_s = timed(lambda: standin_pairs(documents))
    classic, classic_s = timed(lambda: classic_pairs(documents))
    return (result, {DEDUP: related(result), STANDIN: standin, CLASSIC: classic},
            {DEDUP: result_s, STANDIN: standin_s, CLASSIC: classic_s})


# --- SheepDog -----------------------------------------------------------------------------------

def _stories(truth: pd.DataFrame, text: dict[str, str]) -> dict[str, str]:
    """article id → story: the components of the articles whose originals are near-twins
    (`metrics.near_twins` at NEAR_TWIN: identical pages, and the same page with other names or
    cut short); each labelled by its first article id."""
    originals = truth.drop_duplicates("article_id")
    twins = metrics.near_twins(list(originals.article_id), [text[o] for o in originals.original], NEAR_TWIN)
    return metrics.components(originals.article_id, twins)


def sheepdog_negatives(truth: pd.DataFrame, story: dict[str, str]) -> pd.DataFrame:
    """Per style, each original against the same-style rewrite of another story's article (a
    `metrics.derangement` of the articles, seeded SEED + the style's position): name_a, name_b, style."""
    parts = []
    for number, style in enumerate(loaders.SHEEPDOG_STYLES):
        rows = truth[truth["style"] == style].reset_index(drop=True)
        order = metrics.derangement([story[a] for a in rows.article_id], SEED + number)
        parts.append(pd.DataFrame({"name_a": rows.original, "name_b": rows.rewrite[order].to_numpy(), "style": style}))
    return pd.concat(parts, ignore_index=True)


def _across_stories(found: set[metrics.Pair], label_of: dict[str, str]) -> list[metrics.Pair]:
    return [pair for pair in found if len({label_of[doc] for doc in pair}) > 1]


def _by_kind(pairs: list[metrics.Pair]) -> pd.Series:
    """How many pairs of each kind: "original ~ rewrite" and the like."""
    return pd.Series([" ~ ".join(sorted(doc.split(":")[0] for doc in pair)) for pair in pairs],
                     dtype=object).value_counts()


def _sheepdog_corpus(docs: pd.DataFrame, truth: pd.DataFrame,
                     label_of: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, pd.DataFrame]]:
    """(b): the summary rows, and tables of the relations of each original ~ own rewrite and of
    the pairs related across stories."""
    result, found, seconds = corpus_runs(docs)
    own_pairs = metrics.pairs_of(truth.original, truth.rewrite)
    rows = [{"system": system, "setting": "(b) corpus",
             "precision": round(metrics.same_label_share(pairs, label_of), 4),
             "recall": round(metrics.recall(own_pairs, pairs), 4), "related pairs": len(pairs),
             "seconds": seconds[system]} for system, pairs in found.items()]
    own = relation_of(result.pairs)
    linked = result.related()
    across = set(_across_stories(found[DEDUP], label_of))
    wrong = linked[[frozenset(pair) in across for pair in zip(linked.doc_a, linked.doc_b)]]
    return rows, {
        "confusion (b) corpus, original ~ own rewrite, dedup": metrics.confusion(
            truth["style"], [own.get(frozenset(p), "not a candidate") for p in zip(truth.original, truth.rewrite)],
            list(loaders.SHEEPDOG_STYLES), [*RELATIONS, "not a candidate"]),
        "related across stories (b) corpus, by kind": pd.DataFrame(
            {system: _by_kind(_across_stories(pairs, label_of)) for system, pairs in found.items()})
        .fillna(0).astype(int).rename_axis("kind").reset_index(),
        "related across stories (b) corpus, dedup": wrong[["doc_a", "doc_b", "relation", "reason"]]
        .reset_index(drop=True)}


# A rewrite's length against its original's. SOURCE.md: some originals are long and the LLM
# rewrote only their opening, which the taxonomy calls an excerpt retold (partial), not a rewrite.
LENGTH_BANDS = {"under half": (0.0, 0.5), "half to 1.5 times": (0.5, 1.5), "over 1.5 times": (1.5, float("inf"))}


def _length_band(pairs: pd.DataFrame, text: dict[str, str]) -> pd.Series:
    ratio = pairs.name_b.map(lambda doc: len(text[doc])) / pairs.name_a.map(lambda doc: len(text[doc]))
    return pd.cut(ratio, [low for low, _ in LENGTH_BANDS.values()] + [float("inf")], right=False,
                  labels=list(LENGTH_BANDS)).astype(str)


def sheepdog(root: Path) -> dict[str, Any]:
    """SheepDog: rewrites and built negatives pair by pair, then all texts in one corpus."""
    docs, truth = loaders.sheepdog(root)
    text = dict(zip(docs.doc_id, docs.text))
    story = _stories(truth, text)
    positives = truth.assign(name_a=truth.original, name_b=truth.rewrite)[["name_a", "name_b", "style"]]
    pairs = pd.concat([positives.assign(kind="rewrite"), sheepdog_negatives(truth, story).assign(kind="negative")],
                      ignore_index=True)
    pairs["group"] = pairs["style"].where(pairs.kind == "rewrite", pairs["style"] + " negative")
    judged, seconds = judge(_with_texts(pairs, text))
    rewrite = judged.kind == "rewrite"
    rows = system_rows(judged, seconds, lambda system, flags: {
        "setting": "(a) pairs", "rewrites related": _share(flags[rewrite]),
        "rewrites duplicate/copy/rewrite": _share(judged.relation[rewrite].isin(STRONG)) if system == DEDUP else "n/a",
        "negatives related": _share(flags[~rewrite])})
    corpus_rows, corpus = _sheepdog_corpus(docs, truth, {doc: story[doc.split(":")[1]] for doc in docs.doc_id})
    groups = [*loaders.SHEEPDOG_STYLES, *(f"{style} negative" for style in loaders.SHEEPDOG_STYLES)]
    length = judged[rewrite].assign(length=_length_band(judged[rewrite], text))
    return {"summary": rows + corpus_rows,
            "by style (a) pairs": by_group(judged, "group", groups),
            "confusion (a) pairs, dedup": metrics.confusion(judged.group, judged.relation, groups, RELATIONS),
            "confusion (a) rewrites by length against the original, dedup": metrics.confusion(
                length.length, length.relation, list(LENGTH_BANDS), RELATIONS),
            **corpus,
            "rewrites rejected (a), dedup": misjudged(judged, rewrite & ~judged.related, ["name_a", "name_b"]),
            "negatives related (a), dedup": misjudged(judged, ~rewrite & judged.related, ["name_a", "name_b"])}


# --- UPPC ---------------------------------------------------------------------------------------

def uppc(root: Path) -> dict[str, Any]:
    """UPPC Urdu: each derived text against its source; P derived, NP not."""
    docs, truth = loaders.uppc(root)
    judged, seconds = judge(_with_texts(truth.assign(name_a=truth.source, name_b=truth.derived),
                                        dict(zip(docs.doc_id, docs.text))))
    paraphrase = judged.label == "P"
    rows = system_rows(judged, seconds, lambda _, flags: {
        "accuracy": round(metrics.accuracy(list(paraphrase), list(flags)), 4),
        "P related": _share(flags[paraphrase]), "NP related": _share(flags[~paraphrase])})
    return {"summary": rows, "by label": by_group(judged, "label", ["P", "NP"]),
            "confusion dedup": metrics.confusion(judged.label, judged.relation, ["P", "NP"], RELATIONS),
            "P rejected, dedup": misjudged(judged, paraphrase & ~judged.related, ["source", "derived"]),
            "NP related, dedup": misjudged(judged, ~paraphrase & judged.related, ["source", "derived"])}


# --- OneStopEnglish -------------------------------------------------------------------------------

ONESTOP_STEPS = (("adv", "int"), ("adv", "ele"), ("int", "ele"))
# Titles of one topic (SOURCE.md): never each other's negative.
ONESTOP_SAME_TOPIC = (("NSA scandal", "NSA 2"), ("Billionaires", "WNL Billionaires"), ("Japan", "WNL Japan"))
ONESTOP_NEGATIVE = "adv→other title's int"


def onestop_pairs(truth: pd.DataFrame) -> pd.DataFrame:
    """name_a, name_b, step: each title's level pairs (where both levels are loaded), and each
    Adv against another title's Int (a seeded `metrics.derangement` keeping ONESTOP_SAME_TOPIC apart)."""
    steps = [pd.DataFrame({"name_a": truth[a], "name_b": truth[b], "step": f"{a}→{b}"})
             [(truth[a] != "") & (truth[b] != "")] for a, b in ONESTOP_STEPS]
    topic = dict(zip(truth.title, truth.title))
    for titles in ONESTOP_SAME_TOPIC:
        topic.update(dict.fromkeys(titles, titles[0]))
    order = metrics.derangement([topic[title] for title in truth.title], SEED)
    negatives = pd.DataFrame({"name_a": truth.adv, "name_b": truth["int"].to_numpy()[order], "step": ONESTOP_NEGATIVE})
    return pd.concat([*steps, negatives], ignore_index=True)


def onestop(root: Path) -> dict[str, Any]:
    """OneStopEnglish: the reading levels of a title against each other, and built negatives."""
    docs, truth = loaders.onestop(root)
    judged, seconds = judge(_with_texts(onestop_pairs(truth), dict(zip(docs.doc_id, docs.text))))
    order = [*(f"{a}→{b}" for a, b in ONESTOP_STEPS), ONESTOP_NEGATIVE]
    positive = judged.step != ONESTOP_NEGATIVE
    return {"summary": system_rows(judged, seconds, _group_shares(judged.step, order)),
            "by level pair": by_group(judged, "step", order),
            "confusion dedup": metrics.confusion(judged.step, judged.relation, order, RELATIONS),
            "level pairs rejected, dedup": misjudged(judged, positive & ~judged.related, ["name_a", "name_b"]),
            "negatives related, dedup": misjudged(judged, ~positive & judged.related, ["name_a", "name_b"])}


# --- ECB+ -----------------------------------------------------------------------------------------

WIRE_COPY = 0.5  # word 5-gram Jaccard above which two articles are a near-verbatim wire copy
ECB_KINDS = ("wire copy", "same sub-topic", "cross sub-topic", "other topics")


def _same_topic_pairs(truth: pd.DataFrame) -> list[metrics.Pair]:
    return [frozenset(pair) for docs in truth.groupby("topic").doc_id for pair in itertools.combinations(docs[1], 2)]


def ecb_kinds(truth: pd.DataFrame, text: dict[str, str]) -> tuple[dict[metrics.Pair, str], dict[metrics.Pair, float]]:
    """(kind of every same-topic pair, its word 5-gram Jaccard). Kinds: ``wire copy`` (Jaccard
    > WIRE_COPY), ``same sub-topic``, ``cross sub-topic``; a pair not in it is of ``other topics``."""
    subtopic = dict(zip(truth.doc_id, truth.subtopic))
    similarity = {pair: metrics.jaccard(*(text[doc] for doc in pair)) for pair in _same_topic_pairs(truth)}
    kinds = {pair: "wire copy" if j > WIRE_COPY else "same sub-topic" if len({subtopic[d] for d in pair}) == 1
             else "cross sub-topic" for pair, j in similarity.items()}
    return kinds, similarity


def _ecb_scores(found: set[metrics.Pair], kinds: dict[metrics.Pair, str]) -> dict[str, Any]:
    totals = pd.Series(list(kinds.values())).value_counts()
    counts = pd.Series([kinds.get(pair, "other topics") for pair in found], dtype=object).value_counts()
    n = {kind: int(counts.get(kind, 0)) for kind in ECB_KINDS}
    same = totals["same sub-topic"] + totals.get("wire copy", 0)
    return {"same sub-topic related": f"{n['wire copy'] + n['same sub-topic']}/{same}",
            "same sub-topic share": round((n["wire copy"] + n["same sub-topic"]) / same, 4),
            "wire copies related": f"{n['wire copy']}/{totals.get('wire copy', 0)}",
            "beyond wire copies related": n["same sub-topic"],
            "cross sub-topic related": f"{n['cross sub-topic']}/{totals['cross sub-topic']}",
            "cross sub-topic share": round(n["cross sub-topic"] / totals["cross sub-topic"], 4),
            "other topics related": n["other topics"]}


def _ecb_listing(pairs: pd.DataFrame, kinds: dict[metrics.Pair, str], similarity: dict[metrics.Pair, float],
                 subtopic: dict[str, str]) -> pd.DataFrame:
    keys = [frozenset(pair) for pair in zip(pairs.doc_a, pairs.doc_b)]
    return pd.DataFrame({"doc_a": pairs.doc_a, "doc_b": pairs.doc_b,
                         "kind": [kinds.get(key, "other topics") for key in keys],
                         "jaccard": [round(similarity.get(key, float("nan")), 3) for key in keys],
                         "subtopic_a": pairs.doc_a.map(subtopic), "subtopic_b": pairs.doc_b.map(subtopic),
                         "relation": pairs.relation, "reason": pairs.reason}).reset_index(drop=True)


def _wire_copies(kinds: dict[metrics.Pair, str], similarity: dict[metrics.Pair, float],
                 found: dict[str, set[metrics.Pair]], own: dict[metrics.Pair, str]) -> pd.DataFrame:
    """The wire copies: doc_a, doc_b, jaccard, dedup's relation, and whether each other system relates them."""
    wires = sorted(sorted(pair) for pair, kind in kinds.items() if kind == "wire copy")
    keys = [frozenset(pair) for pair in wires]
    return pd.DataFrame({"doc_a": [a for a, _ in wires], "doc_b": [b for _, b in wires],
                         "jaccard": [round(similarity[key], 3) for key in keys],
                         "relation": [own.get(key, "not a candidate") for key in keys],
                         **{system: [key in found[system] for key in keys] for system in (STANDIN, CLASSIC)}})


def ecbplus(root: Path) -> dict[str, Any]:
    """ECB+: all 982 articles in one corpus; relations by sub-topic, wire copies apart."""
    docs, truth = loaders.ecbplus(root)
    text, subtopic = dict(zip(docs.doc_id, docs.text)), dict(zip(truth.doc_id, truth.subtopic))
    kinds, similarity = ecb_kinds(truth, text)
    result, found, seconds = corpus_runs(docs)
    rejected = result.documents[result.documents.status == "rejected"]
    rows = [{"system": system, **_ecb_scores(pairs, kinds),
             "documents rejected": len(rejected) if system == DEDUP else "n/a", "seconds": seconds[system]}
            for system, pairs in found.items()]
    listed = _ecb_listing(result.pairs, kinds, similarity, subtopic)
    linked, strong = listed.relation.isin(LINKED), listed.relation.isin(STRONG)
    return {"summary": rows,
            "confusion dedup candidates by kind": metrics.confusion(listed.kind, listed.relation, list(ECB_KINDS),
                                                                    RELATIONS),
            "wire copies (word 5-gram Jaccard > 0.5)": _wire_copies(kinds, similarity, found,
                                                                    relation_of(result.pairs)),
            "duplicate/copy/rewrite beyond wire copies, dedup": listed[strong & (listed.kind != "wire copy")]
            .sort_values("jaccard", ascending=False).reset_index(drop=True),
            "related across sub-topics or topics, dedup": listed[linked & listed.kind.isin(ECB_KINDS[2:])]
            .reset_index(drop=True),
            "documents rejected, dedup": rejected[["doc_id", "reason"]].reset_index(drop=True)}


# --- MSRP through dedup.compare -------------------------------------------------------------------

def msrp_compare(root: Path) -> dict[str, Any]:
    """MSRP train: each sentence pair through `dedup.compare`; related against the label."""
    import msrp as sentence_benchmark

    sentences = sentence_benchmark.load(root)
    judged, seconds = judge(sentences.assign(name_a=sentences.id_a, name_b=sentences.id_b))
    label = judged.label == 1
    rows = system_rows(judged, seconds, lambda _, flags: {
        "accuracy": round(metrics.accuracy(list(label), list(flags)), 4),
        "f1": round(float(f1_score(label, flags)), 4), "related": _share(flags)})
    judged["label"] = judged.label.map({1: "paraphrase", 0: "not"})
    return {"summary": rows, "by label": by_group(judged, "label", ["paraphrase", "not"]),
            "confusion dedup": metrics.confusion(judged.label, judged.relation, ["paraphrase", "not"], RELATIONS),
            "reasons, dedup": judged.groupby(["label", "relation"]).reason
            .agg(lambda reasons: reasons.str.replace(r"\d+%", "N%", regex=True).value_counts().index[0])
            .rename("most common reason (numbers as N)").reset_index(),
            "paraphrases rejected, dedup": misjudged(judged, label & ~judged.related, ["id_a", "id_b"]),
            "non-paraphrases related, dedup": misjudged(judged, ~label & judged.related, ["id_a", "id_b"])}


# --- Indonesian PAN-11 style ------------------------------------------------------------------------

NEGATIVE_SOURCES = 3  # sources a suspicious document without cases is compared with


def indonesian_pairs(docs: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """suspicious, source, has_case: each suspicious document against every source its cases
    cite, and one without cases against NEGATIVE_SOURCES sources drawn by random.Random(SEED)."""
    suspicious = sorted(docs.doc_id[docs.doc_id.str.startswith("suspicious")])
    sources = sorted(docs.doc_id[docs.doc_id.str.startswith("source")])
    cited = cases.groupby("suspicious").source.unique()
    rng, rows = random.Random(SEED), []
    for doc in suspicious:
        compared = sorted(cited[doc]) if doc in cited.index else rng.sample(sources, NEGATIVE_SOURCES)
        rows += [{"suspicious": doc, "source": source, "has_case": doc in cited.index} for source in compared]
    return pd.DataFrame(rows)


def _spans(passages: pd.DataFrame | None, suspicious: str) -> list[tuple[metrics.Span, metrics.Span]]:
    """(suspicious span, source span) of each passage, whichever side dedup read as the source."""
    if passages is None:
        return []
    return [((int(row.a_start), int(row.a_end)), (int(row.b_start), int(row.b_end))) if row.doc_a == suspicious
            else ((int(row.b_start), int(row.b_end)), (int(row.a_start), int(row.a_end)))
            for row in passages.itertuples(index=False)]


def _case_type(cases: pd.DataFrame) -> pd.Series:
    return cases.type.where(cases.type == "simulated", cases.type + "/" + cases.obfuscation)


def passage_recall(cases: pd.DataFrame, judged: pd.DataFrame) -> pd.DataFrame:
    """The cases with their pair's relation and whether a dedup passage recovered each
    (`metrics.case_recovered`): suspicious, source, case_type, offsets, relation, recovered."""
    verdict = judged.set_index(["suspicious", "source"])
    found = [metrics.case_recovered((case.this_offset, case.this_offset + case.this_length),
                                    (case.source_offset, case.source_offset + case.source_length),
                                    _spans(verdict.passages[(case.suspicious, case.source)], case.suspicious))
             for case in cases.itertuples()]
    return cases.assign(case_type=_case_type(cases),
                        relation=[verdict.relation[(s, d)] for s, d in zip(cases.suspicious, cases.source)],
                        recovered=found)


def _recall_row(name: str, cases: pd.DataFrame) -> dict[str, Any]:
    related_pair = cases.relation.isin(LINKED)
    return {"case type": name, "cases": len(cases), "passage recall": _share(cases.recovered),
            "recovered in a related pair": _share(cases.recovered & related_pair),
            "pair related": _share(related_pair)}


def indonesian(root: Path) -> dict[str, Any]:
    """Indonesian PAN-11 style: suspicious documents against sources, documents and passages."""
    docs, cases = loaders.indonesian(root)
    pairs = indonesian_pairs(docs, cases)
    judged, seconds = judge(_with_texts(pairs.assign(name_a=pairs.suspicious, name_b=pairs.source),
                                        dict(zip(docs.doc_id, docs.text))), passages=True)
    has_case = judged.has_case

    def scores(_: str, flags: pd.Series) -> dict[str, Any]:
        by_document = pd.DataFrame({"doc": judged.suspicious, "truth": has_case, "found": flags}).groupby("doc").any()
        return {"pair accuracy": round(metrics.accuracy(list(has_case), list(flags)), 4),
                "pairs with a case related": f"{int(flags[has_case].sum())}/{int(has_case.sum())}",
                "pairs without related": f"{int(flags[~has_case].sum())}/{int((~has_case).sum())}",
                "document accuracy": round(metrics.accuracy(list(by_document.truth), list(by_document.found)), 4)}

    recovered = passage_recall(cases, judged)
    order = ["simulated", *sorted(set(recovered.case_type) - {"simulated"})]
    return {"summary": system_rows(judged, seconds, scores),
            "passage recall by case type, dedup": pd.DataFrame(
                [*(_recall_row(kind, recovered[recovered.case_type == kind]) for kind in order),
                 _recall_row("all", recovered)]),
            "confusion dedup pairs": metrics.confusion(has_case.map({True: "has case", False: "no case"}),
                                                       judged.relation, ["has case", "no case"], RELATIONS),
            "pairs, dedup": judged.drop(columns=["name_a", "name_b", "passages"]),
            "cases not recovered, dedup": recovered[~recovered.recovered].drop(columns="recovered")
            .reset_index(drop=True)}


# --- MSRP and main --------------------------------------------------------------------------------

def msrp(root: Path) -> dict[str, Any]:
    """bench/msrp.py's result, or "not available" when that file is missing.

    Its scalars make the summary row and each list of records a table; the whole result is kept
    for the JSON.
    """
    try:
        import msrp as sentence_benchmark
    except ImportError as err:
        return {"summary": [{"system": DEDUP, "status": f"not available ({err})"}]}
    result, seconds = timed(lambda: sentence_benchmark.run(root))
    tables = {name: pd.DataFrame(value) for name, value in result.items()
              if isinstance(value, list) and value and all(isinstance(v, dict) for v in value)}
    scalars = {name: value for name, value in result.items() if not isinstance(value, (list, dict))}
    return {"summary": [{"system": DEDUP, **scalars, "seconds": seconds}], **tables, "msrp.py result": result}


RUNNERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "clough": clough, "bbc": bbc, "reuters": reuters, "msrp": msrp, "sheepdog": sheepdog, "uppc": uppc,
    "onestop": onestop, "ecbplus": ecbplus, "msrp_compare": msrp_compare, "indonesian": indonesian}


def show(task: str, tables: dict[str, Any]) -> None:
    """Print one task's tables as markdown."""
    print(f"\n## {task}\n")
    for name, table in tables.items():
        if isinstance(table, dict):
            continue  # JSON only
        # Rows as objects: a count column with gaps (a row of another setting) stays a count.
        frame = (table if isinstance(table, pd.DataFrame) else pd.DataFrame(table, dtype=object)).astype(object)
        frame = frame.fillna("n/a")
        if name != "summary":
            print(f"\n### {name}\n")
        print(frame.head(SHOWN).to_markdown(index=name.startswith("confusion")) if len(frame) else "(none)")
        if len(frame) > SHOWN:
            print(f"\n(first {SHOWN} of {len(frame)} rows)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated subset of " + ",".join(TASKS))
    args = parser.parse_args()
    tasks = args.tasks.split(",")
    if unknown := set(tasks) - set(TASKS):
        parser.error(f"unknown task(s): {', '.join(sorted(unknown))}")
    results = {}
    for task in tasks:
        tables = RUNNERS[task](args.data)
        show(task, tables)
        results[task] = {name: _table(t.reset_index() if name.startswith("confusion") else t)
                         if isinstance(t, pd.DataFrame) else t for name, t in tables.items()}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
