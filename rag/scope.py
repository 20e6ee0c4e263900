"""Which docs version and locale a question is answered from.

Docusaurus sites publish several versions and locales of the same pages; an answer that
mixes them (or quotes the current docs to a reader of 1.0) is wrong even when each sentence
is true. ``choose_scope`` picks one version and locale per question, in this order:

1. a version the question names ("We're still on React Native 0.79 ...") when the index
   holds it;
2. the version and locale of the page the reader is on: looked up in the index (the
   plugin's manifest knows every permalink's version and locale), else read from the URL
   (``/docs/next/...``, ``/fr/docs/...``), else from the page's
   ``<meta name="docsearch:version|language">`` when the widget sends them;
3. otherwise the site's default docs: the version Docusaurus serves at ``/docs/`` (the
   plugin's ``isLast``), or ``current`` for folders indexed with ``ingest_docs``.

The choice also names a fallback (the default version, same locale when it exists) for
when the chosen scope has nothing relevant; the answer then says which version it is from.
"""

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .conf import rag_settings
from .documents import CURRENT_VERSION
from .index.cache import PerGeneration
from .types import Scope

CATALOG_TTL = 300.0
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
_VERSION = re.compile(r"^(next|current|v?\d+(\.\d+)*(\.x)?)$")
# Version-like words in a question: 0.79, 1.0, v2, 2.x, 29.7.0
_NAMED_VERSION = re.compile(r"(?<![\w.])v?(\d+(?:\.(?:\d+|x))+|\d+)(?![\w]|\.\d)", re.IGNORECASE)


@dataclass(frozen=True)
class ScopeCatalog:
    """What the index holds, as far as scoping is concerned."""

    pages: dict[str, tuple[str, str]] = field(default_factory=dict)  # URL path → (version, locale)
    versions: frozenset[str] = frozenset()
    locales: frozenset[str] = frozenset()
    default_version: str | None = None
    pairs: frozenset[tuple[str, str]] = frozenset()  # (version, locale) present

    @classmethod
    def from_manifest(cls, manifest) -> "ScopeCatalog":
        entries = [e for e in manifest.pages.values()] if manifest else []
        versions = frozenset(e.version for e in entries if e.version)
        latest = sorted({e.version for e in entries if e.latest and e.version})
        if latest:
            default = latest[0]
        elif CURRENT_VERSION in versions:
            default = CURRENT_VERSION
        elif len(versions) == 1:
            default = next(iter(versions))
        else:
            default = None
        return cls(
            pages={page_path(e.url): (e.version, e.locale) for e in entries if e.url},
            versions=versions,
            locales=frozenset(e.locale for e in entries if e.locale),
            default_version=default,
            pairs=frozenset((e.version, e.locale) for e in entries),
        )


@dataclass(frozen=True)
class ScopeChoice:
    scope: Scope
    source: str  # "question" | "page" | "default" | "none"
    fallback: Scope | None = None  # where to look when ``scope`` has nothing relevant


def page_path(url: str | None) -> str:
    parts = urlsplit(url or "")
    return parts.path.rstrip("/") or "/"


def scope_from_page_url(page_url: str | None, route_base_path: str = "/docs") -> Scope:
    """Version and locale named in a Docusaurus docs URL; None for what the URL leaves out.

    ``next`` is the current (unreleased) docs, stored as version ``current``.
    """
    if not page_url:
        return Scope()
    segments = [s for s in urlsplit(page_url).path.split("/") if s]
    base = [s for s in route_base_path.split("/") if s]
    locale = None
    if segments and _LOCALE.match(segments[0]) and segments[1:1 + len(base)] == base:
        locale, segments = segments[0], segments[1:]
    if base and segments[: len(base)] != base:
        return Scope(locale=locale)
    rest = segments[len(base):]
    version = rest[0] if len(rest) > 1 and _VERSION.match(rest[0]) else None
    if version == "next":
        version = CURRENT_VERSION
    return Scope(version=version, locale=locale)


def version_named_in(question: str, versions) -> str | None:
    """A released version of the index that the question names (``0.79``, ``v1.0``, ``2.x``)."""
    released = {v for v in versions if v and v != CURRENT_VERSION}
    for match in _NAMED_VERSION.finditer(question or ""):
        word = match.group(1).lower()
        for candidate in (word, f"v{word}", f"{word}.x", f"{word}.0"):
            if candidate in released:
                return candidate
    return None


def _known(value: str | None, known) -> str | None:
    return value if value and value in known else None


def choose_scope(*, question: str, page_url: str | None, catalog: ScopeCatalog | None,
                 version_hint: str | None = None, locale_hint: str | None = None) -> ScopeChoice:
    """The version and locale to search for this question (see the module docstring).

    Values the index does not hold are never used, so an unknown URL segment or hint can
    not empty the results. Without a catalog (index unreadable) the URL alone decides.
    """
    if catalog is None or not catalog.pages:
        return ScopeChoice(scope_from_page_url(page_url), "page" if page_url else "none")
    version = locale = None
    source = "none"
    if page_url:
        known = catalog.pages.get(page_path(page_url))
        if known:
            version, locale = known[0] or None, known[1] or None
        else:
            parsed = scope_from_page_url(page_url)
            version = _known(parsed.version, catalog.versions)
            locale = _known(parsed.locale, catalog.locales)
        version = version or _known(version_hint, catalog.versions)
        locale = locale or _known(locale_hint, catalog.locales)
        if version or locale:
            source = "page"
    named = version_named_in(question, catalog.versions)
    if named:
        version, source = named, "question"
    if version is None and len(catalog.versions) > 1 and catalog.default_version:
        version, source = catalog.default_version, "default" if source == "none" else source
    if locale and version and (version, locale) not in catalog.pairs:
        locale = None  # that version is not translated: any locale beats nothing
    scope = Scope(version=version, locale=locale)
    fallback = None
    default = catalog.default_version
    if version and default and version != default:
        fallback = Scope(version=default, locale=locale if (default, locale) in catalog.pairs else None)
    return ScopeChoice(scope, source, fallback)


_catalogs: PerGeneration[ScopeCatalog] = PerGeneration(CATALOG_TTL)


def scope_catalog(collection: str | None = None) -> ScopeCatalog | None:
    """The collection's catalog (cached per embedded generation, else for CATALOG_TTL s)."""

    def build(index) -> ScopeCatalog | None:
        manifest = index.manifest(collection)
        return None if manifest is None else ScopeCatalog.from_manifest(manifest)

    collection = collection or rag_settings.COLLECTION
    return _catalogs.get(collection, build)


def choose_scope_for(*, question: str, page_url: str | None, collection: str | None,
                     version_hint: str | None = None, locale_hint: str | None = None) -> ScopeChoice:
    """``choose_scope`` against the collection's catalog; the URL alone if the index is unreadable."""
    try:
        catalog = scope_catalog(collection)
    except Exception:
        catalog = None
    return choose_scope(question=question, page_url=page_url, catalog=catalog,
                        version_hint=version_hint, locale_hint=locale_hint)
