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
"""

import json
import logging
import os
import posixpath
import re
import stat
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from .links import rewrite_links

logger = logging.getLogger(__name__)

DOC_SUFFIXES = (".md", ".mdx")
CURRENT_VERSION = "current"
DEFAULT_LOCALE = "en"

# Limits on untrusted docs. Real Docusaurus pages stay far below them (the Jest, Redux and
# React Native docs: largest page 90 kB, longest line 1.3 kB, largest front matter 309 bytes).
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_LINE_CHARS = 50_000
MAX_FRONT_MATTER_BYTES = 16 * 1024
MAX_FRONT_MATTER_DEPTH = 10
MAX_TITLE_CHARS = 300
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")

# Docusaurus' DefaultNumberPrefixParser: "01-intro" → "intro", but not dates or versions.
_NUMBER_PREFIX = re.compile(r"^(?P<number>\d+)(?P<sep>\s*[-_.]+\s*)(?P<rest>[^-_.\s].*)$")
_IGNORED_NUMBER_PREFIX = re.compile(r"^\d+[-_.]\d+")
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(\r?\n|\Z)", re.DOTALL)
_FENCE = re.compile(r"^(?P<indent>[ \t]{0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_HEADING = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<text>.*?)[ \t]*#*[ \t]*$")
_EXPLICIT_ID = re.compile(r"\s*\{#(?P<id>[^}\s]+)\}\s*$")
_ADMONITION = re.compile(r"^[ \t]*:{3,}[ \t]*(?P<kind>[A-Za-z]+)?(?P<title>.*)$")
_ESM_START = re.compile(r"^(import|export)\b")
_IMPORT_DEFAULT = re.compile(
    r"""^import\s+(?P<name>[A-Z]\w*)\s+from\s+['"](?P<source>[^'"]+\.mdx?)['"]\s*;?\s*$"""
)
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_MDX_COMMENT = re.compile(r"\{/\*.*?\*/\}", re.DOTALL)
_INLINE_CODE = re.compile(r"(`+)(.+?)\1", re.DOTALL)
# JSX components (capitalised) and the HTML tags docs use; other <x> is left alone, since
# prose like "Promise<void>" outside backticks is more likely than a rare HTML tag.
_HTML_TAGS = (
    "a|abbr|b|blockquote|br|center|code|dd|del|details|div|dl|dt|em|figcaption|figure|h[1-6]"
    "|hr|i|iframe|img|ins|kbd|li|mark|ol|p|picture|pre|s|section|small|source|span|strong|sub"
    "|summary|sup|table|tbody|td|th|thead|tr|u|ul|video"
)
_TAG = re.compile(
    rf"</?(?:[A-Z][\w.]*|(?:{_HTML_TAGS})\b)(?:\s+(?:[^<>{{}}]|\{{[^{{}}]*\}})*)?/?>",
    re.DOTALL,
)
_SELF_CLOSING_COMPONENT = re.compile(r"<(?P<name>[A-Z]\w*)\b[^<>]*/>")
_EXPRESSION_LINE = re.compile(r"^\s*\{[^{}]*\}\s*$")
_LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*{1,3}|_{1,3})(?P<text>\S(?:.*?\S)?)\1")
# github-slugger removes everything but letters, marks, numbers, "_", "-" and spaces.
_SLUG_DROP = re.compile(r"[^\w\- ]", re.UNICODE)


@dataclass
class Section:
    """One heading and the Markdown under it (up to the next heading of any level)."""

    heading: str  # plain text, "" for the text before the first heading
    level: int  # 1-6, 0 for the text before the first heading
    anchor: str  # Docusaurus heading id, "" for the page top
    heading_path: list[str]  # headings from the top level down to this one
    text: str  # Markdown body, code blocks intact, without the heading line


@dataclass
class Page:
    path: str  # relative to the docs folder, POSIX separators
    doc_id: str  # Docusaurus doc id, e.g. "tutorial-basics/create-a-page"
    title: str
    url: str  # absolute page URL, no anchor
    slug: str  # route below the version path, e.g. "/tutorial-basics/create-a-page"
    version: str
    locale: str
    sidebar_position: float | None = None
    front_matter: dict = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)

    def anchor_url(self, anchor: str) -> str:
        return f"{self.url}#{anchor}" if anchor else self.url


class DocumentError(ValueError):
    """A docs file that cannot be read (bad front matter, undecodable bytes)."""


@dataclass(frozen=True)
class SkippedFile:
    """A file left out of the docs, and why (shown in the ingest report and the log)."""

    path: str  # relative to the docs folder, control characters escaped
    reason: str


def printable_path(path: str) -> str:
    """``path`` safe to print in a report or a log line: control characters and bytes that
    are not UTF-8 are shown escaped, so a file name cannot forge output lines."""
    path = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return _CONTROL_CHARS.sub(lambda m: f"\\x{ord(m.group()):02x}", path)


# ----------------------------------------------------------------------------- routing


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


# ----------------------------------------------------------------------------- front matter


def _check_yaml_events(text: str) -> None:
    """Refuse the YAML features docs never need and attackers use: anchors and aliases (an
    alias bomb turns a few hundred bytes into gigabytes), explicit tags and ``%TAG``
    directives, and deep nesting (the parser recurses)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise DocumentError("front matter uses YAML anchors or aliases (& and *), which are not allowed")
        if isinstance(event, yaml.DocumentStartEvent) and event.tags:
            raise DocumentError("front matter uses a YAML %TAG directive, which is not allowed")
        if isinstance(event, yaml.NodeEvent) and getattr(event, "tag", None) is not None:
            raise DocumentError(f"front matter uses the YAML tag {printable_path(str(event.tag))[:40]}, which is not allowed")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_FRONT_MATTER_DEPTH:
                raise DocumentError(f"front matter is nested deeper than {MAX_FRONT_MATTER_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _check_front_matter_fields(data: dict) -> None:
    for key in ("title", "sidebar_label"):
        value = data.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise DocumentError(f"front matter {key} must be a string (got {type(value).__name__})")
        if len(value) > MAX_TITLE_CHARS:
            raise DocumentError(f"front matter {key} is longer than {MAX_TITLE_CHARS} characters")
        if _CONTROL_CHARS.search(value):
            raise DocumentError(f"front matter {key} contains control characters")


def split_front_matter(raw: str) -> tuple[dict, str]:
    match = _FRONT_MATTER.match(raw)
    if not match:
        return {}, raw
    text = match.group(1) or ""
    if len(text.encode("utf-8")) > MAX_FRONT_MATTER_BYTES:
        raise DocumentError(f"front matter is larger than {MAX_FRONT_MATTER_BYTES} bytes")
    try:
        _check_yaml_events(text)
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise DocumentError(f"invalid YAML front matter: {exc}") from exc
    except RecursionError as exc:  # pragma: no cover - depth is checked first
        raise DocumentError("front matter is nested too deeply") from exc
    if not isinstance(data, dict):
        raise DocumentError("front matter must be a YAML mapping")
    _check_front_matter_fields(data)
    return data, raw[match.end():]


# ----------------------------------------------------------------------------- markdown


def _iter_blocks(text: str) -> Iterator[tuple[bool, str]]:
    """Split Markdown into (is_code, text) runs; code runs are whole fenced blocks."""
    lines = text.splitlines(keepends=True)
    buffer: list[str] = []
    fence: str | None = None
    for line in lines:
        if fence is None:
            match = _FENCE.match(line.rstrip("\r\n"))
            if match and not (match.group("fence")[0] == "`" and "`" in match.group("info")):
                if buffer:
                    yield False, "".join(buffer)
                buffer = [line]
                fence = match.group("fence")
                continue
            buffer.append(line)
        else:
            buffer.append(line)
            stripped = line.strip()
            if stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]}:
                yield True, "".join(buffer)
                buffer, fence = [], None
    if buffer:
        yield fence is not None, "".join(buffer)


def _strip_esm(text: str) -> str:
    """Drop MDX ``import``/``export`` statements (which may span lines) from prose."""
    out: list[str] = []
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines):
        line = lines[i]
        if _ESM_START.match(line):
            depth = 0
            while i < len(lines):
                current = lines[i]
                depth += sum(current.count(c) for c in "{[(") - sum(current.count(c) for c in "}])")
                i += 1
                ended = current.rstrip().endswith(";") or re.search(r"""from\s+['"][^'"]+['"]""", current)
                if depth <= 0 and (ended or not current.rstrip().endswith((",", "{", "(", "[", "="))):
                    break
            continue
        out.append(line)
        i += 1
    return "".join(out)


def _outside_inline_code(text: str, transform) -> str:
    """Apply ``transform`` to the parts of ``text`` that are not inline code spans."""
    pieces: list[str] = []
    pos = 0
    for match in _INLINE_CODE.finditer(text):
        pieces.append(transform(text[pos:match.start()]))
        pieces.append(match.group(0))
        pos = match.end()
    pieces.append(transform(text[pos:]))
    return "".join(pieces)


def _strip_tags(text: str) -> str:
    """Remove JSX/HTML tags outside inline code, keeping the text between them."""
    return _outside_inline_code(text, lambda part: _TAG.sub("", part))


def _clean_prose(text: str, partials: dict[str, str]) -> str:
    text = _HTML_COMMENT.sub("", text)
    text = _MDX_COMMENT.sub("", text)
    text = _strip_esm(text)

    def inline_partial(match: re.Match) -> str:
        body = partials.get(match.group("name"))
        return f"\n{body}\n" if body is not None else ""

    text = _outside_inline_code(
        text, lambda part: _TAG.sub("", _SELF_CLOSING_COMPONENT.sub(inline_partial, part))
    )
    lines = []
    for line in text.splitlines():
        admonition = _ADMONITION.match(line)
        if admonition:
            title = admonition.group("title").strip().strip("[]").strip()
            if title:
                lines.append(f"**{title}**")
            continue
        if _EXPRESSION_LINE.match(line):
            continue
        lines.append(line.rstrip())
    return "\n".join(lines) + ("\n" if text.endswith("\n") else "")


def mdx_to_markdown(body: str, partials: dict[str, str] | None = None) -> str:
    """Reduce MDX to the Markdown a reader sees; code blocks pass through untouched."""
    out = []
    for is_code, block in _iter_blocks(body):
        out.append(block if is_code else _clean_prose(block, partials or {}))
    text = "".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def heading_plain_text(markdown: str) -> str:
    """Heading Markdown → the text Docusaurus shows (and slugs)."""
    text = _LINK.sub(lambda m: m.group("text"), markdown)
    text = _INLINE_CODE.sub(lambda m: m.group(2), text)
    text = _strip_tags(text)
    text = _EMPHASIS.sub(lambda m: m.group("text"), text)
    return text.replace("\\", "").strip()


class Slugger:
    """github-slugger, as Docusaurus uses it: unique ids per page (x, x-1, x-2, ...)."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    @staticmethod
    def slugify(text: str) -> str:
        text = unicodedata.normalize("NFC", text).lower()
        return _SLUG_DROP.sub("", text).replace(" ", "-")

    def slug(self, text: str) -> str:
        base = self.slugify(text)
        slug = base
        while slug in self.seen:
            self.seen[base] += 1
            slug = f"{base}-{self.seen[base]}"
        self.seen[slug] = 0
        return slug

    def reserve(self, explicit_id: str) -> None:
        self.seen.setdefault(explicit_id, 0)


def split_sections(markdown: str) -> tuple[str | None, list[Section]]:
    """Split Markdown by ATX headings outside code blocks.

    Returns the first H1's text (the page title when front matter has none) and the
    sections. That H1 itself does not start a section; its text is the page title.
    """
    slugger = Slugger()
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    current = Section(heading="", level=0, anchor="", heading_path=[], text="")
    body: list[str] = []
    h1_title: str | None = None

    def close() -> None:
        current.text = "\n".join(body).strip("\n")
        if current.text.strip() or current.level:
            sections.append(current)

    for is_code, block in _iter_blocks(markdown):
        if is_code:
            body.append(block.rstrip("\n"))
            continue
        for line in block.splitlines():
            match = _HEADING.match(line)
            if not match:
                body.append(line)
                continue
            level = len(match.group("hashes"))
            raw = match.group("text")
            explicit = _EXPLICIT_ID.search(raw)
            if explicit:
                raw = raw[: explicit.start()]
            text = heading_plain_text(raw)
            if level == 1 and h1_title is None and not sections and not "".join(body).strip():
                h1_title = text
                continue
            if explicit:
                anchor = explicit.group("id")
                slugger.reserve(anchor)
            else:
                anchor = slugger.slug(text)
            close()
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, text))
            current = Section(
                heading=text, level=level, anchor=anchor,
                heading_path=[t for _, t in stack], text="",
            )
            body = []
    close()
    return h1_title, sections


# ----------------------------------------------------------------------------- files


def _is_doc_file(rel: PurePosixPath) -> bool:
    if rel.suffix.lower() not in DOC_SUFFIXES:
        return False
    return not any(part.startswith(("_", ".")) or part == "node_modules" for part in rel.parts)


def read_doc_file(path: Path) -> str:
    """The text of a regular file, refusing symbolic links, special files (FIFOs, devices,
    ``/proc`` entries behind a link), oversized files, long lines and bytes that are not
    UTF-8. Raises ``DocumentError`` saying which rule the file breaks."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if os.path.islink(path):
            raise DocumentError("is a symbolic link") from exc
        raise DocumentError(f"cannot be opened ({exc.strerror})") from exc
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise DocumentError("is not a regular file")
        if info.st_size > MAX_FILE_BYTES:
            raise DocumentError(f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise DocumentError(f"is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"is not UTF-8 text (bad byte at offset {exc.start})") from exc
    longest = max((len(line) for line in text.splitlines()), default=0)
    if longest > MAX_LINE_CHARS:
        raise DocumentError(f"has a line longer than {MAX_LINE_CHARS} characters")
    return text


def _site_roots(root: Path) -> tuple[list[Path], list[str] | None]:
    """The folders to walk: a docs folder itself, or a site's docs/versioned/i18n trees.

    Symbolic links among them are left out like everywhere else."""
    versions = None
    versions_file = root / "versions.json"
    if versions_file.is_file() and not versions_file.is_symlink():
        try:
            versions = [str(v) for v in json.loads(read_doc_file(versions_file))]
        except (ValueError, TypeError):
            logger.warning("ignoring unreadable %s", versions_file)
    site_markers = ("docusaurus.config.js", "docusaurus.config.ts", "versioned_docs", "i18n")
    if (root / "docs").is_dir() and (versions is not None or any((root / m).exists() for m in site_markers)):
        walk = [root / "docs"]
        walk += sorted(p for p in (root / "versioned_docs").glob("version-*") if p.is_dir())
        walk += sorted(
            p for p in (root / "i18n").glob("*/docusaurus-plugin-content-docs/*") if p.is_dir()
        )
        walk = [p for p in walk if not any(
            part.is_symlink() for part in (p, *p.parents) if part != root and root in part.parents)]
        return walk, versions if versions is not None else []
    return [root], None


def _name_problem(name: str) -> str | None:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return "its name is not UTF-8"
    if _CONTROL_CHARS.search(name):
        return "its name contains control characters"
    return None


def walk_doc_files(root: Path) -> Iterator[Path | SkippedFile]:
    """Every doc file below ``root`` in a stable order, partials and non-docs left out.

    Yields a ``SkippedFile`` instead of a path for what looks like a doc (or a folder of
    docs) but must not be read: a symbolic link (in or out of the folder alike), a FIFO,
    socket or device, or a name with control characters or non-UTF-8 bytes. Symlinked
    folders are not entered.
    """
    root = Path(root)
    walk, _ = _site_roots(root)
    for base in walk:
        for folder, dirs, files in os.walk(base, followlinks=False):
            folder_path = Path(folder)
            rel_folder = PurePosixPath(folder_path.relative_to(base).as_posix())
            kept_dirs = []
            for name in sorted(dirs):
                rel = PurePosixPath(folder_path.relative_to(root).as_posix()) / name
                if name.startswith(("_", ".")) or name == "node_modules":
                    continue
                problem = "is a symbolic link (not followed)" if (folder_path / name).is_symlink() else _name_problem(name)
                if problem:
                    yield SkippedFile(printable_path(str(rel)), f"folder {problem}")
                    continue
                kept_dirs.append(name)
            dirs[:] = kept_dirs
            for name in sorted(files):
                if not _is_doc_file(rel_folder / name):
                    continue
                path = folder_path / name
                rel = printable_path(path.relative_to(root).as_posix())
                problem = _name_problem(name)
                if problem is None:
                    mode = os.lstat(path).st_mode
                    if stat.S_ISLNK(mode):
                        problem = "is a symbolic link (not followed)"
                    elif not stat.S_ISREG(mode):
                        problem = "is not a regular file"
                if problem:
                    yield SkippedFile(rel, problem)
                else:
                    yield path


def iter_doc_files(root: Path) -> Iterator[Path]:
    """The doc files ``walk_doc_files`` accepts."""
    return (item for item in walk_doc_files(root) if isinstance(item, Path))


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


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
    for is_code, block in _iter_blocks(body):
        if is_code:
            continue
        for line in block.splitlines():
            match = _IMPORT_DEFAULT.match(line.strip())
            if not match:
                continue
            target = Path(os.path.normpath(source.parent / match.group("source")))
            if not _inside(target, root) or target.resolve() != real_root / target.relative_to(root):
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


def _root_context(root: Path) -> tuple[str | None, str | None]:
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
    _, versions = _site_roots(root)
    root_version, root_locale = _root_context(root)
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
