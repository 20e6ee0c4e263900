"""Static files (the widget) under ASGI: whole, with whitenoise's headers, and without
Django's "StreamingHttpResponse must consume synchronous iterators" warning."""

import asyncio
import logging
import warnings
from pathlib import Path

import pytest

from django.core.handlers.asgi import ASGIHandler
from django.test import Client

WIDGET = Path(__file__).resolve().parents[2] / "chat" / "static" / "chat" / "widget.js"


def asgi_get(path: str, headers: list[tuple[bytes, bytes]] = (), method: str = "GET"):
    """One request through Django's real ASGI handler; returns (status, headers, body)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "headers": [(b"host", b"127.0.0.1"), *headers], "client": ("127.0.0.1", 5000),
             "server": ("127.0.0.1", 8000)}
    sent = []
    requested = []

    async def receive():
        if requested:  # the client stays connected until the response is sent
            await asyncio.Event().wait()
        requested.append(True)
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    asyncio.run(ASGIHandler()(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.lower(): v for k, v in start["headers"]}, body


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
    assert [str(w.message) for w in caught if "iterator" in str(w.message)] == []


def test_widget_is_served_whole_under_asgi_without_the_sync_iterator_warning(no_warnings):
    status, headers, body = asgi_get("/static/chat/widget.js")
    assert status == 200
    assert body == WIDGET.read_bytes()
    assert headers[b"content-type"].startswith(b"text/javascript")
    assert int(headers[b"content-length"]) == len(body)


def test_range_and_head_requests_keep_whitenoise_behaviour(no_warnings):
    status, headers, body = asgi_get("/static/chat/widget.js", [(b"range", b"bytes=0-9")])
    assert status == 206
    assert body == WIDGET.read_bytes()[:10]
    status, _, body = asgi_get("/static/chat/widget.js", method="HEAD")
    assert status == 200 and body == b""


def test_wsgi_requests_still_get_whitenoise_file_response():
    response = Client().get("/static/chat/widget.js")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == WIDGET.read_bytes()


def test_under_asgi_no_middleware_makes_requests_hop_through_a_thread(settings):
    # A sync-only middleware makes Django adapt the chain around it (a thread per request);
    # with DEBUG, Django logs each adaptation at DEBUG on django.request.
    settings.DEBUG = True
    records = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = records.append
    logger = logging.getLogger("django.request")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        ASGIHandler().load_middleware(is_async=True)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    assert [r.getMessage() for r in records if "adapted for" in r.getMessage()] == []
