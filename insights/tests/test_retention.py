"""After CHAT_TRANSCRIPT_DAYS only counts and topic labels remain."""

import datetime as dt

import pytest

from django.core.management import CommandError, call_command
from django.utils import timezone

from chat.models import ChatMessage, ChatSession
from chat.tests.transcript_factory import make_exchange, make_session
from insights.models import DailyStat, GapQuestion, GapTopic

pytestmark = pytest.mark.django_db


def test_retention_blanks_old_text_but_keeps_counts_and_topics(settings):
    settings.CHAT_TRANSCRIPT_DAYS = 30
    old_at = timezone.now() - dt.timedelta(days=40)
    old = make_session(days_ago=40, title="Cypress videos")
    make_exchange(old, "How do I record a Cypress video?", refused=True, at=old_at, comment="meh")
    recent = make_session()
    make_exchange(recent, "How do I install it?")

    call_command("rollup_insights")

    assert set(ChatMessage.objects.filter(session=old).values_list("content", flat=True)) == {""}
    assert ChatMessage.objects.filter(session=old, rating_comment="").count() == 2
    assert ChatSession.objects.get(pk=old.pk).title == ""
    assert ChatMessage.objects.filter(session=recent, content="How do I install it?").exists()
    assert DailyStat.objects.get(day=timezone.localdate(old_at), channel="*").questions == 1
    assert GapQuestion.objects.get().text == ""
    assert "cypress" in GapTopic.objects.get().label


def test_retention_must_be_a_positive_number_of_days(settings):
    settings.CHAT_TRANSCRIPT_DAYS = 0

    with pytest.raises(CommandError, match="CHAT_TRANSCRIPT_DAYS"):
        call_command("rollup_insights")
