"""Cut pages into retrieval chunks, one heading section at a time.

A chunk is what gets indexed and cited: its ``index_text`` starts with the page title and
heading path ("Title > H2 > H3") so a chunk matches questions about its context, and it knows
its file path, URL with anchor, version and locale. Fenced code blocks are never split. Long
sections are split at paragraph boundaries (around ``TARGET_WORDS``); a nearly empty section
that is followed by its own subsections absorbs them (up to the target), so an intro line
under an H2 is not a chunk of its own.

Chunk ids are ``uuid5(path + anchor + ordinal)``: stable across runs, so an unchanged page
keeps its ids. ``page_hash`` is a hash over everything stored for a page, so any change that
would alter what is indexed (text, title, URL) marks the page as changed.
"""

import hashlib
import json
import re
import uuid
from dataclasses import asdict, dataclass, field

from .documents import Page, Section
from .links import without_origin
from .sparse import TOKENIZER_VERSION

# Bump when chunking or payload changes, so every page counts as changed once.
CHUNKER_VERSION = 2
TARGET_WORDS = 320
MAX_WORDS = 420
MIN_WORDS = 40
CHUNK_NAMESPACE = uuid.UUID("5b1f0a52-8f5e-4c57-9a5e-1c0d2b8f6a10")
_FENCE_LINE = re.compile(r"^[ \t]{0,3}(`{3,}|~{3,})")


@dataclass
class Chunk:
    id: str
    path: str
    url: str  # page URL with #anchor when the chunk starts at a heading
    page_url: str
    title: str
    heading: str
    heading_path: list[str]
    anchor: str
    ordinal: int
    text: str  # the Markdown body shown to readers and the LLM
    version: str
    locale: str
    page_hash: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def breadcrumb(self) -> str:
        return " > ".join([self.title, *self.heading_path])

    @property
    def index_text(self) -> str:
        """What the sparse and dense vectors are computed from. Links to the site's own pages
        are indexed by their path (``/docs/api/store#subscribe``), as they were written
        before ingestion made them absolute: the site's host would match "docs", "example" …
        in every linking chunk, while the path names the page it points to."""
        return f"{self.breadcrumb}\n\n{without_origin(self.text, self.page_url)}"

    def payload(self) -> dict:
        data = asdict(self)
        data.pop("extra")
        data.update(self.extra)
        return data

    @classmethod
    def from_payload(cls, payload: dict) -> "Chunk":
        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        return cls(
            **{k: v for k, v in payload.items() if k in known},
            extra={k: v for k, v in payload.items() if k not in known},
        )


def chunk_id(path: str, anchor: str, ordinal: int) -> str:
    return str(uuid.uuid5(CHUNK_NAMESPACE, f"{path}#{anchor}#{ordinal}"))


def word_count(text: str) -> int:
    return len(text.split())


def _blocks(text: str) -> list[str]:
    """Paragraph-level blocks; a fenced code block is one block however long."""
    blocks: list[str] = []
    current: list[str] = []
    fence: str | None = None
    for line in text.split("\n"):
        match = _FENCE_LINE.match(line)
        if fence is None:
            if match:
                if current:
                    blocks.append("\n".join(current))
                current, fence = [line], match.group(1)
            elif not line.strip():
                if current:
                    blocks.append("\n".join(current))
                current = []
            else:
                current.append(line)
        else:
            current.append(line)
            stripped = line.strip()
            if stripped and set(stripped) == {fence[0]} and len(stripped) >= len(fence):
                blocks.append("\n".join(current))
                current, fence = [], None
    if current:
        blocks.append("\n".join(current))
    return [b for b in blocks if b.strip()]


def split_text(text: str, *, target: int = TARGET_WORDS, maximum: int = MAX_WORDS) -> list[str]:
    """Split at block boundaries into pieces near ``target`` words, none over ``maximum``
    unless a single block (a code block, a long paragraph) is longer by itself."""
    if word_count(text) <= maximum:
        return [text.strip("\n")]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for block in _blocks(text):
        words = word_count(block)
        if current and (size + words > maximum or size >= target):
            pieces.append("\n\n".join(current))
            current, size = [], 0
        current.append(block)
        size += words
    if current:
        # A short tail reads better attached to the previous piece.
        if pieces and size < MIN_WORDS and word_count(pieces[-1]) + size <= maximum:
            pieces[-1] = pieces[-1] + "\n\n" + "\n\n".join(current)
        else:
            pieces.append("\n\n".join(current))
    return pieces


def _merge_small_sections(sections: list[Section]) -> list[Section]:
    """A section with almost no text absorbs the subsections that follow it."""
    merged: list[Section] = []
    i = 0
    while i < len(sections):
        section = Section(**asdict(sections[i]))
        i += 1
        while (
            section.level
            and word_count(section.text) < MIN_WORDS
            and i < len(sections)
            and sections[i].level > section.level
            and word_count(section.text) + word_count(sections[i].text) <= TARGET_WORDS
        ):
            child = sections[i]
            marker = "#" * child.level
            section.text = f"{section.text}\n\n{marker} {child.heading}\n\n{child.text}".strip("\n")
            i += 1
        merged.append(section)
    return merged


def chunk_page(page: Page) -> list[Chunk]:
    chunks: list[Chunk] = []
    used: set[tuple[str, int]] = set()
    for section in _merge_small_sections(page.sections):
        if not section.text.strip():
            continue
        ordinal = 0
        for piece in split_text(section.text):
            while (section.anchor, ordinal) in used:  # a duplicated explicit {#id}
                ordinal += 1
            used.add((section.anchor, ordinal))
            chunks.append(Chunk(
                id=chunk_id(page.path, section.anchor, ordinal),
                path=page.path,
                url=page.anchor_url(section.anchor),
                page_url=page.url,
                title=page.title,
                heading=section.heading,
                heading_path=list(section.heading_path),
                anchor=section.anchor,
                ordinal=ordinal,
                text=piece,
                version=page.version,
                locale=page.locale,
            ))
            ordinal += 1
    if not chunks:
        # A page with only a title still exists and can be found by its title.
        chunks.append(Chunk(
            id=chunk_id(page.path, "", 0), path=page.path, url=page.url, page_url=page.url,
            title=page.title, heading="", heading_path=[], anchor="", ordinal=0,
            text=page.title, version=page.version, locale=page.locale,
        ))
    digest = page_hash(chunks)
    for chunk in chunks:
        chunk.page_hash = digest
    return chunks


def page_hash(chunks: list[Chunk]) -> str:
    hasher = hashlib.sha256(f"chunker:{CHUNKER_VERSION}:tokenizer:{TOKENIZER_VERSION}\n".encode())
    for chunk in chunks:
        data = chunk.payload()
        data.pop("page_hash", None)
        hasher.update(json.dumps(data, sort_keys=True, ensure_ascii=False).encode())
        hasher.update(b"\n")
    return hasher.hexdigest()
