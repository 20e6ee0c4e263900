"""Overhead before the first token, on a 10,000-chunk index (issue 8, item 1).

For SQLite and for PostgreSQL (a database created for the run and dropped after it), in a
fresh process each:

1. indexes the Jest docs replicated under different paths until there are ≥ 10,000 chunks
   (sparse index, no embeddings), and starts one uvicorn process and the fake LLM
   (``bench/fake_llm.py``, its own process, fixed time to first token);
2. sends questions from the Jest question set one at a time (``POST /chat``, SSE) and times,
   from the request: the ``session`` event (request parsed, throttles, session lookup,
   question stored, history loaded), the ``sources`` event (retrieval done) and the first
   ``delta``. Overhead = first delta − the fake LLM's time to first token. Scenarios: a new
   visitor; a follow-up in a 40-message session (the follow-up also pays an LLM query
   rewrite, so its overhead subtracts every LLM wait: TTFT × LLM calls); a new visitor with
   the LLM streaming at 50 tokens/s (what users feel: the answer's leak guard holds back
   the first 80 characters);
3. stops the server and calls the service functions directly, in-process, for the stage
   breakdown: session lookup, question stored + answer reserved, history load, retrieval
   (search, relevance decision), prompt build.

Target: overhead p50 ≤ 25 ms, p95 ≤ 60 ms.

    .venv/bin/python bench/first_token.py [--db sqlite postgres] [--requests 60]
"""

import argparse
import asyncio
import json
import re
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h  # noqa: E402

TTFT = 0.25  # seconds the fake LLM waits before its first token
TARGET_CHUNKS = 10_000
CHUNKS_PER_COPY = 615  # chunks of one copy of the Jest docs (measured; checked below)
REPORT = re.compile(r"(\d+) chunks")


def fake_calls(llm_url: str) -> dict:
    root = llm_url.rsplit("/v1", 1)[0]
    with urllib.request.urlopen(f"{root}/stats", timeout=10) as response:
        return json.loads(response.read())["calls"]


def ask(client, question: str, session_id: str | None = None) -> dict:
    """One SSE request; times (ms from the request) of the session, sources, first delta."""
    body = {"message": question}
    if session_id:
        body["session_id"] = session_id
    marks, buffer = {}, b""
    started = time.perf_counter()
    with client.stream("POST", "/chat", json=body, headers={"Accept": "text/event-stream"}) as response:
        if response.status_code != 200:
            raise RuntimeError(f"POST /chat {response.status_code}: {response.read()[:300]!r}")
        for chunk in response.iter_raw():
            now = (time.perf_counter() - started) * 1000
            buffer += chunk
            for name in ("session", "sources", "delta", "done", "error"):
                if name not in marks and f"event: {name}\n".encode() in buffer:
                    marks[name] = now
    events = [(n, d) for n, d in _parse(buffer)]
    session = next(d for n, d in events if n == "session")
    sources = next((d for n, d in events if n == "sources"), {})
    if "error" in marks:
        raise RuntimeError(f"error event: {[d for n, d in events if n == 'error']}")
    return {**marks, "session_id": session["session_id"], "refused": sources.get("refused")}


def _parse(body: bytes):
    for block in body.decode().split("\n\n"):
        name, data = None, None
        for line in block.splitlines():
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data = json.loads(line[5:])
        if name:
            yield name, data


def scenario(client, llm_url, questions, *, session_id=None, ttft=TTFT) -> dict:
    before = fake_calls(llm_url).get("/v1/chat/completions", 0)
    samples = []
    for question in questions:
        samples.append(ask(client, question, session_id))
    calls = fake_calls(llm_url).get("/v1/chat/completions", 0) - before
    answered = [s for s in samples if not s["refused"]]
    llm_waits = ttft * 1000 * calls / max(len(answered), 1)
    # The answer's own LLM call waits after the sources; a query rewrite waits before them.
    before_sources = llm_waits - ttft * 1000
    overhead = [s["delta"] - llm_waits for s in answered]
    return {
        "requests": len(samples), "refused": len(samples) - len(answered),
        "llm_calls_per_answer": round(calls / max(len(answered), 1), 2),
        "overhead_ms": h.summary(overhead),
        "to_session_event_ms": h.summary([s["session"] for s in answered]),
        "session_to_sources_minus_llm_ms": h.summary(
            [s["sources"] - s["session"] - before_sources for s in answered]),
        "sources_to_first_delta_minus_llm_ms": h.summary(
            [s["delta"] - s["sources"] - ttft * 1000 for s in answered]),
    }


def stages(questions: list[str], token: str, rounds: int) -> dict:
    """The stage breakdown, calling the service functions in-process (server stopped)."""
    from chat import selectors, services
    from rag import services as rag_services
    from rag.generation import build_messages, system_prompt
    from rag.relevance import decide
    from rag.retrieval import search

    session = services.session_for_token(token=token)
    first = {}
    started = time.perf_counter()
    hits = search(query=questions[0], k=rag_services.SEARCH_K).hits
    first["search"] = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    decide(question=questions[0], query=questions[0], hits=hits)
    first["decide (corpus statistics read)"] = (time.perf_counter() - started) * 1000

    samples = {name: [] for name in ("session lookup", "question stored + answer reserved",
                                     "history load (40 messages)", "retrieval: search",
                                     "retrieval: relevance decision", "retrieval (rag retrieve())",
                                     "prompt build")}

    def timed(name, fn):
        t0 = time.perf_counter()
        value = fn()
        samples[name].append((time.perf_counter() - t0) * 1000)
        return value

    for n in range(rounds):
        question = questions[n % len(questions)]
        timed("session lookup", lambda: services.session_for_token(token=token))

        def store(question=question):
            q, _ = services.message_create_user(session=session, content=question)
            services.message_claim_answer(question=q)
            services.session_touch(session=session)
        timed("question stored + answer reserved", store)
        history = timed("history load (40 messages)",
                        lambda: selectors.history_for_prompt(session=session))
        hits = timed("retrieval: search",
                     lambda question=question: search(query=question, k=rag_services.SEARCH_K).hits)
        timed("retrieval: relevance decision",
              lambda question=question, hits=hits: decide(question=question, query=question, hits=hits))
        retrieved = timed("retrieval (rag retrieve())",
                          lambda question=question: asyncio.run(rag_services.retrieve(question=question)))

        def prompt(retrieved=retrieved, question=question, history=history):
            sources = rag_services.sources_for(retrieved)
            chunks = rag_services._chunks(retrieved, sources)
            system_prompt()
            return build_messages(question=question, history=history, chunks=chunks)
        timed("prompt build", prompt)
    return {"first_call_ms": {k: round(v, 1) for k, v in first.items()},
            "stages_ms": {k: h.summary(v) for k, v in samples.items()}}


def child(args) -> None:
    import httpx

    copies = -(-TARGET_CHUNKS // CHUNKS_PER_COPY)
    with h.workdir("first-token") as tmp, h.database(args.db, tmp) as url:
        docs = h.replicated_jest(tmp / "docs", copies)
        result = {"db": args.db, "ttft_s": TTFT}
        fake, llm_url = h.fake_llm(tmp, ttft=TTFT, tps=0, name="fake_burst")
        fake50, llm50_url = h.fake_llm(tmp, ttft=TTFT, tps=50, name="fake_50tps")
        try:
            env = h.app_env(tmp, database_url=url, index_dir=tmp / "index", llm_url=llm_url,
                            LOG_LEVEL="WARNING", CONN_MAX_AGE=args.conn_max_age)
            h.manage(env, "migrate", "--no-input", "-v", "0")
            out = h.manage(env, "ingest_docs", str(docs), "--base-url", h.BASE_URL)
            result["chunks"] = int(REPORT.findall(out)[-1])
            h.say(f"[{args.db}] indexed {result['chunks']} chunks ({copies} copies of the Jest docs)")
            questions = h.jest_questions()

            server, port = h.uvicorn(env, tmp, name="uvicorn")
            try:
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                    started = time.perf_counter()
                    first = ask(client, questions[0])
                    result["first_request_after_start_ms"] = round((time.perf_counter() - started) * 1000)
                    result["first_request_first_delta_ms"] = round(first["delta"])
                    for q in questions[1:6]:
                        ask(client, q)  # warm up
                    # A 40-message session for the follow-up scenario (client-supplied history).
                    appended = client.post("/chat/history", json={"messages": [
                        {"role": "user" if n % 2 == 0 else "assistant",
                         "content": questions[n % len(questions)] if n % 2 == 0
                         else "Use `--bail` or `maxWorkers` as the docs say. " * 8}
                        for n in range(40)]})
                    assert appended.status_code in (200, 201), appended.text[:300]
                    token = appended.json()["session_id"]
                    qs = (questions * 3)[:args.requests]
                    result["new visitor"] = scenario(client, llm_url, qs)
                    result["follow-up, 40-message session"] = scenario(
                        client, llm_url, qs[: max(10, args.requests // 2)], session_id=token)
            finally:
                server.stop()
            env50 = {**env, "OPENAI_BASE_URL": llm50_url}
            server, port = h.uvicorn(env50, tmp, name="uvicorn50")
            try:
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
                    for q in questions[:3]:
                        ask(client, q)
                    result["new visitor, LLM at 50 tokens/s"] = scenario(
                        client, llm50_url, questions[:10])  # each takes ~4.5 s: 10 are enough
            finally:
                server.stop()

            h.django_setup(env)
            result.update(stages(questions, token, args.requests))
        finally:
            fake.stop()
            fake50.stop()
        Path(args.json_out).write_text(json.dumps(result))


SCENARIOS = ("new visitor", "follow-up, 40-message session", "new visitor, LLM at 50 tokens/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"], help="databases to measure")
    parser.add_argument("--requests", type=int, default=60, help="requests per scenario")
    parser.add_argument("--conn-max-age", type=int, default=0,
                        help="CONN_MAX_AGE for the server (0, the default: a connection per request)")
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json_out:
        args.db = args.db[0]
        child(args)
        return 0

    with h.workdir("first-token-main") as tmp:
        results = h.run_children(Path(__file__), args.db,
                                 ["--requests", str(args.requests), "--conn-max-age", str(args.conn_max_age)],
                                 tmp, timeout=400)
    rows, stage_rows = [], []
    for db, res in results.items():
        if "skipped" in res:
            continue
        for name in SCENARIOS:
            s = res[name]
            rows.append([db, name, s["requests"] - s["refused"], s["llm_calls_per_answer"],
                         s["overhead_ms"]["p50"], s["overhead_ms"]["p95"],
                         s["to_session_event_ms"]["p50"], s["session_to_sources_minus_llm_ms"]["p50"],
                         s["sources_to_first_delta_minus_llm_ms"]["p50"]])
        for name, s in res["stages_ms"].items():
            stage_rows.append([db, name, s["p50"], s["p95"]])
        for name, value in res["first_call_ms"].items():
            stage_rows.append([db, f"first call after start: {name}", value, None])
    h.say(f"\nOverhead before the first token (first delta − fake LLM TTFT {TTFT * 1000:.0f} ms), "
          "one uvicorn process, requests one at a time, ms (target p50 ≤ 25, p95 ≤ 60)")
    h.say(h.table(["db", "scenario", "answers", "LLM calls/answer", "overhead p50", "overhead p95",
                   "→ session event p50", "→ sources p50 (− LLM)", "→ first delta p50 (− LLM)"], rows))
    h.say("\nStage breakdown, service functions called in-process, ms")
    h.say(h.table(["db", "stage", "p50", "p95"], stage_rows))
    for db, res in results.items():
        if "skipped" not in res:
            h.say(f"[{db}] {res['chunks']} chunks; first request after server start: "
                  f"{res['first_request_after_start_ms']} ms (first delta at {res['first_request_first_delta_ms']} ms)")
    h.write_results("first_token", {"target": {"overhead_p50_ms": 25, "overhead_p95_ms": 60},
                                    "conn_max_age": args.conn_max_age, "results": results})
    return 0


if __name__ == "__main__":
    sys.exit(main())
