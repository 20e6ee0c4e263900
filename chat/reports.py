"""Read-only queries for the people who run the service: admin lists, exports and statistics.

Everything here reads; nothing writes (maintenance writes live in ``chat/maintenance.py``).
Large reads go in keyset-paginated batches (``WHERE id > last ORDER BY id LIMIT n``) rather
than one cursor, so memory stays flat on SQLite, on PostgreSQL and behind a transaction
pooler (where server-side cursors are off and ``.iterator()`` would fetch everything).
"""

import math
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from urllib.parse import urldefrag

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower, Trim

from .models import ChatMessage, ChatSession
from .tokens import log_id

# (name in the export, column read from the database), in export order.
_EXPORT = [
    ("id", "id"),
    ("session", "session__token_hash"),
    ("role", "role"),
    ("text", "content"),
    ("sources", "sources"),
    ("status", "status"),
    ("origin", "origin"),
    ("refused", "refused"),
    ("rating", "rating"),
    ("rating_comment", "rating_comment"),
    ("rated_at", "rated_at"),
    ("model", "model"),
    ("prompt_tokens", "prompt_tokens"),
    ("completion_tokens", "completion_tokens"),
    ("latency_ms", "latency_ms"),
    ("ttft_ms", "ttft_ms"),
    ("page_url", "page_url"),
    ("reply_to", "reply_to_id"),
    ("created_at", "created_at"),
]
EXPORT_FIELDS = [name for name, _ in _EXPORT]
_EXPORT_COLUMNS = [column for _, column in _EXPORT]


# Admin


def sessions_with_overview(queryset: QuerySet[ChatSession]) -> QuerySet[ChatSession]:
    """Annotate sessions with ``message_count``, ``has_thumbs_down`` and ``has_refusal``.

    Subqueries rather than JOIN + GROUP BY, so the annotations stay right when the admin adds
    its own joins (search by message text) and the changelist costs one query per page.
    """
    messages = ChatMessage.objects.filter(session=OuterRef("pk")).order_by()
    counts = messages.values("session").annotate(n=Count("pk")).values("n")
    return queryset.annotate(
        message_count=Coalesce(Subquery(counts, output_field=IntegerField()), 0),
        has_thumbs_down=Exists(messages.filter(rating=ChatMessage.Rating.DOWN)),
        has_refusal=Exists(messages.filter(role=ChatMessage.Role.ASSISTANT, refused=True)),
    )


def gap_condition(kind: str = "any") -> Q:
    """User questions whose answer was "not in the docs" (``refused``), rated down, or either."""
    refused = Q(reply__refused=True)
    rated_down = Q(reply__rating=ChatMessage.Rating.DOWN)
    conditions = {"refused": refused, "down": rated_down, "any": refused | rated_down}
    return Q(role=ChatMessage.Role.USER) & conditions[kind]


def gap_questions(*, since: datetime | None = None) -> QuerySet[ChatMessage]:
    """The questions the docs failed to answer, newest first, with their answer and session."""
    queryset = ChatMessage.objects.filter(gap_condition("any"))
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    return queryset.select_related("reply", "session").order_by("-created_at", "-id")


# Export


def messages_in_period(*, since: datetime, until: datetime | None = None) -> QuerySet[ChatMessage]:
    queryset = ChatMessage.objects.filter(created_at__gte=since)
    if until is not None:
        queryset = queryset.filter(created_at__lt=until)
    return queryset


def messages_for_export(
    *, since: datetime, until: datetime | None = None, batch_size: int = 1000
) -> Iterator[list[dict]]:
    """Yield batches of export records (one per message, ``EXPORT_FIELDS``), oldest id first.

    The session is identified by the short hash prefix used in logs, never the token (which
    is not stored anyway).
    """
    queryset = messages_in_period(since=since, until=until).order_by("id")
    last_id = 0
    while True:
        rows = list(queryset.filter(id__gt=last_id).values(*_EXPORT_COLUMNS)[:batch_size])
        if not rows:
            return
        last_id = rows[-1]["id"]
        yield [_export_record(row) for row in rows]


def _export_record(row: dict) -> dict:
    return {
        "id": row["id"],
        "session": log_id(row["session__token_hash"]),
        "role": row["role"],
        "text": row["content"],
        "sources": row["sources"] or [],
        "status": row["status"],
        "origin": row["origin"],
        "refused": row["refused"],
        "rating": row["rating"],
        "rating_comment": row["rating_comment"],
        "rated_at": row["rated_at"].isoformat() if row["rated_at"] else None,
        "model": row["model"],
        "prompt_tokens": row["prompt_tokens"],
        "completion_tokens": row["completion_tokens"],
        "latency_ms": row["latency_ms"],
        "ttft_ms": row["ttft_ms"],
        "page_url": row["page_url"],
        "reply_to": row["reply_to_id"],
        "created_at": row["created_at"].isoformat(),
    }


# Statistics


@dataclass
class ChatStats:
    since: datetime
    sessions: int
    messages: int
    questions: int
    answers: int
    refused: int
    refusal_rate: float | None
    thumbs_up: int
    thumbs_down: int
    latency_ms: dict = field(default_factory=dict)
    ttft_ms: dict = field(default_factory=dict)
    top_cited_pages: list = field(default_factory=list)
    top_unanswered_questions: list = field(default_factory=list)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["since"] = self.since.isoformat()
        return data


def chat_stats(*, since: datetime, top: int = 10, batch_size: int = 1000) -> ChatStats:
    """Usage and quality figures for messages and sessions created since ``since``."""
    messages = ChatMessage.objects.filter(created_at__gte=since)
    answers = messages.filter(role=ChatMessage.Role.ASSISTANT)
    totals = messages.aggregate(
        messages=Count("pk"),
        questions=Count("pk", filter=Q(role=ChatMessage.Role.USER)),
        answers=Count("pk", filter=Q(role=ChatMessage.Role.ASSISTANT)),
        refused=Count("pk", filter=Q(role=ChatMessage.Role.ASSISTANT, refused=True)),
        thumbs_up=Count("pk", filter=Q(rating=ChatMessage.Rating.UP)),
        thumbs_down=Count("pk", filter=Q(rating=ChatMessage.Rating.DOWN)),
    )
    return ChatStats(
        since=since,
        sessions=ChatSession.objects.filter(created_at__gte=since).count(),
        refusal_rate=(totals["refused"] / totals["answers"]) if totals["answers"] else None,
        latency_ms=percentiles(answers, "latency_ms"),
        ttft_ms=percentiles(answers, "ttft_ms"),
        top_cited_pages=top_cited_pages(answers, top=top, batch_size=batch_size),
        top_unanswered_questions=top_unanswered_questions(since=since, top=top),
        **totals,
    )


def percentiles(queryset: QuerySet, field_name: str, points=(50, 95)) -> dict:
    """Nearest-rank percentiles of a numeric column, computed in the database.

    Portable (SQLite has no percentile function): one count, then one ``ORDER BY ... OFFSET``
    per point, so nothing is loaded into memory.
    """
    values = queryset.filter(**{f"{field_name}__isnull": False}).order_by(field_name)
    count = values.count()
    result = {}
    for point in points:
        if not count:
            result[f"p{point}"] = None
            continue
        rank = max(1, math.ceil(point / 100 * count))
        result[f"p{point}"] = values.values_list(field_name, flat=True)[rank - 1]
    return result


def top_cited_pages(answers: QuerySet, *, top: int, batch_size: int = 1000) -> list[dict]:
    """Pages (URL without #anchor) most often cited by answers, refusals excluded.

    A source counts when it is marked ``cited`` or, for sources stored without that mark,
    when it was returned with the answer. Each page counts once per answer.
    """
    pages: Counter[str] = Counter()
    titles: dict[str, str] = {}
    queryset = answers.filter(refused=False).order_by("id")
    last_id = 0
    while True:
        rows = list(queryset.filter(id__gt=last_id).values_list("id", "sources")[:batch_size])
        if not rows:
            break
        last_id = rows[-1][0]
        for _id, sources in rows:
            seen = set()
            for source in sources or []:
                if not isinstance(source, dict) or source.get("cited") is False:
                    continue
                url = source.get("url") or source.get("path")
                if not isinstance(url, str) or not url:
                    continue
                page = urldefrag(url).url
                if page in seen:
                    continue
                seen.add(page)
                pages[page] += 1
                titles.setdefault(page, str(source.get("title") or ""))
    return [
        {"url": page, "title": titles[page], "count": count}
        for page, count in pages.most_common(top)
    ]


def top_unanswered_questions(*, since: datetime, top: int) -> list[dict]:
    """The questions most often answered "not in the docs", grouped case-insensitively."""
    rows = (
        ChatMessage.objects.filter(gap_condition("refused"), created_at__gte=since)
        .annotate(question=Lower(Trim("content")))
        .values("question")
        .annotate(count=Count("pk"))
        .order_by("-count", "question")[:top]
    )
    return [{"question": row["question"], "count": row["count"]} for row in rows]
