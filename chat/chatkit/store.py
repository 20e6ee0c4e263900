"""A ChatKit ``Store`` over the Django ORM: threads are ``ChatSession`` rows, items are
``ChatMessage`` rows (user questions and assistant answers).

Only user and assistant messages are stored; ChatKit's other item kinds (widgets, tool calls,
the SDK's hidden context notes) are not part of our history and are dropped. Attachments are
not supported (the view rejects them before they reach the store). Answers are written by
``server.DocsChatKitServer.respond`` through the chat services, so ``add_thread_item`` for an
answer that is already stored does nothing.

A stored answer comes back as one ``output_text`` part whose annotations are its sources (URL
sources); an annotation's ``index`` is the position just after the first ``[n]`` citation of
that source in the text, and sources the text does not cite (e.g. the nearest pages of a
refusal) have no index.
"""

from asgiref.sync import sync_to_async
from chatkit.store import NotFoundError, Store
from chatkit.types import (
    Annotation,
    AssistantMessageContent,
    AssistantMessageItem,
    InferenceOptions,
    Page,
    ThreadItem,
    ThreadMetadata,
    URLSource,
    UserMessageItem,
    UserMessageTextContent,
)

from .. import services
from ..models import ChatMessage, ChatSession
from . import threads
from .threads import RequestContext

DEFAULT_PAGE_SIZE = 20
NEAREST_PAGES_GROUP = "Nearest pages"


def user_text(content: list) -> str:
    """The question text of a ChatKit user message (text parts and tag labels, in order)."""
    return "".join(getattr(part, "text", "") or "" for part in content)


def annotations_for(text: str, sources: list[dict], refused: bool = False) -> list[Annotation]:
    annotations = []
    for source in sources or []:
        marker = f"[{source.get('n')}]"
        position = text.find(marker)
        title = source.get("title") or ""
        heading = source.get("heading") or ""
        if heading and heading != title:
            title = f"{title} › {heading}" if title else heading
        url = source.get("url") or source.get("path") or ""
        annotations.append(Annotation(
            source=URLSource(
                title=title or url, url=url, description=source.get("snippet") or None,
                group=NEAREST_PAGES_GROUP if refused else None,
            ),
            index=position + len(marker) if position >= 0 else None,
        ))
    return annotations


def answer_content(text: str, sources: list[dict],
                   refused: bool = False) -> AssistantMessageContent:
    return AssistantMessageContent(text=text, annotations=annotations_for(text, sources, refused))


def message_to_item(message: ChatMessage, thread_id: str) -> ThreadItem:
    if message.role == ChatMessage.Role.USER:
        return UserMessageItem(
            id=threads.item_id(message.pk), thread_id=thread_id, created_at=message.created_at,
            content=[UserMessageTextContent(text=message.content)], attachments=[],
            inference_options=InferenceOptions(),
        )
    return AssistantMessageItem(
        id=threads.item_id(message.pk), thread_id=thread_id, created_at=message.created_at,
        content=[answer_content(message.content, message.sources, message.refused)],
    )


def session_to_thread(session: ChatSession) -> ThreadMetadata:
    return ThreadMetadata(
        id=threads.thread_id(session.pk), title=session.title or None,
        created_at=session.created_at,
    )


def _thread(ctx: RequestContext, thread_id: str) -> ChatSession:
    session = threads.thread_session(ctx, thread_id)
    if session is None:
        raise NotFoundError(f"Thread {thread_id} not found")
    return session


def _load_thread(ctx, thread_id):
    return session_to_thread(_thread(ctx, thread_id))


def _save_thread(ctx, thread: ThreadMetadata):
    session = _thread(ctx, thread.id)
    title = (thread.title or "")[:200]
    if session.title != title:
        threads.thread_rename(session=session, title=title)


def _load_threads(ctx, limit, after, order):
    sessions, has_more = threads.threads_page(
        ctx, after=after, limit=threads.page_limit(limit, DEFAULT_PAGE_SIZE), order=order
    )
    return Page(
        data=[session_to_thread(session) for session in sessions], has_more=has_more,
        after=threads.thread_id(sessions[-1].pk) if has_more and sessions else None,
    )


def _load_thread_items(ctx, thread_id, after, limit, order):
    session = _thread(ctx, thread_id)
    messages, has_more = threads.items_page(
        session, after=after, limit=threads.page_limit(limit, DEFAULT_PAGE_SIZE), order=order
    )
    return Page(
        data=[message_to_item(message, thread_id) for message in messages], has_more=has_more,
        after=threads.item_id(messages[-1].pk) if has_more and messages else None,
    )


def _add_thread_item(ctx, thread_id, item):
    session = _thread(ctx, thread_id)
    if isinstance(item, UserMessageItem):
        message, _ = services.message_create_user(
            session=session, content=user_text(item.content), page_url=ctx.page_url
        )
        services.session_touch(session=session)
        # ChatKit sends this item to the client after storing it: give it its stable id.
        item.id = threads.item_id(message.pk)
    elif isinstance(item, AssistantMessageItem):
        if threads.message_in_thread(session, item.id) is None:
            # An answer not produced by respond() (none today): keep its text.
            services.messages_append_client(session=session, messages=[{
                "role": ChatMessage.Role.ASSISTANT,
                "content": "".join(part.text for part in item.content),
            }])


def _save_item(ctx, thread_id, item):
    if threads.message_in_thread(_thread(ctx, thread_id), item.id) is None:
        _add_thread_item(ctx, thread_id, item)


def _load_item(ctx, thread_id, item_id):
    session = _thread(ctx, thread_id)
    message = threads.message_in_thread(session, item_id)
    if message is None:
        raise NotFoundError(f"Item {item_id} not found in thread {thread_id}")
    return message_to_item(message, thread_id)


def _delete_thread(ctx, thread_id):
    threads.thread_delete(ctx, _thread(ctx, thread_id))


def _delete_thread_item(ctx, thread_id, item_id):
    message = threads.message_in_thread(_thread(ctx, thread_id), item_id)
    if message is not None:
        message.delete()


class DjangoStore(Store[RequestContext]):
    """ChatKit's storage interface over ``ChatSession`` / ``ChatMessage`` (see module doc)."""

    def generate_thread_id(self, context: RequestContext) -> str:
        if context.new_thread is None:
            raise RuntimeError("threads.create reached the store without an allocated session")
        return threads.thread_id(context.new_thread.pk)

    def generate_item_id(self, item_type, thread, context: RequestContext) -> str:
        return f"{threads.NEW_ITEM_PREFIX}{super().generate_item_id(item_type, thread, context)}"

    async def load_thread(self, thread_id: str, context: RequestContext) -> ThreadMetadata:
        return await sync_to_async(_load_thread)(context, thread_id)

    async def save_thread(self, thread: ThreadMetadata, context: RequestContext) -> None:
        await sync_to_async(_save_thread)(context, thread)

    async def load_thread_items(self, thread_id: str, after: str | None, limit: int,
                                order: str, context: RequestContext) -> Page[ThreadItem]:
        return await sync_to_async(_load_thread_items)(context, thread_id, after, limit, order)

    async def load_threads(self, limit: int, after: str | None, order: str,
                           context: RequestContext) -> Page[ThreadMetadata]:
        return await sync_to_async(_load_threads)(context, limit, after, order)

    async def add_thread_item(self, thread_id: str, item: ThreadItem,
                              context: RequestContext) -> None:
        await sync_to_async(_add_thread_item)(context, thread_id, item)

    async def save_item(self, thread_id: str, item: ThreadItem, context: RequestContext) -> None:
        await sync_to_async(_save_item)(context, thread_id, item)

    async def load_item(self, thread_id: str, item_id: str,
                        context: RequestContext) -> ThreadItem:
        return await sync_to_async(_load_item)(context, thread_id, item_id)

    async def delete_thread(self, thread_id: str, context: RequestContext) -> None:
        await sync_to_async(_delete_thread)(context, thread_id)

    async def delete_thread_item(self, thread_id: str, item_id: str,
                                 context: RequestContext) -> None:
        await sync_to_async(_delete_thread_item)(context, thread_id, item_id)

    async def save_attachment(self, attachment, context: RequestContext) -> None:
        raise NotImplementedError("Attachments are not supported by this server.")

    async def load_attachment(self, attachment_id: str, context: RequestContext):
        raise NotImplementedError("Attachments are not supported by this server.")

    async def delete_attachment(self, attachment_id: str, context: RequestContext) -> None:
        raise NotImplementedError("Attachments are not supported by this server.")
