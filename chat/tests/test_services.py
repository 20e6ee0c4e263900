"""Chat history services: sessions, idempotent questions, answer claims, expiry, feedback."""

import datetime as dt
import hashlib

import pytest

from django.utils import timezone

from chat import services, tokens
from chat.exceptions import (
    AnswerInProgress,
    IdempotencyConflict,
    InvalidSession,
    MessageNotFound,
    NotAnAnswer,
    SessionNotFound,
)
from chat.models import ChatMessage, ChatSession

pytestmark = pytest.mark.django_db


def test_session_create_stores_only_the_sha256_of_a_256_bit_token():
    session, token = services.session_create(page_url="https://d.test/docs/a")
    assert tokens.is_well_formed(token)
    assert session.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert session.started_on_url == "https://d.test/docs/a"
    assert not ChatSession.objects.filter(token_hash=token).exists()


def test_ten_thousand_tokens_are_unique():
    issued = {tokens.new_token() for _ in range(10_000)}
    assert len(issued) == 10_000
    assert all(len(t) == 43 for t in issued)


def test_session_for_token_finds_touches_and_rejects():
    session, token = services.session_create()
    old = timezone.now() - dt.timedelta(days=1)
    ChatSession.objects.filter(pk=session.pk).update(last_active_at=old)
    assert services.session_for_token(token=token, touch=True).pk == session.pk
    assert ChatSession.objects.get(pk=session.pk).last_active_at > old
    with pytest.raises(InvalidSession):
        services.session_for_token(token="not-a-token")
    with pytest.raises(InvalidSession):
        services.session_for_token(token=None)
    with pytest.raises(SessionNotFound):
        services.session_for_token(token=tokens.new_token())


def test_idle_sessions_expire(settings):
    settings.CHAT_SESSION_IDLE_DAYS = 7
    session, token = services.session_create()
    ChatSession.objects.filter(pk=session.pk).update(
        last_active_at=timezone.now() - dt.timedelta(days=8))
    with pytest.raises(SessionNotFound):
        services.session_for_token(token=token)


def test_question_with_the_same_client_message_id_is_stored_once():
    session, _ = services.session_create()
    first, created = services.message_create_user(session=session, content="Q", client_message_id="c1")
    again, created_again = services.message_create_user(session=session, content="Q", client_message_id="c1")
    assert (created, created_again) == (True, False)
    assert first.pk == again.pk
    with pytest.raises(IdempotencyConflict):
        services.message_create_user(session=session, content="other", client_message_id="c1")
    other_session, _ = services.session_create()
    _, created_elsewhere = services.message_create_user(
        session=other_session, content="Q", client_message_id="c1")
    assert created_elsewhere is True


def test_questions_without_client_message_id_are_never_merged():
    session, _ = services.session_create()
    services.message_create_user(session=session, content="Q")
    services.message_create_user(session=session, content="Q")
    assert ChatMessage.objects.count() == 2


@pytest.fixture
def question():
    session, _ = services.session_create()
    message, _ = services.message_create_user(session=session, content="Q")
    return message


def test_first_claim_creates_a_pending_answer(question):
    answer, claimed = services.message_claim_answer(question=question)
    assert claimed is True
    assert (answer.status, answer.role, answer.reply_to_id) == ("pending", "assistant", question.id)


def test_a_second_claim_while_pending_is_refused(question):
    services.message_claim_answer(question=question)
    with pytest.raises(AnswerInProgress):
        services.message_claim_answer(question=question)


def test_a_complete_answer_is_returned_for_replay(question):
    answer, _ = services.message_claim_answer(question=question)
    services.message_finish(message=answer, status="complete", content="A")
    again, claimed = services.message_claim_answer(question=question)
    assert (again.pk, claimed, again.content) == (answer.pk, False, "A")


@pytest.mark.parametrize("status", ["interrupted", "failed"])
def test_an_unfinished_answer_is_reclaimed_in_the_same_row(question, status):
    answer, _ = services.message_claim_answer(question=question)
    services.message_finish(message=answer, status=status, content="part", error="x")
    again, claimed = services.message_claim_answer(question=question)
    assert claimed is True
    assert again.pk == answer.pk
    assert (again.status, again.content, again.error) == ("pending", "", "")
    assert ChatMessage.objects.filter(role="assistant").count() == 1


def test_a_stale_pending_answer_is_reclaimed(question, settings):
    settings.CHAT_PENDING_TIMEOUT_SECONDS = 60
    answer, _ = services.message_claim_answer(question=question)
    ChatMessage.objects.filter(pk=answer.pk).update(
        updated_at=timezone.now() - dt.timedelta(seconds=61))
    again, claimed = services.message_claim_answer(question=question)
    assert claimed is True and again.pk == answer.pk


def test_message_finish_stores_the_outcome(question):
    answer, _ = services.message_claim_answer(question=question)
    sources = [{"n": 1, "title": "T", "heading": "H", "url": "https://d.test/t#h", "path": "t.md"}]
    services.message_finish(message=answer, status="complete", content="A [1]", sources=sources,
                            refused=False, model="m", prompt_tokens=10, completion_tokens=3,
                            latency_ms=120, ttft_ms=40)
    stored = ChatMessage.objects.get(pk=answer.pk)
    assert (stored.status, stored.content, stored.sources, stored.model) == ("complete", "A [1]", sources, "m")
    assert (stored.prompt_tokens, stored.completion_tokens, stored.latency_ms, stored.ttft_ms) == (10, 3, 120, 40)


def test_expire_pending_fails_only_old_pending_answers(question):
    old_answer, _ = services.message_claim_answer(question=question)
    ChatMessage.objects.filter(pk=old_answer.pk).update(
        updated_at=timezone.now() - dt.timedelta(hours=2))
    fresh_question, _ = services.message_create_user(session=question.session, content="Q2")
    fresh_answer, _ = services.message_claim_answer(question=fresh_question)

    assert services.messages_expire_pending(older_than=dt.timedelta(hours=1)) == 1
    assert ChatMessage.objects.get(pk=old_answer.pk).status == "failed"
    assert ChatMessage.objects.get(pk=fresh_answer.pk).status == "pending"
    cutoff = timezone.now() + dt.timedelta(seconds=1)
    assert services.messages_expire_pending(older_than=cutoff) == 1


def test_append_client_messages_is_all_or_nothing():
    session, _ = services.session_create()
    services.messages_append_client(session=session, messages=[
        {"role": "user", "content": "a", "client_message_id": "1"}])
    with pytest.raises(IdempotencyConflict):
        services.messages_append_client(session=session, messages=[
            {"role": "user", "content": "b", "client_message_id": "2"},
            {"role": "assistant", "content": "a", "client_message_id": "1"},
        ])
    assert list(ChatMessage.objects.values_list("content", "origin")) == [("a", "client")]


def test_rating_is_limited_to_the_sessions_answers(question):
    answer, _ = services.message_claim_answer(question=question)
    rated = services.message_rate(session=question.session, message_id=answer.pk, rating="down",
                                  comment="outdated")
    assert (rated.rating, rated.rating_comment) == ("down", "outdated")
    assert rated.rated_at is not None
    with pytest.raises(NotAnAnswer):
        services.message_rate(session=question.session, message_id=question.pk, rating="up")
    stranger, _ = services.session_create()
    with pytest.raises(MessageNotFound):
        services.message_rate(session=stranger, message_id=answer.pk, rating="up")
