"""Who copies whom: the related pairs read by outlet, documents + pairs → outlets.

A pair whose direction is known (`dedup.relate.orient_pair`: its ``source_doc``)
between texts of two different sources says that the copy's source took text
from the origin's. A source's own republications are not counted: they are no
taking from another. Per document, the share *reused* is the largest share of
its text found in an earlier text of another source (`dedup.html.reappears` of
the copy's side; the largest, not the sum, since two origins may hold the same
sentences), and a source's originality is one minus its documents' mean.

The `outlets` table, one row per source of a scanned document ("" when a
document has none), most documents first: source, documents, copies (its
documents that reuse another source's earlier text), originality, takes_from
and gives_to (the sources it takes most from and that take most from it, as
``name (copies)``, three at most, most first: a copy counts once per source it took
from, however many of that source's texts it matched), median_delay_days (from its text
to another source's copy, both dated; empty when none is).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from dedup.relate import LINKED, MATCH_LEVELS

OUTLET_COLUMNS = ["source", "documents", "copies", "originality", "takes_from", "gives_to", "median_delay_days"]
NAMED = 3  # sources named in takes_from and gives_to


def outlets(documents: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """The outlets table (see the module docstring) of a scan's documents and pairs tables."""
    scanned = documents[documents.status == "ok"]
    source_of = _sources(scanned)
    date_of = pd.Series(pd.to_datetime(scanned.date.fillna("").astype(str), format="%Y-%m-%d",
                                       errors="coerce").to_numpy(), index=scanned.doc_id.to_numpy())
    flows = _flows(pairs, source_of)
    reused = flows.groupby("copy_doc").reused.max()
    per_source = pd.DataFrame({"documents": source_of.value_counts()})
    by_source = reused.groupby(source_of.reindex(reused.index).to_numpy())
    per_source["copies"] = by_source.size().reindex(per_source.index, fill_value=0)
    per_source["originality"] = (1 - by_source.sum().reindex(per_source.index, fill_value=0.0)
                                 / per_source.documents).round(4)
    per_source["takes_from"] = _most(flows, "copy_source", "origin_source").reindex(per_source.index, fill_value="")
    per_source["gives_to"] = _most(flows, "origin_source", "copy_source").reindex(per_source.index, fill_value="")
    delay = (date_of.reindex(flows.copy_doc).to_numpy() - date_of.reindex(flows.origin).to_numpy()) \
        / np.timedelta64(1, "D")
    delays = pd.Series(delay).groupby(flows.origin_source.to_numpy()).median()
    per_source["median_delay_days"] = delays.reindex(per_source.index)
    table = per_source.rename_axis("source").reset_index()
    return table.sort_values(["documents", "source"], ascending=[False, True], kind="stable")[OUTLET_COLUMNS] \
        .reset_index(drop=True)


def copying(documents: pd.DataFrame, pairs: pd.DataFrame) -> pd.DataFrame:
    """Who copies whom: the copies across two sources, from related pairs with a known direction,
    counted by the origin's source (rows) and the copy's (columns), each copy once per origin
    source; empty when there are none."""
    taken = _taken(_flows(pairs, _sources(documents[documents.status == "ok"])))
    return taken.groupby(["origin_source", "copy_source"]).size().unstack(fill_value=0)


def _sources(scanned: pd.DataFrame) -> pd.Series:
    """doc_id → source ("" for none) of the scanned documents."""
    return pd.Series(scanned.source.fillna("").astype(str).to_numpy(), index=scanned.doc_id.to_numpy())


def _flows(pairs: pd.DataFrame, source_of: pd.Series) -> pd.DataFrame:
    """Per directed related pair across two sources: origin, copy, their sources, and the share
    of the copy's text found in the origin."""
    directed = pairs[pairs.relation.isin(LINKED) & (pairs.source_doc.fillna("") != "")]
    copy_is_b = (directed.source_doc == directed.doc_a).to_numpy()
    share = {side: sum(directed[f"{side}_{level}"].astype(float) for level in MATCH_LEVELS).clip(upper=1.0)
             for side in ("a", "b")}
    flows = pd.DataFrame({"origin": directed.source_doc.to_numpy(),
                          "copy_doc": np.where(copy_is_b, directed.doc_b, directed.doc_a),
                          "reused": np.where(copy_is_b, share["b"], share["a"])})
    flows["origin_source"] = source_of.reindex(flows.origin).to_numpy()
    flows["copy_source"] = source_of.reindex(flows.copy_doc).to_numpy()
    return flows[flows.origin_source != flows.copy_source].reset_index(drop=True)


def _taken(flows: pd.DataFrame) -> pd.DataFrame:
    """One flow per copy and origin source: a copy counts once however many texts of a source it
    matched (two captures of one page, a story and its update)."""
    return flows.drop_duplicates(["copy_doc", "origin_source"])


def _most(flows: pd.DataFrame, by: str, other: str) -> pd.Series:
    """Per value of by: the NAMED values of other it meets most, as "name (copies); ...", most first."""
    counts = _taken(flows).groupby([by, other]).size().rename("n").reset_index()
    counts = counts.sort_values([by, "n", other], ascending=[True, False, True], kind="stable")
    named: dict[str, str] = {}
    for key, rows in counts.groupby(by, sort=False):
        named[key] = "; ".join(f"{name or '(no source)'} ({n})" for name, n in zip(rows[other][:NAMED], rows.n[:NAMED]))
    return pd.Series(named, dtype=object)
