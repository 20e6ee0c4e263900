"""uvicorn's HTTP protocol with read timeouts, so slow clients cannot hold connections.

uvicorn (0.54, both its h11 and httptools protocols) starts no timer when a connection
opens: ``--timeout-keep-alive`` only runs between requests, and a new byte cancels it. A
client that sends its request headers (or its body) a byte at a time, or nothing at all,
keeps its connection — and a slot of every proxy and file-descriptor limit — for ever; an
attack held 600 such connections open indefinitely. This subclass of uvicorn's protocol
closes a connection whose request headers are not complete ``SERVER_HEADER_TIMEOUT``
seconds after it opened (or after the previous response on a kept-alive connection), or
whose request body is not complete ``SERVER_BODY_TIMEOUT`` seconds after its headers.
Once a request is fully read nothing is timed: a streamed answer may take as long as it
takes.

Use it with ``uvicorn chatsite.asgi:application --http chatsite.server:GuardedHTTPProtocol``
(the Makefile and docs/operations.md do). It extends uvicorn's ``auto`` choice (httptools
when installed, else h11).
"""

import asyncio

from uvicorn.protocols.http.auto import AutoHTTPProtocol

CHECK_INTERVAL = 1.0  # seconds between checks of one connection (the timeouts' resolution)


def _timeouts() -> tuple[float, float]:
    # Read on first use: the application (and so the settings) is loaded after this module.
    from django.conf import settings

    return float(settings.SERVER_HEADER_TIMEOUT), float(settings.SERVER_BODY_TIMEOUT)


class GuardedHTTPProtocol(AutoHTTPProtocol):
    _limits: tuple[float, float] | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)
        if GuardedHTTPProtocol._limits is None:
            GuardedHTTPProtocol._limits = _timeouts()
        self._guard_state = ("headers", None)
        self._guard_since = self.loop.time()
        self._guard_timer = self.loop.call_later(CHECK_INTERVAL, self._guard_check)

    def connection_lost(self, exc: Exception | None) -> None:
        timer = getattr(self, "_guard_timer", None)
        if timer is not None:
            timer.cancel()
        super().connection_lost(exc)

    def _reading(self) -> tuple[str, object]:
        """What the connection waits for: ``headers`` of a (next) request, the ``body`` of
        the current one, or nothing from the client (``app``: the request is read)."""
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            return "headers", cycle
        return ("body" if cycle.more_body else "app"), cycle

    def _guard_check(self) -> None:
        self._guard_timer = None
        if self.transport.is_closing():
            return
        now = self.loop.time()
        state = self._reading()
        if state[0] != self._guard_state[0] or state[1] is not self._guard_state[1]:
            self._guard_state, self._guard_since = state, now
        header_timeout, body_timeout = self._limits
        limit = {"headers": header_timeout, "body": body_timeout}.get(state[0])
        if limit and now - self._guard_since >= limit:
            self.logger.info("closing a slow client's connection (request %s not received "
                             "within %.0f s)", state[0], limit)
            # The app (if a body was awaited) sees http.disconnect, as for a client hang-up.
            self.transport.close()
            return
        self._guard_timer = self.loop.call_later(CHECK_INTERVAL, self._guard_check)
