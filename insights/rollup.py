"""Keeps the dashboard's aggregate tables and gap topics up to date (the only writer here).

``insights_rollup`` reads only what changed since its last run: messages with a higher id
than it has seen (the primary-key index) and answers rated since then (an index on
``rated_at``). It recomputes each day those touch — plus today and yesterday, whose answers
may still have been streaming — from ``chat_history`` with a ``created_at`` range, so a day's
figures are always exact, never incremented twice. Answers still ``pending`` hold the
watermark back, so their outcome is read once they finish.

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
from django.db.models import Min
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


def _day_rows(day: dt.date) -> tuple[list[DailyStat], list[DailyPageCitation]]:
    start, end = day_bounds(day)
    in_day = ChatMessage.objects.filter(created_at__gte=start, created_at__lt=end,
                                        origin=Origin.SERVER)
    questions = Counter()
    for channel in in_day.filter(role=Role.USER).values_list("session__channel", flat=True):
        questions[channel] += 1
        questions[ALL_CHANNELS] += 1
    refused, up, down = Counter(), Counter(), Counter()
    ttft: dict[str, list[int]] = defaultdict(list)
    cited: Counter = Counter()
    titles: dict[str, str] = {}
    answers = in_day.filter(role=Role.ASSISTANT).values_list(
        "session__channel", "refused", "rating", "ttft_ms", "status", "sources")
    for channel, is_refused, rating, ttft_ms, status, sources in answers:
        for key in (channel, ALL_CHANNELS):
            refused[key] += bool(is_refused)
            up[key] += rating == Rating.UP
            down[key] += rating == Rating.DOWN
            if ttft_ms is not None:
                ttft[key].append(ttft_ms)
        if is_refused or status != Status.COMPLETE:
            continue
        for url in {page_url(s.get("url", "")) for s in sources or [] if isinstance(s, dict)} - {""}:
            cited[url] += 1
        for source in sources or []:
            if isinstance(source, dict) and source.get("title"):
                titles.setdefault(page_url(source.get("url", "")), str(source["title"])[:500])
    stats = [
        DailyStat(day=day, channel=channel, questions=questions[channel], refused=refused[channel],
                  rated_up=up[channel], rated_down=down[channel], ttft_count=len(ttft[channel]),
                  ttft_p50_ms=percentile(ttft[channel], 0.50),
                  ttft_p95_ms=percentile(ttft[channel], 0.95))
        for channel in sorted(set(questions) | set(refused) | set(ttft) | set(up) | set(down))
    ]
    citations = [DailyPageCitation(day=day, url=url[:1000], title=titles.get(url, ""), count=n)
                 for url, n in cited.items()]
    return stats, citations


def _touched_days(state: RollupState, now: dt.datetime) -> set[dt.date]:
    today = _local_day(now)
    days = {today, today - dt.timedelta(days=1)}
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
            channel=question.session.channel, asked_at=question.created_at, after_fix=after_fix))
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
        days = _touched_days(state, now)
        for day in sorted(days):
            stats, citations = _day_rows(day)
            DailyStat.objects.filter(day=day).delete()
            DailyPageCitation.objects.filter(day=day).delete()
            DailyStat.objects.bulk_create(stats)
            DailyPageCitation.objects.bulk_create(citations, batch_size=500)
        gaps = _new_gaps(state)
        created = _assign(gaps, weight)
        highest = ChatMessage.objects.order_by("-id").values_list("id", flat=True).first() or 0
        pending = ChatMessage.objects.filter(
            id__gt=state.last_message_id, status=Status.PENDING).aggregate(low=Min("id"))["low"]
        state.last_message_id = max(state.last_message_id,
                                    highest if pending is None else pending - 1)
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
