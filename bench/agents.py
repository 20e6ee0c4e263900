"""The agent endpoints on the Jest corpus under one uvicorn process (issue 20).

Sizes of /llms.txt and /llms-full.txt; latency of the first request after a new index
generation (the snapshot is rebuilt) and of cached ones; Markdown copies; and MCP tool calls
through the official SDK client (search_docs, get_page, ask with the offline extractive
answer), each call in one open MCP session.

    .venv/bin/python bench/agents.py [--calls 100]
"""

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h  # noqa: E402


def ms(start: float) -> float:
    return (time.perf_counter() - start) * 1000


async def measure(url: str, calls: int, docs: Path, env: dict) -> dict:
    import httpx2
    from mcp import Client

    out: dict = {}
    async with httpx2.AsyncClient(timeout=60) as http:
        start = time.perf_counter()
        llms = await http.get(f"{url}/llms.txt")
        out["llms_txt_first_ms"] = round(ms(start), 1)
        out["llms_txt_chars"] = len(llms.text)
        links = [line.split("](", 1)[1].split(")", 1)[0] for line in llms.text.splitlines()
                 if line.startswith("- [")]
        times = []
        for _ in range(calls):
            start = time.perf_counter()
            await http.get(f"{url}/llms.txt")
            times.append(ms(start))
        out["llms_txt_cached_ms"] = h.summary(times)
        start = time.perf_counter()
        full = await http.get(f"{url}/llms-full.txt")
        out["llms_full_txt_ms"] = round(ms(start), 1)
        out["llms_full_txt_chars"] = len(full.text)
        times = []
        for i in range(calls):
            start = time.perf_counter()
            page = await http.get(links[i % len(links)])
            times.append(ms(start))
            assert page.status_code == 200, page.status_code
        out["md_copy_cached_ms"] = h.summary(times)

        # A new generation goes live: the next request rebuilds the snapshot.
        intro = docs / "GettingStarted.md"
        intro.write_text(intro.read_text("utf-8") + "\n\nBenchmark marker paragraph.\n", "utf-8")
        h.manage(env, "ingest_docs", str(docs), "--base-url", h.BASE_URL)
        start = time.perf_counter()
        fresh = await http.get(f"{url}/docs/getting-started.md")
        out["md_copy_after_new_generation_ms"] = round(ms(start), 1)
        assert "Benchmark marker paragraph." in fresh.text

    queries = h.jest_questions(limit=calls)
    async with Client(f"{url}/mcp") as client:
        for tool, args in (
            ("search_docs", lambda i: {"query": queries[i % len(queries)], "k": 5}),
            ("get_page", lambda i: {"url_or_path": links[i % len(links)]}),
            ("ask", lambda i: {"question": queries[i % len(queries)]}),
        ):
            times, errors = [], 0
            for i in range(calls if tool != "ask" else min(calls, 30)):
                start = time.perf_counter()
                result = await client.call_tool(tool, args(i))
                times.append(ms(start))
                errors += bool(result.is_error)
            out[f"mcp_{tool}_ms"] = {**h.summary(times), "errors": errors}
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100, help="requests per measurement")
    args = parser.parse_args()
    with h.workdir("agents") as tmp, h.database("sqlite", tmp) as db_url:
        docs = tmp / "docs"
        import shutil

        shutil.copytree(h.JEST_DOCS, docs)
        shutil.copy(h.JEST_DOCS.parent / "sidebars.json", tmp / "sidebars.json")
        env = h.app_env(tmp, database_url=db_url, index_dir=tmp / "index",
                        MCP_RATE="10000000/min")
        h.manage(env, "migrate", "--no-input", "-v", "0")
        h.manage(env, "ingest_docs", str(docs), "--base-url", h.BASE_URL)
        proc, port = h.uvicorn(env, tmp)
        with proc:
            result = asyncio.run(measure(f"http://127.0.0.1:{port}", args.calls, docs, env))
    rows = []
    for key, value in result.items():
        if isinstance(value, dict):
            rows.append([key, value["n"], value["p50"], value["p95"], value.get("errors", "")])
        else:
            rows.append([key, "", value, "", ""])
    h.say(h.table(["measure", "n", "p50 / value", "p95", "errors"], rows))
    h.write_results("agents", {"calls": args.calls, "results": result})
    return 0


if __name__ == "__main__":
    sys.exit(main())
