"""Health endpoints for load balancers and orchestrators.

- ``GET /healthz``: liveness. The process is up and serving requests; touches nothing else,
  so a slow database never gets a healthy process restarted. Served by ``HealthzFastPath``
  in front of Django (``chatsite/asgi.py``) so it never waits behind the app's work.
- ``GET /readyz``: readiness. Checks each dependency (the database with ``SELECT 1``, the
  search index through ``rag``'s ``index_status()``) and reports status and latency of each;
  503 with ``Retry-After`` when any is down, naming which. The search index is "down" too when
  its configuration cannot serve every worker process (e.g. an embedded index generation
  only one process can open): such workers would answer without sources behind a 200.

Both are plain async Django views (no DRF, no session, no auth) and exempt from the HTTPS redirect
(``SECURE_REDIRECT_EXEMPT``) so probes over plain HTTP inside the network work. Error
details go to the log, not the response: the endpoints are public.
"""

import asyncio
import logging
import time
from collections.abc import Callable

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .conf import chat_settings

logger = logging.getLogger(__name__)


@never_cache
@require_GET
async def healthz(request):
    return JsonResponse({"status": "ok"})


class HealthzFastPath:
    """ASGI wrapper that answers ``GET``/``HEAD /healthz`` before Django sees the request.

    Through Django a probe waits behind everything else the process does: the middleware
    chain hops through the one thread that synchronous middleware shares, behind every
    other request's sync work; with 300 answers streaming, ``/healthz`` took 6–12 s, long
    enough for a load balancer to kill a healthy instance. Answered here it costs one turn
    of the event loop. The reply is the view's (same body, never cached); liveness says
    nothing about dependencies, so skipping middleware (host check, HTTPS redirect, which
    already exempts it) gives nothing away.
    """

    BODY = b'{"status": "ok"}'
    HEADERS = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(BODY)).encode()),
        (b"cache-control", b"max-age=0, no-cache, no-store, must-revalidate, private"),
        (b"x-content-type-options", b"nosniff"),
    ]

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if (scope["type"] == "http" and scope["path"] == "/healthz"
                and scope["method"] in ("GET", "HEAD")):
            await send({"type": "http.response.start", "status": 200, "headers": self.HEADERS})
            await send({"type": "http.response.body",
                        "body": self.BODY if scope["method"] == "GET" else b""})
            return
        await self.app(scope, receive, send)


@never_cache
@require_GET
async def readyz(request):
    # Each check runs in its own worker thread, concurrently: a dependency that hangs until
    # its timeout neither delays the other check nor holds the one thread that Django's
    # synchronous views share under ASGI.
    database, search_index = await asyncio.gather(
        asyncio.to_thread(_timed, check_database),
        asyncio.to_thread(_timed, check_search_index),
    )
    checks = {"database": database, "search_index": search_index}
    failed = [name for name, check in checks.items() if not check["ok"]]
    body = {"status": "unavailable" if failed else "ok", "checks": checks}
    if failed:
        body["failed"] = failed
        response = JsonResponse(body, status=503)
        response["Retry-After"] = str(chat_settings.RETRY_AFTER_SECONDS)
        return response
    return JsonResponse(body)


def check_database() -> dict:
    """``SELECT 1`` on a connection of the calling worker thread, closed afterwards (a
    probe thread must not keep a connection open between probes)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        connection.close()
    return {}


def check_search_index() -> dict:
    from rag.index import index_status

    info = dict(index_status())
    if not info.pop("ok", True):
        raise RuntimeError(str(info.get("error") or "the search index reports it is not ready"))
    # Only coarse, non-sensitive facts are passed on (no URLs or paths). degraded_answers:
    # answers this worker process gave without retrieval since it started.
    return {key: info[key] for key in ("backend", "collection", "points", "degraded_answers") if key in info}


def _timed(check: Callable[[], dict]) -> dict:
    started = time.perf_counter()
    try:
        details = check()
        ok, error = True, None
    except Exception as exc:  # readiness reports failures, it never raises them
        logger.warning("readiness check %s failed: %r", check.__name__, exc)
        details, ok, error = {}, False, f"unavailable ({type(exc).__name__})"
    result = {"ok": ok, "latency_ms": round((time.perf_counter() - started) * 1000, 1)}
    if error:
        result["error"] = error
    result.update(details)
    return result
