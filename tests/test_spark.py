"""The Spark engine (dedup.spark) gives the local engine's tables, row for row.

One local[2] SparkSession for the module (a JVM takes ~10 s to start) and one
scan of a ~2,500-document corpus built here: enciphered copies of the demo
articles and of tests/synthetic.py, each family of related texts (duplicates,
copies, trimmed, reordered, with a lede inserted, excerpts, a paraphrase)
enciphered with its own random letter permutation so families share no words,
and unrelated texts enciphered the same way. Read from a Parquet file and a
JSONL file (by Spark) and the demo folder with its metadata (on the driver).
"""

from __future__ import annotations

import filecmp
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest

pytest.importorskip("pyspark")
pytest.importorskip("pyarrow")
if shutil.which("java") is None:
    pytest.skip("Spark needs java on PATH", allow_module_level=True)

import dedup  # noqa: E402
from dedup import report, spark  # noqa: E402
from dedup.candidates import CANDIDATE_COLUMNS  # noqa: E402
from dedup.prepare import prepare  # noqa: E402
from dedup.read import InputError  # noqa: E402
from dedup.verify import EVIDENCE_COLUMNS  # noqa: E402
from dedup.weights import DocumentFrequencies  # noqa: E402
from tests import synthetic  # noqa: E402

# pyspark 4 with pandas 3 warns on every conversion; nothing here depends on what it warns about.
pytestmark = [pytest.mark.filterwarnings("ignore:PySpark does not yet fully support pandas"),
              pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")]

DEMO = synthetic.DEMO
PARAMS = dedup.Params(max_bucket=30)  # small enough that repeated site lines overflow their buckets
DOCUMENTS = 2500
TABLES = report.TABLES


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("spark-corpus")
    corpus = synthetic.syndication_corpus(DOCUMENTS - 5)
    corpus.to_parquet(folder / "corpus.parquet", index=False)
    (folder / "extra.jsonl").write_text("\n".join(synthetic.bad_records(corpus)) + "\n", encoding="utf-8")
    return [str(DEMO / "articles"), str(folder / "corpus.parquet"), str(folder / "extra.jsonl")]


@pytest.fixture(scope="module")
def session():
    spark_session = spark.session("local[2]", {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4"})
    yield spark_session
    spark_session.stop()


@pytest.fixture(scope="module")
def local(inputs) -> dedup.ScanResult:
    return dedup.scan(inputs, PARAMS, metadata=DEMO / "metadata.csv")


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("spark-out")


@pytest.fixture(scope="module")
def distributed(inputs, session, out) -> dedup.ScanResult:
    return spark.scan(inputs, PARAMS, metadata=DEMO / "metadata.csv", spark=session, out=out)


def test_the_corpus_holds_every_kind_of_relation_direction_and_rejection(local):
    assert local.manifest["counts"]["records"] == DOCUMENTS + 8
    assert set(local.pairs.relation) == {"duplicate", "copy", "rewrite", "partial", "rejected"}
    assert {"dated", "contained", "unknown"} <= set(local.pairs.direction)
    assert local.passages["flags"].str.contains("boilerplate").any()
    assert local.manifest["lsh"]["sentence"]["capped_buckets"] > 0
    reasons = " | ".join(local.documents.reason)
    for reason in ("empty text", "invalid JSON", "not a JSON object", "not a string", "duplicate id",
                   "too short to fingerprint"):
        assert reason in reasons
    assert (local.groups.kind == "duplicate_cluster").sum() > 50 and (local.groups.kind == "story").sum() > 50


@pytest.fixture(scope="module")
def two_jobs(inputs) -> dedup.ScanResult:
    return dedup.scan(inputs, PARAMS, metadata=DEMO / "metadata.csv", jobs=2)


@pytest.mark.parametrize("name", TABLES)
def test_spark_gives_the_local_tables_row_for_row(local, distributed, name):
    pd.testing.assert_frame_equal(getattr(distributed, name), getattr(local, name))


@pytest.mark.parametrize("name", TABLES)
def test_one_job_two_jobs_and_spark_write_each_table_byte_for_byte_alike(local, two_jobs, distributed, name):
    for other in (two_jobs, distributed):
        assert filecmp.cmp(other.out / f"{name}.csv", local.out / f"{name}.csv", shallow=False), other.out
        pd.testing.assert_frame_equal(other.table(name), local.table(name))  # Parquet: row groups may differ


def test_spark_gives_the_local_manifest_and_result_type(local, distributed):
    assert distributed.manifest == local.manifest
    assert type(distributed) is type(local)
    assert distributed.timings["engine"] == "spark" and set(distributed.timings["seconds"]) >= {"verify", "group"}


def test_spark_writes_a_parquet_folder_per_table_and_the_manifest(local, distributed, out):
    for name in report.TABLES:
        written = pd.read_parquet(out / name)
        expected = report._table_for_disk(name, getattr(local, name))
        pd.testing.assert_frame_equal(written, expected, check_dtype=False)
    assert json.loads((out / "manifest.json").read_text()) == json.loads(json.dumps(local.manifest))


def test_verification_of_a_pair_does_not_depend_on_the_other_documents_of_its_batch(local):
    """Batches of one pair give the rows the whole corpus gave (what lets Spark cut the work anywhere),
    given the corpus's word frequencies as the scan broadcasts them."""
    frequencies = SimpleNamespace(value=DocumentFrequencies.of(prepare(local.documents, PARAMS)[1]).common())
    documents = local.documents.set_index("doc_id")
    position = {doc: i for i, doc in enumerate(local.documents.doc_id)}
    for row in local.pairs.groupby("relation").head(2).itertuples():
        fields = {f"{side}_doc_{c}": (getattr(row, f"doc_{side}") if c == "doc_id" else
                                      documents.loc[getattr(row, f"doc_{side}"), c])
                  for side in ("a", "b") for c in spark._DOC_FIELDS}
        batch = pd.DataFrame([{"a_idx": position[row.doc_a], "b_idx": position[row.doc_b],
                               **{c: getattr(row, c) for c in CANDIDATE_COLUMNS}, **fields}])
        packed = pd.concat(spark._verify_batches(iter([batch]), PARAMS, frequencies))
        pair = packed[packed._table == "pairs"]
        for column in EVIDENCE_COLUMNS + ["relation", "reason"]:
            value = pair[f"pairs__{column}"].iloc[0]  # the stored tables' figures are rounded
            assert (round(value, report.FLOAT_DIGITS) if isinstance(value, float) else value) == getattr(row, column)
        matches = packed[packed._table == "matches"]
        expected = local.matches[(local.matches.doc_a == row.doc_a) & (local.matches.doc_b == row.doc_b)]
        assert matches.matches__seg_a.tolist() == expected.seg_a.tolist()
        assert matches.matches__score.round(report.FLOAT_DIGITS).tolist() == expected.score.tolist()


def test_strict_stops_at_the_first_rejected_record_as_locally(inputs, session):
    with pytest.raises(InputError) as local_error:
        dedup.scan(inputs[2:], PARAMS, strict=True)
    with pytest.raises(InputError) as spark_error:
        spark.scan(inputs[2:], PARAMS, strict=True, spark=session)
    assert str(spark_error.value) == str(local_error.value)


def test_files_of_the_same_name_get_the_local_ids(tmp_path, session):
    """Fallback ids are paths relative to the inputs' common folder, for the files Spark reads too."""
    for folder in ("a", "b", "c", "d"):
        (tmp_path / folder).mkdir()
    (tmp_path / "a" / "feed.jsonl").write_text(json.dumps({"text": synthetic.STORY}) + "\n", encoding="utf-8")
    pd.DataFrame({"text": [synthetic.NEAR_COPY]}).to_parquet(tmp_path / "b" / "feed.parquet")
    (tmp_path / "c" / "001.txt").write_text(synthetic.TRIMMED, encoding="utf-8")
    (tmp_path / "d" / "001.txt").write_text(synthetic.SAME_TOPIC, encoding="utf-8")
    paths = [str(tmp_path / name) for name in ("a/feed.jsonl", "b/feed.parquet", "c", "d")]

    local = dedup.scan(paths, PARAMS)
    distributed = spark.scan(paths, PARAMS, spark=session)

    assert local.documents.doc_id.tolist() == ["a/feed:1", "b/feed:1", "c/001", "d/001"]
    assert set(local.documents.status) == {"ok"}
    pd.testing.assert_frame_equal(distributed.documents, local.documents)


def test_a_corpus_of_rejected_records_and_an_empty_one_as_locally(tmp_path, session):
    (tmp_path / "reuters").mkdir()
    (tmp_path / "reuters" / "reut2-000.sgm").write_text(synthetic.STORY, encoding="utf-8")
    (tmp_path / "empty.jsonl").write_text("\n", encoding="utf-8")
    paths = [str(tmp_path / "reuters"), str(tmp_path / "empty.jsonl")]

    local = dedup.scan(paths, PARAMS)
    distributed = spark.scan(paths, PARAMS, spark=session)

    assert local.documents.status.tolist() == ["rejected"]
    pd.testing.assert_frame_equal(distributed.documents, local.documents)
    assert distributed.manifest == local.manifest
    assert all(getattr(result, name).empty for result in (local, distributed) for name in TABLES[1:])
    with pytest.raises(InputError) as local_error:
        dedup.scan(paths[1:], PARAMS)
    with pytest.raises(InputError) as spark_error:
        spark.scan(paths[1:], PARAMS, spark=session)
    assert str(spark_error.value) == str(local_error.value) == \
        f"no records in {paths[1]}: the file holds only blank lines"


@pytest.mark.parametrize("dayfirst", [None, True])
def test_ambiguous_dates_are_read_as_locally(tmp_path, session, dayfirst):
    dates = ["02/03/2005", "13/03/2005", "2005/02/03", "2.3.05"]
    texts = [synthetic.STORY, synthetic.NEAR_COPY, synthetic.TRIMMED, synthetic.SAME_TOPIC]
    (tmp_path / "feed.jsonl").write_text("".join(json.dumps({"text": text, "date": day}) + "\n"
                                                 for text, day in zip(texts, dates)), encoding="utf-8")
    pd.DataFrame({"text": texts, "date": dates}).to_parquet(tmp_path / "feed.parquet")
    paths = [str(tmp_path / "feed.jsonl"), str(tmp_path / "feed.parquet")]

    local = dedup.scan(paths, PARAMS, dayfirst=dayfirst)
    distributed = spark.scan(paths, PARAMS, spark=session, dayfirst=dayfirst)

    assert local.documents.date.tolist()[:2] == ["2005-03-02" if dayfirst else "2005-02-03", "2005-03-13"]
    assert local.documents.warning.str.contains("ambiguous date").sum() == (0 if dayfirst else 4)
    pd.testing.assert_frame_equal(distributed.documents, local.documents)


def test_a_web_archive_scans_as_locally_skipped_records_and_recaptures_included(session):
    crawl = [str(DEMO / "web" / "crawl.warc.gz")]  # read on the driver by dedup.read

    local = dedup.scan(crawl, PARAMS)
    distributed = spark.scan(crawl, PARAMS, spark=session)

    assert set(local.documents.status) == {"ok", "skipped"}
    assert "recapture" in set(local.pairs.direction)  # align reads the documents' urls on Spark too
    for name in ("documents", "pairs", "passages", "clusters"):
        pd.testing.assert_frame_equal(getattr(distributed, name), getattr(local, name), obj=name)
    assert distributed.manifest == local.manifest


def test_dedup_scan_on_spark_writes_the_files_of_a_local_scan(session, tmp_path):
    args = ([str(DEMO / "articles")], PARAMS)
    local = dedup.scan(*args, metadata=DEMO / "metadata.csv", out=tmp_path / "local")
    distributed = dedup.scan(*args, metadata=DEMO / "metadata.csv", out=tmp_path / "spark",
                             spark=dedup.Spark(session=session))
    assert distributed.out == tmp_path / "spark" and distributed.manifest == local.manifest
    for name in [*(f"{table}.csv" for table in TABLES), "summary.md", "index.html"]:
        assert filecmp.cmp(local.out / name, distributed.out / name, shallow=False), name
    with pytest.raises(InputError, match="DataFrame is scanned on this machine"):
        dedup.scan(local.documents, spark=dedup.Spark(session=session))
