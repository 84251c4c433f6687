"""Synthetic corpora written for the tests: one story, its copies, and a same-topic
article written independently; and `syndication_corpus`, thousands of texts in
families of related ones, for comparing engines."""

from __future__ import annotations

import json
import random
import string
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from dedup.read import read_documents

STORY = """Flood barriers hold as river peaks in Marlow Bend

By Dana Whitfield

MARLOW BEND — The river cresting through Marlow Bend reached 6.2 metres on Tuesday night, the highest level recorded since 1987, but the temporary barriers installed last week held along the entire waterfront.

Mayor Celia Ortmann said the town had been "one sandbag away from disaster" and thanked the 340 volunteers who filled bags through the weekend. Emergency crews evacuated 58 homes on Dock Street as a precaution.

The barriers, a modular system borrowed from the neighbouring county, were assembled in under two days by engineers from the regional water authority. Officials had warned that the old earthen levee would fail above 5.5 metres.

Farmers north of the town were less fortunate. About 1,200 hectares of winter wheat were flooded when a drainage channel overflowed near the Halden crossroads, according to the agricultural cooperative.

Forecasters expect the water to recede slowly over the next four days, and the town council will meet on Friday to discuss a permanent flood wall. A similar proposal was rejected in 2014 because of its cost, estimated then at 19 million euros.

Residents who left their homes have been housed at the sports hall on Linden Road, where the Red Cross is providing meals and blankets. The mayor said nobody had been injured.
"""

# The same article as another site prints it: new headline, no byline, two small edits.
NEAR_COPY = (STORY
             .replace("Flood barriers hold as river peaks in Marlow Bend", "Marlow Bend barriers withstand record river crest")
             .replace("By Dana Whitfield\n\n", "")
             .replace("through the weekend", "over the weekend")
             .replace("The mayor said nobody", "Mayor Ortmann said nobody"))

_paragraphs = STORY.split("\n\n")
# A wire copy trimmed for print: the last two paragraphs cut.
TRIMMED = "\n\n".join(_paragraphs[:-2]) + "\n"

# Written independently about the same flood: same place and people, other facts and words.
SAME_TOPIC = """Volunteers count the cost after Marlow Bend flood

Opinion by Peter Lang

When I drove into Marlow Bend on Wednesday morning, the main square smelled of mud and diesel. Shopkeepers were dragging ruined stock onto the pavement while children watched from the church steps.

Every spring we are told the river is under control. This year the council waited until the last moment before asking for help, and it was ordinary people, not the authorities, who kept the water out of the old town.

The bakery on Mill Lane lost its ovens. The owner, who has run the shop for thirty years, told me she does not know whether her insurance will pay anything at all.

Celia Ortmann has promised a debate about protection, yet the same debate has been promised after every flood I can remember. Talk is cheap; concrete is not.

If the region wants its small towns to survive, it must decide now who pays for the defences, before the next winter storm arrives and the whole argument starts again.
"""

_HEBREW = str.maketrans(string.ascii_lowercase + string.ascii_uppercase, "אבגדהוזחטיכלמנסעפצקרשתךםןף" * 2)


def in_hebrew_letters(text: str) -> str:
    """The text with its Latin letters replaced by Hebrew ones: a right-to-left text of the same shape."""
    return text.translate(_HEBREW)


# --- a corpus of many families of related texts, for the engines' equality tests -----------

DEMO = Path(__file__).resolve().parent.parent / "demo"
SOURCES = [f"Valley Courier {i}" for i in range(12)]
DATES = ["", "", "2021-09-01", "2021-09-02", "2021-09-03"]


def _cipher(rng: random.Random) -> Callable[[str], str]:
    """A random permutation of letters (case kept) and digits: text keeps its shape, loses its words."""
    letters, digits = list(string.ascii_lowercase), list(string.digits)
    rng.shuffle(letters)
    rng.shuffle(digits)
    table = str.maketrans(string.ascii_lowercase + string.ascii_uppercase + string.digits,
                          "".join(letters) + "".join(letters).upper() + "".join(digits))
    return lambda text: text.translate(table)


def _paragraphs(text: str) -> list[str]:
    return [p for p in text.replace("\n\n", "\n").split("\n") if p.strip()]


def syndication_corpus(n_docs: int, seed: int = 7) -> pd.DataFrame:
    """Records (id, text, source, date): families of related texts, then unrelated texts.

    A quarter of the texts end with their source's line (plain English, so it
    repeats across unrelated stories: site furniture)."""
    rng = random.Random(seed)
    demo = list(read_documents([DEMO / "articles"]).text)
    story_family = [STORY, NEAR_COPY, TRIMMED, SAME_TOPIC]
    rows: list[dict[str, str]] = []

    def add(text: str) -> None:
        source = rng.choice(SOURCES)
        if rng.random() < 0.25:
            text += f"\n\n{source} readers can reach the newsroom desk around the clock."
        rows.append({"id": f"doc-{len(rows):05d}", "text": text, "source": source, "date": rng.choice(DATES)})

    for _ in range(4):  # a paraphrase, a summary, a commentary: rewrite, partial, rejected
        encipher = _cipher(rng)
        for text in demo:
            add(encipher(text))
    for _ in range(40):  # duplicates, copies, reordered, a lede inserted (contained), an excerpt (partial)
        encipher = _cipher(rng)
        story = _paragraphs(encipher(STORY))
        for text in story_family:
            add(encipher(text))
        add("\n\n".join(rng.sample(story, len(story))))
        other = _paragraphs(_cipher(rng)(rng.choice(demo)))
        start = rng.randrange(0, len(other) - 6)
        add("\n\n".join(story[:1] + other[start:start + 2] + story[1:]))
        add("\n\n".join(other[start + 2:start + 6] + story[2:4]))
    for _ in range(60):  # a passage of a demo article, copied whole, trimmed and reordered
        paragraphs = _paragraphs(_cipher(rng)(rng.choice(demo)))
        size = rng.randint(4, 7)
        start = rng.randrange(0, len(paragraphs) - size)
        chunk = paragraphs[start:start + size]
        for text in (chunk, chunk, chunk[:-2], rng.sample(chunk, len(chunk))):
            add("\n\n".join(text))
    while len(rows) < n_docs:  # unrelated
        paragraphs = _paragraphs(_cipher(rng)(rng.choice(demo + story_family)))
        size = rng.randint(2, 6)
        start = rng.randrange(0, max(1, len(paragraphs) - size))
        add("\n\n".join(paragraphs[start:start + size]))
    return pd.DataFrame(rows)


def bad_records(corpus: pd.DataFrame) -> list[str]:
    """JSONL records for every read rule: bad JSON, not an object, empty, not a string, a repeated
    id (the same record again, so no field of the first changes), no id, a bad date, too short."""
    last = corpus.iloc[-1].to_dict()
    return ['{"id": "extra-empty", "text": ""}', "not json at all", "[1, 2]", "",
            json.dumps(last), '{"id": "extra-number", "text": 42}',
            json.dumps({"text": SAME_TOPIC.split("\n\n")[2]}),
            json.dumps({"id": "extra-date", "text": SAME_TOPIC.split("\n\n")[3], "date": "not a date"}),
            '{"id": "extra-short", "text": "Too short."}']
