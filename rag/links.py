"""Rewrite the links inside docs pages to the site URLs of their targets, at ingestion.

Docusaurus resolves a Markdown link like ``[install](./install.md#npm)`` or
``[hooks](../api/hooks.mdx)`` against the file that contains it, and ``[x](other-doc)`` or
``[x](/docs/other-doc)`` against the page's URL. An answer quotes that Markdown somewhere
else (the chat panel, on whatever page the reader is on), where a relative link would 404.
The ingester knows every page's file path and URL, so each link is rewritten here to the
absolute URL of the page it points to, keeping its ``#anchor``. A link whose target is not
an indexed page (a blog post, a file outside the docs, a page of a version not ingested) and
an image with a relative source are reduced to their text, so every link in an answer opens.
External links (``https:``, ``mailto:`` ...) are left alone; so is everything inside code.
"""

import posixpath
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING
from urllib.parse import unquote, urljoin, urlsplit

if TYPE_CHECKING:
    from .documents.base import Page

DOC_SUFFIXES = (".md", ".mdx")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:|^//")
_FENCE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+)(?:.+?)\1", re.DOTALL)
# [text](target "title") and ![alt](src); the text may hold one level of brackets.
_INLINE_LINK = re.compile(
    r"(?P<bang>!?)\[(?P<text>(?:[^\[\]\\]|\\.|\[[^\[\]]*\])*)\]"
    r"\(\s*(?P<target><[^<>\n]*>|[^\s()<>]*(?:\([^\s()]*\)[^\s()<>]*)*)"
    r"(?P<title>\s+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^()\n]*\)))?\s*\)"
)
# [label]: target "title" (a reference definition on its own line)
_REFERENCE = re.compile(r"^(?P<lead>[ \t]{0,3}\[(?P<label>[^\]\n]+)\]:[ \t]*)(?P<target><[^>\n]*>|\S+)(?P<rest>.*)$")
_REFERENCE_USE = re.compile(r"(?P<bang>!?)\[(?P<text>[^\[\]\n]+)\](?:\[(?P<label>[^\[\]\n]*)\])?(?!\(|:)")


class LinkResolver:
    """Maps a link found in one page to the absolute URL of the indexed page it targets."""

    def __init__(self, pages: Iterable["Page"], *, base_url: str) -> None:
        self.pages = list(pages)
        self.by_path = {page.path: page for page in self.pages}
        self.by_url = {_normalized_url(page.url): page for page in self.pages}
        parts = urlsplit(base_url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.base_url = base_url.rstrip("/")

    def resolve(self, page: "Page", target: str) -> str | None:
        """The absolute URL for ``target`` as written in ``page``; None when not indexed."""
        target = target.strip()
        if target.startswith("<") and target.endswith(">"):
            target = target[1:-1].strip()
        if _SCHEME.match(target):
            return target
        path, _, fragment = target.partition("#")
        path = path.split("?", 1)[0]
        anchor = f"#{fragment}" if fragment else ""
        if not path:
            return page.url + anchor if fragment else None
        found = self._by_file(page, path) if path.lower().endswith(DOC_SUFFIXES) else None
        found = found or self._by_url(page, path)
        return found.url + anchor if found else None

    def _by_file(self, page: "Page", path: str) -> "Page | None":
        path = unquote(path)
        folder = posixpath.dirname(page.path)
        candidates = [posixpath.normpath(posixpath.join(folder, path.lstrip("/")))]
        if path.startswith("/"):
            candidates = [posixpath.normpath(path.lstrip("/"))]
        for candidate in candidates:
            if candidate in self.by_path:
                return self.by_path[candidate]
        # Docusaurus also resolves a file path against the root of the page's docs tree
        # (its version and locale): match the path's tail within the same tree.
        tail = "/" + posixpath.normpath(path.lstrip("/")).lstrip("./")
        same_tree = [p for p in self.pages
                     if p.version == page.version and p.locale == page.locale
                     and ("/" + p.path).endswith(tail)]
        return same_tree[0] if len(same_tree) == 1 else None

    def _by_url(self, page: "Page", path: str) -> "Page | None":
        if path.startswith("/"):
            urls = [self.origin + path, self.base_url + path]
        else:
            urls = [urljoin(page.url, path), urljoin(page.url.rstrip("/") + "/", path)]
        for url in urls:
            found = self.by_url.get(_normalized_url(url))
            if found:
                return found
        return None


def _normalized_url(url: str) -> str:
    url = url.split("#", 1)[0]
    for suffix in (".mdx", ".md"):
        url = url.removesuffix(suffix)
    return url.rstrip("/")


def rewrite_links(pages: list["Page"], *, base_url: str) -> None:
    """Rewrite the links in every section of ``pages`` in place (see the module docstring)."""
    resolver = LinkResolver(pages, base_url=base_url)
    for page in pages:
        # Reference definitions usually sit at the end of the page, far from their uses.
        definitions = {}
        for section in page.sections:
            definitions.update(_definitions(section.text))
        for section in page.sections:
            section.text = rewrite_markdown(section.text, page=page, resolver=resolver,
                                            definitions=definitions)


def rewrite_markdown(text: str, *, page: "Page", resolver: LinkResolver,
                     definitions: dict[str, str] | None = None) -> str:
    """Rewrite links outside fenced code blocks and inline code spans."""
    if definitions is None:
        definitions = _definitions(text)
    out: list[str] = []
    fence: str | None = None
    prose: list[str] = []

    def flush() -> None:
        if prose:
            out.append(_rewrite_prose("\n".join(prose), page, resolver, definitions))
            prose.clear()

    for line in text.split("\n"):
        match = _FENCE.match(line)
        if fence is None and match:
            flush()
            fence = match.group(1)
            out.append(line)
        elif fence is not None:
            out.append(line)
            stripped = line.strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                fence = None
        else:
            prose.append(line)
    flush()
    return "\n".join(out)


def _definitions(text: str) -> dict[str, str]:
    found = {}
    for line in text.split("\n"):
        match = _REFERENCE.match(line)
        if match:
            found[match.group("label").strip().lower()] = match.group("target")
    return found


def _rewrite_prose(text: str, page: "Page", resolver: LinkResolver,
                   definitions: dict[str, str]) -> str:
    """Rewrite the links of a stretch of prose; a link inside an inline code span is code."""
    text = "\n".join(line for line in text.split("\n") if not _is_definition(line, definitions))

    def outside_code(replace):
        spans = [m.span() for m in _INLINE_CODE.finditer(text)]

        def guarded(match: re.Match) -> str:
            if any(start <= match.start() < end for start, end in spans):
                return match.group(0)
            return replace(match)
        return guarded

    def inline(match: re.Match) -> str:
        label, target = match.group("text"), match.group("target")
        label = _INLINE_LINK.sub(inline, label)  # an image inside a link's text
        if match.group("bang"):
            # An image: only an absolute source can be shown; otherwise its alt text.
            return match.group(0) if _SCHEME.match(target.strip("<>")) else label
        url = resolver.resolve(page, target)
        if url is None:
            return label
        return f"[{label}]({url}{match.group('title') or ''})"

    def reference_use(match: re.Match) -> str:
        label = match.group("label") or match.group("text")
        target = definitions.get(label.strip().lower())
        if target is None:
            return match.group(0)  # not a reference link, just brackets
        if match.group("bang"):
            return match.group(0) if _SCHEME.match(target.strip("<>")) else match.group("text")
        url = resolver.resolve(page, target)
        return f"[{match.group('text')}]({url})" if url else match.group("text")

    text = _INLINE_LINK.sub(outside_code(inline), text)
    if definitions:
        text = _REFERENCE_USE.sub(outside_code(reference_use), text)
    return text


def _is_definition(line: str, definitions: dict[str, str]) -> bool:
    """Definitions are folded into the links that use them, so their lines go."""
    match = _REFERENCE.match(line)
    return bool(match and match.group("label").strip().lower() in definitions)



def without_origin(text: str, page_url: str) -> str:
    """``text`` with the scheme and host of ``page_url`` removed from the URLs in it."""
    parts = urlsplit(page_url or "")
    if not parts.scheme or not parts.netloc:
        return text
    return text.replace(f"{parts.scheme}://{parts.netloc}", "")
