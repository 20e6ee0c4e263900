"""Liveness probes while one uvicorn process streams N answers (issue 19, item 10).

A load balancer kills an instance whose ``/healthz`` does not answer within its timeout
(often 2–5 s). This starts the fake LLM (``bench/fake_llm.py``: 250 ms to the first token,
50 tokens/s, 200 tokens) and one uvicorn process with the liveness port enabled
(``HEALTHZ_ADDRESS``, docs/operations.md), opens N concurrent chat streams, and meanwhile
probes ``/healthz`` every ``--interval`` seconds on the main port (answered by the ASGI fast
path, on the event loop) and on the liveness port (answered by its own thread). The probes
run in a separate process, so the load client's own event loop does not delay them.

It prints, per probe target, the probe count, failures (timeouts count as failures) and
latency p50 / p95 / max, idle and under load.

    .venv/bin/python bench/healthz_under_load.py [--n 300] [--interval 0.25] [--timeout 5]
"""

import argparse
import asyncio
import multiprocessing
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h  # noqa: E402
import streams  # noqa: E402


def _probe(urls: dict, interval: float, timeout: float, stop, out) -> None:
    """Child process: GET every URL each ``interval`` until ``stop`` is set; results to ``out``."""
    results = {name: [] for name in urls}
    while not stop.is_set():
        for name, url in urls.items():
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    response.read()
                    ok = response.status == 200
            except (OSError, urllib.error.URLError):
                ok = False
            results[name].append((ok, time.perf_counter() - started))
        time.sleep(interval)
    out.put(results)


def probed(urls: dict, interval: float, timeout: float, run) -> tuple[dict, object]:
    """Run ``run()`` while a probe process polls ``urls``; returns (per-URL results, run's value)."""
    context = multiprocessing.get_context("spawn")
    stop, out = context.Event(), context.Queue()
    prober = context.Process(target=_probe, args=(urls, interval, timeout, stop, out))
    prober.start()
    try:
        value = run()
    finally:
        stop.set()
        results = out.get(timeout=timeout * len(urls) + interval + 30)
        prober.join(10)
    return results, value


def describe(samples: list[tuple[bool, float]]) -> list:
    latencies = [1000 * seconds for _, seconds in samples]
    failures = sum(1 for ok, _ in samples if not ok)
    return [len(samples), failures, h.fmt(h.percentile(latencies, 0.5)),
            h.fmt(h.percentile(latencies, 0.95)), h.fmt(max(latencies, default=None))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300, help="concurrent chat streams")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between probe rounds")
    parser.add_argument("--timeout", type=float, default=5.0, help="probe timeout (a failure)")
    parser.add_argument("--ramp", type=float, default=2.0)
    parser.add_argument("--deadline", type=float, default=120.0)
    args = parser.parse_args()

    with h.workdir("healthz") as tmp:
        fake, llm_url = h.fake_llm(tmp, ttft=streams.TTFT, tps=streams.TPS, tokens=streams.TOKENS)
        try:
            live_port = h.free_port()
            env = h.app_env(tmp, database_url=f"sqlite:///{tmp / 'bench.sqlite3'}",
                            index_dir=tmp / "index", llm_url=llm_url,
                            HEALTHZ_ADDRESS=f"127.0.0.1:{live_port}")
            h.manage(env, "migrate", "--no-input", "-v", "0")
            h.manage(env, "ingest_docs", str(h.JEST_DOCS), "--base-url", h.BASE_URL)
            proc, port = h.uvicorn(env, tmp)
            try:
                h.wait_port(live_port, 30, proc.popen)
                base = f"http://127.0.0.1:{port}"
                urls = {"main port (ASGI fast path)": f"{base}/healthz",
                        "liveness port (own thread)": f"http://127.0.0.1:{live_port}/healthz"}
                questions = h.jest_questions()
                idle, _ = probed(urls, args.interval, args.timeout, lambda: time.sleep(3))
                loaded, run = probed(urls, args.interval, args.timeout, lambda: asyncio.run(
                    streams.run_load(base, args.n, questions, ramp=args.ramp, deadline=args.deadline,
                                     server_pid=proc.pid, children=False)))
            finally:
                proc.stop()
        finally:
            fake.stop()

    h.say(f"/healthz probes every {args.interval} s (timeout {args.timeout} s = failure), one uvicorn "
          f"process; load: {args.n} chat streams, {run['completed']}/{args.n} completed, "
          f"{run['errors']} errors, first delta p95 {run['first_delta_ms']['p95']} ms")
    rows = [[name, "idle", *describe(idle[name])] for name in idle]
    rows += [[name, f"{args.n} streams", *describe(loaded[name])] for name in loaded]
    h.say(h.table(["target", "load", "probes", "failures", "p50 ms", "p95 ms", "max ms"], rows))
    h.write_results("healthz-under-load", {
        "n": args.n, "interval_s": args.interval, "timeout_s": args.timeout,
        "streams": {k: run[k] for k in ("completed", "errors", "first_delta_ms")},
        "probes": {name: {"idle": describe(idle[name]), "loaded": describe(loaded[name])}
                   for name in idle},
        "columns": ["probes", "failures", "p50_ms", "p95_ms", "max_ms"]})
    return 0


if __name__ == "__main__":
    sys.exit(main())
