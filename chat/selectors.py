"""Reads of chat history: a session's messages page by page, and the recent turns for a prompt.

Each function runs a fixed number of queries, however long the conversation.
"""

from datetime import timedelta

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

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


def history_within_cap(messages: list[dict], *, max_messages: int | None = None,
                       max_tokens: int | None = None) -> list[dict]:
    """The newest of ``messages`` (oldest first) within the history cap, oldest first.

    The one cap on how much conversation reaches the model, in the answer prompt and the query
    rewrite alike (rag uses the history it is given as it is): at most ``max_messages``
    (default ``2 * CHAT_HISTORY_TURNS``) and, counting from the newest, at most
    ``max_tokens`` (default ``CHAT_HISTORY_MAX_TOKENS``, estimated), so a long conversation
    never grows the prompt without bound.
    """
    max_messages = max_messages or 2 * chat_settings.HISTORY_TURNS
    max_tokens = chat_settings.HISTORY_MAX_TOKENS if max_tokens is None else max_tokens
    kept, used = [], 0
    for message in reversed(messages[-max_messages:]):
        cost = estimate_tokens(message["content"])
        if used + cost > max_tokens:
            break
        kept.append(message)
        used += cost
    kept.reverse()
    return kept


def history_for_prompt(*, session: ChatSession, before_id: int | None = None,
                       max_messages: int | None = None,
                       max_tokens: int | None = None) -> list[dict]:
    """The most recent completed turns before message ``before_id``, oldest first, as
    ``[{"role", "content", "origin"}]`` for the answer prompt, within the history cap
    (``history_within_cap``). Interrupted and failed answers are left out.
    """
    max_messages = max_messages or 2 * chat_settings.HISTORY_TURNS
    queryset = ChatMessage.objects.filter(
        session=session, status=ChatMessage.Status.COMPLETE
    ).exclude(content="")
    if before_id is not None:
        queryset = queryset.filter(id__lt=before_id)
    # origin: a client-appended "assistant" message is not the model's own turn.
    recent = list(queryset.order_by("-id").values("role", "content", "origin")[:max_messages])
    recent.reverse()
    return history_within_cap(recent, max_messages=max_messages, max_tokens=max_tokens)


STARTER_MAX_CHARS = 120  # longer questions make poor buttons


def popular_questions(*, days: int | None = None, limit: int | None = None,
                      min_asked: int | None = None) -> list[str]:
    """The questions asked most often in the last ``days`` days whose answer completed
    without a refusal, most asked first; [] until one was asked ``min_asked`` times.

    Used as the widget's starter questions. One grouped query over the answers of the
    window (it uses the ``(status, created_at)`` index); the result is cached for
    ``CHAT_STARTERS_CACHE_SECONDS`` so page views never run it.
    """
    days = days or chat_settings.STARTERS_DAYS
    limit = limit or chat_settings.STARTERS_COUNT
    min_asked = min_asked or chat_settings.STARTERS_MIN_ASKED
    key = f"chat:starters:{days}:{limit}:{min_asked}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    since = timezone.now() - timedelta(days=days)
    rows = (
        ChatMessage.objects.filter(
            role=ChatMessage.Role.ASSISTANT, status=ChatMessage.Status.COMPLETE, refused=False,
            created_at__gte=since, reply_to__isnull=False,
        )
        .values("reply_to__content")
        .annotate(asked=Count("id"))
        .filter(asked__gte=min_asked)
        .order_by("-asked", "reply_to__content")[: limit * 3]
    )
    questions = []
    for row in rows:
        text = " ".join(row["reply_to__content"].split())
        if text and len(text) <= STARTER_MAX_CHARS and text not in questions:
            questions.append(text)
    questions = questions[:limit]
    cache.set(key, questions, chat_settings.STARTERS_CACHE_SECONDS)
    return questions
