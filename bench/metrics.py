"""Metrics of the quality benchmark: pure functions on small python/pandas inputs.

A pair is a ``frozenset`` of two doc ids; "related" means a relation in
`dedup.relate.LINKED` for dedup, an LSH candidate for the classic peer.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence

import pandas as pd

Pair = frozenset[str]

# Clough–Stevenson label → the relations that count as correct for it (the wording).
# "copy" is right for cut and light, "rewrite" for light and heavy: scoring by allowed set needs
# no tie-break between the two labels each of them serves.
ALLOWED = {
    "cut": ("duplicate", "copy"),
    "light": ("copy", "rewrite"),
    "heavy": ("rewrite", "partial"),
    "non": ("rejected",),
}
DERIVED = ("cut", "light", "heavy")

Span = tuple[int, int]  # character offsets, start inclusive, end exclusive

_WORD = re.compile(r"\w+")


def pairs_of(doc_a: Iterable[str], doc_b: Iterable[str]) -> set[Pair]:
    """The unordered pairs of two parallel columns of doc ids."""
    return {frozenset(pair) for pair in zip(doc_a, doc_b)}


def normalise_whitespace(text: str) -> str:
    """Runs of whitespace → one space, ends stripped."""
    return " ".join(text.split())


def identical_groups(doc_ids: Sequence[str], texts: Sequence[str]) -> list[list[str]]:
    """Groups of two or more doc ids whose texts are equal after whitespace normalisation."""
    by_text: dict[str, list[str]] = defaultdict(list)
    for doc_id, text in zip(doc_ids, texts):
        by_text[normalise_whitespace(text)].append(doc_id)
    return sorted(sorted(ids) for ids in by_text.values() if len(ids) > 1)


def group_pairs(groups: Iterable[Sequence[str]]) -> set[Pair]:
    """Every pair inside each group."""
    return {frozenset((a, b)) for ids in groups for i, a in enumerate(ids) for b in ids[i + 1:]}


def components(doc_ids: Iterable[str], pairs: Iterable[Pair]) -> dict[str, str]:
    """doc id → a component label (its smallest member), the connected components of the pairs."""
    parent = {doc: doc for doc in doc_ids}

    def root(doc: str) -> str:
        while parent[doc] != doc:
            parent[doc] = parent[parent[doc]]
            doc = parent[doc]
        return doc

    for a, b in (tuple(pair) for pair in pairs):
        ra, rb = root(a), root(b)
        parent[max(ra, rb)] = min(ra, rb)
    return {doc: root(doc) for doc in parent}


def collapse(groups: Sequence[Sequence[str]], cluster_of: Mapping[str, str]) -> dict[str, int]:
    """How many groups fall in one cluster (``collapsed``), and how many of those clusters hold
    nothing else among the keys of cluster_of (``exact``)."""
    members: dict[str, set[str]] = defaultdict(set)
    for doc, cluster in cluster_of.items():
        members[cluster].add(doc)
    clusters = [{cluster_of[doc] for doc in ids} for ids in groups]
    collapsed = [len(found) == 1 for found in clusters]
    exact = [one and members[next(iter(found))] == set(ids) for one, found, ids in zip(collapsed, clusters, groups)]
    return {"groups": len(groups), "collapsed": sum(collapsed), "exact": sum(exact)}


def _grams(words: Sequence[str], k: int) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + k]) for i in range(len(words) - k + 1)}


def containment(a: str, b: str, k: int = 5) -> float:
    """Share of the smaller text's lowercased word k-grams found in the other (0 if either has none)."""
    grams = [_grams(text.lower().split(), k) for text in (a, b)]
    smaller = min(len(g) for g in grams)
    return len(grams[0] & grams[1]) / smaller if smaller else 0.0


def near_twins(doc_ids: Sequence[str], texts: Sequence[str], threshold: float, k: int = 5) -> set[Pair]:
    """The pairs whose `containment` is at least threshold, found through an index of the
    k-grams (each doc meets only the docs it shares a k-gram with) instead of every pair."""
    grams = [_grams(text.lower().split(), k) for text in texts]
    holders: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for i, own in enumerate(grams):
        for gram in own:
            holders[gram].append(i)
    found = set()
    for i, own in enumerate(grams):
        shared = Counter(j for gram in own for j in holders[gram] if j > i)
        found |= {frozenset((doc_ids[i], doc_ids[j])) for j, n in shared.items()
                  if n / min(len(own), len(grams[j])) >= threshold}
    return found


def jaccard(a: str, b: str, k: int = 5) -> float:
    """Jaccard similarity of the two texts' word k-grams, words being the lowercased ``\\w+``
    runs (so punctuation and its spacing do not count); 0 if neither has a k-gram."""
    grams = [_grams(_WORD.findall(text.lower()), k) for text in (a, b)]
    union = len(grams[0] | grams[1])
    return len(grams[0] & grams[1]) / union if union else 0.0


def recall(truth: Iterable[Pair], found: set[Pair]) -> float:
    """Share of the truth pairs that were found."""
    truth = list(truth)
    return sum(pair in found for pair in truth) / len(truth) if truth else float("nan")


def clean_share(items: Mapping[str, set[str]], found: set[Pair], others: set[str]) -> float:
    """Share of the items (item → the docs it may be related to) related to no doc of ``others``
    beyond its allowed ones: BBC precision, a summary related to no other article."""
    partners: dict[str, set[str]] = defaultdict(set)
    for a, b in (tuple(pair) for pair in found):
        partners[a].add(b)
        partners[b].add(a)
    clean = [not (partners[item] & others) - allowed for item, allowed in items.items()]
    return sum(clean) / len(clean) if clean else float("nan")


def accuracy(truth: Sequence[object], predicted: Sequence[object]) -> float:
    """Share of positions where the two sequences agree."""
    return sum(t == p for t, p in zip(truth, predicted, strict=True)) / len(truth) if truth else float("nan")


def derived(labels: Iterable[str]) -> list[bool]:
    """Clough–Stevenson label → derived from the source (cut, light, heavy) or not (non)."""
    return [label in DERIVED for label in labels]


def allowed_accuracy(labels: Sequence[str], relations: Sequence[str]) -> float:
    """Share of labels whose predicted relation is in the label's `ALLOWED` set."""
    return accuracy([True] * len(labels), [rel in ALLOWED[lab] for lab, rel in zip(labels, relations, strict=True)])


def confusion(labels: Sequence[str], predicted: Sequence[str], rows: Sequence[str],
              columns: Sequence[str]) -> pd.DataFrame:
    """Counts of label × prediction, every listed row and column present, in the order given."""
    table = pd.crosstab(pd.Series(list(labels), name="label"), pd.Series(list(predicted), name="predicted"))
    return table.reindex(index=list(rows), columns=list(columns), fill_value=0)


def same_label_share(found: Iterable[Pair], label_of: Mapping[str, str]) -> float:
    """Share of the pairs whose two docs carry the same label: precision, when the label is the story."""
    same = [len({label_of[doc] for doc in pair}) == 1 for pair in found]
    return sum(same) / len(same) if same else float("nan")


def derangement(labels: Sequence[Hashable], seed: int) -> list[int]:
    """A permutation p of range(len(labels)) sending no item to one of its own label
    (labels[p[i]] != labels[i] for every i, so no fixed point either): shuffles with
    random.Random(seed) until one qualifies, so a seed gives one permutation.

    Negatives by construction: item i against the p[i]-th item's counterpart. Raises
    ValueError when no such permutation exists (a label on more than half the items).
    """
    counts = pd.Series(list(labels)).value_counts()
    if len(labels) and counts.iloc[0] > len(labels) / 2:
        raise ValueError(f"no derangement: {counts.index[0]!r} labels {counts.iloc[0]} of {len(labels)} items")
    rng, order = random.Random(seed), list(range(len(labels)))
    while True:
        rng.shuffle(order)
        if all(labels[i] != labels[j] for i, j in enumerate(order)):
            return order


def spans_overlap(a: Span, b: Span) -> bool:
    """Whether two character spans share at least one character."""
    return max(a[0], b[0]) < min(a[1], b[1])


def case_recovered(suspicious: Span, source: Span, passages: Iterable[tuple[Span, Span]]) -> bool:
    """Whether some passage (its suspicious span, its source span) overlaps an annotated
    reuse case on both sides: the passage found the case, and on the right source text."""
    return any(spans_overlap(suspicious, found_suspicious) and spans_overlap(source, found_source)
               for found_suspicious, found_source in passages)
