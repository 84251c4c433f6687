"""A story syndicated to a thousand outlets: large LSH buckets still give its copies."""

import json
import random

import pytest

import dedup
from tests import synthetic

COPIES, CORPUS = 1000, 5000


def _syndicated(rng: random.Random) -> list[str]:
    """COPIES copies of synthetic.STORY: a third verbatim, a third trimmed by one or two
    paragraphs, a third with a lede of its outlet's own."""
    paragraphs = synthetic.STORY.strip().split("\n\n")
    copies = []
    for number in range(COPIES):
        kind = number % 3
        if kind == 0:
            copies.append(synthetic.STORY)
        elif kind == 1:
            copies.append("\n\n".join(paragraphs[:-rng.choice((1, 2))]))
        else:
            lede = (f"Outlet {number} reports from the riverside, where residents waited through "
                    f"night number {number} for news of the barriers.")
            copies.append("\n\n".join([paragraphs[0], lede, *paragraphs[1:]]))
    return copies


@pytest.fixture(scope="module")
def result() -> dedup.ScanResult:
    rng = random.Random(3)
    others = synthetic.syndication_corpus(CORPUS - COPIES)  # other stories, in other (enciphered) words
    texts = [*_syndicated(rng), *others.text]
    rng.shuffle(texts)
    corpus = dedup.documents_table({"doc_id": f"doc-{i:04d}", "text": text} for i, text in enumerate(texts))
    return dedup.scan(corpus)


def test_a_story_on_a_thousand_sites_forms_one_duplicate_cluster(result):
    documents = result.documents.set_index("doc_id")
    clusters = result.clusters.set_index("doc_id")
    copies = [doc for doc, text in documents.text.items() if "Marlow Bend" in text and "Whitfield" in text]
    assert len(copies) == COPIES
    cluster = clusters.loc[copies, "cluster_id"]
    assert cluster.nunique() == 1
    members = clusters.index[clusters.cluster_id == cluster.iloc[0]]
    assert sorted(members) == sorted(copies)  # and nothing else
    assert clusters.loc[copies, "story_id"].nunique() == 1
    assert clusters.loc[copies, "canonical"].sum() == 1


def test_the_work_grows_with_the_copies_and_the_caps_are_reported(result):
    texts = result.documents.set_index("doc_id").text
    copies = texts[texts.str.contains("Whitfield")]
    pairs = result.pairs[result.pairs.doc_a.isin(copies.index) & result.pairs.doc_b.isin(copies.index)]
    # Each copy meets the first items of the buckets it is in, a few per band and path: linear,
    # where all with all would be 499,500 pairs.
    params = dedup.Params()
    assert len(pairs) < COPIES * 2 * params.bucket_representatives * result.manifest["lsh"]["document"]["bands"]
    assert set(pairs.relation) <= {"duplicate", "copy"}
    assert result.manifest["lsh"]["document"]["capped_buckets"] > 0
    assert result.manifest["lsh"]["sentence"]["capped_buckets"] > 0


def test_capped_buckets_are_reported_in_the_terminal_the_summary_and_the_html(tmp_path):
    from typer.testing import CliRunner

    from dedup.cli import app

    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("\n".join(json.dumps({"id": f"site-{i}", "text": synthetic.STORY + f"\n\n(Site {i})"})
                                for i in range(4)) + "\n", encoding="utf-8")
    result = dedup.scan(corpus, dedup.Params(max_bucket=2), out=tmp_path / "report")
    note = "held more than 2 items"
    assert note in (tmp_path / "report" / "summary.md").read_text(encoding="utf-8")
    assert note in (tmp_path / "report" / "index.html").read_text(encoding="utf-8")
    assert result.clusters.cluster_id.nunique() == 1
    run = CliRunner().invoke(app, ["scan", str(corpus), "--out", str(tmp_path / "cli"), "--tables-only",
                                   "--max-bucket", "2"])
    assert run.exit_code == 0, run.output
    assert note in run.output
