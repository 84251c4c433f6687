"""The archive index: adds that keep ids, the same findings as a scan of everything, queries,
exports, the folded corpus, and adds killed at random."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import dedup
from dedup import indexdb
from dedup.cli import app
from dedup.stable import carry
from tests import synthetic

PARAMS = dedup.Params(max_bucket=30)  # small enough that repeated site lines overflow their buckets


def _pair_set(pairs: pd.DataFrame) -> set[tuple[str, str, str]]:
    linked = pairs[pairs.relation.isin(["duplicate", "copy", "contained", "rewrite", "partial"])]
    return {(*sorted((a, b)), relation) for a, b, relation in zip(linked.doc_a, linked.doc_b, linked.relation)}


def _one_to_one(left: pd.Series, right: pd.Series) -> bool:
    """The two labellings of the same documents group them alike (only the names differ)."""
    both = pd.DataFrame({"left": left, "right": right})
    return bool(both.groupby("left").right.nunique().max() == 1 and both.groupby("right").left.nunique().max() == 1)


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    return synthetic.syndication_corpus(600)


@pytest.fixture(scope="module")
def days(corpus, tmp_path_factory) -> list[Path]:
    """The corpus in two files, each story's copies split between them."""
    folder = tmp_path_factory.mktemp("days")
    for number, day in enumerate((corpus.iloc[0::2], corpus.iloc[1::2]), 1):
        day.to_parquet(folder / f"day-{number}.parquet", index=False)
    return [folder / "day-1.parquet", folder / "day-2.parquet"]


@pytest.fixture(scope="module")
def two_days(days, tmp_path_factory) -> tuple[dedup.Index, dedup.index.Added, dedup.index.Added]:
    """The two days added one after the other."""
    index = dedup.Index(tmp_path_factory.mktemp("archive") / "news.dedup", PARAMS)
    first = index.add(days[0])
    second = index.add(days[1])
    return index, first, second


@pytest.fixture(scope="module")
def whole(days) -> dedup.ScanResult:
    return dedup.scan(days, PARAMS)


def test_two_adds_find_the_relations_a_scan_of_both_finds(two_days, whole):
    index, _, second = two_days
    assert len(second.pairs) > 100  # the second day's copies of the first day's stories
    assert _pair_set(indexdb.pairs(index.db)) == _pair_set(whole.pairs)


def test_two_adds_group_as_a_scan_of_both_and_the_first_days_ids_stay(two_days, whole):
    index, first, _ = two_days
    clusters = indexdb.clusters(index.db).set_index("doc_id")
    scanned = whole.clusters.set_index("doc_id").reindex(clusters.index)
    assert _one_to_one(clusters.cluster_id, scanned.cluster_id)
    assert _one_to_one(clusters.story_id, scanned.story_id)
    before = first.clusters.set_index("doc_id")
    kept = clusters.loc[before.index]
    stayed = (kept.cluster_id == before.cluster_id).mean()
    assert stayed > 0.95  # all but the clusters merged into others
    merged = set(indexdb.events(index.db).query("kind == 'merge'").other_id)
    assert set(before.cluster_id[kept.cluster_id != before.cluster_id]) <= merged


def test_a_merge_names_the_related_pair_that_joined_the_two_clusters(two_days):
    index, first, second = two_days
    merges = second.events[second.events.kind == "merge"]
    assert len(merges)
    before = first.clusters.set_index("doc_id")
    now = indexdb.clusters(index.db).set_index("doc_id")
    related = _pair_set(indexdb.pairs(index.db))
    for event in merges.itertuples():
        column = "cluster_id" if event.group_id.startswith("dup-") else "story_id"
        a, b = event.reason.split("linked by ")[1].split(" (")[0].split(" ~ ")
        sides = {before[column].get(a), before[column].get(b)}
        assert event.other_id in sides and now[column][a] == now[column][b] == event.group_id
        assert any({a, b} == {x, y} for x, y, _ in related)


def test_a_new_copy_joins_its_cluster_and_a_changed_keep_is_recorded(two_days):
    index, first, second = two_days
    clusters = indexdb.clusters(index.db)
    joined = second.clusters[second.clusters.cluster_id.isin(set(first.clusters.cluster_id))]
    assert len(joined) > 20
    keeps = second.events[second.events.kind == "keep"]
    for event in keeps.itertuples():
        kept = clusters[(clusters.cluster_id == event.group_id) & clusters.canonical].doc_id.item()
        assert event.reason.startswith(f"keeps {kept} ")
        assert event.other_id != kept


def test_adding_the_same_records_again_holds_each_once(two_days, corpus):
    index, _, _ = two_days
    held = len(index)
    again = index.add(corpus.iloc[:50])
    assert set(again.records.outcome) == {"held"}
    assert len(index) == held
    assert again.events.empty


def test_a_held_id_with_another_text_is_a_conflict_and_not_added(two_days, corpus):
    index, _, _ = two_days
    changed = corpus.iloc[:1].assign(text="An entirely different text about the harvest in the valley this year.")
    added = index.add(changed)
    assert added.records.outcome.tolist() == ["conflict"]
    assert "another text" in added.records.reason.item()
    assert indexdb.documents(index.db, ids=[corpus.id.iat[0]]).text.item() == corpus.text.iat[0]


def test_an_export_is_a_scan_of_everything_held_under_the_stable_ids(two_days, whole, tmp_path):
    index, _, _ = two_days
    index.export(tmp_path / "export", tables_only=True)
    scanned = tmp_path / "scanned"
    whole.write(scanned, tables_only=True)
    for name in ("documents", "pairs", "passages", "facts", "matches"):
        assert (tmp_path / "export" / f"{name}.csv").read_bytes() == (scanned / f"{name}.csv").read_bytes(), name
    exported = pd.read_csv(tmp_path / "export" / "clusters.csv").set_index("doc_id")
    stored = indexdb.clusters(index.db).set_index("doc_id")
    assert (exported.cluster_id == stored.cluster_id.reindex(exported.index)).all()
    assert _one_to_one(exported.story_id, pd.read_csv(scanned / "clusters.csv").set_index("doc_id").story_id)


def test_the_folded_corpus_keeps_one_copy_per_cluster_and_every_other_record(two_days, corpus, tmp_path):
    index, _, _ = two_days
    written = index.export(tmp_path / "export", folded=True, tables_only=True)
    assert tmp_path / "export" / "folded" / "documents.jsonl" in written
    kept = pd.read_json(tmp_path / "export" / "folded" / "documents.jsonl", lines=True, dtype=False)
    folded = pd.read_csv(tmp_path / "export" / "folded" / "folded.csv")
    clusters = indexdb.clusters(index.db)
    assert len(kept) + len(folded) == len(index)
    assert set(folded.doc_id) == set(clusters.doc_id[~clusters.canonical])
    assert set(folded.folded_into) <= set(kept.id)
    assert kept.set_index("id").text.to_dict() == {
        doc: text for doc, text in zip(corpus.id, corpus.text) if doc not in set(folded.doc_id)}
    rescanned = dedup.scan(tmp_path / "export" / "folded" / "documents.jsonl", PARAMS)
    assert not rescanned.clusters.cluster_id.duplicated().any()  # nothing left to fold


def test_scan_writes_the_folded_corpus_too(tmp_path):
    records, corpus = tmp_path / "records.jsonl", synthetic.syndication_corpus(200)
    corpus.to_json(records, orient="records", lines=True)
    result = CliRunner().invoke(app, ["scan", str(records), "--out", str(tmp_path / "out"), "--tables-only",
                                      "--write-folded", str(tmp_path / "folded"), "-q"])
    assert result.exit_code == 0, result.output
    clusters = pd.read_csv(tmp_path / "out" / "clusters.csv")
    folded = pd.read_csv(tmp_path / "folded" / "folded.csv")
    assert set(folded.doc_id) == set(clusters.doc_id[~clusters.canonical]) and len(folded)
    assert len(pd.read_json(tmp_path / "folded" / "documents.jsonl", lines=True)) == len(corpus) - len(folded)


AP_STORY = synthetic.DEMO / "articles" / "ap-milley-taliban_albuquerque-journal.txt"


@pytest.fixture(scope="module")
def demo_days(tmp_path_factory) -> Path:
    """The demo corpus but the AP story, added in two days: the Washington Post report and its
    summary, then the AP story's paraphrase and a commentary."""
    documents = dedup.read_documents([synthetic.DEMO / "articles"], metadata=synthetic.DEMO / "metadata.csv")
    documents = documents[~documents.origin.str.contains("albuquerque")]
    first = documents.origin.str.contains("wapo")
    path = tmp_path_factory.mktemp("demo-archive") / "demo.dedup"
    with dedup.Index(path) as index:
        for day in (documents[first], documents[~first]):
            index.add(day[list(dedup.read.COLUMNS)])
    return path


def test_querying_the_ap_story_finds_its_paraphrase_as_a_rewrite_with_its_changes(demo_days):
    with dedup.Index(demo_days) as index:
        found = index.query(AP_STORY.read_text(encoding="utf-8"), doc_id="pasted")
        held = len(index)
    assert found.related.relation.tolist() == ["rewrite"]
    assert found.related.doc_id.item() == "002_3514be37b1a43906"  # the paraphrase (demo/metadata.csv)
    assert found.closest == found.related.doc_id.item() == found.pair.doc_a  # the query is the later key
    kinds = set(found.passages.kind)
    assert "reworded" in kinds and kinds <= {"same", "reworded", "moved", "dropped", "added"}
    assert set(found.passages.doc_a) | set(found.passages.doc_b) == {"pasted", found.closest}
    assert held == 4  # a query writes nothing


def test_cli_query_prints_json_and_writes_the_page(demo_days, tmp_path):
    page = tmp_path / "page.html"
    result = CliRunner().invoke(app, ["index", "query", str(demo_days), str(AP_STORY), "--json", "--html", str(page)])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert [row["relation"] for row in answer["related"]] == ["rewrite"]
    assert answer["passages"] and "<html" in page.read_text(encoding="utf-8").lower()


def test_cli_query_named_as_a_held_document_needs_another_name(demo_days, tmp_path):
    pasted = tmp_path / "002_3514be37b1a43906.txt"  # the held paraphrase's id
    pasted.write_text(AP_STORY.read_text(encoding="utf-8"), encoding="utf-8")
    refused = CliRunner().invoke(app, ["index", "query", str(demo_days), str(pasted)])
    assert refused.exit_code == 2 and "--name" in refused.output
    named = CliRunner().invoke(app, ["index", "query", str(demo_days), str(pasted), "--name", "pasted", "--json"])
    assert [row["doc_id"] for row in json.loads(named.output)["related"]] == ["002_3514be37b1a43906"]


def test_cli_add_and_export_on_record_files(tmp_path):
    day = tmp_path / "day.jsonl"
    records = synthetic.syndication_corpus(120)
    records.to_json(day, orient="records", lines=True)
    archive = tmp_path / "news.dedup"
    runner = CliRunner()
    first = runner.invoke(app, ["index", "add", str(archive), str(day)])
    assert first.exit_code == 0 and f"{len(records)} records added" in first.output, first.output
    again = runner.invoke(app, ["index", "add", str(archive), str(day), "--json"])
    assert json.loads(again.output)["records"] == {"held": len(records)}
    exported = runner.invoke(app, ["index", "export", str(archive), "--out", str(tmp_path / "out"), "--folded"])
    assert exported.exit_code == 0, exported.output
    assert (tmp_path / "out" / "index.html").is_file() and (tmp_path / "out" / "folded" / "folded.csv").is_file()


@pytest.mark.parametrize("content", [b"not a database at all\n" * 10, "sqlite"])
def test_a_foreign_or_corrupt_file_is_a_one_line_error(tmp_path, content):
    path = tmp_path / "archive.dedup"
    if content == "sqlite":
        sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.commit()
    else:
        path.write_bytes(content)  # type: ignore[arg-type]
    with pytest.raises(dedup.ArchiveError, match="not a dedup index"):
        dedup.Index(path)
    result = CliRunner().invoke(app, ["index", "add", str(path), str(synthetic.DEMO / "articles")])
    assert result.exit_code == 2 and result.output.count("\n") == 1 and "not a dedup index" in result.output


def test_two_ok_records_of_one_id_in_a_documents_table_are_refused_and_nothing_is_added(tmp_path):
    documents = dedup.documents_table([{"doc_id": "a", "text": synthetic.STORY}, {"doc_id": "a", "text": "Other."}])
    with dedup.Index(tmp_path / "a.dedup") as index:
        with pytest.raises(dedup.ArchiveError, match="'a'"):
            index.add(documents)
        assert len(index) == 0


def test_an_index_keeps_its_own_parameters(tmp_path):
    dedup.Index(tmp_path / "a.dedup", PARAMS).close()
    with pytest.raises(dedup.ArchiveError, match="other parameters"):
        dedup.Index(tmp_path / "a.dedup", dedup.Params())
    assert dedup.Index(tmp_path / "a.dedup").params == PARAMS


def test_cli_add_makes_an_index_with_a_keep_policy_and_refuses_another_later(tmp_path):
    day = tmp_path / "day.jsonl"
    synthetic.syndication_corpus(120).to_json(day, orient="records", lines=True)
    archive, runner = tmp_path / "news.dedup", CliRunner()
    made = runner.invoke(app, ["index", "add", str(archive), str(day), "--keep", "longest"])
    assert made.exit_code == 0, made.output
    reasons = indexdb.clusters(dedup.Index(archive).db).keep_reason
    assert reasons.str.startswith("longest").any() and not reasons.str.startswith("earliest").any()
    other = runner.invoke(app, ["index", "add", str(archive), str(day), "--keep", "earliest"])
    assert other.exit_code == 2 and "other parameters" in other.output


def test_two_jobs_make_the_index_of_one(days, tmp_path):
    snapshots = []
    for jobs in (1, 2):
        archive = tmp_path / f"jobs-{jobs}.dedup"
        with dedup.Index(archive, PARAMS) as index:
            for day in days:
                index.add(day, jobs=jobs)
        snapshots.append(_snapshot(archive))
    assert snapshots[0] == snapshots[1]


def test_bucket_lookups_cap_as_a_scan_does_however_large_the_buckets_grew(tmp_path):
    # Buckets of every size (a band key held by 1 to 80 documents, over three adds), looked up
    # for a block of new documents: all of a bucket's held keys below the block, or its first
    # representatives when it holds more than max_bucket with the block's own.
    max_bucket, representatives = 30, 3
    db = indexdb.open_index(tmp_path / "bands.dedup", dedup.Params(max_bucket=max_bucket))
    rng = np.random.default_rng(7)
    held: dict[int, list[int]] = {}
    every = rng.permutation(np.repeat(np.arange(80), np.arange(1, 81)))  # band b held by b + 1 documents
    key = 0
    for day in np.array_split(every, 3):
        indexdb.staging(db)
        added = [(int(band), key + n) for n, band in enumerate(day)]
        key += len(added)
        bands, keys = np.array(added).T
        indexdb.stage_bands(db, bands, keys)
        indexdb.merge_staged(db)
        for band, at in added:
            held.setdefault(band, []).append(at)
    for below in (300, 1200, key):
        probe = np.array(sorted(held), np.uint64)
        new = rng.integers(1, 25, len(probe))
        expected = set()
        for band, n in zip(probe.tolist(), new.tolist()):
            members = sorted(at for at in held[band] if at < below)
            expected.update(members if len(members) + n <= max_bucket else members[:representatives])
        found = indexdb.bucket_members(db, probe, new, below, max_bucket, representatives)
        assert found.tolist() == sorted(expected)
    # The same lookup for an add's own band keys, staged and not yet merged: each new document's
    # keys counted once per bucket.
    staged = rng.integers(0, 80, 500)
    indexdb.staging(db)
    indexdb.stage_bands(db, staged, key + np.arange(len(staged)))
    new_counts = np.bincount(staged, minlength=80)
    expected = set()
    for band in set(staged.tolist()):
        members = sorted(held[band])
        expected.update(members if len(members) + new_counts[band] <= max_bucket else members[:representatives])
    found = indexdb.staged_bucket_members(db, key, max_bucket, representatives)
    assert found.tolist() == sorted(expected)


def test_one_add_of_many_blocks_pairs_as_a_scan_does_where_buckets_overflow(corpus, tmp_path, monkeypatch):
    # A story copied 45 times over three blocks: its buckets overflow max_bucket only as the add
    # goes on. The copies are paired as a scan pairs them (each with the bucket's first
    # representatives), not all with all in the blocks read before the bucket was full.
    monkeypatch.setattr(dedup.index, "BLOCK_DOCS", 50)
    copies = pd.concat([corpus.iloc[[0]]] * 45, ignore_index=True).assign(id=[f"copy-{n}" for n in range(45)])
    records = pd.concat([corpus.iloc[:80], copies, corpus.iloc[80:]], ignore_index=True)
    scanned = dedup.scan(records, PARAMS)
    with dedup.Index(tmp_path / "blocks.dedup", PARAMS) as index:
        added = index.add(records)
        assert added.records.outcome.eq("added").sum() == len(records)
        assert _pair_set(indexdb.pairs(index.db)) == _pair_set(scanned.pairs)
    copied = scanned.pairs[scanned.pairs.doc_a.str.startswith("copy-") & scanned.pairs.doc_b.str.startswith("copy-")]
    assert 0 < len(copied) < 45 * 44 // 2  # capped, so the test tells the two ways apart


def test_carry_keeps_ids_records_merges_and_splits_and_never_reuses_a_number():
    earlier = pd.Series({"a": "dup-000001", "b": "dup-000001", "c": "dup-000002", "d": "dup-000003",
                         "e": "dup-000003", "f": "dup-000003"})
    now = pd.Series({"a": "x", "b": "x", "c": "x", "d": "y", "e": "y", "f": "z", "g": "w"})
    carried = carry(earlier, now, "dup", 4)
    assert carried.ids == {"x": "dup-000001", "y": "dup-000003", "z": "dup-000004", "w": "dup-000005"}
    assert carried.next_number == 6
    assert carried.events[["kind", "group_id", "other_id"]].values.tolist() == [
        ["merge", "dup-000001", "dup-000002"], ["split", "dup-000004", "dup-000003"]]


def _add_command(archive: Path, records: Path) -> list[str]:
    return [sys.executable, "-m", "dedup", "index", "add", str(archive), str(records)]


def _snapshot(archive: Path) -> tuple:
    with dedup.Index(archive) as index:
        documents = indexdb.documents(index.db)
        return (documents.doc_id.tolist(), documents.text.tolist(), _pair_set(indexdb.pairs(index.db)),
                indexdb.clusters(index.db).values.tolist(), indexdb.groups(index.db).values.tolist())


def test_an_add_killed_at_random_leaves_an_index_that_a_rerun_completes(corpus, tmp_path):
    records = tmp_path / "day.parquet"
    corpus.iloc[1::2].to_parquet(records, index=False)
    first_day = tmp_path / "first.parquet"
    corpus.iloc[0::2].to_parquet(first_day, index=False)
    calm, killed = tmp_path / "calm.dedup", tmp_path / "killed.dedup"
    for archive in (calm, killed):
        subprocess.run(_add_command(archive, first_day), check=True, capture_output=True)
    started = time.perf_counter()
    subprocess.run(_add_command(calm, records), check=True, capture_output=True)
    took = time.perf_counter() - started
    expected = _snapshot(calm)
    before = len(dedup.Index(killed))
    rng, mid_write = random.Random(18), 0
    for _ in range(8):
        process = subprocess.Popen(_add_command(killed, records), stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.2, 0.9) * took)
        process.send_signal(signal.SIGKILL)
        process.wait()
        wal = Path(f"{killed}-wal")  # a clean close removes it: written to and not closed, the add was inside
        mid_write += wal.exists() and wal.stat().st_size > 0
        with dedup.Index(killed) as index:
            ids = indexdb.documents(index.db, text=False).doc_id
            assert len(ids) in (before, len(corpus)) and not ids.duplicated().any()
            if len(ids) > before:  # the add had committed before the kill
                break
    assert mid_write >= 2  # killed inside the add's transaction, not only while starting up
    subprocess.run(_add_command(killed, records), check=True, capture_output=True)
    assert _snapshot(killed) == expected
    assert not list(tmp_path.glob(".killed.dedup-add-*"))  # the killed adds' signature files, removed


def test_readers_query_while_a_writer_adds(corpus, tmp_path, demo_days):
    archive = tmp_path / "busy.dedup"
    records = tmp_path / "day.parquet"
    corpus.to_parquet(records, index=False)
    first = corpus.iloc[:20]
    with dedup.Index(archive, PARAMS) as index:
        index.add(first)
    writer = subprocess.Popen(_add_command(archive, records), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        time.sleep(2.0)  # inside its transaction by now: reading and fingerprinting
        readers = [dedup.Index(archive), dedup.Index(archive)]
        for reader in readers:
            assert len(reader) == 20  # the last committed state
            assert reader.query(corpus.text.iat[0], doc_id="pasted").related.doc_id.iat[0] == corpus.id.iat[0]
            reader.close()
    finally:
        assert writer.wait(timeout=300) == 0, writer.stderr.read() if writer.stderr else ""
    assert len(dedup.Index(archive)) == len(corpus)
