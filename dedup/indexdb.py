"""The archive index's storage: one SQLite database in WAL mode (`dedup.index`).

Tables (the pairs, clusters and groups tables are `dedup.schema`'s, column for column):

    meta        name → value: format, params (JSON), words_documents, next ids per prefix
    batches     one row per add: batch, started, finished, outcomes (JSON); finished is set
                in the add's transaction, so every batch stored finished
    documents   key (the order added), every `dedup.read.COLUMNS` field, sha256 of the text,
                words, batch; an ok document's id once
    signatures  key → document signature, sentence signatures (uint32 bytes, row-major)
    bands       (band key, document key), both LSH paths' keys in one column; the
                sentence path's are xor-ed with `dedup.index.SENTENCE_KEYS`
    words       word hash → documents holding it (`dedup.weights`)
    pairs, clusters, groups   as a scan's tables, stable ids; events: batch, kind, group_id,
                other_id, reason (`dedup.stable`)

Hashes and band keys are uint64 stored as SQLite's signed 64-bit integers (the same bits).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from dedup.params import Params
from dedup.read import COLUMNS, InputError
from dedup.schema import STORE, Table
from dedup.stable import EVENT_COLUMNS
from dedup.weights import DocumentFrequencies

FORMAT = "dedup-index 1"
APPLICATION_ID = 0x64656475  # "dedu": PRAGMA application_id, telling our files from other SQLite files
PREFIXES = ("dup", "story")
_SQL_TYPES = {"str": "TEXT", "int64": "INTEGER", "Int64": "INTEGER", "float64": "REAL", "bool": "INTEGER"}
_DOCUMENT_COLUMNS = [c for c in COLUMNS if c != "doc_id"]


class ArchiveError(InputError):
    """An index that cannot be opened or written, or an add or query it cannot take."""


def _create_table(table: Table, extra: str = "") -> str:
    columns = ", ".join(f'"{name}" {_SQL_TYPES[dtype]}' for name, dtype in table.columns)
    return f"CREATE TABLE {table.name} ({columns}{extra})"


_SCHEMA = [
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE batches (batch INTEGER PRIMARY KEY, started TEXT, finished TEXT, outcomes TEXT)",
    "CREATE TABLE documents (key INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, "
    + ", ".join(f'"{c}" TEXT' for c in _DOCUMENT_COLUMNS) + ", sha256 TEXT NOT NULL, words INTEGER, batch INTEGER)",
    "CREATE UNIQUE INDEX held_ok ON documents (doc_id) WHERE status = 'ok'",
    "CREATE INDEX held_any ON documents (doc_id, sha256)",
    "CREATE TABLE signatures (key INTEGER PRIMARY KEY, document BLOB NOT NULL, sentences BLOB NOT NULL)",
    "CREATE TABLE bands (band INTEGER, key INTEGER, PRIMARY KEY (band, key)) WITHOUT ROWID",
    "CREATE TABLE words (hash INTEGER PRIMARY KEY, documents INTEGER NOT NULL)",
    _create_table(STORE["pairs"], ", batch INTEGER, PRIMARY KEY (doc_a, doc_b)"),
    _create_table(STORE["clusters"], ", PRIMARY KEY (doc_id)"),
    _create_table(STORE["groups"]),
    "CREATE TABLE events (batch INTEGER, " + ", ".join(f"{c} TEXT" for c in EVENT_COLUMNS) + ")",
]


def open_index(path: Path, params: Params) -> sqlite3.Connection:
    """The index at path, made (with params) when there is no file or an empty one; an
    ArchiveError naming the path when it is not a dedup index."""
    if path.is_dir():
        raise ArchiveError(f"{path}: is a folder, not an index file")
    fresh = not path.exists() or path.stat().st_size == 0
    if fresh and not path.parent.is_dir():
        raise ArchiveError(f"{path}: its folder does not exist")
    try:
        db = sqlite3.connect(path, isolation_level=None, timeout=0.5)
        if fresh:
            _create(db, params)
        _check(db, path)
        db.execute("PRAGMA journal_mode = WAL")
    except sqlite3.DatabaseError as err:  # not SQLite, or damaged
        raise ArchiveError(f"{path}: not a dedup index ({err})") from err
    return db


def _create(db: sqlite3.Connection, params: Params) -> None:
    db.execute("BEGIN IMMEDIATE")
    for statement in _SCHEMA:
        db.execute(statement)
    db.executemany("INSERT INTO meta VALUES (?, ?)",
                   [("format", FORMAT), ("params", json.dumps(params.to_dict(), sort_keys=True)),
                    ("words_documents", "0"), *((f"next_{prefix}", "1") for prefix in PREFIXES)])
    db.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    db.execute("COMMIT")


def _check(db: sqlite3.Connection, path: Path) -> None:
    if db.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
        raise ArchiveError(f"{path}: an SQLite database, but not a dedup index")
    found = db.execute("SELECT value FROM meta WHERE name = 'format'").fetchone()
    if found is None or found[0] != FORMAT:
        raise ArchiveError(f"{path}: a dedup index of another format ({found[0] if found else 'none'}; "
                             f"this dedup reads {FORMAT})")


def stored_params(db: sqlite3.Connection) -> Params:
    return Params(**json.loads(db.execute("SELECT value FROM meta WHERE name = 'params'").fetchone()[0]))


@contextmanager
def writing(db: sqlite3.Connection, path: Path) -> Iterator[None]:
    """One write transaction: committed when the block ends, undone if it raises (or if the
    process dies: SQLite's journal undoes it when the file is next opened)."""
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as err:
        raise ArchiveError(f"{path}: another process is adding to this index ({err})") from err
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def new_batch(db: sqlite3.Connection) -> int:
    cursor = db.execute("INSERT INTO batches (started) VALUES (?)", (_now(),))
    return int(cursor.lastrowid or 0)


def finish_batch(db: sqlite3.Connection, batch: int, outcomes: dict[str, int]) -> None:
    db.execute("UPDATE batches SET finished = ?, outcomes = ? WHERE batch = ?",
               (_now(), json.dumps({k: int(v) for k, v in outcomes.items()}), batch))


def next_key(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT coalesce(max(key), -1) + 1 FROM documents").fetchone()[0])


def _probe(db: sqlite3.Connection, name: str, values: Sequence[object]) -> str:
    """A temporary one-column table of values to join with (its name)."""
    db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} (value PRIMARY KEY) WITHOUT ROWID")
    db.execute(f"DELETE FROM {name}")
    db.executemany(f"INSERT OR IGNORE INTO {name} VALUES (?)", ((v,) for v in values))
    return f"temp.{name}"


def held(db: sqlite3.Connection, ids: pd.Series) -> pd.DataFrame:
    """doc_id, sha256 and status of the records held with these ids."""
    probe = _probe(db, "probe_ids", ids.tolist())
    rows = db.execute(f"SELECT doc_id, sha256, status FROM {probe} CROSS JOIN documents ON doc_id = value")
    return pd.DataFrame(rows.fetchall(), columns=["doc_id", "sha256", "status"], dtype=object)


def insert_documents(db: sqlite3.Connection, documents: pd.DataFrame, batch: int) -> None:
    """documents: a documents table with key, sha256 and words."""
    columns = ["key", "doc_id", *_DOCUMENT_COLUMNS, "sha256", "words"]
    rows = documents[columns].astype({"key": "int64", "words": "int64"}).itertuples(index=False, name=None)
    quoted = ", ".join(f'"{c}"' for c in columns)
    try:
        db.executemany(f"INSERT INTO documents ({quoted}, batch) VALUES ({', '.join('?' * len(columns))}, {batch})",
                       ((int(r[0]), *r[1:-1], int(r[-1])) for r in rows))
    except sqlite3.IntegrityError as err:  # a documents table given as it is, two ok rows of one id
        repeated = documents.doc_id[(documents.status == "ok") & documents.doc_id.duplicated()]
        raise ArchiveError(f"records {', '.join(map(repr, repeated[:3]))}: an id given to two ok records ({err})") \
            from err


def insert_signatures(db: sqlite3.Connection, keys: np.ndarray, doc_sigs: np.ndarray,
                      sentences: list[np.ndarray]) -> None:
    db.executemany("INSERT INTO signatures VALUES (?, ?, ?)",
                   ((int(key), doc.astype(np.uint32).tobytes(), sent.astype(np.uint32).tobytes())
                    for key, doc, sent in zip(keys, doc_sigs, sentences)))


def staging(db: sqlite3.Connection) -> None:
    """Empty tables (this connection's, gone with it) that an add's band keys and word counts
    are appended to, block by block, until `merge_staged` writes them into the index."""
    for name, columns in (("new_bands", "band INTEGER, key INTEGER"), ("new_words", "hash INTEGER, documents INTEGER")):
        db.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ({columns})")
        db.execute(f"DELETE FROM temp.{name}")


def stage_bands(db: sqlite3.Connection, bands: np.ndarray, keys: np.ndarray) -> None:
    db.executemany("INSERT INTO temp.new_bands VALUES (?, ?)", zip(bands.tolist(), keys.tolist()))


def stage_words(db: sqlite3.Connection, frequencies: DocumentFrequencies) -> None:
    """Stage a block's word document counts (added to the index's by `merge_staged`)."""
    db.executemany("INSERT INTO temp.new_words VALUES (?, ?)",
                   zip(frequencies.hashes.view(np.int64).tolist(), frequencies.counts.tolist()))
    db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE name = 'words_documents'",
               (frequencies.documents,))


def merge_staged(db: sqlite3.Connection) -> None:
    """Write the staged band keys and word counts into the index, in its tables' key order.
    Inserted block by block, the band keys of a large index (random hashes) dirtied a page of
    its B-tree per row, again for every block; sorted once (SQLite's sorter spills to disk, so
    memory stays bounded), each page is written once per add."""
    db.execute("INSERT OR IGNORE INTO bands SELECT band, key FROM temp.new_bands ORDER BY band, key")
    db.execute("INSERT INTO words SELECT hash, sum(documents) FROM temp.new_words GROUP BY hash ORDER BY hash "
               "ON CONFLICT (hash) DO UPDATE SET documents = documents + excluded.documents")
    staging(db)


def signatures(db: sqlite3.Connection, keys: np.ndarray, params: Params) -> tuple[np.ndarray, np.ndarray,
                                                                                 list[np.ndarray]]:
    """(keys of these that are fingerprinted, ascending; their document signatures; each one's
    sentence signatures)."""
    probe = _probe(db, "probe_keys", [int(k) for k in keys])
    rows = db.execute(f"SELECT key, document, sentences FROM {probe} CROSS JOIN signatures ON key = value "
                      "ORDER BY key").fetchall()
    found = np.array([row[0] for row in rows], np.int64)
    docs = np.frombuffer(b"".join(row[1] for row in rows), np.uint32).reshape(len(rows), params.num_perm)
    sentences = [np.frombuffer(row[2], np.uint32).reshape(-1, params.sentence_num_perm) for row in rows]
    return found, docs, sentences


def bucket_members(db: sqlite3.Connection, bands: np.ndarray, new_counts: np.ndarray, below: int, max_bucket: int,
                   representatives: int) -> np.ndarray:
    """Keys (ascending) of the documents held below ``below`` that share one of these band
    keys: a bucket's all, or when it would hold more than max_bucket with the new documents
    (new_counts of them), its first ``representatives`` (`dedup.candidates`)."""
    db.execute("CREATE TEMP TABLE IF NOT EXISTS probe_bands (band INTEGER PRIMARY KEY, new INTEGER)")
    db.execute("DELETE FROM probe_bands")
    db.executemany("INSERT INTO probe_bands VALUES (?, ?)", zip(bands.view(np.int64).tolist(), new_counts.tolist()))
    return _members(db, "temp.probe_bands", below, max_bucket, representatives)


def staged_bucket_members(db: sqlite3.Connection, below: int, max_bucket: int, representatives: int) -> np.ndarray:
    """`bucket_members` of the band keys staged by this add (`stage_bands`), before they are
    merged: the documents held before it that share a bucket with one of its own."""
    if db.execute("SELECT NOT EXISTS (SELECT 1 FROM bands)").fetchone()[0]:
        return np.empty(0, np.int64)  # a first add: nothing held, so the staged keys need not be grouped (a sort)
    return _members(db, "(SELECT band, count(*) AS new FROM temp.new_bands GROUP BY band)", below, max_bucket,
                    representatives)


def _members(db: sqlite3.Connection, probe: str, below: int, max_bucket: int, representatives: int) -> np.ndarray:
    """`bucket_members` of a probe of (band, new) rows."""
    rows = db.execute(
        "SELECT key FROM (SELECT b.key, p.new, row_number() OVER (PARTITION BY b.band ORDER BY b.key) AS rank, "
        f"count(*) OVER (PARTITION BY b.band) AS size FROM {probe} p CROSS JOIN bands b ON b.band = p.band "
        "WHERE b.key < ?) WHERE size + new <= ? OR rank <= ?", (below, max_bucket, representatives)).fetchall()
    return np.unique(np.array([row[0] for row in rows], np.int64))


def documents(db: sqlite3.Connection, keys: np.ndarray | None = None, ids: Sequence[str] | None = None,
              text: bool = True) -> pd.DataFrame:
    """Documents rows (`dedup.read.COLUMNS`, with words), in key order: all, or of these keys, or
    the ok ones of these ids; without the texts when text is False."""
    columns = ["doc_id", *(c for c in _DOCUMENT_COLUMNS if text or c != "text"), "words"]
    select = "SELECT " + ", ".join(f'd."{c}"' for c in columns) + " FROM"
    # The probe first (CROSS JOIN keeps SQLite's order): a lookup per probed value, not a scan.
    if keys is not None:
        probe = _probe(db, "probe_keys", [int(k) for k in keys])
        query = f"{select} {probe} CROSS JOIN documents d ON d.key = value ORDER BY d.key"
    elif ids is not None:
        probe = _probe(db, "probe_ids", [str(i) for i in ids])
        query = f"{select} {probe} CROSS JOIN documents d ON d.doc_id = value WHERE d.status = 'ok' ORDER BY d.key"
    else:
        query = f"{select} documents d ORDER BY d.key"
    rows = db.execute(query).fetchall()
    frame = pd.DataFrame([row[:-1] for row in rows], columns=columns[:-1], dtype=str)  # one conversion in all
    return frame.assign(words=np.array([row[-1] for row in rows], np.int64))


def frequencies(db: sqlite3.Connection, hashes: np.ndarray, extra: DocumentFrequencies | None) -> DocumentFrequencies:
    """The index's document frequencies of these words, with extra's (documents not held) counted in."""
    probe = _probe(db, "probe_words", hashes.view(np.int64).tolist())
    rows = db.execute(f"SELECT hash, documents FROM {probe} CROSS JOIN words ON hash = value").fetchall()
    found = DocumentFrequencies(np.array([r[0] for r in rows], np.int64).view(np.uint64),
                                np.array([r[1] for r in rows], np.int64),
                                int(db.execute("SELECT value FROM meta WHERE name = 'words_documents'").fetchone()[0]))
    parts = [found] if extra is None else [found, extra]
    order = [np.argsort(part.hashes) for part in parts]
    return DocumentFrequencies.common_of([DocumentFrequencies(p.hashes[o], p.counts[o], p.documents)
                                          for p, o in zip(parts, order)])


def insert_pairs(db: sqlite3.Connection, pairs: pd.DataFrame) -> None:
    names = STORE["pairs"].names
    quoted = ", ".join(f'"{c}"' for c in names)
    db.executemany(f"INSERT OR REPLACE INTO pairs ({quoted}) VALUES ({', '.join('?' * len(names))})",
                   _plain_rows(pairs[names]))


def _plain_rows(frame: pd.DataFrame) -> Iterator[tuple]:
    """Rows as Python values SQLite takes (missing values as NULL)."""
    for row in frame.astype(object).where(frame.notna(), None).itertuples(index=False, name=None):
        yield tuple(value.item() if isinstance(value, np.generic) else value for value in row)


def _table(db: sqlite3.Connection, table: Table, source: str = "") -> pd.DataFrame:
    """A stored table's rows (of source, a FROM clause, if given) with their declared types."""
    columns = ", ".join(f't."{c}"' for c in table.names)
    rows = db.execute(f"SELECT {columns} FROM {source or table.name + ' t'}").fetchall()
    return table.typed(pd.DataFrame(rows, columns=table.names))


def pairs(db: sqlite3.Connection) -> pd.DataFrame:
    return _table(db, STORE["pairs"])


def clusters(db: sqlite3.Connection, ids: Sequence[str] | None = None) -> pd.DataFrame:
    """The clusters table, or its rows of these documents."""
    if ids is None:
        return _table(db, STORE["clusters"])
    probe = _probe(db, "probe_ids", [str(i) for i in ids])
    return _table(db, STORE["clusters"], f"{probe} CROSS JOIN clusters t ON t.doc_id = value")


def groups(db: sqlite3.Connection) -> pd.DataFrame:
    return _table(db, STORE["groups"])


def events(db: sqlite3.Connection) -> pd.DataFrame:
    rows = db.execute("SELECT batch, " + ", ".join(EVENT_COLUMNS) + " FROM events ORDER BY rowid").fetchall()
    return pd.DataFrame(rows, columns=["batch", *EVENT_COLUMNS])


def counters(db: sqlite3.Connection) -> dict[str, int]:
    return {prefix: int(db.execute("SELECT value FROM meta WHERE name = ?", (f"next_{prefix}",)).fetchone()[0])
            for prefix in PREFIXES}


def set_counters(db: sqlite3.Connection, numbers: dict[str, int]) -> None:
    db.executemany("UPDATE meta SET value = ? WHERE name = ?",
                   [(str(number), f"next_{prefix}") for prefix, number in numbers.items()])


def replace_groups(db: sqlite3.Connection, clusters_table: pd.DataFrame, groups_table: pd.DataFrame,
                   events_table: pd.DataFrame, batch: int) -> None:
    for table, frame in ((STORE["clusters"], clusters_table), (STORE["groups"], groups_table)):
        db.execute(f"DELETE FROM {table.name}")
        quoted = ", ".join(f'"{c}"' for c in table.names)
        db.executemany(f"INSERT INTO {table.name} ({quoted}) VALUES ({', '.join('?' * len(table.names))})",
                       _plain_rows(table.typed(frame)))
    db.executemany(f"INSERT INTO events VALUES ({batch}, ?, ?, ?, ?)", _plain_rows(events_table[EVENT_COLUMNS]))
