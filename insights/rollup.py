"""Keeps the dashboard's aggregate tables and gap topics up to date (the only writer here).

``insights_rollup`` reads only what changed since its last run: messages with a higher id
than it has seen (the primary-key index) and answers rated since then (an index on
``rated_at``). It recomputes the figures of each day those touch with a few aggregate
queries over a ``created_at`` range, so a day's figures are always exact, never incremented
twice; cited pages are added once per answer as the watermark passes it. Answers still
``pending`` hold the watermark back, so their outcome is read once they finish.

Run it hourly (``manage.py rollup_insights``); the dashboard also runs it when it is stale.
"""

import datetime as dt
import functools
import logging
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from urllib.parse import urldefrag

from django.db import transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from chat.models import ChatMessage

from . import clustering
from .models import DailyPageCitation, DailyStat, GapQuestion, GapTopic, RollupState

logger = logging.getLogger(__name__)

ALL_CHANNELS = "*"
NEAREST_PAGES = 3
Role, Status, Origin, Rating = (ChatMessage.Role, ChatMessage.Status, ChatMessage.Origin,
                                ChatMessage.Rating)


@dataclass(frozen=True)
class RollupResult:
    days: int
    gap_questions: int
    new_topics: int
    last_message_id: int


def percentile(values: list[int], share: float) -> int | None:
    """Nearest-rank percentile (the value below which ``share`` of the values fall)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    return start, start + dt.timedelta(days=1)


def _local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


@functools.lru_cache(maxsize=4096)  # a site has few pages; answers cite them over and over
def page_url(url: str) -> str:
    """A source URL without its anchor or trailing slash: one row per page."""
    return urldefrag(url or "")[0].rstrip("/")


def _day_stats(day: dt.date) -> list[DailyStat]:
    """The day's figures per channel and overall, aggregated by the database.

    A question's channel is on the question row; an answer's is its question's.
    """
    start, end = day_bounds(day)
    in_day = ChatMessage.objects.filter(created_at__gte=start, created_at__lt=end,
                                        origin=Origin.SERVER).order_by()
    questions = Counter(dict(in_day.filter(role=Role.USER).values_list("channel")
                             .annotate(n=Count("id")).values_list("channel", "n")))
    answers = in_day.filter(role=Role.ASSISTANT)
    counted = answers.values("reply_to__channel").annotate(
        refused=Count("id", filter=Q(refused=True)),
        up=Count("id", filter=Q(rating=Rating.UP)),
        down=Count("id", filter=Q(rating=Rating.DOWN)))
    totals = {row["reply_to__channel"] or "": row for row in counted}
    ttft: dict[str, list[int]] = defaultdict(list)
    for channel, ttft_ms in answers.filter(ttft_ms__isnull=False).values_list(
            "reply_to__channel", "ttft_ms"):
        ttft[channel or ""].append(ttft_ms)
    channels = sorted((set(questions) | set(totals) | set(ttft)) - {None})
    empty = {"refused": 0, "up": 0, "down": 0}
    rows = []
    for channel in channels:
        total = totals.get(channel, empty)
        rows.append(DailyStat(
            day=day, channel=channel or "unknown", questions=questions[channel],
            refused=total["refused"], rated_up=total["up"], rated_down=total["down"],
            ttft_count=len(ttft[channel]), ttft_p50_ms=percentile(ttft[channel], 0.50),
            ttft_p95_ms=percentile(ttft[channel], 0.95)))
    every = [v for values in ttft.values() for v in values]
    rows.append(DailyStat(
        day=day, channel=ALL_CHANNELS, questions=sum(questions.values()),
        refused=sum(t["refused"] for t in totals.values()), rated_up=sum(t["up"] for t in totals.values()),
        rated_down=sum(t["down"] for t in totals.values()), ttft_count=len(every),
        ttft_p50_ms=percentile(every, 0.50), ttft_p95_ms=percentile(every, 0.95)))
    return rows


def _count_citations(*, after_id: int, up_to_id: int) -> None:
    """Add the pages cited by answers completed in (after_id, up_to_id] to their day's counts.

    Each answer is read once: it is complete (never pending) by the time the watermark passes
    it, and a complete answer's sources never change. Refused answers cite nothing.
    """
    answers = ChatMessage.objects.filter(
        id__gt=after_id, id__lte=up_to_id, role=Role.ASSISTANT, origin=Origin.SERVER,
        status=Status.COMPLETE, refused=False).order_by()
    counts: Counter = Counter()
    titles: dict[str, str] = {}
    for created_at, sources in answers.values_list("created_at", "sources").iterator(chunk_size=2000):
        day = _local_day(created_at)
        urls = set()
        for source in sources or []:
            if not isinstance(source, dict):
                continue
            url = page_url(str(source.get("url", "")))[:1000]
            if url:
                urls.add(url)
                if source.get("title"):
                    titles.setdefault(url, str(source["title"])[:500])
        counts.update((day, url) for url in urls)
    if not counts:
        return
    existing = {(row.day, row.url): row for row in DailyPageCitation.objects.filter(
        day__in={day for day, _ in counts}, url__in={url for _, url in counts})}
    changed, new = [], []
    for (day, url), n in counts.items():
        row = existing.get((day, url))
        if row is None:
            new.append(DailyPageCitation(day=day, url=url, title=titles.get(url, ""), count=n))
        else:
            row.count += n
            changed.append(row)
    DailyPageCitation.objects.bulk_create(new, batch_size=500)
    DailyPageCitation.objects.bulk_update(changed, ["count"], batch_size=500)


def _touched_days(state: RollupState) -> set[dt.date]:
    days: set[dt.date] = set()
    new = ChatMessage.objects.filter(id__gt=state.last_message_id).values_list("created_at", flat=True)
    days.update(_local_day(moment) for moment in new.order_by().iterator(chunk_size=5000))
    if state.last_run_at is not None:
        rated = ChatMessage.objects.filter(rated_at__gte=state.last_run_at)
        days.update(_local_day(moment) for moment in rated.values_list("created_at", flat=True))
    return days


def _new_gaps(state: RollupState) -> list[tuple[ChatMessage, str]]:
    """(user question, reason) for answers refused or rated down since the last run."""
    answers = ChatMessage.objects.filter(role=Role.ASSISTANT, reply_to__isnull=False,
                                         reply_to__gap__isnull=True)
    refused = answers.filter(id__gt=state.last_message_id, refused=True, status=Status.COMPLETE)
    found = {a.reply_to_id: (a, GapQuestion.Reason.REFUSED) for a in refused.select_related(
        "reply_to__session")}
    if state.last_run_at is not None:
        rated = answers.filter(rated_at__gte=state.last_run_at, rating=Rating.DOWN)
        for answer in rated.select_related("reply_to__session"):
            found.setdefault(answer.reply_to_id, (answer, GapQuestion.Reason.DOWN))
    return sorted(((a.reply_to, reason) for a, reason in found.values()), key=lambda q: q[0].id)


def _assign(gaps: list[tuple[ChatMessage, str]], weight: clustering.Weight) -> list[GapTopic]:
    """Put each failed question in its topic; returns the topics created."""
    topics = list(GapTopic.objects.all())
    centroids = [clustering.Centroid(terms=dict(t.terms), size=t.size) for t in topics]
    created, changed, rows = [], set(), []
    for question, reason in gaps:
        terms = clustering.question_terms(question.content)
        position = clustering.best_topic(terms, centroids, weight)
        if position is None:
            topic = GapTopic(label="", created_at=question.created_at,
                             last_asked_at=question.created_at)
            topics.append(topic)
            centroids.append(clustering.Centroid())
            created.append(topic)
            position = len(topics) - 1
        topic, centroid = topics[position], centroids[position]
        centroid.add(terms)
        after_fix = bool(topic.fixed_at and question.created_at > topic.fixed_at)
        topic.terms, topic.size = centroid.terms, centroid.size
        topic.size_after_fix += after_fix
        topic.last_asked_at = max(topic.last_asked_at, question.created_at)
        topic.label = clustering.label(centroid, weight)[:200]
        if topic.pk is None:
            topic.save()
        changed.add(position)
        rows.append(GapQuestion(
            topic=topic, message=question, text=question.content, reason=reason,
            channel=question.channel or question.session.channel, asked_at=question.created_at, after_fix=after_fix))
    GapQuestion.objects.bulk_create(rows, batch_size=500)
    for position in changed:
        topics[position].save(update_fields=["terms", "size", "size_after_fix", "last_asked_at",
                                             "label"])
    return created


def nearest_pages(query: str, k: int = NEAREST_PAGES) -> list[dict]:
    """The pages the docs index finds for a topic; empty when the index cannot be read."""
    from rag.exceptions import RetrievalUnavailable
    from rag.retrieval import search

    try:
        hits = search(query=query, k=k * 4).hits
    except RetrievalUnavailable as exc:
        logger.warning("nearest pages unavailable: %s", exc)
        return []
    pages, seen = [], set()
    for hit in hits:
        key = page_url(hit.url)
        if key in seen:
            continue
        seen.add(key)
        pages.append({"title": hit.title, "heading": hit.heading, "url": hit.url,
                      "score": round(float(hit.score), 4)})
        if len(pages) == k:
            break
    return pages


def insights_rollup(*, now: dt.datetime | None = None) -> RollupResult:
    """Recompute the changed days and file new failed questions under their topics."""
    now = now or timezone.now()
    weight = clustering.index_weight()
    with transaction.atomic():
        state, _ = RollupState.objects.select_for_update().get_or_create(pk=1)
        days = _touched_days(state)
        for day in sorted(days):
            DailyStat.objects.filter(day=day).delete()
            DailyStat.objects.bulk_create(_day_stats(day))
        gaps = _new_gaps(state)
        created = _assign(gaps, weight)
        highest = ChatMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0
        pending = ChatMessage.objects.filter(
            id__gt=state.last_message_id, status=Status.PENDING).aggregate(low=Min("id"))["low"]
        watermark = max(state.last_message_id, highest if pending is None else pending - 1)
        _count_citations(after_id=state.last_message_id, up_to_id=watermark)
        state.last_message_id = watermark
        state.last_run_at = now
        state.save(update_fields=["last_message_id", "last_run_at"])
    refresh_nearest_pages(created)
    logger.info("insights rollup: %d days, %d gap questions, %d new topics",
                len(days), len(gaps), len(created))
    return RollupResult(days=len(days), gap_questions=len(gaps), new_topics=len(created),
                        last_message_id=state.last_message_id)


def refresh_nearest_pages(topics: list[GapTopic]) -> None:
    """Search the index for each topic (outside the rollup's transaction: it may be slow)."""
    for topic in topics:
        example = topic.questions.order_by("asked_at").values_list("text", flat=True).first() or ""
        topic.nearest_pages = nearest_pages(f"{example} {topic.label.replace(',', ' ')}")
        topic.save(update_fields=["nearest_pages"])


def topic_mark_fixed(*, topic: GapTopic, now: dt.datetime | None = None) -> GapTopic:
    """From now on, new questions of this topic are counted apart ("asked after the fix")."""
    topic.status = GapTopic.Status.FIXED
    topic.fixed_at = now or timezone.now()
    topic.size_after_fix = 0
    topic.save(update_fields=["status", "fixed_at", "size_after_fix"])
    return topic


def topic_reopen(*, topic: GapTopic) -> GapTopic:
    topic.status = GapTopic.Status.OPEN
    topic.save(update_fields=["status"])
    return topic
