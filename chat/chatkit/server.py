"""The ChatKit server: ChatKit's protocol (``ChatKitServer.process``) over our chat turn.

``respond()`` answers a stored question exactly as ``POST /chat`` does, through
``chat.turns.turn_events`` (which runs ``rag.services.answer_stream`` and stores the answer:
``complete``, ``interrupted`` on a client disconnect or a failed LLM after some text,
``failed`` before any), and translates its events into ChatKit's:

- ``sources`` → kept; they become the answer's annotations (URL sources) at the end;
- ``notice`` → ``NoticeEvent`` (``warning`` when retrieval is down, else ``info``);
- ``delta`` → ``assistant_message.content_part.text_delta``;
- ``done`` → one ``annotation_added`` per source, ``content_part.done``, ``thread.item.done``;
- ``error`` → the partial answer (if any) as ``thread.item.done``, then ChatKit's ``error``
  event with our message and ``allow_retry`` from the error's ``retryable``.

The assistant item's id is the stored row's (``msg_<pk>``) from its first event, so what
ChatKit shows and what ``items.list`` returns later are the same item.
"""

from collections.abc import AsyncIterator
from datetime import datetime

from asgiref.sync import sync_to_async
from chatkit.errors import CustomStreamError
from chatkit.server import ChatKitServer
from chatkit.store import NotFoundError
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageContentPartAdded,
    AssistantMessageContentPartAnnotationAdded,
    AssistantMessageContentPartDone,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    NoticeEvent,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadMetadata,
    ThreadStreamEvent,
    UserMessageItem,
)

from django.db import transaction

from .. import selectors, services
from ..exceptions import ChatError, MessageNotFound
from ..models import ChatMessage
from ..turns import ChatTurn, turn_events
from . import threads
from .store import DjangoStore, answer_content
from .threads import RequestContext

RATINGS = {"positive": ChatMessage.Rating.UP, "negative": ChatMessage.Rating.DOWN}
WARNING_NOTICES = {"retrieval_unavailable"}


def _prepare_turn(ctx: RequestContext, thread_id: str, question_id: str) -> ChatTurn:
    """Reserve the answer row for a stored question (as ``turns.turn_start`` does)."""
    session = threads.thread_session(ctx, thread_id)
    if session is None:
        raise NotFoundError(f"Thread {thread_id} not found")
    question = threads.message_in_thread(session, question_id)
    if question is None or question.role != ChatMessage.Role.USER:
        raise MessageNotFound()
    answer, claimed = services.message_claim_answer(question=question)
    turn = ChatTurn(
        text=question.content, page_url=question.page_url or ctx.page_url, token=ctx.token,
        session=session, question=question, answer=answer, replay=not claimed,
    )
    if claimed:
        turn.history = selectors.history_for_prompt(session=session, before_id=question.pk)
    services.session_touch(session=session)
    return turn


def _rate(ctx: RequestContext, thread_id: str, item_ids: list[str], rating: str) -> None:
    session = threads.thread_session(ctx, thread_id)
    if session is None:
        raise NotFoundError(f"Thread {thread_id} not found")
    with transaction.atomic():  # all the items or none
        for item_id in item_ids:
            pk = threads.parse_item_id(item_id)
            if pk is None:
                raise MessageNotFound(f"No item {item_id} in this thread.", field="item_ids")
            services.message_rate(session=session, message_id=pk, rating=rating)


class DocsChatKitServer(ChatKitServer[RequestContext]):
    """Answers ChatKit threads with this site's RAG pipeline; history in our tables."""

    def __init__(self):
        super().__init__(store=DjangoStore())

    async def respond(self, thread: ThreadMetadata, input_user_message: UserMessageItem | None,
                      context: RequestContext) -> AsyncIterator[ThreadStreamEvent]:
        if input_user_message is None:  # client tool output etc.: not offered by this server
            return
        try:
            turn = await sync_to_async(_prepare_turn)(context, thread.id, input_user_message.id)
        except ChatError as exc:
            raise CustomStreamError(exc.message, allow_retry=exc.retry_after is not None) from exc
        if not thread.title:
            thread.title = threads.thread_title_from(turn.text)

        item = AssistantMessageItem(
            id=threads.item_id(turn.answer.pk), thread_id=thread.id,
            created_at=turn.answer.created_at or datetime.now(), content=[],
        )
        yield ThreadItemAddedEvent(item=item)
        yield ThreadItemUpdatedEvent(item_id=item.id, update=AssistantMessageContentPartAdded(
            content_index=0, content=AssistantMessageContent(text="")))

        parts: list[str] = []
        sources: list[dict] = []
        refused = False
        async for event in turn_events(turn):
            if event.name == "sources":
                sources = event.data.get("sources") or []
                refused = bool(event.data.get("refused"))
            elif event.name == "notice":
                level = "warning" if event.data.get("code") in WARNING_NOTICES else "info"
                yield NoticeEvent(level=level, message=event.data.get("message", ""))
            elif event.name == "delta":
                text = event.data.get("text", "")
                if text:
                    parts.append(text)
                    yield ThreadItemUpdatedEvent(item_id=item.id, update=(
                        AssistantMessageContentPartTextDelta(content_index=0, delta=text)))
            elif event.name == "done":
                refused = bool(event.data.get("refused", refused))
                content = answer_content("".join(parts), sources, refused)
                for index, annotation in enumerate(content.annotations):
                    yield ThreadItemUpdatedEvent(item_id=item.id, update=(
                        AssistantMessageContentPartAnnotationAdded(
                            content_index=0, annotation_index=index, annotation=annotation)))
                yield ThreadItemUpdatedEvent(item_id=item.id, update=(
                    AssistantMessageContentPartDone(content_index=0, content=content)))
                yield ThreadItemDoneEvent(item=item.model_copy(update={"content": [content]}))
            elif event.name == "error":
                if parts:  # the partial answer is stored (interrupted): show it as such
                    content = answer_content("".join(parts), sources, refused)
                    yield ThreadItemDoneEvent(item=item.model_copy(update={"content": [content]}))
                raise CustomStreamError(
                    event.data.get("message") or "The answer failed.",
                    allow_retry=bool(event.data.get("retryable")),
                )

    async def handle_stream_cancelled(self, thread, pending_items, context) -> None:
        # turn_events already stored the partial answer as interrupted; ChatKit's default
        # would add a hidden note item, which is not part of our history.
        return None

    async def add_feedback(self, thread_id: str, item_ids: list[str], feedback,
                           context: RequestContext) -> None:
        await sync_to_async(_rate)(context, thread_id, item_ids, RATINGS[feedback])


_server: DocsChatKitServer | None = None


def get_server() -> DocsChatKitServer:
    global _server
    if _server is None:
        _server = DocsChatKitServer()
    return _server
