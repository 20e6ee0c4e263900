"""History: fetch a 1,000-message session and page through it (issue 8, item 4).

For SQLite and PostgreSQL (a database created for the run and dropped after it): stores
one 1,000-message session among 50,000 messages of 250 other sessions, then

- pages through it with ``GET /chat/history/<id>`` at page sizes 50 (default) and 200 (max),
  in-process (Django test client: the whole Django/DRF stack, no socket) and over HTTP
  against one uvicorn process (httpx, keep-alive);
- counts the queries of every request (``CaptureQueriesContext``) and checks the count is
  the same for every page, for a 4-message session and for the 1,000-message one;
- on PostgreSQL runs ``EXPLAIN ANALYZE`` on the page query and checks it is an index scan
  (on SQLite, ``EXPLAIN QUERY PLAN`` is recorded).

Target: p95 ≤ 10 ms per page, a fixed query count, an index scan. Exit status 1 when the
query count is not fixed or PostgreSQL plans a sequential scan.

    .venv/bin/python bench/history.py [--db sqlite postgres] [--rounds 20]
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h  # noqa: E402

MESSAGES = 1000
OTHER_SESSIONS = 250
OTHER_MESSAGES = 200  # per other session


def populate():
    from django.utils import timezone

    from chat import services
    from chat.models import ChatMessage, ChatSession

    sources = [{"n": i, "title": f"Page {i}", "heading": "Usage", "url": f"{h.BASE_URL}/docs/p{i}#usage",
                "path": f"p{i}.md", "score": 0.5, "snippet": "A short snippet of the page. " * 4}
               for i in range(1, 4)]

    def rows(session, count):
        now = timezone.now()
        for n in range(count):
            user = n % 2 == 0
            yield ChatMessage(
                session=session, role="user" if user else "assistant",
                content=f"How do I configure the thing number {n}? " * (2 if user else 12),
                sources=[] if user else sources, status="complete", created_at=now,
            )

    for _ in range(OTHER_SESSIONS):
        session, _ = services.session_create()
        ChatMessage.objects.bulk_create(rows(session, OTHER_MESSAGES), batch_size=2000)
    small, small_token = services.session_create()
    ChatMessage.objects.bulk_create(rows(small, 4))
    big, big_token = services.session_create()
    ChatMessage.objects.bulk_create(rows(big, MESSAGES), batch_size=1000)
    return big_token, small_token, ChatSession.objects.count(), ChatMessage.objects.count()


def page_through(get, token: str, limit: int) -> tuple[list[float], list[int], int]:
    """Fetch every page of the session; returns (ms per request, queries per request, messages)."""
    times, queries, seen, after = [], [], 0, None
    while True:
        url = f"/chat/history/{token}?limit={limit}" + (f"&after={after}" if after else "")
        started = time.perf_counter()
        body, count = get(url)
        times.append((time.perf_counter() - started) * 1000)
        queries.append(count)
        seen += len(body["messages"])
        after = body["next"]
        if after is None:
            return times, queries, seen


def child(args) -> None:
    with h.workdir("history") as tmp, h.database(args.db, tmp) as url:
        env = h.app_env(tmp, database_url=url, index_dir=tmp / "index",
                        ALLOWED_HOSTS="127.0.0.1,localhost,testserver", LOG_LEVEL="WARNING")
        h.django_setup(env)
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from django.test.utils import CaptureQueriesContext

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        token, small_token, sessions, messages = populate()
        fill_s = time.perf_counter() - started
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        h.say(f"[{args.db}] {sessions} sessions, {messages} messages stored in {fill_s:.1f} s")

        client = Client()
        captured = {}

        def get_inprocess(url):
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(url)
            assert response.status_code == 200, (response.status_code, response.content[:300])
            captured["sql"] = [q["sql"] for q in ctx.captured_queries]
            return response.json(), len(ctx.captured_queries)

        result = {"db": args.db, "sessions": sessions, "messages": messages, "rows": []}
        small_times, small_queries, _ = page_through(get_inprocess, small_token, 50)
        for limit in (50, 200):
            page_through(get_inprocess, token, limit)  # warm up
            times, queries, first = [], [], []
            for _ in range(args.rounds):
                t, q, seen = page_through(get_inprocess, token, limit)
                assert seen == MESSAGES, seen
                times += t
                queries += q
                first.append(t[0])
            result["rows"].append({"transport": "in-process", "limit": limit,
                                   "pages": len(t), "page_ms": h.summary(times),
                                   "first_page_ms": h.summary(first),
                                   "full_session_ms": round(sum(times) / args.rounds, 2),
                                   "queries_per_request": sorted(set(queries))})
        page_sql = captured["sql"]
        counts = {q for row in result["rows"] for q in row["queries_per_request"]} | set(small_queries)
        result["queries_fixed"] = len(counts) == 1
        result["queries_per_request"] = sorted(counts)
        result["page_sql"] = page_sql

        # The same over HTTP, against one uvicorn process.
        import httpx

        server, port = h.uvicorn(env, tmp)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                def get_http(url):
                    response = http.get(url)
                    assert response.status_code == 200, (response.status_code, response.text[:300])
                    return response.json(), 0

                for limit in (50, 200):
                    page_through(get_http, token, limit)
                    times, first = [], []
                    for _ in range(args.rounds):
                        t, _, seen = page_through(get_http, token, limit)
                        times += t
                        first.append(t[0])
                    result["rows"].append({"transport": "HTTP (uvicorn)", "limit": limit,
                                           "pages": len(t), "page_ms": h.summary(times),
                                           "first_page_ms": h.summary(first),
                                           "full_session_ms": round(sum(times) / args.rounds, 2),
                                           "queries_per_request": None})
        finally:
            server.stop()

        # The plan of the page query (the last one captured: a page with ?after=).
        query = page_sql[-1]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query)
            else:
                cursor.execute("EXPLAIN QUERY PLAN " + query)
            plan = "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())
        result["plan"] = plan
        if connection.vendor == "postgresql":
            result["index_scan"] = "Index" in plan and "Seq Scan" not in plan
        else:
            result["index_scan"] = "USING INDEX" in plan or "USING COVERING INDEX" in plan \
                or "INTEGER PRIMARY KEY" in plan
        Path(args.json_out).write_text(json.dumps(result))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgres"], help="databases to measure")
    parser.add_argument("--rounds", type=int, default=20, help="page-throughs per page size")
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json_out:
        args.db = args.db[0]
        child(args)
        return 0

    with h.workdir("history-main") as tmp:
        results = h.run_children(Path(__file__), args.db, ["--rounds", str(args.rounds)], tmp)
    rows, ok = [], True
    for db, res in results.items():
        if "skipped" in res:
            continue
        for row in res["rows"]:
            rows.append([db, row["transport"], row["limit"], row["pages"], row["page_ms"]["p50"],
                         row["page_ms"]["p95"], row["first_page_ms"]["p95"], row["full_session_ms"],
                         ",".join(map(str, row["queries_per_request"] or [])) or "-"])
        ok &= res["queries_fixed"] and (res["index_scan"] or db != "postgres")
    h.say(f"\nHistory of a {MESSAGES}-message session (target: p95 ≤ 10 ms per page, fixed queries, index scan)")
    h.say(h.table(["db", "transport", "limit", "pages", "page p50 ms", "page p95 ms",
                   "first page p95 ms", "whole session ms", "queries/request"], rows))
    for db, res in results.items():
        if "skipped" in res:
            continue
        h.say(f"\n[{db}] queries per request: {res['queries_per_request']} (fixed: {res['queries_fixed']}); "
              f"index scan: {res['index_scan']}\n{res['plan']}")
    h.write_results("history", {"target": {"page_p95_ms": 10}, "messages_in_session": MESSAGES,
                                "results": results, "ok": ok})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
