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
