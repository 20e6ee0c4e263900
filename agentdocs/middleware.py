"""Markdown copies of the indexed pages, at the page's URL path + ``.md`` and on the page's
own path for ``Accept: text/markdown``.

A middleware rather than a URL pattern because the pages' paths are the docs site's paths
(``/docs/...``), which may also be routed to HTML here (the demo's docs viewer) or by the
proxy in front; only a request that asks for Markdown and names an indexed page is answered
here, everything else passes through untouched.
"""

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async

from .exceptions import AgentDocsError
from .pages import docs_snapshot
from .views import authorized, error_response, markdown_response, unauthorized


def _wants_markdown(request) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    if request.path.endswith(".md"):
        return True
    accept = request.headers.get("Accept", "")
    return "text/markdown" in accept.lower()


def _lookup(request):
    if not authorized(request):
        # A .md path is ours to refuse; a page path goes on to its usual (HTML) answer.
        return unauthorized() if request.path.endswith(".md") else None
    try:
        snapshot = docs_snapshot()
    except AgentDocsError as exc:
        # Only a .md request is ours to fail; an HTML page must not break with the index.
        return error_response(exc) if request.path.endswith(".md") else None
    page = snapshot.at_route(request.path)
    if page is None:
        return None
    return markdown_response(request, page, snapshot.stamp)


class MarkdownCopiesMiddleware:
    async_capable = True
    sync_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.is_async:
            return self._acall(request)
        if _wants_markdown(request):
            response = _lookup(request)
            if response is not None:
                return response
        return self.get_response(request)

    async def _acall(self, request):
        if _wants_markdown(request):
            response = await sync_to_async(_lookup, thread_sensitive=False)(request)
            if response is not None:
                return response
        return await self.get_response(request)
