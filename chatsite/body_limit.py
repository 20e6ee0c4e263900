"""Refuse request bodies larger than ``DATA_UPLOAD_MAX_MEMORY_SIZE`` before Django reads them.

Django's ASGI handler reads a whole request body (spooling it to disk past
``FILE_UPLOAD_MAX_MEMORY_SIZE``) before any view runs, whatever its size, and it ignores a
body sent without ``Content-Length`` (chunked), so such a request reached the views empty.
This wrapper answers 413 in the API's JSON error shape as soon as a declared or received
body passes the limit, and hands a chunked body that fits to Django with its length.
"""

import json

from django.conf import settings

from rag.conf import rag_settings

INGEST_PATH = "/api/ingest"  # rag.urls: the manifest push has its own, larger limit


async def _too_large(send, limit: int) -> None:
    body = json.dumps({"error": {"code": "request_too_large",
                                 "message": f"The request body is larger than {limit} bytes.",
                                 "field": None}}).encode()
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


# A refused body is read and discarded up to this many bytes before the 413 is sent, so an
# honest client that sent a little too much reads the answer instead of a connection reset
# (closing a socket with unread input makes the kernel send RST). Beyond it, the connection
# is simply closed after the 413.
DRAIN_BYTES = 4 * 1024 * 1024


async def _drain(receive, already: int = 0) -> None:
    received = already
    while received <= DRAIN_BYTES:
        message = await receive()
        if message["type"] != "http.request":
            return
        received += len(message.get("body", b""))
        if not message.get("more_body"):
            return


class BodySizeLimit:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE if scope["type"] == "http" else None
        if limit is not None and scope.get("path") == INGEST_PATH:
            limit = max(limit, int(rag_settings.INGEST_MAX_BYTES))  # manifests are larger
        if limit is None:
            return await self.app(scope, receive, send)
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > limit:
                if int(declared) <= DRAIN_BYTES:
                    await _drain(receive)
                return await _too_large(send, limit)
            return await self.app(scope, receive, send)
        if b"chunked" not in headers.get(b"transfer-encoding", b"").lower():
            return await self.app(scope, receive, send)
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            body += message.get("body", b"")
            if len(body) > limit:
                if message.get("more_body"):
                    await _drain(receive, len(body))
                return await _too_large(send, limit)
            if not message.get("more_body"):
                break
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()  # later messages (e.g. http.disconnect) pass through

        headers = [(k, v) for k, v in scope["headers"] if k != b"transfer-encoding"]
        headers.append((b"content-length", str(len(body)).encode()))
        return await self.app({**scope, "headers": headers}, replay, send)
