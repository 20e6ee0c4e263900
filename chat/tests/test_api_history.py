"""Contract tests of ``GET /chat/history/{session_id}`` and ``POST /chat/history``."""

import datetime as dt

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from chat import services, tokens
from chat.conf import chat_settings
from chat.models import ChatMessage, ChatSession

pytestmark = pytest.mark.django_db(transaction=True)


def make_turns(session, n: int) -> list[ChatMessage]:
    made = []
    for i in range(n):
        question, _ = services.message_create_user(session=session, content=f"question {i}")
        answer, _ = services.message_claim_answer(question=question)
        services.message_finish(
            message=answer, status="complete", content=f"answer {i} [1]",
            sources=[{"n": 1, "title": "Intro", "heading": "Install", "url": "https://d.test/docs/intro#install",
                      "path": "intro.md", "score": 0.5, "snippet": "pip install"}],
        )
        made += [question, answer]
    return made


# GET /chat/history/{session_id}


def test_a_new_client_reads_back_the_conversation_oldest_first_with_sources(api, llm_answers):
    llm_answers.reply = "Run make run [1]."
    first = api.post("/chat", {"message": "How do I start?"}, format="json").json()
    token = first["session_id"]
    api.post("/chat", {"message": "And then?", "session_id": token}, format="json")

    response = APIClient().get(f"/chat/history/{token}")
    assert response.status_code == 200
    body = response.json()
    assert body["session_id"] == token
    assert body["next"] is None
    messages = body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[0]["content"] == "How do I start?"
    assert messages[1]["content"] == first["answer"]
    assert messages[1]["reply_to"] == messages[0]["id"]
    assert messages[1]["status"] == "complete"
    assert set(messages[1]) == {
        "id", "role", "content", "sources", "status", "origin", "client_message_id",
        "reply_to", "refused", "rating", "created_at",
    }
    assert [m["id"] for m in messages] == sorted(m["id"] for m in messages)


def test_history_with_trailing_slash_is_the_same(api, session_token):
    response = api.get(f"/chat/history/{session_token}/")
    assert response.status_code == 200
    assert response.json()["messages"] == []


def test_history_pages_by_keyset_until_next_is_null(api):
    session, token = services.session_create()
    made = make_turns(session, 4)  # 8 messages
    seen, after, pages = [], None, 0
    while True:
        url = f"/chat/history/{token}?limit=3" + (f"&after={after}" if after else "")
        body = api.get(url).json()
        pages += 1
        seen += [m["id"] for m in body["messages"]]
        after = body["next"]
        if after is None:
            break
    assert pages == 3
    assert seen == [m.id for m in made]
    assert api.get(f"/chat/history/{token}?limit=3&after={made[-1].id}").json() == {
        "session_id": token, "messages": [], "next": None,
    }


def test_history_query_count_does_not_grow_with_the_page(api):
    small, small_token = services.session_create()
    make_turns(small, 1)
    large, large_token = services.session_create()
    make_turns(large, 20)
    with CaptureQueriesContext(connection) as few:
        assert api.get(f"/chat/history/{small_token}").status_code == 200
    with CaptureQueriesContext(connection) as many:
        assert len(api.get(f"/chat/history/{large_token}").json()["messages"]) == 40
    assert len(few) == len(many) <= 3


def test_history_limit_is_capped(api, settings):
    settings.CHAT_HISTORY_MAX_PAGE_SIZE = 2
    session, token = services.session_create()
    make_turns(session, 2)
    body = api.get(f"/chat/history/{token}?limit=100").json()
    assert len(body["messages"]) == 2
    assert body["next"] is not None


@pytest.mark.parametrize("query", ["limit=0", "limit=x", "after=-1", "after=abc"])
def test_bad_pagination_parameters_are_400(api, session_token, query):
    response = api.get(f"/chat/history/{session_token}?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["field"] in {"limit", "after"}


def test_unknown_session_history_is_404_json(api):
    response = api.get(f"/chat/history/{tokens.new_token()}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "session_not_found"


@pytest.mark.parametrize("bad", ["abc", "x" * 44, "%00" * 43, "a" * 42 + "!"])
def test_malformed_session_id_in_the_path_is_400(api, bad):
    response = api.get(f"/chat/history/{bad}")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_session", "field": "session_id",
        "message": "session_id is not a session id issued by this server.",
    }


def test_idle_expired_session_history_is_404(api):
    session, token = services.session_create()
    ChatSession.objects.filter(pk=session.pk).update(
        last_active_at=timezone.now() - dt.timedelta(days=chat_settings.SESSION_IDLE_DAYS + 1)
    )
    assert api.get(f"/chat/history/{token}").status_code == 404


def test_one_session_never_sees_another_sessions_messages(api):
    mine, my_token = services.session_create()
    theirs, _ = services.session_create()
    make_turns(theirs, 2)
    make_turns(mine, 1)
    contents = [m["content"] for m in api.get(f"/chat/history/{my_token}").json()["messages"]]
    assert contents == ["question 0", "answer 0 [1]"]


def test_history_is_503_with_retry_after_when_the_database_is_down(api, session_token, database):
    database.down()
    response = api.get(f"/chat/history/{session_token}")
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert response.json()["error"]["code"] == "storage_unavailable"


# POST /chat/history


def test_append_stores_client_messages_in_order_marked_as_client(api, session_token):
    response = api.post("/chat/history", {"session_id": session_token, "messages": [
        {"role": "user", "content": "What is X?", "client_message_id": "u1"},
        {"role": "assistant", "content": "X is Y.", "client_message_id": "a1",
         "sources": [{"n": 1, "title": "X", "heading": "", "url": "https://d.test/x", "path": "x.md"}]},
    ]}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["session_id"] == session_token
    assert body["session_created"] is False
    assert body["created"] == [True, True]
    assert [(m["role"], m["origin"]) for m in body["messages"]] == [
        ("user", "client"), ("assistant", "client")]
    stored = list(ChatMessage.objects.order_by("id").values_list("content", "origin"))
    assert stored == [("What is X?", "client"), ("X is Y.", "client")]
    assert ChatMessage.objects.get(client_message_id="a1").sources[0]["url"] == "https://d.test/x"


def test_append_is_idempotent_by_client_message_id(api, session_token):
    payload = {"session_id": session_token, "messages": [
        {"role": "user", "content": "Hi", "client_message_id": "u1"}]}
    first = api.post("/chat/history", payload, format="json")
    second = api.post("/chat/history/", payload, format="json")
    assert first.status_code == 201
    assert second.status_code == 200
    assert second.json()["created"] == [False]
    assert second.json()["messages"][0]["id"] == first.json()["messages"][0]["id"]
    assert ChatMessage.objects.count() == 1


def test_append_with_a_reused_id_for_other_text_stores_nothing(api, session_token):
    api.post("/chat/history", {"session_id": session_token, "messages": [
        {"role": "user", "content": "Hi", "client_message_id": "u1"}]}, format="json")
    response = api.post("/chat/history", {"session_id": session_token, "messages": [
        {"role": "user", "content": "New", "client_message_id": "u2"},
        {"role": "user", "content": "Changed", "client_message_id": "u1"},
    ]}, format="json")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "client_message_id_conflict"
    assert list(ChatMessage.objects.values_list("content", flat=True)) == ["Hi"]


def test_append_without_a_session_starts_one(api):
    response = api.post("/chat/history", {"messages": [{"role": "user", "content": "Hello"}]},
                        format="json")
    assert response.status_code == 201
    token = response.json()["session_id"]
    assert response.json()["session_created"] is True
    assert api.get(f"/chat/history/{token}").json()["messages"][0]["content"] == "Hello"


@pytest.mark.parametrize("messages,status,field", [
    ([], 400, "messages"),
    ([{"role": "system", "content": "x"}], 400, "messages[0].role"),
    ([{"role": "user", "content": "   "}], 400, "messages[0].content"),
    ([{"role": "user", "content": "a\x00b"}], 400, "messages[0].content"),
    ([{"role": "user"}], 400, "messages[0].content"),
    ([{"role": "user", "content": "x", "client_message_id": "bad id!"}], 400,
     "messages[0].client_message_id"),
    ([{"role": "user", "content": "x" * 5001}], 413, "messages[0].content"),
    ([{"role": "user", "content": "x"}] * 51, 413, "messages"),
    ([{"role": "user", "content": "x", "client_message_id": "d"}] * 2, 400, "messages"),
])
def test_append_rejects_bad_messages_naming_the_field(api, session_token, settings, messages,
                                                      status, field):
    settings.CHAT_MAX_MESSAGE_CHARS = 5000
    response = api.post("/chat/history", {"session_id": session_token, "messages": messages},
                        format="json")
    assert response.status_code == status
    assert response.json()["error"]["field"] == field
    assert ChatMessage.objects.count() == 0


def test_append_to_unknown_session_is_404(api):
    response = api.post("/chat/history", {"session_id": tokens.new_token(), "messages": [
        {"role": "user", "content": "x"}]}, format="json")
    assert response.status_code == 404


def test_append_is_503_when_the_database_is_down(api, session_token, database):
    database.down()
    response = api.post("/chat/history", {"session_id": session_token, "messages": [
        {"role": "user", "content": "x"}]}, format="json")
    assert response.status_code == 503
    assert response["Retry-After"]


def test_answers_from_indexed_docs_keep_their_sources_in_history(api, indexed_docs):
    reply = api.post("/chat", {"message": "How do I install the quokka server?"}, format="json")
    assert reply.status_code == 200
    body = reply.json()
    assert body["refused"] is False
    urls = [s["url"] for s in body["sources"]]
    assert any(u.startswith("https://docs.example.test/docs/install") for u in urls)
    assert {"n", "title", "heading", "url", "path"} <= set(body["sources"][0])

    history = APIClient().get(f"/chat/history/{body['session_id']}").json()["messages"]
    assert history[1]["sources"] == body["sources"]
    assert history[1]["content"] == body["answer"]
