"""``chat.turns`` on its own database threads (``CHAT_DB_THREADS`` automatic, as in
production; the rest of the suite uses Django's shared thread so its test transactions
stay visible): many turns at once, the one-writer SQLite case, and a retry after a lost
COMMIT adopting the rows that attempt stored."""

import asyncio

import pytest
from asgiref.sync import sync_to_async

from chat import services, tokens, turns
from chat.exceptions import AnswerInProgress
from chat.models import ChatMessage, ChatSession

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _own_database_threads(settings):
    settings.CHAT_DB_THREADS = None
    yield
    turns._executor = None


async def _answer(turn) -> dict:
    return {event.name: event.payload() async for event in turns.turn_events(turn)}


def test_sqlite_has_one_writer_thread_and_postgresql_one_per_pooled_connection(settings):
    from django.db import connection

    expected = 1
    if connection.vendor == "postgresql":
        pool = connection.settings_dict["OPTIONS"].get("pool")
        expected = pool["max_size"] if isinstance(pool, dict) else 8
    assert turns._db_threads() == expected
    settings.CHAT_DB_THREADS = 3
    assert turns._db_threads() == 3


async def test_many_new_visitors_at_once_each_get_a_session_question_and_answer(llm_answers):
    started = await asyncio.gather(*(turns.turn_prepare(message=f"question {n}?") for n in range(12)))
    assert all(turn.storage_ok and turn.session_created for turn in started)
    finished = await asyncio.gather(*(_answer(turn) for turn in started))
    assert [events.get("error") for events in finished] == [None] * 12
    assert all(events["done"]["history_saved"] for events in finished)
    assert await sync_to_async(ChatSession.objects.count)() == 12
    statuses = await sync_to_async(
        lambda: sorted(set(ChatMessage.objects.values_list("role", "status"))))()
    assert statuses == [("assistant", "complete"), ("user", "complete")]
    assert await sync_to_async(ChatMessage.objects.count)() == 24


async def test_a_follow_up_stores_its_turn_touches_the_session_and_sees_history(llm_answers):
    first = await turns.turn_prepare(message="How do I install it?", client_message_id="c1")
    await _answer(first)
    before = await sync_to_async(lambda: ChatSession.objects.get().last_active_at)()
    follow = await turns.turn_prepare(message="And then?", session_id=first.token,
                                    client_message_id="c2")
    assert not follow.session_created and follow.question.reply_to_id is None
    assert [m["content"] for m in follow.history][:1] == ["How do I install it?"]
    assert await sync_to_async(lambda: ChatSession.objects.get().last_active_at)() > before
    await _answer(follow)
    replay = await turns.turn_prepare(message="And then?", session_id=first.token,
                                    client_message_id="c2")
    assert replay.replay and replay.answer.id == follow.answer.id


async def test_a_duplicate_while_the_first_is_answering_is_still_in_progress(llm_answers):
    first = await turns.turn_prepare(message="Is it busy?", client_message_id="dup")
    with pytest.raises(AnswerInProgress):
        await turns.turn_prepare(message="Is it busy?", session_id=first.token,
                               client_message_id="dup")
    await _answer(first)


def test_a_retry_after_a_lost_commit_adopts_the_rows_that_attempt_stored(transactional_db):
    """The COMMIT reached the database but its reply did not (the connection broke): the
    retry finds the attempt's answer row and takes the whole attempt instead of answering
    409 to its own row or creating a second session."""
    turn = turns.ChatTurn(text="Was it stored?")
    turns._prepare(turn, "lost-commit", "widget", None)
    stored = (turn.session.pk, turn.question.pk, turn.answer.pk, turn.token)
    retry = turns.ChatTurn(text="Was it stored?")
    retry.attempt = {"session": turn.session, "token": turn.token, "created": True,
                     "question": turn.question, "answer": turn.answer, "history": []}
    turns._prepare(retry, "lost-commit", "widget", None)
    assert (retry.session.pk, retry.question.pk, retry.answer.pk, retry.token) == stored
    assert retry.session_created and not retry.replay
    assert ChatSession.objects.count() == 1 and ChatMessage.objects.count() == 2


def test_a_retry_after_a_rolled_back_attempt_stores_the_turn_afresh(transactional_db):
    session, token = services.session_create()
    ghost = ChatMessage(pk=10**9, session=session, role=ChatMessage.Role.ASSISTANT)
    turn = turns.ChatTurn(text="Again?", token=token, session_hash=tokens.hash_token(token))
    turn.attempt = {"session": session, "token": token, "created": False, "question": None,
                    "answer": ghost, "history": []}
    turns._prepare(turn, "again", "widget", None)
    assert turn.answer.pk != ghost.pk and turn.answer.status == ChatMessage.Status.PENDING
    assert ChatMessage.objects.filter(session=session).count() == 2
