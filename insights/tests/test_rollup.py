"""The aggregate tables and gap topics follow the chat history exactly, however often they run."""

import datetime as dt

import pytest

from django.utils import timezone

from chat.models import ChatMessage, ChatSession
from chat.tests.transcript_factory import make_exchange, make_session, source
from insights.models import DailyPageCitation, DailyStat, GapQuestion, GapTopic
from insights.rollup import insights_rollup, percentile, topic_mark_fixed

pytestmark = pytest.mark.django_db


def stat(day, channel="*"):
    return DailyStat.objects.get(day=day, channel=channel)


def test_percentile_is_nearest_rank():
    assert percentile([], 0.5) is None
    assert percentile([300, 100, 200], 0.5) == 200
    assert percentile(list(range(1, 101)), 0.95) == 95


def test_a_day_counts_questions_refusals_ratings_and_latency_per_channel_and_overall():
    today = timezone.localdate()
    widget, chatkit = make_session(), make_session(channel=ChatSession.Channel.CHATKIT)
    make_exchange(widget, "install?", ttft_ms=100, rating="up")
    make_exchange(widget, "payroll?", refused=True, ttft_ms=300, rating="down")
    make_exchange(chatkit, "upgrade?", ttft_ms=200)

    insights_rollup()

    assert (stat(today).questions, stat(today).refused) == (3, 1)
    assert (stat(today).rated_up, stat(today).rated_down) == (1, 1)
    assert (stat(today).ttft_p50_ms, stat(today).ttft_p95_ms) == (200, 300)
    assert stat(today, "widget").questions == 2
    assert stat(today, "chatkit").questions == 1


def test_running_twice_counts_nothing_twice():
    make_exchange(make_session(), "install?")

    insights_rollup()
    insights_rollup()

    assert stat(timezone.localdate()).questions == 1
    assert DailyPageCitation.objects.get().count == 1


def test_citations_count_pages_once_per_answer_without_anchors_and_skip_refusals():
    session = make_session()
    cites = [source(1, "Install", "https://docs.test/docs/install#npm"),
             source(2, "Install", "https://docs.test/docs/install/#yarn")]
    make_exchange(session, "install?", sources=cites)
    make_exchange(session, "weather?", refused=True, sources=[source(1, "FAQ", "https://docs.test/docs/faq")])

    insights_rollup()

    rows = list(DailyPageCitation.objects.values_list("url", "count"))
    assert rows == [("https://docs.test/docs/install", 1)]


def test_refused_questions_are_filed_under_topics_with_their_text():
    session = make_session()
    make_exchange(session, "How do I record a Cypress video?", refused=True)
    make_exchange(session, "cypress video of failed specs", refused=True)
    make_exchange(session, "SAML single sign-on with Okta?", refused=True)
    make_exchange(session, "install?")

    result = insights_rollup()

    assert result.gap_questions == 3
    topics = {t.label.split(", ")[0]: t for t in GapTopic.objects.all()}
    assert len(topics) == 2
    cypress = next(t for t in GapTopic.objects.all() if "cypress" in t.label)
    assert cypress.size == 2
    assert set(cypress.questions.values_list("text", flat=True)) == {
        "How do I record a Cypress video?", "cypress video of failed specs"}


def test_an_answer_rated_down_after_a_run_is_filed_at_the_next_one():
    question, answer = make_exchange(make_session(), "How do I shard tests across machines?")
    insights_rollup()
    assert not GapQuestion.objects.exists()

    answer.rating, answer.rated_at = ChatMessage.Rating.DOWN, timezone.now() + dt.timedelta(seconds=1)
    answer.save(update_fields=["rating", "rated_at"])
    insights_rollup(now=timezone.now() + dt.timedelta(seconds=2))

    gap = GapQuestion.objects.get()
    assert (gap.message_id, gap.reason) == (question.pk, GapQuestion.Reason.DOWN)
    assert stat(timezone.localdate()).rated_down == 1


def test_a_pending_answer_is_read_once_it_finishes():
    question, answer = make_exchange(make_session(), "Does it run on Windows XP?",
                                     status=ChatMessage.Status.PENDING)
    insights_rollup()

    answer.status, answer.refused = ChatMessage.Status.COMPLETE, True
    answer.save(update_fields=["status", "refused"])
    insights_rollup()

    assert GapQuestion.objects.get().message_id == question.pk


def test_questions_after_a_topic_is_marked_fixed_are_counted_apart():
    session = make_session()
    make_exchange(session, "cypress video recording", refused=True,
                  at=timezone.now() - dt.timedelta(hours=2))
    insights_rollup()
    topic = topic_mark_fixed(topic=GapTopic.objects.get(), now=timezone.now() - dt.timedelta(hours=1))

    make_exchange(session, "record a cypress video", refused=True)
    insights_rollup()

    topic.refresh_from_db()
    assert (topic.size, topic.size_after_fix, topic.status) == (2, 1, "fixed")
    assert GapQuestion.objects.filter(after_fix=True).count() == 1


def test_days_without_new_messages_are_left_alone():
    old = timezone.now() - dt.timedelta(days=10)
    make_exchange(make_session(days_ago=10), "old question", at=old)
    insights_rollup()
    DailyStat.objects.filter(day=timezone.localdate(old)).update(questions=99)

    insights_rollup()

    assert stat(timezone.localdate(old)).questions == 99  # not recomputed: nothing changed
