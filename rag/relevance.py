"""Decisions about retrieved hits: covered or not, which page to prefer, which scope to search.

- ``decide``: whether the hits answer the question at all. The main signal is relevance
  (see ``relevance_score``) against a threshold calibrated on the Jest question set
  (docs/quality.md); prompt-injection phrasing is refused as an extra layer.
- ``prefer_page``: the page the user is reading moves up when it is relevant.
- ``scope_from_page_url``: Docusaurus version and locale from the page's URL
  (``/docs/next/...``, ``/fr/docs/...``, ``/docs/2.x/...``).
"""

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

# Relevance threshold (see relevance_score); calibrated on the Jest set, docs/quality.md.
THRESHOLD = 0.0
PAGE_MIN_RATIO = 0.5

_INJECTION = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\b(ignore|disregard|forget|override)\b.{0,40}\b(previous|prior|above|earlier|all|your|the)\b"
        r".{0,20}\b(instructions?|rules|prompts?|directions|guidelines)\b",
        r"\b(system|hidden|initial|original|developer)\s+(prompt|instructions?|message|rules)\b",
        r"\byou\s+are\s+now\b",
        r"\b(maintenance|developer|debug|god|jailbreak|dan)\s+mode\b",
        r"\bfrom\s+now\s+on\b.{0,80}\b(answer|reply|respond|tell|say|always)\b",
        r"\breply\s+(with\s+)?['\"“]?(understood|ok|yes|confirmed)\b",
        r"\b(notice|message|instruction)s?\s+from\s+(the\s+)?(site\s+)?(admins?|administrators?|developers?|owners?)\b",
        r"\bcurl\b[^|\n]{0,200}\|\s*(sudo\s+)?(ba|z)?sh\b",
        r"\b(print|reveal|show|repeat|output|dump)\b.{0,40}\b(your|the)\b.{0,20}\b(prompt|instructions)\b",
    )
]


def looks_like_injection(text: str) -> bool:
    return any(p.search(text) for p in _INJECTION)


@dataclass(frozen=True)
class Decision:
    refused: bool
    reason: str  # "covered" | "no_hits" | "below_threshold" | "injection"
    score: float


def relevance_score(hits) -> float:
    return float(hits[0].score) if hits else 0.0


def decide(*, question: str, query: str | None = None, hits) -> Decision:
    """Covered or not. ``query`` is the (rewritten) search query, ``question`` the user's words."""
    if looks_like_injection(question):
        return Decision(True, "injection", relevance_score(hits))
    if not hits:
        return Decision(True, "no_hits", 0.0)
    score = relevance_score(hits)
    if score < THRESHOLD:
        return Decision(True, "below_threshold", score)
    return Decision(False, "covered", score)


def _page(url: str) -> str:
    parts = urlsplit(url or "")
    return parts.path.rstrip("/") or "/"


def prefer_page(hits: list, page_url: str | None) -> list:
    """Hits re-ranked so the current page's relevant chunks come first.

    A chunk of the page counts as relevant when its score is at least PAGE_MIN_RATIO of the
    best hit's (scores are only comparable within one result list).
    """
    if not page_url or not hits:
        return hits
    page = _page(page_url)
    top = max(h.score for h in hits)
    preferred = [h for h in hits if _page(h.url) == page and top > 0 and h.score >= PAGE_MIN_RATIO * top]
    if not preferred:
        return hits
    return preferred + [h for h in hits if h not in preferred]


_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
_VERSION = re.compile(r"^(next|current|v?\d+(\.\d+)*(\.x)?)$")


@dataclass(frozen=True)
class Scope:
    version: str | None = None
    locale: str | None = None


def scope_from_page_url(page_url: str | None, route_base_path: str = "/docs") -> Scope:
    """Version and locale named in a Docusaurus docs URL; None for what the URL leaves out."""
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
    return Scope(version=version, locale=locale)
