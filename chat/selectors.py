"""Reads of chat history: a session's messages page by page, and the recent turns for a prompt.

Each function runs a fixed number of queries, however long the conversation.
"""

from .budgets import estimate_tokens
from .conf import chat_settings
from .models import ChatMessage, ChatSession

HISTORY_FIELDS = (
    "id", "role", "content", "sources", "status", "origin", "client_message_id",
    "reply_to_id", "refused", "rating", "created_at",
)


def history_page(*, session: ChatSession, after: int | None = None,
                 limit: int | None = None) -> tuple[list[ChatMessage], int | None]:
    """Up to ``limit`` messages of the session after message id ``after``, oldest first.

    Returns ``(messages, next)`` where ``next`` is the ``after`` value for the following
    page, or None on the last page. Keyset pagination on the primary key: one query.
    """
    limit = limit or chat_settings.HISTORY_PAGE_SIZE
    queryset = ChatMessage.objects.filter(session=session).only(*HISTORY_FIELDS).order_by("id")
    if after is not None:
        queryset = queryset.filter(id__gt=after)
    rows = list(queryset[: limit + 1])
    if len(rows) > limit:
        return rows[:limit], rows[limit - 1].id
    return rows, None


def history_for_prompt(*, session: ChatSession, before_id: int | None = None,
                       max_messages: int | None = None,
                       max_tokens: int | None = None) -> list[dict]:
    """The most recent completed turns before message ``before_id``, oldest first, as
    ``[{"role", "content"}]`` for the answer prompt.

    At most ``max_messages`` (default ``2 * CHAT_HISTORY_TURNS``) and, counting from the
    newest, at most ``max_tokens`` (default ``CHAT_HISTORY_MAX_TOKENS``, estimated): a long
    conversation never grows the prompt without bound. Interrupted and failed answers are
    left out.
    """
    max_messages = max_messages or 2 * chat_settings.HISTORY_TURNS
    max_tokens = chat_settings.HISTORY_MAX_TOKENS if max_tokens is None else max_tokens
    queryset = ChatMessage.objects.filter(
        session=session, status=ChatMessage.Status.COMPLETE
    ).exclude(content="")
    if before_id is not None:
        queryset = queryset.filter(id__lt=before_id)
    recent = list(queryset.order_by("-id").values("role", "content", "origin")[:max_messages])
    kept, used = [], 0
    for row in recent:
        cost = estimate_tokens(row["content"])
        if used + cost > max_tokens:
            break
        # origin: a client-appended "assistant" message is not the model's own turn.
        kept.append({"role": row["role"], "content": row["content"], "origin": row["origin"]})
        used += cost
    kept.reverse()
    return kept
