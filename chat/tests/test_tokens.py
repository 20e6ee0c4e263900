"""Session tokens: unguessable, revealing nothing, throttled, never logged.

- 10,000 tokens issued by ``services.session_create`` (the path every endpoint uses) are
  unique, each 256 bits from ``secrets`` (≥ 128 required), and no bit position is fixed or
  biased (each is 1 in 45-55 % of tokens; a counter, timestamp or short seed would fail).
- A guessed id gets the same 404 as a real but expired one, creates nothing, and guessing is
  throttled per client IP (so it also locks the guesser out of real sessions for a while).
- Raw tokens never reach a log line: every logger captured at DEBUG during a tour of the API
  (success, 4xx, 429, storage down), and the real uvicorn access log of a server process.
"""

import base64
import json
import logging

import pytest

from chat import services, tokens
from chat.models import ChatMessage, ChatSession
from testing.servers import http_json, stream_chat

N = 10_000


@pytest.mark.django_db
def test_ten_thousand_issued_tokens_are_unique_256_bit_and_unbiased():
    from django.db import transaction

    with transaction.atomic():
        issued = [services.session_create()[1] for _ in range(N)]

    assert len(set(issued)) == N
    assert ChatSession.objects.values("token_hash").distinct().count() == N
    raw = [base64.urlsafe_b64decode(t + "=") for t in issued]
    assert {len(r) for r in raw} == {32}  # 256 bits each
    assert all(tokens.is_well_formed(t) for t in issued)
    ones = [0] * 256
    for value in raw:
        number = int.from_bytes(value, "big")
        for bit in range(256):
            ones[bit] += (number >> bit) & 1
    assert all(0.45 * N < count < 0.55 * N for count in ones), (min(ones), max(ones))
    # Only hashes are stored.
    stored = set(ChatSession.objects.values_list("token_hash", flat=True))
    assert not stored & set(issued)
    assert stored == {tokens.hash_token(t) for t in issued}


@pytest.mark.django_db
def test_tokens_issued_over_http_have_the_same_form(api):
    for _ in range(20):
        response = api.post("/chat/history", {"messages": [{"role": "user", "content": "hi"}]},
                            format="json")
        token = response.json()["session_id"]
        assert tokens.is_well_formed(token)
        assert len(base64.urlsafe_b64decode(token + "=")) == 32


@pytest.mark.django_db
def test_a_guessed_id_reveals_nothing(api, settings):
    _, real = services.session_create()
    guessed = tokens.new_token()
    near_miss = real[:-1] + ("A" if real[-1] != "A" else "B")
    _, expired = services.session_create()
    ChatSession.objects.filter(token_hash=tokens.hash_token(expired)).update(
        last_active_at="2000-01-01T00:00:00Z")

    bodies = set()
    for candidate in (guessed, near_miss, expired):
        response = api.get(f"/chat/history/{candidate}")
        assert response.status_code == 404
        bodies.add(response.content)
        chat = api.post("/chat", {"message": "hi", "session_id": candidate}, format="json")
        assert chat.status_code == 404
        rate = api.post("/chat/feedback", {"session_id": candidate, "message_id": 1, "rating": "up"},
                        format="json")
        assert rate.status_code == 404
    assert len(bodies) == 1  # unknown and expired look the same
    assert json.loads(bodies.pop())["error"]["code"] == "session_not_found"
    # The stored hash is not a credential, and upper/lower case variants are other ids.
    assert api.get(f"/chat/history/{tokens.hash_token(real)}").status_code == 400
    assert api.get(f"/chat/history/{real.swapcase()}").status_code in {400, 404}
    assert ChatSession.objects.count() == 2
    assert not ChatMessage.objects.exists()


@pytest.mark.django_db
def test_guessing_is_throttled_per_client_and_costs_the_guesser(api, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        "chat_ip": "1000/min", "chat_session": "1000/min", "history": "3/min"}}
    _, real = services.session_create()
    statuses = [api.get(f"/chat/history/{tokens.new_token()}").status_code for _ in range(5)]
    assert statuses == [404, 404, 404, 429, 429]
    blocked = api.get(f"/chat/history/{real}")
    assert blocked.status_code == 429 and int(blocked["Retry-After"]) >= 1
    # Someone else (another address) is unaffected.
    assert api.get(f"/chat/history/{real}", REMOTE_ADDR="192.0.2.44").status_code == 200


@pytest.mark.django_db(transaction=True)
async def test_raw_tokens_never_appear_in_captured_logs(ask, aclient, caplog, database, settings):
    from asgiref.sync import sync_to_async

    caplog.set_level(logging.DEBUG)  # every logger, every level
    _, events = await ask({"message": "How do I install it?", "client_message_id": "log-1"})
    token = dict(events)["session"]["session_id"]
    seen = [token]
    await ask({"message": "And then?", "session_id": token})
    await ask({"message": "How do I install it?", "client_message_id": "log-1", "session_id": token})
    await aclient.get(f"/chat/history/{token}")
    await aclient.get(f"/chat/history/{token}?after=not-a-number")  # 400
    await aclient.get(f"/chat/history/{token}x")  # malformed: 400
    await aclient.post("/chat/history", {"session_id": token, "messages": [
        {"role": "user", "content": "note"}]}, content_type="application/json")
    await aclient.post("/chat/feedback", {"session_id": token, "message_id": 999999,
                                          "rating": "up"}, content_type="application/json")  # 404
    guessed = tokens.new_token()
    seen.append(guessed)
    await aclient.get(f"/chat/history/{guessed}")  # 404
    await ask({"message": "hi", "session_id": guessed})  # 404
    database.down()
    await ask({"message": "Storage down?", "session_id": token})
    await aclient.get(f"/chat/history/{token}")  # 503
    database.up()
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        "chat_ip": "1000/min", "chat_session": "1000/min", "history": "1/min"}}
    for _ in range(2):
        await aclient.get(f"/chat/history/{token}")  # then 429

    assert await sync_to_async(ChatSession.objects.count)() == 1
    logged = "\n".join(
        record.getMessage() + (record.exc_text or "") + json.dumps(getattr(record, "chat", None))
        for record in caplog.records)
    assert "chat.turn outcome=complete" in logged  # the capture did see the chat logs
    assert "Not Found: /chat/history/[redacted]" in logged  # and Django's request log
    for raw in seen:
        assert raw not in logged
        assert raw[:16] not in logged


@pytest.mark.slow
def test_raw_tokens_never_appear_in_the_uvicorn_access_log(start_server, fake_openai):
    server = start_server(llm=fake_openai, access_log=True, LOG_LEVEL="DEBUG")
    result = stream_chat(server.base, {"message": "How do I install it?"})
    token = result.first("session")["session_id"]
    guessed = tokens.new_token()
    for path in (f"/chat/history/{token}", f"/chat/history/{token}?after=x",
                 f"/chat/history/{token}/", f"/chat/history/{guessed}"):
        http_json(server.base, "GET", path)
    http_json(server.base, "POST", "/chat", {"message": "more", "session_id": token})
    server.stop()
    log = server.log_text()
    assert '"GET /chat/history/[redacted] HTTP/1.1" 200' in log  # access logging was on
    assert token not in log and token[:16] not in log
    assert guessed not in log
