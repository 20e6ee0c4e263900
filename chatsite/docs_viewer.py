"""Serves the bundled docs (``docs/``) as plain pages at ``/docs/...`` for the demo.

``make run`` ingests ``docs/`` with ``--base-url http://127.0.0.1:8000``, so the sources the
assistant cites point here and open on the right heading. A real deployment cites the docs
team's own Docusaurus site instead; this viewer only exists so the demo's links work.
Markdown is rendered with raw HTML disabled.
"""

from functools import lru_cache

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.utils.safestring import mark_safe
from markdown_it import MarkdownIt

from rag.documents import load_pages

_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


@lru_cache(maxsize=4)
def _pages(base_url: str, stamp: float):
    pages = load_pages(settings.DEMO_DOCS_DIR, base_url=base_url)
    return sorted(pages, key=lambda p: (p.sidebar_position or 99, p.title))


def _docs_stamp() -> float:
    return max((p.stat().st_mtime for p in settings.DEMO_DOCS_DIR.rglob("*.md*")), default=0.0)


def docs_page(request, path: str = ""):
    if not settings.DEMO_DOCS_DIR:
        raise Http404("The demo docs are not enabled.")
    base_url = f"{request.scheme}://{request.get_host()}"
    pages = _pages(base_url, _docs_stamp())
    wanted = request.build_absolute_uri(request.path).rstrip("/")
    page = next((p for p in pages if p.url.rstrip("/") == wanted), None)
    if page is None:
        raise Http404("No such docs page.")
    sections = [
        {
            "level": min(max(section.level, 2), 4),
            "heading": section.heading,
            "anchor": section.anchor,
            "html": mark_safe(_markdown.render(section.text)),  # raw HTML disabled above
        }
        for section in page.sections
    ]
    return render(
        request,
        "docs_page.html",
        {"page": page, "pages": pages, "sections": sections},
    )
