"""A docs folder (or one file) read into ``Page``s: the steps of this package put together.

Partials (``import Note from './_Note.md'``) are read here, only from inside the docs folder.
"""

import logging
import os
import re
from pathlib import Path, PurePosixPath

from ..links import rewrite_links
from .base import DEFAULT_LOCALE, DocumentError, Page, SkippedFile, printable_path
from .frontmatter import split_front_matter
from .routes import detect_layout, doc_slug, page_url, root_context, strip_number_prefix
from .sections import iter_blocks, mdx_to_markdown, split_sections
from .walk import inside, read_doc_file, site_roots, walk_doc_files

logger = logging.getLogger(__name__)

_IMPORT_DEFAULT = re.compile(
    r"""^import\s+(?P<name>[A-Z]\w*)\s+from\s+['"](?P<source>[^'"]+\.mdx?)['"]\s*;?\s*$"""
)


def _load_partials(body: str, source: Path, root: Path, depth: int = 0) -> dict[str, str]:
    """``import Note from './_Note.md'`` → {"Note": <its Markdown>}, one level of nesting.

    A partial is read only when its path, with every symbolic link resolved, is the same
    file inside the docs folder (so no link on the way, and no ``..`` out of the folder).
    A partial that cannot be read is a ``DocumentError`` of the page that imports it.
    """
    partials: dict[str, str] = {}
    if depth > 2:
        return partials
    real_root = root.resolve()
    for is_code, block in iter_blocks(body):
        if is_code:
            continue
        for line in block.splitlines():
            match = _IMPORT_DEFAULT.match(line.strip())
            if not match:
                continue
            target = Path(os.path.normpath(source.parent / match.group("source")))
            if not inside(target, root) or target.resolve() != real_root / target.relative_to(root):
                logger.warning("not reading %s: it is outside the docs folder or behind a symbolic link",
                               printable_path(str(match.group("source"))))
                continue  # never read outside the docs folder
            if not target.is_file():
                continue
            try:
                _, partial_body = split_front_matter(read_doc_file(target))
            except DocumentError as exc:
                raise DocumentError(f"its partial {printable_path(match.group('source'))} {exc}") from exc
            nested = _load_partials(partial_body, target, root, depth + 1)
            partials[match.group("name")] = mdx_to_markdown(partial_body, nested).strip()
    return partials


def parse_page(
    path: Path,
    *,
    root: Path,
    base_url: str,
    route_base_path: str = "/docs",
    default_locale: str = DEFAULT_LOCALE,
    versions: list[str] | None = None,
    root_version: str | None = None,
    root_locale: str | None = None,
) -> Page | None:
    """Parse one doc file; None when Docusaurus would not publish it (draft, unlisted)."""
    rel = PurePosixPath(path.relative_to(root).as_posix())
    try:
        raw = read_doc_file(path)
        front_matter, body = split_front_matter(raw)
    except DocumentError as exc:
        raise DocumentError(f"{printable_path(str(rel))}: {exc}") from exc
    if front_matter.get("draft") is True or front_matter.get("unlisted") is True:
        return None
    layout = detect_layout(
        rel, versions=versions, default_locale=default_locale,
        root_version=root_version, root_locale=root_locale,
    )
    doc_id, slug = doc_slug(layout.inner_path, front_matter)
    try:
        partials = _load_partials(body, path, root)
    except DocumentError as exc:
        raise DocumentError(f"{printable_path(str(rel))}: {exc}") from exc
    markdown = mdx_to_markdown(body, partials)
    h1_title, sections = split_sections(markdown)
    title = str(front_matter.get("title") or h1_title or strip_number_prefix(rel.stem))
    position = front_matter.get("sidebar_position")
    return Page(
        path=str(rel),
        doc_id=doc_id,
        title=title,
        url=page_url(base_url=base_url, route_base_path=route_base_path, layout=layout, slug=slug),
        slug=slug,
        version=layout.version,
        locale=layout.locale,
        sidebar_position=float(position) if isinstance(position, int | float) else None,
        front_matter=front_matter,
        sections=sections,
    )


def load_pages(
    root: Path,
    *,
    base_url: str,
    route_base_path: str = "/docs",
    default_locale: str = DEFAULT_LOCALE,
    skipped: list[SkippedFile] | None = None,
) -> list[Page]:
    """Every published page below ``root`` (a docs folder or a Docusaurus site folder).

    With a ``skipped`` list, a file that cannot be read safely is appended to it (and
    logged) and the others are read; without one, the first such file raises
    ``DocumentError``.
    """
    root = Path(root).resolve()  # the folder given is trusted; nothing below it is
    _, versions = site_roots(root)
    root_version, root_locale = root_context(root)
    pages = []

    def skip(item: SkippedFile) -> None:
        if skipped is None:
            raise DocumentError(f"{item.path}: {item.reason}")
        logger.warning("skipping docs file %s: %s", item.path, item.reason)
        skipped.append(item)

    for path in walk_doc_files(root):
        if isinstance(path, SkippedFile):
            skip(path)
            continue
        try:
            page = parse_page(
                path, root=root, base_url=base_url, route_base_path=route_base_path,
                default_locale=default_locale, versions=versions,
                root_version=root_version, root_locale=root_locale,
            )
        except DocumentError as exc:
            rel = printable_path(path.relative_to(root).as_posix())
            skip(SkippedFile(rel, str(exc).removeprefix(f"{rel}: ")))
            continue
        if page is not None:
            pages.append(page)
    rewrite_links(pages, base_url=base_url)  # once every page's URL is known
    return pages
