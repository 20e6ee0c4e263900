"""Read a Docusaurus docs folder into typed pages and sections.

A ``Page`` is one .md/.mdx file: its front matter, the URL Docusaurus serves it at, its
version and locale, and its ``Section`` list (one per heading, each with the anchor
Docusaurus gives that heading). MDX is reduced to the Markdown a reader sees: ``import`` and
``export`` lines go, JSX tags go but their text children stay, imported partials
(``_Partial.md``) are inlined where their component is used, admonition fences go but their
content stays, and fenced code blocks are kept byte for byte.

URL mapping follows Docusaurus' docs plugin: ``base_url + route_base_path + slug``, where the
slug comes from front matter ``slug`` (absolute ``/x`` or relative to the file's folder) or
from the doc id (front matter ``id`` or the file name), with number prefixes (``01-intro.md``,
``1_basics/``) removed and ``index``/``README``/folder-named files mapping to their folder.
Versioned (``versioned_docs/version-X/``) and translated
(``i18n/<locale>/docusaurus-plugin-content-docs/<current|version-X>/``) trees are detected.

Docs are untrusted input (they come from contributors and pull requests), so reading them is
fenced (docs/security.md, "Docs as input"): symbolic links and anything but regular files are
never followed, every file read (pages, partials) lies inside the docs folder, file names must
be printable UTF-8, files and lines have size caps, and front matter is plain YAML (no
anchors, aliases or tags; capped size and depth) with short string titles. A file that breaks
one of these rules is skipped with a reason (``SkippedFile``) and the rest is read.

Modules, one per job: ``base`` (the values: ``Page``, ``Section``, ``DocumentError``,
``SkippedFile``), ``frontmatter`` (YAML front matter, fenced), ``walk`` (finding and reading
files safely), ``routes`` (Docusaurus ids, slugs, versions, locales, URLs), ``sections`` (MDX
to Markdown, headings and anchors) and ``loading`` (partials, ``parse_page``, ``load_pages``).
Callers import from ``rag.documents``.
"""

from .base import (
    CURRENT_VERSION,
    DEFAULT_LOCALE,
    DOC_SUFFIXES,
    DocumentError,
    Page,
    Section,
    SkippedFile,
    printable_path,
)
from .frontmatter import split_front_matter
from .loading import load_pages, parse_page
from .routes import Layout, detect_layout, doc_slug, page_url, strip_number_prefix
from .sections import Slugger, mdx_to_markdown, split_sections
from .walk import iter_doc_files, read_doc_file, walk_doc_files

__all__ = [
    "CURRENT_VERSION", "DEFAULT_LOCALE", "DOC_SUFFIXES", "DocumentError", "Layout", "Page",
    "Section", "SkippedFile", "Slugger", "detect_layout", "doc_slug", "iter_doc_files",
    "load_pages", "mdx_to_markdown", "page_url", "parse_page", "printable_path",
    "read_doc_file", "split_front_matter", "split_sections", "strip_number_prefix",
    "walk_doc_files",
]
