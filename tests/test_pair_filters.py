"""The pair filters: a source's own republications and texts dated far apart are not compared
when asked, in both local engines and from the command line, and the manifest counts what
each filter removed."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import dedup
from dedup.cli import app
from tests.synthetic import NEAR_COPY, STORY, TRIMMED

pytest.importorskip("pyarrow")

# One story: the wire's text and its own republication, a copy the next day, one two months
# later, and one without a date.
RECORDS = [
    {"id": "wire", "text": STORY, "source": "Wire", "date": "2024-03-01"},
    {"id": "wire-again", "text": NEAR_COPY, "source": "Wire", "date": "2024-03-01"},
    {"id": "site", "text": TRIMMED, "source": "Site", "date": "2024-03-02"},
    {"id": "late", "text": NEAR_COPY, "source": "Late", "date": "2024-05-01"},
    {"id": "undated", "text": TRIMMED, "source": "Undated", "date": ""},
]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("filters") / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(record) for record in RECORDS) + "\n", encoding="utf-8")
    return str(path)


def _pairs(result: dedup.ScanResult) -> set[frozenset[str]]:
    return {frozenset(pair) for pair in zip(result.pairs.doc_a, result.pairs.doc_b)}


@pytest.fixture(scope="module")
def unfiltered(corpus) -> dedup.ScanResult:
    result = dedup.scan(corpus)
    assert len(_pairs(result)) == 10  # every two of the five are candidates
    assert result.manifest["counts"]["candidates_skipped"] == {"same_source": 0, "days_apart": 0}
    return result


def test_skip_same_source_leaves_out_a_sources_own_republication_only(corpus, unfiltered):
    result = dedup.scan(corpus, dedup.Params(skip_same_source=True))
    assert _pairs(result) == _pairs(unfiltered) - {frozenset(("wire", "wire-again"))}
    assert result.manifest["counts"]["candidates_skipped"] == {"same_source": 1, "days_apart": 0}
    assert result.manifest["counts"]["candidates"] == 9


def test_within_days_leaves_out_texts_dated_too_far_apart_and_keeps_undated_ones(corpus, unfiltered):
    result = dedup.scan(corpus, dedup.Params(within_days=7))
    far = {frozenset(("late", other)) for other in ("wire", "wire-again", "site")}
    assert _pairs(result) == _pairs(unfiltered) - far
    assert frozenset(("late", "undated")) in _pairs(result)
    assert result.manifest["counts"]["candidates_skipped"] == {"same_source": 0, "days_apart": 3}
    assert _pairs(dedup.scan(corpus, dedup.Params(within_days=61))) == _pairs(unfiltered)


def test_the_api_and_the_command_line_filter_alike(corpus, tmp_path):
    params = dedup.Params(skip_same_source=True, within_days=7)
    dedup.scan(corpus, params, out=tmp_path / "memory", tables_only=True)
    run = CliRunner().invoke(app, ["scan", corpus, "--out", str(tmp_path / "cli"), "--skip-same-source",
                                   "--within-days", "7"])
    assert run.exit_code == 0, run.output
    assert "4 candidate pairs not verified, by the pair filters: 1 of one source, 3 dated too far apart." in run.output
    assert (tmp_path / "cli" / "pairs.csv").read_bytes() == (tmp_path / "memory" / "pairs.csv").read_bytes()
    assert "by the pair filters" in (tmp_path / "cli" / "summary.md").read_text(encoding="utf-8")


def test_filters_are_checked_and_the_spark_engine_refuses_them_before_starting(corpus, tmp_path):
    with pytest.raises(ValueError, match="within_days must be a whole number of days"):
        dedup.Params(within_days=-1)
    run = CliRunner().invoke(app, ["scan", corpus, "--out", str(tmp_path / "spark"), "--engine", "spark",
                                   "--skip-same-source"])
    assert run.exit_code == 2 and "not on the Spark engine yet" in run.output
    assert not (tmp_path / "spark").exists()
