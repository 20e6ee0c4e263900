"""MDX reduced to the Markdown a reader sees, split into sections with Docusaurus' anchors.

``import`` and ``export`` lines go, JSX tags go but their text children stay, imported
partials (given by the caller) are inlined where their component is used, admonition fences
go but their content stays, and fenced code blocks are kept byte for byte. Headings get the
ids Docusaurus gives them (github-slugger, or an explicit ``{#id}``).
"""

import re
import unicodedata
from collections.abc import Iterator

from .base import Section

_FENCE = re.compile(r"^(?P<indent>[ \t]{0,3})(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_HEADING = re.compile(r"^(?P<hashes>#{1,6})[ \t]+(?P<text>.*?)[ \t]*#*[ \t]*$")
_EXPLICIT_ID = re.compile(r"\s*\{#(?P<id>[^}\s]+)\}\s*$")
_ADMONITION = re.compile(r"^[ \t]*:{3,}[ \t]*(?P<kind>[A-Za-z]+)?(?P<title>.*)$")
_ESM_START = re.compile(r"^(import|export)\b")
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


def iter_blocks(text: str) -> Iterator[tuple[bool, str]]:
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
    for is_code, block in iter_blocks(body):
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

    for is_code, block in iter_blocks(markdown):
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
