"""The search index down: ``QDRANT_URL`` at a closed port, at a socket that accepts and never
answers, or at a server that answers every request with HTTP 500.

Expected: ``POST /chat`` still answers (the LLM without context, or an honest notice offline)
with a ``retrieval_unavailable`` notice, no 5xx, within a bound set by ``QDRANT_TIMEOUT``;
``GET /chat`` reports retrieval down (200); ``/readyz`` is 503 naming the search index.
"""

import http.server
import threading
import time
from contextlib import contextmanager

import pytest

from rag import clients
from testing.servers import SilentServer, closed_port

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

QDRANT_TIMEOUT = 1.0
# The bound asserted for a hung Qdrant: a few timed-out calls (collection check, query) plus
# generous slack for a loaded CI machine. Without a timeout the request would hang for minutes.
BOUND_SECONDS = 4 * QDRANT_TIMEOUT + 8


class _Failing(http.server.BaseHTTPRequestHandler):
    def _fail(self):
        body = b'{"status": {"error": "internal"}}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _fail

    def log_message(self, *args):
        pass


@contextmanager
def qdrant_at(kind: str):
    """A Qdrant URL that fails the way ``kind`` says."""
    if kind == "closed_port":
        yield f"http://127.0.0.1:{closed_port()}"
    elif kind == "never_answers":
        with SilentServer() as silent:
            yield silent.url
    else:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Failing)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()


KINDS = ["closed_port", "never_answers", "http_500"]


@pytest.fixture(params=KINDS)
def broken_qdrant(request, settings):
    with qdrant_at(request.param) as url:
        settings.RAG_QDRANT_URL = url
        settings.RAG_QDRANT_TIMEOUT = QDRANT_TIMEOUT
        clients.reset_clients()
        yield request.param
        clients.reset_clients()


def _notices(events):
    return [d["code"] for n, d in events if n == "notice"]


async def test_chat_answers_with_the_llm_and_a_notice_within_the_timeout(ask, llm, broken_qdrant):
    llm.reply = "I can't look that up in the docs right now."
    started = time.monotonic()
    response, events = await ask({"message": "How do I restore a nightly snapshot?"})
    elapsed = time.monotonic() - started

    assert response.status_code == 200
    assert [n for n, _ in events][-1] == "done"
    assert "retrieval_unavailable" in _notices(events)
    assert dict(events)["sources"] == {"sources": [], "refused": False}
    assert dict(events)["done"]["history_saved"] is True
    # The LLM was asked without context (the "index unreachable" prompt), and answered.
    prompt = llm.requests[-1]["body"]["messages"][-1]["content"]
    assert "search index could not be reached" in prompt
    assert "".join(d["text"] for n, d in events if n == "delta") == llm.reply
    assert elapsed < BOUND_SECONDS


async def test_offline_chat_says_search_is_unavailable_instead_of_failing(ask, broken_qdrant):
    started = time.monotonic()
    response, events = await ask({"message": "How do I restore a nightly snapshot?"})
    assert response.status_code == 200
    assert [n for n, _ in events][-1] == "done"
    assert "retrieval_unavailable" in _notices(events)
    assert "".join(d["text"] for n, d in events if n == "delta").strip()
    assert time.monotonic() - started < BOUND_SECONDS


def test_json_chat_is_200_with_the_notice_and_no_dangling_citation(api, llm, broken_qdrant):
    llm.reply = "From memory: see the configuration page [1]."
    response = api.post("/chat", {"message": "Where is the configuration reference?"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert [n["code"] for n in body["notices"]] == ["retrieval_unavailable"]
    # No sources were retrieved, so the model's "[1]" points at nothing and is removed.
    assert body["answer"] == "From memory: see the configuration page ."


def test_status_and_readiness_report_the_index_down_within_the_timeout(api, broken_qdrant):
    started = time.monotonic()
    status = api.get("/chat")
    assert status.status_code == 200
    assert status.json()["retrieval"]["ok"] is False
    assert status.json()["history"] == {"ok": True}

    ready = api.get("/readyz")
    assert ready.status_code == 503
    assert int(ready["Retry-After"]) >= 1
    assert ready.json()["failed"] == ["search_index"]
    assert ready.json()["checks"]["database"]["ok"] is True
    # Nothing about where the index lives leaks from a public endpoint.
    assert "127.0.0.1" not in ready.content.decode()
    assert time.monotonic() - started < 2 * BOUND_SECONDS
