"""Group related documents: pairs → clusters and groups.

Two groupings, for two users:

* **duplicate clusters** (archivists): connected components of ``duplicate`` and
  ``copy`` edges whose figures agree (``figures_changed`` 0) — copies safe to
  collapse; a copy that changed a figure stays a cluster of its own, in its
  source's story group. Each cluster keeps one document,
  chosen by `Params.keep`, and records why.
* **story groups** (researchers): all relations, grouped by average linkage over
  the duplicate clusters. Copies of one text are one node: a relation verified for
  one copy holds for all of them (a story syndicated a thousand times is paired
  through a few representatives, see `dedup.candidates`, and must not fall apart
  because its copies were not all compared with each other). A link's strength is
  the share of the more-contained text found in the other, the strongest link
  between two clusters' members (0 where no relation was verified); a text or
  group joins another only when its mean strength to *all* members is at least
  ``story_link``. A commentary related to one text of each of two stories is too
  weakly tied to either whole story to chain them together, which single linkage
  (connected components) would do.

The `clusters` table: doc_id, cluster_id, story_id, canonical (the copy a
duplicate cluster keeps), keep_reason. The `groups` table, one row per cluster
or story group of two or more documents: group_id, kind, size, members,
canonical, keep_reason, weakest_link, weakest_strength.
"""

from __future__ import annotations

import heapq

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from dedup.params import Params
from dedup.relate import FOLDED, LINKED, link_strength

CLUSTER_COLUMNS = ["doc_id", "cluster_id", "story_id", "canonical", "keep_reason"]
GROUP_COLUMNS = ["group_id", "kind", "size", "members", "canonical", "keep_reason",
                 "weakest_link", "weakest_strength"]


def _components(n: int, edges: np.ndarray) -> np.ndarray:
    graph = coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(n, n)) \
        if len(edges) else coo_matrix((n, n))
    return connected_components(graph, directed=False)[1]


def _strongest_links(edges: np.ndarray, strengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct links (i < j) among edges between different nodes, each with its strongest strength."""
    ordered = np.sort(edges.reshape(-1, 2), axis=1)
    links = pd.DataFrame({"a": ordered[:, 0], "b": ordered[:, 1], "strength": strengths})
    strongest = links[links.a != links.b].groupby(["a", "b"], sort=True).strength.max()
    return (np.stack([strongest.index.get_level_values(level).to_numpy(np.int64) for level in ("a", "b")], axis=1),
            strongest.to_numpy())


def average_linkage(weights: np.ndarray, edges: np.ndarray, strengths: np.ndarray, cut: float) -> np.ndarray:
    """Flat groups of weighted nodes by average linkage: a label (a member node) per node.

    Node i stands for weights[i] documents (a duplicate cluster), each pair of documents of
    linked nodes i, j having the link's strength, every other pair 0. Two groups merge while
    the mean strength over all their pairs of documents is at least cut, the strongest first:

        mean(U, V) = S(U, V) / (W(U) W(V)),  S(U ∪ V, X) = S(U, X) + S(V, X)

    with S the summed strength over document pairs and W the documents of a group: UPGMA
    over the documents when a cluster's copies count as one text. scipy's linkage needs a
    dense matrix over all documents of a component; this walks the links only (a heap of
    candidate merges, stale entries skipped), so a component of thousands of copies costs
    what its links cost.
    """
    size = weights.astype(float)
    total: list[dict[int, float]] = [{} for _ in range(len(weights))]
    for (i, j), strength in zip(edges.tolist(), strengths.tolist()):
        total[i][j] = total[j][i] = strength * size[i] * size[j]
    version = [0] * len(weights)
    heap = [(-total[i][j] / (size[i] * size[j]), i, j, 0, 0) for i, j in edges.tolist()]
    heapq.heapify(heap)
    parent = list(range(len(weights)))
    while heap:
        negative_mean, i, j, version_i, version_j = heapq.heappop(heap)
        if (version_i, version_j) != (version[i], version[j]) or parent[i] != i or parent[j] != j:
            continue  # an entry from before one of the two merged
        if -negative_mean < cut - 1e-12:
            break
        if len(total[i]) < len(total[j]):  # fold the smaller neighbourhood into the larger
            i, j = j, i
        parent[j] = i
        del total[i][j], total[j][i]
        for other, summed in total[j].items():
            total[i][other] = total[other][i] = total[i].get(other, 0.0) + summed
            del total[other][j]
        total[j] = {}
        size[i] += size[j]
        version[i] += 1
        for other, summed in total[i].items():
            first, second = min(i, other), max(i, other)
            heapq.heappush(heap, (-summed / (size[i] * size[other]), first, second,
                                  version[first], version[second]))
    return np.array([_root(parent, node) for node in range(len(weights))], dtype=np.int64)


def _root(parent: list[int], node: int) -> int:
    """The group of a node (its chain of merges followed to the end, shortened on the way)."""
    while parent[node] != node:
        parent[node] = parent[parent[node]]
        node = parent[node]
    return node


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
    # A copy that changed a figure is not the same text to an archive: it stays out of the fold.
    archival = (linked.relation.isin(FOLDED) & (linked.figures_changed == 0)).to_numpy()

    cluster = _components(len(docs), edges[archival])
    docs["cluster_id"] = _dense_ids(cluster, "dup")
    folded = docs.cluster_id.duplicated(keep=False).to_numpy()  # only copies in a cluster need counting
    if not counted:
        docs["words"] = 0
        docs.loc[folded, "words"] = word_counts(docs.text[folded])
    node_edges, node_strengths = _strongest_links(cluster[edges], linked.strength.to_numpy())
    story = average_linkage(np.bincount(cluster), node_edges, node_strengths, params.story_link)
    docs["story_id"] = _dense_ids(story[cluster], "story")
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
