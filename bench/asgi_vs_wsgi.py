"""Side by side: one uvicorn process (ASGI) vs gunicorn with 4 sync workers (WSGI) (issue 8, item 3).

The same code (``chatsite.asgi`` / ``chatsite.wsgi``), the same load as ``bench/streams.py``
(fake LLM: 200 tokens at 50 tokens/s after 250 ms; N chats started within 2 s), the same
client. Reports, per server and N: completed streams and errors, the most streams the fake
LLM had open at once (the concurrency the server sustained), time to the first delta and
to the end of the stream (p95), peak RSS (gunicorn: master + workers) and the ratios.

    .venv/bin/python bench/asgi_vs_wsgi.py [--n 50] [--workers 4] [--deadline 150]
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h  # noqa: E402
import streams  # noqa: E402


def ratio(a, b):
    return round(a / b, 1) if a and b else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[50], help="concurrent chats")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--deadline", type=float, default=150.0, help="seconds allowed per N")
    args = parser.parse_args()

    asgi = streams.measure(server="uvicorn", ns=args.n, ramp=2.0, deadline=args.deadline, baseline=False)
    wsgi = streams.measure(server="gunicorn", ns=args.n, ramp=2.0, deadline=args.deadline,
                           baseline=False, workers=args.workers)
    rows, comparisons = [], []
    for a, w in zip(asgi["runs"], wsgi["runs"]):
        for name, run in (("uvicorn, 1 process (ASGI)", a), (f"gunicorn, {args.workers} sync workers (WSGI)", w)):
            rows.append([name, run["n"], run["completed"], run["errors"], run["llm_max_open_streams"],
                         round(run["completed"] / run["wall_s"], 2), run["first_delta_ms"]["p95"],
                         run["stream_ms"]["p95"], run["server_peak_rss_mb"], run["server_cpu_s"],
                         run["wall_s"]])
        comparisons.append({
            "n": a["n"],
            "sustained_streams_ratio": ratio(a["llm_max_open_streams"], w["llm_max_open_streams"]),
            "first_delta_p95_ratio_wsgi_over_asgi": ratio(w["first_delta_ms"]["p95"], a["first_delta_ms"]["p95"]),
            "stream_p95_ratio_wsgi_over_asgi": ratio(w["stream_ms"]["p95"], a["stream_ms"]["p95"]),
            "throughput_ratio": ratio(a["completed"] / a["wall_s"], w["completed"] / w["wall_s"]),
            "rss_ratio_wsgi_over_asgi": ratio(w["server_peak_rss_mb"], a["server_peak_rss_mb"]),
        })
    h.say("\nASGI vs WSGI under the same load (fake LLM 200 tokens at 50/s after 250 ms)")
    h.say(h.table(["server", "N", "completed", "errors", "streams open at once", "answers/s",
                   "first delta p95 ms", "stream end p95 ms", "peak RSS MB", "server CPU s", "wall s"], rows))
    for c in comparisons:
        h.say(f"\nN={c['n']}: ASGI sustains {c['sustained_streams_ratio']}x the concurrent streams, "
              f"{c['throughput_ratio']}x the answers/s; WSGI's first-delta p95 is "
              f"{c['first_delta_p95_ratio_wsgi_over_asgi']}x and end-of-stream p95 "
              f"{c['stream_p95_ratio_wsgi_over_asgi']}x ASGI's; WSGI uses {c['rss_ratio_wsgi_over_asgi']}x the memory")
    h.write_results("asgi_vs_wsgi", {"workers": args.workers, "comparisons": comparisons,
                                     "asgi": asgi, "wsgi": wsgi})
    return 0


if __name__ == "__main__":
    sys.exit(main())
