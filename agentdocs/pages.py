"""The indexed pages as Markdown, rebuilt from the index and cached per index generation.

The index is the only copy of the docs this server has (the docs folder may not exist on the
machine that serves), so a page's Markdown is put back together from its stored chunks: the
page title as H1, then each section's heading at its depth with its Docusaurus anchor
(``## Heading {#anchor}``) and the section text exactly as it was indexed. Agents therefore
read the same text the chat cites.

A ``DocsSnapshot`` holds every page of the collection. It is built once per index
generation (``EdgeIndex`` names the live one in its ``CURRENT`` file; a new generation going
live is seen on the next request) and, for a Qdrant server, which has no generations,
trusted for ``AGENTS_SNAPSHOT_TTL_SECONDS``.
"""

import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from rag.chunking import Chunk
from rag.conf import rag_settings
from rag.exceptions import RetrievalUnavailable
from rag.index import get_index

from .conf import agent_settings
from .exceptions import DocsNotIndexed, DocsUnavailable


@dataclass
class DocPage:
    path: str  # relative to the docs folder
    url: str  # absolute page URL, no anchor
    route: str  # the URL's path without a trailing slash, e.g. "/docs/getting-started"
    title: str
    version: str
    locale: str
    chunks: list[Chunk]
    markdown: str

    @property
    def md_route(self) -> str:
        """Where this server serves the page's Markdown copy."""
        return f"{self.route}.md" if self.route != "/" else "/index.md"

    @property
    def description(self) -> str:
        """The page's first sentence (for llms.txt link notes)."""
        for chunk in self.chunks:
            text = _plain(chunk.text)
            if text and text != self.title:
                sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0]
                return sentence if len(sentence) <= 160 else sentence[:157].rsplit(" ", 1)[0] + "…"
        return ""


@dataclass
class DocsSnapshot:
    stamp: str
    collection: str
    base_url: str
    docs_path: str
    pages: list[DocPage]
    by_route: dict[str, DocPage] = field(default_factory=dict)
    by_path: dict[str, DocPage] = field(default_factory=dict)
    rendered: dict = field(default_factory=dict)  # llms.txt per link base, built on demand

    def __post_init__(self):
        for page in self.pages:
            self.by_route.setdefault(page.route, page)
            self.by_path.setdefault(page.path, page)

    def at_route(self, path: str) -> DocPage | None:
        """The page served at exactly this URL path (``.md`` or not), or None."""
        route = _route(path)
        if route == "/index.md":
            return self.by_route.get("/")
        if route.endswith(".md") and route[:-3] in self.by_route:
            return self.by_route[route[:-3]]
        return self.by_route.get(route)

    def find(self, ref: str) -> DocPage | None:
        """The page a URL, URL path, ``.md`` path, docs file path or doc slug names."""
        ref = (ref or "").strip()
        if not ref:
            return None
        parts = urlsplit(ref)
        route = parts.path if parts.scheme or ref.startswith("/") else "/" + parts.path
        page = self.at_route(route)
        if page is not None:
            return page
        bare = parts.path.lstrip("/")
        for candidate in (bare, f"{bare}.md", f"{bare}.mdx"):
            if candidate in self.by_path:
                return self.by_path[candidate]
        slug = "/" + _route(bare).lstrip("/").removesuffix(".md")
        matches = [p for p in self.pages if p.route.endswith(slug)]
        return matches[0] if len(matches) == 1 else None

    @property
    def site_host(self) -> str:
        return urlsplit(self.base_url).netloc or "docs"


def _route(path: str) -> str:
    path = re.sub(r"/{2,}", "/", path or "/")
    return path.rstrip("/") or "/"


_FENCED = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,}).*?^[ \t]{0,3}\1[ \t]*$", re.M | re.S)


def _plain(text: str) -> str:
    text = _FENCED.sub("", text)
    skip = ("#", "```", ":::", "import ")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith(skip)]
    return re.sub(r"\s+", " ", " ".join(lines)).strip()


def page_markdown(title: str, chunks: list[Chunk]) -> str:
    """A page's Markdown from its chunks in stored order (see the module docstring)."""
    out = [f"# {title}"]
    headed: set[tuple[str, str]] = set()
    for chunk in chunks:
        if chunk.heading and (chunk.anchor, chunk.heading) not in headed:
            headed.add((chunk.anchor, chunk.heading))
            level = "#" * min(6, len(chunk.heading_path) + 1)
            anchor = f" {{#{chunk.anchor}}}" if chunk.anchor else ""
            out.append(f"{level} {chunk.heading}{anchor}")
        text = chunk.text.strip("\n")
        if text and not (len(chunks) == 1 and not chunk.heading and text == title):
            out.append(text)
    return "\n\n".join(out) + "\n"


def _stamp(index, collection: str) -> str:
    generation = index.current_generation(collection)
    if generation is not None:
        return f"gen:{generation}"
    ttl = max(1, int(agent_settings.SNAPSHOT_TTL_SECONDS))
    return f"ttl:{int(time.time() // ttl)}"


def _build(index, collection: str, stamp: str) -> DocsSnapshot:
    manifest = index.manifest(collection)
    if manifest is None or not manifest.pages:
        raise DocsNotIndexed()
    stored = index.stored_chunks(collection, list(manifest.pages))
    pages = []
    for path in sorted(manifest.pages):
        chunks = stored.get(path) or []
        if not chunks:
            continue
        entry = manifest.pages[path]
        first = chunks[0]
        url = entry.url or first.page_url
        title = entry.title or first.title or path
        pages.append(DocPage(
            path=path, url=url, route=_route(urlsplit(url).path), title=title,
            version=entry.version or first.version, locale=entry.locale or first.locale,
            chunks=chunks, markdown=page_markdown(title, chunks),
        ))
    base_url = manifest.base_url or (pages[0].url if pages else "")
    return DocsSnapshot(stamp=stamp, collection=collection, base_url=base_url,
                        docs_path=manifest.docs_path, pages=pages)


_lock = threading.Lock()
_snapshots: dict[tuple[int, str], DocsSnapshot] = {}


def docs_snapshot(*, collection: str | None = None) -> DocsSnapshot:
    """The pages of the live index generation (cached; synchronous file or network I/O).

    Raises ``DocsNotIndexed`` when nothing is indexed and ``DocsUnavailable`` when the index
    cannot be read.
    """
    collection = collection or rag_settings.COLLECTION
    try:
        index = get_index()
        stamp = _stamp(index, collection)
        key = (id(index), collection)
        snapshot = _snapshots.get(key)
        if snapshot is not None and snapshot.stamp == stamp:
            return snapshot
        with _lock:
            snapshot = _snapshots.get(key)
            if snapshot is None or snapshot.stamp != stamp:
                snapshot = _build(index, collection, stamp)
                _snapshots.clear()  # one collection per process in practice; never grow
                _snapshots[key] = snapshot
            return snapshot
    except (DocsNotIndexed, DocsUnavailable):
        raise
    except RetrievalUnavailable as exc:
        raise DocsUnavailable() from exc
    except OSError as exc:  # a generation removed between the stamp and the read
        raise DocsUnavailable() from exc


def primary_group(pages: list[DocPage]) -> tuple[str, str]:
    """The (version, locale) most pages belong to: the docs llms.txt lists first."""
    counts = Counter((p.version, p.locale) for p in pages)
    return max(counts, key=lambda vl: (counts[vl], vl[1] in ("", "en"), vl[0] == "current"))
