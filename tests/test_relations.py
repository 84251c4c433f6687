"""Relations and clusters on synthetic cases written for the tests."""

import pandas as pd
import pytest

import dedup
from dedup.cluster import group
from dedup.confidence import probability
from dedup.read import documents_table
from tests.synthetic import NEAR_COPY, SAME_TOPIC, STORY, TRIMMED


def _corpus(**texts: str) -> pd.DataFrame:
    return documents_table({"doc_id": name, "text": text} for name, text in texts.items())


def _relation(result: dedup.ScanResult, a: str, b: str) -> str:
    pairs = result.pairs
    hit = pairs[((pairs.doc_a == a) & (pairs.doc_b == b)) | ((pairs.doc_a == b) & (pairs.doc_b == a))]
    return hit.relation.iloc[0] if len(hit) else "not a candidate"


@pytest.fixture(scope="module")
def result() -> dedup.ScanResult:
    return dedup.scan(_corpus(story=STORY, exact=STORY, near=NEAR_COPY, trimmed=TRIMMED, other=SAME_TOPIC))


def test_exact_and_near_exact_copies_are_duplicates(result):
    assert _relation(result, "story", "exact") == "duplicate"
    assert _relation(result, "story", "near") == "duplicate"


def test_copy_with_paragraphs_dropped_is_copy(result):
    assert _relation(result, "story", "trimmed") == "copy"


def test_independent_text_on_the_same_topic_is_not_related(result):
    for doc in ("story", "near", "trimmed"):
        assert _relation(result, doc, "other") in ("rejected", "not a candidate")


def test_copies_collapse_into_one_cluster_that_keeps_one(result):
    clusters = result.clusters.set_index("doc_id")
    members = ["story", "exact", "near", "trimmed"]
    assert clusters.loc[members, "cluster_id"].nunique() == 1
    assert clusters.loc["other", "cluster_id"] != clusters.loc["story", "cluster_id"]
    assert clusters.loc[members, "canonical"].sum() == 1
    # No dates: the most complete copy is kept, and the reason says so.
    kept = clusters.loc[members][clusters.loc[members, "canonical"]]
    assert kept.index[0] in ("story", "exact")
    assert "most complete" in kept.keep_reason.iloc[0]


def test_keep_policy_prefers_the_earliest_date():
    corpus = _corpus(story=STORY, trimmed=TRIMMED)
    corpus["date"] = ["2024-03-02", "2024-03-01"]
    clusters = dedup.scan(corpus).clusters.set_index("doc_id")
    assert clusters.loc["trimmed", "canonical"]
    assert "earliest date 2024-03-01" in clusters.loc["trimmed", "keep_reason"]
    assert clusters.loc["story", "keep_reason"] == "folds into trimmed"


def test_keep_policy_prefers_a_named_source():
    corpus = _corpus(story=STORY, near=NEAR_COPY)
    corpus["source"] = ["Daily Planet", "Wire Service"]
    params = dedup.Params(keep="sources", preferred_sources=("Wire Service",))
    clusters = dedup.scan(corpus, params).clusters.set_index("doc_id")
    assert clusters.loc["near", "canonical"] and not clusters.loc["story", "canonical"]


def test_one_loosely_related_text_does_not_chain_two_stories():
    # A column quoting two sentences of each of two unrelated stories.
    flood_a, flood_b = STORY.split("\n\n")[3], STORY.split("\n\n")[4]
    other_story = SAME_TOPIC.replace("Marlow Bend", "Kessington").replace("flood", "fire")
    other_a, other_b = other_story.split("\n\n")[2], other_story.split("\n\n")[3]
    column = "\n\n".join(["A week of bad news, in quotes.", flood_a, flood_b, other_a, other_b,
                          "Both towns deserve better than this, and both will need help for years."])
    result = dedup.scan(_corpus(story=STORY, copy=TRIMMED, other=other_story,
                                   other_copy=other_story.replace("Opinion by Peter Lang\n\n", ""),
                                   column=column))
    story = result.clusters.set_index("doc_id").story_id
    assert story["story"] == story["copy"]
    assert story["other"] == story["other_copy"]
    assert story["story"] != story["other"]


def test_compare_explains_a_pair():
    comparison = dedup.compare(STORY, TRIMMED)
    assert comparison.relation == "copy"
    assert comparison.scores["contained_b_in_a"] > 0.9 > comparison.scores["contained_a_in_b"]
    assert "nearly verbatim" in comparison.reason


def test_compare_judges_texts_too_short_to_fingerprint():
    # MSRP 1st pair: one sentence each, reordered and reworded; a scan could never pair them
    # (under min_sentence_units), but compare must still tell a paraphrase from another story.
    sentence = "Amrozi accused his brother, whom he called the witness, of deliberately distorting his evidence."
    paraphrase = ("Referring to him as only the witness, Amrozi accused his brother of deliberately distorting "
                  "his evidence.")
    assert dedup.compare(sentence, paraphrase).relation in ("duplicate", "copy", "rewrite")
    assert dedup.compare(sentence, "Markets fell in Tokyo.").relation == "rejected"
    with pytest.raises(ValueError, match="text B: no words to compare"):
        dedup.compare(STORY, " -- ")


def test_a_scan_finds_exact_copies_of_a_headline_and_accounts_for_a_word():
    """A record of a headline's length has one document shingle: too little for the sentence
    path, enough for its copies to collide. A record without a shingle is rejected, with why."""
    result = dedup.scan(_corpus(story=STORY, wire="Markets fell in Tokyo.", site="Markets fell in Tokyo.",
                                   other="Shares rose in London.", word="Yes."))
    assert _relation(result, "wire", "site") == "duplicate"
    clusters = result.clusters.set_index("doc_id").cluster_id
    assert clusters["wire"] == clusters["site"] != clusters["other"]
    status = result.documents.set_index("doc_id")
    assert status.status["word"] == "rejected" and "too short to fingerprint" in status.reason["word"]
    assert (status.status.drop("word") == "ok").all()


def test_parameters_that_cannot_work_fail_before_any_work():
    with pytest.raises(ValueError, match="cannot be banded"):
        dedup.Params(num_perm=16, doc_threshold=0.9)
    with pytest.raises(ValueError, match="between 0 and 1"):
        dedup.Params(reworded=1.5)
    with pytest.raises(ValueError, match="needs preferred_sources"):
        dedup.Params(keep="sources")


NOTICE = ("The board of {company} approved a quarterly dividend of {cents} cents a share, to be paid on "
          "{paid} to holders of record {record}.")


def test_one_sentence_notices_of_one_template_with_other_figures_are_not_linked():
    """Wire dividend notices are one sentence from one template: with other companies and other
    figures they share the frame, not a story, however short. No sentence count decides it."""
    first = NOTICE.format(company="Walter Industries", cents=15, paid="June 1", record="March 2")
    other = NOTICE.format(company="Loral Systems", cents=20, paid="June 15", record="March 20")
    refiled = first.replace("The board of", "On Tuesday the board of")
    assert dedup.compare(first, other).relation == "rejected"
    assert "template" in dedup.compare(first, other).reason
    assert dedup.compare(first, refiled).relation in ("duplicate", "copy")


FORMULA = ("{name} said its board declared a regular quarterly dividend of ten cents a share, to be paid next "
           "month to holders of record.")


def test_two_notices_of_one_formula_sharing_no_rare_word_are_not_derived():
    """Wire notices print one formula of common words, the company named only in the headline:
    nothing in two such bodies shows that one was made from the other. A shared name does."""
    first = FORMULA.format(name="The company")
    other = "Its board declared a regular quarterly dividend of ten cents per share, the company said, to be " \
            "paid next month to holders of record."
    unrelated = dedup.compare(first, other)
    assert unrelated.relation == "rejected" and "no rare word shared" in unrelated.reason, unrelated.reason
    named = dedup.compare(FORMULA.format(name="Xylogics"), other.replace("the company said", "Xylogics said"))
    assert named.relation in ("rewrite", "copy", "duplicate"), named.reason


def test_one_template_filled_with_other_figures_is_not_a_copy_but_a_refiling_is():
    template = ("{name} said on Monday it would issue a {amount} million dollar eurobond due {year}.\n\n"
                "The bond pays {coupon} percent and is priced at {price}.\n\n"
                "Fees total {fees} percent, and listing will be in Luxembourg, the lead manager said.")
    first = template.format(name="Pirelli Finance", amount=50, year=1992, coupon=9.5, price=101.25, fees=1.875)
    other = template.format(name="City of Bergen", amount=80, year=1994, coupon=8.75, price=100.5, fees=1.5)
    refiled = first.replace("on Monday", "on Monday in London")
    assert dedup.compare(first, other).relation == "rejected"
    assert "template" in dedup.compare(first, other).reason
    assert dedup.compare(first, refiled).relation in ("duplicate", "copy")


def _linked(*links: tuple[str, str, float]) -> pd.DataFrame:
    """A pairs table of partial relations, each text sharing the given share with the other."""
    return pd.DataFrame([{"doc_a": a, "doc_b": b, "relation": "partial", "a_verbatim": share, "a_near": 0.0,
                          "a_reworded": 0.0, "b_verbatim": share, "b_near": 0.0, "b_reworded": 0.0,
                          "a_aligned": share, "b_aligned": share, "figures_changed": 0} for a, b, share in links])


@pytest.mark.parametrize("extra", [[], [("c", "d", 0.9), ("d", "e", 0.9), ("c", "e", 0.9)]])
def test_two_texts_share_a_story_when_their_link_reaches_the_cut(extra):
    cut = dedup.Params().story_link
    documents = _corpus(**{name: STORY for name in "abcdexy"})
    clusters, _ = group(documents, _linked(("a", "b", cut), ("x", "y", cut - 0.01), *extra),
                       dedup.Params())
    story = clusters.set_index("doc_id").story_id
    assert story["a"] == story["b"]
    assert story["x"] != story["y"]
    assert story["c"] == story["d"] == story["e"] if extra else story["c"] != story["d"]


def test_whole_texts_matched_in_three_kinds_group_into_one_story():
    """Shares of one text's characters at three levels can sum to a hair over 1 in floating
    point (9/28 + 18/28 + 1/28); a story of three such texts failed in scipy's linkage with
    "negative distances" (seen in a 1M-document scan)."""
    documents = _corpus(**{name: STORY for name in "abc"})
    shares = {"verbatim": 9 / 28, "near": 18 / 28, "reworded": 1 / 28}
    whole = {"relation": "rewrite", "figures_changed": 0, "a_aligned": 1.0, "b_aligned": 1.0,
             **{f"{side}_{level}": share for side in "ab" for level, share in shares.items()}}
    pairs = pd.DataFrame([{"doc_a": a, "doc_b": b, **whole} for a, b in ("ab", "bc", "ac")])
    assert (pairs.a_verbatim + pairs.a_near + pairs.a_reworded > 1).all()  # the premise: the sum overshoots
    clusters, groups = group(documents, pairs, dedup.Params())
    assert clusters.story_id.nunique() == 1
    assert groups[groups.kind == "story"].weakest_strength.max() <= 1.0


# --- copies that change a figure, and templates -------------------------------------

INFLATED = STORY.replace("340 volunteers", "3,400 volunteers")
THREE_CHANGED = (STORY.replace("340 volunteers", "430 volunteers").replace("58 homes", "85 homes")
                 .replace("19 million euros", "91 million euros"))


def _copies(**texts: str) -> dedup.ScanResult:
    return dedup.scan(_corpus(**texts))


def _pair(result: dedup.ScanResult, a: str, b: str) -> pd.Series:
    pairs = result.pairs
    return pairs[((pairs.doc_a == a) & (pairs.doc_b == b)) | ((pairs.doc_a == b) & (pairs.doc_b == a))].iloc[0]


@pytest.mark.parametrize("copy", [INFLATED, THREE_CHANGED], ids=["one figure inflated", "three figures changed"])
def test_a_copy_that_changes_figures_is_flagged_and_kept_out_of_the_fold(copy):
    result = _copies(story=STORY, copy=copy)
    pair = _pair(result, "story", "copy")
    assert pair.relation == "duplicate"
    assert "figures differ" in pair.reason and "not folded" in pair.reason
    facts = result.facts[result.facts.fact == "number_changed"]
    assert len(facts) == (1 if copy is INFLATED else 3)
    if copy is INFLATED:
        assert (facts.a_value.iloc[0], facts.b_value.iloc[0]) == ("340", "3400")
    clusters = result.clusters.set_index("doc_id")
    assert clusters.loc["story", "cluster_id"] != clusters.loc["copy", "cluster_id"]  # not folded silently
    assert clusters.loc["story", "story_id"] == clusters.loc["copy", "story_id"]  # but the same story


def test_copies_differing_only_in_publish_stamps_and_footers_fold():
    texts = {f"site{i}": f"Published: 2021-09-0{i + 1} 10:4{i}\n\n{STORY}\nPublished by site {i + 17}"
             for i in range(6)}
    result = _copies(**texts)
    assert set(result.pairs.relation) == {"duplicate"}
    assert result.clusters.cluster_id.nunique() == 1
    assert not (result.facts.fact == "number_changed").any()


JAPANESE = ("東京都は三日、大雨による河川の氾濫で３４０世帯が避難したと発表した。"
            "気象庁によると、雨は今夜まで降り続く見込みだという。"
            "市内の小学校など十二か所に避難所が開設され、住民が身を寄せている。"
            "鉄道各社は一部の路線で運転を見合わせており、復旧の見通しは立っていない。"
            "知事は記者会見で、住民に対して引き続き警戒するよう呼びかけた。")
ARABIC = ("أعلنت السلطات المحلية يوم الثلاثاء أن الفيضانات أجبرت 340 عائلة على مغادرة منازلها. "
          "وقال المتحدث باسم الدفاع المدني إن فرق الإنقاذ تعمل منذ الصباح الباكر في الأحياء الشرقية. "
          "وأضاف أن المدارس ستبقى مغلقة حتى نهاية الأسبوع بسبب الأمطار الغزيرة. "
          "وتتوقع الأرصاد الجوية أن تستمر العاصفة حتى مساء الخميس المقبل. "
          "ودعت البلدية السكان إلى تجنب القيادة في الطرق المغمورة بالمياه.")
HEBREW = ("הרשויות המקומיות הודיעו ביום שלישי כי השיטפונות אילצו 340 משפחות לעזוב את בתיהן. "
          "דובר כוחות ההצלה אמר כי הצוותים פועלים מאז שעות הבוקר המוקדמות בשכונות המזרחיות. "
          "לדבריו בתי הספר יישארו סגורים עד סוף השבוע בגלל הגשמים העזים. "
          "החזאים צופים כי הסערה תימשך עד מוצאי יום חמישי הקרוב. "
          "העירייה קראה לתושבים להימנע מנסיעה בכבישים המוצפים.")


@pytest.mark.parametrize("text", [JAPANESE, ARABIC, HEBREW], ids=["Japanese", "Arabic", "Hebrew"])
def test_a_copy_in_another_script_with_one_changed_number_is_a_copy(text):
    changed = text.replace("３４０", "３４００").replace("340", "3400")
    assert changed != text
    comparison = dedup.compare(text, changed)
    assert comparison.relation in ("duplicate", "copy")
    assert (comparison.facts.fact == "number_changed").sum() == 1


DIVIDEND = ("Qtly div {0} cts vs {1} cts prior.\n\nPay {2} April.\n\nRecord {3} March.\n\n"
            "The board declared the regular payout.")
BOND = ("{0} is issuing a {1} mln dlr eurobond due {2} paying {3} pct and priced at {4} pct, lead manager {5} said. "
        "The non-callable bond is available in denominations of {6} dlrs and will be listed in Luxembourg. "
        "The selling concession is {7} pct, while management and underwriting combined pays {8} pct.")


def test_one_template_filled_with_other_facts_is_rejected():
    result = _copies(a=DIVIDEND.format(12, 12, 15, 1), b=DIVIDEND.format(30, 28, 20, 6),
                     c=BOND.format("Nederlandse Gasunie", 100, 1992, "7-1/4", "101-1/8", "Citicorp", "5,000",
                                   "1-1/4", "5/8"),
                     d=BOND.format("Credit Foncier", 150, 1994, "7-5/8", "101-5/8", "Paribas", "1,000", "1-3/8",
                                   "3/8"))
    for a, b in (("a", "b"), ("c", "d")):
        pair = _pair(result, a, b)
        assert pair.relation == "rejected" and pair.reason.startswith("one template with other facts")


def test_the_summary_lists_copies_whose_figures_differ():
    from dedup.report import summary

    result = _copies(story=STORY, copy=INFLATED)
    text = summary(result)
    section = text[text.index("## Copies whose figures differ"):]
    assert "340 → 3400" in section.split("\n## ")[0]


def test_more_shared_evidence_never_makes_a_pair_less_likely_derived():
    # A whole-story rewrite shares its information both ways; a summary only one way. The
    # rewrite, holding the summary's evidence and more, must not be judged less derived.
    summary = {"a_information": 0.3, "b_information": 0.8, "a_verbatim": 0.0, "a_near": 0.0, "a_reworded": 0.2,
               "b_verbatim": 0.0, "b_near": 0.0, "b_reworded": 0.6, "order": 1.0, "anchor_order": 1.0,
               "anchors": 6, "a_aligned": 0.3, "b_aligned": 0.8, "longest_run": 0}
    base = float(probability(summary)[0])
    for column in summary:
        raised = {**summary, column: summary[column] + (5 if column in ("anchors", "longest_run") else 0.2)}
        assert float(probability(raised)[0]) >= base, column
    rewrite = {**summary, "a_information": 0.8, "a_reworded": 0.6, "a_aligned": 0.8}
    assert float(probability(rewrite)[0]) >= base
