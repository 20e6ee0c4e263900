"""``CHAT_TRANSCRIPT_DAYS``: after N days only counts and topic labels remain.

The rollup runs first, so every failed question is counted and filed under its topic before
its text goes; then chat messages, feedback comments and session titles older than the cutoff
are blanked (``chat.maintenance.transcripts_redact``) and so are the gap questions' texts.
"""

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from chat.maintenance import transcripts_redact

from .models import GapQuestion
from .rollup import insights_rollup


@dataclass(frozen=True)
class RetentionResult:
    cutoff: dt.datetime
    messages: int
    gap_questions: int


def transcripts_expire(*, days: int, now: dt.datetime | None = None) -> RetentionResult:
    if days < 1:
        raise ValueError("CHAT_TRANSCRIPT_DAYS must be at least 1")
    now = now or timezone.now()
    insights_rollup(now=now)
    cutoff = now - dt.timedelta(days=days)
    messages = transcripts_redact(before=cutoff)
    gaps = GapQuestion.objects.filter(asked_at__lt=cutoff).exclude(text="").update(text="")
    return RetentionResult(cutoff=cutoff, messages=messages, gap_questions=gaps)
