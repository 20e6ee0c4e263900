"""Property-based tests (hypothesis): sessions never leak into each other, and no input makes
the API answer 5xx.

- Two sessions, random interleavings of questions, retries (a reused ``client_message_id``)
  and history appends. The fake LLM echoes back every message it was sent, so anything of
  the other session reaching the prompt would show in the answer. After every step each
  session's history holds exactly its own messages in order, and no answer holds the other
  session's words.
- Arbitrary unicode (control characters, NUL, bidi overrides, astral planes, lone
  surrogates as JSON escapes) and arbitrary bytes in every field of every endpoint: never a
  5xx, always the one JSON error shape.
"""

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from django.core.cache import cache

from chat import tokens

SETTINGS = dict(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                      HealthCheck.too_slow])

Step = st.tuples(
    st.sampled_from(["A", "B"]),
    st.sampled_from(["ask", "ask", "retry", "append"]),
    st.integers(min_value=0, max_value=5),
)


def _echo(body: dict) -> str:
    """The fake LLM's answer: everything it was sent except the system prompt."""
    return " | ".join(m["content"] for m in body["messages"][1:])


@pytest.mark.django_db
@hsettings(max_examples=15, **SETTINGS)
@given(steps=st.lists(Step, min_size=2, max_size=8))
def test_interleaved_sessions_never_see_each_others_history(api, llm_answers, steps):
    cache.clear()
    llm_answers.reply = _echo
    tokens_by = {}
    expected = {"A": [], "B": []}
    marker = {"A": "alphaword", "B": "bravoword"}
    asked = {"A": {}, "B": {}}  # client_message_id -> text already asked

    for who, action, n in steps:
        other = "B" if who == "A" else "A"
        text = f"{marker[who]}{n} question about the quokka server"
        payload = {"message": text}
        if who in tokens_by:
            payload["session_id"] = tokens_by[who]
        if action == "append":
            response = api.post("/chat/history", {
                **({"session_id": tokens_by[who]} if who in tokens_by else {}),
                "messages": [{"role": "user", "content": text}]}, format="json")
            assert response.status_code == 201
            tokens_by[who] = response.json()["session_id"]
            expected[who].append(("user", text))
            continue
        cmid = f"{who}-{n}"
        if action == "retry" and cmid in asked[who]:
            payload["message"] = asked[who][cmid]
        payload["client_message_id"] = cmid
        if cmid in asked[who] and payload["message"] != asked[who][cmid]:
            response = api.post("/chat", payload, format="json")
            assert response.status_code == 409  # same id, other text: refused, nothing stored
            continue
        response = api.post("/chat", payload, format="json")
        assert response.status_code == 200, response.content
        body = response.json()
        tokens_by[who] = body["session_id"]
        assert marker[other] not in body["answer"]
        if not body["replayed"]:
            asked[who][cmid] = payload["message"]
            expected[who] += [("user", payload["message"]), ("assistant", body["answer"])]

        for name in ("A", "B"):
            if name not in tokens_by:
                continue
            history = api.get(f"/chat/history/{tokens_by[name]}?limit=200").json()["messages"]
            assert [(m["role"], m["content"]) for m in history] == expected[name]
            text_of_history = json.dumps(history)
            assert marker["B" if name == "A" else "A"] not in text_of_history


HOSTILE_TEXT = st.text(
    alphabet=st.characters(codec=None, exclude_categories=()), min_size=0, max_size=120,
) | st.sampled_from([
    "\x00", "a\x00b", "\u202e\u2066evil\u2069", "\ufeff", "\U0001F600" * 50, "\r\n\r\n",
    "\x1b[31mred", "</script><script>alert(1)</script>", "' OR 1=1 --", "\ud800",
    "%00", "../../etc/passwd", "{{7*7}}", "${jndi:ldap://x}",
])


def _assert_clean(response):
    assert response.status_code < 500, response.content
    if response.status_code >= 400:
        error = response.json()["error"]
        assert set(error) == {"code", "message", "field"}
        assert isinstance(error["code"], str) and error["message"]


@pytest.mark.django_db
@hsettings(max_examples=60, **SETTINGS)
@given(message=HOSTILE_TEXT, page_url=HOSTILE_TEXT, cmid=HOSTILE_TEXT, session=HOSTILE_TEXT)
def test_hostile_text_in_any_chat_field_never_gets_a_5xx(client, message, page_url, cmid, session):
    cache.clear()
    for payload in ({"message": message}, {"message": "ok", "page_url": page_url},
                    {"message": "ok", "client_message_id": cmid},
                    {"message": "ok", "session_id": session}):
        response = client.post("/chat", json.dumps(payload), content_type="application/json")
        _assert_clean(response)


@pytest.mark.django_db
@hsettings(max_examples=60, **SETTINGS)
@given(content=HOSTILE_TEXT, role=HOSTILE_TEXT, comment=HOSTILE_TEXT, segment=HOSTILE_TEXT,
       after=HOSTILE_TEXT)
def test_hostile_text_in_history_and_feedback_never_gets_a_5xx(client, content, role, comment,
                                                               segment, after):
    cache.clear()
    created = client.post("/chat/history", json.dumps(
        {"messages": [{"role": "user", "content": content or "x"}]}), content_type="application/json")
    _assert_clean(created)
    token = created.json()["session_id"] if created.status_code == 201 else tokens.new_token()
    for payload in ({"session_id": token, "messages": [{"role": role, "content": "x"}]},
                    {"session_id": token, "messages": [{"role": "user", "content": content,
                                                        "client_message_id": comment}]}):
        _assert_clean(client.post("/chat/history", json.dumps(payload),
                                  content_type="application/json"))
    _assert_clean(client.post("/chat/feedback", json.dumps(
        {"session_id": token, "message_id": 1, "rating": "up", "comment": comment}),
        content_type="application/json"))
    # Percent-encoded as UTF-8 bytes; a lone surrogate becomes invalid UTF-8, as a raw
    # client could send it.
    raw_segment = quote(segment.encode("utf-8", "surrogatepass"), safe="")
    raw_after = quote(after.encode("utf-8", "surrogatepass"), safe="")
    _assert_clean(client.get(f"/chat/history/{raw_segment}"))
    _assert_clean(client.get(f"/chat/history/{token}?after={raw_after}&limit={raw_after}"))


@pytest.mark.django_db
@hsettings(max_examples=60, **SETTINGS)
@given(body=st.binary(max_size=300), path=st.sampled_from(["/chat", "/chat/history", "/chat/feedback"]))
def test_arbitrary_bytes_as_a_json_body_never_get_a_5xx(client, body, path):
    cache.clear()
    _assert_clean(client.generic("POST", path, body, content_type="application/json"))
