"""The classic datasketch near-duplicate pipeline, as its documentation teaches it: a baseline
row for bench/speed.py's end-to-end table.

    python bench/classic.py CORPUS.parquet --out DIR [--threshold 0.5] [--num-perm 128]

Reads the corpus's ``id`` and ``text`` columns, signs each text's lower-cased whitespace
word 5-grams (`speed.word_shingles`) with `datasketch.MinHash.update_batch` (permutations
drawn once), inserts every signature into a `datasketch.MinHashLSH` and queries each one
back: every colliding pair is a candidate. No verification, explanation or grouping at
all. Writes DIR/pairs.parquet (doc_a, doc_b, relation "candidate"), DIR/manifest.json with
its counts and DIR/timings.json with each step's wall seconds, as `dedup scan` would.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from datasketch import MinHash, MinHashLSH

sys.path.insert(0, str(Path(__file__).resolve().parent))

from speed import word_shingles  # noqa: E402


def candidate_pairs(ids: list[str], texts: list[str], threshold: float, num_perm: int,
                    seconds: dict[str, float]) -> pd.DataFrame:
    """The LSH candidates of the texts, each pair once (doc_a before doc_b in input order)."""
    started = time.perf_counter()
    template = MinHash(num_perm=num_perm)  # its permutations drawn once, as datasketch's documentation advises
    signatures = []
    for text in texts:
        minhash = MinHash(num_perm=num_perm, permutations=template.permutations, scheme=template.scheme)
        minhash.update_batch([shingle.encode() for shingle in word_shingles(text)])
        signatures.append(minhash)
    seconds["fingerprint"] = time.perf_counter() - started
    started = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    for number, minhash in enumerate(signatures):
        lsh.insert(number, minhash, check_duplication=False)
    found = {(min(number, other), max(number, other)) for number, minhash in enumerate(signatures)
             for other in lsh.query(minhash) if other != number}
    seconds["lsh"] = time.perf_counter() - started
    a, b = zip(*sorted(found)) if found else ((), ())
    return pd.DataFrame({"doc_a": [ids[i] for i in a], "doc_b": [ids[i] for i in b], "relation": "candidate"})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--num-perm", type=int, default=128)
    args = parser.parse_args()
    started = time.perf_counter()
    table = pq.read_table(args.corpus, columns=["id", "text"])
    ids, texts = [str(i) for i in table.column("id").to_pylist()], table.column("text").to_pylist()
    seconds = {"read": time.perf_counter() - started}
    pairs = candidate_pairs(ids, texts, args.threshold, args.num_perm, seconds)
    args.out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    pairs.to_parquet(args.out / "pairs.parquet", index=False)
    seconds["write"] = time.perf_counter() - started
    counts = {"records": len(ids), "ok": len(ids), "candidates": len(pairs), "related": len(pairs)}
    (args.out / "manifest.json").write_text(json.dumps({"counts": counts}, indent=2) + "\n", encoding="utf-8")
    (args.out / "timings.json").write_text(json.dumps({"seconds": seconds}, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
