"""The passage alignment: what each copy kept, reworded, moved, added and dropped, and which facts drifted."""

import json
from contextlib import chdir
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dedup
import dedup.verify as verify_stage
from dedup.align import align, shares, word_diff
from dedup.candidates import find_candidates
from dedup.facts import number_drift, quotation_drift, quotations
from dedup.prepare import prepare
from dedup.read import documents_table
from dedup.relate import LINKED, relate
from dedup.segment import segment
from dedup.verify import SentenceIndex, verify
from tests.synthetic import DEMO, NEAR_COPY, STORY, TRIMMED

ROOT = Path(__file__).resolve().parent.parent
AP, PARAPHRASE = "004_90b2515fab799f03", "002_3514be37b1a43906"
WAPO, SUMMARY = "000_c1fd17e497765b6b", "001_7c40a52384c0c67a"


@pytest.fixture(scope="module")
def demo() -> dedup.ScanResult:
    with chdir(ROOT):
        return dedup.scan("demo/articles", metadata="demo/metadata.csv", progress=False)


def _of_pair(table: pd.DataFrame, a: str, b: str) -> pd.DataFrame:
    return table[(table.doc_a == a) & (table.doc_b == b)]


def _passage_with(passages: pd.DataFrame, side: str, words: str) -> pd.Series:
    hits = passages[passages[f"{side}_text"].str.contains(words, regex=False)]
    assert len(hits) == 1, f"{words!r} in {len(hits)} passages"
    return hits.iloc[0]


# The demo corpus: the AP story (004) and its paraphrase (002), which carries paragraphs the print edition cut.

def test_paraphrase_is_read_from_the_ap_print_edition(demo):
    pair = demo.pairs[(demo.pairs.doc_a == AP) & (demo.pairs.doc_b == PARAPHRASE)].iloc[0]
    assert pair.source_doc in (AP, "") and pair.direction in ("contained", "unknown")  # no dates to be sure
    assert AP in pair.direction_reason and PARAPHRASE in pair.direction_reason
    numbers = _of_pair(demo.passages, AP, PARAPHRASE).passage_no
    assert set(numbers) == set(range(len(numbers)))


def test_paragraphs_the_print_edition_cut_are_added(demo):
    passages = _of_pair(demo.passages, AP, PARAPHRASE)
    for words in ("Antony Blinken", "very pragmatic and very businesslike", "I was not going to extend"):
        passage = _passage_with(passages, "b", words)
        assert passage.kind == "added" and "boilerplate" not in passage["flags"]


def test_print_edition_furniture_is_dropped_boilerplate(demo):
    passage = _passage_with(_of_pair(demo.passages, AP, PARAPHRASE), "a", "Newspapers in English")
    assert passage.kind == "dropped" and "boilerplate" in passage["flags"]


def test_most_ap_sentences_align_with_their_paraphrase_in_order(demo):
    passages = _of_pair(demo.passages, AP, PARAPHRASE)
    editorial = passages[~passages["flags"].str.contains("boilerplate") & passages.a_start.notna()]
    reworded = editorial[editorial.kind == "reworded"]
    chars = (editorial.a_end - editorial.a_start)
    assert chars[editorial.kind == "reworded"].sum() / chars.sum() > 0.75
    assert reworded.a_start.is_monotonic_increasing and reworded.b_start.is_monotonic_increasing


def test_scores_becoming_hundreds_and_the_new_austin_quotation_are_flagged(demo):
    facts = _of_pair(demo.facts, AP, PARAPHRASE)
    numbers = facts[facts.fact == "number_changed"]
    assert ((numbers.a_value == "scores") & (numbers.b_value == "hundreds")).any()
    added = facts[facts.fact == "quote_added"]
    assert added.b_value.str.contains("largest civilian evacuation in American history").any()
    passages = _of_pair(demo.passages, AP, PARAPHRASE).set_index("passage_no")
    assert "killed scores of Afghans" in passages.a_text[numbers.passage_no.iloc[0]]
    assert "number_changed" in passages["flags"][numbers.passage_no.iloc[0]]


@pytest.mark.parametrize("quote", ["In war, you do what you must", "To ISIS-K: We are not done with you yet",
                                   "I would not make any leaps of logic to broader issues"])
def test_quotations_that_survived_are_reported_as_kept(demo, quote):
    facts = _of_pair(demo.facts, AP, PARAPHRASE)
    kept = facts[(facts.fact == "quote_kept") & facts.b_value.str.contains(quote, regex=False)]
    assert len(kept) == 1
    passage = _of_pair(demo.passages, AP, PARAPHRASE).set_index("passage_no").loc[kept.passage_no.iloc[0]]
    assert passage.kind in ("same", "reworded") and quote in passage.a_text and quote in passage.b_text


def test_summary_quotation_aligns_with_the_report(demo):
    quote = "doing with the strikes against ISIS is helping the Taliban move"
    facts = _of_pair(demo.facts, WAPO, SUMMARY)
    kept = facts[(facts.fact == "quote_kept") & facts.b_value.str.contains(quote)]
    assert len(kept) == 1
    passage = _of_pair(demo.passages, WAPO, SUMMARY).set_index("passage_no").loc[kept.passage_no.iloc[0]]
    assert passage.kind in ("same", "reworded") and quote in passage.a_text and quote in passage.b_text


def test_reader_comments_are_boilerplate_not_editorial(demo):
    passages = _of_pair(demo.passages, WAPO, SUMMARY)
    for words in ("itchyvet says", "Really ???", "Oh, Washington Post; that explains it", "Leave A Reply"):
        passage = _passage_with(passages, "a", words)
        assert passage.kind == "dropped" and "boilerplate" in passage["flags"]


def test_passage_offsets_point_into_the_original_texts(demo):
    texts = dict(zip(demo.documents.doc_id, demo.documents.text))
    for p in demo.passages.itertuples():
        for side in ("a", "b"):
            start, end = getattr(p, f"{side}_start"), getattr(p, f"{side}_end")
            if pd.notna(start):
                assert texts[getattr(p, f"doc_{side}")][start:end] == getattr(p, f"{side}_text")
            else:
                assert getattr(p, f"{side}_text") == ""


def test_every_sentence_of_both_texts_is_in_a_passage(demo):
    segments = segment(demo.documents[demo.documents.status == "ok"], dedup.Params())[0]
    for (a, b), passages in demo.passages.groupby(["doc_a", "doc_b"]):
        for side, doc in (("a", a), ("b", b)):
            spans = passages[[f"{side}_start", f"{side}_end"]].dropna().to_numpy()
            for s in segments[segments.doc_id == doc].itertuples():
                assert ((spans[:, 0] <= s.start) & (spans[:, 1] >= s.end)).any(), (doc, s.text)


# Synthetic cases: moves, trims, dates, furniture learned from repetition.

def _scan(*docs: dict) -> dedup.ScanResult:
    return dedup.scan(documents_table(docs))


def test_a_paragraph_moved_to_the_top_is_moved():
    paragraphs = STORY.split("\n\n")
    moved = "\n\n".join([paragraphs[0], paragraphs[5], *paragraphs[1:5], *paragraphs[6:]])
    result = _scan({"doc_id": "story", "text": STORY, "date": "2024-03-01"},
                   {"doc_id": "moved", "text": moved, "date": "2024-03-02"})
    passages = result.passages
    farmers = _passage_with(passages, "b", "Farmers north of the town")
    assert farmers.kind == "moved"
    assert (passages.kind == "same").sum() >= 8


def test_dates_decide_the_direction_and_a_trimmed_copy_drops_the_tail():
    result = _scan({"doc_id": "later", "text": TRIMMED, "date": "2024-03-05"},
                   {"doc_id": "wire", "text": STORY, "date": "2024-03-01"})
    pair = result.pairs.iloc[0]
    assert (pair.source_doc, pair.direction) == ("wire", "dated")
    passages = result.passages
    assert set(passages.doc_a) == {"wire"}
    tail = _passage_with(passages, "a", "sports hall on Linden Road")
    assert tail.kind == "dropped"
    assert not (passages.kind == "added").any()
    kept = shares(passages).iloc[0]
    assert 0.6 < kept.source_kept < 0.9 and kept.copy_new == 0


def test_a_changed_number_and_a_cut_quotation_in_a_copy_are_flagged():
    copy = (STORY.replace("340 volunteers", "400 volunteers")
            .replace('"one sandbag away from disaster"', '"away from disaster"'))
    result = _scan({"doc_id": "story", "text": STORY, "date": "2024-03-01"},
                   {"doc_id": "copy", "text": copy, "date": "2024-03-02"})
    facts = result.facts.set_index("fact")
    # "one sandbag" went with the cut: the quotation's number is gone too
    assert (facts.loc["number_changed", "a_value"], facts.loc["number_changed", "b_value"]) == ("340, one", "400")
    assert facts.loc["quote_cut", "b_value"] == "away from disaster"


def test_a_line_a_source_prints_under_unrelated_stories_is_furniture():
    footer = "\n\nSubscribers keep this newsroom independent: thank you for reading the Marlow Courier."
    unrelated = ("Council approves new cycle lanes on Station Road\n\nThe council voted on Monday to build "
                 "protected cycle lanes along Station Road, after a petition signed by 2,300 residents. "
                 "Work is due to begin in the spring and will take about eleven weeks to finish.")
    result = _scan({"doc_id": "wire", "text": STORY},
                   {"doc_id": "courier-flood", "text": STORY + footer, "source": "Marlow Courier"},
                   {"doc_id": "courier-lanes", "text": unrelated + footer, "source": "Marlow Courier"})
    passages = _of_pair(result.passages, *sorted({"wire", "courier-flood"}, key=lambda d: d != "wire"))
    footer_passage = _passage_with(passages, "b", "Subscribers keep this newsroom independent")
    assert footer_passage.kind == "added" and "boilerplate" in footer_passage["flags"]


# The fact helpers on their own.

def test_word_diff_marks_the_changed_words_and_keeps_the_original_spelling():
    ops = word_diff("that killed scores of Afghans.", "That killed hundreds of Afghans")
    assert ops == [("equal", "that killed", "That killed"), ("replace", "scores", "hundreds"),
                   ("equal", "of Afghans.", "of Afghans")]


def test_numbers_compare_as_multisets_ignoring_thousands_separators():
    assert number_drift("more than 124,000 people", "more than 124000 individuals") is None
    assert number_drift("two IS planners in 2021", "3 IS planners in 2021") == ("two", "3")


def test_quotations_in_any_common_quotation_marks():
    text = 'He said “we are not done”, then «nous continuons» and „wir bleiben hier“ and "one more time".'
    assert [q.norm for q in quotations(text)] == ["we are not done", "nous continuons", "wir bleiben hier",
                                                  "one more time"]


def test_words_from_the_source_newly_put_in_quotation_marks_are_quote_added():
    facts = quotation_drift("Austin called it the largest evacuation of civilians in American history.",
                            'Austin called it the "largest civilian evacuation in American history."',
                            dedup.Params())
    assert [f[0] for f in facts] == ["quote_added"]


def test_pair_page_shows_the_text_the_passages_are_read_from_on_the_left():
    from dedup.html import pair_page
    # Undated, a trimmed copy is read from the text that reappears (the trimmed one), which is doc_b here.
    result = _scan({"doc_id": "full", "text": STORY}, {"doc_id": "trimmed", "text": TRIMMED})
    pair = result.pairs.iloc[0]
    assert (pair.doc_a, pair.direction, result.passages.doc_a.iat[0]) == ("full", "unknown", "trimmed")
    documents = result.documents.set_index("doc_id", drop=False)
    page = pair_page(pair.to_dict(), documents.loc["full"].to_dict(), documents.loc["trimmed"].to_dict(),
                     result.passages, result.facts)
    assert page.index("<code>trimmed</code>") < page.index("<code>full</code>")


def test_a_rejected_record_repeating_an_id_does_not_lend_its_text_to_the_alignment(tmp_path):
    records = [{"id": "story", "text": STORY}, {"id": "copy", "text": NEAR_COPY},
               {"id": "copy", "text": "A different text under the same id, rejected as a duplicate id."}]
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    documents = dedup.read_documents([path])
    assert (documents.status == "rejected").sum() == 1
    result = dedup.scan(documents)
    shown = (result.passages.a_text + result.passages.b_text).str.cat()
    assert "Marlow Bend" in shown and "duplicate id" not in shown


@pytest.fixture(scope="module")
def demo_prepared() -> tuple:
    """The demo corpus segmented, fingerprinted and paired: (params, documents, segments, unit hashes,
    fingerprints, candidates)."""
    with chdir(ROOT):
        documents = dedup.read_documents(["demo/articles"], metadata="demo/metadata.csv")
    params = dedup.Params()
    documents, segments, unit_hashes, fp = prepare(documents, params)
    return params, documents, segments, unit_hashes, fp, find_candidates(fp, params)[0]


def test_alignment_reusing_the_verified_similarity_equals_one_computed_afresh(demo_prepared):
    params, documents, segments, unit_hashes, fp, candidates = demo_prepared
    index = SentenceIndex.build(segments, unit_hashes, params)
    evidence, _, verified = verify(candidates, segments, unit_hashes, fp, params, index=index)
    pairs = relate(candidates, evidence, params)
    related = pairs[pairs.relation.isin(LINKED)]
    assert set(verified) == set(zip(related.doc_a, related.doc_b))  # kept for the related pairs only
    reused = align(related, documents, segments, unit_hashes, params, index=index, verified=verified)
    afresh = align(related, documents, segments, unit_hashes, params)  # nothing verified: matched again
    assert "reworded" in set(afresh[1].kind)
    for table, expected in zip(reused, afresh):
        pd.testing.assert_frame_equal(table, expected)


def test_an_index_of_the_pair_documents_alone_verifies_and_aligns_as_one_of_every_document(demo_prepared):
    params, documents, segments, unit_hashes, fp, candidates = demo_prepared
    pair = candidates[candidates.doc_a.isin([WAPO, SUMMARY]) & candidates.doc_b.isin([WAPO, SUMMARY])]
    assert len(pair) == 1
    small = SentenceIndex.build(segments, unit_hashes, params, docs=[WAPO, SUMMARY])
    assert set(small.rows) == {WAPO, SUMMARY}
    assert len(small.texts) == segments.doc_id.isin([WAPO, SUMMARY]).sum() < len(segments)
    assert small.segment_rows[0] > 0  # other documents' sentences come first: the two numberings differ
    results = []
    for index in (small, SentenceIndex.build(segments, unit_hashes, params)):
        evidence, matches, verified = verify(pair, segments, unit_hashes, fp, params, index=index)
        related = relate(pair, evidence, params)
        results.append((evidence, matches, *align(related, documents, segments, unit_hashes, params, index=index,
                                                  verified=verified)))
    assert related.relation.isin(LINKED).all() and len(results[0][3]) > 0  # passages to compare
    for table, expected in zip(*results):
        pd.testing.assert_frame_equal(table, expected)


# --- long texts: bounded work per pair ----------------------------------------------


def _long_text(paragraphs: int, seed: int) -> str:
    """A long text of distinct sentences (a report of many short stories)."""
    rng = np.random.default_rng(seed)
    words = ["river", "council", "bridge", "harbour", "station", "market", "school", "hospital", "tunnel",
             "festival", "orchard", "library", "museum", "factory", "stadium", "airport", "quarry", "ferry"]
    return "\n\n".join(
        f"Report {k}: the {rng.choice(words)} near {rng.choice(words)} lane reopened after {k % 50 + 2} weeks, "
        f"said officer {k * 7 + 3}. Crews from the {rng.choice(words)} depot cleared the {rng.choice(words)} "
        f"road by noon on day {k}." for k in range(paragraphs))


def test_long_texts_compare_only_sentences_that_share_a_rare_unit(monkeypatch):
    source = _long_text(1500, 0)  # 3,000 sentences: 9 million sentence pairs with its copy
    copy = "\n\n".join(p for k, p in enumerate(source.split("\n\n")) if k % 4)
    compared = []
    real_features = verify_stage.item_features

    def counting(*args, **kwargs):
        compared.append(len(args[1]))
        return real_features(*args, **kwargs)

    monkeypatch.setattr(verify_stage, "item_features", counting)
    comparison = dedup.compare(source, copy)
    assert comparison.relation == "copy"
    assert "only where sentences share their text or a rare word" in comparison.reason
    assert comparison.scores["b_verbatim"] == pytest.approx(1.0)
    assert 0 < max(compared) < 3000 * 2250 / 100  # far fewer sentence pairs than all with all
    kinds = comparison.passages.kind.value_counts().to_dict()
    # every fourth paragraph is one passage only in the longer text, every other sentence is the same
    assert kinds == {"same": 2250, "added": 375}


@pytest.mark.parametrize("source, other", [("ap-milley-taliban_albuquerque-journal",
                                            "ap-milley-taliban_sentence-paraphrase"),
                                           ("wapo-taliban-air-support_republished-with-comments",
                                            "wapo-taliban-air-support_summary-with-quotes")])
def test_bounded_and_full_comparison_agree_on_news_of_ordinary_length(monkeypatch, source, other):
    texts = [(DEMO / "articles" / f"{name}.txt").read_text(encoding="utf-8") for name in (source, other)]
    full = dedup.compare(*texts)
    monkeypatch.setattr(verify_stage, "DENSE_CELLS", 10)  # the bounded path, on texts it would compare whole
    bounded = dedup.compare(*texts)
    assert "rare word" in bounded.reason and "rare word" not in full.reason
    assert bounded.scores.pop("bounded") and not full.scores.pop("bounded")
    assert (bounded.relation, bounded.scores) == (full.relation, full.scores)
    pd.testing.assert_frame_equal(bounded.passages, full.passages)


def test_the_direction_of_two_identical_texts_is_unknown_and_says_why():
    result = _scan({"doc_id": "first", "text": STORY}, {"doc_id": "second", "text": STORY + "\n"})
    pair = result.pairs.iloc[0]
    assert (pair.direction, pair.source_doc) == ("unknown", "")
    assert "the two texts are the same" in pair.direction_reason
    assert "follows" not in pair.direction_reason  # there is no extra text to follow anything
