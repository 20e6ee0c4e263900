"""Concurrent streams against ONE uvicorn process (issue 8, item 2).

The fake LLM (``bench/fake_llm.py``, asyncio, its own process) streams 200 tokens at 50
tokens/s after a 250 ms time to first token; the server is one uvicorn process (or, with
``--server gunicorn``, gunicorn with 4 sync WSGI workers: see ``bench/asgi_vs_wsgi.py``);
this process is the client (httpx, asyncio). For each N, N chats start within ``--ramp``
seconds and are held open until their ``done`` event; every N is bounded by ``--deadline``.

Per N it reports: completed streams and errors (HTTP status, ``error`` events, timeouts),
time to the first delta, the inter-delta gap p95 minus the LLM's own 20 ms (the delay
added on the way through the server), the server's peak RSS and CPU time, and the most
streams the fake LLM had open at once (the concurrency actually sustained). A baseline
runs the same N straight against the fake LLM, so the client's and the fake's own jitter
on this machine is visible.

It also reports the server's CPU time per 1,000 tokens the fake LLM streamed: less sensitive
than latency to other work on a shared machine, so runs on a loaded box stay comparable.

Targets (issue 17, one uvicorn process, SQLite and PostgreSQL): N = 200 first delta p95
≤ 500 ms and added gap p95 ≤ 20 ms; N = 500 0 errors and first delta p95 ≤ 1.5 s; N = 1000
0 errors; RSS < 500 MB.

    .venv/bin/python bench/streams.py [--n 50 200 500 1000] [--db sqlite|postgres]
        [--server uvicorn|gunicorn] [--label after]
"""

import argparse
import asyncio
import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h  # noqa: E402

TTFT = 0.25
TPS = 50.0
TOKENS = 200
INTERVAL_MS = 1000 / TPS


def fake_stats(llm_url: str, reset: bool = False) -> dict:
    root = llm_url.rsplit("/v1", 1)[0]
    request = urllib.request.Request(f"{root}/stats", method="POST" if reset else "GET")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


async def _read_events(response, on_event) -> None:
    """Call ``on_event(name, now)`` for every SSE event as its bytes arrive."""
    buffer = b""
    async for chunk in response.aiter_raw():
        now = time.perf_counter()
        buffer += chunk
        *blocks, buffer = buffer.split(b"\n\n")
        for block in blocks:
            if block.startswith(b"event: "):
                on_event(block[7:block.find(b"\n")].decode(), now, block)
            elif block.startswith(b"data: "):
                on_event("data", now, block)


async def chat_stream(client, question: str) -> dict:
    record = {"start": time.perf_counter(), "deltas": [], "error": None, "done": False,
              "refused": False, "session": None}

    def on_event(name, now, block):
        if name == "delta":
            record["deltas"].append(now)
        elif name == "session" and record["session"] is None:
            record["session"] = now
        elif name == "sources":
            record["refused"] = b'"refused":true' in block[-40:]
        elif name == "done":
            record["done"] = True
        elif name == "error":
            record["error"] = "error event: " + block.decode(errors="replace")[:200]

    try:
        async with client.stream("POST", "/chat", json={"message": question},
                                 headers={"Accept": "text/event-stream"}) as response:
            if response.status_code != 200:
                body = await response.aread()
                record["error"] = f"HTTP {response.status_code}: {body[:120]!r}"
            else:
                await _read_events(response, on_event)
    except asyncio.CancelledError:
        record["error"] = "timeout (deadline)"
    except Exception as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"[:200]
    record["end"] = time.perf_counter()
    if record["error"] is None and not record["done"]:
        record["error"] = "stream ended without done"
    return record


async def llm_stream(client, question: str) -> dict:
    """The baseline: the same stream straight from the fake LLM."""
    record = {"start": time.perf_counter(), "deltas": [], "error": None, "done": False,
              "refused": False, "session": None}

    def on_event(name, now, block):
        if b'"content": "' in block and b'"content": ""' not in block:
            record["deltas"].append(now)
        elif block.startswith(b"data: [DONE]"):
            record["done"] = True

    try:
        async with client.stream("POST", "/chat/completions", json={
                "model": "fake-model", "stream": True,
                "messages": [{"role": "user", "content": question}]}) as response:
            await _read_events(response, on_event)
    except asyncio.CancelledError:
        record["error"] = "timeout (deadline)"
    except Exception as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"[:200]
    record["end"] = time.perf_counter()
    if record["error"] is None and not record["done"]:
        record["error"] = "stream ended without done"
    return record


async def run_load(base_url: str, n: int, questions: list[str], *, ramp: float, deadline: float,
                   server_pid: int | None, children: bool, kind: str = "chat") -> dict:
    import httpx

    limits = httpx.Limits(max_connections=n + 10, max_keepalive_connections=n + 10)
    timeout = httpx.Timeout(deadline, connect=deadline)
    samples_rss = []
    stop = asyncio.Event()

    async def sample():
        while not stop.is_set():
            if server_pid:
                samples_rss.append(h.rss_mb(server_pid, children=children))
            await asyncio.sleep(0.1)

    cpu_before = h.cpu_seconds(server_pid, children=children) if server_pid else 0.0
    client_cpu_before = time.process_time()
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=timeout) as client:
        sampler = asyncio.create_task(sample())
        stream = chat_stream if kind == "chat" else llm_stream

        async def delayed(i):
            await asyncio.sleep(ramp * i / n)
            return await stream(client, questions[i % len(questions)])

        tasks = [asyncio.create_task(delayed(i)) for i in range(n)]
        started = time.perf_counter()
        done, pending = await asyncio.wait(tasks, timeout=deadline)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        wall = time.perf_counter() - started
        cpu_after = h.cpu_seconds(server_pid, children=children) if server_pid else 0.0
        stop.set()
        await sampler
    records = []
    for task in tasks:
        if task.cancelled() or task.exception():
            records.append({"error": "timeout (deadline)", "deltas": [], "done": False,
                            "refused": False, "session": None, "start": 0, "end": 0})
        else:
            records.append(task.result())
    return summarise(records, n=n, wall=wall, rss=samples_rss, server_cpu=cpu_after - cpu_before,
                     client_cpu=time.process_time() - client_cpu_before)


def summarise(records: list[dict], *, n: int, wall: float, rss: list[float], server_cpu: float,
              client_cpu: float) -> dict:
    errors: dict[str, int] = {}
    gaps, first, duration, session = [], [], [], []
    completed = refused = 0
    for r in records:
        if r["error"]:
            kind = r["error"].split(":")[0]
            errors[kind] = errors.get(kind, 0) + 1
            continue
        completed += 1
        if r["refused"]:
            refused += 1
            continue
        if r["session"]:
            session.append((r["session"] - r["start"]) * 1000)
        deltas = r["deltas"]
        if deltas:
            first.append((deltas[0] - r["start"]) * 1000)
            gaps += [(b - a) * 1000 for a, b in zip(deltas, deltas[1:])]
        duration.append((r["end"] - r["start"]) * 1000)
    gap = h.summary(gaps)
    return {
        "n": n, "completed": completed, "refused": refused, "errors": sum(errors.values()),
        "error_kinds": errors, "wall_s": round(wall, 1),
        "session_event_ms": h.summary(session), "first_delta_ms": h.summary(first), "gap_ms": gap,
        "added_gap_p95_ms": round(gap["p95"] - INTERVAL_MS, 1) if gap["p95"] is not None else None,
        "added_gap_p99_ms": round(gap["p99"] - INTERVAL_MS, 1) if gap["p99"] is not None else None,
        "stream_ms": h.summary(duration),
        "server_peak_rss_mb": max(rss) if rss else None,
        "server_cpu_s": round(server_cpu, 1), "client_cpu_s": round(client_cpu, 1),
        "example_error": next((r["error"] for r in records if r["error"]), None),
    }


def _profiler(pid: int, tmp: Path, n: int, deadline: float):
    """py-spy sampling the server (all threads, idle frames excluded) while N runs."""
    import subprocess

    py_spy = Path(h.PYTHON).parent / "py-spy"
    return subprocess.Popen([str(py_spy), "record", "--pid", str(pid), "--format", "raw",
                             "--rate", "200", "--duration", str(int(deadline)), "--nonblocking",
                             "--output", str(tmp / f"profile-{n}.txt")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _profile_top(spy, tmp: Path, n: int, top: int = 25) -> dict:
    """Stop py-spy and fold its samples into the top frames (self and inclusive share)."""
    import signal

    spy.send_signal(signal.SIGINT)
    try:
        spy.wait(30)
    except Exception:
        spy.kill()
    path = tmp / f"profile-{n}.txt"
    if not path.exists():
        return {"error": "py-spy wrote no profile (needs ptrace permission)"}
    own, total, samples = {}, {}, 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        count = int(count)
        frames = [f.split(" (")[0] + " (" + f.split(" (")[1].split(":")[0].rsplit("/", 1)[-1] + ")"
                  if " (" in f else f for f in stack.split(";")]
        samples += count
        own[frames[-1]] = own.get(frames[-1], 0) + count
        for frame in set(frames):
            total[frame] = total.get(frame, 0) + count
    pick = lambda d: [[f, round(100 * c / samples, 1)] for f, c in sorted(d.items(), key=lambda x: -x[1])[:top]]  # noqa: E731
    saved = h.RESULTS / f"profile-streams-{PROFILE_TAG}{n}.txt"
    saved.write_text(path.read_text())
    return {"samples": samples, "self_pct": pick(own), "inclusive_pct": pick(total),
            "raw": str(saved.relative_to(h.ROOT))}


def measure(*, server: str, ns: list[int], ramp: float, deadline: float, baseline: bool,
            db: str = "sqlite", workers: int = 4, profile: bool = False) -> dict:
    """Start the fake LLM and the server, run every N; returns the results."""
    with h.workdir(f"streams-{server}") as tmp, h.database(db, tmp) as url:
        fake, llm_url = h.fake_llm(tmp, ttft=TTFT, tps=TPS, tokens=TOKENS)
        try:
            env = h.app_env(tmp, database_url=url, index_dir=tmp / "index", llm_url=llm_url)
            h.manage(env, "migrate", "--no-input", "-v", "0")
            h.manage(env, "ingest_docs", str(h.JEST_DOCS), "--base-url", h.BASE_URL)
            questions = h.jest_questions()
            results = {"server": server, "db": db, "runs": [], "baseline": []}
            if baseline:
                for n in ns:
                    fake_stats(llm_url, reset=True)
                    run = asyncio.run(run_load(llm_url, n, questions, ramp=ramp, deadline=deadline,
                                               server_pid=None, children=False, kind="llm"))
                    run["llm_max_open_streams"] = fake_stats(llm_url)["max_open_streams"]
                    results["baseline"].append(run)
                    h.say(f"  baseline (client → fake LLM) N={n}: added gap p95 {run['added_gap_p95_ms']} ms, "
                          f"errors {run['errors']}")
            if server == "uvicorn":
                proc, port = h.uvicorn(env, tmp)
                children = False
            else:
                proc, port = h.gunicorn(env, tmp, workers=workers, timeout=int(deadline) + 30)
                children = True
            try:
                base = f"http://127.0.0.1:{port}"
                asyncio.run(run_load(base, 2, questions, ramp=0, deadline=60, server_pid=None,
                                     children=False))  # warm up (corpus statistics, imports)
                results["idle_rss_mb"] = h.rss_mb(proc.pid, children=children)
                for n in ns:
                    fake_stats(llm_url, reset=True)
                    spy = _profiler(proc.pid, tmp, n, deadline) if profile else None
                    run = asyncio.run(run_load(base, n, questions, ramp=ramp, deadline=deadline,
                                               server_pid=proc.pid, children=children))
                    if spy is not None:
                        run["profile_top"] = _profile_top(spy, tmp, n)
                    stats = fake_stats(llm_url)
                    run["llm_max_open_streams"] = stats["max_open_streams"]
                    run["llm_tokens"] = stats.get("tokens_sent")
                    run["server_cpu_ms_per_1k_tokens"] = (
                        round(1e6 * run["server_cpu_s"] / stats["tokens_sent"], 1)
                        if stats.get("tokens_sent") else None)
                    results["runs"].append(run)
                    h.say(f"  {server} N={n}: {run['completed']}/{n} completed, {run['errors']} errors, "
                          f"first delta p95 {run['first_delta_ms']['p95']} ms, added gap p95 "
                          f"{run['added_gap_p95_ms']} ms, CPU {run['server_cpu_ms_per_1k_tokens']} ms "
                          f"per 1k tokens, peak RSS {run['server_peak_rss_mb']} MB, "
                          f"LLM streams open at once {run['llm_max_open_streams']}, {run['wall_s']} s")
                    time.sleep(1)
            finally:
                proc.stop()
                results["server_log_tail"] = proc.log_path.read_text(errors="replace")[-1500:]
        finally:
            fake.stop()
    return results


def rows_for(results: dict) -> list[list]:
    rows = []
    for run in results["runs"]:
        rows.append([results["server"], run["n"], run["completed"], run["errors"],
                     run["session_event_ms"]["p95"], run["first_delta_ms"]["p50"], run["first_delta_ms"]["p95"],
                     run["added_gap_p95_ms"], run["added_gap_p99_ms"], run["stream_ms"]["p95"],
                     run["server_peak_rss_mb"], run["server_cpu_s"],
                     run.get("server_cpu_ms_per_1k_tokens"), run["llm_max_open_streams"],
                     run["wall_s"]])
    return rows


HEADERS = ["server", "N", "completed", "errors", "session event p95 ms", "first delta p50 ms", "first delta p95 ms",
           "added gap p95 ms", "added gap p99 ms", "stream p95 ms", "peak RSS MB", "server CPU s",
           "server CPU ms per 1k tokens",
           "LLM streams open at once", "wall s"]


PROFILE_TAG = ""  # "<db>-<label>-" once main() parsed its arguments

FIRST_DELTA_P95_MS = {200: 500, 500: 1500}  # issue 17's targets by N


def breaking_point(results: dict) -> str:
    for run in results["runs"]:
        reasons = []
        if run["errors"]:
            reasons.append(f"{run['errors']} errors ({run['error_kinds']})")
        if run["n"] <= 200 and run["added_gap_p95_ms"] is not None and run["added_gap_p95_ms"] > 20:
            reasons.append(f"added gap p95 {run['added_gap_p95_ms']} ms > 20")
        target = FIRST_DELTA_P95_MS.get(run["n"])
        first = run["first_delta_ms"]["p95"]
        if target and first is not None and first > target:
            reasons.append(f"first delta p95 {first} ms > {target}")
        if run["server_peak_rss_mb"] and run["server_peak_rss_mb"] >= 500:
            reasons.append(f"RSS {run['server_peak_rss_mb']} MB ≥ 500")
        if reasons:
            return f"breaks at N={run['n']}: " + "; ".join(reasons)
    return "met the targets at every N measured"


def token_path(repeat: int = 30) -> dict:
    """CPU per LLM token of each stage of the per-token path, in this process (no network,
    no other process: a number that a loaded machine disturbs little). The input is the fake
    LLM's 200-token reply as the SSE chunks it sends, one read per chunk."""
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings_test")
    sys.path.insert(0, str(h.ROOT))
    import django

    django.setup()
    import httpx
    from fake_llm import reply_text, split_tokens
    from openai import AsyncOpenAI, AsyncStream
    from openai.types.chat import ChatCompletionChunk

    from chat.sse import encode_event
    from rag.generation import CitationFilter, LeakGuard, Usage, _SSEChunks, system_prompt
    from rag.link_filter import LinkPolicy
    from rag.types import Delta

    tokens = split_tokens(reply_text(TOKENS))
    base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1, "model": "fake-model"}
    events = [("data: " + json.dumps({**base, "choices": [{"index": 0, "delta": {"content": t},
                                                          "finish_reason": None}]}) + "\n\n").encode()
              for t in tokens] + [b"data: [DONE]\n\n"]

    class Chunks(httpx.AsyncByteStream):
        async def __aiter__(self):
            for event in events:
                yield event

    def response(**headers):
        return httpx.Response(200, stream=Chunks(), headers=headers,
                              request=httpx.Request("POST", "http://llm.invalid/v1/chat/completions"))

    client = AsyncOpenAI(api_key="sk-bench", base_url="http://llm.invalid/v1")

    async def sdk():
        for _ in range(repeat):
            stream = AsyncStream(cast_to=ChatCompletionChunk, client=client,
                                 response=response(**{"content-type": "text/event-stream"}))
            async for chunk in stream:
                for choice in chunk.choices or ():
                    _ = choice.delta.content if choice.delta else None

    async def raw():
        for _ in range(repeat):
            parser, usage = _SSEChunks(), Usage()
            async for data in response().aiter_bytes():
                parser.feed(data, usage)

    async def transport():
        for _ in range(repeat):
            async for _data in response().aiter_bytes():
                pass

    # An answer's allowed links: the site and its sources' pages, and URLs quoted in them.
    prompt = system_prompt()
    allowed = [h.BASE_URL] + [f"{h.BASE_URL}/docs/page-{n}" for n in range(8)]
    exact = [f"https://github.com/example/repo/blob/main/file-{n}.md" for n in range(8)]

    def filters(step):
        for _ in range(repeat):
            citations, guard = CitationFilter(valid={1, 2, 3}), LeakGuard(prompt)
            links = LinkPolicy(allowed, exact)  # once per answer, as rag.services does
            for i in range(0, len(tokens), step):
                links.filter(guard.feed(citations.feed("".join(tokens[i:i + step]))))

    def encode(step):
        for _ in range(repeat):
            for i in range(0, len(tokens), step):
                encode_event(Delta("".join(tokens[i:i + step])))

    def per_token_us(run) -> float:
        started = time.process_time()
        run()
        return round((time.process_time() - started) / (repeat * len(tokens)) * 1e6, 1)

    stages = {
        "httpx: iterate the response body": per_token_us(lambda: asyncio.run(transport())),
        "before: openai SDK stream (SSE decoder + ChatCompletionChunk)": per_token_us(lambda: asyncio.run(sdk())),
        "after: raw body + _SSEChunks": per_token_us(lambda: asyncio.run(raw())),
        "filters (citations, leak guard, URLs), called per token": per_token_us(lambda: filters(1)),
        "filters, called per 2 tokens (30 ms window at 50 tokens/s)": per_token_us(lambda: filters(2)),
        "filters, called per 8 tokens (a backlog)": per_token_us(lambda: filters(8)),
        "SSE encoding of a delta event, per token": per_token_us(lambda: encode(1)),
    }
    return stages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[50, 200, 500, 1000], help="concurrent streams")
    parser.add_argument("--server", choices=["uvicorn", "gunicorn"], default="uvicorn")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--ramp", type=float, default=2.0, help="seconds over which the N streams start")
    parser.add_argument("--deadline", type=float, default=120.0, help="seconds allowed per N")
    parser.add_argument("--no-baseline", action="store_true", help="skip the client → fake LLM baseline")
    parser.add_argument("--label", default="",
                        help="results go to bench/results/streams[-<db>][-<label>].json")
    parser.add_argument("--profile", action="store_true",
                        help="sample the server with py-spy during each N (top frames in the JSON)")
    parser.add_argument("--token-path", action="store_true",
                        help="only measure the CPU per token of each stage, in this process")
    args = parser.parse_args()
    if args.token_path:
        stages = token_path()
        h.say("CPU per LLM token (µs), stage by stage, in-process:")
        h.say(h.table(["stage", "µs per token"], [[k, v] for k, v in stages.items()]))
        h.write_results("streams-token-path", {"microseconds_per_token": stages})
        return 0

    global PROFILE_TAG
    PROFILE_TAG = f"{args.db}-" + (f"{args.label}-" if args.label else "")
    results = measure(server=args.server, ns=args.n, ramp=args.ramp, deadline=args.deadline,
                      baseline=not args.no_baseline, db=args.db, profile=args.profile)
    h.say(f"\nConcurrent streams, one {args.server} process, {args.db}; fake LLM {TOKENS} tokens at "
          f"{TPS:.0f}/s after {TTFT * 1000:.0f} ms; targets: N=200 first delta p95 ≤ 500 ms and "
          "added gap p95 ≤ 20 ms, N=500 first delta p95 ≤ 1.5 s, 0 errors up to N=1000")
    h.say(h.table(HEADERS, rows_for(results)))
    if results["baseline"]:
        h.say("\nBaseline: the same client straight against the fake LLM (the client's and fake's own jitter)")
        h.say(h.table(["N", "completed", "errors", "added gap p95 ms", "added gap p99 ms"],
                      [[b["n"], b["completed"], b["errors"], b["added_gap_p95_ms"], b["added_gap_p99_ms"]]
                       for b in results["baseline"]]))
    for run in results["runs"]:
        top = run.get("profile_top")
        if top and "self_pct" in top:
            h.say(f"\nN={run['n']}: py-spy top frames by own time (% of {top['samples']} samples, all threads)")
            for frame, pct in top["self_pct"][:15]:
                h.say(f"  {pct:5.1f}%  {frame}")
    verdict = breaking_point(results)
    h.say(f"\n{verdict}; idle RSS {results.get('idle_rss_mb')} MB")
    name = "streams" + (f"-{args.db}" if args.db != "sqlite" or args.label else "") + (
        f"-{args.label}" if args.label else "")
    h.write_results(name, {"target": {"streams": 1000, "errors": 0, "rss_mb": 500,
                                      "first_delta_p95_ms": FIRST_DELTA_P95_MS,
                                      "added_gap_p95_ms_at_200": 20},
                                "fake_llm": {"ttft_s": TTFT, "tokens_per_second": TPS, "tokens": TOKENS},
                                "ramp_s": args.ramp, "deadline_s": args.deadline,
                                "verdict": verdict, **results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
