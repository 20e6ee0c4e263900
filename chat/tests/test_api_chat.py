"""Contract tests of ``GET /chat`` and ``POST /chat``: shapes, the SSE event sequence, saving,
idempotent retries, disconnects, LLM failures and degraded dependencies."""

import asyncio
import hashlib
import json

import pytest
from asgiref.sync import sync_to_async
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from django.core.cache import cache

from chat import sse, tokens
from chat.models import ChatMessage, ChatSession

from .asgi_client import post_and_hang_up
from .conftest import chat_completion_calls

pytestmark = pytest.mark.django_db(transaction=True)

LONG_REPLY = " ".join(f"word{n}" for n in range(40)) + "."


def names(events):
    return [name for name, _ in events]


def assert_event_order(events):
    """session, message, sources, notice*, delta+, then done or error last."""
    sequence = names(events)
    assert sequence[:3] == ["session", "message", "sources"]
    assert sequence[-1] in {"done", "error"}
    middle = sequence[3:-1]
    first_delta = middle.index("delta") if "delta" in middle else len(middle)
    assert set(middle[:first_delta]) <= {"notice"}
    assert set(middle[first_delta:]) <= {"delta"}


@sync_to_async
def rows(**filters):
    return list(ChatMessage.objects.filter(**filters).order_by("id"))


@sync_to_async
def count(model, **filters):
    return model.objects.filter(**filters).count()


# GET /chat


def test_status_reports_llm_mode_storage_and_limits(api, settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 1234
    response = api.get("/chat")
    assert response.status_code == 200
    body = response.json()
    assert body["llm"]["mode"] == "offline"
    assert body["history"] == {"ok": True}
    assert "ok" in body["retrieval"]
    assert body["limits"]["max_message_chars"] == 1234


def test_status_says_llm_mode_when_a_key_is_configured(api, llm):
    body = api.get("/chat/").json()
    assert body["llm"] == {"mode": "llm", "model": "fake-model"}


def test_status_reports_storage_down_without_failing(api, database):
    database.down()
    response = api.get("/chat")
    assert response.status_code == 200
    assert response.json()["history"] == {"ok": False}


# POST /chat over SSE


async def test_new_conversation_streams_events_in_contract_order(ask, llm_answers):
    llm_answers.reply = "Install it with pip [1]."
    response, events = await ask({"message": "How do I install it?"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/event-stream")
    assert response["Cache-Control"].startswith("no-cache")
    assert_event_order(events)
    data = dict(events)
    assert data["session"]["created"] is True
    assert tokens.is_well_formed(data["session"]["session_id"])
    assert data["done"]["status"] == "complete"
    assert data["done"]["history_saved"] is True
    assert data["done"]["replayed"] is False
    text = "".join(d["text"] for n, d in events if n == "delta")
    assert "Install it with pip" in text

    question, answer = await rows()
    assert (question.role, question.content, question.status) == ("user", "How do I install it?", "complete")
    assert question.id == data["message"]["user_message_id"]
    assert answer.id == data["done"]["message_id"]
    assert answer.reply_to_id == question.id
    assert answer.status == "complete"
    assert answer.content == text
    assert answer.model == "fake-model"
    assert answer.completion_tokens and answer.prompt_tokens
    assert answer.latency_ms is not None


async def test_only_the_hash_of_the_session_id_is_stored(ask):
    _, events = await ask({"message": "Where are the docs?"})
    token = dict(events)["session"]["session_id"]
    session = await sync_to_async(ChatSession.objects.get)()
    assert session.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = await sync_to_async(lambda: json.dumps(list(ChatSession.objects.values())
                                                    + list(ChatMessage.objects.values()),
                                                    default=str))()
    assert token not in stored


async def test_offline_mode_answers_without_an_llm(ask):
    response, events = await ask({"message": "What is this project?",
                                  "page_url": "https://docs.example.com/docs/intro"})
    assert response.status_code == 200
    assert_event_order(events)
    assert names(events)[-1] == "done"
    answer = (await rows(role="assistant"))[0]
    assert answer.status == "complete"
    assert answer.page_url == "https://docs.example.com/docs/intro"


async def test_follow_up_in_the_same_session_sends_earlier_turns_to_the_llm(ask, llm_answers):
    _, first = await ask({"message": "What does the quokka plugin do?"})
    token = dict(first)["session"]["session_id"]
    llm_answers.requests.clear()
    _, second = await ask({"message": "And how do I configure it?", "session_id": token})
    assert dict(second)["session"] == {"session_id": token, "created": False}
    prompts = json.dumps([r["body"] for r in llm_answers.requests])
    assert "What does the quokka plugin do?" in prompts
    assert await count(ChatMessage) == 4
    assert await count(ChatSession) == 1


async def test_retry_with_same_client_message_id_replays_the_stored_answer(ask, llm_answers):
    payload = {"message": "How do I deploy?", "client_message_id": "c-1"}
    _, first = await ask(payload)
    token = dict(first)["session"]["session_id"]
    calls = chat_completion_calls(llm_answers)

    response, second = await ask({**payload, "session_id": token})
    assert response.status_code == 200
    assert_event_order(second)
    assert dict(second)["done"]["replayed"] is True
    assert dict(second)["done"]["message_id"] == dict(first)["done"]["message_id"]
    assert "".join(d["text"] for n, d in second if n == "delta") == \
        "".join(d["text"] for n, d in first if n == "delta")
    assert chat_completion_calls(llm_answers) == calls
    assert await count(ChatMessage, role="user") == 1
    assert await count(ChatMessage, role="assistant") == 1


async def test_ten_concurrent_duplicates_make_one_question_one_answer_one_llm_call(
    ask, llm_answers, session_token
):
    llm_answers.tokens_per_second = 50
    payload = {"message": "Is the search index fast?", "client_message_id": "dup-10", "session_id": session_token}
    results = await asyncio.gather(*[ask(payload) for _ in range(10)])
    statuses = sorted(response.status_code for response, _ in results)
    assert set(statuses) <= {200, 409}
    assert 200 in statuses
    for response, events in results:
        if response.status_code == 409:
            assert response.json()["error"]["code"] == "answer_in_progress"
            assert response["Retry-After"]
        else:
            assert names(events)[-1] == "done"
    assert await count(ChatMessage, role="user") == 1
    assert await count(ChatMessage, role="assistant") == 1
    assert chat_completion_calls(llm_answers) == 1
    answer = (await rows(role="assistant"))[0]
    assert answer.status == "complete"


async def test_client_message_id_reused_for_other_text_is_a_conflict(ask, session_token):
    await ask({"message": "first", "client_message_id": "same", "session_id": session_token})
    response, _ = await ask({"message": "second", "client_message_id": "same",
                             "session_id": session_token})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "client_message_id_conflict"
    assert response.json()["error"]["field"] == "client_message_id"
    assert await count(ChatMessage, role="user") == 1


async def test_unknown_session_is_404_json(ask):
    response, events = await ask({"message": "hi", "session_id": tokens.new_token()})
    assert events is None
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == "session_not_found"


async def test_expired_session_is_404(ask, session_token, settings):
    settings.CHAT_SESSION_IDLE_DAYS = 0
    response, _ = await ask({"message": "hi", "session_id": session_token})
    assert response.status_code == 404


# POST /chat as JSON


def test_json_reply_when_the_client_does_not_ask_for_a_stream(api, llm_answers):
    llm_answers.reply = "Use the CLI [1]."
    response = api.post("/chat", {"message": "How do I install the command line tool?", "client_message_id": "j1"},
                        format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "session_id", "session_created", "user_message_id", "message_id", "status", "answer",
        "sources", "refused", "notices", "history_saved", "replayed", "error",
    }
    assert body["session_created"] is True
    assert body["status"] == "complete"
    assert body["history_saved"] is True
    assert "Use the CLI" in body["answer"]
    assert ChatMessage.objects.get(pk=body["message_id"]).content == body["answer"]
    assert any(n["code"] == "retrieval_unavailable" for n in body["notices"])


# Failures while answering


async def test_client_disconnect_saves_exactly_the_streamed_prefix_as_interrupted(llm_answers):
    llm_answers.reply = LONG_REPLY
    llm_answers.tokens_per_second = 20
    events = await post_and_disconnect({"message": "Tell me everything"}, after_deltas=3)
    streamed = "".join(d["text"] for n, d in events if n == "delta")
    assert streamed and streamed != LONG_REPLY
    answer = (await rows(role="assistant"))[0]
    assert answer.status == "interrupted"
    assert answer.error == "client_disconnected"
    assert answer.content == streamed
    assert await count(ChatMessage, status="pending") == 0


async def test_llm_error_sends_an_error_event_and_saves_failed(ask, llm_answers, session_token):
    llm_answers.fail_with = 500
    payload = {"message": "Why does ingestion skip pages?", "client_message_id": "e1", "session_id": session_token}
    response, events = await ask(payload)
    assert response.status_code == 200
    assert_event_order(events)
    error = dict(events)["error"]
    assert error["code"] and error["message"]
    assert isinstance(error["retryable"], bool)
    answer = (await rows(role="assistant"))[0]
    assert answer.status == "failed"
    assert error["message_id"] == answer.id

    llm_answers.fail_with = None
    _, retry = await ask(payload)
    assert dict(retry)["done"]["status"] == "complete"
    assert dict(retry)["done"]["message_id"] == answer.id
    assert await count(ChatMessage, role="assistant") == 1
    assert (await rows(role="assistant"))[0].status == "complete"


async def test_llm_connection_reset_mid_stream_saves_partial_text_interrupted(ask, llm_answers):
    llm_answers.reply = LONG_REPLY
    llm_answers.reset_after_tokens = 5
    _, events = await ask({"message": "Explain the deployment options"})
    assert names(events)[-1] == "error"
    streamed = "".join(d["text"] for n, d in events if n == "delta")
    answer = (await rows(role="assistant"))[0]
    assert answer.status == "interrupted"
    assert answer.content == streamed
    assert streamed


def test_llm_error_in_json_mode_is_a_json_error(api, llm_answers):
    llm_answers.fail_with = 429
    response = api.post("/chat", {"message": "Hello, which databases are supported?"}, format="json")
    assert response.status_code in {502, 503}
    body = response.json()
    assert body["error"]["code"]
    assert body["message_id"] == ChatMessage.objects.get(role="assistant").id


async def test_search_index_down_still_answers_with_a_notice(ask, qdrant_down):
    response, events = await ask({"message": "How do I install it?"})
    assert response.status_code == 200
    assert_event_order(events)
    assert "retrieval_unavailable" in [d["code"] for n, d in events if n == "notice"]
    assert names(events)[-1] == "done"


async def test_database_down_still_answers_and_says_history_was_not_saved(ask, database):
    database.down()
    response, events = await ask({"message": "Is the database up?"})
    assert response.status_code == 200
    assert_event_order(events)
    data = dict(events)
    assert data["session"] == {"session_id": None, "created": False}
    assert data["message"] == {"user_message_id": None}
    assert data["done"]["history_saved"] is False
    assert data["done"]["message_id"] is None
    database.up()
    assert await count(ChatMessage) == 0


async def test_database_down_keeps_the_visitors_session_id(ask, database, session_token):
    database.down()
    _, events = await ask({"message": "Still there?", "session_id": session_token})
    assert dict(events)["session"] == {"session_id": session_token, "created": False}
    assert dict(events)["done"]["history_saved"] is False


def test_database_down_in_json_mode_answers_with_history_saved_false(api, database):
    database.down()
    response = api.post("/chat", {"message": "Hello?"}, format="json")
    assert response.status_code == 200
    assert response.json()["history_saved"] is False
    assert response.json()["answer"]


async def test_database_lost_mid_answer_still_finishes_the_stream(aclient, llm_answers, database):
    llm_answers.reply = LONG_REPLY
    response = await aclient.post("/chat", {"message": "Describe the configuration settings"},
                                  content_type="application/json",
                                  headers={"accept": "text/event-stream"})
    chunks = []
    async for chunk in response.streaming_content:
        chunks.append(chunk)
        if b"event: delta" in chunk:
            database.down()
    events = sse.parse_events(b"".join(chunks))
    assert names(events)[-1] == "done"
    assert dict(events)["done"]["history_saved"] is False
    assert "".join(d["text"] for n, d in events if n == "delta").strip() == LONG_REPLY


# Raw ASGI, to disconnect the way a browser does


async def post_and_disconnect(payload: dict, *, after_deltas: int):
    body = await post_and_hang_up("/chat", json.dumps(payload).encode(), marker=b"event: delta",
                                  after=after_deltas, accept=b"text/event-stream")
    return sse.parse_events(body)


# Bad input: one JSON error shape naming the field, nothing stored


@pytest.mark.parametrize("payload,status,code,field", [
    ({"message": ""}, 400, "blank", "message"),
    ({"message": " \n\t "}, 400, "blank", "message"),
    ({}, 400, "required", "message"),
    ({"message": None}, 400, "null", "message"),
    ({"message": 42}, 400, "not_a_string", "message"),
    ({"message": ["a"]}, 400, "not_a_string", "message"),
    ({"message": "x" * 101}, 413, "too_long", "message"),
    ({"message": "a\x00b"}, 400, "null_characters_not_allowed", "message"),
    ({"message": "hi", "page_url": "javascript:alert(1)"}, 400, "invalid_url", "page_url"),
    ({"message": "hi", "page_url": "not a url"}, 400, "invalid_url", "page_url"),
    ({"message": "hi", "page_url": "https://d.test/" + "a" * 3000}, 400, "max_length", "page_url"),
    ({"message": "hi", "client_message_id": "has space"}, 400, "invalid", "client_message_id"),
    ({"message": "hi", "client_message_id": "x" * 65}, 400, "invalid", "client_message_id"),
    ({"message": "hi", "client_message_id": 7}, 400, "invalid", "client_message_id"),
    ({"message": "hi", "session_id": "made-up"}, 400, "invalid_session", "session_id"),
    ({"message": "hi", "session_id": 123}, 400, "not_a_string", "session_id"),
])
def test_bad_chat_input_is_rejected_naming_the_field(api, settings, payload, status, code, field):
    settings.CHAT_MAX_MESSAGE_CHARS = 100
    response = api.post("/chat", payload, format="json")
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["field"] == field
    assert ChatMessage.objects.count() == 0
    assert ChatSession.objects.count() == 0


def test_message_at_the_limit_is_accepted_whole(api, settings):
    settings.CHAT_MAX_MESSAGE_CHARS = 100
    text = "é" * 100
    response = api.post("/chat", {"message": text}, format="json")
    assert response.status_code == 200
    assert ChatMessage.objects.get(role="user").content == text


@pytest.mark.parametrize("body,content_type,status,code", [
    (b'{"message": "hi"', "application/json", 400, "invalid_json"),
    (b'{"message": NaN}', "application/json", 400, "invalid_json"),
    (b"\xff\xfe", "application/json", 400, "invalid_json"),
    (b'["hi"]', "application/json", 400, "invalid"),
    (b'{"message": "\\ud800 lone surrogate"}', "application/json", 400, "invalid_text"),
    (b"message=hi", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    (b"hi", "text/plain", 415, "unsupported_media_type"),
])
def test_bad_bodies_get_json_errors(client, body, content_type, status, code):
    response = client.generic("POST", "/chat", body, content_type=content_type,
                              headers={"accept": "text/event-stream"})
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["code"] == code


def test_oversized_body_is_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"message": "x" * 2000}).encode()
    response = client.generic("POST", "/chat", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_unsupported_method_is_a_json_405(api):
    response = api.delete("/chat")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


# Logs and schema


async def test_log_lines_never_hold_the_raw_token_or_the_message_text(ask, caplog, session_token):
    import logging

    caplog.set_level(logging.INFO)
    secret_question = "my secret question about zebras"
    await ask({"message": secret_question, "session_id": session_token})
    await ask({"message": "x", "session_id": tokens.new_token()})  # 404, logged by Django
    from django.test import AsyncClient

    guessed = tokens.new_token()
    await AsyncClient().get(f"/chat/history/{guessed}")
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "chat.turn outcome=complete" in text
    assert tokens.log_id(tokens.hash_token(session_token)) in text
    assert session_token not in text
    assert guessed not in text
    assert secret_question not in "\n".join(
        r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)


def test_openapi_schema_documents_exactly_the_chat_endpoints(api):
    response = api.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    chat_paths = {p: set(ops) for p, ops in schema["paths"].items() if p.startswith("/chat")}
    assert chat_paths["/chat"] >= {"get", "post"}
    assert chat_paths["/chat/history"] >= {"post"}
    assert chat_paths["/chat/history/{session_id}"] >= {"get"}
    assert chat_paths["/chat/feedback"] >= {"post"}
    assert not any(p.endswith("/") for p in chat_paths)
    post_chat = schema["paths"]["/chat"]["post"]["responses"]["200"]["content"]
    assert set(post_chat) == {"application/json", "text/event-stream"}


# PostgreSQL: a connection killed by the server mid-answer


def _backend_pid() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def _terminate(pid: int) -> None:
    import psycopg

    from django.db import connection

    s = connection.settings_dict
    with psycopg.connect(dbname=s["NAME"], user=s["USER"], password=s["PASSWORD"] or None,
                         host=s["HOST"], port=s["PORT"] or 5432, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", [pid])


@pytest.mark.postgres
async def test_connection_killed_mid_answer_is_reopened_and_the_answer_saved(
    aclient, llm_answers, settings
):
    from django.db import connection

    if connection.vendor != "postgresql" or settings.DATABASE_POOLED:
        pytest.skip("needs a direct PostgreSQL connection")
    llm_answers.reply = LONG_REPLY
    response = await aclient.post("/chat", {"message": "Describe the configuration settings"},
                                  content_type="application/json",
                                  headers={"accept": "text/event-stream"})
    chunks, killed = [], False
    async for chunk in response.streaming_content:
        chunks.append(chunk)
        if not killed and b"event: delta" in chunk:
            await sync_to_async(_terminate)(await sync_to_async(_backend_pid)())
            killed = True
    events = sse.parse_events(b"".join(chunks))
    done = dict(events)["done"]
    assert done["history_saved"] is True
    answer = await sync_to_async(ChatMessage.objects.get)(pk=done["message_id"])
    assert answer.status == "complete"
    assert answer.content.strip() == LONG_REPLY


async def test_streamed_answer_from_indexed_docs_cites_sources(ask, indexed_docs):
    response, events = await ask({"message": "How do I restore a nightly snapshot?"})
    assert_event_order(events)
    sources = dict(events)["sources"]
    assert sources["refused"] is False
    assert any(s["path"] == "backups.md" for s in sources["sources"])
    answer = (await rows(role="assistant"))[0]
    assert answer.sources == sources["sources"]


# Selected page text ("Ask about this")


async def test_selected_page_text_goes_to_the_llm_as_a_quote_but_is_not_stored(ask, llm_answers):
    selection = "The quokka plugin caches every response for 60 seconds."
    response, events = await ask({"message": "What does this mean?", "context": selection})
    assert response.status_code == 200
    assert names(events)[-1] == "done"
    prompt = llm_answers.requests[-1]["body"]["messages"][-1]["content"]
    assert f"<selection>\n{selection}\n</selection>" in prompt
    assert prompt.rstrip().endswith("Question: What does this mean?")
    question = (await rows(role="user"))[0]
    assert question.content == "What does this mean?"


@pytest.mark.parametrize("context, message", [
    ("x" * 2001, "Is 2001 characters; the limit is 2000. Select less text."),
    (["a list"], "Must be a string."),
    (42, "Must be a string."),
])
def test_selected_text_too_long_or_not_a_string_is_a_400(api, context, message):
    response = api.post("/chat", {"message": "What is this?", "context": context}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["field"] == "context"
    assert error["message"] == f"context: {message}"
    assert ChatMessage.objects.count() == 0


def test_selected_text_limit_is_a_setting(api, settings):
    settings.CHAT_MAX_CONTEXT_CHARS = 10
    response = api.post("/chat", {"message": "What is this?", "context": "x" * 11}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == "context"


# Arbitrary input never produces a 5xx

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)
FIELDS = st.sampled_from(["message", "session_id", "client_message_id", "page_url", "other"])


@pytest.mark.django_db(transaction=False)
@hypothesis_settings(max_examples=80, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.dictionaries(FIELDS, st.text() | JSON_VALUES, max_size=4))
def test_arbitrary_json_bodies_never_get_a_server_error(client, payload):
    cache.clear()  # the rate limits are not what this test is about
    response = client.generic("POST", "/chat", json.dumps(payload), content_type="application/json")
    assert response.status_code in {200, 400, 404, 413}
    if response.status_code != 200:
        assert set(response.json()["error"]) == {"code", "message", "field"}


@pytest.mark.django_db(transaction=False)
@hypothesis_settings(max_examples=40, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(min_size=1, max_size=200))
def test_any_unicode_message_is_answered_or_rejected_cleanly(client, text):
    cache.clear()
    response = client.generic("POST", "/chat", json.dumps({"message": text}),
                              content_type="application/json")
    assert response.status_code in {200, 400}


@pytest.mark.postgres
async def test_postgres_on_a_closed_port_still_answers_and_history_is_503(ask, aclient, settings):
    from django.db import connection

    from .conftest import closed_port

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    _, events = await ask({"message": "Before the outage"})
    token = dict(events)["session"]["session_id"]
    params = connection.settings_dict  # shared by the connections of every thread
    real_port = params["PORT"]

    def close_db_thread_connection():
        from django.db import connection as thread_connection

        thread_connection.close()
        if thread_connection.pool:  # a pool keeps its open connections: drop them too
            thread_connection.close_pool()

    try:
        params["PORT"] = str(closed_port())
        await sync_to_async(close_db_thread_connection)()
        _, events = await ask({"message": "During the outage", "session_id": token})
        assert dict(events)["done"]["history_saved"] is False
        assert dict(events)["session"]["session_id"] == token
        response = await aclient.get(f"/chat/history/{token}")
        assert response.status_code == 503
        assert response["Retry-After"]
    finally:
        params["PORT"] = real_port
        await sync_to_async(close_db_thread_connection)()
    response = await aclient.get(f"/chat/history/{token}")
    assert response.status_code == 200
    assert [m["content"] for m in response.json()["messages"]][0] == "Before the outage"


# GET /chat/starters


def test_starters_are_the_popular_questions_and_cacheable(api, settings):
    from django.core.cache import cache

    from .test_selectors import ask_times

    cache.clear()
    settings.CHAT_STARTERS_MIN_ASKED = 2
    ask_times("How do I deploy?", 2)
    response = api.get("/chat/starters")
    assert response.status_code == 200
    assert response.json() == {"starters": ["How do I deploy?"]}
    assert "max-age=600" in response["Cache-Control"]
    assert api.post("/chat/starters", {}, format="json").status_code == 405
