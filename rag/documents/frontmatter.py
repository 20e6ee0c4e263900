"""Front matter: the YAML block at the top of a doc, read as untrusted input.

Plain YAML only (no anchors, aliases, tags or ``%TAG`` directives), capped in size and depth,
with short string titles; anything else is a ``DocumentError`` (docs/security.md).
"""

import re

import yaml

from .base import CONTROL_CHARS, DocumentError, printable_path

MAX_FRONT_MATTER_BYTES = 16 * 1024
MAX_FRONT_MATTER_DEPTH = 10
MAX_TITLE_CHARS = 300
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(\r?\n|\Z)", re.DOTALL)


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
            tag = printable_path(str(event.tag))[:40]
            raise DocumentError(f"front matter uses the YAML tag {tag}, which is not allowed")
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
        if CONTROL_CHARS.search(value):
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
