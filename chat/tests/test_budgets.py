"""Every LLM call counts against the token budgets: hung-up, failed and rewrite calls too."""

import json
import random

import pytest
from asgiref.sync import sync_to_async

from django.core.cache import cache

from chat import budgets, sse, tokens
from rag import generation

from .asgi_client import post_and_hang_up
from .conftest import chat_completion_calls

pytestmark = pytest.mark.django_db(transaction=True)

LONG_REPLY = " ".join(f"Step {i}: run the command and check the output." for i in range(120))


@pytest.fixture
def redis_cache(settings):
    """The budgets counted in a scratch Redis database, as in production."""
    import redis

    db = random.randint(8, 15)
    try:
        redis.Redis(host="127.0.0.1", port=6379, db=db, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"needs Redis at 127.0.0.1:6379 ({exc})")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": f"redis://127.0.0.1:6379/{db}",
                                   "KEY_PREFIX": f"budget-test-{random.getrandbits(32)}"}}
    cache.clear()
    yield
    cache.clear()


async def _hang_up_after(deltas: int, payload: dict) -> list:
    body = await post_and_hang_up("/chat", json.dumps(payload).encode(), marker=b"event: delta",
                                  after=deltas, accept=b"text/event-stream")
    return sse.parse_events(body)


async def test_streams_hung_up_mid_answer_are_counted(llm, indexed_docs, redis_cache):
    llm.reply = LONG_REPLY
    llm.tokens_per_second = 20
    for i in range(8):
        events = await _hang_up_after(3, {"message": f"How do I install the quokka server? ({i})"})
        assert [name for name, _ in events].count("delta") >= 1
        assert "done" not in [name for name, _ in events]
    used = await sync_to_async(budgets.budget_used)()
    # At least the prompts (system prompt and question, estimated) of all eight calls.
    prompt = (len(generation.system_prompt()) + 3) // 4
    assert used["global"] >= 8 * prompt


async def test_a_hung_up_stream_counts_against_its_session(llm, indexed_docs, redis_cache,
                                                            session_token):
    llm.reply = LONG_REPLY
    llm.tokens_per_second = 20
    await _hang_up_after(3, {"message": "How do I install the quokka server?",
                             "session_id": session_token})
    used = await sync_to_async(budgets.budget_used)(session_hash=tokens.hash_token(session_token))
    assert used["session"] > 0 and used["session"] == used["global"]


def test_a_failed_answer_is_counted(api, llm_answers, redis_cache):
    llm_answers.reply = LONG_REPLY
    llm_answers.reset_after_tokens = 20
    response = api.post("/chat", {"message": "Walk me through every step"}, format="json")
    assert response.status_code in (200, 502, 503)
    assert budgets.budget_used()["global"] > (len(generation.system_prompt()) + 3) // 4


def test_the_query_rewrite_call_is_counted(api, llm_answers, redis_cache):
    llm_answers.reply = "Run the installer."
    first = api.post("/chat", {"message": "How do I install it?"}, format="json").json()
    after_first = budgets.budget_used()["global"]
    calls = chat_completion_calls(llm_answers)
    api.post("/chat", {"message": "And then?", "session_id": first["session_id"]}, format="json")
    requests = llm_answers.requests[-(chat_completion_calls(llm_answers) - calls):]
    rewrites = [r for r in requests if r["path"].endswith("/chat/completions")
                and not r["body"].get("stream")]
    assert rewrites, "the follow-up question was rewritten by the LLM"

    def reported(body: dict) -> int:  # what the fake server reports as usage
        prompt = sum(len(str(m.get("content", "")).split()) for m in body["messages"])
        return prompt + len(llm_answers.reply.split())

    spent = budgets.budget_used()["global"] - after_first
    assert spent >= sum(reported(r["body"]) for r in requests
                        if r["path"].endswith("/chat/completions"))
    assert spent > reported([r for r in requests if r["body"].get("stream")][-1]["body"])


async def test_every_completion_reports_its_tokens_to_the_meter(llm):
    seen = []
    with generation.metering_llm_tokens(seen.append):
        await generation.complete(messages=[{"role": "user", "content": "one two three"}])
    assert seen and seen[0] > 0


def test_a_meter_spends_once():
    meter = budgets.TokenMeter(session_hash="c" * 64)
    meter.add(7)
    meter.spend()
    meter.add(5)
    meter.spend()
    assert budgets.budget_used(session_hash="c" * 64) == {"global": 7, "session": 7}
