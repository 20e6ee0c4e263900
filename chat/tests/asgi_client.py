"""A raw ASGI client that hangs up mid-stream, the way a browser tab closing does."""

import asyncio

from django.core.handlers.asgi import ASGIHandler


async def post_and_hang_up(path: str, body: bytes, *, marker: bytes, after: int,
                           accept: bytes | None = None) -> bytes:
    """POST ``body`` to ``path`` and disconnect once ``marker`` has streamed ``after`` times.

    Returns the bytes received before hanging up.
    """
    headers = [(b"host", b"testserver"), (b"content-type", b"application/json"),
               (b"content-length", str(len(body)).encode())]
    if accept:
        headers.append((b"accept", accept))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
        "headers": headers,
    }
    gone = asyncio.Event()
    chunks: list[bytes] = []
    delivered = False

    async def receive():
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message):
        if gone.is_set():
            raise OSError("client went away")
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if b"".join(chunks).count(marker) >= after:
                gone.set()

    await asyncio.wait_for(ASGIHandler()(scope, receive, send), timeout=30)
    return b"".join(chunks)
