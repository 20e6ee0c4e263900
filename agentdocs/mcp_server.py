"""The MCP server at ``/mcp``: three read-only tools over the docs index, on Streamable HTTP.

Built with the official SDK (``mcp.server.mcpserver.MCPServer``); the SDK owns the protocol,
sessions (``Mcp-Session-Id``), SSE streaming and the request-body limit. This module adds
what the chat's API already guarantees:

- per-client rate limits on every tool call (``AGENTS_MCP_RATE`` per client IP, with the
  chat's IP rules, see ``chat.throttling``), and ``ask`` also spends the chat's ``chat_ip``
  allowance, so an agent cannot get more answers than a reader;
- errors as MCP tool errors (``isError``) with a message written for the agent: bad
  arguments name the field, an unexpected failure says only that the tool failed (the SDK
  withholds exception text), never an HTTP 500;
- ``AgentEndpoint`` (the ASGI app mounted at ``/mcp``): 404 when ``AGENTS_MCP_ENABLED`` is
  off, 401 without the bearer token when ``AGENTS_MCP_TOKEN`` is set, 413 past
  ``AGENTS_MCP_MAX_REQUEST_BYTES``; the Host header is checked against ``ALLOWED_HOSTS``.
"""

import hmac
import json
import logging
from typing import Any

from asgiref.sync import sync_to_async
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from mcp_types import ToolAnnotations
from typing_extensions import TypedDict  # pydantic needs it below Python 3.12

from django.conf import settings
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from . import tools
from .conf import agent_settings
from .exceptions import AgentDocsError, RateLimited

logger = logging.getLogger("agentdocs.mcp")

INSTRUCTIONS = (
    "Read-only access to this product's documentation. Use search_docs to find the sections "
    "about a topic (each result has a URL with its #anchor), get_page to read a whole page as "
    "Markdown, and ask for a short answer written from the docs with numbered sources; ask "
    "says when the docs do not cover a question instead of guessing."
)
READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True,
                            openWorldHint=False)


class SearchResult(TypedDict):
    rank: int
    title: str
    heading_path: list[str]
    url: str
    path: str
    snippet: str
    score: float
    version: str
    locale: str


class SearchResults(TypedDict):
    query: str
    results: list[SearchResult]


class PageMarkdown(TypedDict):
    title: str
    url: str
    path: str
    version: str
    locale: str
    markdown: str


class Source(TypedDict):
    n: int
    title: str
    heading: str
    url: str
    snippet: str
    score: float


class AskAnswer(TypedDict):
    answer: str
    refused: bool
    sources: list[Source]
    notices: list[str]


# ---------------------------------------------------------------------------- rate limits


class _ClientRequest:
    """What DRF's throttles read from a request (``META``), built from the HTTP request the
    MCP message arrived in, so client IPs are counted exactly as the chat counts them."""

    def __init__(self, http_request):
        client = getattr(http_request, "client", None)
        headers = getattr(http_request, "headers", {}) or {}
        self.META = {"REMOTE_ADDR": client.host if client else ""}
        forwarded = headers.get("x-forwarded-for")
        self.headers = {"x-forwarded-for": forwarded} if forwarded else {}


class McpThrottle(SimpleRateThrottle):
    scope = "mcp"

    def get_rate(self):
        return agent_settings.MCP_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AskThrottle(SimpleRateThrottle):
    """The chat's per-IP answer limit (``chat_ip``), shared with POST /chat."""

    scope = "chat_ip"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _throttle(http_request, throttles) -> None:
    request = _ClientRequest(http_request)
    for throttle in throttles:
        if throttle.rate is not None and not throttle.allow_request(request, None):
            wait = int(throttle.wait() or 1) or 1
            raise RateLimited(f"Too many requests from this client; retry in {wait} s.",
                              retry_after=wait)


async def _allow(ctx: Context, *, ask: bool = False) -> None:
    try:
        http_request = ctx.request_context.request
    except ValueError:
        http_request = None
    throttles = [McpThrottle()] + ([AskThrottle()] if ask else [])
    await sync_to_async(_throttle, thread_sensitive=False)(http_request, throttles)


async def _run(name: str, ctx: Context, call, *, ask: bool = False) -> Any:
    """Rate-limit, run and turn every failure into a tool error with a safe message."""
    try:
        await _allow(ctx, ask=ask)
        return await call()
    except AgentDocsError as exc:
        logger.info("agentdocs.mcp tool=%s error=%s", name, exc.code)
        raise ToolError(exc.message) from None
    except ToolError:
        raise
    except Exception:
        logger.exception("agentdocs.mcp tool=%s failed", name)
        raise ToolError(f"{name} failed unexpectedly on the server. Retry later.") from None


# ---------------------------------------------------------------------------- the server


def build_server() -> MCPServer:
    """The SDK server with the three tools; their docstrings are what agents read."""
    server = MCPServer("docs", title="Documentation", instructions=INSTRUCTIONS, version="1")

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def search_docs(query: str, ctx: Context, version: str | None = None,
                          locale: str | None = None, k: int = 5) -> SearchResults:
        """Search the documentation. Returns the best-matching sections, best first: title,
        heading path, URL with #anchor, snippet and score. Optional version and locale
        restrict the search to one docs version or language; k is 1-20 (default 5)."""
        return await _run("search_docs", ctx, lambda: tools.search_docs(
            query=query, version=version, locale=locale, k=k))

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def get_page(url_or_path: str, ctx: Context) -> PageMarkdown:
        """Read one documentation page as Markdown, with its headings and their {#anchors}.
        Pass a URL from search_docs (an #anchor is ignored), a path such as
        /docs/getting-started, or a docs file path."""
        return await _run("get_page", ctx, lambda: tools.get_page(url_or_path=url_or_path))

    @server.tool(annotations=READ_ONLY, structured_output=True)
    async def ask(question: str, ctx: Context,
                  history: list[dict[str, str]] | None = None) -> AskAnswer:
        """Ask a question about the product. Returns the docs assistant's answer with
        numbered sources ([1] in the text cites sources[0]); refused is true when the docs
        do not cover the question. history: earlier turns, [{role: user|assistant,
        content}], oldest first."""
        return await _run("ask", ctx, lambda: tools.ask(question=question, history=history),
                          ask=True)

    return server


def _transport_security() -> TransportSecuritySettings:
    """DNS-rebinding protection from ``ALLOWED_HOSTS`` and ``CORS_ALLOWED_ORIGINS``.

    ``/mcp`` is served outside Django, so Django's own Host check does not run: the SDK's
    check (exact hosts, any port) stands in for it. Django's wildcard forms (``*``,
    ``.example.com``) have no SDK equivalent and turn the check off. Requests from a browser
    page (they carry ``Origin``) are accepted only from the CORS-allowed origins; agents send
    no Origin.
    """
    hosts = list(settings.ALLOWED_HOSTS)
    if not hosts or any(host == "*" or host.startswith(".") for host in hosts):
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    allowed = [pattern for host in hosts for pattern in (host, f"{host}:*")]
    origins = list(getattr(settings, "CORS_ALLOWED_ORIGINS", []) or [])
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=allowed,
                                     allowed_origins=origins)


# ---------------------------------------------------------------------------- ASGI


async def _json_error(send, status: int, code: str, message: str, headers=()) -> None:
    body = json.dumps({"error": {"code": code, "message": message, "field": None}}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
        *headers]})
    await send({"type": "http.response.body", "body": body})


class AgentEndpoint:
    """The ASGI app for ``/mcp``: settings checks in front of the SDK's Starlette app.

    Its ``lifespan`` runs the SDK's session manager; ``chatsite.asgi`` forwards the server's
    lifespan events here.
    """

    def __init__(self):
        self._build()
        self._lifespans = 0

    def _build(self) -> None:
        self.server = build_server()
        self.app = self.server.streamable_http_app(
            streamable_http_path="/mcp",
            stateless_http=bool(agent_settings.MCP_STATELESS),
            json_response=False,
            max_request_body_size=int(agent_settings.MCP_MAX_REQUEST_BYTES),
            transport_security=_transport_security(),
        )

    async def __call__(self, scope, receive, send):
        if scope["type"] == "lifespan":
            # The SDK's session manager runs once per instance; an application whose lifespan
            # is run again (test clients do that) gets a fresh one.
            self._lifespans += 1
            if self._lifespans > 1:
                self._build()
            return await self.app(scope, receive, send)
        if not agent_settings.MCP_ENABLED:
            return await _json_error(send, 404, "not_found",
                                     "The MCP endpoint is turned off on this server.")
        token = agent_settings.MCP_TOKEN
        if token:
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            expected = b"Bearer " + token.encode()
            if not hmac.compare_digest(given, expected):
                return await _json_error(
                    send, 401, "unauthorized",
                    "This MCP server needs 'Authorization: Bearer <token>'.",
                    headers=[(b"www-authenticate", b'Bearer realm="mcp"')])
        if scope.get("path", "").rstrip("/") == "/mcp":
            scope = {**scope, "path": "/mcp", "raw_path": b"/mcp"}
        return await self.app(scope, receive, send)


def is_mcp_path(path: str) -> bool:
    return path == "/mcp" or path == "/mcp/"
