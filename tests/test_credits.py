"""Attribution drift: a copy that keeps a wire story but drops its agency credit or dateline, or
changes its byline, says so in facts.csv, on the pair page and in the summary."""

from __future__ import annotations

import pandas as pd
import pytest

import dedup
from dedup.credits import attribution_drift
from dedup.read import documents_table
from tests.synthetic import DEMO

AP_STORY = (DEMO / "articles" / "ap-milley-taliban_albuquerque-journal.txt").read_text(encoding="utf-8")
WIRE = AP_STORY.replace("WASHINGTON —", "WASHINGTON (AP) —")  # the story as the wire sends it
UNCREDITED = WIRE.replace("WASHINGTON (AP) — ", "")  # the same story, credit and dateline gone
assert "(AP)" in WIRE and "AP" not in UNCREDITED.split()


def _facts(source: str, copy: str, params: dedup.Params | None = None) -> pd.DataFrame:
    comparison = dedup.compare(source, copy, params, names=("wire", "copy"), dates=("2021-09-01", "2021-09-02"))
    assert comparison.relation in ("duplicate", "copy", "rewrite")
    return comparison.facts


def test_a_copy_that_drops_the_agency_credit_and_the_dateline_has_both_facts():
    facts = _facts(WIRE, UNCREDITED)
    found = dict(zip(facts.fact, facts.a_value))
    assert found["credit_dropped"] == "AP"
    assert found["dateline_dropped"] == "WASHINGTON (AP) —"
    assert (facts.doc_a == "wire").all()  # read from the source


def test_a_copy_that_keeps_the_credit_and_the_dateline_has_neither():
    copy = WIRE.replace("Milley did not elaborate", "The general did not elaborate")
    facts = _facts(WIRE, copy)
    assert not facts.fact.isin(["credit_dropped", "dateline_dropped", "byline_changed"]).any()


def test_an_agency_named_in_the_copy_is_credited_wherever_it_stands():
    facts = _facts(WIRE, UNCREDITED + "\nThe Associated Press contributed to this report.\n")
    assert "credit_dropped" not in set(facts.fact) and "dateline_dropped" in set(facts.fact)


def test_an_excerpt_owes_no_dateline():
    paragraphs = [p for p in UNCREDITED.split("\n\n") if p.strip()]
    excerpt = "\n\n".join(paragraphs[6:10])  # a third of the story
    comparison = dedup.compare(WIRE, excerpt, names=("wire", "excerpt"), dates=("2021-09-01", "2021-09-02"))
    assert comparison.relation != "rejected"
    assert not comparison.facts.fact.isin(["credit_dropped", "dateline_dropped"]).any()


def test_a_changed_byline_is_reported_with_both_names():
    copy = WIRE.replace("- BY ROBERT BURNS AND LOLITA C. BALDOR", "By Jane Roe")
    facts = _facts(WIRE, copy)
    changed = facts[facts.fact == "byline_changed"]
    assert changed[["a_value", "b_value"]].values.tolist() == [["ROBERT BURNS AND LOLITA C. BALDOR", "Jane Roe"]]
    same_people = WIRE.replace("- BY ROBERT BURNS AND LOLITA C. BALDOR", "By Robert Burns and Lolita C. Baldor")
    assert "byline_changed" not in set(_facts(WIRE, same_people).fact)


@pytest.mark.parametrize("credit, extra", [("(Pajhwok)", ()), ("(Nepal News Agency)", ("Nepal News Agency",))])
def test_a_dateline_credits_any_agency_in_brackets_and_a_scan_may_name_more(credit, extra):
    source = f"KATHMANDU {credit} — Floods cut the highway on Monday.\n\nRescuers reached the villages.\n"
    copy = "Floods cut the highway on Monday.\n\nRescuers reached the villages.\n"
    drift = attribution_drift(source, copy, extra)
    assert [fact for fact, *_ in drift] == ["credit_dropped", "dateline_dropped"]
    assert drift[0][2] in credit
    assert attribution_drift(source, source, extra) == []


def test_the_report_names_the_dropped_credit_on_the_pair_page_and_in_the_summary(tmp_path):
    documents = documents_table([{"doc_id": "wire", "text": WIRE, "date": "2021-09-01", "source": "AP"},
                                 {"doc_id": "copy", "text": UNCREDITED, "date": "2021-09-02", "source": "Site"}])
    result = dedup.scan(documents)
    assert "credit_dropped" in set(result.facts.fact)
    result.write(tmp_path)
    page = (tmp_path / "pairs" / "pair-0001.html").read_text(encoding="utf-8")
    assert "agency credit dropped" in page and "dateline dropped" in page
    summary = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert "agency credit dropped: “AP” is named nowhere in the copy" in summary
