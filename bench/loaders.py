"""Loaders for the labelled benchmark sets in ../shared/benchmarks (never committed here).

Each returns a documents table in dedup's format (see `dedup.read`) plus the truth.
"""

from __future__ import annotations

import csv
import html
import io
import itertools
import json
import random
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

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


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any bytes")


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


# --- pair sets: (text a, text b, derived or not), for the verification tasks -----------------

PAIR_COLUMNS = ["dataset", "group", "kind", "a_id", "b_id", "a", "b", "label"]


def _pairs(rows: list[dict[str, object]]) -> pd.DataFrame:
    """A pair set: dataset, group (the source article, for grouped cross-validation), kind (the
    fine label), a_id, b_id, a, b (texts), label (1 when b derives from a)."""
    return pd.DataFrame(rows, columns=PAIR_COLUMNS)


def _derangement(n: int, seed: int) -> list[int]:
    """A seeded permutation of range(n) moving every item (n >= 2): negatives from other items."""
    rng = random.Random(seed)
    while True:
        order = list(range(n))
        rng.shuffle(order)
        if all(i != j for i, j in enumerate(order)):
            return order


def sheepdog(root: Path) -> pd.DataFrame:
    """SheepDog PolitiFact: 1,440 (original, LLM rewrite) pairs in four styles, and as many
    negatives: each original against another article's rewrite in the same style (a seeded
    derangement per style)."""
    records = [json.loads(line) for line in (root / "sheepdog-llm-rewrites" / "politifact_train.jsonl")
               .read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = []
    for style in sorted({r["style"] for r in records}):
        mine = [r for r in records if r["style"] == style]
        for r, other in zip(mine, (mine[k] for k in _derangement(len(mine), seed=len(style)))):
            base = {"dataset": "sheepdog", "group": r["article_id"], "a_id": r["article_id"], "a": r["original"]}
            rows.append({**base, "kind": style, "b_id": f"{r['article_id']}:{style}", "b": r["rewrite"], "label": 1})
            rows.append({**base, "kind": f"{style} negative", "b_id": f"{other['article_id']}:{style}",
                         "b": other["rewrite"], "label": 0})
    return _pairs(rows)


def uppc(root: Path) -> pd.DataFrame:
    """UPPC Urdu: each (original, derived) pair of all_files.txt; P = paraphrased (1), NP =
    written independently on the same person (0). The class comes from the list, not file names."""
    folder = root / "uppc_urdu" / "UPPC Corpus"
    texts = {path.name: ET.parse(path).getroot().text or "" for path in sorted((folder / "data").glob("*.xml"))}
    rows = [{"dataset": "uppc", "group": source, "kind": label, "a_id": source, "b_id": derived,
             "a": texts[source], "b": texts[derived], "label": int(label == "P")}
            for source, derived, label in csv.reader(io.StringIO((folder / "all_files.txt").read_text("utf-8")))]
    return _pairs(rows)


_ONESTOP_WRONG = {"Royal Baby-ele", "WNL Arctic Ramadan-ele", "WNL The millenials-ele"}  # SOURCE.md: other stories


def _onestop_texts(root: Path) -> dict[str, dict[str, str]]:
    """level -> title -> text, the UTF-8 copies (Int-Txt/Int-Txt), without the wrong Ele files."""
    base = root / "onestopenglish_news_rewrites" / "Texts-SeparatedByReadingLevel"
    folders = {"adv": base / "Adv-Txt", "int": base / "Int-Txt" / "Int-Txt", "ele": base / "Ele-Txt"}
    texts: dict[str, dict[str, str]] = {}
    for level, folder in folders.items():
        for path in sorted(folder.glob("*.txt")):
            if path.stem not in _ONESTOP_WRONG:
                texts.setdefault(level, {})[path.stem.rsplit("-", 1)[0]] = _decode(path.read_bytes())
    return texts


def _shares_a_topic(title_a: str, title_b: str) -> bool:
    """Two OneStopEnglish titles on one topic ("NSA scandal" / "NSA 2"): a word in common."""
    words = [set(re.findall(r"\w+", t.lower().removeprefix("wnl "))) for t in (title_a, title_b)]
    return bool(words[0] & words[1])


def onestop(root: Path) -> pd.DataFrame:
    """OneStopEnglish: adv→int, adv→ele, int→ele per title (teachers' rewrites, 1), and each Adv
    against another title's Int (0; a seeded derangement, titles sharing a word left out)."""
    texts = _onestop_texts(root)
    rows = []
    for a_level, b_level in (("adv", "int"), ("adv", "ele"), ("int", "ele")):
        for title in sorted(set(texts[a_level]) & set(texts[b_level])):
            rows.append({"dataset": "onestop", "group": title, "kind": f"{a_level}→{b_level}",
                         "a_id": f"{title}-{a_level}", "b_id": f"{title}-{b_level}",
                         "a": texts[a_level][title], "b": texts[b_level][title], "label": 1})
    titles = sorted(set(texts["adv"]) & set(texts["int"]))
    for title, other in zip(titles, (titles[k] for k in _derangement(len(titles), seed=5))):
        if not _shares_a_topic(title, other):
            rows.append({"dataset": "onestop", "group": title, "kind": "negative", "a_id": f"{title}-adv",
                         "b_id": f"{other}-int", "a": texts["adv"][title], "b": texts["int"][other], "label": 0})
    return _pairs(rows)


_DETOKENISE = [(re.compile(r"\s+([.,;:!?%)\]}'])"), r"\1"), (re.compile(r"([(\[{$])\s+"), r"\1"),
               (re.compile(r"\s+(n't|'s|'re|'ve|'ll|'d|'m)\b"), r"\1"), (re.compile(r"``\s*|\s*''"), '"')]


def _ecb_text(path: Path) -> tuple[str, str]:
    """An ECB+ article's text, sentences joined and tokens put back together, and its outlet
    (from the ecbplus URL in sentence 0, which is dropped)."""
    sentences: dict[int, list[str]] = {}
    for token in ET.parse(path).getroot().iter("token"):
        sentences.setdefault(int(token.get("sentence")), []).append(token.text or "")
    outlet = ""
    if path.name.endswith("ecbplus.xml") and 0 in sentences:
        outlet = "".join(sentences.pop(0))
    lines = []
    for number in sorted(sentences):
        line = " ".join(sentences[number])
        for pattern, replacement in _DETOKENISE:
            line = pattern.sub(replacement, line)
        lines.append(line)
    return "\n".join(lines), outlet


def ecbplus(root: Path) -> pd.DataFrame:
    """ECB+: pairs of articles of one topic. Same sub-topic (one event, written by different
    outlets) and other sub-topic (a similar event): 0, but for near-verbatim wire copies (word
    5-gram Jaccard > 0.5, SOURCE.md's 2%), kind "wire copy", 1."""
    rows = []
    for folder in sorted((root / "ecbplus_news_events" / "ECB+_LREC2014" / "ECB+").iterdir(), key=lambda p: int(p.name)):
        docs = [(path.stem, *_ecb_text(path)) for path in sorted(folder.glob("*.xml"))]
        for (id_a, text_a, _), (id_b, text_b, _) in itertools.combinations(docs, 2):
            same = id_a.endswith("plus") == id_b.endswith("plus")
            copied = _word_jaccard(text_a, text_b) > 0.5
            rows.append({"dataset": "ecbplus", "group": folder.name,
                         "kind": "wire copy" if copied else ("same event" if same else "similar event"),
                         "a_id": id_a, "b_id": id_b, "a": text_a, "b": text_b, "label": int(copied)})
    return _pairs(rows)


def _word_jaccard(a: str, b: str, k: int = 5) -> float:
    grams = [{tuple(words[i:i + k]) for i in range(len(words) - k + 1)}
             for words in (re.findall(r"\w+", t.lower()) for t in (a, b))]
    return len(grams[0] & grams[1]) / max(len(grams[0] | grams[1]), 1)


def clough_pairs(root: Path) -> pd.DataFrame:
    """Clough–Stevenson: each answer against its task's source; cut/light/heavy derived (1), non 0."""
    documents, truth = clough_stevenson(root)
    text = dict(zip(documents.doc_id, documents.text))
    rows = [{"dataset": "clough", "group": t.source, "kind": t.label, "a_id": t.source, "b_id": t.answer,
             "a": text[t.source], "b": text[t.answer], "label": int(t.label != "non")} for t in truth.itertuples()]
    return _pairs(rows)


def bbc_pairs(root: Path, seed: int = 0) -> pd.DataFrame:
    """BBC News: each article against its own summary (1, an excerpt), and against the summary of
    another article of its category (0, same topic; a seeded derangement per category; twins of
    identical articles left out of the negatives)."""
    documents, truth = bbc(root)
    text = dict(zip(documents.doc_id, documents.text))
    rows = []
    for category in sorted({a.split(":")[1].split("/")[0] for a in truth.article}):
        mine = truth[truth.article.str.startswith(f"article:{category}/")].reset_index(drop=True)
        for k, other in enumerate(_derangement(len(mine), seed=seed + len(category))):
            article, summary, foreign = mine.article[k], mine.summary[k], mine.summary[other]
            base = {"dataset": "bbc", "group": article, "a_id": article, "a": text[article]}
            rows.append({**base, "kind": "own summary", "b_id": summary, "b": text[summary], "label": 1})
            if text[mine.article[other]].split() != text[article].split():
                rows.append({**base, "kind": "other summary", "b_id": foreign, "b": text[foreign], "label": 0})
    return _pairs(rows)


def msrp_pairs(root: Path) -> pd.DataFrame:
    """MSRP train: sentence pairs, paraphrase (1) or not (0)."""
    lines = (root / "msrp" / "msr_paraphrase_train.txt").read_text(encoding="utf-8-sig").splitlines()
    rows = [{"dataset": "msrp", "group": f"msrp:{fields[1]}", "kind": "paraphrase" if fields[0] == "1" else "not",
             "a_id": fields[1], "b_id": fields[2], "a": fields[3], "b": fields[4], "label": int(fields[0])}
            for fields in (line.split("\t") for line in lines[1:] if line)]
    return _pairs(rows)


PAIR_SETS = {"sheepdog": sheepdog, "uppc": uppc, "onestop": onestop, "ecbplus": ecbplus, "clough": clough_pairs,
             "bbc": bbc_pairs, "msrp": msrp_pairs}
