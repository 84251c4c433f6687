"""The scan (dedup.pipeline) writes the same tables and report whatever its jobs and blocks.

The corpus is tests/synthetic.py's `syndication_corpus` (families of duplicates, copies,
trims, rewrites, excerpts and unrelated texts, with a source line repeated under unrelated
stories: site furniture), every kind of bad record, and the demo articles with their
metadata. One scan runs on one process with the default blocks, the other on two
workers with blocks of a few documents and pairs, so that every stage crosses block
boundaries and worker boundaries.
"""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

import dedup
from dedup import pipeline, report, schema
from dedup.candidates import SignatureBlocks
from dedup.cli import app
from dedup.schema import STORE
from tests import synthetic

PARAMS = dedup.Params(max_bucket=30)  # small enough that repeated site lines overflow their buckets
PAIR_PAGES = 25  # fewer than the corpus's related pairs: the report chooses which to show


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("pipeline-corpus")
    corpus = synthetic.syndication_corpus(600)
    corpus.to_parquet(folder / "corpus.parquet", index=False)
    (folder / "extra.jsonl").write_text("\n".join(synthetic.bad_records(corpus)) + "\n", encoding="utf-8")
    return [str(synthetic.DEMO / "articles"), str(folder / "corpus.parquet"), str(folder / "extra.jsonl")]


@pytest.fixture(scope="module")
def one_job(inputs, tmp_path_factory) -> dedup.ScanResult:
    return dedup.scan(inputs, PARAMS, out=tmp_path_factory.mktemp("one-job"), metadata=synthetic.DEMO / "metadata.csv",
                      pair_pages=PAIR_PAGES)


@pytest.fixture(scope="module")
def small_blocks(inputs, tmp_path_factory) -> dedup.ScanResult:
    patch = pytest.MonkeyPatch()
    patch.setattr(pipeline, "BLOCK_DOCS", 97)  # blocks of documents and of pairs end mid-family
    patch.setattr(pipeline, "PAIR_BLOCK", 41)
    try:
        return dedup.scan(inputs, PARAMS, out=tmp_path_factory.mktemp("small-blocks"),
                          metadata=synthetic.DEMO / "metadata.csv", jobs=2, pair_pages=PAIR_PAGES)
    finally:
        patch.undo()


def test_the_corpus_holds_every_relation_rejection_and_repeated_furniture(one_job):
    assert set(one_job.pairs.relation) == {"duplicate", "copy", "rewrite", "partial", "rejected"}
    assert one_job.documents.reason.str.contains("duplicate id").any()
    assert one_job.documents.reason.str.contains("too short to fingerprint").any()
    assert one_job.passages["flags"].str.contains("boilerplate").any()
    assert (one_job.groups.kind == "duplicate_cluster").any()


@pytest.mark.parametrize("name", report.TABLES)
def test_two_jobs_on_small_blocks_write_the_csv_of_one_job_byte_for_byte(one_job, small_blocks, name):
    assert filecmp.cmp(one_job.out / f"{name}.csv", small_blocks.out / f"{name}.csv", shallow=False)


@pytest.mark.parametrize("name", report.TABLES)
def test_two_jobs_on_small_blocks_write_the_same_parquet_rows(one_job, small_blocks, name):
    pd.testing.assert_frame_equal(small_blocks.table(name), pd.read_parquet(one_job.out / f"{name}.parquet"))


def test_two_jobs_on_small_blocks_write_the_same_report_byte_for_byte(one_job, small_blocks):
    out = one_job.out
    assert len(one_job.related()) > PAIR_PAGES  # the report chose which pairs to show, and cut its lists
    pages = sorted(path.relative_to(out) for path in (out / "pairs").iterdir())
    assert len(pages) == PAIR_PAGES
    assert sorted(path.relative_to(small_blocks.out) for path in (small_blocks.out / "pairs").iterdir()) == pages
    for name in [*report.REPORT_FILES, *pages]:
        assert filecmp.cmp(out / name, small_blocks.out / name, shallow=False), name


def test_a_result_written_again_gives_the_files_of_the_scan(one_job, tmp_path):
    one_job.write(tmp_path, pair_pages=PAIR_PAGES)
    for name in [*(f"{table}.csv" for table in report.TABLES), *report.REPORT_FILES]:
        assert filecmp.cmp(one_job.out / name, tmp_path / name, shallow=False), name


def test_the_manifest_is_the_same_and_no_work_files_stay(one_job, small_blocks):
    assert small_blocks.manifest == one_job.manifest
    assert json.loads((small_blocks.out / "manifest.json").read_text()) == one_job.manifest
    written = {path.name for path in small_blocks.out.iterdir()}
    top_level = {name.split("/")[0] for name in report.REPORT_FILES}  # plots/*.svg: the plots folder
    assert written == {f"{name}.{ext}" for name in report.TABLES for ext in ("csv", "parquet")} | \
        {report.TEXTS, "manifest.json", "timings.json", *top_level, "pairs", report.MARKER}  # no staging folder
    assert set(small_blocks.timings["seconds"]) == {"read", "prepare", "candidates", "verify", "align", "group",
                                                    "write"}


def test_a_scan_without_out_keeps_its_tables_while_the_result_lives():
    result = dedup.scan(synthetic.DEMO / "articles", metadata=synthetic.DEMO / "metadata.csv")
    folder = result.out
    assert set(result.related().relation) == {"rewrite", "partial"} and not (folder / "index.html").exists()
    del result
    assert not folder.exists()


def test_a_dataframe_of_records_scans_as_the_same_records_in_a_file(tmp_path):
    records = synthetic.syndication_corpus(60)
    records.to_parquet(tmp_path / "corpus.parquet", index=False)
    from_file, from_frame = dedup.scan(tmp_path / "corpus.parquet", PARAMS), dedup.scan(records, PARAMS)
    for name in ("pairs", "passages", "clusters", "groups"):
        pd.testing.assert_frame_equal(from_frame.table(name), from_file.table(name))
    assert list(from_frame.documents.origin[:2]) == ["row 1", "row 2"]


def test_an_empty_dataframe_or_one_given_metadata_is_a_one_line_error():
    with pytest.raises(dedup.InputError, match="no rows"):
        dedup.scan(pd.DataFrame(columns=["id", "text"]))
    with pytest.raises(dedup.InputError, match="a DataFrame has none"):
        dedup.scan(pd.DataFrame({"id": ["a"], "text": ["A story."]}), metadata=synthetic.DEMO / "metadata.csv")


def test_stored_scan_names_its_tables_when_asked_for_another(small_blocks):
    with pytest.raises(ValueError, match="no table 'segments'"):
        small_blocks.table("segments")


def test_documents_read_back_from_blocks_are_the_prepared_ones(tmp_path):
    texts = pd.Series([f"Story {i} begins here. It has {i % 4 + 1} more words in it. " * (i % 3 + 1)
                       for i in range(25)], dtype=str)
    documents = pd.DataFrame({"doc_id": [f"d{i}" for i in range(25)], "text": texts, "source": "", "status": "ok"})
    params = dedup.Params(min_sentence_units=1)
    blocks = [pipeline._prepare_block((number, documents.iloc[start:start + 10], params, tmp_path))
              for number, start in enumerate(range(0, 25, 10))]
    corpus = pipeline._Corpus(documents, np.zeros(25), documents.doc_id.to_numpy(object), np.array([0, 10, 20, 25]),
                           pipeline._starts(pipeline._joined(blocks, "segments")),
                           pipeline._starts(pipeline._joined(blocks, "units")),
                           *(np.empty(0),) * 3, SignatureBlocks(0), SignatureBlocks(0), tmp_path, "")
    _, segments, unit_hashes, _ = dedup.prepare.prepare(documents, params)
    docs = np.array([3, 9, 10, 19, 24])  # across all three blocks, first and last of each
    located = corpus.locate(docs)
    assert located.texts() == list(texts[docs])
    read_segments, read_units = located.segments_and_units()
    kept = segments.doc_id.isin(documents.doc_id[docs]).to_numpy()
    pd.testing.assert_frame_equal(read_segments, segments[kept].reset_index(drop=True))
    np.testing.assert_array_equal(read_units, unit_hashes[np.repeat(kept, segments.n_units)])
    np.testing.assert_array_equal(corpus.segment_rows(docs), np.flatnonzero(kept))


def _facts(*rows: tuple[str, str | None]) -> pd.DataFrame:
    return pd.DataFrame([{"doc_a": doc, "doc_b": "b", "passage_no": 1, "fact": "number_changed", "a_value": value,
                          "b_value": "5"} for doc, value in rows], columns=STORE["facts"].names)


def test_table_parts_written_out_of_order_join_into_one_table_of_the_declared_types(tmp_path):
    parts = report.TableParts(tmp_path, "facts", parquet=True).start()
    parts.write(1, _facts(("y", "400"), ("z", "12")))
    parts.write(0, _facts(("x", None)))  # a column of nulls only
    parts.write(2, _facts())
    parts.join()
    values = pd.read_parquet(tmp_path / "facts.parquet").a_value
    assert pd.isna(values[0]) and list(values[1:]) == ["400", "12"]
    assert (tmp_path / "facts.csv").read_text().splitlines()[1:] == \
        ["x,b,1,number_changed,,5", "y,b,1,number_changed,400,5", "z,b,1,number_changed,12,5"]
    assert pq.read_schema(tmp_path / "facts.parquet").remove_metadata() == STORE["facts"].arrow_schema()
    assert not parts.folder.exists()


def test_a_table_given_no_part_gets_its_header(tmp_path):
    report.TableParts(tmp_path, "facts", parquet=False).start().join()
    assert (tmp_path / "facts.csv").read_text() == ",".join(STORE["facts"].names) + "\n"


def test_every_stored_table_has_its_declared_columns_and_types(one_job, tmp_path):
    one_job.write(tmp_path / "again", tables_only=True)  # written whole from memory, not in parts
    for folder in (one_job.out, tmp_path / "again"):
        for name, table in STORE.items():
            assert pq.read_schema(folder / f"{name}.parquet").remove_metadata() == table.arrow_schema(), name


def test_the_readme_gives_the_declared_tables():
    assert schema.markdown() in (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def test_alignment_reuses_the_similarities_verification_kept_instead_of_matching_again(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus.parquet"
    synthetic.syndication_corpus(60).to_parquet(corpus, index=False)
    expected = dedup.scan([corpus], PARAMS, out=tmp_path / "first", tables_only=True)

    def match_again(*args, **kwargs):
        raise AssertionError("alignment matched a pair's sentences again")

    monkeypatch.setattr(dedup.align, "sentence_similarity", match_again)
    stored = dedup.scan([corpus], PARAMS, out=tmp_path / "out")
    assert len(expected.passages) > 0
    pd.testing.assert_frame_equal(stored.table("passages"), pd.read_parquet(tmp_path / "first/passages.parquet"))


def test_a_corpus_of_bad_records_alone_gives_empty_tables_and_accounts_for_every_record(tmp_path):
    records = tmp_path / "bad.jsonl"
    records.write_text('{"id": "a", "text": ""}\nnot json\n', encoding="utf-8")
    stored = dedup.scan([records], out=tmp_path / "out")
    documents = stored.table("documents")
    assert list(documents.status) == ["rejected", "rejected"]
    pd.testing.assert_frame_equal(documents, dedup.scan([records]).documents.drop(columns="text"))  # nor without out
    assert stored.manifest["counts"]["candidates"] == 0
    assert (stored.out / "passages.csv").read_text().startswith("doc_a,doc_b,passage_no,kind,")
    assert stored.table("pairs").empty


@pytest.mark.parametrize("tables_only", [False, True])
def test_cli_scan_writes_the_report_unless_told_tables_only(inputs, tmp_path, tables_only):
    from typer.testing import CliRunner

    out = tmp_path / "report"
    run = CliRunner().invoke(app, ["scan", *inputs, "--metadata", str(synthetic.DEMO / "metadata.csv"),
                                   "--out", str(out), "--jobs", "2",
                                   *(["--tables-only"] if tables_only else [])])
    assert run.exit_code == 0, run.output
    assert "candidate pairs" in run.output
    assert (f"Tables in {out}" if tables_only else f"Report: {out / 'index.html'}") in run.output
    assert (out / "pairs.csv").exists()
    assert (out / "index.html").exists() != tables_only and (out / "summary.md").exists() != tables_only


def test_a_scan_without_parquet_publishes_the_csv_tables_alone(tmp_path):
    stored = dedup.scan([synthetic.DEMO / "articles"], out=tmp_path / "out", parquet=False)
    assert not list(stored.out.glob("*.parquet")) and (stored.out / "index.html").exists()  # rendered from parts


def test_cli_refuses_the_low_memory_alias_with_the_spark_engine(tmp_path):
    from typer.testing import CliRunner

    run = CliRunner().invoke(app, ["scan", str(synthetic.DEMO / "articles"), "--low-memory", "--engine", "spark",
                                   "--out", str(tmp_path / "out")])
    assert run.exit_code != 0 and "--low-memory is for the local engine" in run.output
    assert not (tmp_path / "out").exists()
