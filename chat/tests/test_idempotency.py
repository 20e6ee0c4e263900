"""The same ``client_message_id`` sent again — sequentially and 10 at once — makes one user row,
one assistant row and one LLM call.

These run against the project under a real uvicorn process (two worker processes, so the
duplicates really race each other on the database: on PostgreSQL and through PgBouncer the
10 requests are 10 concurrent HTTP requests over 10 sockets). Rows are read back with plain
SQL, LLM calls are counted at the fake OpenAI server.
"""

import threading

import pytest

from testing.servers import http_json, stream_chat, streamed_llm_calls

pytestmark = pytest.mark.slow


def _new_session(server) -> str:
    status, _, body = http_json(server.base, "POST", "/chat/history", {
        "messages": [{"role": "user", "content": "hello"}]})
    assert status == 201, body
    return body["session_id"]


def _rows_for(server_db, token: str, client_message_id: str):
    rows = server_db.messages(token)
    questions = [r for r in rows if r["client_message_id"] == client_message_id]
    answers = [r for r in rows if r["role"] == "assistant"
               and r["reply_to_id"] in {q["id"] for q in questions}]
    return questions, answers


def test_same_client_message_id_twice_in_a_row_is_answered_once(start_server, server_db, fake_openai):
    server = start_server(llm=fake_openai)
    token = _new_session(server)
    question = "How do I rotate the signing keys"
    payload = {"message": question, "session_id": token, "client_message_id": "seq-1"}

    first = stream_chat(server.base, payload)
    second = stream_chat(server.base, payload)
    status, _, as_json = http_json(server.base, "POST", "/chat", payload)

    assert first.names[-1] == "done" and first.first("done")["replayed"] is False
    assert second.names[-1] == "done" and second.first("done")["replayed"] is True
    assert status == 200 and as_json["replayed"] is True
    assert second.text == first.text == as_json["answer"]
    assert second.first("done")["message_id"] == first.first("done")["message_id"] == as_json["message_id"]
    questions, answers = _rows_for(server_db, token, "seq-1")
    assert len(questions) == 1
    assert [(a["status"], a["content"]) for a in answers] == [("complete", first.text)]
    assert streamed_llm_calls(fake_openai, question) == 1


def _race(server, payload: dict, n: int) -> list:
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def one(i: int) -> None:
        barrier.wait()
        results[i] = stream_chat(server.base, payload, timeout=60)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(90)
    return results


def _assert_one_answer(results, server, server_db, fake_openai, token, payload):
    question = payload["message"]
    for result in results:
        assert result is not None, "a request never returned"
        if result.status == 409:
            assert result.body["error"]["code"] == "answer_in_progress"
            assert int(result.headers["retry-after"]) >= 1
        else:
            assert result.status == 200
            assert result.names[-1] == "done", result.events
    answered = [r for r in results if r.status == 200]
    assert answered, "no duplicate was answered"
    # Once the answer is stored, every retry gets that same answer.
    retry = stream_chat(server.base, payload)
    assert retry.first("done")["replayed"] is True
    assert all(r.text == retry.text for r in answered)
    questions, answers = _rows_for(server_db, token, payload["client_message_id"])
    assert len(questions) == 1
    assert len(answers) == 1
    assert answers[0]["status"] == "complete"
    assert answers[0]["content"] == retry.text
    assert streamed_llm_calls(fake_openai, question) == 1


def test_ten_concurrent_duplicates_make_one_question_one_answer_one_llm_call(
    start_server, server_db, fake_openai
):
    fake_openai.reply = "Rotate them with the keys command [1]. " + "More detail. " * 10
    fake_openai.tokens_per_second = 100  # the first answer is still streaming when the rest arrive
    server = start_server(llm=fake_openai, workers=2)
    token = _new_session(server)
    payload = {"message": "How do I rotate the signing keys", "session_id": token,
               "client_message_id": "race-10"}
    results = _race(server, payload, 10)
    _assert_one_answer(results, server, server_db, fake_openai, token, payload)


def test_ten_concurrent_retries_of_a_failed_answer_reclaim_it_once(start_server, server_db, fake_openai):
    server = start_server(llm=fake_openai, workers=2)
    token = _new_session(server)
    payload = {"message": "Why did the nightly backup fail", "session_id": token,
               "client_message_id": "retry-10"}
    fake_openai.fail_with = 500
    failed = stream_chat(server.base, payload)
    assert failed.names[-1] == "error"
    assert failed.first("error")["retryable"] is True
    _, answers = _rows_for(server_db, token, "retry-10")
    assert [a["status"] for a in answers] == ["failed"]

    fake_openai.reset()  # forget the failed call; answer normally from now on
    fake_openai.tokens_per_second = 100
    fake_openai.reply = "Check the snapshot directory permissions [1]. " + "Then retry. " * 10
    results = _race(server, payload, 10)
    _assert_one_answer(results, server, server_db, fake_openai, token, payload)
    _, answers = _rows_for(server_db, token, "retry-10")
    assert answers[0]["id"] == failed.first("error")["message_id"]
