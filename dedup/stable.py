"""Stable group ids: the ids a new grouping takes from the one before it.

Grouping (`dedup.cluster.group`) numbers its clusters and story groups afresh each
time. An archive must not renumber them when documents are added: a cluster that
only gains members keeps its id. `carry` matches each new group with the earlier
ids of its members, greedily by the number of members shared (most first; ties to
the older id), each earlier id going to one new group at most:

* a group whose members held one id keeps it (new members *join*);
* a group whose members held several keeps the id most of them held; each other id
  is recorded as *merged* into it;
* an id whose members now lie in several groups stays with the group holding most of
  them; the others are recorded as *split* from it and take new ids;
* a group of documents none of which held an id takes the next new id.

Ids are ``PREFIX-N`` with N counted on from the largest ever given (``next_number``),
so an id is never given twice.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

EVENT_COLUMNS = ["kind", "group_id", "other_id", "reason"]


@dataclass(frozen=True)
class Carried:
    """ids: new label → stable id; events (EVENT_COLUMNS): merges and splits; next_number: the
    number the next new id takes."""

    ids: dict[str, str]
    events: pd.DataFrame
    next_number: int


def stable_id(prefix: str, number: int) -> str:
    return f"{prefix}-{number:06d}"


def carry(earlier: pd.Series, labels: pd.Series, prefix: str, next_number: int) -> Carried:
    """Stable ids for the groups of labels (doc_id → new label) from earlier (doc_id → stable
    id, for the documents that had one)."""
    shared = (pd.DataFrame({"label": labels, "earlier": earlier.reindex(labels.index)})
              .dropna().groupby(["label", "earlier"]).size().rename("shared").reset_index()
              .sort_values(["shared", "earlier"], ascending=[False, True], kind="stable"))
    rows = list(shared.itertuples(index=False, name=None))
    ids: dict[str, str] = {}
    kept: set[str] = set()  # earlier ids a new group keeps
    for label, old, _ in rows:
        if label not in ids and old not in kept:
            ids[label] = old
            kept.add(old)
    for label in pd.unique(labels.to_numpy()):
        if label not in ids:
            ids[label], next_number = stable_id(prefix, next_number), next_number + 1
    events, merged = [], set()
    for label, old, count in rows:
        if ids[label] == old:
            continue
        if old in kept or old in merged:
            events.append(("split", ids[label], old, f"{count} of its documents were in {old}"))
        else:
            events.append(("merge", ids[label], old, f"{count} of its documents were in {old}"))
            merged.add(old)
    return Carried(ids, pd.DataFrame(events, columns=EVENT_COLUMNS), next_number)
