"""Writes to chat history: sessions, questions, answers, client-supplied messages, feedback.

Plain synchronous functions with keyword-only arguments, usable from views, the ChatKit
server, management commands and tests (async callers wrap them in ``sync_to_async``). They
raise the domain exceptions of ``chat.exceptions``; database errors propagate unchanged so
the caller can decide how to degrade.

Idempotency rests on two database constraints, so it holds across processes and on SQLite
and PostgreSQL alike: ``(session, client_message_id)`` is unique, and an answer's
``reply_to`` is one-to-one with its question. Concurrent duplicates lose the insert race,
catch the ``IntegrityError`` and read the winner's row.
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from . import tokens
from .conf import chat_settings
from .exceptions import (
    AnswerInProgress,
    IdempotencyConflict,
    InvalidSession,
    MessageNotFound,
    NotAnAnswer,
    SessionNotFound,
)
from .models import ChatMessage, ChatSession

Role = ChatMessage.Role
Status = ChatMessage.Status
Origin = ChatMessage.Origin


# Sessions


def session_create(
    *, channel: str = ChatSession.Channel.WIDGET, page_url: str = "", title: str = "",
    metadata: dict | None = None, token: str | None = None,
) -> tuple[ChatSession, str]:
    """Create a session and return it with its raw token (the only time the token exists).

    Pass ``token`` to store a token minted earlier (``tokens.new_token()``); otherwise a new
    one is drawn. Only the token's SHA-256 is stored.
    """
    token = token or tokens.new_token()
    session = ChatSession.objects.create(
        token_hash=tokens.hash_token(token),
        channel=channel,
        started_on_url=page_url[:2000],
        title=title[:200],
        metadata=metadata or {},
    )
    return session, token


def session_idle_cutoff() -> dt.datetime:
    return timezone.now() - dt.timedelta(days=chat_settings.SESSION_IDLE_DAYS)


def session_for_token(*, token: object, touch: bool = False) -> ChatSession:
    """The live session a client token names.

    Raises ``InvalidSession`` (400) for a value that is not a token this server could have
    issued, and ``SessionNotFound`` (404) for an unknown or idle-expired one. ``touch``
    records activity (``last_active_at``).
    """
    if not tokens.is_well_formed(token):
        raise InvalidSession()
    session = session_for_hash(token_hash=tokens.hash_token(token))
    if touch:
        session_touch(session=session)
    return session


def session_for_hash(*, token_hash: str) -> ChatSession:
    """The live session whose token hashes to ``token_hash`` (a token checked and hashed
    once by the caller); ``SessionNotFound`` (404) for an unknown or idle-expired one."""
    session = ChatSession.objects.filter(
        token_hash=token_hash, last_active_at__gte=session_idle_cutoff()
    ).first()
    if session is None:
        raise SessionNotFound()
    return session


def session_touch(*, session: ChatSession) -> None:
    """Record activity on the session now."""
    session.last_active_at = timezone.now()
    ChatSession.objects.filter(pk=session.pk).update(last_active_at=session.last_active_at)


# Messages


def message_for_client_id(*, session: ChatSession, client_message_id: str | None):
    """The message stored earlier under ``client_message_id`` in this session, or None."""
    if not client_message_id:
        return None
    return (
        ChatMessage.objects.select_related("reply")
        .filter(session=session, client_message_id=client_message_id)
        .first()
    )


def _get_or_create_by_client_id(*, session: ChatSession, client_message_id: str | None,
                                fields: dict) -> tuple[ChatMessage, bool]:
    try:
        with transaction.atomic():
            message = ChatMessage.objects.create(
                session=session, client_message_id=client_message_id, **fields
            )
        return message, True
    except IntegrityError:
        if not client_message_id:
            raise
    existing = ChatMessage.objects.get(session=session, client_message_id=client_message_id)
    if existing.role != fields["role"] or existing.content != fields["content"]:
        raise IdempotencyConflict()
    return existing, False


def message_create_user(
    *, session: ChatSession, content: str, client_message_id: str | None = None,
    page_url: str = "", origin: str = Origin.SERVER, channel: str = "",
) -> tuple[ChatMessage, bool]:
    """Store a visitor's question; returns ``(message, created)``.

    ``channel`` records where it was asked (``ChatSession.Channel``); blank means the
    session's own channel.

    With a ``client_message_id`` already used in this session for the same text, returns
    the stored message (``created`` False); for a different text raises
    ``IdempotencyConflict``.
    """
    return _get_or_create_by_client_id(
        session=session,
        client_message_id=client_message_id,
        fields={"role": Role.USER, "content": content, "page_url": page_url,
                "origin": origin, "status": Status.COMPLETE,
                "channel": channel or session.channel},
    )


def message_claim_answer(*, question: ChatMessage) -> tuple[ChatMessage, bool]:
    """Reserve the one answer row for ``question``; returns ``(answer, claimed)``.

    - No answer yet: creates it ``pending`` and returns it claimed.
    - A ``complete`` answer exists: returns it unclaimed (the caller replays it).
    - An ``interrupted`` or ``failed`` answer, or one left ``pending`` longer than
      ``CHAT_PENDING_TIMEOUT_SECONDS``: resets it to ``pending`` and returns it claimed (the
      same row is answered again; a question never gets two answer rows).
    - A ``pending`` answer another request is producing: raises ``AnswerInProgress`` (409).
    A conditional UPDATE makes the reclaim safe against concurrent retries.
    """
    try:
        with transaction.atomic():
            answer = ChatMessage.objects.create(
                session_id=question.session_id, role=Role.ASSISTANT, status=Status.PENDING,
                reply_to=question, page_url=question.page_url,
            )
        return answer, True
    except IntegrityError:
        pass
    answer = ChatMessage.objects.get(reply_to=question)
    if answer.status == Status.COMPLETE:
        return answer, False
    now = timezone.now()
    stale = now - dt.timedelta(seconds=chat_settings.PENDING_TIMEOUT_SECONDS)
    reclaimable = Q(status__in=[Status.INTERRUPTED, Status.FAILED]) | Q(
        status=Status.PENDING, updated_at__lt=stale
    )
    claimed = (
        ChatMessage.objects.filter(pk=answer.pk)
        .filter(reclaimable)
        .update(status=Status.PENDING, content="", error="", updated_at=now)
    )
    answer.refresh_from_db()
    if claimed:
        return answer, True
    if answer.status == Status.COMPLETE:
        return answer, False
    raise AnswerInProgress()


def turn_records_create(
    *, session: ChatSession, content: str, client_message_id: str | None = None,
    page_url: str = "", question: ChatMessage | None = None, new_session: bool = False,
    channel: str = "",
) -> tuple[ChatMessage, ChatMessage, bool]:
    """Store a turn's question and reserve its answer; returns ``(question, answer, claimed)``.

    Call inside the turn's transaction. ``question`` is the row a retried
    ``client_message_id`` already stored. In a session created in the same transaction
    nothing can collide, so both rows are plain INSERTs (no savepoints: two statements
    for a new visitor's turn); otherwise ``message_create_user`` and
    ``message_claim_answer`` handle concurrent duplicates (``claimed`` False: replay the
    complete answer; ``AnswerInProgress`` while another request is answering).
    """
    if new_session:
        question = ChatMessage.objects.create(
            session=session, client_message_id=client_message_id, role=Role.USER,
            content=content, page_url=page_url, origin=Origin.SERVER, status=Status.COMPLETE,
            channel=channel or session.channel,
        )
        answer = ChatMessage.objects.create(
            session=session, role=Role.ASSISTANT, status=Status.PENDING, reply_to=question,
            page_url=page_url,
        )
        return question, answer, True
    if question is None:
        question, _ = message_create_user(session=session, content=content,
                                          client_message_id=client_message_id, page_url=page_url,
                                          channel=channel)
    answer, claimed = message_claim_answer(question=question)
    return question, answer, claimed


def message_finish(
    *, message: ChatMessage, status: str, content: str, sources: list | None = None,
    refused: bool = False, model: str = "", prompt_tokens: int | None = None,
    completion_tokens: int | None = None, latency_ms: int | None = None,
    ttft_ms: int | None = None, error: str = "",
) -> ChatMessage:
    """Store the outcome of an answer: ``complete``, or the partial text as
    ``interrupted`` / ``failed`` with an error code."""
    message.status = status
    message.content = content
    message.sources = sources or []
    message.refused = refused
    message.model = (model or "")[:200]
    message.prompt_tokens = prompt_tokens
    message.completion_tokens = completion_tokens
    message.latency_ms = latency_ms
    message.ttft_ms = ttft_ms
    message.error = (error or "")[:500]
    message.save(update_fields=[
        "status", "content", "sources", "refused", "model", "prompt_tokens",
        "completion_tokens", "latency_ms", "ttft_ms", "error", "updated_at",
    ])
    return message


def messages_append_client(
    *, session: ChatSession, messages: list[dict]
) -> list[tuple[ChatMessage, bool]]:
    """Append client-supplied messages (``origin=client``) to a session, in order.

    Each item has ``role``, ``content`` and optionally ``client_message_id`` and
    ``sources``. Items whose ``client_message_id`` is already stored with the same role and
    text are returned as they are (``created`` False); a different text under a used id
    raises ``IdempotencyConflict`` and nothing from the batch is stored.
    """
    results = []
    with transaction.atomic():
        for item in messages:
            results.append(_get_or_create_by_client_id(
                session=session,
                client_message_id=item.get("client_message_id"),
                fields={"role": item["role"], "content": item["content"],
                        "sources": item.get("sources") or [], "origin": Origin.CLIENT,
                        "status": Status.COMPLETE},
            ))
        session_touch(session=session)
    return results


def message_rate(*, session: ChatSession, message_id: int, rating: str,
                 comment: str = "") -> ChatMessage:
    """Record (or replace) the visitor's rating of one of the session's answers.

    Messages of other sessions are reported as not found, so ids reveal nothing.
    """
    message = ChatMessage.objects.filter(session=session, pk=message_id).first()
    if message is None:
        raise MessageNotFound()
    if message.role != Role.ASSISTANT:
        raise NotAnAnswer()
    message.rating = rating
    message.rating_comment = comment
    message.rated_at = timezone.now()
    message.save(update_fields=["rating", "rating_comment", "rated_at", "updated_at"])
    return message


def messages_expire_pending(*, older_than: dt.timedelta | dt.datetime | None = None) -> int:
    """Mark answers still ``pending`` after ``older_than`` as ``failed``; returns the count.

    ``older_than`` is an age (timedelta) or a cutoff time (datetime); the default is
    ``CHAT_PENDING_TIMEOUT_SECONDS``. A pending row that old belongs to a process that died
    mid-answer (a live stream keeps its row for at most the LLM timeout).
    """
    if older_than is None:
        older_than = dt.timedelta(seconds=chat_settings.PENDING_TIMEOUT_SECONDS)
    cutoff = timezone.now() - older_than if isinstance(older_than, dt.timedelta) else older_than
    return ChatMessage.objects.filter(status=Status.PENDING, updated_at__lt=cutoff).update(
        status=Status.FAILED, error="expired: the answer never completed",
        updated_at=timezone.now(),
    )
