"""Abuse of the public endpoint: spoofed client addresses, oversized input, deep histories,
foreign origins.

- Client IP behind proxies: against the real uvicorn stack (its proxy-header handling plus
  DRF's ``NUM_PROXIES``), a client that sends its own ``X-Forwarded-For`` gets no fresh rate
  bucket, whether the server faces the internet directly (the client connects from
  127.0.0.2, an address uvicorn does not trust) or sits behind one proxy (on 127.0.0.1).
- Size caps: too-large bodies (with or without Content-Length) are refused with 413 before
  anything is stored; too-long messages are rejected, never truncated.
- History depth sent to the LLM is capped in (estimated) tokens, however long the session.
- CORS: the allowed docs origin gets exactly the expected headers; any other origin, and
  ``Origin: null`` (sandboxed iframes, file: pages), gets none.
"""

import http.client
import json

import pytest

from chat import budgets, services
from chat.models import ChatMessage, ChatSession
from rag.generation import CLIENT_TEXT_LABEL
from testing.servers import http_json

ALLOWED = "http://docs.example.test"  # CORS_ALLOWED_ORIGINS in the test settings


def _ask(server, xff=None, source=None):
    headers = {"X-Forwarded-For": xff} if xff else {}
    return http_json(server.base, "POST", "/chat", {"message": "How do I install it?"},
                     headers=headers, source=source)[0]


# Client IP and X-Forwarded-For (real uvicorn)


@pytest.mark.slow
def test_direct_client_spoofing_forwarded_for_gets_no_fresh_bucket(start_server):
    server = start_server(CHAT_RATE_IP="2/min", NUM_PROXIES="0")
    statuses = [_ask(server, xff=f"198.51.100.{n}", source="127.0.0.2") for n in range(4)]
    assert statuses == [200, 200, 429, 429]
    # Another client address is another bucket: the limit is per client, not global.
    assert _ask(server, source="127.0.0.3") == 200


@pytest.mark.slow
def test_behind_one_proxy_only_the_address_the_proxy_saw_counts(start_server):
    server = start_server(CHAT_RATE_IP="2/min", NUM_PROXIES="1")
    # The proxy (on 127.0.0.1) appends the address it saw; what comes before is the client's.
    real = "203.0.113.9"
    statuses = [_ask(server, xff=f"10.0.0.{n}, {real}") for n in range(4)]
    assert statuses == [200, 200, 429, 429]
    assert _ask(server, xff="10.0.0.99, 203.0.113.10") == 200


# Size caps


@pytest.mark.slow
@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_oversized_body_is_413_and_nothing_is_stored(start_server, server_db, chunked):
    server = start_server(DATA_UPLOAD_MAX_MEMORY_SIZE="65536")
    body = json.dumps({"message": "x" * 200_000}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        if chunked:
            conn.putrequest("POST", "/chat")
            conn.putheader("Content-Type", "application/json")
            conn.putheader("Transfer-Encoding", "chunked")
            conn.endheaders()
            for start in range(0, len(body), 16384):
                piece = body[start:start + 16384]
                conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            conn.send(b"0\r\n\r\n")
        else:
            conn.request("POST", "/chat", body=body, headers={"Content-Type": "application/json"})
        response = conn.getresponse()
        status, payload = response.status, json.loads(response.read())
    finally:
        conn.close()
    assert status == 413
    assert payload["error"]["code"] == "request_too_large"
    assert server_db.messages() == []


@pytest.mark.slow
def test_a_chunked_body_within_the_limit_is_read_whole(start_server, server_db):
    server = start_server(DATA_UPLOAD_MAX_MEMORY_SIZE="65536")
    message = "How do I install it?" + " please" * 500
    body = json.dumps({"message": message}).encode()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.putrequest("POST", "/chat")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        for start in range(0, len(body), 1000):
            piece = body[start:start + 1000]
            conn.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        conn.send(b"0\r\n\r\n")
        response = conn.getresponse()
        status, payload = response.status, json.loads(response.read())
    finally:
        conn.close()
    assert status == 200, payload
    assert [r["content"] for r in server_db.messages() if r["role"] == "user"] == [message]


@pytest.mark.django_db
def test_message_over_the_limit_is_rejected_whole_not_truncated(api, settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 50
    response = api.post("/chat", {"message": "y" * 51}, format="json")
    assert response.status_code == 413
    assert response.json()["error"]["field"] == "message"
    assert not ChatMessage.objects.exists() and not ChatSession.objects.exists()
    assert api.post("/chat", {"message": "y" * 50}, format="json").status_code == 200
    assert ChatMessage.objects.get(role="user").content == "y" * 50


@pytest.mark.django_db
def test_history_append_caps_message_count_and_length(api, settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 50
    too_many = [{"role": "user", "content": "hi"}] * 51
    response = api.post("/chat/history", {"messages": too_many}, format="json")
    assert response.status_code == 413
    too_long = [{"role": "user", "content": "z" * 51}]
    response = api.post("/chat/history", {"messages": too_long}, format="json")
    assert response.status_code == 413
    assert not ChatMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_history_sent_to_the_llm_is_capped_in_tokens(api, llm_answers, settings):
    settings.CHAT_HISTORY_MAX_TOKENS = 100
    session, token = services.session_create()
    turns = []
    for n in range(20):
        text = f"turn{n:02d} " + "lorem ipsum " * 12  # about 40 tokens each
        turns.append({"role": "user" if n % 2 == 0 else "assistant", "content": text})
    services.messages_append_client(session=session, messages=turns)

    response = api.post("/chat", {"message": "And what about backups?", "session_id": token},
                        format="json")
    assert response.status_code == 200
    (request,) = [r for r in llm_answers.requests if r["body"].get("stream")]
    messages = request["body"]["messages"]
    history = messages[1:-1]  # between the system prompt and the question
    assert history, "recent turns should reach the LLM"
    # (Client-appended "assistant" turns carry a fixed label; it is not history text.)
    contents = [m["content"].removeprefix(CLIENT_TEXT_LABEL) for m in history]
    assert sum(budgets.estimate_tokens(c) for c in contents) <= 100
    assert contents[-1].startswith("turn19")  # the most recent are the ones kept
    assert "turn00" not in json.dumps(messages)


# CORS


PREFLIGHT = {"HTTP_ACCESS_CONTROL_REQUEST_METHOD": "POST",
             "HTTP_ACCESS_CONTROL_REQUEST_HEADERS": "content-type"}


def _cors_headers(response) -> dict:
    return {k.lower(): v for k, v in response.items() if k.lower().startswith("access-control-")}


@pytest.mark.django_db
def test_allowed_origin_gets_exactly_the_expected_cors_headers(client):
    preflight = client.options("/chat", HTTP_ORIGIN=ALLOWED, **PREFLIGHT)
    assert preflight.status_code == 200
    headers = _cors_headers(preflight)
    assert headers.pop("access-control-allow-origin") == ALLOWED
    assert set(headers.pop("access-control-allow-methods").replace(" ", "").split(",")) >= {"POST", "GET"}
    assert set(headers.pop("access-control-allow-headers").split(", ")) == {
        "accept", "content-type", "x-chat-session", "last-event-id", "x-chat-client"}
    assert headers.pop("access-control-max-age") == "86400"
    assert headers.pop("access-control-expose-headers") == "Retry-After, X-Chat-Session"
    assert headers == {}  # in particular no Allow-Credentials: the API uses no cookies
    assert "origin" in preflight["Vary"].lower()

    actual = client.post("/chat", json.dumps({"message": "hi"}), content_type="application/json",
                         HTTP_ORIGIN=ALLOWED)
    assert _cors_headers(actual) == {"access-control-allow-origin": ALLOWED,
                                     "access-control-expose-headers": "Retry-After, X-Chat-Session"}


@pytest.mark.django_db
@pytest.mark.parametrize("origin", ["null", "https://evil.example", "http://docs.example.test.evil.example",
                                    "http://docs.example.test:8080", "https://docs.example.test"])
def test_other_origins_and_null_get_no_cors_headers(client, origin):
    preflight = client.options("/chat", HTTP_ORIGIN=origin, **PREFLIGHT)
    assert _cors_headers(preflight) == {}
    actual = client.post("/chat", json.dumps({"message": "hi"}), content_type="application/json",
                         HTTP_ORIGIN=origin)
    assert _cors_headers(actual) == {}
    history = client.get("/chat/history/x", HTTP_ORIGIN=origin)
    assert _cors_headers(history) == {}


@pytest.mark.django_db
def test_cors_is_limited_to_the_chat_api(client):
    response = client.get("/readyz", HTTP_ORIGIN=ALLOWED)
    assert _cors_headers(response) == {}
    response = client.get("/admin/login/", HTTP_ORIGIN=ALLOWED)
    assert _cors_headers(response) == {}
