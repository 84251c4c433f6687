"""Loaders for the labelled benchmark sets in ../shared/benchmarks (never committed here).

Each returns a documents table in dedup's format (see `dedup.read`) plus the truth.
"""

from __future__ import annotations

import csv
import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

import pandas as pd

from dedup.read import documents_table

# Reuters-21578 SGML (not XML): one <REUTERS ...> element per story, fields as regex groups.
_REUTERS = re.compile(r'<REUTERS[^>]*\bNEWID="(\d+)"[^>]*>(.*?)</REUTERS>', re.S)
_REUTERS_FIELD = {name: re.compile(rf"<{name}>(.*?)</{name}>", re.S) for name in ("DATE", "TITLE", "BODY")}
# The sign-off closing most bodies ("Reuter", "REUTER...", "reuter^M"), then the &#3; end-of-text code.
_REUTERS_SIGN_OFF = re.compile(r"\s*(?:reuters?(?:\.\.\.)?(?:\^M)?)?\s*&#3;\s*$", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

# The BBC summaries join sentences without a space ("$10.9bn.For the year"): put it back.
_GLUED_SENTENCE = re.compile(r"(?<=[a-z0-9%)'\"][.!?])(?=[A-Z\"'])")


def _decoded(raw: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 (a BOM dropped), else cp1252, else latin-1."""
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")


def _decode(raw: bytes) -> str:
    return _decoded(raw)[0]


def bbc(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """2,225 articles and their 2,225 extractive summaries as one corpus.

    Returns (documents, truth) where truth has summary, article columns.
    """
    rows, truth = [], []
    for path in sorted((root / "bbc-news" / "bbc").glob("*/*.txt")):
        name = f"{path.parent.name}/{path.stem}"
        summary = _decode((root / "bbc-news" / "summaries" / path.parent.name / path.name).read_bytes())
        rows.append({"doc_id": f"article:{name}", "text": _decode(path.read_bytes())})
        rows.append({"doc_id": f"summary:{name}", "text": _GLUED_SENTENCE.sub(" ", summary)})
        truth.append({"summary": f"summary:{name}", "article": f"article:{name}"})
    return documents_table(rows), pd.DataFrame(truth)


def clough_stevenson(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """95 answers and 5 sources; truth has answer, source, label (cut/light/heavy/non)."""
    folder = root / "clough-stevenson"
    labels = pd.read_excel(folder / "corpus-final09.xls", sheet_name="File list")
    rows = [{"doc_id": path.stem, "text": _decode(path.read_bytes())}
            for path in sorted((folder / "corpus-20090418").glob("*.txt"))]
    truth = pd.DataFrame({"answer": labels.File.str.replace(".txt", "", regex=False),
                          "source": "orig_task" + labels.Task.str.strip(),
                          "label": labels.Category.str.strip()})
    return documents_table(rows), truth


def _reuters_field(name: str, element: str) -> str:
    """One field of a <REUTERS> element as in the file; "" if absent."""
    found = _REUTERS_FIELD[name].search(element)
    return "" if found is None else found.group(1)


def _reuters_text(raw: str) -> str:
    """Entities decoded, control codes dropped, outer whitespace stripped."""
    return _CONTROL.sub("", html.unescape(raw)).strip()


def _reuters_date(raw: str) -> str:
    """``26-FEB-1987 15:01:01.79`` → ``1987-02-26``; "" when it does not parse."""
    try:
        return datetime.strptime(raw.split()[0], "%d-%b-%Y").date().isoformat()
    except (ValueError, IndexError):
        return ""


def reuters(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The 19,043 Reuters-21578 stories that have a <BODY>: doc_id = NEWID, title, date, body text.

    The files are read as latin-1 (reut2-017.sgm is not UTF-8); the text is the body without its
    trailing "Reuter" sign-off and &#3; code. Returns (documents, truth) where truth has doc_id and
    body, the body exactly as in the file, on which SOURCE.md counts the identical bodies.
    """
    rows, truth = [], []
    for path in sorted((root / "reuters21578").glob("reut2-*.sgm")):
        for new_id, element in _REUTERS.findall(path.read_text(encoding="latin-1")):
            body = _reuters_field("BODY", element)
            if body:
                rows.append({"doc_id": new_id, "text": _reuters_text(_REUTERS_SIGN_OFF.sub("", body)),
                             "title": _reuters_text(_reuters_field("TITLE", element)),
                             "date": _reuters_date(_reuters_field("DATE", element))})
                truth.append({"doc_id": new_id, "body": body})
    return documents_table(rows), pd.DataFrame(truth)


# --- Issue 16: rewrites in any language ---------------------------------------------------------

SHEEPDOG_STYLES = ("objective", "neutral", "emotionally_triggering", "sensational")


def sheepdog(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SheepDog PolitiFact train: the 360 originals and their 1,440 LLM rewrites as one corpus.

    doc_id ``original:<article_id>`` and ``rewrite:<article_id>:<style>``. Truth has one row
    per (original, rewrite) pair: article_id, style, original, rewrite (doc ids). The same
    original comes on four lines (one per style); a line whose original differs from the
    article's first is an error, as is an unknown style.
    """
    originals: dict[str, str] = {}
    rows, truth = [], []
    path = root / "sheepdog-llm-rewrites" / "politifact_train.jsonl"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        record = json.loads(line)
        article, style = record["article_id"], record["style"]
        if style not in SHEEPDOG_STYLES:
            raise ValueError(f"{path.name} line {number}: unknown style {style!r}")
        if originals.setdefault(article, record["original"]) != record["original"]:
            raise ValueError(f"{path.name} line {number}: {article} has another original than on its first line")
        rows.append({"doc_id": f"rewrite:{article}:{style}", "text": record["rewrite"]})
        truth.append({"article_id": article, "style": style, "original": f"original:{article}",
                      "rewrite": f"rewrite:{article}:{style}"})
    rows += [{"doc_id": f"original:{article}", "text": text} for article, text in originals.items()]
    return documents_table(rows), pd.DataFrame(truth)


def uppc(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """UPPC Urdu: the 160 documents (doc_id = file name without .xml; title = the person) and
    the 140 rows of all_files.txt as truth: source, derived, label (P or NP).

    Classes come from the ``classification`` attribute, never from file names (the original
    ``016_task_p.xml`` looks like a paraphrase); all_files.txt must agree with it, every source
    must be an original (O), and every file must be in the list. The text is the element's text
    as it is (layout newlines and double spaces are left to the systems).
    """
    folder = root / "uppc_urdu" / "UPPC Corpus"
    elements = {path.name: ET.parse(path).getroot() for path in sorted((folder / "data").glob("*.xml"))}
    with open(folder / "all_files.txt", encoding="utf-8", newline="") as listing:
        truth = pd.DataFrame(list(csv.reader(listing)), columns=["source", "derived", "label"])
    for row in truth.itertuples():
        for name, wanted in ((row.source, "O"), (row.derived, row.label)):
            found = elements[name].get("classification")
            if found != wanted:
                raise ValueError(f"all_files.txt row {row.Index + 1}: {name} is classified {found!r}, "
                                 f"listed as {wanted}")
    if unlisted := set(elements) - set(truth.source) - set(truth.derived):
        raise ValueError(f"UPPC files missing from all_files.txt: {', '.join(sorted(unlisted))}")
    documents = documents_table({"doc_id": name.removesuffix(".xml"), "text": (element.text or "").strip(),
                                 "title": element.get("title", "")} for name, element in elements.items())
    return documents, truth.assign(source=truth.source.str.removesuffix(".xml"),
                                   derived=truth.derived.str.removesuffix(".xml"))


ONESTOP_LEVELS = {"adv": "Adv-Txt", "int": "Int-Txt/Int-Txt", "ele": "Ele-Txt"}
# Elementary files holding another article (SOURCE.md: zero word 5-grams shared with their Adv
# and Int versions, and another story): left out, their titles' Adv↔Int pairs kept.
ONESTOP_WRONG = {("ele", "Royal Baby"), ("ele", "WNL Arctic Ramadan"), ("ele", "WNL The millenials")}


def onestop(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """OneStopEnglish: each title at three reading levels (doc_id ``<level>:<title>``).

    Intermediate is read from ``Int-Txt/Int-Txt`` (the copy one level up is ASCII-stripped);
    files are UTF-8 (BOM dropped), cp1252 where they are not (the encoding column says which).
    Truth has one row per title: title and the doc id at each level, "" for the three
    Elementary files of `ONESTOP_WRONG`, which are not loaded. Every title must exist at all levels.
    """
    folder = root / "onestopenglish_news_rewrites" / "Texts-SeparatedByReadingLevel"
    rows, titles = [], {}
    for level, sub in ONESTOP_LEVELS.items():
        paths = {path.name.removesuffix(f"-{level}.txt"): path for path in (folder / sub).glob(f"*-{level}.txt")}
        titles[level] = set(paths)
        for title, path in sorted(paths.items()):
            if (level, title) not in ONESTOP_WRONG:
                text, encoding = _decoded(path.read_bytes())
                rows.append({"doc_id": f"{level}:{title}", "text": text, "title": title, "encoding": encoding})
    if len({frozenset(names) for names in titles.values()}) != 1:
        raise ValueError("OneStopEnglish: the reading levels hold different titles")
    truth = pd.DataFrame([{"title": title, **{level: "" if (level, title) in ONESTOP_WRONG else f"{level}:{title}"
                                              for level in ONESTOP_LEVELS}} for title in sorted(titles["adv"])])
    return documents_table(rows), truth


# PTB tokens that join the token before (no space) or the one after, when a sentence is rebuilt.
_JOIN_BEFORE = {".", ",", ";", ":", "!", "?", "%", ")", "]", "}", "...", "''", "”", "’", "'",
                "n't", "'s", "'m", "'re", "'ve", "'ll", "'d"}
_JOIN_AFTER = {"(", "[", "{", "$", "``", "“", "‘"}
_CLOSES_QUOTE = {".", ",", ";", "!", "?", "..."}  # a straight quote after these closes a quotation
_CONTRACTION_TAILS = {"s", "t", "re", "ve", "ll", "d", "m"}  # "couldn ’ t", "company ’ s"
_PTB_QUOTES = {"``": '"', "''": '"'}


def _joins_next(tokens: Sequence[str], i: int, joined_before: bool) -> bool:
    """Whether tokens[i + 1] follows tokens[i] without a space."""
    token, following = tokens[i], tokens[i + 1]
    if token in _JOIN_AFTER or (token == '"' and not joined_before):  # an opening straight quote
        return True
    if token in ("’", "'") and following in _CONTRACTION_TAILS:
        return True
    numbers = tokens[i - 1][-1:].isdigit() and following[:1].isdigit() if i else False
    return numbers and (token == ":" or (token == "," and len(following) == 3 and following.isdigit()))


def detokenise(tokens: Sequence[str]) -> str:
    """A tokenised sentence as text: tokens joined with spaces, except before closing
    punctuation and clitics ("Calif .," → "Calif.,", "do n't" → "don't") and after opening
    brackets, quotes and "$"; "8 : 39" and "1 , 000" rejoined. PTB quotes ``/'' become ".
    A straight " closes a quotation after . , ; ! ? or at the end, else opens one."""
    pieces: list[str] = []
    joined = [False] * (len(tokens) + 1)  # joined[i]: tokens[i] follows the previous one without a space
    for i, token in enumerate(tokens):
        closes = token == '"' and i > 0 and (tokens[i - 1] in _CLOSES_QUOTE or i == len(tokens) - 1)
        joined[i] = joined[i] or (i > 0 and (token in _JOIN_BEFORE or closes))
        if i + 1 < len(tokens):
            joined[i + 1] = _joins_next(tokens, i, joined[i])
        pieces.append(("" if joined[i] or i == 0 else " ") + _PTB_QUOTES.get(token, token))
    return "".join(pieces)


def _ecb_sentences(path: Path) -> dict[int, list[str]]:
    """sentence number → its tokens in order, read with iterparse (the token XML is verbose)."""
    sentences: dict[int, list[str]] = {}
    for _, element in ET.iterparse(path):
        if element.tag == "token":
            sentences.setdefault(int(element.get("sentence")), []).append(element.text or "")
            element.clear()
    return sentences


def ecbplus(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ECB+: the 982 articles (doc_id = file name without .xml, e.g. ``1_10ecbplus``).

    The text is rebuilt from the tokens, a sentence at a time (`detokenise`), sentences
    separated by a blank line (the files keep no paragraphs; this keeps the annotated sentence
    boundaries). In ``ecbplus`` files sentence 0 is the article's URL: dropped from the text,
    kept as url, its host as source. Truth: doc_id, topic, subtopic (``<topic>/ecb`` or
    ``<topic>/ecbplus``).
    """
    rows, truth = [], []
    for path in sorted((root / "ecbplus_news_events" / "ECB+_LREC2014" / "ECB+").glob("*/*.xml")):
        topic, kind = re.fullmatch(r"(\d+)_\d+(ecb|ecbplus)", path.stem).groups()
        sentences = _ecb_sentences(path)
        url = "".join(sentences.pop(0)) if kind == "ecbplus" else ""
        text = "\n\n".join(detokenise(tokens) for _, tokens in sorted(sentences.items()))
        rows.append({"doc_id": path.stem, "text": text, "url": url, "source": urlsplit(url).hostname or ""})
        truth.append({"doc_id": path.stem, "topic": topic, "subtopic": f"{topic}/{kind}"})
    return documents_table(rows), pd.DataFrame(truth)


_CASE_COLUMNS = ["suspicious", "source", "type", "obfuscation", "this_offset", "this_length",
                 "source_offset", "source_length"]


def _plagiarism_cases(path: Path, texts: dict[str, str]) -> list[dict[str, object]]:
    """The cases of one suspicious document's XML, checked against both texts' lengths.

    A case is any child with ``name="plagiarism"`` (suspicious-document00028.xml spells one
    tag ``featue``); simulated cases have no obfuscation, given here as "human paraphrase"."""
    suspicious, cases = path.stem, []
    for number, element in enumerate(ET.parse(path).getroot(), 1):
        if element.get("name") != "plagiarism":
            raise ValueError(f"{path.name}: element {number} <{element.tag}> is not a plagiarism case")
        case = {"suspicious": suspicious, "source": element.get("source_reference").removesuffix(".txt"),
                "type": element.get("type"), "obfuscation": element.get("obfuscation", "human paraphrase"),
                **{key: int(element.get(key)) for key in _CASE_COLUMNS[4:]}}
        for doc, offset, length in ((suspicious, case["this_offset"], case["this_length"]),
                                    (case["source"], case["source_offset"], case["source_length"])):
            if doc not in texts or length <= 0 or offset + length > len(texts[doc]):
                raise ValueError(f"{path.name}: case {number} points outside {doc} ({offset}+{length})")
        cases.append(case)
    return cases


def indonesian(root: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The Indonesian PAN-2011-style corpus: 30 source and 35 suspicious documents (doc_id =
    file name without .txt, texts as in the files, so the case offsets apply) and the cases:
    suspicious, source, type, obfuscation, this_offset, this_length, source_offset, source_length
    (character offsets into the texts). Suspicious documents without cases have none here."""
    folder = root / "indonesian_plagiarism_pan11style"
    texts = {path.stem: path.read_bytes().decode("utf-8")  # no newline translation: offsets count every character
             for sub in ("source-documents", "suspicious-documents") for path in sorted((folder / sub).glob("*.txt"))}
    cases = [case for path in sorted((folder / "suspicious-documents").glob("*.xml"))
             for case in _plagiarism_cases(path, texts)]
    return (documents_table({"doc_id": doc, "text": text} for doc, text in texts.items()),
            pd.DataFrame(cases, columns=_CASE_COLUMNS))
