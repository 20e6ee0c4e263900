"""HTTP views: ``/llms.txt``, ``/llms-full.txt`` and the pages' Markdown copies.

Thin: each reads the cached ``DocsSnapshot`` (``agentdocs.pages``) and renders text. The
snapshot is rebuilt when a new index generation goes live, so the ETag (the generation
stamp) changes with it. Errors use the API's JSON error shape.
"""

import hashlib
import hmac

from asgiref.sync import sync_to_async

from django.http import HttpResponse, JsonResponse
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from .conf import agent_settings
from .exceptions import AgentDocsError, PageNotFound, Unauthorized
from .llms_txt import llms_full_txt, llms_txt
from .pages import DocPage, docs_snapshot

MARKDOWN = "text/markdown; charset=utf-8"
PLAIN = "text/plain; charset=utf-8"


def error_response(exc: AgentDocsError) -> JsonResponse:
    response = JsonResponse(
        {"error": {"code": exc.code, "message": exc.message, "field": exc.field}},
        status=exc.status,
    )
    if exc.status == 503:
        response["Retry-After"] = "5"
    return response


def authorized(request) -> bool:
    """With ``AGENTS_MCP_TOKEN`` set the docs are private: every agent surface (these views,
    the Markdown copies and /mcp) needs ``Authorization: Bearer <token>``."""
    token = agent_settings.MCP_TOKEN
    if not token:
        return True
    given = request.headers.get("Authorization", "").encode()
    return hmac.compare_digest(given, b"Bearer " + token.encode())


def unauthorized() -> JsonResponse:
    response = error_response(Unauthorized())
    response["WWW-Authenticate"] = 'Bearer realm="docs"'
    return response


def _text(request, body: str, content_type: str, stamp: str) -> HttpResponse:
    etag = '"' + hashlib.sha256(f"{stamp}\n{body}".encode()).hexdigest()[:32] + '"'
    if etag in request.headers.get("If-None-Match", ""):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["X-Robots-Tag"] = "noindex"  # the HTML pages are the ones to index
    if agent_settings.MCP_TOKEN:
        response["Vary"] = "Accept, Authorization"
        patch_cache_control(response, private=True, max_age=300)
    else:
        response["Vary"] = "Accept"
        response["Access-Control-Allow-Origin"] = "*"  # public docs text, read by any tool
        patch_cache_control(response, public=True, max_age=300)
    return response


def _origin(request) -> str:
    return f"{request.scheme}://{request.get_host()}"


async def _llms(request, render):
    if not authorized(request):
        return unauthorized()
    try:
        snapshot = await sync_to_async(docs_snapshot, thread_sensitive=False)()
    except AgentDocsError as exc:
        return error_response(exc)
    return _text(request, render(snapshot), PLAIN, snapshot.stamp)


@require_safe
async def llms_txt_view(request):
    return await _llms(request, lambda snapshot: llms_txt(snapshot, base=_origin(request)))


@require_safe
async def llms_full_txt_view(request):
    return await _llms(request, llms_full_txt)


def markdown_response(request, page: DocPage, stamp: str) -> HttpResponse:
    response = _text(request, page.markdown, MARKDOWN, stamp)
    response["Link"] = f'<{page.url}>; rel="canonical"'
    return response


def page_not_found() -> JsonResponse:
    return error_response(PageNotFound())
