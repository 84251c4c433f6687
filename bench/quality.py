"""Quality benchmark (issue 4): dedup end to end against the classic word 5-gram MinHash LSH
at Jaccard 0.7 (datasketch; the text-dedup / datatrove / NeMo Curator setting), in one run.

    pip install -e ".[bench]"
    python bench/quality.py [DATA_DIR] [--json results.json] [--tasks clough,bbc,reuters,msrp]

DATA_DIR defaults to ../shared/benchmarks. Tasks:

clough   Clough–Stevenson: each answer against its task's source, (a) as a pair with
         `dedup.compare`, (b) inside one corpus of all 100 texts. Binary accuracy: derived
         (cut/light/heavy) iff the pair is related. 4-class accuracy: correct when the relation
         is in the label's allowed set, cut → duplicate/copy, light → copy/rewrite,
         heavy → rewrite/partial, non → rejected (a pair that is not even a candidate counts as
         rejected). Related pairs across tasks are false positives.
bbc      BBC News, 2,225 articles + 2,225 summaries in one corpus. Recall: each summary related
         to its own article. Precision: share of summaries related to no article other than
         their own and its identical twins; "near-twins allowed" also allows articles of which
         ≥ 80% of word 5-grams are in the own article or vice versa (edited re-filings). Twin
         groups: articles identical after whitespace normalisation, the 98 byte-identical groups
         of SOURCE.md plus 2 that differ in whitespace only. A group collapses when all its
         articles share one duplicate cluster (summaries may join it: the summaries of
         identical articles are identical too); "exact" when that cluster holds no other article.
reuters  Reuters-21578, the 19,043 bodies in one corpus. The 279 groups of bodies identical in
         the files collapse into one cluster each; further relations are those outside the
         groups of identical texts (which, without the "Reuter" sign-off, are 339).
msrp     The sentence benchmark of bench/msrp.py, when present.

For the classic peer a pair is related when it is an LSH candidate, and its clusters are the
connected components of the candidate pairs; it has no relation types.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from datasketch import MinHash, MinHashLSH

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import loaders  # noqa: E402
import metrics  # noqa: E402

import dedup  # noqa: E402
from dedup.relate import LINKED, RELATIONS  # noqa: E402

DEDUP, CLASSIC = "dedup", "classic 5-gram LSH J≥0.7"
TASKS = ("clough", "bbc", "reuters", "msrp")
SAMPLE_SEED, SAMPLE_SIZE = 0, 20
SHOWN = 20  # rows of a long table printed (all are in the JSON)


def timed(run: Callable[[], Any]) -> tuple[Any, float]:
    """run()'s result and its wall time in seconds."""
    started = time.perf_counter()
    result = run()
    return result, round(time.perf_counter() - started, 1)


def classic_pairs(documents: pd.DataFrame, k: int = 5, threshold: float = 0.7, num_perm: int = 128) -> set[metrics.Pair]:
    """LSH candidate pairs over word k-gram shingles of the lowercased whitespace tokens."""
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    signatures = {}
    for doc_id, text in zip(documents.doc_id, documents.text):
        tokens = text.lower().split()
        shingles = {" ".join(tokens[i:i + k]).encode() for i in range(max(1, len(tokens) - k + 1))}
        signature = MinHash(num_perm=num_perm)
        signature.update_batch(list(shingles))
        lsh.insert(doc_id, signature)
        signatures[doc_id] = signature
    return {frozenset((doc_id, other)) for doc_id, signature in signatures.items()
            for other in lsh.query(signature) if other != doc_id}


def relation_of(pairs: pd.DataFrame) -> dict[metrics.Pair, str]:
    """Unordered pair → relation, from a `pairs` table."""
    return {frozenset(pair): relation for *pair, relation in zip(pairs.doc_a, pairs.doc_b, pairs.relation)}


def related(result: dedup.ScanResult) -> set[metrics.Pair]:
    """The related pairs of a scan."""
    linked = result.related()
    return metrics.pairs_of(linked.doc_a, linked.doc_b)


def _table(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records"))


# --- Clough–Stevenson -------------------------------------------------------------------------

def _task(doc_id: str) -> str:
    return doc_id[-1]  # g0pA_taska, orig_taska


def _clough_scores(truth: pd.DataFrame, relations: list[str]) -> dict[str, Any]:
    return {"binary": round(metrics.accuracy(metrics.derived(truth.label), [r in LINKED for r in relations]), 4),
            "4-class": round(metrics.allowed_accuracy(list(truth.label), relations), 4)}


def _cross_task(found: set[metrics.Pair]) -> list[str]:
    return sorted(" ~ ".join(sorted(pair)) for pair in found if len({_task(doc) for doc in pair}) > 1)


def clough(root: Path) -> dict[str, Any]:
    """Clough–Stevenson, pairs alone and in one corpus, dedup and classic."""
    docs, truth = loaders.clough_stevenson(root)
    text = dict(zip(docs.doc_id, docs.text))
    answer_pairs = [frozenset(p) for p in zip(truth.answer, truth.source)]
    alone, alone_s = timed(lambda: [dedup.compare(text[a], text[s], names=(a, s)).relation
                                    for a, s in zip(truth.answer, truth.source)])
    corpus, corpus_s = timed(lambda: dedup.analyse(docs))
    found = relation_of(corpus.pairs)
    in_corpus = [found.get(pair, "rejected") for pair in answer_pairs]
    peer, peer_s = timed(lambda: classic_pairs(docs))
    peer_relations = ["duplicate" if pair in peer else "rejected" for pair in answer_pairs]
    rows = [{"system": DEDUP, "setting": "(a) pairs", **_clough_scores(truth, alone), "cross-task": "",
             "seconds": alone_s},
            {"system": DEDUP, "setting": "(b) corpus", **_clough_scores(truth, in_corpus),
             "cross-task": len(_cross_task(related(corpus))), "seconds": corpus_s},
            {"system": CLASSIC, "setting": "(a) = (b)", **_clough_scores(truth, peer_relations),
             "4-class": "n/a", "cross-task": len(_cross_task(peer)), "seconds": peer_s}]
    return {"summary": rows,
            "confusion (a) pairs": metrics.confusion(truth.label, alone, list(metrics.ALLOWED), RELATIONS),
            "confusion (b) corpus": metrics.confusion(truth.label, in_corpus, list(metrics.ALLOWED), RELATIONS),
            "misjudged (a)": _misjudged(truth, alone),
            "cross-task related (b)": pd.DataFrame({"pair": _cross_task(related(corpus))})}


def _misjudged(truth: pd.DataFrame, relations: list[str]) -> pd.DataFrame:
    wrong = [rel not in metrics.ALLOWED[label] for label, rel in zip(truth.label, relations)]
    return truth.assign(relation=relations)[wrong].reset_index(drop=True)


# --- BBC ----------------------------------------------------------------------------------------

NEAR_TWIN = 0.8  # word 5-gram containment from which another article counts as a near-twin of one's own


@dataclass
class BbcTruth:
    """The BBC truth: summary → own article, and the groups of identical articles and summaries."""

    pairs: pd.DataFrame
    text: dict[str, str]
    twins: list[list[str]]
    summary_twins: list[list[str]]

    @classmethod
    def load(cls, root: Path) -> tuple[pd.DataFrame, BbcTruth]:
        """(documents, truth) of the BBC set."""
        docs, pairs = loaders.bbc(root)
        text = dict(zip(docs.doc_id, docs.text))
        return docs, cls(pairs, text, *(metrics.identical_groups(list(pairs[c]), [text[d] for d in pairs[c]])
                                        for c in ("article", "summary")))

    def allowed(self) -> dict[str, set[str]]:
        """summary → its own article and that article's identical twins."""
        twins_of = {doc: set(group) for group in self.twins for doc in group}
        return {s: twins_of.get(a, {a}) for s, a in zip(self.pairs.summary, self.pairs.article)}

    def with_near_twins(self, found: set[metrics.Pair]) -> dict[str, set[str]]:
        """`allowed`, plus the found articles that are near-twins of the summary's own article."""
        allowed, own = self.allowed(), dict(zip(self.pairs.summary, self.pairs.article))
        for a, b in (sorted(pair, reverse=True) for pair in found):  # "summary:…" sorts after "article:…"
            if a in allowed and b.startswith("article:") and b not in allowed[a] \
                    and metrics.containment(self.text[own[a]], self.text[b]) >= NEAR_TWIN:
                allowed[a] = allowed[a] | {b}
        return allowed


def bbc_scores(found: set[metrics.Pair], cluster_of: dict[str, str], truth: BbcTruth) -> dict[str, Any]:
    """Recall, precision, twin groups and the related pairs beyond the expected ones, by kind."""
    articles, allowed = set(truth.pairs.article), truth.allowed()
    expected = (metrics.group_pairs(truth.twins) | metrics.group_pairs(truth.summary_twins)
                | {frozenset((s, a)) for s, own in allowed.items() for a in own})
    kinds = pd.Series([sum(doc in articles for doc in pair) for pair in found - expected], dtype=int)
    collapsed = metrics.collapse(truth.twins, {doc: cluster_of[doc] for doc in articles})
    return {"recall": round(metrics.recall(metrics.pairs_of(truth.pairs.summary, truth.pairs.article), found), 4),
            "precision": round(metrics.clean_share(allowed, found, articles), 4),
            "precision, near-twins allowed": round(metrics.clean_share(truth.with_near_twins(found), found,
                                                                       articles), 4),
            "twin groups collapsed": f"{collapsed['collapsed']}/{collapsed['groups']}",
            "exact": collapsed["exact"],
            "summary twins collapsed": metrics.collapse(truth.summary_twins, cluster_of)["collapsed"],
            **{f"further {kind}": int((kinds == n).sum())
               for n, kind in ((2, "article~article"), (1, "summary~article"), (0, "summary~summary"))}}


def bbc(root: Path) -> dict[str, Any]:
    """BBC News articles and summaries in one corpus, dedup and classic."""
    docs, truth = BbcTruth.load(root)
    result, result_s = timed(lambda: dedup.analyse(docs))
    peer, peer_s = timed(lambda: classic_pairs(docs))
    dedup_clusters = dict(zip(result.clusters.doc_id, result.clusters.cluster_id))
    rows = [{"system": DEDUP, **bbc_scores(related(result), dedup_clusters, truth), "seconds": result_s},
            {"system": CLASSIC, **bbc_scores(peer, metrics.components(docs.doc_id, peer), truth), "seconds": peer_s}]
    own = relation_of(result.pairs)
    spread = pd.Series([own.get(p, "not a candidate")
                        for p in metrics.pairs_of(truth.pairs.summary, truth.pairs.article)])
    return {"summary": rows,
            "summary ~ own article relations (dedup)": spread.value_counts().rename_axis("relation")
            .reset_index(name="summaries"),
            "summaries related to a foreign article (dedup)": _foreign(result, truth)}


def _foreign(result: dedup.ScanResult, truth: BbcTruth) -> pd.DataFrame:
    """The related summary~article pairs that are not a summary and its own article (or twin)."""
    allowed, near = truth.allowed(), truth.with_near_twins(related(result))
    linked = result.related()
    first = linked.doc_a.str.startswith("summary:")
    summary, article = linked.doc_a.where(first, linked.doc_b), linked.doc_b.where(first, linked.doc_a)
    foreign = [s in allowed and a.startswith("article:") and a not in allowed[s] for s, a in zip(summary, article)]
    return (linked.assign(summary=summary, article=article,
                          near_twin=[s in near and a in near[s] for s, a in zip(summary, article)])[foreign]
            [["summary", "article", "near_twin", "relation", "reason"]].reset_index(drop=True))


# --- Reuters ------------------------------------------------------------------------------------

def _reuters_scores(found: set[metrics.Pair], cluster_of: dict[str, str], groups: list[list[str]],
                    identical: set[metrics.Pair]) -> dict[str, Any]:
    collapsed = metrics.collapse(groups, cluster_of)
    return {"279 groups collapsed": f"{collapsed['collapsed']}/{collapsed['groups']}",
            "exact": collapsed["exact"], "further related pairs": len(found - identical)}


def reuters(root: Path) -> dict[str, Any]:
    """Reuters-21578 bodies in one corpus, dedup and classic, with an audit sample."""
    docs, truth = loaders.reuters(root)
    groups = metrics.identical_groups(list(truth.doc_id), list(truth.body))
    identical = metrics.group_pairs(metrics.identical_groups(list(docs.doc_id), list(docs.text)))
    result, result_s = timed(lambda: dedup.analyse(docs))
    peer, peer_s = timed(lambda: classic_pairs(docs))
    dedup_clusters = dict(zip(result.clusters.doc_id, result.clusters.cluster_id))
    linked = result.related()
    further = linked[[frozenset(pair) not in identical for pair in zip(linked.doc_a, linked.doc_b)]]
    rows = [{"system": DEDUP, **_reuters_scores(related(result), dedup_clusters, groups, identical),
             **{r: int((further.relation == r).sum()) for r in LINKED}, "seconds": result_s},
            {"system": CLASSIC, **_reuters_scores(peer, metrics.components(docs.doc_id, peer), groups, identical),
             **dict.fromkeys(LINKED, "n/a"), "seconds": peer_s}]
    return {"summary": rows, "audit sample (dedup, further duplicate/copy/rewrite)": _audit(docs, further)}


def _audit(docs: pd.DataFrame, further: pd.DataFrame) -> pd.DataFrame:
    title = dict(zip(docs.doc_id, docs.title))
    strong = further[further.relation.isin(("duplicate", "copy", "rewrite"))].reset_index(drop=True)
    sample = sorted(random.Random(SAMPLE_SEED).sample(range(len(strong)), min(SAMPLE_SIZE, len(strong))))
    picked = strong.iloc[sample]
    return pd.DataFrame({"doc_a": picked.doc_a, "title_a": picked.doc_a.map(title), "doc_b": picked.doc_b,
                         "title_b": picked.doc_b.map(title), "relation": picked.relation, "reason": picked.reason})


# --- MSRP and main --------------------------------------------------------------------------------

def msrp(root: Path) -> dict[str, Any]:
    """bench/msrp.py's result, or "not available" when that file is missing.

    Its scalars make the summary row and each list of records a table; the whole result is kept
    for the JSON.
    """
    try:
        import msrp as sentence_benchmark
    except ImportError as err:
        return {"summary": [{"system": DEDUP, "status": f"not available ({err})"}]}
    result, seconds = timed(lambda: sentence_benchmark.run(root))
    tables = {name: pd.DataFrame(value) for name, value in result.items()
              if isinstance(value, list) and value and all(isinstance(v, dict) for v in value)}
    scalars = {name: value for name, value in result.items() if not isinstance(value, (list, dict))}
    return {"summary": [{"system": DEDUP, **scalars, "seconds": seconds}], **tables, "msrp.py result": result}


RUNNERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "clough": clough, "bbc": bbc, "reuters": reuters, "msrp": msrp}


def show(task: str, tables: dict[str, Any]) -> None:
    """Print one task's tables as markdown."""
    print(f"\n## {task}\n")
    for name, table in tables.items():
        if isinstance(table, dict):
            continue  # JSON only
        frame = (table if isinstance(table, pd.DataFrame) else pd.DataFrame(table)).astype(object).fillna("n/a")
        if name != "summary":
            print(f"\n### {name}\n")
        print(frame.head(SHOWN).to_markdown(index=name.startswith("confusion")) if len(frame) else "(none)")
        if len(frame) > SHOWN:
            print(f"\n(first {SHOWN} of {len(frame)} rows)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated subset of " + ",".join(TASKS))
    args = parser.parse_args()
    tasks = args.tasks.split(",")
    if unknown := set(tasks) - set(TASKS):
        parser.error(f"unknown task(s): {', '.join(sorted(unknown))}")
    results = {}
    for task in tasks:
        tables = RUNNERS[task](args.data)
        show(task, tables)
        results[task] = {name: _table(t.reset_index() if name.startswith("confusion") else t)
                         if isinstance(t, pd.DataFrame) else t for name, t in tables.items()}
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
