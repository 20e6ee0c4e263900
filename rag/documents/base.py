"""The values a docs folder is read into, and the names shared by every reading step.

``Page`` and ``Section`` are what ingestion chunks; ``DocumentError`` is a file that cannot
be read, ``SkippedFile`` one left out with a reason; ``printable_path`` keeps a hostile file
name from forging report or log lines.
"""

import re
from dataclasses import dataclass, field

DOC_SUFFIXES = (".md", ".mdx")
CURRENT_VERSION = "current"
DEFAULT_LOCALE = "en"
CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


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
    return CONTROL_CHARS.sub(lambda m: f"\\x{ord(m.group()):02x}", path)
