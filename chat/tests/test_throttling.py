"""Rate limits (DRF throttles per IP, per session, for history) and daily token budgets."""

import pytest

from chat import budgets, services
from chat.models import ChatMessage

from .conftest import chat_completion_calls

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        base = {"chat_ip": "1000/min", "chat_session": "1000/min", "history": "1000/min"}
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**base, **rates},
        }

    return set_rates


@pytest.fixture
def num_proxies(settings):
    def set_num_proxies(n):
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": n}

    return set_num_proxies



def post(api, payload, **meta):
    return api.post("/chat", payload, format="json", **meta)


def test_chat_ip_limit_gives_429_json_with_retry_after(api, rates):
    rates(chat_ip="2/min")
    assert post(api, {"message": "one"}).status_code == 200
    assert post(api, {"message": "two"}).status_code == 200
    response = post(api, {"message": "three"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert response.json()["error"]["code"] == "rate_limited"
    assert ChatMessage.objects.filter(role="user").count() == 2


def test_spoofed_forwarded_for_does_not_give_a_fresh_bucket_without_proxies(api, rates):
    rates(chat_ip="1/min")
    assert post(api, {"message": "one"}, HTTP_X_FORWARDED_FOR="10.0.0.1").status_code == 200
    response = post(api, {"message": "two"}, HTTP_X_FORWARDED_FOR="10.0.0.2")
    assert response.status_code == 429


def test_behind_one_proxy_the_address_the_proxy_saw_is_the_bucket(api, rates, num_proxies):
    rates(chat_ip="1/min")
    num_proxies(1)
    # The proxy appends the address it saw; anything before it is the client's own claim.
    first = post(api, {"message": "one"}, HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9")
    spoofed = post(api, {"message": "two"}, HTTP_X_FORWARDED_FOR="2.2.2.2, 203.0.113.9")
    other_client = post(api, {"message": "three"}, HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert first.status_code == 200
    assert spoofed.status_code == 429
    assert other_client.status_code == 200


def test_chat_session_limit_counts_per_session(api, rates):
    rates(chat_session="1/min")
    _, mine = services.session_create()
    _, theirs = services.session_create()
    assert post(api, {"message": "one", "session_id": mine}).status_code == 200
    limited = post(api, {"message": "two", "session_id": mine})
    assert limited.status_code == 429
    assert limited["Retry-After"]
    assert post(api, {"message": "three", "session_id": theirs}).status_code == 200


def test_history_limit_also_slows_down_guessing_session_ids(api, rates):
    from chat import tokens

    rates(history="2/min")
    assert api.get(f"/chat/history/{tokens.new_token()}").status_code == 404
    assert api.get(f"/chat/history/{tokens.new_token()}").status_code == 404
    response = api.get(f"/chat/history/{tokens.new_token()}")
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"


def test_feedback_and_append_share_the_history_limit(api, rates):
    rates(history="1/min")
    _, token = services.session_create()
    assert api.post("/chat/history", {"session_id": token, "messages": [
        {"role": "user", "content": "x"}]}, format="json").status_code == 201
    response = api.post("/chat/feedback", {"session_id": token, "message_id": 1, "rating": "up"},
                        format="json")
    assert response.status_code == 429


@pytest.mark.django_db(transaction=True)
def test_session_budget_is_checked_before_calling_the_llm(api, llm_answers, settings):
    settings.CHAT_SESSION_DAILY_TOKENS = 1
    first = post(api, {"message": "How do I install the tool?", "client_message_id": "b1"})
    assert first.status_code == 200
    token = first.json()["session_id"]
    assert budgets.budget_used(session_hash=services.tokens.hash_token(token))["session"] > 1
    calls = chat_completion_calls(llm_answers)

    response = post(api, {"message": "And upgrade it?", "session_id": token})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "session_token_budget_exceeded"
    assert int(response["Retry-After"]) >= 1
    assert chat_completion_calls(llm_answers) == calls
    assert ChatMessage.objects.filter(role="user").count() == 1

    # A replay of a stored answer costs nothing and still works.
    replay = post(api, {"message": "How do I install the tool?", "client_message_id": "b1",
                        "session_id": token})
    assert replay.status_code == 200
    assert replay.json()["replayed"] is True
    # Another visitor is not affected by this session's budget.
    assert post(api, {"message": "How do I install the tool?"}).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_global_budget_stops_every_session(api, llm_answers, settings):
    settings.CHAT_GLOBAL_DAILY_TOKENS = 1
    assert post(api, {"message": "How do I install the tool?"}).status_code == 200
    calls = chat_completion_calls(llm_answers)
    response = post(api, {"message": "Where is the configuration reference?"})
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "global_token_budget_exceeded"
    assert chat_completion_calls(llm_answers) == calls


def test_offline_answers_spend_no_budget(api):
    response = post(api, {"message": "How do I install the tool?"})
    token = response.json()["session_id"]
    used = budgets.budget_used(session_hash=services.tokens.hash_token(token))
    assert used == {"global": 0, "session": 0}


def test_budget_spend_adds_up_per_day():
    budgets.budget_spend(session_hash="a" * 64, tokens=10)
    budgets.budget_spend(session_hash="a" * 64, tokens=5)
    budgets.budget_spend(session_hash="b" * 64, tokens=1)
    assert budgets.budget_used(session_hash="a" * 64) == {"global": 16, "session": 15}
