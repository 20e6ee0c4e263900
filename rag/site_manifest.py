"""Read and check the manifest written by the Docusaurus plugin (integrations/docusaurus).

The plugin records, for every page Docusaurus built, the permalink it is served at, its docs
plugin id, version and locale, the heading anchors present on the page and the page's text
as Markdown whose headings carry their ids (``## Setup {#setup}``). Because those come from
the built site, nothing here re-implements Docusaurus' routing: a page's URL is the
permalink, and a chunk's anchor is only ever one the page really has.

``parse_manifest`` checks the whole document before anything is used: one bad page rejects
the manifest (``ManifestError`` names the field), so a truncated or hand-edited upload can
never replace a good index. ``site_pages`` turns a checked manifest into the same ``Page``
values ``ingest_docs`` builds from Markdown, so both routes share chunking and indexing.
"""

import gzip
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .documents import Page, split_sections
from .exceptions import IngestError

SCHEMA = "docs-chat-manifest/1"
MANIFEST_PATH = Path("docs-chat") / "manifest.json"
MAX_PAGES = 50_000
MAX_PAGE_TEXT = 2_000_000
_HASH = re.compile(r"^[0-9a-f]{64}$")
_LOCALE = re.compile(r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")


class ManifestError(IngestError):
    """The manifest is not one the plugin writes; ``field`` points at the first problem."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(f"{field}: {message}" if field else message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class SiteVersion:
    name: str
    label: str
    is_current: bool
    is_last: bool


@dataclass
class SitePage:
    permalink: str
    url: str
    title: str
    kind: str  # "docs" | "blog" | "page"
    plugin_id: str
    version: SiteVersion | None
    locale: str
    anchors: list[str]
    headings: list[dict]
    text: str
    hash: str


@dataclass
class SiteManifest:
    site_url: str
    base_url: str
    locale: str
    default_locale: str
    pages: list[SitePage] = field(default_factory=list)
    generator: str = ""


def _need(value, kind, where: str, what: str):
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ManifestError(f"must be {what}", field=where)
    return value


def _text(value, where: str, *, empty: bool = False, limit: int = 2000) -> str:
    _need(value, str, where, "a string")
    if not empty and not value.strip():
        raise ManifestError("must not be empty", field=where)
    if len(value) > limit:
        raise ManifestError(f"is longer than {limit} characters", field=where)
    return value


def _heading_ids(tree, where: str) -> list[str]:
    ids = []
    for n, node in enumerate(_need(tree, list, where, "a list of headings")):
        here = f"{where}[{n}]"
        _need(node, dict, here, "an object with id, text, level and children")
        ids.append(_text(node.get("id"), f"{here}.id", limit=500))
        _text(node.get("text"), f"{here}.text", empty=True)
        ids += _heading_ids(node.get("children", []), f"{here}.children")
    return ids


def _version(value, where: str) -> SiteVersion | None:
    if value is None:
        return None
    _need(value, dict, where, "null or an object with name, isCurrent and isLast")
    return SiteVersion(
        name=_text(value.get("name"), f"{where}.name", limit=100),
        label=_text(value.get("label", value.get("name")), f"{where}.label", limit=200),
        is_current=_need(value.get("isCurrent"), bool, f"{where}.isCurrent", "true or false"),
        is_last=_need(value.get("isLast"), bool, f"{where}.isLast", "true or false"),
    )


def parse_manifest(data) -> SiteManifest:
    """A checked ``SiteManifest`` from the decoded JSON; ``ManifestError`` on the first problem."""
    _need(data, dict, "manifest", "a JSON object (the plugin's docs-chat/manifest.json)")
    if data.get("schema") != SCHEMA:
        raise ManifestError(f"must be {SCHEMA!r}: this file was not written by a compatible"
                            " docusaurus-plugin-docs-chat", field="schema")
    site_url = _text(data.get("siteUrl"), "siteUrl", limit=500).rstrip("/")
    parts = urlsplit(site_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ManifestError("must be the site's http(s) address (Docusaurus' `url`)", field="siteUrl")
    base_url = _text(data.get("baseUrl", "/"), "baseUrl", limit=500)
    locale = _text(data.get("locale"), "locale", limit=35)
    if not _LOCALE.match(locale):
        raise ManifestError("must be a locale code like en or pt-BR", field="locale")
    default_locale = _text(data.get("defaultLocale", locale), "defaultLocale", limit=35)
    pages_data = _need(data.get("pages"), list, "pages", "a list of pages")
    if not pages_data:
        raise ManifestError("is empty: the build has no docs pages (check include/exclude)", field="pages")
    if len(pages_data) > MAX_PAGES:
        raise ManifestError(f"has more than {MAX_PAGES} pages", field="pages")
    manifest = SiteManifest(site_url=site_url, base_url=base_url, locale=locale,
                            default_locale=default_locale,
                            generator=str(data.get("generator", ""))[:200])
    seen: set[str] = set()
    for n, raw in enumerate(pages_data):
        where = f"pages[{n}]"
        _need(raw, dict, where, "an object")
        permalink = _text(raw.get("permalink"), f"{where}.permalink", limit=480)
        if not permalink.startswith("/") or any(c in permalink for c in "?# \\"):
            raise ManifestError("must be a path like /docs/intro", field=f"{where}.permalink")
        if permalink in seen:
            raise ManifestError(f"{permalink} appears twice", field=f"{where}.permalink")
        seen.add(permalink)
        url = _text(raw.get("url"), f"{where}.url", limit=1000)
        if url != site_url + permalink:
            raise ManifestError(f"must be siteUrl + permalink ({site_url + permalink})", field=f"{where}.url")
        page_locale = _text(raw.get("locale"), f"{where}.locale", limit=35)
        if page_locale != locale:
            raise ManifestError(f"is {page_locale!r} but the manifest is for {locale!r}", field=f"{where}.locale")
        anchors = _need(raw.get("anchors", []), list, f"{where}.anchors", "a list of ids")
        for i, anchor in enumerate(anchors):
            _text(anchor, f"{where}.anchors[{i}]", limit=500)
        headings = raw.get("headings", [])
        missing = set(_heading_ids(headings, f"{where}.headings")) - set(anchors)
        if missing:
            raise ManifestError(f"heading ids {sorted(missing)} are not in anchors", field=f"{where}.headings")
        page_hash = _text(raw.get("hash"), f"{where}.hash", limit=64)
        if not _HASH.match(page_hash):
            raise ManifestError("must be a sha256 hex digest", field=f"{where}.hash")
        kind = raw.get("kind", "docs")
        if kind not in ("docs", "blog", "page"):
            raise ManifestError("must be docs, blog or page", field=f"{where}.kind")
        manifest.pages.append(SitePage(
            permalink=permalink, url=url,
            title=_text(raw.get("title"), f"{where}.title", limit=500),
            kind=kind,
            plugin_id=_text(raw.get("pluginId", "default"), f"{where}.pluginId", limit=100),
            version=_version(raw.get("version"), f"{where}.version"),
            locale=page_locale, anchors=list(anchors), headings=headings,
            text=_text(raw.get("text"), f"{where}.text", empty=True, limit=MAX_PAGE_TEXT),
            hash=page_hash,
        ))
    return manifest


def decode_manifest(body: bytes, *, max_bytes: int) -> SiteManifest:
    """Bytes (JSON, or gzip of JSON) → checked manifest. ``max_bytes`` caps the decoded size."""
    if body[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(body)) as handle:
                body = handle.read(max_bytes + 1)
        except (OSError, EOFError) as exc:
            raise ManifestError(f"is not valid gzip ({exc})", field="manifest") from exc
        if len(body) > max_bytes:
            raise ManifestError(f"is larger than {max_bytes} bytes once decompressed", field="manifest")
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ManifestError(f"is not valid JSON ({exc}); was the upload cut short?", field="manifest") from exc
    return parse_manifest(data)


def read_manifests(path: Path | str, *, max_bytes: int = 200 * 1024 * 1024) -> list[SiteManifest]:
    """The manifests of a build folder (one per locale build) or of one manifest file."""
    path = Path(path)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = [p for p in [path / MANIFEST_PATH, *sorted(path.glob(f"*/{MANIFEST_PATH}"))] if p.is_file()]
        if not files:
            raise IngestError(
                f"{path} has no {MANIFEST_PATH}: add docusaurus-plugin-docs-chat to"
                " docusaurus.config.js and run `npm run build`, then give the build folder")
    else:
        raise IngestError(f"{path} does not exist: give the Docusaurus build folder or a manifest.json")
    manifests = []
    locales: dict[str, Path] = {}
    for file in files:
        try:
            manifest = decode_manifest(file.read_bytes(), max_bytes=max_bytes)
        except ManifestError as exc:
            raise ManifestError(f"{file}: {exc.message}", field=exc.field) from exc
        if manifest.locale in locales:
            raise IngestError(f"{file} and {locales[manifest.locale]} are both for locale {manifest.locale!r}")
        locales[manifest.locale] = file
        manifests.append(manifest)
    return manifests


def site_page(page: SitePage) -> Page:
    """The ``Page`` ``ingest_docs`` would build, from the built page's text and anchors.

    A heading whose id the page does not have (none should) links to the page top instead of
    to an anchor that would not scroll anywhere.
    """
    h1_title, sections = split_sections(page.text)
    anchors = set(page.anchors)
    for section in sections:
        if section.anchor and section.anchor not in anchors:
            section.anchor = ""
    return Page(
        path=page.permalink, doc_id=page.permalink, title=page.title or h1_title or page.permalink,
        url=page.url, slug=page.permalink,
        version=page.version.name if page.version else "",
        locale=page.locale, sections=sections,
    )
