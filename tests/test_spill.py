"""The low-memory scan (dedup.spill) writes the tables the in-memory scan writes, byte for byte.

The corpus is tests/synthetic.py's `syndication_corpus` (families of duplicates, copies,
trims, rewrites, excerpts and unrelated texts, with a source line repeated under unrelated
stories: site furniture), every kind of bad record, and the demo articles with their
metadata. Blocks of a few documents and pairs make every stage cross block boundaries.
"""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dedup
from dedup import report, spill
from dedup.candidates import SignatureArray
from dedup.cli import app
from tests import synthetic

pytest.importorskip("pyarrow")

PARAMS = dedup.Params(max_bucket=30)  # small enough that repeated site lines overflow their buckets
PAIR_PAGES = 25  # fewer than the corpus's related pairs: the report chooses which to show


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("spill-corpus")
    corpus = synthetic.syndication_corpus(600)
    corpus.to_parquet(folder / "corpus.parquet", index=False)
    (folder / "extra.jsonl").write_text("\n".join(synthetic.bad_records(corpus)) + "\n", encoding="utf-8")
    return [str(synthetic.DEMO / "articles"), str(folder / "corpus.parquet"), str(folder / "extra.jsonl")]


@pytest.fixture(scope="module")
def in_memory(inputs, tmp_path_factory) -> tuple[dedup.ScanResult, Path]:
    out = tmp_path_factory.mktemp("in-memory")
    result = dedup.scan(inputs, PARAMS, metadata=synthetic.DEMO / "metadata.csv")
    result.write(out, pair_pages=PAIR_PAGES)
    return result, out


@pytest.fixture(scope="module")
def on_disk(inputs, tmp_path_factory) -> spill.StoredScan:
    patch = pytest.MonkeyPatch()
    patch.setattr(spill, "BLOCK_DOCS", 97)  # blocks of documents and of pairs end mid-family
    patch.setattr(spill, "PAIR_BLOCK", 41)
    try:
        return spill.scan(inputs, tmp_path_factory.mktemp("on-disk"), PARAMS,
                          metadata=synthetic.DEMO / "metadata.csv", jobs=2, pair_pages=PAIR_PAGES)
    finally:
        patch.undo()


def test_the_corpus_holds_every_relation_rejection_and_repeated_furniture(in_memory):
    result, _ = in_memory
    assert set(result.pairs.relation) == {"duplicate", "copy", "rewrite", "partial", "rejected"}
    assert result.documents.reason.str.contains("duplicate id").any()
    assert result.documents.reason.str.contains("too short to fingerprint").any()
    assert result.passages["flags"].str.contains("boilerplate").any()
    assert (result.groups.kind == "duplicate_cluster").any()


@pytest.mark.parametrize("name", report.TABLES)
def test_low_memory_scan_writes_the_in_memory_csv_byte_for_byte(in_memory, on_disk, name):
    _, out = in_memory
    assert filecmp.cmp(out / f"{name}.csv", on_disk.out / f"{name}.csv", shallow=False)


@pytest.mark.parametrize("name", report.TABLES)
def test_low_memory_scan_writes_the_same_parquet_rows(in_memory, on_disk, name):
    _, out = in_memory
    pd.testing.assert_frame_equal(on_disk.table(name), pd.read_parquet(out / f"{name}.parquet"))


def test_low_memory_scan_writes_the_in_memory_report_byte_for_byte(in_memory, on_disk):
    result, out = in_memory
    assert len(result.related()) > PAIR_PAGES  # the report chose which pairs to show, and cut its lists
    pages = sorted(path.relative_to(out) for path in (out / "pairs").iterdir())
    assert len(pages) == PAIR_PAGES
    assert sorted(path.relative_to(on_disk.out) for path in (on_disk.out / "pairs").iterdir()) == pages
    for name in [*report.REPORT_FILES, *pages]:
        assert filecmp.cmp(out / name, on_disk.out / name, shallow=False), name


def test_low_memory_scan_writes_the_same_manifest_and_no_work_files(in_memory, on_disk):
    result, out = in_memory
    assert on_disk.manifest == result.manifest
    assert json.loads((on_disk.out / "manifest.json").read_text()) == result.manifest
    written = {path.name for path in on_disk.out.iterdir()}
    top_level = {name.split("/")[0] for name in report.REPORT_FILES}  # plots/*.svg: the plots folder
    assert written == {f"{name}.{ext}" for name in report.TABLES for ext in ("csv", "parquet")} | \
        {"manifest.json", "timings.json", *top_level, "pairs", report.MARKER}  # no staging folder
    assert set(on_disk.timings["seconds"]) == {"read", "prepare", "candidates", "verify", "align", "group", "write"}


def test_stored_scan_names_its_tables_when_asked_for_another(on_disk):
    with pytest.raises(ValueError, match="no table 'segments'"):
        on_disk.table("segments")


def test_signatures_on_disk_give_the_bands_and_estimates_of_the_array(tmp_path):
    values = np.random.default_rng(3).integers(0, 4, size=(50, 8)).astype(np.uint32)
    stored = spill._SignatureFiles(8)
    for number, block in enumerate((values[:7], values[7:7], values[7:31], values[31:])):
        spill._save_columns(tmp_path / f"{number}.npy", block)
        stored.add(tmp_path / f"{number}.npy", len(block))
    in_memory, pairs = SignatureArray(values), np.array([[0, 1], [3, 49], [10, 10], [48, 2]])
    assert len(stored) == 50
    np.testing.assert_array_equal(stored.columns(2, 5), in_memory.columns(2, 5))
    np.testing.assert_array_equal(stored.agreement(pairs), in_memory.agreement(pairs))


def test_documents_read_back_from_blocks_are_the_prepared_ones(tmp_path):
    texts = pd.Series([f"Story {i} begins here. It has {i % 4 + 1} more words in it. " * (i % 3 + 1)
                       for i in range(25)], dtype=str)
    documents = pd.DataFrame({"doc_id": [f"d{i}" for i in range(25)], "text": texts, "source": "", "status": "ok"})
    params = dedup.Params(min_sentence_units=1)
    blocks = [spill._prepare_block((number, documents.iloc[start:start + 10], params, tmp_path))
              for number, start in enumerate(range(0, 25, 10))]
    corpus = spill._Corpus(documents, np.zeros(25), documents.doc_id.to_numpy(object), np.array([0, 10, 20, 25]),
                           spill._starts(spill._joined(blocks, "segments")),
                           spill._starts(spill._joined(blocks, "units")),
                           *(np.empty(0),) * 3, spill._SignatureFiles(0), spill._SignatureFiles(0), tmp_path, "")
    _, segments, unit_hashes, _ = dedup.api.prepare(documents, params)
    docs = np.array([3, 9, 10, 19, 24])  # across all three blocks, first and last of each
    located = corpus.locate(docs)
    assert located.texts() == list(texts[docs])
    read_segments, read_units = located.segments_and_units()
    kept = segments.doc_id.isin(documents.doc_id[docs]).to_numpy()
    pd.testing.assert_frame_equal(read_segments, segments[kept].reset_index(drop=True))
    np.testing.assert_array_equal(read_units, unit_hashes[np.repeat(kept, segments.n_units)])
    np.testing.assert_array_equal(corpus.segment_rows(docs), np.flatnonzero(kept))


def test_table_parts_written_out_of_order_join_into_one_table_whatever_types_a_part_lacks(tmp_path):
    parts = report.TableParts(tmp_path, "facts", ("doc_a", "a_value"), parquet=True).start()
    parts.write(1, pd.DataFrame({"doc_a": ["y", "z"], "a_value": ["400", "12"]}))
    parts.write(0, pd.DataFrame({"doc_a": ["x"], "a_value": [None]}))  # a column of nulls only
    parts.write(2, pd.DataFrame(columns=["doc_a", "a_value"]))
    parts.join()
    values = pd.read_parquet(tmp_path / "facts.parquet").a_value
    assert pd.isna(values[0]) and list(values[1:]) == ["400", "12"]
    assert (tmp_path / "facts.csv").read_text() == "doc_a,a_value\nx,\ny,400\nz,12\n"
    assert not parts.folder.exists()


def test_a_table_given_no_part_gets_its_header(tmp_path):
    report.TableParts(tmp_path, "facts", ("doc_a", "a_value"), parquet=False).start().join()
    assert (tmp_path / "facts.csv").read_text() == "doc_a,a_value\n"


def test_alignment_reuses_the_similarities_verification_kept_instead_of_matching_again(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus.parquet"
    synthetic.syndication_corpus(60).to_parquet(corpus, index=False)
    expected = dedup.scan([corpus], PARAMS, out=tmp_path / "in-memory", tables_only=True)

    def match_again(*args, **kwargs):
        raise AssertionError("alignment matched a pair's sentences again")

    monkeypatch.setattr(dedup.align, "sentence_similarity", match_again)
    stored = spill.scan([corpus], tmp_path / "out", PARAMS)
    assert len(expected.passages) > 0
    pd.testing.assert_frame_equal(stored.table("passages"), pd.read_parquet(tmp_path / "in-memory/passages.parquet"))


def test_a_corpus_of_bad_records_alone_gives_empty_tables_and_accounts_for_every_record(tmp_path):
    records = tmp_path / "bad.jsonl"
    records.write_text('{"id": "a", "text": ""}\nnot json\n', encoding="utf-8")
    stored = spill.scan([records], tmp_path / "out")
    documents = stored.table("documents")
    assert list(documents.status) == ["rejected", "rejected"]
    pd.testing.assert_frame_equal(documents, dedup.scan([records]).documents.drop(columns="text"))  # no crash either
    assert stored.manifest["counts"]["candidates"] == 0
    assert (stored.out / "passages.csv").read_text().startswith("doc_a,doc_b,passage_no,kind,")
    assert stored.table("pairs").empty


@pytest.mark.parametrize("tables_only", [False, True])
def test_cli_low_memory_writes_the_report_unless_told_tables_only(inputs, tmp_path, tables_only):
    from typer.testing import CliRunner

    out = tmp_path / "report"
    run = CliRunner().invoke(app, ["scan", *inputs, "--metadata", str(synthetic.DEMO / "metadata.csv"),
                                   "--low-memory", "--out", str(out), "--jobs", "2",
                                   *(["--tables-only"] if tables_only else [])])
    assert run.exit_code == 0, run.output
    assert "candidate pairs" in run.output
    assert (f"Tables in {out}" if tables_only else f"Report: {out / 'index.html'}") in run.output
    assert (out / "pairs.csv").exists()
    assert (out / "index.html").exists() != tables_only and (out / "summary.md").exists() != tables_only


def test_low_memory_scan_without_parquet_publishes_the_csv_tables_alone(tmp_path):
    stored = spill.scan([synthetic.DEMO / "articles"], tmp_path / "out", parquet=False)
    assert not list(stored.out.glob("*.parquet")) and (stored.out / "index.html").exists()  # rendered from parts


def test_cli_refuses_low_memory_with_the_spark_engine(tmp_path):
    from typer.testing import CliRunner

    run = CliRunner().invoke(app, ["scan", str(synthetic.DEMO / "articles"), "--low-memory", "--engine", "spark",
                                   "--out", str(tmp_path / "out")])
    assert run.exit_code != 0 and "--low-memory is for the local engine" in run.output
    assert not (tmp_path / "out").exists()
