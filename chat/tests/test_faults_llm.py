"""The LLM endpoint failing: HTTP 500, 429, a timeout, a connection reset mid-stream.

Against the real ``openai`` client talking to the fake OpenAI server on 127.0.0.1. Expected
for each: a clear ``error`` event (stable code, human message, whether a retry may help), the
partial answer saved as ``interrupted`` (text already streamed) or ``failed`` (nothing
streamed), and a retry with the same ``client_message_id`` answering into the same row.
"""

import time

import pytest
from asgiref.sync import sync_to_async

from chat.models import ChatMessage
from rag import clients
from testing.openai_server import split_tokens

pytestmark = pytest.mark.django_db(transaction=True)

REPLY = "First you open the settings page, then you pick the backup schedule you want [1]."
LLM_TIMEOUT = 1.0

# fault → (how to make the fake server fail, expected code, retry_after)
FAULTS = {
    "http_500": ({"fail_with": 500}, "llm_unavailable", None),
    "http_429": ({"fail_with": 429}, "llm_rate_limited", 1),
    "timeout": ({"hang": True}, "llm_timeout", None),
    "reset_mid_stream": ({"reset_after_tokens": 4}, "llm_stream_interrupted", None),
}


@sync_to_async
def answers():
    return list(ChatMessage.objects.filter(role="assistant").order_by("id"))


@pytest.fixture
def short_llm_timeout(settings, llm_answers):
    settings.RAG_LLM_TIMEOUT = LLM_TIMEOUT
    clients.reset_clients()
    yield
    clients.reset_clients()


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_llm_failure_sends_a_clear_error_saves_the_partial_and_a_retry_works(
    ask, llm_answers, short_llm_timeout, session_token, fault
):
    setup, code, retry_after = FAULTS[fault]
    llm_answers.reply = REPLY
    for name, value in setup.items():
        setattr(llm_answers, name, value)
    payload = {"message": "How do I schedule backups?", "session_id": session_token,
               "client_message_id": f"llm-{fault}"}

    started = time.monotonic()
    response, events = await ask(payload)
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    names = [n for n, _ in events]
    assert names[:3] == ["session", "message", "sources"]
    assert names[-1] == "error" and "done" not in names
    error = dict(events)["error"]
    assert error["code"] == code
    assert error["message"] and "Traceback" not in error["message"]
    assert error["retryable"] is True
    assert error["retry_after"] == retry_after
    streamed = "".join(d["text"] for n, d in events if n == "delta")
    (answer,) = await answers()
    assert error["message_id"] == answer.id
    assert answer.error == code
    if fault == "reset_mid_stream":
        # Exactly the tokens sent before the reset, saved as an interrupted answer.
        assert streamed == "".join(split_tokens(REPLY)[:4])
        assert (answer.status, answer.content) == ("interrupted", streamed)
    else:
        assert streamed == ""
        assert (answer.status, answer.content) == ("failed", "")
    if fault == "timeout":
        assert elapsed < LLM_TIMEOUT + 10  # bounded by LLM_TIMEOUT, not the server's silence

    llm_answers.reset()
    llm_answers.reply = REPLY
    response, retry = await ask(payload)
    assert [n for n, _ in retry][-1] == "done"
    done = dict(retry)["done"]
    assert (done["message_id"], done["status"], done["replayed"]) == (answer.id, "complete", False)
    (answer,) = await answers()
    assert (answer.status, answer.error) == ("complete", "")
    assert answer.content == "".join(d["text"] for n, d in retry if n == "delta") == REPLY.replace("[1]", "")
    assert await sync_to_async(ChatMessage.objects.filter(role="user").count)() == 1


@pytest.mark.parametrize("fault", ["http_500", "http_429", "timeout"])
def test_llm_failure_in_json_mode_is_a_503_with_retry_after(api, llm_answers, short_llm_timeout, fault):
    setup, code, _ = FAULTS[fault]
    for name, value in setup.items():
        setattr(llm_answers, name, value)
    response = api.post("/chat", {"message": "How do I schedule backups?"}, format="json")
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    body = response.json()
    assert body["error"]["code"] == code
    assert body["retryable"] is True
    assert body["message_id"] == ChatMessage.objects.get(role="assistant").id
    assert ChatMessage.objects.get(role="assistant").status == "failed"


def test_llm_rejecting_the_key_is_not_retryable_and_says_so(api, llm_answers):
    llm_answers.fail_with = 401
    response = api.post("/chat", {"message": "How do I schedule backups?"}, format="json")
    assert response.status_code == 502
    assert "Retry-After" not in response
    assert response.json()["error"]["code"] == "llm_auth"
    assert response.json()["retryable"] is False
