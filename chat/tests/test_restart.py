"""History survives a server restart: a new process serves the same conversation."""

import pytest

from testing.servers import http_json, stream_chat

pytestmark = pytest.mark.slow


def test_history_is_served_by_a_new_server_process_after_a_restart(start_server):
    first = start_server(indexed=True)
    result = stream_chat(first.base, {"message": "How do I install it?", "client_message_id": "q-1"})
    token = result.first("session")["session_id"]
    answer = result.text
    sources = result.first("sources")["sources"]
    assert answer and sources
    first.stop()

    second = start_server(indexed=True)
    status, _, body = http_json(second.base, "GET", f"/chat/history/{token}")
    assert status == 200
    messages = body["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"]
    assert messages[0]["content"] == "How do I install it?"
    assert messages[1]["content"] == answer
    assert [s["url"] for s in messages[1]["sources"]] == [s["url"] for s in sources]

    # The conversation goes on in the same session on the new process.
    more = stream_chat(second.base, {"message": "And how do I upgrade?", "session_id": token})
    assert more.first("session") == {"session_id": token, "created": False}
    status, _, body = http_json(second.base, "GET", f"/chat/history/{token}")
    assert len(body["messages"]) == 4
