"""The ChatKit server: ChatKit's protocol (``ChatKitServer.process``) over our chat turn.

``respond()`` answers a stored question exactly as ``POST /chat`` does: it finds the
question in the holder's thread, then ``chat.turns.turn_prepare`` claims its answer row
(or replays a complete one; 409-like ``AnswerInProgress`` while another request answers),
checks the budgets and reads the history, and ``chat.turns.turn_events`` runs
``rag.services.answer_stream`` and stores the answer (``complete``, ``interrupted`` on a
client disconnect or a failed LLM after some text, ``failed`` before any). Its events are
translated into ChatKit's:

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

from rag.types import Delta, Notice

from .. import services
from ..events import Reply, TurnDone, TurnError
from ..exceptions import ChatError, MessageNotFound
from ..models import ChatMessage, ChatSession
from ..turns import turn_events, turn_prepare
from . import threads
from .store import DjangoStore, answer_content
from .threads import RequestContext

RATINGS = {"positive": ChatMessage.Rating.UP, "negative": ChatMessage.Rating.DOWN}
WARNING_NOTICES = {"retrieval_unavailable"}


def _stored_question(ctx: RequestContext, thread_id: str,
                     question_id: str) -> tuple[ChatSession, ChatMessage]:
    """The holder's thread and the question ChatKit's store saved in it."""
    session = threads.thread_session(ctx, thread_id)
    if session is None:
        raise NotFoundError(f"Thread {thread_id} not found")
    question = threads.message_in_thread(session, question_id)
    if question is None or question.role != ChatMessage.Role.USER:
        raise MessageNotFound()
    return session, question


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
            session, question = await sync_to_async(_stored_question)(
                context, thread.id, input_user_message.id)
            turn = await turn_prepare(
                message=question.content, session_id=context.token, session=session,
                question=question, page_url=question.page_url or context.page_url,
                channel=ChatSession.Channel.CHATKIT,
            )
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

        reply = Reply()  # collected as it streams (``rag.types.collect``'s folds)
        async for event in turn_events(turn):
            event.fold(reply)
            if isinstance(event, Notice):
                level = "warning" if event.code in WARNING_NOTICES else "info"
                yield NoticeEvent(level=level, message=event.message)
            elif isinstance(event, Delta) and event.text:
                yield ThreadItemUpdatedEvent(item_id=item.id, update=(
                    AssistantMessageContentPartTextDelta(content_index=0, delta=event.text)))
            elif isinstance(event, TurnDone):
                content = answer_content(reply.text, reply.sources, reply.refused)
                for index, annotation in enumerate(content.annotations):
                    yield ThreadItemUpdatedEvent(item_id=item.id, update=(
                        AssistantMessageContentPartAnnotationAdded(
                            content_index=0, annotation_index=index, annotation=annotation)))
                yield ThreadItemUpdatedEvent(item_id=item.id, update=(
                    AssistantMessageContentPartDone(content_index=0, content=content)))
                yield ThreadItemDoneEvent(item=item.model_copy(update={"content": [content]}))
            elif isinstance(event, TurnError):
                if reply.text:  # the partial answer is stored (interrupted): show it as such
                    content = answer_content(reply.text, reply.sources, reply.refused)
                    yield ThreadItemDoneEvent(item=item.model_copy(update={"content": [content]}))
                raise CustomStreamError(event.message or "The answer failed.",
                                        allow_retry=event.retryable)

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
