"""Insights dashboard: render time over 1,000,000 stored messages (issue 21).

Creates a PostgreSQL database for the run (dropped after it), stores 1,000,000 messages
(500,000 questions and their answers, 5,000 sessions over 90 days, ~10 % refused, ~3 % rated
down, three channels) with COPY, runs the first rollup (the one-off backfill), then renders
``/admin/insights/dashboard/`` as a staff user, in-process (Django test client: the whole
stack, no socket):

- "steady": the rollup ran a moment ago, the page reads the aggregate tables only;
- "after new traffic": 200 new messages (some refused) arrive before each render and the
  rollup is due, so the render includes the incremental rollup.

Target: p95 ≤ 300 ms for both. Exit status 1 when a p95 is over it.

    .venv/bin/python bench/dashboard.py [--messages 1000000] [--rounds 20]
"""

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import harness as h  # noqa: E402

TARGET_MS = 300
TOPICS = ["record a cypress video of failed specs", "deploy with a helm chart on kubernetes",
          "saml single sign-on with okta", "price of the enterprise plan per seat",
          "run the tests on windows xp", "export coverage to sonarqube",
          "weather in paris tomorrow", "migrate from mocha with chai assertions"]
ANSWERED = ["how do I mock a module", "configure the test timeout", "snapshot testing of components",
            "run only the changed tests", "use fake timers", "set up coverage thresholds"]
CHANNELS = ["widget", "widget", "widget", "chatkit", "api"]


def store(total: int, rng: random.Random) -> tuple[int, int]:
    """COPY ``total`` messages (half questions, half answers) into chat_history."""
    from django.db import connection

    from chat.tokens import hash_token, new_token

    now = dt.datetime.now(dt.UTC)
    sessions = max(1, total // 200)
    raw = connection.connection
    with raw.cursor() as cur:
        with cur.copy("COPY chat_chatsession (token_hash, channel, title, started_on_url, metadata,"
                      " created_at, last_active_at) FROM STDIN") as copy:
            for n in range(sessions):  # ids follow this order: channel = CHANNELS[n % 5]
                started = now - dt.timedelta(days=rng.uniform(0, 90))
                copy.write_row((hash_token(new_token()), CHANNELS[n % len(CHANNELS)], "", "", "{}",
                                started, started))
        cur.execute("SELECT id, created_at FROM chat_chatsession ORDER BY id")
        session_rows = cur.fetchall()
        cur.execute("SELECT COALESCE(MAX(id), 0) FROM chat_history")
        next_id = cur.fetchone()[0] + 1
        sources = json.dumps([{"n": i, "title": f"Page {i}", "heading": "Usage",
                               "url": f"{h.BASE_URL}/docs/p{i}#usage", "path": f"p{i}.md",
                               "score": 0.5, "snippet": "…"} for i in range(1, 4)])
        with cur.copy("COPY chat_history (id, session_id, role, content, sources, status, origin,"
                      " reply_to_id, page_url, refused, model, ttft_ms, latency_ms, rating,"
                      " rating_comment, rated_at, error, created_at, updated_at, channel) FROM STDIN") as copy:
            for n in range(total // 2):
                session_id, started = session_rows[n % len(session_rows)]
                channel = CHANNELS[(session_id - session_rows[0][0]) % len(CHANNELS)]
                at = min(now, started + dt.timedelta(minutes=rng.uniform(0, 600)))
                refused = rng.random() < 0.1
                text = rng.choice(TOPICS if refused else ANSWERED) + f" (variant {rng.randrange(50)})"
                down = "down" if rng.random() < 0.03 else None
                qid, aid = next_id, next_id + 1
                next_id += 2
                copy.write_row((qid, session_id, "user", text, "[]", "complete", "server", None, "",
                                False, "", None, None, None, "", None, "", at, at, channel))
                copy.write_row((aid, session_id, "assistant", "The answer [1].",
                                "[]" if refused else sources, "complete", "server", qid, "",
                                refused, "fake", rng.randint(40, 900), rng.randint(300, 4000), down,
                                "", at if down else None, "", at, at, ""))
        cur.execute("SELECT setval(pg_get_serial_sequence('chat_history', 'id'), %s)", (next_id,))
        cur.execute("ANALYZE")
    raw.commit()
    return sessions, total


def new_traffic(rng: random.Random, count: int = 200) -> None:
    from chat.tests.transcript_factory import make_exchange, make_session

    session = make_session()
    for _ in range(count // 2):
        refused = rng.random() < 0.2
        make_exchange(session, rng.choice(TOPICS if refused else ANSWERED), refused=refused)


def render(client) -> float:
    started = time.perf_counter()
    response = client.get("/admin/insights/dashboard/")
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.status_code
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    if not h.postgres_available():
        h.say(f"PostgreSQL at {h.PG_ADMIN_URL} not reachable: nothing measured")
        return 2
    rng = random.Random(21)
    with h.workdir("dashboard") as tmp, h.postgres_database() as url:
        env = h.app_env(tmp, database_url=url, index_dir=tmp / "index",
                        ALLOWED_HOSTS="127.0.0.1,localhost,testserver", LOG_LEVEL="WARNING")
        h.django_setup(env)
        from django.contrib.auth.models import User
        from django.core.management import call_command
        from django.test import Client

        from insights.models import GapTopic, RollupState
        from insights.rollup import insights_rollup

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        sessions, messages = store(args.messages, rng)
        h.say(f"{sessions} sessions, {messages} messages stored in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        first = insights_rollup()
        backfill_s = time.perf_counter() - started
        h.say(f"first rollup (backfill): {backfill_s:.1f} s, {first.days} days, "
              f"{first.gap_questions} failed questions in {GapTopic.objects.count()} topics")

        client = Client()
        client.force_login(User.objects.create_superuser("bench", password="bench-password-123"))
        render(client)  # warm up templates and connections
        steady = [render(client) for _ in range(args.rounds)]
        after = []
        for _ in range(args.rounds):
            new_traffic(rng)
            # Due again (the view refreshes figures older than five minutes).
            RollupState.objects.update(last_run_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10))
            after.append(render(client))
        rows = [["steady (aggregates only)", h.fmt(h.percentile(steady, 0.5)), h.fmt(h.percentile(steady, 0.95))],
                ["after 200 new messages (incremental rollup)", h.fmt(h.percentile(after, 0.5)),
                 h.fmt(h.percentile(after, 0.95))]]
        h.say(f"\nDashboard render over {messages:,} messages on PostgreSQL (target p95 ≤ {TARGET_MS} ms)")
        h.say(h.table(["case", "p50 ms", "p95 ms"], rows))
        ok = max(h.percentile(steady, 0.95), h.percentile(after, 0.95)) <= TARGET_MS
        h.write_results("dashboard", {"messages": messages, "sessions": sessions,
                                      "backfill_s": round(backfill_s, 1),
                                      "steady_ms": h.summary(steady), "after_new_traffic_ms": h.summary(after),
                                      "target_p95_ms": TARGET_MS, "ok": ok})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
