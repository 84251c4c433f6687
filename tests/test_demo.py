"""What the demo corpus must show: the AP rewrite, the WaPo summary, and no false folds."""

from contextlib import chdir
from pathlib import Path

import pytest

import dedup
from tests.reports import assert_current

ROOT = Path(__file__).resolve().parent.parent
AP, PARAPHRASE = "004_90b2515fab799f03", "002_3514be37b1a43906"
WAPO, SUMMARY, COMMENTARY = "000_c1fd17e497765b6b", "001_7c40a52384c0c67a", "003_e3989db499272e1b"


@pytest.fixture(scope="module")
def demo() -> dedup.ScanResult:
    with chdir(ROOT):  # the same relative paths as `make demo`, which the report records
        return dedup.scan("demo/articles", metadata="demo/metadata.csv", progress=False)


def _pair(result: dedup.ScanResult, a: str, b: str):
    rows = result.pairs[((result.pairs.doc_a == a) & (result.pairs.doc_b == b))
                        | ((result.pairs.doc_a == b) & (result.pairs.doc_b == a))]
    assert len(rows) == 1, f"{a} ~ {b} is not a candidate pair"
    return rows.iloc[0]


def test_all_five_articles_are_scanned(demo):
    assert sorted(demo.documents.doc_id) == sorted([AP, PARAPHRASE, WAPO, SUMMARY, COMMENTARY])
    assert (demo.documents.status == "ok").all()


def test_ap_story_and_its_paraphrase_are_a_rewrite_found_by_lsh(demo):
    pair = _pair(demo, AP, PARAPHRASE)
    assert pair.relation == "rewrite", pair.reason
    assert pair.via in ("document", "sentence", "document+sentence")
    assert pair.order > 0.9  # sentence by sentence, in order


def test_washington_post_summary_is_partial_and_in_the_same_story(demo):
    pair = _pair(demo, WAPO, SUMMARY)
    assert pair.relation == "partial", pair.reason
    story = dict(zip(demo.clusters.doc_id, demo.clusters.story_id))
    assert story[WAPO] == story[SUMMARY]


def test_commentary_is_never_a_copy_and_does_not_chain_the_stories(demo):
    commentary = demo.pairs[(demo.pairs.doc_a == COMMENTARY) | (demo.pairs.doc_b == COMMENTARY)]
    assert not commentary.relation.isin(["duplicate", "copy", "rewrite"]).any()
    story = dict(zip(demo.clusters.doc_id, demo.clusters.story_id))
    assert story[AP] == story[PARAPHRASE]
    assert story[WAPO] != story[AP]


def test_no_two_demo_articles_share_a_duplicate_cluster(demo):
    assert demo.clusters.cluster_id.is_unique
    assert demo.clusters.canonical.all()


def test_committed_demo_report_is_current(demo, tmp_path):
    """reports/demo must be what `make demo` writes today (regenerate it with make demo)."""
    demo.write(tmp_path, parquet=False)
    assert_current(ROOT / "reports" / "demo", tmp_path)
