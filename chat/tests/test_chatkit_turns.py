"""The ChatKit server answers through the same turn service as ``POST /chat``
(``chat.turns.turn_prepare`` / ``turn_events``): a duplicate, a complete answer and an
interrupted one behave as they do for the API. ``DocsChatKitServer.respond`` is driven
directly with a stored question, as ChatKit's ``process`` calls it after its store saved it.
"""

import datetime as dt

import pytest
from asgiref.sync import sync_to_async

pytest.importorskip("chatkit", reason="openai-chatkit is an optional extra "
                                      "(pip install -r requirements-chatkit.txt)")

from chatkit.errors import CustomStreamError  # noqa: E402
from chatkit.types import (  # noqa: E402
    AssistantMessageItem,
    InferenceOptions,
    ThreadItemDoneEvent,
    ThreadMetadata,
    UserMessageItem,
    UserMessageTextContent,
)

from chat import services  # noqa: E402
from chat.chatkit.server import DocsChatKitServer  # noqa: E402
from chat.chatkit.threads import RequestContext  # noqa: E402
from chat.exceptions import AnswerInProgress  # noqa: E402
from chat.models import ChatMessage  # noqa: E402
from chat.tests import test_chatkit  # noqa: E402
from chat.tests.test_chatkit import QUESTION  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)
Status = ChatMessage.Status


# test_chatkit's small docs tree, ingested into each test's own index (the same fixture).
docs = test_chatkit.docs


@sync_to_async
def conversation(*, answer_status: str | None = None, content: str = ""):
    """A holder's session with one stored question and, optionally, its answer row."""
    session, token = services.session_create()
    question, _ = services.message_create_user(session=session, content=QUESTION)
    answer = None
    if answer_status is not None:
        answer, _ = services.message_claim_answer(question=question)
        if answer_status != Status.PENDING:
            services.message_finish(message=answer, status=answer_status, content=content)
    return RequestContext(token=token, session=session), session, question, answer


async def respond(ctx, session, question) -> list:
    thread = ThreadMetadata(id=f"thr_{session.pk}", created_at=dt.datetime.now(), title="t")
    item = UserMessageItem(
        id=f"msg_{question.pk}", thread_id=thread.id, created_at=dt.datetime.now(),
        content=[UserMessageTextContent(text=question.content)],
        inference_options=InferenceOptions(),
    )
    return [event async for event in DocsChatKitServer().respond(thread, item, ctx)]


def answered(events) -> list[AssistantMessageItem]:
    return [e.item for e in events
            if isinstance(e, ThreadItemDoneEvent) and isinstance(e.item, AssistantMessageItem)]


async def test_a_question_being_answered_elsewhere_is_refused_as_in_progress(docs):
    ctx, session, question, pending = await conversation(answer_status=Status.PENDING)
    with pytest.raises(CustomStreamError) as raised:
        await respond(ctx, session, question)
    assert raised.value.message == AnswerInProgress().message
    rows = await sync_to_async(list)(ChatMessage.objects.filter(role="assistant"))
    assert [(r.pk, r.status) for r in rows] == [(pending.pk, Status.PENDING)]


async def test_a_complete_answer_is_replayed_from_the_database_without_answering(docs, llm):
    ctx, session, question, answer = await conversation(
        answer_status=Status.COMPLETE, content="Stored answer.")
    [item] = answered(await respond(ctx, session, question))
    assert item.id == f"msg_{answer.pk}" and item.content[0].text == "Stored answer."
    assert llm.calls.get("/v1/chat/completions") is None
    assert await ChatMessage.objects.filter(role="assistant").acount() == 1


async def test_an_interrupted_answer_is_answered_again_in_the_same_row(docs, llm):
    llm.reply = "Call `jest.useFakeTimers()` [1]."
    ctx, session, question, interrupted = await conversation(
        answer_status=Status.INTERRUPTED, content="Call")
    [item] = answered(await respond(ctx, session, question))
    assert item.id == f"msg_{interrupted.pk}"
    row = await ChatMessage.objects.aget(pk=interrupted.pk)
    assert row.status == Status.COMPLETE and row.content == "Call `jest.useFakeTimers()` [1]."
    assert await ChatMessage.objects.filter(role="assistant").acount() == 1


async def test_a_spent_budget_stops_a_chatkit_answer_before_the_llm(docs, llm, settings):
    ctx, session, question, _ = await conversation()
    settings.CHAT_GLOBAL_DAILY_TOKENS = 0
    with pytest.raises(CustomStreamError):
        await respond(ctx, session, question)
    assert llm.calls.get("/v1/chat/completions") is None
    assert not await ChatMessage.objects.filter(role="assistant").aexists()
