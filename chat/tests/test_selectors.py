"""History selectors: keyset pages and the token-capped history for the prompt."""

import pytest

from chat import selectors, services

pytestmark = pytest.mark.django_db


def add_turn(session, question: str, answer: str, status: str = "complete"):
    q, _ = services.message_create_user(session=session, content=question)
    a, _ = services.message_claim_answer(question=q)
    services.message_finish(message=a, status=status, content=answer)
    return q, a


def test_history_page_returns_oldest_first_with_a_cursor():
    session, _ = services.session_create()
    made = [m for i in range(3) for m in add_turn(session, f"q{i}", f"a{i}")]
    page, cursor = selectors.history_page(session=session, limit=4)
    assert [m.id for m in page] == [m.id for m in made[:4]]
    assert cursor == made[3].id
    rest, end = selectors.history_page(session=session, after=cursor, limit=4)
    assert [m.id for m in rest] == [m.id for m in made[4:]]
    assert end is None


def test_prompt_history_is_recent_complete_turns_oldest_first():
    session, _ = services.session_create()
    add_turn(session, "first question", "first answer")
    add_turn(session, "broken question", "half an ans", status="interrupted")
    current, _ = services.message_create_user(session=session, content="current")
    history = selectors.history_for_prompt(session=session, before_id=current.id)
    assert history == [
        {"role": "user", "content": "first question", "origin": "server"},
        {"role": "assistant", "content": "first answer", "origin": "server"},
        {"role": "user", "content": "broken question", "origin": "server"},
    ]


def test_prompt_history_is_capped_in_tokens_keeping_the_newest(settings):
    settings.CHAT_HISTORY_MAX_TOKENS = 60
    session, _ = services.session_create()
    for i in range(5):
        add_turn(session, f"question {i} " + "x" * 80, f"answer {i} " + "y" * 80)
    history = selectors.history_for_prompt(session=session)
    assert sum((len(m["content"]) + 3) // 4 for m in history) <= 60
    assert history and history[-1]["content"].startswith("answer 4")
    assert len(history) == 2


def test_prompt_history_is_capped_in_turns(settings):
    settings.CHAT_HISTORY_TURNS = 1
    session, _ = services.session_create()
    for i in range(3):
        add_turn(session, f"q{i}", f"a{i}")
    assert [m["content"] for m in selectors.history_for_prompt(session=session)] == ["q2", "a2"]


def ask_times(question: str, times: int, **finish):
    """``times`` visitors each ask ``question`` in their own session."""
    answers = []
    for _ in range(times):
        session, _ = services.session_create()
        _, a = add_turn(session, question, "an answer")
        if finish:
            type(a).objects.filter(pk=a.pk).update(**finish)
        answers.append(a)
    return answers


def test_popular_questions_are_the_most_asked_answered_ones_most_asked_first(django_assert_num_queries):
    from django.core.cache import cache

    cache.clear()
    ask_times("How do I deploy?", 4)
    ask_times("How do I install it?", 3)
    ask_times("Rarely asked", 2)
    ask_times("What is the meaning of life?", 5, refused=True)
    ask_times("Broken answers", 5, status="failed")
    with django_assert_num_queries(1):
        assert selectors.popular_questions(min_asked=3) == ["How do I deploy?", "How do I install it?"]
    with django_assert_num_queries(0):  # cached
        assert selectors.popular_questions(min_asked=3) == ["How do I deploy?", "How do I install it?"]


def test_popular_questions_leave_out_old_and_overlong_questions():
    import datetime as dt

    from django.core.cache import cache
    from django.utils import timezone

    cache.clear()
    ask_times("An old favourite", 5, created_at=timezone.now() - dt.timedelta(days=31))
    ask_times("x" * 200, 5)
    ask_times("Recent", 3)
    assert selectors.popular_questions(min_asked=3) == ["Recent"]


def test_popular_questions_are_empty_until_enough_were_asked():
    from django.core.cache import cache

    cache.clear()
    ask_times("How do I deploy?", 2)
    assert selectors.popular_questions() == []
