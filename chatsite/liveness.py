"""Liveness on its own port, answered by a thread, so a busy event loop cannot starve it.

``/healthz`` on the main port is answered before Django (``chat.health.HealthzFastPath``),
but still on the event loop: when hundreds of streams keep the process's CPU busy, a probe
waits its turn behind them, and a load balancer that gives up after a few seconds kills an
instance that is only busy. With ``HEALTHZ_ADDRESS`` set (``host:port``), each worker
process also serves ``GET /healthz`` from a small HTTP server on its own thread.

Answering from a thread alone would say "alive" for a process whose event loop is stuck.
So the thread sends the loop a callback every half second and reports how long the loop
took to run it: 200 with that lag while the loop keeps up, 503 once a callback has waited
more than ``HEALTHZ_MAX_LOOP_STALL`` seconds (a deadlock or a blocking call on the loop).

Several worker processes bind the same address (``SO_REUSEPORT``; the kernel spreads the
probes over them).
"""

import asyncio
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.5


class LoopWatch:
    """How promptly an event loop runs a callback scheduled from another thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sent_at: float | None = None  # a callback is waiting on the loop since then
        self.lag = 0.0  # how long the last callback waited, in seconds

    @property
    def attached(self) -> bool:
        return self._loop is not None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            if self._loop is None:
                self._loop = loop

    def ping(self) -> None:
        """Schedule a callback on the loop unless one is still waiting (called by the thread)."""
        with self._lock:
            if self._loop is None or self._sent_at is not None:
                return
            self._sent_at = time.monotonic()
            loop = self._loop
        try:
            loop.call_soon_threadsafe(self._arrived)
        except RuntimeError:  # the loop is closed: the process is shutting down
            with self._lock:
                self._sent_at = None

    def _arrived(self) -> None:
        with self._lock:
            if self._sent_at is not None:
                self.lag = time.monotonic() - self._sent_at
            self._sent_at = None

    def stalled_for(self) -> float:
        """Seconds the waiting callback has waited so far (0 when none waits)."""
        with self._lock:
            return time.monotonic() - self._sent_at if self._sent_at is not None else 0.0


class _Handler(BaseHTTPRequestHandler):
    server: "LivenessServer"
    timeout = 5  # a slow or silent client is dropped; it holds one short-lived thread at most

    def do_GET(self) -> None:
        self._reply(head=False)

    def do_HEAD(self) -> None:
        self._reply(head=True)

    def _reply(self, *, head: bool) -> None:
        if self.path.split("?", 1)[0] != "/healthz":
            status, body = 404, {"error": "not_found", "detail": "Only /healthz is served on this port."}
        else:
            status, body = self.server.verdict()
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if not head:
            self.wfile.write(payload)

    def log_message(self, format, *args) -> None:  # probes every few seconds: not worth a log line
        pass


class LivenessServer(ThreadingHTTPServer):
    """``GET /healthz`` on its own socket and thread; the verdict comes from a ``LoopWatch``."""

    allow_reuse_address = True
    allow_reuse_port = True
    daemon_threads = True

    def __init__(self, address: tuple[str, int], watch: LoopWatch, *, max_stall: float) -> None:
        super().__init__(address, _Handler)
        self.watch = watch
        self.max_stall = max_stall

    def service_actions(self) -> None:  # called by serve_forever() between polls
        self.watch.ping()

    def verdict(self) -> tuple[int, dict]:
        stalled = self.watch.stalled_for()
        if stalled > self.max_stall:
            return 503, {"status": "event_loop_stalled", "stalled_s": round(stalled, 1),
                         "detail": f"The event loop has not run a callback for {stalled:.1f} s "
                                   f"(HEALTHZ_MAX_LOOP_STALL is {self.max_stall:g} s)."}
        if not self.watch.attached:
            return 200, {"status": "ok", "event_loop": "not started yet"}
        return 200, {"status": "ok", "event_loop_lag_ms": round(1000 * max(self.watch.lag, stalled))}

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": POLL_SECONDS},
                                  name="liveness", daemon=True)
        thread.start()
        return thread


def parse_address(value: str) -> tuple[str, int]:
    """``"host:port"`` or ``":port"`` (all interfaces) → ``(host, port)``; ValueError if malformed."""
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, got {value!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


class WatchLoop:
    """ASGI wrapper that hands the event loop to a ``LoopWatch`` on the first call it serves."""

    def __init__(self, app, watch: LoopWatch) -> None:
        self.app = app
        self.watch = watch

    async def __call__(self, scope, receive, send):
        if not self.watch.attached:
            self.watch.attach(asyncio.get_running_loop())
        await self.app(scope, receive, send)


def serve_liveness(app, *, address: str, max_stall: float):
    """Start the liveness thread on ``address`` and return ``app`` wrapped to feed it."""
    watch = LoopWatch()
    server = LivenessServer(parse_address(address), watch, max_stall=max_stall)
    server.start()
    logger.info("liveness: GET /healthz on %s:%s (its own thread)", *server.server_address[:2])
    try:  # uvicorn imports the application inside its running loop: watch it from the start
        watch.attach(asyncio.get_running_loop())
    except RuntimeError:
        pass  # no loop yet: the first request attaches it
    return WatchLoop(app, watch)
