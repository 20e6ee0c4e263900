"""Several worker processes on one embedded index: memory and latency per way of sharing it.

Issue 18: with ``uvicorn --workers N`` every worker must answer from the embedded (Qdrant
Edge) index. Two ways were tried, each with N = 1, 2 and 4 worker processes running at once
over a generated 1,000-page corpus (sparse vectors, as installs without embeddings run):

- ``shared``: what the service does. Generations are written without a write-ahead log,
  so the engine takes no lock, and every worker opens the live generation itself; the
  memory-mapped segment files are shared through the page cache.
- ``copy``: every worker copies the live generation's shard to a folder of its own and
  opens that (the engine then creates a write-ahead log there: 64 MB of disk per worker).

A third way, one process owning the index and the others querying it over a local socket,
was not built: it adds a process to supervise and an IPC hop to every search, to save
memory the ``shared`` way already shares.

Per worker: time to open (first search), search latency (p50/p95 over the Jest questions
through ``rag.retrieval.search``), RSS and PSS (proportional set size: shared pages divided
among the processes that map them, so the PSS sum is what N workers really cost).

    .venv/bin/python bench/index_workers.py [--pages 1000] [--workers 1 2 4] [--queries 200]
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h  # noqa: E402


def pss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def child(mode: str, index_dir: Path, queries: int, go: Path) -> None:
    """One worker: open the index the ``mode`` way, search, report, wait to be measured."""
    if mode == "copy":
        private = index_dir.parent / f"private-{os.getpid()}"
        started = time.perf_counter()
        shutil.copytree(index_dir, private, ignore=shutil.ignore_patterns("wal", "readers.lock"))
        for generation in (private / "edge" / "bench").glob("gen-*"):
            (generation / "readers.lock").touch()
        copy_s = time.perf_counter() - started
        index_dir = private
    else:
        copy_s = 0.0
    os.environ["RAG_INDEX_DIR"] = str(index_dir)
    sys.path.insert(0, str(h.ROOT))
    import django

    django.setup()
    from rag.retrieval import search

    questions = h.jest_questions() or ["mock a module"]
    started = time.perf_counter()
    search(query=questions[0], collection="bench")
    open_s = time.perf_counter() - started
    times = []
    for n in range(queries):
        started = time.perf_counter()
        search(query=questions[n % len(questions)], collection="bench")
        times.append((time.perf_counter() - started) * 1000)
    disk = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file()) if mode == "copy" else 0
    print(json.dumps({"copy_s": copy_s, "open_s": open_s, "p50_ms": h.percentile(times, 0.5),
                      "p95_ms": h.percentile(times, 0.95), "private_disk_mb": round(disk / 2**20, 1)}),
          flush=True)
    while not go.exists():
        time.sleep(0.05)


def run(mode: str, workers: int, index_dir: Path, env: dict, queries: int, tmp: Path) -> dict:
    go = tmp / f"go-{mode}-{workers}"
    outs = [tmp / f"out-{mode}-{workers}-{n}.json" for n in range(workers)]
    procs = [subprocess.Popen([sys.executable, __file__, "--child", mode, "--index", str(index_dir),
                               "--queries", str(queries), "--go", str(go)],
                              env=env, cwd=h.ROOT, stdout=out.open("w"), stderr=subprocess.PIPE)
             for out in outs]
    deadline = time.monotonic() + 300
    while any(not out.read_text().strip() for out in outs):
        if time.monotonic() > deadline or any(p.poll() not in (None, 0) for p in procs):
            raise RuntimeError(b"".join(p.stderr.read() for p in procs if p.poll()).decode())
        time.sleep(0.1)
    rss = [h.rss_mb(p.pid) for p in procs]
    pss = [pss_mb(p.pid) for p in procs]
    go.touch()
    for p in procs:
        p.wait(60)
    reports = [json.loads(out.read_text()) for out in outs]
    for private in index_dir.parent.glob("private-*"):
        shutil.rmtree(private, ignore_errors=True)
    return {
        "mode": mode, "workers": workers,
        "open_s": max(r["open_s"] + r["copy_s"] for r in reports),
        "p50_ms": max(r["p50_ms"] for r in reports), "p95_ms": max(r["p95_ms"] for r in reports),
        "rss_mb_per_worker": max(rss), "pss_mb_total": round(sum(pss), 1),
        "private_disk_mb_total": round(sum(r["private_disk_mb"] for r in reports), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--child", choices=["shared", "copy"], help=argparse.SUPPRESS)
    parser.add_argument("--index", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--go", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.index, args.queries, args.go)
        return
    with h.workdir("index-workers") as tmp:
        index_dir = tmp / "index"
        env = h.app_env(tmp, database_url=f"sqlite:///{tmp / 'db.sqlite3'}", index_dir=index_dir,
                        RAG_COLLECTION="bench")
        h.manage(env, "migrate", "--noinput", "-v", "0")
        docs = h.generated_corpus(tmp / "docs", args.pages)
        started = time.perf_counter()
        h.manage(env, "ingest_docs", str(docs), "--base-url", h.BASE_URL, "--collection", "bench", timeout=900)
        h.say(f"indexed {args.pages} pages in {time.perf_counter() - started:.1f} s")
        shard_mb = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file()) / 2**20
        h.say(f"index on disk: {shard_mb:.1f} MB")
        rows, results = [], []
        for mode in ("shared", "copy"):
            for workers in args.workers:
                result = run(mode, workers, index_dir, env, args.queries, tmp)
                results.append(result)
                rows.append([mode, workers, h.fmt(result["open_s"], 2), h.fmt(result["p50_ms"], 2),
                             h.fmt(result["p95_ms"], 2), h.fmt(result["rss_mb_per_worker"]),
                             h.fmt(result["pss_mb_total"]), h.fmt(result["private_disk_mb_total"])])
        h.say(h.table(["mode", "workers", "open s (max)", "p50 ms", "p95 ms", "RSS MB/worker",
                       "PSS MB total", "extra disk MB"], rows))
        h.write_results("index_workers", {"pages": args.pages, "index_mb": round(shard_mb, 1),
                                          "queries": args.queries, "results": results})


if __name__ == "__main__":
    main()
