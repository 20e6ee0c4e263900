"""Server-Sent Events framing for the streamed answer of ``POST /chat``.

Each event is ``event: <name>\\ndata: <one line of JSON>\\n\\n``. JSON never contains a raw
newline, so a ``data:`` line can hold any text. The response disables proxy buffering
(``X-Accel-Buffering: no``) and caching so deltas reach the browser as they are produced.
"""

import json
from collections.abc import AsyncIterator

from django.http import StreamingHttpResponse

from rag.types import Delta, Event

CONTENT_TYPE = "text/event-stream; charset=utf-8"


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def encode_event(event: Event) -> bytes:
    """``event: <name>`` and ``data: <payload as JSON>`` (``rag.types.Event``)."""
    if isinstance(event, Delta):  # the hot path: one per coalesced answer text
        return b'event: delta\ndata: {"text":' + _dumps(event.text).encode() + b"}\n\n"
    return f"event: {event.name}\ndata: {_dumps(event.payload())}\n\n".encode()


def wants_event_stream(request) -> bool:
    return "text/event-stream" in request.META.get("HTTP_ACCEPT", "")


async def _encoded(events: AsyncIterator) -> AsyncIterator[bytes]:
    async for event in events:
        yield encode_event(event)


def event_stream_response(events: AsyncIterator) -> StreamingHttpResponse:
    """A streaming response over an async iterator of events (``chat.turns.turn_events``)."""
    response = StreamingHttpResponse(_encoded(events), content_type=CONTENT_TYPE)
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"
    return response


def parse_events(body: bytes | str) -> list[tuple[str, dict]]:
    """Split an SSE body back into ``(name, data)`` pairs (for tests and clients)."""
    text = body.decode() if isinstance(body, bytes) else body
    events = []
    for block in text.split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):  # not splitlines(): U+2028 is text in JSON
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip())
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events
