"""Speed, memory and scale benchmark: dedup's fingerprint stage against other MinHash
implementations, and `dedup scan` end to end on synthetic corpora of growing size.

    pip install -e ".[bench]"
    python bench/speed.py [--root ../shared/benchmarks] [--sizes 10000,100000,1000000]
                          [--engines tables,report,classic] [--peer-docs 10000] [--rounds 3]
                          [--jobs N] [--max-seconds 1800] [--json results.json] [--plot speed.png]

Corpora come from bench/corpus.py (real BBC and Reuters text with injected copies; see its
docstring) and are written under a temporary folder, never into the repository.

1. Fingerprint stage (skipped with --peer-docs 0). One corpus of --peer-docs documents; every
   method turns the same texts into 128-permutation MinHash signatures, each in its own child
   process started with "spawn" (so numba's threads never precede a fork), warmed up on 50
   texts (numba compiles there) before the timed region; a method is timed again until 3 s
   have been timed (at most 5 runs) and its fastest run counts. The methods take turns,
   --rounds times over (default 3), and each keeps its fastest round, so a slow spell of a
   shared machine does not land on one method only; every round's docs/s is printed beside
   the best. docs/s and MB/s (UTF-8 bytes of input text, 10^6 bytes per MB) are over wall
   time; MB/CPU-s divides by the child's user + system CPU time, so it is MB/s per busy core
   whatever the thread count. Peak RSS is the child's high-water mark VmHWM (Linux /proc;
   interpreter, libraries and texts included); "RSS before" is the same just before the timed
   region. Not ru_maxrss: Linux carries the parent's peak into a forked-and-exec'd child's
   ru_maxrss (exec records the old address space's high-water mark), so every spawned child
   would report at least the parent's size.
   Recall: the signatures are banded with dedup's own banding (J = 0.5, 128 permutations,
   buckets over 200 skipped) and a truth (copy, base) pair counts when it collides. dedup uses
   its own shingles (pairs of content words, `dedup.Params`); the peers use lower-cased
   whitespace word 5-grams, except text-dedup, which tokenises itself
   (`text_dedup.minhash.embed_func`, called directly, without the Hugging Face `datasets` map
   around it; its defaults: SHA-1, 64-bit arithmetic modulo 2^61 - 1, n-gram 5). datasketch
   gets its permutations precomputed once (the documented way to avoid drawing them per
   document); its `update` loop is timed on the first 500 documents only.
2. End to end, per size and engine: `dedup scan CORPUS.parquet --out DIR [--tables-only] [--jobs J] -q`
   in a subprocess (the two flags only when `dedup scan --help` lists them): the engine "tables"
   with --tables-only, "report" without (the default scan, which writes the summary and the HTML
   report too), "low-memory" and "low-memory+report" the same with ``--low-memory``, which chose
   the block engine before the engines became one (for older checkouts), and "classic": the
   classic datasketch pipeline of bench/classic.py (word 5-grams, update_batch, MinHashLSH insert
   and query, no verification), whose candidates count as found. Wall time, and CPU
   time of the scan's processes. Memory: the scan's process tree sampled (psutil lists it),
   summing RSS (counted once per process) every 0.5 s and PSS (Linux smaps_rollup; shared
   copy-on-write pages of forked workers counted once) every 5 s — reading smaps_rollup of a
   3 GB Python process takes 0.1-0.2 s and holds its memory map, so sampling it at 10 Hz
   slowed a 100k scan by about a fifth; and the largest single process, the
   ru_maxrss of RUSAGE_CHILDREN in a small wrapper process that starts the scan (so, as above,
   this benchmark's own size does not leak into it). "Peak memory" (bytes/doc, the 1M target)
   is the summed PSS, or the largest process when that is more. Stage timings from
   timings.json (or manifest.json's "timings"; none in older versions), and the wall time no
   stage covers. Recall: a truth pair is found when pairs.parquet (or .csv) holds it with a
   relation other than "rejected", in either order. Found pairs are split into truth pairs,
   copies of one base ("siblings", also true) and others (near-duplicates among the real
   texts, or false). A size is skipped when the engine's last one, extrapolated (time by the log-log
   slope of the last two sizes, at least linear; memory linearly), would exceed --max-seconds
   or 80% of the machine's memory.
3. --plot: end-to-end time and peak memory against corpus size, log-log (matplotlib, Agg).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pickle
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# pandas, dedup, corpus and matplotlib are imported inside the parent-only functions: every spawned
# child re-imports this module, and its peak RSS should hold only what its own method needs.

NUM_PERM, SHINGLE_WORDS, PEER_SEED = 128, 5, 42  # 42: rensa's and text-dedup's own examples
LSH_THRESHOLD, MAX_BUCKET = 0.5, 200
WARMUP_DOCS, UPDATE_LOOP_DOCS = 50, 500
MIN_TIMED_SECONDS, MAX_RUNS = 3.0, 5  # a fast method is timed again, best run kept
MB = 1e6
POLL_SECONDS = 0.5
PSS_EVERY = 10  # polls: PSS every 5 s (reading it stalls the process it reads, see above)
MEMORY_SHARE = 0.8  # of the machine's RAM a forecast may use before a size is skipped
TARGETS = {"vs_update_batch": 40.0, "vs_rensa": 8.0, "mb_per_core": 100.0,
           "seconds_100k": 120.0, "peak_gb_1m": 4.0, "recall": 0.99}

Signer = Callable[[list[str]], np.ndarray]


# ---------------------------------------------------------------- fingerprint methods (run in children)

def word_shingles(text: str) -> list[str]:
    """Lower-cased whitespace word 5-grams, the classic near-duplicate shingle (a short text is one shingle)."""
    tokens = text.lower().split()
    return list({" ".join(tokens[i:i + SHINGLE_WORDS]) for i in range(max(1, len(tokens) - SHINGLE_WORDS + 1))})


def _dedup(engine: str, jobs: int) -> Signer:
    from dedup.fingerprint import document_signatures
    from dedup.params import Params

    if engine == "numba":
        import numba
        numba.set_num_threads(min(jobs, numba.config.NUMBA_NUM_THREADS))
    params = Params()
    return lambda texts: document_signatures(texts, params, engine=engine)


def _datasketch(batch: bool) -> Signer:
    from datasketch import MinHash

    permutations = MinHash(num_perm=NUM_PERM).permutations

    def sign(texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), NUM_PERM), dtype=np.uint32)
        for i, text in enumerate(texts):
            minhash = MinHash(num_perm=NUM_PERM, permutations=permutations, scheme="affine32")
            shingles = [s.encode() for s in word_shingles(text)]
            if batch:
                minhash.update_batch(shingles)
            else:
                for shingle in shingles:
                    minhash.update(shingle)
            out[i] = minhash.hashvalues
        return out

    return sign


def _rensa_objects() -> Signer:
    from rensa import RMinHash

    def sign(texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), NUM_PERM), dtype=np.uint32)
        for i, text in enumerate(texts):
            minhash = RMinHash(num_perm=NUM_PERM, seed=PEER_SEED)
            minhash.update(word_shingles(text))
            out[i] = minhash.digest()
        return out

    return sign


def _rensa_matrix() -> Signer:
    from rensa import RMinHash

    def sign(texts: list[str]) -> np.ndarray:
        matrix = RMinHash.digest_matrix_from_token_sets([word_shingles(t) for t in texts],
                                                        num_perm=NUM_PERM, seed=PEER_SEED)
        return np.asarray(matrix.to_rows(), dtype=np.uint32)

    return sign


def _text_dedup(hash_name: str) -> Signer:
    from text_dedup.minhash import embed_func
    from text_dedup.utils import sha1_hash, xxh3_32hash

    # text-dedup's default 64-bit configuration, as its `main` sets it up.
    dtype, max_hash, prime = np.uint64, np.uint32((1 << 32) - 1), np.uint64((1 << 61) - 1)
    rng = np.random.RandomState(PEER_SEED)
    permutations = (rng.randint(1, prime, size=(NUM_PERM,), dtype=dtype),
                    rng.randint(0, prime, size=(NUM_PERM,), dtype=dtype))
    hash_func = (lambda data: sha1_hash(data, d=32)) if hash_name == "sha1" else xxh3_32hash
    # One "band" per permutation, so the raw signature can be read back and banded like the others.
    ranges = [(i, i + 1) for i in range(NUM_PERM)]

    def sign(texts: list[str]) -> np.ndarray:
        out = np.empty((len(texts), NUM_PERM), dtype=np.uint32)
        for i, text in enumerate(texts):
            bands = embed_func(text, i, num_perm=NUM_PERM, ngram_size=SHINGLE_WORDS, min_length=SHINGLE_WORDS,
                               hashranges=ranges, permutations=permutations, hash_func=hash_func,
                               dtype=dtype, max_hash=max_hash, modulo_prime=prime)["__signatures__"]
            out[i] = np.frombuffer(b"".join(bands), dtype=">u8")  # embed_func byte-swaps each value
        return out

    return sign


# name → (how to build the signer in the child given --jobs, documents timed or None for all)
METHODS: dict[str, tuple[Callable[[int], Signer], int | None]] = {
    "dedup numba": (lambda jobs: _dedup("numba", jobs), None),
    "dedup numpy": (lambda jobs: _dedup("numpy", jobs), None),
    "datasketch update loop": (lambda jobs: _datasketch(batch=False), UPDATE_LOOP_DOCS),
    "datasketch update_batch": (lambda jobs: _datasketch(batch=True), None),
    "rensa RMinHash (per document)": (lambda jobs: _rensa_objects(), None),
    "rensa digest_matrix (batch)": (lambda jobs: _rensa_matrix(), None),
    "text-dedup embed_func (sha1)": (lambda jobs: _text_dedup("sha1"), None),
    "text-dedup embed_func (xxh3)": (lambda jobs: _text_dedup("xxh3"), None),
}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    """This process's peak RSS since its exec (VmHWM; Linux), in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def measure(method: str, texts_file: str, sigs_file: str, jobs: int) -> dict[str, float]:
    """In a fresh child: build the signer, warm it up, time it on the texts, save the signatures."""
    make, limit = METHODS[method]
    texts = pickle.loads(Path(texts_file).read_bytes())[:limit]
    sign = make(jobs)
    sign(texts[:WARMUP_DOCS])
    rss_before = _peak_rss_mb()
    runs: list[tuple[float, float]] = []  # (wall, CPU) seconds of each timed run
    while not runs or (sum(w for w, _ in runs) < MIN_TIMED_SECONDS and len(runs) < MAX_RUNS):
        cpu, started = _cpu_seconds(), time.perf_counter()
        signatures = sign(texts)
        runs.append((time.perf_counter() - started, _cpu_seconds() - cpu))
    seconds, cpu = min(runs)
    np.save(sigs_file, np.asarray(signatures, dtype=np.uint32))
    return {"documents": len(texts), "megabytes": sum(len(t.encode()) for t in texts) / MB, "runs": len(runs),
            "seconds": seconds, "cpu_seconds": cpu, "rss_before_mb": rss_before, "peak_rss_mb": _peak_rss_mb()}


# ---------------------------------------------------------------- fingerprint comparison (parent)

def _in_child(method: str, texts_file: Path, sigs_file: Path, jobs: int) -> dict[str, Any]:
    """measure() in its own spawned process; an exception (a missing library) becomes the row's error."""
    load = os.getloadavg()[0]  # other work on the machine slows every method: recorded beside it
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        try:
            return {"load": load, **pool.submit(measure, method, str(texts_file), str(sigs_file), jobs).result()}
        except Exception as error:  # noqa: BLE001 - any failure of a peer is reported, not fatal
            return {"error": f"{type(error).__name__}: {error}".splitlines()[0]}


def truth_indices(documents: Any, truth: Any) -> tuple[np.ndarray, np.ndarray]:
    """Truth pairs as (copy row, base row) indices into documents, and their kinds."""
    row = {doc_id: i for i, doc_id in enumerate(documents.id)}
    pairs = np.array([[row[c], row[b]] for c, b in zip(truth.copy_id, truth.base_id)], dtype=np.int64)
    return pairs.reshape(-1, 2), truth.kind.to_numpy()


def banded_recall(signatures: np.ndarray, pairs: np.ndarray, kinds: np.ndarray) -> dict[str, float]:
    """Share of truth pairs (inside the signed documents) that collide in dedup's banding, overall and by kind."""
    from dedup.candidates import Banding, colliding_pairs

    keys = Banding.for_threshold(LSH_THRESHOLD, NUM_PERM).keys(signatures)
    found, _ = colliding_pairs(keys, max_bucket=MAX_BUCKET)
    collided = {(int(a), int(b)) for a, b in found}
    inside = (pairs < len(signatures)).all(axis=1)
    hit = np.array([(min(a, b), max(a, b)) in collided for a, b in pairs[inside]], dtype=bool)
    by_kind = {str(k): float(hit[kinds[inside] == k].mean()) for k in sorted(set(kinds[inside]))}
    return {"recall": float(hit.mean()) if len(hit) else math.nan, "pairs": int(inside.sum()),
            "recall_by_kind": by_kind}


def fingerprint_rows(texts: list[str], pairs: np.ndarray, kinds: np.ndarray, jobs: int, rounds: int,
                     workdir: Path) -> list[dict[str, Any]]:
    """One row per method: throughput (its fastest round), memory and banded recall.

    The methods run in turn, `rounds` times over, so a slow spell of the machine falls on
    every method alike rather than on whichever ran during it.
    """
    texts_file = workdir / "peer-texts.pickle"
    texts_file.write_bytes(pickle.dumps(texts))
    rows: dict[str, dict[str, Any]] = {}
    for round_number in range(rounds):
        for method in METHODS:
            if "error" in rows.get(method, {}):
                continue
            sigs_file = workdir / "signatures.npy"
            result = _in_child(method, texts_file, sigs_file, jobs)
            row = rows.setdefault(method, {"method": method, "round_docs_per_s": []})
            if "error" in result:
                row.update(result)
            else:
                if round_number == 0:  # signatures are the same every round
                    row.update(banded_recall(np.load(sigs_file), pairs, kinds))
                docs_per_s = result["documents"] / result["seconds"]
                row["round_docs_per_s"].append(docs_per_s)
                if docs_per_s >= max(row["round_docs_per_s"]):
                    row.update(result, docs_per_s=docs_per_s, mb_per_s=result["megabytes"] / result["seconds"],
                               mb_per_cpu_s=result["megabytes"] / result["cpu_seconds"])
            status = f"error: {row['error']}" if "error" in row else f"{row['round_docs_per_s'][-1]:,.0f} docs/s"
            print(f"  round {round_number + 1}, {method}: {status}", file=sys.stderr)
    return list(rows.values())


def ratios(rows: list[dict[str, Any]]) -> dict[str, float]:
    """dedup numba's docs/s over each peer's, and its MB/s per core."""
    speed = {r["method"]: r["docs_per_s"] for r in rows if "docs_per_s" in r}
    mb_per_core = {r["method"]: r["mb_per_cpu_s"] for r in rows if "mb_per_cpu_s" in r}
    ours = speed.get("dedup numba")
    if ours is None:
        return {}
    found = {f"dedup numba / {name}": ours / value for name, value in speed.items() if name != "dedup numba"}
    return {**found, "dedup numba MB/s per core (MB/CPU-s)": mb_per_core["dedup numba"]}


# ---------------------------------------------------------------- end to end (parent)

def scan_flags() -> list[str]:
    """The optional flags this version of `dedup scan` has: --tables-only, --jobs."""
    help_text = subprocess.run([sys.executable, "-m", "dedup", "scan", "--help"], capture_output=True, text=True,
                               env={**os.environ, "COLUMNS": "200"}).stdout
    return [flag for flag in ("--tables-only", "--jobs") if flag in help_text]


def _pss_bytes(pid: int) -> int:
    """Proportional set size of a process (Linux smaps_rollup): shared pages divided among their sharers."""
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
        return 1024 * int(next(line for line in rollup if line.startswith("Pss:")).split()[1])


class TreeMemory(threading.Thread):
    """Samples a process's descendants until stopped, keeping the peaks (bytes) of their summed RSS and PSS.

    Forked workers share their parent's pages copy-on-write: summed RSS counts those pages once per
    process, summed PSS once in all, so PSS is the tree's real footprint.
    """

    def __init__(self, root: Any) -> None:
        super().__init__(daemon=True)
        self.root, self.rss, self.pss, self.stopped = root, 0, 0, threading.Event()

    def run(self) -> None:
        import psutil

        polls = 0
        while not self.stopped.wait(POLL_SECONDS):
            polls += 1
            try:
                tree = self.root.children(recursive=True)
                self.rss = max(self.rss, sum(p.memory_info().rss for p in tree))
                if polls % PSS_EVERY == 1:
                    self.pss = max(self.pss, sum(_pss_bytes(p.pid) for p in tree))
            except (psutil.Error, OSError):  # a process ended between listing and reading
                continue


# Runs argv[2:], then writes its children's largest RSS (KiB) and their user and system CPU seconds to argv[1].
_WRAPPER = ("import resource, subprocess, sys; code = subprocess.call(sys.argv[2:]); "
            "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "open(sys.argv[1], 'w').write(f'{u.ru_maxrss} {u.ru_utime} {u.ru_stime}'); sys.exit(code)")


def scan_command(engine: str, corpus_path: Path, out: Path, flags: list[str], jobs: int) -> list[str]:
    """The command line of one end-to-end run: `dedup scan` with the engine's flags that this
    version has (flags: `scan_flags`), or the classic datasketch pipeline (bench/classic.py)."""
    if ENGINES[engine] is None:
        return [sys.executable, str(Path(__file__).with_name("classic.py")), str(corpus_path), "--out", str(out)]
    command = [sys.executable, "-m", "dedup", "scan", str(corpus_path), "--out", str(out), "-q"]
    command += [flag for flag in ENGINES[engine] or [] if flag in flags or flag == "--low-memory"]
    return command + (["--jobs", str(jobs)] if "--jobs" in flags else [])


def run_scan(command: list[str], log: Path) -> dict[str, Any]:
    """Run a scan's command; wall time, CPU time, peak tree PSS and RSS (sampled), largest process RSS."""
    rss_file = log.with_suffix(".maxrss")
    load, started = os.getloadavg()[0], time.perf_counter()
    with log.open("w") as stderr:
        process = subprocess.Popen([sys.executable, "-c", _WRAPPER, str(rss_file), *command],
                                   stdout=stderr, stderr=stderr)
        sampler = _tree_sampler(process.pid)
        returncode = process.wait()
    seconds = time.perf_counter() - started
    if sampler is not None:
        sampler.stopped.set()
        sampler.join()
    max_rss, user, system = rss_file.read_text().split()
    return {"command": " ".join(command[1:]), "load": load, "returncode": returncode, "seconds": seconds,
            "cpu_seconds": float(user) + float(system),
            "peak_tree_pss_mb": sampler.pss / 2**20 if sampler else math.nan,
            "peak_tree_rss_mb": sampler.rss / 2**20 if sampler else math.nan,
            "max_process_rss_mb": int(max_rss) / 1024}


def peak_mb(row: dict[str, Any]) -> float:
    """A scan's peak memory: the tree's summed PSS, or the largest process's RSS when that is more (or all there is)."""
    return float(np.nanmax([row["peak_tree_pss_mb"], row["max_process_rss_mb"]]))


def _tree_sampler(pid: int) -> TreeMemory | None:
    """A running TreeMemory sampler; None without psutil (only the largest process's peak is then reported)."""
    try:
        import psutil
    except ImportError:
        return None
    try:
        sampler = TreeMemory(psutil.Process(pid))
    except psutil.Error:  # the process is already gone
        return None
    sampler.start()
    return sampler


def read_related(out: Path) -> Any:
    """The scan's non-rejected pairs: order-free key "a|b" and relation."""
    import pandas as pd

    columns = ["doc_a", "doc_b", "relation"]
    parquet = out / "pairs.parquet"
    pairs = pd.read_parquet(parquet, columns=columns) if parquet.exists() else \
        pd.read_csv(out / "pairs.csv", usecols=columns, dtype=str, keep_default_na=False)
    related = pairs[pairs.relation != "rejected"]
    return pd.DataFrame({"key": pair_keys(related.doc_a.astype(str), related.doc_b.astype(str)),
                         "relation": related.relation.to_numpy()})


def pair_keys(a: Any, b: Any) -> Any:
    """Order-free pair keys "smaller|larger" for two aligned string Series."""
    first, second = a.where(a < b, b), b.where(a < b, a)
    return first + "|" + second


def sibling_keys(truth: Any) -> set[str]:
    """Keys of the pairs of copies of one base: related through it, so true as well."""
    keys = set()
    for copies in truth.groupby("base_id").copy_id:
        ids = sorted(copies[1])
        keys.update(f"{x}|{y}" for i, x in enumerate(ids) for y in ids[i + 1:])
    return keys


def scan_quality(found: Any, truth: Any) -> dict[str, Any]:
    """Recall of the truth pairs (overall and by kind) and how the found pairs split."""
    truth_keys = pair_keys(truth.copy_id, truth.base_id)
    hit = truth_keys.isin(set(found.key)).to_numpy()
    is_truth = found.key.isin(set(truth_keys)).to_numpy()
    is_sibling = found.key.isin(sibling_keys(truth)).to_numpy()
    other = found.relation[~is_truth & ~is_sibling]
    by_kind = {k: float(hit[(truth.kind == k).to_numpy()].mean()) for k in sorted(truth.kind.unique())}
    return {"recall": float(hit.mean()), "truth_pairs": len(truth_keys), "found_pairs": len(found),
            "found_truth": int(is_truth.sum()), "found_siblings": int(is_sibling.sum()), "found_other": len(other),
            "precision": 1 - len(other) / len(found) if len(found) else math.nan,
            "other_by_relation": other.value_counts().to_dict(), "recall_by_kind": by_kind}


def stage_timings(out: Path, manifest: dict[str, Any]) -> dict[str, float]:
    """Wall seconds per stage: timings.json's "seconds", else manifest.json's "timings", else none (older versions)."""
    timings_file = out / "timings.json"
    if timings_file.exists():
        return json.loads(timings_file.read_text(encoding="utf-8")).get("seconds", {})
    return manifest.get("timings") or {}


def stage_rates(timings: dict[str, float], documents: int, wall: float) -> dict[str, Any]:
    """Seconds and docs/s of every timed stage, plus what no stage covers (start-up, writing the output)."""
    if timings:
        timings = {**timings, "untimed (start-up, writing)": wall - sum(timings.values())}
    return {"stage_seconds": timings,
            "stage_docs_per_s": {stage: documents / s if s > 0 else math.inf for stage, s in timings.items()}}


def forecast(done: list[dict[str, Any]], n_docs: int) -> tuple[float, float]:
    """(seconds, peak MB) of a scan of n_docs, extrapolated from the sizes already run (an engine
    named twice, as a warm-up, has run some size twice: the slope is taken between sizes)."""
    last = done[-1]
    exponent = 1.0
    smaller = [row for row in done if row["documents"] < last["documents"]]
    if smaller:
        before = smaller[-1]
        slope = math.log(last["seconds"] / before["seconds"]) / math.log(last["documents"] / before["documents"])
        exponent = max(1.0, slope)
    scale = n_docs / last["documents"]
    return last["seconds"] * scale ** exponent, peak_mb(last) * scale


def skip_reason(done: list[dict[str, Any]], n_docs: int, max_seconds: float) -> str:
    """Why a size is not run ("" to run it)."""
    if not done:
        return ""
    if done[-1]["returncode"] != 0:
        return f"the {done[-1]['documents']:,}-document scan failed"
    seconds, peak_mb = forecast(done, n_docs)
    if seconds > max_seconds:
        return f"extrapolated {seconds:,.0f} s > --max-seconds {max_seconds:,.0f}"
    if peak_mb * 2**20 > MEMORY_SHARE * ram_bytes():
        return f"extrapolated peak {peak_mb / 1024:,.1f} GB > {MEMORY_SHARE:.0%} of RAM"
    return ""


# engine -> its `dedup scan` flags: "tables" writes the tables alone, "report" is the default scan (tables, summary
# and HTML report); the "low-memory" engines add the flag that chose the block engine in versions before the
# engines became one; "classic" (None) is the datasketch pipeline of bench/classic.py, with no verification.
ENGINES: dict[str, list[str] | None] = {"tables": ["--tables-only"], "report": [],
                                        "low-memory": ["--low-memory", "--tables-only"],
                                        "low-memory+report": ["--low-memory"], "classic": None}


def end_to_end(bases: Sequence[str], sizes: Sequence[int], engines: Sequence[str], jobs: int, max_seconds: float,
               seed: int, workdir: Path) -> list[dict[str, Any]]:
    """Write each corpus, scan it with each engine, and measure; sizes past an engine's budget are
    skipped with the reason."""
    import pandas as pd

    import corpus

    flags = scan_flags()
    done: dict[str, list[dict[str, Any]]] = {engine: [] for engine in engines}
    rows: list[dict[str, Any]] = []
    for n_docs in sizes:
        reasons = {engine: skip_reason(done[engine], n_docs, max_seconds) for engine in engines}
        rows += [{"engine": e, "documents": n_docs, "skipped": reason} for e, reason in reasons.items() if reason]
        if all(reasons.values()):
            continue
        path = workdir / f"corpus-{n_docs}.parquet"
        started = time.perf_counter()
        truth = pd.read_parquet(corpus.write_from(bases, n_docs, path, seed))
        written = time.perf_counter() - started
        for engine in (e for e in engines if not reasons[e]):
            out = workdir / f"scan-{engine}-{n_docs}"
            print(f"  scanning {n_docs:,} documents ({path.stat().st_size / MB:,.0f} MB Parquet), {engine} engine",
                  file=sys.stderr)
            log = workdir / f"scan-{engine}-{n_docs}.log"
            row = {"engine": engine, "documents": n_docs, "corpus_seconds": written,
                   **run_scan(scan_command(engine, path, out, flags, jobs), log)}
            if row["returncode"] == 0:
                manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
                row.update(counts=manifest.get("counts", {}),
                           **stage_rates(stage_timings(out, manifest), n_docs, row["seconds"]),
                           **scan_quality(read_related(out), truth))
            else:
                row["error"] = log.read_text(errors="replace")[-2000:]
            row["bytes_per_document"] = peak_mb(row) * 2**20 / n_docs
            done[engine].append(row)
            rows.append(row)
            shutil.rmtree(out, ignore_errors=True)
        path.unlink()
    return rows


# ---------------------------------------------------------------- reporting

def _cell(value: Any) -> str:
    """A number as the tables show it: thousands separated, 4 significant digits below 1,000."""
    if isinstance(value, (bool, str)) or not isinstance(value, (int, float, np.number)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if math.isnan(value):
        return "–"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"


def _table(records: list[dict[str, Any]]) -> str:
    import pandas as pd

    if not records:
        return "(nothing measured)"
    cells = pd.DataFrame([{k: _cell(v) for k, v in r.items()} for r in records]).fillna("–")
    return cells.to_markdown(index=False, disable_numparse=True)


def fingerprint_tables(rows: list[dict[str, Any]], pairs: int) -> str:
    main, kinds = [], []
    most = max(r.get("documents", 0) for r in rows)
    for r in rows:
        if "error" in r:
            main.append({"method": r["method"], "documents": "unavailable: " + r["error"]})
            continue
        subset = " (subset)" if r["documents"] < most else ""
        main.append({"method": r["method"], "documents": f"{r['documents']:,}{subset}",
                     "docs/s": r["docs_per_s"], "MB/s": r["mb_per_s"], "MB/CPU-s": r["mb_per_cpu_s"],
                     "CPU/wall": r["cpu_seconds"] / r["seconds"],
                     "rounds (docs/s)": " / ".join(f"{v:,.0f}" for v in r["round_docs_per_s"]),
                     "RSS before (MB)": round(r["rss_before_mb"]), "peak RSS (MB)": round(r["peak_rss_mb"]),
                     "recall": r["recall"], "truth pairs": r["pairs"], "load": round(r["load"], 1)})
        kinds.append({"method": r["method"], **r["recall_by_kind"]})
    return (f"{_table(main)}\n\nRecall by copy kind (banded at J = {LSH_THRESHOLD}, {pairs:,} truth pairs):\n\n"
            f"{_table(kinds)}")


def scan_tables(rows: list[dict[str, Any]]) -> str:
    main, stages, kinds, notes = [], [], [], []
    for r in rows:
        size, engine = f"{r['documents']:,}", r.get("engine", "tables")
        if "skipped" in r or r.get("returncode"):
            why = f"skipped, {r['skipped']}" if "skipped" in r else f"failed: {r['error'][-300:]}"
            notes.append(f"* {size}, {engine} engine: {why}")
            continue
        main.append({"engine": engine, "documents": size, "wall s": r["seconds"], "CPU s": r["cpu_seconds"],
                     "docs/s": r["documents"] / r["seconds"], "peak PSS tree (MB)": r["peak_tree_pss_mb"],
                     "peak RSS tree (MB)": r["peak_tree_rss_mb"], "max process RSS (MB)": r["max_process_rss_mb"],
                     "bytes/doc": round(r["bytes_per_document"]),
                     "recall": r["recall"], "truth pairs": r["truth_pairs"], "found pairs": r["found_pairs"],
                     "of which truth": r["found_truth"], "siblings": r["found_siblings"], "other": r["found_other"],
                     "other by relation": ", ".join(f"{k} {v:,}" for k, v in r["other_by_relation"].items()),
                     "precision": r["precision"], "corpus write s": r["corpus_seconds"], "load": round(r["load"], 1)})
        stages.append({"engine": engine, "documents": size, **({stage: f"{s:,.1f} ({r['stage_docs_per_s'][stage]:,.0f})"
                                              for stage, s in r["stage_seconds"].items()}
                                             or {"stages": "no stage timings"})})
        kinds.append({"engine": engine, "documents": size, **r["recall_by_kind"]})
    return "\n\n".join([_table(main), *(["\n".join(notes)] if notes else []),
                        f"Stages (timings.json; seconds and docs/s):\n\n{_table(stages)}",
                        f"Recall by copy kind:\n\n{_table(kinds)}"])


def targets(found_ratios: dict[str, float], scans: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Each target next to what was measured ("not measured" when the run did not cover it)."""
    def check(name: str, value: float | None, goal: float, higher: bool, unit: str = "") -> dict[str, str]:
        if value is None or math.isnan(value):
            return {"target": name, "measured": "not measured", "met": "–"}
        met = value >= goal if higher else value < goal
        return {"target": name, "measured": f"{value:,.3g}{unit}", "met": "yes" if met else "NO"}

    measured = [r for r in scans if "recall" in r]
    engines = sorted({r.get("engine", "tables") for r in measured})
    by_size = {(r.get("engine", "tables"), r["documents"]): r for r in measured}
    rows = [
        check("fingerprint ≥ 40× datasketch update_batch (docs/s)",
              found_ratios.get("dedup numba / datasketch update_batch"), TARGETS["vs_update_batch"], True, "×"),
        check("fingerprint ≥ 8× rensa RMinHash (docs/s)",
              found_ratios.get("dedup numba / rensa RMinHash (per document)"), TARGETS["vs_rensa"], True, "×"),
        check("fingerprint ≥ 100 MB/s per core (MB/CPU-s)",
              found_ratios.get("dedup numba MB/s per core (MB/CPU-s)"), TARGETS["mb_per_core"], True, " MB/CPU-s"),
    ]
    for engine in engines:
        rows += [
            check(f"100k end to end < 120 s ({engine})", by_size.get((engine, 100_000), {}).get("seconds"),
                  TARGETS["seconds_100k"], False, " s"),
            check(f"1M peak memory < 4 GB, tree PSS or largest process if more ({engine})",
                  peak_mb(by_size[engine, 1_000_000]) / 1024 if (engine, 1_000_000) in by_size else None,
                  TARGETS["peak_gb_1m"], False, " GB"),
        ]
    rows += [check(f"recall ≥ 0.99 at {n:,} ({engine})", r["recall"], TARGETS["recall"], True)
             for (engine, n), r in by_size.items()]
    return rows


def plot(scans: list[dict[str, Any]], path: Path) -> None:
    """End-to-end time and peak memory against corpus size, log-log, two panels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    for engine, style in (("tables", "o-"), ("report", "s--"), ("classic", "^:")):
        done = [r for r in scans if r.get("returncode") == 0 and r.get("engine", "tables") == engine]
        sizes = [r["documents"] for r in done]
        if done:
            left.plot(sizes, [r["seconds"] for r in done], style, label=f"{engine} engine")
            right.plot(sizes, [peak_mb(r) / 1024 for r in done], style, label=f"{engine} engine")
    left.plot([100_000], [TARGETS["seconds_100k"]], "rv", label="target: 100k < 120 s")
    left.set(xscale="log", yscale="log", xlabel="documents", ylabel="wall seconds", title="dedup scan: time")
    right.plot([1_000_000], [TARGETS["peak_gb_1m"]], "rv", label="target: 1M < 4 GB")
    right.set(xscale="log", yscale="log", xlabel="documents", ylabel="peak memory (GB)",
              title="dedup scan: peak memory (tree PSS, or largest process)")
    for axes in (left, right):
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def ram_bytes() -> int:
    """Physical memory of the machine (POSIX, so psutil is not needed)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def machine() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for name in ("dedup", "numpy", "numba", "datasketch", "rensa", "text-dedup", "pandas", "pyarrow"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return {"cpus": os.cpu_count(), "ram_gb": round(ram_bytes() / 2**30, 1),
            "python": platform.python_version(), "platform": platform.platform(), "versions": versions}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path("../shared/benchmarks"))
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="comma-separated corpus sizes for the end-to-end runs ('' for none)")
    parser.add_argument("--engines", default="tables,report,classic",
                        help="comma-separated engines run end to end: tables (--tables-only), report (the default "
                             "scan), classic (bench/classic.py, the datasketch pipeline), and low-memory, "
                             "low-memory+report: tables and report with --low-memory, for older checkouts")
    parser.add_argument("--peer-docs", type=int, default=10_000,
                        help="corpus size of the fingerprint comparison (0: skip)")
    parser.add_argument("--rounds", type=int, default=3,
                        help="times the fingerprint methods run in turn; each keeps its fastest round")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--max-seconds", type=float, default=1800)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write every result here")
    parser.add_argument("--plot", type=Path, help="PNG of end-to-end time and memory against size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    results = run(args, sizes)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    if args.plot and results["end_to_end"]:
        try:
            plot(results["end_to_end"], args.plot)
        except ImportError as error:
            print(f"no plot: {error} (pip install matplotlib)", file=sys.stderr)


def run(args: argparse.Namespace, sizes: list[int]) -> dict[str, Any]:
    """Both parts, printing their tables as they finish; returns everything for --json."""
    import corpus

    results: dict[str, Any] = {"machine": machine(), "seed": args.seed, "jobs": args.jobs,
                               "fingerprint": [], "ratios": {}, "end_to_end": []}
    print(f"# dedup speed benchmark\n\n{os.cpu_count()} CPUs, {results['machine']['ram_gb']} GB RAM, "
          f"--jobs {args.jobs}, seed {args.seed}")
    bases = corpus.load_bases(args.root)
    with tempfile.TemporaryDirectory(prefix="dedup-speed-") as tmp:
        workdir = Path(tmp)
        if args.peer_docs:
            documents, truth = corpus.build_from(bases, args.peer_docs, args.seed)
            pairs, kinds = truth_indices(documents, truth)
            rows = fingerprint_rows(list(documents.text), pairs, kinds, args.jobs, args.rounds, workdir)
            results["fingerprint"], results["ratios"] = rows, ratios(rows)
            megabytes = sum(len(t.encode()) for t in documents.text) / MB
            print(f"\n## Fingerprint stage: {args.peer_docs:,} documents, {megabytes:,.1f} MB, "
                  f"{NUM_PERM} permutations\n\n{fingerprint_tables(rows, len(pairs))}\n")
            print(_table([{"ratio": k, "value": v} for k, v in results["ratios"].items()]))
        if sizes:
            engines = [e for e in args.engines.split(",") if e.strip()]
            unknown = set(engines) - set(ENGINES)
            if unknown:
                raise SystemExit(f"--engines: unknown {', '.join(sorted(unknown))}; known: {', '.join(ENGINES)}")
            results["end_to_end"] = end_to_end(bases, sizes, engines, args.jobs, args.max_seconds, args.seed,
                                               workdir)
            print(f"\n## End to end: dedup scan, --jobs {args.jobs}\n\n{scan_tables(results['end_to_end'])}")
    results["targets"] = targets(results["ratios"], results["end_to_end"])
    print(f"\n## Targets\n\n{_table(results['targets'])}")
    return results


if __name__ == "__main__":
    main()
