"""The outlets table: on a corpus with known copying, who takes from whom, how much of each
outlet's text is its own, and how fast copies follow; written as outlets.csv and shown in the
report's sources section."""

from __future__ import annotations

import random

import pandas as pd
import pytest

import dedup
from dedup.outlets import outlets
from dedup.read import documents_table
from tests.synthetic import NEAR_COPY, STORY, TRIMMED, _cipher

WORDS = [_cipher(random.Random(seed)) for seed in range(3)]  # three stories with no word in common


@pytest.fixture(scope="module")
def result() -> dedup.ScanResult:
    """Wire writes three stories on 1 March; Daily copies two of them the next day, republishes
    its own copy and writes one story of its own; Weekly copies one a week later; Blog writes
    one story of its own."""
    story = [encipher(STORY) for encipher in WORDS]
    trimmed = [encipher(TRIMMED) for encipher in WORDS]
    near = [encipher(NEAR_COPY) for encipher in WORDS]
    own = [_cipher(random.Random(seed))(STORY) for seed in (98, 99)]
    return dedup.scan(documents_table([
        *({"doc_id": f"wire-{k}", "text": story[k], "source": "Wire", "date": "2024-03-01"} for k in range(3)),
        {"doc_id": "daily-0", "text": trimmed[0], "source": "Daily", "date": "2024-03-02"},
        {"doc_id": "daily-1", "text": near[1], "source": "Daily", "date": "2024-03-02"},
        {"doc_id": "daily-1-again", "text": near[1], "source": "Daily", "date": "2024-03-03"},
        {"doc_id": "weekly-2", "text": trimmed[2], "source": "Weekly", "date": "2024-03-08"},
        {"doc_id": "daily-own", "text": own[0], "source": "Daily", "date": "2024-03-04"},
        {"doc_id": "blog", "text": own[1], "source": "Blog", "date": "2024-03-05"},
    ]))


def _row(table: pd.DataFrame, source: str) -> dict:
    return table.set_index("source").loc[source].to_dict()


def test_outlets_say_who_takes_from_whom_and_how_much_is_their_own(result):
    table = outlets(result.documents, result.pairs)
    assert list(table.source) == ["Daily", "Wire", "Blog", "Weekly"]  # most documents first
    wire, daily, weekly, blog = (_row(table, name) for name in ("Wire", "Daily", "Weekly", "Blog"))
    assert wire["originality"] == 1.0 and wire["copies"] == 0 and wire["takes_from"] == ""
    assert wire["gives_to"] == "Daily (3); Weekly (1)"  # Daily's two copies of story 1 count apart
    assert daily["takes_from"] == "Wire (3)" and daily["copies"] == 3  # its republication is no own text either
    assert daily["originality"] == 0.25 and weekly["originality"] == 0.0  # copies reappear whole in the wire's
    assert blog["originality"] == 1.0 and blog["takes_from"] == blog["gives_to"] == ""
    assert wire["median_delay_days"] == 1.5  # copies after 1, 1, 2 and 7 days
    assert pd.isna(daily["median_delay_days"])  # nobody took from Daily across sources


def test_the_report_writes_outlets_csv_and_shows_them_with_the_sources(result, tmp_path):
    result.write(tmp_path)
    written = pd.read_csv(tmp_path / "outlets.csv", keep_default_na=False)
    assert list(written.source) == ["Daily", "Wire", "Blog", "Weekly"]
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "Daily (3); Weekly (1)" in index and "1.5 d" in index and "copied most by" in index
