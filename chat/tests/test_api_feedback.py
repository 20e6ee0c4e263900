"""Contract tests of ``POST /chat/feedback``: only the session's holder rates its answers."""

import pytest

from chat import services, tokens
from chat.models import ChatMessage

pytestmark = pytest.mark.django_db


@pytest.fixture
def answered():
    """A session with one question and its complete answer: ``(token, question, answer)``."""
    session, token = services.session_create()
    question, _ = services.message_create_user(session=session, content="How?")
    answer, _ = services.message_claim_answer(question=question)
    services.message_finish(message=answer, status="complete", content="Like this.")
    return token, question, answer


def rate(api, **payload):
    return api.post("/chat/feedback", payload, format="json")


def test_holder_rates_an_answer(api, answered):
    token, _, answer = answered
    response = rate(api, session_id=token, message_id=answer.id, rating="up")
    assert response.status_code == 200
    body = response.json()
    assert body["message_id"] == answer.id
    assert body["rating"] == "up"
    assert body["comment"] == ""
    assert body["rated_at"]
    answer.refresh_from_db()
    assert answer.rating == "up"


def test_rating_again_replaces_the_rating_and_comment(api, answered):
    token, _, answer = answered
    rate(api, session_id=token, message_id=answer.id, rating="up", comment="nice")
    response = api.post("/chat/feedback/", {"session_id": token, "message_id": answer.id,
                                            "rating": "down", "comment": "wrong version"},
                        format="json")
    assert response.status_code == 200
    answer.refresh_from_db()
    assert (answer.rating, answer.rating_comment) == ("down", "wrong version")


def test_another_sessions_holder_cannot_rate_your_answer(api, answered):
    _, _, answer = answered
    _, other_token = services.session_create()
    response = rate(api, session_id=other_token, message_id=answer.id, rating="down")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "message_not_found"
    answer.refresh_from_db()
    assert answer.rating is None


def test_questions_cannot_be_rated(api, answered):
    token, question, _ = answered
    response = rate(api, session_id=token, message_id=question.id, rating="up")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "not_an_answer", "field": "message_id",
        "message": "Only answers (assistant messages) can be rated.",
    }


def test_unknown_session_is_404(api, answered):
    _, _, answer = answered
    response = rate(api, session_id=tokens.new_token(), message_id=answer.id, rating="up")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "session_not_found"


def test_unknown_message_is_404(api, answered):
    token, _, answer = answered
    assert rate(api, session_id=token, message_id=answer.id + 100, rating="up").status_code == 404


@pytest.mark.parametrize("change,field", [
    ({"rating": "meh"}, "rating"),
    ({"rating": None}, "rating"),
    ({"message_id": "x"}, "message_id"),
    ({"message_id": 0}, "message_id"),
    ({"session_id": "short"}, "session_id"),
    ({"comment": "x" * 2001}, "comment"),
    ({"comment": "a\x00"}, "comment"),
    ({"comment": 5}, "comment"),
])
def test_bad_feedback_is_400_naming_the_field(api, answered, change, field):
    token, _, answer = answered
    payload = {"session_id": token, "message_id": answer.id, "rating": "up", **change}
    response = api.post("/chat/feedback", payload, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["field"] == field
    assert ChatMessage.objects.get(pk=answer.pk).rating is None


def test_feedback_is_503_when_the_database_is_down(api, answered, database):
    token, _, answer = answered
    database.down()
    response = rate(api, session_id=token, message_id=answer.id, rating="up")
    assert response.status_code == 503
    assert response["Retry-After"]
