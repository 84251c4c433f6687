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
    """Flat average-linkage labels for one connected component of two or more documents and its own edges."""
    if len(members) == 2 and len(edges) == 1:  # the common case, without scipy's per-call checks
        return np.array([1, 1] if 1.0 - strengths[0] <= 1.0 - cut else [1, 2])
    local = np.searchsorted(members, edges)  # members is sorted
    similarity = np.zeros((len(members), len(members)))
    similarity[local[:, 0], local[:, 1]] = similarity[local[:, 1], local[:, 0]] = strengths
    distance = squareform(1.0 - similarity, checks=False)
    return fcluster(linkage(distance, method="average"), t=1.0 - cut, criterion="distance")


def _story_labels(n: int, edges: np.ndarray, strengths: np.ndarray, cut: float) -> list[tuple[int, int]]:
    """(connected component, average-linkage group inside it) of each document."""
    components = _components(n, edges)
    labels = [(c, 0) for c in components.tolist()]
    by_component = np.argsort(components, kind="stable")  # members in input order inside each component
    starts = np.flatnonzero(np.r_[True, np.diff(components[by_component]) != 0]) if n else np.empty(0, np.int64)
    edge_component = components[edges[:, 0]]
    edge_order = np.argsort(edge_component, kind="stable")
    ids = components[by_component[starts]]
    edge_starts = np.searchsorted(edge_component[edge_order], ids, side="left")
    edge_stops = np.searchsorted(edge_component[edge_order], ids, side="right")
    for start, stop, edge_start, edge_stop in zip(starts, np.r_[starts[1:], n], edge_starts, edge_stops):
        if stop - start < 2:
            continue
        members = by_component[start:stop]
        own = edge_order[edge_start:edge_stop]  # the component's edges, in input order
        for member, sub in zip(members, _average_linkage(members, edges[own], strengths[own], cut)):
            labels[member] = (int(components[member]), int(sub))
    return labels


def _dense_ids(labels: np.ndarray, prefix: str) -> list[str]:
    """Number groups in order of their first member (input order)."""
    numbering: dict[object, int] = {}
    for label in labels:
        numbering.setdefault(label, len(numbering) + 1)
    width = len(str(len(numbering)))
    return [f"{prefix}-{numbering[label]:0{width}d}" for label in labels]


def _keep(members: list[tuple[str, str, str, int]], params: Params) -> tuple[str, str]:
    """(doc_id kept, reason) for one duplicate cluster, by the keep policy.

    members: (doc_id, source, date, words) of each copy, in input order.
    """
    longest = max(members, key=lambda m: m[3])  # max() keeps the first of equals
    if params.keep == "sources":
        for source in params.preferred_sources:
            preferred = [m for m in members if m[1] == source]
            if preferred:
                return preferred[0][0], f"preferred source {source!r}"
    if params.keep in ("earliest", "sources"):
        dated = [m for m in members if m[2] != ""]
        if dated:
            earliest = min(dated, key=lambda m: (m[2], -m[3]))
            return earliest[0], f"earliest date {earliest[2]} ({len(dated)} of {len(members)} copies dated)"
        return longest[0], f"no dates; most complete ({longest[3]} words)"
    return longest[0], f"longest ({longest[3]} words)"


def _weakest_links(linked: pd.DataFrame, labels: pd.Series) -> dict[str, tuple[str, float]]:
    """Per group label, its weakest link among the relations inside it: ("a ~ b (relation)", strength)."""
    label_a, label_b = linked.doc_a.map(labels), linked.doc_b.map(labels)
    inside = linked[(label_a == label_b).to_numpy()]
    weakest = inside.loc[inside.groupby(label_a[label_a == label_b], sort=False).strength.idxmin()]
    return {label: (f"{row.doc_a} ~ {row.doc_b} ({row.relation})", round(float(row.strength), 4))
            for label, row in zip(label_a[weakest.index], weakest.itertuples())}


def word_counts(texts: pd.Series) -> np.ndarray:
    """Words (whitespace-separated) in each text: how complete a copy is, for `_keep`."""
    return texts.str.split().str.len().to_numpy(np.int64)


def group(documents: pd.DataFrame, pairs: pd.DataFrame, params: Params) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The clusters and groups tables for the ``ok`` documents.

    documents needs doc_id, status, source, date and text, or instead of text ``words``: the
    word count of every document in a duplicate or copy pair (an engine that keeps no texts
    in memory counts them ahead; the others' are not read).
    """
    counted = "words" in documents
    docs = documents.loc[documents.status == "ok", ["doc_id", "source", "date", "words" if counted else "text"]]
    docs = docs.reset_index(drop=True)
    index = pd.Series(np.arange(len(docs)), index=docs.doc_id)
    linked = pairs[pairs.relation.isin(LINKED)].assign(strength=lambda p: link_strength(p))
    edges = np.stack([index[linked.doc_a].to_numpy(), index[linked.doc_b].to_numpy()], axis=1) \
        if len(linked) else np.empty((0, 2), dtype=np.int64)
    archival = linked.relation.isin(("duplicate", "copy")).to_numpy()

    docs["cluster_id"] = _dense_ids(_components(len(docs), edges[archival]), "dup")
    folded = docs.cluster_id.duplicated(keep=False).to_numpy()  # only copies in a cluster need counting
    if not counted:
        docs["words"] = 0
        docs.loc[folded, "words"] = word_counts(docs.text[folded])
    docs["story_id"] = _dense_ids(_story_labels(len(docs), edges, linked.strength.to_numpy(),
                                                params.story_link), "story")
    canonical, keep_reason = np.ones(len(docs), dtype=bool), np.full(len(docs), "single copy", dtype=object)
    copies = list(docs[["doc_id", "source", "date", "words"]].itertuples(index=False, name=None))
    groups = []
    for kind, column in (("duplicate_cluster", "cluster_id"), ("story", "story_id")):
        weakest = _weakest_links(linked, docs.set_index("doc_id")[column])
        for group_id, rows in sorted(docs.groupby(column).indices.items()):
            if len(rows) < 2:
                continue
            members = [copies[r] for r in rows]
            kept, reason = _keep(members, params) if kind == "duplicate_cluster" else ("", "")
            if kind == "duplicate_cluster":
                canonical[rows] = [m[0] == kept for m in members]
                keep_reason[rows] = [reason if m[0] == kept else f"folds into {kept}" for m in members]
            groups.append((group_id, kind, len(rows), ";".join(m[0] for m in members), kept, reason,
                           *weakest.get(group_id, ("", float("nan")))))
    docs["canonical"], docs["keep_reason"] = canonical, keep_reason
    return docs[CLUSTER_COLUMNS], pd.DataFrame(groups, columns=GROUP_COLUMNS)
