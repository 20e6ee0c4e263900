"""Retrieval latency in embedded mode (Qdrant Edge) at 10k and 100k chunks (issue 8, item 6).

For each size, one process builds a throw-away index of generated chunks (the generator and
index writer of ``bench/rag_search_latency.py``, 384-d random unit vectors as the dense
part), then a fresh process opens it the way the server does and times, per query:

- ``rag.retrieval.search`` (sparse BM25, what installs without embeddings run);
- the hybrid query (RRF over sparse + 384-d dense; the embedding call itself excluded);
- ``rag.relevance.decide`` after the search (the "is this covered?" check every chat turn
  runs), and separately its first call, which reads the corpus statistics from the index.

It also records build time, reopen time and the serving process's RSS, the numbers that say
when a Qdrant server becomes necessary (see docs/benchmarks.md).

    .venv/bin/python bench/retrieval.py [--sizes 10000 100000] [--queries 300]
"""

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h  # noqa: E402

COLLECTION = "bench"


def self_rss_mb() -> float:
    return h.rss_mb(os.getpid())


def build(index_dir: Path, size: int) -> dict:
    import numpy as np
    import rag_search_latency as r1

    from rag.index import EdgeIndex

    rng = random.Random(7)
    started = time.perf_counter()
    chunks = r1.make_chunks(size, rng)
    vectors = np.random.default_rng(7).standard_normal((size, r1.DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors.tolist()
    generate_s = time.perf_counter() - started
    index = EdgeIndex(index_dir)
    started = time.perf_counter()
    r1.build(index, chunks, vectors, dense=True)
    build_s = time.perf_counter() - started
    index.close()
    disk = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
    return {"generate_s": round(generate_s, 1), "build_s": round(build_s, 1),
            "disk_mb": round(disk / 1e6, 1), "build_peak_rss_mb": _peak_rss_mb()}


def _peak_rss_mb() -> float:
    for line in Path(f"/proc/{os.getpid()}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def query(index_dir: Path, queries: int) -> dict:
    import numpy as np
    import rag_search_latency as r1

    from rag.index import get_index
    from rag.relevance import decide
    from rag.retrieval import search
    from rag.sparse import encode_query

    rss_before = self_rss_mb()
    rng = random.Random(11)
    texts = [" ".join(rng.sample(r1.WORDS, 3)) + f" term{rng.randrange(997)}" for _ in range(queries)]
    qvecs = np.random.default_rng(11).standard_normal((queries, r1.DIM), dtype=np.float32)
    qvecs = (qvecs / np.linalg.norm(qvecs, axis=1, keepdims=True)).tolist()
    index = get_index()  # the one the server uses (RAG_INDEX_DIR), shared with decide()

    started = time.perf_counter()
    search(query=texts[0], k=8, collection=COLLECTION, index=index)
    open_ms = (time.perf_counter() - started) * 1000

    def timed(fn, items):
        samples = []
        for item in items:
            t0 = time.perf_counter()
            fn(item)
            samples.append((time.perf_counter() - t0) * 1000)
        return samples

    sparse = timed(lambda t: search(query=t, k=8, collection=COLLECTION, index=index), texts)
    hybrid = timed(lambda p: index.query(COLLECTION, sparse=encode_query(p[0]), dense=p[1], limit=8),
                   list(zip(texts, qvecs)))
    hits = search(query=texts[0], k=8, collection=COLLECTION, index=index).hits
    started = time.perf_counter()
    decide(question=texts[0], query=texts[0], hits=hits, collection=COLLECTION)
    first_decide_ms = (time.perf_counter() - started) * 1000

    def search_and_decide(t):
        found = search(query=t, k=8, collection=COLLECTION, index=index).hits
        decide(question=t, query=t, hits=found, collection=COLLECTION)

    with_decide = timed(search_and_decide, texts)
    rss = self_rss_mb()
    index.close()
    return {"open_ms": round(open_ms, 1), "sparse_ms": h.summary(sparse), "hybrid_ms": h.summary(hybrid),
            "search_and_decide_ms": h.summary(with_decide), "first_decide_ms": round(first_decide_ms, 1),
            "rss_mb": rss, "rss_index_mb": round(rss - rss_before, 1)}


def child(args) -> None:
    index_dir = Path(args.index_dir)
    env = h.app_env(index_dir.parent, database_url=f"sqlite:///{index_dir.parent / 'db.sqlite3'}",
                    index_dir=index_dir, LOG_LEVEL="WARNING", RAG_COLLECTION=COLLECTION)
    h.django_setup(env)
    result = build(index_dir, args.size) if args.phase == "build" else query(index_dir, args.queries)
    Path(args.json_out).write_text(json.dumps(result))


def run_child(phase: str, size: int, index_dir: Path, queries: int, out: Path) -> dict:
    import subprocess

    subprocess.run([h.PYTHON, __file__, "--phase", phase, "--size", str(size), "--index-dir",
                    str(index_dir), "--queries", str(queries), "--json-out", str(out)],
                   cwd=h.ROOT, check=True, timeout=600)
    return json.loads(out.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000], help="chunk counts")
    parser.add_argument("--queries", type=int, default=300, help="queries per measurement")
    parser.add_argument("--phase", choices=["build", "query"], help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--index-dir", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        child(args)
        return 0

    from importlib.metadata import version

    results = {}
    for size in args.sizes:
        with h.workdir("retrieval") as tmp:
            h.say(f"[{size} chunks] building ...")
            built = run_child("build", size, tmp / "index", args.queries, tmp / "build.json")
            measured = run_child("query", size, tmp / "index", args.queries, tmp / "query.json")
            results[size] = {**built, **measured}
    rows = []
    for size, r in results.items():
        rows.append([size, "search() sparse", r["sparse_ms"]["p50"], r["sparse_ms"]["p95"]])
        rows.append([size, "hybrid RRF, 384-d dense", r["hybrid_ms"]["p50"], r["hybrid_ms"]["p95"]])
        rows.append([size, "search() + decide()", r["search_and_decide_ms"]["p50"],
                     r["search_and_decide_ms"]["p95"]])
    h.say(f"\nRetrieval in embedded mode (qdrant-edge-py {version('qdrant-edge-py')}), "
          f"{args.queries} queries per row, ms")
    h.say(h.table(["chunks", "what", "p50 ms", "p95 ms"], rows))
    h.say("\n" + h.table(
        ["chunks", "build s", "disk MB", "build peak RSS MB", "open ms", "first decide() ms",
         "serving RSS MB", "of which index MB"],
        [[s, r["build_s"], r["disk_mb"], r["build_peak_rss_mb"], r["open_ms"], r["first_decide_ms"],
          r["rss_mb"], r["rss_index_mb"]] for s, r in results.items()]))
    h.write_results("retrieval", {"engine": f"qdrant-edge-py {version('qdrant-edge-py')}",
                                  "queries": args.queries, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
