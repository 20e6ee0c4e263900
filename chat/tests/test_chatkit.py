"""Contract tests of ``POST /chatkit`` (ChatKit's server protocol over our history).

Requests are built with the ``openai-chatkit`` package's own request types and sent as their
JSON; streamed responses are parsed with its ``ThreadStreamEvent`` type, JSON responses
with its ``Thread`` / ``Page`` types. Answers come from the real ``rag.services.answer_stream``
over a small ingested docs tree (offline extractive mode, and the fake LLM via ``llm``).
"""

import pytest
from asgiref.sync import sync_to_async

pytest.importorskip("chatkit", reason="openai-chatkit is an optional extra "
                                      "(pip install -r requirements-chatkit.txt)")

from chatkit.types import (  # noqa: E402
    AssistantMessageContentPartAnnotationAdded,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    ErrorEvent,
    FeedbackKind,
    InferenceOptions,
    ItemFeedbackParams,
    ItemsFeedbackReq,
    ItemsListParams,
    ItemsListReq,
    NoticeEvent,
    Page,
    Thread,
    ThreadAddUserMessageParams,
    ThreadCreatedEvent,
    ThreadCreateParams,
    ThreadCustomActionParams,
    ThreadDeleteParams,
    ThreadGetByIdParams,
    ThreadItem,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadListParams,
    ThreadRetryAfterItemParams,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsCustomActionReq,
    ThreadsDeleteReq,
    ThreadsGetByIdReq,
    ThreadsListReq,
    ThreadsRetryAfterItemReq,
    ThreadStreamEvent,
    ThreadsUpdateReq,
    ThreadUpdatedEvent,
    ThreadUpdateParams,
    UserMessageInput,
    UserMessageItem,
    UserMessageTextContent,
)
from pydantic import TypeAdapter  # noqa: E402

from chat import services, tokens  # noqa: E402
from chat.models import ChatMessage, ChatSession  # noqa: E402
from chat.tests.asgi_client import post_and_hang_up  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)

BASE_URL = "https://docs.example.test"
SESSION_HEADER = "X-Chat-Session"
EVENT = TypeAdapter(ThreadStreamEvent)
ITEMS = TypeAdapter(Page[ThreadItem])
THREADS = TypeAdapter(Page[Thread])

PAGES = {
    "timers.md": """---
id: timer-mocks
title: Timer Mocks
---

## Enable fake timers

Call `jest.useFakeTimers()` to replace `setTimeout` and `setInterval` with fake timers, then
advance time with `jest.advanceTimersByTime(ms)` or run every pending timer with
`jest.runAllTimers()`.

## Restore real timers

Call `jest.useRealTimers()` to switch the remaining tests back to the real timer functions.
""",
    "cli.md": """---
id: cli
title: Jest CLI Options
---

Run `jest --help` to list every option.

## `--watch`

Watch files for changes and rerun tests related to changed files. Use `--watchAll` to rerun
all tests when something changes.
""",
}
QUESTION = "How do I enable fake timers?"


@pytest.fixture
def docs(tmp_path, transactional_db):
    """The small docs tree above, ingested into this test's own index."""
    from rag.ingestion import ingest_docs

    root = tmp_path / "docs"
    root.mkdir()
    for name, text in PAGES.items():
        (root / name).write_text(text, encoding="utf-8")
    ingest_docs(docs_path=root, base_url=BASE_URL)
    return root


def user_input(text: str) -> UserMessageInput:
    return UserMessageInput(content=[UserMessageTextContent(text=text)], attachments=[],
                            inference_options=InferenceOptions())


def create(text: str = QUESTION, **metadata) -> ThreadsCreateReq:
    return ThreadsCreateReq(params=ThreadCreateParams(input=user_input(text)), metadata=metadata)


def add_message(thread_id: str, text: str) -> ThreadsAddUserMessageReq:
    return ThreadsAddUserMessageReq(
        params=ThreadAddUserMessageParams(thread_id=thread_id, input=user_input(text)))


def list_items(thread_id: str, **params) -> ItemsListReq:
    return ItemsListReq(params=ItemsListParams(thread_id=thread_id, **params))


def feedback(thread_id: str, item_ids: list[str], kind: FeedbackKind) -> ItemsFeedbackReq:
    return ItemsFeedbackReq(params=ItemFeedbackParams(thread_id=thread_id, item_ids=item_ids,
                                                      kind=kind))


class Reply:
    """A /chatkit response: the HTTP response, and the parsed events or JSON body."""

    def __init__(self, response, body: bytes):
        self.response = response
        self.status = response.status_code
        self.body = body
        self.events: list = []
        if response.streaming:
            for block in body.decode().split("\n\n"):
                if block.startswith("data: "):
                    self.events.append(EVENT.validate_json(block[len("data: "):]))

    def json(self):
        import json

        return json.loads(self.body)

    def of(self, kind) -> list:
        return [event for event in self.events if isinstance(event, kind)]

    def updates(self, kind) -> list:
        return [event.update for event in self.of(ThreadItemUpdatedEvent)
                if isinstance(event.update, kind)]

    @property
    def token(self) -> str | None:
        return self.response.get(SESSION_HEADER)


@pytest.fixture
def chatkit(aclient):
    """``await chatkit(request, token=None)`` → ``Reply`` for a ChatKit request model."""

    async def send(request, token: str | None = None, **headers) -> Reply:
        if token is not None:
            headers[SESSION_HEADER] = token
        body = request if isinstance(request, (str, bytes)) else request.model_dump_json()
        response = await aclient.post("/chatkit", body, content_type="application/json",
                                      headers=headers)
        if response.streaming:
            content = b"".join([chunk async for chunk in response.streaming_content])
        else:
            content = response.content
        return Reply(response, content)

    return send


def answer_text(reply: Reply) -> str:
    return "".join(update.delta for update in reply.updates(AssistantMessageContentPartTextDelta))


def done_items(reply: Reply, kind) -> list:
    return [event.item for event in reply.of(ThreadItemDoneEvent) if isinstance(event.item, kind)]


@sync_to_async
def stored(**filters) -> list[ChatMessage]:
    return list(ChatMessage.objects.filter(**filters).order_by("id"))


# threads.create


async def test_new_thread_streams_created_item_events_deltas_annotations_in_order(docs, chatkit):
    reply = await chatkit(create())

    assert reply.status == 200
    assert reply.response["Content-Type"].startswith("text/event-stream")
    kinds = [type(event).__name__ for event in reply.events]
    assert kinds[0] == "ThreadCreatedEvent"
    user_done = done_items(reply, UserMessageItem)
    assert len(user_done) == 1 and user_done[0].content[0].text == QUESTION
    added = reply.of(ThreadItemAddedEvent)
    assert len(added) == 1 and isinstance(added[0].item, AssistantMessageItem)
    assistant_done = done_items(reply, AssistantMessageItem)
    assert len(assistant_done) == 1
    answer = assistant_done[0]
    assert answer.id == added[0].item.id
    # The streamed deltas are the answer; every annotation is a URL source of our docs.
    assert answer.content[0].text == answer_text(reply) != ""
    annotations = reply.updates(AssistantMessageContentPartAnnotationAdded)
    assert annotations and [a.annotation for a in annotations] == answer.content[0].annotations
    urls = [a.annotation.source.url for a in annotations]
    assert all(url.startswith(f"{BASE_URL}/docs/") for url in urls)
    assert any("timer-mocks" in url for url in urls)
    # The thread is titled after its first question.
    assert [event.thread.title for event in reply.of(ThreadUpdatedEvent)] == [QUESTION]
    # Events arrive as ChatKit expects: created, user item done, ..., answer done last-ish.
    assert kinds.index("ThreadCreatedEvent") < kinds.index("ThreadItemAddedEvent")
    assert reply.events.index(reply.of(ThreadItemAddedEvent)[0]) < reply.events.index(
        reply.of(ThreadItemDoneEvent)[-1])


async def test_new_thread_without_token_issues_one_and_its_history_is_the_widget_history(
        docs, chatkit, aclient):
    reply = await chatkit(create(page_url=f"{BASE_URL}/docs/timer-mocks"))
    token = reply.token
    assert tokens.is_well_formed(token)
    thread_id = reply.of(ThreadCreatedEvent)[0].thread.id
    answer = done_items(reply, AssistantMessageItem)[0]

    history = (await aclient.get(f"/chat/history/{token}")).json()
    assert [(m["role"], m["content"]) for m in history["messages"]] == [
        ("user", QUESTION), ("assistant", answer.content[0].text)]
    assert [s["url"] for s in history["messages"][1]["sources"]] == [
        a.source.url for a in answer.content[0].annotations]
    assert history["messages"][1]["status"] == "complete"
    session = await ChatSession.objects.aget(token_hash=tokens.hash_token(token))
    assert session.channel == ChatSession.Channel.CHATKIT
    assert thread_id == f"thr_{session.pk}"
    assert session.title == QUESTION
    [question] = await stored(session=session, role="user")
    assert question.page_url == f"{BASE_URL}/docs/timer-mocks"


async def test_widget_conversation_continues_in_chatkit_and_back(docs, chatkit, aclient):
    response = await aclient.post("/chat", {"message": QUESTION}, content_type="application/json")
    assert response.status_code == 200
    token = response.json()["session_id"]

    threads = THREADS.validate_json((await chatkit(ThreadsListReq(params=ThreadListParams()),
                                                   token=token)).body)
    assert len(threads.data) == 1
    thread_id = threads.data[0].id
    items = ITEMS.validate_json((await chatkit(list_items(thread_id, order="asc"),
                                               token=token)).body)
    assert [type(item) for item in items.data] == [UserMessageItem, AssistantMessageItem]
    assert items.data[0].content[0].text == QUESTION
    assert items.data[1].content[0].annotations  # the widget's sources, as annotations

    reply = await chatkit(add_message(thread_id, "How do I restore real timers?"), token=token)
    assert done_items(reply, AssistantMessageItem)
    assert reply.token is None  # the holder keeps their token
    history = (await aclient.get(f"/chat/history/{token}")).json()["messages"]
    assert [m["role"] for m in history] == ["user", "assistant", "user", "assistant"]
    assert history[2]["content"] == "How do I restore real timers?"
    assert history[3]["id"] == int(done_items(reply, AssistantMessageItem)[0].id[4:])


async def test_one_token_owns_several_threads_listed_newest_first(docs, chatkit, aclient):
    first = await chatkit(create())
    token = first.token
    second = await chatkit(create("What does --watch do?"), token=token)
    assert second.status == 200 and second.token is None
    first_id = first.of(ThreadCreatedEvent)[0].thread.id
    second_id = second.of(ThreadCreatedEvent)[0].thread.id
    assert first_id != second_id

    page = THREADS.validate_json((await chatkit(ThreadsListReq(params=ThreadListParams()),
                                                token=token)).body)
    assert [t.id for t in page.data] == [second_id, first_id]
    assert [t.title for t in page.data] == ["What does --watch do?", QUESTION]
    # The token's own history is its first thread only.
    history = (await aclient.get(f"/chat/history/{token}")).json()["messages"]
    assert [m["content"] for m in history if m["role"] == "user"] == [QUESTION]
    owned = await ChatSession.objects.aget(pk=int(second_id[4:]))
    assert owned.channel == ChatSession.Channel.CHATKIT
    assert owned.metadata == {"chatkit_owner": tokens.hash_token(token)}


async def test_get_by_id_returns_the_thread_with_its_items(docs, chatkit):
    created = await chatkit(create())
    thread_id = created.of(ThreadCreatedEvent)[0].thread.id
    reply = await chatkit(ThreadsGetByIdReq(params=ThreadGetByIdParams(thread_id=thread_id)),
                          token=created.token)
    assert reply.status == 200
    thread = Thread.model_validate_json(reply.body)
    assert thread.id == thread_id and thread.title == QUESTION
    assert [item.id for item in thread.items.data] == [
        done_items(created, UserMessageItem)[0].id, done_items(created, AssistantMessageItem)[0].id]


async def test_items_are_paginated_with_after_limit_and_order(docs, chatkit):
    created = await chatkit(create())
    token = created.token
    thread_id = created.of(ThreadCreatedEvent)[0].thread.id
    await chatkit(add_message(thread_id, "How do I restore real timers?"), token=token)
    all_ids = [item.id for item in ITEMS.validate_json(
        (await chatkit(list_items(thread_id, order="asc"), token=token)).body).data]
    assert len(all_ids) == 4

    first = ITEMS.validate_json((await chatkit(list_items(thread_id, order="asc", limit=3),
                                               token=token)).body)
    assert [i.id for i in first.data] == all_ids[:3] and first.has_more
    assert first.after == all_ids[2]
    rest = ITEMS.validate_json((await chatkit(
        list_items(thread_id, order="asc", limit=3, after=first.after), token=token)).body)
    assert [i.id for i in rest.data] == all_ids[3:] and not rest.has_more and rest.after is None
    newest = ITEMS.validate_json((await chatkit(list_items(thread_id, limit=2),
                                                token=token)).body)
    assert [i.id for i in newest.data] == all_ids[:1:-1]  # default order is desc


async def test_threads_update_renames_and_delete_removes_an_owned_thread(docs, chatkit):
    first = await chatkit(create())
    token = first.token
    second = await chatkit(create("What does --watch do?"), token=token)
    second_id = second.of(ThreadCreatedEvent)[0].thread.id

    renamed = await chatkit(ThreadsUpdateReq(params=ThreadUpdateParams(
        thread_id=second_id, title="Watch mode")), token=token)
    assert renamed.status == 200
    assert Thread.model_validate_json(renamed.body).title == "Watch mode"
    assert (await ChatSession.objects.aget(pk=int(second_id[4:]))).title == "Watch mode"

    deleted = await chatkit(ThreadsDeleteReq(params=ThreadDeleteParams(thread_id=second_id)),
                            token=token)
    assert deleted.status == 200 and deleted.json() == {}
    assert not await ChatSession.objects.filter(pk=int(second_id[4:])).aexists()
    gone = await chatkit(ThreadsGetByIdReq(params=ThreadGetByIdParams(thread_id=second_id)),
                         token=token)
    assert gone.status == 404


async def test_deleting_the_token_thread_empties_it_but_keeps_the_token_working(docs, chatkit):
    first = await chatkit(create())
    token = first.token
    first_id = first.of(ThreadCreatedEvent)[0].thread.id
    second = await chatkit(create("What does --watch do?"), token=token)
    second_id = second.of(ThreadCreatedEvent)[0].thread.id

    await chatkit(ThreadsDeleteReq(params=ThreadDeleteParams(thread_id=first_id)), token=token)

    page = THREADS.validate_json((await chatkit(ThreadsListReq(params=ThreadListParams()),
                                                token=token)).body)
    assert [t.id for t in page.data] == [second_id]
    assert await stored(session_id=int(first_id[4:])) == []
    # The next new thread reuses the emptied token session (its history is the widget's).
    third = await chatkit(create("Which option lists every option?"), token=token)
    assert third.of(ThreadCreatedEvent)[0].thread.id == first_id


async def test_feedback_is_stored_as_our_rating(docs, chatkit, aclient):
    created = await chatkit(create())
    thread_id = created.of(ThreadCreatedEvent)[0].thread.id
    answer_id = done_items(created, AssistantMessageItem)[0].id

    reply = await chatkit(feedback(thread_id, [answer_id], "negative"), token=created.token)
    assert reply.status == 200 and reply.json() == {}
    [answer] = await stored(pk=int(answer_id[4:]))
    assert answer.rating == ChatMessage.Rating.DOWN and answer.rated_at is not None
    history = (await aclient.get(f"/chat/history/{created.token}")).json()["messages"]
    assert history[1]["rating"] == "down"

    question_id = done_items(created, UserMessageItem)[0].id
    refused = await chatkit(feedback(thread_id, [question_id], "positive"), token=created.token)
    assert refused.status == 400
    assert refused.json()["error"]["code"] == "not_an_answer"


async def test_retry_after_item_replaces_the_answer(docs, chatkit):
    created = await chatkit(create())
    thread_id = created.of(ThreadCreatedEvent)[0].thread.id
    question_id = done_items(created, UserMessageItem)[0].id
    first_answer_id = done_items(created, AssistantMessageItem)[0].id

    retry = await chatkit(ThreadsRetryAfterItemReq(params=ThreadRetryAfterItemParams(
        thread_id=thread_id, item_id=question_id)), token=created.token)
    assert retry.status == 200
    [new_answer] = done_items(retry, AssistantMessageItem)
    assert new_answer.id != first_answer_id and new_answer.content[0].text
    rows = await stored(session_id=int(thread_id[4:]))
    assert [(r.role, r.status) for r in rows] == [("user", "complete"), ("assistant", "complete")]
    assert rows[1].reply_to_id == int(question_id[4:])


async def test_question_outside_the_docs_is_refused_as_in_the_widget(docs, chatkit):
    reply = await chatkit(create("What is the capital of Mongolia?"))
    [answer] = done_items(reply, AssistantMessageItem)
    [row] = await stored(pk=int(answer.id[4:]))
    assert row.refused and row.status == "complete"
    assert answer.content[0].text == answer_text(reply) == row.content
    assert "documentation" in row.content


@sync_to_async
def refused_conversation() -> tuple[str, int]:
    """A widget conversation whose answer was refused, offering the nearest pages."""
    session, token = services.session_create()
    question, _ = services.message_create_user(session=session, content="Is there a moon?")
    answer, _ = services.message_claim_answer(question=question)
    nearest = [{"n": 1, "title": "Timer Mocks", "heading": "Enable fake timers",
                "url": f"{BASE_URL}/docs/timer-mocks#enable-fake-timers", "path": "timers.md",
                "score": 0.1, "snippet": "Call jest.useFakeTimers()."}]
    services.message_finish(message=answer, status="complete", refused=True, sources=nearest,
                            content="The docs do not cover this. The nearest pages are below.")
    return token, session.pk


async def test_refused_answer_offers_its_nearest_pages_as_uncited_annotations(chatkit):
    token, session_pk = await refused_conversation()
    items = ITEMS.validate_json((await chatkit(list_items(f"thr_{session_pk}", order="asc"),
                                               token=token)).body)
    [annotation] = items.data[1].content[0].annotations
    assert annotation.source.group == "Nearest pages"
    assert annotation.source.title == "Timer Mocks › Enable fake timers"
    assert annotation.source.url == f"{BASE_URL}/docs/timer-mocks#enable-fake-timers"
    assert annotation.index is None  # not cited in the text


async def test_llm_answer_streams_with_citation_annotation_and_usage_stored(llm, docs, chatkit):
    llm.reply = "Call `jest.useFakeTimers()` first [1]."
    reply = await chatkit(create())
    [answer] = done_items(reply, AssistantMessageItem)
    text = answer.content[0].text
    assert text == answer_text(reply) == "Call `jest.useFakeTimers()` first [1]."
    cited = [a for a in answer.content[0].annotations if a.index is not None]
    assert [a.index for a in cited] == [text.index("[1]") + 3]
    assert "timer-mocks" in cited[0].source.url
    assert not reply.of(NoticeEvent)  # no offline notice with an LLM
    [row] = await stored(pk=int(answer.id[4:]))
    assert row.model == "fake-model" and row.status == "complete"
    assert row.completion_tokens


async def test_llm_failure_is_a_chatkit_error_event_and_a_failed_row(llm, docs, chatkit):
    llm.fail_with = 500
    reply = await chatkit(create())
    assert reply.status == 200
    [error] = reply.of(ErrorEvent)
    assert error.code == "custom" and error.message
    assert reply.events[-1] == error
    assert not done_items(reply, AssistantMessageItem)
    rows = await stored(role="assistant")
    assert [r.status for r in rows] == ["failed"]
    # An answer that produced nothing is not an item.
    thread_id = reply.of(ThreadCreatedEvent)[0].thread.id
    items = ITEMS.validate_json((await chatkit(list_items(thread_id), token=reply.token)).body)
    assert [type(item) for item in items.data] == [UserMessageItem]


# Isolation between tokens


@pytest.fixture
def other_token(transactional_db):
    _, token = services.session_create()
    return token


async def test_another_token_cannot_read_list_change_or_rate_a_thread(docs, chatkit, other_token):
    created = await chatkit(create())
    thread_id = created.of(ThreadCreatedEvent)[0].thread.id
    answer_id = done_items(created, AssistantMessageItem)[0].id
    question_id = done_items(created, UserMessageItem)[0].id

    attempts = [
        ThreadsGetByIdReq(params=ThreadGetByIdParams(thread_id=thread_id)),
        list_items(thread_id),
        ThreadsUpdateReq(params=ThreadUpdateParams(thread_id=thread_id, title="mine")),
        ThreadsDeleteReq(params=ThreadDeleteParams(thread_id=thread_id)),
        feedback(thread_id, [answer_id], "positive"),
        add_message(thread_id, "and now?"),
        ThreadsRetryAfterItemReq(params=ThreadRetryAfterItemParams(thread_id=thread_id,
                                                                   item_id=question_id)),
    ]
    for request in attempts:
        reply = await chatkit(request, token=other_token)
        assert reply.status == 404, request.type
        assert reply.json()["error"]["code"] == "thread_not_found"
    listed = THREADS.validate_json((await chatkit(ThreadsListReq(params=ThreadListParams()),
                                                  token=other_token)).body)
    assert listed.data == []
    rows = await stored(session_id=int(thread_id[4:]))
    assert len(rows) == 2 and rows[1].rating is None
    assert (await ChatSession.objects.aget(pk=int(thread_id[4:]))).title == QUESTION


async def test_requests_without_a_valid_token_get_clear_errors(docs, chatkit):
    created = await chatkit(create())
    thread_id = created.of(ThreadCreatedEvent)[0].thread.id
    get = ThreadsGetByIdReq(params=ThreadGetByIdParams(thread_id=thread_id))

    missing = await chatkit(get)
    assert missing.status == 401
    assert missing.json()["error"] == {
        "code": "session_required", "field": SESSION_HEADER,
        "message": missing.json()["error"]["message"]}
    malformed = await chatkit(get, token="not-a-token")
    assert malformed.status == 400
    assert malformed.json()["error"]["code"] == "invalid_session"
    assert malformed.json()["error"]["field"] == SESSION_HEADER
    unknown = await chatkit(get, token=tokens.new_token())
    assert unknown.status == 404
    assert unknown.json()["error"]["code"] == "session_not_found"
    assert unknown.json()["error"]["field"] == SESSION_HEADER
    # Listing without a token is simply empty (a fresh ChatKit client asks for it).
    empty = await chatkit(ThreadsListReq(params=ThreadListParams()))
    assert empty.status == 200 and THREADS.validate_json(empty.body).data == []


# Bad input and unsupported requests


async def test_unsupported_streamed_request_gets_a_chatkit_error_event(docs, chatkit):
    created = await chatkit(create())
    thread_id = created.of(ThreadCreatedEvent)[0].thread.id
    reply = await chatkit(ThreadsCustomActionReq(params=ThreadCustomActionParams(
        thread_id=thread_id, action={"type": "open", "payload": {}})), token=created.token)
    assert reply.status == 200
    [event] = reply.events
    assert isinstance(event, ErrorEvent)
    assert event.allow_retry is False and "threads.custom_action" in event.message


async def test_unsupported_json_request_gets_a_400_naming_it(chatkit, other_token):
    body = ('{"type": "attachments.create", "params": '
            '{"name": "a.png", "size": 3, "mime_type": "image/png"}}')
    reply = await chatkit(body, token=other_token)
    assert reply.status == 400
    assert reply.json()["error"]["code"] == "unsupported_request"
    assert "attachments.create" in reply.json()["error"]["message"]


@pytest.mark.parametrize("body, field", [
    ("{not json", None),
    ('{"type": "threads.explode", "params": {}}', None),
    ('{"type": "threads.get_by_id", "params": {}}', "threads.get_by_id.params.thread_id"),
])
async def test_body_that_is_not_a_chatkit_request_is_a_400(chatkit, transactional_db, body, field):
    reply = await chatkit(body)
    assert reply.status == 400
    error = reply.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["field"] == field


@pytest.mark.parametrize("text, status, code", [
    ("   ", 400, "blank"),
    ("x" * 4001, 413, "too_long"),
    ("a\x00b", 400, "null_characters_not_allowed"),
])
async def test_bad_question_is_refused_before_anything_is_stored(chatkit, transactional_db,
                                                                 text, status, code):
    reply = await chatkit(create(text))
    assert reply.status == status
    assert reply.json()["error"]["code"] == code
    assert reply.json()["error"]["field"] == "params.input.content"
    assert not await ChatSession.objects.aexists()


async def test_page_url_that_is_not_http_is_a_400(chatkit, transactional_db):
    reply = await chatkit(create(page_url="javascript:alert(1)"))
    assert reply.status == 400
    assert reply.json()["error"]["field"] == "metadata.page_url"


async def test_non_json_content_type_and_get_are_refused(aclient, transactional_db):
    form = await aclient.post("/chatkit", {"type": "threads.list"})
    assert form.status_code == 415
    get = await aclient.get("/chatkit")
    assert get.status_code == 405 and get["Allow"] == "POST"


async def test_spent_budget_is_a_429_before_any_answer(docs, chatkit, settings):
    settings.CHAT_GLOBAL_DAILY_TOKENS = 0
    reply = await chatkit(create())
    assert reply.status == 429
    assert reply.json()["error"]["code"] == "global_token_budget_exceeded"
    assert int(reply.response["Retry-After"]) >= 1
    assert not await ChatMessage.objects.aexists()


async def test_storage_down_is_a_503_with_retry_after(chatkit, other_token, database):
    database.down()
    reply = await chatkit(ThreadsListReq(params=ThreadListParams()), token=other_token)
    assert reply.status == 503
    assert reply.json()["error"]["code"] == "storage_unavailable"
    assert int(reply.response["Retry-After"]) >= 1


async def test_answers_are_rate_limited_per_token(docs, chatkit, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "chat_session": "1/min"}}
    first = await chatkit(create())
    thread_id = first.of(ThreadCreatedEvent)[0].thread.id
    second = await chatkit(add_message(thread_id, "And real timers?"), token=first.token)
    assert second.status == 200
    third = await chatkit(add_message(thread_id, "And --watch?"), token=first.token)
    assert third.status == 429
    second = third
    assert second.json()["error"]["code"] == "rate_limited"
    assert int(second.response["Retry-After"]) >= 1
    # Reading is not an answer: still allowed.
    assert (await chatkit(list_items(thread_id), token=first.token)).status == 200


async def test_endpoint_says_so_when_openai_chatkit_is_not_installed(aclient, monkeypatch):
    from chat.chatkit import views

    monkeypatch.setattr(views, "chatkit_installed", lambda: False)
    response = await aclient.post("/chatkit", create().model_dump_json(),
                                  content_type="application/json")
    assert response.status_code == 501
    error = response.json()["error"]
    assert error["code"] == "chatkit_not_installed"
    assert "requirements-chatkit.txt" in error["message"]


async def post_and_disconnect(request, *, after_deltas: int) -> Reply:
    """POST a streamed ChatKit request over raw ASGI and hang up after some text deltas."""
    body = await post_and_hang_up("/chatkit", request.model_dump_json().encode(),
                                  marker=b"content_part.text_delta", after=after_deltas)

    class Streamed:
        status_code = 200
        streaming = True

    return Reply(Streamed(), body)


async def test_client_disconnect_stores_the_streamed_prefix_as_interrupted(llm, docs):
    llm.reply = " ".join(f"word{n}" for n in range(40)) + "."
    llm.tokens_per_second = 20
    reply = await post_and_disconnect(create(), after_deltas=3)
    streamed = answer_text(reply)
    assert streamed and streamed != llm.reply
    [answer] = await stored(role="assistant")
    assert answer.status == "interrupted" and answer.error == "client_disconnected"
    assert answer.content == streamed
    assert not await ChatMessage.objects.filter(status="pending").aexists()
