"""Serves the bundled docs (``docs/``) as plain pages at ``/docs/...`` for the demo.

``make run`` ingests ``docs/`` with ``--base-url http://127.0.0.1:8000``, so the sources the
assistant cites point here and open on the right heading. A real deployment cites the docs
team's own Docusaurus site instead; this viewer only exists so the demo's links work, so it
(and the demo page at ``/``) is served only when asked: ``DEMO_DOCS_DIR`` set, or DEBUG on
(then the bundled ``docs/``). Everything else answers 404.

The docs are untrusted: pages come from ``rag.documents.load_pages``, which never follows
a symbolic link or reads outside the folder, and a request picks one of those pages by its
URL, never a file by its path, so ``..`` or a link in the folder cannot reach other files.
Markdown is rendered with raw HTML disabled and images shown as links.
"""

from functools import lru_cache
from pathlib import Path

from markdown_it import MarkdownIt

from django.conf import settings
from django.http import Http404
from django.shortcuts import render
from django.utils.html import escape
from django.utils.safestring import mark_safe

from rag.documents import iter_doc_files, load_pages

_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")


def _image_as_link(self, tokens, idx, options, env) -> str:
    """Images become links, as in the widget: a page must not make a visitor's browser fetch
    from another host (a tracking pixel in a contributed page)."""
    token = tokens[idx]
    src = token.attrGet("src") or ""
    alt = escape(self.renderInlineAsText(token.children or [], options, env))
    if not src.lower().startswith(("http://", "https://", "/", "./", "../")):
        return alt  # data: images and other schemes are left out
    return f'<a href="{escape(src)}" rel="nofollow noopener noreferrer">{alt or escape(src)}</a>'


_markdown.add_render_rule("image", _image_as_link)
# markdown-it already refuses javascript:, vbscript: and file: links; data: too (it allows
# data:image/*), so no link in a page opens a URL made up by the page itself.
_markdown.validateLink = lambda url: not url.strip().lower().startswith(("javascript:", "vbscript:", "file:", "data:"))


def demo_enabled() -> bool:
    return bool(settings.DEMO_DOCS_DIR) or settings.DEBUG


@lru_cache(maxsize=4)
def _pages(root: Path, base_url: str, stamp: float):
    pages = load_pages(root, base_url=base_url, skipped=[])  # bad files are logged and left out
    return sorted(pages, key=lambda p: (p.sidebar_position or 99, p.title))


def _docs_stamp(root: Path) -> float:
    # lstat: a link's target is not even looked at.
    return max((p.lstat().st_mtime for p in iter_doc_files(root)), default=0.0)


def demo_page(request):
    if not demo_enabled():
        raise Http404("The demo page is not enabled.")
    return render(request, "demo.html")


def docs_page(request, path: str = ""):
    if not settings.DEMO_DOCS_DIR:
        raise Http404("The demo docs are not enabled.")
    root = Path(settings.DEMO_DOCS_DIR)
    base_url = f"{request.scheme}://{request.get_host()}"
    pages = _pages(root, base_url, _docs_stamp(root))
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
