"""The command line, as a user runs it: scan a JSONL file with a bad record, compare two files."""

import json
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

import dedup
from dedup import report
from dedup.cli import app
from dedup.parallel import cores
from dedup.report import TABLES
from tests.synthetic import NEAR_COPY, SAME_TOPIC, STORY, TRIMMED

runner = CliRunner()


@pytest.fixture()
def jsonl(tmp_path):
    lines = [json.dumps({"id": "story", "text": STORY, "date": "2024-03-02", "source": "Wire"}),
             '{"id": "broken", "text": "unterminated',
             json.dumps({"id": "trimmed", "text": TRIMMED, "date": "2024-03-03"}),
             json.dumps({"id": "no-text", "body": STORY}),
             json.dumps({"id": "near", "text": NEAR_COPY}),
             json.dumps({"id": "other", "text": SAME_TOPIC})]
    path = tmp_path / "articles.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_scan_reports_bad_records_and_processes_the_rest(jsonl, tmp_path):
    out = tmp_path / "report"
    run = runner.invoke(app, ["scan", str(jsonl), "--out", str(out)])
    assert run.exit_code == 0, run.output
    documents = pd.read_csv(out / "documents.csv", keep_default_na=False).set_index("doc_id")
    assert len(documents) == 6  # every record accounted for
    assert documents.loc["articles:2", "status"] == "rejected"
    assert "invalid JSON" in documents.loc["articles:2", "reason"]
    assert documents.loc["no-text", "reason"] == "no 'text' field"
    assert (documents.loc[["story", "trimmed", "near", "other"], "status"] == "ok").all()
    clusters = pd.read_csv(out / "clusters.csv", keep_default_na=False).set_index("doc_id")
    assert clusters.loc["story", "canonical"]  # earliest date wins
    assert clusters.loc["story", "cluster_id"] == clusters.loc["trimmed", "cluster_id"]
    assert "2 rejected" in run.output


def test_scan_output_is_deterministic(jsonl, tmp_path):
    for name in ("one", "two"):
        assert runner.invoke(app, ["scan", str(jsonl), "--out", str(tmp_path / name)]).exit_code == 0
    files = sorted(p.relative_to(tmp_path / "one") for p in (tmp_path / "one").rglob("*")
                   if p.is_file() and p.name != "timings.json")  # wall times: the one run-dependent file
    assert "index.html" in map(str, files)
    for name in files:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name


def test_strict_stops_at_the_bad_record(jsonl, tmp_path):
    run = runner.invoke(app, ["scan", str(jsonl), "--strict", "--out", str(tmp_path / "r")])
    assert run.exit_code == 2
    assert "articles.jsonl:2" in run.output and "invalid JSON" in run.output


def test_bad_path_and_bad_parameter_give_one_line_errors(tmp_path):
    run = runner.invoke(app, ["scan", str(tmp_path / "missing")])
    assert run.exit_code == 2 and run.output.startswith("dedup: error: no such file")
    run = runner.invoke(app, ["scan", str(tmp_path), "--keep", "newest"])
    assert run.exit_code == 2 and "keep must be one of" in run.output


def test_compare_json(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(STORY, encoding="utf-8")
    b.write_text(TRIMMED, encoding="utf-8")
    run = runner.invoke(app, ["compare", str(a), str(b), "--json"])
    assert run.exit_code == 0, run.output
    verdict = json.loads(run.output)
    assert verdict["relation"] == "copy"
    assert {"reason", "jaccard", "contained_a_in_b", "contained_b_in_a"} <= set(verdict)
    # Without dates a trimmed copy and an extended one look alike: the verdict says so.
    assert verdict["direction"] == "unknown" and "trimmed" in verdict["direction_reason"]
    assert verdict["passages"]["added"] >= 1  # read from the trimmed text, the story's tail is extra


def test_compare_prints_the_alignment_and_never_passes_terminal_escapes_through(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text(STORY, encoding="utf-8")
    b.write_text(STORY.replace("340 volunteers", "400 volunteers") + "\n\nReader \x1b[31mcomment\x1b[0m here.\n",
                 encoding="utf-8")
    run = runner.invoke(app, ["compare", str(a), str(b)])
    assert run.exit_code == 0, run.output
    assert "reworded" in run.output and "added" in run.output
    assert "number_changed" in run.output and "'340' → '400'" in run.output
    assert "\x1b[31m" not in run.output and "comment" in run.output


def test_tables_only_writes_the_tables_and_no_pages(jsonl, tmp_path):
    assert runner.invoke(app, ["scan", str(jsonl), "--out", str(tmp_path / "r"), "--tables-only"]).exit_code == 0
    written = {p.name for p in (tmp_path / "r").iterdir()}
    assert {"documents.csv", "pairs.csv", "passages.csv", "clusters.csv", "manifest.json"} <= written
    assert not written & {"index.html", "summary.md", "pairs"}
    timings = json.loads((tmp_path / "r" / "timings.json").read_text())
    assert set(timings["seconds"]) == {"read", "prepare", "candidates", "verify", "align", "group", "write"}
    assert timings["jobs"] == cores()  # a batch tool uses the machine unless told otherwise


def test_jobs_give_the_same_tables(jsonl, tmp_path, monkeypatch):
    monkeypatch.setattr(report, "CSV_ROWS", 2)  # every table in pieces, joined again
    for jobs in ("1", "2"):
        run = runner.invoke(app, ["scan", str(jsonl), "--out", str(tmp_path / jobs), "--jobs", jobs, "--tables-only"])
        assert run.exit_code == 0
    for name in TABLES:
        for ext in ("csv", "parquet"):  # the README promises byte-identical files for any --jobs
            assert (tmp_path / "1" / f"{name}.{ext}").read_bytes() == (tmp_path / "2" / f"{name}.{ext}").read_bytes()
        whole = report.csv_safe(pd.read_parquet(tmp_path / "2" / f"{name}.parquet")).to_csv(index=False,
                                                                                           lineterminator="\n")
        assert (tmp_path / "2" / f"{name}.csv").read_text(encoding="utf-8") == whole, name
    assert not [p for p in (tmp_path / "2").iterdir() if ".csv." in p.name]  # no piece left behind
    assert not [p for p in (tmp_path / "2").iterdir() if p.name.endswith(".parts")]


def test_help_shows_every_default_and_the_extras_to_install():
    run = runner.invoke(app, ["scan", "--help"], terminal_width=200)
    assert run.exit_code == 0
    text = " ".join(run.output.split())
    for option, default in (("keep", "earliest"), ("units", "content"), ("doc-threshold", "0.5"),
                            ("sentence-threshold", "0.3"), ("engine", "local"), ("pair-pages", "2000"),
                            ("jobs", f"(the processors this process may use, {cores()} here)")):
        assert re.search(rf"--{option} .*?\[default: {re.escape(default)}[];]", text), option
    assert "pip install 'dedup[spark]'" in text and "pip install 'dedup[parquet]'" in text
    assert "[default: (reports/<first path's name>)]" in text


def test_compare_two_files_with_the_same_name_in_different_folders(tmp_path):
    a, b = tmp_path / "a" / "001.txt", tmp_path / "b" / "001.txt"
    for path, text in ((a, STORY), (b, TRIMMED)):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")
    run = runner.invoke(app, ["compare", str(a), str(b), "--html", str(tmp_path / "pair.html")])
    assert run.exit_code == 0, run.output
    assert run.output.startswith("copy:")
    page = (tmp_path / "pair.html").read_text(encoding="utf-8")
    assert str(a) in page and str(b) in page  # the two texts keep distinct names


def test_compare_api_refuses_two_texts_of_the_same_name():
    with pytest.raises(ValueError, match="two different names, got '001' twice"):
        dedup.compare(STORY, TRIMMED, names=("001", "001"))


CHINESE = ("国务院总理今天在北京主持召开国务院常务会议，部署进一步扩大内需、促进消费的政策措施。"
           "会议指出，当前我国经济运行总体平稳，"
           "但仍面临需求收缩、供给冲击、预期转弱三重压力。会议要求，各地区各部门要认真落实已经出台的各项政策，加快推进重大项目建设，"
           "稳定就业和物价，保障基本民生。会议还研究了支持中小企业发展的具体办法，决定对符合条件的小微企业减免税费。")
JAPANESE = ("東京都は本日、新しい防災計画を発表しました。"
            "計画では、大地震が発生した場合に備えて避難所の数を増やし、食料や飲料水の備蓄を"
            "強化することが盛り込まれています。知事は記者会見で、都民の安全を最優先に考え、関係機関と連携して対策を進めると述べました。"
            "また、高齢者や障害のある人への支援体制を整えるため、地域の自治会との協力を深める方針も示されました。")


def test_gb18030_and_shift_jis_files_are_decoded_and_found_as_copies_of_their_utf8_twins(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zh-utf8.txt").write_text(CHINESE, encoding="utf-8")
    (corpus / "zh-gb.txt").write_bytes(CHINESE.encode("gb18030"))
    (corpus / "ja-utf8.txt").write_text(JAPANESE, encoding="utf-8")
    (corpus / "ja-sjis.txt").write_bytes(JAPANESE.encode("shift_jis"))
    out = tmp_path / "report"
    assert runner.invoke(app, ["scan", str(corpus), "--out", str(out), "--tables-only"]).exit_code == 0
    documents = pd.read_csv(out / "documents.csv", keep_default_na=False).set_index("doc_id")
    assert documents.loc["zh-gb", "encoding"] == "gb18030"
    assert documents.loc["ja-sjis", "encoding"] in ("shift_jis", "cp932")  # cp932: Microsoft's superset
    pairs = pd.read_csv(out / "pairs.csv", keep_default_na=False)
    found = {frozenset((a, b)): relation
             for a, b, relation in pairs[["doc_a", "doc_b", "relation"]].itertuples(index=False)}
    assert found == {frozenset(("zh-gb", "zh-utf8")): "duplicate", frozenset(("ja-sjis", "ja-utf8")): "duplicate"}


def test_nul_bytes_and_terminal_escapes_reach_no_output_file(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    text = STORY * 8  # over 8 KB: the NUL byte lies past the binary sniff
    dirty = text[:9000] + "\0" + text[9000:]
    (corpus / "dirty.txt").write_text(dirty.replace("Marlow Bend", "Marlow \x1b[5mBend\x1b[0m"), encoding="utf-8")
    (corpus / "feed.jsonl").write_text(json.dumps({"id": "copy", "text": text, "source": "Wire\x1b[2J",
                                                   "title": "Barriers \x1b]0;pwned\x07hold"}) + "\n", encoding="utf-8")
    out = tmp_path / "report"
    run = runner.invoke(app, ["scan", str(corpus / "dirty.txt"), str(corpus / "feed.jsonl"), "--out", str(out)])
    assert run.exit_code == 0, run.output
    documents = pd.read_csv(out / "documents.csv", keep_default_na=False).set_index("doc_id")
    assert documents.loc["copy", "title"] == "Barriers hold"
    assert "control characters" in documents.loc["dirty", "warning"]
    pairs = pd.read_csv(out / "pairs.csv", keep_default_na=False)
    assert pairs.relation.tolist() == ["duplicate"]
    written = [path for path in out.rglob("*") if path.suffix in (".csv", ".md", ".html", ".json")]
    assert {"documents.csv", "passages.csv", "summary.md", "index.html"} <= {path.name for path in written}
    assert any(path.parent.name == "pairs" for path in written)  # the pair's page
    for path in written:
        content = path.read_text(encoding="utf-8")
        assert "\0" not in content and "\x1b" not in content and "\x07" not in content, path.name


def test_a_folder_of_unsupported_files_gives_a_report_of_rejected_records(tmp_path):
    """The Reuters layout: .sgm files in a folder are records too, rejected with their reason."""
    corpus = tmp_path / "reuters"
    corpus.mkdir()
    for name in ("reut2-000.sgm", "reut2-001.sgm", ".DS_Store"):
        (corpus / name).write_text(f"<REUTERS>{STORY}</REUTERS>", encoding="utf-8")
    out = tmp_path / "report"
    run = runner.invoke(app, ["scan", str(corpus), "--out", str(out)])
    assert run.exit_code == 0, run.output
    documents = pd.read_csv(out / "documents.csv", keep_default_na=False)
    assert documents.doc_id.tolist() == ["reut2-000.sgm", "reut2-001.sgm"]  # the hidden file stays unread
    assert set(documents.status) == {"rejected"}
    assert set(documents.reason) == {"unsupported file type '.sgm' in a folder (folders are read for .txt, .md, "
                                     ".html and .htm files; pass record files by path)"}
    assert "0 documents scanned (2 rejected)" in run.output
    assert "all 2 records were rejected or skipped" in run.output


def test_inputs_without_records_give_a_one_line_error(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "header.csv").write_text("id,text\n", encoding="utf-8")
    run = runner.invoke(app, ["scan", str(tmp_path / "empty"), str(tmp_path / "header.csv"),
                              "--out", str(tmp_path / "report")])
    assert run.exit_code == 2
    assert run.output == (f"dedup: error: no records in {(tmp_path / 'empty').as_posix()}: the folder holds no files "
                          f"(names starting with '.' are skipped); {(tmp_path / 'header.csv').as_posix()}: "
                          "the file has no rows below its header\n")


@pytest.mark.parametrize("option, day, warned", [([], "2024-02-03", True), (["--dayfirst"], "2024-03-02", False),
                                                 (["--monthfirst"], "2024-02-03", False)])
def test_ambiguous_dates_follow_dayfirst_and_are_warned_by_default(tmp_path, option, day, warned):
    path = tmp_path / "dated.jsonl"
    path.write_text(json.dumps({"id": "story", "text": STORY, "date": "02/03/2024"}) + "\n", encoding="utf-8")
    run = runner.invoke(app, ["scan", str(path), "--out", str(tmp_path / "r"), "--tables-only", *option])
    assert run.exit_code == 0, run.output
    row = pd.read_csv(tmp_path / "r" / "documents.csv", keep_default_na=False).iloc[0]
    assert row.date == day
    assert ("ambiguous date '02/03/2024'" in row.warning) == warned
