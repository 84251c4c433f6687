"""Unit tests of bench/metrics.py on tiny hand-made inputs (no benchmark data needed)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import metrics  # noqa: E402


def pair(a: str, b: str) -> frozenset[str]:
    return frozenset((a, b))


def test_pairs_are_unordered() -> None:
    assert metrics.pairs_of(["a", "c"], ["b", "a"]) == {pair("a", "b"), pair("a", "c")}
    assert metrics.pairs_of(["b"], ["a"]) == metrics.pairs_of(["a"], ["b"])


def test_identical_groups_ignore_whitespace_only() -> None:
    ids = ["1", "2", "3", "4", "5"]
    texts = ["One  story.\n", " One story.", "one story.", "Other.", "Other.\t"]
    assert metrics.identical_groups(ids, texts) == [["1", "2"], ["4", "5"]]


def test_group_pairs_lists_every_pair_inside_each_group() -> None:
    assert metrics.group_pairs([["a", "b", "c"], ["d", "e"]]) == {
        pair("a", "b"), pair("a", "c"), pair("b", "c"), pair("d", "e")}


def test_components_label_by_smallest_member() -> None:
    labels = metrics.components(["a", "b", "c", "d", "e"], [pair("c", "b"), pair("b", "a"), pair("e", "d")])
    assert labels == {"a": "a", "b": "a", "c": "a", "d": "d", "e": "d"}


def test_collapse_counts_groups_in_one_cluster_and_exact_clusters() -> None:
    cluster_of = {"a": "x", "b": "x", "c": "y", "d": "z", "e": "y", "f": "y"}
    # {a, b}: one cluster, nothing else in it; {c, e}: one cluster that also holds f; {d, f}: split.
    assert metrics.collapse([["a", "b"], ["c", "e"], ["d", "f"]], cluster_of) == {
        "groups": 3, "collapsed": 2, "exact": 1}


def test_recall_of_found_pairs() -> None:
    truth = [pair("s1", "a1"), pair("s2", "a2")]
    assert metrics.recall(truth, {pair("a1", "s1"), pair("s3", "a3")}) == 0.5
    assert math.isnan(metrics.recall([], set()))


def test_clean_share_allows_own_article_and_twins_only() -> None:
    items = {"s1": {"a1", "a1twin"}, "s2": {"a2"}, "s3": {"a3"}}
    found = {pair("s1", "a1"), pair("s1", "a1twin"), pair("s2", "a3"), pair("s3", "s1")}
    # s2 is related to a foreign article; s3 to a summary only, which is not an article: clean.
    assert metrics.clean_share(items, found, others={"a1", "a1twin", "a2", "a3"}) == 2 / 3


def test_accuracy_and_derived() -> None:
    assert metrics.derived(["cut", "light", "heavy", "non"]) == [True, True, True, False]
    assert metrics.accuracy([True, False, True, True], [True, True, True, False]) == 0.5


def test_allowed_accuracy_scores_relation_in_the_labels_set() -> None:
    labels = ["cut", "cut", "light", "light", "heavy", "heavy", "non", "non"]
    relations = ["copy", "rewrite", "copy", "partial", "partial", "duplicate", "rejected", "partial"]
    assert metrics.allowed_accuracy(labels, relations) == 4 / 8


def test_confusion_keeps_every_row_and_column_in_order() -> None:
    table = metrics.confusion(["cut", "non", "cut"], ["copy", "rejected", "copy"],
                              rows=["cut", "light", "non"], columns=["duplicate", "copy", "rejected"])
    assert table.index.tolist() == ["cut", "light", "non"]
    assert table.columns.tolist() == ["duplicate", "copy", "rejected"]
    assert table.loc["cut", "copy"] == 2 and table.loc["non", "rejected"] == 1
    assert table.loc["light"].sum() == 0 and table["duplicate"].sum() == 0


def test_containment_is_of_the_smaller_texts_word_5grams() -> None:
    short = "one two three four five six"
    assert metrics.containment(short, "ONE two three four five six seven eight") == 1.0
    assert metrics.containment(short, "one two three four five") == 1.0  # the smaller one, 1 gram
    assert metrics.containment(short, "six five four three two one") == 0.0
    assert metrics.containment("too short", short) == 0.0


def test_near_twins_are_the_pairs_whose_containment_reaches_the_threshold() -> None:
    story = "the council voted on monday to build a second bridge across the harbour at last"
    texts = [story, story.upper() + " after ten years", "A new lede. " + story, story[:40],
             "workers at three factories walked out on thursday after talks collapsed"]
    ids = ["a", "b", "c", "d", "e"]
    expected = {pair(x, y) for i, x in enumerate(ids) for j, y in enumerate(ids)
                if i < j and metrics.containment(texts[i], texts[j]) >= 0.8}
    assert metrics.near_twins(ids, texts, 0.8) == expected
    assert pair("a", "b") in expected and pair("a", "e") not in expected


def test_jaccard_counts_word_5grams_without_case_or_punctuation() -> None:
    text = "One two three four five six"
    assert metrics.jaccard(text, "one, two; THREE four five six!") == 1.0
    assert metrics.jaccard(text, "one two three four five") == 0.5  # 1 gram shared of 2
    assert metrics.jaccard(text, "six five four three two one") == 0.0
    assert metrics.jaccard("too short", "also short") == 0.0


def test_same_label_share_is_the_share_of_pairs_inside_one_label() -> None:
    story = {"o1": "1", "r1": "1", "r1b": "1", "o2": "2", "r2": "2"}
    found = [pair("o1", "r1"), pair("r1", "r1b"), pair("o1", "r2"), pair("o2", "r2")]
    assert metrics.same_label_share(found, story) == 3 / 4
    assert math.isnan(metrics.same_label_share([], story))


def test_derangement_never_pairs_an_item_with_its_own_label_and_repeats_with_its_seed() -> None:
    labels = ["a", "a", "b", "c", "d", "e", "f", "f", "g", "h"]
    for seed in range(20):
        order = metrics.derangement(labels, seed)
        assert sorted(order) == list(range(len(labels)))
        assert all(labels[i] != labels[j] for i, j in enumerate(order))
        assert order == metrics.derangement(labels, seed)
    assert len({tuple(metrics.derangement(labels, seed)) for seed in range(20)}) > 1


def test_derangement_refuses_a_label_on_more_than_half_the_items() -> None:
    with pytest.raises(ValueError, match="no derangement"):
        metrics.derangement(["a", "a", "b"], 0)


def test_spans_overlap_needs_a_shared_character() -> None:
    assert metrics.spans_overlap((0, 10), (9, 20))
    assert not metrics.spans_overlap((0, 10), (10, 20))  # ends are exclusive
    assert metrics.spans_overlap((5, 6), (0, 100))


def test_case_is_recovered_only_by_a_passage_overlapping_both_sides() -> None:
    suspicious, source = (100, 200), (1000, 1100)
    assert metrics.case_recovered(suspicious, source, [((0, 50), (1000, 1050)), ((150, 250), (1090, 1200))])
    assert not metrics.case_recovered(suspicious, source, [((150, 250), (0, 999))])  # another source passage
    assert not metrics.case_recovered(suspicious, source, [((200, 300), (1000, 1100))])
    assert not metrics.case_recovered(suspicious, source, [])
