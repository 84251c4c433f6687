"""Tests for dedup.read: inputs -> the documents table."""

import json
import random
from pathlib import Path

import pandas as pd
import pytest

from dedup import read
from dedup.read import COLUMNS, Fields, InputError, iter_documents, read_documents

STORY = "Army Gen. Mark Milley said Wednesday it is possible the US will coordinate with the Taliban."


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def by_id(table: pd.DataFrame) -> dict[str, dict[str, str]]:
    return {row["doc_id"]: row for row in table.to_dict("records")}


def test_folder_is_read_recursively_in_sorted_order_skipping_hidden_files_and_rejecting_other_files(tmp_path):
    write(tmp_path / "b.txt", "second story")
    write(tmp_path / "a.md", "first story")
    write(tmp_path / "sub" / "c.TXT", "nested story")
    write(tmp_path / ".hidden.txt", "hidden file")
    write(tmp_path / ".git" / "d.txt", "hidden folder")
    write(tmp_path / "notes.json", "{}")
    write(tmp_path / "records.jsonl", json.dumps({"text": "not read from a folder"}))

    table = read_documents([tmp_path])

    assert list(table.columns) == list(COLUMNS)
    # Relative paths without extension (with it, for files a folder does not read), in that order.
    assert list(table["doc_id"]) == ["a", "b", "notes.json", "records.jsonl", "sub/c"]
    names = ("a.md", "b.txt", "notes.json", "records.jsonl", "sub/c.TXT")
    assert list(table["origin"]) == [f"{tmp_path.as_posix()}/{name}" for name in names]
    ok = table[table.status == "ok"]
    assert list(ok["text"]) == ["first story", "second story", "nested story"]
    assert set(ok["source"]) == set(ok["date"]) == {""}
    rejected = table[table.status == "rejected"]
    assert list(rejected["reason"]) == [
        f"unsupported file type '{suffix}' in a folder (folders are read for .txt, .md, .html and .htm files; "
        "pass record files by path)" for suffix in (".json", ".jsonl")]


def test_text_is_kept_exactly_and_bom_stripped(tmp_path):
    text = "  Headline\r\n\r\n\tBody  with  spaces \n"
    write(tmp_path / "a.txt", b"\xef\xbb\xbf" + text.encode("utf-8"))

    row = read_documents([tmp_path / "a.txt"]).iloc[0]

    assert row["text"] == text
    assert (row["encoding"], row["warning"]) == ("utf-8", "")


def test_legacy_encodings_are_detected_and_recorded(tmp_path):
    english = "The company’s chief executive said on Tuesday that profits at the café chain would fall short."
    french = "Le président a déclaré mercredi que le gouvernement poursuivrait ses réformes économiques."
    russian = "Правительство России в среду одобрило пакет мер поддержки экономики и малого бизнеса."
    write(tmp_path / "english.txt", english.encode("cp1252"))
    write(tmp_path / "french.txt", french.encode("latin-1"))
    write(tmp_path / "russian.txt", russian.encode("cp1251"))

    rows = by_id(read_documents([tmp_path]))

    assert [rows[name]["text"] for name in ("english", "french", "russian")] == [english, french, russian]
    assert (rows["english"]["encoding"], rows["english"]["warning"]) == ("cp1252", "decoded as cp1252")
    assert rows["french"]["encoding"] == "cp1252"  # ISO-8859-1 is read as its superset
    assert (rows["russian"]["encoding"], rows["russian"]["warning"]) == ("cp1251", "decoded as cp1251")
    assert {row["status"] for row in rows.values()} == {"ok"}


@pytest.mark.parametrize("encoding, mark, expected", [
    ("utf-16-le", b"\xff\xfe", "utf-16-le"),
    ("utf-16-be", b"\xfe\xff", "utf-16-be"),
    ("utf-32-le", b"\xff\xfe\x00\x00", "utf-32-le"),
    ("utf-16-le", b"", "utf-16-le"),
    ("utf-16-be", b"", "utf-16-be"),
])
def test_utf16_and_utf32_with_or_without_bom_are_text(tmp_path, encoding, mark, expected):
    path = write(tmp_path / "wide.txt", mark + STORY.encode(encoding))

    row = read_documents([path]).iloc[0]

    assert (row["status"], row["text"], row["encoding"]) == ("ok", STORY, expected)
    assert row["warning"] == f"decoded as {expected}"


def test_bytes_that_no_encoding_decodes_are_rejected_as_not_text(tmp_path):
    noise = bytes(byte for byte in random.Random(5).randbytes(6000) if byte)  # binary without a NUL byte
    write(tmp_path / "noise.txt", noise)
    write(tmp_path / "story.txt", STORY)

    rows = by_id(read_documents([tmp_path]))

    assert (rows["noise"]["status"], rows["noise"]["reason"]) == (
        "rejected", "not text: no character encoding decodes it (binary?)")
    assert (rows["noise"]["text"], rows["noise"]["encoding"]) == ("", "")
    assert rows["story"]["status"] == "ok"


def test_record_file_that_is_not_text_is_an_input_error(tmp_path):
    path = write(tmp_path / "feed.jsonl", bytes(byte for byte in random.Random(5).randbytes(6000) if byte))

    with pytest.raises(InputError, match=r"cannot read .*feed\.jsonl: not text: no character encoding"):
        read_documents([path])


def test_control_characters_and_terminal_escapes_are_removed_from_every_field(tmp_path):
    red, reset, window_title = "\x1b[31;1m", "\x1b[0m", "\x1b]0;pwned\x07"
    link, link_end, full_reset = "\x1b]8;;http://x.example\x1b\\", "\x1b]8;;\x1b\\", "\x1bc"
    body = (STORY + "\n") * 120
    dirty = body[:9000] + "\0" + body[9000:]  # past the first 8 KB, where the binary sniff looks
    dirty = dirty.replace("Milley", f"{red}Milley{reset}", 1) + "\x07\x0b\x9b"
    write(tmp_path / "a.txt", dirty)
    write(tmp_path / "feed.jsonl", json.dumps({
        "id": f"b{window_title}", "text": STORY, "title": f"Flood {link}barriers{link_end} hold",
        "source": f"Wire{full_reset}", "url": "https://example.org/\x00story", "date": "2024-03-02\x1b[2J"}) + "\n")

    rows = read_documents([tmp_path / "a.txt", tmp_path / "feed.jsonl"]).to_dict("records")

    assert (rows[0]["status"], rows[0]["text"]) == ("ok", body)
    assert rows[0]["warning"] == f"removed {1 + len(red + reset) + 3} control characters"
    b = rows[1]
    assert (b["doc_id"], b["title"], b["source"], b["url"], b["date"]) == (
        "b", "Flood barriers hold", "Wire", "https://example.org/story", "2024-03-02")
    removed = len(window_title + link + link_end + full_reset) + 1 + len("\x1b[2J")
    assert b["warning"] == f"removed {removed} control characters"


def test_binary_empty_and_short_files_are_rejected_not_dropped(tmp_path):
    write(tmp_path / "image.txt", b"\x89PNG\x00\x00data")
    write(tmp_path / "blank.txt", " \n\t ")
    write(tmp_path / "tiny.txt", "  hi  ")
    write(tmp_path / "story.txt", STORY)

    rows = by_id(read_documents([tmp_path], min_chars=5))

    assert len(rows) == 4
    assert (rows["image"]["status"], rows["image"]["reason"]) == ("rejected", "binary file (NUL byte)")
    assert rows["blank"]["reason"] == "empty text"
    assert rows["tiny"]["reason"] == "too short (2 characters)"
    assert (rows["story"]["status"], rows["story"]["reason"]) == ("ok", "")


def test_duplicate_id_rejects_the_later_record_naming_the_first(tmp_path):
    first = write(tmp_path / "story.txt", STORY)
    feed = write(tmp_path / "feed.jsonl", json.dumps({"id": "story", "text": STORY + " Again."}) + "\n")

    table = read_documents([first, feed])

    assert list(table["status"]) == ["ok", "rejected"]
    assert table["reason"].iloc[1] == f"duplicate id (first seen at {first.as_posix()})"


def test_files_with_the_same_name_in_different_folders_get_distinct_ids(tmp_path):
    """The BBC layout: business/001.txt, sport/001.txt. Ids are paths relative to the
    folder holding every input, without the extension."""
    bbc = tmp_path / "bbc"
    for topic in ("business", "sport"):
        write(bbc / topic / "001.txt", f"{STORY} ({topic})")
        write(bbc / topic / "feed.jsonl", json.dumps({"text": f"{STORY} ({topic} feed)"}) + "\n")

    whole = read_documents([bbc])
    topics = read_documents([bbc / "business", bbc / "sport"])
    files = read_documents([bbc / "business" / "001.txt", bbc / "sport" / "001.txt",
                            bbc / "business" / "feed.jsonl", bbc / "sport" / "feed.jsonl"])

    in_folders = ["business/001", "business/feed.jsonl", "sport/001", "sport/feed.jsonl"]
    assert whole["doc_id"].tolist() == topics["doc_id"].tolist() == in_folders
    assert whole["status"].tolist() == topics["status"].tolist() == ["ok", "rejected", "ok", "rejected"]
    assert files["doc_id"].tolist() == ["business/001", "sport/001", "business/feed:1", "sport/feed:1"]
    assert set(files.status) == {"ok"}
    assert read_documents([bbc / "sport" / "001.txt"])["doc_id"].tolist() == ["001"]  # a lone file: its stem
    assert read_documents([bbc / "sport"])["doc_id"].tolist() == ["001", "feed.jsonl"]  # relative to itself


def test_metadata_overrides_id_source_and_date(tmp_path):
    folder = tmp_path / "articles"
    write(folder / "ap.txt", STORY)
    write(folder / "sub" / "wapo.txt", STORY + " Post.")
    write(folder / "plain.txt", STORY + " Plain.")
    metadata = write(tmp_path / "meta.csv",
                     "file,id,source,date,title,about\n"
                     "ap.txt,ap-1,AP,2021-09-02,Milley speaks,ignored column\n"
                     "sub/wapo.txt,wp-7,Washington Post,\"Sep 3, 2021\",,\n")

    rows = by_id(read_documents([folder], metadata=metadata))

    assert set(rows) == {"ap-1", "wp-7", "plain"}
    first = rows["ap-1"]
    assert (first["source"], first["date"], first["title"]) == ("AP", "2021-09-02", "Milley speaks")
    assert (rows["wp-7"]["source"], rows["wp-7"]["date"]) == ("Washington Post", "2021-09-03")
    assert rows["wp-7"]["title"] == STORY + " Post."  # no title given: the text's first line
    assert rows["plain"]["source"] == ""


def test_document_files_without_a_title_take_their_first_line(tmp_path):
    write(tmp_path / "plain.txt", "\n \n  Flood barriers hold  \r\n\r\n" + STORY)
    write(tmp_path / "notes.md", "\n## Barriers *hold* ##\n\n" + STORY)
    write(tmp_path / "long.txt", "word " * 60 + "\n\n" + STORY)
    write(tmp_path / "given.txt", "First line\n\n" + STORY)
    write(tmp_path / "blank.txt", " \n\t\n")
    metadata = write(tmp_path / "meta" / "meta.csv", "file,title\ngiven.txt,The given title\n")
    feed = write(tmp_path / "meta" / "feed.jsonl", json.dumps({"text": "Headline line\n\n" + STORY}) + "\n")

    rows = by_id(read_documents([*sorted(tmp_path.glob("*.*")), feed], metadata=metadata))

    assert rows["plain"]["title"] == "Flood barriers hold"
    assert rows["notes"]["title"] == "Barriers *hold*"
    assert rows["long"]["title"] == ("word " * 60)[:199] + "…" and len(rows["long"]["title"]) == 200
    assert rows["given"]["title"] == "The given title"
    assert rows["blank"]["title"] == ""
    assert rows["meta/feed:1"]["title"] == ""  # records in record files get no derived title


def test_metadata_matches_bare_file_name_when_unique(tmp_path):
    write(tmp_path / "articles" / "deep" / "ap.txt", STORY)
    metadata = write(tmp_path / "meta.csv", "file,source\nap.txt,AP\n")

    table = read_documents([tmp_path / "articles"], metadata=metadata)

    assert table["source"].tolist() == ["AP"]


def test_metadata_naming_an_unknown_file_raises(tmp_path):
    write(tmp_path / "articles" / "ap.txt", STORY)
    metadata = write(tmp_path / "meta.csv", "file,id\nap.txt,ap-1\napp.txt,typo\n")

    with pytest.raises(InputError, match=r"meta\.csv:3: file 'app\.txt' is not among the input"):
        read_documents([tmp_path / "articles"], metadata=metadata)


def test_jsonl_bad_lines_are_rejected_with_reasons_and_the_rest_kept(tmp_path):
    lines = [
        json.dumps({"id": 7, "text": STORY, "source": "AP", "url": " https://ap.example/1 "}),
        "",  # blank lines are not records
        '{"id": "8", "text": "broken" "more"}',
        json.dumps({"id": "9", "body": STORY}),
        json.dumps(["not", "an", "object"]),
        json.dumps({"text": STORY + " No id."}),
        json.dumps({"id": "10", "text": 42}),
    ]
    path = write(tmp_path / "feed.jsonl", "\n".join(lines) + "\n")

    table = read_documents([path])

    assert table["origin"].tolist() == [f"{path.as_posix()}:{n}" for n in (1, 3, 4, 5, 6, 7)]
    assert table["doc_id"].tolist() == ["7", "feed:3", "9", "feed:5", "feed:6", "10"]
    assert table["status"].tolist() == ["ok", "rejected", "rejected", "rejected", "ok", "rejected"]
    assert table["reason"].iloc[1] == "invalid JSON: Expecting ',' delimiter at column 30"
    assert table["reason"].iloc[2] == "no 'text' field"
    assert table["reason"].iloc[3] == "not a JSON object"
    assert table["reason"].iloc[5] == "'text' is not a string"
    assert (table["source"].iloc[0], table["url"].iloc[0]) == ("AP", "https://ap.example/1")


def test_csv_row_with_wrong_field_count_is_rejected_and_line_numbers_count_multiline_text(tmp_path):
    path = write(tmp_path / "stories.csv",
                 'id,text,date\n'
                 'a,"First line\nsecond line",2021-09-02T10:30:00\n'
                 'b,too,many,fields\n'
                 ',' + STORY + ',\n')

    table = read_documents([path])

    assert table["origin"].tolist() == [f"{path.as_posix()}:{n}" for n in (2, 4, 5)]
    assert table["doc_id"].tolist() == ["a", "b", "stories:5"]
    assert table["text"].iloc[0] == "First line\nsecond line"
    assert table["date"].iloc[0] == "2021-09-02"
    assert table["status"].tolist() == ["ok", "rejected", "ok"]
    assert table["reason"].iloc[1] == "CSV row has 4 fields, header has 3"


def test_long_csv_fields_are_read(tmp_path):
    long_text = "word " * 100_000  # beyond the csv module's default 128 KiB field limit
    path = write(tmp_path / "long.csv", f"id,text\nbig,{long_text}\n")

    assert read_documents([path])["text"].iloc[0] == long_text


def test_tsv_uses_tabs(tmp_path):
    path = write(tmp_path / "stories.tsv", f"id\ttext\tsource\nt1\t{STORY}, with a comma\tReuters\n")

    row = read_documents([path]).iloc[0]

    assert (row["doc_id"], row["text"], row["source"]) == ("t1", STORY + ", with a comma", "Reuters")


def test_csv_file_in_cp1252_records_the_encoding_on_every_row(tmp_path):
    texts = ["Shares in Nestlé fell 3% in early trading.", "The mayor of Zürich said the plan would go ahead."]
    path = write(tmp_path / "old.csv", f"id,text\n1,{texts[0]}\n2,{texts[1]}\n".encode("cp1252"))

    table = read_documents([path])

    assert table["text"].tolist() == texts
    assert set(table["encoding"]) == {"cp1252"}
    assert set(table["warning"]) == {"decoded as cp1252"}


def test_parquet_round_trip_with_custom_field_names(tmp_path):
    path = tmp_path / "stories.parquet"
    pd.DataFrame({
        "key": [101, 102, 103],
        "body": [STORY, STORY + " Copy.", None],
        "published": pd.to_datetime(["2021-09-02 10:00", None, "2021-09-04 23:59"]),
        "outlet": ["AP", "AP", None],
    }).to_parquet(path)
    fields = Fields(id="key", text="body", date="published", source="outlet")

    table = read_documents([path], fields=fields)

    assert table["doc_id"].tolist() == ["101", "102", "103"]
    assert table["origin"].tolist() == [f"{path.as_posix()}:{n}" for n in (1, 2, 3)]
    assert table["date"].tolist() == ["2021-09-02", "", "2021-09-04"]
    assert table["source"].tolist() == ["AP", "AP", ""]
    assert table["status"].tolist() == ["ok", "ok", "rejected"]
    assert table["reason"].iloc[2] == "empty text"
    assert set(table["encoding"]) == {"utf-8"}


def test_record_file_with_wrongly_mapped_text_field_rejects_every_record(tmp_path):
    path = write(tmp_path / "stories.csv", f"id,text\na,{STORY}\nb,{STORY}\n")

    table = read_documents([path], fields=Fields(text="body"))

    assert table["reason"].tolist() == ["no 'body' field"] * 2


def test_unparseable_date_is_warned_and_left_empty(tmp_path):
    path = write(tmp_path / "feed.jsonl", json.dumps({"text": STORY, "date": "soon"}) + "\n")

    row = read_documents([path]).iloc[0]

    assert (row["status"], row["date"]) == ("ok", "")
    assert row["warning"] == "unparseable date 'soon' ignored"


AMBIGUOUS = "ambiguous date '{}' read as {}, month first; --dayfirst reads it day first"


@pytest.mark.parametrize("value, dayfirst, day, warning", [
    ("02/03/2005", None, "2005-02-03", AMBIGUOUS.format("02/03/2005", "2005-02-03")),
    ("02/03/2005", True, "2005-03-02", ""),
    ("02/03/2005", False, "2005-02-03", ""),
    ("2.3.05", True, "2005-03-02", ""),
    ("02-03-2005 10:30", None, "2005-02-03", AMBIGUOUS.format("02-03-2005 10:30", "2005-02-03")),
    ("13/03/2005", None, "2005-03-13", ""),  # only one reading: no warning, whatever the option
    ("03/13/2005", True, "2005-03-13", ""),
    ("05/05/2005", None, "2005-05-05", ""),
    ("2005-02-03", True, "2005-02-03", ""),  # ISO 8601 first
    ("2005/02/03", True, "2005-02-03", ""),  # year first: never read day first
])
def test_day_and_month_in_either_order_are_read_as_told_or_warned(tmp_path, value, dayfirst, day, warning):
    path = write(tmp_path / "feed.jsonl", json.dumps({"text": STORY, "date": value}) + "\n")

    row = read_documents([path], dayfirst=dayfirst).iloc[0]

    assert (row["date"], row["warning"]) == (day, warning)


def test_strict_raises_at_the_first_rejected_record(tmp_path):
    path = write(tmp_path / "feed.jsonl", "\n".join([
        json.dumps({"text": STORY}),
        json.dumps({"text": "   "}),
        "not json",
    ]))

    with pytest.raises(InputError, match=rf"^{path.as_posix()}:2: empty text$"):
        read_documents([path], strict=True)


@pytest.mark.parametrize("name, message", [
    ("missing/folder", "no such file or folder: .*missing/folder"),
    ("feed.xml", "unsupported input '.*feed.xml': expected a folder, .txt, .md"),
])
def test_bad_paths_raise_input_error_naming_the_path(tmp_path, name, message):
    if name.endswith(".xml"):
        write(tmp_path / name, "<feed/>")

    with pytest.raises(InputError, match=message):
        read_documents([tmp_path / name])


@pytest.mark.parametrize("files, reason", [
    ({}, "the folder holds no files (names starting with '.' are skipped)"),
    ({".hidden.txt": STORY, ".git/story.txt": STORY},
     "the folder holds no files (names starting with '.' are skipped)"),
    ({"feed.jsonl": ""}, "the file is empty"),
    ({"feed.jsonl": "\n  \n"}, "the file holds only blank lines"),
    ({"stories.csv": "id,text\n"}, "the file has no rows below its header"),
    ({"stories.tsv": "id\ttext\n\n"}, "the file has no rows below its header"),
])
def test_inputs_without_records_raise_one_line_naming_the_path_and_why(tmp_path, files, reason):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name, content in files.items():
        write(inputs / name, content)
    path = inputs / next((name for name in files if not name.startswith(".")), "")

    with pytest.raises(InputError) as error:  # the inputs' emptiness, not the metadata naming no input
        read_documents([path], metadata=write(tmp_path / "meta.csv", "file,id\nstory.txt,s1\n"))

    assert str(error.value) == f"no records in {path.as_posix()}: {reason}"


def test_an_empty_parquet_file_and_an_empty_folder_are_both_named(tmp_path):
    pd.DataFrame({"id": pd.Series([], dtype=str), "text": pd.Series([], dtype=str)}).to_parquet(tmp_path / "s.parquet")
    (tmp_path / "empty").mkdir()

    with pytest.raises(InputError, match=r"^no records in .*/s\.parquet: the file has no rows; "
                                         r".*/empty: the folder holds no files"):
        list(iter_documents([tmp_path / "s.parquet", tmp_path / "empty"]))


def test_no_paths_raises_input_error():
    with pytest.raises(InputError, match="no input paths"):
        read_documents([])


def test_reading_in_batches_gives_the_same_table_and_a_repeated_id_is_caught_across_batches(tmp_path):
    lines = [json.dumps({"id": doc_id, "text": f"{STORY} ({n})"}) for n, doc_id in enumerate("abcadb")]
    path = write(tmp_path / "records.jsonl", "\n".join(lines) + "\n")
    batches = list(iter_documents([path], batch_size=2))
    assert [len(b) for b in batches] == [2, 2, 2]
    table = pd.concat(batches, ignore_index=True)
    pd.testing.assert_frame_equal(table, read_documents([path]))
    assert list(table.status) == ["ok", "ok", "ok", "rejected", "ok", "rejected"]
    assert table.reason[3] == f"duplicate id (first seen at {path.as_posix()}:1)"
    assert table.reason[5] == f"duplicate id (first seen at {path.as_posix()}:2)"


def test_parquet_is_decoded_a_few_rows_at_a_time_with_the_same_rows(tmp_path, monkeypatch):
    path = tmp_path / "stories.parquet"
    pd.DataFrame({"id": [f"s{i}" for i in range(5)], "text": [f"{STORY} {i}" for i in range(5)],
                  "date": ["2021-09-01", None, "2021-09-03", None, "bad"]}).to_parquet(path)
    whole = read_documents([path])
    monkeypatch.setattr(read, "PARQUET_BATCH_ROWS", 2)
    pd.testing.assert_frame_equal(read_documents([path]), whole)
    assert list(whole.origin) == [f"{path.as_posix()}:{n}" for n in range(1, 6)]
