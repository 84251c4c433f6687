"""Group related documents: pairs → clusters and groups.

Two groupings, for two users:

* **duplicate clusters** (archivists): connected components of ``duplicate`` and
  ``copy`` edges — copies safe to collapse. Each cluster keeps one document,
  chosen by `Params.keep`, and records why.
* **story groups** (researchers): all relations, grouped by average linkage.
  A link's strength is the share of the more-contained text found in the other
  (0 where no relation was verified); a text or group joins another only when
  its mean strength to *all* members is at least ``story_link``. A commentary
  related to one text of each of two stories is too weakly tied to either
  whole story to chain them together, which single linkage (connected
  components) would do.

The `clusters` table: doc_id, cluster_id, story_id, canonical (the copy a
duplicate cluster keeps), keep_reason. The `groups` table, one row per cluster
or story group of two or more documents: group_id, kind, size, members,
canonical, keep_reason, weakest_link, weakest_strength.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial.distance import squareform

from dedup.params import Params
from dedup.relate import LINKED, link_strength

CLUSTER_COLUMNS = ["doc_id", "cluster_id", "story_id", "canonical", "keep_reason"]
GROUP_COLUMNS = ["group_id", "kind", "size", "members", "canonical", "keep_reason",
                 "weakest_link", "weakest_strength"]


def _components(n: int, edges: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n)) \
        if len(edges) else coo_matrix((n, n))
    return connected_components(graph, directed=False)[1]


def _average_linkage(members: np.ndarray, edges: np.ndarray, strengths: np.ndarray, cut: float) -> np.ndarray:
    """Flat average-linkage labels for one connected component and its own edges."""
    if len(members) == 1:
        return np.zeros(1, dtype=int)
    local = np.searchsorted(members, edges)  # members is sorted
    similarity = np.zeros((len(members), len(members)))
    similarity[local[:, 0], local[:, 1]] = similarity[local[:, 1], local[:, 0]] = strengths
    distance = squareform(1.0 - similarity, checks=False)
    return fcluster(linkage(distance, method="average"), t=1.0 - cut, criterion="distance")


def _story_labels(n: int, edges: np.ndarray, strengths: np.ndarray, cut: float) -> np.ndarray:
    labels = np.empty(n, dtype=object)
    components = _components(n, edges)
    edge_component = components[edges[:, 0]]
    for component in np.unique(components):
        members = np.flatnonzero(components == component)
        own = edge_component == component
        for member, sub in zip(members, _average_linkage(members, edges[own], strengths[own], cut)):
            labels[member] = (component, sub)
    return labels


def _dense_ids(labels: np.ndarray, prefix: str) -> list[str]:
    """Number groups in order of their first member (input order)."""
    numbering: dict[object, int] = {}
    for label in labels:
        numbering.setdefault(label, len(numbering) + 1)
    width = len(str(len(numbering)))
    return [f"{prefix}-{numbering[label]:0{width}d}" for label in labels]


def _keep(members: pd.DataFrame, params: Params) -> tuple[str, str]:
    """(doc_id kept, reason) for one duplicate cluster, by the keep policy."""
    words = members.words
    by_length = members.sort_values("words", ascending=False, kind="stable")
    if params.keep == "sources":
        for source in params.preferred_sources:
            preferred = members[members.source == source]
            if len(preferred):
                return preferred.doc_id.iloc[0], f"preferred source {source!r}"
    if params.keep in ("earliest", "sources"):
        dated = members[members.date != ""].sort_values(["date", "words"], ascending=[True, False],
                                                        kind="stable")
        if len(dated):
            return dated.doc_id.iloc[0], (f"earliest date {dated.date.iloc[0]} "
                                          f"({len(dated)} of {len(members)} copies dated)")
        return by_length.doc_id.iloc[0], f"no dates; most complete ({words.max()} words)"
    return by_length.doc_id.iloc[0], f"longest ({words.max()} words)"


def _weakest(members: set[str], pairs: pd.DataFrame) -> tuple[str, float]:
    inside = pairs[pairs.doc_a.isin(members) & pairs.doc_b.isin(members)]
    if not len(inside):
        return "", float("nan")
    row = inside.loc[inside.strength.idxmin()]
    return f"{row.doc_a} ~ {row.doc_b} ({row.relation})", round(float(row.strength), 4)


def group(documents: pd.DataFrame, pairs: pd.DataFrame, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The clusters and groups tables for the ``ok`` documents."""
    docs = documents.loc[documents.status == "ok", ["doc_id", "source", "date", "text"]].reset_index(drop=True)
    docs["words"] = docs.text.str.split().str.len()
    index = {doc: i for i, doc in enumerate(docs.doc_id)}
    linked = pairs[pairs.relation.isin(LINKED)].assign(strength=lambda p: link_strength(p))
    edges = np.array([[index[a], index[b]] for a, b in zip(linked.doc_a, linked.doc_b)],
                     dtype=np.int64).reshape(-1, 2)
    archival = linked.relation.isin(("duplicate", "copy")).to_numpy()

    docs["cluster_id"] = _dense_ids(_components(len(docs), edges[archival]), "dup")
    docs["story_id"] = _dense_ids(_story_labels(len(docs), edges, linked.strength.to_numpy(),
                                                params.story_link), "story")
    docs["canonical"], docs["keep_reason"] = True, "single copy"
    groups = []
    for kind, column in (("duplicate_cluster", "cluster_id"), ("story", "story_id")):
        for group_id, members in docs.groupby(column, sort=True):
            if len(members) < 2:
                continue
            canonical, reason = _keep(members, params) if kind == "duplicate_cluster" else ("", "")
            if kind == "duplicate_cluster":
                docs.loc[members.index, "canonical"] = members.doc_id == canonical
                docs.loc[members.index, "keep_reason"] = np.where(
                    members.doc_id == canonical, reason, f"folds into {canonical}")
            weakest, weakest_strength = _weakest(set(members.doc_id), linked)
            groups.append((group_id, kind, len(members), ";".join(members.doc_id), canonical, reason,
                           weakest, weakest_strength))
    return docs[CLUSTER_COLUMNS], pd.DataFrame(groups, columns=GROUP_COLUMNS)
