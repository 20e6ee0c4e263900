"""rag_search latency on generated docs: p50/p95 for 2k and 20k chunks (issue 10).

Builds throw-away indexes in a temp folder (nothing else is touched), then times
``rag.retrieval.search`` (sparse, what offline installs run) and the hybrid query with a
384-d dense vector (RRF over sparse + dense, the embedding call itself excluded). For the
dense part it also compares exact search with an HNSW index built by ``optimize()``:
latency and recall@10 against exact. Bounded: a few hundred queries per size.

    DJANGO_SETTINGS_MODULE=chatsite.settings_test .venv/bin/python bench/rag_search_latency.py [--sizes 2000 20000]
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings_test")

import django

django.setup()

from django.test import override_settings

WORDS = (
    "mock module timer snapshot config worker cache transform coverage async promise hook "
    "render fixture matcher spy reset restore environment node jsdom babel typescript watch "
    "bail parallel shard retry timeout setup teardown describe expect resolve reject"
).split()
DIM = 384


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def unit(rng, dim=DIM):
    v = [rng.gauss(0, 1) for _ in range(dim)]
    n = sum(x * x for x in v) ** 0.5
    return [x / n for x in v]


def make_chunks(n, rng):
    from rag.chunking import Chunk, chunk_id

    chunks = []
    for i in range(n):
        path = f"section-{i // 20}/page-{i // 5}.md"
        words = [rng.choice(WORDS) for _ in range(rng.randint(60, 300))] + [f"term{i % 997}"]
        chunks.append(Chunk(
            id=chunk_id(path, f"h{i}", 0), path=path, url=f"https://x.test/docs/{i}#h{i}",
            page_url=f"https://x.test/docs/{i}", title=f"Page {i // 5}", heading=f"Heading {i}",
            heading_path=[f"Heading {i}"], anchor=f"h{i}", ordinal=0, text=" ".join(words),
            version="current", locale="en", page_hash=f"{i // 5:064x}",
        ))
    return chunks


def build(index, chunks, vectors, dense):
    from rag.calibration import calibrate
    from rag.index import WritePlan

    pages = {}
    for c in chunks:
        pages.setdefault(c.path, []).append(c)
    spec = index.spec(dense_model="bench-dense" if dense else None, dense_size=None)
    plan = WritePlan(spec=spec, pages=pages, changed=set(pages), deleted=set())
    index.write("bench", plan, embed=lambda texts: vectors[:len(texts)] if dense else None,
                calibrate=calibrate)


def time_calls(fn, queries):
    fn(queries[0])  # warm up (opens the generation)
    samples = []
    for q in queries:
        started = time.perf_counter()
        fn(q)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000], help="chunk counts")
    parser.add_argument("--queries", type=int, default=200, help="queries per measurement")
    args = parser.parse_args()

    import qdrant_edge as q

    from rag.index import DENSE, EdgeIndex, edge_version
    from rag.retrieval import search
    from rag.sparse import encode_query

    rng = random.Random(7)
    print(f"qdrant-edge-py {edge_version()}, {args.queries} queries per row, times in ms")
    print(f"{'chunks':>7} {'what':<34} {'p50':>7} {'p95':>7}  notes")
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as tmp, override_settings(RAG_INDEX_DIR=Path(tmp)):
            chunks = make_chunks(size, rng)
            vectors = [unit(rng) for _ in range(size)]
            index = EdgeIndex(Path(tmp))
            started = time.perf_counter()
            build(index, chunks, vectors, dense=True)
            build_s = time.perf_counter() - started
            texts = [" ".join(rng.sample(WORDS, 3)) + f" term{rng.randrange(997)}" for _ in range(args.queries)]
            qvecs = [unit(rng) for _ in range(args.queries)]

            sparse = time_calls(lambda t, index=index: search(query=t, k=8, collection="bench", index=index), texts)
            print(f"{size:>7} {'rag_search (sparse, via search())':<34} {percentile(sparse, .5):7.2f}"
                  f" {percentile(sparse, .95):7.2f}  build {build_s:.1f} s")
            pairs = list(zip(texts, qvecs, strict=True))
            hybrid = time_calls(
                lambda p, index=index: index.query("bench", sparse=encode_query(p[0]), dense=p[1], limit=8), pairs)
            print(f"{size:>7} {'hybrid RRF (sparse + 384-d dense)':<34} {percentile(hybrid, .5):7.2f}"
                  f" {percentile(hybrid, .95):7.2f}")

            # Dense only: exact (plain segments, what ingest builds) vs HNSW after optimize().
            def dense_query(vec, shard, exact):
                return [p.id for p in shard.query(q.QueryRequest(
                    limit=10, query=q.Query.Nearest(vec, using=DENSE),
                    params=q.SearchParams(exact=exact)))]

            with index.reading("bench") as handle:
                exact_ids = [dense_query(v, handle.shard, True) for v in qvecs]
                exact_ms = time_calls(lambda v: dense_query(v, handle.shard, True), qvecs)
                shard_path = str(handle.path / "shard")
            index.close()
            shard = q.EdgeShard.load(shard_path)
            started = time.perf_counter()
            shard.optimize()
            optimize_s = time.perf_counter() - started
            hnsw_ids = [dense_query(v, shard, False) for v in qvecs]
            hnsw_ms = time_calls(lambda v, shard=shard: dense_query(v, shard, False), qvecs)
            recall = statistics.mean(len(set(a) & set(b)) / 10 for a, b in zip(exact_ids, hnsw_ids, strict=True))
            shard.close()
            print(f"{size:>7} {'dense top-10, exact':<34} "
                  f"{percentile(exact_ms, .5):7.2f} {percentile(exact_ms, .95):7.2f}")
            print(f"{size:>7} {'dense top-10, HNSW (optimize())':<34} {percentile(hnsw_ms, .5):7.2f}"
                  f" {percentile(hnsw_ms, .95):7.2f}  optimize {optimize_s:.1f} s, recall@10 {recall:.2f}")


if __name__ == "__main__":
    main()
