"""Housekeeping writes run by ``manage.py prune_history``: remove idle sessions, expire
answers stuck in ``pending``.

Sessions are deleted in small batches, each in its own transaction, so a large prune neither
holds one long lock nor loads every message into memory at once.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from .conf import chat_settings
from .models import ChatMessage, ChatSession
from .services import messages_expire_pending


@dataclass
class PruneResult:
    sessions: int
    messages: int
    expired_pending: int
    dry_run: bool


def idle_sessions(*, idle_before: datetime):
    return ChatSession.objects.filter(last_active_at__lt=idle_before)


def stale_pending_messages(*, older_than: datetime):
    """Answers still ``pending`` with no write since ``older_than`` (as chat.services judges)."""
    return ChatMessage.objects.filter(status=ChatMessage.Status.PENDING, updated_at__lt=older_than)


def history_prune(
    *,
    older_than_days: int,
    dry_run: bool = False,
    batch_size: int = 500,
    on_progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> PruneResult:
    """Delete sessions idle for more than ``older_than_days`` (their messages go with them,
    CASCADE) and mark answers pending for longer than ``CHAT_PENDING_TIMEOUT_SECONDS`` as
    failed. With ``dry_run`` only counts what would happen and writes nothing.

    ``on_progress(n)`` is called after each batch with the number of sessions it deleted.
    """
    now = now or timezone.now()
    idle_before = now - timedelta(days=older_than_days)
    pending_before = now - timedelta(seconds=chat_settings.PENDING_TIMEOUT_SECONDS)
    idle = idle_sessions(idle_before=idle_before)

    if dry_run:
        return PruneResult(
            sessions=idle.count(),
            messages=ChatMessage.objects.filter(session__in=idle).count(),
            # Pending answers inside sessions that are about to go are not counted twice.
            expired_pending=stale_pending_messages(older_than=pending_before)
            .exclude(Q(session__last_active_at__lt=idle_before))
            .count(),
            dry_run=True,
        )

    sessions = messages = 0
    while True:
        ids = list(idle.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            # Filter again: a session that became active since it was selected is kept.
            _, per_model = ChatSession.objects.filter(
                pk__in=ids, last_active_at__lt=idle_before
            ).delete()
        deleted_sessions = per_model.get(ChatSession._meta.label, 0)
        sessions += deleted_sessions
        messages += per_model.get(ChatMessage._meta.label, 0)
        if on_progress:
            on_progress(deleted_sessions)

    return PruneResult(
        sessions=sessions,
        messages=messages,
        expired_pending=messages_expire_pending(older_than=pending_before),
        dry_run=False,
    )


def transcripts_redact(*, before: datetime, batch_size: int = 1000) -> int:
    """Blank the text of messages created before ``before`` (questions, answers, feedback
    comments) and the titles of sessions started before it; counts, ratings, timings and
    sources stay. Batches by id, each in its own transaction. Returns the messages blanked.
    """
    blanked = 0
    stale = ChatMessage.objects.filter(created_at__lt=before).filter(
        ~Q(content="") | ~Q(rating_comment=""))
    while True:
        ids = list(stale.order_by("id").values_list("id", flat=True)[:batch_size])
        if not ids:
            break
        with transaction.atomic():
            blanked += ChatMessage.objects.filter(id__in=ids).update(content="", rating_comment="")
    ChatSession.objects.filter(created_at__lt=before).exclude(title="").update(title="")
    return blanked
