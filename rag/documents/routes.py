"""Docusaurus' routing rules: doc ids, slugs, versions, locales and page URLs.

URL mapping follows Docusaurus' docs plugin: ``base_url + route_base_path + slug``, where the
slug comes from front matter ``slug`` (absolute ``/x`` or relative to the file's folder) or
from the doc id (front matter ``id`` or the file name), with number prefixes (``01-intro.md``,
``1_basics/``) removed and ``index``/``README``/folder-named files mapping to their folder.
Versioned (``versioned_docs/version-X/``) and translated
(``i18n/<locale>/docusaurus-plugin-content-docs/<current|version-X>/``) trees are detected.
"""

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .base import CURRENT_VERSION, DEFAULT_LOCALE

# Docusaurus' DefaultNumberPrefixParser: "01-intro" → "intro", but not dates or versions.
_NUMBER_PREFIX = re.compile(r"^(?P<number>\d+)(?P<sep>\s*[-_.]+\s*)(?P<rest>[^-_.\s].*)$")
_IGNORED_NUMBER_PREFIX = re.compile(r"^\d+[-_.]\d+")


def strip_number_prefix(name: str) -> str:
    """``01-intro`` → ``intro``; dates (``2021-01-01-x``) and ``1.2`` stay as they are."""
    if _IGNORED_NUMBER_PREFIX.match(name):
        return name
    match = _NUMBER_PREFIX.match(name)
    return match.group("rest") if match else name


@dataclass(frozen=True)
class Layout:
    """Where a file sits in a Docusaurus site: its version, locale and docs-relative path."""

    version: str
    locale: str
    inner_path: PurePosixPath  # path inside the version's docs folder
    version_path: str  # URL segment for the version, "" for the default one
    locale_path: str  # URL segment for the locale, "" for the default one


def detect_layout(
    rel_path: PurePosixPath,
    *,
    versions: list[str] | None = None,
    default_locale: str = DEFAULT_LOCALE,
    root_version: str | None = None,
    root_locale: str | None = None,
) -> Layout:
    """Work out version and locale from where ``rel_path`` sits below the ingested folder.

    ``versions`` is the site's versions.json (newest first) when known: the newest release is
    then served without a version segment and the current docs under ``/next``.
    ``root_version`` / ``root_locale`` apply when the ingested folder itself is a
    ``version-X`` or locale folder.
    """
    parts = rel_path.parts
    version = root_version or CURRENT_VERSION
    locale = root_locale or default_locale
    inner = parts
    if len(parts) > 2 and parts[0] == "versioned_docs" and parts[1].startswith("version-"):
        version, inner = parts[1][len("version-"):], parts[2:]
    elif (
        len(parts) > 4
        and parts[0] == "i18n"
        and parts[2] == "docusaurus-plugin-content-docs"
    ):
        locale = parts[1]
        if parts[3].startswith("version-"):
            version = parts[3][len("version-"):]
        inner = parts[4:]
    elif len(parts) > 1 and parts[0] == "docs" and versions is not None:
        inner = parts[1:]
    if version == CURRENT_VERSION:
        version_path = "next" if versions else ""
    else:
        version_path = "" if versions and version == versions[0] else version
    locale_path = "" if locale == default_locale else locale
    return Layout(version, locale, PurePosixPath(*inner), version_path, locale_path)


def is_category_index(inner_path: PurePosixPath) -> bool:
    """Docusaurus' convention: index.md, README.md or a file named like its folder."""
    name = strip_number_prefix(inner_path.stem).lower()
    folder = strip_number_prefix(inner_path.parent.name).lower() if inner_path.parent.name else None
    return name in ("index", "readme") or (folder is not None and name == folder)


def doc_slug(inner_path: PurePosixPath, front_matter: dict) -> tuple[str, str]:
    """The doc id and slug (route below the version path) of a file, as Docusaurus computes."""
    dir_parts = [strip_number_prefix(p) for p in inner_path.parent.parts]
    dir_name = "/".join(dir_parts)
    base_id = str(front_matter.get("id") or strip_number_prefix(inner_path.stem))
    doc_id = f"{dir_name}/{base_id}" if dir_name else base_id
    fm_slug = front_matter.get("slug")
    dir_slug = f"/{dir_name}/" if dir_name else "/"
    if fm_slug is not None:
        fm_slug = str(fm_slug)
        if fm_slug.startswith("/"):
            slug = fm_slug
        else:
            slug = posixpath.normpath(posixpath.join(dir_slug, fm_slug))
    elif is_category_index(inner_path):
        slug = dir_slug
    else:
        slug = posixpath.join(dir_slug, base_id)
    if not slug.startswith("/"):
        slug = "/" + slug
    return doc_id, slug


def page_url(*, base_url: str, route_base_path: str, layout: Layout, slug: str) -> str:
    """``https://site`` + ``/fr`` + ``/docs`` + ``/2.0`` + ``/intro``, slashes normalised."""
    segments = [layout.locale_path, route_base_path, layout.version_path, slug]
    route = "/".join(s.strip("/") for s in segments if s and s.strip("/"))
    trailing = slug.endswith("/") or not route
    url = base_url.rstrip("/") + "/" + route
    if trailing and not url.endswith("/"):
        url += "/"
    return url


def root_context(root: Path) -> tuple[str | None, str | None]:
    """Version/locale when the ingested folder is itself ``version-X`` or an i18n tree."""
    parts = root.resolve().parts
    version = locale = None
    if len(parts) >= 2 and parts[-1].startswith("version-") and parts[-2] in (
        "versioned_docs", "docusaurus-plugin-content-docs"
    ):
        version = parts[-1][len("version-"):]
    if len(parts) >= 4 and parts[-2] == "docusaurus-plugin-content-docs" and parts[-4] == "i18n":
        locale = parts[-3]
    return version, locale
