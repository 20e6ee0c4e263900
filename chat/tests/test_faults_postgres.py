"""PostgreSQL faults against the project under a real uvicorn process.

The server reaches PostgreSQL (or, in CI's third pass, PgBouncer) through a ``TCPProxy`` in
this test process, with persistent connections (``CONN_MAX_AGE=60``) as in production. Faults:

- a connection killed by the server (``pg_terminate_backend``) or dropped by the network,
  between requests → the next request succeeds;
- killed during a chat → the answer still streams and ``done.history_saved`` tells the truth;
  the database never holds a half-written answer;
- the database stopped (the proxy refuses connections) → chat answers with
  ``history_saved: false``, history endpoints 503 + ``Retry-After``, ``/readyz`` 503; started
  again → everything works without restarting the server;
- the database host silent (accepts TCP, never answers) → ``DATABASE_CONNECT_TIMEOUT`` bounds
  every request.

The machine's real PostgreSQL is never stopped: other suites use it at the same time.
"""

import time

import pytest

from testing.servers import SilentServer, TCPProxy, http_json, stream_chat, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

QUESTION = "How do I restore a nightly snapshot?"


@pytest.fixture(autouse=True)
def _postgres_only():
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...): kills backends and stops "
                    "the database; runs in CI's PostgreSQL and PgBouncer passes")


@pytest.fixture
def proxy(server_db):
    with TCPProxy(*server_db.host_port) as proxy:
        yield proxy


@pytest.fixture
def proxied_server(start_server, server_db, proxy, fake_openai):
    """A server whose database connections go through ``proxy``, tagged with an
    ``application_name`` so its backends can be found in ``pg_stat_activity``."""
    return start_server(llm=fake_openai, indexed=True, CONN_MAX_AGE="60",
                        db_address=("127.0.0.1", proxy.port))


def terminate_backends(server_db, application_name: str) -> int:
    """``pg_terminate_backend`` on the server's backends. Directly connected, they carry
    its ``application_name``; through PgBouncer they are pooled and shared, so every backend
    of the test database is killed, from a direct connection (as when Neon restarts its
    compute under the pooler)."""
    if server_db.pooled:
        rows = server_db.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()", (server_db.settings["NAME"],),
            direct=True)
    else:
        rows = server_db.query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()", (application_name,))
    return sum(1 for (killed,) in rows if killed)


def _ask(server, **payload):
    return stream_chat(server.base, {"message": QUESTION, **payload})


def _all_rows_consistent(server_db, full_texts: set[str]) -> None:
    """Nothing half-written: every complete answer holds a whole streamed answer; an
    answer that could not be finished is not marked complete and holds no stray text."""
    for row in server_db.messages():
        if row["role"] != "assistant":
            continue
        if row["status"] == "complete":
            assert row["content"] in full_texts, row
        elif row["status"] == "pending":
            assert row["content"] == "", row


# Killed connections


@pytest.mark.parametrize("how", ["pg_terminate_backend", "network_reset"])
def test_connection_killed_between_requests_the_next_request_succeeds(
    proxied_server, server_db, proxy, how
):
    first = _ask(proxied_server)
    token = first.first("session")["session_id"]
    assert first.first("done")["history_saved"] is True
    assert http_json(proxied_server.base, "GET", f"/chat/history/{token}")[0] == 200

    if how == "pg_terminate_backend":
        killed = wait_until(lambda: terminate_backends(server_db, proxied_server.application_name))
    else:
        killed = proxy.reset_connections()
    assert killed >= 1, "the server held no connection to kill"

    status, _, body = http_json(proxied_server.base, "GET", f"/chat/history/{token}")
    assert status == 200, body
    assert len(body["messages"]) == 2
    second = _ask(proxied_server, session_id=token, client_message_id="after-kill")
    assert second.names[-1] == "done"
    assert second.first("done")["history_saved"] is True
    assert http_json(proxied_server.base, "GET", "/readyz")[0] == 200
    roles = [r["role"] for r in server_db.messages(token)]
    assert roles == ["user", "assistant", "user", "assistant"]


def test_connection_killed_during_a_chat_streams_on_and_reports_truthfully(
    proxied_server, server_db, fake_openai
):
    fake_openai.reply = "Restore it with the restore command [1]. " + "More words here. " * 15
    fake_openai.tokens_per_second = 50
    kills = []

    def kill_on_first_delta(name, data):
        if name == "delta" and not kills:
            kills.append(terminate_backends(server_db, proxied_server.application_name))

    result = stream_chat(proxied_server.base, {"message": QUESTION, "client_message_id": "mid"},
                         on_event=kill_on_first_delta)

    assert kills and kills[0] >= 1
    assert result.names[-1] == "done"
    assert result.text.strip() == fake_openai.reply.strip()
    done = result.first("done")
    token = result.first("session")["session_id"]
    answers = [r for r in server_db.messages(token) if r["role"] == "assistant"]
    if done["history_saved"]:
        assert [(a["id"], a["status"], a["content"]) for a in answers] == [
            (done["message_id"], "complete", result.text)]
    else:
        assert done["message_id"] is None
    _all_rows_consistent(server_db, {result.text})


@pytest.mark.parametrize("connections", ["pool", "persistent"])
def test_connection_killed_during_turn_prepare_the_retry_reuses_its_own_answer_row(
    start_server, server_db, fake_openai, connections
):
    """Issue 19 item 3: the backend is killed while ``turn_prepare`` waits inside its
    transaction (our lock on the session row holds its ``last_active_at`` update, after the
    question and answer INSERTs). The request's own reconnect retry must answer, not 409
    ``answer_in_progress`` on the row the first attempt reserved, and a retry of the
    same ``client_message_id`` replays that one answer."""
    import threading

    from chat import tokens

    env = {"CONN_MAX_AGE": "60"} if connections == "persistent" else {}
    server = start_server(llm=fake_openai, indexed=True, **env)
    token = _ask(server).first("session")["session_id"]
    results = []
    lock = server_db.connect()
    try:
        with lock.transaction():
            held = lock.execute(
                "SELECT id FROM chat_chatsession WHERE token_hash = %s FOR NO KEY UPDATE",
                (tokens.hash_token(token),)).fetchall()
            assert held
            asking = threading.Thread(target=lambda: results.append(
                _ask(server, session_id=token, client_message_id="killed-in-turn-start")))
            asking.start()
            waiting_sql = ("SELECT pid FROM pg_stat_activity WHERE datname = %s AND "
                           "wait_event_type = 'Lock' AND pid <> pg_backend_pid()")
            waiting = wait_until(lambda: server_db.query(
                waiting_sql, (server_db.settings["NAME"],), direct=True))
            assert waiting, "turn_prepare never waited on the session row"
            for (pid,) in waiting:
                server_db.query("SELECT pg_terminate_backend(%s)", (pid,), direct=True)
        asking.join(30)
    finally:
        lock.close()

    result = results[0]
    assert result.status == 200, result.body
    assert result.names[-1] == "done"
    done = result.first("done")
    assert done["history_saved"] is True and done["replayed"] is False
    assert result.first("session")["session_id"] == token
    again = _ask(server, session_id=token, client_message_id="killed-in-turn-start")
    assert again.status == 200, again.body
    assert again.first("done")["replayed"] is True
    assert again.first("done")["message_id"] == done["message_id"]
    rows = server_db.messages(token)
    assert [(r["role"], r["status"]) for r in rows] == [("user", "complete"), ("assistant", "complete")] * 2
    assert sum(r["client_message_id"] == "killed-in-turn-start" for r in rows) == 1


def test_database_lost_during_a_chat_streams_on_says_not_saved_and_writes_nothing_partial(
    proxied_server, server_db, proxy, fake_openai
):
    fake_openai.reply = "Restore it with the restore command [1]. " + "More words here. " * 15
    fake_openai.tokens_per_second = 50

    def cut_on_first_delta(name, data):
        if name == "delta" and proxy._listener is not None:
            proxy.cut()

    result = stream_chat(proxied_server.base, {"message": QUESTION, "client_message_id": "lost"},
                         on_event=cut_on_first_delta)
    proxy.restore()

    assert result.names[-1] == "done"
    assert result.text.strip() == fake_openai.reply.strip()
    done = result.first("done")
    assert done["history_saved"] is False
    assert done["message_id"] is None
    token = result.first("session")["session_id"]
    rows = server_db.messages(token)
    assert [(r["role"], r["status"]) for r in rows] == [("user", "complete"), ("assistant", "pending")]
    _all_rows_consistent(server_db, {result.text})


# The database stopped, then started again


def test_database_down_chat_answers_history_503_readyz_503_then_recovers_without_restart(
    proxied_server, server_db, proxy
):
    before = _ask(proxied_server, client_message_id="before")
    token = before.first("session")["session_id"]
    assert http_json(proxied_server.base, "GET", "/readyz")[0] == 200

    proxy.cut()
    try:
        during = _ask(proxied_server, session_id=token, client_message_id="during")
        assert during.status == 200
        assert during.names[-1] == "done"
        assert during.text.strip()
        assert during.first("session") == {"session_id": token, "created": False}
        assert during.first("message") == {"user_message_id": None}
        assert during.first("done")["history_saved"] is False

        new_visitor = _ask(proxied_server)
        assert new_visitor.names[-1] == "done"
        assert new_visitor.first("session")["session_id"] is None
        assert new_visitor.first("done")["history_saved"] is False

        status, _, as_json = http_json(proxied_server.base, "POST", "/chat",
                                       {"message": QUESTION, "session_id": token})
        assert status == 200
        assert as_json["history_saved"] is False and as_json["answer"]

        for method, path, payload in [
            ("GET", f"/chat/history/{token}", None),
            ("POST", "/chat/history", {"session_id": token,
                                       "messages": [{"role": "user", "content": "x"}]}),
            ("POST", "/chat/feedback", {"session_id": token, "message_id": 1, "rating": "up"}),
        ]:
            status, headers, body = http_json(proxied_server.base, method, path, payload)
            assert status == 503, (path, body)
            assert int(headers["retry-after"]) >= 1
            assert body["error"]["code"] == "storage_unavailable"

        status, headers, body = http_json(proxied_server.base, "GET", "/readyz")
        assert status == 503
        assert int(headers["retry-after"]) >= 1
        assert body["checks"]["database"]["ok"] is False
        assert "database" in body["failed"]
        assert http_json(proxied_server.base, "GET", "/healthz")[0] == 200
        status, _, chat_status = http_json(proxied_server.base, "GET", "/chat")
        assert status == 200 and chat_status["history"] == {"ok": False}
    finally:
        proxy.restore()

    # Back up: the same server process, no restart.
    status, _, body = http_json(proxied_server.base, "GET", f"/chat/history/{token}")
    assert status == 200
    assert [m["content"] for m in body["messages"] if m["role"] == "user"] == [QUESTION]
    after = _ask(proxied_server, session_id=token, client_message_id="after")
    assert after.first("done")["history_saved"] is True
    assert http_json(proxied_server.base, "GET", "/readyz")[0] == 200
    assert http_json(proxied_server.base, "GET", "/chat")[2]["history"] == {"ok": True}
    roles = [(r["role"], r["client_message_id"]) for r in server_db.messages(token)]
    assert roles == [("user", "before"), ("assistant", None), ("user", "after"), ("assistant", None)]


def test_silent_database_host_is_bounded_by_the_connect_timeout(start_server, server_db, fake_openai):
    connect_timeout = 1
    with SilentServer() as silent:
        server = start_server(llm=fake_openai, indexed=True, db_address=("127.0.0.1", silent.port),
                              DATABASE_CONNECT_TIMEOUT=str(connect_timeout))
        started = time.monotonic()
        result = _ask(server)
        chat_seconds = time.monotonic() - started
        assert result.names[-1] == "done"
        assert result.first("done")["history_saved"] is False

        started = time.monotonic()
        status, headers, _ = http_json(server.base, "GET", "/readyz")
        readyz_seconds = time.monotonic() - started
        assert status == 503 and int(headers["retry-after"]) >= 1
        assert silent.connections >= 1

    # One connection attempt and one reconnect at most, each bounded by the timeout; a
    # generous margin for a loaded CI machine, far below an unbounded hang (TCP: minutes).
    assert chat_seconds < 4 * connect_timeout + 10
    assert readyz_seconds < 2 * connect_timeout + 10
