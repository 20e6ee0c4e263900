"""Ingestion: pages/s and chunks/s on a generated 1,000-page corpus (issue 8, item 5).

Runs ``manage.py ingest_docs`` (the command operators run, a fresh process each time) into a
throw-away embedded index and SQLite database:

1. cold, sparse only (no ``EMBEDDING_MODEL``: what offline installs run);
2. cold with embeddings from the fake OpenAI server (``EMBEDDING_MODEL`` set, 384-d);
3. re-run on the unchanged corpus with embeddings: target ≤ 2 s and zero embedding calls,
   counted at the fake server (not by the app);
4. one page edited: only that page is embedded again.

The time is the command's wall clock (Python and Django start-up included) and, in brackets,
the elapsed time the command itself reports. Exit status 1 when the unchanged re-run made an
embedding call.

    .venv/bin/python bench/ingestion.py [--pages 1000]
"""

import argparse
import json
import re
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h  # noqa: E402

REPORT = re.compile(r"added (\d+), updated (\d+), deleted (\d+), unchanged (\d+) pages; (\d+) chunks; "
                    r"(\d+) embedding calls; ([\d.]+) s")


def stats(base_url: str, reset: bool = False) -> dict:
    root = base_url.rsplit("/v1", 1)[0]
    request = urllib.request.Request(f"{root}/stats", method="POST" if reset else "GET")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def ingest(env: dict, docs: Path, llm_url: str | None) -> dict:
    if llm_url:
        stats(llm_url, reset=True)
    started = time.perf_counter()
    out = h.manage(env, "ingest_docs", str(docs), "--base-url", h.BASE_URL)
    wall = time.perf_counter() - started
    match = REPORT.search(out)
    if not match:
        raise RuntimeError(f"unexpected ingest_docs output:\n{out}")
    added, updated, deleted, unchanged, chunks, calls, elapsed = match.groups()
    served = stats(llm_url)["calls"].get("/v1/embeddings", 0) if llm_url else 0
    return {"wall_s": round(wall, 2), "reported_s": float(elapsed), "added": int(added),
            "updated": int(updated), "deleted": int(deleted), "unchanged": int(unchanged),
            "chunks": int(chunks), "embedding_calls_reported": int(calls),
            "embedding_calls_at_server": served}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=1000, help="pages in the generated corpus")
    args = parser.parse_args()

    with h.workdir("ingestion") as tmp:
        docs = h.generated_corpus(tmp / "docs", args.pages)
        size_kb = sum(p.stat().st_size for p in docs.rglob("*.md")) / 1024
        fake, llm_url = h.fake_llm(tmp, impl="asyncio")
        runs = {}
        try:
            sparse_env = h.app_env(tmp / "sparse", database_url=f"sqlite:///{tmp}/sparse.sqlite3",
                                   index_dir=tmp / "sparse-index", LOG_LEVEL="WARNING")
            h.manage(sparse_env, "migrate", "--no-input", "-v", "0")
            runs["cold, sparse only"] = ingest(sparse_env, docs, None)
            runs["re-run unchanged, sparse only"] = ingest(sparse_env, docs, None)

            dense_env = h.app_env(tmp / "dense", database_url=f"sqlite:///{tmp}/dense.sqlite3",
                                  index_dir=tmp / "dense-index", llm_url=llm_url,
                                  embedding_model="text-embedding-3-small", EMBEDDING_DIMENSIONS=384,
                                  LOG_LEVEL="WARNING")
            h.manage(dense_env, "migrate", "--no-input", "-v", "0")
            runs["cold, with embeddings"] = ingest(dense_env, docs, llm_url)
            runs["re-run unchanged, with embeddings"] = ingest(dense_env, docs, llm_url)
            page = next(iter(sorted(docs.rglob("*.md"))))
            page.write_text(page.read_text() + "\n## Added later\n\nA new section about caching.\n")
            runs["one page edited, with embeddings"] = ingest(dense_env, docs, llm_url)
        finally:
            fake.stop()

    rows = []
    for name, run in runs.items():
        pages = run["added"] + run["updated"] + run["unchanged"]
        rows.append([name, pages, run["chunks"], run["wall_s"], run["reported_s"],
                     round(pages / run["wall_s"]), round(run["chunks"] / run["wall_s"]),
                     run["embedding_calls_at_server"]])
    h.say(f"\nIngestion of {args.pages} generated pages ({size_kb:.0f} kB of markdown), "
          "embedded index (Qdrant Edge), SQLite")
    h.say(h.table(["run", "pages", "chunks", "wall s", "(reported s)", "pages/s", "chunks/s",
                   "embedding calls at server"], rows))
    rerun = runs["re-run unchanged, with embeddings"]
    ok = rerun["embedding_calls_at_server"] == 0
    h.say(f"\nre-run unchanged: {rerun['wall_s']} s wall (target ≤ 2 s: "
          f"{'met' if rerun['wall_s'] <= 2 else 'missed'}), "
          f"{rerun['embedding_calls_at_server']} embedding calls (target 0)")
    h.write_results("ingestion", {"pages": args.pages, "markdown_kb": round(size_kb),
                                  "target": {"rerun_s": 2, "rerun_embedding_calls": 0},
                                  "runs": runs, "ok": ok})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
