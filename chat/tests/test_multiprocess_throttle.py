"""Limits hold across worker processes when they share a cache (Redis).

Two real uvicorn processes on one database, both with ``REDIS_URL`` pointing at a scratch
database of the machine's Redis. Requests alternate between them; the limits count as one.
A control test runs the same pattern without ``REDIS_URL`` (the per-process default cache) and
shows the limit doubling — which is why production with several workers needs ``REDIS_URL``.
"""

import os
import random

import pytest

from testing.servers import http_json

pytestmark = pytest.mark.slow

REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379


@pytest.fixture
def redis_url():
    """A scratch Redis database (8-15), emptied before and after the test."""
    try:
        import redis

        db = random.randint(8, 15)
        client = redis.Redis(host=REDIS_HOST, port=REDIS_PORT, db=db, socket_connect_timeout=2)
        client.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "no Redis here"
        reason = f"needs Redis at {REDIS_HOST}:{REDIS_PORT} ({exc})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    client.flushdb()
    yield f"redis://{REDIS_HOST}:{REDIS_PORT}/{db}"
    client.flushdb()
    client.close()


def _two_servers(start_server, redis_url=None, **env):
    """Two worker processes; the shared counters start empty (the start-up probes of
    ``GET /chat`` count against the history limit)."""
    servers = [start_server(**({"REDIS_URL": redis_url} if redis_url else {}), **env) for _ in range(2)]
    if redis_url:
        import redis

        with redis.Redis.from_url(redis_url) as client:
            client.flushdb()
    return servers


def _ask(server, **payload):
    return http_json(server.base, "POST", "/chat", {"message": "How do I restore a snapshot?", **payload})


def _alternate(servers, n, **payload):
    return [_ask(servers[i % len(servers)], **payload) for i in range(n)]


def test_ip_limit_holds_across_two_worker_processes(start_server, redis_url):
    servers = _two_servers(start_server, redis_url, CHAT_RATE_IP="4/min")
    results = _alternate(servers, 8)
    statuses = [status for status, _, _ in results]
    assert statuses == [200] * 4 + [429] * 4
    for _, headers, body in results[4:]:
        assert body["error"]["code"] == "rate_limited"
        assert 1 <= int(headers["retry-after"]) <= 60


def test_without_a_shared_cache_each_process_counts_alone(start_server):
    servers = _two_servers(start_server, CHAT_RATE_IP="4/min")
    statuses = [status for status, _, _ in _alternate(servers, 10)]
    # Each process allows 4: twice the configured limit gets through.
    assert statuses == [200] * 8 + [429] * 2


def test_session_limit_holds_across_two_worker_processes(start_server, redis_url):
    servers = _two_servers(start_server, redis_url, CHAT_RATE_SESSION="3/min")
    status, _, body = _ask(servers[0])
    token = body["session_id"]  # the request that made the session did not name it: not counted
    statuses = [s for s, _, _ in _alternate(servers, 5, session_id=token)]
    assert statuses == [200, 200, 200, 429, 429]
    assert _ask(servers[1])[0] == 200  # another visitor (a new session) is not limited


def test_guessing_session_ids_is_throttled_across_processes(start_server, redis_url):
    from chat import tokens

    servers = _two_servers(start_server, redis_url, CHAT_RATE_HISTORY="5/min")
    statuses = [http_json(servers[i % 2].base, "GET", f"/chat/history/{tokens.new_token()}")[0]
                for i in range(8)]
    assert statuses == [404] * 5 + [429] * 3


def test_session_token_budget_is_shared_across_processes(start_server, redis_url, fake_openai):
    servers = _two_servers(start_server, redis_url, llm=fake_openai, CHAT_SESSION_DAILY_TOKENS="50")
    fake_openai.reply = "word " * 60  # one answer spends the whole budget
    status, _, body = _ask(servers[0])
    assert status == 200
    token = body["session_id"]
    calls = fake_openai.calls.get("/v1/chat/completions", 0)

    status, headers, body = _ask(servers[1], session_id=token)
    assert status == 429
    assert body["error"]["code"] == "session_token_budget_exceeded"
    assert int(headers["retry-after"]) >= 1
    assert fake_openai.calls.get("/v1/chat/completions", 0) == calls  # checked before the LLM
