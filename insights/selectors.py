"""Reads for the dashboard and the gap export: only the aggregate tables and gap topics.

Nothing here scans ``chat_history``; the biggest read is ``GapQuestion`` counts per topic over
two weeks (an index on ``(topic, asked_at)``).
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum
from django.utils import timezone

from rag.models import IndexedPage

from .models import DailyPageCitation, DailyStat, GapQuestion, GapTopic
from .rollup import ALL_CHANNELS, page_url

TREND_DAYS = 7


@dataclass
class Day:
    day: dt.date
    by_channel: dict[str, int]
    questions: int
    refused: int
    rated_down: int
    ttft_p50_ms: int | None
    ttft_p95_ms: int | None

    @property
    def refused_share(self) -> float | None:
        return self.refused / self.questions if self.questions else None

    @property
    def down_share(self) -> float | None:
        return self.rated_down / self.questions if self.questions else None


@dataclass
class TopicRow:
    topic: GapTopic
    recent: int  # questions in the last TREND_DAYS days
    previous: int  # in the TREND_DAYS days before
    examples: list[str] = field(default_factory=list)

    @property
    def trend(self) -> int:
        return self.recent - self.previous


def days_window(*, days: int, today: dt.date | None = None) -> list[Day]:
    today = today or timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    rows = DailyStat.objects.filter(day__gte=first, day__lte=today)
    totals: dict[dt.date, DailyStat] = {}
    channels: dict[dt.date, dict[str, int]] = defaultdict(dict)
    for row in rows:
        if row.channel == ALL_CHANNELS:
            totals[row.day] = row
        else:
            channels[row.day][row.channel] = row.questions
    series = []
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        total = totals.get(day)
        series.append(Day(
            day=day, by_channel=channels.get(day, {}), questions=total.questions if total else 0,
            refused=total.refused if total else 0, rated_down=total.rated_down if total else 0,
            ttft_p50_ms=total.ttft_p50_ms if total else None,
            ttft_p95_ms=total.ttft_p95_ms if total else None))
    return series


def cited_pages(*, days: int, limit: int = 10, today: dt.date | None = None) -> list[dict]:
    today = today or timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    rows = (DailyPageCitation.objects.filter(day__gte=first, day__lte=today)
            .values("url").annotate(total=Sum("count")).order_by("-total", "url")[:limit])
    titles = dict(DailyPageCitation.objects.filter(url__in=[r["url"] for r in rows])
                  .exclude(title="").values_list("url", "title"))
    return [{"url": r["url"], "title": titles.get(r["url"], ""), "count": r["total"]} for r in rows]


def never_cited_pages(*, days: int, limit: int = 50, today: dt.date | None = None) -> list[dict]:
    """Indexed pages no complete answer cited in the window (the docs nobody is sent to)."""
    today = today or timezone.localdate()
    first = today - dt.timedelta(days=days - 1)
    cited = set(DailyPageCitation.objects.filter(day__gte=first, day__lte=today)
                .values_list("url", flat=True).distinct())
    pages = []
    for url, title in IndexedPage.objects.order_by("url").values_list("url", "title"):
        if page_url(url) not in cited:
            pages.append({"url": url, "title": title})
    return pages[:limit]


def topic_rows(*, status: str | None = GapTopic.Status.OPEN, since: dt.datetime | None = None,
               examples: int = 3, limit: int = 50, now: dt.datetime | None = None) -> list[TopicRow]:
    now = now or timezone.now()
    recent_from = now - dt.timedelta(days=TREND_DAYS)
    previous_from = recent_from - dt.timedelta(days=TREND_DAYS)
    topics = GapTopic.objects.all()
    if status:
        topics = topics.filter(status=status)
    if since is not None:
        topics = topics.filter(last_asked_at__gte=since)
    topics = topics.annotate(
        recent=Count("questions", filter=Q(questions__asked_at__gte=recent_from)),
        previous=Count("questions", filter=Q(questions__asked_at__gte=previous_from,
                                             questions__asked_at__lt=recent_from)),
    ).order_by("-size", "-last_asked_at")[:limit]
    rows = [TopicRow(topic=t, recent=t.recent, previous=t.previous) for t in topics]
    for row in rows:
        texts = (GapQuestion.objects.filter(topic=row.topic).exclude(text="")
                 .order_by("-asked_at").values_list("text", flat=True)[:examples * 3])
        seen: list[str] = []
        for text in texts:  # distinct examples, newest first
            if text not in seen:
                seen.append(text)
            if len(seen) == examples:
                break
        row.examples = seen
    return rows
