"""A visitor who goes away mid-answer, and a worker that dies mid-answer, lose nothing.

Against the project under a real uvicorn process: the client reads k delta events from the
socket and closes it, like a closed browser tab. The fake LLM streams slowly (one token per
200 ms), so the k deltas the client read are all the server had produced when it noticed the
hang-up: the stored answer must be exactly that prefix, ``interrupted``. A worker killed with
SIGKILL cannot save anything; its answer row stays ``pending`` only until the configured
``CHAT_PENDING_TIMEOUT_SECONDS``, after which housekeeping fails it and a retry answers it.
"""

import time

import pytest

from testing.servers import http_json, stream_chat, wait_until

pytestmark = pytest.mark.slow

REPLY = " ".join(f"step{n}" for n in range(30)) + "."


def _session(server) -> str:
    status, _, body = http_json(server.base, "POST", "/chat/history", {
        "messages": [{"role": "user", "content": "hi"}]})
    assert status == 201
    return body["session_id"]


def _answers(server_db, token):
    return [r for r in server_db.messages(token) if r["role"] == "assistant"]


@pytest.mark.parametrize("k", [1, 3])
def test_hang_up_after_k_deltas_stores_exactly_the_streamed_prefix_as_interrupted(
    start_server, server_db, fake_openai, k
):
    fake_openai.reply = REPLY
    fake_openai.tokens_per_second = 5
    server = start_server(llm=fake_openai)
    token = _session(server)

    result = stream_chat(server.base, {"message": "Walk me through every step", "session_id": token,
                                       "client_message_id": f"dc-{k}"}, hang_up_after_deltas=k)

    assert result.hung_up
    assert result.names.count("delta") == k
    settled = wait_until(lambda: [a for a in _answers(server_db, token) if a["status"] != "pending"])
    assert settled, "the answer row is still pending after the client left"
    (answer,) = _answers(server_db, token)
    assert answer["status"] == "interrupted"
    assert answer["error"] == "client_disconnected"
    assert answer["content"] == result.text
    assert result.text and REPLY.startswith(result.text) and result.text != REPLY


def test_retry_after_a_hang_up_answers_the_same_row_in_full(start_server, server_db, fake_openai):
    fake_openai.reply = REPLY
    fake_openai.tokens_per_second = 5
    server = start_server(llm=fake_openai)
    token = _session(server)
    payload = {"message": "Walk me through every step", "session_id": token,
               "client_message_id": "dc-retry"}
    stream_chat(server.base, payload, hang_up_after_deltas=2)
    assert wait_until(lambda: _answers(server_db, token)[0]["status"] == "interrupted")

    fake_openai.tokens_per_second = 0
    retry = stream_chat(server.base, payload)
    assert retry.names[-1] == "done"
    assert retry.first("done")["replayed"] is False
    (answer,) = _answers(server_db, token)
    assert (answer["status"], answer["content"]) == ("complete", retry.text)
    assert retry.text.strip() == REPLY


def test_worker_killed_mid_answer_leaves_no_pending_row_after_the_timeout(
    start_server, server_db, fake_openai
):
    timeout = 4
    fake_openai.reply = REPLY
    fake_openai.tokens_per_second = 5
    first = start_server(llm=fake_openai, CHAT_PENDING_TIMEOUT_SECONDS=str(timeout))
    token = _session(first)
    payload = {"message": "Walk me through every step", "session_id": token,
               "client_message_id": "killed"}
    seen = []

    def kill_after_two_deltas(name, data):
        if name == "delta":
            seen.append(data)
            if len(seen) == 2:
                first.kill()

    asked_at = time.monotonic()  # the row was claimed after this
    try:
        stream_chat(first.base, payload, on_event=kill_after_two_deltas)
    except OSError:
        pass  # the server died under the client: the stream breaks
    (answer,) = _answers(server_db, token)
    assert answer["status"] == "pending"  # nobody could save it: the process is gone

    fake_openai.tokens_per_second = 0
    second = start_server(llm=fake_openai, CHAT_PENDING_TIMEOUT_SECONDS=str(timeout))
    early = stream_chat(second.base, payload)
    if time.monotonic() - asked_at < timeout - 0.5:
        # Within the timeout the row may still belong to a live worker: retry later.
        assert early.status == 409
        assert early.body["error"]["code"] == "answer_in_progress"
        assert int(early.headers["retry-after"]) >= 1
    time.sleep(max(0.0, timeout + 0.2 - (time.monotonic() - asked_at)))

    pruned = second.manage("prune_history", "-v", "0")
    assert pruned.returncode == 0, pruned.stderr
    if early.status == 409:
        assert "marked 1 stale pending answer(s) as failed" in pruned.stdout
        assert [a["status"] for a in _answers(server_db, token)] == ["failed"]
        retry = stream_chat(second.base, payload)
    else:
        retry = early
    assert retry.names[-1] == "done", retry.events
    (again,) = _answers(server_db, token)
    assert again["id"] == answer["id"]
    assert (again["status"], again["content"].strip()) == ("complete", REPLY)
    assert not [r for r in server_db.messages() if r["status"] == "pending"]
