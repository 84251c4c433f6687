"""Unit tests of bench/metrics.py on tiny hand-made inputs (no benchmark data needed)."""

from __future__ import annotations

import math
import sys
from pathlib import Path

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
