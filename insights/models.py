"""Aggregates the dashboard reads instead of scanning ``chat_history`` on each page view.

``DailyStat`` and ``DailyPageCitation`` are recomputed per day by ``insights.rollup`` for the
days that changed since the last run; ``GapTopic`` / ``GapQuestion`` hold the questions the
docs failed (refused or rated down), grouped into topics by ``insights.clustering``.
"""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DailyStat(models.Model):
    day = models.DateField(_("day"))
    channel = models.CharField(_("channel"), max_length=16)
    questions = models.PositiveIntegerField(_("questions"), default=0)
    refused = models.PositiveIntegerField(_("refused"), default=0)
    rated_up = models.PositiveIntegerField(_("thumbs up"), default=0)
    rated_down = models.PositiveIntegerField(_("thumbs down"), default=0)
    ttft_count = models.PositiveIntegerField(_("answers timed"), default=0)
    ttft_p50_ms = models.PositiveIntegerField(_("first text p50 (ms)"), null=True, blank=True)
    ttft_p95_ms = models.PositiveIntegerField(_("first text p95 (ms)"), null=True, blank=True)

    class Meta:
        verbose_name = _("daily statistic")
        verbose_name_plural = _("daily statistics")
        ordering = ["day", "channel"]
        constraints = [
            models.UniqueConstraint(fields=["day", "channel"], name="insights_dailystat_unique_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.channel}: {self.questions} questions"


class DailyPageCitation(models.Model):
    day = models.DateField(_("day"))
    url = models.CharField(_("page URL"), max_length=1000)
    title = models.CharField(_("title"), max_length=500, blank=True)
    count = models.PositiveIntegerField(_("answers citing it"), default=0)

    class Meta:
        verbose_name = _("daily page citation")
        verbose_name_plural = _("daily page citations")
        ordering = ["day", "url"]
        constraints = [
            models.UniqueConstraint(fields=["day", "url"], name="insights_citation_unique_day_url"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.url}: {self.count}"


class RollupState(models.Model):
    """One row: how far ``insights.rollup`` has read (by message id and by rating time)."""

    last_message_id = models.BigIntegerField(_("last message id read"), default=0)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)

    class Meta:
        verbose_name = _("rollup state")
        verbose_name_plural = _("rollup state")

    def __str__(self) -> str:
        return f"rollup up to message {self.last_message_id}"


class GapTopic(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        FIXED = "fixed", _("Fixed in docs")

    label = models.CharField(_("label"), max_length=200)
    # term → number of the topic's questions containing it (the lexical centroid).
    terms = models.JSONField(_("terms"), default=dict, blank=True)
    size = models.PositiveIntegerField(_("questions"), default=0)
    size_after_fix = models.PositiveIntegerField(_("questions since fixed"), default=0)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    fixed_at = models.DateTimeField(_("fixed in docs at"), null=True, blank=True)
    # [{"title", "url", "heading", "score"}] the index found nearest to the topic.
    nearest_pages = models.JSONField(_("nearest pages"), default=list, blank=True)
    created_at = models.DateTimeField(_("first asked"), default=timezone.now)
    last_asked_at = models.DateTimeField(_("last asked"), default=timezone.now)

    class Meta:
        verbose_name = _("gap topic")
        verbose_name_plural = _("gap topics")
        ordering = ["-size", "-last_asked_at"]

    def __str__(self) -> str:
        return self.label


class GapQuestion(models.Model):
    class Reason(models.TextChoices):
        REFUSED = "refused", _("Not covered by the docs")
        DOWN = "down", _("Thumbs down")

    topic = models.ForeignKey(
        GapTopic, on_delete=models.CASCADE, related_name="questions", verbose_name=_("topic")
    )
    # The user question; NULL once its session is deleted (the count stays).
    message = models.OneToOneField(
        "chat.ChatMessage", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="gap", verbose_name=_("question"),
    )
    text = models.TextField(_("question text"), blank=True)  # blanked after CHAT_TRANSCRIPT_DAYS
    reason = models.CharField(_("reason"), max_length=8, choices=Reason.choices)
    channel = models.CharField(_("channel"), max_length=16, blank=True)
    asked_at = models.DateTimeField(_("asked"))
    after_fix = models.BooleanField(_("asked after the topic was fixed"), default=False)

    class Meta:
        verbose_name = _("gap question")
        verbose_name_plural = _("gap questions")
        ordering = ["-asked_at"]
        indexes = [models.Index(fields=["topic", "asked_at"], name="insights_gapq_topic_asked")]

    def __str__(self) -> str:
        return self.text[:80] or f"question {self.pk}"
