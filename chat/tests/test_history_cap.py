"""One history cap (``CHAT_HISTORY_TURNS`` / ``CHAT_HISTORY_MAX_TOKENS``) decides how much of
the conversation the model sees: in the answer prompt and in the query rewrite alike."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)


def converse(api, turns: int) -> list[dict]:
    """``turns`` exchanges in one session, then one more question; the fake LLM's requests."""
    token = None
    for i in range(turns + 1):
        payload = {"message": f"And what about option number {i}?"}
        if token:
            payload["session_id"] = token
        response = api.post("/chat", payload, format="json")
        assert response.status_code == 200, response.content
        token = response.json()["session_id"]


def last_answer_history(fake) -> list[dict]:
    answers = [r["body"] for r in fake.requests if r["body"].get("stream")]
    return answers[-1]["messages"][1:-1]  # between the system prompt and the question


def last_rewrite_transcript(fake) -> str:
    rewrites = [r["body"] for r in fake.requests
                if r["path"].endswith("/chat/completions") and not r["body"].get("stream")]
    return rewrites[-1]["messages"][-1]["content"]


@pytest.mark.parametrize("turns", [2, 5])
def test_model_sees_as_many_earlier_turns_as_chat_history_turns_allows(api, llm_answers, settings, turns):
    settings.CHAT_HISTORY_TURNS = turns
    llm_answers.reply = "Short answer."
    converse(api, 7)
    history = last_answer_history(llm_answers)
    assert len(history) == 2 * turns
    assert history[-2]["content"] == "And what about option number 6?"
    transcript = last_rewrite_transcript(llm_answers)
    assert transcript.count("user: ") == turns
    assert f"option number {6 - turns}?" not in transcript
    assert f"option number {7 - turns}?" in transcript


def test_token_budget_keeps_only_the_newest_turns_that_fit(api, llm_answers, settings):
    settings.CHAT_HISTORY_TURNS = 8
    settings.CHAT_HISTORY_MAX_TOKENS = 26  # an exchange here is 8 + 4 estimated tokens
    llm_answers.reply = "Short answer."
    converse(api, 6)
    history = last_answer_history(llm_answers)
    assert len(history) == 4
    assert history[-2]["content"] == "And what about option number 5?"
