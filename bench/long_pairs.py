"""Long-text benchmark: time and peak memory of `dedup.compare` on pairs of very long texts.

    pip install -e ".[bench]"
    python bench/long_pairs.py [DATA_DIR] [--sizes 2,20] [--json results.json]

DATA_DIR defaults to ../shared/benchmarks. A long text of SIZE MB is built from BBC News
articles drawn at random (with repeats, so a long text repeats its articles), and paired
with (a) a near copy that drops every tenth paragraph and (b) an excerpt of about 3 KB
from its middle. Each comparison runs in a process of its own, which reports its wall
time and peak RSS (the texts' construction included). Targets (issue 20): a 20 MB pair
within 2 GB and a minute.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import dedup  # noqa: E402

import loaders  # noqa: E402

KINDS = ("near copy", "excerpt")


def long_pair(root: Path, megabytes: float, kind: str, seed: int = 0) -> tuple[str, str]:
    """A long text of about megabytes MB of BBC articles, and its near copy or excerpt."""
    texts = loaders.bbc(root)[0].text.tolist()
    rng, chosen, size = random.Random(seed), [], 0
    while size < megabytes * 1e6:
        chosen.append(rng.choice(texts))
        size += len(chosen[-1])
    text = "\n\n".join(chosen)
    if kind == "near copy":
        return text, "\n\n".join(p for k, p in enumerate(text.split("\n\n")) if k % 10)
    middle = text[len(text) // 2:len(text) // 2 + 3000].split("\n\n")[1:-1]
    return text, "\n\n".join(middle)


def measure(root: Path, megabytes: float, kind: str) -> dict[str, object]:
    """Compare one pair in this process; its relation, sizes, wall seconds and peak RSS."""
    started = time.perf_counter()
    a, b = long_pair(root, megabytes, kind)
    comparison = dedup.compare(a, b)
    return {"size_mb": megabytes, "kind": kind, "chars_a": len(a), "chars_b": len(b),
            "relation": comparison.relation, "passages": len(comparison.passages),
            "seconds": round(time.perf_counter() - started, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--sizes", default="2,20", help="text sizes in MB, comma-separated")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--one", nargs=2, metavar=("SIZE", "KIND"), help=argparse.SUPPRESS)  # a child run
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.data, float(args.one[0]), args.one[1])))
        return
    rows = []
    for size in (float(s) for s in args.sizes.split(",")):
        for kind in KINDS:
            child = subprocess.run([sys.executable, __file__, str(args.data), "--one", str(size), kind],
                                   check=True, capture_output=True, text=True)
            rows.append(json.loads(child.stdout.splitlines()[-1]))
            print(" | ".join(f"{key} {value}" for key, value in rows[-1].items()), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
